//! The [`Store`] implementation: each method is one statement or one transaction.

use std::collections::BTreeSet;

use leadline_core::model::{Commit, Complexity, Identity, Millis};
use leadline_core::store::{GraphRow, ImportCounts, StoreError, StoreResult};
use sqlx::{QueryBuilder, Row};

use crate::{Pool, SqlStore, backend, on_pool};

/// Rows per multi-row INSERT: large enough to amortise statement overhead, small enough to
/// stay far below both engines' bound-parameter limits (rows × columns ≤ 65535 and 32766).
const INSERT_ROWS: usize = 500;

/// Reads a column or fails with the column's name.
macro_rules! col {
    ($row:expr, $name:literal) => {
        $row.try_get($name)
            .map_err(backend(concat!("cannot read column ", $name)))?
    };
}

/// Builds a [`Repository`] from a row with `id`, `name` and `location`.
macro_rules! repository {
    ($row:expr) => {
        Repository {
            id: col!($row, "id"),
            name: col!($row, "name"),
            location: col!($row, "location"),
        }
    };
}

/// Moves the ingest cursor (source, scope) to `$value` inside `$tx`.
macro_rules! put_cursor {
    ($tx:ident, $source:expr, $scope:expr, $value:expr, $context:expr) => {
        sqlx::query(
            "INSERT INTO ingest_cursors (source, scope, value) VALUES ($1, $2, $3) \
             ON CONFLICT (source, scope) DO UPDATE SET value = excluded.value",
        )
        .bind($source)
        .bind($scope)
        .bind($value)
        .execute(&mut *$tx)
        .await
        .map_err(backend($context))?;
    };
}

/// Upserts deployments of `$source` inside transaction `$tx`; (source, id) is the key. `$guard`
/// is appended to the update (`""`, or a `WHERE` limiting which stored rows may change).
macro_rules! put_deployments {
    ($tx:ident, $source:expr, $rows:expr, $guard:expr, $context:expr) => {
        for chunk in $rows.chunks(INSERT_ROWS / 2) {
            let mut q = QueryBuilder::new(
                "INSERT INTO deployments (source, external_id, service, environment, sha, started_at, \
                 finished_at, status, repo) ",
            );
            q.push_values(chunk, |mut b, d| {
                b.push_bind($source)
                    .push_bind(&d.id)
                    .push_bind(&d.service)
                    .push_bind(&d.environment)
                    .push_bind(&d.sha)
                    .push_bind(d.started_at)
                    .push_bind(d.finished_at)
                    .push_bind(&d.status)
                    .push_bind(&d.repo);
            });
            q.push(
                " ON CONFLICT (source, external_id) DO UPDATE SET service = excluded.service, \
                 environment = excluded.environment, sha = excluded.sha, started_at = excluded.started_at, \
                 finished_at = excluded.finished_at, status = excluded.status, repo = excluded.repo",
            );
            q.push($guard);
            q.build()
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
        }
    };
}

/// Upserts incidents of `$source` inside transaction `$tx`, as `put_deployments!`; `$lifecycle`
/// is the `SET` list for the lifecycle columns ([`LIFECYCLE_REPLACED`] or one that keeps known
/// values).
macro_rules! put_incidents {
    ($tx:ident, $source:expr, $rows:expr, $lifecycle:expr, $guard:expr, $context:expr) => {
        for chunk in $rows.chunks(INSERT_ROWS / 2) {
            let mut q = QueryBuilder::new(
                "INSERT INTO incidents (source, external_id, service, opened_at, resolved_at, severity, title, \
                 cause_deployment, cause_sha, postmortem_url, fix_deployment, fix_sha, started_at, \
                 detected_at, acknowledged_at, mitigated_at, fingerprint) ",
            );
            q.push_values(chunk, |mut b, i| {
                b.push_bind($source)
                    .push_bind(&i.id)
                    .push_bind(&i.service)
                    .push_bind(i.opened_at)
                    .push_bind(i.resolved_at)
                    .push_bind(&i.severity)
                    .push_bind(&i.title)
                    .push_bind(&i.cause_deployment)
                    .push_bind(&i.cause_sha)
                    .push_bind(&i.postmortem_url)
                    .push_bind(&i.fix_deployment)
                    .push_bind(&i.fix_sha)
                    .push_bind(i.started_at)
                    .push_bind(i.detected_at)
                    .push_bind(i.acknowledged_at)
                    .push_bind(i.mitigated_at)
                    .push_bind(&i.fingerprint);
            });
            q.push(
                " ON CONFLICT (source, external_id) DO UPDATE SET service = excluded.service, \
                 opened_at = excluded.opened_at, resolved_at = excluded.resolved_at, severity = excluded.severity, \
                 title = excluded.title, cause_deployment = excluded.cause_deployment, \
                 cause_sha = excluded.cause_sha, postmortem_url = excluded.postmortem_url, \
                 fix_deployment = excluded.fix_deployment, fix_sha = excluded.fix_sha, ",
            );
            q.push($lifecycle);
            q.push($guard);
            q.build()
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
        }
    };
}

