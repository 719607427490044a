//! `leadline ingest gitlab` against a fake self-managed GitLab on loopback: merge requests over
//! several pages with their commits and notes (approvals and comments), pipelines, a 429 with
//! retry-after, and a second run that asks only for what was updated since.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::common::TestStore;
use crate::server::row_counts;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const PROJECT: &str = "/api/v4/projects/grp%2Fsub%2Fapp";

#[derive(Default)]
struct Fake {
    log: Vec<String>,
    limited: bool,
}

type Shared = Arc<Mutex<Fake>>;

fn merge_request(iid: i64) -> Value {
    json!({
        "id": 1000 + iid, "iid": iid, "project_id": 7, "title": format!("MR {iid}"),
        "state": if iid == 3 { "opened" } else { "merged" },
        "created_at": format!("2024-05-0{iid}T08:00:00.000Z"),
        "updated_at": format!("2024-05-1{iid}T08:00:00.000Z"),
        "merged_at": if iid == 3 { Value::Null } else { json!(format!("2024-05-1{iid}T08:00:00.000Z")) },
        "closed_at": null, "target_branch": "main", "source_branch": format!("APP-{iid}-f"),
        "description": "Part of OPS-9; UTF-8 only.",
        "author": {"id": iid, "username": format!("dev{iid}"), "name": format!("Dev {iid}")},
        "labels": ["backend"], "draft": false, "work_in_progress": false,
        "merge_commit_sha": format!("{:040x}", iid), "squash_commit_sha": null,
        "sha": format!("{:040x}", 100 + iid), "changes_count": "4", "user_notes_count": 2
    })
}

