//! One conformance suite, run against SQLite and against a real PostgreSQL.
//!
//! PostgreSQL comes from `LEADLINE_TEST_POSTGRES` (an admin URL; `bash .ci/run` starts a
//! throwaway cluster and sets it). Each test gets a database of its own so tests run in
//! parallel. Without the variable the PostgreSQL half fails rather than passing silently; set
//! it to `skip` to run only SQLite on purpose.

use std::sync::atomic::{AtomicUsize, Ordering};

use leadline_core::events::{
    ApiToken, Build, CodeOwnersFile, Delivery, Events, Milestone, Outcome, PullRequest,
    PullRequestFiles, PushedCommit, Review, Scope, Stage,
};
use leadline_core::model::{
    ChangeStatus, Commit, Complexity, Deployment, FileChange, HeadFile, Identity, Incident,
    Linguist, Ref, RefKind, Signature, Trailer,
};
use leadline_core::store::prelude::*;
use leadline_core::store::{EventPosition, Forget, ImportCounts, PagePosition, StoreError};
use leadline_store::{LATEST_SCHEMA, Location, SqlStore};
use sqlx::Connection;

/// A fresh store of one backend, with what is needed to reopen it.
struct Fixture {
    store: SqlStore,
    location: Location,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Sqlite(dir.path().join("store.db"));
    let store = SqlStore::open(&location).await.unwrap();
    Some(Fixture {
        store,
        location,
        _dir: Some(dir),
    })
}

async fn postgres() -> Option<Fixture> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let admin = std::env::var("LEADLINE_TEST_POSTGRES").expect(
        "set LEADLINE_TEST_POSTGRES to a PostgreSQL admin URL (bash .ci/run does), or to `skip`",
    );
    if admin == "skip" {
        return None;
    }
    let name = format!(
        "conformance_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = match admin.rfind('/') {
        Some(i) => format!("{}/{name}", &admin[..i]),
        None => panic!("LEADLINE_TEST_POSTGRES has no database part"),
    };
    let location = Location::Postgres(url);
    let store = SqlStore::open(&location).await.unwrap();
    Some(Fixture {
        store,
        location,
        _dir: None,
    })
}

/// Declares each test once per backend, grouped by the store trait it checks (one per data
/// family, as leadline-store implements them: `history::sqlite_store::…`).
macro_rules! conformance {
    ($($family:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        $(mod $family {
            mod sqlite_store {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let f = super::super::sqlite().await.unwrap();
                    super::super::$name(f).await;
                })*
            }
            mod postgres_store {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(f) = super::super::postgres().await {
                        super::super::$name(f).await;
                    }
                })*
            }
        })*
    };
}

conformance!(
    history: [
        repositories_are_keyed_by_location_and_names_are_unique,
        commits_round_trip_with_raw_paths_and_binary_counts,
        inserting_a_batch_twice_changes_nothing,
        pages_cover_every_row_once_in_order,
        finishing_an_ingest_removes_unreachable_commits_and_replaces_refs,
        deleting_undoes_commits_and_repositories,
        activity_queries_see_what_was_stored,
        unknown_shas_are_those_no_repository_has,
        graph_reverts_and_refs_serve_dora,
        the_stored_graph_serves_once_an_ingest_finishes,
        complexity_and_head_files_serve_health,
        messages_are_found_by_the_strings_they_contain,
        commit_messages_carry_their_people_and_trailers_in_order,
    ],
    deployments: [
        deployments_are_upserted_by_source_and_id,
        incidents_are_upserted_by_source_and_id,
        event_pages_continue_after_their_position,
    ],
    forge: [
        a_delivery_is_stored_whole_once,
        replaying_a_delivery_replaces_its_outcome_and_upserts_again,
        older_pull_request_updates_do_not_overwrite_newer,
        delivered_progress_never_replaces_a_finished_deployment,
        synced_events_move_their_cursor_with_them,
        alert_events_apply_in_the_order_of_their_own_times,
        alert_lifecycles_keep_what_each_occurrence_reported,
    ],
    privacy: [forgetting_a_person_erases_them_and_keeps_their_work],
    sli: [sli_counts_are_upserted_by_slo_and_start],
    outbox: [notifications_are_decided_once_per_state_and_delivered_until_accepted],
    anomalies: [a_later_judgement_replaces_an_earlier_one],
    product: [product_events_are_kept_once_and_checkins_in_order],
    surveys: [survey_responses_are_kept_once_per_file_row],
    planning: [
        tracked_issues_are_replaced_whole_with_their_cursor,
        sprints_are_replaced_by_id
    ],
    jobs: [
        concurrent_claimers_never_share_a_job,
        an_expired_lease_is_taken_over_and_its_owner_can_no_longer_finish,
        retries_wait_out_their_backoff_and_failures_stay_until_armed,
        a_target_armed_while_it_runs_runs_once_more,
        an_exclusive_lock_has_one_holder_at_a_time,
        announced_changes_reach_watchers,
    ],
    admin: [
        schema_is_current_and_reopening_changes_nothing,
        a_newer_schema_is_refused_untouched,
        pseudonym_key_is_created_once,
        tokens_are_stored_by_hash_with_unique_names,
    ],
);

fn sig(name: &str, email: &str, at: i64, offset: i32) -> Signature {
    Signature {
        identity: Identity {
            name: name.into(),
            email: email.into(),
        },
        raw: None,
        at,
        offset_minutes: offset,
    }
}

fn change(path: &[u8], added: Option<u64>, deleted: Option<u64>) -> FileChange {
    FileChange {
        path: path.to_vec(),
        added,
        deleted,
        status: ChangeStatus::Modified,
        complexity: None,
    }
}

fn commit(sha_byte: u8, parents: &[&str], at: i64, files: Vec<FileChange>) -> Commit {
    Commit {
        sha: format!("{:02x}", sha_byte).repeat(20),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        author: sig("Ann", "ann@example.com", at - 1000, 120),
        committer: sig("Bob", "bob@example.com", at, -300),
        subject: format!("commit {sha_byte}"),
        body: "Body\n\nSigned-off-by: Ann <ann@example.com>\n".into(),
        trailers: vec![Trailer {
            key: "Signed-off-by".into(),
            value: "Ann <ann@example.com>".into(),
        }],
        file_changes: files,
    }
}

fn sample() -> Vec<Commit> {
    let a = commit(
        0xa1,
        &[],
        1_000_000,
        vec![change(b"README", Some(3), Some(0))],
    );
    let b = commit(
        0xb2,
        &[&a.sha],
        2_000_000,
        vec![
            change(b"src/z.rs", Some(1), Some(2)),
            change(b"caf\xe9 menu.txt", Some(4), Some(0)),
            change(b"logo.png", None, None),
        ],
    );
    let m = commit(0xc3, &[&a.sha, &b.sha], 3_000_000, vec![]);
    vec![a, b, m]
}

