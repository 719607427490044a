//! Flow metrics from pull requests, reviews and CI runs (see "Flow" in `docs/metrics.md`).
//!
//! Pull request metrics count the pull requests merged in the window, build metrics the CI
//! attempts created in it. Authors and reviewers are never reported by name: groups are
//! repositories, and a group with fewer distinct authors than `min_group_size` is folded into
//! `other`, so that no number describes one or two people.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::codeowners::CodeOwners;
use crate::dora::Window;
use crate::events::{Build, CodeOwnersFile, PullRequest, PullRequestFiles, Review};
use crate::model::Millis;
use crate::stats::percentile;
pub use crate::team::Team;

/// Pull requests above this many changed lines count as large.
pub const DEFAULT_LARGE_PR_LINES: i64 = 400;
/// Groups with fewer distinct authors fold into `other`.
pub const DEFAULT_MIN_GROUP_SIZE: usize = 3;
pub const OTHER: &str = "other";

#[derive(Debug, Clone)]
pub struct Options {
    /// Author login fragments that mark bots (case-insensitive); their pull requests are left
    /// out of flow and counted as such.
    pub bots: Vec<String>,
    pub large_pr_lines: i64,
    pub min_group_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bots: ["[bot]", "dependabot", "renovate"]
                .map(str::to_owned)
                .to_vec(),
            large_pr_lines: DEFAULT_LARGE_PR_LINES,
            min_group_size: DEFAULT_MIN_GROUP_SIZE,
        }
    }
}

