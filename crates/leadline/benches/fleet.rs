//! Fleet benchmark: N generated repositories mirrored and ingested by 1, 2 and 4 `leadline
//! worker` processes on one PostgreSQL, against the git work itself (`git clone --mirror` and
//! `git log --numstat` of each repository, run serially in the same run); then three workers of
//! which one is killed with SIGKILL mid-job, checked against a single-process ingest.
//!
//! `bench/fleet [--small N] [--large N] [--small-commits N] [--large-commits N] [--db URL]`;
//! the PostgreSQL admin URL defaults to `LEADLINE_BENCH_POSTGRES`, then `LEADLINE_TEST_POSTGRES`.

#[path = "../tests/it/common/synth.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    small: usize,
    large: usize,
    small_commits: usize,
    large_commits: usize,
    admin: String,
}

fn options() -> Options {
    let mut o = Options {
        small: 200,
        large: 5,
        small_commits: 40,
        large_commits: 5_000,
        admin: std::env::var("LEADLINE_BENCH_POSTGRES")
            .or_else(|_| std::env::var("LEADLINE_TEST_POSTGRES"))
            .unwrap_or_default(),
    };
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        let number = |v: String| -> usize { v.parse().expect("a number") };
        match arg.as_str() {
            "--small" => o.small = number(value()),
            "--large" => o.large = number(value()),
            "--small-commits" => o.small_commits = number(value()),
            "--large-commits" => o.large_commits = number(value()),
            "--db" => o.admin = value(),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(
        o.admin.starts_with("postgres"),
        "give a PostgreSQL admin URL: --db URL or LEADLINE_BENCH_POSTGRES"
    );
    o
}

fn main() {
    let o = options();
    let scratch = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let repos = build(scratch.path(), &o);
    println!(
        "built {} small ({} commits) and {} large ({} commits) repositories in {:.1} s",
        o.small,
        o.small_commits,
        o.large,
        o.large_commits,
        t.elapsed().as_secs_f64()
    );
    let n = repos.len();
    let git = git_work(scratch.path(), &repos);
    let single_db = database(&o.admin, "fleet_bench_single");
    let single = time(|| {
        let status = leadline(&single_db, None)
            .args(["-q", "ingest", "git"])
            .args(&repos)
            .status()
            .expect("leadline");
        assert!(status.success());
    });
    println!(
        "git clone --mirror + git log --numstat, serially: {:.2} s ({:.1} ms per repository)",
        git.as_secs_f64(),
        per(git, n)
    );
    println!(
        "leadline ingest git, one process:              {:.2} s ({:.1} ms per repository)",
        single.as_secs_f64(),
        per(single, n)
    );
    println!();
    println!("workers   wall s   jobs/s   speed-up   per repository ms   overhead beside git ms");
    let mut one = None;
    for workers in [1, 2, 4] {
        let db = database(&o.admin, &format!("fleet_bench_{workers}"));
        let config = config(scratch.path(), &format!("w{workers}"), &repos);
        sync(&db, &config);
        let wall = time(|| {
            let children: Vec<Child> = (0..workers).map(|_| worker(&db, &config)).collect();
            for mut c in children {
                assert!(c.wait().expect("a worker").success(), "a worker failed");
            }
        });
        if workers == 1 {
            // Everything again with nothing new: what a scheduled refresh costs.
            let ok = leadline(&db, Some(&config))
                .args(["-q", "fleet", "sync", "--all"])
                .status()
                .expect("leadline");
            assert!(ok.success());
            let noop = time(|| {
                assert!(worker(&db, &config).wait().expect("a worker").success());
            });
            println!(
                "(a refresh finding nothing new, 1 worker: {:.2} s, {:.1} ms per repository)",
                noop.as_secs_f64(),
                per(noop, n)
            );
        }
        let base = *one.get_or_insert(wall);
        println!(
            "{workers:>7} {:>8.2} {:>8.1} {:>10.2} {:>19.1} {:>24.1}",
            wall.as_secs_f64(),
            n as f64 / wall.as_secs_f64(),
            base.as_secs_f64() / wall.as_secs_f64(),
            per(wall, n) * workers as f64,
            per(wall, n) * workers as f64 - per(git, n)
        );
        assert_eq!(sorted_export(&db), sorted_export(&single_db));
    }
    killed_run(scratch.path(), &o, &repos, &single_db);
}

/// Three workers, one killed with SIGKILL while it holds a large repository's job.
fn killed_run(dir: &Path, o: &Options, repos: &[PathBuf], single_db: &str) {
    let db = database(&o.admin, "fleet_bench_kill");
    let config = config(dir, "kill", repos);
    sync(&db, &config);
    let started = Instant::now();
    let mut children: Vec<Child> = (0..3).map(|_| worker(&db, &config)).collect();
    // Wait until a large repository is running, then kill the worker that holds it.
    let victim = loop {
        let status = json(&db, &config);
        let owner = status["targets"].as_array().and_then(|targets| {
            targets.iter().find_map(|t| {
                let large = t["name"].as_str()?.starts_with("large");
                (large && t["state"] == "running")
                    .then(|| t["owner"].as_str().map(str::to_owned))?
            })
        });
        if let Some(owner) = owner {
            let pid: u32 = owner
                .split(':')
                .nth(1)
                .and_then(|p| p.parse().ok())
                .expect("pid");
            break pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no large job ever ran"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status();
    let mut survivors = 0;
    for c in &mut children {
        let killed = c.id() == victim;
        let status = c.wait().expect("a worker");
        if !killed {
            assert!(status.success(), "a surviving worker failed");
            survivors += 1;
        }
    }
    let wall = started.elapsed();
    let status = json(&db, &config);
    let targets = status["targets"].as_array().expect("targets");
    let done = targets.iter().filter(|t| t["state"] == "done").count();
    let equal = sorted_export(&db) == sorted_export(single_db);
    println!();
    println!(
        "3 workers, one killed mid-job (pid {victim}): {:.2} s; {survivors} survivors; {done} of {} \
         repositories done; exports equal a single-process ingest: {equal}",
        wall.as_secs_f64(),
        repos.len()
    );
    assert!(
        done == repos.len() && equal,
        "the fleet lost or changed work"
    );
}

fn build(dir: &Path, o: &Options) -> Vec<PathBuf> {
    let shapes: Vec<(String, usize)> = (0..o.large)
        .map(|i| (format!("large{i}"), o.large_commits))
        .chain((0..o.small).map(|i| (format!("small{i}"), o.small_commits)))
        .collect();
    let src = dir.join("src");
    std::thread::scope(|s| {
        for half in shapes.chunks(shapes.len().div_ceil(2).max(1)) {
            let src = &src;
            s.spawn(move || {
                for (name, commits) in half {
                    let seed = name.bytes().map(u64::from).sum::<u64>() + *commits as u64;
                    synth::build(
                        &src.join(name),
                        synth::Shape {
                            commits: *commits,
                            files: (commits / 10).clamp(20, 2_000),
                            seed,
                        },
                    );
                }
            });
        }
    });
    shapes.iter().map(|(name, _)| src.join(name)).collect()
}

/// The git work a fleet does per repository, without leadline: a mirror clone and a full
/// `git log --numstat`, serially.
fn git_work(dir: &Path, repos: &[PathBuf]) -> Duration {
    let mirrors = dir.join("git-mirrors");
    time(|| {
        for r in repos {
            let mirror = mirrors.join(r.file_name().expect("a name"));
            let ok = Command::new("git")
                .args(["clone", "-q", "--mirror"])
                .arg(r)
                .arg(&mirror)
                .status()
                .expect("git");
            assert!(ok.success());
            let ok = Command::new("git")
                .arg("--git-dir")
                .arg(&mirror)
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
                .expect("git");
            assert!(ok.success());
        }
    })
}

fn config(dir: &Path, run: &str, repos: &[PathBuf]) -> PathBuf {
    let mut text = format!(
        "[fleet]\nmirror_dir = {:?}\nlease = \"5s\"\n",
        dir.join(format!("mirrors-{run}"))
    );
    for r in repos {
        text.push_str(&format!(
            "[[fleet.repository]]\nurl = {:?}\n",
            r.display().to_string()
        ));
    }
    let path = dir.join(format!("{run}.toml"));
    std::fs::write(&path, text).expect("config");
    path
}

/// A fresh database on the cluster; its URL.
fn database(admin: &str, name: &str) -> String {
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        let ok = Command::new("psql")
            .args([admin, "-q", "-c", &sql])
            .status()
            .expect("psql");
        assert!(ok.success(), "{sql}");
    }
    format!(
        "{}/{name}",
        &admin[..admin.rfind('/').expect("a database in the URL")]
    )
}

fn leadline(db: &str, config: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leadline"));
    cmd.env_remove("LEADLINE_DB").args(["--db", db]);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd
}

fn sync(db: &str, config: &Path) {
    let ok = leadline(db, Some(config))
        .args(["-q", "fleet", "sync"])
        .status()
        .expect("leadline");
    assert!(ok.success());
}

fn worker(db: &str, config: &Path) -> Child {
    leadline(db, Some(config))
        .args(["-q", "worker", "--until-idle"])
        .stderr(Stdio::null())
        .spawn()
        .expect("a worker")
}

fn json(db: &str, config: &Path) -> serde_json::Value {
    let out = leadline(db, Some(config))
        .args(["fleet", "status", "--format", "json"])
        .output()
        .expect("leadline");
    serde_json::from_slice(&out.stdout).expect("status JSON")
}

/// Every commit and file change, with names, as sorted lines (repository ids differ by store).
fn sorted_export(db: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for what in ["commits", "file-changes", "tags"] {
        let out = leadline(db, None)
            .args(["export", what, "--identify"])
            .output()
            .expect("leadline");
        assert!(out.status.success());
        lines.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned),
        );
    }
    lines.sort_unstable();
    lines
}

fn per(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1000.0 / n.max(1) as f64
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}
