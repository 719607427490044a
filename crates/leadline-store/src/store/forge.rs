//! The forge family: webhook deliveries with the events they map to, and what the forges'
//! connectors store (pull requests, reviews, builds, pushes, files, CODEOWNERS).

use super::*;
use async_trait::async_trait;
use leadline_core::store::ForgeStore;

use leadline_core::events::{
    Build, CodeOwnersFile, Delivery, Events, Outcome, PullRequest, PullRequestFiles, PushedCommit,
    Review, Stage,
};
use leadline_core::store::{EventPosition, StoreError, StoreResult};
use sqlx::{QueryBuilder, Row};

use super::INSERT_ROWS;
use crate::{SqlStore, backend, on_pool};

/// Upserts pull requests inside `$tx`; a row older (by updated_at) than the stored one is
/// skipped, so deliveries arriving out of order cannot undo a merge.
macro_rules! put_pull_requests {
    ($tx:ident, $rows:expr, $context:expr) => {
        for chunk in $rows.chunks(INSERT_ROWS / 4) {
            let mut q = QueryBuilder::new(
                "INSERT INTO pull_requests (forge, repo, number, title, author, state, draft, created_at, \
                 first_commit_at, rework_commits, updated_at, merged_at, closed_at, base_ref, head_sha, merge_sha, additions, deletions, \
                 changed_files, commits, labels, review_requests, ready_at, actions, issue_keys) ",
            );
            q.push_values(chunk, |mut b, p: &PullRequest| {
                b.push_bind(&p.forge)
                    .push_bind(&p.repo)
                    .push_bind(p.number)
                    .push_bind(&p.title)
                    .push_bind(&p.author)
                    .push_bind(&p.state)
                    .push_bind(p.draft)
                    .push_bind(p.created_at)
                    .push_bind(p.first_commit_at)
                    .push_bind(p.rework_commits)
                    .push_bind(p.updated_at)
                    .push_bind(p.merged_at)
                    .push_bind(p.closed_at)
                    .push_bind(&p.base_ref)
                    .push_bind(&p.head_sha)
                    .push_bind(&p.merge_sha)
                    .push_bind(p.additions)
                    .push_bind(p.deletions)
                    .push_bind(p.changed_files)
                    .push_bind(p.commits)
                    .push_bind(serde_json::Value::from(p.labels.clone()).to_string())
                    .push_bind(serde_json::Value::from(p.review_requests.clone()).to_string())
                    .push_bind(p.ready_at)
                    .push_bind(serde_json::Value::from(p.actions.clone()).to_string())
                    .push_bind(serde_json::Value::from(p.issue_keys.clone()).to_string());
            });
            q.push(
                " ON CONFLICT (forge, repo, number) DO UPDATE SET title = excluded.title, \
                 author = excluded.author, state = excluded.state, draft = excluded.draft, \
                 created_at = excluded.created_at, updated_at = excluded.updated_at, \
                 first_commit_at = COALESCE(excluded.first_commit_at, pull_requests.first_commit_at), \
                 rework_commits = COALESCE(excluded.rework_commits, pull_requests.rework_commits), \
                 ready_at = CASE WHEN pull_requests.ready_at IS NULL OR excluded.ready_at < pull_requests.ready_at \
                 THEN excluded.ready_at ELSE pull_requests.ready_at END, \
                 merged_at = excluded.merged_at, closed_at = excluded.closed_at, base_ref = excluded.base_ref, \
                 head_sha = excluded.head_sha, merge_sha = excluded.merge_sha, additions = excluded.additions, \
                 deletions = excluded.deletions, changed_files = excluded.changed_files, \
                 commits = excluded.commits, labels = excluded.labels, \
                 review_requests = excluded.review_requests, actions = excluded.actions, \
                 issue_keys = excluded.issue_keys \
                 WHERE excluded.updated_at >= pull_requests.updated_at",
            );
            q.build()
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
        }
    };
}

