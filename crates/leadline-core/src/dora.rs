//! The DORA keys, by the definitions in `docs/metrics.md`.
//!
//! Work is split in two so that a window never changes what came before it:
//! [`attribute`] decides, once and for all of history, which changes each deployment carries,
//! which deployment is a baseline and which deployment each incident is attributed to; [`keys`]
//! then only counts what falls inside a window. Moving a window by a day can therefore only add or
//! drop the rows at its edges, never re-attribute the rows inside.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::model::{Deployment, Incident, Millis};

pub use crate::stats::percentile;

const DAY_MS: f64 = 86_400_000.0;

/// What attribution needs to know about a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitNode {
    pub sha: String,
    pub parents: Vec<String>,
    pub committed_at: Millis,
    /// Authored by a bot: no lead time.
    pub bot: bool,
}

/// A change carried by a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Change {
    pub sha: String,
    pub committed_at: Millis,
    /// Where its lead time starts: its commit time, or the first commit of the pull request it
    /// merged (`lead_time_start = "pr_first_commit"`, see [`start_at_pull_requests`]).
    pub started_at: Millis,
    pub bot: bool,
}

/// A counted deployment with what attribution found for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributedDeployment {
    pub deployment: Deployment,
    /// The first deployment of its service and environment: its changes have no lead time.
    pub baseline: bool,
    /// Non-merge commits reachable from its sha and from no earlier deployment.
    pub changes: Vec<Change>,
    /// Ids of the incidents attributed to it: it failed when this is not empty.
    pub incidents: Vec<String>,
    /// It carries a remediation commit (a revert of a deployed commit, a hotfix).
    pub rework: bool,
}

/// By which rule an incident was tied to a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CauseRule {
    /// The incident names the deployment.
    NamedDeployment,
    /// The incident names a commit; the deployment is that commit's first deployment.
    NamedCommit,
    /// The latest deployment of the service that finished at or before the incident opened.
    LatestBefore,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributedIncident {
    pub incident: Incident,
    /// The deployment (by id) the incident is attributed to, and by which rule.
    pub cause: Option<(String, CauseRule)>,
}

/// All of history, attributed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attribution {
    /// Counted deployments, ordered by (finished_at, service, id).
    pub deployments: Vec<AttributedDeployment>,
    pub incidents: Vec<AttributedIncident>,
    /// Commit sha → its index in the commits attribution saw.
    sha_index: FastMap<String, u32>,
    /// Service → for each commit index, 1 + the index in `deployments` of its first deployment.
    first_by_service: FastMap<String, Vec<u32>>,
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Commits by sha, for walks over the graph (inference of deployments from git).
pub type GraphIndex<'a> = FastMap<&'a str, &'a CommitNode>;

pub fn graph_index(commits: &[CommitNode]) -> GraphIndex<'_> {
    commits.iter().map(|c| (c.sha.as_str(), c)).collect()
}

/// Which deployments and incidents to attribute.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub environment: &'a str,
    /// `None`: every service, each attributed on its own, counted together.
    pub service: Option<&'a str>,
    /// Services of a monorepo that own paths: for each, which commits (by their index in the
    /// commits given to [`attribute`]) touch those paths. Only those are the service's changes.
    pub paths: Option<&'a PathScope>,
}

/// Service → for each commit, whether it touches the service's paths.
pub type PathScope = HashMap<String, Vec<bool>>;

/// Attributes changes to deployments and incidents to deployments (see `docs/metrics.md`).
/// `remediations` are the shas of commits that fix an incident (reverts of deployed commits,
/// hotfixes): a deployment carrying one is rework.
pub fn attribute(
    deployments: &[Deployment],
    incidents: &[Incident],
    commits: &[CommitNode],
    remediations: &HashSet<String>,
    scope: Scope<'_>,
) -> Attribution {
    let mut attribution = attribute_changes(deployments, commits, scope);
    attach(&mut attribution, incidents, remediations, scope);
    attribution
}

