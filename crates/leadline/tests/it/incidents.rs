//! Incidents, postmortems and action items end to end: the worked example of docs/metrics.md
//! through the command line and the API on both stores, postmortem files refused whole (and
//! nothing touched), the blameless lint, and the trailer that closes an action.

use std::path::{Path, PathBuf};

use predicates::str::contains;
use serde_json::Value;

use crate::common::{GitRepo, TestStore, json_stdout};
use crate::server::Server;

/// docs/metrics.md, "Incidents": the worked example's incidents.
const INCIDENTS: &str = "id,service,severity,opened_at,started_at,detected_at,acknowledged_at,mitigated_at,resolved_at,fingerprint
INC-0,checkout,sev3,2026-02-20T00:00:00Z,,,,,,
INC-1,checkout,P1,2026-03-02T10:10:00Z,2026-03-02T10:00:00Z,2026-03-02T10:05:00Z,2026-03-02T10:20:00Z,2026-03-02T11:00:00Z,2026-03-02T12:00:00Z,db-pool
INC-2,checkout,high,2026-03-10T08:00:00Z,,,2026-03-10T08:30:00Z,,2026-03-10T09:00:00Z,
INC-3,checkout,minor,2026-03-20T00:30:00Z,2026-03-20T00:00:00Z,,,,,db-pool
INC-4,search,warning,2026-03-25T12:00:00Z,,,,,2026-03-25T14:00:00Z,db-pool
";

const PM_A: &str = "---
id: PM-A
incidents: [INC-1]
status: reviewed
reviewed: 2026-03-09
factors: [missing-alert]
actions:
  - {id: A1, title: Alert on pool saturation, priority: P1, due: 2026-03-20, state: done, done: 2026-03-18}
  - {id: A2, title: Canary the pool size, priority: P0, due: 2026-03-10}
  - {id: A3, title: Load-test the pool, priority: P2, due: 2026-04-15}
---
## Summary
The connection pool ran out under the evening peak.
";

const PM_B: &str = "---
id: PM-B
incidents: [INC-0, INC-2]
status: in-review
factors: [config-change]
actions:
  - {id: B1, title: Review config rollouts, priority: P2, due: 2026-05-01}
---
";

/// A folder with the example: incidents file, postmortems, and a leadline.toml naming them.
struct Example {
    dir: tempfile::TempDir,
    repo: GitRepo,
}

impl Example {
    fn new() -> Example {
        let dir = tempfile::tempdir().unwrap();
        let pms = dir.path().join("postmortems");
        std::fs::create_dir(&pms).unwrap();
        std::fs::write(pms.join("PM-A.md"), PM_A).unwrap();
        std::fs::write(pms.join("PM-B.md"), PM_B).unwrap();
        std::fs::write(dir.path().join("incidents.csv"), INCIDENTS).unwrap();
        std::fs::write(
            dir.path().join("leadline.toml"),
            format!("[postmortems]\ndir = {:?}\n", pms.display().to_string()),
        )
        .unwrap();
        let repo = GitRepo::new();
        repo.write(b"pool.rs", b"fn pool() {}\n");
        repo.commit_all_at(
            1_772_000_000,
            Some("Grace Hopper <grace@example.com>"),
            "Pool",
        );
        // A3 shipped on 2026-04-20 (after its due date) by a commit carrying its trailer.
        repo.write(b"load.rs", b"fn load() {}\n");
        repo.commit_all_at(1_776_675_600, None, "Load-test the pool\n\nAction: PM-A/A3");
        Example { dir, repo }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("leadline.toml")
    }

    fn postmortems(&self) -> PathBuf {
        self.dir.path().join("postmortems")
    }

    fn load(&self, store: &TestStore) {
        store.ingest(self.repo.path());
        store
            .leadline()
            .args(["import", "incidents"])
            .arg(self.dir.path().join("incidents.csv"))
            .assert()
            .success();
    }

    fn leadline(&self, store: &TestStore) -> assert_cmd::Command {
        let mut cmd = store.leadline();
        cmd.arg("--config").arg(self.config());
        cmd
    }

    fn json(&self, store: &TestStore, args: &[&str]) -> Value {
        json_stdout(self.leadline(store).args(args))
    }
}

const MARCH: [&str; 4] = ["--since", "2026-03-01", "--until", "2026-04-01"];

