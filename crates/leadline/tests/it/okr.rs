//! `leadline okr` end to end on both stores: key results bound to DORA metrics equal
//! `leadline metric` over the period, progress and projection follow from them as
//! docs/metrics.md defines, check-ins are kept with their history, stale metrics are marked,
//! and `okr check` refuses bad files and unknown metric names with their line and field.

use std::ffi::OsStr;

use serde_json::Value;

use crate::common::{TestStore, json_stdout};

pub(crate) const OKRS: &str = r#"[[objective]]
id = "O1"
title = "Ship more, faster"
owner = "core"
period = "2024-Q2"

[[objective.key_result]]
id = "O1.KR1"
title = "Lead time under half an hour"
metric = "dora.lead_time.median_seconds{service=api}"
target = 1800

[[objective.key_result]]
id = "O1.KR2"
title = "300 deployments"
metric = "dora.deployment_frequency.deployments{service=api}"
target = 300
baseline = 100
commit = 200

[[objective.key_result]]
id = "O1.KR3"
metric = "samples.revenue"
target = 1000
baseline = 0
"#;

fn metric(store: &TestStore, name: &str, extra: &[&str]) -> Value {
    json_stdout(
        store
            .leadline()
            .args(["metric", name, "--format", "json"])
            .args(extra),
    )
}

#[test]
fn key_results_read_their_metrics_over_the_period() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments) = crate::anomalies::history(dir.path());
    let okrs = dir.path().join("okrs.toml");
    std::fs::write(&okrs, OKRS).unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!("[okrs]\nfile = {:?}\n", okrs.display().to_string()),
    )
    .unwrap();
    let samples = dir.path().join("samples.csv");
    std::fs::write(
        &samples,
        "name,time,value\nrevenue,2024-04-10T00:00:00Z,400\nrevenue,2024-05-20T00:00:00Z,700\n",
    )
    .unwrap();
    for store in TestStore::both() {
        store.ingest(repo.path());
        for (what, file) in [("deployments", &deployments), ("samples", &samples)] {
            store.run(&[OsStr::new("import"), OsStr::new(what), file.as_os_str()]);
        }
        let okr = |args: &[&str]| {
            store
                .leadline()
                .arg("--config")
                .arg(&config)
                .arg("okr")
                .args(args)
                .output()
                .unwrap()
        };
        let out = okr(&[
            "checkin",
            "O1.KR2",
            "--confidence",
            "7",
            "--note",
            "on the way",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = json_stdout(store.leadline().arg("--config").arg(&config).args([
            "okr",
            "status",
            "--at",
            "2024-08-01",
            "--format",
            "json",
        ]));
        let o = &status[0];
        assert_eq!(o["period"]["since"], "2024-04-01T00:00:00+00:00");
        let window = ["--since", "2024-04-01", "--until", "2024-07-01"];
        let krs = o["key_results"].as_array().unwrap();
        // The same value as `leadline metric` over the period.
        let lead = metric(
            &store,
            "dora.lead_time.median_seconds",
            &[&["--service", "api"][..], &window].concat(),
        );
        assert_eq!(krs[0]["current"], lead["value"]);
        assert_eq!(krs[0]["better"], "lower");
        // No baseline in the file: captured over the quarter before.
        let before = metric(
            &store,
            "dora.lead_time.median_seconds",
            &[
                "--service",
                "api",
                "--since",
                "2024-01-01",
                "--until",
                "2024-04-01",
            ],
        );
        assert_eq!(krs[0]["baseline"], before["value"]);
        assert_eq!(krs[0]["baseline_from"], "captured");
        let deployed = metric(
            &store,
            "dora.deployment_frequency.deployments",
            &[&["--service", "api"][..], &window].concat(),
        );
        let current = deployed["value"].as_f64().unwrap();
        assert_eq!(krs[1]["current"].as_f64(), Some(current));
        let progress = ((current - 100.0) / 200.0).clamp(0.0, 1.5);
        assert!((krs[1]["progress"].as_f64().unwrap() - progress).abs() < 1e-12);
        // The projection: the least-squares line of the weekly values (at their midpoints)
        // at the period's end, computed here from `metric --by week`.
        let weekly = metric(
            &store,
            "dora.deployment_frequency.deployments",
            &[&["--service", "api", "--by", "week"][..], &window].concat(),
        );
        let start = jiff::Timestamp::from_second(1_711_929_600).unwrap(); // 2024-04-01
        let day = |t: &Value| {
            (t.as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_second()
                - start.as_second()) as f64
                / 86_400.0
        };
        let points: Vec<(f64, f64)> = weekly["series"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| {
                Some((
                    (day(&p["since"]) + day(&p["until"])) / 2.0,
                    p["value"].as_f64()?,
                ))
            })
            .collect();
        let n = points.len() as f64;
        let (mx, my) = (
            points.iter().map(|p| p.0).sum::<f64>() / n,
            points.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let slope = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
            / points.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
        let projected = my + slope * (91.0 - mx);
        assert!(
            (krs[1]["projection"].as_f64().unwrap() - projected).abs() < 1e-9,
            "{}",
            krs[1]
        );
        let expected_status = if projected >= 300.0 {
            "on-track"
        } else if projected >= 200.0 {
            "at-risk"
        } else {
            "off-track"
        };
        assert_eq!(krs[1]["status"], expected_status);
        assert_eq!(
            (
                krs[1]["confidence"].as_i64(),
                krs[1]["checkins"][0]["note"].as_str()
            ),
            (Some(7), Some("on the way"))
        );
        // Revenue's latest sample in the quarter is 700; none in its last 14 days: stale.
        assert_eq!(
            (krs[2]["current"].as_f64(), krs[2]["progress"].as_f64()),
            (Some(700.0), Some(0.7))
        );
        assert_eq!(
            (&krs[0]["stale"], &krs[2]["stale"]),
            (&Value::Bool(false), &Value::Bool(true))
        );
        // A check-in of a key result the file does not have, or out of range: exit 2.
        for bad in [
            &["checkin", "O9.KR1", "--confidence", "5"][..],
            &["checkin", "O1.KR1", "--confidence", "11"],
        ] {
            assert_eq!(okr(bad).status.code(), Some(2));
        }
    }
}

#[test]
fn okr_check_names_the_line_and_field_of_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let okrs = dir.path().join("okrs.toml");
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!("[okrs]\nfile = {:?}\n", okrs.display().to_string()),
    )
    .unwrap();
    let store = TestStore::sqlite();
    let check = |text: &str| {
        std::fs::write(&okrs, text).unwrap();
        store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args(["okr", "check"])
            .output()
            .unwrap()
    };
    let out = check(OKRS);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = check(&OKRS.replace(
        "dora.lead_time.median_seconds{",
        "dora.lead_time.median_second{",
    ));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 10, field metric")
            && stderr.contains("closest: dora.lead_time.median_seconds"),
        "{stderr}"
    );
    let out = check(&OKRS.replace("period = \"2024-Q2\"", "period = \"spring\""));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 5") && stderr.contains("period"),
        "{stderr}"
    );
}

