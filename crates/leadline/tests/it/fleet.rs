//! The fleet: `fleet sync|status` and `worker` on local bare repositories (no network), with
//! real PostgreSQL for several workers, `kill -9` mid-job, retries, the one scheduler, and two
//! `serve` replicas sharing a store.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{TestStore, json_stdout};
use crate::server::{Server, read_store};

/// A fleet definition over `repos` (url, optional forge), with short leases and retries.
fn config(dir: &Path, repos: &[(String, Option<&str>)], extra: &str) -> PathBuf {
    let mut text = format!(
        "[fleet]\nmirror_dir = {:?}\nlease = \"2s\"\nretry = \"1s\"\n{extra}\n",
        dir.join("mirrors")
    );
    for (url, forge) in repos {
        text.push_str(&format!("[[fleet.repository]]\nurl = {url:?}\n"));
        if let Some(f) = forge {
            text.push_str(&format!("forge = {f:?}\n"));
        }
    }
    let path = dir.join("leadline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn leadline(store: &TestStore, config: &Path) -> assert_cmd::Command {
    let mut cmd = store.leadline();
    cmd.arg("--config").arg(config);
    cmd
}

fn status(store: &TestStore, config: &Path) -> serde_json::Value {
    json_stdout(leadline(store, config).args(["fleet", "status", "--format", "json"]))
}

/// A `leadline worker` in the background, its stderr collected line by line.
struct Worker {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    fn start(store: &TestStore, config: &Path, args: &[&str]) -> Worker {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("leadline"))
            .env_remove("LEADLINE_DB")
            .args(["--db", &store.db, "--config"])
            .arg(config)
            .arg("worker")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Worker { child, lines }
    }

    /// The `host:pid:random` it announced.
    fn owner(&self) -> String {
        wait_until("the worker to start", || {
            self.log()
                .lines()
                .find_map(|l| l.strip_prefix("worker ")?.split(": ").next())
                .map(str::to_owned)
        })
    }

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn kill9(&mut self) {
        Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status()
            .unwrap();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit by itself; its success and stderr.
    fn wait(mut self) -> (bool, String) {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (status.success(), self.log());
            }
            assert!(
                Instant::now() < deadline,
                "the worker never ended:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Source repositories from `git fast-import` under `dir/src`; the last one as a bare clone.
fn sources(dir: &Path, shapes: &[(&str, usize)]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (i, (name, commits)) in shapes.iter().enumerate() {
        let path = dir.join("src").join(name);
        crate::synth::build(
            &path,
            crate::synth::Shape {
                commits: *commits,
                files: (*commits / 10).max(20),
                seed: 11 + i as u64,
            },
        );
        out.push(path);
    }
    let last = out.pop().unwrap();
    let bare = last.with_extension("git");
    let ok = Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(&last)
        .arg(&bare)
        .status()
        .unwrap();
    assert!(ok.success());
    out.push(bare);
    out
}

/// Commits, file changes and tags per repository, exported with people's names (pseudonyms
/// are keyed per store, so two stores never share them).
fn exports(store: &TestStore, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        for what in ["commits", "file-changes", "tags"] {
            let csv = store.run(&[
                OsStr::new("export"),
                OsStr::new(what),
                OsStr::new("--repo"),
                OsStr::new(name),
                OsStr::new("--identify"),
            ]);
            out.push(String::from_utf8(csv).unwrap());
        }
    }
    out
}

/// Equal exports, or a failure that names the first differing line rather than dumping both.
fn assert_same(actual: &[String], expected: &[String], context: &str) {
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(expected) {
        if a != e {
            let first = a.lines().zip(e.lines()).position(|(x, y)| x != y);
            panic!(
                "{context}: exports differ ({} vs {} lines; first difference at line {first:?}: {:?} vs {:?})",
                a.lines().count(),
                e.lines().count(),
                first.and_then(|i| a.lines().nth(i)),
                first.and_then(|i| e.lines().nth(i)),
            );
        }
    }
}

fn reference(repos: &[PathBuf]) -> TestStore {
    let single = TestStore::sqlite();
    for r in repos {
        single.ingest(r);
    }
    single
}

fn names(repos: &[PathBuf]) -> Vec<String> {
    repos
        .iter()
        .map(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.strip_suffix(".git").unwrap_or(&n).to_owned()
        })
        .collect()
}

#[test]
fn a_fleet_of_local_repositories_is_mined_as_ingest_git_mines_each() {
    let dir = tempfile::tempdir().unwrap();
    let repos = sources(dir.path(), &[("alpha", 120), ("beta", 60), ("gamma", 90)]);
    let urls: Vec<(String, Option<&str>)> = vec![
        (repos[0].display().to_string(), None),
        (format!("file://{}", repos[1].display()), None),
        (repos[2].display().to_string(), None),
    ];
    let single = reference(&repos);
    let expected = exports(&single, &names(&repos));
    for store in TestStore::both() {
        let cfg_dir = tempfile::tempdir().unwrap();
        let cfg = config(cfg_dir.path(), &urls, "");
        let armed = leadline(&store, &cfg)
            .args(["fleet", "sync"])
            .output()
            .unwrap();
        assert!(armed.status.success());
        assert!(String::from_utf8_lossy(&armed.stderr).contains("armed 3 jobs"));
        let queued = status(&store, &cfg);
        assert_eq!(queued["queue"]["pending"], 3, "{queued}");
        let (ok, log) = Worker::start(&store, &cfg, &["--until-idle", "--concurrency", "2"]).wait();
        assert!(ok, "{log}");
        if store.backend == "sqlite" {
            assert!(log.contains("only worker"), "{log}");
        }
        assert_eq!(
            exports(&store, &names(&repos)),
            expected,
            "{}",
            store.backend
        );
        let done = status(&store, &cfg);
        assert_eq!(
            done["queue"],
            serde_json::json!({"pending": 0, "running": 0, "failed": 0})
        );
        for t in done["targets"].as_array().unwrap() {
            assert_eq!(
                (t["kind"].as_str(), t["state"].as_str()),
                (Some("git"), Some("done"))
            );
            assert_eq!(t["attempts"], 1);
            assert!(t["last_success"].is_string() && t["error"].is_null(), "{t}");
        }
        // Nothing is due again within [fleet] every; --all arms them anyway, and a second pass
        // finds every mirror up to date.
        let again = leadline(&store, &cfg)
            .args(["fleet", "sync"])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&again.stderr).contains("armed 0 jobs (3 targets not due yet)")
        );
        leadline(&store, &cfg)
            .args(["fleet", "sync", "--all"])
            .assert()
            .success();
        let (ok, log) = Worker::start(&store, &cfg, &["--until-idle"]).wait();
        assert!(ok && log.matches("up to date").count() == 3, "{log}");
        assert_same(
            &exports(&store, &names(&repos)),
            &expected,
            "after a second pass",
        );
    }
}