async fn answer(State(state): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let host = request.headers()["host"].to_str().unwrap().to_owned();
    {
        let mut f = state.lock().unwrap();
        f.log.push(format!("{path}?{query}"));
        if path.ends_with("/pipelines") && !f.limited {
            f.limited = true;
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "{}").into_response();
        }
    }
    if path == "/api/v4/groups/grp/projects" {
        let projects = json!([
            {"id": 7, "path_with_namespace": "grp/sub/app"},
            {"id": 8, "path_with_namespace": "grp/tools"}
        ]);
        return (StatusCode::OK, projects.to_string()).into_response();
    }
    let Some(rest) = path.strip_prefix(PROJECT) else {
        return (
            StatusCode::NOT_FOUND,
            "{\"message\": \"404 Project Not Found\"}",
        )
            .into_response();
    };
    let page: usize = query
        .split('&')
        .find_map(|p| p.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let (body, next) = match segments.as_slice() {
        ["merge_requests"] => {
            let items: Vec<Value> = [3, 2, 1].iter().map(|&i| merge_request(i)).collect();
            let slice: Vec<Value> = items.iter().skip((page - 1) * 2).take(2).cloned().collect();
            let next = (page * 2 < items.len())
                .then(|| format!("http://{host}{path}?{query}&page={}", page + 1));
            (json!(slice), next)
        }
        ["repository", "files", "CODEOWNERS"] => (
            // "[Backend]\n*.rb @grp/backend\n" in base64
            json!({"file_name": "CODEOWNERS", "encoding": "base64", "content": "W0JhY2tlbmRdCioucmIgQGdycC9iYWNrZW5kCg=="}),
            None,
        ),
        ["merge_requests", _, "diffs"] => (
            // As the diffs API gives them: hunks without file headers; a line whose text
            // starts with "++" is still one added line.
            json!([{"old_path": "app/models/user.rb", "new_path": "app/models/user.rb",
                    "diff": "@@ -1,2 +1,3 @@\n keep\n-old\n+new\n+++counter\n"}]),
            None,
        ),
        ["merge_requests", iid, "commits"] => (
            json!([
                {"id": "c2", "authored_date": format!("2024-04-2{iid}T10:00:00.000+02:00"), "created_at": "2024-04-29T00:00:00Z", "committed_date": "2024-05-10T09:00:00.000Z"},
                {"id": "c1", "authored_date": format!("2024-04-2{iid}T09:00:00.000+02:00"), "created_at": "2024-04-29T00:00:00Z", "committed_date": "2024-05-10T09:00:00.000Z"}
            ]),
            None,
        ),
        ["merge_requests", iid, "notes"] => {
            let iid: i64 = iid.parse().unwrap();
            // !1 and !2 were opened as drafts: GitLab 14+ writes "marked this merge request as
            // **ready**", older versions "unmarked as a **Work In Progress**" (!1 both ways,
            // the earlier counts).
            let ready = match iid {
                1 => json!([
                    {"id": 91, "body": "unmarked as a **Work In Progress**", "system": true, "created_at": "2024-05-07T09:00:00.000Z", "author": {"username": "dev1"}},
                    {"id": 92, "body": "marked this merge request as **draft**", "system": true, "created_at": "2024-05-07T10:00:00.000Z", "author": {"username": "dev1"}},
                    {"id": 93, "body": "marked this merge request as **ready**", "system": true, "created_at": "2024-05-08T10:00:00.000Z", "author": {"username": "dev1"}}
                ]),
                2 => json!([
                    {"id": 94, "body": "marked this merge request as **ready**", "system": true, "created_at": "2024-05-08T09:00:00.000Z", "author": {"username": "dev2"}}
                ]),
                _ => json!([]),
            };
            let mut notes = json!([
                {"id": iid * 10, "body": "approved this merge request", "system": true, "created_at": "2024-05-09T12:00:00.000Z", "author": {"username": "reviewer"}},
                {"id": iid * 10 + 1, "body": "Nice work", "system": false, "created_at": "2024-05-09T11:00:00.000Z", "author": {"username": "other"}},
                {"id": iid * 10 + 2, "body": "added 1 commit", "system": true, "created_at": "2024-05-09T10:00:00.000Z", "author": {"username": "reviewer"}},
                {"id": iid * 10 + 3, "body": "thanks", "system": false, "created_at": "2024-05-09T13:00:00.000Z", "author": {"username": format!("dev{iid}")}},
                // Pushed after the first review (11:00): one commit. The commits' own dates
                // (a rebase rewrote both to after the review) must not count.
                {"id": iid * 10 + 4, "body": "added 1 commit\n\n<ul><li>c3 - fix</li></ul>", "system": true, "created_at": "2024-05-09T14:00:00.000Z", "author": {"username": format!("dev{iid}")}}
            ]);
            notes
                .as_array_mut()
                .unwrap()
                .extend(ready.as_array().unwrap().iter().cloned());
            (notes, None)
        }
        ["deployments"] => (
            json!([
                // As GitLab documents the entity: no `finished_at` of its own; the deploy job
                // (`deployable`) says when it finished, and `updated_at` moves later.
                {"id": 41, "iid": 2, "ref": "main", "sha": format!("{:040x}", 2), "status": "success",
                 "created_at": "2024-05-12T09:00:00.000Z", "updated_at": "2024-05-12T09:05:00.000Z",
                 "deployable": {"id": 7, "status": "success", "started_at": "2024-05-12T09:01:00.000Z",
                                "finished_at": "2024-05-12T09:04:00.000Z"},
                 "environment": {"id": 1, "name": "production"}},
                {"id": 40, "iid": 1, "ref": "main", "sha": format!("{:040x}", 1), "status": "running",
                 "created_at": "2024-05-11T09:00:00.000Z", "updated_at": "2024-05-11T09:01:00.000Z",
                 "deployable": {"id": 6, "status": "running", "finished_at": null},
                 "environment": {"id": 1, "name": "production"}}
            ]),
            None,
        ),
        ["pipelines"] => (
            json!([{"id": 55, "status": "success", "updated_at": "2024-05-10T08:10:00Z"},
                                  {"id": 54, "status": "failed", "updated_at": "2024-05-09T08:10:00Z"}]),
            None,
        ),
        ["pipelines", id] => {
            let id: i64 = id.parse().unwrap();
            // 55 passed after its failed `test` job was retried at 08:20.
            let finished = if id == 55 {
                "2024-05-09T08:25:00Z"
            } else {
                "2024-05-09T08:06:00Z"
            };
            (
                json!({"id": id, "sha": format!("{:040x}", id), "ref": "main",
                    "status": if id == 55 { "success" } else { "failed" },
                    "created_at": "2024-05-09T08:00:00Z", "started_at": "2024-05-09T08:01:00Z",
                    "finished_at": finished, "updated_at": finished,
                    "name": null}),
                None,
            )
        }
        ["pipelines", id, "jobs"] => {
            // As GitLab (13.5 on) lists them: newest first, retried jobs only when asked.
            let job = |id: i64, name: &str, status: &str, times: [&str; 3], retried: bool| {
                json!({"id": id, "name": name, "stage": "test", "status": status,
                       "allow_failure": false, "created_at": times[0], "started_at": times[1],
                       "finished_at": times[2], "retried": retried, "duration": 60.0,
                       "queued_duration": 1.5})
            };
            let jobs = if *id == "55" {
                vec![
                    job(
                        553,
                        "test",
                        "success",
                        [
                            "2024-05-09T08:20:00Z",
                            "2024-05-09T08:21:00Z",
                            "2024-05-09T08:25:00Z",
                        ],
                        false,
                    ),
                    job(
                        552,
                        "test",
                        "failed",
                        [
                            "2024-05-09T08:00:00Z",
                            "2024-05-09T08:02:00Z",
                            "2024-05-09T08:04:00Z",
                        ],
                        true,
                    ),
                    job(
                        551,
                        "build",
                        "success",
                        [
                            "2024-05-09T08:00:00Z",
                            "2024-05-09T08:01:00Z",
                            "2024-05-09T08:02:00Z",
                        ],
                        false,
                    ),
                ]
            } else {
                vec![job(
                    541,
                    "test",
                    "failed",
                    [
                        "2024-05-09T08:00:00Z",
                        "2024-05-09T08:01:00Z",
                        "2024-05-09T08:06:00Z",
                    ],
                    false,
                )]
            };
            let with_retried = query.contains("include_retried=true");
            let listed: Vec<Value> = jobs
                .into_iter()
                .filter(|j| with_retried || j["retried"] == false)
                .collect();
            (json!(listed), None)
        }
        _ => return (StatusCode::NOT_FOUND, "{}").into_response(),
    };
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    if let Some(next) = next {
        response
            .headers_mut()
            .insert("link", format!("<{next}>; rel=\"next\"").parse().unwrap());
    }
    response
}

