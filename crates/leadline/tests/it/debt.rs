//! `leadline debt`: the register in debt.toml, its policies as a CI gate (exit codes), strict
//! reading with line and field, and links to the hotspots of an ingested repository.

use std::path::Path;

use crate::common::{GitRepo, TestStore, json_stdout};
use serde_json::Value;

/// A register next to a `leadline.toml` with policies: security 30 days, performance 10.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("leadline.toml"),
        "[debt]\npolicies = { security = 30, performance = 10 }\n",
    )
    .unwrap();
    dir
}

fn leadline(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("leadline").unwrap();
    cmd.current_dir(dir).env_remove("LEADLINE_DB");
    cmd
}

fn add(dir: &Path, today: &str, args: &[&str]) -> String {
    let out = leadline(dir)
        .args(["debt", "add", "--today", today])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn check(dir: &Path, today: &str) -> (i32, Value) {
    let out = leadline(dir)
        .args(["debt", "check", "--format", "json", "--today", today])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), json)
}

#[test]
fn check_exits_non_zero_on_a_policy_breach_until_the_item_closes() {
    let dir = workspace();
    let d = dir.path();
    // No register yet: nothing to breach, and no store is created by the gate.
    assert_eq!(check(d, "2026-01-01").0, 0);
    let security = add(
        d,
        "2026-01-01",
        &[
            "--title",
            "Tokens compared in variable time",
            "--area",
            "src/auth/",
            "--category",
            "accidental",
            "--kind",
            "security",
            "--owner",
            "platform",
        ],
    );
    let perf = add(
        d,
        "2026-01-05",
        &[
            "--title",
            "Report scans the table",
            "--area",
            "src/report.rs",
            "--category",
            "tactical",
            "--kind",
            "performance",
            "--owner",
            "insights",
            "--due",
            "2026-03-01",
        ],
    );
    assert_eq!((security.as_str(), perf.as_str()), ("D-1", "D-2"));
    // Deadlines: D-1 2026-01-31 (30 days), D-2 2026-01-15 (10 days, before its due date).
    assert_eq!(check(d, "2026-01-15").0, 0);
    let (code, breaches) = check(d, "2026-01-16");
    assert_eq!(code, 1);
    assert_eq!(breaches[0]["id"], "D-2");
    assert_eq!(breaches[0]["rule"], "performance policy (10 days)");
    let (code, breaches) = check(d, "2026-02-02");
    assert_eq!(code, 1);
    let ids: Vec<&str> = breaches
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["D-2", "D-1"], "most overdue first");
    for id in ["D-1", "D-2"] {
        leadline(d)
            .args(["debt", "close", id, "--today", "2026-02-03"])
            .assert()
            .success();
    }
    assert_eq!(check(d, "2026-06-01").0, 0);
    leadline(d)
        .args(["debt", "close", "D-1"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("already closed on 2026-02-03"));
    assert!(
        !d.join("leadline.db").exists(),
        "debt commands need no store"
    );
}

#[test]
fn an_invalid_register_is_refused_with_line_and_field_and_left_untouched() {
    let dir = workspace();
    let d = dir.path();
    let register = "# reviewed like code\n[[item]]\nid = \"D-1\"\ntitle = \"Old TLS\"\narea = [\"infra/\"]\ncategory = \"tactical\"\nkind = \"securty\"\nowner = \"ops\"\ncreated = 2026-01-01\n";
    std::fs::write(d.join("debt.toml"), register).unwrap();
    for args in [
        vec!["debt", "check"],
        vec!["debt", "list"],
        vec![
            "debt",
            "add",
            "--title",
            "t",
            "--area",
            "x/",
            "--category",
            "tactical",
            "--kind",
            "other",
            "--owner",
            "o",
        ],
    ] {
        let out = leadline(d).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("debt.toml: line 7, field `kind`: unknown variant `securty`"),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(d.join("debt.toml")).unwrap(),
        register
    );
    // A flag that would make the register invalid is refused before anything is written.
    std::fs::write(d.join("debt.toml"), register.replace("securty", "security")).unwrap();
    let before = std::fs::read_to_string(d.join("debt.toml")).unwrap();
    leadline(d)
        .args([
            "debt",
            "add",
            "--id",
            "D-1",
            "--title",
            "dup",
            "--area",
            "x/",
            "--category",
            "tactical",
            "--kind",
            "other",
            "--owner",
            "o",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "field `id`: \"D-1\" is used twice",
        ));
    assert_eq!(
        std::fs::read_to_string(d.join("debt.toml")).unwrap(),
        before
    );
    // Comments survive an edit.
    leadline(d)
        .args(["debt", "close", "D-1", "--today", "2026-01-02"])
        .assert()
        .success();
    let after = std::fs::read_to_string(d.join("debt.toml")).unwrap();
    assert!(after.starts_with("# reviewed like code\n"), "{after}");
    assert!(after.contains("closed = 2026-01-02"), "{after}");
}

/// Items link to the hotspots they cover; top hotspots no open item covers are candidates.
#[test]
fn items_link_to_hotspots_and_uncovered_hotspots_are_candidates() {
    let repo = GitRepo::new();
    for i in 0..6 {
        repo.write(
            b"core/engine.rs",
            format!("fn f() {{\n    {i}\n}}\n").as_bytes(),
        );
        if i % 2 == 0 {
            repo.write(b"ui/view.rs", format!("{i}\n").as_bytes());
        }
        repo.commit_all_at(1_704_067_200 + i * 3600, None, &format!("c{i}"));
    }
    let dir = workspace();
    let d = dir.path();
    add(
        d,
        "2024-01-02",
        &[
            "--title",
            "Engine does too much",
            "--area",
            "core/",
            "--category",
            "strategic",
            "--kind",
            "maintainability",
            "--owner",
            "engine",
            "--cost-hours",
            "80",
            "--interest-hours-per-month",
            "12",
        ],
    );
    for store in TestStore::both() {
        store.ingest(repo.path());
        let listing: Value = json_stdout(store.leadline().current_dir(d).args([
            "debt",
            "list",
            "--format",
            "json",
            "--today",
            "2024-02-01",
        ]));
        let item = &listing["items"][0];
        assert_eq!(item["id"], "D-1", "{}", store.backend);
        let covered: Vec<&str> = item["hotspots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["path"].as_str().unwrap())
            .collect();
        assert_eq!(covered, ["core/engine.rs"], "{}", store.backend);
        let candidates: Vec<&str> = listing["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["path"].as_str().unwrap())
            .collect();
        assert_eq!(candidates, ["ui/view.rs"], "{}", store.backend);
        assert_eq!(listing["portfolio"]["cost_hours"], 80.0);
        assert_eq!(listing["portfolio"]["interest_hours_per_month"], 12.0);
        assert_eq!(listing["portfolio"]["open_by_category"]["strategic"], 1);
        // `health` marks each hotspot with the items covering it.
        let reports: Value = json_stdout(
            store
                .leadline()
                .current_dir(d)
                .args(["health", "--format", "json"]),
        );
        assert_eq!(
            reports[0]["debt_items"],
            serde_json::json!({ "core/engine.rs": ["D-1"], "ui/view.rs": [] }),
            "{}",
            store.backend
        );
    }
}