#[test]
fn a_worker_killed_mid_job_leaves_a_lease_that_another_takes_over() {
    let Some(store) = TestStore::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repos = sources(
        dir.path(),
        &[
            ("big", 8000),
            ("s1", 40),
            ("s2", 50),
            ("s3", 30),
            ("s4", 60),
        ],
    );
    let urls: Vec<(String, Option<&str>)> = repos
        .iter()
        .map(|r| (r.display().to_string(), None))
        .collect();
    let cfg = config(dir.path(), &urls, "");
    leadline(&store, &cfg)
        .args(["fleet", "sync"])
        .assert()
        .success();
    // The first worker claims `big` (armed first) and is killed once part of it is stored.
    let mut first = Worker::start(&store, &cfg, &["--concurrency", "1"]);
    let owner = first.owner();
    let stored_before_kill = wait_until("part of big to be stored", || {
        let n = read_store(&store, async |s| {
            use leadline_core::store::prelude::*;
            match s.repository("big").await.unwrap() {
                Some(r) => s.commit_shas(r.id).await.unwrap().len(),
                None => 0,
            }
        });
        (n > 0).then_some(n)
    });
    first.kill9();
    assert!(
        stored_before_kill < 8000,
        "the kill came after the whole ingest"
    );
    let running = status(&store, &cfg);
    let big = running["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "big")
        .unwrap()
        .clone();
    assert_eq!(
        (big["state"].as_str(), big["owner"].as_str()),
        (Some("running"), Some(owner.as_str()))
    );

    let second = Worker::start(&store, &cfg, &["--until-idle", "--concurrency", "2"]);
    let third = Worker::start(&store, &cfg, &["--until-idle"]);
    let (ok2, log2) = second.wait();
    let (ok3, log3) = third.wait();
    assert!(ok2 && ok3, "{log2}\n---\n{log3}");

    let single = reference(&repos);
    assert_same(
        &exports(&store, &names(&repos)),
        &exports(&single, &names(&repos)),
        "after the takeover",
    );
    // The whole store's export too, though the workers registered the repositories in
    // another order than the single process.
    let whole = |s: &TestStore| -> Vec<String> {
        ["commits", "file-changes", "tags"]
            .iter()
            .map(|what| {
                let csv = s.run(&[
                    OsStr::new("export"),
                    OsStr::new(what),
                    OsStr::new("--identify"),
                ]);
                String::from_utf8(csv).unwrap()
            })
            .collect()
    };
    assert_same(&whole(&store), &whole(&single), "the whole store");
    let done = status(&store, &cfg);
    assert_eq!(
        done["queue"],
        serde_json::json!({"pending": 0, "running": 0, "failed": 0})
    );
    // Every job completed exactly once; the killed worker's run is on record as abandoned.
    let runs = read_store(&store, async |s| {
        use leadline_core::store::prelude::*;
        s.job_runs().await.unwrap()
    });
    for name in names(&repos) {
        let done: Vec<_> = runs
            .iter()
            .filter(|r| r.target == name && r.outcome == "done")
            .collect();
        assert_eq!(done.len(), 1, "{name}: {runs:?}");
        assert_ne!(done[0].owner, owner);
    }
    let abandoned: Vec<_> = runs.iter().filter(|r| r.outcome == "abandoned").collect();
    assert_eq!(abandoned.len(), 1, "{runs:?}");
    assert_eq!(
        (abandoned[0].target.as_str(), abandoned[0].owner.as_str()),
        ("big", owner.as_str())
    );
    let big = done["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "big")
        .unwrap();
    assert_eq!(big["attempts"], 2);
}

#[test]
fn failures_are_retried_with_backoff_then_kept_with_their_error() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-yet");
    let cfg = config(
        dir.path(),
        &[(missing.display().to_string(), None)],
        "max_attempts = 2",
    );
    leadline(&store, &cfg)
        .args(["fleet", "sync"])
        .assert()
        .success();
    let (ok, log) = Worker::start(&store, &cfg, &["--until-idle"]).wait();
    assert!(!ok, "a job failed for good, so --until-idle fails:\n{log}");
    assert!(
        log.contains("1 jobs failed after their last attempt"),
        "{log}"
    );
    let failed = status(&store, &cfg);
    let t = &failed["targets"][0];
    assert_eq!(
        (t["name"].as_str(), t["state"].as_str()),
        (Some("not-yet"), Some("failed"))
    );
    assert_eq!(t["attempts"], 2);
    assert!(
        t["error"].as_str().unwrap().contains("does not exist"),
        "{t}"
    );
    assert_eq!(failed["queue"]["failed"], 1);
    let runs = read_store(&store, async |s| {
        use leadline_core::store::prelude::*;
        s.job_runs().await.unwrap()
    });
    let outcomes: Vec<&str> = runs.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "failed"]);
    // The second attempt waited out the first retry's backoff ([fleet] retry = 1s).
    assert!(runs[1].started_at >= runs[0].finished_at + 1000, "{runs:?}");

    // The repository appears; the next sync re-arms the failed target, which now succeeds.
    crate::synth::build(
        &missing,
        crate::synth::Shape {
            commits: 20,
            files: 10,
            seed: 3,
        },
    );
    leadline(&store, &cfg)
        .args(["fleet", "sync", "--all"])
        .assert()
        .success();
    assert_eq!(status(&store, &cfg)["targets"][0]["attempts"], 0);
    let (ok, log) = Worker::start(&store, &cfg, &["--until-idle"]).wait();
    assert!(ok, "{log}");
    let t = &status(&store, &cfg)["targets"][0];
    assert_eq!(
        (t["state"].as_str(), t["attempts"].as_i64()),
        (Some("done"), Some(1))
    );
    assert!(t["error"].is_null());
}