/// An import is the truth about its rows: lifecycle instants it leaves out are cleared.
const LIFECYCLE_REPLACED: &str = "started_at = excluded.started_at, detected_at = excluded.detected_at, \
     acknowledged_at = excluded.acknowledged_at, mitigated_at = excluded.mitigated_at, \
     fingerprint = excluded.fingerprint";

/// The columns of an incident row, as [`incident!`] reads them.
const INCIDENT_COLUMNS: &str = "source, external_id, service, opened_at, resolved_at, severity, title, \
     cause_deployment, cause_sha, postmortem_url, fix_deployment, fix_sha, started_at, detected_at, \
     acknowledged_at, mitigated_at, fingerprint";

/// Builds a [`Deployment`] from a row of the `deployments` table.
macro_rules! deployment {
    ($row:expr) => {
        Deployment {
            id: col!($row, "external_id"),
            service: col!($row, "service"),
            environment: col!($row, "environment"),
            sha: col!($row, "sha"),
            started_at: col!($row, "started_at"),
            finished_at: col!($row, "finished_at"),
            status: col!($row, "status"),
            repo: col!($row, "repo"),
        }
    };
}

/// Builds an [`Incident`] from a row of the `incidents` table.
macro_rules! incident {
    ($row:expr) => {
        Incident {
            id: col!($row, "external_id"),
            service: col!($row, "service"),
            opened_at: col!($row, "opened_at"),
            resolved_at: col!($row, "resolved_at"),
            severity: col!($row, "severity"),
            title: col!($row, "title"),
            cause_deployment: col!($row, "cause_deployment"),
            cause_sha: col!($row, "cause_sha"),
            postmortem_url: col!($row, "postmortem_url"),
            fix_deployment: col!($row, "fix_deployment"),
            fix_sha: col!($row, "fix_sha"),
            started_at: col!($row, "started_at"),
            detected_at: col!($row, "detected_at"),
            acknowledged_at: col!($row, "acknowledged_at"),
            mitigated_at: col!($row, "mitigated_at"),
            fingerprint: col!($row, "fingerprint"),
        }
    };
}

/// A [`ChurnRow`] from a row of file changes joined with their commits.
macro_rules! churn_row {
    ($row:expr) => {
        ChurnRow {
            sha: col!($row, "sha"),
            path: col!($row, "path"),
            committed_at: col!($row, "committed_at"),
            author_email: col!($row, "author_email"),
            added: uncount(col!($row, "added")),
            deleted: uncount(col!($row, "deleted")),
            complexity: complexity_of(col!($row, "lines"), col!($row, "indentation")),
        }
    };
}

mod admin;
mod anomalies;
mod forge;
mod forget;
mod graph;

/// Tables keyed by repository, children before parents.
const REPOSITORY_TABLES: [&str; 6] = [
    "file_changes",
    "commit_trailers",
    "commits",
    "refs",
    "commit_graphs",
    "head_files",
];

/// Deletes commits with their file changes and trailers inside transaction `$tx`.
macro_rules! delete_commits {
    ($tx:ident, $repo_id:expr, $shas:expr, $context:expr) => {
        for chunk in $shas.chunks(INSERT_ROWS) {
            for table in &REPOSITORY_TABLES[..3] {
                let mut q = QueryBuilder::new(format!("DELETE FROM {table} WHERE repo_id = "));
                q.push_bind($repo_id).push(" AND sha IN (");
                let mut list = q.separated(", ");
                for sha in chunk {
                    list.push_bind(sha);
                }
                q.push(")");
                q.build()
                    .execute(&mut *$tx)
                    .await
                    .map_err(backend($context))?;
            }
        }
    };
}

