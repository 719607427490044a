//! `leadline ingest github` against a fake GitHub Enterprise on loopback: real-shaped objects
//! (from GitHub's webhook examples), several pages, a 502, a secondary rate limit with
//! retry-after, a 304 on the next run, and a sync killed half-way that resumes from the page
//! after the last one stored, without losing or duplicating anything. Both stores.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::TestStore;
use crate::server::{github_fixture, row_counts};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const PREFIX: &str = "/api/v3";
const REPO: &str = "octo-org/hello";
const PAGE: usize = 2;
const AUTHORS: [&str; 5] = ["ann-gh", "bob-gh", "cat-gh", "dan-gh", "eve-gh"];

#[derive(Default)]
struct Forge {
    pulls: Vec<Value>,
    runs: Vec<Value>,
    /// Requests seen, as path?query.
    log: Vec<String>,
    /// Answer these (path?query, nth time) with a status (and retry-after, for 403).
    faults: Vec<(String, usize, u16)>,
    /// A request whose path contains this hangs (the sync is killed meanwhile).
    hang: Option<String>,
    pulls_etag: String,
}

type Shared = Arc<Mutex<Forge>>;

fn template(path: &str, key: &str) -> Value {
    serde_json::from_slice::<Value>(&github_fixture(path)).unwrap()[key].clone()
}

fn forge() -> Forge {
    let pr = template("github/pull_request/closed.payload.json", "pull_request");
    // Five pull requests, updated on days 9, 8, …, 5 (the listing is newest-updated first).
    let pulls = (1..=5)
        .rev()
        .map(|n| {
            let mut p = pr.clone();
            p["number"] = n.into();
            p["title"] = format!("change {n}").into();
            p["user"]["login"] = AUTHORS[n as usize - 1].into();
            p["created_at"] = format!("2024-03-0{n}T10:00:00Z").into();
            p["updated_at"] = format!("2024-03-0{}T10:00:00Z", n + 4).into();
            p["merged_at"] = format!("2024-03-0{}T10:00:00Z", n + 4).into();
            p["closed_at"] = p["merged_at"].clone();
            p
        })
        .collect();
    let run = template("github/workflow_run/completed.payload.json", "workflow_run");
    let runs = [
        (101, 1, "success"),
        (102, 2, "success"),
        (103, 1, "failure"),
    ]
    .into_iter()
    .map(|(id, attempts, conclusion)| {
        let mut r = run.clone();
        r["id"] = id.into();
        r["run_attempt"] = attempts.into();
        r["conclusion"] = conclusion.into();
        let day = id - 100;
        r["created_at"] = format!("2024-03-0{day}T08:00:00Z").into();
        // Started a minute after its creation, finished five minutes later; run 102's listed
        // attempt 2 was re-run two days later (a re-run keeps the run's `created_at`).
        let (started, finished) = match attempts {
            1 => (format!("0{day}T08:01"), format!("0{day}T08:06")),
            _ => (format!("0{}T08:00", day + 2), format!("0{}T08:05", day + 2)),
        };
        r["run_started_at"] = format!("2024-03-{started}:00Z").into();
        r["updated_at"] = format!("2024-03-{finished}:00Z").into();
        r
    })
    .collect();
    Forge {
        pulls,
        runs,
        pulls_etag: "\"v1\"".into(),
        ..Forge::default()
    }
}

fn page_of(items: &[Value], page: usize) -> (Vec<Value>, bool) {
    let start = (page - 1) * PAGE;
    let slice = items.iter().skip(start).take(PAGE).cloned().collect();
    (slice, start + PAGE < items.len())
}

