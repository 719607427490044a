//! `leadline ingest pagerduty|opsgenie` against fakes on loopback serving the vendors'
//! documented response shapes, awkward cases included: log entries newest first and over two
//! pages, a priority missing (urgency instead), a 429 with PagerDuty's `ratelimit-reset` and a
//! bare 429 from Opsgenie, string-typed millisecond offsets, pages smaller than asked for, a
//! second run that lists again from the oldest incident left open, and a sync killed half-way
//! that resumes without losing or duplicating anything.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::common::TestStore;

#[derive(Default)]
struct Fake {
    /// Requests seen, as path?query.
    log: Vec<String>,
    /// The Authorization header of every request.
    auth: Vec<String>,
    /// Answer the first listing with 429.
    limited: bool,
    /// A request whose path contains this hangs.
    hang: Option<String>,
    /// Incident 2 has been resolved since the first run.
    later: bool,
}

type Shared = Arc<Mutex<Fake>>;

fn start(state: Shared) -> String {
    crate::common::serve(axum::Router::new().fallback(answer).with_state(state))
}

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
}

/// PagerDuty's incident `n` (created on January n, 2026), as `GET /incidents` lists it.
fn pd_incident(n: u32, later: bool) -> Value {
    let status = match n {
        2 if later => "resolved",
        2 => "acknowledged",
        3 => "triggered",
        _ => "resolved",
    };
    json!({
        "id": format!("PD{n}"), "type": "incident", "incident_number": n,
        "title": format!("Checkout errors {n}"), "summary": format!("[#{n}] Checkout errors"),
        "created_at": format!("2026-01-0{n}T10:00:00Z"), "status": status,
        "incident_key": if n == 4 { Value::Null } else { json!("checkout-5xx") },
        "service": {"id": "PSVC", "type": "service_reference", "summary": "checkout"},
        "priority": if n == 4 { Value::Null } else { json!({"id": "PPRI", "type": "priority_reference", "summary": format!("P{n}")}) },
        "urgency": if n == 4 { "low" } else { "high" },
        "last_status_change_at": format!("2026-01-0{n}T12:00:00Z")
    })
}

/// Its log entries, newest first as PagerDuty lists them.
fn pd_log(n: u32, later: bool) -> Vec<Value> {
    let entry = |kind: &str, at: String| json!({"id": format!("R{n}{kind}"), "type": kind, "created_at": at});
    let day = format!("2026-01-0{n}");
    let mut entries = Vec::new();
    if n != 2 || later {
        entries.push(entry("resolve_log_entry", format!("{day}T11:30:00Z")));
    }
    // Re-acknowledged after an escalation: the first acknowledgement counts.
    entries.push(entry("acknowledge_log_entry", format!("{day}T10:20:00Z")));
    entries.push(entry("escalate_log_entry", format!("{day}T10:15:00Z")));
    entries.push(entry("acknowledge_log_entry", format!("{day}T10:05:00Z")));
    entries.push(entry("trigger_log_entry", format!("{day}T10:00:00Z")));
    entries
}

/// PagerDuty answers pages of two, whatever `limit` asks.
fn pagerduty(path: &str, query: &str, later: bool) -> Response {
    let offset: usize = param(query, "offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    let since = param(query, "since").unwrap_or("").replace("%3A", ":");
    let page = |all: Vec<Value>, key: &str| {
        let slice: Vec<Value> = all.iter().skip(offset).take(2).cloned().collect();
        let more = offset + 2 < all.len();
        json!({key: slice, "limit": 2, "offset": offset, "more": more, "total": null}).to_string()
    };
    if path == "/incidents" {
        let all: Vec<Value> = (1..=5)
            .map(|n| pd_incident(n, later))
            .filter(|i| i["created_at"].as_str().unwrap() >= since.as_str())
            .collect();
        return (StatusCode::OK, page(all, "incidents")).into_response();
    }
    if let Some(id) = path
        .strip_prefix("/incidents/PD")
        .and_then(|r| r.strip_suffix("/log_entries"))
    {
        let n: u32 = id.parse().unwrap();
        return (StatusCode::OK, page(pd_log(n, later), "log_entries")).into_response();
    }
    (
        StatusCode::NOT_FOUND,
        r#"{"error": {"message": "Not Found", "code": 2100}}"#,
    )
        .into_response()
}

/// Opsgenie's alerts (the documented list shape), created on February n, 2026.
fn og_alert(n: u32) -> Value {
    let mut a = json!({
        "id": format!("og-{n}"), "tinyId": n.to_string(), "alias": "search-lag",
        "message": format!("Search lag {n}"), "status": if n == 3 { "open" } else { "closed" },
        "acknowledged": n != 3, "isSeen": true, "tags": ["service:search"], "count": "2",
        "createdAt": format!("2026-02-0{n}T08:00:00.000Z"),
        "updatedAt": format!("2026-02-0{n}T09:00:00.000Z"),
        "source": "prometheus", "owner": "", "priority": "P2",
        // String-typed, as some integrations send them.
        "report": {"ackTime": "600000", "closeTime": 3_600_000}
    });
    if n == 2 {
        a["entity"] = "search-api".into();
    }
    a
}

fn opsgenie(query: &str, host: &str) -> Response {
    let offset: usize = param(query, "offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    let all: Vec<Value> = (1..=3).map(og_alert).collect();
    let slice: Vec<Value> = all.iter().skip(offset).take(2).cloned().collect();
    let next = (offset + 2 < all.len()).then(|| {
        format!(
            "http://{host}/v2/alerts?offset={}&limit=2&sort=createdAt&order=asc",
            offset + 2
        )
    });
    let body = json!({"data": slice, "paging": {"next": next, "first": "…", "last": "…"},
                      "took": 0.051, "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"});
    (StatusCode::OK, body.to_string()).into_response()
}

async fn answer(State(state): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let host = request.headers()["host"].to_str().unwrap().to_owned();
    let auth = request
        .headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let (hang, limited, later) = {
        let mut f = state.lock().unwrap();
        f.log.push(format!("{path}?{query}"));
        f.auth.push(auth);
        let hang = f.hang.as_ref().is_some_and(|h| path.contains(h.as_str()));
        let listing = path == "/incidents" || path == "/v2/alerts";
        let limited = listing && !f.limited;
        if limited {
            f.limited = true;
        }
        (hang, limited, f.later)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    if limited {
        return if path == "/incidents" {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("ratelimit-reset", "1")],
                r#"{"error": {"message": "Rate Limit Exceeded", "code": 2020}}"#,
            )
                .into_response()
        } else {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("x-ratelimit-state", "THROTTLED")],
                r#"{"message": "You are making too many requests!", "took": 0.0}"#,
            )
                .into_response()
        };
    }
    if path.starts_with("/v2/") {
        opsgenie(&query, &host)
    } else {
        pagerduty(&path, &query, later)
    }
}