async fn all_file_changes(
    store: &SqlStore,
    repo: Option<i64>,
    page: usize,
) -> Vec<(String, String, Vec<u8>, Option<u64>, Option<u64>)> {
    let mut out = Vec::new();
    let mut after: Option<PagePosition> = None;
    loop {
        let p = store
            .file_changes_page(repo, after.as_ref(), page)
            .await
            .unwrap();
        out.extend(
            p.rows
                .into_iter()
                .map(|r| (r.repo, r.sha, r.path, r.added, r.deleted)),
        );
        match p.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

async fn all_commits(
    store: &SqlStore,
    repo: Option<i64>,
    page: usize,
) -> Vec<leadline_core::store::CommitRow> {
    let mut out = Vec::new();
    let mut after: Option<PagePosition> = None;
    loop {
        let p = store
            .commits_page(repo, after.as_ref(), page)
            .await
            .unwrap();
        out.extend(p.rows);
        match p.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

async fn schema_is_current_and_reopening_changes_nothing(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("r", "/r").await.unwrap();
    f.store.insert_commits(repo.id, &sample()).await.unwrap();
    f.store.close().await.unwrap();
    let again = SqlStore::open(&f.location).await.unwrap();
    assert_eq!(again.repositories().await.unwrap(), vec![repo]);
    assert_eq!(all_commits(&again, None, 100).await.len(), 3);
    assert_eq!(LATEST_SCHEMA, 29);
}

async fn a_newer_schema_is_refused_untouched(f: Fixture) {
    f.store.upsert_repository("r", "/r").await.unwrap();
    f.store.close().await.unwrap();
    set_schema_version(&f.location, LATEST_SCHEMA + 1).await;
    match SqlStore::open(&f.location).await {
        Err(StoreError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (LATEST_SCHEMA + 1, LATEST_SCHEMA));
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
    set_schema_version(&f.location, LATEST_SCHEMA).await;
    let store = SqlStore::open(&f.location).await.unwrap();
    assert_eq!(store.repositories().await.unwrap().len(), 1);
}

async fn set_schema_version(location: &Location, version: i64) {
    execute(
        location,
        format!("UPDATE leadline_meta SET value = '{version}' WHERE key = 'schema_version'"),
    )
    .await;
}

/// A count, read behind leadline's back.
async fn count(location: &Location, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match location {
        Location::Sqlite(path) => {
            let url = format!("sqlite://{}", path.display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
        Location::Postgres(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

/// Runs SQL on the store behind leadline's back.
async fn execute(location: &Location, sql: String) {
    let sql = sqlx::AssertSqlSafe(sql);
    match location {
        Location::Sqlite(path) => {
            let url = format!("sqlite://{}", path.display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        }
        Location::Postgres(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        }
    }
}

async fn repositories_are_keyed_by_location_and_names_are_unique(f: Fixture) {
    let (a, created) = f.store.upsert_repository("app", "/src/app").await.unwrap();
    assert!(created);
    let (again, created) = f
        .store
        .upsert_repository("other-name", "/src/app")
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, a);
    match f.store.upsert_repository("app", "/elsewhere/app").await {
        Err(StoreError::Conflict(msg)) => assert!(msg.contains("/src/app"), "{msg}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    f.store.upsert_repository("Zed", "/z").await.unwrap();
    f.store.upsert_repository("api", "/api").await.unwrap();
    let names: Vec<String> = f
        .store
        .repositories()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    // Bytewise order on both backends: upper case before lower case.
    assert_eq!(names, ["Zed", "api", "app"]);
    assert_eq!(
        f.store.repository("api").await.unwrap().unwrap().location,
        "/api"
    );
    assert!(f.store.repository("nope").await.unwrap().is_none());
}

async fn commits_round_trip_with_raw_paths_and_binary_counts(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("r", "/r").await.unwrap();
    let commits = sample();
    f.store.insert_commits(repo.id, &commits).await.unwrap();

    let stored = all_commits(&f.store, Some(repo.id), 100).await;
    let shas: Vec<&str> = stored.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(
        shas,
        commits.iter().map(|c| c.sha.as_str()).collect::<Vec<_>>()
    );
    let b = &stored[1];
    assert_eq!(b.parents, commits[1].parents);
    assert_eq!((b.authored_at, b.author_offset_minutes), (1_999_000, 120));
    assert_eq!(
        (b.committed_at, b.committer_offset_minutes),
        (2_000_000, -300)
    );
    assert_eq!(b.author.email, "ann@example.com");
    assert_eq!(b.committer.name, "Bob");
    assert_eq!(b.subject, "commit 178");
    assert!(stored[2].is_merge() && !b.is_merge());

    let rows = all_file_changes(&f.store, None, 100).await;
    let b_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.1 == b.sha)
        .map(|r| (r.2.clone(), r.3, r.4))
        .collect();
    // Ordered by path bytes: 'c' (0x63) < 'l' < 's'; the non-UTF-8 byte survives.
    assert_eq!(
        b_rows,
        vec![
            (b"caf\xe9 menu.txt".to_vec(), Some(4), Some(0)),
            (b"logo.png".to_vec(), None, None),
            (b"src/z.rs".to_vec(), Some(1), Some(2)),
        ]
    );
    assert_eq!(rows.len(), 4);
}

async fn inserting_a_batch_twice_changes_nothing(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("r", "/r").await.unwrap();
    f.store.insert_commits(repo.id, &sample()).await.unwrap();
    let before = (
        all_commits(&f.store, None, 100).await,
        all_file_changes(&f.store, None, 100).await,
    );
    f.store
        .insert_commits(repo.id, &sample()[1..])
        .await
        .unwrap();
    let after = (
        all_commits(&f.store, None, 100).await,
        all_file_changes(&f.store, None, 100).await,
    );
    assert_eq!(before, after);
}

async fn pages_cover_every_row_once_in_order(f: Fixture) {
    let (r1, _) = f.store.upsert_repository("one", "/one").await.unwrap();
    let (r2, _) = f.store.upsert_repository("two", "/two").await.unwrap();
    // Equal commit times force the sha tie-break across page boundaries.
    let commits: Vec<Commit> = (0..25u8)
        .map(|i| {
            let files = (0..3)
                .map(|j| change(format!("f{j}").as_bytes(), Some(j), Some(0)))
                .collect();
            commit(i, &[], 1_000 * i64::from(i / 4), files)
        })
        .collect();
    f.store.insert_commits(r1.id, &commits).await.unwrap();
    f.store.insert_commits(r2.id, &commits[..5]).await.unwrap();

    let whole = all_commits(&f.store, None, 1000).await;
    assert_eq!(whole.len(), 30);
    for page in [1, 2, 7, 29, 30] {
        assert_eq!(
            all_commits(&f.store, None, page).await,
            whole,
            "page size {page}"
        );
    }
    let keys: Vec<(String, i64, String)> = whole
        .iter()
        .map(|c| (c.repo.clone(), c.committed_at, c.sha.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    let changes = all_file_changes(&f.store, None, 1000).await;
    assert_eq!(changes.len(), 90);
    for page in [1, 4, 89] {
        assert_eq!(
            all_file_changes(&f.store, None, page).await,
            changes,
            "page size {page}"
        );
    }
    assert_eq!(all_file_changes(&f.store, Some(r2.id), 4).await.len(), 15);
}

async fn finishing_an_ingest_removes_unreachable_commits_and_replaces_refs(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("r", "/r").await.unwrap();
    let commits = sample();
    f.store.insert_commits(repo.id, &commits).await.unwrap();
    let tag = |name: &str, sha: &str, at: Option<i64>| Ref {
        name: format!("refs/tags/{name}"),
        kind: RefKind::Tag,
        commit: sha.to_owned(),
        annotated: at.is_some(),
        tagger_at: at,
        tagger_offset_minutes: at.map(|_| 60),
    };
    let first = vec![
        tag("v1", &commits[0].sha, Some(5)),
        tag("v2", &commits[2].sha, None),
    ];
    f.store
        .finish_ingest(repo.id, &[], &first, ("git", "/r", "d1"))
        .await
        .unwrap();
    assert_eq!(
        f.store.cursor("git", "/r").await.unwrap().as_deref(),
        Some("d1")
    );
    let tags = f.store.tags(None).await.unwrap();
    assert_eq!(
        tags.iter().map(|t| t.tag.clone()).collect::<Vec<_>>(),
        first
    );

    // The merge and b become unreachable: they, their file changes and the old refs go.
    let second = vec![tag("v1", &commits[0].sha, Some(5))];
    let gone = vec![commits[1].sha.clone(), commits[2].sha.clone()];
    f.store
        .finish_ingest(repo.id, &gone, &second, ("git", "/r", "d2"))
        .await
        .unwrap();
    assert_eq!(
        f.store.cursor("git", "/r").await.unwrap().as_deref(),
        Some("d2")
    );
    assert_eq!(
        f.store.commit_shas(repo.id).await.unwrap(),
        vec![commits[0].sha.clone()]
    );
    assert_eq!(all_file_changes(&f.store, None, 100).await.len(), 1);
    assert_eq!(f.store.tags(Some(repo.id)).await.unwrap().len(), 1);
}

async fn deleting_undoes_commits_and_repositories(f: Fixture) {
    let (keep, _) = f.store.upsert_repository("keep", "/keep").await.unwrap();
    let (drop, _) = f.store.upsert_repository("drop", "/drop").await.unwrap();
    let commits = sample();
    f.store.insert_commits(keep.id, &commits).await.unwrap();
    f.store.insert_commits(drop.id, &commits).await.unwrap();
    f.store
        .finish_ingest(drop.id, &[], &[], ("git", "/drop", "x"))
        .await
        .unwrap();

    f.store
        .delete_commits(keep.id, &[commits[1].sha.clone()])
        .await
        .unwrap();
    let mut left = f.store.commit_shas(keep.id).await.unwrap();
    left.sort();
    assert_eq!(left, vec![commits[0].sha.clone(), commits[2].sha.clone()]);
    assert_eq!(
        all_file_changes(&f.store, Some(keep.id), 100).await.len(),
        1
    );

    f.store.delete_repository(drop.id).await.unwrap();
    assert_eq!(f.store.repositories().await.unwrap(), vec![keep.clone()]);
    assert!(f.store.commit_shas(drop.id).await.unwrap().is_empty());
    assert!(f.store.cursor("git", "/drop").await.unwrap().is_none());
    assert_eq!(all_commits(&f.store, None, 100).await.len(), 2);
}

async fn pseudonym_key_is_created_once(f: Fixture) {
    let key = f.store.pseudonym_key().await.unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(f.store.pseudonym_key().await.unwrap(), key);
    f.store.close().await.unwrap();
    let again = SqlStore::open(&f.location).await.unwrap();
    assert_eq!(again.pseudonym_key().await.unwrap(), key);
}

async fn activity_queries_see_what_was_stored(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("r", "/r").await.unwrap();
    f.store.insert_commits(repo.id, &sample()).await.unwrap();
    let mut facts = f.store.commit_facts(repo.id).await.unwrap();
    facts.sort_by_key(|c| c.committed_at);
    let merges: Vec<bool> = facts.iter().map(|c| c.is_merge).collect();
    assert_eq!(merges, [false, false, true]);
    assert!(facts.iter().all(|c| c.author_email == "ann@example.com"));
    let shas: Vec<String> = facts.iter().map(|c| c.sha.clone()).collect();
    let times: Vec<i64> = facts.iter().map(|c| c.committed_at).collect();
    assert_eq!(
        shas,
        sample().iter().map(|c| c.sha.clone()).collect::<Vec<_>>()
    );
    assert_eq!(times, [1_000_000, 2_000_000, 3_000_000]);
    let churn = f.store.churn_since(repo.id, 2_000_000).await.unwrap();
    assert_eq!(churn.len(), 3);
    assert!(churn.iter().all(|c| c.committed_at == 2_000_000));
}

/// Complexity after each change, the streamed file changes, parents, and the files at HEAD
/// (replaced whole, removed with their repository).
async fn complexity_and_head_files_serve_health(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("r", "/r").await.unwrap();
    let mut commits = sample();
    let measured = Complexity {
        lines: 7,
        indentation: 3,
    };
    commits[1].file_changes[0].complexity = Some(measured);
    // A binary file (no counts) under a path that is not UTF-8 streams like any other.
    commits[2]
        .file_changes
        .push(change(b"bin/\xff.dat", None, None));
    f.store.insert_commits(repo.id, &commits).await.unwrap();
    let mut streamed = Vec::new();
    f.store
        .each_file_change(repo.id, &mut |row| streamed.push(row))
        .await
        .unwrap();
    let mut listed = f.store.churn_since(repo.id, i64::MIN).await.unwrap();
    streamed.sort_by(|a, b| (&a.sha, &a.path).cmp(&(&b.sha, &b.path)));
    listed.sort_by(|a, b| (&a.sha, &a.path).cmp(&(&b.sha, &b.path)));
    assert_eq!(streamed, listed);
    assert_eq!(streamed.len(), 5);
    let binary = streamed.iter().find(|r| r.path == b"bin/\xff.dat").unwrap();
    assert_eq!((binary.added, binary.deleted), (None, None));
    let z: Vec<_> = streamed.iter().filter(|r| r.path == b"src/z.rs").collect();
    assert_eq!(z[0].complexity, Some(measured));
    assert!(
        streamed
            .iter()
            .filter(|r| r.path != b"src/z.rs")
            .all(|r| r.complexity.is_none())
    );
    let mut parents = f.store.commit_parents(repo.id).await.unwrap();
    parents.sort();
    let expected: Vec<(String, Vec<String>)> = {
        let mut e: Vec<_> = commits
            .iter()
            .map(|c| (c.sha.clone(), c.parents.clone()))
            .collect();
        e.sort();
        e
    };
    assert_eq!(parents, expected);

    let file = |path: &[u8], blob: &str, complexity, linguist| HeadFile {
        path: path.to_vec(),
        blob: blob.into(),
        complexity,
        linguist,
    };
    let first = vec![
        file(b"caf\xe9.txt", "b1", Some(measured), None),
        file(
            b"gen.pb.go",
            "b4",
            Some(measured),
            Some(Linguist::Generated),
        ),
        file(b"logo.png", "b2", None, Some(Linguist::Vendored)),
        file(
            b"vendor/ours.c",
            "b5",
            Some(measured),
            Some(Linguist::ByHand),
        ),
    ];
    assert_eq!(f.store.head_file_count(repo.id).await.unwrap(), 0);
    f.store.replace_head_files(repo.id, &first).await.unwrap();
    assert_eq!(f.store.head_files(repo.id).await.unwrap(), first);
    assert_eq!(f.store.head_file_count(repo.id).await.unwrap(), 4);
    let second = vec![file(b"a.rs", "b3", Some(Complexity::default()), None)];
    f.store.replace_head_files(repo.id, &second).await.unwrap();
    assert_eq!(f.store.head_files(repo.id).await.unwrap(), second);
    f.store.delete_repository(repo.id).await.unwrap();
    assert!(f.store.head_files(repo.id).await.unwrap().is_empty());
}

fn deployment(id: &str, finished_at: i64) -> Deployment {
    Deployment {
        id: id.into(),
        service: "api".into(),
        environment: "production".into(),
        sha: "ab".repeat(20),
        started_at: Some(finished_at - 60_000),
        finished_at,
        status: "success".into(),
        repo: None,
    }
}

async fn deployments_are_upserted_by_source_and_id(f: Fixture) {
    let rows = vec![deployment("d2", 2_000), deployment("d1", 1_000)];
    let counts = f.store.upsert_deployments("ci", &rows).await.unwrap();
    assert_eq!(counts, ImportCounts { rows: 2, new: 2 });
    let first = f.store.deployments().await.unwrap();
    assert_eq!(
        first.iter().map(|(_, d)| d.id.as_str()).collect::<Vec<_>>(),
        ["d1", "d2"]
    );
    assert_eq!(first[0], ("ci".to_owned(), rows[1].clone()));

    // The same rows again: nothing new, nothing changed.
    assert_eq!(
        f.store.upsert_deployments("ci", &rows).await.unwrap(),
        ImportCounts { rows: 2, new: 0 }
    );
    assert_eq!(f.store.deployments().await.unwrap(), first);

    // A changed row replaces its old self; the same id from another source is another row.
    let mut failed = rows[0].clone();
    failed.status = "failure".into();
    failed.repo = Some("app".into());
    assert_eq!(
        f.store
            .upsert_deployments("ci", &[failed.clone()])
            .await
            .unwrap(),
        ImportCounts { rows: 1, new: 0 }
    );
    assert_eq!(
        f.store
            .upsert_deployments("other", &[rows[0].clone()])
            .await
            .unwrap()
            .new,
        1
    );
    let all = f.store.deployments().await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.contains(&("ci".to_owned(), failed)));
}

async fn incidents_are_upserted_by_source_and_id(f: Fixture) {
    let open = Incident {
        id: "INC-1".into(),
        service: "api".into(),
        opened_at: 5_000,
        resolved_at: None,
        severity: Some("sev2".into()),
        title: Some("Checkout down".into()),
        cause_deployment: None,
        cause_sha: Some("cd".repeat(20)),
        postmortem_url: None,
        fix_deployment: None,
        fix_sha: None,
        ..Incident::default()
    };
    assert_eq!(
        f.store
            .upsert_incidents("pager", std::slice::from_ref(&open))
            .await
            .unwrap(),
        ImportCounts { rows: 1, new: 1 }
    );
    let mut resolved = open.clone();
    resolved.resolved_at = Some(9_000);
    resolved.postmortem_url = Some("https://example.com/pm/1".into());
    assert_eq!(
        f.store
            .upsert_incidents("pager", &[resolved.clone()])
            .await
            .unwrap()
            .new,
        0
    );
    assert_eq!(
        f.store.incidents().await.unwrap(),
        vec![("pager".to_owned(), resolved)]
    );
}

async fn unknown_shas_are_those_no_repository_has(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("r", "/r").await.unwrap();
    let commits = sample();
    f.store.insert_commits(repo.id, &commits).await.unwrap();
    let asked = vec![
        commits[1].sha.clone(),
        "ff".repeat(20),
        commits[0].sha.clone(),
        "ff".repeat(20),
    ];
    assert_eq!(
        f.store.unknown_shas(&asked).await.unwrap(),
        vec!["ff".repeat(20)]
    );
    assert!(f.store.unknown_shas(&[]).await.unwrap().is_empty());
    // An abbreviation of a stored commit is known; one of nothing stored is not.
    let short = vec![commits[2].sha[..9].to_owned(), "fffffff".to_owned()];
    assert_eq!(
        f.store.unknown_shas(&short).await.unwrap(),
        vec!["fffffff".to_owned()]
    );
}

async fn commit_messages_carry_their_people_and_trailers_in_order(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("r", "/r").await.unwrap();
    let mut commits = sample();
    commits[1].trailers = vec![
        Trailer {
            key: "Co-authored-by".into(),
            value: "Zed <zed@example.com>".into(),
        },
        Trailer {
            key: "Action".into(),
            value: "PM-1/A1".into(),
        },
    ];
    commits[2].trailers.clear();
    f.store.insert_commits(repo.id, &commits).await.unwrap();
    let mut messages = f.store.commit_messages(repo.id).await.unwrap();
    messages.sort_by_key(|m| m.committed_at);
    assert_eq!(messages.len(), 3);
    for (m, c) in messages.iter().zip(&commits) {
        assert_eq!(m.sha, c.sha);
        assert_eq!(m.author, c.author.identity);
        assert_eq!(m.committer, c.committer.identity);
        assert_eq!(m.committed_at, c.committer.at);
        assert_eq!(
            (m.subject.as_str(), m.body.as_str()),
            (c.subject.as_str(), c.body.as_str())
        );
        let trailers: Vec<(String, String)> = c
            .trailers
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        assert_eq!(m.trailers, trailers);
    }
    assert_eq!(
        messages.iter().map(|m| m.is_merge).collect::<Vec<_>>(),
        [false, false, true]
    );
}

async fn messages_are_found_by_the_strings_they_contain(f: Fixture) {
    let (one, _) = f.store.upsert_repository("one", "/one").await.unwrap();
    let (two, _) = f.store.upsert_repository("two", "/two").await.unwrap();
    let mut commits = sample();
    commits[0].subject = "PAY-1: refunds".into();
    commits[1].body = "Closes PAY-2 and OPS-7\n".into();
    commits[2].subject = "pay-3 in lower case, A_B-1".into();
    f.store.insert_commits(one.id, &commits).await.unwrap();
    let found = |repo: i64, needles: &[&str]| {
        let needles: Vec<String> = needles.iter().map(|n| (*n).to_owned()).collect();
        let store = &f.store;
        async move {
            let mut shas: Vec<String> = store
                .messages_containing(repo, &needles)
                .await
                .unwrap()
                .into_iter()
                .map(|(sha, _, _)| sha)
                .collect();
            shas.sort();
            shas
        }
    };
    let sha = |i: usize| commits[i].sha.clone();
    // Subject or body, each commit once; case-sensitive; `_` is no wildcard.
    assert_eq!(found(one.id, &["PAY-"]).await, [sha(0), sha(1)]);
    assert_eq!(found(one.id, &["OPS-", "PAY-"]).await, [sha(0), sha(1)]);
    assert_eq!(found(one.id, &["A_B-"]).await, [sha(2)]);
    assert!(found(one.id, &["AxB-", "Q-"]).await.is_empty());
    assert!(found(one.id, &[]).await.is_empty());
    // Only the repository asked about.
    assert!(found(two.id, &["PAY-"]).await.is_empty());
    // More needles than one statement takes.
    let many: Vec<String> = (0..250)
        .map(|i| format!("X{i}-"))
        .chain(["OPS-".to_owned()])
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(found(one.id, &many).await, [sha(1)]);
    let (_, subject, body) = f
        .store
        .messages_containing(one.id, &["OPS-".to_owned()])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (subject.as_str(), body.as_str()),
        ("commit 178", "Closes PAY-2 and OPS-7\n")
    );
}

async fn graph_reverts_and_refs_serve_dora(f: Fixture) {
    let (one, _) = f.store.upsert_repository("one", "/one").await.unwrap();
    let (two, _) = f.store.upsert_repository("two", "/two").await.unwrap();
    let mut commits = sample();
    commits[2].body = format!("This reverts commit {}.\n", commits[1].sha);
    f.store.insert_commits(one.id, &commits).await.unwrap();
    // The same commits in a second repository (a fork) are one graph.
    f.store.insert_commits(two.id, &commits).await.unwrap();
    let mut graph = f.store.commit_graph(&[]).await.unwrap();
    graph.sort_by_key(|g| g.committed_at);
    assert_eq!(graph.len(), 3);
    assert_eq!(graph[2].parents, commits[2].parents);
    assert_eq!(
        graph.iter().map(|g| g.committed_at).collect::<Vec<_>>(),
        [1_000_000, 2_000_000, 3_000_000]
    );
    assert!(graph.iter().all(|g| !g.bot));
    // Bot markers match name or email, case-insensitively ("ANN@" is in ann@example.com).
    let flagged = f
        .store
        .commit_graph(&["zed".into(), "ANN@".into()])
        .await
        .unwrap();
    assert!(flagged.len() == 3 && flagged.iter().all(|g| g.bot));
    let none = f.store.commit_graph(&["[bot]".into()]).await.unwrap();
    assert!(none.iter().all(|g| !g.bot));
    // Case-insensitive beyond ASCII: "ÉLOÏSE" marks an author named "éloïse".
    let mut accented = commit(0xd4, &[], 4_000_000, vec![]);
    accented.author.identity.name = "Éloïse".into();
    f.store
        .insert_commits(two.id, std::slice::from_ref(&accented))
        .await
        .unwrap();
    let flagged = f.store.commit_graph(&["ÉLOÏSE".into()]).await.unwrap();
    let bots: Vec<&str> = flagged
        .iter()
        .filter(|g| g.bot)
        .map(|g| g.sha.as_str())
        .collect();
    assert_eq!(bots, [accented.sha.as_str()]);
    let none = f.store.commit_graph(&["[bot]".into()]).await.unwrap();
    assert!(none.iter().all(|g| !g.bot));
    let subjects = f.store.subjects().await.unwrap();
    assert!(subjects.contains(&(commits[1].sha.clone(), "commit 178".to_owned())));
    let mut paths = f.store.commit_paths().await.unwrap();
    paths.sort();
    assert_eq!(
        paths.len(),
        4,
        "one row per (sha, path) across both repositories"
    );
    assert!(paths.contains(&(commits[1].sha.clone(), b"caf\xe9 menu.txt".to_vec())));
    let reverts = f.store.reverts().await.unwrap();
    assert_eq!(reverts.len(), 1);
    assert_eq!(
        (reverts[0].sha.as_str(), reverts[0].committed_at),
        (commits[2].sha.as_str(), 3_000_000)
    );
    assert!(reverts[0].message.contains(&commits[1].sha));

    let head = Ref {
        name: "HEAD".into(),
        kind: RefKind::Head,
        commit: commits[2].sha.clone(),
        annotated: false,
        tagger_at: None,
        tagger_offset_minutes: None,
    };
    let tag = Ref {
        name: "refs/tags/v1".into(),
        kind: RefKind::Tag,
        commit: commits[0].sha.clone(),
        annotated: true,
        tagger_at: Some(7),
        tagger_offset_minutes: Some(-60),
    };
    f.store
        .finish_ingest(
            one.id,
            &[],
            &[tag.clone(), head.clone()],
            ("git", "/one", "x"),
        )
        .await
        .unwrap();
    assert_eq!(f.store.refs(one.id).await.unwrap(), vec![head, tag]);
    assert!(f.store.refs(two.id).await.unwrap().is_empty());
}

async fn event_pages_continue_after_their_position(f: Fixture) {
    // Same time, different ids: the position's (time, source, id) orders them.
    let rows: Vec<Deployment> = ["d3", "d1", "d2", "d4"]
        .iter()
        .map(|id| deployment(id, if *id == "d4" { 9_000 } else { 5_000 }))
        .collect();
    f.store.upsert_deployments("ci", &rows).await.unwrap();
    let mut seen = Vec::new();
    let mut after: Option<EventPosition> = None;
    loop {
        let page = f.store.deployments_page(after.as_ref(), 3).await.unwrap();
        let Some((source, last)) = page.last() else {
            break;
        };
        after = Some(EventPosition {
            at: last.finished_at,
            source: source.clone(),
            id: last.id.clone(),
        });
        seen.extend(page.iter().map(|(_, d)| d.id.clone()));
    }
    assert_eq!(seen, ["d1", "d2", "d3", "d4"]);
    let incidents = f.store.incidents_page(None, 10).await.unwrap();
    assert!(incidents.is_empty());
}

fn delivery(id: &str, body: &str) -> Delivery {
    Delivery {
        source: "github".into(),
        id: id.into(),
        event: "deployment_status".into(),
        received_at: 1_000,
        body: body.as_bytes().to_vec(),
        outcome: Outcome::Stored,
        detail: "1 deployment".into(),
    }
}

fn pull_request(updated_at: i64, state: &str) -> PullRequest {
    PullRequest {
        forge: "github".into(),
        repo: "octo/app".into(),
        number: 7,
        title: "Add checkout".into(),
        author: "octocat".into(),
        state: state.into(),
        draft: false,
        created_at: 1_000,
        first_commit_at: None,
        rework_commits: None,
        ready_at: None,
        updated_at,
        merged_at: (state == "merged").then_some(updated_at),
        closed_at: (state != "open").then_some(updated_at),
        base_ref: "main".into(),
        head_sha: "ab".repeat(20),
        merge_sha: None,
        additions: Some(10),
        deletions: Some(2),
        changed_files: Some(1),
        commits: Some(3),
        labels: vec!["bug".into(), "needs, review".into()],
        review_requests: vec![],
        actions: vec![],
        issue_keys: vec!["PAY-12".into(), "OPS-3".into()],
    }
}

fn all_events() -> Events {
    Events {
        deployments: vec![deployment("42", 3_000)],
        milestones: vec![],
        incidents: vec![Incident {
            id: "octo/app#9".into(),
            service: "app".into(),
            opened_at: 2_000,
            resolved_at: None,
            severity: None,
            title: Some("Checkout down".into()),
            cause_deployment: None,
            cause_sha: None,
            postmortem_url: None,
            fix_deployment: None,
            fix_sha: None,
            ..Incident::default()
        }],
        pull_requests: vec![pull_request(2_000, "open")],
        reviews: vec![Review {
            forge: "github".into(),
            repo: "octo/app".into(),
            number: 7,
            id: "r1".into(),
            reviewer: "hubot".into(),
            state: "approved".into(),
            submitted_at: 2_500,
            comments: None,
        }],
        builds: vec![Build {
            id: "30433642/1".into(),
            repo: "octo/app".into(),
            pipeline: "CI".into(),
            sha: "ab".repeat(20),
            branch: Some("main".into()),
            attempt: 1,
            status: "success".into(),
            created_at: 1_000,
            started_at: Some(1_100),
            finished_at: Some(1_900),
            updated_at: 1_900,
        }],
        pushed_commits: vec![PushedCommit {
            forge: "github".into(),
            repo: "octo/app".into(),
            sha: "cd".repeat(20),
            ref_name: "refs/heads/main".into(),
            author_name: "Ann".into(),
            author_email: "ann@example.com".into(),
            committed_at: 900,
            pushed_at: 950,
            message: "Fix\n\nbody".into(),
        }],
        pull_request_files: vec![PullRequestFiles {
            forge: "github".into(),
            repo: "octo/app".into(),
            number: 7,
            paths: vec!["src/a.rs".into(), "web/app.js".into()],
        }],
        code_owners: vec![CodeOwnersFile {
            forge: "github".into(),
            repo: "octo/app".into(),
            rules: vec![
                ("*".into(), vec!["@org/all".into()]),
                ("/vendor/".into(), vec![]),
                (
                    "*.js".into(),
                    vec!["@org/web".into(), "ann@example.com".into()],
                ),
            ],
        }],
    }
}

async fn a_delivery_is_stored_whole_once(f: Fixture) {
    let before = f.store.row_counts().await.unwrap();
    let events = all_events();
    let d = delivery("guid-1", "{\"a\":1}");
    assert!(f.store.apply_delivery(&d, &events, false).await.unwrap());
    assert_eq!(
        f.store.deliveries_page(None, None, 10).await.unwrap(),
        vec![d.clone()]
    );
    assert_eq!(f.store.deployments().await.unwrap().len(), 1);
    assert_eq!(f.store.deployments().await.unwrap()[0].0, "github");
    assert_eq!(f.store.incidents().await.unwrap().len(), 1);
    assert_eq!(f.store.pull_requests().await.unwrap(), events.pull_requests);
    assert_eq!(f.store.reviews().await.unwrap(), events.reviews);
    assert_eq!(
        f.store.builds().await.unwrap(),
        vec![("github".to_owned(), events.builds[0].clone())]
    );
    assert_eq!(
        f.store.pushed_commits().await.unwrap(),
        events.pushed_commits
    );
    let after_first = f.store.row_counts().await.unwrap();
    assert_ne!(before, after_first);

    // A redelivery (same source and id) stores nothing, even with other content.
    let mut other = all_events();
    other.deployments[0].id = "43".into();
    assert!(!f.store.apply_delivery(&d, &other, false).await.unwrap());
    assert_eq!(f.store.row_counts().await.unwrap(), after_first);

    // The same id from another source is another delivery.
    let mut gitlab = d.clone();
    gitlab.source = "gitlab".into();
    assert!(
        f.store
            .apply_delivery(&gitlab, &Events::default(), false)
            .await
            .unwrap()
    );
    assert_eq!(
        f.store
            .deliveries_page(Some("gitlab"), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // A resolution closes an open incident of the delivery's source, once.
    let resolve = Events {
        milestones: vec![Milestone {
            id: "octo/app#9".into(),
            stage: Stage::Resolved,
            at: 8_000,
        }],
        ..Events::default()
    };
    for (id, at) in [("guid-2", 8_000), ("guid-3", 9_000)] {
        let mut again = resolve.clone();
        again.milestones[0].at = at;
        f.store
            .apply_delivery(&delivery(id, "{}"), &again, false)
            .await
            .unwrap();
    }
    assert_eq!(
        f.store.incidents().await.unwrap()[0].1.resolved_at,
        Some(8_000)
    );
}

async fn replaying_a_delivery_replaces_its_outcome_and_upserts_again(f: Fixture) {
    let mut d = delivery("guid-1", "{}");
    d.outcome = Outcome::Failed;
    d.detail = "missing deployment.sha".into();
    assert!(
        f.store
            .apply_delivery(&d, &Events::default(), false)
            .await
            .unwrap()
    );
    let mut fixed = d.clone();
    fixed.outcome = Outcome::Stored;
    fixed.detail = "1 deployment".into();
    let events = Events {
        deployments: vec![deployment("42", 3_000)],
        ..Events::default()
    };
    assert!(f.store.apply_delivery(&fixed, &events, true).await.unwrap());
    assert!(f.store.apply_delivery(&fixed, &events, true).await.unwrap());
    assert_eq!(
        f.store.deliveries_page(None, None, 10).await.unwrap(),
        vec![fixed]
    );
    assert_eq!(f.store.deployments().await.unwrap().len(), 1);
}

async fn older_pull_request_updates_do_not_overwrite_newer(f: Fixture) {
    let merged = Events {
        pull_requests: vec![pull_request(5_000, "merged")],
        ..Events::default()
    };
    let stale = Events {
        pull_requests: vec![pull_request(2_000, "open")],
        ..Events::default()
    };
    f.store
        .apply_delivery(&delivery("new", "{}"), &merged, false)
        .await
        .unwrap();
    f.store
        .apply_delivery(&delivery("old", "{}"), &stale, false)
        .await
        .unwrap();
    assert_eq!(f.store.pull_requests().await.unwrap(), merged.pull_requests);
}

async fn tokens_are_stored_by_hash_with_unique_names(f: Fixture) {
    let token = ApiToken {
        name: "ci".into(),
        scope: Scope::Write,
        hash: "ab".repeat(32),
        created_at: 1_000,
    };
    f.store.create_token(&token).await.unwrap();
    let mut same_name = token.clone();
    same_name.hash = "cd".repeat(32);
    assert!(matches!(
        f.store.create_token(&same_name).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(f.store.tokens().await.unwrap(), vec![token]);
    assert!(f.store.revoke_token("ci").await.unwrap());
    assert!(!f.store.revoke_token("ci").await.unwrap());
    assert!(f.store.tokens().await.unwrap().is_empty());
}

async fn delivered_progress_never_replaces_a_finished_deployment(f: Fixture) {
    let with_status = |status: &str, at: i64| Events {
        deployments: vec![Deployment {
            status: status.into(),
            ..deployment("42", at)
        }],
        ..Events::default()
    };
    let steps = [
        ("pending", 1_000, "pending"),
        ("in_progress", 2_000, "in_progress"),
        ("success", 3_000, "success"),
        // Late or out-of-order progress reports leave the finished deployment alone.
        ("in_progress", 2_500, "success"),
        ("queued", 500, "success"),
        // A final status may still correct a final status.
        ("failure", 4_000, "failure"),
    ];
    for (i, (status, at, expected)) in steps.into_iter().enumerate() {
        f.store
            .apply_delivery(
                &delivery(&format!("d{i}"), "{}"),
                &with_status(status, at),
                false,
            )
            .await
            .unwrap();
        let stored = f.store.deployments().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].1.status, expected, "after {status}");
    }
    // Imports are authoritative: they replace whatever is stored.
    f.store
        .upsert_deployments("github", &[deployment("42", 9_000)])
        .await
        .unwrap();
    let mut pending = deployment("42", 9_500);
    pending.status = "pending".into();
    f.store
        .upsert_deployments("github", &[pending])
        .await
        .unwrap();
    assert_eq!(f.store.deployments().await.unwrap()[0].1.status, "pending");
}

/// (sha, parents, time, bot) sorted, for comparing graphs.
type GraphKey = (String, Vec<String>, i64, bool);

async fn graph_of(store: &SqlStore, bots: &[String]) -> Vec<GraphKey> {
    let mut g: Vec<GraphKey> = store
        .commit_graph(bots)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.sha, g.parents, g.committed_at, g.bot))
        .collect();
    g.sort();
    g
}

fn expected_graph(commits: &[Commit], bot_author: Option<&str>) -> Vec<GraphKey> {
    let mut g: Vec<GraphKey> = commits
        .iter()
        .map(|c| {
            (
                c.sha.clone(),
                c.parents.clone(),
                c.committer.at,
                Some(c.author.identity.name.as_str()) == bot_author,
            )
        })
        .collect();
    g.sort();
    g
}

async fn the_stored_graph_serves_once_an_ingest_finishes(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("one", "/one").await.unwrap();
    let (fork, _) = f.store.upsert_repository("fork", "/fork").await.unwrap();
    let mut commits = sample();
    commits[1].author.identity.name = "renovate[bot]".into();
    let bots = vec!["[BOT]".to_owned()];
    f.store.insert_commits(repo.id, &commits).await.unwrap();
    f.store
        .insert_commits(fork.id, &commits[..2])
        .await
        .unwrap();
    let before = graph_of(&f.store, &bots).await;
    assert_eq!(before, expected_graph(&commits, Some("renovate[bot]")));
    for r in [&repo, &fork] {
        f.store
            .finish_ingest(r.id, &[], &[], ("git", &r.location, "digest"))
            .await
            .unwrap();
    }
    // Read from the stored graphs now: the same graph, forks' commits once, bots flagged.
    assert_eq!(graph_of(&f.store, &bots).await, before);
    assert_eq!(
        graph_of(&f.store, &[]).await,
        expected_graph(&commits, None)
    );
    // Commits stored after the graph was written (an ingest under way) are not missed.
    let extra = commit(0xd4, &[&commits[2].sha], 4_000_000, vec![]);
    f.store
        .insert_commits(repo.id, std::slice::from_ref(&extra))
        .await
        .unwrap();
    let mut all = commits.clone();
    all.push(extra.clone());
    assert_eq!(graph_of(&f.store, &[]).await, expected_graph(&all, None));
    // An ingest that removes commits rewrites the stored graph.
    f.store
        .finish_ingest(
            repo.id,
            std::slice::from_ref(&extra.sha),
            &[],
            ("git", &repo.location, "d2"),
        )
        .await
        .unwrap();
    assert_eq!(
        graph_of(&f.store, &[]).await,
        expected_graph(&commits, None)
    );
    f.store.delete_repository(fork.id).await.unwrap();
    assert_eq!(
        graph_of(&f.store, &[]).await,
        expected_graph(&commits, None)
    );
}

async fn synced_events_move_their_cursor_with_them(f: Fixture) {
    let mut pr = pull_request(2_000, "open");
    pr.first_commit_at = Some(500);
    pr.rework_commits = Some(2);
    pr.ready_at = Some(900);
    let events = Events {
        pull_requests: vec![pr.clone()],
        ..Events::default()
    };
    f.store
        .store_events("github", &events, Some(("octo/app:pulls", "{\"page\": 2}")))
        .await
        .unwrap();
    assert_eq!(
        f.store
            .cursor("github", "octo/app:pulls")
            .await
            .unwrap()
            .as_deref(),
        Some("{\"page\": 2}")
    );
    assert_eq!(f.store.pull_requests().await.unwrap(), vec![pr.clone()]);
    // A later webhook delivery (which cannot know the first commit) keeps it.
    let merged = Events {
        pull_requests: vec![pull_request(5_000, "merged")],
        ..Events::default()
    };
    f.store
        .apply_delivery(&delivery("late", "{}"), &merged, false)
        .await
        .unwrap();
    let stored = f.store.pull_requests().await.unwrap();
    assert_eq!(
        (
            stored[0].state.as_str(),
            stored[0].first_commit_at,
            stored[0].rework_commits
        ),
        ("merged", Some(500), Some(2))
    );
    // Readiness keeps the earliest time seen: a later "ready" (after going back to draft) does
    // not move it, an earlier one (a sync that saw what a webhook missed) does.
    for (updated, ready, kept) in [
        (6_000, Some(1_500), 900),
        (7_000, None, 900),
        (8_000, Some(700), 700),
    ] {
        let mut later = pull_request(updated, "merged");
        later.ready_at = ready;
        let events = Events {
            pull_requests: vec![later],
            ..Events::default()
        };
        f.store.store_events("github", &events, None).await.unwrap();
        assert_eq!(
            f.store.pull_requests().await.unwrap()[0].ready_at,
            Some(kept)
        );
    }
    // Files and CODEOWNERS rules are replaced whole.
    let mut again = all_events();
    again.pull_request_files[0].paths = vec!["only.rs".into()];
    again.code_owners[0].rules.truncate(1);
    f.store.store_events("github", &again, None).await.unwrap();
    assert_eq!(
        f.store.pull_request_files().await.unwrap()[0].paths,
        ["only.rs"]
    );
    assert_eq!(f.store.code_owners().await.unwrap()[0].rules.len(), 1);
    // Without a cursor only the events are stored.
    f.store
        .store_events("github", &Events::default(), None)
        .await
        .unwrap();
    assert_eq!(
        f.store
            .cursor("github", "octo/app:pulls")
            .await
            .unwrap()
            .as_deref(),
        Some("{\"page\": 2}")
    );
}

async fn forgetting_a_person_erases_them_and_keeps_their_work(f: Fixture) {
    let (repo, _) = f.store.upsert_repository("one", "/one").await.unwrap();
    // sample(): Ann <ann@example.com> authors every commit and signs it off in body and trailer;
    // Bob commits them.
    let commits = sample();
    f.store.insert_commits(repo.id, &commits).await.unwrap();
    f.store
        .finish_ingest(repo.id, &[], &[], ("git", "/one", "d"))
        .await
        .unwrap();
    let mut events = all_events();
    events.pull_requests[0].review_requests = vec!["OctoCat".into(), "team:web".into()];
    let mut body = serde_json::to_vec(&serde_json::json!({
        "pusher": {"name": "ann", "email": "ANN@example.com"},
        "sender": {"login": "octocat"},
        "note": "unrelated octocats"
    }))
    .unwrap();
    f.store
        .apply_delivery(&delivery("d1", ""), &events, false)
        .await
        .unwrap();
    let mut d2 = delivery("d2", "");
    d2.body = std::mem::take(&mut body);
    f.store
        .apply_delivery(&d2, &Events::default(), false)
        .await
        .unwrap();
    let before = f.store.row_counts().await.unwrap();

    let done = f
        .store
        .forget(&Forget {
            email: "Ann@Example.com".into(),
            logins: vec!["OCTOCAT".into(), "hubot".into()],
            replacement: "forgotten-1".into(),
        })
        .await
        .unwrap();
    assert_eq!((done.rows("commits"), done.rows("commit_trailers")), (3, 3));
    assert_eq!(
        (
            done.rows("pull_requests"),
            done.rows("reviews"),
            done.rows("webhook_deliveries")
        ),
        (1, 1, 1)
    );
    assert_eq!(done.rows("pushed_commits"), 1);
    assert!(done.compacted);
    // Work stays: nothing was deleted but people and aliases.
    let after = f.store.row_counts().await.unwrap();
    for ((table, n), (_, m)) in before.iter().zip(&after) {
        if table != "people" && table != "person_aliases" {
            assert_eq!(n, m, "{table}");
        }
    }
    // Nothing names Ann any more; Bob is untouched.
    let rows = all_commits(&f.store, None, 100).await;
    for c in &rows {
        let text = format!("{c:?}").to_lowercase();
        assert!(
            !text.contains("ann@example.com") && !text.contains("\"ann\""),
            "{text}"
        );
        assert_eq!(c.committer.email, "bob@example.com");
    }
    assert!(rows.iter().all(|c| c.author.name == "forgotten-1"));
    // Messages and trailers ("Signed-off-by: Ann <ann@example.com>") too.
    for sql in [
        "SELECT COUNT(*) FROM commits WHERE lower(body) LIKE '%ann%'",
        "SELECT COUNT(*) FROM commit_trailers WHERE lower(value) LIKE '%ann%'",
        "SELECT COUNT(*) FROM people WHERE lower(email) LIKE '%ann%'",
    ] {
        assert_eq!(count(&f.location, sql).await, 0, "{sql}");
    }
    let prs = f.store.pull_requests().await.unwrap();
    assert_eq!(prs[0].author, "forgotten-1");
    assert_eq!(prs[0].review_requests, ["forgotten-1", "team:web"]);
    assert_eq!(f.store.reviews().await.unwrap()[0].reviewer, "forgotten-1");
    let pushed = f.store.pushed_commits().await.unwrap();
    assert_eq!(pushed[0].author_email, "forgotten-1");
    let stored = f.store.deliveries_page(None, None, 10).await.unwrap();
    let text = String::from_utf8(stored[1].body.clone())
        .unwrap()
        .to_lowercase();
    assert!(
        !text.contains("ann@example.com") && !text.contains("\"octocat\""),
        "{text}"
    );
    assert!(text.contains("unrelated octocats"), "{text}");
    // The graph is still whole (read from the commits until the next ingest).
    assert_eq!(f.store.commit_graph(&[]).await.unwrap().len(), 3);
}

fn alert(id: &str, opened_at: i64, resolved_at: Option<i64>) -> Incident {
    Incident {
        id: id.into(),
        service: "api".into(),
        opened_at,
        resolved_at,
        severity: None,
        title: None,
        cause_deployment: None,
        cause_sha: None,
        postmortem_url: None,
        fix_deployment: None,
        fix_sha: None,
        ..Incident::default()
    }
}

/// Delivers alert events under a fresh delivery id.
async fn alert_events(
    f: &Fixture,
    incidents: Vec<Incident>,
    milestones: Vec<Milestone>,
) -> Result<bool, StoreError> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let mut d = delivery(
        &format!("alert-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        "{}",
    );
    d.source = "alerts".into();
    let events = Events {
        incidents,
        milestones,
        ..Events::default()
    };
    f.store.apply_delivery(&d, &events, false).await
}

async fn stored_alert(f: &Fixture, id: &str) -> Option<Incident> {
    f.store
        .incidents()
        .await
        .unwrap()
        .into_iter()
        .map(|(_, i)| i)
        .find(|i| i.id == id)
}

async fn alert_events_apply_in_the_order_of_their_own_times(f: Fixture) {
    let close = |id: &str, at: i64| Milestone {
        id: id.into(),
        stage: Stage::Resolved,
        at,
    };
    // A close that arrives before its open waits, and resolves the incident when it opens.
    alert_events(&f, vec![], vec![close("a", 2_000)])
        .await
        .unwrap();
    assert_eq!(stored_alert(&f, "a").await, None);
    alert_events(&f, vec![alert("a", 1_000, None)], vec![])
        .await
        .unwrap();
    assert_eq!(
        stored_alert(&f, "a").await.unwrap().resolved_at,
        Some(2_000)
    );
    assert_eq!(
        count(&f.location, "SELECT COUNT(*) FROM pending_milestones").await,
        0
    );

    // A late retry of the "firing" never re-opens the newer resolution...
    alert_events(&f, vec![alert("a", 1_000, None)], vec![])
        .await
        .unwrap();
    assert_eq!(
        stored_alert(&f, "a").await.unwrap().resolved_at,
        Some(2_000)
    );
    // ...but a firing that starts after it is a new occurrence.
    alert_events(&f, vec![alert("a", 3_000, None)], vec![])
        .await
        .unwrap();
    let reopened = stored_alert(&f, "a").await.unwrap();
    assert_eq!((reopened.opened_at, reopened.resolved_at), (3_000, None));
    // An event about the earlier occurrence arriving now changes nothing.
    alert_events(&f, vec![alert("a", 1_000, Some(2_000))], vec![])
        .await
        .unwrap();
    assert_eq!(stored_alert(&f, "a").await.unwrap(), reopened);

    // A resolution dated before the incident opened is refused, and nothing of it stored.
    let before = f.store.row_counts().await.unwrap();
    match alert_events(&f, vec![], vec![close("a", 2_500)]).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("before the incident opened"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(f.store.row_counts().await.unwrap(), before);
    assert_eq!(stored_alert(&f, "a").await.unwrap().resolved_at, None);

    // A waiting close older than the open it meets does not apply.
    alert_events(&f, vec![], vec![close("b", 1_000)])
        .await
        .unwrap();
    alert_events(&f, vec![alert("b", 5_000, None)], vec![])
        .await
        .unwrap();
    assert_eq!(stored_alert(&f, "b").await.unwrap().resolved_at, None);

    // Imports stay authoritative: a corrected file may move an incident earlier.
    f.store
        .upsert_incidents("alerts", &[alert("a", 500, Some(900))])
        .await
        .unwrap();
    let corrected = stored_alert(&f, "a").await.unwrap();
    assert_eq!(
        (corrected.opened_at, corrected.resolved_at),
        (500, Some(900))
    );
}

async fn alert_lifecycles_keep_what_each_occurrence_reported(f: Fixture) {
    let ack = |id: &str, at: i64| Milestone {
        id: id.into(),
        stage: Stage::Acknowledged,
        at,
    };
    let started = |id: &str, at: i64| Incident {
        started_at: Some(at),
        fingerprint: Some(format!("fp-{id}")),
        ..alert(id, at, None)
    };
    // An acknowledgement before its incident waits for it, as a resolution does.
    alert_events(&f, vec![], vec![ack("c", 1_500)])
        .await
        .unwrap();
    alert_events(&f, vec![started("c", 1_000)], vec![])
        .await
        .unwrap();
    let c = stored_alert(&f, "c").await.unwrap();
    assert_eq!(
        (c.started_at, c.acknowledged_at, c.fingerprint.as_deref()),
        (Some(1_000), Some(1_500), Some("fp-c"))
    );
    // A re-fire of the same occurrence that says less keeps what is known; the first
    // acknowledgement wins over a repeated one.
    alert_events(&f, vec![alert("c", 1_000, None)], vec![ack("c", 1_700)])
        .await
        .unwrap();
    assert_eq!(stored_alert(&f, "c").await.unwrap(), c);
    // An acknowledgement before the impact started is refused whole.
    let before = f.store.row_counts().await.unwrap();
    alert_events(&f, vec![started("d", 4_000)], vec![])
        .await
        .unwrap();
    let counted = f.store.row_counts().await.unwrap();
    assert_ne!(counted, before);
    match alert_events(&f, vec![], vec![ack("d", 3_000)]).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("before its impact started"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(f.store.row_counts().await.unwrap(), counted);
    // A new occurrence (after the resolution) starts afresh.
    alert_events(
        &f,
        vec![],
        vec![Milestone {
            id: "c".into(),
            stage: Stage::Resolved,
            at: 2_000,
        }],
    )
    .await
    .unwrap();
    alert_events(&f, vec![alert("c", 5_000, None)], vec![])
        .await
        .unwrap();
    let again = stored_alert(&f, "c").await.unwrap();
    assert_eq!(
        (
            again.opened_at,
            again.started_at,
            again.acknowledged_at,
            again.resolved_at
        ),
        (5_000, None, None, None)
    );
}

async fn sli_counts_are_upserted_by_slo_and_start(f: Fixture) {
    use leadline_core::store::SliCount;
    let row = |slo: &str, at: i64, good: f64| SliCount {
        slo: slo.into(),
        at,
        good,
        total: 10.0,
    };
    let first = [
        row("a", 60_000, 9.0),
        row("a", 120_000, 10.0),
        row("b", 60_000, 2.5),
    ];
    let counts = f.store.upsert_sli(&first).await.unwrap();
    assert_eq!((counts.rows, counts.new), (3, 3));
    // Again, with one value corrected and one new row: one new, the correction replaces.
    let again = [row("a", 60_000, 8.0), row("a", 180_000, 7.0)];
    let counts = f.store.upsert_sli(&again).await.unwrap();
    assert_eq!((counts.rows, counts.new), (2, 1));
    let a = f.store.sli_counts("a", 60_000, 180_000).await.unwrap();
    assert_eq!(a, [row("a", 60_000, 8.0), row("a", 120_000, 10.0)]);
    assert_eq!(
        f.store.sli_counts("b", 0, i64::MAX).await.unwrap(),
        [row("b", 60_000, 2.5)]
    );
}

async fn notifications_are_decided_once_per_state_and_delivered_until_accepted(f: Fixture) {
    let targets = ["ops".to_owned(), "slack".to_owned()];
    // Nothing to resolve before anything fired.
    assert_eq!(
        f.store
            .enqueue("slo/a/page", "resolved", "{}", 1_000, &targets)
            .await
            .unwrap(),
        None
    );
    let fired = f
        .store
        .enqueue("slo/a/page", "firing", "{\"n\": 1}", 1_000, &targets)
        .await
        .unwrap();
    assert!(fired.is_some());
    // The same state again decides nothing.
    assert_eq!(
        f.store
            .enqueue("slo/a/page", "firing", "{}", 2_000, &targets)
            .await
            .unwrap(),
        None
    );
    let due = f.store.due_deliveries(1_000, 10).await.unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(
        (due[0].target.as_str(), due[0].notification.payload.as_str()),
        ("ops", "{\"n\": 1}")
    );
    // ops fails and is due again later; slack accepts.
    let id = fired.unwrap();
    f.store
        .record_attempt(id, "ops", None, 5_000, Some("connection refused"))
        .await
        .unwrap();
    f.store
        .record_attempt(id, "slack", Some(1_500), 1_500, None)
        .await
        .unwrap();
    assert!(f.store.due_deliveries(4_999, 10).await.unwrap().is_empty());
    let again = f.store.due_deliveries(5_000, 10).await.unwrap();
    assert_eq!(
        (
            again.len(),
            again[0].attempts,
            again[0].last_error.as_deref()
        ),
        (1, 1, Some("connection refused"))
    );
    // Resolving decides a new notification; the list shows newest first.
    assert!(
        f.store
            .enqueue("slo/a/page", "resolved", "{}", 6_000, &targets)
            .await
            .unwrap()
            .is_some()
    );
    let listed = f.store.notifications(10).await.unwrap();
    assert_eq!(listed.len(), 4);
    assert_eq!(
        (
            listed[0].notification.state.as_str(),
            listed[0].delivered_at
        ),
        ("resolved", None)
    );
    assert_eq!(listed[3].delivered_at, Some(1_500));
}

async fn a_later_judgement_replaces_an_earlier_one(f: Fixture) {
    use leadline_core::store::AnomalyReview;
    let review = |id: &str, state: &str, reason: Option<&str>, at: i64| AnomalyReview {
        id: id.to_owned(),
        metric: "dora.lead_time.median_seconds".to_owned(),
        scope: "service:api".to_owned(),
        week: "2024-W18".to_owned(),
        state: state.to_owned(),
        reason: reason.map(str::to_owned),
        note: Some("ünïcode note".to_owned()),
        reviewed_at: at,
    };
    assert!(f.store.anomaly_reviews().await.unwrap().is_empty());
    let b = review("bbb", "acknowledged", None, 1);
    f.store.review_anomaly(&b).await.unwrap();
    f.store
        .review_anomaly(&review("aaa", "acknowledged", None, 2))
        .await
        .unwrap();
    let dismissed = review("aaa", "dismissed", Some("expected"), 3);
    f.store.review_anomaly(&dismissed).await.unwrap();
    assert_eq!(f.store.anomaly_reviews().await.unwrap(), [dismissed, b]);
}

async fn product_events_are_kept_once_and_checkins_in_order(f: Fixture) {
    use leadline_core::store::{Checkin, ProductEvent, Sample};
    let event = |id: &str, at: i64| ProductEvent {
        id: id.to_owned(),
        at,
        user: "user-0123456789abcdef".to_owned(),
        event: "signed_up".to_owned(),
        properties: Some(r#"{"plan":"pro"}"#.to_owned()),
    };
    let first = f
        .store
        .insert_product_events(&[event("a", 2), event("b", 1)])
        .await
        .unwrap();
    assert_eq!((first.rows, first.new), (2, 2));
    let again = f
        .store
        .insert_product_events(&[event("a", 2), event("c", 3)])
        .await
        .unwrap();
    assert_eq!((again.rows, again.new), (2, 1));
    let ids: Vec<String> = f
        .store
        .product_events(3)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, ["b", "a"]);
    assert_eq!(f.store.newest_product_event().await.unwrap(), Some(3));
    let sample = |at: i64, value: f64| Sample {
        name: "nps".to_owned(),
        at,
        labels: "{}".to_owned(),
        value,
    };
    f.store.upsert_samples(&[sample(1, 40.0)]).await.unwrap();
    let counts = f
        .store
        .upsert_samples(&[sample(1, 42.0), sample(2, 45.0)])
        .await
        .unwrap();
    assert_eq!(counts.new, 1);
    let values: Vec<f64> = f
        .store
        .samples("nps")
        .await
        .unwrap()
        .iter()
        .map(|s| s.value)
        .collect();
    assert_eq!(values, [42.0, 45.0]);
    assert_eq!(f.store.sample_names().await.unwrap(), ["nps"]);
    let checkin = |at: i64, confidence: i64| Checkin {
        key_result: "O1.KR1".to_owned(),
        at,
        confidence,
        note: Some("üñí".to_owned()),
    };
    f.store.add_checkin(&checkin(20, 7)).await.unwrap();
    f.store.add_checkin(&checkin(10, 5)).await.unwrap();
    let got: Vec<i64> = f
        .store
        .checkins()
        .await
        .unwrap()
        .iter()
        .map(|c| c.confidence)
        .collect();
    assert_eq!(got, [5, 7]);
}

fn job_states(jobs: &[leadline_core::store::Job]) -> Vec<(String, String, i64)> {
    jobs.iter()
        .map(|j| (j.target.clone(), j.state.clone(), j.attempts))
        .collect()
}

async fn concurrent_claimers_never_share_a_job(f: Fixture) {
    for t in ["a", "b", "c"] {
        f.store.enqueue_job("git", t, "{}", 1_000).await.unwrap();
    }
    // Arming a pending target again changes nothing.
    f.store.enqueue_job("git", "a", "{}", 1_500).await.unwrap();
    assert_eq!(f.store.jobs().await.unwrap().len(), 3);
    let store = std::sync::Arc::new(f.store);
    let mut claimers = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(job) = store
                .claim_job(&format!("w{i}"), 2_000, 60_000)
                .await
                .unwrap()
            {
                got.push(job.target);
            }
            got
        }));
    }
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    claimed.sort();
    assert_eq!(claimed, ["a", "b", "c"]);
    let jobs = store.jobs().await.unwrap();
    assert!(jobs.iter().all(|j| j.state == "running" && j.attempts == 1));
    // Not due yet: a job armed in the future waits.
    store.enqueue_job("git", "d", "{}", 9_000).await.unwrap();
    assert!(
        store
            .claim_job("w9", 2_000, 60_000)
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_expired_lease_is_taken_over_and_its_owner_can_no_longer_finish(f: Fixture) {
    use leadline_core::store::JobOutcome;
    f.store
        .enqueue_job("git", "app", "{\"url\": 1}", 1_000)
        .await
        .unwrap();
    let first = f
        .store
        .claim_job("w1", 1_000, 5_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.lease_owner.as_deref(), Some("w1"));
    assert!(f.store.renew_lease(first.id, "w1", 8_000).await.unwrap());
    assert!(!f.store.renew_lease(first.id, "w2", 9_000).await.unwrap());
    // Still leased at 7 999: nobody else gets it.
    assert!(
        f.store
            .claim_job("w2", 7_999, 20_000)
            .await
            .unwrap()
            .is_none()
    );
    let taken = f
        .store
        .claim_job("w2", 8_001, 20_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id, taken.attempts), (first.id, 2));
    assert_eq!(taken.started_at, Some(8_001));
    // The first owner comes back: its lease is gone.
    assert!(!f.store.renew_lease(first.id, "w1", 30_000).await.unwrap());
    assert!(
        !f.store
            .finish_job(first.id, "w1", 9_000, JobOutcome::Done)
            .await
            .unwrap()
    );
    assert!(
        f.store
            .finish_job(first.id, "w2", 12_000, JobOutcome::Done)
            .await
            .unwrap()
    );
    // Finished once: a second report of the same run is refused.
    assert!(
        !f.store
            .finish_job(first.id, "w2", 12_500, JobOutcome::Done)
            .await
            .unwrap()
    );
    let job = &f.store.jobs().await.unwrap()[0];
    assert_eq!(
        (
            job.state.as_str(),
            job.last_success,
            job.lease_owner.as_deref()
        ),
        ("done", Some(12_000), None)
    );
    let runs: Vec<_> = f
        .store
        .job_runs()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.owner, r.outcome, r.started_at, r.finished_at))
        .collect();
    assert_eq!(
        runs,
        [
            ("w1".to_owned(), "abandoned".to_owned(), 1_000, 8_001),
            ("w2".to_owned(), "done".to_owned(), 8_001, 12_000)
        ]
    );
    assert!(
        f.store
            .claim_job("w3", 50_000, 60_000)
            .await
            .unwrap()
            .is_none()
    );
    let totals: Vec<_> = f
        .store
        .job_run_totals(0)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.outcome, t.runs, t.millis))
        .collect();
    assert_eq!(
        totals,
        [
            ("abandoned".to_owned(), 1, 7_001),
            ("done".to_owned(), 1, 3_999)
        ]
    );
    // Only the run that finished at 12 000 is that recent.
    assert_eq!(f.store.job_run_totals(9_000).await.unwrap().len(), 1);
    assert_eq!(f.store.prune_job_runs(9_000).await.unwrap(), 1);
    assert_eq!(f.store.job_runs().await.unwrap().len(), 1);
}

async fn retries_wait_out_their_backoff_and_failures_stay_until_armed(f: Fixture) {
    use leadline_core::store::JobOutcome;
    f.store
        .enqueue_job("forge", "github:o/r", "{}", 0)
        .await
        .unwrap();
    let job = f.store.claim_job("w", 0, 1_000).await.unwrap().unwrap();
    let retry = JobOutcome::Retry {
        at: 5_000,
        error: "502 from the API",
    };
    assert!(f.store.finish_job(job.id, "w", 100, retry).await.unwrap());
    let waiting = &f.store.jobs().await.unwrap()[0];
    assert_eq!(
        (waiting.state.as_str(), waiting.next_at),
        ("pending", 5_000)
    );
    assert_eq!(waiting.last_error.as_deref(), Some("502 from the API"));
    // Arming a waiting target does not skip its backoff.
    f.store
        .enqueue_job("forge", "github:o/r", "{}", 200)
        .await
        .unwrap();
    assert!(
        f.store
            .claim_job("w", 4_999, 9_000)
            .await
            .unwrap()
            .is_none()
    );
    let again = f.store.claim_job("w", 5_000, 9_000).await.unwrap().unwrap();
    assert_eq!(again.attempts, 2);
    let failed = JobOutcome::Failed {
        error: "404: no such repository",
    };
    assert!(
        f.store
            .finish_job(again.id, "w", 6_000, failed)
            .await
            .unwrap()
    );
    assert_eq!(
        job_states(&f.store.jobs().await.unwrap()),
        [("github:o/r".to_owned(), "failed".to_owned(), 2)]
    );
    assert!(
        f.store
            .claim_job("w", 99_000, 100_000)
            .await
            .unwrap()
            .is_none()
    );
    // Armed again (the next sync): pending, attempts afresh, the error kept until a success.
    f.store
        .enqueue_job("forge", "github:o/r", "{}", 100_000)
        .await
        .unwrap();
    let rearmed = &f.store.jobs().await.unwrap()[0];
    assert_eq!((rearmed.state.as_str(), rearmed.attempts), ("pending", 0));
    assert_eq!(
        rearmed.last_error.as_deref(),
        Some("404: no such repository")
    );
    let outcomes: Vec<_> = f
        .store
        .job_runs()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.outcome, r.error))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("retry".to_owned(), Some("502 from the API".to_owned())),
            (
                "failed".to_owned(),
                Some("404: no such repository".to_owned())
            )
        ]
    );
}

async fn a_target_armed_while_it_runs_runs_once_more(f: Fixture) {
    use leadline_core::store::JobOutcome;
    f.store.enqueue_job("git", "app", "{}", 0).await.unwrap();
    let job = f.store.claim_job("w", 0, 10_000).await.unwrap().unwrap();
    // A push arrives while the fetch runs.
    f.store.enqueue_job("git", "app", "{}", 10).await.unwrap();
    assert_eq!(f.store.jobs().await.unwrap()[0].state, "running");
    assert!(
        f.store
            .finish_job(job.id, "w", 20, JobOutcome::Done)
            .await
            .unwrap()
    );
    let next = f.store.claim_job("w", 20, 10_000).await.unwrap().unwrap();
    assert_eq!((next.id, next.attempts), (job.id, 1));
    assert!(
        f.store
            .finish_job(next.id, "w", 30, JobOutcome::Done)
            .await
            .unwrap()
    );
    assert_eq!(
        job_states(&f.store.jobs().await.unwrap()),
        [("app".to_owned(), "done".to_owned(), 1)]
    );
}

async fn an_exclusive_lock_has_one_holder_at_a_time(f: Fixture) {
    let held = f.store.try_exclusive("scheduler").await.unwrap();
    assert!(held.is_some());
    assert!(f.store.try_exclusive("scheduler").await.unwrap().is_none());
    // Another name is another lock.
    assert!(f.store.try_exclusive("worker").await.unwrap().is_some());
    drop(held);
    // PostgreSQL releases the lock when the session ends, which may take a moment.
    let mut again = None;
    for _ in 0..50 {
        again = f.store.try_exclusive("scheduler").await.unwrap();
        if again.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(again.is_some());
}

async fn announced_changes_reach_watchers(f: Fixture) {
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let watching = f
        .store
        .watch_changes(std::sync::Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }))
        .await
        .unwrap();
    f.store.announce_change().await.unwrap();
    if f.store.backend() == "sqlite" {
        assert!(!watching);
        return;
    }
    assert!(watching);
    for _ in 0..100 {
        if seen.load(Ordering::SeqCst) > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the announcement never arrived");
}

async fn survey_responses_are_kept_once_per_file_row(f: Fixture) {
    use leadline_core::store::SurveyRow;
    let row = |n: i64, team: &str| SurveyRow {
        source: "sha256:abc".to_owned(),
        row: n,
        instrument: "psychological_safety".to_owned(),
        wave: "2026-10".to_owned(),
        team: team.to_owned(),
        answers: "{\"ps1\":2.0}".to_owned(),
    };
    let first = f
        .store
        .insert_survey(&[row(2, "core"), row(3, "web")])
        .await
        .unwrap();
    assert_eq!((first.rows, first.new), (2, 2));
    let again = f
        .store
        .insert_survey(&[row(2, "core"), row(4, "core")])
        .await
        .unwrap();
    assert_eq!((again.rows, again.new), (2, 1));
    let stored = f
        .store
        .survey_responses("psychological_safety")
        .await
        .unwrap();
    let teams: Vec<(&str, i64)> = stored.iter().map(|r| (r.team.as_str(), r.row)).collect();
    assert_eq!(teams, [("core", 2), ("core", 4), ("web", 3)]);
    assert!(f.store.survey_responses("other").await.unwrap().is_empty());
}

async fn tracked_issues_are_replaced_whole_with_their_cursor(f: Fixture) {
    use leadline_core::planning::{Category, SprintChange, Transition};
    use leadline_core::store::TrackedIssue;
    let issue = |status: &str, category: Category, transitions: Vec<Transition>| TrackedIssue {
        key: "PAY-7".to_owned(),
        project: "PAY".to_owned(),
        issue_type: "Story".to_owned(),
        status: status.to_owned(),
        category,
        priority: Some("High".to_owned()),
        labels: vec!["q4".to_owned(), "refunds".to_owned()],
        components: vec!["api".to_owned()],
        parent: Some("PAY-1".to_owned()),
        story_points: Some(5.0),
        team: Some("payments".to_owned()),
        created_at: 1_000,
        updated_at: 2_000,
        resolved_at: None,
        transitions,
        sprints: vec![12],
        sprint_changes: vec![SprintChange {
            at: 1_200,
            from: vec![],
            to: vec![12],
        }],
    };
    let started = issue(
        "In Progress",
        Category::Indeterminate,
        vec![Transition {
            at: 1_500,
            to: Category::Indeterminate,
        }],
    );
    let counts = f
        .store
        .upsert_tracked_issues(
            std::slice::from_ref(&started),
            Some(("jira", "PAY", "{\"updated\":2000}")),
        )
        .await
        .unwrap();
    assert_eq!((counts.rows, counts.new), (1, 1));
    assert_eq!(f.store.tracked_issues().await.unwrap(), [started]);
    assert_eq!(
        f.store.cursor("jira", "PAY").await.unwrap().as_deref(),
        Some("{\"updated\":2000}")
    );
    // The issue moves on: its row and transitions are replaced, not added to.
    let mut done = issue(
        "Done",
        Category::Done,
        vec![
            Transition {
                at: 1_500,
                to: Category::Indeterminate,
            },
            Transition {
                at: 3_000,
                to: Category::Done,
            },
        ],
    );
    done.resolved_at = Some(3_000);
    done.updated_at = 3_000;
    done.sprints = vec![12, 13];
    done.sprint_changes.push(SprintChange {
        at: 2_900,
        from: vec![12],
        to: vec![12, 13],
    });
    let counts = f
        .store
        .upsert_tracked_issues(std::slice::from_ref(&done), None)
        .await
        .unwrap();
    assert_eq!((counts.rows, counts.new), (1, 0));
    assert_eq!(f.store.tracked_issues().await.unwrap(), [done]);
}

async fn sprints_are_replaced_by_id(f: Fixture) {
    use leadline_core::store::TrackedSprint;
    let sprint = |id: i64, state: &str, completed_at: Option<i64>| TrackedSprint {
        id,
        name: format!("PAY {id}"),
        state: state.to_owned(),
        started_at: Some(1_000),
        ends_at: Some(2_000),
        completed_at,
    };
    let (active, future) = (sprint(12, "active", None), sprint(13, "future", None));
    f.store
        .upsert_tracked_sprints(&[future.clone(), active])
        .await
        .unwrap();
    let closed = sprint(12, "closed", Some(2_100));
    f.store
        .upsert_tracked_sprints(std::slice::from_ref(&closed))
        .await
        .unwrap();
    assert_eq!(f.store.tracked_sprints().await.unwrap(), [closed, future]);
}
