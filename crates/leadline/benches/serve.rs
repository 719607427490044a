//! Load on a real `leadline serve` over loopback: concurrent signed GitHub deliveries (new ones
//! and redeliveries) mixed with API reads, then a check that every delivery was stored exactly
//! once. Prints latency percentiles per kind of request, with `/healthz` on the same server as
//! the peer (the cost of HTTP alone).
//!
//! `bench/serve [--threads N] [--requests N] [--db URL]`

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use leadline_core::store::prelude::*;
use serde_json::Value;

const SECRET: &str = "bench-secret";

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Delivery,
    Redelivery,
    ListDeployments,
    Dora,
    Health,
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let (mut threads, mut requests, mut db) = (16usize, 200usize, None::<String>);
    while let Some(arg) = args.next() {
        let value = args.next().expect("a value");
        match arg.as_str() {
            "--threads" => threads = value.parse().expect("a number"),
            "--requests" => requests = value.parse().expect("a number"),
            "--db" => db = Some(value),
            other => panic!("unknown option {other}"),
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db.unwrap_or_else(|| dir.path().join("serve.db").display().to_string());
    let bin = env!("CARGO_BIN_EXE_leadline");
    let mut server = Command::new(bin)
        .args(["--db", &db, "serve", "--addr", "127.0.0.1:0"])
        .env("LEADLINE_GITHUB_WEBHOOK_SECRET", SECRET)
        .env("LEADLINE_LOG", "error")
        .stderr(Stdio::piped())
        .spawn()
        .expect("leadline serve starts");
    let stderr = server.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("a listening line").expect("readable");
        if let Some(url) = line.strip_prefix("leadline listening on ") {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let template: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../leadline-sources/tests/fixtures/github/deployment_status/payload.json"
        ))
        .expect("fixture"),
    )
    .expect("json");
    let samples: Arc<Mutex<Vec<(Kind, Duration, u16)>>> = Arc::default();
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (url, template, samples) = (url.clone(), template.clone(), samples.clone());
            std::thread::spawn(move || {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let client = reqwest::blocking::Client::new();
                let mut mine: Vec<(Kind, Duration, u16)> = Vec::with_capacity(requests);
                let mut sent: Vec<(String, Vec<u8>)> = Vec::new();
                for i in 0..requests {
                    let kind = match i % 10 {
                        0..=4 => Kind::Delivery,
                        5 if !sent.is_empty() => Kind::Redelivery,
                        5 | 6 => Kind::Health,
                        7 | 8 => Kind::ListDeployments,
                        _ => Kind::Dora,
                    };
                    let request = match kind {
                        Kind::Delivery | Kind::Redelivery => {
                            let (id, body) = if kind == Kind::Delivery {
                                let n = t * requests + i;
                                let mut body = template.clone();
                                body["deployment"]["id"] = n.into();
                                body["deployment"]["sha"] = format!("{n:040x}").into();
                                let entry =
                                    (format!("bench-{n}"), serde_json::to_vec(&body).unwrap());
                                sent.push(entry.clone());
                                entry
                            } else {
                                sent[i % sent.len()].clone()
                            };
                            client
                                .post(format!("{url}/webhooks/github"))
                                .header("X-GitHub-Event", "deployment_status")
                                .header("X-GitHub-Delivery", id)
                                .header("X-Hub-Signature-256", sign(&body))
                                .body(body)
                        }
                        Kind::ListDeployments => {
                            client.get(format!("{url}/api/v1/deployments?limit=100"))
                        }
                        Kind::Dora => client.get(format!("{url}/api/v1/dora")),
                        Kind::Health => client.get(format!("{url}/healthz")),
                    };
                    let t0 = Instant::now();
                    let status = request
                        .send()
                        .map(|r| {
                            let s = r.status().as_u16();
                            let _ = r.bytes();
                            s
                        })
                        .unwrap_or(0);
                    mine.push((kind, t0.elapsed(), status));
                }
                samples.lock().expect("not poisoned").extend(mine);
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let elapsed = started.elapsed();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();

    let samples = samples.lock().expect("not poisoned");
    let expected_new = samples.iter().filter(|s| s.0 == Kind::Delivery).count();
    let failed = samples
        .iter()
        .filter(|s| !(200..300).contains(&s.2))
        .count();
    println!(
        "{} requests from {threads} threads in {:.2} s ({:.0}/s), {failed} not 2xx",
        samples.len(),
        elapsed.as_secs_f64(),
        samples.len() as f64 / elapsed.as_secs_f64()
    );
    let mut by_kind: HashMap<Kind, Vec<Duration>> = HashMap::new();
    for (kind, latency, _) in samples.iter() {
        by_kind.entry(*kind).or_default().push(*latency);
    }
    let health_p50 = percentile(by_kind.get_mut(&Kind::Health).expect("health samples"), 50);
    println!("kind                     count      p50      p90      p99      max   p50/healthz");
    for kind in [
        Kind::Delivery,
        Kind::Redelivery,
        Kind::ListDeployments,
        Kind::Dora,
        Kind::Health,
    ] {
        let Some(times) = by_kind.get_mut(&kind) else {
            continue;
        };
        let (p50, p90, p99) = (
            percentile(times, 50),
            percentile(times, 90),
            percentile(times, 99),
        );
        let max = *times.iter().max().expect("samples");
        println!(
            "{:<22} {:>7} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>10.1}",
            format!("{kind:?}"),
            times.len(),
            ms(p50),
            ms(p90),
            ms(p99),
            ms(max),
            p50.as_secs_f64() / health_p50.as_secs_f64()
        );
    }

    // Nothing lost, nothing twice: one delivery row and one deployment per new delivery.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let counts: HashMap<String, i64> = rt.block_on(async {
        let store = leadline_store::SqlStore::open(
            &leadline_store::Location::parse(&db).expect("location"),
        )
        .await
        .expect("store");
        let counts = store.row_counts().await.expect("counts");
        store.close().await.unwrap();
        counts.into_iter().collect()
    });
    let (deliveries, deployments) = (counts["webhook_deliveries"], counts["deployments"]);
    println!(
        "stored: {deliveries} deliveries, {deployments} deployments for {expected_new} distinct deliveries"
    );
    assert_eq!(failed, 0, "every request answered 2xx");
    assert_eq!(
        deliveries as usize, expected_new,
        "deliveries lost or duplicated"
    );
    assert_eq!(
        deployments as usize, expected_new,
        "deployments lost or duplicated"
    );
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Nearest rank.
fn percentile(times: &mut [Duration], p: usize) -> Duration {
    times.sort();
    let rank = (p * times.len()).div_ceil(100).max(1);
    times[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
