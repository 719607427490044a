//! The notification outbox.

use async_trait::async_trait;
use leadline_core::model::Millis;
use leadline_core::store::{Dispatch, Notification, OutboxStore, StoreResult};
use sqlx::Row;

use crate::{SqlStore, backend, on_pool};

/// Builds a [`Dispatch`] from a row of deliveries joined with notifications.
macro_rules! delivery {
    ($row:expr) => {
        Dispatch {
            notification: Notification {
                id: col!($row, "id"),
                key: col!($row, "dedup_key"),
                state: col!($row, "state"),
                payload: col!($row, "payload"),
                created_at: col!($row, "created_at"),
            },
            target: col!($row, "target"),
            attempts: col!($row, "attempts"),
            next_at: col!($row, "next_at"),
            delivered_at: col!($row, "delivered_at"),
            last_error: col!($row, "last_error"),
        }
    };
}

const SELECT: &str = "SELECT n.id, n.dedup_key, n.state, n.payload, n.created_at, d.target, \
     d.attempts, d.next_at, d.delivered_at, d.last_error \
     FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id";

#[async_trait]
impl OutboxStore for SqlStore {
    async fn enqueue(
        &self,
        key: &str,
        state: &str,
        payload: &str,
        at: Millis,
        targets: &[String],
    ) -> StoreResult<Option<i64>> {
        let context = "cannot store a notification";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let last: Option<String> = sqlx::query_scalar(
                "SELECT state FROM notifications WHERE dedup_key = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend(context))?;
            let unchanged = match last.as_deref() {
                Some(previous) => previous == state,
                None => state == "resolved",
            };
            if unchanged {
                return Ok(None);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO notifications (dedup_key, state, payload, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(key)
            .bind(state)
            .bind(payload)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend(context))?;
            for target in targets {
                sqlx::query(
                    "INSERT INTO notification_deliveries (notification_id, target, attempts, next_at) \
                     VALUES ($1, $2, 0, $3)",
                )
                .bind(id)
                .bind(target)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            }
            tx.commit().await.map_err(backend(context))?;
            Ok(Some(id))
        })
    }

    async fn due_deliveries(&self, now: Millis, limit: usize) -> StoreResult<Vec<Dispatch>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE d.delivered_at IS NULL AND d.next_at <= $1 \
                 ORDER BY n.id, d.target LIMIT $2"
            )))
            .bind(now)
            .bind(limit as i64)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list due notifications"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(delivery!(row));
            }
            Ok(out)
        })
    }

    async fn record_attempt(
        &self,
        notification: i64,
        target: &str,
        delivered: Option<Millis>,
        next_at: Millis,
        error: Option<&str>,
    ) -> StoreResult<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE notification_deliveries SET attempts = attempts + 1, delivered_at = $1, \
                 next_at = $2, last_error = $3 WHERE notification_id = $4 AND target = $5",
            )
            .bind(delivered)
            .bind(next_at)
            .bind(error)
            .bind(notification)
            .bind(target)
            .execute(pool)
            .await
            .map_err(backend("cannot record a notification attempt"))?;
            Ok(())
        })
    }

    async fn notifications(&self, limit: usize) -> StoreResult<Vec<Dispatch>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE n.id IN (SELECT id FROM notifications ORDER BY id DESC LIMIT $1) \
                 ORDER BY n.id DESC, d.target"
            )))
            .bind(limit as i64)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list notifications"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(delivery!(row));
            }
            Ok(out)
        })
    }
}
