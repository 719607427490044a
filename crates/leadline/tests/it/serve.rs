//! `leadline serve` end to end: a real server on a loopback port, real GitHub payloads signed
//! with GitHub's documented secret, both stores. Every refused request is checked to have
//! stored nothing.

use std::path::Path;

use crate::common::{GitRepo, TestStore, json_stdout};
use crate::server::{
    GITHUB_SECRET, GITLAB_TOKEN, Server, github_fixture, github_signature, row_counts,
};
use reqwest::StatusCode;
use serde_json::Value;

fn deliver(server: &Server, event: &str, id: &str, body: &[u8]) -> reqwest::blocking::Response {
    crate::server::deliver_github(&server.url, event, id, body)
}

fn json(response: reqwest::blocking::Response) -> Value {
    let status = response.status();
    let text = response.text().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {e}: {text}"))
}

fn deployments(server: &Server) -> Vec<Value> {
    let page = json(server.get("/api/v1/deployments?limit=1000").send().unwrap());
    page["items"].as_array().unwrap().clone()
}

fn create_token(store: &TestStore, name: &str, scope: &str) -> String {
    let out = store.run(&[
        "token".as_ref(),
        "create".as_ref(),
        "--name".as_ref(),
        name.as_ref(),
        "--scope".as_ref(),
        scope.as_ref(),
    ]);
    let text = String::from_utf8(out).unwrap();
    // The token alone on stdout, so `TOKEN=$(leadline token create …)` works.
    assert_eq!(text.lines().count(), 1, "{text:?}");
    text.trim().to_owned()
}

fn write_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("leadline.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn github_deliveries_are_verified_mapped_and_stored_once() {
    for store in TestStore::both() {
        let server = Server::start(&store, None);
        let body = github_fixture("github/deployment_status/payload.json");

        // Refused: nothing stored, not even the delivery.
        let before = row_counts(&store);
        let wrong = server
            .post("/webhooks/github")
            .header("X-GitHub-Event", "deployment_status")
            .header("X-GitHub-Delivery", "a")
            .header(
                "X-Hub-Signature-256",
                github_signature("not the secret", &body),
            )
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let unsigned = server
            .post("/webhooks/github")
            .header("X-GitHub-Event", "deployment_status")
            .header("X-GitHub-Delivery", "a")
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
        // Signed, but the body was altered after signing.
        let mut altered = body.clone();
        altered.extend_from_slice(b" ");
        let tampered = server
            .post("/webhooks/github")
            .header("X-GitHub-Event", "deployment_status")
            .header("X-GitHub-Delivery", "a")
            .header(
                "X-Hub-Signature-256",
                github_signature(GITHUB_SECRET, &body),
            )
            .body(altered)
            .send()
            .unwrap();
        assert_eq!(tampered.status(), StatusCode::UNAUTHORIZED);
        let no_delivery_id = server
            .post("/webhooks/github")
            .header("X-GitHub-Event", "deployment_status")
            .header(
                "X-Hub-Signature-256",
                github_signature(GITHUB_SECRET, &body),
            )
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(no_delivery_id.status(), StatusCode::BAD_REQUEST);
        let malformed = deliver(&server, "deployment_status", "b", b"{\"deployment\": ");
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
        let mut incomplete: Value = serde_json::from_slice(&body).unwrap();
        incomplete["deployment"]
            .as_object_mut()
            .unwrap()
            .remove("sha");
        let incomplete = deliver(
            &server,
            "deployment_status",
            "c",
            &serde_json::to_vec(&incomplete).unwrap(),
        );
        assert_eq!(incomplete.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            json(incomplete)["error"]
                .as_str()
                .unwrap()
                .contains("deployment.sha")
        );
        assert_eq!(row_counts(&store), before, "{}", store.backend);

        // Accepted, visible in the API at once (also in the DORA keys, which the server caches),
        // and a redelivery stores nothing twice.
        let keys = "/api/v1/dora?service=Hello-World&since=2019-05-01&until=2019-06-01";
        let count = |server: &Server| {
            json(server.get(keys).send().unwrap())["deployment_frequency"]["deployments"].clone()
        };
        assert_eq!(count(&server), 0);
        let stored = json(deliver(&server, "deployment_status", "guid-1", &body));
        assert_eq!(count(&server), 1);
        assert_eq!(stored["outcome"], "stored", "{stored}");
        let listed = deployments(&server);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], "145988746");
        assert_eq!(listed[0]["sha"], "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
        assert_eq!(listed[0]["finished_at"], "2019-05-15T15:20:55+00:00");
        let after_first = row_counts(&store);
        let again = json(deliver(&server, "deployment_status", "guid-1", &body));
        assert_eq!(again["outcome"], "duplicate");
        assert_eq!(row_counts(&store), after_first);

        // Other tracked events, a ping and an untracked event (kept as ignored).
        for (event, path) in [
            ("push", "github/push/with-new-branch.payload.json"),
            ("pull_request", "github/pull_request/closed.payload.json"),
            (
                "pull_request_review",
                "github/pull_request_review/submitted.payload.json",
            ),
            ("workflow_run", "github/workflow_run/completed.payload.json"),
        ] {
            let r = json(deliver(
                &server,
                event,
                &format!("id-{event}"),
                &github_fixture(path),
            ));
            assert_eq!(r["outcome"], "stored", "{event}: {r}");
        }
        for (event, path) in [
            ("ping", "github/ping/payload.json"),
            ("check_run", "github/check_run/completed.payload.json"),
        ] {
            let r = json(deliver(
                &server,
                event,
                &format!("id-{event}"),
                &github_fixture(path),
            ));
            assert_eq!(r["outcome"], "ignored", "{event}: {r}");
        }
        let counts: std::collections::HashMap<String, i64> =
            row_counts(&store).into_iter().collect();
        assert_eq!(counts["webhook_deliveries"], 7, "{}", store.backend);
        assert_eq!(counts["pull_requests"], 1);
        assert_eq!(counts["reviews"], 1);
        assert_eq!(counts["builds"], 1);
        assert_eq!(counts["pushed_commits"], 1);
        let (clean, log) = server.stop();
        assert!(clean, "graceful shutdown exits 0: {log}");
        assert!(log.contains("leadline stopped"), "{log}");
        assert!(
            !log.contains(GITHUB_SECRET),
            "the secret never reaches the log"
        );
    }
}

