//! `leadline debt capacity`: the share of merged work that went to features, debt and
//! maintenance, fixes and other things, per team (or repository) and calendar month, against
//! `debt.capacity_target`.
//!
//! Merged work is merged pull requests when any were synced (`ingest github|gitlab`), else the
//! non-merge commits of each repository's HEAD history: a commit is then treated as a merged
//! change of its author, so teams, privacy folding and classification work the same way.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use comfy_table::{Cell, CellAlignment};
use leadline_core::capacity::{self, Allocation};
use leadline_core::dora::Window;
use leadline_core::events::{PullRequest, PullRequestFiles};
use leadline_core::flow::{self, Options, Ownership, Team};
use leadline_core::model::Millis;
use leadline_core::store::Store;
use serde::Serialize;

use crate::cli::{By, CapacitySource, DebtCapacityArgs, GroupBy, SummaryFormat};
use crate::config::DebtConfig;
use crate::dora::{buckets, parse_instant, utc};
use leadline_metrics::history::{Change, History};

const DAY_MS: i64 = 86_400_000;

#[derive(Serialize)]
pub(crate) struct Report {
    /// `pull_requests` or `commits`.
    pub source: &'static str,
    pub since: String,
    pub until: String,
    pub target: Option<f64>,
    pub groups: Vec<GroupAllocation>,
}

#[derive(Serialize)]
pub(crate) struct GroupAllocation {
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

pub async fn run(
    store: &Arc<dyn Store>,
    args: &DebtCapacityArgs,
    config: &DebtConfig,
    options: &Options,
    teams: &[Team],
    out: &mut dyn Write,
) -> Result<()> {
    let report = report(store, args, config, options, teams).await?;
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => print(&report, options, out)?,
    }
    Ok(())
}

pub(crate) async fn report(
    store: &Arc<dyn Store>,
    args: &DebtCapacityArgs,
    config: &DebtConfig,
    options: &Options,
    teams: &[Team],
) -> Result<Report> {
    let mut work = work(store, args.source).await?;
    if let Some(repo) = &args.repo {
        work.changes.retain(|c| &c.repo == repo);
    }
    let window = window(args, &work.changes)?;
    let months: Vec<(String, Window)> = buckets(window, By::Month, crate::dora::MAX_MONTHS)?
        .into_iter()
        .map(|m| (utc(m.since)[..7].to_owned(), m))
        .collect();
    let code_owners = store.code_owners().await?;
    let ownership = Ownership::new(teams, &work.files, &code_owners);
    let groups = match args.group {
        Some(GroupBy::Team) if !ownership.has_teams() => {
            return Err(crate::dora::InvalidArgs(
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
    // The span the months cover, whole: from the first month's start.
    let span = vec![(
        "window".to_owned(),
        Window {
            since: months.first().map_or(window.since, |m| m.1.since),
            until: window.until,
        },
    )];
    let groups = groups
        .into_iter()
        .map(|(group, changes)| {
            let classified: Vec<(Millis, capacity::Class)> = changes
                .iter()
                .filter_map(|p| {
                    let class = config.rules.classify(capacity::Change {
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
            let whole = capacity::allocate(&classified, &span, config.capacity_target);
            GroupAllocation {
                group,
                months: capacity::allocate(&classified, &months, config.capacity_target),
                window: whole.into_iter().next().unwrap_or_default(),
            }
        })
        .collect();
    Ok(Report {
        source: work.source,
        since: utc(months.first().map_or(window.since, |m| m.1.since)),
        until: utc(window.until),
        target: config.capacity_target,
        groups,
    })
}

async fn work(store: &Arc<dyn Store>, source: Option<CapacitySource>) -> Result<Work> {
    if source == Some(CapacitySource::Commits) {
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
        let history = leadline_metrics::history::head_history(store, &repo).await?;
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
    }
}

/// `--until` [default: the midnight after the newest merge]; `--since` [default: six calendar
/// months: the start of the month five months before --until's].
fn window(args: &DebtCapacityArgs, changes: &[PullRequest]) -> Result<Window> {
    let until = match &args.until {
        Some(v) => parse_instant("--until", v)?,
        None => changes
            .iter()
            .filter_map(|p| p.merged_at)
            .max()
            .map_or_else(
                || jiff::Timestamp::now().as_millisecond(),
                |n| (n.div_euclid(DAY_MS) + 1) * DAY_MS,
            ),
    };
    let since = match &args.since {
        Some(v) => parse_instant("--since", v)?,
        None => {
            let d = jiff::Timestamp::from_millisecond(until - 1)?
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .first_of_month()
                .checked_sub(jiff::Span::new().months(5))?;
            d.to_zoned(jiff::tz::TimeZone::UTC)?
                .timestamp()
                .as_millisecond()
        }
    };
    if since >= until {
        return Err(crate::dora::InvalidArgs(
            "the window is empty: --since must be before --until".to_owned(),
        )
        .into());
    }
    Ok(Window { since, until })
}

fn print(r: &Report, options: &Options, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "capacity allocation of merged {} from {} to {}{}",
        r.source.replace('_', " "),
        &r.since[..10],
        &r.until[..10],
        r.target
            .map(|t| format!(", debt target {:.0}%", t * 100.0))
            .unwrap_or_default()
    )?;
    if r.groups.is_empty() {
        writeln!(
            out,
            "nothing to show: fewer than {} authors merged work in the window (privacy.min_group_size)",
            options.min_group_size
        )?;
    }
    let pct = |v: Option<f64>| v.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_default();
    for g in &r.groups {
        let mut t = crate::dora_table::table(&[
            &g.group,
            "feature",
            "debt",
            "fix",
            "other",
            "debt share",
            "vs target",
        ]);
        for m in &g.months {
            let right = |v: String| Cell::new(v).set_alignment(CellAlignment::Right);
            t.add_row(vec![
                Cell::new(&m.period),
                right(m.feature.to_string()),
                right(m.debt.to_string()),
                right(m.fix.to_string()),
                right(m.other.to_string()),
                right(pct(m.debt_share)),
                right(
                    m.versus_target
                        .map(|v| format!("{:+.0} pts", v * 100.0))
                        .unwrap_or_default(),
                ),
            ]);
        }
        writeln!(out, "{t}")?;
        writeln!(out, "{}", trend_line(g, r.target))?;
    }
    Ok(())
}

/// `debt share by month ▂▅█ ; over the window 27% (target 20%)`: the trend at a glance.
fn trend_line(g: &GroupAllocation, target: Option<f64>) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let spark: String = g
        .months
        .iter()
        .map(|m| match m.debt_share {
            None => ' ',
            Some(s) => BARS[((s * 7.0).round() as usize).min(7)],
        })
        .collect();
    let (debt, all) = g.months.iter().fold((0, 0), |(d, a), m| {
        (d + m.debt, a + m.feature + m.debt + m.fix + m.other)
    });
    let overall = match all {
        0 => "nothing merged".to_owned(),
        _ => format!("{:.0}%", debt as f64 / all as f64 * 100.0),
    };
    let target = target
        .map(|t| format!(" (target {:.0}%)", t * 100.0))
        .unwrap_or_default();
    format!(
        "{}: debt share by month {spark} ; over the window {overall}{target}",
        g.group
    )
}
