//! Bulk reads of SQLite stepped on the connection's own handle, on the caller's thread.
//!
//! Through sqlx, each row of a SQLite result crosses from the connection's worker thread to the
//! async task through a channel, and on two cores every row costs a thread wake-up: a 142,000-row
//! read of file changes took 1.9 s that SQLite itself answers in well under half a second. The
//! few reads that return a row per commit or per file change of a whole history step the
//! statement here instead, with the handle locked (sqlx's worker does not touch it meanwhile).

use std::ffi::{CStr, c_char, c_int};
use std::ptr::{self, NonNull};

use leadline_core::store::{StoreError, StoreResult};
use libsqlite3_sys as ffi;
use sqlx::SqlitePool;

/// One row of a result: its columns by index, borrowed until the next step.
pub(crate) struct Row {
    stmt: *mut ffi::sqlite3_stmt,
}

impl Row {
    /// The column as text (`None` for NULL); bytes that are not UTF-8 are an error.
    pub(crate) fn text(&self, column: c_int) -> StoreResult<Option<&str>> {
        self.bytes(column)?
            .map(|b| {
                std::str::from_utf8(b)
                    .map_err(|_| StoreError::Corrupt(format!("column {column} is not UTF-8")))
            })
            .transpose()
    }

    /// The column's bytes, text or blob (`None` for NULL).
    pub(crate) fn bytes(&self, column: c_int) -> StoreResult<Option<&[u8]>> {
        // SAFETY: `stmt` just returned SQLITE_ROW. The bytes SQLite returns stay valid until the
        // next step or finalize; the slice borrows `self`, which the callback that receives it
        // cannot keep, so the next step comes after the borrow ends.
        unsafe {
            if ffi::sqlite3_column_type(self.stmt, column) == ffi::SQLITE_NULL {
                return Ok(None);
            }
            let data = ffi::sqlite3_column_blob(self.stmt, column).cast::<u8>();
            let len = ffi::sqlite3_column_bytes(self.stmt, column);
            Ok(Some(match (data.is_null(), usize::try_from(len)) {
                (false, Ok(len)) => std::slice::from_raw_parts(data, len),
                _ => &[],
            }))
        }
    }

    /// The column as an integer (`None` for NULL).
    pub(crate) fn int(&self, column: c_int) -> Option<i64> {
        // SAFETY: as in `bytes`.
        unsafe {
            (ffi::sqlite3_column_type(self.stmt, column) != ffi::SQLITE_NULL)
                .then(|| ffi::sqlite3_column_int64(self.stmt, column))
        }
    }

    /// The column as text, required.
    pub(crate) fn string(&self, column: c_int) -> StoreResult<String> {
        self.text(column)?
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Corrupt(format!("column {column} is NULL")))
    }
}

/// A parameter of a statement.
pub(crate) enum Bind<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

/// A prepared statement, finalized however the read ends.
struct Statement(*mut ffi::sqlite3_stmt);

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement came from sqlite3_prepare_v2 and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.0);
        }
    }
}

/// Runs `sql` with `binds` as its parameters `$1…`, calling `each` for every row, on a
/// connection of `pool`; `context` says what was being read, for errors.
pub(crate) async fn each_row(
    pool: &SqlitePool,
    context: &'static str,
    sql: &str,
    binds: &[Bind<'_>],
    each: &mut (dyn FnMut(&Row) -> StoreResult<()> + Send),
) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(crate::backend(context))?;
    let mut handle = conn.lock_handle().await.map_err(crate::backend(context))?;
    let db = handle.as_raw_handle();
    let mut step = move || step_all(db, context, sql, binds, each);
    // Stepping blocks; on a runtime with other workers, let them take this one's tasks.
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(step),
        _ => step(),
    }
}

fn step_all(
    db: NonNull<ffi::sqlite3>,
    context: &'static str,
    sql: &str,
    binds: &[Bind<'_>],
    each: &mut (dyn FnMut(&Row) -> StoreResult<()> + Send),
) -> StoreResult<()> {
    let db = db.as_ptr();
    let len = c_int::try_from(sql.len()).map_err(|_| failure(context, "statement too long"))?;
    let mut stmt = ptr::null_mut();
    // SAFETY: `db` is the locked, open connection; `sql` is valid for `len` bytes.
    let code = unsafe {
        ffi::sqlite3_prepare_v2(
            db,
            sql.as_ptr().cast::<c_char>(),
            len,
            &mut stmt,
            ptr::null_mut(),
        )
    };
    if code != ffi::SQLITE_OK {
        return Err(engine(db, context, code));
    }
    let stmt = Statement(stmt);
    for (i, value) in binds.iter().enumerate() {
        let index = c_int::try_from(i + 1).map_err(|_| failure(context, "too many binds"))?;
        // SAFETY: a live statement and a parameter index from 1; SQLITE_TRANSIENT makes SQLite
        // copy the text before the call returns.
        let code = unsafe {
            match value {
                Bind::Int(n) => ffi::sqlite3_bind_int64(stmt.0, index, *n),
                Bind::Null => ffi::sqlite3_bind_null(stmt.0, index),
                Bind::Text(t) => ffi::sqlite3_bind_text(
                    stmt.0,
                    index,
                    t.as_ptr().cast::<c_char>(),
                    c_int::try_from(t.len()).map_err(|_| failure(context, "text too long"))?,
                    ffi::SQLITE_TRANSIENT(),
                ),
            }
        };
        if code != ffi::SQLITE_OK {
            return Err(engine(db, context, code));
        }
    }
    let row = Row { stmt: stmt.0 };
    loop {
        // SAFETY: a live statement, stepped until it says done or fails.
        match unsafe { ffi::sqlite3_step(stmt.0) } {
            ffi::SQLITE_ROW => each(&row)?,
            ffi::SQLITE_DONE => return Ok(()),
            code => return Err(engine(db, context, code)),
        }
    }
}

/// SQLite's own error for `code`, as the store reports engine errors: passing conditions (a
/// lock, I/O, a full disk) as unavailable.
fn engine(db: *mut ffi::sqlite3, context: &'static str, code: c_int) -> StoreError {
    // SAFETY: `db` is the open connection; SQLite returns a NUL-terminated message it owns.
    let message = unsafe {
        let text = ffi::sqlite3_errmsg(db);
        if text.is_null() {
            format!("SQLite error {code}")
        } else {
            CStr::from_ptr(text).to_string_lossy().into_owned()
        }
    };
    let reason = match code & 0xff {
        ffi::SQLITE_FULL => Some("database or disk is full"),
        ffi::SQLITE_IOERR => Some("disk I/O error"),
        ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => Some("the database is locked"),
        ffi::SQLITE_CANTOPEN => Some("cannot open the database file"),
        _ => None,
    };
    let source: Box<dyn std::error::Error + Send + Sync> = message.into();
    match reason {
        Some(reason) => StoreError::Unavailable {
            context: context.to_owned(),
            reason: reason.to_owned(),
            source,
        },
        None => StoreError::Backend {
            context: context.to_owned(),
            source,
        },
    }
}

fn failure(context: &'static str, what: &str) -> StoreError {
    StoreError::Backend {
        context: context.to_owned(),
        source: what.into(),
    }
}
