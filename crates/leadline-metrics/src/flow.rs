//! The flow family: pull request cycle time and its phases, review coverage and load, build
//! health per group (all, per team or per repository), and onboarding of newcomers.
//! `leadline flow` renders these reports; `GET /api/v1/flow` serves them.

use std::collections::HashMap;
use std::sync::Arc;

use leadline_core::dora::Window;
use leadline_core::events::{Build, PullRequest};
use leadline_core::flow::{self, FlowKeys, Onboarding, Options, Ownership, Team};
use leadline_core::model::Millis;
use leadline_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::error::{Result, UsageError};
use crate::group::GroupBy;
use crate::window::{By, DAY_MS, MAX_PERIODS, buckets, resolve, utc};

const ALL: &str = "all";

/// What a flow report is asked for, however it was asked (command line, API, metric name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    /// Only this repository (OWNER/REPO).
    pub repo: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// A series, one report per calendar week or month.
    pub by: Option<By>,
    /// With the pull requests behind each group's numbers.
    pub explain: bool,
    /// Team or repository groups [default: team when teams are configured].
    pub group: Option<GroupBy>,
}

/// One window's flow, as `leadline flow --format json` and `GET /api/v1/flow` give it.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Report {
    pub since: String,
    pub until: String,
    pub groups: Vec<Group>,
    /// Across all repositories (from git history).
    pub onboarding: Onboarding,
    /// Per configured team, by its members' emails.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub team_onboarding: Vec<TeamOnboarding>,
    /// Per ingested repository (`team` holds the repository's name): newcomers to it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repository_onboarding: Vec<TeamOnboarding>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct TeamOnboarding {
    pub team: String,
    #[serde(flatten)]
    pub onboarding: Onboarding,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Group {
    pub group: String,
    #[serde(flatten)]
    pub keys: FlowKeys,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// The rows behind a group's numbers.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Explanation {
    pub pull_requests: Vec<Explained>,
    /// Pull requests by bots, left out of the numbers: `repo#number (bot login)`.
    pub bot_pull_requests: Vec<String>,
}

/// A merged pull request behind the numbers; its author is left out on purpose.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Explained {
    pub pull_request: String,
    pub opened: String,
    /// When a draft was first marked ready for review: its pickup starts there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    pub merged: String,
    pub cycle_seconds: f64,
    pub reviews: usize,
    pub lines: Option<i64>,
}

