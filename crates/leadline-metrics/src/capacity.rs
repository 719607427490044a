//! The capacity family (`leadline debt capacity`): the share of merged work that went to features, debt and
//! maintenance, fixes and other things, per team (or repository) and calendar month, against
//! `debt.capacity_target`.
//!
//! Merged work is resolved tracker issues when any were synced (`ingest jira`; epics left out,
//! their children count), else merged pull requests when any were synced (`ingest
//! github|gitlab`), else the non-merge commits of each repository's HEAD history: a commit is
//! then treated as a merged change of its author, so teams, privacy folding and classification
//! work the same way. An issue counts for its team (never its assignee).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use leadline_core::capacity::{self, Allocation, Rules};
use leadline_core::dora::Window;
use leadline_core::events::{PullRequest, PullRequestFiles};
use leadline_core::flow::{self, Options, Ownership, Team};
use leadline_core::model::Millis;
use leadline_core::store::{Store, TrackedIssue};
use serde::{Deserialize, Serialize};

use crate::error::{Result, UsageError};
use crate::group::GroupBy;
use crate::history::{Change, History};
use crate::window::{By, MAX_MONTHS, buckets, resolve, utc};

/// What counts as merged work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Issues,
    PullRequests,
    Commits,
}

impl std::str::FromStr for Source {
    type Err = UsageError;

    /// `issues`, `pull_requests` (the API's spelling; the command line's `pull-requests` too)
    /// or `commits`.
    fn from_str(s: &str) -> Result<Source, UsageError> {
        match s {
            "issues" => Ok(Source::Issues),
            "pull_requests" | "pull-requests" => Ok(Source::PullRequests),
            "commits" => Ok(Source::Commits),
            other => Err(UsageError(format!(
                "source {other:?}: expected issues, pull_requests or commits"
            ))),
        }
    }
}

/// What a capacity report is asked for, however it was asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    pub since: Option<String>,
    pub until: Option<String>,
    /// [default: resolved issues if any were synced, else merged pull requests if any were,
    /// else commits]
    pub source: Option<Source>,
    /// Only this repository (OWNER/REPO for pull requests, the ingested name for commits, the
    /// project key for issues).
    pub repo: Option<String>,
    /// [default: team when teams are configured, else all]
    pub group: Option<GroupBy>,
}