/// A distribution of durations in seconds (nearest-rank percentiles).
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Durations {
    pub count: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

impl Durations {
    fn of(mut values: Vec<f64>) -> Durations {
        values.sort_by(f64::total_cmp);
        Durations {
            count: values.len(),
            median_seconds: percentile(&values, 50.0),
            p90_seconds: percentile(&values, 90.0),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PullRequestKeys {
    pub merged: usize,
    /// Bot pull requests merged in the window, left out of every number below.
    pub bot_pull_requests: usize,
    /// First commit (else opened) → merged.
    pub cycle_time: Durations,
    /// First commit → opened.
    pub coding: Durations,
    /// Opened → first review by someone other than the author.
    pub pickup: Durations,
    /// First review → merged.
    pub review: Durations,
    /// Merged → first deployment carrying the merge commit.
    pub deploy: Durations,
    /// Opened → merged.
    pub time_to_merge: Durations,
    pub size_lines_median: Option<f64>,
    pub size_files_median: Option<f64>,
    /// Share of merged pull requests above `large_pr_lines` changed lines.
    pub large_share: Option<f64>,
    /// Share merged with no review by someone other than the author.
    pub merged_without_review: Option<f64>,
    /// Reviews (by others than the author) per merged pull request.
    pub reviews_per_pull_request: Option<f64>,
    /// Line comments per review, over the reviews whose comments the connector counted.
    pub comments_per_review: Option<f64>,
    /// Share of reviewed pull requests (with a known count) that got commits after their first
    /// review.
    pub rework_share: Option<f64>,
    /// Commits after the first review, per such pull request.
    pub rework_commits_per_pull_request: Option<f64>,
    /// Distinct reviewers of these pull requests.
    pub reviewers: usize,
    /// Share of the reviews done by the busiest fifth of reviewers (at least one): 0.2 is an
    /// even spread, 1.0 one person doing everything.
    pub review_load_top_fifth: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BuildKeys {
    /// Finished attempts created in the window.
    pub attempts: usize,
    pub failed: usize,
    pub failure_rate: Option<f64>,
    /// Runs (all attempts of one run id) created in the window.
    pub runs: usize,
    /// Runs with a failed attempt and a later successful one on the same commit.
    pub flaky: usize,
    pub flaky_rate: Option<f64>,
    /// Started → finished.
    pub duration: Durations,
    /// Created → started.
    pub queue: Durations,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FlowKeys {
    pub pull_requests: PullRequestKeys,
    pub builds: BuildKeys,
}

/// How long newcomers take to land their first changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Onboarding {
    /// People whose first change landed in the window.
    pub newcomers: usize,
    /// From a newcomer's first change to their tenth, for those who reached it; reported only
    /// when at least `min_group_size` did, so that it describes no one in particular.
    pub to_tenth_change: Durations,
}

/// Changes a newcomer lands before counting as onboarded.
pub const ONBOARDED_AFTER: usize = 10;

/// Onboarding from the non-merge commits of the history: `(author, time)` pairs, one per
/// commit (bots left out by the caller's `options.bots`).
pub fn onboarding(changes: &[(&str, Millis)], window: Window, options: &Options) -> Onboarding {
    let mut by_author: HashMap<&str, Vec<Millis>> = HashMap::new();
    for (author, at) in changes {
        if !is_bot(author, &options.bots) {
            by_author.entry(author).or_default().push(*at);
        }
    }
    let mut newcomers = 0;
    let mut spans = Vec::new();
    for times in by_author.values_mut() {
        times.sort_unstable();
        if !in_window(times[0], window) {
            continue;
        }
        newcomers += 1;
        if let Some(tenth) = times.get(ONBOARDED_AFTER - 1) {
            spans.push(seconds(times[0], *tenth));
        }
    }
    let to_tenth_change = if spans.len() >= options.min_group_size {
        Durations::of(spans)
    } else {
        Durations {
            count: spans.len(),
            ..Durations::default()
        }
    };
    Onboarding {
        newcomers,
        to_tenth_change,
    }
}

fn is_bot(login: &str, bots: &[String]) -> bool {
    let login = login.to_lowercase();
    bots.iter().any(|b| login.contains(&b.to_lowercase()))
}

fn seconds(from: Millis, to: Millis) -> f64 {
    (to - from) as f64 / 1000.0
}

/// The first review of each pull request by someone other than its author, and the number of
/// such reviews.
fn first_reviews<'a>(
    prs: &'a [&'a PullRequest],
    reviews: &'a [Review],
) -> HashMap<(&'a str, &'a str, i64), (Millis, usize)> {
    let mut out: HashMap<(&str, &str, i64), (Millis, usize)> = HashMap::new();
    for r in others_reviews(prs, reviews) {
        let entry = out
            .entry((r.forge.as_str(), r.repo.as_str(), r.number))
            .or_insert((r.submitted_at, 0));
        entry.0 = entry.0.min(r.submitted_at);
        entry.1 += 1;
    }
    out
}

/// The flow keys of the pull requests merged and the builds created in `window`.
/// `deployed_at` tells when a merge commit was first deployed, if it was.
pub fn keys(
    pull_requests: &[&PullRequest],
    reviews: &[Review],
    builds: &[&Build],
    deployed_at: &dyn Fn(&str) -> Option<Millis>,
    window: Window,
    options: &Options,
) -> FlowKeys {
    FlowKeys {
        pull_requests: pull_request_keys(pull_requests, reviews, deployed_at, window, options),
        builds: build_keys(builds, window),
    }
}

fn in_window(at: Millis, w: Window) -> bool {
    w.since <= at && at < w.until
}

fn pull_request_keys(
    all: &[&PullRequest],
    reviews: &[Review],
    deployed_at: &dyn Fn(&str) -> Option<Millis>,
    window: Window,
    options: &Options,
) -> PullRequestKeys {
    let merged: Vec<&PullRequest> = all
        .iter()
        .copied()
        .filter(|p| p.merged_at.is_some_and(|m| in_window(m, window)))
        .collect();
    let (bots, prs): (Vec<&PullRequest>, Vec<&PullRequest>) = merged
        .into_iter()
        .partition(|p| is_bot(&p.author, &options.bots));
    let first = first_reviews(&prs, reviews);
    let mut cycle = Vec::new();
    let (mut coding, mut pickup, mut review, mut deploy, mut to_merge) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut lines, mut files) = (Vec::new(), Vec::new());
    let mut unreviewed = 0;
    let mut review_count = 0;
    let (mut reworked, mut rework_known, mut rework_commits) = (0, 0, 0);
    for p in &prs {
        let Some(merged_at) = p.merged_at else {
            continue;
        };
        let start = p
            .first_commit_at
            .map_or(p.created_at, |f| f.min(p.created_at));
        cycle.push(seconds(start, merged_at));
        if let Some(f) = p.first_commit_at {
            coding.push(seconds(f.min(p.created_at), p.created_at));
        }
        to_merge.push(seconds(p.created_at, merged_at));
        match first.get(&(p.forge.as_str(), p.repo.as_str(), p.number)) {
            Some(&(at, n)) => {
                let waiting = ready_for_review(p);
                pickup.push(seconds(waiting, at.max(waiting)));
                review.push(seconds(at.max(p.created_at), merged_at.max(at)));
                review_count += n;
                if let Some(commits) = p.rework_commits {
                    rework_known += 1;
                    rework_commits += commits.max(0) as usize;
                    reworked += usize::from(commits > 0);
                }
            }
            None => unreviewed += 1,
        }
        if let Some(deployed) = p.merge_sha.as_deref().and_then(deployed_at) {
            deploy.push(seconds(merged_at, deployed.max(merged_at)));
        }
        if let (Some(a), Some(d)) = (p.additions, p.deletions) {
            lines.push((a + d) as f64);
        }
        if let Some(f) = p.changed_files {
            files.push(f as f64);
        }
    }
    let n = prs.len();
    let share = |k: usize, of: usize| (of > 0).then(|| k as f64 / of as f64);
    lines.sort_by(f64::total_cmp);
    files.sort_by(f64::total_cmp);
    let large = lines
        .iter()
        .filter(|l| **l > options.large_pr_lines as f64)
        .count();
    let (reviewers, top_fifth) = review_load(&prs, reviews);
    let (comments, counted) = others_reviews(&prs, reviews)
        .filter_map(|r| r.comments)
        .fold((0, 0), |(sum, n), c| (sum + c.max(0) as usize, n + 1));
    PullRequestKeys {
        merged: n,
        bot_pull_requests: bots.len(),
        cycle_time: Durations::of(cycle),
        coding: Durations::of(coding),
        pickup: Durations::of(pickup),
        review: Durations::of(review),
        deploy: Durations::of(deploy),
        time_to_merge: Durations::of(to_merge),
        size_lines_median: percentile(&lines, 50.0),
        size_files_median: percentile(&files, 50.0),
        large_share: share(large, lines.len()),
        merged_without_review: share(unreviewed, n),
        reviews_per_pull_request: share(review_count, n),
        comments_per_review: share(comments, counted),
        rework_share: share(reworked, rework_known),
        rework_commits_per_pull_request: share(rework_commits, rework_known),
        reviewers,
        review_load_top_fifth: top_fifth,
    }
}

/// When a pull request started waiting for a reviewer: its opening, or, for one opened as a
/// draft, when it was first marked ready for review (where the forge says so).
pub fn ready_for_review(p: &PullRequest) -> Millis {
    p.ready_at.map_or(p.created_at, |r| r.max(p.created_at))
}

/// The reviews of `prs` that count: by someone other than the author, not dismissed.
fn others_reviews<'a>(
    prs: &'a [&PullRequest],
    reviews: &'a [Review],
) -> impl Iterator<Item = &'a Review> {
    let known: HashMap<(&str, &str, i64), (&str, Option<Millis>)> = prs
        .iter()
        .map(|p| {
            (
                (p.forge.as_str(), p.repo.as_str(), p.number),
                (p.author.as_str(), p.merged_at),
            )
        })
        .collect();
    // A review submitted after the merge reviewed nothing that was merged: it neither ends
    // pickup nor makes the pull request reviewed.
    reviews.iter().filter(move |r| {
        known
            .get(&(r.forge.as_str(), r.repo.as_str(), r.number))
            .is_some_and(|(author, merged)| {
                *author != r.reviewer
                    && r.state != "dismissed"
                    && merged.is_none_or(|m| r.submitted_at <= m)
            })
    })
}