#[test]
fn one_scheduler_at_a_time_and_another_takes_over_when_it_dies() {
    let Some(store) = TestStore::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repos = sources(dir.path(), &[("one", 20)]);
    let cfg = config(
        dir.path(),
        &[(repos[0].display().to_string(), None)],
        "every = \"2s\"",
    );
    let mut a = Worker::start(&store, &cfg, &["--schedule"]);
    let mut b = Worker::start(&store, &cfg, &["--schedule"]);
    let scheduling = |w: &Worker| w.log().contains(": scheduling");
    wait_until("a scheduler", || {
        (scheduling(&a) || scheduling(&b)).then_some(())
    });
    // The schedule arms the repository again and again; the workers keep it fresh.
    wait_until("two runs of the repository", || {
        let runs = read_store(&store, async |s| {
            use leadline_core::store::prelude::*;
            s.job_runs().await.unwrap()
        });
        (runs.iter().filter(|r| r.outcome == "done").count() >= 2).then_some(())
    });
    assert!(
        !(scheduling(&a) && scheduling(&b)),
        "two schedulers:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    let (holder, other) = if scheduling(&a) {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    holder.kill9();
    wait_until("the other worker to take the schedule over", || {
        scheduling(other).then_some(())
    });
}

#[test]
fn on_sqlite_one_worker_runs_and_a_second_is_turned_away() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let repos = sources(dir.path(), &[("solo", 20)]);
    let cfg = config(dir.path(), &[(repos[0].display().to_string(), None)], "");
    let first = Worker::start(&store, &cfg, &["--concurrency", "4"]);
    wait_until("the first worker", || {
        first.log().contains("only worker").then_some(())
    });
    assert!(
        first
            .log()
            .contains("--concurrency needs a PostgreSQL store")
    );
    let second = leadline(&store, &cfg)
        .args(["worker", "--until-idle"])
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("another worker is running"));
    // The running worker takes the job the sync arms.
    leadline(&store, &cfg)
        .args(["fleet", "sync"])
        .assert()
        .success();
    wait_until("the job to be done", || {
        (status(&store, &cfg)["targets"][0]["state"] == "done").then_some(())
    });
}