/// Replaces abbreviated shas of deployments and incident causes by the one commit they
/// abbreviate; an abbreviation that matches no commit or several is left as it is (and then
/// matches nothing). Returns how many were left unresolved.
pub fn resolve_abbreviations(
    deployments: &mut [Deployment],
    incidents: &mut [Incident],
    graph: &GraphIndex<'_>,
) -> usize {
    let mut wanted: Vec<&mut String> = deployments
        .iter_mut()
        .map(|d| &mut d.sha)
        .chain(
            incidents
                .iter_mut()
                .flat_map(|i| [i.cause_sha.as_mut(), i.fix_sha.as_mut()])
                .flatten(),
        )
        .filter(|sha| !graph.contains_key(sha.as_str()))
        .collect();
    if wanted.is_empty() {
        return 0;
    }
    let mut shas: Vec<&str> = graph.keys().copied().collect();
    shas.sort_unstable();
    let mut unresolved = 0;
    for sha in &mut wanted {
        let start = shas.partition_point(|s| *s < sha.as_str());
        let matching = shas[start..]
            .iter()
            .take_while(|s| s.starts_with(sha.as_str()))
            .take(2)
            .count();
        if matching == 1 {
            **sha = shas[start].to_owned();
        } else {
            unresolved += 1;
        }
    }
    unresolved
}

/// The first phase of [`attribute`]: deployments in scope with their changes and baselines,
/// no incidents yet (inference of incidents from git needs this to know what was deployed).
pub fn attribute_changes(
    deployments: &[Deployment],
    commits: &[CommitNode],
    scope: Scope<'_>,
) -> Attribution {
    // Commits by index: walks touch integers, not strings.
    let mut sha_index: FastMap<String, u32> =
        FastMap::with_capacity_and_hasher(commits.len(), Default::default());
    for (i, c) in commits.iter().enumerate() {
        sha_index.insert(c.sha.clone(), i as u32);
    }
    // Parents as one flat list: commit i's are parents[offsets[i]..offsets[i + 1]].
    let mut offsets: Vec<u32> = Vec::with_capacity(commits.len() + 1);
    let mut parents: Vec<u32> = Vec::with_capacity(commits.len() + commits.len() / 8);
    offsets.push(0);
    for c in commits {
        parents.extend(c.parents.iter().filter_map(|p| sha_index.get(p).copied()));
        offsets.push(parents.len() as u32);
    }
    let mut counted: Vec<&Deployment> = deployments
        .iter()
        .filter(|d| {
            d.status == "success"
                && d.environment == scope.environment
                && scope.includes(&d.service)
        })
        .collect();
    // One global order; restricted to a service it is that service's (finished_at, id) order.
    counted.sort_by(|a, b| {
        (a.finished_at, &a.service, &a.id).cmp(&(b.finished_at, &b.service, &b.id))
    });
    // Per service: for each commit, 1 + the index of its first deployment (0: not deployed).
    let mut first_by_service: FastMap<String, Vec<u32>> = FastMap::default();
    let mut attributed = Vec::with_capacity(counted.len());
    for (index, d) in counted.iter().enumerate() {
        // A deployment of a commit no ingested repository holds carries no changes and cannot
        // be the baseline: the baseline is the earliest deployment whose history is known.
        let Some(&head) = sha_index.get(&d.sha) else {
            attributed.push(AttributedDeployment {
                deployment: (*d).clone(),
                baseline: false,
                changes: Vec::new(),
                incidents: Vec::new(),
                rework: false,
            });
            continue;
        };
        let baseline = !first_by_service.contains_key(&d.service);
        let first = first_by_service
            .entry(d.service.clone())
            .or_insert_with(|| vec![0; commits.len()]);
        let touches = scope.paths.and_then(|p| p.get(&d.service));
        let mut changes = Vec::new();
        let mut stack: Vec<u32> = vec![head];
        while let Some(node) = stack.pop() {
            let slot = &mut first[node as usize];
            if *slot != 0 {
                continue;
            }
            *slot = index as u32 + 1;
            let c = &commits[node as usize];
            let owned = touches.is_none_or(|t| t.get(node as usize).copied().unwrap_or(false));
            if c.parents.len() <= 1 && owned {
                changes.push(Change {
                    sha: c.sha.clone(),
                    committed_at: c.committed_at,
                    started_at: c.committed_at,
                    bot: c.bot,
                });
            }
            let (from, to) = (offsets[node as usize], offsets[node as usize + 1]);
            stack.extend(&parents[from as usize..to as usize]);
        }
        changes.sort_by(|a, b| (a.committed_at, &a.sha).cmp(&(b.committed_at, &b.sha)));
        attributed.push(AttributedDeployment {
            deployment: (*d).clone(),
            baseline,
            changes,
            incidents: Vec::new(),
            rework: false,
        });
    }
    Attribution {
        deployments: attributed,
        incidents: Vec::new(),
        sha_index,
        first_by_service,
    }
}

