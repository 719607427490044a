//! `leadline import events` and `leadline product` end to end on both stores: the worked
//! example of docs/metrics.md ("Product metrics") from a CSV file, the same events in Segment's
//! and PostHog's shapes, no raw user id anywhere in the store's file, bad files refused with
//! nothing stored, and the API equal to the command line.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{TestStore, json_stdout};

/// (user, event, time) of the worked example; users are emails, which must never be stored.
const EXAMPLE: &[(&str, &str, &str)] = &[
    ("ann@example.com", "signed_up", "2024-05-01T01:00:00Z"),
    ("ann@example.com", "project_created", "2024-05-01T02:00:00Z"),
    ("ann@example.com", "report_viewed", "2024-05-02T00:00:00Z"),
    ("ann@example.com", "export_clicked", "2024-05-02T00:00:00Z"),
    ("bob@example.com", "signed_up", "2024-05-03T00:00:00Z"),
    ("bob@example.com", "project_created", "2024-05-04T00:00:00Z"),
    ("bob@example.com", "report_viewed", "2024-05-11T00:00:00Z"),
    (
        "bob@example.com",
        "export_scheduled",
        "2024-05-13T00:00:00Z",
    ),
    ("cid@example.com", "signed_up", "2024-05-06T00:00:00Z"),
    ("dee@example.com", "signed_up", "2024-05-26T00:00:00Z"),
    ("dee@example.com", "report_viewed", "2024-05-27T00:00:00Z"),
    ("eve@example.com", "signed_up", "2024-04-28T00:00:00Z"),
    ("eve@example.com", "export_clicked", "2024-04-30T00:00:00Z"),
    ("eve@example.com", "signed_up", "2024-05-05T00:00:00Z"),
    ("eve@example.com", "project_created", "2024-05-05T00:00:00Z"),
    ("eve@example.com", "report_viewed", "2024-05-05T00:00:00Z"),
    ("fay@example.com", "signed_up", "2024-05-11T00:00:00Z"),
    ("fay@example.com", "report_viewed", "2024-05-11T01:00:00Z"),
    ("fay@example.com", "project_created", "2024-05-18T00:00:00Z"),
];

pub(crate) const CONFIG: &str = r#"
[[product.activation]]
name = "first-report"
signup = "signed_up"
criteria = ["project_created", "report_viewed"]
within_days = 7
value = "report_viewed"

[[product.feature]]
name = "export"
events = ["export_clicked", "export_scheduled"]
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) fn csv() -> String {
    let mut text = String::from("time,user,event,properties\n");
    for (user, event, at) in EXAMPLE {
        text.push_str(&format!(
            "{at},{user},{event},\"{{\"\"plan\"\":\"\"pro\"\",\"\"email\"\":\"\"{user}\"\"}}\"\n"
        ));
    }
    text
}

fn segment() -> String {
    EXAMPLE
        .iter()
        .enumerate()
        .map(|(i, (user, event, at))| {
            json!({"type": "track", "event": event, "userId": user, "timestamp": at,
                   "messageId": format!("m-{i}"), "properties": {"plan": "pro"},
                   "context": {"library": {"name": "analytics.js"}}})
            .to_string()
                + "\n"
        })
        .collect::<String>()
        + &json!({"type": "identify", "userId": "ann@example.com", "traits": {"name": "Ann"},
                  "timestamp": "2024-05-01T01:00:00Z"})
        .to_string()
}

fn posthog() -> String {
    let items: Vec<Value> = EXAMPLE
        .iter()
        .enumerate()
        .map(|(i, (user, event, at))| {
            json!({"event": event, "distinct_id": user, "timestamp": at,
                   "uuid": format!("0190-{i}"), "properties": {"distinct_id": user, "$lib": "web"}})
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap()
}

fn product(store: &TestStore, config: &Path) -> Value {
    json_stdout(store.leadline().arg("--config").arg(config).args([
        "product",
        "--since",
        "2024-05-01",
        "--until",
        "2024-05-31",
        "--format",
        "json",
    ]))
}

/// Every byte of the store's files (SQLite) or of its dump (PostgreSQL) holds no raw id.
fn assert_no_raw_ids(store: &TestStore) {
    let mut bytes = Vec::new();
    if store.db.starts_with("postgres") {
        let out = std::process::Command::new("pg_dump")
            .arg(&store.db)
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        bytes = out.stdout;
    } else {
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(b) = std::fs::read(format!("{}{suffix}", store.db)) {
                bytes.extend(b);
            }
        }
    }
    assert!(!bytes.is_empty());
    let text = String::from_utf8_lossy(&bytes);
    for (user, ..) in EXAMPLE {
        let local = user.split('@').next().unwrap();
        assert!(!text.contains(user), "{user} is in the store");
        assert!(
            !text.contains(&format!("{local}@")),
            "{local}@ is in the store"
        );
    }
}

#[test]
fn the_worked_example_in_every_shape_gives_the_hand_computed_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "leadline.toml", CONFIG);
    let files = [
        write(dir.path(), "events.csv", &csv()),
        write(dir.path(), "segment.ndjson", &segment()),
        write(dir.path(), "posthog.json", &posthog()),
    ];
    let expected = json!({
        "since": "2024-05-01T00:00:00+00:00",
        "until": "2024-05-31T00:00:00+00:00",
        "activation": [{"name": "first-report", "cohort": 4, "activated": 2, "rate": 0.5}],
        "time_to_value": [{"name": "first-report", "users": 5, "reached": 4,
                           "p50_seconds": 82800.0, "p75_seconds": 86400.0}],
        "features": [{"name": "export", "users": 2, "active_users": 6, "usage": 2.0 / 6.0}],
        "stickiness": {"dau_avg": 0.4, "mau": 6, "ratio": 0.4 / 6.0},
    });
    for file in &files {
        for store in TestStore::both() {
            store.run(&[OsStr::new("import"), OsStr::new("events"), file.as_os_str()]);
            // Again: the same events, nothing new.
            let again = store
                .leadline()
                .args([OsStr::new("import"), OsStr::new("events"), file.as_os_str()])
                .output()
                .unwrap();
            assert!(
                String::from_utf8_lossy(&again.stderr).contains("(0 new)"),
                "{}",
                String::from_utf8_lossy(&again.stderr)
            );
            let report = product(&store, &config);
            assert_eq!(report, expected, "{} on {}", file.display(), store.backend);
            assert_no_raw_ids(&store);
        }
    }
}

