//! Ingest benchmark: leadline's full ingest into SQLite against `git log --numstat` on the
//! same repository, measured in one run, plus the no-op re-ingest and leadline's peak memory.
//!
//! `bench/ingest [PATH] [--commits N] [--files N] [--seed N] [--keep DIR]`: without PATH, a deterministic
//! synthetic repository is built with `git fast-import` (20k commits, 3k files by default).

#[path = "common/args.rs"]
mod args;
#[path = "../tests/it/common/synth.rs"]
mod synth;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let (repo, scratch) = args::repository(20_000);
    let commits = git_out(
        &repo,
        &[
            "rev-list",
            "--count",
            "--branches",
            "--remotes",
            "--tags",
            "HEAD",
        ],
    );
    println!(
        "repository: {} ({} commits)",
        repo.display(),
        commits.trim()
    );

    let git = time(|| {
        let status = git(&repo)
            .args([
                "log",
                "--branches",
                "--remotes",
                "--tags",
                "HEAD",
                "--numstat",
                "--no-renames",
            ])
            .stdout(Stdio::null())
            .status()
            .expect("git log");
        assert!(status.success());
    });
    let db = scratch.path().join("bench.db");
    let mut peak = String::new();
    let full = time(|| peak = ingest(&db, &repo));
    let noop = time(|| {
        ingest(&db, &repo);
    });
    println!("git log --numstat      {:>8.2} s", git.as_secs_f64());
    println!(
        "leadline full ingest   {:>8.2} s   (ratio to git: {:.2})",
        full.as_secs_f64(),
        ratio(full, git)
    );
    println!(
        "leadline no-op ingest  {:>8.3} s   ({:.2}% of the full ingest)",
        noop.as_secs_f64(),
        100.0 * ratio(noop, full)
    );
    println!("leadline peak memory   {peak}");
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Runs `leadline -v ingest git`; returns the peak memory it reports.
fn ingest(db: &Path, repo: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_leadline"))
        .arg("--db")
        .arg(db)
        .args(["-v", "ingest", "git"])
        .arg(repo)
        .output()
        .expect("run leadline");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "leadline failed: {stderr}");
    stderr
        .lines()
        .find_map(|l| l.split("peak memory ").nth(1))
        .unwrap_or("(not reported)")
        .to_owned()
}

fn git(repo: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(repo);
    cmd
}

fn git_out(repo: &Path, args: &[&str]) -> String {
    String::from_utf8(git(repo).args(args).output().expect("git").stdout).expect("utf-8")
}