/// Distinct reviewers of `prs` (others than the author) and the share of their reviews done by
/// the busiest fifth of them (rounded up).
fn review_load(prs: &[&PullRequest], reviews: &[Review]) -> (usize, Option<f64>) {
    let mut per_reviewer: HashMap<&str, usize> = HashMap::new();
    for r in others_reviews(prs, reviews) {
        *per_reviewer.entry(r.reviewer.as_str()).or_default() += 1;
    }
    let mut counts: Vec<usize> = per_reviewer.into_values().collect();
    let total: usize = counts.iter().sum();
    if total == 0 {
        return (0, None);
    }
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top = counts.len().div_ceil(5);
    let busiest: usize = counts.iter().take(top).sum();
    (counts.len(), Some(busiest as f64 / total as f64))
}

/// Conclusions that are no verdict on the code (GitHub's `cancelled`, `skipped`, `neutral`;
/// GitLab's `canceled` is stored as `cancelled`).
const NO_VERDICT: [&str; 4] = ["cancelled", "skipped", "neutral", "stale"];

/// Conclusions that are failures: GitHub's `failure`, `timed_out`, `startup_failure`.
pub fn is_failure(b: &Build) -> bool {
    matches!(
        b.status.as_str(),
        "failure" | "timed_out" | "startup_failure"
    )
}