#[test]
fn bodies_over_the_limit_are_refused_before_anything_is_stored() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[server]\nbody_limit_mb = 1\n");
    let server = Server::start(&store, Some(&config));
    let before = row_counts(&store);
    let mut body: Value =
        serde_json::from_slice(&github_fixture("github/deployment_status/payload.json")).unwrap();
    body["padding"] = "x".repeat(2 << 20).into();
    let big = serde_json::to_vec(&body).unwrap();
    let r = deliver(&server, "deployment_status", "big", &big);
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(row_counts(&store), before);
}

#[test]
fn gitlab_deliveries_need_the_token_and_are_deduplicated_by_uuid() {
    for store in TestStore::both() {
        let server = Server::start(&store, None);
        let body = github_fixture("gitlab/deployment.json");
        let send = |token: Option<&str>, uuid: Option<&str>| {
            let mut req = server
                .post("/webhooks/gitlab")
                .header("X-Gitlab-Event", "Deployment Hook")
                .body(body.clone());
            if let Some(t) = token {
                req = req.header("X-Gitlab-Token", t);
            }
            if let Some(u) = uuid {
                req = req.header("X-Gitlab-Event-UUID", u);
            }
            req.send().unwrap()
        };
        let before = row_counts(&store);
        assert_eq!(send(None, Some("u1")).status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            send(Some("gitlab-hook-tokeN"), Some("u1")).status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            send(Some(GITLAB_TOKEN), None).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(row_counts(&store), before);
        assert_eq!(
            json(send(Some(GITLAB_TOKEN), Some("u1")))["outcome"],
            "stored"
        );
        assert_eq!(
            json(send(Some(GITLAB_TOKEN), Some("u1")))["outcome"],
            "duplicate"
        );
        let listed = deployments(&server);
        assert_eq!(listed.len(), 1, "{}", store.backend);
        assert_eq!(listed[0]["source"], "gitlab");
        assert_eq!(listed[0]["sha"], "279484c09fbe69ededfced8c1bb6e6d24616b468");
    }
}

#[test]
fn tokens_scopes_and_open_reads() {
    for store in TestStore::both() {
        let server = Server::start(&store, None);
        // Loopback and no token yet: reads are open, writes are not.
        assert_eq!(
            server.get("/api/v1/deployments").send().unwrap().status(),
            StatusCode::OK
        );
        let item = r#"{"id": "d1", "service": "api", "environment": "production", "sha": "abcdef1", "finished_at": "2024-01-01T10:00:00Z"}"#;
        let post = |token: Option<&str>| {
            let mut req = server.post("/api/v1/deployments").body(item);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().unwrap().status()
        };
        assert_eq!(post(None), StatusCode::UNAUTHORIZED);

        let read = create_token(&store, "dashboard", "read");
        let write = create_token(&store, "ci", "write");
        assert_ne!(read, write);
        // The store keeps hashes only.
        let listed = String::from_utf8(store.run(&["token".as_ref(), "list".as_ref()])).unwrap();
        assert!(
            listed.contains("dashboard\tread") && listed.contains("ci\twrite"),
            "{listed}"
        );
        assert!(!listed.contains(&read) && !listed.contains(&write));

        // With tokens, reads need one too.
        assert_eq!(
            server.get("/api/v1/deployments").send().unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            server
                .get("/api/v1/deployments")
                .bearer_auth(&read)
                .send()
                .unwrap()
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            server
                .get("/api/v1/deployments")
                .bearer_auth(format!("{read}x"))
                .send()
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(post(Some(&read)), StatusCode::FORBIDDEN);
        assert_eq!(post(Some(&write)), StatusCode::OK);
        assert_eq!(
            server
                .get("/metrics")
                .bearer_auth(&read)
                .send()
                .unwrap()
                .status(),
            StatusCode::OK
        );

        store.run(&["token".as_ref(), "revoke".as_ref(), "ci".as_ref()]);
        assert_eq!(post(Some(&write)), StatusCode::UNAUTHORIZED);
        store
            .leadline()
            .args(["token", "revoke", "ci"])
            .assert()
            .failure()
            .stderr(predicates::str::contains("no token named"));
    }
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    let store = TestStore::sqlite();
    let refused = Server::start_on(&store, None, "0.0.0.0:0")
        .err()
        .expect("refused");
    assert!(refused.contains("refusing to listen"), "{refused}");
    assert!(refused.contains("leadline token create"), "{refused}");
    create_token(&store, "prometheus", "read");
    let server = Server::start_on(&store, None, "0.0.0.0:0").expect("starts with a token");
    drop(server);
}

#[test]
fn posted_items_are_refused_whole_and_equal_the_cli_import() {
    for store in TestStore::both() {
        let server = Server::start(&store, None);
        let token = create_token(&store, "ci", "write");
        let before = row_counts(&store);
        let bad = r#"[
            {"id": "d1", "service": "api", "environment": "production", "sha": "abcdef1", "finished_at": "2024-01-01T10:00:00Z"},
            {"id": "d2", "service": "api", "environment": "production", "sha": "abcdef2", "finished_at": "yesterday"}
        ]"#;
        let r = server
            .post("/api/v1/deployments")
            .bearer_auth(&token)
            .body(bad)
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = json(r);
        assert_eq!(body["problems"][0]["item"], 1, "{body}");
        assert_eq!(body["problems"][0]["field"], "finished_at", "{body}");
        let unknown = server
            .post("/api/v1/incidents")
            .bearer_auth(&token)
            .body(r#"{"id": "i", "service": "api", "opened_at": "2024-01-01T10:00:00Z", "colour": "red"}"#)
            .send()
            .unwrap();
        assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(unknown)["problems"][0]["field"], "colour");
        let not_json = server
            .post("/api/v1/incidents")
            .bearer_auth(&token)
            .body("{")
            .send()
            .unwrap();
        assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
        assert_eq!(row_counts(&store), before);

        // The same rows through the API and through `leadline import` store the same rows.
        let deploys = r#"[
            {"id": "d1", "service": "api", "environment": "production", "sha": "abcdef1", "finished_at": "2024-01-01T10:00:00Z", "started_at": "2024-01-01T09:50:00Z"},
            {"id": "d2", "service": "web", "environment": "staging", "sha": "abcdef2", "finished_at": "2024-01-02T10:00:00+02:00", "status": "FAILURE", "repo": "web"}
        ]"#;
        let incident = r#"{"id": "INC-1", "service": "api", "opened_at": "2024-01-01T11:00:00Z", "resolved_at": "2024-01-01T12:30:00Z", "severity": "sev2", "title": "Checkout, down", "cause_sha": "abcdef1", "postmortem_url": "https://example.com/pm/1"}"#;
        for (path, body) in [
            ("/api/v1/deployments?source=import", deploys),
            ("/api/v1/incidents?source=import", incident),
        ] {
            let r = json(
                server
                    .post(path)
                    .bearer_auth(&token)
                    .body(body)
                    .send()
                    .unwrap(),
            );
            assert!(r["new"].as_u64().unwrap() >= 1, "{r}");
        }
        let cli = TestStore::sqlite();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d.json");
        std::fs::write(&d, deploys).unwrap();
        let i = dir.path().join("i.ndjson");
        std::fs::write(&i, incident).unwrap();
        cli.run(&["import".as_ref(), "deployments".as_ref(), d.as_os_str()]);
        cli.run(&["import".as_ref(), "incidents".as_ref(), i.as_os_str()]);
        for what in ["deployments", "incidents"] {
            assert_eq!(
                String::from_utf8(store.export(what, "json")).unwrap(),
                String::from_utf8(cli.export(what, "json")).unwrap(),
                "{what} on {}",
                store.backend
            );
        }
    }
}