/// Upserts reviews inside `$tx`.
macro_rules! put_reviews {
    ($tx:ident, $rows:expr, $context:expr) => {
        for chunk in $rows.chunks(INSERT_ROWS / 2) {
            let mut q = QueryBuilder::new(
                "INSERT INTO reviews (forge, repo, number, review_id, reviewer, state, submitted_at, comments) ",
            );
            q.push_values(chunk, |mut b, r: &Review| {
                b.push_bind(&r.forge)
                    .push_bind(&r.repo)
                    .push_bind(r.number)
                    .push_bind(&r.id)
                    .push_bind(&r.reviewer)
                    .push_bind(&r.state)
                    .push_bind(r.submitted_at)
                    .push_bind(r.comments);
            });
            q.push(
                " ON CONFLICT (forge, repo, number, review_id) DO UPDATE SET reviewer = excluded.reviewer, \
                 state = excluded.state, submitted_at = excluded.submitted_at, \
                 comments = COALESCE(excluded.comments, reviews.comments)",
            );
            q.build()
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
        }
    };
}

/// Upserts builds of `$source` inside `$tx`; as pull requests, older updates are skipped.
macro_rules! put_builds {
    ($tx:ident, $source:expr, $rows:expr, $context:expr) => {
        for chunk in $rows.chunks(INSERT_ROWS / 4) {
            let mut q = QueryBuilder::new(
                "INSERT INTO builds (source, external_id, repo, pipeline, sha, branch, attempt, status, \
                 created_at, started_at, finished_at, updated_at) ",
            );
            q.push_values(chunk, |mut b, r: &Build| {
                b.push_bind($source)
                    .push_bind(&r.id)
                    .push_bind(&r.repo)
                    .push_bind(&r.pipeline)
                    .push_bind(&r.sha)
                    .push_bind(&r.branch)
                    .push_bind(r.attempt)
                    .push_bind(&r.status)
                    .push_bind(r.created_at)
                    .push_bind(r.started_at)
                    .push_bind(r.finished_at)
                    .push_bind(r.updated_at);
            });
            q.push(
                " ON CONFLICT (source, external_id) DO UPDATE SET repo = excluded.repo, \
                 pipeline = excluded.pipeline, sha = excluded.sha, branch = excluded.branch, \
                 attempt = excluded.attempt, status = excluded.status, created_at = excluded.created_at, \
                 started_at = excluded.started_at, finished_at = excluded.finished_at, \
                 updated_at = excluded.updated_at WHERE excluded.updated_at >= builds.updated_at",
            );
            q.build()
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
        }
    };
}

/// Inserts pushed commits inside `$tx`; the first push that announced a commit keeps it.
macro_rules! put_pushed_commits {
    ($tx:ident, $rows:expr, $context:expr) => {
        for chunk in $rows.chunks(INSERT_ROWS / 2) {
            let mut q = QueryBuilder::new(
                "INSERT INTO pushed_commits (forge, repo, sha, ref_name, author_name, author_email, \
                 committed_at, pushed_at, message) ",
            );
            q.push_values(chunk, |mut b, c: &PushedCommit| {
                b.push_bind(&c.forge)
                    .push_bind(&c.repo)
                    .push_bind(&c.sha)
                    .push_bind(&c.ref_name)
                    .push_bind(&c.author_name)
                    .push_bind(&c.author_email)
                    .push_bind(c.committed_at)
                    .push_bind(c.pushed_at)
                    .push_bind(&c.message);
            });
            q.push(" ON CONFLICT (forge, repo, sha) DO NOTHING");
            q.build()
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
        }
    };
}