/// Binds `Option<u64>` counts as the `BIGINT` both engines store.
fn count(v: Option<u64>) -> Option<i64> {
    v.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn uncount(v: Option<i64>) -> Option<u64> {
    v.map(|n| n.max(0) as u64)
}

/// (lines, indentation) columns of a complexity.
fn complexity_columns(c: Option<Complexity>) -> (Option<i64>, Option<i64>) {
    (
        c.map(|c| i64::from(c.lines)),
        c.map(|c| i64::from(c.indentation)),
    )
}

/// A complexity from its columns: both or nothing.
fn complexity_of(lines: Option<i64>, indentation: Option<i64>) -> Option<Complexity> {
    let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    Some(Complexity {
        lines: clamp(lines?),
        indentation: clamp(indentation?),
    })
}

fn split_parents(parents: &str) -> Vec<String> {
    parents.split_whitespace().map(str::to_owned).collect()
}

/// Rows in an import and how many of their ids the store did not have before.
fn counts<'a>(ids: impl Iterator<Item = &'a String>, existing: &[String]) -> ImportCounts {
    let existing: std::collections::HashSet<&String> = existing.iter().collect();
    let ids: std::collections::HashSet<&String> = ids.collect();
    ImportCounts {
        rows: ids.len(),
        new: ids.iter().filter(|id| !existing.contains(*id)).count(),
    }
}

/// The distinct people of a batch of commits: canonical identities, and the written
/// identities `.mailmap` maps to them.
struct People {
    canonical: Vec<Identity>,
    aliases: Vec<(Identity, String)>,
}

impl People {
    fn of(commits: &[Commit]) -> People {
        let mut canonical = BTreeSet::new();
        let mut aliases = BTreeSet::new();
        for sig in commits.iter().flat_map(|c| [&c.author, &c.committer]) {
            canonical.insert(&sig.identity);
            if let Some(raw) = &sig.raw {
                aliases.insert((raw, &sig.identity.email));
            }
        }
        // One name per email (a statement may not touch a row twice): the smallest.
        let mut seen = BTreeSet::new();
        People {
            canonical: canonical
                .into_iter()
                .filter(|i| seen.insert(i.email.as_str()))
                .cloned()
                .collect(),
            aliases: aliases
                .into_iter()
                .map(|(raw, email)| (raw.clone(), email.clone()))
                .collect(),
        }
    }
}

/// More distinct bot names and emails than this cannot be bound in one statement (SQLite
/// allows 32766 parameters).
const MAX_BOT_AUTHORS: usize = 30_000;

impl SqlStore {
    /// The graph from the stored per-repository graphs, when every repository has one that
    /// matches its commit count; `None` otherwise.
    async fn stored_graph(&self, bots: &[String]) -> StoreResult<Option<Vec<GraphRow>>> {
        let context = "cannot read the stored commit graphs";
        let (counts, stored): (Vec<(i64, i64)>, Vec<StoredGraph>) = on_pool!(self, |pool| {
            let counts = sqlx::query_as("SELECT repo_id, COUNT(*) FROM commits GROUP BY repo_id")
                .fetch_all(pool)
                .await
                .map_err(backend(context))?;
            let stored = sqlx::query_as("SELECT repo_id, commits, data FROM commit_graphs")
                .fetch_all(pool)
                .await
                .map_err(backend(context))?;
            (counts, stored)
        });
        let fresh = counts.iter().all(|(repo, n)| {
            stored
                .iter()
                .any(|(r, commits, _)| r == repo && commits == n)
        });
        if !fresh {
            return Ok(None);
        }
        let is_bot = bot_matcher(bots);
        let mut all = Vec::new();
        let mut graphs = 0;
        for (repo, _, data) in &stored {
            if counts.iter().any(|(r, _)| r == repo) {
                graph::decode(data, &is_bot, &mut all)?;
                graphs += 1;
            }
        }
        if graphs > 1 {
            // A commit stored for several repositories (forks) is one node.
            let mut seen: std::collections::HashSet<&str, foldhash::fast::RandomState> =
                std::collections::HashSet::with_capacity_and_hasher(all.len(), Default::default());
            let keep: Vec<bool> = all.iter().map(|g| seen.insert(g.sha.as_str())).collect();
            let mut keep = keep.into_iter();
            all.retain(|_| keep.next().unwrap_or(false));
        }
        Ok(Some(all))
    }

