//! Pulse survey responses: team, wave and answers only.

use async_trait::async_trait;
use leadline_core::store::{ImportCounts, StoreResult, SurveyRow, SurveyStore};
use sqlx::Row;

use crate::{SqlStore, backend, on_pool};

#[async_trait]
impl SurveyStore for SqlStore {
    async fn insert_survey(&self, rows: &[SurveyRow]) -> StoreResult<ImportCounts> {
        let context = "cannot store survey responses";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let mut new = 0;
            for r in rows {
                let done = sqlx::query(
                    "INSERT INTO survey_responses (source, row_number, instrument, wave, team, answers) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, row_number) DO NOTHING",
                )
                .bind(&r.source)
                .bind(r.row)
                .bind(&r.instrument)
                .bind(&r.wave)
                .bind(&r.team)
                .bind(&r.answers)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
                new += done.rows_affected() as usize;
            }
            tx.commit().await.map_err(backend(context))?;
            Ok(ImportCounts {
                rows: rows.len(),
                new,
            })
        })
    }

    async fn survey_responses(&self, instrument: &str) -> StoreResult<Vec<SurveyRow>> {
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT source, row_number, instrument, wave, team, answers FROM survey_responses \
                 WHERE instrument = $1 ORDER BY wave, team, source, row_number",
            )
            .bind(instrument)
            .fetch_all(pool)
            .await
            .map_err(backend("cannot read survey responses"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(SurveyRow {
                    source: col!(row, "source"),
                    row: col!(row, "row_number"),
                    instrument: col!(row, "instrument"),
                    wave: col!(row, "wave"),
                    team: col!(row, "team"),
                    answers: col!(row, "answers"),
                });
            }
            Ok(out)
        })
    }
}
