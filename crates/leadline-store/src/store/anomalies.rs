//! Judgements of anomaly proposals.

use async_trait::async_trait;
use leadline_core::store::{AnomalyReview, AnomalyStore, StoreResult};
use sqlx::Row;

use crate::{SqlStore, backend, on_pool};

#[async_trait]
impl AnomalyStore for SqlStore {
    async fn review_anomaly(&self, r: &AnomalyReview) -> StoreResult<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO anomaly_reviews (id, metric, scope, week, state, reason, note, reviewed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET \
                 state = excluded.state, reason = excluded.reason, note = excluded.note, \
                 reviewed_at = excluded.reviewed_at",
            )
            .bind(&r.id)
            .bind(&r.metric)
            .bind(&r.scope)
            .bind(&r.week)
            .bind(&r.state)
            .bind(&r.reason)
            .bind(&r.note)
            .bind(r.reviewed_at)
            .execute(pool)
            .await
            .map_err(backend("cannot store an anomaly review"))?;
            Ok(())
        })
    }

    async fn anomaly_reviews(&self) -> StoreResult<Vec<AnomalyReview>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, metric, scope, week, state, reason, note, reviewed_at \
                 FROM anomaly_reviews ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list anomaly reviews"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(AnomalyReview {
                    id: col!(row, "id"),
                    metric: col!(row, "metric"),
                    scope: col!(row, "scope"),
                    week: col!(row, "week"),
                    state: col!(row, "state"),
                    reason: col!(row, "reason"),
                    note: col!(row, "note"),
                    reviewed_at: col!(row, "reviewed_at"),
                });
            }
            Ok(out)
        })
    }
}