#[test]
fn api_dora_equals_the_cli_and_pages_cover_every_row() {
    for store in TestStore::both() {
        let repo = GitRepo::new();
        let mut shas = Vec::new();
        for (i, day) in [1, 2, 4, 8, 9, 15].iter().enumerate() {
            repo.write(b"f", format!("{i}\n").as_bytes());
            shas.push(repo.commit_all_at(1_704_067_200 + day * 86_400, None, &format!("c{i}")));
        }
        repo.git(&["tag", "v1.0", &shas[1]]);
        repo.git(&["tag", "v1.1", &shas[3]]);
        repo.git(&["tag", "v1.2", &shas[5]]);
        store.ingest(repo.path());
        let server = Server::start(&store, None);
        for query in [
            "",
            "?since=2024-01-01&until=2024-02-01",
            "?since=2024-01-01&until=2024-02-01&by=week",
            "?since=2024-01-01&until=2024-03-01&by=month&explain=true",
        ] {
            let mut args: Vec<String> = vec!["dora".into(), "--format".into(), "json".into()];
            for pair in query
                .trim_start_matches('?')
                .split('&')
                .filter(|p| !p.is_empty())
            {
                let (k, v) = pair.split_once('=').unwrap();
                args.push(format!("--{k}"));
                if k != "explain" {
                    args.push(v.to_owned());
                }
            }
            let cli: Value = serde_json::from_slice(
                &store.run(&args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()),
            )
            .unwrap();
            let api = json(server.get(&format!("/api/v1/dora{query}")).send().unwrap());
            assert_eq!(api, cli, "{query} on {}", store.backend);
        }
        let bad = server.get("/api/v1/dora?since=yesterday").send().unwrap();
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let empty = server
            .get("/api/v1/dora?since=2024-02-01&until=2024-01-01")
            .send()
            .unwrap();
        assert_eq!(empty.status(), StatusCode::BAD_REQUEST);

        // Paging: 7 deployments in pages of 3 come back once each, in order.
        let token = create_token(&store, "ci", "write");
        let items: Vec<String> = (0..7)
            .map(|i| format!(r#"{{"id": "p{i}", "service": "api", "environment": "production", "sha": "{}", "finished_at": "2024-02-0{}T00:00:00Z"}}"#, shas[0], 7 - i))
            .collect();
        server
            .post("/api/v1/deployments")
            .bearer_auth(&token)
            .body(format!("[{}]", items.join(",")))
            .send()
            .unwrap();
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = json(
                server
                    .get(&format!("/api/v1/deployments?limit=3&cursor={cursor}"))
                    .bearer_auth(&token)
                    .send()
                    .unwrap(),
            );
            seen.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["id"].as_str().unwrap().to_owned()),
            );
            match page["next"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen, ["p6", "p5", "p4", "p3", "p2", "p1", "p0"]);
        let bad_cursor = server
            .get("/api/v1/deployments?cursor=zz")
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(bad_cursor.status(), StatusCode::BAD_REQUEST);
    }
}