fn build_keys(all: &[&Build], window: Window) -> BuildKeys {
    let builds: Vec<&Build> = all
        .iter()
        .copied()
        .filter(|b| in_window(b.created_at, window))
        .collect();
    // An attempt that was cancelled, skipped or neutral did not run to a verdict: it is not a
    // finished attempt. One that timed out or could not start failed.
    let finished: Vec<&Build> = builds
        .iter()
        .copied()
        .filter(|b| b.finished_at.is_some() && !NO_VERDICT.contains(&b.status.as_str()))
        .collect();
    let failed = finished.iter().filter(|b| is_failure(b)).count();
    // Attempts of one run share the id before the `/attempt` suffix.
    let mut runs: BTreeMap<&str, Vec<&Build>> = BTreeMap::new();
    for b in &builds {
        let run = b.id.rsplit_once('/').map_or(b.id.as_str(), |(run, _)| run);
        runs.entry(run).or_default().push(b);
    }
    let flaky = runs
        .values()
        .filter(|attempts| {
            attempts.iter().any(|f| {
                is_failure(f)
                    && attempts
                        .iter()
                        .any(|s| s.status == "success" && s.sha == f.sha && s.attempt > f.attempt)
            })
        })
        .count();
    // Times out of order (a start before the creation, a finish before the start) are
    // inconsistent records, not durations: they are left out rather than counted negative.
    let ordered = |from: Option<Millis>, to: Option<Millis>| {
        let (from, to) = (from?, to?);
        (from <= to).then(|| seconds(from, to))
    };
    let duration = finished
        .iter()
        .filter_map(|b| ordered(b.started_at, b.finished_at))
        .collect();
    // Queue time needs the time an attempt was requested. A later attempt that carries its
    // run's original creation time (a GitHub re-run) does not say when it was requested: its
    // "queue" would hold the earlier attempts and the wait before the re-run, so it is left out.
    let queue = runs
        .values()
        .flat_map(|attempts| {
            let first = attempts
                .iter()
                .min_by_key(|b| b.attempt)
                .map(|b| (b.attempt, b.created_at));
            attempts
                .iter()
                .filter(move |b| first.is_some_and(|(n, at)| b.attempt == n || b.created_at != at))
        })
        .filter_map(|b| ordered(Some(b.created_at), b.started_at))
        .collect();
    let share = |k: usize, of: usize| (of > 0).then(|| k as f64 / of as f64);
    BuildKeys {
        attempts: finished.len(),
        failed,
        failure_rate: share(failed, finished.len()),
        runs: runs.len(),
        flaky,
        flaky_rate: share(flaky, runs.len()),
        duration: Durations::of(duration),
        queue: Durations::of(queue),
    }
}

/// Pull requests grouped by repository (`forge:owner/name`); see [`groups_by`].
pub fn groups<'a>(
    pull_requests: &'a [PullRequest],
    window: Window,
    options: &Options,
) -> Vec<(String, Vec<&'a PullRequest>)> {
    groups_by(pull_requests, window, options, |p| {
        Some(format!("{}:{}", p.forge, p.repo))
    })
}

/// Decides a pull request's team: its author's team; else the team owning most of the files it
/// changes (a configured team's paths first, else the repository's CODEOWNERS `@org/team`
/// owners); else the team owning its repository.
pub struct Ownership<'a> {
    teams: &'a [Team],
    team_paths: Vec<(&'a str, Vec<regex::Regex>)>,
    code_owners: HashMap<(&'a str, &'a str), CodeOwners>,
    files: HashMap<(&'a str, &'a str, i64), &'a [String]>,
}

