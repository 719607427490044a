//! Bad input gets a clear error naming where, a non-zero exit, and a store left exactly as it
//! was.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::common::{GitRepo, TestStore};
use predicates::str::contains;
use sqlx::Connection;

fn exports(store: &TestStore) -> Vec<Vec<u8>> {
    ["commits", "file-changes", "tags"]
        .iter()
        .map(|what| store.export(what, "csv"))
        .collect()
}

#[test]
fn a_path_that_is_not_a_repository_is_refused_and_nothing_stored() {
    let plain = tempfile::tempdir().unwrap();
    for store in TestStore::both() {
        let before = exports(&store);
        for path in [plain.path().to_path_buf(), plain.path().join("missing")] {
            store
                .leadline()
                .args(["ingest", "git"])
                .arg(&path)
                .assert()
                .failure()
                .stderr(contains("not a git repository"))
                .stderr(contains(path.display().to_string()));
        }
        assert!(exports(&store) == before, "the store changed");
        assert_eq!(
            store.export("commits", "csv"),
            b"repo,sha,parents,author,authored_at,committed_at,is_merge,subject\n"
        );
    }
}

/// The loose object file of `sha`.
fn object_file(repo: &Path, sha: &str) -> PathBuf {
    repo.join(".git/objects").join(&sha[..2]).join(&sha[2..])
}

/// Commits `n` files, the first of which (oldest commit) is then made unreadable.
fn history_with_a_missing_blob(r: &GitRepo, n: usize) {
    for i in 0..n {
        r.write(
            format!("new/{i}.txt").as_bytes(),
            format!("unique content {i} of {n}\n").as_bytes(),
        );
        r.commit_all(&format!("commit {i}"));
    }
    let blob = r.git(&["rev-parse", &format!("HEAD~{}:new/0.txt", n - 1)]);
    std::fs::remove_file(object_file(r.path(), blob.trim())).unwrap();
}

#[test]
fn a_damaged_repository_is_refused_and_nothing_of_it_stays() {
    let healthy = GitRepo::new();
    healthy.write(b"ok.txt", b"fine\n");
    healthy.commit_all("healthy");
    let damaged = GitRepo::new();
    history_with_a_missing_blob(&damaged, 3);
    for store in TestStore::both() {
        store.ingest(healthy.path());
        let before = exports(&store);
        store
            .leadline()
            .args(["ingest", "git"])
            .arg(damaged.path())
            .assert()
            .failure()
            .stderr(contains("cannot read object"))
            .stderr(contains("damaged"));
        assert!(
            exports(&store) == before,
            "the store changed on {}",
            store.backend
        );
        let repos = store.run(
            &["analyze", "--format", "json"]
                .map(OsStr::new)
                .into_iter()
                .chain([healthy.path().as_os_str()])
                .collect::<Vec<_>>(),
        );
        let json: serde_json::Value = serde_json::from_slice(&repos).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 1);
    }
}

/// New commits of a known repository, stored over several transactions before the miner hits
/// the damage: the run must remove them again.
#[test]
fn a_failure_after_some_batches_removes_what_the_run_stored() {
    let config = tempfile::tempdir().unwrap();
    let config = config.path().join("leadline.toml");
    std::fs::write(&config, "[ingest]\nthreads = 1\nbatch = 1\n").unwrap();
    for store in TestStore::both() {
        let repo = GitRepo::new();
        repo.write(b"base.txt", b"base\n");
        repo.commit_all("base");
        store.ingest(repo.path());
        let before = exports(&store);
        // 200 commits: chunks of 64 are stored one by one before the oldest fails.
        history_with_a_missing_blob(&repo, 200);
        store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args(["ingest", "git"])
            .arg(repo.path())
            .assert()
            .failure()
            .stderr(contains("cannot read object"));
        assert!(
            exports(&store) == before,
            "the store changed on {}",
            store.backend
        );
    }
}