#[test]
fn a_push_arms_the_fetch_of_its_repository() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let repos = sources(dir.path(), &[("Hello-World", 20)]);
    let cfg = config(
        dir.path(),
        &[(
            repos[0].display().to_string(),
            Some("github:Codertocat/Hello-World"),
        )],
        "",
    );
    let server = Server::start(&store, Some(&cfg));
    let push = crate::server::github_fixture("github/push/payload.json");
    let answer = crate::server::deliver_github(&server.url, "push", "push-1", &push);
    assert!(answer.status().is_success());
    let queued = status(&store, &cfg);
    let targets = queued["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{queued}");
    assert_eq!(
        (
            targets[0]["name"].as_str(),
            targets[0]["kind"].as_str(),
            targets[0]["state"].as_str()
        ),
        (Some("Hello-World"), Some("git"), Some("pending"))
    );
    // A push to a repository outside the fleet arms nothing.
    let other = String::from_utf8(push)
        .unwrap()
        .replace("Codertocat/Hello-World", "someone/else");
    crate::server::deliver_github(&server.url, "push", "push-2", other.as_bytes());
    assert_eq!(status(&store, &cfg)["targets"].as_array().unwrap().len(), 1);
    let metrics = |s: &Server| s.get("/metrics").send().unwrap().text().unwrap();
    assert!(metrics(&server).contains("leadline_fleet_jobs{state=\"pending\"} 1"));
    // /metrics shows the queue, the runs and their durations once a worker ran the job.
    let (ok, log) = Worker::start(&store, &cfg, &["--until-idle"]).wait();
    assert!(ok, "{log}");
    let text = metrics(&server);
    for line in [
        "leadline_fleet_jobs{state=\"pending\"} 0",
        "leadline_fleet_jobs{state=\"done\"} 1",
        "leadline_fleet_job_runs{kind=\"git\",outcome=\"done\"} 1",
        "leadline_fleet_job_run_seconds{kind=\"git\",outcome=\"done\"} ",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}

#[test]
fn two_replicas_on_one_postgres_see_each_others_writes_at_once() {
    let Some(store) = TestStore::postgres() else {
        return;
    };
    let write = store.token("write");
    let a = Server::start(&store, None);
    let b = Server::start(&store, None);
    let deployments = |s: &Server| -> i64 {
        let body: serde_json::Value = s
            .get("/api/v1/dora")
            .bearer_auth(&write)
            .send()
            .unwrap()
            .json()
            .unwrap();
        body["deployment_frequency"]["deployments"]
            .as_i64()
            .unwrap()
    };
    // B has the (empty) DORA inputs cached, for 30 s unless told otherwise.
    assert_eq!(deployments(&b), 0);
    let yesterday = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
    let item = format!(
        r#"{{"id": "d1", "service": "api", "environment": "production", "sha": "abcdef1", "finished_at": "{yesterday}"}}"#
    );
    let posted = a
        .post("/api/v1/deployments")
        .bearer_auth(&write)
        .body(item)
        .send()
        .unwrap();
    assert!(posted.status().is_success());
    // Well within the cache's 30 s: only the announcement can have dropped B's copy.
    let started = Instant::now();
    while deployments(&b) != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "B still serves its stale cache"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(deployments(&a), 1);
}
