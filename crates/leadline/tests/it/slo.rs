//! `leadline slo` end to end on both stores: the worked example of docs/metrics.md ("SLOs")
//! imported as minute counts, its status, alerts and release gate; invalid SLO files and count
//! files refused with nothing stored.

use std::path::PathBuf;

use predicates::str::contains;
use serde_json::{Value, json};

use crate::common::{TestStore, json_stdout};

const SLO: &str = "apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: checkout
  indicatorRef: checkout-requests
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: checkout-requests
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: leadline
    total:
      metricSource:
        type: leadline
";

pub(crate) struct Example {
    pub(crate) dir: tempfile::TempDir,
}

impl Example {
    /// slos/checkout.yaml, leadline.toml naming the folder, and the minute counts of 2026-03-02
    /// from 00:07: 1000 a minute, 31 of them bad from 10:00 to 10:59.
    pub(crate) fn new() -> Example {
        let dir = tempfile::tempdir().unwrap();
        let slos = dir.path().join("slos");
        std::fs::create_dir(&slos).unwrap();
        std::fs::write(slos.join("checkout.yaml"), SLO).unwrap();
        std::fs::write(
            dir.path().join("leadline.toml"),
            format!("[slo]\ndir = {:?}\n", slos.display().to_string()),
        )
        .unwrap();
        let mut csv = String::from("slo,time,good,total\n");
        for minute in 7..24 * 60 {
            let bad = if (600..660).contains(&minute) { 31 } else { 0 };
            csv.push_str(&format!(
                "checkout-availability,2026-03-02T{:02}:{:02}:00Z,{},1000\n",
                minute / 60,
                minute % 60,
                1000 - bad
            ));
        }
        std::fs::write(dir.path().join("sli.csv"), csv).unwrap();
        Example { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn leadline(&self, store: &TestStore) -> assert_cmd::Command {
        let mut cmd = store.leadline();
        cmd.arg("--config").arg(self.path("leadline.toml"));
        cmd
    }

    fn json(&self, store: &TestStore, args: &[&str]) -> Value {
        json_stdout(self.leadline(store).args(args))
    }
}

/// `slo alerts` over the example's day.
const DAY_ALERTS: [&str; 8] = [
    "slo",
    "alerts",
    "--since",
    "2026-03-02",
    "--until",
    "2026-03-03",
    "--format",
    "json",
];

/// docs/metrics.md, "SLOs": the page and ticket intervals of the worked example.
fn worked_example_alerts() -> Value {
    json!([
        {"slo": "checkout-availability", "severity": "page",
         "start": "2026-03-02T10:28:00+00:00", "end": "2026-03-02T11:03:00+00:00"},
        {"slo": "checkout-availability", "severity": "ticket",
         "start": "2026-03-02T10:20:00+00:00", "end": "2026-03-02T16:49:00+00:00"}
    ])
}

#[test]
fn the_worked_example_status_alerts_and_gate_on_both_stores() {
    let example = Example::new();
    for store in TestStore::both() {
        example
            .leadline(&store)
            .args(["import", "sli"])
            .arg(example.path("sli.csv"))
            .assert()
            .success()
            .stderr(contains("imported 1433 SLI counts (1433 new)"));
        let status = example.json(
            &store,
            &[
                "slo",
                "status",
                "--at",
                "2026-03-02T12:00:00Z",
                "--format",
                "json",
            ],
        );
        let s = &status[0];
        assert_eq!(s["slo"], "checkout-availability");
        assert_eq!(
            s["window"],
            json!({"since": "2026-01-31T12:00:00+00:00", "until": "2026-03-02T12:00:00+00:00"})
        );
        assert_eq!(
            (s["good"].as_f64(), s["total"].as_f64()),
            (Some(711_140.0), Some(713_000.0))
        );
        let close = |v: &Value, expected: f64| (v.as_f64().unwrap() - expected).abs() < 1e-9;
        assert!(close(&s["budget_remaining"], -1.608_695_652_173_913), "{s}");
        assert!(close(&s["burn_rates"]["2h"], 15.5), "{s}");
        assert!(close(&s["burn_rates"]["6h"], 5.166_666_666_666_667), "{s}");
        assert_eq!(s["burn_rates"]["5m"], 0.0);
        let alerts = example.json(&store, &DAY_ALERTS);
        assert_eq!(alerts, worked_example_alerts());
        // Budget spent per deployment: the bad minutes from each deployment of checkout
        // finishing to the next one finishing (10:00–10:39 after d1, 10:40–10:59 after d2).
        let deploys = example.path("deploys.csv");
        std::fs::write(
            &deploys,
            format!(
                "id,service,environment,sha,finished_at\n\
                 d1,checkout,production,{},2026-03-02T09:00:00Z\n\
                 d2,checkout,production,{},2026-03-02T10:40:00Z\n",
                "a".repeat(40),
                "b".repeat(40)
            ),
        )
        .unwrap();
        store
            .leadline()
            .args(["import", "deployments"])
            .arg(&deploys)
            .assert()
            .success();
        let explained = example.json(
            &store,
            &[
                "slo",
                "status",
                "--explain",
                "--at",
                "2026-03-02T12:00:00Z",
                "--format",
                "json",
            ],
        );
        let spent = explained[0]["spent_by"].as_array().unwrap();
        let rows: Vec<(&str, f64)> = spent
            .iter()
            .map(|d| {
                (
                    d["deployment"].as_str().unwrap(),
                    d["bad"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(rows, [("d1", 1240.0), ("d2", 620.0)]);
        // The window's budget is 0.001 × 713 000 = 713 events.
        assert!(
            close(&spent[0]["share_of_budget"], 1240.0 / 713.0),
            "{spent:?}"
        );
        // The month's compliance: 1 433 minutes, 1 860 bad of 1 433 000.
        let history = example.json(
            &store,
            &[
                "slo",
                "history",
                "--slo",
                "checkout-availability",
                "--format",
                "json",
            ],
        );
        assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
        let march = &history[0];
        assert_eq!(
            (march["period"].as_str(), march["met"].as_bool()),
            (Some("2026-03"), Some(false))
        );
        assert_eq!(march["total"].as_f64(), Some(1_433_000.0));
        assert!(
            close(
                &march["budget_remaining"],
                1.0 - (1860.0 / 1_433_000.0) / 0.001
            ),
            "{march}"
        );
        // The release gate: the budget is overspent at noon, not at 09:00.
        example
            .leadline(&store)
            .args(["slo", "check", "--at", "2026-03-02T12:00:00Z"])
            .assert()
            .code(1)
            .stderr(contains("1 SLO(s) below"));
        example
            .leadline(&store)
            .args(["slo", "check", "--at", "2026-03-02T09:00:00Z"])
            .assert()
            .success();
        example
            .leadline(&store)
            .args([
                "slo",
                "check",
                "--at",
                "2026-03-02T12:00:00Z",
                "--min-remaining",
                "-2",
            ])
            .assert()
            .success();
    }
}

#[test]
fn invalid_slo_files_and_count_files_are_refused_and_nothing_is_stored() {
    let example = Example::new();
    let store = TestStore::sqlite();
    let file = example.path("slos/checkout.yaml");
    std::fs::write(
        &file,
        SLO.replace("target: 0.999", "target: 99.9")
            .replace("duration: 30d", "duration: 30"),
    )
    .unwrap();
    let name = file.display().to_string();
    example
        .leadline(&store)
        .args(["slo", "status"])
        .assert()
        .code(2)
        .stderr(contains(format!(
            "{name}: line 9, field spec.timeWindow.0.duration: \"30\""
        )))
        .stderr(contains(format!(
            "{name}: line 13, field spec.objectives.0.target: 99.9 is not between 0 and 1"
        )));
    let bad = example.path("bad.csv");
    std::fs::write(
        &bad,
        "slo,time,good,total\ncheckout-availability,2026-03-02T10:00:00Z,5,10\ncheckout-availability,2026-03-02T10:01:00Z,11,10\n",
    )
    .unwrap();
    store
        .leadline()
        .args(["import", "sli"])
        .arg(&bad)
        .assert()
        .failure()
        .stderr(contains(format!(
            "{}:3: good: is more than total",
            bad.display()
        )));
    let counts = crate::server::row_counts(&store);
    assert!(
        counts.iter().any(|(t, n)| t == "sli_counts" && *n == 0),
        "{counts:?}"
    );
    // An unknown SLO is a usage error.
    std::fs::write(&file, SLO).unwrap();
    example
        .leadline(&store)
        .args(["slo", "status", "--slo", "nothing"])
        .assert()
        .code(2)
        .stderr(contains(
            "no SLO \"nothing\" (the SLOs: checkout-availability)",
        ));
}

#[test]
fn the_api_takes_counts_and_serves_what_the_command_line_prints() {
    let example = Example::new();
    let store = TestStore::sqlite();
    let token = String::from_utf8(
        store
            .run(&["token", "create", "--name", "w", "--scope", "write"].map(std::ffi::OsStr::new)),
    )
    .unwrap()
    .trim()
    .to_owned();
    let server = crate::server::Server::start(&store, Some(&example.path("leadline.toml")));
    // The day's counts as JSON items, posted in one request.
    let csv = std::fs::read_to_string(example.path("sli.csv")).unwrap();
    let items: Vec<Value> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            json!({"slo": f[0], "time": f[1], "good": f[2].parse::<f64>().unwrap(), "total": 1000})
        })
        .collect();
    let posted: Value = server
        .post("/api/v1/sli")
        .bearer_auth(&token)
        .json(&items)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        (posted["rows"].as_u64(), posted["new"].as_u64()),
        (Some(1433), Some(1433))
    );
    // A bad item refuses the whole request, naming it.
    let refused = server
        .post("/api/v1/sli")
        .bearer_auth(&token)
        .json(&json!([{"slo": "x", "time": "2026-03-02T00:00:00Z", "good": 5, "total": 4}]))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 422);
    let api: Value = server
        .get("/api/v1/slo?at=2026-03-02T12:00:00Z")
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let cli = example.json(
        &store,
        &[
            "slo",
            "status",
            "--at",
            "2026-03-02T12:00:00Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(api, cli);
    let alerts: Value = server
        .get("/api/v1/slo/alerts?since=2026-03-02&until=2026-03-03")
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 2, "{alerts}");
    // /metrics carries each SLO's budget and burn rates now. The example's day is long past
    // (no events in its window: no value); availability from incidents, with none, is whole.
    std::fs::write(
        example.path("slos/uptime.yaml"),
        SLO.replace("checkout-availability", "checkout-uptime")
            .replace("checkout-requests", "checkout-open")
            .replace(
                "type: leadline\n",
                "type: leadline\n        spec:\n          indicator: incidents\n",
            ),
    )
    .unwrap();
    let metrics = server
        .get("/metrics")
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("# TYPE leadline_slo_budget_remaining gauge"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "leadline_slo_budget_remaining{slo=\"checkout-uptime\",service=\"checkout\"} 1\n"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "leadline_slo_burn_rate{slo=\"checkout-uptime\",service=\"checkout\",window=\"1h\"} 0\n"
        ),
        "{metrics}"
    );
    assert!(!metrics.contains("leadline_slo_budget_remaining{slo=\"checkout-availability\""));
    // The metric names read the same status, the SLO named by label or option.
    let by_label: Value = server
        .get("/api/v1/metric/slo.budget_remaining%7Bslo%3Dcheckout-uptime%7D")
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(by_label["value"], 1.0, "{by_label}");
    let cli = example.json(
        &store,
        &[
            "metric",
            "slo.burn_rates.1h",
            "--slo",
            "checkout-uptime",
            "--format",
            "json",
        ],
    );
    assert_eq!(cli["value"], 0.0, "{cli}");
    let disagree = server
        .get("/api/v1/metric/slo.sli%7Bslo%3Da%7D?slo=b")
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(disagree.status(), 400);
    example
        .leadline(&store)
        .args(["metric", "slo.sli"])
        .assert()
        .code(2)
        .stderr(contains("slo metrics are per SLO"));
    let unknown = server
        .get("/api/v1/slo?slo=nothing")
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 400);
}

#[test]
fn availability_from_incidents_counts_the_minutes_a_serious_incident_is_open() {
    let example = Example::new();
    let store = TestStore::sqlite();
    std::fs::write(
        example.path("slos/uptime.yaml"),
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: checkout-uptime\nspec:\n  service: checkout\n\
         \x20 indicator:\n    metadata:\n      name: checkout-open\n    spec:\n      ratioMetric:\n        counter: true\n\
         \x20       good:\n          metricSource:\n            type: leadline\n            spec:\n              indicator: incidents\n\
         \x20       total:\n          metricSource:\n            type: leadline\n            spec:\n              indicator: incidents\n\
         \x20 timeWindow:\n    - duration: 30d\n      isRolling: true\n  budgetingMethod: Occurrences\n  objectives:\n    - target: 0.999\n",
    )
    .unwrap();
    // A sev1 whose impact ran 09:59:30 to 10:29:10 (31 minutes touched), a sev3 (not counted)
    // and a sev2 of another service.
    let incidents = example.path("incidents.csv");
    std::fs::write(
        &incidents,
        "id,service,severity,opened_at,started_at,resolved_at\n\
         I1,checkout,P1,2026-03-02T10:05:00Z,2026-03-02T09:59:30Z,2026-03-02T10:29:10Z\n\
         I2,checkout,minor,2026-03-02T11:00:00Z,,2026-03-02T11:30:00Z\n\
         I3,search,sev2,2026-03-02T11:00:00Z,,2026-03-02T11:30:00Z\n",
    )
    .unwrap();
    store
        .leadline()
        .args(["import", "incidents"])
        .arg(&incidents)
        .assert()
        .success();
    let status = example.json(
        &store,
        &[
            "slo",
            "status",
            "--slo",
            "checkout-uptime",
            "--at",
            "2026-03-02T12:00:00Z",
            "--format",
            "json",
        ],
    );
    let s = &status[0];
    // 30 days of minutes, 31 of them bad: 09:59 through 10:29.
    assert_eq!(
        (s["good"].as_f64(), s["total"].as_f64()),
        (Some(43_169.0), Some(43_200.0)),
        "{s}"
    );
    let remaining = s["budget_remaining"].as_f64().unwrap();
    assert!(
        (remaining - (1.0 - (31.0 / 43_200.0) / 0.001)).abs() < 1e-9,
        "{s}"
    );
}

fn promtool() -> Option<PathBuf> {
    match std::env::var("LEADLINE_TEST_PROMTOOL").as_deref() {
        Ok("skip") => None,
        Ok(path) => Some(PathBuf::from(path)),
        Err(_) => {
            let default = PathBuf::from("/usr/bin/promtool");
            assert!(
                default.exists(),
                "no promtool: install Debian's prometheus (bash .ci/run does), set \
                 LEADLINE_TEST_PROMTOOL to its path, or to `skip`"
            );
            Some(default)
        }
    }
}

/// Rules for an SLO read from Prometheus pass `promtool check rules`; a query without a
/// window placeholder is refused naming the SLO.
#[test]
fn prometheus_rules_pass_promtool() {
    let example = Example::new();
    let store = TestStore::sqlite();
    let search = "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: search-errors\nspec:\n  service: search\n\
        \x20 indicator:\n    metadata:\n      name: search-requests\n    spec:\n      ratioMetric:\n        counter: true\n\
        \x20       bad:\n          metricSource:\n            type: Prometheus\n            spec:\n\
        \x20             query: sum(rate(http_requests_total{job=\"search\",code=~\"5..\"}[{{.window}}]))\n\
        \x20       total:\n          metricSource:\n            type: Prometheus\n            spec:\n\
        \x20             query: sum(rate(http_requests_total{job=\"search\"}[{{.window}}]))\n\
        \x20 timeWindow:\n    - duration: 28d\n      isRolling: true\n  budgetingMethod: Occurrences\n  objectives:\n    - target: 0.995\n";
    std::fs::write(example.path("slos/search.yaml"), search).unwrap();
    let out = example
        .leadline(&store)
        .args(["slo", "rules"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules = String::from_utf8(out.stdout).unwrap();
    // 28 days scale the windows by 28/30: 5m → 280s, 1h → 56m; the factors stay.
    assert!(rules.contains("slo:sli_error:ratio_rate280s"), "{rules}");
    assert!(rules.contains("(14.4 * 0.005)"), "{rules}");
    // The SLO counted by leadline gets none; its status still works beside the Prometheus one.
    assert!(!rules.contains("checkout-availability"));
    example
        .leadline(&store)
        .args(["slo", "status"])
        .assert()
        .success()
        .stderr(contains(
            "search-errors: read from Prometheus, and [slo.prometheus] url is not set; left out",
        ));
    if let Some(promtool) = promtool() {
        let file = example.path("rules.yaml");
        std::fs::write(&file, &rules).unwrap();
        let checked = std::process::Command::new(promtool)
            .args(["check", "rules"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            checked.status.success(),
            "{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
        assert!(String::from_utf8_lossy(&checked.stdout).contains("SUCCESS: 16 rules found"));
    }
    std::fs::write(
        example.path("slos/search.yaml"),
        search.replace("[{{.window}}]", "[5m]"),
    )
    .unwrap();
    example
        .leadline(&store)
        .args(["slo", "rules"])
        .assert()
        .code(2)
        .stderr(contains("search-errors"))
        .stderr(contains("{{.window}}"));
}

/// A real Prometheus (Debian's), its history backfilled with `promtool tsdb create-blocks-from
/// openmetrics`, stopped when dropped.
struct RealPrometheus {
    url: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for RealPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prometheus_binary() -> Option<PathBuf> {
    match std::env::var("LEADLINE_TEST_PROMETHEUS").as_deref() {
        Ok("skip") => None,
        Ok(path) => Some(PathBuf::from(path)),
        Err(_) => {
            let default = PathBuf::from("/usr/bin/prometheus");
            assert!(
                default.exists(),
                "no prometheus: install Debian's prometheus (bash .ci/run does), set \
                 LEADLINE_TEST_PROMETHEUS to its path, or to `skip`"
            );
            Some(default)
        }
    }
}

/// The worked example as counters sampled at every minute boundary from 00:07 to 24:00:
/// `http_requests_total{job="checkout",code=…}`.
fn start_prometheus(binary: &std::path::Path, promtool: &std::path::Path) -> RealPrometheus {
    let dir = tempfile::tempdir().unwrap();
    let midnight = 1_772_409_600i64; // 2026-03-02T00:00:00Z
    let (mut ok, mut bad) = (0i64, 0i64);
    let mut ok_lines = Vec::new();
    let mut bad_lines = Vec::new();
    for minute in 7..=24 * 60 {
        let t = midnight + minute * 60;
        ok_lines.push(format!(
            "http_requests_total{{job=\"checkout\",code=\"200\"}} {ok} {t}"
        ));
        bad_lines.push(format!(
            "http_requests_total{{job=\"checkout\",code=\"500\"}} {bad} {t}"
        ));
        let b = if (600..660).contains(&minute) { 31 } else { 0 };
        ok += 1000 - b;
        bad += b;
    }
    let text = format!(
        "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n{}\n{}\n# EOF\n",
        ok_lines.join("\n"),
        bad_lines.join("\n")
    );
    let data = dir.path().join("data.om");
    std::fs::write(&data, text).unwrap();
    let tsdb = dir.path().join("tsdb");
    let made = std::process::Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&data)
        .arg(&tsdb)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global: {}\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let prometheus = RealPrometheus {
        url: url.clone(),
        child,
        _dir: dir,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let ready = crate::server::client()
            .get(format!("{url}/-/ready"))
            .send()
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return prometheus;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Prometheus did not get ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The same day read from a real Prometheus gives the same status and alerts as imported counts.
#[test]
fn a_prometheus_indicator_gives_what_imported_counts_give() {
    let (Some(binary), Some(promtool)) = (prometheus_binary(), promtool()) else {
        return;
    };
    let prometheus = start_prometheus(&binary, &promtool);
    let example = Example::new();
    std::fs::write(
        example.path("slos/checkout.yaml"),
        SLO.replace(
            "    good:\n      metricSource:\n        type: leadline\n    total:\n      metricSource:\n        type: leadline\n",
            "    bad:\n      metricSource:\n        type: Prometheus\n        spec:\n          query: sum(rate(http_requests_total{job=\"checkout\",code=\"500\"}[{{.window}}]))\n\
             \x20   total:\n      metricSource:\n        type: Prometheus\n        spec:\n          query: sum(rate(http_requests_total{job=\"checkout\"}[{{.window}}]))\n",
        ),
    )
    .unwrap();
    std::fs::write(
        example.path("leadline.toml"),
        format!(
            "[slo]\ndir = {:?}\n\n[slo.prometheus]\nurl = {:?}\n",
            example.path("slos").display().to_string(),
            prometheus.url
        ),
    )
    .unwrap();
    let store = TestStore::sqlite();
    let status = example.json(
        &store,
        &[
            "slo",
            "status",
            "--at",
            "2026-03-02T12:00:00Z",
            "--format",
            "json",
        ],
    );
    let s = &status[0];
    let close = |v: &Value, expected: f64| (v.as_f64().unwrap() - expected).abs() < 1e-6;
    assert!(
        close(&s["total"], 713_000.0) && close(&s["good"], 711_140.0),
        "{s}"
    );
    assert!(close(&s["budget_remaining"], -1.608_695_652_173_913), "{s}");
    assert!(close(&s["burn_rates"]["2h"], 15.5), "{s}");
    let alerts = example.json(&store, &DAY_ALERTS);
    assert_eq!(alerts, worked_example_alerts());
    // History needs a span from Prometheus (it has no "all of the data"), then counts it.
    let history = example.json(
        &store,
        &[
            "slo",
            "history",
            "--slo",
            "checkout-availability",
            "--since",
            "2026-03-02",
            "--until",
            "2026-03-03",
            "--format",
            "json",
        ],
    );
    assert!(close(&history[0]["total"], 1_433_000.0), "{history}");
    example
        .leadline(&store)
        .args(["slo", "history", "--slo", "checkout-availability"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("give --since and --until"));
}