fn ingest(store: &TestStore, vendor: &str, api: &str) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("leadline"));
    cmd.env_remove("LEADLINE_DB")
        .env("PAGERDUTY_TOKEN", "pd-token")
        .env("OPSGENIE_API_KEY", "og-key")
        .args([
            "--db",
            &store.db,
            "ingest",
            vendor,
            "--api-url",
            api,
            "--since",
            "2025-12-01",
        ]);
    cmd
}

fn run_ok(store: &TestStore, vendor: &str, api: &str) -> String {
    let out = ingest(store, vendor, api).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn stored(store: &TestStore) -> Vec<Value> {
    let rows: Value = serde_json::from_slice(&store.export("incidents", "json")).unwrap();
    rows.as_array().unwrap().clone()
}

fn by_id<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {rows:?}"))
}

#[test]
fn pagerduty_incidents_with_their_lifecycle_on_both_stores() {
    for store in TestStore::both() {
        let state: Shared = Arc::new(Mutex::new(Fake::default()));
        let api = start(state.clone());
        let log = run_ok(&store, "pagerduty", &api);
        assert!(log.contains("5 incidents"), "{log}");
        let rows = stored(&store);
        assert_eq!(rows.len(), 5, "{}", store.backend);
        assert!(rows.iter().all(|r| r["source"] == "alerts"));
        let one = by_id(&rows, "PD1");
        assert_eq!(
            one["acknowledged_at"], "2026-01-01T10:05:00+00:00",
            "the first acknowledgement"
        );
        assert_eq!(one["resolved_at"], "2026-01-01T11:30:00+00:00");
        assert_eq!(
            (one["severity"].as_str(), one["fingerprint"].as_str()),
            (Some("P1"), Some("checkout-5xx"))
        );
        let two = by_id(&rows, "PD2");
        assert_eq!(
            (two["acknowledged_at"].as_str(), two["resolved_at"].as_str()),
            (Some("2026-01-02T10:05:00+00:00"), None)
        );
        // Triggered and untouched: its log entries are not fetched.
        assert_eq!(by_id(&rows, "PD3")["acknowledged_at"], Value::Null);
        assert_eq!(
            by_id(&rows, "PD4")["severity"],
            "low",
            "urgency when there is no priority"
        );
        {
            let f = state.lock().unwrap();
            assert!(
                !f.log.iter().any(|l| l.starts_with("/incidents/PD3/")),
                "{:?}",
                f.log
            );
            assert!(f.auth.iter().all(|a| a == "Token token=pd-token"));
            // Log entries came over two pages.
            assert!(
                f.log
                    .iter()
                    .any(|l| l.starts_with("/incidents/PD1/log_entries") && l.contains("offset=2"))
            );
        }

        // The next run lists again from the oldest incident left open (PD2), and sees it
        // resolved.
        let before = {
            let mut f = state.lock().unwrap();
            f.later = true;
            f.log.len()
        };
        run_ok(&store, "pagerduty", &api);
        let listed = state.lock().unwrap().log[before..]
            .iter()
            .find(|l| l.starts_with("/incidents?"))
            .cloned()
            .unwrap();
        assert!(
            listed.contains("since=2026-01-02T10%3A00%3A00Z"),
            "{listed}"
        );
        let rows = stored(&store);
        assert_eq!(rows.len(), 5);
        assert_eq!(
            by_id(&rows, "PD2")["resolved_at"],
            "2026-01-02T11:30:00+00:00"
        );
        // The incidents report reads them: acknowledgements 5 min after opening.
        let report: Value = serde_json::from_slice(
            &store.run(
                &[
                    "incidents",
                    "--since",
                    "2026-01-01",
                    "--until",
                    "2026-02-01",
                    "--format",
                    "json",
                ]
                .map(std::ffi::OsStr::new),
            ),
        )
        .unwrap();
        assert_eq!(report["incidents"]["total"], 5);
        assert_eq!(report["time_to_acknowledge"]["median_seconds"], 300.0);
        assert_eq!(
            report["repeats"]["repeats"], 3,
            "PD2, PD3 and PD5 repeat checkout-5xx"
        );
    }
}