#[test]
fn the_worked_example_field_by_field_on_both_stores() {
    let example = Example::new();
    for store in TestStore::both() {
        example.load(&store);
        let mut args = vec!["incidents", "--format", "json"];
        args.extend(MARCH);
        let r = example.json(&store, &args);
        let expected = serde_json::json!({
            "since": "2026-03-01T00:00:00+00:00",
            "until": "2026-04-01T00:00:00+00:00",
            "service": null,
            "incidents": {"total": 4, "by_severity": {"sev1": 1, "sev2": 1, "sev3": 1, "sev4": 0, "unknown": 1}},
            "time_to_detect": {"incidents": 2, "median_seconds": 300.0, "p90_seconds": 1800.0},
            "time_to_acknowledge": {"incidents": 2, "median_seconds": 900.0, "p90_seconds": 1800.0},
            "time_to_mitigate": {"incidents": 3, "median_seconds": 3600.0, "p90_seconds": 7200.0},
            "time_to_resolve": {"incidents": 3, "median_seconds": 7200.0, "p90_seconds": 7200.0},
            "postmortems": {"required": 2, "written": 2, "reviewed_on_time": 1, "coverage": 0.5},
            "actions": {"total": 4, "done": 2, "done_on_time": 1, "open": 2, "overdue": 1,
                        "completion_rate": 0.5, "on_time_rate": 0.25},
            "repeats": {"incidents": 4, "repeats": 2, "rate": 0.5}
        });
        assert_eq!(r, expected, "on {}", store.backend);

        // Every incidents metric name reads the same field.
        for (name, path) in [
            ("incidents.postmortems.coverage", "/postmortems/coverage"),
            ("incidents.actions.on_time_rate", "/actions/on_time_rate"),
            (
                "incidents.time_to_acknowledge.median_seconds",
                "/time_to_acknowledge/median_seconds",
            ),
        ] {
            let mut args = vec!["metric", name, "--format", "json"];
            args.extend(MARCH);
            let m = example.json(&store, &args);
            assert_eq!(m["value"], r.pointer(path).cloned().unwrap(), "{name}");
        }

        // A service, and a series by month whose March equals the window's report.
        let mut args = vec!["incidents", "--format", "json", "--service", "search"];
        args.extend(MARCH);
        let search = example.json(&store, &args);
        assert_eq!(search["incidents"]["total"], 1);
        assert_eq!(search["service"], "search");
        let series = example.json(
            &store,
            &[
                "incidents",
                "--format",
                "json",
                "--by",
                "month",
                "--since",
                "2026-02-01",
                "--until",
                "2026-04-01",
            ],
        );
        assert_eq!(series.as_array().unwrap().len(), 2);
        assert_eq!(series[1], r);
        assert_eq!(series[0]["incidents"]["total"], 1);
    }
}

