//! `leadline serve` on a filesystem that fills up under concurrent signed deliveries: every
//! delivery answered 2xx must be in the store after the server stops, a delivery that could not
//! be stored is answered 503 with `Retry-After` (GitHub redelivers only failures), and once
//! space is back new deliveries are stored without a restart.
//!
//! The filesystem is a real tmpfs of a few MiB, so this needs the right to mount (root, as
//! `.ci/run` runs); elsewhere it says it was skipped.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TestStore;
use crate::server::{Server, github_fixture};
use reqwest::StatusCode;
use serde_json::Value;

/// A tmpfs of `size` bytes mounted on a fresh temp dir, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the filesystem of `dir` with one file, then gives back `leave` bytes of it.
fn fill(dir: &Path, name: &str, leave: u64) -> PathBuf {
    let path = dir.join(name);
    let mut file = File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    file.set_len(written.saturating_sub(leave)).unwrap();
    path
}

/// Sends one signed `pull_request` delivery; returns the status and the outcome it reported.
fn deliver(url: &str, id: &str, body: &[u8]) -> (StatusCode, Option<String>, bool) {
    let response = crate::server::deliver_github(url, "pull_request", id, body);
    let status = response.status();
    let retry_after = response.headers().contains_key("retry-after");
    let text = response.text().unwrap();
    let outcome = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["outcome"].as_str().map(str::to_owned));
    (status, outcome, retry_after)
}

/// Sends `count` deliveries from `senders` threads at once; returns (id, status, outcome, retry).
fn burst(
    server: &Server,
    prefix: &str,
    senders: usize,
    count: usize,
) -> Vec<(String, StatusCode, Option<String>, bool)> {
    let body = github_fixture("github/pull_request/opened.payload.json");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..senders)
            .map(|t| {
                let (body, url) = (&body, server.url.as_str());
                s.spawn(move || {
                    (t..count)
                        .step_by(senders)
                        .map(|i| {
                            let id = format!("{prefix}-{i}");
                            let (status, outcome, retry) = deliver(url, &id, body);
                            (id, status, outcome, retry)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn stored_delivery_ids(store: &TestStore) -> BTreeSet<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", store.db))
            .await
            .unwrap();
        let ids: Vec<String> = sqlx::query_scalar("SELECT delivery_id FROM webhook_deliveries")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        ids.into_iter().collect()
    })
}

#[test]
fn no_delivery_is_acknowledged_that_a_full_disk_lost() {
    let Some(fs) = Tmpfs::mount(6 * 1024 * 1024) else {
        eprintln!("skipped: mounting a tmpfs needs root (bash .ci/run runs as root)");
        return;
    };
    let store = TestStore::sqlite_in(fs.path());
    let server = Server::start(&store, None);
    let filler = fill(fs.path(), "filler", 400 * 1024);

    let mut answered = burst(&server, "full", 8, 150);
    let mut statuses = std::collections::BTreeMap::new();
    for (_, status, outcome, _) in &answered {
        *statuses
            .entry((status.as_u16(), outcome.clone()))
            .or_insert(0) += 1;
    }
    eprintln!("answers while the disk filled: {statuses:?}");
    let refused: Vec<_> = answered
        .iter()
        .filter(|(_, status, ..)| !status.is_success())
        .collect();
    assert!(
        !refused.is_empty(),
        "the filesystem never filled up; the test proves nothing"
    );
    for (id, status, _, retry) in &refused {
        assert_eq!(
            *status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{id}: a store that cannot write is a 503"
        );
        assert!(retry, "{id}: 503 without Retry-After");
    }

    // Full to the last byte, the server says it is not ready, and why.
    let rest = fill(fs.path(), "rest", 0);
    let ready = server.get("/readyz").send().unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = ready.text().unwrap();
    assert!(text.contains("cannot write"), "{text}");

    // Space is back: the same server stores again, and says it is ready.
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_file(&rest).unwrap();
    let after = burst(&server, "after", 4, 20);
    for (id, status, outcome, _) in &after {
        assert_eq!(*status, StatusCode::OK, "{id} after space was freed");
        assert_eq!(outcome.as_deref(), Some("stored"), "{id}");
    }
    let ready = server.get("/readyz").send().unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    answered.extend(after);

    let (stopped, log) = server.stop();
    assert!(stopped, "{log}");
    let stored = stored_delivery_ids(&store);
    let acknowledged: BTreeSet<String> = answered
        .iter()
        .filter(|(_, status, ..)| status.is_success())
        .map(|(id, ..)| id.clone())
        .collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged deliveries are not in the store: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    drop(fs);
}