/// The second phase of [`attribute`]: ties incidents in scope to deployments and marks the
/// deployments that carry a remediation as rework. Replaces what an earlier call attached.
pub fn attach(
    attribution: &mut Attribution,
    incidents: &[Incident],
    remediations: &HashSet<String>,
    scope: Scope<'_>,
) {
    // Rework: a deployment carrying a remediation (a revert, a hotfix), the fix an incident
    // names by its commit, or the deployment an incident names as its fix.
    let fix_deployments: HashSet<&str> = incidents
        .iter()
        .filter_map(|i| i.fix_deployment.as_deref())
        .collect();
    let fix_shas: HashSet<&str> = incidents
        .iter()
        .filter_map(|i| i.fix_sha.as_deref())
        .collect();
    for d in &mut attribution.deployments {
        d.rework = fix_deployments.contains(d.deployment.id.as_str())
            || d.changes
                .iter()
                .any(|c| remediations.contains(&c.sha) || fix_shas.contains(c.sha.as_str()));
        d.incidents.clear();
    }
    let attributed: Vec<AttributedIncident> = incidents
        .iter()
        .filter(|i| scope.includes(&i.service))
        .map(|incident| AttributedIncident {
            incident: incident.clone(),
            cause: attribution.cause_of(incident),
        })
        .collect();
    for i in &attributed {
        if let Some((id, _)) = &i.cause
            && let Some(d) = attribution
                .deployments
                .iter_mut()
                .find(|d| &d.deployment.id == id && d.deployment.service == i.incident.service)
        {
            d.incidents.push(i.incident.id.clone());
        }
    }
    attribution.incidents = attributed;
}

impl Scope<'_> {
    fn includes(&self, service: &str) -> bool {
        self.service.is_none_or(|s| s == service)
    }
}

impl Attribution {
    /// The deployment of `service` whose changes (or, for a merge, whose carried commits)
    /// include `sha`.
    pub fn first_deployment(&self, service: &str, sha: &str) -> Option<&AttributedDeployment> {
        let node = *self.sha_index.get(sha)?;
        let slot = *self.first_by_service.get(service)?.get(node as usize)?;
        slot.checked_sub(1).map(|i| &self.deployments[i as usize])
    }

    /// Whether `sha` is a commit of an ingested repository's history.
    pub fn knows(&self, sha: &str) -> bool {
        self.sha_index.contains_key(sha)
    }

    /// The first deployment of any service that carries `sha`.
    pub fn first_deployment_of_any(&self, sha: &str) -> Option<&AttributedDeployment> {
        let node = *self.sha_index.get(sha)?;
        self.first_by_service
            .values()
            .filter_map(|first| first.get(node as usize)?.checked_sub(1))
            .map(|i| &self.deployments[i as usize])
            .min_by_key(|d| d.deployment.finished_at)
    }

    /// The deployment an incident is attributed to: named (of its service), else through a
    /// named commit, else the latest of its service finished at or before it opened. A name
    /// that matches nothing falls through to the next rule.
    fn cause_of(&self, incident: &Incident) -> Option<(String, CauseRule)> {
        let of_service = |d: &&AttributedDeployment| d.deployment.service == incident.service;
        if let Some(id) = &incident.cause_deployment
            && self
                .deployments
                .iter()
                .filter(of_service)
                .any(|d| &d.deployment.id == id)
        {
            return Some((id.clone(), CauseRule::NamedDeployment));
        }
        if let Some(sha) = &incident.cause_sha
            && let Some(d) = self.first_deployment(&incident.service, sha)
        {
            return Some((d.deployment.id.clone(), CauseRule::NamedCommit));
        }
        // Deployments are in finished_at order: the last of the service at or before opening.
        self.deployments
            .iter()
            .filter(of_service)
            .take_while(|d| d.deployment.finished_at <= incident.opened_at)
            .last()
            .map(|d| (d.deployment.id.clone(), CauseRule::LatestBefore))
    }
}