/// Stores incidents and milestones of `$source` inside `$tx`, each incident's events ordered
/// by their own times rather than by arrival: an older "firing" never re-opens a newer
/// resolution, a re-fire keeps the lifecycle instants already known, a milestone that arrives
/// before its incident waits in `pending_milestones` and is applied when the incident arrives,
/// the first report of a stage wins, and a milestone dated before the incident started (a
/// resolution: before it opened) is refused ([`StoreError::Conflict`]).
macro_rules! put_alerts {
    ($tx:ident, $source:expr, $events:expr, $context:expr) => {
        put_incidents!($tx, $source, $events.incidents, LIFECYCLE_KEPT, STALE_ALERTS_KEPT, $context);
        for i in &$events.incidents {
            let pending: Vec<(String, i64)> = sqlx::query_as(
                "DELETE FROM pending_milestones WHERE source = $1 AND external_id = $2 RETURNING stage, at",
            )
            .bind($source)
            .bind(&i.id)
            .fetch_all(&mut *$tx)
            .await
            .map_err(backend($context))?;
            for (stage, at) in pending {
                let Some(stage) = Stage::parse(&stage) else {
                    continue;
                };
                // Out of order against the incident as it arrived: dropped, as a refused
                // milestone would have been.
                let column = stage.column();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE incidents SET {column} = $1 WHERE source = $2 AND external_id = $3 \
                     AND {column} IS NULL AND (started_at IS NULL OR started_at <= $1) \
                     AND ($4 = 0 OR opened_at <= $1)"
                )))
                .bind(at)
                .bind($source)
                .bind(&i.id)
                .bind(i64::from(stage == Stage::Resolved))
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
            }
        }
        for m in &$events.milestones {
            let stored: Option<(i64, Option<i64>)> = sqlx::query_as(
                "SELECT opened_at, started_at FROM incidents WHERE source = $1 AND external_id = $2",
            )
            .bind($source)
            .bind(&m.id)
            .fetch_optional(&mut *$tx)
            .await
            .map_err(backend($context))?;
            match stored {
                Some((opened, started)) => {
                    if m.stage == Stage::Resolved && m.at < opened {
                        return Err(StoreError::Conflict(format!(
                            "the resolution of incident {:?} is dated before the incident opened",
                            m.id
                        )));
                    }
                    if started.is_some_and(|s| m.at < s) {
                        return Err(StoreError::Conflict(format!(
                            "incident {:?} is {} before its impact started",
                            m.id,
                            m.stage.as_str()
                        )));
                    }
                    // A repeated report of a stage changes nothing.
                    let column = m.stage.column();
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE incidents SET {column} = $1 WHERE source = $2 AND external_id = $3 \
                         AND {column} IS NULL"
                    )))
                    .bind(m.at)
                    .bind($source)
                    .bind(&m.id)
                    .execute(&mut *$tx)
                    .await
                    .map_err(backend($context))?;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO pending_milestones (source, external_id, stage, at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (source, external_id, stage) DO NOTHING",
                    )
                    .bind($source)
                    .bind(&m.id)
                    .bind(m.stage.as_str())
                    .bind(m.at)
                    .execute(&mut *$tx)
                    .await
                    .map_err(backend($context))?;
                }
            }
        }
    };
}

/// Stores the events of `$source` inside `$tx`: deployments (progress never replacing a
/// finished one), incidents, resolutions, pull requests, reviews, builds, pushed commits.
macro_rules! put_events {
    ($tx:ident, $source:expr, $events:expr, $context:expr) => {
        put_deployments!($tx, $source, $events.deployments, UNFINISHED_ONLY, $context);
        put_alerts!($tx, $source, $events, $context);
        put_pull_requests!($tx, $events.pull_requests, $context);
        put_reviews!($tx, $events.reviews, $context);
        put_builds!($tx, $source, $events.builds, $context);
        put_pushed_commits!($tx, $events.pushed_commits, $context);
        for f in &$events.pull_request_files {
            sqlx::query("DELETE FROM pull_request_files WHERE forge = $1 AND repo = $2 AND number = $3")
                .bind(&f.forge)
                .bind(&f.repo)
                .bind(f.number)
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
            for chunk in f.paths.chunks(INSERT_ROWS) {
                let mut q = QueryBuilder::new("INSERT INTO pull_request_files (forge, repo, number, path) ");
                q.push_values(chunk, |mut b, path| {
                    b.push_bind(&f.forge).push_bind(&f.repo).push_bind(f.number).push_bind(path);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *$tx).await.map_err(backend($context))?;
            }
        }
        for file in &$events.code_owners {
            sqlx::query("DELETE FROM code_owners WHERE forge = $1 AND repo = $2")
                .bind(&file.forge)
                .bind(&file.repo)
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
            for (position, (pattern, owners)) in file.rules.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO code_owners (forge, repo, position, pattern, owners) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&file.forge)
                .bind(&file.repo)
                .bind(position as i64)
                .bind(pattern)
                .bind(owners.join(" "))
                .execute(&mut *$tx)
                .await
                .map_err(backend($context))?;
            }
        }
    };
}