#[test]
fn a_store_of_a_newer_schema_is_refused_untouched() {
    let store = TestStore::sqlite();
    let repo = GitRepo::new();
    repo.write(b"a", b"a\n");
    repo.commit_all("a");
    store.ingest(repo.path());
    let before = exports(&store);
    set_schema_version(&store, "999");
    store
        .leadline()
        .args(["export", "commits"])
        .assert()
        .failure()
        .stderr(contains("schema version 999"))
        .stderr(contains("upgrade leadline"));
    store
        .leadline()
        .args(["ingest", "git"])
        .arg(repo.path())
        .assert()
        .failure();
    // Nothing was migrated or written: restoring the version gives back the same store.
    set_schema_version(&store, &leadline_store::LATEST_SCHEMA.to_string());
    assert!(exports(&store) == before, "the store changed");
}

fn set_schema_version(store: &TestStore, version: &str) {
    let url = format!("sqlite://{}", store.db);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let changed =
            sqlx::query("UPDATE leadline_meta SET value = $1 WHERE key = 'schema_version'")
                .bind(version)
                .execute(&mut c)
                .await
                .unwrap();
        assert_eq!(changed.rows_affected(), 1);
    });
}

#[test]
fn configuration_errors_name_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(&config, "[ingest]\nthreads = 2\nthreadz = 3\n").unwrap();
    let store = TestStore::sqlite();
    store
        .leadline()
        .arg("--config")
        .arg(&config)
        .args(["export", "commits"])
        .assert()
        .failure()
        .stderr(contains("leadline.toml"))
        .stderr(contains("line 3"))
        .stderr(contains("threadz"));
    assert!(
        !Path::new(&store.db).exists(),
        "a bad configuration must not create a store"
    );
}

#[test]
fn unknown_repository_and_bad_store_location_are_clear_errors() {
    let store = TestStore::sqlite();
    store
        .leadline()
        .args(["export", "commits", "--repo", "nope"])
        .assert()
        .failure()
        .stderr(contains("no repository named \"nope\""));
    assert_cmd::Command::cargo_bin("leadline")
        .unwrap()
        .args(["--db", "/nonexistent-dir/x.db", "export", "tags"])
        .assert()
        .failure()
        .stderr(contains("/nonexistent-dir"));
}

/// Bad options of the health and debt commands are refused, naming the option, with a non-zero
/// exit, before anything is read or written.
#[test]
fn bad_health_and_capacity_options_are_refused() {
    let repo = GitRepo::new();
    repo.write(b"a.txt", b"a\n");
    repo.commit_all("one");
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    let cwd = tempfile::tempdir().unwrap();
    for (args, message) in [
        (
            vec!["health", "--since", "2024-02-01", "--until", "2024-01-01"],
            "the window is empty",
        ),
        (
            vec!["health", "--since", "last week"],
            "--since \"last week\"",
        ),
        (
            vec!["health", "--min-degree", "2"],
            "--min-degree 2: expected 0 to 1",
        ),
        (
            vec!["health", "--repo", "nope"],
            "no ingested repository is named \"nope\"",
        ),
        (
            vec!["debt", "capacity", "--group", "team"],
            "no [[teams]] in leadline.toml",
        ),
        (
            vec![
                "debt",
                "capacity",
                "--since",
                "2024-02-01",
                "--until",
                "2024-01-01",
            ],
            "the window is empty",
        ),
        (
            vec![
                "debt",
                "add",
                "--title",
                "t",
                "--area",
                "x/",
                "--category",
                "chosen",
                "--kind",
                "security",
                "--owner",
                "o",
            ],
            "--category \"chosen\"",
        ),
    ] {
        store
            .leadline()
            .current_dir(cwd.path())
            .args(&args)
            .assert()
            .failure()
            .stderr(contains(message));
    }
    assert!(!cwd.path().join("debt.toml").exists());
}