#[test]
fn alerts_open_and_resolve_incidents_with_a_write_token() {
    for store in TestStore::both() {
        let server = Server::start(&store, None);
        let read = create_token(&store, "grafana", "read");
        let write = create_token(&store, "alertmanager", "write");
        let body = github_fixture("alerts/alertmanager.json");
        let before = row_counts(&store);
        for (token, status) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some(&read), StatusCode::FORBIDDEN),
        ] {
            let mut req = server.post("/webhooks/incidents").body(body.clone());
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            assert_eq!(req.send().unwrap().status(), status);
        }
        assert_eq!(row_counts(&store), before);
        let send = |body: &[u8]| {
            json(
                server
                    .post("/webhooks/incidents")
                    .bearer_auth(&write)
                    .body(body.to_vec())
                    .send()
                    .unwrap(),
            )
        };
        assert_eq!(send(&body)["outcome"], "stored");
        // The same body again (no delivery id header): deduplicated by its hash.
        assert_eq!(send(&body)["outcome"], "duplicate");
        assert_eq!(
            send(&github_fixture("alerts/opsgenie-create.json"))["outcome"],
            "stored"
        );
        assert_eq!(
            send(&github_fixture("alerts/opsgenie-close.json"))["outcome"],
            "stored"
        );
        let incidents = json(
            server
                .get("/api/v1/incidents/records")
                .bearer_auth(&read)
                .send()
                .unwrap(),
        );
        let rows: Vec<(String, Option<String>)> = incidents["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    i["resolved_at"].as_str().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            rows,
            // By opened_at: the two Alertmanager alerts on the 4th, Opsgenie's on the 5th.
            [
                (
                    "c2a4a41cbf5b5d1b".to_owned(),
                    Some("2024-03-04T11:05:30+00:00".to_owned())
                ),
                ("9f2e0d7a11c3b8e4".to_owned(), None),
                (
                    "70413a06-38d6-4c85-92b8-5ebc900d42e2".to_owned(),
                    Some("2024-03-05T10:00:00+00:00".to_owned())
                ),
            ],
            "{}",
            store.backend
        );
    }
}

