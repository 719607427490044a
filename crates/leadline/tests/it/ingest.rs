//! Incremental, idempotent and crash-safe ingest, checked through the CLI on both stores: every
//! end state must equal git's numstat and the export of one clean run into a fresh store.

use std::ffi::OsStr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{GitRepo, TestStore, assert_same_numstat, git_numstat};

/// Every export of a store, for comparing whole states.
fn exports(store: &TestStore) -> Vec<Vec<u8>> {
    ["commits", "file-changes", "tags"]
        .iter()
        .map(|what| store.export(what, "csv"))
        .collect()
}

/// What one clean run of the current repository gives on the same backend.
fn clean_run(repo: &std::path::Path, backend: &str) -> Vec<Vec<u8>> {
    let fresh = match backend {
        "sqlite" => TestStore::sqlite(),
        _ => TestStore::postgres().unwrap(),
    };
    fresh.ingest(repo);
    // Pseudonyms are keyed per store, so compare identified exports.
    identified(&fresh)
}

fn identified(store: &TestStore) -> Vec<Vec<u8>> {
    let mut out = vec![store.run(&["export", "commits", "--identify"].map(OsStr::new))];
    out.extend(exports(store).into_iter().skip(1));
    out
}

fn small_history() -> GitRepo {
    let r = GitRepo::new();
    for i in 0..5 {
        r.write(
            format!("f{}.txt", i % 2).as_bytes(),
            format!("v{i}\n").repeat(i + 1).as_bytes(),
        );
        r.commit_all(&format!("c{i}"));
    }
    r.git(&["tag", "v0.1"]);
    r
}

#[test]
fn ingesting_twice_changes_nothing_and_says_so() {
    let repo = small_history();
    for store in TestStore::both() {
        store.ingest(repo.path());
        let first = exports(&store);
        let out = store
            .leadline()
            .args(["ingest", "git"])
            .arg(repo.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("up to date"));
        assert_eq!(exports(&store), first, "on {}", store.backend);
    }
}

#[test]
fn new_commits_rewritten_and_deleted_branches_end_as_a_clean_run() {
    let repo = small_history();
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write(b"topic.txt", b"topic\n");
    repo.commit_all("topic work");
    repo.git(&["checkout", "-q", "main"]);
    let stores = TestStore::both();
    for store in &stores {
        store.ingest(repo.path());
    }

    // New commits on main.
    repo.write(b"f0.txt", b"changed\n");
    repo.commit_all("more");
    for store in &stores {
        store.ingest(repo.path());
        assert_same_numstat(&git_numstat(repo.path()), &store.numstat());
    }

    // Rewrite main (drop two commits, commit anew), delete the topic branch, move the tag.
    repo.git(&["reset", "-q", "--hard", "HEAD~2"]);
    repo.write(b"f1.txt", b"rewritten\n");
    repo.commit_all("rewritten history");
    repo.git(&["branch", "-q", "-D", "topic"]);
    repo.git(&["tag", "-f", "v0.1", "HEAD"]);
    for store in &stores {
        store.ingest(repo.path());
        let numstat = store.numstat();
        assert_same_numstat(&git_numstat(repo.path()), &numstat);
        assert!(
            !numstat.keys().any(|(_, p)| p == b"topic.txt"),
            "deleted branch still stored"
        );
        assert_eq!(
            identified(store),
            clean_run(repo.path(), store.backend),
            "on {}",
            store.backend
        );
    }
}

/// `kill -9` at several points of a real ingest, then a re-run: the store must equal one clean
/// run. The test insists that at least one kill landed mid-way (some but not all commits
/// stored), or it would prove nothing.
#[test]
fn kill_at_any_moment_then_rerun_equals_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("synthetic");
    crate::synth::build(
        &repo,
        crate::synth::Shape {
            commits: 4000,
            files: 400,
            seed: 7,
        },
    );
    let total = 4000;
    // Small transactions, so that a kill can land between two of them.
    let config = dir.path().join("leadline.toml");
    std::fs::write(&config, "[ingest]\nbatch = 250\n").unwrap();
    for store in TestStore::both() {
        let reference = clean_run(&repo, store.backend);
        let full = {
            let fresh = TestStore::sqlite();
            let t = Instant::now();
            fresh.ingest(&repo);
            t.elapsed()
        };
        let mut partial_seen = false;
        for fraction in [0.2, 0.45, 0.7, 0.9] {
            let victim = TestStore::sqlite_or_same(&store);
            let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leadline"))
                .arg("--db")
                .arg(&victim.db)
                .arg("--config")
                .arg(&config)
                .args(["-q", "ingest", "git"])
                .arg(&repo)
                .env_remove("LEADLINE_DB")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(full.mul_f64(fraction).max(Duration::from_millis(50)));
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            let stored = commit_count(&victim);
            partial_seen |= stored > 0 && stored < total;
            victim.ingest(&repo);
            assert_eq!(
                identified(&victim),
                reference,
                "after a kill at {fraction} on {}",
                store.backend
            );
        }
        assert!(
            partial_seen,
            "no kill landed mid-ingest on {}",
            store.backend
        );
    }
}

