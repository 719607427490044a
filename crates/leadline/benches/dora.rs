//! DORA benchmark: a synthetic store of 100k commits, 5k deployments and 200 incidents; times
//! `leadline dora` for one 90-day window and a 52-week trend (whole process: open the store,
//! load, attribute, compute, print), and the in-process attribution and key computation alone.
//!
//! `bench/dora [--commits N] [--deployments N]`

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use leadline_core::dora::{self, Bands, CommitNode, Scope, Window};
use leadline_core::model::{Commit, Deployment, Identity, Incident, Signature};
use leadline_core::store::prelude::*;
use leadline_store::{Location, SqlStore};

const DAY: i64 = 86_400_000;
// 2023-01-02, a Monday.
const START: i64 = 1_672_617_600_000;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let (mut commits, mut deployments) = (100_000usize, 5_000usize);
    while let Some(arg) = args.next() {
        let n = args.next().and_then(|v| v.parse().ok()).expect("a number");
        match arg.as_str() {
            "--commits" => commits = n,
            "--deployments" => deployments = n,
            other => panic!("unknown option {other}"),
        }
    }
    let span = 730 * DAY;
    let history = synthetic_commits(commits, span);
    let deploys: Vec<Deployment> = (0..deployments)
        .map(|i| {
            let at = START + span * (i as i64 + 1) / deployments as i64;
            let sha = &history[(commits - 1) * (i + 1) / deployments].sha;
            deployment(format!("d{i}"), sha, at + DAY / 24)
        })
        .collect();
    let incidents: Vec<Incident> = (0..200)
        .map(|i| {
            let opened = START + span * i / 200 + DAY / 3;
            Incident {
                id: format!("i{i}"),
                service: "api".into(),
                opened_at: opened,
                resolved_at: Some(opened + (i % 7 + 1) * 3_600_000),
                severity: None,
                title: None,
                cause_deployment: None,
                cause_sha: None,
                postmortem_url: None,
                fix_deployment: None,
                fix_sha: None,
                ..Incident::default()
            }
        })
        .collect();

    let dir = tempfile::tempdir().expect("temp dir");
    // LEADLINE_BENCH_DB keeps the synthetic store for profiling.
    let db = std::env::var_os("LEADLINE_BENCH_DB")
        .map_or_else(|| dir.path().join("dora.db"), Into::into);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let t = Instant::now();
    rt.block_on(async {
        let store = SqlStore::open(&Location::Sqlite(db.clone()))
            .await
            .expect("store");
        let (repo, _) = store
            .upsert_repository("api-repo", "/synthetic")
            .await
            .expect("repo");
        for chunk in history.chunks(5_000) {
            store.insert_commits(repo.id, chunk).await.expect("commits");
        }
        // As an ingest ends: refs and cursor recorded, the commit graph stored.
        store
            .finish_ingest(repo.id, &[], &[], ("git", "/synthetic", "bench"))
            .await
            .expect("finish");
        store
            .upsert_deployments("bench", &deploys)
            .await
            .expect("deployments");
        store
            .upsert_incidents("bench", &incidents)
            .await
            .expect("incidents");
        store.close().await.unwrap();
    });
    println!(
        "synthetic store: {commits} commits, {deployments} deployments, 200 incidents (built in {:.1} s)",
        t.elapsed().as_secs_f64()
    );

    let window = ["--since", "2024-10-07", "--until", "2025-01-05"];
    let trend = [
        "--since",
        "2024-01-01",
        "--until",
        "2024-12-30",
        "--by",
        "week",
    ];
    let one = median_of(5, || run(&db, &window));
    let weekly = median_of(5, || run(&db, &trend));
    println!(
        "leadline dora, one 90-day window   {:>8.1} ms (whole process, median of 5)",
        ms(one)
    );
    println!(
        "leadline dora --by week, 52 weeks  {:>8.1} ms (whole process, median of 5)",
        ms(weekly)
    );

    let nodes: Vec<CommitNode> = history
        .iter()
        .map(|c| CommitNode {
            sha: c.sha.clone(),
            parents: c.parents.clone(),
            committed_at: c.committer.at,
            bot: false,
        })
        .collect();
    let scope = Scope {
        environment: "production",
        service: Some("api"),
        paths: None,
    };
    let t = Instant::now();
    let attribution = dora::attribute(&deploys, &incidents, &nodes, &HashSet::new(), scope);
    let attribute_time = t.elapsed();
    let t = Instant::now();
    let w = Window {
        since: START + 640 * DAY,
        until: START + 730 * DAY,
    };
    let keys = dora::keys(&attribution, w, &Bands::default());
    let keys_time = t.elapsed();
    println!(
        "in process: attribution {:.1} ms, keys for one window {:.3} ms ({} deployments, {} changes)",
        ms(attribute_time),
        ms(keys_time),
        keys.deployment_frequency.deployments,
        keys.lead_time.changes
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median_of(n: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..n).map(|_| f()).collect();
    times.sort();
    times[n / 2]
}

fn run(db: &std::path::Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_leadline"))
        .arg("--db")
        .arg(db)
        .args(["-q", "dora", "--service", "api", "--format", "json"])
        .args(args)
        .output()
        .expect("run leadline");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed()
}

fn deployment(id: String, sha: &str, at: i64) -> Deployment {
    Deployment {
        id,
        service: "api".into(),
        environment: "production".into(),
        sha: sha.to_owned(),
        started_at: None,
        finished_at: at,
        status: "success".into(),
        repo: None,
    }
}

/// A main line with a merged side commit every 20 commits, spread evenly over `span`.
fn synthetic_commits(n: usize, span: i64) -> Vec<Commit> {
    let sha = |i: usize| format!("{i:040x}");
    (0..n)
        .map(|i| {
            let at = START + span * i as i64 / n as i64;
            let parents = match i {
                0 => vec![],
                i if i % 20 == 0 && i >= 2 => vec![sha(i - 1), sha(i - 2)],
                i => vec![sha(i - 1)],
            };
            let who = Signature {
                identity: Identity {
                    name: format!("dev{}", i % 40),
                    email: format!("dev{}@example.com", i % 40),
                },
                raw: None,
                at,
                offset_minutes: 0,
            };
            Commit {
                sha: sha(i),
                parents,
                author: who.clone(),
                committer: who,
                subject: format!("change {i}"),
                body: String::new(),
                trailers: vec![],
                file_changes: vec![],
            }
        })
        .collect()
}
