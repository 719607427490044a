//! `leadline forget` end to end: a person who authored commits (and was named in others'
//! trailers and subjects), pushed, opened pull requests and appears in webhook bodies with URLs
//! holding their login is erased from every file of a SQLite store (main file, write-ahead
//! log, shared memory) in every case form, and from every row of a PostgreSQL store; their
//! work still counts.

use std::ffi::OsStr;

use crate::common::{GitRepo, TestStore};
use crate::server::{Server, deliver_github, github_fixture};
use reqwest::StatusCode;

const EMAIL: &str = "ann@example.com";
const NAME: &str = "Ann Exämple";
const LOGIN: &str = "annx";

/// Every form the person might be found by, as bytes to look for.
fn forms() -> Vec<Vec<u8>> {
    let mut forms = Vec::new();
    for base in [
        EMAIL,
        NAME,
        LOGIN,
        "ann%40example.com",
        "Ann%20Ex%C3%A4mple",
    ] {
        for variant in [
            base.to_owned(),
            base.to_lowercase(),
            base.to_uppercase(),
            base.replace("ann", "Ann").replace("annx", "AnnX"),
        ] {
            forms.push(variant.into_bytes());
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// (form, where) for every form found in `data`, ignoring ASCII case as well.
fn found_in(data: &[u8], place: &str) -> Vec<String> {
    let lower = data.to_ascii_lowercase();
    forms()
        .into_iter()
        .filter(|f| {
            let f_lower = f.to_ascii_lowercase();
            lower.windows(f.len()).any(|w| w == f_lower.as_slice())
        })
        .map(|f| format!("{:?} in {place}", String::from_utf8_lossy(&f)))
        .collect()
}

fn history() -> GitRepo {
    let r = GitRepo::new();
    let ann = format!("{NAME} <{EMAIL}>");
    r.write(b"a.txt", b"one\n");
    r.commit_all_as(
        &ann,
        &format!("Start\n\nGrüße und Dank.\n\nSigned-off-by: {NAME} <{EMAIL}>"),
    );
    r.write(b"a.txt", b"two\n");
    r.commit_all_as(
        "Bob Builder <bob@example.com>",
        &format!(
            "Fix typo reported by {}\n\nÄnderung nach Hinweis von {}.\n\nCo-authored-by: {NAME} <{EMAIL}>",
            EMAIL,
            EMAIL.to_uppercase()
        ),
    );
    r.git(&["tag", "v1.0"]);
    r
}

/// A pull request opened by the person (the fixture's user renamed, URLs included) and a push
/// of their commit.
fn deliveries(server: &Server) {
    let pr = String::from_utf8(github_fixture("github/pull_request/opened.payload.json"))
        .unwrap()
        .replace("Codertocat", LOGIN);
    let mut push: serde_json::Value =
        serde_json::from_slice(&github_fixture("github/push/with-new-branch.payload.json"))
            .unwrap();
    push["commits"][0]["author"] =
        serde_json::json!({"name": NAME, "email": EMAIL.to_uppercase(), "username": LOGIN});
    push["commits"][0]["message"] =
        format!("Fix typo reported by {EMAIL}\n\nSigned-off-by: {NAME} <{EMAIL}>").into();
    for (event, id, body) in [
        ("pull_request", "pr-1", pr.into_bytes()),
        ("push", "push-1", serde_json::to_vec(&push).unwrap()),
    ] {
        let answer = deliver_github(&server.url, event, id, &body);
        assert_eq!(answer.status(), StatusCode::OK, "{event}");
    }
}

fn forget(store: &TestStore) -> String {
    let out = store
        .leadline()
        .args(["forget", EMAIL, "--login", LOGIN])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

/// Every row of every table of a PostgreSQL store, as JSON text.
fn postgres_rows(store: &TestStore) -> Vec<(String, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&store.db).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut rows = Vec::new();
        for t in tables {
            let sql = format!("SELECT row_to_json(t)::text FROM \"{t}\" t");
            let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.extend(texts.into_iter().map(|r| (t.clone(), r)));
        }
        rows
    })
}

/// Every form found in any file of a SQLite store, or any row of a PostgreSQL one.
fn scan(store: &TestStore) -> Vec<String> {
    let mut found = Vec::new();
    if store.backend == "sqlite" {
        let db = std::path::Path::new(&store.db);
        for entry in std::fs::read_dir(db.parent().unwrap()).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            found.extend(found_in(&data, &path.display().to_string()));
        }
    } else {
        for (table, row) in postgres_rows(store) {
            found.extend(found_in(row.as_bytes(), &table));
            // bytea values (webhook bodies) come as "\\x…" hex in JSON.
            for hex_run in row.split("\\\\x").skip(1) {
                let digits: String = hex_run
                    .chars()
                    .take_while(char::is_ascii_hexdigit)
                    .collect();
                if let Ok(bytes) = hex::decode(&digits[..digits.len() / 2 * 2]) {
                    found.extend(found_in(&bytes, &format!("{table} (bytes)")));
                }
            }
        }
    }
    found
}

#[test]
fn no_form_of_the_person_is_left_in_any_file_of_the_store() {
    let repo = history();
    for store in TestStore::both() {
        store.ingest(repo.path());
        let server = Server::start(&store, None);
        deliveries(&server);
        let (stopped, log) = server.stop();
        assert!(stopped, "{log}");
        let commits_before = store.export("commits", "csv");

        // The search finds them before (so finding nothing after means something).
        let before = scan(&store);
        for form in [EMAIL, NAME, LOGIN] {
            assert!(
                before.iter().any(|f| f.starts_with(&format!("{form:?}"))),
                "{form} not found before forgetting: {before:#?}"
            );
        }

        if store.backend == "postgres" {
            assert!(before.iter().any(|f| f.ends_with("(bytes)")), "{before:#?}");
        }

        let said = forget(&store);
        assert!(said.contains("commits 2"), "{said}");
        assert!(!said.contains("warning"), "{said}");
        let found = scan(&store);
        assert!(found.is_empty(), "{}: {found:#?}", store.backend);

        // Their work stays: the same commits, now under a name that leads to no one.
        let commits_after = store.export("commits", "csv");
        assert_eq!(
            String::from_utf8_lossy(&commits_after).lines().count(),
            String::from_utf8_lossy(&commits_before).lines().count()
        );
        let dora = store.run(&["dora", "--format", "json"].map(OsStr::new));
        let v: serde_json::Value = serde_json::from_slice(&dora).unwrap();
        assert!(v["deployment_frequency"]["deployments"].as_u64().unwrap() >= 1);
        // A second run finds nothing more to rewrite.
        assert!(forget(&store).contains("rows rewritten per table: none"));
    }
}