/// Alerts arrive out of order and are retried: an incident event is skipped when it is about
/// an earlier occurrence than the stored one, or is a "firing" no newer than the stored
/// resolution (a late retry must not re-open what was resolved; a firing that starts after
/// the resolution is a new occurrence and re-opens it).
/// A re-fire or a later status of an alert rarely repeats every lifecycle instant: what is
/// known of the same occurrence (same opening) stays unless the new delivery says otherwise; a
/// new occurrence starts afresh.
const LIFECYCLE_KEPT: &str = "started_at = CASE WHEN excluded.opened_at = incidents.opened_at \
     THEN COALESCE(excluded.started_at, incidents.started_at) ELSE excluded.started_at END, \
     detected_at = CASE WHEN excluded.opened_at = incidents.opened_at \
     THEN COALESCE(excluded.detected_at, incidents.detected_at) ELSE excluded.detected_at END, \
     acknowledged_at = CASE WHEN excluded.opened_at = incidents.opened_at \
     THEN COALESCE(excluded.acknowledged_at, incidents.acknowledged_at) ELSE excluded.acknowledged_at END, \
     mitigated_at = CASE WHEN excluded.opened_at = incidents.opened_at \
     THEN COALESCE(excluded.mitigated_at, incidents.mitigated_at) ELSE excluded.mitigated_at END, \
     fingerprint = CASE WHEN excluded.opened_at = incidents.opened_at \
     THEN COALESCE(excluded.fingerprint, incidents.fingerprint) ELSE excluded.fingerprint END";

const STALE_ALERTS_KEPT: &str = " WHERE excluded.opened_at >= incidents.opened_at \
     AND NOT (excluded.resolved_at IS NULL AND incidents.resolved_at IS NOT NULL \
     AND excluded.opened_at <= incidents.resolved_at)";

/// Deliveries arrive out of order: a progress report (`queued`, `pending`, `in_progress`) may
/// update a deployment that has not finished, but never one that has.
const UNFINISHED_ONLY: &str = " WHERE deployments.status NOT IN ('success', 'failure') \
     OR excluded.status IN ('success', 'failure')";

/// Tables whose rows `row_counts` reports: everything a user's input can add to.
pub(super) const COUNTED_TABLES: [&str; 33] = [
    "tracked_sprints",
    "tracked_issues",
    "tracked_transitions",
    "survey_responses",
    "jobs",
    "job_runs",
    "okr_checkins",
    "product_events",
    "samples",
    "pending_milestones",
    "anomaly_reviews",
    "sli_counts",
    "notifications",
    "notification_deliveries",
    "head_files",
    "pull_request_files",
    "code_owners",
    "repositories",
    "person_aliases",
    "ingest_cursors",
    "commits",
    "file_changes",
    "commit_trailers",
    "refs",
    "deployments",
    "incidents",
    "api_tokens",
    "webhook_deliveries",
    "pull_requests",
    "reviews",
    "builds",
    "pushed_commits",
    "people",
];

/// Appends `WHERE (time, source, id) > after` (row-value comparison, in both engines) and the
/// order and limit of an event page.
pub(super) fn page_tail<DB: sqlx::Database>(
    q: &mut QueryBuilder<DB>,
    columns: &str,
    after: Option<&EventPosition>,
    limit: usize,
    has_where: bool,
) where
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'s> &'s str: sqlx::Encode<'s, DB> + sqlx::Type<DB>,
{
    if let Some(p) = after {
        q.push(if has_where { " AND (" } else { " WHERE (" })
            .push(columns)
            .push(") > (")
            .push_bind(p.at)
            .push(", ")
            .push_bind(p.source.as_str())
            .push(", ")
            .push_bind(p.id.as_str())
            .push(")");
    }
    q.push(" ORDER BY ")
        .push(columns)
        .push(" LIMIT ")
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
}

