//! `leadline ingest jira` against a fake Jira serving Atlassian's documented shapes: Cloud's
//! token-paged search and changelog pages, Data Center's offset search, a 429 and a 502, the
//! assignee mapped to a team and never stored, and an incremental second run.

use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::common::TestStore;
use crate::server::read_store;

#[derive(Default)]
struct Fake {
    /// Requests seen, as path?query.
    log: Vec<String>,
    /// The Authorization header of every request.
    auth: Vec<String>,
    /// The second search page does not answer.
    hang: bool,
    /// PAY-3 is a Bug rather than a Task.
    bug: bool,
}

type Shared = Arc<Mutex<Fake>>;

/// `updated >=` as the query string encodes it: the JQL of an incremental run.
const SINCE: &str = "updated%20%3E%3D";

fn start(state: Shared) -> String {
    crate::common::serve(axum::Router::new().fallback(answer).with_state(state))
}

const STATUSES: &str = r#"[
  {"id": "10000", "name": "To Do", "statusCategory": {"id": 2, "key": "new"}},
  {"id": "3", "name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate"}},
  {"id": "10001", "name": "Done", "statusCategory": {"id": 3, "key": "done"}}
]"#;

fn history(id: u32, at: &str, to: &str) -> Value {
    json!({"id": id.to_string(), "created": at, "items": [{"field": "status", "fieldtype": "jira", "to": to}]})
}

/// A changelog entry moving an issue between sprints (ids as Jira writes them, `"37, 38"`).
fn sprint_move(id: u32, at: &str, from: &str, to: &str) -> Value {
    json!({"id": id.to_string(), "created": at, "items": [{"field": "Sprint", "fieldtype": "custom",
           "fieldId": "customfield_10020", "from": from, "fromString": "", "to": to, "toString": ""}]})
}

fn issue(n: u32, kind: &str, resolved: Option<&str>, histories: Vec<Value>, total: usize) -> Value {
    json!({
        "id": (10000 + n).to_string(),
        "key": format!("PAY-{n}"),
        "fields": {
            "project": {"key": "PAY"},
            "issuetype": {"name": kind},
            "status": {"name": if resolved.is_some() { "Done" } else { "In Progress" },
                       "statusCategory": {"key": if resolved.is_some() { "done" } else { "indeterminate" }}},
            "labels": [],
            "components": [{"name": "api"}],
            "customfield_10016": n as f64,
            "customfield_10020": match n {
                1 => json!([{"id": 37, "name": "PAY 37", "state": "closed", "boardId": 84}]),
                2 => json!([{"id": 38, "name": "PAY 38", "state": "active", "boardId": 84}]),
                _ => json!(["com.atlassian.greenhopper.service.sprint.Sprint@5ab1[id=37,rapidViewId=84,state=CLOSED,name=PAY 37]"]),
            },
            "assignee": {"accountId": format!("acct-{n}"), "displayName": format!("Secret Person{n}")},
            "created": "2026-10-01T09:00:00.000+0000",
            "updated": format!("2026-10-0{}T12:00:00.000+0000", n + 1),
            "resolutiondate": resolved
        },
        "changelog": {"startAt": 0, "maxResults": 100, "total": total, "histories": histories}
    })
}

/// Three issues: PAY-1 done, PAY-2 in progress, PAY-3 done with a changelog too long for the
/// search (its second status change only on the changelog's second page). Sprint PAY 37 runs
/// from 10-02 00:00 to 10-04 00:00 UTC: PAY-1 and PAY-2 are in it from before its start (PAY-2
/// moves to PAY 38 after its close), PAY-3 is added on 10-02 at noon.
fn issues() -> Vec<Value> {
    vec![
        issue(
            1,
            "Story",
            Some("2026-10-03T12:00:00.000+0000"),
            vec![
                sprint_move(10, "2026-10-01T10:00:00.000+0000", "", "37"),
                history(1, "2026-10-02T09:00:00.000+0000", "3"),
                history(2, "2026-10-03T12:00:00.000+0000", "10001"),
            ],
            3,
        ),
        issue(
            2,
            "Bug",
            None,
            vec![
                sprint_move(11, "2026-10-01T10:00:00.000+0000", "", "37"),
                history(3, "2026-10-02T10:00:00.000+0000", "3"),
                sprint_move(12, "2026-10-05T09:00:00.000+0000", "37", "38"),
            ],
            3,
        ),
        issue(
            3,
            "Task",
            Some("2026-10-04T12:00:00.000+0000"),
            vec![history(4, "2026-10-02T11:00:00.000+0000", "3")],
            2,
        ),
    ]
}

