//! Product analytics events (users only as pseudonyms) and samples of outside metrics.

use async_trait::async_trait;
use leadline_core::model::Millis;
use leadline_core::store::{
    Checkin, ImportCounts, ProductEvent, ProductStore, Sample, StoreResult,
};
use sqlx::{QueryBuilder, Row};

use super::*;
use crate::{SqlStore, backend, on_pool};

#[async_trait]
impl ProductStore for SqlStore {
    async fn insert_product_events(&self, events: &[ProductEvent]) -> StoreResult<ImportCounts> {
        let context = "cannot store product events";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let mut new = 0;
            for chunk in events.chunks(INSERT_ROWS / 5) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO product_events (id, at, user_key, event, properties) ",
                );
                q.push_values(chunk, |mut b, e| {
                    b.push_bind(&e.id)
                        .push_bind(e.at)
                        .push_bind(&e.user)
                        .push_bind(&e.event)
                        .push_bind(&e.properties);
                });
                q.push(" ON CONFLICT (id) DO NOTHING");
                let done = q
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
                new += done.rows_affected() as usize;
            }
            tx.commit().await.map_err(backend(context))?;
            Ok(ImportCounts {
                rows: events.len(),
                new,
            })
        })
    }

    async fn product_events(&self, until: Millis) -> StoreResult<Vec<ProductEvent>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT id, at, user_key, event, properties FROM product_events WHERE at < $1 \
                 ORDER BY at, id",
            )
            .bind(until)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list product events"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(ProductEvent {
                    id: col!(row, "id"),
                    at: col!(row, "at"),
                    user: col!(row, "user_key"),
                    event: col!(row, "event"),
                    properties: col!(row, "properties"),
                });
            }
            Ok(out)
        })
    }

    async fn newest_product_event(&self) -> StoreResult<Option<Millis>> {
        on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT MAX(at) FROM product_events")
                .fetch_one(pool)
                .await
                .map_err(backend("cannot read the newest product event"))
        })
    }

    async fn upsert_samples(&self, samples: &[Sample]) -> StoreResult<ImportCounts> {
        let context = "cannot store samples";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let mut new = 0;
            for s in samples {
                let existed: Option<i64> = sqlx::query_scalar(
                    "SELECT at FROM samples WHERE name = $1 AND at = $2 AND labels = $3",
                )
                .bind(&s.name)
                .bind(s.at)
                .bind(&s.labels)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend(context))?;
                new += usize::from(existed.is_none());
                sqlx::query(
                    "INSERT INTO samples (name, at, labels, value) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (name, at, labels) DO UPDATE SET value = excluded.value",
                )
                .bind(&s.name)
                .bind(s.at)
                .bind(&s.labels)
                .bind(s.value)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            }
            tx.commit().await.map_err(backend(context))?;
            Ok(ImportCounts {
                rows: samples.len(),
                new,
            })
        })
    }

    async fn samples(&self, name: &str) -> StoreResult<Vec<Sample>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT name, at, labels, value FROM samples WHERE name = $1 ORDER BY at, labels",
            )
            .bind(name)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list samples"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(Sample {
                    name: col!(row, "name"),
                    at: col!(row, "at"),
                    labels: col!(row, "labels"),
                    value: col!(row, "value"),
                });
            }
            Ok(out)
        })
    }

    async fn sample_names(&self) -> StoreResult<Vec<String>> {
        on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT DISTINCT name FROM samples ORDER BY name")
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list sample names"))
        })
    }

    async fn add_checkin(&self, c: &Checkin) -> StoreResult<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO okr_checkins (key_result, at, confidence, note) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key_result, at) DO UPDATE SET confidence = excluded.confidence, \
                 note = excluded.note",
            )
            .bind(&c.key_result)
            .bind(c.at)
            .bind(c.confidence)
            .bind(&c.note)
            .execute(pool)
            .await
            .map_err(backend("cannot store a check-in"))?;
            Ok(())
        })
    }

    async fn checkins(&self) -> StoreResult<Vec<Checkin>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT key_result, at, confidence, note FROM okr_checkins ORDER BY key_result, at",
            )
            .fetch_all(pool)
            .await
            .map_err(backend("cannot list check-ins"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(Checkin {
                    key_result: col!(row, "key_result"),
                    at: col!(row, "at"),
                    confidence: col!(row, "confidence"),
                    note: col!(row, "note"),
                });
            }
            Ok(out)
        })
    }
}