#[async_trait]
impl ForgeStore for SqlStore {
    async fn apply_delivery(
        &self,
        delivery: &Delivery,
        events: &Events,
        replay: bool,
    ) -> StoreResult<bool> {
        let context = "cannot store a webhook delivery";
        let source = delivery.source.as_str();
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let conflict = if replay {
                " ON CONFLICT (source, delivery_id) DO UPDATE SET outcome = excluded.outcome, detail = excluded.detail"
            } else {
                " ON CONFLICT (source, delivery_id) DO NOTHING"
            };
            let mut q = QueryBuilder::new(
                "INSERT INTO webhook_deliveries (source, delivery_id, event, received_at, body, outcome, detail) ",
            );
            q.push_values([delivery], |mut b, d| {
                b.push_bind(source)
                    .push_bind(&d.id)
                    .push_bind(&d.event)
                    .push_bind(d.received_at)
                    .push_bind(&d.body)
                    .push_bind(d.outcome.as_str())
                    .push_bind(&d.detail);
            });
            q.push(conflict);
            let inserted = q
                .build()
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?
                .rows_affected();
            if inserted == 0 {
                // Dropping the transaction rolls it back: a redelivery stores nothing.
                return Ok(false);
            }
            put_events!(tx, source, events, context);
            tx.commit().await.map_err(backend(context))?;
            Ok(true)
        })
    }

    async fn store_events(
        &self,
        source: &str,
        events: &Events,
        cursor: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        let context = "cannot store synced events";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            put_events!(tx, source, events, context);
            if let Some((scope, value)) = cursor {
                put_cursor!(tx, source, scope, value, context);
            }
            tx.commit().await.map_err(backend(context))
        })
    }

    async fn deliveries_page(
        &self,
        source: Option<&str>,
        after: Option<&EventPosition>,
        limit: usize,
    ) -> StoreResult<Vec<Delivery>> {
        on_pool!(self, |pool| {
            let mut q = QueryBuilder::new(
                "SELECT source, delivery_id, event, received_at, body, outcome, detail FROM webhook_deliveries",
            );
            if let Some(source) = source {
                q.push(" WHERE source = ").push_bind(source);
            }
            page_tail(
                &mut q,
                "received_at, source, delivery_id",
                after,
                limit,
                source.is_some(),
            );
            let rows = q
                .build()
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list webhook deliveries"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let outcome: String = col!(row, "outcome");
                out.push(Delivery {
                    source: col!(row, "source"),
                    id: col!(row, "delivery_id"),
                    event: col!(row, "event"),
                    received_at: col!(row, "received_at"),
                    body: col!(row, "body"),
                    outcome: Outcome::parse(&outcome).ok_or_else(|| {
                        StoreError::Corrupt(format!("unknown delivery outcome {outcome:?}"))
                    })?,
                    detail: col!(row, "detail"),
                });
            }
            Ok(out)
        })
    }

    async fn pull_requests(&self) -> StoreResult<Vec<PullRequest>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT forge, repo, number, title, author, state, draft, created_at, first_commit_at, rework_commits, updated_at, merged_at, \
                 closed_at, base_ref, head_sha, merge_sha, additions, deletions, changed_files, commits, labels, \
                 review_requests, ready_at, actions, issue_keys FROM pull_requests ORDER BY forge, repo, number",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list pull requests"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let labels: String = col!(row, "labels");
                let requests: String = col!(row, "review_requests");
                let actions: String = col!(row, "actions");
                let keys: String = col!(row, "issue_keys");
                out.push(PullRequest {
                    forge: col!(row, "forge"),
                    repo: col!(row, "repo"),
                    number: col!(row, "number"),
                    title: col!(row, "title"),
                    author: col!(row, "author"),
                    state: col!(row, "state"),
                    draft: col!(row, "draft"),
                    created_at: col!(row, "created_at"),
                    first_commit_at: col!(row, "first_commit_at"),
                    rework_commits: col!(row, "rework_commits"),
                    ready_at: col!(row, "ready_at"),
                    updated_at: col!(row, "updated_at"),
                    merged_at: col!(row, "merged_at"),
                    closed_at: col!(row, "closed_at"),
                    base_ref: col!(row, "base_ref"),
                    head_sha: col!(row, "head_sha"),
                    merge_sha: col!(row, "merge_sha"),
                    additions: col!(row, "additions"),
                    deletions: col!(row, "deletions"),
                    changed_files: col!(row, "changed_files"),
                    commits: col!(row, "commits"),
                    labels: serde_json::from_str(&labels).map_err(|_| {
                        StoreError::Corrupt(format!("unreadable pull request labels {labels:?}"))
                    })?,
                    review_requests: serde_json::from_str(&requests).map_err(|_| {
                        StoreError::Corrupt(format!("unreadable review requests {requests:?}"))
                    })?,
                    actions: serde_json::from_str(&actions).map_err(|_| {
                        StoreError::Corrupt(format!("unreadable pull request actions {actions:?}"))
                    })?,
                    issue_keys: serde_json::from_str(&keys).map_err(|_| {
                        StoreError::Corrupt(format!("unreadable pull request issue keys {keys:?}"))
                    })?,
                });
            }
            Ok(out)
        })
    }

    async fn reviews(&self) -> StoreResult<Vec<Review>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT forge, repo, number, review_id, reviewer, state, submitted_at, comments FROM reviews \
                 ORDER BY forge, repo, number, submitted_at, review_id",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list reviews"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(Review {
                    forge: col!(row, "forge"),
                    repo: col!(row, "repo"),
                    number: col!(row, "number"),
                    id: col!(row, "review_id"),
                    reviewer: col!(row, "reviewer"),
                    state: col!(row, "state"),
                    submitted_at: col!(row, "submitted_at"),
                    comments: col!(row, "comments"),
                });
            }
            Ok(out)
        })
    }

    async fn builds(&self) -> StoreResult<Vec<(String, Build)>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT source, external_id, repo, pipeline, sha, branch, attempt, status, created_at, \
                 started_at, finished_at, updated_at FROM builds ORDER BY created_at, source, external_id",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list builds"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((
                    col!(row, "source"),
                    Build {
                        id: col!(row, "external_id"),
                        repo: col!(row, "repo"),
                        pipeline: col!(row, "pipeline"),
                        sha: col!(row, "sha"),
                        branch: col!(row, "branch"),
                        attempt: col!(row, "attempt"),
                        status: col!(row, "status"),
                        created_at: col!(row, "created_at"),
                        started_at: col!(row, "started_at"),
                        finished_at: col!(row, "finished_at"),
                        updated_at: col!(row, "updated_at"),
                    },
                ));
            }
            Ok(out)
        })
    }

    async fn pushed_commits(&self) -> StoreResult<Vec<PushedCommit>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT forge, repo, sha, ref_name, author_name, author_email, committed_at, pushed_at, message \
                 FROM pushed_commits ORDER BY pushed_at, forge, repo, committed_at, sha",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list pushed commits"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(PushedCommit {
                    forge: col!(row, "forge"),
                    repo: col!(row, "repo"),
                    sha: col!(row, "sha"),
                    ref_name: col!(row, "ref_name"),
                    author_name: col!(row, "author_name"),
                    author_email: col!(row, "author_email"),
                    committed_at: col!(row, "committed_at"),
                    pushed_at: col!(row, "pushed_at"),
                    message: col!(row, "message"),
                });
            }
            Ok(out)
        })
    }

    async fn pull_request_files(&self) -> StoreResult<Vec<PullRequestFiles>> {
        let rows: Vec<(String, String, i64, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT forge, repo, number, path FROM pull_request_files ORDER BY forge, repo, number, path",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list pull request files"))?
        });
        let mut out: Vec<PullRequestFiles> = Vec::new();
        for (forge, repo, number, path) in rows {
            match out.last_mut() {
                Some(last) if last.forge == forge && last.repo == repo && last.number == number => {
                    last.paths.push(path);
                }
                _ => out.push(PullRequestFiles {
                    forge,
                    repo,
                    number,
                    paths: vec![path],
                }),
            }
        }
        Ok(out)
    }

    async fn code_owners(&self) -> StoreResult<Vec<CodeOwnersFile>> {
        let rows: Vec<(String, String, String, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT forge, repo, pattern, owners FROM code_owners ORDER BY forge, repo, position",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list code owners"))?
        });
        let mut out: Vec<CodeOwnersFile> = Vec::new();
        for (forge, repo, pattern, owners) in rows {
            let rule = (
                pattern,
                owners.split_whitespace().map(str::to_owned).collect(),
            );
            match out.last_mut() {
                Some(last) if last.forge == forge && last.repo == repo => last.rules.push(rule),
                _ => out.push(CodeOwnersFile {
                    forge,
                    repo,
                    rules: vec![rule],
                }),
            }
        }
        Ok(out)
    }

    async fn oldest_unmined_push(&self) -> StoreResult<Option<Millis>> {
        on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT MIN(pushed_at) FROM pushed_commits p \
                 WHERE NOT EXISTS (SELECT 1 FROM commits c WHERE c.sha = p.sha)",
            )
            .fetch_one(pool)
            .await
            .map_err(backend("cannot read the ingest lag"))
        })
    }
}