async fn answer(State(state): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let seen = {
        let mut f = state.lock().unwrap();
        let target = format!("{path}?{query}");
        f.log.push(target.clone());
        if let Some(a) = request.headers().get("authorization") {
            f.auth.push(a.to_str().unwrap().to_owned());
        }
        f.log.iter().filter(|l| **l == target).count()
    };
    let mut all = issues();
    if state.lock().unwrap().bug {
        all[2]["fields"]["issuetype"]["name"] = "Bug".into();
    }
    match path.as_str() {
        "/rest/api/3/status" | "/rest/api/2/status" => STATUSES.into_response(),
        "/rest/api/3/field" | "/rest/api/2/field" => axum::Json(json!([
            {"id": "summary", "name": "Summary"},
            {"id": "customfield_10016", "name": "Story point estimate"},
            {"id": "customfield_10020", "name": "Sprint"}
        ]))
        .into_response(),
        // The agile API: a project's boards in two pages (a kanban board has no sprints), then
        // the scrum board's sprints, dates with offsets as Atlassian's examples give them.
        "/rest/agile/1.0/board" => {
            let page = if query.contains("startAt=1") {
                json!({"maxResults": 1, "startAt": 1, "total": 2, "isLast": true,
                       "values": [{"id": 92, "name": "PAY flow", "type": "kanban"}]})
            } else {
                json!({"maxResults": 1, "startAt": 0, "total": 2, "isLast": false,
                       "values": [{"id": 84, "name": "PAY board", "type": "scrum"}]})
            };
            axum::Json(page).into_response()
        }
        "/rest/agile/1.0/board/84/sprint" => axum::Json(json!({
            "maxResults": 50, "startAt": 0, "isLast": true, "values": [
                {"id": 37, "state": "closed", "name": "PAY 37", "originBoardId": 84,
                 "startDate": "2026-10-02T10:00:00.000+10:00", "endDate": "2026-10-04T10:00:00.000+10:00",
                 "completeDate": "2026-10-04T10:00:00.000+10:00", "goal": "refunds"},
                {"id": 38, "state": "active", "name": "PAY 38", "originBoardId": 84,
                 "startDate": "2026-10-04T10:00:00.000+10:00", "endDate": "2026-10-18T10:00:00.000+10:00"}
            ]}))
        .into_response(),
        // Cloud: two pages by token; the second is rate limited once, the first fails once.
        "/rest/api/3/search/jql" => {
            if query.contains("nextPageToken=p2") && state.lock().unwrap().hang {
                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            }
            if query.contains("nextPageToken=p2") {
                if seen == 1 {
                    return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "{}")
                        .into_response();
                }
                axum::Json(json!({"issues": [all[2].clone()], "isLast": true})).into_response()
            } else {
                if seen == 1 && !query.contains(SINCE) {
                    return (
                        StatusCode::BAD_GATEWAY,
                        "{\"errorMessages\": [\"bad gateway\"]}",
                    )
                        .into_response();
                }
                axum::Json(json!({"issues": [all[0].clone(), all[1].clone()], "nextPageToken": "p2", "isLast": false}))
                    .into_response()
            }
        }
        // Data Center: offset pages.
        "/rest/api/2/search" => {
            let (page, start) = if query.contains("startAt=2") {
                (vec![all[2].clone()], 2)
            } else {
                (vec![all[0].clone(), all[1].clone()], 0)
            };
            axum::Json(json!({"startAt": start, "maxResults": 2, "total": 3, "issues": page}))
                .into_response()
        }
        "/rest/api/3/issue/PAY-3/changelog" => {
            let page = if query.contains("startAt=1") {
                json!({"startAt": 1, "maxResults": 1, "total": 2, "isLast": true,
                       "values": [history(5, "2026-10-04T12:00:00.000+0000", "10001"),
                                  sprint_move(13, "2026-10-02T12:00:00.000+0000", "", "37")]})
            } else {
                json!({"startAt": 0, "maxResults": 1, "total": 2, "isLast": false,
                       "values": [history(4, "2026-10-02T11:00:00.000+0000", "3")]})
            };
            axum::Json(page).into_response()
        }
        "/rest/api/2/issue/PAY-3" => axum::Json(
            json!({"key": "PAY-3", "changelog": {"startAt": 0, "total": 2, "histories": [
                history(4, "2026-10-02T11:00:00.000+0000", "3"),
                history(5, "2026-10-04T12:00:00.000+0000", "10001"),
                sprint_move(13, "2026-10-02T12:00:00.000+0000", "", "37")
            ]}}),
        )
        .into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            "{\"errorMessages\": [\"no such path\"]}",
        )
            .into_response(),
    }
}

