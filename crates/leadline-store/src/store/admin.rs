//! The store itself: API tokens (hashed), row counts, the pseudonym key, whether it can write
//! now, a consistent copy, and a close that leaves SQLite's database file holding every row
//! (no write-ahead log beside it).

use super::forge::COUNTED_TABLES;
use super::*;
use async_trait::async_trait;
use leadline_core::events::{ApiToken, Scope};
use leadline_core::store::AdminStore;

use std::path::Path;

use leadline_core::store::{StoreError, StoreResult};

use crate::{Pool, SqlStore, backend, on_pool};

/// Below this much free space on the filesystem holding a SQLite store, it is reported as
/// unable to write: a webhook body alone may be 25 MiB, and SQLite needs room for the
/// write-ahead log as well as the database.
const MIN_FREE_BYTES: u64 = 1 << 20;

/// Copies the write-ahead log into the database file and truncates it. Another process still
/// reading (a server beside a CLI command) makes this wait at most a moment and give up
/// without error: the last process to close folds the log in.
async fn checkpoint(pool: &sqlx::SqlitePool) -> StoreResult<()> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(backend("cannot checkpoint the store's write-ahead log"))?;
    if !truncate_log(&mut conn).await? {
        tracing::info!(
            "the store is in use by another process; its log stays until that one closes"
        );
    }
    Ok(())
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` waiting at most a few seconds for readers; whether the
/// log was wholly copied and truncated. The connection is closed afterwards, so the pool's
/// other connections keep their own busy timeout.
pub(super) async fn truncate_log(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Sqlite>,
) -> StoreResult<bool> {
    use sqlx::Row;
    let context = "cannot checkpoint the store's write-ahead log";
    conn.close_on_drop();
    sqlx::query("PRAGMA busy_timeout = 3000")
        .execute(&mut **conn)
        .await
        .map_err(backend(context))?;
    let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut **conn)
        .await
        .map_err(backend(context))?;
    let busy: i64 = row.try_get(0).map_err(backend(context))?;
    Ok(busy == 0)
}

/// Bytes available to this process on the filesystem holding `path`.
fn free_bytes(path: &Path) -> StoreResult<u64> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let stat = rustix::fs::statvfs(dir).map_err(|e| StoreError::Unavailable {
        context: format!("cannot check the free space of {}", dir.display()),
        reason: e.to_string(),
        source: Box::new(std::io::Error::from(e)),
    })?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[async_trait]
impl AdminStore for SqlStore {
    fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    async fn create_token(&self, token: &ApiToken) -> StoreResult<()> {
        on_pool!(self, |pool| {
            let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE name = $1")
                .bind(&token.name)
                .fetch_one(pool)
                .await
                .map_err(backend("cannot create the token"))?;
            if taken > 0 {
                return Err(StoreError::Conflict(format!(
                    "a token named {:?} exists; revoke it first or choose another name",
                    token.name
                )));
            }
            sqlx::query(
                "INSERT INTO api_tokens (name, scope, token_hash, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&token.name)
            .bind(token.scope.as_str())
            .bind(&token.hash)
            .bind(token.created_at)
            .execute(pool)
            .await
            .map_err(backend("cannot create the token"))?;
            Ok(())
        })
    }

    async fn tokens(&self) -> StoreResult<Vec<ApiToken>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT name, scope, token_hash, created_at FROM api_tokens ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list tokens"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let scope: String = col!(row, "scope");
                out.push(ApiToken {
                    name: col!(row, "name"),
                    scope: Scope::parse(&scope).ok_or_else(|| {
                        StoreError::Corrupt(format!("unknown token scope {scope:?}"))
                    })?,
                    hash: col!(row, "token_hash"),
                    created_at: col!(row, "created_at"),
                });
            }
            Ok(out)
        })
    }

    async fn revoke_token(&self, name: &str) -> StoreResult<bool> {
        on_pool!(self, |pool| {
            let deleted = sqlx::query("DELETE FROM api_tokens WHERE name = $1")
                .bind(name)
                .execute(pool)
                .await
                .map_err(backend("cannot revoke the token"))?
                .rows_affected();
            Ok(deleted > 0)
        })
    }

    async fn row_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let mut out = Vec::with_capacity(COUNTED_TABLES.len());
        for table in COUNTED_TABLES {
            let n: i64 = on_pool!(self, |pool| {
                QueryBuilder::new(format!("SELECT COUNT(*) FROM {table}"))
                    .build_query_scalar()
                    .fetch_one(pool)
                    .await
                    .map_err(backend("cannot count rows"))?
            });
            out.push((table.to_owned(), n));
        }
        Ok(out)
    }

    async fn pseudonym_key(&self) -> StoreResult<Vec<u8>> {
        let fresh = hex::encode(rand::random::<[u8; 32]>());
        let stored: String = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO leadline_meta (key, value) VALUES ('pseudonym_key', $1) ON CONFLICT (key) DO NOTHING",
            )
            .bind(&fresh)
            .execute(pool)
            .await
            .map_err(backend("cannot create the pseudonym key"))?;
            sqlx::query_scalar("SELECT value FROM leadline_meta WHERE key = 'pseudonym_key'")
                .fetch_one(pool)
                .await
                .map_err(backend("cannot read the pseudonym key"))?
        });
        hex::decode(&stored).map_err(|_| StoreError::Corrupt("the pseudonym key is not hex".into()))
    }

    async fn check_writable(&self) -> StoreResult<()> {
        if let Some(path) = &self.path {
            let free = free_bytes(path)?;
            if free < MIN_FREE_BYTES {
                return Err(StoreError::Unavailable {
                    context: format!("{} cannot take writes", path.display()),
                    reason: format!("only {} KiB free on its filesystem", free / 1024),
                    source: "filesystem full".into(),
                });
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis().to_string())
            .unwrap_or_default();
        // One statement commits on its own.
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO leadline_meta (key, value) VALUES ('write_probe', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(&now)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(backend("cannot write to the store"))
        })
    }

    async fn backup(&self, path: &std::path::Path) -> StoreResult<()> {
        let shown = path.display().to_string();
        if path.exists() {
            return Err(StoreError::Conflict(format!(
                "{shown} already exists; a backup never overwrites a file"
            )));
        }
        let Some(target) = path.to_str() else {
            return Err(StoreError::InvalidLocation {
                location: shown,
                reason: "the backup path is not valid UTF-8".into(),
            });
        };
        match &self.pool {
            Pool::Sqlite(pool) => {
                // A consistent snapshot taken inside one read transaction: writers go on.
                sqlx::query("VACUUM INTO $1")
                    .bind(target)
                    .execute(pool)
                    .await
                    .map_err(backend("cannot write the backup"))?;
                Ok(())
            }
            Pool::Postgres(_) => Err(StoreError::Conflict(
                "a PostgreSQL store is backed up with PostgreSQL's own tools: pg_dump, or your \
                 provider's snapshots"
                    .into(),
            )),
        }
    }

    async fn close(&self) -> StoreResult<()> {
        if let Ok(mut listeners) = self.listeners.lock() {
            for l in listeners.drain(..) {
                l.abort();
            }
        }
        let checkpoint = match &self.pool {
            Pool::Sqlite(pool) => checkpoint(pool).await,
            Pool::Postgres(_) => Ok(()),
        };
        on_pool!(self, |pool| pool.close().await);
        checkpoint
    }
}