#[test]
fn replay_maps_stored_deliveries_again() {
    let store = TestStore::sqlite();
    let body = github_fixture("github/issues/labeled.payload.json");
    let server = Server::start(&store, None);
    // The default incident label is "incident"; this issue is labelled "bug": ignored, kept.
    assert_eq!(
        json(deliver(&server, "issues", "i-1", &body))["outcome"],
        "ignored"
    );
    drop(server);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[github]\nincident_label = \"bug\"\n");
    let export = |store: &TestStore| String::from_utf8(store.export("incidents", "csv")).unwrap();
    assert_eq!(export(&store).lines().count(), 1, "header only");
    for _ in 0..2 {
        store
            .leadline()
            .arg("--config")
            .arg(&config)
            .arg("replay")
            .assert()
            .success()
            .stderr(predicates::str::contains("replayed 1 deliveries"));
    }
    let incidents = export(&store);
    assert_eq!(incidents.lines().count(), 2, "{incidents}");
    assert!(
        incidents.contains("Codertocat/Hello-World#1"),
        "{incidents}"
    );
}

#[test]
fn metrics_health_and_openapi() {
    let store = TestStore::sqlite();
    let repo = GitRepo::new();
    for i in 0..3 {
        repo.write(b"f", format!("{i}\n").as_bytes());
        repo.commit_all(&format!("c{i}"));
    }
    store.ingest(repo.path());
    let server = Server::start(&store, None);
    assert_eq!(
        server.get("/healthz").send().unwrap().text().unwrap(),
        "ok\n"
    );
    assert_eq!(
        server.get("/readyz").send().unwrap().status(),
        StatusCode::OK
    );
    let body = github_fixture("github/push/with-new-branch.payload.json");
    deliver(&server, "push", "p-1", &body);
    deliver(&server, "push", "p-1", &body);
    let metrics = server.get("/metrics").send().unwrap().text().unwrap();
    for expected in [
        r#"leadline_webhook_deliveries_total{source="github",event="push",outcome="stored"} 1"#,
        r#"leadline_webhook_deliveries_total{source="github",event="push",outcome="duplicate"} 1"#,
        r#"leadline_http_requests_total{method="GET",route="/healthz",status="200"} 1"#,
        "leadline_http_request_duration_seconds_bucket",
        "# TYPE leadline_ingest_lag_seconds gauge",
        "# TYPE leadline_dora_deployments_per_day gauge",
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing from\n{metrics}"
        );
    }
    let lag: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("leadline_ingest_lag_seconds "))
        .unwrap()
        .parse()
        .unwrap();
    // The push arrived just now; its commit (written in 2019) is not ingested. The lag runs
    // from the push, not from the commit's own time (that would be years).
    assert!((0.0..60.0).contains(&lag), "{lag}");
    let openapi = json(server.get("/openapi.json").send().unwrap());
    for path in [
        "/api/v1/dora",
        "/api/v1/deployments",
        "/api/v1/incidents",
        "/api/v1/repositories",
        "/webhooks/github",
        "/webhooks/incidents",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path}");
    }
    let repos = json(server.get("/api/v1/repositories").send().unwrap());
    assert_eq!(repos["items"].as_array().unwrap().len(), 1);
}