/// A window of time, `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: Millis,
    pub until: Millis,
}

impl Window {
    pub fn contains(&self, at: Millis) -> bool {
        self.since <= at && at < self.until
    }

    fn days(&self) -> f64 {
        (self.until - self.since) as f64 / DAY_MS
    }
}

/// DORA performance bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

/// Band thresholds (defaults from DESIGN.md; overridable in `leadline.toml`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bands {
    /// Deployments per day at or above which frequency is elite, high, medium.
    pub frequency_per_day: [f64; 3],
    /// Median lead time in seconds below which it is elite, high, medium.
    pub lead_time_seconds: [f64; 3],
    /// Change failure rate at or below which it is elite, high, medium.
    pub change_failure_rate: [f64; 3],
    /// Median recovery time in seconds below which it is elite, high, medium.
    pub recovery_seconds: [f64; 3],
}

impl Default for Bands {
    fn default() -> Self {
        const DAY: f64 = 86_400.0;
        Bands {
            frequency_per_day: [1.0, 1.0 / 7.0, 1.0 / 30.0],
            lead_time_seconds: [DAY, 7.0 * DAY, 30.0 * DAY],
            change_failure_rate: [0.05, 0.10, 0.15],
            recovery_seconds: [3_600.0, DAY, 7.0 * DAY],
        }
    }
}

