//! A real `leadline serve` on a free loopback port, stopped (SIGTERM, then waited for) when
//! dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::TestStore;

pub const GITHUB_SECRET: &str = "It's a Secret to Everybody";
pub const GITLAB_TOKEN: &str = "gitlab-hook-token";

pub struct Server {
    pub url: String,
    child: Child,
    /// The server's stderr after the listening line, collected until it exits.
    log: mpsc::Receiver<String>,
}

impl Server {
    /// Starts a server on `store` with both webhook secrets set and an optional config file.
    pub fn start(store: &TestStore, config: Option<&Path>) -> Server {
        Server::start_on(store, config, "127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts a server, or returns what it printed when it would not start.
    pub fn start_on(
        store: &TestStore,
        config: Option<&Path>,
        addr: &str,
    ) -> Result<Server, String> {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("leadline"));
        cmd.env_remove("LEADLINE_DB")
            .env_remove("LEADLINE_LOG")
            .env("LEADLINE_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
            .env("LEADLINE_GITLAB_WEBHOOK_TOKEN", GITLAB_TOKEN)
            .arg("--db")
            .arg(&store.db);
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        let mut child = cmd
            .args(["serve", "--addr", addr])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("leadline starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("leadline listening on ") {
                        return Ok(Server {
                            url: url.trim().to_owned(),
                            child,
                            log: rx,
                        });
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(seen.join("\n"));
                }
            }
        }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        client().get(format!("{}{path}", self.url))
    }

    pub fn post(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        client().post(format!("{}{path}", self.url))
    }

    /// Stops the server with SIGTERM; returns its exit success and the rest of its log.
    pub fn stop(mut self) -> (bool, String) {
        let status = self.terminate();
        // The reader thread ends at the exited process's end of output.
        let mut log = Vec::new();
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(10)) {
            log.push(line);
        }
        (status, log.join("\n"))
    }

    fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
        }
    }
}

pub fn client() -> reqwest::blocking::Client {
    // reqwest is built without a default TLS provider (leadline installs ring); tests too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

/// Posts a GitHub delivery signed with [`GITHUB_SECRET`] to the server at `url`.
pub fn deliver_github(
    url: &str,
    event: &str,
    id: &str,
    body: &[u8],
) -> reqwest::blocking::Response {
    client()
        .post(format!("{url}/webhooks/github"))
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", id)
        .header("X-Hub-Signature-256", github_signature(GITHUB_SECRET, body))
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
        .unwrap()
}

/// `X-Hub-Signature-256` of `body` under `secret`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A real GitHub payload from leadline-sources' fixtures.
pub fn github_fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../leadline-sources/tests/fixtures/{path}",
        crate::common::manifest_dir().display()
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The result of `read` on the store itself, opened directly and closed after.
pub fn read_store<T>(
    store: &TestStore,
    read: impl AsyncFnOnce(&leadline_store::SqlStore) -> T,
) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use leadline_core::store::prelude::*;
        let location = leadline_store::Location::parse(&store.db).unwrap();
        let s = leadline_store::SqlStore::open(&location).await.unwrap();
        let out = read(&s).await;
        s.close().await.unwrap();
        out
    })
}

/// Rows per table, read from the store directly.
pub fn row_counts(store: &TestStore) -> Vec<(String, i64)> {
    read_store(store, async |s| {
        use leadline_core::store::prelude::*;
        s.row_counts().await.unwrap()
    })
}