/// `/api/v1/health` is `leadline health --format json`; `/api/v1/debt` is `leadline debt
/// list --format json`; bad windows are 400s, a broken register a 500 that names nothing.
#[test]
fn api_health_and_debt_equal_the_cli() {
    for store in TestStore::both() {
        let repo = GitRepo::new();
        for i in 0..6 {
            repo.write(b"src/a.rs", format!("fn a() {{\n    {i}\n}}\n").as_bytes());
            if i % 2 == 0 {
                repo.write(b"src/b.rs", format!("{i}\n").as_bytes());
            }
            repo.commit_all_at(1_704_067_200 + i * 86_400, None, &format!("c{i}"));
        }
        store.ingest(repo.path());
        let dir = tempfile::tempdir().unwrap();
        let (config, register) = crate::common::debt_config(
            dir.path(),
            "[[item]]\nid = \"D-1\"\ntitle = \"a is tangled\"\narea = [\"src/a.rs\"]\ncategory = \"tactical\"\nkind = \"maintainability\"\nowner = \"core\"\ncreated = 2024-01-01\n",
            "capacity_target = 0.25\n[privacy]\nmin_group_size = 1\n",
        );
        let server = Server::start(&store, Some(&config));
        for (query, args) in [
            ("", vec!["--top", "10"]),
            (
                "?since=2024-01-02&until=2024-01-05&top=1",
                vec![
                    "--since",
                    "2024-01-02",
                    "--until",
                    "2024-01-05",
                    "--top",
                    "1",
                ],
            ),
        ] {
            let mut cli_args = vec!["health", "--format", "json"];
            cli_args.extend(args);
            let cli: Value = serde_json::from_slice(
                &store
                    .leadline()
                    .arg("--config")
                    .arg(&config)
                    .args(&cli_args)
                    .output()
                    .unwrap()
                    .stdout,
            )
            .unwrap();
            assert_eq!(cli[0]["debt_items"]["src/a.rs"][0], "D-1");
            let api = json(
                server
                    .get(&format!("/api/v1/health{query}"))
                    .send()
                    .unwrap(),
            );
            assert_eq!(api, cli, "{query} on {}", store.backend);
        }
        for bad in [
            "?since=yesterday",
            "?since=2024-02-01&until=2024-01-01",
            "?repo=nope",
        ] {
            let status = server
                .get(&format!("/api/v1/health{bad}"))
                .send()
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        }
        let cli: Value = serde_json::from_slice(
            &store
                .leadline()
                .arg("--config")
                .arg(&config)
                .args(["debt", "list", "--format", "json"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let api = json(server.get("/api/v1/debt").send().unwrap());
        assert_eq!(api, cli, "{}", store.backend);
        // The portfolio as Prometheus gauges: one open maintainability item, overdue by no
        // policy (maintainability has none), no estimates.
        let metrics = server.get("/metrics").send().unwrap().text().unwrap();
        for expected in [
            r#"leadline_debt_items_open{kind="maintainability"} 1"#,
            r#"leadline_debt_items_open{kind="security"} 0"#,
            "leadline_debt_items_past_deadline 0",
            "leadline_debt_cost_hours 0",
        ] {
            assert!(
                metrics.contains(expected),
                "{expected} missing from\n{metrics}"
            );
        }
        for (query, args) in [
            ("", vec![]),
            (
                "?since=2024-01-01&until=2024-03-01&group=repository&source=commits",
                vec![
                    "--since",
                    "2024-01-01",
                    "--until",
                    "2024-03-01",
                    "--group",
                    "repository",
                    "--source",
                    "commits",
                ],
            ),
        ] {
            let cli: Value = json_stdout(
                store
                    .leadline()
                    .arg("--config")
                    .arg(&config)
                    .args(["debt", "capacity", "--format", "json"])
                    .args(&args),
            );
            let api = json(
                server
                    .get(&format!("/api/v1/capacity{query}"))
                    .send()
                    .unwrap(),
            );
            assert_eq!(api, cli, "{query} on {}", store.backend);
            let other: u64 = api["groups"][0]["months"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["other"].as_u64().unwrap())
                .sum();
            assert_eq!(other, 6, "six commits, none with a type: {api}");
        }
        for bad in [
            "?group=people",
            "?source=emails",
            "?group=team",
            "?since=soon",
        ] {
            let status = server
                .get(&format!("/api/v1/capacity{bad}"))
                .send()
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        }
        assert_eq!(api["items"][0]["hotspots"][0]["path"], "src/a.rs");
        std::fs::write(&register, "[[item]]\nid = 1\n").unwrap();
        let broken = server.get("/api/v1/debt").send().unwrap();
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!broken.text().unwrap().contains("debt.toml"));
        // A scrape still succeeds, without the debt gauges.
        let metrics = server.get("/metrics").send().unwrap();
        assert_eq!(metrics.status(), StatusCode::OK);
        assert!(!metrics.text().unwrap().contains("leadline_debt_items_open"));
    }
}

/// Every route the OpenAPI document lists, but the public ones and the webhooks (which
/// authenticate their senders), refuses a request without a token once one exists, and one
/// with a read token where it writes: routes are guarded by where they are registered.
#[test]
fn every_documented_route_needs_its_token() {
    let store = TestStore::sqlite();
    let server = Server::start(&store, None);
    let read = create_token(&store, "reader", "read");
    let openapi = json(server.get("/openapi.json").send().unwrap());
    let paths = openapi["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, operations) in paths {
        if path.starts_with("/webhooks/") {
            continue;
        }
        let url = path
            .replace("{name}", "dora.lead_time.median_seconds")
            .replace("{family}", "dora");
        for method in operations.as_object().unwrap().keys() {
            let request = |token: Option<&str>| {
                let mut r = match method.as_str() {
                    "get" => server.get(&url),
                    "post" => server.post(&url).body("id,service\n"),
                    other => panic!("{other} {path}: a method the test does not know"),
                };
                if let Some(t) = token {
                    r = r.bearer_auth(t);
                }
                r.send().unwrap().status()
            };
            assert_eq!(request(None), StatusCode::UNAUTHORIZED, "{method} {path}");
            if method == "post" {
                assert_eq!(
                    request(Some(&read)),
                    StatusCode::FORBIDDEN,
                    "{method} {path}"
                );
            } else {
                assert_ne!(
                    request(Some(&read)),
                    StatusCode::UNAUTHORIZED,
                    "{method} {path}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 13, "only {checked} operations documented");
    // /metrics is guarded too, though it is no JSON route.
    assert_eq!(
        server.get("/metrics").send().unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