#[test]
fn bad_files_are_refused_whole_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for store in TestStore::both() {
        let before = crate::server::row_counts(&store);
        for (name, text, expected) in [
            (
                "a.csv",
                "time,user,event\n2024-05-01T00:00:00Z,u1,a\nsoon,u2,b\n",
                "a.csv:3: time",
            ),
            (
                "b.ndjson",
                "{\"time\":\"2024-05-01T00:00:00Z\",\"user\":\"u1\",\"event\":\"a\"}\n{\"time\":\"2024-05-01T00:00:00Z\",\"user\":\"u1\"}\n",
                "b.ndjson:2: event: is required",
            ),
            (
                "c.csv",
                "time,user,event,colour\n2024-05-01T00:00:00Z,u1,a,red\n",
                "c.csv:1: colour: unknown field",
            ),
            ("d.json", "[{\"time\": ", "d.json:1"),
        ] {
            let file = write(dir.path(), name, text);
            let out = store
                .leadline()
                .args([OsStr::new("import"), OsStr::new("events"), file.as_os_str()])
                .output()
                .unwrap();
            assert!(!out.status.success());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(expected), "{name}: {stderr}");
            assert!(stderr.contains("nothing was imported"), "{stderr}");
        }
        assert_eq!(crate::server::row_counts(&store), before);
    }
}

#[test]
fn the_api_takes_events_and_answers_as_the_command_line_does() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "leadline.toml", CONFIG);
    for store in TestStore::both() {
        let token = store.token("write");
        let server = crate::server::Server::start(&store, Some(&config));
        let batch: Vec<Value> = segment()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // A bad item refuses the batch; nothing stored.
        let mut bad = batch.clone();
        bad[3]["timestamp"] = json!("tomorrow-ish");
        let r = server
            .post("/api/v1/events")
            .bearer_auth(&token)
            .json(&json!({ "batch": bad }))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let r = server
            .post("/api/v1/events")
            .bearer_auth(&token)
            .json(&json!({ "batch": batch }))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let imported: Value = r.json().unwrap();
        assert_eq!(
            (imported["rows"].as_u64(), imported["new"].as_u64()),
            (Some(19), Some(19))
        );
        let served: Value = server
            .get("/api/v1/product?since=2024-05-01&until=2024-05-31")
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(served, product(&store, &config));
        // Catalog names read the definition by label, as the report has it.
        let rate = json_stdout(store.leadline().arg("--config").arg(&config).args([
            "metric",
            "product.activation.rate{name=first-report}",
            "--since",
            "2024-05-01",
            "--until",
            "2024-05-31",
            "--format",
            "json",
        ]));
        assert_eq!(rate["value"], 0.5);
        server.stop();
        assert_no_raw_ids(&store);
    }
}

/// Samples of outside metrics read by name: the latest in the window, label sets added up
/// unless the name's labels pick some; a name never imported is a usage error naming those
/// that were.
#[test]
fn samples_are_read_by_name_with_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "samples.csv",
        "name,time,value,labels\n\
         revenue,2024-05-01T00:00:00Z,100,region=eu\n\
         revenue,2024-05-01T00:00:00Z,50,region=us\n\
         revenue,2024-05-20T00:00:00Z,120,region=eu\n\
         revenue,2024-05-20T00:00:00Z,70,region=us\n\
         nps,2024-05-15T00:00:00Z,41,\n",
    );
    for store in TestStore::both() {
        store.run(&[
            OsStr::new("import"),
            OsStr::new("samples"),
            file.as_os_str(),
        ]);
        let read = |name: &str, extra: &[&str]| {
            json_stdout(
                store
                    .leadline()
                    .args(["metric", name, "--format", "json"])
                    .args(extra),
            )
        };
        let window = ["--since", "2024-05-01", "--until", "2024-06-01"];
        assert_eq!(read("samples.revenue", &window)["value"], 190.0);
        assert_eq!(read("samples.revenue{region=eu}", &window)["value"], 120.0);
        let early = ["--since", "2024-05-01", "--until", "2024-05-10"];
        assert_eq!(read("samples.revenue{region=us}", &early)["value"], 50.0);
        assert_eq!(read("samples.nps", &window)["value"], 41.0);
        let weekly = read(
            "samples.revenue",
            &[
                "--since",
                "2024-05-13",
                "--until",
                "2024-05-27",
                "--by",
                "week",
            ],
        );
        let values: Vec<&Value> = weekly["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["value"])
            .collect();
        assert_eq!(values, [&Value::Null, &json!(190.0)]);
        let out = store
            .leadline()
            .args(["metric", "samples.arr"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("nps, revenue"), "{stderr}");
    }
}
