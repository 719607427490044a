//! Issues of a tracker (Jira) and their status changes.

use async_trait::async_trait;
use leadline_core::planning::{Category, SprintChange, Transition};
use leadline_core::store::{ImportCounts, PlanningStore, StoreResult, TrackedIssue, TrackedSprint};
use sqlx::Row;

use crate::{SqlStore, backend, on_pool};

const COLUMNS: &str = "issue_key, project, issue_type, status, category, priority, labels, \
     components, parent, story_points, team, created_at, updated_at, resolved_at, sprints, \
     sprint_changes";

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
                     updated_at, resolved_at, sprints, sprint_changes) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                     ON CONFLICT (issue_key) DO UPDATE SET project = excluded.project, \
                     issue_type = excluded.issue_type, status = excluded.status, \
                     category = excluded.category, priority = excluded.priority, \
                     labels = excluded.labels, components = excluded.components, \
                     parent = excluded.parent, story_points = excluded.story_points, \
                     team = excluded.team, created_at = excluded.created_at, \
                     updated_at = excluded.updated_at, resolved_at = excluded.resolved_at, \
                     sprints = excluded.sprints, sprint_changes = excluded.sprint_changes",
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
                .bind(serde_json::to_string(&i.sprints).unwrap_or_else(|_| "[]".to_owned()))
                .bind(changes_json(&i.sprint_changes))
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
                let (sprints, changes): (String, String) =
                    (col!(row, "sprints"), col!(row, "sprint_changes"));
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
                    sprints: serde_json::from_str(&sprints).unwrap_or_default(),
                    sprint_changes: changes_from_json(&changes),
                    key,
                });
            }
            Ok(out)
        })
    }

    async fn upsert_tracked_sprints(&self, sprints: &[TrackedSprint]) -> StoreResult<()> {
        let context = "cannot store sprints";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(backend(context))?;
            for s in sprints {
                sqlx::query(
                    "INSERT INTO tracked_sprints (sprint_id, name, state, started_at, ends_at, \
                     completed_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (sprint_id) DO UPDATE SET name = excluded.name, \
                     state = excluded.state, started_at = excluded.started_at, \
                     ends_at = excluded.ends_at, completed_at = excluded.completed_at",
                )
                .bind(s.id)
                .bind(&s.name)
                .bind(&s.state)
                .bind(s.started_at)
                .bind(s.ends_at)
                .bind(s.completed_at)
                .execute(&mut *tx)
                .await
                .map_err(backend(context))?;
            }
            tx.commit().await.map_err(backend(context))
        })
    }

    async fn tracked_sprints(&self) -> StoreResult<Vec<TrackedSprint>> {
        let context = "cannot read sprints";
        on_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT sprint_id, name, state, started_at, ends_at, completed_at \
                 FROM tracked_sprints ORDER BY sprint_id",
            )
            .fetch_all(pool)
            .await
            .map_err(backend(context))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(TrackedSprint {
                    id: col!(row, "sprint_id"),
                    name: col!(row, "name"),
                    state: col!(row, "state"),
                    started_at: col!(row, "started_at"),
                    ends_at: col!(row, "ends_at"),
                    completed_at: col!(row, "completed_at"),
                });
            }
            Ok(out)
        })
    }
}

/// Sprint changes as `[[at, [from…], [to…]], …]`.
fn changes_json(changes: &[SprintChange]) -> String {
    let rows: Vec<(i64, &[i64], &[i64])> = changes
        .iter()
        .map(|c| (c.at, c.from.as_slice(), c.to.as_slice()))
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

fn changes_from_json(text: &str) -> Vec<SprintChange> {
    serde_json::from_str::<Vec<(i64, Vec<i64>, Vec<i64>)>>(text)
        .unwrap_or_default()
        .into_iter()
        .map(|(at, from, to)| SprintChange { at, from, to })
        .collect()
}
