//! The dashboard in real headless Chromium against a seeded server: the page loads without
//! JavaScript errors, every number it shows equals the API's, the drill-down lists the API's
//! rows, and screenshots (desktop and phone widths) are saved as test artifacts.
//!
//! Chromium comes from `LEADLINE_TEST_CHROMIUM` (a path), else /usr/bin/chromium (`bash
//! .ci/run` installs Debian's). Set the variable to `skip` to leave this test out on purpose.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{GitRepo, TestStore};
use crate::server::Server;
use regex::Regex;
use serde_json::Value;

pub(crate) fn chromium() -> Option<PathBuf> {
    match std::env::var("LEADLINE_TEST_CHROMIUM").as_deref() {
        Ok("skip") => None,
        Ok(path) => Some(PathBuf::from(path)),
        Err(_) => {
            let default = PathBuf::from("/usr/bin/chromium");
            assert!(
                default.exists(),
                "no Chromium: install Debian's chromium (bash .ci/run does), set \
                 LEADLINE_TEST_CHROMIUM to its path, or to `skip`"
            );
            Some(default)
        }
    }
}

/// Runs headless Chromium on `url` with `extra` arguments; returns (stdout, stderr).
fn run_chromium(binary: &Path, url: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            // Virtual time runs until the page is idle (its API calls answered) or 30 s pass.
            "--virtual-time-budget=30000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn artifacts() -> PathBuf {
    let dir = std::env::var_os("LEADLINE_TEST_ARTIFACTS")
        .map_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn api(server: &Server, path: &str) -> Value {
    let text = server.get(path).send().unwrap().text().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
}

/// The API's value for a key, as the page writes it into data-value.
fn api_value(report: &Value, key: &str) -> String {
    let field = match key {
        "deployment_frequency" => "per_day",
        "lead_time" | "recovery_time" => "median_seconds",
        _ => "rate",
    };
    match &report[key][field] {
        Value::Null => "null".to_owned(),
        v => v.as_f64().unwrap().to_string(),
    }
}

/// The page at `path` once it is ready, checked free of JavaScript errors.
pub(crate) fn load(chromium: &Path, server: &Server, path: &str) -> String {
    let (dom, log) = run_chromium(chromium, &format!("{}{path}", server.url), &["--dump-dom"]);
    assert!(
        dom.contains(r#"data-state="ready""#),
        "{path} did not finish loading:\n{dom}\n{log}"
    );
    let errors = Regex::new(r#"<pre id="errors"[^>]*>([^<]*)</pre>"#).unwrap();
    let shown_errors = errors
        .captures(&dom)
        .map(|c| c[1].to_owned())
        .unwrap_or_default();
    assert!(
        shown_errors.is_empty(),
        "{path}: JavaScript errors: {shown_errors}"
    );
    assert!(!log.contains("Uncaught"), "{path}: console errors:\n{log}");
    dom
}

/// Three merged pull requests of one repository, reviewed, with a build each (one failed).
fn seed_flow(store: &TestStore) {
    use leadline_core::events::{Build, Events, PullRequest, Review};
    let hour = 3_600_000;
    let start = 1_704_067_200_000; // 2024-01-01
    let mut events = Events::default();
    for n in 0..3i64 {
        let created = start + n * 48 * hour;
        events.pull_requests.push(PullRequest {
            forge: "github".into(),
            repo: "octo/web".into(),
            number: n + 1,
            title: format!("change {n}"),
            author: format!("dev{n}"),
            state: "merged".into(),
            draft: false,
            created_at: created,
            first_commit_at: Some(created - 5 * hour),
            rework_commits: Some(n % 2),
            ready_at: None,
            updated_at: created + (10 + n) * hour,
            merged_at: Some(created + (10 + n) * hour),
            closed_at: Some(created + (10 + n) * hour),
            base_ref: "main".into(),
            head_sha: format!("{:040x}", n + 1),
            merge_sha: None,
            additions: Some(40 * (n + 1)),
            deletions: Some(5),
            changed_files: Some(2),
            commits: Some(2),
            labels: vec![],
            review_requests: vec![],
            actions: vec![],
            issue_keys: vec![],
        });
        events.reviews.push(Review {
            forge: "github".into(),
            repo: "octo/web".into(),
            number: n + 1,
            id: format!("r{n}"),
            reviewer: format!("dev{}", (n + 1) % 3),
            state: "approved".into(),
            submitted_at: created + (2 + n) * hour,
            comments: Some(1),
        });
        events.builds.push(Build {
            id: format!("{}/1", 500 + n),
            repo: "octo/web".into(),
            pipeline: "CI".into(),
            sha: format!("{:040x}", n + 1),
            branch: Some("main".into()),
            attempt: 1,
            status: if n == 1 { "failure" } else { "success" }.into(),
            created_at: created + hour,
            started_at: Some(created + hour + 60_000),
            finished_at: Some(created + hour + 600_000),
            updated_at: created + 2 * hour,
        });
    }
    crate::server::read_store(store, async |s| {
        use leadline_core::store::prelude::*;
        s.store_events("github", &events, None).await.unwrap();
    });
}

/// Two services: one inferred from a repository's release tags, one ("payments") from imported
/// deployments of another repository's commits, with an incident.
fn seed(store: &TestStore) -> (GitRepo, GitRepo) {
    let day = 86_400;
    let start = 1_704_067_200; // 2024-01-01
    // Different files, so the two histories share no commit.
    let history = |repo: &GitRepo, file: &[u8]| -> Vec<String> {
        (0..12)
            .map(|i| {
                repo.write(file, format!("{i}\n").as_bytes());
                // One change of each history was written with an assistant.
                let message = match i {
                    3 => format!("change {i}\n\nCo-Authored-By: Claude <noreply@anthropic.com>"),
                    _ => format!("change {i}"),
                };
                repo.commit_all_at(start + i * 2 * day, None, &message)
            })
            .collect()
    };
    let tagged = GitRepo::new();
    let shas = history(&tagged, b"web.txt");
    for (tag, i) in [("v1.0", 1), ("v1.1", 4), ("v1.2", 7), ("v1.3", 11)] {
        tagged.git(&["tag", tag, &shas[i]]);
    }
    let deployed = GitRepo::new();
    let shas = history(&deployed, b"payments.txt");
    store.ingest(tagged.path());
    store.ingest(deployed.path());
    let dir = tempfile::tempdir().unwrap();
    let deploys = dir.path().join("d.csv");
    let mut csv = "id,service,environment,sha,finished_at\n".to_owned();
    for (i, sha) in shas.iter().enumerate().skip(2) {
        csv.push_str(&format!(
            "p{i},payments,production,{sha},2024-01-{:02}T12:00:00Z\n",
            i * 2 + 1
        ));
    }
    std::fs::write(&deploys, csv).unwrap();
    let incidents = dir.path().join("i.csv");
    std::fs::write(
        &incidents,
        "id,service,opened_at,resolved_at\nINC-1,payments,2024-01-10T13:00:00Z,2024-01-10T15:30:00Z\n",
    )
    .unwrap();
    store.run(&[
        "import".as_ref(),
        "deployments".as_ref(),
        deploys.as_os_str(),
    ]);
    store.run(&[
        "import".as_ref(),
        "incidents".as_ref(),
        incidents.as_os_str(),
    ]);
    (tagged, deployed)
}

/// An incident with its whole lifecycle and a postmortem with one open action.
fn seed_reliability(store: &TestStore, postmortems: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let incidents = dir.path().join("lifecycle.csv");
    std::fs::write(
        &incidents,
        "id,service,severity,opened_at,started_at,acknowledged_at,resolved_at\n\
         INC-2,search,P1,2024-01-20T10:10:00Z,2024-01-20T10:00:00Z,2024-01-20T10:25:00Z,2024-01-20T12:00:00Z\n",
    )
    .unwrap();
    store.run(&[
        "import".as_ref(),
        "incidents".as_ref(),
        incidents.as_os_str(),
    ]);
    std::fs::create_dir_all(postmortems).unwrap();
    // An SLO with a day of minute counts before the window's end (2024-01-21): 2 % bad from
    // 10:00 to 10:59 on 2024-01-20.
    let slos = postmortems.parent().unwrap().join("slos");
    std::fs::create_dir_all(&slos).unwrap();
    std::fs::write(
        slos.join("web.yaml"),
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: web-availability\nspec:\n  service: web\n\
         \x20 indicator:\n    metadata:\n      name: web-requests\n    spec:\n      ratioMetric:\n        counter: true\n\
         \x20       good:\n          metricSource:\n            type: leadline\n\
         \x20       total:\n          metricSource:\n            type: leadline\n\
         \x20 timeWindow:\n    - duration: 7d\n      isRolling: true\n  budgetingMethod: Occurrences\n  objectives:\n    - target: 0.995\n",
    )
    .unwrap();
    let mut counts = String::from("slo,time,good,total\n");
    for minute in 0..24 * 60 {
        let bad = if (600..660).contains(&minute) { 20 } else { 0 };
        counts.push_str(&format!(
            "web-availability,2024-01-20T{:02}:{:02}:00Z,{},1000\n",
            minute / 60,
            minute % 60,
            1000 - bad
        ));
    }
    let file = dir.path().join("sli.csv");
    std::fs::write(&file, counts).unwrap();
    store.run(&["import".as_ref(), "sli".as_ref(), file.as_os_str()]);
    std::fs::write(
        postmortems.join("PM-2024-001.md"),
        "---\nid: PM-2024-001\nincidents: [INC-2]\nstatus: reviewed\nreviewed: 2024-01-24\nactions:\n  - {id: A1, title: Alert on queue depth, owner: payments, priority: P1, due: 2024-02-10}\n---\n",
    )
    .unwrap();
}

#[test]
fn dashboard_shows_the_api_numbers_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let store = TestStore::sqlite();
    let _repos = seed(&store);
    // A debt register covering one repository's only file; the other's is a candidate.
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = crate::common::debt_config(
        dir.path(),
        "[[item]]\nid = \"D-1\"\ntitle = \"Web is one file\"\narea = [\"web.txt\"]\ncategory = \"tactical\"\nkind = \"security\"\nowner = \"web\"\ncost_hours = 8\ninterest_hours_per_month = 3\ncreated = 2024-01-01\n",
        &format!(
            "capacity_target = 0.2\n\n[privacy]\nmin_group_size = 1\n\n[postmortems]\ndir = {:?}\n\n[slo]\ndir = {:?}\n",
            dir.path().join("postmortems").display().to_string(),
            dir.path().join("slos").display().to_string()
        ),
    );
    seed_flow(&store);
    seed_reliability(&store, &dir.path().join("postmortems"));
    let server = Server::start(&store, Some(&config));
    let dom = load(&chromium, &server, "/");
    // The delivery page is the default, marked in the navigation.
    assert!(
        dom.contains(r#"data-page="delivery" href="?page=delivery" aria-current="page""#),
        "{dom}"
    );

    let overall = api(&server, "/api/v1/dora");
    let (since, until) = (
        overall["since"].as_str().unwrap(),
        overall["until"].as_str().unwrap(),
    );
    let services = api(&server, "/api/v1/services");
    let names: Vec<&str> = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(names.contains(&"payments") && names.len() == 2, "{names:?}");

    let shown =
        Regex::new(r#"data-service="([^"]*)" data-key="([a-z_]+)" data-value="([^"]*)""#).unwrap();
    let mut checked = 0;
    for c in shown.captures_iter(&dom) {
        let (service, key, value) = (&c[1], &c[2], &c[3]);
        let report = if service.is_empty() {
            overall.clone()
        } else {
            api(
                &server,
                &format!("/api/v1/dora?service={service}&since={since}&until={until}")
                    .replace('+', "%2B"),
            )
        };
        assert_eq!(value, api_value(&report, key), "{service} {key}");
        checked += 1;
    }
    // Five keys for all services together and for each service.
    assert_eq!(checked, 5 * (1 + names.len()), "numbers shown:\n{dom}");
    let payments = api(
        &server,
        &format!("/api/v1/dora?service=payments&since={since}&until={until}").replace('+', "%2B"),
    );
    assert_eq!(payments["change_failure_rate"]["failed_deployments"], 1);
    for band in ["elite", "high", "medium", "low"] {
        if payments
            .to_string()
            .contains(&format!("\"band\":\"{band}\""))
        {
            assert!(
                dom.contains(&format!(r#"data-band="{band}""#)),
                "band {band} not shown"
            );
        }
    }

    // Code health: every hotspot score and coupling degree shown is the API's.
    let dom = load(&chromium, &server, "/?page=health");
    let health = api(&server, "/api/v1/health?top=5");
    let scores =
        Regex::new(r#"data-health="([^"]*)" data-path="([^"]*)" data-value="([^"]*)""#).unwrap();
    let mut shown_scores = Vec::new();
    for c in scores.captures_iter(&dom) {
        shown_scores.push((c[1].to_owned(), c[2].to_owned(), c[3].to_owned()));
    }
    let mut api_scores = Vec::new();
    for r in health.as_array().unwrap() {
        for h in r["hotspots"].as_array().unwrap() {
            api_scores.push((
                r["repository"].as_str().unwrap().to_owned(),
                h["path"].as_str().unwrap().to_owned(),
                h["score"].to_string(),
            ));
        }
    }
    assert_eq!(api_scores.len(), 2, "one hotspot per repository: {health}");
    assert_eq!(shown_scores, api_scores);
    // Trends are drawn (SVG), not glyphs that render as solid bars.
    let sparks = Regex::new(r#"<svg class="sparkline"[^>]*data-sparkline="([^"]*)""#).unwrap();
    let drawn: Vec<String> = sparks
        .captures_iter(&dom)
        .map(|c| c[1].to_owned())
        .collect();
    assert_eq!(drawn.len(), 2, "a trend per hotspot:\n{dom}");
    for (r, shown) in health.as_array().unwrap().iter().zip(&drawn) {
        let months: Vec<String> = r["trends"][0]["complexity"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().map_or_else(String::new, |n| n.to_string()))
            .collect();
        assert_eq!(shown, &months.join(","));
    }
    assert!(
        !dom.contains('█') && !dom.contains('▁'),
        "block glyphs in the trends"
    );
    // The debt portfolio: the same figures as /api/v1/debt.
    let dom = load(&chromium, &server, "/?page=debt");
    let debt = api(&server, "/api/v1/debt");
    let figures = Regex::new(r#"data-debt="([a-z_]+)" data-value="([^"]*)""#).unwrap();
    let mut checked = 0;
    for c in figures.captures_iter(&dom) {
        let expected = &debt["portfolio"][&c[1]];
        assert_eq!(
            c[2].parse::<f64>().unwrap(),
            expected.as_f64().unwrap(),
            "{}",
            &c[1]
        );
        checked += 1;
    }
    assert_eq!(checked, 4, "open, overdue, cost, interest:\n{dom}");
    assert_eq!(
        debt["portfolio"]["overdue"], 1,
        "a 2024 security item is past 30 days"
    );
    assert_eq!(debt["items"][0]["hotspots"][0]["path"], "web.txt");
    assert!(dom.contains(r#"data-table="debt-candidates""#) && dom.contains("payments.txt"));

    // Capacity allocation: every month's debt share shown is the API's.
    let capacity = api(&server, "/api/v1/capacity");
    let shares =
        Regex::new(r#"data-capacity="([^"]*)" data-period="([^"]*)" data-value="([^"]*)""#)
            .unwrap();
    let shown: Vec<(String, String, String)> = shares
        .captures_iter(&dom)
        .map(|c| (c[1].to_owned(), c[2].to_owned(), c[3].to_owned()))
        .collect();
    let mut expected = Vec::new();
    for g in capacity["groups"].as_array().unwrap() {
        for m in g["months"].as_array().unwrap() {
            expected.push((
                g["group"].as_str().unwrap().to_owned(),
                m["period"].as_str().unwrap().to_owned(),
                m["debt_share"]
                    .as_f64()
                    .map_or_else(|| "null".to_owned(), |v| v.to_string()),
            ));
        }
    }
    assert!(!expected.is_empty(), "{capacity}");
    assert_eq!(shown, expected);

    // Flow: every figure of every group is the API's (and the metric of its name).
    let dom = load(&chromium, &server, "/?page=flow");
    let flow = api(&server, "/api/v1/flow");
    let figures =
        Regex::new(r#"data-flow="([^"]*)" data-key="([a-z_.]+)" data-value="([^"]*)""#).unwrap();
    let mut checked = 0;
    for c in figures.captures_iter(&dom) {
        let group = flow["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == c[1])
            .unwrap_or_else(|| panic!("group {} shown but not served", &c[1]));
        let expected = c[2].split('.').fold(group, |v, k| &v[k]);
        let expected = match expected {
            Value::Null => "null".to_owned(),
            v => v.as_f64().unwrap().to_string(),
        };
        assert_eq!(
            c[3].parse::<f64>()
                .map_or(c[3].to_owned(), |v| v.to_string()),
            expected,
            "{} {}",
            &c[1],
            &c[2]
        );
        checked += 1;
    }
    let groups = flow["groups"].as_array().unwrap().len();
    assert!(groups >= 1, "{flow}");
    assert_eq!(checked, 14 * groups, "fourteen figures per group:\n{dom}");
    assert_eq!(flow["groups"][0]["pull_requests"]["merged"], 3);
    // AI-assisted changes over the same window: every figure is the API's.
    let ai = api(
        &server,
        &format!(
            "/api/v1/ai?since={}&until={}",
            flow["since"].as_str().unwrap(),
            flow["until"].as_str().unwrap()
        )
        .replace('+', "%2B"),
    );
    let figures = Regex::new(r#"data-ai="([a-z_.]+)" data-value="([^"]*)""#).unwrap();
    let mut checked = 0;
    for c in figures.captures_iter(&dom) {
        let expected = c[1].split('.').fold(&ai, |v, k| &v[k]);
        let expected = match expected {
            Value::Null => "null".to_owned(),
            Value::String(s) => s.clone(),
            v => v.as_f64().unwrap().to_string(),
        };
        let shown = c[2]
            .parse::<f64>()
            .map_or(c[2].to_owned(), |v| v.to_string());
        assert_eq!(shown, expected, "{}", &c[1]);
        checked += 1;
    }
    assert_eq!(checked, 6, "four figures and two outcomes:\n{dom}");
    assert_eq!(ai["changes"]["ai_assisted"], 2, "one per repository: {ai}");
    // A shared view: the page and its filters come from the URL.
    let dom = load(&chromium, &server, "/?page=flow&team=all&preset=365");
    assert!(dom.contains(r#"data-page="flow""#) && dom.contains(r#"data-group="all""#));

    // The drill-down lists the API's rows.
    let (dom, _) = run_chromium(
        &chromium,
        &format!("{}/#explain=payments", server.url),
        &["--dump-dom"],
    );
    let explained = api(
        &server,
        &format!("/api/v1/dora?service=payments&since={since}&until={until}&explain=true")
            .replace('+', "%2B"),
    );
    let rows = Regex::new(r#"<table data-rows="([a-z]+)">.*?<tbody>(.*?)</tbody>"#).unwrap();
    let mut tables = 0;
    for c in rows.captures_iter(&dom) {
        let count = c[2].matches("<tr>").count();
        assert_eq!(
            count,
            explained["explain"][&c[1]].as_array().unwrap().len(),
            "{} rows",
            &c[1]
        );
        tables += 1;
    }
    assert_eq!(
        tables, 3,
        "deployments, changes and incidents tables:\n{dom}"
    );

    // Reliability: every figure is the API's, and the action items are listed with their state.
    let dom = load(&chromium, &server, "/?page=reliability");
    let incidents = api(&server, "/api/v1/incidents");
    let figures = Regex::new(r#"data-incidents="([a-z_.]+)" data-value="([^"]*)""#).unwrap();
    let mut checked = 0;
    for c in figures.captures_iter(&dom) {
        let expected = c[1].split('.').fold(&incidents, |v, k| &v[k]);
        let expected = match expected {
            Value::Null => "null".to_owned(),
            v => v.as_f64().unwrap().to_string(),
        };
        let shown = c[2]
            .parse::<f64>()
            .map_or(c[2].to_owned(), |v| v.to_string());
        assert_eq!(shown, expected, "{}", &c[1]);
        checked += 1;
    }
    assert_eq!(checked, 10, "ten figures:\n{dom}");
    assert_eq!(incidents["incidents"]["total"], 2, "{incidents}");
    assert!(
        dom.contains(r#"data-action="PM-2024-001/A1" data-value="open""#),
        "{dom}"
    );
    // SLOs at the window's end: every figure shown is the API's, and the burn-down is drawn.
    let until = incidents["until"].as_str().unwrap().replace('+', "%2B");
    let slos = api(&server, &format!("/api/v1/slo?at={until}"));
    let figures =
        Regex::new(r#"data-slo="([^"]*)" data-key="([a-z_.0-9]+)" data-value="([^"]*)""#).unwrap();
    let mut checked = 0;
    for c in figures.captures_iter(&dom) {
        let s = slos
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["slo"] == c[1])
            .unwrap();
        let expected = c[2].split('.').fold(s, |v, k| &v[k]);
        let expected = match expected {
            Value::Null => "null".to_owned(),
            v => v.as_f64().unwrap().to_string(),
        };
        let shown = c[3]
            .parse::<f64>()
            .map_or(c[3].to_owned(), |v| v.to_string());
        assert_eq!(shown, expected, "{} {}", &c[1], &c[2]);
        checked += 1;
    }
    assert_eq!(checked, 6, "SLI, budget and four burn rates:\n{dom}");
    assert!(
        slos[0]["budget_remaining"].as_f64().unwrap() < 1.0,
        "{slos}"
    );
    assert!(
        dom.contains(r#"data-burndown="web-availability""#) && dom.contains("uplot"),
        "{dom}"
    );

    for (name, page, size) in [
        (
            "dashboard-reliability.png",
            "?page=reliability",
            "1280,1400",
        ),
        ("dashboard.png", "", "1280,2200"),
        ("dashboard-phone.png", "", "390,3400"),
        ("dashboard-flow.png", "?page=flow", "1280,1600"),
        ("dashboard-health.png", "?page=health", "1280,1600"),
        ("dashboard-debt.png", "?page=debt", "1280,1600"),
    ] {
        let path = artifacts().join(name);
        run_chromium(
            &chromium,
            &format!("{}/{page}", server.url),
            &[
                &format!("--window-size={size}"),
                &format!("--screenshot={}", path.display()),
            ],
        );
        let png = std::fs::read(&path).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}");
        eprintln!("screenshot: {}", path.display());
    }
}

/// The delivery page lists the proposals of its window as the API does, with their states
/// and the live precision.
#[test]
fn the_delivery_page_lists_the_proposed_anomalies() {
    let Some(chromium) = chromium() else { return };
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments) = crate::anomalies::history(dir.path());
    store.ingest(repo.path());
    store.run(&[
        "import".as_ref(),
        "deployments".as_ref(),
        deployments.as_os_str(),
    ]);
    let server = Server::start(&store, None);
    let overall = api(&server, "/api/v1/dora");
    let window = format!(
        "/api/v1/anomalies?since={}&until={}",
        overall["since"].as_str().unwrap(),
        overall["until"].as_str().unwrap()
    )
    .replace('+', "%2B");
    let listed = api(&server, &window);
    let spike = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["week"] == "2024-W26")
        .unwrap_or_else(|| panic!("the spike is in the default window: {listed}"));
    store
        .leadline()
        .args(["anomalies", "ack", spike["id"].as_str().unwrap()])
        .assert()
        .success();
    let dom = load(&chromium, &server, "/");
    let rows = Regex::new(r#"data-anomaly="([0-9a-f]+)""#).unwrap();
    let shown: Vec<String> = rows.captures_iter(&dom).map(|c| c[1].to_owned()).collect();
    let expected: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown, expected, "{dom}");
    assert!(dom.contains(r#"data-state="acknowledged""#), "{dom}");
    assert!(dom.contains(r#"data-precision="1""#), "{dom}");
}

/// The header links the stakeholder report over the window the URL asks for, and the link
/// answers the report.
#[test]
fn the_dashboard_links_the_report_of_its_window() {
    let Some(chromium) = chromium() else { return };
    let store = TestStore::sqlite();
    let repo = crate::common::GitRepo::new();
    repo.write(b"f", b"1\n");
    repo.commit_all_at(1_704_067_200, None, "first");
    store.ingest(repo.path());
    seed_flow(&store);
    let server = Server::start(&store, None);
    let dom = load(
        &chromium,
        &server,
        "/?page=flow&since=2024-01-01&until=2024-02-01",
    );
    let link = Regex::new(r#"id="report-link" href="([^"]+)""#).unwrap();
    let href = link
        .captures(&dom)
        .unwrap_or_else(|| panic!("no report link: {dom}"))[1]
        .replace("&amp;", "&");
    assert_eq!(href, "/report?since=2024-01-01&until=2024-02-01");
    let report = server.get(&href).send().unwrap();
    assert_eq!(report.status().as_u16(), 200);
    let text = report.text().unwrap();
    assert!(text.contains("2024-01-01"), "{text}");
}

/// The Outcomes page shows every key result's progress and current value as the API has
/// them, and the product metrics' weekly chart.
#[test]
fn the_outcomes_page_shows_the_key_results_of_the_api() {
    let Some(chromium) = chromium() else { return };
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments) = crate::anomalies::history(dir.path());
    let events = dir.path().join("events.csv");
    std::fs::write(&events, crate::product::csv()).unwrap();
    store.ingest(repo.path());
    for (what, file) in [("deployments", &deployments), ("events", &events)] {
        store.run(&[
            std::ffi::OsStr::new("import"),
            std::ffi::OsStr::new(what),
            file.as_os_str(),
        ]);
    }
    let okrs = dir.path().join("okrs.toml");
    std::fs::write(&okrs, crate::okr::OKRS).unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n[okrs]\nfile = {:?}\n",
            crate::product::CONFIG,
            okrs.display().to_string()
        ),
    )
    .unwrap();
    let server = Server::start(&store, Some(&config));
    let api_okrs = api(&server, "/api/v1/okrs");
    let dom = load(&chromium, &server, "/?page=outcomes");
    let bars = Regex::new(r#"data-kr="([^"]+)" data-progress="([^"]*)""#).unwrap();
    let shown: Vec<(String, String)> = bars
        .captures_iter(&dom)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let expected: Vec<(String, String)> = api_okrs[0]["key_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let p = &k["progress"];
            (
                k["id"].as_str().unwrap().to_owned(),
                if p.is_null() {
                    "null".to_owned()
                } else {
                    p.as_f64().unwrap().to_string()
                },
            )
        })
        .collect();
    assert_eq!(shown, expected, "{dom}");
    assert!(expected.iter().any(|(_, p)| p != "null"), "{api_okrs}");
    let current = Regex::new(r#"data-kr-current="O1.KR2" data-value="([^"]*)""#).unwrap();
    let value = &current.captures(&dom).expect("KR2's current value")[1];
    assert_eq!(
        value,
        api_okrs[0]["key_results"][1]["current"]
            .as_f64()
            .unwrap()
            .to_string()
    );
    assert!(
        dom.contains(r#"data-card="product""#) && dom.contains("first-report activation"),
        "{dom}"
    );
}

/// The Scorecards page shows each service's level as the API has it, with its checks.
#[test]
fn the_scorecards_page_shows_the_levels_of_the_api() {
    let Some(chromium) = chromium() else { return };
    let store = TestStore::sqlite();
    let repo = crate::common::GitRepo::new();
    repo.write(b"CODEOWNERS", b"* @team-a\n");
    repo.commit_all("init");
    let bare = crate::common::GitRepo::new();
    bare.write(b"README.md", b"hello\n");
    bare.commit_all("init");
    store.ingest(repo.path());
    store.ingest(bare.path());
    let dir = tempfile::tempdir().unwrap();
    let cards = dir.path().join("scorecards.toml");
    std::fs::write(
        &cards,
        "[[check]]\nname = \"CODEOWNERS\"\nlevel = \"bronze\"\nexists = \"CODEOWNERS\"\nhint = \"Add one\"\n",
    )
    .unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!("[scorecards]\nfile = {:?}\n", cards.display().to_string()),
    )
    .unwrap();
    let server = Server::start(&store, Some(&config));
    let listed = api(&server, "/api/v1/scorecards");
    let dom = load(&chromium, &server, "/?page=scorecards");
    let shown = Regex::new(r#"data-scorecard="([^"]+)" data-level="([^"]+)""#).unwrap();
    let got: Vec<(String, String)> = shown
        .captures_iter(&dom)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let expected: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["service"].as_str().unwrap().to_owned(),
                c["level"].as_str().unwrap_or("none").to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{dom}");
    assert!(
        expected.iter().any(|(_, l)| l == "bronze") && expected.iter().any(|(_, l)| l == "none")
    );
    assert!(
        dom.contains(r#"data-pass="false""#) && dom.contains("Add one"),
        "{dom}"
    );
}

/// The Flow page's wellbeing card shows the API's groups and shares, and no person.
#[test]
fn the_flow_page_shows_wellbeing_by_team() {
    let Some(chromium) = chromium() else { return };
    let store = TestStore::sqlite();
    let repo = crate::common::GitRepo::new();
    for (n, who) in ["a1", "a2", "a3", "a4", "a5", "a1"].iter().enumerate() {
        repo.write(b"f", format!("{n}\n").as_bytes());
        repo.commit_all_at(
            1_714_726_800 + n as i64 * 3_600,
            Some(&format!("{who} <{who}@example.com>")),
            "c",
        );
    }
    store.ingest(repo.path());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        "[[teams]]\nname = \"core\"\nmembers = [\"a1@example.com\", \"a2@example.com\", \"a3@example.com\", \"a4@example.com\", \"a5@example.com\"]\n",
    )
    .unwrap();
    let server = Server::start(&store, Some(&config));
    let flow = api(&server, "/api/v1/flow");
    let path = format!(
        "/api/v1/wellbeing?since={}&until={}",
        flow["since"].as_str().unwrap(),
        flow["until"].as_str().unwrap()
    )
    .replace('+', "%2B");
    let wellbeing = api(&server, &path);
    let dom = load(&chromium, &server, "/?page=flow");
    let shown = Regex::new(r#"data-off-hours="([^"]*)""#).unwrap();
    let got: Vec<String> = shown.captures_iter(&dom).map(|c| c[1].to_owned()).collect();
    let expected: Vec<String> = wellbeing["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g["commits"]["off_hours_share"]
                .as_f64()
                .map_or("null".to_owned(), |v| v.to_string())
        })
        .collect();
    assert_eq!(got, expected, "{dom}");
    assert!(dom.contains(r#"data-wellbeing="core""#), "{dom}");
    assert!(!dom.contains("example.com"), "a person on the page");
}

#[test]
fn the_flow_page_shows_the_team_pulse_of_the_api() {
    let Some(chromium) = chromium() else { return };
    let store = TestStore::sqlite();
    let repo = GitRepo::new();
    repo.write(b"f", b"1\n");
    repo.commit_all("first");
    store.ingest(repo.path());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        "[surveys]\nmin_respondents = 2\n[[teams]]\nname = \"core\"\nmembers = []\n",
    )
    .unwrap();
    let csv = dir.path().join("pulse.csv");
    std::fs::write(
        &csv,
        "Email,team,ps1,ps2,ps4\na@example.com,core,2,6,5\nb@example.com,core,7,3,\n",
    )
    .unwrap();
    let imported = store
        .leadline()
        .arg("--config")
        .arg(&config)
        .args(["import", "survey"])
        .arg(&csv)
        .args(["--instrument", "psychological_safety", "--wave", "2026-10"])
        .output()
        .unwrap();
    assert!(imported.status.success());
    let server = Server::start(&store, Some(&config));
    let groups = api(&server, "/api/v1/survey?by=wave");
    let dom = load(&chromium, &server, "/?page=flow");
    let shown = Regex::new(r#"data-survey="([^"]+)" data-value="([^"]*)""#).unwrap();
    let got: Vec<(String, String)> = shown
        .captures_iter(&dom)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let expected: Vec<(String, String)> = groups
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            let prefix = format!(
                "{}/{}/{}",
                g["instrument"].as_str().unwrap(),
                g["group"].as_str().unwrap(),
                g["wave"].as_str().unwrap()
            );
            g["scores"]
                .as_object()
                .unwrap()
                .iter()
                .map(move |(name, v)| {
                    (
                        format!("{prefix}/{name}"),
                        v.as_f64().map_or("null".to_owned(), |v| v.to_string()),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected, "{dom}");
    assert!(!dom.contains("example.com"), "a respondent on the page");
}
