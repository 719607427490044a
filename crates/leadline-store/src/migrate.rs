//! Schema migrations: numbered SQL files per backend, applied in order, each in a transaction
//! together with the version bump, so a killed migration leaves the previous version intact.
//! Released migrations are never edited; a change of schema is a new file in both folders.

use leadline_core::store::{StoreError, StoreResult};

use crate::{Pool, SqlStore, backend, on_pool};

struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: include_str!("../migrations/sqlite/0001_history.sql"),
        postgres: include_str!("../migrations/postgres/0001_history.sql"),
    },
    Migration {
        version: 2,
        sqlite: include_str!("../migrations/sqlite/0002_deployments_incidents.sql"),
        postgres: include_str!("../migrations/postgres/0002_deployments_incidents.sql"),
    },
    Migration {
        version: 3,
        sqlite: include_str!("../migrations/sqlite/0003_commits_by_sha.sql"),
        postgres: include_str!("../migrations/postgres/0003_commits_by_sha.sql"),
    },
    Migration {
        version: 4,
        sqlite: include_str!("../migrations/sqlite/0004_dora_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0004_dora_indexes.sql"),
    },
    Migration {
        version: 5,
        sqlite: include_str!("../migrations/sqlite/0005_server.sql"),
        postgres: include_str!("../migrations/postgres/0005_server.sql"),
    },
    Migration {
        version: 6,
        sqlite: include_str!("../migrations/sqlite/0006_commit_graphs.sql"),
        postgres: include_str!("../migrations/postgres/0006_commit_graphs.sql"),
    },
    Migration {
        version: 7,
        sqlite: include_str!("../migrations/sqlite/0007_pull_request_first_commit.sql"),
        postgres: include_str!("../migrations/postgres/0007_pull_request_first_commit.sql"),
    },
    Migration {
        version: 8,
        sqlite: include_str!("../migrations/sqlite/0008_pull_request_rework.sql"),
        postgres: include_str!("../migrations/postgres/0008_pull_request_rework.sql"),
    },
    Migration {
        version: 9,
        sqlite: include_str!("../migrations/sqlite/0009_review_comments.sql"),
        postgres: include_str!("../migrations/postgres/0009_review_comments.sql"),
    },
    Migration {
        version: 10,
        sqlite: include_str!("../migrations/sqlite/0010_ownership.sql"),
        postgres: include_str!("../migrations/postgres/0010_ownership.sql"),
    },
    Migration {
        version: 11,
        sqlite: include_str!("../migrations/sqlite/0011_review_requests.sql"),
        postgres: include_str!("../migrations/postgres/0011_review_requests.sql"),
    },
    Migration {
        version: 12,
        sqlite: include_str!("../migrations/sqlite/0012_drop_author_index.sql"),
        postgres: include_str!("../migrations/postgres/0012_drop_author_index.sql"),
    },
    Migration {
        version: 13,
        sqlite: include_str!("../migrations/sqlite/0013_complexity.sql"),
        postgres: include_str!("../migrations/postgres/0013_complexity.sql"),
    },
    Migration {
        version: 14,
        sqlite: include_str!("../migrations/sqlite/0014_pending_resolutions.sql"),
        postgres: include_str!("../migrations/postgres/0014_pending_resolutions.sql"),
    },
    Migration {
        version: 15,
        sqlite: include_str!("../migrations/sqlite/0015_incident_fixes.sql"),
        postgres: include_str!("../migrations/postgres/0015_incident_fixes.sql"),
    },
    Migration {
        version: 16,
        sqlite: include_str!("../migrations/sqlite/0016_head_file_linguist.sql"),
        postgres: include_str!("../migrations/postgres/0016_head_file_linguist.sql"),
    },
    Migration {
        version: 17,
        sqlite: include_str!("../migrations/sqlite/0017_pull_request_ready.sql"),
        postgres: include_str!("../migrations/postgres/0017_pull_request_ready.sql"),
    },
    Migration {
        version: 18,
        sqlite: include_str!("../migrations/sqlite/0018_incident_lifecycle.sql"),
        postgres: include_str!("../migrations/postgres/0018_incident_lifecycle.sql"),
    },
    Migration {
        version: 19,
        sqlite: include_str!("../migrations/sqlite/0019_pull_request_actions.sql"),
        postgres: include_str!("../migrations/postgres/0019_pull_request_actions.sql"),
    },
    Migration {
        version: 20,
        sqlite: include_str!("../migrations/sqlite/0020_sli_counts.sql"),
        postgres: include_str!("../migrations/postgres/0020_sli_counts.sql"),
    },
    Migration {
        version: 21,
        sqlite: include_str!("../migrations/sqlite/0021_outbox.sql"),
        postgres: include_str!("../migrations/postgres/0021_outbox.sql"),
    },
    Migration {
        version: 22,
        sqlite: include_str!("../migrations/sqlite/0022_anomaly_reviews.sql"),
        postgres: include_str!("../migrations/postgres/0022_anomaly_reviews.sql"),
    },
    Migration {
        version: 23,
        sqlite: include_str!("../migrations/sqlite/0023_product.sql"),
        postgres: include_str!("../migrations/postgres/0023_product.sql"),
    },
    Migration {
        version: 24,
        sqlite: include_str!("../migrations/sqlite/0024_okr_checkins.sql"),
        postgres: include_str!("../migrations/postgres/0024_okr_checkins.sql"),
    },
    Migration {
        version: 25,
        sqlite: include_str!("../migrations/sqlite/0025_jobs.sql"),
        postgres: include_str!("../migrations/postgres/0025_jobs.sql"),
    },
    Migration {
        version: 26,
        sqlite: include_str!("../migrations/sqlite/0026_survey_responses.sql"),
        postgres: include_str!("../migrations/postgres/0026_survey_responses.sql"),
    },
    Migration {
        version: 27,
        sqlite: include_str!("../migrations/sqlite/0027_tracked_issues.sql"),
        postgres: include_str!("../migrations/postgres/0027_tracked_issues.sql"),
    },
    Migration {
        version: 28,
        sqlite: include_str!("../migrations/sqlite/0028_sprints.sql"),
        postgres: include_str!("../migrations/postgres/0028_sprints.sql"),
    },
    Migration {
        version: 29,
        sqlite: include_str!("../migrations/sqlite/0029_pull_request_issue_keys.sql"),
        postgres: include_str!("../migrations/postgres/0029_pull_request_issue_keys.sql"),
    },
];