fn query_page(query: &str) -> usize {
    query
        .split('&')
        .find_map(|p| p.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
}

async fn answer(State(state): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let headers: HeaderMap = request.headers().clone();
    let target = format!("{path}?{query}");
    let hang = {
        let mut f = state.lock().unwrap();
        f.log.push(target.clone());
        let seen = f.log.iter().filter(|l| **l == target).count();
        if let Some(&(_, _, status)) = f
            .faults
            .iter()
            .find(|(t, nth, _)| *t == target && *nth == seen)
        {
            return match status {
                403 => (
                    StatusCode::FORBIDDEN,
                    [("retry-after", "1")],
                    "{\"message\": \"You have exceeded a secondary rate limit\"}",
                )
                    .into_response(),
                s => (
                    StatusCode::from_u16(s).unwrap(),
                    "{\"message\": \"bad gateway\"}",
                )
                    .into_response(),
            };
        }
        f.hang.as_ref().is_some_and(|h| target.contains(h.as_str()))
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    let f = state.lock().unwrap();
    // The organisation: hello, an archived repository and one the fleet's filter leaves out.
    if path == format!("{PREFIX}/orgs/octo-org/repos") {
        let repos = json!([
            {"full_name": REPO, "archived": false},
            {"full_name": "octo-org/old-hello", "archived": true},
            {"full_name": "octo-org/website", "archived": false},
        ]);
        return axum::Json(repos).into_response();
    }
    let Some(rest) = path.strip_prefix(&format!("{PREFIX}/repos/{REPO}")) else {
        return (StatusCode::NOT_FOUND, "{\"message\": \"Not Found\"}").into_response();
    };
    let base = format!(
        "http://{}{PREFIX}/repos/{REPO}",
        headers["host"].to_str().unwrap()
    );
    let page = query_page(&query);
    let link = |more: bool, what: &str| {
        let next = format!(
            "<{base}{what}{}page={}>; rel=\"next\"",
            if what.contains('?') { "&" } else { "?" },
            page + 1
        );
        if more { next } else { String::new() }
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let (body, link_header, etag) = match segments.as_slice() {
        ["pulls"] => {
            if page == 1
                && headers.get("if-none-match").and_then(|v| v.to_str().ok())
                    == Some(f.pulls_etag.as_str())
            {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            let (items, more) = page_of(&f.pulls, page);
            (
                json!(items),
                link(
                    more,
                    "/pulls?state=all&sort=updated&direction=desc&per_page=100",
                ),
                Some(f.pulls_etag.clone()),
            )
        }
        ["pulls", n] => {
            let n: i64 = n.parse().unwrap();
            let pr = f.pulls.iter().find(|p| p["number"] == n).cloned().unwrap();
            (pr, String::new(), None)
        }
        ["pulls", n, "commits"] => {
            let n: u32 = n.parse().unwrap();
            // Two commits before the pull request, one after its review (rework).
            (
                json!([
                    {"sha": "a".repeat(40), "commit": {"author": {"date": format!("2024-02-2{n}T09:00:00Z")}}},
                    {"sha": "b".repeat(40), "commit": {"author": {"date": format!("2024-02-2{}T09:00:00Z", n + 1)}}},
                    {"sha": "c".repeat(40), "commit": {"author": {"date": format!("2024-03-0{}T09:00:00Z", n + 3)}}}
                ]),
                String::new(),
                None,
            )
        }
        ["pulls", n, "files"] => {
            let file = if n.parse::<i64>().unwrap() <= 3 {
                "src/lib.rs"
            } else {
                "README.md"
            };
            (
                json!([{"filename": file, "status": "modified", "additions": 1, "deletions": 1}]),
                String::new(),
                None,
            )
        }
        ["issues", n, "events"] => {
            // GitHub's issue events (docs: "Issue event types"), oldest first. #2, #3 and #4
            // were opened as drafts and marked ready the next day at 16:00; #4 went back to
            // draft and was marked ready again, which does not move its first readiness.
            let n: u32 = n.parse().unwrap();
            let event = |kind: &str, at: String| {
                json!({"id": 1, "node_id": "MDE", "url": "", "actor": {"login": "ann-gh"},
                       "event": kind, "commit_id": null, "commit_url": null,
                       "created_at": at, "performed_via_github_app": null})
            };
            let mut events = vec![event("labeled", format!("2024-03-0{n}T10:05:00Z"))];
            if (2..=4).contains(&n) {
                events.push(event(
                    "ready_for_review",
                    format!("2024-03-0{}T16:00:00Z", n + 1),
                ));
            }
            if n == 4 {
                events.push(event("convert_to_draft", "2024-03-05T17:00:00Z".into()));
                events.push(event("ready_for_review", "2024-03-05T18:00:00Z".into()));
            }
            (json!(events), String::new(), None)
        }
        ["contents", ".github", "CODEOWNERS"] => {
            // base64 of "*.md @octo-org/docs\n/src/ @octo-org/core\n"
            let text = "*.md @octo-org/docs\n/src/ @octo-org/core\n";
            (
                json!({"type": "file", "encoding": "base64", "content": base64_lines(text)}),
                String::new(),
                None,
            )
        }
        ["pulls", n, "comments"] => {
            let review: i64 = format!("{n}00").parse().unwrap();
            (
                json!([
                    {"id": 1, "pull_request_review_id": review, "body": "nit"},
                    {"id": 2, "pull_request_review_id": review, "body": "why?"},
                    {"id": 3, "pull_request_review_id": null, "body": "a comment outside reviews"}
                ]),
                String::new(),
                None,
            )
        }
        ["pulls", n, "reviews"] => {
            let mut review = template(
                "github/pull_request_review/submitted.payload.json",
                "review",
            );
            review["id"] = format!("{n}00").parse::<i64>().unwrap().into();
            review["state"] = "APPROVED".into();
            let n: u32 = n.parse().unwrap();
            review["submitted_at"] = format!("2024-03-0{}T10:00:00Z", n + 2).into();
            (json!([review]), String::new(), None)
        }
        ["actions", "runs"] => {
            // GitHub's `created=>=DAY` filter (URL-encoded), as the real API applies it.
            let since = query
                .split('&')
                .find_map(|p| p.strip_prefix("created=%3E%3D"))
                .map(str::to_owned);
            let listed: Vec<Value> = f
                .runs
                .iter()
                .filter(|r| {
                    since
                        .as_deref()
                        .is_none_or(|day| r["created_at"].as_str().unwrap_or("")[..10] >= *day)
                })
                .cloned()
                .collect();
            let (items, more) = page_of(&listed, page);
            (
                json!({"total_count": listed.len(), "workflow_runs": items}),
                link(more, "/actions/runs?per_page=100"),
                None,
            )
        }
        ["deployments"] => {
            let d = template("github/deployment_status/payload.json", "deployment");
            let items: Vec<Value> = [(2, "2024-03-08T12:00:00Z"), (1, "2024-03-07T12:00:00Z")]
                .into_iter()
                .map(|(id, at)| {
                    let mut one = d.clone();
                    one["id"] = id.into();
                    one["created_at"] = at.into();
                    one
                })
                .collect();
            (json!(items), String::new(), None)
        }
        ["deployments", id, "statuses"] => {
            let status = template("github/deployment_status/payload.json", "deployment_status");
            // Newest first; GitHub marks a deployment inactive once a newer one of its
            // environment succeeds (by default), after its own success.
            let statuses: Vec<Value> = if *id == "2" {
                ["inactive", "success", "in_progress"]
                    .iter()
                    .map(|state| {
                        let mut s = status.clone();
                        s["state"] = (*state).into();
                        s
                    })
                    .collect()
            } else {
                vec![]
            };
            (json!(statuses), String::new(), None)
        }
        ["actions", "runs", id, "attempts", n] => {
            let id: i64 = id.parse().unwrap();
            let mut run = f.runs.iter().find(|r| r["id"] == id).cloned().unwrap();
            run["run_attempt"] = n.parse::<i64>().unwrap().into();
            run["conclusion"] = "failure".into();
            // An earlier attempt ran when the run was created: 08:01 to 08:04.
            let day = &run["created_at"].as_str().unwrap()[..10].to_owned();
            run["run_started_at"] = format!("{day}T08:01:00Z").into();
            run["updated_at"] = format!("{day}T08:04:00Z").into();
            (run, String::new(), None)
        }
        _ => return (StatusCode::NOT_FOUND, "{\"message\": \"Not Found\"}").into_response(),
    };
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    if !link_header.is_empty() {
        response
            .headers_mut()
            .insert("link", link_header.parse().unwrap());
    }
    if let Some(etag) = etag {
        response.headers_mut().insert("etag", etag.parse().unwrap());
    }
    response
}

/// Base64 as GitHub's contents API sends it: wrapped in lines.
fn base64_lines(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if out.len() % 61 == 60 {
            out.push('\n');
        }
    }
    out
}

/// The fake forge on a loopback port, served from a thread of its own.
fn start_forge(state: Shared) -> String {
    format!(
        "{}{PREFIX}",
        crate::common::serve(axum::Router::new().fallback(answer).with_state(state))
    )
}

fn sync(store: &TestStore, api: &str) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("leadline"));
    cmd.env_remove("LEADLINE_DB")
        .env("GITHUB_TOKEN", "ghp_test")
        .args([
            "--db",
            &store.db,
            "ingest",
            "github",
            REPO,
            "--api-url",
            api,
        ]);
    cmd
}

fn run_ok(store: &TestStore, api: &str) -> String {
    let out = sync(store, api).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn counts(store: &TestStore) -> HashMap<String, i64> {
    row_counts(store).into_iter().collect()
}

#[test]
fn pages_faults_rate_limits_and_etags() {
    for store in TestStore::both() {
        let state: Shared = Arc::new(Mutex::new(forge()));
        let api = start_forge(state.clone());
        {
            let mut f = state.lock().unwrap();
            let page2 = format!(
                "{PREFIX}/repos/{REPO}/pulls?state=all&sort=updated&direction=desc&per_page=100&page=2"
            );
            f.faults.push((page2, 1, 502));
            f.faults.push((
                format!("{PREFIX}/repos/{REPO}/pulls/3/reviews?per_page=100"),
                1,
                403,
            ));
        }
        let started = Instant::now();
        let log = run_ok(&store, &api);
        assert!(log.contains("502") && log.contains("rate limited"), "{log}");
        // The secondary rate limit asked for a second's wait, and got it.
        assert!(started.elapsed() >= Duration::from_secs(1));
        let c = counts(&store);
        assert_eq!(c["pull_requests"], 5, "{}", store.backend);
        assert_eq!(c["reviews"], 5);
        // Three runs, one of them with two attempts.
        assert_eq!(c["builds"], 4);
        // Deployments with their latest status: 2 succeeded, 1 has no status yet (pending).
        let deployments = String::from_utf8(store.export("deployments", "csv")).unwrap();
        let rows: Vec<&str> = deployments.lines().skip(1).collect();
        assert_eq!(rows.len(), 2, "{deployments}");
        assert!(
            rows.iter()
                .any(|r| r.starts_with("github,2,hello,production,") && r.contains(",success,")),
            "{deployments}"
        );
        assert!(
            rows.iter()
                .any(|r| r.starts_with("github,1,") && r.contains(",pending,")),
            "{deployments}"
        );

        // Nothing changed: page 1 answers 304 and nothing else of the pulls is asked.
        let before = state.lock().unwrap().log.len();
        run_ok(&store, &api);
        let second: Vec<String> = state.lock().unwrap().log[before..].to_vec();
        let pulls: Vec<&String> = second.iter().filter(|l| l.contains("/pulls")).collect();
        assert_eq!(pulls.len(), 1, "{second:?}");
        assert_eq!(counts(&store), c);

        // One pull request updated: only it is fetched again.
        {
            let mut f = state.lock().unwrap();
            f.pulls[3]["updated_at"] = "2024-03-20T10:00:00Z".into();
            let updated = f.pulls.remove(3);
            f.pulls.insert(0, updated);
            f.pulls_etag = "\"v2\"".into();
        }
        let before = state.lock().unwrap().log.len();
        run_ok(&store, &api);
        let third: Vec<String> = state.lock().unwrap().log[before..].to_vec();
        let details: Vec<&String> = third
            .iter()
            .filter(|l| {
                l.contains("/pulls/")
                    && !l.contains("/reviews")
                    && !l.contains("/commits")
                    && !l.contains("/comments")
                    && !l.contains("/files")
            })
            .collect();
        assert_eq!(details.len(), 1, "{third:?}");
        assert_eq!(counts(&store), c);
    }
}

#[test]
fn a_killed_sync_resumes_without_losing_or_duplicating() {
    for store in TestStore::both() {
        let state: Shared = Arc::new(Mutex::new(forge()));
        let api = start_forge(state.clone());
        // Hang on the reviews of the fifth pull request listed (page 3): pages 1 and 2 are stored.
        state.lock().unwrap().hang = Some("/pulls/1/reviews".into());
        let mut child = sync(&store, &api)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        crate::common::wait_for_request(
            |n| state.lock().unwrap().log.iter().any(|l| l.contains(n)),
            "/pulls/1/reviews",
            &mut child,
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(counts(&store)["pull_requests"], 4, "{}", store.backend);

        state.lock().unwrap().hang = None;
        let before = state.lock().unwrap().log.len();
        let log = run_ok(&store, &api);
        assert!(log.contains("resumed"), "{log}");
        let resumed: Vec<String> = state.lock().unwrap().log[before..].to_vec();
        // The pull request listing began at page 3, not page 1.
        let listings: Vec<&String> = resumed.iter().filter(|l| l.contains("/pulls?")).collect();
        assert!(
            listings.len() == 1 && listings[0].ends_with("page=3"),
            "{resumed:?}"
        );
        let c = counts(&store);
        assert_eq!(
            (c["pull_requests"], c["reviews"], c["builds"]),
            (5, 5, 4),
            "{}",
            store.backend
        );
    }
}

#[test]
fn flow_of_synced_pull_requests_matches_an_independent_calculation() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(forge()));
    let api = start_forge(state.clone());
    run_ok(&store, &api);
    let window = ["--since", "2024-03-01", "--until", "2024-04-01"];
    let out = store.run(
        &["flow", "--format", "json"]
            .iter()
            .chain(window.iter())
            .map(|a| a.as_ref())
            .collect::<Vec<_>>(),
    );
    let report: Value = serde_json::from_slice(&out).unwrap();
    // Every figure, worked out from what the fake serves.
    let ms = |t: &str| t.parse::<jiff::Timestamp>().unwrap().as_second() as f64;
    let d = |count: usize, median: Option<f64>, p90: Option<f64>| json!({"count": count, "median_seconds": median, "p90_seconds": p90});
    // PR n: first commit 02-2n 09:00, opened 03-0n 10:00, reviewed 03-0(n+2) 10:00, merged
    // 03-0(n+4) 10:00 (February 2024 has 29 days).
    let cycle = ms("2024-03-05T10:00:00Z") - ms("2024-02-21T09:00:00Z");
    let coding = ms("2024-03-01T10:00:00Z") - ms("2024-02-21T09:00:00Z");
    // Pickup: #1 and #5 wait from their opening (2 days); the drafts #2-#4 from when they were
    // first marked ready (03-0(n+1) 16:00) to the review (03-0(n+2) 10:00): 18 h. Sorted
    // 18 h ×3, 48 h ×2: median (rank 3) 18 h, p90 (rank 5) 48 h.
    let expected = json!({
        "builds": {
            // Runs 101 (passed), 102 (attempt 1 failed, the re-run passed: flaky), 103 (failed).
            "attempts": 4, "failed": 2, "failure_rate": 0.5,
            "runs": 3, "flaky": 1, "flaky_rate": 1.0 / 3.0,
            // 300 s each, 180 s for 102's first attempt: median (rank 2) and p90 300 s.
            "duration": d(4, Some(300.0), Some(300.0)),
            // First attempts only: a re-run keeps its run's `created_at`.
            "queue": d(3, Some(60.0), Some(60.0)),
        },
        "pull_requests": {
            "merged": 5, "bot_pull_requests": 0,
            "cycle_time": d(5, Some(cycle), Some(cycle)),
            "coding": d(5, Some(coding), Some(coding)),
            "pickup": d(5, Some(18.0 * 3600.0), Some(48.0 * 3600.0)),
            "review": d(5, Some(172_800.0), Some(172_800.0)),
            // The fixture's merge commit is not the deployed one.
            "deploy": d(0, None, None),
            "time_to_merge": d(5, Some(345_600.0), Some(345_600.0)),
            // The fixture's size: 1 line added, 1 deleted, 1 file.
            "size_lines_median": 2.0, "size_files_median": 1.0, "large_share": 0.0,
            // One review each, by the same someone else, with two line comments (a third
            // comment belongs to no review); one of three commits after it.
            "merged_without_review": 0.0, "reviews_per_pull_request": 1.0,
            "comments_per_review": 2.0, "reviewers": 1, "review_load_top_fifth": 1.0,
            "rework_share": 1.0, "rework_commits_per_pull_request": 1.0,
        },
    });
    let groups = report["groups"].as_array().unwrap();
    let all = &groups[0];
    assert_eq!(all["group"], "all");
    assert_eq!(all["builds"], expected["builds"]);
    assert_eq!(all["pull_requests"], expected["pull_requests"]);
    // No output names a person.
    for format in ["json", "table", "csv"] {
        let mut args = vec!["flow", "--explain", "--format", format];
        args.extend(window);
        let text =
            String::from_utf8(store.run(&args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()))
                .unwrap();
        for login in AUTHORS.iter().chain(["Codertocat"].iter()) {
            assert!(!text.contains(login), "{format} names {login}");
        }
    }
    // With a minimum group of six people, five authors are too few to report at all.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(&config, "[privacy]\nmin_group_size = 6\n").unwrap();
    let mut args: Vec<&std::ffi::OsStr> = vec!["--config".as_ref(), config.as_os_str()];
    args.extend(
        ["flow", "--format", "json"]
            .iter()
            .map(|a| a.as_ref() as &std::ffi::OsStr),
    );
    args.extend(window.iter().map(|a| a.as_ref() as &std::ffi::OsStr));
    let hidden: Value = serde_json::from_slice(&store.run(&args)).unwrap();
    assert_eq!(hidden["groups"], json!([]));
}

#[test]
fn teams_group_flow_and_a_team_of_two_folds_into_other() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(forge()));
    let api = start_forge(state.clone());
    run_ok(&store, &api);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        r#"
