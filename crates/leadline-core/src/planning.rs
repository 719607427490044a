//! Planning metrics from an issue tracker (Jira): investment mix by issue type and epic,
//! planning accuracy per sprint, issue lead time from the first "In Progress", time in each
//! status category, and the defect share. Team level only: an issue's assignee never appears,
//! only the team it counts for.
//!
//! Definitions (docs/metrics.md, "Planning"):
//! - a status belongs to one of Jira's three categories: `new` (To Do), `indeterminate` (In
//!   Progress) and `done`; an issue's category at an instant is the category of its last
//!   transition at or before it, `new` before any;
//! - **lead time** runs from the first transition into `indeterminate` to the first production
//!   deployment carrying a linked change, else to the resolution; issues never started, or not
//!   yet ended, have none; it counts for the window its end falls in;
//! - **time in each category** sums, per resolved issue, the spans between transitions spent in
//!   each category, from creation to resolution;
//! - **planning accuracy** of a sprint: of the issues in it at its start, the share whose
//!   category was `done` at its close; issues in it at close but not at start were added
//!   mid-sprint; committed issues not done at close carry over;
//! - **investment mix**: resolved issues (and their story points) per issue type, and per epic,
//!   per team and month of resolution;
//! - **defect share**: resolved issues of a defect type over all resolved issues; an escaped
//!   defect is a resolved defect linked to an incident.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Millis;
use crate::stats::percentile;

/// The issue types that are defects (planning's defect share, and capacity's default `fix`
/// types).
pub const DEFECT_TYPES: [&str; 2] = ["Bug", "Defect"];

/// Jira's status categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    New,
    Indeterminate,
    Done,
}

impl Category {
    /// Jira's key of the category.
    pub fn as_key(self) -> &'static str {
        match self {
            Category::New => "new",
            Category::Indeterminate => "indeterminate",
            Category::Done => "done",
        }
    }

    /// Jira's `statusCategory.key`; unknown keys are `new`, as Jira shows them.
    pub fn from_key(key: &str) -> Category {
        match key {
            "indeterminate" => Category::Indeterminate,
            "done" => Category::Done,
            _ => Category::New,
        }
    }
}

/// A change of status, into a status of `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub at: Millis,
    pub to: Category,
}

/// An issue as planning needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub key: String,
    pub issue_type: String,
    pub epic: Option<String>,
    /// The team it counts for (the assignee's team, never the assignee).
    pub team: Option<String>,
    pub story_points: Option<f64>,
    pub created_at: Millis,
    pub resolved_at: Option<Millis>,
    /// Ordered by time.
    pub transitions: Vec<Transition>,
    /// The first production deployment that carried a change linked to the issue.
    pub deployed_at: Option<Millis>,
    /// Linked to an incident.
    pub incident: bool,
}

impl Issue {
    /// The category at `at`: the last transition's at or before it, `new` before any.
    pub fn category_at(&self, at: Millis) -> Category {
        self.transitions
            .iter()
            .take_while(|t| t.at <= at)
            .last()
            .map_or(Category::New, |t| t.to)
    }

    /// When work started: the first transition into `indeterminate`.
    pub fn started_at(&self) -> Option<Millis> {
        self.transitions
            .iter()
            .find(|t| t.to == Category::Indeterminate)
            .map(|t| t.at)
    }

    /// Where the lead time ends: the first production deployment of a linked change, else
    /// the resolution.
    pub fn ended_at(&self) -> Option<Millis> {
        self.deployed_at.or(self.resolved_at)
    }

    /// Start to end, when both are known and in order.
    pub fn lead_time(&self) -> Option<Millis> {
        let (s, e) = (self.started_at()?, self.ended_at()?);
        (e >= s).then_some(e - s)
    }

    /// Milliseconds spent in each category from creation to resolution (resolved issues).
    pub fn time_in(&self) -> Option<BTreeMap<Category, Millis>> {
        let end = self.resolved_at?;
        let mut out = BTreeMap::new();
        let (mut from, mut category) = (self.created_at, Category::New);
        for t in self.transitions.iter().filter(|t| t.at <= end) {
            *out.entry(category).or_insert(0) += (t.at - from).max(0);
            (from, category) = (t.at, t.to);
        }
        *out.entry(category).or_insert(0) += (end - from).max(0);
        Some(out)
    }
}

/// A median and p90 (nearest rank) in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Spread {
    pub count: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

fn spread(mut millis: Vec<Millis>) -> Spread {
    millis.sort_unstable();
    let seconds: Vec<f64> = millis.iter().map(|m| *m as f64 / 1000.0).collect();
    Spread {
        count: seconds.len(),
        median_seconds: percentile(&seconds, 50.0),
        p90_seconds: percentile(&seconds, 90.0),
    }
}