/// Every run of `ingest jira` maps acct-1 and acct-3 to the payments team.
const TEAMS: &str = "[[teams]]\nname = \"payments\"\nmembers = [\"acct-1\", \"acct-3\"]\n";

/// A fake Jira behaving as `fake` says, and `leadline.toml` holding `config` in a directory
/// that lives as long as the setup.
struct Setup {
    state: Shared,
    api: String,
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
}

fn setup(fake: Fake, config: &str) -> Setup {
    let state: Shared = Arc::new(Mutex::new(fake));
    let api = start(Arc::clone(&state));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leadline.toml");
    std::fs::write(&path, config).unwrap();
    Setup {
        state,
        api,
        dir,
        config: path,
    }
}

fn ingest(
    store: &TestStore,
    api: &str,
    config: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    Command::new(assert_cmd::cargo::cargo_bin("leadline"))
        .env_remove("LEADLINE_DB")
        .env("JIRA_EMAIL", "bot@example.com")
        .env("JIRA_API_TOKEN", "atl-token")
        .env("JIRA_PAT", "dc-pat")
        .args(["--db", &store.db, "--config"])
        .arg(config)
        .args(["ingest", "jira", "PAY", "--api-url", api])
        .args(extra)
        .output()
        .unwrap()
}

/// `leadline ARGS --since 2026-10-01 --until 2026-11-01 --format json` with `config`: the
/// month the fake's issues live in.
fn in_october(store: &TestStore, config: &std::path::Path, args: &[&str]) -> Value {
    crate::common::json_stdout(
        store
            .leadline()
            .arg("--config")
            .arg(config)
            .args(args)
            .args([
                "--since",
                "2026-10-01",
                "--until",
                "2026-11-01",
                "--format",
                "json",
            ]),
    )
}

fn stored(store: &TestStore) -> Vec<leadline_core::store::TrackedIssue> {
    read_store(store, async |s| {
        use leadline_core::store::prelude::*;
        s.tracked_issues().await.unwrap()
    })
}