[[teams]]
name = "core"
members = ["ann-gh", "BOB-gh", "cat-gh"]

[[teams]]
name = "duo"
members = ["dan-gh", "eve-gh"]
repositories = ["octo-org/hello"]
"#,
    )
    .unwrap();
    let flow = |extra: &[&str]| -> Value {
        let mut args: Vec<&std::ffi::OsStr> = vec!["--config".as_ref(), config.as_os_str()];
        for a in [
            "flow",
            "--format",
            "json",
            "--since",
            "2024-03-01",
            "--until",
            "2024-04-01",
        ]
        .iter()
        .chain(extra)
        {
            args.push(a.as_ref());
        }
        serde_json::from_slice(&store.run(&args)).unwrap()
    };
    let by_team = flow(&[]);
    let groups: Vec<(&str, u64)> = by_team["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap(),
                g["pull_requests"]["merged"].as_u64().unwrap(),
            )
        })
        .collect();
    // core: three authors' pull requests. duo (two people) folds into other, which with two
    // authors is too small to show; all five still count in the whole.
    assert_eq!(groups, [("all", 5), ("core", 3)]);
    let by_repo = flow(&["--group", "repository"]);
    assert_eq!(by_repo["groups"][1]["group"], "github:octo-org/hello");
}

#[test]
fn codeowners_teams_and_a_team_of_two_folds() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(forge()));
    let api = start_forge(state.clone());
    run_ok(&store, &api);
    let out = store.run(
        &[
            "flow",
            "--format",
            "json",
            "--since",
            "2024-03-01",
            "--until",
            "2024-04-01",
        ]
        .iter()
        .map(|a| a.as_ref())
        .collect::<Vec<_>>(),
    );
    let report: Value = serde_json::from_slice(&out).unwrap();
    let groups: Vec<(&str, u64)> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap(),
                g["pull_requests"]["merged"].as_u64().unwrap(),
            )
        })
        .collect();
    // Without [[teams]], CODEOWNERS decides: PRs 1-3 change src/ (core: three authors); PRs 4-5
    // change README.md (docs: two authors), folded into other, which is too small to show.
    assert_eq!(groups, [("all", 5), ("core", 3)]);
}