/// Lead times of the issues whose end falls in `[since, until)`.
pub fn lead_time(issues: &[Issue], since: Millis, until: Millis) -> Spread {
    spread(
        issues
            .iter()
            .filter(|i| i.ended_at().is_some_and(|e| e >= since && e < until))
            .filter_map(Issue::lead_time)
            .collect(),
    )
}

/// Time in each category of the issues resolved in `[since, until)`.
pub fn time_in_categories(
    issues: &[Issue],
    since: Millis,
    until: Millis,
) -> BTreeMap<Category, Spread> {
    let mut by: BTreeMap<Category, Vec<Millis>> = BTreeMap::new();
    for i in issues
        .iter()
        .filter(|i| i.resolved_at.is_some_and(|r| r >= since && r < until))
    {
        for (c, ms) in i.time_in().unwrap_or_default() {
            by.entry(c).or_default().push(ms);
        }
    }
    by.into_iter().map(|(c, v)| (c, spread(v))).collect()
}

/// A sprint with the issues in it when it started and when it closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sprint {
    pub id: i64,
    pub name: String,
    pub started_at: Millis,
    pub closed_at: Millis,
    pub at_start: Vec<String>,
    pub at_close: Vec<String>,
}

/// An issue moved between sprints: a changelog entry of its `Sprint` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SprintChange {
    pub at: Millis,
    /// Sprint ids before and after the change.
    pub from: Vec<i64>,
    pub to: Vec<i64>,
}

/// The sprints an issue was in at `at`, from its sprint changes (oldest first) and the sprints
/// its Sprint field holds now (docs/metrics.md, "Sprint membership").
pub fn sprints_at<'a>(changes: &'a [SprintChange], now: &'a [i64], at: Millis) -> &'a [i64] {
    match changes.iter().take_while(|c| c.at <= at).last() {
        Some(change) => &change.to,
        None => changes.first().map_or(now, |first| &first.from),
    }
}

impl Sprint {
    /// A closed sprint with the issues in it at its start and close; `issues` are (key, sprint
    /// changes oldest first, sprints now).
    pub fn closed<'a>(
        id: i64,
        name: &str,
        started_at: Millis,
        closed_at: Millis,
        issues: impl IntoIterator<Item = (&'a str, &'a [SprintChange], &'a [i64])>,
    ) -> Sprint {
        let (mut at_start, mut at_close) = (Vec::new(), Vec::new());
        for (key, changes, now) in issues {
            if sprints_at(changes, now, started_at).contains(&id) {
                at_start.push(key.to_owned());
            }
            if sprints_at(changes, now, closed_at).contains(&id) {
                at_close.push(key.to_owned());
            }
        }
        Sprint {
            id,
            name: name.to_owned(),
            started_at,
            closed_at,
            at_start,
            at_close,
        }
    }
}

/// How a sprint went against what it committed to.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SprintAccuracy {
    pub sprint: String,
    pub committed: usize,
    pub done: usize,
    /// done / committed; `null` when nothing was committed.
    pub accuracy: Option<f64>,
    pub added: usize,
    pub carried_over: usize,
}

pub fn planning_accuracy(sprint: &Sprint, issues: &[Issue]) -> SprintAccuracy {
    let by_key: BTreeMap<&str, &Issue> = issues.iter().map(|i| (i.key.as_str(), i)).collect();
    let done_at_close = |key: &String| {
        by_key
            .get(key.as_str())
            .is_some_and(|i| i.category_at(sprint.closed_at) == Category::Done)
    };
    let committed = sprint.at_start.len();
    let done = sprint.at_start.iter().filter(|k| done_at_close(k)).count();
    SprintAccuracy {
        sprint: sprint.name.clone(),
        committed,
        done,
        accuracy: (committed > 0).then(|| done as f64 / committed as f64),
        added: sprint
            .at_close
            .iter()
            .filter(|k| !sprint.at_start.contains(k))
            .count(),
        carried_over: committed - done,
    }
}

/// Sprints together: the done of all over the committed of all; `None` with nothing committed.
pub fn overall_accuracy(sprints: &[SprintAccuracy]) -> Option<f64> {
    let committed: usize = sprints.iter().map(|s| s.committed).sum();
    let done: usize = sprints.iter().map(|s| s.done).sum();
    (committed > 0).then(|| done as f64 / committed as f64)
}

/// Defects among the issues resolved in a window.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Defects {
    pub resolved: usize,
    /// Resolved defects over resolved issues; `null` with nothing resolved.
    pub share: Option<f64>,
    /// Resolved defects linked to an incident.
    pub escaped: usize,
}

