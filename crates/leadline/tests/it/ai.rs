//! `leadline ai` end to end: a repository whose commits carry real-world spellings of AI
//! attribution (and near misses), classified and counted exactly, changes and lines, on both
//! stores.

use serde_json::{Value, json};

use crate::common::{GitRepo, TestStore, json_stdout};

/// (author, message, lines written, expected class).
const COMMITS: [(Option<&str>, &str, usize, &str); 12] = [
    (
        None,
        "Add parser\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        10,
        "ai_assisted",
    ),
    (
        None,
        "Fix lexer\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        4,
        "ai_assisted",
    ),
    (
        None,
        "Tidy\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
        2,
        "ai_assisted",
    ),
    (None, "Cache\n\nAssisted-by: Gemini", 3, "ai_assisted"),
    (
        Some("Copilot <198982749+Copilot@users.noreply.github.com>"),
        "Initial plan",
        5,
        "ai_authored",
    ),
    (
        Some("Paul Gauthier (aider) <paul@example.com>"),
        "feat: retries",
        6,
        "ai_authored",
    ),
    // Near misses: a human co-author named Claude, Claude in the prose, AI-assisted: no.
    (
        None,
        "Pair work\n\nCo-authored-by: Claude Monet <claude@monet.fr>",
        7,
        "human",
    ),
    (
        None,
        "Compare with Claude\n\nWe asked Claude Code, then wrote this by hand.\n\nSigned-off-by: Ann <ann@example.com>",
        8,
        "human",
    ),
    (None, "Docs\n\nAI-assisted: no", 1, "human"),
    (None, "Plain change", 9, "human"),
    (None, "Another", 2, "human"),
    (None, "Last\n\nGenerated-by: Cursor", 1, "ai_assisted"),
];

#[test]
fn every_spelling_is_counted_in_its_class_on_both_stores() {
    let repo = GitRepo::new();
    let start = 1_772_409_600; // 2026-03-02T00:00:00Z
    for (i, (author, message, lines, _)) in COMMITS.iter().enumerate() {
        let text: String = (0..*lines).map(|l| format!("line {l}\n")).collect();
        repo.write(format!("f{i}.txt").as_bytes(), text.as_bytes());
        repo.commit_all_at(start + i as i64 * 3600, *author, message);
    }
    // A human revert of the first commit: human, its 10 deleted lines its own.
    let first = repo
        .git(&["rev-list", "--reverse", "HEAD"])
        .lines()
        .next()
        .unwrap()
        .to_owned();
    repo.git(&["revert", "--no-edit", &first]);
    // A commit on a side branch that never reached HEAD does not count.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write(b"side.txt", b"x\n");
    repo.commit_all_at(
        start + 20 * 3600,
        None,
        "Side\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
    );
    repo.git(&["checkout", "-q", "-"]);
    let expected = |class: &str| -> (u64, u64) {
        COMMITS
            .iter()
            .filter(|c| c.3 == class)
            .fold((0, 0), |(n, l), c| (n + 1, l + c.2 as u64))
    };
    let (assisted, authored, human) = (
        expected("ai_assisted"),
        expected("ai_authored"),
        expected("human"),
    );
    for store in TestStore::both() {
        store.ingest(repo.path());
        let out = store.run(
            &[
                "ai",
                "--since",
                "2026-03-01",
                "--until",
                "2026-04-01",
                "--format",
                "json",
                "--explain",
            ]
            .map(std::ffi::OsStr::new),
        );
        let r: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            r["changes"],
            json!({"total": 13, "human": human.0 + 1, "ai_assisted": assisted.0, "ai_authored": authored.0}),
            "{r}"
        );
        assert_eq!(
            r["lines"],
            json!({"total": assisted.1 + authored.1 + human.1 + 10, "human": human.1 + 10,
                   "ai_assisted": assisted.1, "ai_authored": authored.1}),
            "{r}"
        );
        let rules: Vec<&str> = r["explain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["rule"].as_str().unwrap())
            .collect();
        assert!(
            rules.contains(&"Co-authored-by: Claude <noreply@anthropic.com>"),
            "{rules:?}"
        );
        assert!(
            rules.iter().any(|r| r.starts_with("agent identity")),
            "{rules:?}"
        );
        // Thirteen changes: too few for outcomes, said so with the sample sizes.
        let failure = &r["outcomes"]["change_failure"];
        assert_eq!(failure["note"], "not enough data", "{failure}");
        assert_eq!(
            (
                failure["human"]["changes"].as_u64(),
                failure["ai"]["changes"].as_u64()
            ),
            (Some(6), Some(7))
        );
        // The reverted first change (AI-assisted) failed: one of seven.
        assert_eq!(failure["ai"]["with_outcome"], 1, "{failure}");
        // A team of one person is refused under the privacy floor, allowed when it is 1, and
        // then counts only its members' changes (Ann wrote all but the two agents').
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("leadline.toml");
        std::fs::write(
            &config,
            "[[teams]]\nname = \"core\"\nmembers = [\"ANN@example.com\"]\n",
        )
        .unwrap();
        store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args([
                "ai",
                "--team",
                "core",
                "--since",
                "2026-03-01",
                "--until",
                "2026-04-01",
            ])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("fewer than 3 people"));
        std::fs::write(
            &config,
            "[privacy]\nmin_group_size = 1\n\n[[teams]]\nname = \"core\"\nmembers = [\"ANN@example.com\"]\n",
        )
        .unwrap();
        let team: Value = json_stdout(store.leadline().arg("--config").arg(&config).args([
            "ai",
            "--team",
            "core",
            "--since",
            "2026-03-01",
            "--until",
            "2026-04-01",
            "--format",
            "json",
        ]));
        assert_eq!(team["changes"]["total"], 11, "{team}");
        assert_eq!(team["changes"]["ai_authored"], 0, "{team}");
        // No person is named: only repositories, commits, classes and rules.
        let text = r.to_string();
        assert!(
            !text.contains("Ann") && !text.contains("Gauthier"),
            "{text}"
        );
    }
}