#[test]
fn cloud_and_data_center_issues_are_stored_once_with_their_status_changes() {
    use leadline_core::planning::Category::{Done, Indeterminate};
    for (flavour, extra) in [("cloud", &[][..]), ("data center", &["--data-center"][..])] {
        for store in TestStore::both() {
            let Setup {
                state,
                api,
                config,
                dir: _dir,
                ..
            } = setup(Fake::default(), TEAMS);
            let out = ingest(&store, &api, &config, extra);
            let log = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "{flavour}: {log}");
            let issues = stored(&store);
            let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
            assert_eq!(keys, ["PAY-1", "PAY-2", "PAY-3"], "{flavour}");
            // PAY-3's second status change came from its changelog's second page.
            let three = &issues[2];
            assert_eq!(
                three.transitions.iter().map(|t| t.to).collect::<Vec<_>>(),
                [Indeterminate, Done]
            );
            assert_eq!(three.story_points, Some(3.0));
            assert_eq!(three.team.as_deref(), Some("payments"));
            assert_eq!(issues[1].team, None, "acct-2 is in no team");
            assert_eq!(
                issues[0].resolved_at,
                leadline_sources::jira::time("2026-10-03T12:00:00.000+0000")
            );
            // The people are not in the store.
            let bytes: String = if store.db.starts_with("postgres") {
                let dump = Command::new("pg_dump").arg(&store.db).output().unwrap();
                String::from_utf8_lossy(&dump.stdout).into_owned()
            } else {
                ["", "-wal"]
                    .iter()
                    .filter_map(|s| std::fs::read(format!("{}{s}", store.db)).ok())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .collect()
            };
            assert!(
                !bytes.contains("Secret Person") && !bytes.contains("acct-2"),
                "{flavour}: a person is stored"
            );
            let f = state.lock().unwrap();
            let expected = if flavour == "cloud" {
                "Basic "
            } else {
                "Bearer dc-pat"
            };
            assert!(
                f.auth.iter().all(|a| a.starts_with(expected)),
                "{:?}",
                f.auth
            );
            drop(f);
            if flavour == "cloud" {
                assert!(
                    log.contains("rate limited (429)") && log.contains("502"),
                    "{log}"
                );
            }
            // The second run asks only for what changed since, and stores nothing new.
            let before = state.lock().unwrap().log.len();
            let again = ingest(&store, &api, &config, extra);
            assert!(again.status.success());
            let f = state.lock().unwrap();
            let searched: Vec<&String> = f.log[before..]
                .iter()
                .filter(|l| l.contains("/search"))
                .collect();
            assert!(
                searched.iter().all(|l| l.contains("updated")),
                "{searched:?}"
            );
            drop(f);
            assert_eq!(stored(&store), issues);
        }
    }
}

/// A sync killed while it waits for the second page resumes there: the first page is not
/// asked for again and nothing is stored twice.
#[test]
fn a_killed_sync_resumes_at_its_page() {
    let store = TestStore::sqlite();
    let Setup {
        state,
        api,
        config,
        dir: _dir,
        ..
    } = setup(
        Fake {
            hang: true,
            ..Fake::default()
        },
        "",
    );
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("leadline"))
        .env_remove("LEADLINE_DB")
        .env("JIRA_EMAIL", "bot@example.com")
        .env("JIRA_API_TOKEN", "atl-token")
        .args(["--db", &store.db, "--config"])
        .arg(&config)
        .args(["ingest", "jira", "PAY", "--api-url", &api])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !state
        .lock()
        .unwrap()
        .log
        .iter()
        .any(|l| l.contains("nextPageToken=p2"))
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "never reached page 2"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
    assert_eq!(
        stored(&store).len(),
        2,
        "the first page was stored before the kill"
    );
    let first_pages = |f: &Fake| {
        f.log
            .iter()
            .filter(|l| l.contains("/search/jql") && !l.contains("nextPageToken"))
            .count()
    };
    let before = first_pages(&state.lock().unwrap());
    state.lock().unwrap().hang = false;
    let out = ingest(&store, &api, &config, &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("resumed; 1 issues"));
    assert_eq!(
        first_pages(&state.lock().unwrap()),
        before,
        "page 1 asked for again"
    );
    let keys: Vec<String> = stored(&store).into_iter().map(|i| i.key).collect();
    assert_eq!(keys, ["PAY-1", "PAY-2", "PAY-3"]);
}

