//! `leadline forget`: a person's identity erased everywhere the store keeps it, in one
//! transaction, while their work stays (commits, pull requests and reviews keep counting, under
//! a random name that leads back to no one); then the old contents are removed from the files.
//!
//! Where to look comes from the database's own catalog, not a list kept by hand: every text
//! and binary column of every table, except those that hold only hashes, file paths or
//! leadline's own metadata ([`KEPT`]). A table added later is covered without anyone
//! remembering to. What to replace is [`leadline_core::erase`].

use async_trait::async_trait;
use leadline_core::store::PrivacyStore;

use futures_util::TryStreamExt;
use leadline_core::erase::{Eraser, Person};
use leadline_core::store::{Forget, Forgotten, StoreResult};
use sqlx::{QueryBuilder, Row};

use crate::{Pool, SqlStore, backend, on_pool};

/// Tables never rewritten: leadline's metadata (the pseudonym key, the schema version), the
/// stored commit graphs (deleted instead: the next ingest rebuilds them), and the file-level
/// history and HEAD snapshot (paths and hashes).
const KEPT_TABLES: &[&str] = &[
    "leadline_meta",
    "commit_graphs",
    "file_changes",
    "head_files",
];

/// Columns never rewritten: hashes, and the paths of files and repositories on disk (the
/// repository's content and the server's filesystem, not a person's identity; rewriting
/// them would break the next ingest).
const KEPT: &[&str] = &[
    "sha",
    "parents",
    "commit_sha",
    "cause_sha",
    "head_sha",
    "merge_sha",
    "token_hash",
    "path",
    "pattern",
    "location",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bytes,
    Other,
}

impl Kind {
    fn of(declared: &str) -> Kind {
        match declared.to_ascii_lowercase().as_str() {
            "integer" | "bigint" | "int" | "int8" | "int4" => Kind::Int,
            "text" | "character varying" | "varchar" => Kind::Text,
            "blob" | "bytea" => Kind::Bytes,
            _ => Kind::Other,
        }
    }
}

/// One table's primary key and the columns to scrub.
struct Table {
    name: String,
    key: Vec<(String, Kind)>,
    scrub: Vec<(String, Kind)>,
}

enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// One row to rewrite: its key and the new values of the columns that changed.
struct Change {
    key: Vec<Cell>,
    set: Vec<(usize, Cell)>,
}

/// Reads column `$i` of `$row` as a [`Cell`] of `$kind`.
macro_rules! read_cell {
    ($row:expr, $i:expr, $kind:expr) => {
        match $kind {
            Kind::Int => $row
                .try_get::<Option<i64>, _>($i)
                .map_err(backend("cannot read a row to forget"))?
                .map_or(Cell::Null, Cell::Int),
            Kind::Text => $row
                .try_get::<Option<String>, _>($i)
                .map_err(backend("cannot read a row to forget"))?
                .map_or(Cell::Null, Cell::Text),
            Kind::Bytes => $row
                .try_get::<Option<Vec<u8>>, _>($i)
                .map_err(backend("cannot read a row to forget"))?
                .map_or(Cell::Null, Cell::Bytes),
            Kind::Other => Cell::Null,
        }
    };
}

