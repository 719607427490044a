//! `leadline flow` on git history: onboarding of newcomers compared with a calculation made
//! here from the commit times the test chose, and with git's own view of the authors.

use crate::common::{GitRepo, TestStore};
use serde_json::Value;

const DAY: i64 = 86_400;
const START: i64 = 1_704_067_200; // 2024-01-01

#[test]
fn onboarding_of_newcomers_from_history() {
    for store in TestStore::both() {
        let repo = GitRepo::new();
        // A founder before the window, then three newcomers landing a change every `gap` days.
        let mut n = 0;
        let mut commit = |day: i64, who: &str| {
            n += 1;
            repo.write(b"f", format!("{n}\n").as_bytes());
            let author = format!("{who} <{who}@example.com>");
            repo.commit_all_at(START + day * DAY, Some(&author), &format!("c{n}"));
        };
        for d in 0..5 {
            commit(d - 40, "founder");
        }
        let newcomers = [("ann", 10, 1), ("bob", 11, 2), ("cat", 12, 3)];
        let mut timeline: Vec<(i64, &str)> = Vec::new();
        for (who, first, gap) in newcomers {
            timeline.extend((0..12).map(|i| (first + i * gap, who)));
        }
        // dependabot lands ten changes too, and is no newcomer.
        timeline.extend((0..10).map(|i| (20 + i, "dependabot[bot]")));
        timeline.sort();
        for (day, who) in &timeline {
            commit(*day, who);
        }
        store.ingest(repo.path());
        let out = store.run(&[
            "flow".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--since".as_ref(),
            "2024-01-01".as_ref(),
            "--until".as_ref(),
            "2024-04-01".as_ref(),
        ]);
        let report: Value = serde_json::from_slice(&out).unwrap();
        let onboarding = &report["onboarding"];
        assert_eq!(onboarding["newcomers"], 3, "{}", store.backend);
        // Tenth change after 9 gaps: 9, 18 and 27 days.
        let to_tenth = &onboarding["to_tenth_change"];
        assert_eq!(to_tenth["count"], 3);
        assert_eq!(to_tenth["median_seconds"], (18 * DAY) as f64);
        assert_eq!(to_tenth["p90_seconds"], (27 * DAY) as f64);
        // Per repository: the one repository holds the same newcomers.
        let repos = report["repository_onboarding"].as_array().unwrap();
        assert_eq!(repos.len(), 1);
        assert_eq!(repos[0]["newcomers"], 3);
        // Per team, by members' emails: ann, bob and cat are "checkout".
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("leadline.toml");
        std::fs::write(
            &config,
            "[[teams]]\nname = \"checkout\"\nmembers = [\"ann@example.com\", \"BOB@example.com\", \"cat@example.com\"]\n\n[[teams]]\nname = \"ops\"\nmembers = [\"founder@example.com\"]\n",
        )
        .unwrap();
        let by_team: Value = serde_json::from_slice(&store.run(&[
            "--config".as_ref(),
            config.as_os_str(),
            "flow".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--since".as_ref(),
            "2024-01-01".as_ref(),
            "--until".as_ref(),
            "2024-04-01".as_ref(),
        ]))
        .unwrap();
        let teams = by_team["team_onboarding"].as_array().unwrap();
        assert_eq!(teams[0]["team"], "checkout");
        assert_eq!(teams[0]["newcomers"], 3);
        assert_eq!(
            teams[0]["to_tenth_change"]["median_seconds"],
            (18 * DAY) as f64
        );
        // The founder started before the window: no newcomer in ops.
        assert_eq!(
            (teams[1]["team"].as_str(), teams[1]["newcomers"].as_u64()),
            (Some("ops"), Some(0))
        );
        // The table says it too (its default window, the 90 days up to the newest commit,
        // also holds the founder's first commit), and names no one.
        let table = String::from_utf8(store.run(&["flow".as_ref()])).unwrap();
        assert!(table.contains("4 newcomers"), "{table}");
        assert!(table.contains("18.0 d (p90 27.0 d, n=3)"), "{table}");
        for who in ["ann", "bob", "cat", "founder"] {
            assert!(!table.contains(who), "{table}");
        }
    }
}
