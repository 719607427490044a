//! `leadline report`: the summary's sentences on hand-made stores, the numbers against the
//! CLI's JSON, determinism, a git-only store, no external requests, and Chromium (the page
//! with the network off, and the PDF).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use crate::common::{GitRepo, TestStore, json_stdout};

const SINCE: &str = "2026-10-01";
const UNTIL: &str = "2026-10-31";
const HOUR: i64 = 3600;
/// 2026-09-01T00:00:00Z: the previous period of the window above starts here.
const SEPTEMBER: i64 = 1_788_220_800;
/// 2026-10-01T00:00:00Z.
const OCTOBER: i64 = 1_790_812_800;

/// `before` deployments in September and `now` in October, each of a commit made
/// `lead_hours` earlier.
fn delivery(store: &TestStore, dir: &Path, before: usize, now: usize, lead_hours: i64) -> GitRepo {
    let repo = GitRepo::new();
    let mut csv = String::from("id,service,environment,sha,finished_at\n");
    let mut n = 0;
    for (start, count) in [(SEPTEMBER, before), (OCTOBER, now)] {
        for k in 0..count {
            let at = start + 86_400 + k as i64 * 2 * 86_400;
            repo.write(b"f", format!("{n}\n").as_bytes());
            let sha = repo.commit_all_at(at, None, &format!("change {n}"));
            let deployed = jiff::Timestamp::from_second(at + lead_hours * HOUR).unwrap();
            csv.push_str(&format!("D{n},api,production,{sha},{deployed}\n"));
            n += 1;
        }
    }
    store.ingest(repo.path());
    let file = dir.join("deployments.csv");
    std::fs::write(&file, csv).unwrap();
    store.run(&[
        OsStr::new("import"),
        OsStr::new("deployments"),
        file.as_os_str(),
    ]);
    repo
}

fn report(store: &TestStore, dir: &Path, extra: &[&str]) -> String {
    let out = dir.join("report.html");
    let mut args = vec![
        "report",
        "--since",
        SINCE,
        "--until",
        UNTIL,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let run = store.leadline().args(&args).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(out).unwrap()
}

fn summary(html: &str) -> Vec<String> {
    let section = html
        .split("<section id=\"summary\">")
        .nth(1)
        .and_then(|s| s.split("</ul>").next())
        .unwrap();
    Regex::new(r"<li>(.*?)</li>")
        .unwrap()
        .captures_iter(section)
        .map(|c| c[1].replace("&#39;", "'"))
        .collect()
}

/// (metric, period) → value, from the page's data attributes.
fn shown(html: &str) -> Vec<(String, String, f64)> {
    Regex::new(r#"data-metric="([^"]+)" data-period="([^"]+)" data-value="([^"]+)""#)
        .unwrap()
        .captures_iter(html)
        .map(|c| (c[1].to_owned(), c[2].to_owned(), c[3].parse().unwrap()))
        .collect()
}

#[test]
fn the_summary_says_up_down_the_same_and_no_data() {
    let cases: [(usize, usize, &str); 3] = [
        (3, 6, "Teams deployed 6 times a month, up from 3 (better)."),
        (6, 2, "Teams deployed 2 times a month, down from 6 (worse)."),
        (
            4,
            4,
            "Teams deployed 4 times a month, the same as in the previous period.",
        ),
    ];
    for (before, now, expected) in cases {
        for store in TestStore::both() {
            let dir = tempfile::tempdir().unwrap();
            let _repo = delivery(&store, dir.path(), before, now, 5);
            let lines = summary(&report(&store, dir.path(), &[]));
            assert_eq!(lines[0], expected, "{}", store.backend);
            assert_eq!(
                lines[1],
                "A change took 5.0 hours from commit to production (the median lead time), the same as in the previous period."
            );
        }
    }
    let empty = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let html = report(&empty, dir.path(), &[]);
    let lines = summary(&html);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("No deployments were recorded in this period or the one before"));
    assert!(!html.contains("<section id=\"delivery\">"));
}

#[test]
fn every_number_equals_the_cli_and_the_page_is_self_contained_and_deterministic() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let _repo = delivery(&store, dir.path(), 4, 7, 30);
    let html = report(&store, dir.path(), &[]);
    let cli = |since: &str, until: &str| {
        json_stdout(store.leadline().args([
            "dora", "--since", since, "--until", until, "--format", "json",
        ]))
    };
    let now = cli(SINCE, UNTIL);
    let before = cli("2026-09-01", SINCE);
    let numbers = shown(&html);
    let dora: Vec<_> = numbers
        .iter()
        .filter(|(m, ..)| m.starts_with("dora."))
        .collect();
    assert!(dora.len() >= 6, "{dora:?}");
    for (metric, period, value) in dora {
        let report = if period == "now" { &now } else { &before };
        let pointer = format!("/{}", metric.trim_start_matches("dora.").replace('.', "/"));
        let expected = report.pointer(&pointer).and_then(Value::as_f64);
        // serde_json's default float parser may land one ulp away from the shortest form.
        let close = expected.is_some_and(|e| (e - value).abs() <= 1e-12 * e.abs().max(1.0));
        assert!(close, "{metric} ({period}): page {value}, CLI {expected:?}");
    }
    // Nothing loads from anywhere: no src, href or url() at all.
    let external = Regex::new(r#"(?i)(src|href)\s*=|url\("#).unwrap();
    assert!(!external.is_match(&html), "{:?}", external.find(&html));
    assert!(!html.contains("<script"));
    // Every chart is titled for screen readers; every table has a caption.
    assert_eq!(
        html.matches("<svg").count(),
        html.matches("<title id=").count()
    );
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("<caption>").count()
    );
    // The same store and options give the same bytes.
    let again = report(&store, dir.path(), &[]);
    assert!(again == html, "two runs differ");
    // The Quick Check score is the mean of the keys' scores: 7 deployments in 30 days
    // (weekly: 6), a 30-hour lead time (a day to a week: 6), no failures (10), no recovery.
    let score = numbers
        .iter()
        .find(|(m, ..)| m == "quick_check.score")
        .map(|(.., v)| *v);
    assert!(
        score.is_some_and(|s| (s - 22.0 / 3.0).abs() < 1e-9),
        "{score:?}"
    );
}