/// A file of the server that does not validate answers a 500 that says so, without its path
/// or content (those go to the server log, which names the line and field): the operator can
/// fix it, no request can.
#[test]
fn the_api_says_a_file_of_the_server_is_invalid_and_the_log_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let okrs = dir.path().join("okrs.toml");
    let scorecards = dir.path().join("scorecards.toml");
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!(
            "[okrs]\nfile = {:?}\n[scorecards]\nfile = {:?}\n",
            okrs.display().to_string(),
            scorecards.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        &okrs,
        OKRS.replace("period = \"2024-Q2\"", "period = \"spring\""),
    )
    .unwrap();
    std::fs::write(&scorecards, "bogus = [\n").unwrap();
    let store = TestStore::sqlite();
    let server = crate::server::Server::start(&store, Some(&config));
    for path in ["/api/v1/okrs", "/api/v1/scorecards"] {
        let answer = server.get(path).send().unwrap();
        assert_eq!(answer.status().as_u16(), 500, "{path}");
        let body: Value = answer.json().unwrap();
        let error = body["error"].as_str().unwrap();
        assert!(
            error.starts_with("a file on the server does not validate") && !error.contains(".toml"),
            "{path}: {error}"
        );
    }
    let (_, log) = server.stop();
    for names in [["okrs.toml", "line 5"], ["scorecards.toml", "line 1"]] {
        let said = log
            .lines()
            .any(|l| l.contains("does not validate") && names.iter().all(|n| l.contains(n)));
        assert!(said, "{names:?}: {log}");
    }
}

/// The API answers what the command line does, takes check-ins with a write token, and
/// /metrics carries each key result's progress.
#[test]
fn the_api_and_metrics_serve_the_key_results() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments) = crate::anomalies::history(dir.path());
    let okrs = dir.path().join("okrs.toml");
    std::fs::write(&okrs, OKRS).unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!("[okrs]\nfile = {:?}\n", okrs.display().to_string()),
    )
    .unwrap();
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    store.run(&[
        OsStr::new("import"),
        OsStr::new("deployments"),
        deployments.as_os_str(),
    ]);
    let token = store.token("write");
    let server = crate::server::Server::start(&store, Some(&config));
    let posted = server
        .post("/api/v1/okrs/O1.KR2/checkins")
        .bearer_auth(&token)
        .json(&serde_json::json!({"confidence": 4, "note": "slipping"}))
        .send()
        .unwrap();
    assert_eq!(posted.status().as_u16(), 200);
    let refused = server
        .post("/api/v1/okrs/O1.KR2/checkins")
        .bearer_auth(&token)
        .json(&serde_json::json!({"confidence": 40}))
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    let served: Value = server
        .get("/api/v1/okrs?at=2024-08-01")
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let printed = json_stdout(store.leadline().arg("--config").arg(&config).args([
        "okr",
        "status",
        "--at",
        "2024-08-01",
        "--format",
        "json",
    ]));
    assert_eq!(served, printed);
    assert_eq!(served[0]["key_results"][1]["confidence"], 4);
    let metrics = server
        .get("/metrics")
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let progress = served[0]["key_results"][1]["progress"].as_f64().unwrap();
    assert!(
        metrics.contains(&format!(
            "leadline_okr_progress{{objective=\"O1\",key_result=\"O1.KR2\"}} {progress}"
        )),
        "{metrics}"
    );
    server.stop();
}