#[test]
fn a_killed_pagerduty_sync_resumes_without_losing_or_duplicating() {
    for store in TestStore::both() {
        let state: Shared = Arc::new(Mutex::new(Fake {
            limited: true,
            hang: Some("/incidents/PD4/".into()),
            ..Fake::default()
        }));
        let api = start(state.clone());
        let mut child = ingest(&store, "pagerduty", &api)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        crate::common::wait_for_request(
            |n| state.lock().unwrap().log.iter().any(|l| l.contains(n)),
            "/incidents/PD4/",
            &mut child,
        );
        child.kill().unwrap();
        child.wait().unwrap();
        // The first page (PD1, PD2) was stored with its cursor; the second was not.
        assert_eq!(stored(&store).len(), 2, "{}", store.backend);
        let before = {
            let mut f = state.lock().unwrap();
            f.hang = None;
            f.log.len()
        };
        let log = run_ok(&store, "pagerduty", &api);
        assert!(log.contains("continued"), "{log}");
        let listed = state.lock().unwrap().log[before..]
            .iter()
            .find(|l| l.starts_with("/incidents?"))
            .cloned()
            .unwrap();
        // From PD2, the oldest open incident of the stored page, not from the start.
        assert!(
            listed.contains("since=2026-01-02T10%3A00%3A00Z"),
            "{listed}"
        );
        let rows = stored(&store);
        let mut ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["PD1", "PD2", "PD3", "PD4", "PD5"]);
    }
}

#[test]
fn opsgenie_alerts_through_a_throttled_api() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(Fake::default()));
    let api = start(state.clone());
    let log = run_ok(&store, "opsgenie", &api);
    assert!(log.contains("3 incidents"), "{log}");
    let rows = stored(&store);
    let one = by_id(&rows, "og-1");
    assert_eq!(one["service"], "search", "from the service: tag");
    assert_eq!(one["acknowledged_at"], "2026-02-01T08:10:00+00:00");
    assert_eq!(one["resolved_at"], "2026-02-01T09:00:00+00:00");
    assert_eq!(
        (one["severity"].as_str(), one["fingerprint"].as_str()),
        (Some("P2"), Some("search-lag"))
    );
    assert_eq!(
        by_id(&rows, "og-2")["service"],
        "search-api",
        "the entity first"
    );
    assert_eq!(by_id(&rows, "og-3")["resolved_at"], Value::Null);
    let f = state.lock().unwrap();
    assert!(f.auth.iter().all(|a| a == "GenieKey og-key"));
    // Throttled once, then the listing went on over two pages.
    assert_eq!(
        f.log.iter().filter(|l| l.starts_with("/v2/alerts")).count(),
        3,
        "{:?}",
        f.log
    );
    assert!(f.log[1].contains("query=createdAt%3E%3D"), "{:?}", f.log);
    drop(f);
    // Without the key: a clear error, exit 2.
    let out = ingest(&store, "opsgenie", &api)
        .env_remove("OPSGENIE_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("set OPSGENIE_API_KEY"));
}

/// A `[[fleet.source]]` incident tool becomes an `incidents` job a worker runs as `ingest
/// pagerduty` would, storing the same incidents.
#[test]
fn a_fleet_incident_source_is_synced_by_a_worker() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(Fake::default()));
    let api = start(state.clone());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!(
            "[fleet]\n[[fleet.source]]\nincidents = \"pagerduty\"\napi_url = {api:?}\nsince = \"2025-12-01\"\n"
        ),
    )
    .unwrap();
    for args in [&["fleet", "sync"][..], &["worker", "--until-idle"][..]] {
        let out = Command::new(assert_cmd::cargo::cargo_bin("leadline"))
            .env_remove("LEADLINE_DB")
            .env("PAGERDUTY_TOKEN", "pd-token")
            .args(["--db", &store.db, "--config"])
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let reference = TestStore::sqlite();
    run_ok(&reference, "pagerduty", &api);
    assert_eq!(stored(&store), stored(&reference));
    assert_eq!(stored(&store).len(), 5);
}