#[test]
fn a_store_with_only_git_history_gives_a_short_useful_report() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let repo = GitRepo::new();
    for k in 0..5 {
        repo.write(b"a", format!("{k}\n").as_bytes());
        repo.commit_all_at(OCTOBER + k * 86_400, None, &format!("work {k}"));
    }
    store.ingest(repo.path());
    let html = report(&store, dir.path(), &[]);
    let sections: Vec<&str> = Regex::new(r#"<section id="([a-z]+)">"#)
        .unwrap()
        .captures_iter(&html)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(sections, ["summary", "delivery", "appendix"], "{html}");
    // It says what the deployments rest on, and how to make them real.
    assert!(html.contains("no release tags"), "{html}");
    assert!(html.contains("Data sources and their freshness"));
    assert!(summary(&html)[0].starts_with("Teams deployed 5 times a month"));
}

fn chromium() -> Option<PathBuf> {
    match std::env::var("LEADLINE_TEST_CHROMIUM").as_deref() {
        Ok("skip") => None,
        Ok(path) => Some(PathBuf::from(path)),
        Err(_) => Some(PathBuf::from("/usr/bin/chromium")),
    }
}

#[test]
fn chromium_loads_the_page_offline_and_prints_a_pdf_of_several_pages() {
    let Some(chromium) = chromium() else {
        return;
    };
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let _repo = delivery(&store, dir.path(), 4, 7, 30);
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!(
            "[report]\nchromium = {:?}\n",
            chromium.display().to_string()
        ),
    )
    .unwrap();
    let pdf = dir.path().join("report.pdf");
    let html = report(
        &store,
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--pdf",
            pdf.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let pages = Regex::new(r"/Type\s*/Page[^s]")
        .unwrap()
        .find_iter(&String::from_utf8_lossy(&bytes))
        .count();
    assert!(pages > 1, "{pages} pages");

    // The page in Chromium with every network request refused: it renders whole, with no
    // failed request and no console message.
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!(
            "file://{}",
            dir.path().join("report.html").display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    for bad in ["Failed to load", "ERR_", "CONSOLE", "Uncaught"] {
        assert!(!log.contains(bad), "{bad} in Chromium's log:\n{log}");
    }
    // The DOM Chromium built shows the numbers the file holds.
    assert_eq!(shown(&dom), shown(&html));
}

#[test]
fn outcomes_and_reliability_join_when_they_have_data() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let _repo = delivery(&store, dir.path(), 4, 7, 30);
    let incidents = dir.path().join("incidents.csv");
    std::fs::write(
        &incidents,
        "id,service,severity,opened_at,resolved_at\n\
         I1,api,sev1,2026-10-05T10:00:00Z,2026-10-05T12:00:00Z\n\
         I2,api,sev2,2026-10-12T10:00:00Z,2026-10-12T10:30:00Z\n\
         I3,api,sev2,2026-09-12T10:00:00Z,2026-09-12T11:00:00Z\n",
    )
    .unwrap();
    store.run(&[
        OsStr::new("import"),
        OsStr::new("incidents"),
        incidents.as_os_str(),
    ]);
    let okrs = dir.path().join("okrs.toml");
    std::fs::write(
        &okrs,
        "[[objective]]\nid = \"O1\"\ntitle = \"Ship more often\"\nperiod = \"2026-Q4\"\n\n\
         [[objective.key_result]]\nid = \"O1.KR1\"\ntitle = \"Ten deployments\"\n\
         metric = \"dora.deployment_frequency.deployments\"\ntarget = 10\nbaseline = 0\n",
    )
    .unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!("[okrs]\nfile = {:?}\n", okrs.display().to_string()),
    )
    .unwrap();
    let html = report(&store, dir.path(), &["--config", config.to_str().unwrap()]);
    let order: Vec<&str> = Regex::new(r#"<section id="([a-z-]+)">"#)
        .unwrap()
        .captures_iter(&html)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(
        order,
        ["summary", "delivery", "outcomes", "reliability", "appendix"],
        "{html}"
    );
    assert!(html.contains("Ship more often") && html.contains("Ten deployments"));
    let numbers = shown(&html);
    let get = |name: &str, period: &str| {
        numbers
            .iter()
            .find(|(m, p, _)| m == name && p == period)
            .map(|(.., v)| *v)
    };
    assert_eq!(get("incidents.incidents.total", "now"), Some(2.0));
    assert_eq!(get("incidents.incidents.total", "before"), Some(1.0));
    assert_eq!(
        get("incidents.incidents.by_severity.sev1", "now"),
        Some(1.0)
    );
    assert_eq!(
        get("incidents.incidents.by_severity.sev2", "now"),
        Some(1.0)
    );
    assert!(summary(&html).contains(&"2 incidents were recorded, up from 1 (worse).".to_owned()));
}