    /// The graph assembled from the commits table (a store written before graphs were kept, or
    /// while an ingest is under way).
    async fn assembled_graph(&self, bots: &[String]) -> StoreResult<Vec<GraphRow>> {
        // One aggregated text of `sha parents…;time;bot` lines instead of 100k rows: the rows
        // would each cross the driver's worker channel, which costs several times the query.
        // Shas, parents, times and the flag hold no ';' or newline.
        let (aggregate, separator) = match self.pool {
            Pool::Sqlite(_) => ("group_concat", "char(10)"),
            Pool::Postgres(_) => ("string_agg", "E'\\n'"),
        };
        // Bot markers are matched in Rust against the few distinct authors, then flagged by
        // exact value: a substring test per commit in SQL costs twice the whole scan.
        let (names, emails) = self.bot_authors(bots).await?;
        let text: Option<String> = on_pool!(self, |pool| {
            let mut q = QueryBuilder::new(format!(
                "SELECT {aggregate}(sha || ' ' || parents || ';' || CAST(committed_at AS TEXT) || ';' || \
                 CASE WHEN (1 = 0"
            ));
            for (column, values) in [("author_name", &names), ("author_email", &emails)] {
                if values.is_empty() {
                    continue;
                }
                q.push(format!(" OR {column} IN ("));
                let mut list = q.separated(", ");
                for value in values {
                    list.push_bind(value.as_str());
                }
                q.push(")");
            }
            q.push(format!(
                ") THEN '1' ELSE '0' END, {separator}) FROM commits"
            ));
            q.build_query_scalar()
                .fetch_one(pool)
                .await
                .map_err(backend("cannot list commits"))?
        });
        let text = text.unwrap_or_default();
        // A commit stored for several repositories (forks) is one node.
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(text.len() / 90);
        for line in text.lines() {
            let corrupt = || StoreError::Corrupt(format!("unreadable commit line {line:?}"));
            let mut fields = line.rsplitn(3, ';');
            let (bot, time, ids) = (fields.next(), fields.next(), fields.next());
            let (Some(bot), Some(time), Some(ids)) = (bot, time, ids) else {
                return Err(corrupt());
            };
            let mut ids = ids.split_whitespace();
            let sha = ids.next().ok_or_else(corrupt)?;
            if !seen.insert(sha) {
                continue;
            }
            out.push(GraphRow {
                sha: sha.to_owned(),
                parents: ids.map(str::to_owned).collect(),
                committed_at: time.parse().map_err(|_| corrupt())?,
                bot: bot == "1",
            });
        }
        Ok(out)
    }
}

impl SqlStore {
    /// The distinct author names and emails that contain a bot marker, case-insensitively.
    async fn bot_authors(&self, bots: &[String]) -> StoreResult<(Vec<String>, Vec<String>)> {
        if bots.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let rows: Vec<(String, String)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT DISTINCT author_name, author_email FROM commits")
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list commit authors"))?
        });
        let is_bot = bot_matcher(bots);
        let mut names = BTreeSet::new();
        let mut emails = BTreeSet::new();
        for (name, email) in rows {
            if is_bot(&name, "") {
                names.insert(name);
            }
            if is_bot("", &email) {
                emails.insert(email);
            }
        }
        if names.len() + emails.len() > MAX_BOT_AUTHORS {
            return Err(StoreError::Conflict(format!(
                "{} distinct bot author names and emails match [dora] bots; at most {MAX_BOT_AUTHORS} are supported",
                names.len() + emails.len()
            )));
        }
        Ok((names.into_iter().collect(), emails.into_iter().collect()))
    }
}

/// A row of `commit_graphs`: repository, its commit count when written, the encoded graph.
type StoredGraph = (i64, i64, Vec<u8>);

/// Whether an author (name, email) contains any of the bot markers, case-insensitively.
fn bot_matcher(bots: &[String]) -> impl Fn(&str, &str) -> bool {
    let markers: Vec<String> = bots.iter().map(|b| b.to_lowercase()).collect();
    move |name: &str, email: &str| {
        let (name, email) = (name.to_lowercase(), email.to_lowercase());
        markers
            .iter()
            .any(|m| name.contains(m.as_str()) || email.contains(m.as_str()))
    }
}

// The families' implementations, after every macro they use.
mod deployments;
mod history;
mod jobs;
mod outbox;
mod planning;
mod product;
mod sli;
mod surveys;