fn band(rank: impl Fn(f64) -> bool, limits: [f64; 3]) -> Band {
    match limits.iter().position(|&l| rank(l)) {
        Some(0) => Band::Elite,
        Some(1) => Band::High,
        Some(2) => Band::Medium,
        _ => Band::Low,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DeploymentFrequency {
    pub deployments: u64,
    pub per_day: f64,
    pub band: Option<Band>,
    /// Why the figure is missing or only a proxy; absent when it is what it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LeadTime {
    pub changes: u64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub band: Option<Band>,
    /// Why the figure is missing or only a proxy; absent when it is what it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChangeFailureRate {
    pub failed_deployments: u64,
    pub deployments: u64,
    pub rate: Option<f64>,
    pub band: Option<Band>,
    /// Why the figure is missing or only a proxy; absent when it is what it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RecoveryTime {
    pub incidents: u64,
    pub median_seconds: Option<f64>,
    pub band: Option<Band>,
    /// Why the figure is missing or only a proxy; absent when it is what it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ReworkRate {
    pub rework_deployments: u64,
    pub deployments: u64,
    pub rate: Option<f64>,
}

/// The five keys for one window.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DoraKeys {
    pub deployment_frequency: DeploymentFrequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub recovery_time: RecoveryTime,
    pub rework_rate: ReworkRate,
}

/// Starts the lead time of each change that merged a pull request (its sha is the pull
/// request's merge commit) at that pull request's first commit, when earlier: with squash and
/// rebase merges the merge commit is written at merge time and would hide the work before it.
pub fn start_at_pull_requests(
    attribution: &mut Attribution,
    first_commits: &HashMap<String, Millis>,
) {
    for d in &mut attribution.deployments {
        for c in &mut d.changes {
            if let Some(&first) = first_commits.get(&c.sha) {
                c.started_at = c.started_at.min(first);
            }
        }
    }
}

/// Lead times in seconds of the changes counted in `window`.
pub fn lead_times(attribution: &Attribution, window: Window) -> Vec<f64> {
    let mut out: Vec<f64> = in_window(attribution, window)
        .filter(|d| !d.baseline)
        .flat_map(|d| {
            d.changes
                .iter()
                .filter(|c| !c.bot)
                .map(move |c| ((d.deployment.finished_at - c.started_at).max(0) as f64) / 1000.0)
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// Recovery times in seconds of the incidents resolved in `window` that are attributed to a
/// deployment: DORA narrowed the key to failed deployments in 2023, so an incident no
/// deployment caused (a provider outage) does not count.
pub fn recovery_times(attribution: &Attribution, window: Window) -> Vec<f64> {
    let mut out: Vec<f64> = attribution
        .incidents
        .iter()
        .filter(|i| i.cause.is_some())
        .filter_map(|i| {
            let resolved = i.incident.resolved_at.filter(|&r| window.contains(r))?;
            Some(((resolved - i.incident.opened_at).max(0) as f64) / 1000.0)
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// Counted deployments finished in `window`.
pub fn in_window(
    attribution: &Attribution,
    window: Window,
) -> impl Iterator<Item = &AttributedDeployment> {
    attribution
        .deployments
        .iter()
        .filter(move |d| window.contains(d.deployment.finished_at))
}

/// The five keys for `window`.
pub fn keys(attribution: &Attribution, window: Window, bands: &Bands) -> DoraKeys {
    let deployed: Vec<&AttributedDeployment> = in_window(attribution, window).collect();
    let n = deployed.len() as u64;
    let per_day = n as f64 / window.days();
    let failed = deployed.iter().filter(|d| !d.incidents.is_empty()).count() as u64;
    let rework = deployed.iter().filter(|d| d.rework).count() as u64;
    let rate = |k: u64| (n > 0).then(|| k as f64 / n as f64);

    let leads = lead_times(attribution, window);
    let lead_median = percentile(&leads, 50.0);
    let recoveries = recovery_times(attribution, window);
    let recovery_median = percentile(&recoveries, 50.0);
    let cfr = rate(failed);
    DoraKeys {
        deployment_frequency: DeploymentFrequency {
            deployments: n,
            per_day,
            band: Some(band(|l| per_day >= l, bands.frequency_per_day)),
            reason: None,
        },
        lead_time: LeadTime {
            changes: leads.len() as u64,
            median_seconds: lead_median,
            p90_seconds: percentile(&leads, 90.0),
            band: lead_median.map(|m| band(|l| m < l, bands.lead_time_seconds)),
            reason: None,
        },
        change_failure_rate: ChangeFailureRate {
            failed_deployments: failed,
            deployments: n,
            rate: cfr,
            band: cfr.map(|r| band(|l| r <= l, bands.change_failure_rate)),
            reason: None,
        },
        recovery_time: RecoveryTime {
            incidents: recoveries.len() as u64,
            median_seconds: recovery_median,
            band: recovery_median.map(|m| band(|l| m < l, bands.recovery_seconds)),
            reason: None,
        },
        rework_rate: ReworkRate {
            rework_deployments: rework,
            deployments: n,
            rate: rate(rework),
        },
    }
}

impl DoraKeys {
    /// The keys of a scope whose only deployments are HEAD's first-parent commits (no release
    /// tags, nothing imported). On such a history every commit "deploys" itself at its own
    /// time, so lead time would always be 0 (elite) and failures would be guesses: lead time,
    /// change failure rate and recovery are `null` with the reason, and deployment frequency
    /// stays, labelled as the proxy it is (commits on the main line per day).
    pub fn as_first_parent_proxy(&mut self) {
        const HINT: &str = "import deployments (leadline import deployments) or set \
             deployments.tag_pattern to the tags that mark releases";
        let why =
            format!("no deployments are known, only commits on HEAD's first-parent line; {HINT}");
        self.deployment_frequency.reason = Some(format!(
            "a proxy: each first-parent commit of HEAD counted as a deployment; {HINT}"
        ));
        self.lead_time = LeadTime {
            changes: 0,
            median_seconds: None,
            p90_seconds: None,
            band: None,
            reason: Some(why.clone()),
        };
        self.change_failure_rate = ChangeFailureRate {
            failed_deployments: 0,
            deployments: self.change_failure_rate.deployments,
            rate: None,
            band: None,
            reason: Some(why.clone()),
        };
        self.recovery_time = RecoveryTime {
            incidents: 0,
            median_seconds: None,
            band: None,
            reason: Some(why),
        };
    }
}

pub mod infer;
pub mod quick_check;
#[cfg(test)]
mod tests;
