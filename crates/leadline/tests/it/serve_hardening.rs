//! What an outside review found `serve` accepting: bodies read before authentication, reads
//! of unbounded size, plain-text errors, DNS rebinding on loopback, paths shown to readers,
//! unbounded header values. Each is checked against a real server on a loopback port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{GitRepo, TestStore};
use crate::server::{Server, deliver_github, github_fixture, row_counts};
use reqwest::StatusCode;
use serde_json::Value;

/// Sends only the head of a request announcing a `length`-byte body, never the body, and
/// returns the status line and body of the answer: the server must decide from the headers.
fn headers_only(
    server: &Server,
    path: &str,
    headers: &[(&str, String)],
    length: u64,
) -> (u16, String) {
    let addr = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {length}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer before the body was sent: {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

fn error_of(body: &str) -> String {
    let v: Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {body}"))
        .to_owned()
}

#[test]
fn what_headers_settle_is_settled_before_the_body_is_read() {
    let store = TestStore::sqlite();
    let server = Server::start(&store, None);
    let before = row_counts(&store);
    let github = |signature: &str| {
        vec![
            ("X-GitHub-Event", "push".to_owned()),
            ("X-GitHub-Delivery", "d-1".to_owned()),
            ("X-Hub-Signature-256", signature.to_owned()),
        ]
    };
    // No signature, or one that cannot be GitHub's: 401 without waiting for 20 MB.
    for signature in ["", "sha256=zz", "sha1=0123"] {
        let (status, body) =
            headers_only(&server, "/webhooks/github", &github(signature), 20 << 20);
        assert_eq!(status, 401, "{signature:?}: {body}");
        assert!(error_of(&body).contains("X-Hub-Signature-256"));
    }
    // A well-formed signature and a declared length over the limit: 413 before reading.
    let plausible = format!("sha256={}", "0".repeat(64));
    let (status, body) = headers_only(
        &server,
        "/webhooks/github",
        &github(&plausible),
        (25 << 20) + 1,
    );
    assert_eq!(status, 413, "{body}");
    assert!(error_of(&body).contains("limit"));
    // GitLab and the alert webhook authenticate wholly from headers.
    let gitlab = [
        ("X-Gitlab-Event", "Push Hook".to_owned()),
        ("X-Gitlab-Event-UUID", "u-1".to_owned()),
        ("X-Gitlab-Token", "wrong".to_owned()),
    ];
    let (status, _) = headers_only(&server, "/webhooks/gitlab", &gitlab, 20 << 20);
    assert_eq!(status, 401);
    let (status, _) = headers_only(&server, "/webhooks/incidents", &[], 20 << 20);
    assert_eq!(status, 401);
    let (status, _) = headers_only(&server, "/api/v1/deployments", &[], 20 << 20);
    assert_eq!(status, 401);
    assert_eq!(row_counts(&store), before);
}

#[test]
fn header_values_are_bounded() {
    let store = TestStore::sqlite();
    let server = Server::start(&store, None);
    let body = github_fixture("github/ping/payload.json");
    let long = "x".repeat(10_000);
    let answer = deliver_github(&server.url, "ping", &long, &body);
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let text = answer.text().unwrap();
    assert!(error_of(&text).contains("longer than 200"), "{text}");
    assert!(!text.contains(&long));
    let (_, log) = server.stop();
    assert!(!log.contains(&long), "the long header reached the log");
}

#[test]
fn unbounded_reads_are_refused_quickly() {
    let store = TestStore::sqlite();
    let server = Server::start(&store, None);
    let answer = server
        .get("/api/v1/dora?since=1000-01-01&until=9999-01-01&by=week&explain=true")
        .send()
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(&answer.text().unwrap()).contains("more than 520 periods"));
    let answer = server
        .get("/api/v1/dora?explain=true&explain_limit=100000")
        .send()
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn every_error_is_json() {
    let store = TestStore::sqlite();
    let server = Server::start(&store, None);
    for (request, status) in [
        (server.get("/no/such/path"), StatusCode::NOT_FOUND),
        (
            server.get("/webhooks/github"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            server.get("/api/v1/deployments?limit=many"),
            StatusCode::BAD_REQUEST,
        ),
        (
            server.get("/api/v1/dora?explain=perhaps"),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let answer = request.send().unwrap();
        assert_eq!(answer.status(), status);
        let kind = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("application/json"), "{kind}");
        assert!(!error_of(&answer.text().unwrap()).is_empty());
    }
}

#[test]
fn a_loopback_server_answers_only_its_own_names() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        "[server]\nallowed_hosts = [\"leadline.internal\"]\n",
    )
    .unwrap();
    let server = Server::start(&store, Some(&config));
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    for (host, status) in [
        (format!("127.0.0.1:{port}"), StatusCode::OK),
        (format!("localhost:{port}"), StatusCode::OK),
        ("leadline.internal".to_owned(), StatusCode::OK),
        (format!("attacker.example:{port}"), StatusCode::FORBIDDEN),
        (
            "127.0.0.1.attacker.example".to_owned(),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let answer = server
            .get("/api/v1/deployments")
            .header("Host", &host)
            .send()
            .unwrap();
        assert_eq!(answer.status(), status, "{host}");
    }
}

#[test]
fn readers_see_repository_names_and_admins_their_paths() {
    let repo = GitRepo::new();
    repo.write(b"f", b"x\n");
    repo.commit_all("one");
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    let token = |name: &str, scope: &str| {
        let out = store
            .run(&["token", "create", "--name", name, "--scope", scope].map(std::ffi::OsStr::new));
        String::from_utf8(out).unwrap().trim().to_owned()
    };
    let (read, admin) = (token("r", "read"), token("a", "admin"));
    let server = Server::start(&store, None);
    let list = |token: &str, scheme: &str| -> Value {
        let answer = server
            .get("/api/v1/repositories")
            .header("Authorization", format!("{scheme} {token}"))
            .send()
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{scheme}");
        answer.json().unwrap()
    };
    let as_reader = list(&read, "Bearer");
    let item = &as_reader["items"][0];
    assert!(item["name"].is_string());
    assert!(item.get("location").is_none(), "{item}");
    let path = repo.path().display().to_string();
    assert!(!as_reader.to_string().contains(&path));
    // The scheme is case-insensitive.
    let as_admin = list(&admin, "bearer");
    assert!(as_admin.to_string().contains(&path), "{as_admin}");
}

#[test]
fn a_close_that_arrives_first_resolves_the_incident_when_it_opens() {
    for store in TestStore::both() {
        let token = {
            let out = store.run(
                &["token", "create", "--name", "w", "--scope", "write"].map(std::ffi::OsStr::new),
            );
            String::from_utf8(out).unwrap().trim().to_owned()
        };
        let server = Server::start(&store, None);
        let send = |body: &[u8]| {
            server
                .post("/webhooks/incidents")
                .bearer_auth(&token)
                .body(body.to_vec())
                .send()
                .unwrap()
        };
        assert_eq!(
            send(&github_fixture("alerts/opsgenie-close.json")).status(),
            StatusCode::OK
        );
        assert_eq!(
            send(&github_fixture("alerts/opsgenie-create.json")).status(),
            StatusCode::OK
        );
        let incidents: Value = server
            .get("/api/v1/incidents/records")
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let item = &incidents["items"][0];
        assert_eq!(
            item["opened_at"], "2024-03-05T09:00:00+00:00",
            "{incidents}"
        );
        assert_eq!(
            item["resolved_at"], "2024-03-05T10:00:00+00:00",
            "{incidents}"
        );

        // A resolution dated before the incident opened: 409, and nothing stored.
        let before = row_counts(&store);
        let early = br#"{"id": "70413a06-38d6-4c85-92b8-5ebc900d42e2", "resolved_at": "2024-03-05T08:00:00Z"}"#;
        let answer = send(early);
        assert_eq!(answer.status(), StatusCode::CONFLICT);
        assert!(error_of(&answer.text().unwrap()).contains("before the incident opened"));
        assert_eq!(row_counts(&store), before);
    }
}

#[test]
fn an_empty_secret_in_the_file_refuses_to_start() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("[github]\nwebhook_secret = \"\"\n", "github.webhook_secret"),
        ("[gitlab]\nwebhook_token = \"\"\n", "gitlab.webhook_token"),
        (
            "[server]\nbody_limit_mb = 17592186044416\n",
            "server.body_limit_mb",
        ),
    ] {
        let config = dir.path().join("leadline.toml");
        std::fs::write(&config, text).unwrap();
        let said = match Server::start_on(&store, Some(&config), "127.0.0.1:0") {
            Ok(_) => panic!("started with {text:?}"),
            Err(said) => said,
        };
        assert!(said.contains(key), "{said}");
    }
}
