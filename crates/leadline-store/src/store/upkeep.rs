//! Keeping the store whole on disk: whether it can write now, a consistent copy, and a close
//! that leaves SQLite's database file holding every row (no write-ahead log beside it).

use std::path::Path;

use leadline_core::store::{StoreError, StoreResult};

use crate::{Pool, SqlStore, backend, on_pool};

/// Below this much free space on the filesystem holding a SQLite store, it is reported as
/// unable to write: a webhook body alone may be 25 MiB, and SQLite needs room for the
/// write-ahead log as well as the database.
const MIN_FREE_BYTES: u64 = 1 << 20;

impl SqlStore {
    /// Commits one small write (the time of the probe, in `leadline_meta`), after checking
    /// the free space of a SQLite store's filesystem.
    pub(super) async fn probe_write(&self) -> StoreResult<()> {
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

    pub(super) async fn backup_to(&self, path: &Path) -> StoreResult<()> {
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

    /// SQLite: moves the whole write-ahead log into the database file and truncates the log,
    /// then closes every connection (the last close removes the log). A checkpoint that cannot
    /// finish (another process is reading) loses nothing: the log is still there, and SQLite
    /// replays it on the next open.
    pub(super) async fn checkpoint_and_close(&self) -> StoreResult<()> {
        let checkpoint = match &self.pool {
            Pool::Sqlite(pool) => checkpoint(pool).await,
            Pool::Postgres(_) => Ok(()),
        };
        on_pool!(self, |pool| pool.close().await);
        checkpoint
    }
}

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