fn commit_count(store: &TestStore) -> usize {
    let out = store
        .leadline()
        .args(["export", "commits"])
        .output()
        .unwrap();
    out.stdout
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1)
}

impl TestStore {
    /// A fresh store of the same backend as `like`.
    fn sqlite_or_same(like: &TestStore) -> TestStore {
        match like.backend {
            "sqlite" => TestStore::sqlite(),
            _ => TestStore::postgres().unwrap(),
        }
    }
}

#[test]
fn a_shallow_clone_warns_and_matches_git_on_what_it_has() {
    let origin = small_history();
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("shallow");
    let url = format!("file://{}", origin.path().display());
    let status = crate::common::git_command(dir.path())
        .args(["clone", "-q", "--depth", "2", &url])
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success());
    for store in TestStore::both() {
        let out = store
            .leadline()
            .args(["ingest", "git"])
            .arg(&clone)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("shallow clone"));
        assert_same_numstat(&git_numstat(&clone), &store.numstat());
    }
}

/// Two clones both called `app`: the second is stored as `parent/app`, and `--repo` selects
/// one repository's rows.
#[test]
fn same_directory_names_get_distinct_names_and_exports_filter_by_repo() {
    let root = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (parent, files) in [("team-a", 1), ("team-b", 2)] {
        let path = root.path().join(parent).join("app");
        std::fs::create_dir_all(&path).unwrap();
        let status = crate::common::git_command(&path)
            .args(["init", "-q", "-b", "main"])
            .status()
            .unwrap();
        assert!(status.success());
        for i in 0..files {
            std::fs::write(path.join(format!("f{i}")), "x\n").unwrap();
            let add = crate::common::git_command(&path)
                .args(["add", "-A"])
                .status()
                .unwrap();
            let commit = crate::common::git_command(&path)
                .args(["commit", "-q", "-m", "c"])
                .status()
                .unwrap();
            assert!(add.success() && commit.success());
        }
        paths.push(path);
    }
    for store in TestStore::both() {
        for path in &paths {
            store.ingest(path);
        }
        let only_b = store.run(&["export", "file-changes", "--repo", "team-b/app"].map(OsStr::new));
        let rows: Vec<&str> = std::str::from_utf8(&only_b)
            .unwrap()
            .lines()
            .skip(1)
            .collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.starts_with("team-b/app,")));
        let only_a = store.run(&["export", "commits", "--repo", "app"].map(OsStr::new));
        assert_eq!(std::str::from_utf8(&only_a).unwrap().lines().count(), 2);
    }
}

/// A commit message with a NUL byte and invalid UTF-8 (possible with plumbing) is stored alike
/// on both backends; PostgreSQL text cannot hold NUL.
#[test]
fn odd_bytes_in_messages_are_stored_alike_on_both_backends() {
    let repo = GitRepo::new();
    repo.write(b"f", b"x\n");
    let base = repo.commit_all("base");
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    let raw = format!(
        "tree {}\nparent {base}\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nnul \0 and \u{e9}\n",
        tree.trim()
    );
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(b" latin-1 \xe9\n");
    let sha = repo.hash_object(&["-t", "commit", "--literally"], &raw);
    repo.git(&["update-ref", "refs/heads/odd", &sha]);
    let mut subjects = Vec::new();
    for store in TestStore::both() {
        store.ingest(repo.path());
        let json = store.run(&["export", "commits", "--format", "json"].map(OsStr::new));
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let odd = v
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["sha"] == sha.as_str())
            .unwrap()
            .clone();
        subjects.push(odd["subject"].as_str().unwrap().to_owned());
    }
    assert!(
        subjects[0].starts_with("nul \u{FFFD} and \u{e9}"),
        "{:?}",
        subjects[0]
    );
    assert!(subjects.windows(2).all(|w| w[0] == w[1]), "{subjects:?}");
}
