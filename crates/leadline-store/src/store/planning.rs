//! Issues of a tracker (Jira) and their status changes.

use async_trait::async_trait;
use leadline_core::planning::{Category, Transition};
use leadline_core::store::{ImportCounts, PlanningStore, StoreResult, TrackedIssue};
use sqlx::Row;

use crate::{SqlStore, backend, on_pool};

const COLUMNS: &str = "issue_key, project, issue_type, status, category, priority, labels, \
     components, parent, story_points, team, created_at, updated_at, resolved_at";

#[async_trait]
impl PlanningStore for SqlStore {
    async fn upsert_tracked_issues(
        &self,
        issues: &[TrackedIssue],
        cursor: Option<(&str, &str, &str)>,
    ) -> StoreResult<ImportCounts> {
        let context = "cannot store tracker issues";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            let mut new = 0;
            for i in issues {
                let known: Option<String> =
                    sqlx::query_scalar("SELECT issue_key FROM tracked_issues WHERE issue_key = $1")
                        .bind(&i.key)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(backend(context))?;
                new += usize::from(known.is_none());
                sqlx::query(
                    "INSERT INTO tracked_issues (issue_key, project, issue_type, status, category, \
                     priority, labels, components, parent, story_points, team, created_at, \
                     updated_at, resolved_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                     ON CONFLICT (issue_key) DO UPDATE SET project = excluded.project, \
                     issue_type = excluded.issue_type, status = excluded.status, \
                     category = excluded.category, priority = excluded.priority, \
                     labels = excluded.labels, components = excluded.components, \
                     parent = excluded.parent, story_points = excluded.story_points, \
                     team = excluded.team, created_at = excluded.created_at, \
                     updated_at = excluded.updated_at, resolved_at = excluded.resolved_at",
                )
                .bind(&i.key)
                .bind(&i.project)
                .bind(&i.issue_type)
                .bind(&i.status)
                .bind(i.category.as_key())
                .bind(&i.priority)
                .bind(serde_json::to_string(&i.labels).unwrap_or_else(|_| "[]".to_owned()))
                .bind(serde_json::to_string(&i.components).unwrap_or_else(|_| "[]".to_owned()))
                .bind(&i.parent)
                .bind(i.story_points)
                .bind(&i.team)
                .bind(i.created_at)
                .bind(i.updated_at)
                .bind(i.resolved_at)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
                sqlx::query("DELETE FROM tracked_transitions WHERE issue_key = $1")
                    .bind(&i.key)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
                for (seq, t) in i.transitions.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO tracked_transitions (issue_key, seq, at, category) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&i.key)
                    .bind(seq as i64)
                    .bind(t.at)
                    .bind(t.to.as_key())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend(context))?;
                }
            }
            if let Some((source, scope, value)) = cursor {
                put_cursor!(tx, source, scope, value, context);
            }
            tx.commit().await.map_err(backend(context))?;
            Ok(ImportCounts {
                rows: issues.len(),
                new,
            })
        })
    }

    async fn tracked_issues(&self) -> StoreResult<Vec<TrackedIssue>> {
        let context = "cannot read tracker issues";
        let sql = format!("SELECT {COLUMNS} FROM tracked_issues ORDER BY issue_key");
        on_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await
                .map_err(backend(context))?;
            let steps = sqlx::query(
                "SELECT issue_key, at, category FROM tracked_transitions ORDER BY issue_key, seq",
            )
            .fetch_all(pool)
            .await
            .map_err(backend(context))?;
            let mut by_key: std::collections::HashMap<String, Vec<Transition>> =
                std::collections::HashMap::new();
            for s in steps {
                let key: String = col!(s, "issue_key");
                let category: String = col!(s, "category");
                by_key.entry(key).or_default().push(Transition {
                    at: col!(s, "at"),
                    to: Category::from_key(&category),
                });
            }
            let list =
                |text: String| serde_json::from_str::<Vec<String>>(&text).unwrap_or_default();
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let key: String = col!(row, "issue_key");
                let category: String = col!(row, "category");
                out.push(TrackedIssue {
                    transitions: by_key.remove(&key).unwrap_or_default(),
                    project: col!(row, "project"),
                    issue_type: col!(row, "issue_type"),
                    status: col!(row, "status"),
                    category: Category::from_key(&category),
                    priority: col!(row, "priority"),
                    labels: list(col!(row, "labels")),
                    components: list(col!(row, "components")),
                    parent: col!(row, "parent"),
                    story_points: col!(row, "story_points"),
                    team: col!(row, "team"),
                    created_at: col!(row, "created_at"),
                    updated_at: col!(row, "updated_at"),
                    resolved_at: col!(row, "resolved_at"),
                    key,
                });
            }
            Ok(out)
        })
    }
}
