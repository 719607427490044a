//! The [`Store`](leadline_core::store::Store) on SQLite (embedded, the default) and PostgreSQL.
//!
//! Every query is written once: [`on_pool!`] expands a body for each backend's native pool,
//! so both run the same SQL through their own drivers (`$N` placeholders work in both). The
//! schema lives in two migration folders kept in lockstep; the conformance suite in
//! `tests/conformance.rs` holds both backends to one behaviour.

mod migrate;
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

/// Wraps a driver error with what the store was doing.
pub(crate) fn backend(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| StoreError::Backend {
        context: context.to_owned(),
        source: Box::new(e),
    }
}

impl SqlStore {
    /// Connects to (creating if needed) the store at `location` and brings its schema up to
    /// date. A store whose schema is newer than this build knows is refused untouched.
    pub async fn open(location: &Location) -> StoreResult<SqlStore> {
        let pool = match location {
            Location::Sqlite(path) => Pool::Sqlite(open_sqlite(path).await?),
            Location::Postgres(url) => Pool::Postgres(open_postgres(url).await?),
        };
        let store = SqlStore { pool };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Closes every connection, flushing SQLite's WAL.
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
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
        .pragma("cache_size", "-16384");
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(backend("cannot open the SQLite store"))
}

async fn open_postgres(url: &str) -> StoreResult<PgPool> {
    let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidLocation {
        location: redact(url),
        reason: e.to_string(),
    })?;
    PgPoolOptions::new()
        .max_connections(8)
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