/// Pushes `$cell` onto query builder `$q` as a bound value.
macro_rules! bind_cell {
    ($q:expr, $cell:expr) => {
        match $cell {
            Cell::Null => {
                $q.push("NULL");
            }
            Cell::Int(v) => {
                $q.push_bind(*v);
            }
            Cell::Text(t) => {
                $q.push_bind(t.clone());
            }
            Cell::Bytes(b) => {
                $q.push_bind(b.clone());
            }
        }
    };
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

impl SqlStore {
    /// Removes old row versions from the files. SQLite: VACUUM rewrites the database (no free
    /// page keeps a copy), then the write-ahead log is truncated; false when another process
    /// reading the store kept the log from being truncated. PostgreSQL: VACUUM of the touched
    /// tables (dead tuples removed; `VACUUM FULL` and PostgreSQL's own WAL retention are the
    /// operator's, see docs/privacy.md).
    async fn compact(&self, touched: &[&str]) -> StoreResult<bool> {
        let context = "cannot compact the store after forgetting";
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(backend(context))?;
                sqlx::query("VACUUM")
                    .execute(&mut *conn)
                    .await
                    .map_err(backend(context))?;
                super::admin::truncate_log(&mut conn).await
            }
            Pool::Postgres(pool) => {
                for table in touched {
                    sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM {}", quoted(table))))
                        .execute(pool)
                        .await
                        .map_err(backend(context))?;
                }
                Ok(true)
            }
        }
    }

    /// Every table with columns to scrub, with its primary key, from the database's catalog.
    async fn catalog(&self) -> StoreResult<Vec<Table>> {
        let context = "cannot read the store's catalog";
        // (table, column, declared type, position in the primary key or 0)
        let columns: Vec<(String, String, String, i64)> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as(
                "SELECT m.name, c.name, c.type, c.pk FROM sqlite_master m \
                 JOIN pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid",
            )
            .fetch_all(pool)
            .await
            .map_err(backend(context))?,
            Pool::Postgres(pool) => sqlx::query_as(
                "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
                 COALESCE(k.ordinal_position, 0)::bigint \
                 FROM information_schema.columns c \
                 LEFT JOIN information_schema.table_constraints t \
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                  AND t.constraint_type = 'PRIMARY KEY' \
                 LEFT JOIN information_schema.key_column_usage k \
                   ON k.constraint_name = t.constraint_name AND k.table_schema = c.table_schema \
                  AND k.table_name = c.table_name AND k.column_name = c.column_name \
                 WHERE c.table_schema = current_schema() \
                 ORDER BY c.table_name, c.ordinal_position",
            )
            .fetch_all(pool)
            .await
            .map_err(backend(context))?,
        };
        let mut tables: Vec<Table> = Vec::new();
        for (table, column, declared, pk) in columns {
            if KEPT_TABLES.contains(&table.as_str()) {
                continue;
            }
            if tables.last().is_none_or(|t| t.name != table) {
                tables.push(Table {
                    name: table.clone(),
                    key: Vec::new(),
                    scrub: Vec::new(),
                });
            }
            let Some(t) = tables.last_mut() else { continue };
            let kind = Kind::of(&declared);
            if pk > 0 {
                t.key.push((column.clone(), kind));
            }
            if matches!(kind, Kind::Text | Kind::Bytes) && !KEPT.contains(&column.as_str()) {
                t.scrub.push((column, kind));
            }
        }
        tables.retain(|t| !t.scrub.is_empty() && !t.key.is_empty());
        Ok(tables)
    }
}

