//! The planning family's report from stored tracker issues (`leadline planning`,
//! `/api/v1/planning`): issue lead time, time per status category, the investment mix and
//! defects, over a window, for everyone or one team. Definitions: `leadline_core::planning`.
//!
//! Lead time ends at an issue's resolution until issue keys are linked to deployments.

use std::collections::BTreeMap;
use std::sync::Arc;

use leadline_core::model::Millis;
use leadline_core::planning::{self, Issue, Mix, Spread};
use leadline_core::store::{Store, TrackedIssue};
use serde::Serialize;

use crate::Result;
use crate::window::{DAY_MS, resolve, utc};

/// What `leadline planning` is asked for.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    pub since: Option<String>,
    pub until: Option<String>,
    pub team: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub since: String,
    pub until: String,
    pub team: Option<String>,
    /// Issues resolved in the window.
    pub resolved: usize,
    pub lead_time: Spread,
    /// `new`, `indeterminate`, `done`.
    pub time_in: BTreeMap<String, Spread>,
    /// Per team and month of resolution.
    pub investment: Vec<Mix>,
}

/// Issue types that are defects when none are configured.
pub const DEFECT_TYPES: [&str; 2] = ["Bug", "Defect"];

pub async fn compute(store: &Arc<dyn Store>, query: &Query) -> Result<Report> {
    let stored = store.tracked_issues().await?;
    let newest = stored.iter().map(|i| i.updated_at).max();
    let window = resolve(
        query.since.as_deref(),
        query.until.as_deref(),
        newest,
        |until| Ok(until - 90 * DAY_MS),
    )?;
    let issues: Vec<Issue> = stored
        .into_iter()
        .filter(|i| {
            query
                .team
                .as_ref()
                .is_none_or(|t| i.team.as_ref() == Some(t))
        })
        .map(issue)
        .collect();
    let defects: Vec<String> = DEFECT_TYPES.iter().map(|t| (*t).to_owned()).collect();
    Ok(Report {
        since: utc(window.since),
        until: utc(window.until),
        team: query.team.clone(),
        resolved: issues
            .iter()
            .filter(|i| {
                i.resolved_at
                    .is_some_and(|r| r >= window.since && r < window.until)
            })
            .count(),
        lead_time: planning::lead_time(&issues, window.since, window.until),
        time_in: planning::time_in_categories(&issues, window.since, window.until)
            .into_iter()
            .map(|(c, s)| (c.as_key().to_owned(), s))
            .collect(),
        investment: planning::investment(&issues, window.since, window.until, month, &defects),
    })
}

fn month(at: Millis) -> String {
    utc(at).get(..7).unwrap_or_default().to_owned()
}

/// A stored issue as planning reads it (the parent stands for the epic).
fn issue(t: TrackedIssue) -> Issue {
    Issue {
        key: t.key,
        issue_type: t.issue_type,
        epic: t.parent,
        team: t.team,
        story_points: t.story_points,
        created_at: t.created_at,
        resolved_at: t.resolved_at,
        transitions: t.transitions,
        deployed_at: None,
        incident: false,
    }
}
