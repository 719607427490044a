//! The planning family's report from stored tracker issues (`leadline planning`,
//! `/api/v1/planning`): issue lead time, time per status category, the investment mix and
//! defects, over a window, for everyone or one team. Definitions: `leadline_core::planning`.
//!
//! Issue keys in commit messages (merge commits name their branches) and pull requests' titles,
//! descriptions and head branches link issues to changes; lead time ends at the first
//! production deployment carrying one, as the DORA keys attribute deployments, else at the
//! resolution. Incidents whose titles name a key, or whose fix commits are linked changes, make
//! a resolved defect an escaped one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use leadline_core::model::Millis;
use leadline_core::planning::{self, Issue, Mix, Spread, Sprint, SprintAccuracy};
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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
    /// The defects among the issues resolved in the window, all teams and months together.
    pub defects: planning::Defects,
    /// Closed sprints that closed in the window, oldest first; with a team, of its issues only.
    pub sprints: Vec<SprintAccuracy>,
    /// The sprints together: done / committed over all of them; `null` with nothing committed.
    pub sprint_accuracy: Option<f64>,
}

pub async fn compute(
    store: &Arc<dyn Store>,
    query: &Query,
    dora: &crate::dora::Settings,
) -> Result<Report> {
    let stored = store.tracked_issues().await?;
    let links = if stored.is_empty() {
        Links::default()
    } else {
        links(store, &stored, dora).await?
    };
    let newest = stored.iter().map(|i| i.updated_at).max();
    let window = resolve(
        query.since.as_deref(),
        query.until.as_deref(),
        newest,
        |until| Ok(until - 90 * DAY_MS),
    )?;
    let stored: Vec<TrackedIssue> = stored
        .into_iter()
        .filter(|i| {
            query
                .team
                .as_ref()
                .is_none_or(|t| i.team.as_ref() == Some(t))
        })
        .collect();
    let mut closed: Vec<Sprint> = store
        .tracked_sprints()
        .await?
        .into_iter()
        .filter(|s| s.state == "closed")
        .filter_map(|s| {
            let (start, close) = (s.started_at?, s.completed_at?);
            (close >= window.since && close < window.until).then(|| {
                let members = stored.iter().map(|i| {
                    (
                        i.key.as_str(),
                        i.sprint_changes.as_slice(),
                        i.sprints.as_slice(),
                    )
                });
                Sprint::closed(s.id, &s.name, start, close, members)
            })
        })
        .collect();
    closed.sort_by_key(|s| (s.closed_at, s.id));
    let issues: Vec<Issue> = stored
        .into_iter()
        .map(|t| {
            let deployed_at = links.deployed.get(&t.key).copied();
            let incident = links.incidents.contains(&t.key);
            issue(t, deployed_at, incident)
        })
        .collect();
    let defects: Vec<String> = planning::DEFECT_TYPES
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    let sprints: Vec<SprintAccuracy> = closed
        .iter()
        .map(|s| planning::planning_accuracy(s, &issues))
        .collect();
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
        defects: planning::defects(&issues, window.since, window.until, &defects),
        sprint_accuracy: planning::overall_accuracy(&sprints),
        sprints,
    })
}

/// What links issues to delivery: issue key → the first production deployment that carried a
/// linked change, and the keys linked to an incident.
#[derive(Default)]
struct Links {
    deployed: HashMap<String, Millis>,
    incidents: HashSet<String>,
}

/// A change is linked to an issue when a commit's message names its key, or a pull request's
/// title, description or head branch does (its merge commit is the change). An incident is
/// linked when its title names the key, or its fix commit is a linked change.
async fn links(
    store: &Arc<dyn Store>,
    issues: &[TrackedIssue],
    dora: &crate::dora::Settings,
) -> Result<Links> {
    let mut projects: Vec<String> = issues.iter().map(|i| i.project.clone()).collect();
    projects.sort();
    projects.dedup();
    let mut linked: Vec<(String, String)> = Vec::new();
    // Only messages naming `PROJECT-` can hold a key: the store skips the others.
    let needles: Vec<String> = projects.iter().map(|p| format!("{p}-")).collect();
    for repo in store.repositories().await? {
        for (sha, subject, body) in store.messages_containing(repo.id, &needles).await? {
            let text = format!("{subject}\n{body}");
            for key in planning::issue_keys(&text, &projects) {
                linked.push((key, sha.clone()));
            }
        }
    }
    for pr in store.pull_requests().await? {
        let Some(merge) = &pr.merge_sha else {
            continue;
        };
        // Rows stored before issue keys were kept still link by their titles.
        let named = format!("{}\n{}", pr.title, pr.issue_keys.join(" "));
        for key in planning::issue_keys(&named, &projects) {
            linked.push((key, merge.clone()));
        }
    }
    let gathered = crate::dora::load(store, dora).await?;
    let mut out = Links::default();
    for incident in &gathered.inputs.incidents {
        let title = incident.title.as_deref().unwrap_or("");
        out.incidents.extend(planning::issue_keys(title, &projects));
        if let Some(fix) = &incident.fix_sha {
            let fixed_by = linked.iter().filter(|(_, sha)| sha == fix);
            out.incidents.extend(fixed_by.map(|(key, _)| key.clone()));
        }
    }
    if linked.is_empty() {
        return Ok(out);
    }
    let (attribution, _) =
        crate::dora::attribute(&gathered.inputs, gathered.scope("production", None));
    for (key, sha) in linked {
        if let Some(d) = attribution.first_deployment_of_any(&sha) {
            let at = out.deployed.entry(key).or_insert(d.deployment.finished_at);
            *at = (*at).min(d.deployment.finished_at);
        }
    }
    Ok(out)
}

fn month(at: Millis) -> String {
    utc(at).get(..7).unwrap_or_default().to_owned()
}

/// A stored issue as planning reads it (the parent stands for the epic), first deployed at
/// `deployed_at` through a linked change, and linked to an incident or not.
fn issue(t: TrackedIssue, deployed_at: Option<Millis>, incident: bool) -> Issue {
    Issue {
        key: t.key,
        issue_type: t.issue_type,
        epic: t.parent,
        team: t.team,
        story_points: t.story_points,
        created_at: t.created_at,
        resolved_at: t.resolved_at,
        transitions: t.transitions,
        deployed_at,
        incident,
    }
}