/// The flow reports `q` asks for: one, or one per period with `by`.
pub async fn compute(
    store: &Arc<dyn Store>,
    q: &Query,
    options: &Options,
    teams: &[Team],
    dora: &crate::dora::Settings,
) -> Result<Vec<Report>> {
    let mut prs = store.pull_requests().await?;
    let reviews = store.reviews().await?;
    let mut builds: Vec<(String, Build)> = store.builds().await?;
    if let Some(repo) = &q.repo {
        prs.retain(|p| &p.repo == repo);
        builds.retain(|(_, b)| &b.repo == repo);
    }
    // When merge commits were first deployed, as the DORA keys attribute them.
    let gathered = crate::dora::load(store, dora).await?;
    let (attribution, _) = crate::dora::attribute(
        &gathered.inputs,
        leadline_core::dora::Scope {
            environment: "production",
            service: None,
            paths: None,
        },
    );
    // A merge commit no ingested repository holds (a forge synced without `ingest git`) is
    // still carried by a deployment of exactly that commit: the first successful one.
    let mut exact: HashMap<&str, Millis> = HashMap::new();
    for d in gathered
        .inputs
        .deployments
        .iter()
        .filter(|d| d.status == "success" && d.environment == "production")
    {
        let at = exact.entry(d.sha.as_str()).or_insert(d.finished_at);
        *at = (*at).min(d.finished_at);
    }
    let deployed_at = |sha: &str| match attribution.first_deployment_of_any(sha) {
        Some(d) => Some(d.deployment.finished_at),
        None if !attribution.knows(sha) => exact.get(sha).copied(),
        None => None,
    };
    let changes = git_changes(store).await?;
    let plain: Vec<Build> = builds.iter().map(|(_, b)| b.clone()).collect();
    let times: Vec<(String, Millis)> = changes.iter().map(|(_, a, t, _)| (a.clone(), *t)).collect();
    let window = window(q, &prs, &plain, &times)?;
    let files = store.pull_request_files().await?;
    let code_owners = store.code_owners().await?;
    let ownership = Ownership::new(teams, &files, &code_owners);
    let by_team = match q.group {
        Some(GroupBy::Team) if !ownership.has_teams() => {
            return Err(UsageError(
                "--group team: no [[teams]] in leadline.toml and no CODEOWNERS synced".to_owned(),
            )
            .into());
        }
        Some(GroupBy::Team) => true,
        Some(GroupBy::Repository) => false,
        None => ownership.has_teams(),
    };
    let data = Data {
        prs: &prs,
        reviews: &reviews,
        builds: &builds,
        deployed_at: &deployed_at,
        options,
        ownership: by_team.then_some(&ownership),
        explain: q.explain,
    };
    let windows = match q.by {
        Some(by) => buckets(window, by, MAX_PERIODS)?,
        None => vec![window],
    };
    let reports: Vec<Report> = windows
        .iter()
        .map(|&w| {
            let mut r = report(&data, w);
            let pairs: Vec<(&str, Millis)> = changes
                .iter()
                .filter(|(_, _, _, first)| *first)
                .map(|(_, a, t, _)| (a.as_str(), *t))
                .collect();
            r.onboarding = flow::onboarding(&pairs, w, options);
            let mut repos: Vec<&str> = changes.iter().map(|(r, ..)| r.as_str()).collect();
            repos.dedup();
            r.repository_onboarding = repos
                .into_iter()
                .map(|repo| {
                    let theirs: Vec<(&str, Millis)> = changes
                        .iter()
                        .filter(|(r, ..)| r == repo)
                        .map(|(_, a, t, _)| (a.as_str(), *t))
                        .collect();
                    TeamOnboarding {
                        team: repo.to_owned(),
                        onboarding: flow::onboarding(&theirs, w, options),
                    }
                })
                .collect();
            r.team_onboarding = teams
                .iter()
                .map(|t| {
                    let members: Vec<String> = t.members.iter().map(|m| m.to_lowercase()).collect();
                    let theirs: Vec<(&str, Millis)> = pairs
                        .iter()
                        .copied()
                        .filter(|(author, _)| members.contains(&author.to_lowercase()))
                        .collect();
                    TeamOnboarding {
                        team: t.name.clone(),
                        onboarding: flow::onboarding(&theirs, w, options),
                    }
                })
                .collect();
            r
        })
        .collect();
    Ok(reports)
}

/// The window asked for, defaulting to the 90 days before the UTC midnight after the newest
/// merge, build or commit.
fn window(
    args: &Query,
    prs: &[PullRequest],
    builds: &[Build],
    changes: &[(String, Millis)],
) -> Result<Window> {
    let newest = prs
        .iter()
        .filter_map(|p| p.merged_at)
        .chain(builds.iter().map(|b| b.created_at))
        .chain(changes.iter().map(|(_, at)| *at))
        .max();
    Ok(resolve(
        args.since.as_deref(),
        args.until.as_deref(),
        newest,
        |until| Ok(until - 90 * DAY_MS),
    )?)
}

/// What a report is computed from.
struct Data<'a> {
    prs: &'a [PullRequest],
    reviews: &'a [leadline_core::events::Review],
    /// With their source (`github`, `gitlab`).
    builds: &'a [(String, Build)],
    deployed_at: &'a dyn Fn(&str) -> Option<Millis>,
    options: &'a Options,
    /// Group by team; by repository when `None`.
    ownership: Option<&'a Ownership<'a>>,
    explain: bool,
}