#[test]
fn serve_publishes_the_same_report_at_slash_report_to_readers() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let _repo = delivery(&store, dir.path(), 2, 5, 3);
    let file = report(&store, dir.path(), &[]);
    let read = store.token("read");
    let server = crate::server::Server::start(&store, None);
    let path = format!("/report?since={SINCE}&until={UNTIL}");
    assert_eq!(server.get(&path).send().unwrap().status(), 401);
    let answer = server.get(&path).bearer_auth(&read).send().unwrap();
    assert_eq!(answer.status(), 200);
    let csp = answer.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = answer.text().unwrap();
    assert!(page == file, "the served page differs from the file");
    // Every DORA number on the page is the API's for the same window.
    let api: Value = server
        .get(&format!("/api/v1/dora?since={SINCE}&until={UNTIL}"))
        .bearer_auth(&read)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let now: Vec<_> = shown(&page)
        .into_iter()
        .filter(|(m, p, _)| m.starts_with("dora.") && p == "now")
        .collect();
    assert!(now.len() >= 4, "{now:?}");
    for (metric, _, value) in now {
        let pointer = format!("/{}", metric.trim_start_matches("dora.").replace('.', "/"));
        let expected = api.pointer(&pointer).and_then(Value::as_f64);
        let close = expected.is_some_and(|e| (e - value).abs() <= 1e-12 * e.abs().max(1.0));
        assert!(close, "{metric}: page {value}, API {expected:?}");
    }
    let bad = server
        .get("/report?period=decade")
        .bearer_auth(&read)
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);
}
