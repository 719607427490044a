//! `leadline import` end to end: whole files or nothing, idempotent re-imports, warnings for
//! commits the store does not know, on both stores.

use std::path::Path;

use crate::common::{GitRepo, TestStore, json_stdout};
use predicates::prelude::*;
use predicates::str::contains;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(store: &TestStore, what: &str, file: &Path) -> assert_cmd::assert::Assert {
    store.leadline().args(["import", what]).arg(file).assert()
}

#[test]
fn a_good_file_is_stored_and_a_reimport_changes_nothing() {
    let repo = GitRepo::new();
    repo.write(b"f", b"x\n");
    let sha = repo.commit_all("one");
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "deploys.csv",
        &format!(
            "id,service,environment,sha,started_at,finished_at,status\n\
             d1,api,production,{sha},2024-05-01T09:00:00+02:00,2024-05-01T09:30:00+02:00,\n\
             d2,api,production,{sha},,2024-05-02T10:00:00Z,Failure\n"
        ),
    );
    let ndjson = write(
        dir.path(),
        "incidents.ndjson",
        &format!(
            "{{\"id\": \"INC-7\", \"service\": \"api\", \"opened_at\": \"2024-05-01T08:00:00Z\", \"resolved_at\": \"2024-05-01T09:15:00Z\", \"cause_sha\": \"{sha}\", \"title\": \"5xx, \\\"quoted\\\"\"}}\n"
        ),
    );
    for store in TestStore::both() {
        store.ingest(repo.path());
        import(&store, "deployments", &csv)
            .success()
            .stderr(contains("imported 2 deployments (2 new)"))
            .stderr(contains("not in any ingested repository").not());
        import(&store, "incidents", &ndjson)
            .success()
            .stderr(contains("1 new"));
        let deployments = store.export("deployments", "csv");
        let incidents = store.export("incidents", "json");
        assert_eq!(
            String::from_utf8(deployments.clone()).unwrap(),
            format!(
                "source,id,service,environment,sha,started_at,finished_at,status,repo\n\
                 import,d1,api,production,{sha},2024-05-01T07:00:00+00:00,2024-05-01T07:30:00+00:00,success,\n\
                 import,d2,api,production,{sha},,2024-05-02T10:00:00+00:00,failure,\n"
            )
        );
        let v: serde_json::Value = serde_json::from_slice(&incidents).unwrap();
        assert_eq!(v[0]["title"], "5xx, \"quoted\"");
        assert_eq!(v[0]["resolved_at"], "2024-05-01T09:15:00+00:00");
        assert_eq!(v[0]["severity"], serde_json::Value::Null);

        import(&store, "deployments", &csv)
            .success()
            .stderr(contains("(0 new)"));
        import(&store, "incidents", &ndjson)
            .success()
            .stderr(contains("(0 new)"));
        assert_eq!(
            store.export("deployments", "csv"),
            deployments,
            "on {}",
            store.backend
        );
        assert_eq!(
            store.export("incidents", "json"),
            incidents,
            "on {}",
            store.backend
        );
    }
}

#[test]
fn a_bad_row_refuses_the_whole_file_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sha = "a".repeat(40);
    let json = write(
        dir.path(),
        "deploys.json",
        &format!(
            "[\n  {{\"id\": \"d1\", \"service\": \"api\", \"environment\": \"production\", \"sha\": \"{sha}\", \"finished_at\": \"2024-05-01T07:30:00Z\"}},\n  {{\"id\": \"d2\", \"service\": \"api\", \"environment\": \"production\", \"sha\": \"{sha}\",\n   \"finished_at\": \"May 2nd\"}}\n]\n"
        ),
    );
    for store in TestStore::both() {
        import(&store, "deployments", &json)
            .failure()
            .stderr(contains(
                "deploys.json:3: finished_at: \"May 2nd\" is not an RFC 3339 time",
            ))
            .stderr(contains("nothing was imported"));
        assert_eq!(
            store
                .export("deployments", "csv")
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            1,
            "only the header"
        );
    }
}

#[test]
fn unknown_commits_warn_and_unknown_formats_fail() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "d.csv",
        &format!(
            "id,service,environment,sha,finished_at\nd1,api,production,{},2024-05-01T07:30:00Z\n",
            "b".repeat(40)
        ),
    );
    let txt = write(dir.path(), "d.txt", "id\n");
    let store = TestStore::sqlite();
    import(&store, "deployments", &csv)
        .success()
        .stderr(contains("1 commit(s) are not in any ingested repository"));
    import(&store, "deployments", &txt)
        .failure()
        .stderr(contains("pass --format"));
    store
        .leadline()
        .args(["import", "deployments", "--format", "csv"])
        .arg(&txt)
        .assert()
        .failure()
        .stderr(contains("d.txt:1: service: required column is missing"))
        .stderr(contains("nothing was imported"));
}

/// Instants outside 1970..now+1 day are refused naming line and field; a store that already
/// holds one (written before the check existed) still answers `dora` from its good rows.
#[test]
fn absurd_times_are_refused_and_never_break_reads() {
    let repo = GitRepo::new();
    repo.write(b"f", b"x\n");
    let sha = repo.commit_all("one");
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "9999-12-30T00:00:00Z",
            "more than a day after the server's clock",
        ),
        ("9999-12-31T23:59:59Z", "is out of range"),
        ("1969-12-31T23:59:59Z", "is before 1970"),
    ];
    for store in TestStore::both() {
        store.ingest(repo.path());
        for (i, (at, why)) in cases.iter().enumerate() {
            let csv = write(
                dir.path(),
                &format!("absurd{i}.csv"),
                &format!(
                    "id,service,environment,sha,finished_at\n\
                     ok,api,production,{sha},2024-05-01T09:00:00Z\n\
                     bad,api,production,{sha},{at}\n"
                ),
            );
            import(&store, "deployments", &csv)
                .failure()
                .stderr(contains(format!("absurd{i}.csv:3: finished_at:")))
                .stderr(contains(*why));
            assert_eq!(
                store.export("deployments", "csv"),
                b"source,id,service,environment,sha,started_at,finished_at,status,repo\n"
            );
        }
        let good = write(
            dir.path(),
            "good.csv",
            &format!(
                "id,service,environment,sha,finished_at\nok,api,production,{sha},2024-05-01T09:00:00Z\n"
            ),
        );
        import(&store, "deployments", &good).success();
        insert_absurd_deployment(&store, &sha);
        let v: serde_json::Value =
            json_stdout(
                store
                    .leadline()
                    .args(["dora", "--service", "api", "--format", "json"]),
            );
        assert_eq!(v["until"], "2024-05-02T00:00:00+00:00", "{v}");
        assert_eq!(v["deployment_frequency"]["deployments"], 1);
    }
}

/// A deployment finished at i64::MAX ms, written straight into the store as an older
/// leadline would have stored it.
fn insert_absurd_deployment(store: &TestStore, sha: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let sql = "INSERT INTO deployments (source, external_id, service, environment, sha, \
                   finished_at, status) VALUES ('old', 'absurd', 'api', 'production', $1, $2, 'success')";
        if store.backend == "sqlite" {
            let url = format!("sqlite://{}", store.db);
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query(sql).bind(sha).bind(i64::MAX).execute(&mut conn).await.unwrap();
        } else {
            let mut conn = sqlx::PgConnection::connect(&store.db).await.unwrap();
            sqlx::query(sql).bind(sha).bind(i64::MAX).execute(&mut conn).await.unwrap();
        }
    });
}