/// `leadline planning` and `/api/v1/planning` on the synced issues, against a calculation by
/// hand from what the fake served.
#[test]
fn planning_of_the_synced_issues_is_the_hand_computed_one() {
    let store = TestStore::sqlite();
    let Setup {
        api, dir, config, ..
    } = setup(Fake::default(), TEAMS);
    assert!(ingest(&store, &api, &config, &[]).status.success());
    // A commit naming PAY-1 (and one naming no issue: UTF-8 is not a project), deployed to
    // production on 10-05 at noon.
    let repo = crate::common::GitRepo::new();
    repo.write(b"refunds.txt", b"1\n");
    let linked = repo.commit_all_at(1_791_021_600, None, "PAY-1: refund to the original card");
    repo.write(b"refunds.txt", b"2\n");
    repo.commit_all_at(1_791_025_200, None, "UTF-8 clean-up");
    store.ingest(repo.path());
    deploy(&store, dir.path(), &[(&linked, "2026-10-05T12:00:00Z")]);
    let report = in_october(&store, &config, &["planning"]);
    // PAY-1: started 10-02 09:00, its linked commit deployed 10-05 12:00 (75 h, not the 27 h to
    // its resolution); PAY-3: 10-02 11:00 to its resolution 10-04 12:00 (49 h), nothing linked;
    // PAY-2 is not resolved.
    let h = 3600.0;
    assert_eq!(report["resolved"], 2);
    assert_eq!(report["lead_time"]["count"], 2);
    assert_eq!(
        report["lead_time"]["median_seconds"].as_f64(),
        Some(49.0 * h)
    );
    assert_eq!(report["lead_time"]["p90_seconds"].as_f64(), Some(75.0 * h));
    // The same figures by name, through the metric seam.
    for (name, value) in [
        ("planning.lead_time.median_seconds", 49.0 * h),
        ("planning.lead_time.p90_seconds", 75.0 * h),
        ("planning.resolved", 2.0),
    ] {
        let read = in_october(&store, &config, &["metric", name]);
        assert_eq!(read["value"].as_f64(), Some(value), "{name}");
    }
    // To do from creation (10-01 09:00): 24 h and 26 h.
    assert_eq!(
        report["time_in"]["new"]["median_seconds"].as_f64(),
        Some(24.0 * h)
    );
    assert_eq!(
        report["time_in"]["new"]["p90_seconds"].as_f64(),
        Some(26.0 * h)
    );
    let mix = &report["investment"][0];
    assert_eq!(
        (mix["team"].as_str(), mix["month"].as_str()),
        (Some("payments"), Some("2026-10"))
    );
    assert_eq!(mix["by_type"]["Story"]["share"].as_f64(), Some(0.5));
    // Story points 1 (PAY-1) and 3 (PAY-3).
    assert_eq!(mix["by_type"]["Task"]["points_share"].as_f64(), Some(0.75));
    assert_eq!(mix["defect_share"].as_f64(), Some(0.0));
    assert_eq!(
        report["defects"],
        json!({"resolved": 0, "share": 0.0, "escaped": 0})
    );
    // The stakeholder report has a planning section with the same numbers.
    let html = store.october_report(&config, dir.path());
    assert!(html.contains(r#"<section id="planning">"#), "{html}");
    for (name, value) in [
        ("planning.resolved", "2"),
        ("planning.lead_time.median_seconds", "176400"),
    ] {
        let shown = format!(r#"data-metric="{name}" data-period="now" data-value="{value}""#);
        assert!(html.contains(&shown), "{shown}: {html}");
    }
    let server = crate::server::Server::start(&store, Some(&config));
    let served: Value = server
        .get("/api/v1/planning?since=2026-10-01&until=2026-11-01")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(served, report);
}

/// Imports production deployments of the payments service, one per (sha, finished at).
fn deploy(store: &TestStore, dir: &std::path::Path, shas: &[(&str, &str)]) {
    let mut csv = String::from("id,service,environment,sha,finished_at\n");
    for (n, (sha, at)) in shas.iter().enumerate() {
        csv.push_str(&format!("D{n},payments,production,{sha},{at}\n"));
    }
    let path = dir.join("deployments.csv");
    std::fs::write(&path, csv).unwrap();
    store.run(&[
        std::ffi::OsStr::new("import"),
        std::ffi::OsStr::new("deployments"),
        path.as_os_str(),
    ]);
}

/// Pull requests link issues through their descriptions and head branches, delivered by
/// GitHub's webhook; the commits themselves name no issue. PAY-1's pull request says "Fixes
/// PAY-1" in its description (deployed 10-05 12:00), PAY-3's comes from the branch
/// `PAY-3-card-refunds` (deployed 10-06 12:00).
#[test]
fn pull_request_descriptions_and_branches_link_issues_to_deployments() {
    for store in TestStore::both() {
        let Setup {
            api, dir, config, ..
        } = setup(Fake::default(), TEAMS);
        assert!(ingest(&store, &api, &config, &[]).status.success());
        let repo = crate::common::GitRepo::new();
        repo.write(b"refunds.txt", b"1\n");
        let first = repo.commit_all_at(1_791_021_600, None, "Refund to the original card");
        repo.write(b"refunds.txt", b"2\n");
        let second = repo.commit_all_at(1_791_025_200, None, "Card refunds, retried");
        store.ingest(repo.path());
        deploy(
            &store,
            dir.path(),
            &[
                (&first, "2026-10-05T12:00:00Z"),
                (&second, "2026-10-06T12:00:00Z"),
            ],
        );
        let server = crate::server::Server::start(&store, Some(&config));
        let fixture = crate::server::github_fixture("github/pull_request/closed.payload.json");
        for (number, body, branch, merge) in [
            (11, "Fixes PAY-1 (UTF-8 safe).", "refunds", &first),
            (12, "", "PAY-3-card-refunds", &second),
        ] {
            let mut pr: Value = serde_json::from_slice(&fixture).unwrap();
            pr["number"] = number.into();
            pr["pull_request"]["number"] = number.into();
            pr["pull_request"]["title"] = "Card refunds".into();
            pr["pull_request"]["body"] = body.into();
            pr["pull_request"]["head"]["ref"] = branch.into();
            pr["pull_request"]["merged_at"] = "2026-10-04T09:00:00Z".into();
            pr["pull_request"]["updated_at"] = "2026-10-04T09:00:00Z".into();
            pr["pull_request"]["merge_commit_sha"] = merge.as_str().into();
            let sent = crate::server::deliver_github(
                &server.url,
                "pull_request",
                &format!("pr-{number}"),
                &serde_json::to_vec(&pr).unwrap(),
            );
            assert!(sent.status().is_success(), "{}", sent.status());
        }
        let report = in_october(&store, &config, &["planning"]);
        // PAY-1: 10-02 09:00 to 10-05 12:00 (75 h); PAY-3: 10-02 11:00 to 10-06 12:00 (97 h).
        let h = 3600.0;
        assert_eq!(report["lead_time"]["count"], 2, "{}", store.backend);
        assert_eq!(
            report["lead_time"]["median_seconds"].as_f64(),
            Some(75.0 * h),
            "{}",
            store.backend
        );
        assert_eq!(report["lead_time"]["p90_seconds"].as_f64(), Some(97.0 * h));
    }
}

/// A resolved Bug (PAY-3 here) escapes when an incident's title names it or the incident's fix
/// commit is linked to it; an incident naming no tracked key (`UTF-8`), or fixed by a commit
/// linked to nothing, leaves it a plain defect.
#[test]
fn escaped_defects_are_resolved_defects_linked_to_incidents() {
    let store = TestStore::sqlite();
    let Setup {
        api, dir, config, ..
    } = setup(
        Fake {
            bug: true,
            ..Fake::default()
        },
        TEAMS,
    );
    assert!(ingest(&store, &api, &config, &[]).status.success());
    let repo = crate::common::GitRepo::new();
    repo.write(b"refunds.txt", b"1\n");
    let plain = repo.commit_all_at(1_791_021_600, None, "Retry the card network");
    repo.write(b"refunds.txt", b"2\n");
    let fix = repo.commit_all_at(1_791_025_200, None, "PAY-3: refund to the original card");
    store.ingest(repo.path());
    let escaped = |incidents: &str| {
        let path = dir.path().join("incidents.csv");
        std::fs::write(
            &path,
            format!("id,service,opened_at,resolved_at,title,fix_sha\n{incidents}"),
        )
        .unwrap();
        store.run(&["import".as_ref(), "incidents".as_ref(), path.as_os_str()]);
        let mix = &in_october(&store, &config, &["planning"])["investment"][0];
        // PAY-1 (Story) and PAY-3 (Bug) resolved in October.
        assert_eq!(mix["defect_share"].as_f64(), Some(0.5));
        let escaped = mix["escaped_defects"].as_u64().unwrap();
        // The same by name, through the metric seam.
        let named = in_october(&store, &config, &["metric", "planning.defects.escaped"]);
        assert_eq!(named["value"].as_u64(), Some(escaped));
        escaped
    };
    let at = "2026-10-04T08:00:00Z,2026-10-04T09:00:00Z";
    assert_eq!(
        escaped(&format!(
            "I1,payments,{at},UTF-8 in refunds,{plain}\nI2,payments,{at},PAY-30 card errors,\n"
        )),
        0
    );
    assert_eq!(escaped(&format!("I3,payments,{at},Card errors,{fix}\n")), 1);
    let store = TestStore::sqlite();
    assert!(ingest(&store, &api, &config, &[]).status.success());
    let path = dir.path().join("incidents.csv");
    std::fs::write(
        &path,
        format!("id,service,opened_at,resolved_at,title\nI4,payments,{at},Refunds fail (PAY-3)\n"),
    )
    .unwrap();
    store.run(&["import".as_ref(), "incidents".as_ref(), path.as_os_str()]);
    let mix = &in_october(&store, &config, &["planning"])["investment"][0];
    assert_eq!(mix["escaped_defects"], 1);
}

/// With Jira synced, `debt capacity` counts resolved issues by type: PAY-1 (Story) is a
/// feature; PAY-3 is debt when `Task` is configured as a debt type, a fix as a Bug (the
/// default rules), and `--source pull-requests` still reads pull requests.
#[test]
fn debt_capacity_counts_resolved_issues_by_type_when_jira_is_synced() {
    let store = TestStore::sqlite();
    let config = format!(
        "{TEAMS}[debt]\ncapacity_target = 0.25\n[debt.classes.debt]\nissue_types = [\"Task\"]\n"
    );
    let Setup {
        api,
        config,
        dir: _dir,
        ..
    } = setup(Fake::default(), &config);
    assert!(ingest(&store, &api, &config, &[]).status.success());
    let capacity = in_october(&store, &config, &["debt", "capacity"]);
    assert_eq!(capacity["source"], "issues");
    assert_eq!(capacity["groups"][0]["group"], "payments");
    assert_eq!(
        capacity["groups"][0]["months"],
        json!([{"period": "2026-10", "feature": 1, "debt": 1, "fix": 0, "other": 0,
                "debt_share": 0.5, "versus_target": 0.25}])
    );
    let share = in_october(&store, &config, &["metric", "capacity.window.debt_share"]);
    assert_eq!(share["value"].as_f64(), Some(0.5));
    let prs = in_october(
        &store,
        &config,
        &["debt", "capacity", "--source", "pull-requests"],
    );
    assert_eq!(prs["source"], "pull_requests");

    let store = TestStore::sqlite();
    let Setup {
        api,
        config,
        dir: _dir,
        ..
    } = setup(
        Fake {
            bug: true,
            ..Fake::default()
        },
        "",
    );
    assert!(ingest(&store, &api, &config, &[]).status.success());
    let capacity = in_october(&store, &config, &["debt", "capacity"]);
    assert_eq!(capacity["groups"][0]["group"], "all");
    let month = &capacity["groups"][0]["months"][0];
    assert_eq!(
        (&month["feature"], &month["fix"], &month["debt"]),
        (&json!(1), &json!(1), &json!(0))
    );
}

/// Planning accuracy of the synced sprint, by hand: PAY 37 (10-02 00:00 to 10-04 00:00 UTC)
/// had PAY-1 and PAY-2 at its start; PAY-1 was done at its close, PAY-2 in progress (it moved
/// to PAY 38 a day later); PAY-3 was added mid-sprint and resolved after the close.
#[test]
fn planning_accuracy_of_the_synced_sprints_is_the_hand_computed_one() {
    for flavour in ["cloud", "data-center"] {
        let store = TestStore::sqlite();
        let Setup {
            state,
            api,
            config,
            dir: _dir,
            ..
        } = setup(Fake::default(), "");
        let extra: &[&str] = if flavour == "cloud" {
            &[]
        } else {
            &["--data-center"]
        };
        let out = ingest(&store, &api, &config, extra);
        assert!(
            out.status.success(),
            "{flavour}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = in_october(&store, &config, &["planning"]);
        assert_eq!(
            report["sprints"],
            json!([{"sprint": "PAY 37", "committed": 2, "done": 1, "accuracy": 0.5,
                    "added": 1, "carried_over": 1}]),
            "{flavour}"
        );
        assert_eq!(report["sprint_accuracy"].as_f64(), Some(0.5), "{flavour}");
        let named = in_october(&store, &config, &["metric", "planning.sprint_accuracy"]);
        assert_eq!(named["value"].as_f64(), Some(0.5), "{flavour}");
        let sprints = read_store(&store, async |s| {
            use leadline_core::store::prelude::*;
            s.tracked_sprints().await.unwrap()
        });
        assert_eq!(sprints.len(), 2, "{flavour}: each sprint once");
        let log = state.lock().unwrap().log.clone();
        assert!(
            !log.iter()
                .any(|l| l.starts_with("/rest/agile/1.0/board/92/")),
            "{flavour}: a kanban board has no sprints to ask for"
        );
    }
}

/// The flow page's planning card shows the API's figures and each closed sprint's accuracy.
#[test]
fn the_flow_page_shows_planning_from_the_api() {
    let Some(chromium) = crate::dashboard::chromium() else {
        return;
    };
    let store = TestStore::sqlite();
    // The dashboard opens on a store with history.
    let repo = crate::common::GitRepo::new();
    repo.write(b"f", b"1\n");
    repo.commit_all("first");
    store.ingest(repo.path());
    let Setup {
        api,
        config,
        dir: _dir,
        ..
    } = setup(Fake::default(), "");
    assert!(ingest(&store, &api, &config, &[]).status.success());
    let server = crate::server::Server::start(&store, Some(&config));
    let report = crate::dashboard::api(&server, "/api/v1/planning");
    assert_eq!(report["sprints"].as_array().map(Vec::len), Some(1));
    let dom = crate::dashboard::load(&chromium, &server, "/?page=flow");
    let value = |v: &Value| v.as_f64().map_or("null".to_owned(), |v| v.to_string());
    let figures = regex::Regex::new(r#"data-planning="([^"]+)" data-value="([^"]*)""#).unwrap();
    let got: Vec<(String, String)> = figures
        .captures_iter(&dom)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("resolved", &report["resolved"]),
        (
            "lead_time.median_seconds",
            &report["lead_time"]["median_seconds"],
        ),
        ("lead_time.p90_seconds", &report["lead_time"]["p90_seconds"]),
        ("defects.share", &report["defects"]["share"]),
        ("defects.escaped", &report["defects"]["escaped"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), value(v)))
    .collect();
    assert_eq!(got, expected, "{dom}");
    let sprints = regex::Regex::new(r#"data-sprint="([^"]+)" data-value="([^"]*)""#).unwrap();
    let shown: Vec<(String, String)> = sprints
        .captures_iter(&dom)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    assert_eq!(shown, [("PAY 37".to_owned(), "0.5".to_owned())], "{dom}");
}