fn report(d: &Data<'_>, w: Window) -> Report {
    let (prs, options) = (d.prs, d.options);
    // The whole is a group too, and obeys the same minimum size.
    let all: Vec<&PullRequest> = prs.iter().collect();
    let mut groups: Vec<(String, Vec<&PullRequest>)> = Vec::new();
    if flow::reportable(&all, w, options) {
        groups.push((ALL.to_owned(), all));
    }
    let grouped = match d.ownership {
        Some(ownership) => flow::team_groups(prs, ownership, w, options),
        None => flow::groups(prs, w, options),
    };
    let reported: Vec<String> = grouped.iter().map(|(g, _)| g.clone()).collect();
    groups.extend(grouped);
    // A build belongs to its repository's group: the repository itself, or its owning team.
    let build_group = |source: &str, b: &Build| -> Option<String> {
        match d.ownership {
            Some(ownership) => ownership.team_of_repository(source, &b.repo),
            None => Some(format!("{source}:{}", b.repo)),
        }
        .filter(|g| reported.contains(g))
    };
    let groups = groups
        .into_iter()
        .map(|(name, members)| {
            let group_builds: Vec<&Build> = d
                .builds
                .iter()
                .filter(|(source, b)| match name.as_str() {
                    ALL => true,
                    flow::OTHER => build_group(source, b).is_none(),
                    _ => build_group(source, b).as_deref() == Some(name.as_str()),
                })
                .map(|(_, b)| b)
                .collect();
            let keys = flow::keys(
                &members,
                d.reviews,
                &group_builds,
                d.deployed_at,
                w,
                options,
            );
            let explain = d
                .explain
                .then(|| explained(&members, d.reviews, w, options));
            Group {
                group: name,
                keys,
                explain,
            }
        })
        .collect();
    Report {
        since: utc(w.since),
        until: utc(w.until),
        groups,
        onboarding: Onboarding::default(),
        team_onboarding: Vec::new(),
        repository_onboarding: Vec::new(),
    }
}

/// Every non-merge commit of every ingested repository: (repository name, author email, commit
/// time). A commit in several repositories (forks) counts in each, and once overall.
async fn git_changes(store: &Arc<dyn Store>) -> Result<Vec<(String, String, Millis, bool)>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for repo in store.repositories().await? {
        for c in store.commit_facts(repo.id).await? {
            if !c.is_merge {
                let first = seen.insert(c.sha);
                out.push((repo.name.clone(), c.author_email, c.committed_at, first));
            }
        }
    }
    Ok(out)
}

fn explained(
    prs: &[&PullRequest],
    reviews: &[leadline_core::events::Review],
    w: Window,
    options: &Options,
) -> Explanation {
    let is_bot = |login: &str| {
        let login = login.to_lowercase();
        options
            .bots
            .iter()
            .any(|b| login.contains(&b.to_lowercase()))
    };
    let merged: Vec<&&PullRequest> = prs
        .iter()
        .filter(|p| p.merged_at.is_some_and(|m| w.since <= m && m < w.until))
        .collect();
    let pull_requests = merged
        .iter()
        .filter(|p| !is_bot(&p.author))
        .filter_map(|p| {
            let merged = p.merged_at?;
            let start = p
                .first_commit_at
                .map_or(p.created_at, |f| f.min(p.created_at));
            Some(Explained {
                pull_request: format!("{}#{}", p.repo, p.number),
                opened: utc(p.created_at),
                ready: p
                    .ready_at
                    .map(|_| utc(leadline_core::flow::ready_for_review(p))),
                merged: utc(merged),
                cycle_seconds: (merged - start) as f64 / 1000.0,
                // The reviews the keys count: by others, not dismissed, by the merge.
                reviews: reviews
                    .iter()
                    .filter(|r| {
                        r.forge == p.forge
                            && r.repo == p.repo
                            && r.number == p.number
                            && r.reviewer != p.author
                            && r.state != "dismissed"
                            && r.submitted_at <= merged
                    })
                    .count(),
                lines: p.additions.zip(p.deletions).map(|(a, d)| a + d),
            })
        })
        .collect();
    let bot_pull_requests = merged
        .iter()
        .filter(|p| is_bot(&p.author))
        .map(|p| format!("{}#{} ({})", p.repo, p.number, p.author))
        .collect();
    Explanation {
        pull_requests,
        bot_pull_requests,
    }
}
