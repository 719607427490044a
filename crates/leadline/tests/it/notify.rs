//! Notifications that arrive: SLO alerts decided into the outbox and delivered to a webhook
//! (HMAC-signed) and a Slack-compatible target on loopback; a target down for a while gets
//! every alert once it is back, a delivery killed half-way is sent again after the restart, and
//! an unchanged alert is never sent twice.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::common::TestStore;

#[derive(Default)]
struct Target {
    /// (path, body, signature header) of every request received.
    seen: Vec<(String, String, Option<String>)>,
    down: bool,
    /// The next request hangs (the sender is killed meanwhile).
    hang_once: bool,
}

type Shared = Arc<Mutex<Target>>;

async fn receive(State(state): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let signature = request
        .headers()
        .get("x-leadline-signature")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap();
    let (down, hang) = {
        let mut t = state.lock().unwrap();
        t.seen
            .push((path, String::from_utf8(body.to_vec()).unwrap(), signature));
        let hang = std::mem::take(&mut t.hang_once);
        (t.down, hang)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    if down {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    (StatusCode::OK, "ok").into_response()
}

fn start(state: Shared) -> String {
    crate::common::serve(axum::Router::new().fallback(receive).with_state(state))
}

/// The worked example of docs/metrics.md ("SLOs") imported, with two targets on `url`.
fn setup(store: &TestStore, url: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let example = crate::slo::Example::new();
    store.run(&[
        "import".as_ref(),
        "sli".as_ref(),
        example.path("sli.csv").as_os_str(),
    ]);
    let config = example.path("leadline.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{url}/hook\"\nsecret = \"s3cret\"\nretry_secs = 1\n\n\
         [[notify]]\nname = \"chat\"\nkind = \"slack\"\nurl = \"{url}/slack\"\nretry_secs = 1\n"
    ));
    std::fs::write(&config, text).unwrap();
    (example.dir, config)
}

fn notify(store: &TestStore, config: &std::path::Path, at: &str) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("leadline"));
    cmd.env_remove("LEADLINE_DB")
        .args(["--db", &store.db, "--config"])
        .arg(config)
        .args(["notify", "run", "--at", at]);
    cmd
}

