//! The fleet's job queue, its locks and change announcements.
//!
//! A claim is one `UPDATE … WHERE id = (SELECT … LIMIT 1)`: on PostgreSQL the inner select
//! adds `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass over each other's rows instead
//! of waiting; on SQLite the statement runs under the database's single write lock, which
//! serialises claimers the same way.

use async_trait::async_trait;
use leadline_core::model::Millis;
use leadline_core::store::{
    Exclusive, Job, JobOutcome, JobRun, JobRunTotal, JobStore, OnChange, StoreError, StoreResult,
};
use sqlx::Row;

use crate::{Pool, SqlStore, backend, on_pool};

/// The channel of change announcements.
const CHANNEL: &str = "leadline_changes";

const COLUMNS: &str = "id, kind, target, payload, state, attempts, next_at, lease_owner, \
     lease_until, started_at, finished_at, last_success, last_error";

macro_rules! job {
    ($row:expr) => {
        Job {
            id: col!($row, "id"),
            kind: col!($row, "kind"),
            target: col!($row, "target"),
            payload: col!($row, "payload"),
            state: col!($row, "state"),
            attempts: col!($row, "attempts"),
            next_at: col!($row, "next_at"),
            lease_owner: col!($row, "lease_owner"),
            lease_until: col!($row, "lease_until"),
            started_at: col!($row, "started_at"),
            finished_at: col!($row, "finished_at"),
            last_success: col!($row, "last_success"),
            last_error: col!($row, "last_error"),
        }
    };
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue_job(
        &self,
        kind: &str,
        target: &str,
        payload: &str,
        now: Millis,
    ) -> StoreResult<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO jobs (kind, target, payload, state, attempts, again, next_at) \
                 VALUES ($1, $2, $3, 'pending', 0, 0, $4) \
                 ON CONFLICT (kind, target) DO UPDATE SET payload = excluded.payload, \
                 state = CASE WHEN jobs.state IN ('done', 'failed') THEN 'pending' ELSE jobs.state END, \
                 attempts = CASE WHEN jobs.state IN ('done', 'failed') THEN 0 ELSE jobs.attempts END, \
                 next_at = CASE WHEN jobs.state IN ('done', 'failed') THEN excluded.next_at ELSE jobs.next_at END, \
                 again = CASE WHEN jobs.state = 'running' THEN 1 ELSE jobs.again END",
            )
            .bind(kind)
            .bind(target)
            .bind(payload)
            .bind(now)
            .execute(pool)
            .await
            .map_err(backend("cannot enqueue a job"))?;
            Ok(())
        })
    }

    async fn claim_job(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Option<Job>> {
        let context = "cannot claim a job";
        let lock = match self.pool {
            Pool::Sqlite(_) => "",
            Pool::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let claim = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
             taken_from = CASE WHEN state = 'running' THEN lease_owner ELSE NULL END, \
             lease_owner = $1, lease_until = $2, \
             started_at = CASE WHEN state = 'running' THEN started_at ELSE $3 END \
             WHERE id = (SELECT id FROM jobs WHERE (state = 'pending' AND next_at <= $3) \
             OR (state = 'running' AND lease_until < $3) ORDER BY next_at, id LIMIT 1{lock}) \
             RETURNING {COLUMNS}, taken_from"
        );
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let row = sqlx::query(sqlx::AssertSqlSafe(claim))
                .bind(owner)
                .bind(lease_until)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend(context))?;
            let Some(row) = row else {
                tx.rollback().await.map_err(backend(context))?;
                return Ok(None);
            };
            let mut job = job!(row);
            let taken_from: Option<String> = col!(row, "taken_from");
            if let Some(previous) = taken_from {
                sqlx::query(
                    "INSERT INTO job_runs (job_id, owner, started_at, finished_at, outcome, error) \
                     VALUES ($1, $2, $3, $4, 'abandoned', 'the lease expired')",
                )
                .bind(job.id)
                .bind(previous)
                .bind(job.started_at.unwrap_or(now))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
                // The takeover's own run starts now.
                sqlx::query("UPDATE jobs SET started_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(job.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
                job.started_at = Some(now);
            }
            tx.commit().await.map_err(backend(context))?;
            Ok(Some(job))
        })
    }

    async fn renew_lease(&self, id: i64, owner: &str, until: Millis) -> StoreResult<bool> {
        on_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE jobs SET lease_until = $1 \
                 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
            )
            .bind(until)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await
            .map_err(backend("cannot renew a job's lease"))?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn finish_job(
        &self,
        id: i64,
        owner: &str,
        now: Millis,
        outcome: JobOutcome<'_>,
    ) -> StoreResult<bool> {
        let context = "cannot record the end of a job";
        let (sql, next_at, error, recorded) = match outcome {
            // Armed again while it ran: pending at once, attempts counted afresh.
            JobOutcome::Done => (
                "UPDATE jobs SET state = CASE WHEN again = 1 THEN 'pending' ELSE 'done' END, \
                 attempts = CASE WHEN again = 1 THEN 0 ELSE attempts END, again = 0, \
                 next_at = $1, last_success = $1, last_error = $2, finished_at = $1, \
                 lease_owner = NULL, lease_until = NULL \
                 WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
                now,
                None,
                "done",
            ),
            JobOutcome::Retry { at, error } => (
                "UPDATE jobs SET state = 'pending', next_at = $1, last_error = $2, \
                 finished_at = $5, lease_owner = NULL, lease_until = NULL \
                 WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
                at,
                Some(error),
                "retry",
            ),
            JobOutcome::Failed { error } => (
                "UPDATE jobs SET state = CASE WHEN again = 1 THEN 'pending' ELSE 'failed' END, \
                 attempts = CASE WHEN again = 1 THEN 0 ELSE attempts END, again = 0, \
                 next_at = $1, last_error = $2, finished_at = $1, \
                 lease_owner = NULL, lease_until = NULL \
                 WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
                now,
                Some(error),
                "failed",
            ),
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let started: Option<Option<Millis>> = sqlx::query_scalar(
                "SELECT started_at FROM jobs \
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend(context))?;
            let Some(started) = started else {
                tx.rollback().await.map_err(backend(context))?;
                return Ok(false);
            };
            let mut update = sqlx::query(sql)
                .bind(next_at)
                .bind(error)
                .bind(id)
                .bind(owner);
            if matches!(outcome, JobOutcome::Retry { .. }) {
                update = update.bind(now);
            }
            let changed = update.execute(&mut *tx).await.map_err(backend(context))?;
            if changed.rows_affected() != 1 {
                tx.rollback().await.map_err(backend(context))?;
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO job_runs (job_id, owner, started_at, finished_at, outcome, error) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(owner)
            .bind(started.unwrap_or(now))
            .bind(now)
            .bind(recorded)
            .bind(error)
            .execute(&mut *tx)
            .await
            .map_err(backend(context))?;
            tx.commit().await.map_err(backend(context))?;
            Ok(true)
        })
    }

    async fn jobs(&self) -> StoreResult<Vec<Job>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs ORDER BY kind, target");
        on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list jobs"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(job!(row));
            }
            Ok(out)
        })
    }

    async fn job_runs(&self) -> StoreResult<Vec<JobRun>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT r.job_id, j.kind, j.target, r.owner, r.started_at, r.finished_at, \
                 r.outcome, r.error FROM job_runs r JOIN jobs j ON j.id = r.job_id ORDER BY r.id",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list job runs"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(JobRun {
                    job_id: col!(row, "job_id"),
                    kind: col!(row, "kind"),
                    target: col!(row, "target"),
                    owner: col!(row, "owner"),
                    started_at: col!(row, "started_at"),
                    finished_at: col!(row, "finished_at"),
                    outcome: col!(row, "outcome"),
                    error: col!(row, "error"),
                });
            }
            Ok(out)
        })
    }

    async fn job_run_totals(&self, since: Millis) -> StoreResult<Vec<JobRunTotal>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT j.kind, r.outcome, COUNT(*) AS runs, \
                 CAST(SUM(r.finished_at - r.started_at) AS BIGINT) AS millis \
                 FROM job_runs r JOIN jobs j ON j.id = r.job_id WHERE r.finished_at >= $1 \
                 GROUP BY j.kind, r.outcome ORDER BY j.kind, r.outcome",
            )
            .bind(since)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot count job runs"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(JobRunTotal {
                    kind: col!(row, "kind"),
                    outcome: col!(row, "outcome"),
                    runs: col!(row, "runs"),
                    millis: col!(row, "millis"),
                });
            }
            Ok(out)
        })
    }

    async fn prune_job_runs(&self, before: Millis) -> StoreResult<u64> {
        on_pool!(self, |pool| {
            let done = sqlx::query("DELETE FROM job_runs WHERE finished_at < $1")
                .bind(before)
                .execute(pool)
                .await
                .map_err(backend("cannot prune job runs"))?;
            Ok(done.rows_affected())
        })
    }

    async fn try_exclusive(&self, name: &str) -> StoreResult<Option<Exclusive>> {
        match &self.pool {
            Pool::Postgres(pool) => {
                let context = "cannot take an advisory lock";
                // A connection of its own, out of the pool: the session holds the lock until
                // the connection closes, whoever drops it and however the process ends.
                let mut conn = pool.acquire().await.map_err(backend(context))?.detach();
                let held: bool =
                    sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                        .bind(format!("leadline:{name}"))
                        .fetch_one(&mut conn)
                        .await
                        .map_err(backend(context))?;
                Ok(held.then(|| Exclusive(Box::new(conn))))
            }
            Pool::Sqlite(_) => {
                let Some(db) = &self.path else {
                    return Ok(None);
                };
                let mut file = db.as_os_str().to_owned();
                file.push(format!(".{name}.lock"));
                let lock = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&file)
                    .map_err(|e| StoreError::Unavailable {
                        context: format!("cannot open the lock file {}", file.display()),
                        reason: "I/O error".to_owned(),
                        source: Box::new(e),
                    })?;
                // Released by the kernel when the file closes, including when the process dies.
                match lock.try_lock() {
                    Ok(()) => Ok(Some(Exclusive(Box::new(lock)))),
                    Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                    Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Unavailable {
                        context: format!("cannot lock {}", file.display()),
                        reason: "I/O error".to_owned(),
                        source: Box::new(e),
                    }),
                }
            }
        }
    }

    async fn announce_change(&self) -> StoreResult<()> {
        if let Pool::Postgres(pool) = &self.pool {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(pool)
                .await
                .map_err(backend("cannot announce a change"))?;
        }
        Ok(())
    }

    async fn watch_changes(&self, on_change: OnChange) -> StoreResult<bool> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(false);
        };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(backend("cannot listen for changes"))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(backend("cannot listen for changes"))?;
        let task = tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => on_change(),
                    // The connection was lost and is back: announcements may have been missed.
                    Ok(None) => on_change(),
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(e) => {
                        tracing::warn!("listening for changes: {e}; retrying");
                        on_change();
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        if let Ok(mut listeners) = self.listeners.lock() {
            listeners.push(task.abort_handle());
        }
        Ok(true)
    }
}