/// The schema version this build writes.
pub const LATEST_SCHEMA: i64 = MIGRATIONS.len() as i64;

const META: &str =
    "CREATE TABLE IF NOT EXISTS leadline_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";
const READ_VERSION: &str = "SELECT value FROM leadline_meta WHERE key = 'schema_version'";
const WRITE_VERSION: &str = "INSERT INTO leadline_meta (key, value) VALUES ('schema_version', $1) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

pub(crate) async fn run(store: &SqlStore) -> StoreResult<()> {
    // PostgreSQL serialises concurrent migrators on an advisory lock; SQLite's write lock
    // already does.
    let (lock, is_postgres) = match store.pool {
        Pool::Sqlite(_) => ("SELECT 1", false),
        Pool::Postgres(_) => ("SELECT pg_advisory_xact_lock(7261001)", true),
    };
    on_pool!(store, |pool| {
        let mut tx = pool
            .begin()
            .await
            .map_err(backend("cannot start a migration"))?;
        sqlx::query(lock)
            .execute(&mut *tx)
            .await
            .map_err(backend("cannot lock the schema"))?;
        sqlx::query(META)
            .execute(&mut *tx)
            .await
            .map_err(backend("cannot create the metadata table"))?;
        let found: Option<String> = sqlx::query_scalar(READ_VERSION)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend("cannot read the schema version"))?;
        let found = match found {
            Some(v) => v.parse::<i64>().map_err(|_| {
                StoreError::Corrupt(format!("schema version {v:?} is not a number"))
            })?,
            None => 0,
        };
        if found > LATEST_SCHEMA {
            return Err(StoreError::NewerSchema {
                found,
                supported: LATEST_SCHEMA,
            });
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > found) {
            let sql = if is_postgres { m.postgres } else { m.sqlite };
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .map_err(backend("cannot apply a schema migration"))?;
            sqlx::query(WRITE_VERSION)
                .bind(m.version.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend("cannot record the schema version"))?;
        }
        tx.commit()
            .await
            .map_err(backend("cannot commit a migration"))
    })
}
