//! SLI counts: good and total events per (slo, interval start).

use async_trait::async_trait;
use leadline_core::model::Millis;
use leadline_core::store::{ImportCounts, SliCount, SliStore, StoreResult};
use sqlx::{QueryBuilder, Row};

use super::*;
use crate::{SqlStore, backend, on_pool};

#[async_trait]
impl SliStore for SqlStore {
    async fn upsert_sli(&self, rows: &[SliCount]) -> StoreResult<ImportCounts> {
        let context = "cannot store SLI counts";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let mut new = 0;
            for chunk in rows.chunks(INSERT_ROWS / 2) {
                let mut q =
                    QueryBuilder::new("SELECT COUNT(*) FROM sli_counts WHERE (slo, at) IN (");
                let mut list = q.separated(", ");
                for r in chunk {
                    list.push("(")
                        .push_bind_unseparated(&r.slo)
                        .push_unseparated(", ")
                        .push_bind_unseparated(r.at)
                        .push_unseparated(")");
                }
                q.push(")");
                let existing: i64 = q
                    .build()
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend(context))?
                    .try_get(0)
                    .map_err(backend(context))?;
                new += chunk.len() - existing as usize;
                let mut q = QueryBuilder::new("INSERT INTO sli_counts (slo, at, good, total) ");
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.slo)
                        .push_bind(r.at)
                        .push_bind(r.good)
                        .push_bind(r.total);
                });
                q.push(
                    " ON CONFLICT (slo, at) DO UPDATE SET good = excluded.good, total = excluded.total",
                );
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            }
            tx.commit().await.map_err(backend(context))?;
            Ok(ImportCounts {
                rows: rows.len(),
                new,
            })
        })
    }

    async fn sli_counts(
        &self,
        slo: &str,
        since: Millis,
        until: Millis,
    ) -> StoreResult<Vec<SliCount>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT slo, at, good, total FROM sli_counts WHERE slo = $1 AND at >= $2 AND at < $3 \
                 ORDER BY at",
            )
            .bind(slo)
            .bind(since)
            .bind(until)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list SLI counts"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(SliCount {
                    slo: col!(row, "slo"),
                    at: col!(row, "at"),
                    good: col!(row, "good"),
                    total: col!(row, "total"),
                });
            }
            Ok(out)
        })
    }
}
