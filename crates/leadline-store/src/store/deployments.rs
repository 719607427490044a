//! Deployments and incidents, imported or received, by source.

use futures_util::TryStreamExt;
use leadline_core::model::{Deployment, Incident};
use leadline_core::store::{EventPosition, ImportCounts, StoreResult};
use sqlx::{QueryBuilder, Row};

use crate::{SqlStore, backend, on_pool};

/// Rows per multi-row INSERT: large enough to amortise statement overhead, small enough to
/// stay far below both engines' bound-parameter limits (rows × columns ≤ 65535 and 32766).
const INSERT_ROWS: usize = 500;

use super::forge::page_tail;
use super::*;
/// Reads a column or fails with the column's name.
use async_trait::async_trait;
use leadline_core::store::DeploymentStore;

#[async_trait]
impl DeploymentStore for SqlStore {
    async fn upsert_deployments(
        &self,
        source: &str,
        rows: &[Deployment],
    ) -> StoreResult<ImportCounts> {
        let context = "cannot store deployments";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let existing: Vec<String> =
                sqlx::query_scalar("SELECT external_id FROM deployments WHERE source = $1")
                    .bind(source)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            put_deployments!(tx, source, rows, "", context);
            tx.commit().await.map_err(backend(context))?;
            Ok(counts(rows.iter().map(|d| &d.id), &existing))
        })
    }

    async fn upsert_incidents(&self, source: &str, rows: &[Incident]) -> StoreResult<ImportCounts> {
        let context = "cannot store incidents";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let existing: Vec<String> =
                sqlx::query_scalar("SELECT external_id FROM incidents WHERE source = $1")
                    .bind(source)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(backend(context))?;
            put_incidents!(tx, source, rows, LIFECYCLE_REPLACED, "", context);
            tx.commit().await.map_err(backend(context))?;
            Ok(counts(rows.iter().map(|i| &i.id), &existing))
        })
    }

    // Streamed row by row: a driver row holds a copy of every value, so collecting a million
    // rows before converting them costs several times the rows themselves.
    async fn deployments(&self) -> StoreResult<Vec<(String, Deployment)>> {
        on_pool!(self, |pool| {
            let mut rows = sqlx::query(
                "SELECT source, external_id, service, environment, sha, started_at, finished_at, status, repo \
                 FROM deployments ORDER BY finished_at, source, external_id",
            )
            .fetch(pool);
            let mut out = Vec::new();
            while let Some(row) = rows
                .try_next()
                .await
                .map_err(backend("cannot list deployments"))?
            {
                out.push((col!(row, "source"), deployment!(row)));
            }
            Ok(out)
        })
    }

    async fn incidents(&self) -> StoreResult<Vec<(String, Incident)>> {
        on_pool!(self, |pool| {
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY opened_at, source, external_id"
            )))
            .fetch(pool);
            let mut out = Vec::new();
            while let Some(row) = rows
                .try_next()
                .await
                .map_err(backend("cannot list incidents"))?
            {
                out.push((col!(row, "source"), incident!(row)));
            }
            Ok(out)
        })
    }

    async fn deployments_page(
        &self,
        after: Option<&EventPosition>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Deployment)>> {
        on_pool!(self, |pool| {
            let mut q = QueryBuilder::new(
                "SELECT source, external_id, service, environment, sha, started_at, finished_at, status, repo \
                 FROM deployments",
            );
            page_tail(
                &mut q,
                "finished_at, source, external_id",
                after,
                limit,
                false,
            );
            let rows = q
                .build()
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list deployments"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((col!(row, "source"), deployment!(row)));
            }
            Ok(out)
        })
    }

    async fn incidents_page(
        &self,
        after: Option<&EventPosition>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Incident)>> {
        on_pool!(self, |pool| {
            let mut q = QueryBuilder::new(format!("SELECT {INCIDENT_COLUMNS} FROM incidents"));
            page_tail(
                &mut q,
                "opened_at, source, external_id",
                after,
                limit,
                false,
            );
            let rows = q
                .build()
                .fetch_all(pool)
                .await
                .map_err(backend("cannot list incidents"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((col!(row, "source"), incident!(row)));
            }
            Ok(out)
        })
    }
}