/// `debt capacity` from synced pull requests: labels first, then the title's type; the
/// classes are chosen here, so the counts are known without leadline's help.
#[test]
fn capacity_of_synced_pull_requests_by_labels_and_titles() {
    let store = TestStore::sqlite();
    let mut forge = forge();
    // (number, title, labels) -> expected class
    let shapes = [
        (5, "change 5", vec!["bug"]),          // fix (label)
        (4, "feat: search", vec![]),           // feature (type)
        (3, "feat: cache", vec!["tech-debt"]), // debt (the label wins)
        (2, "refactor(api): split", vec![]),   // debt (type)
        (1, "change 1", vec![]),               // other
    ];
    for p in &mut forge.pulls {
        let n = p["number"].as_i64().unwrap();
        let (_, title, labels) = shapes.iter().find(|s| s.0 == n).unwrap();
        p["title"] = (*title).into();
        p["labels"] = labels.iter().map(|l| json!({ "name": l })).collect();
    }
    let state: Shared = Arc::new(Mutex::new(forge));
    let api = start_forge(state);
    run_ok(&store, &api);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(&config, "[debt]\ncapacity_target = 0.2\n").unwrap();
    let out = store.run(&[
        "--config".as_ref(),
        config.as_os_str(),
        "debt".as_ref(),
        "capacity".as_ref(),
        "--group".as_ref(),
        "repository".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--since".as_ref(),
        "2024-03-01".as_ref(),
        "--until".as_ref(),
        "2024-04-01".as_ref(),
    ]);
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["source"], "pull_requests");
    assert_eq!(report["groups"].as_array().unwrap().len(), 1, "{report}");
    let march = &report["groups"][0]["months"][0];
    assert_eq!(march["period"], "2024-03");
    let counts: Vec<u64> = ["feature", "debt", "fix", "other"]
        .iter()
        .map(|k| march[*k].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 1, 1], "{report}");
    assert_eq!(march["debt_share"], 0.4);
    assert!((march["versus_target"].as_f64().unwrap() - 0.2).abs() < 1e-12);
}