/// The defects (issues of one of `defect_types`, case-insensitive) among the issues resolved
/// in `[since, until)`.
pub fn defects(issues: &[Issue], since: Millis, until: Millis, defect_types: &[String]) -> Defects {
    let resolved: Vec<&Issue> = issues
        .iter()
        .filter(|i| i.resolved_at.is_some_and(|r| r >= since && r < until))
        .collect();
    let found: Vec<&Issue> = resolved
        .iter()
        .copied()
        .filter(|i| is_defect(i, defect_types))
        .collect();
    Defects {
        resolved: found.len(),
        share: (!resolved.is_empty()).then(|| found.len() as f64 / resolved.len() as f64),
        escaped: found.iter().filter(|i| i.incident).count(),
    }
}

fn is_defect(issue: &Issue, defect_types: &[String]) -> bool {
    defect_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(&issue.issue_type))
}

/// One slice of the investment mix.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Share {
    pub issues: usize,
    pub share: f64,
    pub points: f64,
    /// Of the story points; `null` when no resolved issue had points.
    pub points_share: Option<f64>,
}

/// The mix of one team in one month.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Mix {
    pub team: String,
    /// `YYYY-MM` of the resolutions.
    pub month: String,
    pub resolved: usize,
    pub by_type: BTreeMap<String, Share>,
    pub by_epic: BTreeMap<String, Share>,
    /// Resolved defects over resolved issues.
    pub defect_share: f64,
    /// Resolved defects linked to an incident.
    pub escaped_defects: usize,
}

/// The mix per team (issues without one count for `unassigned`) and month of resolution, for
/// issues resolved in `[since, until)`; `month_of` names a resolution's month, `defect_types`
/// the issue types that are defects (e.g. `Bug`). Issues without an epic count for `none`.
pub fn investment(
    issues: &[Issue],
    since: Millis,
    until: Millis,
    month_of: impl Fn(Millis) -> String,
    defect_types: &[String],
) -> Vec<Mix> {
    let mut groups: BTreeMap<(String, String), Vec<&Issue>> = BTreeMap::new();
    for i in issues {
        let Some(r) = i.resolved_at.filter(|r| *r >= since && *r < until) else {
            continue;
        };
        let team = i.team.clone().unwrap_or_else(|| "unassigned".to_owned());
        groups.entry((team, month_of(r))).or_default().push(i);
    }
    groups
        .into_iter()
        .map(|((team, month), group)| {
            let defects: Vec<&Issue> = group
                .iter()
                .copied()
                .filter(|i| is_defect(i, defect_types))
                .collect();
            Mix {
                resolved: group.len(),
                by_type: shares(&group, |i| i.issue_type.clone()),
                by_epic: shares(&group, |i| {
                    i.epic.clone().unwrap_or_else(|| "none".to_owned())
                }),
                defect_share: defects.len() as f64 / group.len() as f64,
                escaped_defects: defects.iter().filter(|i| i.incident).count(),
                team,
                month,
            }
        })
        .collect()
}

fn shares(group: &[&Issue], key: impl Fn(&Issue) -> String) -> BTreeMap<String, Share> {
    let total = group.len() as f64;
    let points_total: f64 = group.iter().filter_map(|i| i.story_points).sum();
    let mut by: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for i in group {
        let e = by.entry(key(i)).or_default();
        e.0 += 1;
        e.1 += i.story_points.unwrap_or(0.0);
    }
    by.into_iter()
        .map(|(k, (n, p))| {
            (
                k,
                Share {
                    issues: n,
                    share: n as f64 / total,
                    points: p,
                    points_share: (points_total > 0.0).then(|| p / points_total),
                },
            )
        })
        .collect()
}

/// The issue keys (`ABC-123`) named in `text` (a branch name, a pull request's title or body,
/// a commit message), in order of first mention, each once. A key is an upper-case project
/// key of two or more letters, digits or underscores starting with a letter, a hyphen and a
/// number, not inside a longer word; with `projects` given, only keys of those projects count
/// (so `UTF-8` or `SHA-256` never link).
pub fn issue_keys(text: &str, projects: &[String]) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !is_key_char(bytes[i - 1]);
        if !(starts_word && bytes[i].is_ascii_uppercase()) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len()
            && (bytes[j].is_ascii_uppercase() || bytes[j].is_ascii_digit() || bytes[j] == b'_')
        {
            j += 1;
        }
        let project = &text[i..j];
        if j - i < 2 || j >= bytes.len() || bytes[j] != b'-' {
            i = j.max(i + 1);
            continue;
        }
        let mut k = j + 1;
        while k < bytes.len() && bytes[k].is_ascii_digit() {
            k += 1;
        }
        let ends_word = k == bytes.len() || !(bytes[k].is_ascii_alphanumeric() || bytes[k] == b'_');
        let known = projects.is_empty() || projects.iter().any(|p| p == project);
        if k > j + 1 && ends_word && known && !text[j + 1..k].starts_with('0') {
            let key = text[i..k].to_owned();
            if !out.contains(&key) {
                out.push(key);
            }
        }
        i = k.max(i + 1);
    }
    out
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests;
