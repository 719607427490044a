//! `leadline platform adoption|impact` on a generated fleet: eight services deploying every
//! day; four adopt a deploy workflow at staggered weeks and their lead time drops by a day,
//! four others add a docs folder that changes nothing. The impact recovers the day within its
//! interval, and the docs' interval holds zero.

use std::ffi::OsStr;
use std::path::Path;

use serde_json::Value;

use crate::common::{TestStore, json_stdout};

// 2024-01-01, a Monday.
const START: i64 = 1_704_067_200;
const DAY: i64 = 86_400;
const DAYS: i64 = 36 * 7;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A repository of one commit a day; `deploy_from` and `docs_from` are the days the files
/// appear (and stay). Returns the deployments CSV rows of its service.
fn service(
    dir: &Path,
    name: &str,
    deploy_from: Option<i64>,
    docs_from: Option<i64>,
    seed: u64,
) -> String {
    let repo = dir.join(name);
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let mut stream = String::new();
    for d in 0..DAYS {
        let at = START + d * DAY + 10 * 3600;
        let mut files = format!("M 100644 inline src.txt\ndata {}\n{d:05}\n", 6);
        if deploy_from.is_some_and(|f| d >= f) {
            let body = "jobs:\n  deploy:\n    uses: org/platform/.github/workflows/deploy.yml@v1\n";
            files.push_str(&format!(
                "M 100644 inline .github/workflows/deploy.yml\ndata {}\n{body}",
                body.len()
            ));
        }
        if docs_from.is_some_and(|f| d >= f) {
            files.push_str("M 100644 inline docs/index.md\ndata 5\ndocs\n");
        }
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{}\ncommitter Dev <dev@example.com> {at} +0000\ndata 4\nday\n{files}\n",
            d + 1
        ));
    }
    stream.push_str("done\n");
    let mut child = std::process::Command::new("git")
        .current_dir(&repo)
        .args(["fast-import", "--quiet", "--done"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stream.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    git(&repo, &["reset", "-q", "--hard", "main"]);
    let shas: Vec<String> = git(&repo, &["rev-list", "--reverse", "main"])
        .lines()
        .map(str::to_owned)
        .collect();
    // Lead time: two days, growing half an hour a week for everyone, ± two hours; a day less
    // once the deploy workflow is in.
    let mut state = seed;
    let mut rows = String::new();
    for (d, sha) in shas.iter().enumerate() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 14_400) as i64 - 7_200;
        let mut delay = 2 * DAY + d as i64 / 7 * 1_800 + noise;
        if deploy_from.is_some_and(|f| d as i64 >= f) {
            delay -= DAY;
        }
        let finished =
            jiff::Timestamp::from_second(START + d as i64 * DAY + 10 * 3600 + delay).unwrap();
        rows.push_str(&format!("{name}-{d},{name},production,{sha},{finished}\n"));
    }
    rows
}

#[test]
fn a_known_effect_is_recovered_and_no_effect_holds_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut deployments = String::from("id,service,environment,sha,finished_at\n");
    for (i, (deploy, docs)) in [
        (Some(70), None),
        (Some(98), Some(84)),
        (Some(126), None),
        (Some(154), Some(112)),
        (None, Some(140)),
        (None, None),
        (None, Some(168)),
        (None, None),
    ]
    .into_iter()
    .enumerate()
    {
        deployments.push_str(&service(
            dir.path(),
            &format!("svc{i}"),
            deploy,
            docs,
            0x9E37_79B9 + i as u64,
        ));
    }
    let file = dir.path().join("deployments.csv");
    std::fs::write(&file, deployments).unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        "[platform]\nweeks = 6\nmetrics = [\"dora.lead_time.median_seconds\"]\n\n\
         [[platform.capability]]\nname = \"deploy-workflow\"\nfiles = \".github/workflows/*.yml\"\n\
         contains = \"uses: org/platform/.github/workflows/deploy.yml@\"\n\n\
         [[platform.capability]]\nname = \"docs\"\nfiles = [\"docs/**\"]\n",
    )
    .unwrap();
    let store = TestStore::sqlite();
    for i in 0..8 {
        store.ingest(&dir.path().join(format!("svc{i}")));
    }
    store.run(&[
        OsStr::new("import"),
        OsStr::new("deployments"),
        file.as_os_str(),
    ]);
    let adoption = json_stdout(
        store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args(["platform", "adoption", "--format", "json"]),
    );
    let since = |capability: &str, service: &str| -> Value {
        adoption["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["capability"] == capability && a["service"] == service)
            .unwrap()["since"]
            .clone()
    };
    // The first commit holding the file: day 70 at 10:00.
    assert_eq!(
        since("deploy-workflow", "svc0"),
        "2024-03-11T10:00:00+00:00"
    );
    assert_eq!(since("deploy-workflow", "svc4"), Value::Null);
    assert_eq!(since("docs", "svc1"), "2024-03-25T10:00:00+00:00");
    let impact = json_stdout(
        store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args(["platform", "impact", "--format", "json"]),
    );
    let of = |capability: &str| {
        impact
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["capability"] == capability)
            .unwrap()
            .clone()
    };
    let deploy = of("deploy-workflow");
    let (est, low, high) = (
        deploy["estimate"].as_f64().unwrap(),
        deploy["low"].as_f64().unwrap(),
        deploy["high"].as_f64().unwrap(),
    );
    assert!(
        low <= -86_400.0 && (-86_400.0..0.0).contains(&high),
        "{deploy}"
    );
    assert!((est + 86_400.0).abs() < 10_000.0, "{deploy}");
    assert_eq!(deploy["adopters"], 4);
    assert!(
        deploy["hours_saved_per_month"].as_f64().unwrap() > 0.0,
        "{deploy}"
    );
    let docs = of("docs");
    assert!(
        docs["low"].as_f64().unwrap() <= 0.0 && 0.0 <= docs["high"].as_f64().unwrap(),
        "{docs}"
    );
}
