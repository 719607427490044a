//! The [`Store`](leadline_core::store::Store) on SQLite (embedded, the default) and PostgreSQL.
//!
//! Every query is written once: [`on_pool!`] expands a body for each backend's native pool,
//! so both run the same SQL through their own drivers (`$N` placeholders work in both). The
//! schema lives in two migration folders kept in lockstep; the conformance suite in
//! `tests/conformance.rs` holds both backends to one behaviour.

mod migrate;
mod raw;
mod store;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use leadline_core::store::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use migrate::LATEST_SCHEMA;

/// Where a store lives, as given to `--db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; anything else is a SQLite file path
    /// (an optional `sqlite://` prefix is accepted).
    pub fn parse(value: &str) -> StoreResult<Location> {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(Location::Postgres(value.to_owned()));
        }
        let path = value.strip_prefix("sqlite://").unwrap_or(value);
        if path.is_empty() {
            return Err(StoreError::InvalidLocation {
                location: value.to_owned(),
                reason: "empty path".into(),
            });
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }
}

/// A connected store.
pub struct SqlStore {
    pool: Pool,
    /// The SQLite file, for checks of the filesystem that holds it.
    path: Option<PathBuf>,
    /// Tasks listening for change announcements, stopped when the store closes.
    listeners: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
}

enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the native pool of whichever backend the store uses.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Wraps a driver error with what the store was doing; failures that may pass (a full disk,
/// I/O, locks, lost connections) become [`StoreError::Unavailable`].
pub(crate) fn backend(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match unavailable(&e) {
        Some(reason) => StoreError::Unavailable {
            context: context.to_owned(),
            reason: reason.to_owned(),
            source: Box::new(e),
        },
        None => StoreError::Backend {
            context: context.to_owned(),
            source: Box::new(e),
        },
    }
}

/// Why `e` is a passing condition of the store rather than a defect, if it is.
fn unavailable(e: &sqlx::Error) -> Option<&'static str> {
    match e {
        sqlx::Error::Io(_) => Some("I/O error"),
        sqlx::Error::PoolTimedOut => Some("no connection free in time"),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => Some("the store is closing"),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            if let Ok(n) = code.parse::<i32>() {
                // SQLite result codes; the low byte is the primary code of an extended one.
                return match n & 0xff {
                    13 => Some("database or disk is full"),
                    10 => Some("disk I/O error"),
                    5 | 6 => Some("the database is locked"),
                    14 => Some("cannot open the database file"),
                    8 => Some("the database is read-only"),
                    _ => None,
                };
            }
            // PostgreSQL SQLSTATE classes: insufficient resources, connection exceptions,
            // operator intervention (shutdown), system errors.
            match code.get(..2) {
                Some("53") => Some("insufficient resources (disk full or out of memory)"),
                Some("08") => Some("connection lost"),
                Some("57") => Some("the server is shutting down"),
                Some("58") => Some("system error"),
                _ => None,
            }
        }
        _ => None,
    }
}

impl SqlStore {
    /// Connects to (creating if needed) the store at `location` and brings its schema up to
    /// date. A store whose schema is newer than this build knows is refused untouched.
    pub async fn open(location: &Location) -> StoreResult<SqlStore> {
        let (pool, path) = match location {
            Location::Sqlite(path) => (Pool::Sqlite(open_sqlite(path).await?), Some(path.clone())),
            Location::Postgres(url) => (Pool::Postgres(open_postgres(url).await?), None),
        };
        let store = SqlStore {
            pool,
            path,
            listeners: Default::default(),
        };
        migrate::run(&store).await?;
        Ok(store)
    }
}

async fn open_sqlite(path: &Path) -> StoreResult<SqlitePool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(StoreError::InvalidLocation {
            location: path.display().to_string(),
            reason: format!("directory {} does not exist", dir.display()),
        });
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        .pragma("cache_size", "-16384")
        // Multi-row upserts inside a transaction keep a statement journal; in memory it costs
        // no file writes.
        .pragma("temp_store", "memory");
    SqlitePoolOptions::new()
        .max_connections(4)
        .after_release(|conn, _| Box::pin(async move { Ok(is_clean(conn).await) }))
        .connect_with(options)
        .await
        .map_err(backend("cannot open the SQLite store"))
}

/// Whether a released SQLite connection may serve again: neither sqlx nor SQLite itself may
/// think a transaction is open. After a failed COMMIT or ROLLBACK (a full disk, an I/O error)
/// the two can disagree; reused, such a connection turns every later BEGIN/COMMIT into a
/// savepoint inside a transaction that never commits, and writes are acknowledged that no
/// one will ever read. It is closed instead, and the pool opens a fresh one.
async fn is_clean(conn: &mut sqlx::SqliteConnection) -> bool {
    use sqlx::{Connection, Executor};
    if conn.is_in_transaction() {
        tracing::warn!("a released connection was still in a transaction; closing it");
        return false;
    }
    // BEGIN fails inside a transaction; a deferred BEGIN and its ROLLBACK touch no file.
    match conn.execute("BEGIN").await {
        Ok(_) => conn.execute("ROLLBACK").await.is_ok(),
        Err(_) => {
            tracing::warn!("SQLite still held a transaction on a released connection; closing it");
            false
        }
    }
}

async fn open_postgres(url: &str) -> StoreResult<PgPool> {
    let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidLocation {
        location: redact(url),
        reason: e.to_string(),
    })?;
    PgPoolOptions::new()
        .max_connections(8)
        // PostgreSQL ends a transaction whose COMMIT failed; a connection that sqlx still
        // believes inside one is not reused all the same.
        .after_release(|conn, _| {
            Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
        })
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .map_err(backend("cannot connect to PostgreSQL"))
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("postgres://u@h/db").unwrap(),
            Location::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            Location::parse("sqlite://x.db").unwrap(),
            Location::Sqlite("x.db".into())
        );
        assert_eq!(
            Location::parse("a/b.db").unwrap(),
            Location::Sqlite("a/b.db".into())
        );
        assert!(Location::parse("").is_err());
    }

    #[test]
    fn passwords_are_not_repeated() {
        assert_eq!(redact("postgres://u:secret@h:5/db"), "postgres://u@h:5/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }
}