fn run(store: &TestStore, config: &std::path::Path, at: &str) -> String {
    let out = notify(store, config, at).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// (key, state) of every webhook body received, each checked against its signature.
fn received(state: &Shared) -> Vec<(String, String)> {
    let t = state.lock().unwrap();
    let mut out: Vec<(String, String)> = t
        .seen
        .iter()
        .filter(|(path, ..)| path == "/hook")
        .map(|(_, body, signature)| {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
            mac.update(body.as_bytes());
            let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            assert_eq!(signature.as_deref(), Some(expected.as_str()));
            let v: Value = serde_json::from_str(body).unwrap();
            (
                v["key"].as_str().unwrap().to_owned(),
                v["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn a_target_down_for_a_while_gets_every_alert_once_it_is_back() {
    for store in TestStore::both() {
        let state: Shared = Arc::new(Mutex::new(Target {
            down: true,
            ..Target::default()
        }));
        let url = start(state.clone());
        let (_dir, config) = setup(&store, &url);
        // At 10:30 both alerts fire (page from 10:28, ticket from 10:20): four deliveries fail.
        assert_eq!(
            run(&store, &config, "2026-03-02T10:30:00Z").trim(),
            "2 decided, 0 delivered, 4 to retry"
        );
        // Still firing a minute later: nothing new is decided.
        assert!(run(&store, &config, "2026-03-02T10:31:00Z").starts_with("0 decided"));
        state.lock().unwrap().down = false;
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(
            run(&store, &config, "2026-03-02T10:32:00Z").trim(),
            "0 decided, 4 delivered, 0 to retry"
        );
        assert_eq!(
            received(&state),
            [
                (
                    "slo/checkout-availability/page".to_owned(),
                    "firing".to_owned()
                ),
                (
                    "slo/checkout-availability/ticket".to_owned(),
                    "firing".to_owned()
                )
            ]
        );
        // The Slack target got text.
        let slack: Vec<Value> = state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|(p, ..)| p == "/slack")
            .map(|(_, b, _)| serde_json::from_str(b).unwrap())
            .collect();
        assert!(slack.iter().all(|v| {
            v["text"]
                .as_str()
                .unwrap()
                .starts_with("FIRING SLO checkout-availability")
        }));
        // At 11:10 the page has ended (at 11:03): one resolution, delivered at once.
        assert_eq!(
            run(&store, &config, "2026-03-02T11:10:00Z").trim(),
            "1 decided, 2 delivered, 0 to retry"
        );
        assert!(received(&state).contains(&(
            "slo/checkout-availability/page".to_owned(),
            "resolved".to_owned()
        )));
        let listed: Value = serde_json::from_slice(&store.run(&[
            "--config".as_ref(),
            config.as_os_str(),
            "notify".as_ref(),
            "list".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
        ]))
        .unwrap();
        let rows = listed.as_array().unwrap();
        assert_eq!(rows.len(), 6, "{listed}");
        assert!(
            rows.iter().all(|r| !r["delivered_at"].is_null()),
            "{listed}"
        );
    }
}

#[test]
fn a_delivery_killed_half_way_is_sent_again_after_the_restart() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(Target {
        hang_once: true,
        ..Target::default()
    }));
    let url = start(state.clone());
    let (_dir, config) = setup(&store, &url);
    let mut child = notify(&store, &config, "2026-03-02T10:30:00Z")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while state.lock().unwrap().seen.is_empty() {
        assert!(Instant::now() < deadline, "nothing was sent");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The restart sends what was decided and not recorded as delivered.
    let out = run(&store, &config, "2026-03-02T10:31:00Z");
    assert_eq!(out.trim(), "0 decided, 4 delivered, 0 to retry");
    assert_eq!(received(&state).len(), 2);
    // Nothing is left to send, and nothing is sent twice in a row for the same state.
    assert!(run(&store, &config, "2026-03-02T10:32:00Z").starts_with("0 decided, 0 delivered"));
}

/// Overdue postmortem actions and debt items past their deadline are notified too, and resolved
/// once done.
#[test]
fn overdue_actions_and_debt_breaches_are_notified_and_resolved() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(Target::default()));
    let url = start(state.clone());
    let (dir, config) = setup(&store, &url);
    let pms = dir.path().join("postmortems");
    std::fs::create_dir(&pms).unwrap();
    let incidents = dir.path().join("incidents.csv");
    std::fs::write(
        &incidents,
        "id,service,opened_at\nINC-1,checkout,2026-03-01T00:00:00Z\n",
    )
    .unwrap();
    store.run(&[
        "import".as_ref(),
        "incidents".as_ref(),
        incidents.as_os_str(),
    ]);
    let pm = pms.join("PM-1.md");
    let open = "---\nid: PM-1\nincidents: [INC-1]\nstatus: reviewed\nreviewed: 2026-03-01\nactions:\n  - {id: A1, title: Page on queue depth, owner: payments, priority: P1, due: 2026-03-10}\n---\n";
    std::fs::write(&pm, open).unwrap();
    let register = dir.path().join("debt.toml");
    std::fs::write(
        &register,
        "[[item]]\nid = \"D-1\"\ntitle = \"Patch TLS\"\narea = [\"tls/\"]\ncategory = \"accidental\"\nkind = \"security\"\nowner = \"web\"\ncost_hours = 8\ninterest_hours_per_month = 2\ncreated = 2026-01-01\n",
    )
    .unwrap();
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = format!(
        "[debt]\nfile = {:?}\n\n[postmortems]\ndir = {:?}\n\n{text}",
        register.display().to_string(),
        pms.display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    // 2026-03-02 09:00: the SLO is fine; A1 is past due (03-10 is later: not yet); D-1, a
    // security item of 2026-01-01, is past its 30 days.
    assert!(run(&store, &config, "2026-03-02T09:00:00Z").starts_with("1 decided"));
    assert_eq!(
        received(&state),
        [("debt/D-1".to_owned(), "firing".to_owned())]
    );
    // On 03-12 the action is overdue too.
    assert!(run(&store, &config, "2026-03-12T09:00:00Z").starts_with("1 decided"));
    assert!(received(&state).contains(&("action/PM-1/A1".to_owned(), "firing".to_owned())));
    // Done in its file: resolved.
    std::fs::write(
        &pm,
        open.replace(
            "due: 2026-03-10}",
            "due: 2026-03-10, state: done, done: 2026-03-12}",
        ),
    )
    .unwrap();
    assert!(run(&store, &config, "2026-03-12T10:00:00Z").starts_with("1 decided"));
    assert!(received(&state).contains(&("action/PM-1/A1".to_owned(), "resolved".to_owned())));
}

/// `notify test` sends a sample to every target at once.
#[test]
fn a_test_notification_reaches_every_target() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(Target::default()));
    let url = start(state.clone());
    let (_dir, config) = setup(&store, &url);
    let out = store
        .leadline()
        .arg("--config")
        .arg(&config)
        .args(["notify", "test"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2 delivered, 0 to retry"
    );
    let seen = state.lock().unwrap().seen.clone();
    let mut paths: Vec<&str> = seen.iter().map(|(p, ..)| p.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/hook", "/slack"]);
    assert!(received(&state)[0].0.starts_with("test/"));
    // Without targets, a clear usage error.
    let bare = tempfile::tempdir().unwrap();
    std::fs::write(bare.path().join("leadline.toml"), "").unwrap();
    store
        .leadline()
        .arg("--config")
        .arg(bare.path().join("leadline.toml"))
        .args(["notify", "test"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no [[notify]] targets"));
}

/// A new anomaly proposal goes out once through the outbox, and its dismissal resolves it;
/// weeks older than four are history, not news.
#[test]
fn new_anomaly_proposals_are_sent_once_and_dismissals_resolve_them() {
    let store = TestStore::sqlite();
    let state: Shared = Arc::new(Mutex::new(Target::default()));
    let url = start(state.clone());
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments) = crate::anomalies::history(dir.path());
    store.ingest(repo.path());
    store.run(&[
        "import".as_ref(),
        "deployments".as_ref(),
        deployments.as_os_str(),
    ]);
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!(
            "[[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{url}/hook\"\nsecret = \"s3cret\"\n"
        ),
    )
    .unwrap();
    // Wednesday after 2024-W26: its spike is news; the shift of W20 is six weeks old.
    assert!(run(&store, &config, "2024-07-03T09:00:00Z").starts_with("1 decided"));
    let list: Value = crate::common::json_stdout(store.leadline().args([
        "anomalies",
        "--format",
        "json",
        "--since",
        "2024-06-24",
    ]));
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        received(&state),
        [(format!("anomaly/{id}"), "firing".to_owned())]
    );
    let body = state.lock().unwrap().seen[0].1.clone();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["anomaly"]["week"], "2024-W26");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("dora.deployment_frequency.deployments")
    );
    // Unchanged: nothing new.
    assert!(run(&store, &config, "2024-07-03T10:00:00Z").starts_with("0 decided"));
    store
        .leadline()
        .args(["anomalies", "dismiss", &id, "--reason", "expected"])
        .assert()
        .success();
    assert!(run(&store, &config, "2024-07-03T11:00:00Z").starts_with("1 decided"));
    assert!(received(&state).contains(&(format!("anomaly/{id}"), "resolved".to_owned())));
}
