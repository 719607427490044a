//! Health benchmark and cross-check: `leadline health` against an independent calculation from
//! `git log --numstat` and HEAD's blobs (`bench/health_reference.py`) on the same repository,
//! timed in one run, with leadline's peak memory; then every hotspot, coupled pair and area's
//! knowledge figures are compared.
//!
//! `bench/health [PATH] [--commits N] [--files N] [--seed N] [--keep DIR]`: without PATH, a
//! deterministic synthetic repository is built with `git fast-import` (100k commits, 3k files
//! by default), in DIR when given (and reused from there on later runs).

#[path = "common/args.rs"]
mod args;
#[path = "../tests/it/common/synth.rs"]
mod synth;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

fn main() {
    let (repo, scratch) = args::repository(100_000);
    let db = scratch.path().join("leadline.db");
    let (ingest, ingest_peak) = leadline(&db, &["ingest", "git", &repo.display().to_string()]);
    println!(
        "ingest: {:.2} s, peak {ingest_peak}",
        ingest.0.as_secs_f64()
    );

    let ((table, _), table_peak) = leadline(&db, &["health"]);
    let ((json_time, json), json_peak) =
        leadline(&db, &["health", "--format", "json", "--top", "100000000"]);
    let report: Value = serde_json::from_slice(&json).expect("health json");
    let report = &report[0];
    let ms = |field: &str| {
        report[field]
            .as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .expect("a window")
            .as_millisecond()
            .to_string()
    };
    let t = Instant::now();
    let reference = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/health_reference.py"))
        .arg(&repo)
        .args([ms("since"), ms("until")])
        .output()
        .expect("python3 runs");
    let python = t.elapsed();
    assert!(
        reference.status.success(),
        "{}",
        String::from_utf8_lossy(&reference.stderr)
    );
    let reference: Value = serde_json::from_slice(&reference.stdout).expect("reference json");

    println!(
        "window {} to {}",
        report["since"].as_str().unwrap_or("?"),
        report["until"].as_str().unwrap_or("?")
    );
    println!(
        "leadline health (table):      {:7.2} s, peak {table_peak}",
        table.as_secs_f64()
    );
    println!(
        "leadline health (json, all):  {:7.2} s, peak {json_peak}",
        json_time.as_secs_f64()
    );
    println!(
        "reference from git log:       {:7.2} s   (leadline / reference {:.2})",
        python.as_secs_f64(),
        table.as_secs_f64() / python.as_secs_f64()
    );
    let mut mismatches = 0;
    mismatches += compare(
        "hotspots",
        rows(
            report,
            "hotspots",
            &["path", "revisions", "complexity", "score"],
        ),
        rows(
            &reference,
            "hotspots",
            &["path", "revisions", "complexity", "score"],
        ),
    );
    mismatches += compare(
        "coupled pairs",
        rows(report, "coupling", &["a", "b", "shared"]),
        rows(&reference, "coupling", &["a", "b", "shared"]),
    );
    let knowledge = ["area", "changes", "active_authors", "knowledge_risk"];
    mismatches += compare(
        "areas",
        rows(report, "areas", &knowledge),
        rows(&reference, "areas", &knowledge),
    );
    mismatches += compare("main author shares", shares(report), shares(&reference));
    println!("mismatches: {mismatches}");
}

/// (leadline's output, its peak memory) of `leadline -v --db DB ARGS`, timed.
fn leadline(db: &Path, args: &[&str]) -> ((Duration, Vec<u8>), String) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_leadline"))
        .arg("--db")
        .arg(db)
        .arg("-v")
        .args(args)
        .output()
        .expect("run leadline");
    let elapsed = t.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "leadline {args:?} failed: {stderr}");
    let peak = stderr
        .lines()
        .find_map(|l| l.split("peak memory ").nth(1))
        .unwrap_or("(not reported)")
        .to_owned();
    ((elapsed, out.stdout), peak)
}

/// The named fields of each row of `report[section]`, as text.
fn rows(report: &Value, section: &str, fields: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = report[section]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    fields
                        .iter()
                        .map(|f| r[*f].to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn shares(report: &Value) -> Vec<String> {
    let mut by_area: BTreeMap<String, String> = BTreeMap::new();
    for a in report["areas"].as_array().into_iter().flatten() {
        let share = a["main_author_share"]
            .as_f64()
            .map_or("none".to_owned(), |s| format!("{s:.6}"));
        by_area.insert(a["area"].to_string(), share);
    }
    by_area
        .into_iter()
        .map(|(a, s)| format!("{a} {s}"))
        .collect()
}

/// Prints how many rows agree and the first differences; returns the number of differences.
fn compare(what: &str, leadline: Vec<String>, reference: Vec<String>) -> usize {
    let only_leadline: Vec<&String> = leadline.iter().filter(|r| !reference.contains(r)).collect();
    let only_reference: Vec<&String> = reference.iter().filter(|r| !leadline.contains(r)).collect();
    println!(
        "{what}: leadline {} rows, reference {} rows, {} only in leadline, {} only in the reference",
        leadline.len(),
        reference.len(),
        only_leadline.len(),
        only_reference.len()
    );
    for r in only_leadline.iter().take(5) {
        println!("  leadline:  {r}");
    }
    for r in only_reference.iter().take(5) {
        println!("  reference: {r}");
    }
    only_leadline.len() + only_reference.len()
}