/// What the family needs from the configuration.
pub struct Settings<'a> {
    pub rules: &'a Rules,
    /// `debt.capacity_target`: the share of merged work meant for debt and maintenance.
    pub target: Option<f64>,
    pub options: &'a Options,
    pub teams: &'a [Team],
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Report {
    /// `issues`, `pull_requests` or `commits`.
    pub source: &'static str,
    pub since: String,
    pub until: String,
    pub target: Option<f64>,
    pub groups: Vec<GroupAllocation>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct GroupAllocation {
    pub group: String,
    pub months: Vec<Allocation>,
    /// The months together (`period` is `window`): what `capacity.window.*` metrics read.
    pub window: Allocation,
}

/// What a report is computed from: merged changes with their files.
struct Work {
    source: &'static str,
    changes: Vec<PullRequest>,
    files: Vec<PullRequestFiles>,
}

pub async fn report(
    store: &Arc<dyn Store>,
    args: &Query,
    settings: &Settings<'_>,
) -> Result<Report> {
    let (options, teams) = (settings.options, settings.teams);
    if matches!(args.source, None | Some(Source::Issues)) {
        let issues = store.tracked_issues().await?;
        if args.source.is_some() || issues.iter().any(|i| i.resolved_at.is_some()) {
            return from_issues(&issues, args, settings);
        }
    }
    let mut work = work(store, args.source).await?;
    if let Some(repo) = &args.repo {
        work.changes.retain(|c| &c.repo == repo);
    }
    let window = window(args, &work.changes)?;
    let code_owners = store.code_owners().await?;
    let ownership = Ownership::new(teams, &work.files, &code_owners);
    let groups = match args.group {
        Some(GroupBy::Team) if !ownership.has_teams() => {
            return Err(UsageError(
                "--group team: no [[teams]] in leadline.toml and no CODEOWNERS synced".to_owned(),
            )
            .into());
        }
        Some(GroupBy::Team) => flow::team_groups(&work.changes, &ownership, window, options),
        None if ownership.has_teams() => {
            flow::team_groups(&work.changes, &ownership, window, options)
        }
        Some(GroupBy::Repository) => {
            flow::groups_by(&work.changes, window, options, |p| Some(p.repo.clone()))
        }
        None => flow::groups_by(&work.changes, window, options, |_| Some("all".to_owned())),
    };
    let paths: HashMap<(&str, &str, i64), &[String]> = work
        .files
        .iter()
        .map(|f| {
            (
                (f.forge.as_str(), f.repo.as_str(), f.number),
                f.paths.as_slice(),
            )
        })
        .collect();
    let classified = groups.into_iter().map(|(group, changes)| {
        let classified: Vec<(Millis, capacity::Class)> = changes
            .iter()
            .filter_map(|p| {
                let class = settings.rules.classify(capacity::Change {
                    title: &p.title,
                    labels: &p.labels,
                    paths: paths
                        .get(&(p.forge.as_str(), p.repo.as_str(), p.number))
                        .copied()
                        .unwrap_or(&[]),
                });
                Some((p.merged_at?, class))
            })
            .collect();
        (group, classified)
    });
    allocate(work.source, classified, window, settings.target)
}

/// The report of resolved issues (epics left out): per team (`unassigned` without one) when
/// teams are configured, per project with `--group repository`, else `all`.
fn from_issues(issues: &[TrackedIssue], args: &Query, settings: &Settings<'_>) -> Result<Report> {
    let resolved: Vec<(&TrackedIssue, Millis)> = issues
        .iter()
        .filter(|i| !i.issue_type.eq_ignore_ascii_case("Epic"))
        .filter(|i| args.repo.as_ref().is_none_or(|p| &i.project == p))
        .filter_map(|i| Some((i, i.resolved_at?)))
        .collect();
    let newest = resolved.iter().map(|(_, at)| *at).max();
    let window = resolve(
        args.since.as_deref(),
        args.until.as_deref(),
        newest,
        six_months_before,
    )?;
    if args.group == Some(GroupBy::Team) && settings.teams.is_empty() {
        return Err(UsageError("--group team: no [[teams]] in leadline.toml".to_owned()).into());
    }
    let mut groups: BTreeMap<String, Vec<(Millis, capacity::Class)>> = BTreeMap::new();
    for (i, at) in resolved {
        let group = match (args.group, settings.teams.is_empty()) {
            (Some(GroupBy::Repository), _) => i.project.clone(),
            (Some(GroupBy::Team), _) | (None, false) => {
                i.team.clone().unwrap_or_else(|| "unassigned".to_owned())
            }
            (None, true) => "all".to_owned(),
        };
        let class = settings.rules.classify_issue(&i.issue_type, &i.labels);
        groups.entry(group).or_default().push((at, class));
    }
    allocate("issues", groups, window, settings.target)
}

/// The report of classified work per group: each calendar month of `window`, and the months
/// together.
fn allocate(
    source: &'static str,
    groups: impl IntoIterator<Item = (String, Vec<(Millis, capacity::Class)>)>,
    window: Window,
    target: Option<f64>,
) -> Result<Report> {
    let months: Vec<(String, Window)> = buckets(window, By::Month, MAX_MONTHS)?
        .into_iter()
        .map(|m| (utc(m.since)[..7].to_owned(), m))
        .collect();
    // The span the months cover, whole: from the first month's start.
    let since = months.first().map_or(window.since, |m| m.1.since);
    let span = [(
        "window".to_owned(),
        Window {
            since,
            until: window.until,
        },
    )];
    let groups = groups
        .into_iter()
        .map(|(group, classified)| GroupAllocation {
            months: capacity::allocate(&classified, &months, target),
            window: capacity::allocate(&classified, &span, target)
                .into_iter()
                .next()
                .unwrap_or_default(),
            group,
        })
        .collect();
    Ok(Report {
        source,
        since: utc(since),
        until: utc(window.until),
        target,
        groups,
    })
}

async fn work(store: &Arc<dyn Store>, source: Option<Source>) -> Result<Work> {
    if source == Some(Source::Commits) {
        return commits(store).await;
    }
    let merged: Vec<PullRequest> = store
        .pull_requests()
        .await?
        .into_iter()
        .filter(|p| p.merged_at.is_some())
        .collect();
    if merged.is_empty() && source.is_none() {
        return commits(store).await;
    }
    Ok(Work {
        source: "pull_requests",
        changes: merged,
        files: store.pull_request_files().await?,
    })
}

/// Each repository's HEAD history, one merged change per non-merge commit with files.
async fn commits(store: &Arc<dyn Store>) -> Result<Work> {
    let subjects: HashMap<String, String> = store.subjects().await?.into_iter().collect();
    let mut work = Work {
        source: "commits",
        changes: Vec::new(),
        files: Vec::new(),
    };
    for repo in store.repositories().await? {
        let history = crate::history::head_history(store, &repo).await?;
        let mut index: HashMap<u32, usize> = HashMap::new();
        for c in &history.changes {
            let i = *index.entry(c.commit).or_insert_with(|| {
                let number = work.changes.len() as i64;
                work.changes
                    .push(as_change(&repo.name, number, &history, c, &subjects));
                work.files.push(PullRequestFiles {
                    forge: "git".into(),
                    repo: repo.name.clone(),
                    number,
                    paths: Vec::new(),
                });
                work.files.len() - 1
            });
            work.files[i].paths.push(history.path(c).to_owned());
        }
    }
    Ok(work)
}

fn as_change(
    repo: &str,
    number: i64,
    history: &History,
    c: &Change,
    subjects: &HashMap<String, String>,
) -> PullRequest {
    let sha = history.sha(c);
    PullRequest {
        forge: "git".into(),
        repo: repo.to_owned(),
        number,
        title: subjects.get(sha).cloned().unwrap_or_default(),
        author: history.author(c).to_owned(),
        state: "merged".into(),
        draft: false,
        created_at: c.at,
        first_commit_at: Some(c.at),
        rework_commits: None,
        ready_at: None,
        updated_at: c.at,
        merged_at: Some(c.at),
        closed_at: Some(c.at),
        base_ref: String::new(),
        head_sha: sha.to_owned(),
        merge_sha: Some(sha.to_owned()),
        additions: None,
        deletions: None,
        changed_files: None,
        commits: Some(1),
        labels: Vec::new(),
        review_requests: Vec::new(),
        actions: Vec::new(),
        issue_keys: vec![],
    }
}

/// `--until` [default: the midnight after the newest merge]; `--since` [default: six calendar
/// months: the start of the month five months before --until's].
fn window(args: &Query, changes: &[PullRequest]) -> Result<Window> {
    let newest = changes.iter().filter_map(|p| p.merged_at).max();
    Ok(resolve(
        args.since.as_deref(),
        args.until.as_deref(),
        newest,
        six_months_before,
    )?)
}

/// The start of the month five months before the one `until` falls in (exclusive end).
fn six_months_before(until: Millis) -> Result<Millis, UsageError> {
    let out_of_range = |_| UsageError("--until is outside the supported range".to_owned());
    let d = jiff::Timestamp::from_millisecond(until - 1)
        .map_err(out_of_range)?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .first_of_month()
        .checked_sub(jiff::Span::new().months(5))
        .map_err(out_of_range)?;
    Ok(d.to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(out_of_range)?
        .timestamp()
        .as_millisecond())
}
