//! `leadline analyze` end to end on a small history whose summary is worked out by hand.

use std::ffi::OsStr;

use crate::common::{GitRepo, TestStore};

/// Four commits in one week (the clock starts Tuesday 2023-11-14 22:13:20 UTC):
///
/// | commit | author           | files (added+deleted lines)               |
/// |--------|------------------|-------------------------------------------|
/// | c1     | ann              | .mailmap (1), README (1), src/a.rs (3)    |
/// | c2     | bob              | src/b.rs (2)                              |
/// | c3     | ann              | src/a.rs (1+1), docs/x.md (1)             |
/// | c4     | ann's old email  | docs/x.md (1)                             |
///
/// `.mailmap` folds the old email into ann: 2 contributors. Areas: src is touched by c1, c2
/// and c3 with 3+2+2 = 7 lines; docs by c3 and c4 with 2 lines; (root) by c1 with 2 lines.
fn history() -> GitRepo {
    let r = GitRepo::new();
    r.write(
        b".mailmap",
        b"Ann Author <ann@example.com> <ann.old@example.com>\n",
    );
    r.write(b"README", b"hello\n");
    r.write(b"src/a.rs", b"1\n2\n3\n");
    r.commit_all("c1");
    r.write(b"src/b.rs", b"1\n2\n");
    r.commit_all_as("Bob <bob@example.com>", "c2");
    r.write(b"src/a.rs", b"1\ntwo\n3\n");
    r.write(b"docs/x.md", b"x\n");
    r.commit_all("c3");
    r.write(b"docs/x.md", b"x\ny\n");
    r.commit_all_as("Ann Old <ann.old@example.com>", "c4");
    r
}

#[test]
fn json_summary_matches_the_worked_example() {
    let repo = history();
    for store in TestStore::both() {
        let out = store.run(&[
            OsStr::new("analyze"),
            OsStr::new("--format"),
            OsStr::new("json"),
            repo.path().as_os_str(),
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let s = &v[0];
        assert_eq!(s["commits"], 4);
        assert_eq!(s["merges"], 0);
        assert_eq!(s["contributors"], 2);
        assert_eq!(s["recent_commits"], 4);
        assert_eq!(s["active_contributors"], 2);
        let areas: Vec<(String, u64, u64)> = s["busiest_areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["area"].as_str().unwrap().to_owned(),
                    a["commits"].as_u64().unwrap(),
                    a["lines_changed"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            areas,
            [
                ("src".to_owned(), 3, 7),
                ("docs".to_owned(), 2, 2),
                ("(root)".to_owned(), 1, 2)
            ]
        );
        let weeks = s["weekly"].as_array().unwrap();
        assert_eq!(weeks.len(), 12);
        // Monday 2023-11-13 00:00 UTC.
        assert_eq!(weeks[11]["week_start"], 1_699_833_600_000_i64);
        assert_eq!(
            (
                weeks[11]["commits"].as_u64(),
                weeks[11]["active_contributors"].as_u64()
            ),
            (Some(4), Some(2))
        );
        assert!(weeks[..11].iter().all(|w| w["commits"] == 0));
        // The repository as a service: no tags, so each first-parent commit is a deployment.
        let dora = &s["dora"];
        assert!(
            dora["basis"]["deployments"]
                .as_str()
                .unwrap()
                .contains("4 first-parent commits")
        );
        assert_eq!(dora["deployment_frequency"]["deployments"], 4);
        // Every commit "deploying" itself would make lead time 0 (elite): no lead time, with why.
        assert!(
            dora["deployment_frequency"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("a proxy")
        );
        assert!(dora["lead_time"]["median_seconds"].is_null());
        assert!(
            dora["lead_time"]["reason"]
                .as_str()
                .unwrap()
                .contains("tag_pattern")
        );
        // Hotspots: commits x complexity (non-blank lines, no indentation here) at HEAD.
        let hotspots: Vec<(String, u64)> = s["health"]["hotspots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["path"].as_str().unwrap().to_owned(),
                    h["score"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            hotspots,
            [
                ("src/a.rs".to_owned(), 2 * 3),
                ("docs/x.md".to_owned(), 2 * 2),
                ("src/b.rs".to_owned(), 2),
                (".mailmap".to_owned(), 1),
                ("README".to_owned(), 1),
            ]
        );
    }
}

#[test]
fn table_summary_names_no_one() {
    let repo = history();
    let store = TestStore::sqlite();
    let out = store.run(&[OsStr::new("analyze"), repo.path().as_os_str()]);
    let text = String::from_utf8(out).unwrap();
    for expected in [
        "DORA keys",
        "deployment frequency",
        "history",
        "2023-11-14",
        "4 (0 merges)",
        "busiest areas",
        "weekly activity",
        "2023-11-13",
        "code health",
        "hotspot",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    for name in ["Ann", "Bob", "example.com"] {
        assert!(
            !text.contains(name),
            "the summary names someone ({name}):\n{text}"
        );
    }
}

/// A repository whose release tags are prefixed with a name other than its directory's (jq's
/// `jq-1.7` in a clone named otherwise) is summarised as the service its tags name.
#[test]
fn prefixed_release_tags_name_the_service_analyze_shows() {
    let repo = history();
    let tags = repo.git(&["rev-list", "--reverse", "HEAD"]);
    let shas: Vec<&str> = tags.lines().collect();
    repo.git(&["tag", "tool-1.0", shas[1]]);
    repo.git(&["tag", "tool-1.1", shas[3]]);
    let store = TestStore::sqlite();
    let table =
        String::from_utf8(store.run(&[OsStr::new("analyze"), repo.path().as_os_str()])).unwrap();
    assert!(
        table.contains("DORA keys (tool as a service, production)"),
        "{table}"
    );
    let out = store.run(&[
        OsStr::new("analyze"),
        OsStr::new("--format"),
        OsStr::new("json"),
        repo.path().as_os_str(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let dora = &v[0]["dora"];
    assert_eq!(dora["service"], "tool");
    // tool-1.0 (c2) is the baseline; tool-1.1 (c4) carries c3 and c4.
    assert_eq!(dora["deployment_frequency"]["deployments"], 2);
    assert_eq!(dora["lead_time"]["changes"], 2);
}