fn start(state: Shared) -> String {
    format!(
        "{}/api/v4",
        crate::common::serve(axum::Router::new().fallback(answer).with_state(state))
    )
}

#[test]
fn merge_requests_notes_and_pipelines_are_synced_incrementally() {
    for store in TestStore::both() {
        let state: Shared = Arc::default();
        let api = start(state.clone());
        let sync = || {
            let out = Command::new(assert_cmd::cargo::cargo_bin("leadline"))
                .env_remove("LEADLINE_DB")
                .env("GITLAB_TOKEN", "glpat-test")
                .args([
                    "--db",
                    &store.db,
                    "ingest",
                    "gitlab",
                    "grp/sub/app",
                    "--api-url",
                    &api,
                ])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "{stderr}");
            stderr
        };
        let log = sync();
        assert!(log.contains("rate limited"), "{log}");
        let counts: HashMap<String, i64> = row_counts(&store).into_iter().collect();
        // Three merge requests; per merge request one approval and one comment by others (the
        // author's own note and a system note that is no approval do not count).
        assert_eq!(
            (counts["pull_requests"], counts["reviews"], counts["builds"]),
            (3, 6, 3),
            "{}",
            store.backend
        );
        // Issue keys of the description and the source branch are kept, nothing else of them;
        // keys of any project (`UTF-8` too: planning keeps only the tracked projects').
        let keys: Vec<Vec<String>> = crate::server::read_store(&store, async |s| {
            use leadline_core::store::prelude::*;
            s.pull_requests().await.unwrap()
        })
        .into_iter()
        .map(|p| p.issue_keys)
        .collect();
        assert_eq!(
            keys,
            (1..=3)
                .map(|i| vec!["OPS-9".to_owned(), "UTF-8".to_owned(), format!("APP-{i}")])
                .collect::<Vec<_>>()
        );
        // Pipeline 55's retried job made it two attempts: a failure, then a success.
        let mut attempts: Vec<(String, i64, String)> =
            crate::server::read_store(&store, async |s| {
                use leadline_core::store::prelude::*;
                s.builds().await.unwrap()
            })
            .into_iter()
            .map(|(_, b)| (b.id, b.attempt, b.status))
            .collect();
        attempts.sort();
        assert_eq!(
            attempts,
            [
                ("pipeline-54".to_owned(), 1, "failure".to_owned()),
                ("pipeline-55".to_owned(), 1, "failure".to_owned()),
                ("pipeline-55/2".to_owned(), 2, "success".to_owned()),
            ]
        );
        let deployments = String::from_utf8(store.export("deployments", "csv")).unwrap();
        assert!(
            deployments.contains("gitlab,41,app,production,")
                && deployments.contains(",success,app"),
            "{deployments}"
        );
        // Finished when its deploy job finished, not when the entity was last updated.
        assert!(
            deployments.contains(",2024-05-12T09:04:00+00:00,success,app"),
            "{deployments}"
        );
        assert!(
            deployments.contains("gitlab,40,app,production,"),
            "{deployments}"
        );
        assert!(deployments.contains(",in_progress,app"), "{deployments}");
        // CODEOWNERS (section headers skipped) and each merge request's files were stored: the
        // flow groups by the owning team.
        let flow: Value = serde_json::from_slice(&store.run(&[
            "flow".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--since".as_ref(),
            "2024-05-01".as_ref(),
            "--until".as_ref(),
            "2024-06-01".as_ref(),
        ]))
        .unwrap();
        let groups: Vec<&str> = flow["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["group"].as_str().unwrap())
            .collect();
        // Two merged merge requests by two people: too few to report any group at all.
        assert!(groups.is_empty(), "{groups:?}");
        let counts: HashMap<String, i64> = row_counts(&store).into_iter().collect();
        assert_eq!(
            (counts["pull_request_files"], counts["code_owners"]),
            (3, 1)
        );
        // Size from the diffs fetched: 2 lines added, 1 deleted, 1 file, for each.
        let sizes: Vec<(Option<i64>, Option<i64>, Option<i64>)> = stored_pull_requests(&store)
            .iter()
            .map(|p| (p.additions, p.deletions, p.changed_files))
            .collect();
        assert!(
            !sizes.is_empty() && sizes.iter().all(|s| *s == (Some(2), Some(1), Some(1))),
            "{sizes:?}"
        );
        // Rework: the one commit pushed after the first review, whatever commit dates say.
        let rework: Vec<Option<i64>> = stored_pull_requests(&store)
            .iter()
            .map(|p| p.rework_commits)
            .collect();
        assert!(rework.iter().all(|r| *r == Some(1)), "{rework:?}");
        // Ready for review: the earliest "ready" note of each draft.
        let ms = |t: &str| t.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let ready: Vec<(i64, Option<i64>)> = stored_pull_requests(&store)
            .iter()
            .map(|p| (p.number, p.ready_at))
            .collect();
        assert_eq!(
            ready,
            [
                (1, Some(ms("2024-05-07T09:00:00Z"))),
                (2, Some(ms("2024-05-08T09:00:00Z"))),
                (3, None)
            ]
        );
        // The flow of what was served, with a group floor of one so two people show.
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("leadline.toml");
        std::fs::write(&config, "[privacy]\nmin_group_size = 1\n").unwrap();
        let flow: Value = serde_json::from_slice(
            &store.run(
                &[
                    "--config",
                    config.to_str().unwrap(),
                    "flow",
                    "--format",
                    "json",
                    "--since",
                    "2024-05-01",
                    "--until",
                    "2024-06-01",
                ]
                .map(std::ffi::OsStr::new),
            ),
        )
        .unwrap();
        let all = &flow["groups"][0];
        assert_eq!(all["group"], "all");
        // Every figure, worked out from what the fake serves (!3 is open: not counted).
        let d = |count: usize, median: Option<f64>, p90: Option<f64>| json!({"count": count, "median_seconds": median, "p90_seconds": p90});
        let expected = json!({
            "builds": {
                // Attempts 54 (failed), 55/1 (its `test` failed), 55/2 (the retry passed).
                "attempts": 3, "failed": 2, "failure_rate": 2.0 / 3.0,
                "runs": 2, "flaky": 1, "flaky_rate": 0.5,
                // 300 s (54), 180 s (55 until its test failed), 240 s (the retry to the
                // pipeline's end): the 15 min before the retry are no one's build time.
                "duration": d(3, Some(240.0), Some(300.0)),
                // Every attempt, the retry included (requested 08:20), waited 60 s.
                "queue": d(3, Some(60.0), Some(60.0)),
            },
            "pull_requests": {
                "merged": 2, "bot_pull_requests": 0,
                // First commits 04-21/04-22 07:00Z, opened 05-01/05-02 08:00, merged
                // 05-11/05-12 08:00.
                "cycle_time": d(2, Some(1_731_600.0), Some(1_731_600.0)),
                "coding": d(2, Some(867_600.0), Some(867_600.0)),
                // From readiness (05-07 09:00, 05-08 09:00) to the first review by someone
                // else (05-09 11:00): 50 h and 26 h.
                "pickup": d(2, Some(93_600.0), Some(180_000.0)),
                "review": d(2, Some(162_000.0), Some(248_400.0)),
                // !2's merge commit was deployed by deployment 41, whose job finished 09:04.
                "deploy": d(1, Some(3_840.0), Some(3_840.0)),
                "time_to_merge": d(2, Some(864_000.0), Some(864_000.0)),
                "size_lines_median": 3.0, "size_files_median": 1.0, "large_share": 0.0,
                "merged_without_review": 0.0,
                // An approval and a comment by two others on each; GitLab counts no line
                // comments per review.
                "reviews_per_pull_request": 2.0, "comments_per_review": null,
                "reviewers": 2, "review_load_top_fifth": 0.5,
                "rework_share": 1.0, "rework_commits_per_pull_request": 1.0,
            },
        });
        assert_eq!(all["builds"], expected["builds"]);
        assert_eq!(all["pull_requests"], expected["pull_requests"]);
        let first_run = state.lock().unwrap().log.len();
        sync();
        let second: Vec<String> = state.lock().unwrap().log[first_run..].to_vec();
        // The second run asks only for what was updated after the newest update seen.
        assert!(
            second
                .iter()
                .find(|l| l.contains("/merge_requests?"))
                .unwrap()
                .contains("updated_after=2024-05-13T08:00:00.000Z"),
            "{second:?}"
        );
        let after: HashMap<String, i64> = row_counts(&store).into_iter().collect();
        assert_eq!(after["pull_requests"], 3);
        assert_eq!(after["reviews"], 6);
    }
}

#[test]
fn a_groups_projects_are_listed_and_filtered() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::default();
    let api = start(state);
    let list = |extra: &[&str]| {
        let out = Command::new(assert_cmd::cargo::cargo_bin("leadline"))
            .env_remove("LEADLINE_DB")
            .args([
                "--db",
                &store.db,
                "ingest",
                "gitlab",
                "grp",
                "--group",
                "--list",
                "--api-url",
                &api,
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(list(&[]), "grp/sub/app\ngrp/tools\n");
    assert_eq!(list(&["--filter", "TOOL"]), "grp/tools\n");
}

fn stored_pull_requests(store: &TestStore) -> Vec<leadline_core::events::PullRequest> {
    crate::server::read_store(store, async |s| {
        use leadline_core::store::prelude::*;
        s.pull_requests().await.unwrap()
    })
}