/// The objects of a JSON document that carry an email, login or username: all that
/// [`Person::learn_from_json`] reads, kept small.
fn identity_objects(value: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                let mut identity = serde_json::Map::new();
                for k in ["email", "login", "username", "name"] {
                    if let Some(s) = map.get(k).filter(|v| v.is_string()) {
                        identity.insert(k.to_owned(), s.clone());
                    }
                }
                if identity.contains_key("email")
                    || identity.contains_key("login")
                    || identity.contains_key("username")
                {
                    out.push(serde_json::Value::Object(identity));
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

fn count(report: &mut Forgotten, table: &str, rows: u64) {
    if rows > 0 {
        report.tables.push((table.to_owned(), rows));
    }
}

#[async_trait]
impl PrivacyStore for SqlStore {
    async fn forget(&self, who: &Forget) -> StoreResult<Forgotten> {
        let context = "cannot forget the person";
        let tables = self.catalog().await?;
        let mut report = Forgotten::default();
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            if matches!(self.pool, Pool::Sqlite(_)) {
                // Freed space is zeroed as well as later rewritten by VACUUM.
                sqlx::query("PRAGMA secure_delete = ON")
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            let mut person = Person::new(&who.email, &who.logins);
            // The emails .mailmap maps to theirs.
            let aliases: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT email FROM person_aliases WHERE lower(person_email) = $1",
            )
            .bind(who.email.to_lowercase())
            .fetch_all(&mut *tx)
            .await
            .map_err(backend(context))?;
            for a in aliases {
                person.add_email(&a);
            }
            // Names written with their emails, in columns and in "Name <email>" text.
            for email in person.emails.clone() {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT author_name FROM commits WHERE lower(author_email) = $1 \
                     UNION SELECT committer_name FROM commits WHERE lower(committer_email) = $1 \
                     UNION SELECT name FROM person_aliases WHERE lower(email) = $1 OR lower(person_email) = $1 \
                     UNION SELECT name FROM people WHERE lower(email) = $1 \
                     UNION SELECT author_name FROM pushed_commits WHERE lower(author_email) = $1",
                )
                .bind(&email)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend(context))?;
                for n in names {
                    person.add_name(&n);
                }
            }
            let contains = match self.pool {
                Pool::Sqlite(_) => "instr",
                Pool::Postgres(_) => "strpos",
            };
            for sql in [
                "SELECT value FROM commit_trailers WHERE {contains}(lower(value), $1) > 0",
                "SELECT body FROM commits WHERE {contains}(lower(body), $1) > 0",
                "SELECT message FROM pushed_commits WHERE {contains}(lower(message), $1) > 0",
            ] {
                for email in person.emails.clone() {
                    let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(
                        sql.replace("{contains}", contains),
                    ))
                    .bind(&email)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(backend(context))?;
                    for t in texts {
                        person.learn_from_text(&t);
                    }
                }
            }
            // Webhook bodies pair emails, names and logins: learn until nothing new.
            let mut identities: Vec<serde_json::Value> = Vec::new();
            {
                let mut rows = sqlx::query("SELECT body FROM webhook_deliveries").fetch(&mut *tx);
                while let Some(row) = rows.try_next().await.map_err(backend(context))? {
                    let body: Vec<u8> = row.try_get(0).map_err(backend(context))?;
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
                        identities.extend(identity_objects(&v));
                    }
                }
            }
            // The same people appear in many bodies: learn from each identity once.
            identities.sort_by_cached_key(|v| v.to_string());
            identities.dedup();
            while identities
                .iter()
                .fold(false, |l, v| person.learn_from_json(v) | l)
            {}

            // Their own rows go; the stored graphs hold identities and are rebuilt by ingest.
            for (table, sql) in [
                ("people", "DELETE FROM people WHERE lower(email) = $1"),
                (
                    "person_aliases",
                    "DELETE FROM person_aliases WHERE lower(email) = $1 OR lower(person_email) = $1",
                ),
            ] {
                let mut n = 0;
                for email in &person.emails {
                    n += sqlx::query(sql)
                        .bind(email)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend(context))?
                        .rows_affected();
                }
                count(&mut report, table, n);
            }
            sqlx::query("DELETE FROM commit_graphs")
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;

            let eraser = Eraser::new(&person, &who.replacement);
            for table in &tables {
                let mut changes = Vec::new();
                {
                    let columns: Vec<String> = table
                        .key
                        .iter()
                        .chain(&table.scrub)
                        .map(|(c, _)| quoted(c))
                        .collect();
                    let select =
                        format!("SELECT {} FROM {}", columns.join(", "), quoted(&table.name));
                    let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut *tx);
                    while let Some(row) = rows.try_next().await.map_err(backend(context))? {
                        let mut key = Vec::with_capacity(table.key.len());
                        for (i, (_, kind)) in table.key.iter().enumerate() {
                            key.push(read_cell!(row, i, *kind));
                        }
                        let mut set = Vec::new();
                        for (j, (_, kind)) in table.scrub.iter().enumerate() {
                            let scrubbed = match read_cell!(row, table.key.len() + j, *kind) {
                                Cell::Text(t) => eraser.text(&t).map(Cell::Text),
                                Cell::Bytes(b) => eraser.bytes(&b).map(Cell::Bytes),
                                _ => None,
                            };
                            if let Some(new) = scrubbed {
                                set.push((j, new));
                            }
                        }
                        if !set.is_empty() {
                            changes.push(Change { key, set });
                        }
                    }
                }
                for change in &changes {
                    let mut q = QueryBuilder::new(format!("UPDATE {} SET ", quoted(&table.name)));
                    for (n, (j, cell)) in change.set.iter().enumerate() {
                        if n > 0 {
                            q.push(", ");
                        }
                        q.push(quoted(&table.scrub[*j].0)).push(" = ");
                        bind_cell!(q, cell);
                    }
                    q.push(" WHERE ");
                    for (n, ((column, _), cell)) in table.key.iter().zip(&change.key).enumerate() {
                        if n > 0 {
                            q.push(" AND ");
                        }
                        q.push(quoted(column)).push(" = ");
                        bind_cell!(q, cell);
                    }
                    q.build()
                        .execute(&mut *tx)
                        .await
                        .map_err(backend(context))?;
                }
                count(&mut report, &table.name, changes.len() as u64);
            }
            tx.commit().await.map_err(backend(context))?;
            Ok::<(), leadline_core::store::StoreError>(())
        })?;
        let touched: Vec<&str> = report.tables.iter().map(|(t, _)| t.as_str()).collect();
        report.compacted = self.compact(&touched).await?;
        Ok(report)
    }
}
