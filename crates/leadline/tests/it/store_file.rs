//! The SQLite store is one file: after any command, and after `serve` stops, a copy of the
//! database file alone holds every row (nothing is left in a write-ahead log beside it), and
//! `leadline backup` writes a consistent copy.

use std::path::Path;

use crate::common::{GitRepo, TestStore};
use crate::server::{Server, deliver_github, github_fixture, row_counts};
use reqwest::StatusCode;

fn history() -> GitRepo {
    let r = GitRepo::new();
    for i in 0..30 {
        r.write(
            format!("src/f{}.rs", i % 4).as_bytes(),
            format!("fn f{i}() {{}}\n").repeat(i + 1).as_bytes(),
        );
        r.commit_all_as(
            "Ann Example <ann@example.com>",
            &format!("change {i}\n\nSigned-off-by: Ann Example <ann@example.com>"),
        );
    }
    r.git(&["tag", "v1.0"]);
    r
}

/// The database file copied alone into a fresh directory, as a user backing up "the file".
fn copy_of_the_file(store: &TestStore) -> (tempfile::TempDir, TestStore) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&store.db, dir.path().join("leadline.db")).unwrap();
    let copy = TestStore::sqlite_in(dir.path());
    (dir, copy)
}

fn wal_bytes(store: &TestStore) -> u64 {
    std::fs::metadata(format!("{}-wal", store.db)).map_or(0, |m| m.len())
}

fn nonempty(counts: &[(String, i64)]) -> usize {
    counts.iter().filter(|(_, n)| *n > 0).count()
}

#[test]
fn after_ingest_the_database_file_alone_holds_every_row() {
    let repo = history();
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    assert_eq!(
        wal_bytes(&store),
        0,
        "a write-ahead log was left beside the file"
    );
    let (_dir, copy) = copy_of_the_file(&store);
    let (original, copied) = (row_counts(&store), row_counts(&copy));
    assert!(nonempty(&original) >= 4, "{original:?}");
    assert_eq!(copied, original);
}

#[test]
fn after_serve_stops_the_database_file_alone_holds_every_delivery() {
    let store = TestStore::sqlite();
    let server = Server::start(&store, None);
    let body = github_fixture("github/pull_request/opened.payload.json");
    for i in 0..5 {
        let answer = deliver_github(&server.url, "pull_request", &format!("d-{i}"), &body);
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let (stopped, log) = server.stop();
    assert!(stopped, "{log}");
    assert_eq!(wal_bytes(&store), 0);
    let (_dir, copy) = copy_of_the_file(&store);
    let counts = row_counts(&copy);
    let deliveries = counts.iter().find(|(t, _)| t == "webhook_deliveries");
    assert_eq!(deliveries.map(|(_, n)| *n), Some(5), "{counts:?}");
}

#[test]
fn backup_writes_a_consistent_copy_and_never_overwrites() {
    let repo = history();
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("leadline.db");
    store
        .leadline()
        .arg("backup")
        .arg(&target)
        .assert()
        .success();
    let copy = TestStore::sqlite_in(dir.path());
    assert_eq!(row_counts(&copy), row_counts(&store));

    // An existing file is refused, left as it was.
    let before = std::fs::read(&target).unwrap();
    let out = store
        .leadline()
        .arg("backup")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), before);
}

#[test]
fn a_postgres_store_is_backed_up_with_its_own_tools() {
    let Some(store) = TestStore::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("copy.db");
    let out = store
        .leadline()
        .arg("backup")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pg_dump"), "{err}");
    assert!(!Path::new(&target).exists());
}