#[test]
fn the_api_serves_the_same_report_and_the_stored_rows() {
    let example = Example::new();
    let store = TestStore::sqlite();
    example.load(&store);
    let mut args = vec!["incidents", "--format", "json", "--explain"];
    args.extend(MARCH);
    let cli = example.json(&store, &args);
    // No responder or author appears anywhere in the explained report.
    let text = cli.to_string();
    assert!(
        !text.contains("Grace") && !text.contains("grace@"),
        "{text}"
    );
    assert_eq!(cli["explain"]["incidents"][2]["repeat_of"], "INC-1");
    let server = Server::start(&store, Some(&example.config()));
    let api: Value = server
        .get("/api/v1/incidents?since=2026-03-01&until=2026-04-01&explain=true")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(api, cli);
    let rows: Value = server
        .get("/api/v1/incidents/records?limit=2")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(rows["items"][0]["id"], "INC-0", "{rows}");
    assert_eq!(rows["items"][1]["started_at"], "2026-03-02T10:00:00+00:00");
    let bad = server.get("/api/v1/incidents?by=fortnight").send().unwrap();
    assert_eq!(bad.status(), 400);
    let schema: Value = server
        .get("/api/v1/schemas/incidents")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(schema["properties"]["repeats"].is_object(), "{schema}");
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn invalid_postmortems_are_named_by_file_line_and_field_and_nothing_changes() {
    let example = Example::new();
    for store in TestStore::both() {
        example.load(&store);
        let broken = example.postmortems().join("PM-C.md");
        std::fs::write(
            &broken,
            "---\nid: PM-A\nincidents: [INC-9]\nstatus: done\nreviewed: 2026-02-30\nowner: ann\n---\n",
        )
        .unwrap();
        let before_files = snapshot(&example.postmortems());
        let before_rows = store.export("incidents", "csv");
        let name = broken.display().to_string();
        for args in [
            vec!["postmortem", "check"],
            vec!["incidents", "--format", "json"],
            vec!["actions"],
            vec!["actions", "check"],
        ] {
            example
                .leadline(&store)
                .args(&args)
                .assert()
                .code(2)
                .stderr(contains(format!(
                    "{name}: line 4, field status: unknown status \"done\""
                )))
                .stderr(contains(format!(
                    "{name}: line 5, field reviewed: \"2026-02-30\" is not a date"
                )))
                .stderr(contains(format!(
                    "{name}: line 6, field owner: unknown field"
                )));
        }
        std::fs::write(
            &broken,
            "---\nid: PM-A\nincidents: [INC-9]\nstatus: draft\n---\n",
        )
        .unwrap();
        example
            .leadline(&store)
            .args(["postmortem", "check"])
            .assert()
            .code(2)
            .stderr(contains(format!(
                "{name}: line 2, field id: \"PM-A\" is already the id of"
            )))
            .stderr(contains(format!(
                "{name}: line 3, field incidents: no incident \"INC-9\" is stored"
            )));
        // Those change no number: the reports go on (only the check refuses them).
        example
            .leadline(&store)
            .args(["incidents", "--format", "json"])
            .args(MARCH)
            .assert()
            .success();
        std::fs::remove_file(&broken).unwrap();
        assert_eq!(store.export("incidents", "csv"), before_rows);
        let mut after = snapshot(&example.postmortems());
        after.push((name.clone(), Vec::new()));
        let mut expected = before_files.clone();
        expected.retain(|(n, _)| n != &name);
        expected.push((name, Vec::new()));
        after.sort();
        expected.sort();
        assert_eq!(after, expected, "the other files are untouched");
    }
}

#[test]
fn the_lint_flags_a_person_of_the_history_with_its_line() {
    let example = Example::new();
    let store = TestStore::sqlite();
    example.load(&store);
    let pm = example.postmortems().join("PM-A.md");
    let text =
        format!("{PM_A}Grace Hopper restarted the pool. It was grace@example.com's fault.\n");
    std::fs::write(&pm, &text).unwrap();
    let line = text.lines().count();
    let name = pm.display().to_string();
    example
        .leadline(&store)
        .args(["postmortem", "check"])
        .assert()
        .success()
        .stdout(contains(format!("{name}:{line}: \"Grace Hopper\"")))
        .stdout(contains(format!("{name}:{line}: \"grace@example.com\"")))
        .stdout(contains("fault"))
        .stdout(contains("2 postmortem(s)"));
    example
        .leadline(&store)
        .args(["postmortem", "check", "--strict"])
        .assert()
        .code(1);
    // Without the names and the blame, the strict check passes.
    std::fs::write(&pm, PM_A).unwrap();
    example
        .leadline(&store)
        .args(["postmortem", "check", "--strict"])
        .assert()
        .success()
        .stdout(contains("0 finding(s)"));
}

#[test]
fn actions_check_fails_on_an_overdue_p1_until_its_trailer_lands_on_head() {
    let example = Example::new();
    for store in TestStore::both() {
        example.load(&store);
        let pm = example.postmortems().join("PM-D.md");
        std::fs::write(
            &pm,
            "---\nid: PM-D\nincidents: [INC-4]\nstatus: reviewed\nreviewed: 2026-03-26\nactions:\n  - {id: D1, title: Page on search latency, owner: search, priority: P1}\n---\n",
        )
        .unwrap();
        // A2 (P0, due 2026-03-10) is overdue too: close it in its file first.
        let a = example.postmortems().join("PM-A.md");
        std::fs::write(
            &a,
            PM_A.replace(
                "due: 2026-03-10}",
                "due: 2026-03-10, state: done, done: 2026-03-09}",
            ),
        )
        .unwrap();
        // D1 has no due date: 28 days after the review is 2026-04-23.
        let check = |today: &str| {
            example
                .leadline(&store)
                .args(["actions", "check", "--today", today])
                .assert()
        };
        check("2026-04-23")
            .success()
            .stdout(contains("no P0 or P1 past its due date"));
        check("2026-04-24")
            .code(1)
            .stdout(contains("PM-D/D1"))
            .stderr(contains("1 open P0/P1 action item(s) past their due date"));
        // The debt portfolio lists it as reliability debt.
        let debt: Value = serde_json::from_slice(
            &example
                .leadline(&store)
                .args(["debt", "list", "--format", "json", "--today", "2026-04-24"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        assert_eq!(
            debt["reliability_candidates"][0]["reference"], "PM-D/D1",
            "{debt}"
        );
        // A trailer on a branch that never reached HEAD does not count...
        example.repo.git(&["checkout", "-q", "-B", "side"]);
        example
            .repo
            .commit_all_at(1_777_000_000, None, "Try paging\n\nAction: PM-D/D1");
        example.repo.git(&["checkout", "-q", "-"]);
        store.ingest(example.repo.path());
        check("2026-04-24").code(1);
        // ...the commit that lands on HEAD does, dated by its commit time.
        example.repo.commit_all_at(
            1_777_100_000,
            None,
            "Page on search latency\n\nAction: PM-D/D1",
        );
        store.ingest(example.repo.path());
        check("2026-04-24").success();
        let listed = example.json(
            &store,
            &["actions", "--format", "json", "--today", "2026-04-24"],
        );
        let d1 = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["reference"] == "PM-D/D1")
            .unwrap();
        assert_eq!(d1["state"], "done");
        assert_eq!(d1["evidence"]["kind"], "commit");
        assert_eq!(d1["done"], "2026-04-25");
        assert_eq!(d1["on_time"], false);
        // A merged pull request naming B1 in its description closes it at its merge.
        let merged = 1_777_200_000_000; // 2026-04-26T10:40:00Z
        crate::server::read_store(&store, async |s| {
            use leadline_core::store::prelude::*;
            let events = leadline_core::events::Events {
                pull_requests: vec![pull_request(merged, vec!["PM-B/B1".into()])],
                ..Default::default()
            };
            s.store_events("github", &events, None).await.unwrap();
        });
        let listed = example.json(
            &store,
            &["actions", "--format", "json", "--today", "2026-04-27"],
        );
        let b1 = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["reference"] == "PM-B/B1")
            .unwrap();
        assert_eq!(
            (
                &b1["state"],
                &b1["done"],
                &b1["evidence"]["kind"],
                &b1["evidence"]["reference"]
            ),
            (
                &Value::from("done"),
                &Value::from("2026-04-26"),
                &Value::from("pull_request"),
                &Value::from("octo/app#7")
            )
        );
        std::fs::remove_file(&pm).unwrap();
        std::fs::write(&a, PM_A).unwrap();
        example.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    }
}

fn pull_request(merged_at: i64, actions: Vec<String>) -> leadline_core::events::PullRequest {
    leadline_core::events::PullRequest {
        forge: "github".into(),
        repo: "octo/app".into(),
        number: 7,
        title: "Review config rollouts".into(),
        author: "octocat".into(),
        state: "merged".into(),
        draft: false,
        created_at: merged_at - 3_600_000,
        first_commit_at: None,
        rework_commits: None,
        ready_at: None,
        updated_at: merged_at,
        merged_at: Some(merged_at),
        closed_at: Some(merged_at),
        base_ref: "main".into(),
        head_sha: "ab".repeat(20),
        merge_sha: None,
        additions: None,
        deletions: None,
        changed_files: None,
        commits: None,
        labels: vec![],
        review_requests: vec![],
        actions,
        issue_keys: vec![],
    }
}

#[test]
fn a_draft_postmortem_holds_the_timeline_and_the_attributed_deployment() {
    let example = Example::new();
    let store = TestStore::sqlite();
    example.load(&store);
    let sha = example.repo.head();
    let deploys = example.dir.path().join("deploys.csv");
    std::fs::write(
        &deploys,
        format!("id,service,environment,sha,finished_at\nrel-7,checkout,production,{sha},2026-03-02T09:30:00Z\n"),
    )
    .unwrap();
    store
        .leadline()
        .args(["import", "deployments"])
        .arg(&deploys)
        .assert()
        .success();
    let out = example
        .leadline(&store)
        .args(["postmortem", "new", "INC-1"])
        .assert()
        .success();
    let path = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let path = path.trim();
    assert!(path.ends_with("PM-2026-001.md"), "{path}");
    let text = std::fs::read_to_string(path).unwrap();
    for expected in [
        "incidents: [INC-1]",
        "status: draft",
        "- 2026-03-02 10:00 UTC impact began",
        "- 2026-03-02 10:20 UTC acknowledged",
        "Attributed deployment: rel-7",
        "Load-test the pool",
        "## What went well",
        "## Where we got lucky",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("Grace"), "no author is named:\n{text}");
    // The draft is valid as it stands, and the next one takes the next number.
    example
        .leadline(&store)
        .args(["postmortem", "check"])
        .assert()
        .success();
    example
        .leadline(&store)
        .args(["postmortem", "new", "INC-2"])
        .assert()
        .success()
        .stdout(contains("PM-2026-002.md"));
    example
        .leadline(&store)
        .args(["postmortem", "new", "INC-99"])
        .assert()
        .code(2)
        .stderr(contains("no incident \"INC-99\""));
}