impl<'a> Ownership<'a> {
    pub fn new(
        teams: &'a [Team],
        files: &'a [PullRequestFiles],
        code_owners: &'a [CodeOwnersFile],
    ) -> Ownership<'a> {
        Ownership {
            teams,
            team_paths: teams
                .iter()
                .map(|t| {
                    let patterns = t
                        .paths
                        .iter()
                        .filter_map(|p| crate::codeowners::pattern_regex(p))
                        .collect();
                    (t.name.as_str(), patterns)
                })
                .collect(),
            code_owners: code_owners
                .iter()
                .map(|f| {
                    let rules: Vec<crate::codeowners::Rule> = f
                        .rules
                        .iter()
                        .map(|(pattern, owners)| crate::codeowners::Rule {
                            pattern: pattern.clone(),
                            owners: owners.clone(),
                        })
                        .collect();
                    ((f.forge.as_str(), f.repo.as_str()), CodeOwners::new(&rules))
                })
                .collect(),
            files: files
                .iter()
                .map(|f| {
                    (
                        (f.forge.as_str(), f.repo.as_str(), f.number),
                        f.paths.as_slice(),
                    )
                })
                .collect(),
        }
    }

    /// Whether anything could put a pull request in a team.
    pub fn has_teams(&self) -> bool {
        !self.teams.is_empty() || !self.code_owners.is_empty()
    }

    pub fn team_of(&self, pr: &PullRequest) -> Option<String> {
        let author = pr.author.to_lowercase();
        if let Some(t) = self
            .teams
            .iter()
            .find(|t| t.members.iter().any(|m| m.to_lowercase() == author))
        {
            return Some(t.name.clone());
        }
        if let Some(team) = self.team_by_files(pr) {
            return Some(team);
        }
        self.teams
            .iter()
            .find(|t| t.repositories.contains(&pr.repo))
            .map(|t| t.name.clone())
    }

    /// The team owning a repository (its builds are that team's): a configured team listing
    /// it, else the team its CODEOWNERS gives everything to (`* @org/core`).
    pub fn team_of_repository(&self, forge: &str, repo: &str) -> Option<String> {
        if let Some(t) = self
            .teams
            .iter()
            .find(|t| t.repositories.iter().any(|r| r == repo))
        {
            return Some(t.name.clone());
        }
        // Only a catch-all rule (`*`, `**`, `/`) owns the empty path.
        self.code_owners
            .get(&(forge, repo))?
            .owners("")
            .iter()
            .find_map(|o| crate::codeowners::team_of_owner(o))
            .map(str::to_owned)
    }

    fn team_by_files(&self, pr: &PullRequest) -> Option<String> {
        let files = self
            .files
            .get(&(pr.forge.as_str(), pr.repo.as_str(), pr.number))?;
        let owners = self.code_owners.get(&(pr.forge.as_str(), pr.repo.as_str()));
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for path in files.iter() {
            let configured = self
                .team_paths
                .iter()
                .find(|(_, patterns)| patterns.iter().any(|p| p.is_match(path)))
                .map(|(name, _)| (*name).to_owned());
            let team = configured.or_else(|| {
                owners?
                    .owners(path)
                    .iter()
                    .find_map(|o| crate::codeowners::team_of_owner(o))
                    .map(str::to_owned)
            });
            if let Some(team) = team {
                *counts.entry(team).or_default() += 1;
            }
        }
        // Most files; ties to the first name.
        let most = counts.values().copied().max()?;
        counts.into_iter().find(|(_, n)| *n == most).map(|(t, _)| t)
    }
}

/// Pull requests grouped by team; see [`groups_by`].
pub fn team_groups<'a>(
    pull_requests: &'a [PullRequest],
    ownership: &Ownership<'_>,
    window: Window,
    options: &Options,
) -> Vec<(String, Vec<&'a PullRequest>)> {
    groups_by(pull_requests, window, options, |p| ownership.team_of(p))
}

/// Pull requests grouped by `key` (`None`: no group). A group whose merged pull requests in
/// `window` have fewer than `min_group_size` distinct (non-bot) authors joins `other`, with the
/// ungrouped ones; `other` itself stays unreported while it is still too small.
pub fn groups_by<'a>(
    pull_requests: &'a [PullRequest],
    window: Window,
    options: &Options,
    key: impl Fn(&PullRequest) -> Option<String>,
) -> Vec<(String, Vec<&'a PullRequest>)> {
    let mut grouped: BTreeMap<String, Vec<&PullRequest>> = BTreeMap::new();
    let mut other: Vec<&PullRequest> = Vec::new();
    for p in pull_requests {
        match key(p) {
            Some(k) => grouped.entry(k).or_default().push(p),
            None => other.push(p),
        }
    }
    let mut out = Vec::new();
    for (name, prs) in grouped {
        if reportable(&prs, window, options) {
            out.push((name, prs));
        } else {
            other.extend(prs);
        }
    }
    if !other.is_empty() && reportable(&other, window, options) {
        out.push((OTHER.to_owned(), other));
    }
    out
}

/// Whether the pull requests merged in `window` have at least `min_group_size` distinct
/// (non-bot) authors, so that numbers about them describe no one in particular.
pub fn reportable(prs: &[&PullRequest], window: Window, options: &Options) -> bool {
    prs.iter()
        .filter(|p| p.merged_at.is_some_and(|m| in_window(m, window)))
        .filter(|p| !is_bot(&p.author, &options.bots))
        .map(|p| p.author.as_str())
        .collect::<HashSet<_>>()
        .len()
        >= options.min_group_size
}

#[cfg(test)]
mod tests;