/// A run re-run days after newer runs were synced keeps its `created_at`: later syncs re-list
/// runs over `[github] rerun_lookback_days` and store the new attempt.
#[test]
fn a_rerun_of_an_older_run_is_synced() {
    let state: Shared = Arc::new(Mutex::new(forge()));
    let api = start_forge(state.clone());
    let store = TestStore::sqlite();
    run_ok(&store, &api);
    let before = counts(&store)["builds"];
    {
        let mut f = state.lock().unwrap();
        let run = f.runs.iter_mut().find(|r| r["id"] == 101).unwrap();
        run["run_attempt"] = 2.into();
        run["conclusion"] = "success".into();
    }
    run_ok(&store, &api);
    assert_eq!(counts(&store)["builds"], before + 1, "attempt 2 of run 101");
}

/// A `[[fleet.source]]` organisation is listed through the connector; each repository it finds
/// (archived and filtered-out ones aside) becomes a `forge` job a worker syncs as `ingest github`
/// would.
#[test]
fn a_fleet_source_organisation_is_discovered_and_synced_by_a_worker() {
    for store in TestStore::both() {
        let state: Shared = Arc::new(Mutex::new(forge()));
        let api = start_forge(state.clone());
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("leadline.toml");
        std::fs::write(
            &config,
            format!(
                "[fleet]\nmirror_dir = {:?}\n[[fleet.source]]\ngithub = \"octo-org\"\nfilter = \"hello\"\napi_url = {api:?}\n",
                dir.path().join("mirrors")
            ),
        )
        .unwrap();
        let leadline = |args: &[&str]| {
            let out = Command::new(assert_cmd::cargo::cargo_bin("leadline"))
                .env_remove("LEADLINE_DB")
                .env("GITHUB_TOKEN", "ghp_test")
                .args(["--db", &store.db, "--config"])
                .arg(&config)
                .args(args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "{args:?}: {stderr}");
            (String::from_utf8(out.stdout).unwrap(), stderr)
        };
        let (_, armed) = leadline(&["fleet", "sync"]);
        assert!(armed.contains("armed 1 jobs"), "{armed}");
        leadline(&["worker", "--until-idle"]);
        let (status, _) = leadline(&["fleet", "status", "--format", "json"]);
        let status: Value = serde_json::from_str(&status).unwrap();
        assert_eq!(status["targets"].as_array().unwrap().len(), 1, "{status}");
        let t = &status["targets"][0];
        assert_eq!(
            (t["name"].as_str(), t["kind"].as_str(), t["state"].as_str()),
            (Some("github:octo-org/hello"), Some("forge"), Some("done"))
        );
        // What the worker stored is what `ingest github` stores from the same fake.
        let c = counts(&store);
        assert_eq!(
            (c["pull_requests"], c["reviews"], c["builds"]),
            (5, 5, 4),
            "{}",
            store.backend
        );
    }
}
