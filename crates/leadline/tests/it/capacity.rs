//! `leadline debt capacity` on a generated history: each commit's class is known from how the
//! test wrote its subject, so the shares per team and month are counted here independently.

use crate::common::{GitRepo, TestStore, json_stdout};
use serde_json::Value;

/// period, feature, debt, fix, other, debt share minus the target
type Month = (String, u64, u64, u64, u64, Option<f64>);

#[test]
fn shares_per_team_and_month_from_commit_subjects() {
    let repo = GitRepo::new();
    let jan = 1_704_067_200; // 2024-01-01
    let feb = jan + 31 * 86_400;
    let commits = [
        (jan, "ann", "feat: search"),
        (jan + 60, "bob", "fix(api): empty body"),
        (jan + 120, "ann", "refactor: split parser"),
        (jan + 180, "bob", "chore(deps): bump serde"),
        (jan + 240, "cat", "feat: dark mode"),
        (jan + 300, "dan", "feat(ui)!: new layout"),
        (feb, "ann", "Fix crash on start"),
        (feb + 60, "bob", "docs: readme"),
        (feb + 120, "cat", "perf: faster list"),
        (feb + 180, "dan", "test: cover the list"),
    ];
    for (i, (at, who, subject)) in commits.iter().enumerate() {
        repo.write(format!("{who}.txt").as_bytes(), format!("{i}\n").as_bytes());
        repo.commit_all_at(*at, Some(&format!("{who} <{who}@example.com>")), subject);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("leadline.toml"),
        r#"
[debt]
capacity_target = 0.25

[privacy]
min_group_size = 2

[[teams]]
name = "core"
members = ["ann@example.com", "bob@example.com"]

[[teams]]
name = "web"
members = ["cat@example.com", "dan@example.com"]
"#,
    )
    .unwrap();
    for store in TestStore::both() {
        store.ingest(repo.path());
        let report: Value = json_stdout(store.leadline().current_dir(dir.path()).args([
            "debt",
            "capacity",
            "--since",
            "2024-01-01",
            "--until",
            "2024-03-01",
            "--format",
            "json",
        ]));
        assert_eq!(report["source"], "commits");
        let groups: Vec<(String, Vec<Month>)> = report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let months = g["months"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| {
                        (
                            m["period"].as_str().unwrap().to_owned(),
                            m["feature"].as_u64().unwrap(),
                            m["debt"].as_u64().unwrap(),
                            m["fix"].as_u64().unwrap(),
                            m["other"].as_u64().unwrap(),
                            m["versus_target"].as_f64(),
                        )
                    })
                    .collect();
                (g["group"].as_str().unwrap().to_owned(), months)
            })
            .collect();
        assert_eq!(
            groups,
            [
                (
                    "core".to_owned(),
                    vec![
                        ("2024-01".to_owned(), 1, 2, 1, 0, Some(0.5 - 0.25)),
                        ("2024-02".to_owned(), 0, 0, 1, 1, Some(-0.25)),
                    ]
                ),
                (
                    "web".to_owned(),
                    vec![
                        ("2024-01".to_owned(), 2, 0, 0, 0, Some(-0.25)),
                        ("2024-02".to_owned(), 0, 2, 0, 0, Some(0.75)),
                    ]
                ),
            ],
            "{}",
            store.backend
        );
        // A team of one folds into `other` and nobody is named.
        let strict = dir.path().join("strict.toml");
        std::fs::write(&strict, "[privacy]\nmin_group_size = 3\n[[teams]]\nname = \"solo\"\nmembers = [\"ann@example.com\"]\n").unwrap();
        let out = store
            .leadline()
            .arg("--config")
            .arg(&strict)
            .args([
                "debt",
                "capacity",
                "--since",
                "2024-01-01",
                "--until",
                "2024-03-01",
            ])
            .output()
            .unwrap();
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(
            !table.contains("solo") && table.contains("other"),
            "{table}"
        );
        assert!(!table.contains("@example.com"), "{table}");
    }
}
