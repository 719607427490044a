//! The DORA family: gathers deployments and incidents (imported, else inferred from git),
//! attributes them with the core and computes the five keys for a window or a series, with the
//! rows behind them. `leadline dora` renders these reports; `GET /api/v1/dora` serves them.

use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use leadline_core::dora::infer::{self, Revert};
use leadline_core::dora::{
    self, Attribution, Bands, CommitNode, DoraKeys, PathScope, Scope, Window,
};
use leadline_core::model::{Deployment, Incident, Millis, RefKind};
use leadline_core::store::Store;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, UsageError};
use crate::window::{By, DAY_MS, MAX_PERIODS, buckets, resolve, utc};

/// What the family needs from the configuration, resolved, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Services owning paths, with their compiled globs.
    pub services: Vec<(String, globset::GlobSet)>,
    /// `deployments.tag_pattern`; none: the zero-config release tag rules.
    pub tag_pattern: Option<String>,
    pub hotfix_pattern: Option<String>,
    /// How long after a deployment a revert of its commits still marks it failed, in ms.
    pub revert_max_age: Millis,
    pub bots: Vec<String>,
    pub bands: Bands,
    /// Lead time of a pull request's merge commit starts at the pull request's first commit.
    pub lead_time_from_pull_requests: bool,
    /// Other names of services (a PagerDuty service id, a repository slug) and the service
    /// each names: deployments and incidents filed under an alias count for the service.
    pub aliases: std::collections::HashMap<String, String>,
}

/// What a DORA report is asked for, however it was asked (command line, API, metric name).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    /// Only this service; all services together when none.
    pub service: Option<String>,
    /// The environment whose deployments count.
    pub env: String,
    pub since: Option<String>,
    pub until: Option<String>,
    /// A series: one report per calendar week or month.
    pub by: Option<By>,
    /// With the deployments, changes and incidents behind each number.
    pub explain: bool,
    /// Explanation rows to skip (the next page starts where one ended).
    pub explain_offset: usize,
    /// At most this many explanation rows, 1 to [`MAX_EXPLAIN_ROWS`].
    pub explain_limit: usize,
}

impl Default for Query {
    fn default() -> Query {
        Query {
            service: None,
            env: "production".to_owned(),
            since: None,
            until: None,
            by: None,
            explain: false,
            explain_offset: 0,
            explain_limit: MAX_EXPLAIN_ROWS,
        }
    }
}

impl Query {
    /// One service in production, default window: what `analyze` shows.
    pub fn service(name: &str) -> Query {
        Query {
            service: Some(name.to_owned()),
            ..Query::default()
        }
    }
}

/// Default window: the last 90 days of the data.
const DEFAULT_DAYS: i64 = 90;

/// Everything the keys are computed from, with how it was found.
pub struct Inputs {
    pub deployments: Vec<Deployment>,
    pub incidents: Vec<Incident>,
    pub commits: Vec<CommitNode>,
    pub reverts: Vec<Revert>,
    /// Commits whose subject matches `failures.hotfix_pattern`.
    pub hotfixes: Option<HashSet<String>>,
    /// `failures.revert_max_age_days` in milliseconds.
    pub revert_max_age: Millis,
    /// Services whose deployments are only HEAD's first-parent commits (no releases known).
    pub proxy_services: HashSet<String>,
    pub deployment_basis: Vec<String>,
    pub incident_basis: Vec<String>,
    /// First commits of synced pull requests by merge commit, when lead time starts there.
    pub pull_request_starts: HashMap<String, Millis>,
}

/// Loads stored deployments and incidents; repositories whose name has no imported
/// deployments get inferred ones (release tags, else first-parent commits of HEAD).
pub async fn gather(store: &Arc<dyn Store>, config: &Settings) -> Result<Inputs> {
    let pattern = config
        .tag_pattern
        .as_deref()
        .map(|p| {
            Regex::new(p)
                .map_err(|e| Error::Settings(format!("invalid deployments.tag_pattern {p:?}: {e}")))
        })
        .transpose()?;
    let hotfix = config
        .hotfix_pattern
        .as_deref()
        .map(|p| {
            Regex::new(p)
                .map_err(|e| Error::Settings(format!("invalid failures.hotfix_pattern {p:?}: {e}")))
        })
        .transpose()?;
    let hotfixes = match hotfix {
        Some(re) => Some(
            store
                .subjects()
                .await?
                .into_iter()
                .filter(|(_, subject)| re.is_match(subject))
                .map(|(sha, _)| sha)
                .collect::<HashSet<String>>(),
        ),
        None => None,
    };
    let graph = store.commit_graph(&config.bots).await?;
    let deployments = store.deployments().await?;
    let incidents = store.incidents().await?;
    let reverts = store.reverts().await?;
    let repositories = store.repositories().await?;
    let commits: Vec<CommitNode> = graph
        .into_iter()
        .map(|g| CommitNode {
            bot: g.bot,
            sha: g.sha,
            parents: g.parents,
            committed_at: g.committed_at,
        })
        .collect();
    let graph = dora::graph_index(&commits);
    let (mut deployments, absurd_deployments) =
        sane(deployments, |d| [Some(d.finished_at), d.started_at]);
    let (mut incidents, absurd_incidents) = sane(incidents, |i| [Some(i.opened_at), i.resolved_at]);
    if absurd_deployments + absurd_incidents > 0 {
        tracing::warn!(
            "left out {absurd_deployments} deployment(s) and {absurd_incidents} incident(s) \
             dated before 1970 or more than a day from now (stored before such times were refused)"
        );
    }
    for d in &mut deployments {
        if let Some(service) = config.aliases.get(&d.service) {
            d.service.clone_from(service);
        }
    }
    for i in &mut incidents {
        if let Some(service) = config.aliases.get(&i.service) {
            i.service.clone_from(service);
        }
    }
    let unresolved = dora::resolve_abbreviations(&mut deployments, &mut incidents, &graph);
    if unresolved > 0 {
        tracing::warn!("{unresolved} imported commit sha(s) match no ingested commit, or several");
    }
    let mut deployment_basis = Vec::new();
    if !deployments.is_empty() {
        deployment_basis.push(format!("imported: {} deployments", deployments.len()));
    }
    // Imported deployments replace inference for the repositories they deploy: those named by
    // a deployment's service or repo, or holding a deployed commit.
    let named: HashSet<&str> = deployments
        .iter()
        .flat_map(|d| [Some(d.service.as_str()), d.repo.as_deref()])
        .flatten()
        .collect();
    let deployed: Vec<String> = deployments.iter().map(|d| d.sha.clone()).collect();
    let covered: HashSet<i64> = store
        .repositories_with(&deployed)
        .await?
        .into_iter()
        .collect();
    let mut inferred = Vec::new();
    let mut proxy_services = HashSet::new();
    for repo in repositories {
        if covered.contains(&repo.id) || named.contains(repo.name.as_str()) {
            continue;
        }
        let refs = store.refs(repo.id).await?;
        let (tagged, basis) = match &pattern {
            Some(p) => {
                let tagged = infer::from_tags(&repo.name, &refs, &graph, p);
                let basis = format!(
                    "{}: {} release tags matching {} (deployments.tag_pattern)",
                    repo.name,
                    tagged.len(),
                    p.as_str()
                );
                (tagged, basis)
            }
            None => infer::from_release_tags(&repo.name, &refs, &graph),
        };
        if !tagged.is_empty() {
            deployment_basis.push(basis);
            inferred.extend(tagged);
            continue;
        }
        if let Some(head) = refs.iter().find(|r| r.kind == RefKind::Head) {
            let continuous = infer::from_first_parents(&repo.name, &head.commit, &graph);
            deployment_basis.push(format!(
                "{}: no release tags, so {} first-parent commits of HEAD (continuous deployment)",
                repo.name,
                continuous.len()
            ));
            inferred.extend(continuous);
            proxy_services.insert(repo.name.clone());
        }
    }
    deployments.extend(inferred);

    let reverts = reverts
        .into_iter()
        .filter_map(|r| {
            let reverted = infer::reverted_sha(&r.message)?;
            Some(Revert {
                sha: r.sha,
                committed_at: r.committed_at,
                reverted,
            })
        })
        .collect();
    let incident_basis = vec![format!("imported: {} incidents", incidents.len())];
    let mut pull_request_starts = HashMap::new();
    if config.lead_time_from_pull_requests {
        for pr in store.pull_requests().await? {
            if let (Some(sha), Some(first)) = (pr.merge_sha, pr.first_commit_at) {
                pull_request_starts.insert(sha, first);
            }
        }
    }
    Ok(Inputs {
        proxy_services,
        revert_max_age: config.revert_max_age,
        pull_request_starts,
        deployments,
        incidents,
        commits,
        reverts,
        hotfixes,
        deployment_basis,
        incident_basis,
    })
}

/// The rows of `(source, row)` pairs whose instants are all sane (see
/// [`leadline_sources::instant`]), and how many were not: rows stored before instants were
/// checked at the door must not move every default window or break reads of good rows.
fn sane<T>(
    rows: Vec<(String, T)>,
    instants: impl Fn(&T) -> [Option<Millis>; 2],
) -> (Vec<T>, usize) {
    let total = rows.len();
    let kept: Vec<T> = rows
        .into_iter()
        .map(|(_, row)| row)
        .filter(|row| {
            instants(row)
                .into_iter()
                .flatten()
                .all(|at| leadline_core::instant::check(at).is_ok())
        })
        .collect();
    let dropped = total - kept.len();
    (kept, dropped)
}

/// Attribution with incidents from reverts (and hotfixes, when configured) added to the
/// imported ones, and how those incidents were found.
pub fn attribute(inputs: &Inputs, scope: Scope<'_>) -> (Attribution, Vec<String>) {
    let mut attribution = dora::attribute_changes(&inputs.deployments, &inputs.commits, scope);
    let (from_reverts, mut remediations) =
        infer::revert_incidents(&attribution, &inputs.reverts, inputs.revert_max_age);
    let mut basis = inputs.incident_basis.clone();
    basis.push(format!(
        "reverts of deployed commits: {} incidents",
        from_reverts.len()
    ));
    let mut incidents = inputs.incidents.clone();
    incidents.extend(from_reverts);
    if let Some(hotfixes) = &inputs.hotfixes {
        let (from_hotfixes, fixes) = infer::hotfix_incidents(&attribution, hotfixes);
        basis.push(format!("hotfixes: {} incidents", from_hotfixes.len()));
        incidents.extend(from_hotfixes);
        remediations.extend(fixes);
    }
    dora::attach(&mut attribution, &incidents, &remediations, scope);
    if !inputs.pull_request_starts.is_empty() {
        dora::start_at_pull_requests(&mut attribution, &inputs.pull_request_starts);
    }
    (attribution, basis)
}

/// The JSON contract of `leadline dora --format json`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Report<'a> {
    pub since: String,
    pub until: String,
    pub service: Option<&'a str>,
    pub environment: &'a str,
    pub basis: Basis,
    #[serde(flatten)]
    pub keys: DoraKeys,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
}

/// How deployments and incidents were found.
#[derive(Serialize, Clone, schemars::JsonSchema)]
pub struct Basis {
    pub deployments: String,
    pub incidents: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Explanation {
    pub deployments: Vec<ExplainedDeployment>,
    pub changes: Vec<ExplainedChange>,
    pub incidents: Vec<ExplainedIncident>,
    /// Which of the response's explanation rows these are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<ExplainRows>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ExplainedDeployment {
    pub id: String,
    pub service: String,
    pub sha: String,
    pub finished_at: String,
    pub baseline: bool,
    pub changes: usize,
    pub failed_by: Vec<String>,
    pub rework: bool,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ExplainedChange {
    pub sha: String,
    pub deployment: String,
    pub committed_at: String,
    /// Where its lead time starts: `committed_at`, or the pull request's first commit.
    pub started_at: String,
    pub lead_time_seconds: Option<f64>,
    pub excluded: Option<&'static str>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct ExplainedIncident {
    pub id: String,
    pub service: String,
    pub opened_at: String,
    pub resolved_at: Option<String>,
    pub caused_by: Option<String>,
    pub rule: Option<dora::CauseRule>,
    pub recovery_seconds: Option<f64>,
}

fn explain(a: &Attribution, w: Window, pager: &mut Pager) -> Explanation {
    let deployed: Vec<_> = dora::in_window(a, w).collect();
    Explanation {
        deployments: deployed
            .iter()
            .filter(|_| pager.admit())
            .map(|d| ExplainedDeployment {
                id: d.deployment.id.clone(),
                service: d.deployment.service.clone(),
                sha: d.deployment.sha.clone(),
                finished_at: utc(d.deployment.finished_at),
                baseline: d.baseline,
                changes: d.changes.len(),
                failed_by: d.incidents.clone(),
                rework: d.rework,
            })
            .collect(),
        changes: deployed
            .iter()
            .flat_map(|d| d.changes.iter().map(move |c| (d, c)))
            .filter(|_| pager.admit())
            .map(|(d, c)| {
                let excluded = if d.baseline {
                    Some("baseline")
                } else if c.bot {
                    Some("bot")
                } else {
                    None
                };
                ExplainedChange {
                    sha: c.sha.clone(),
                    deployment: d.deployment.id.clone(),
                    committed_at: utc(c.committed_at),
                    started_at: utc(c.started_at),
                    // From the same start as the key: the commit, or in `pr_first_commit` mode
                    // the first commit of the pull request it was merged with.
                    lead_time_seconds: excluded.is_none().then(|| {
                        ((d.deployment.finished_at - c.started_at).max(0) as f64) / 1000.0
                    }),
                    excluded,
                }
            })
            .collect(),
        incidents: a
            .incidents
            .iter()
            .filter(|i| {
                w.contains(i.incident.opened_at)
                    || i.incident.resolved_at.is_some_and(|r| w.contains(r))
            })
            .filter(|_| pager.admit())
            .map(|i| ExplainedIncident {
                id: i.incident.id.clone(),
                service: i.incident.service.clone(),
                opened_at: utc(i.incident.opened_at),
                resolved_at: i.incident.resolved_at.map(utc),
                caused_by: i.cause.as_ref().map(|c| c.0.clone()),
                rule: i.cause.as_ref().map(|c| c.1),
                recovery_seconds: i
                    .incident
                    .resolved_at
                    .filter(|&r| w.contains(r))
                    .map(|r| ((r - i.incident.opened_at).max(0) as f64) / 1000.0),
            })
            .collect(),
        rows: None,
    }
}

/// The most explanation rows one response holds; more are paged with `--explain-offset`.
pub const MAX_EXPLAIN_ROWS: usize = 10_000;

/// Which explanation rows one response holds. Rows are numbered across the response's
/// reports in order (each report: its deployments, changes, incidents); only those in
/// [offset, offset + limit) are written, so memory and output stay bounded whatever the window.
pub struct Pager {
    offset: usize,
    limit: usize,
    seen: usize,
}

impl Pager {
    fn admit(&mut self) -> bool {
        let i = self.seen;
        self.seen += 1;
        i >= self.offset && i - self.offset < self.limit
    }

    fn rows(&self) -> ExplainRows {
        let end = self.offset.saturating_add(self.limit);
        ExplainRows {
            total: self.seen,
            offset: self.offset,
            limit: self.limit,
            next_offset: (end < self.seen).then_some(end),
        }
    }
}

/// Where this page of explanation rows sits among all of them.
#[derive(Serialize, Clone, Copy, schemars::JsonSchema)]
pub struct ExplainRows {
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// The `explain_offset` of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
}

/// The window asked for, defaulting to the last 90 days of the data (ending at the UTC
/// midnight after the newest event).
fn window(args: &Query, a: &Attribution) -> Result<Window> {
    let newest = a
        .deployments
        .iter()
        .map(|d| d.deployment.finished_at)
        .chain(
            a.incidents
                .iter()
                .flat_map(|i| [Some(i.incident.opened_at), i.incident.resolved_at])
                .flatten(),
        )
        .max();
    Ok(resolve(
        args.since.as_deref(),
        args.until.as_deref(),
        newest,
        |until| Ok(until - DEFAULT_DAYS * DAY_MS),
    )?)
}

/// Which commits touch each configured service's paths, aligned with `commits`.
async fn path_scope(
    store: &Arc<dyn Store>,
    config: &Settings,
    commits: &[CommitNode],
) -> Result<Option<PathScope>> {
    if config.services.is_empty() {
        return Ok(None);
    }
    let index: HashMap<&str, usize> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.sha.as_str(), i))
        .collect();
    let mut scope: PathScope = config
        .services
        .iter()
        .map(|(name, _)| (name.clone(), vec![false; commits.len()]))
        .collect();
    for (sha, path) in store.commit_paths().await? {
        let Some(&i) = index.get(sha.as_str()) else {
            continue;
        };
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(&path));
        for (name, globs) in &config.services {
            if globs.is_match(path)
                && let Some(touches) = scope.get_mut(name)
            {
                touches[i] = true;
            }
        }
    }
    Ok(Some(scope))
}

/// The reports `leadline dora` prints: one per window (one window, or the periods of `--by`),
/// and the keys of the window before, for the trend column.
pub struct Computed<'a> {
    pub reports: Vec<Report<'a>>,
    pub previous: DoraKeys,
}

/// Everything the keys of any scope and window are computed from: the inputs, and which
/// commits touch each configured service's paths. The server keeps one for a while.
pub struct Gathered {
    pub inputs: Inputs,
    paths: Option<PathScope>,
}

pub async fn load(store: &Arc<dyn Store>, config: &Settings) -> Result<Gathered> {
    let inputs = gather(store, config).await?;
    let paths = path_scope(store, config, &inputs.commits).await?;
    Ok(Gathered { inputs, paths })
}

impl Gathered {
    pub fn scope<'a>(&'a self, environment: &'a str, service: Option<&'a str>) -> Scope<'a> {
        Scope {
            environment,
            service,
            paths: self.paths.as_ref(),
        }
    }
}

/// The reports for `args` from gathered inputs.
pub fn compute_from<'a>(
    gathered: &Gathered,
    args: &'a Query,
    config: &Settings,
) -> Result<Computed<'a>> {
    let inputs = &gathered.inputs;
    let (attribution, incident_basis) =
        attribute(inputs, gathered.scope(&args.env, args.service.as_deref()));
    let basis = Basis {
        deployments: if inputs.deployment_basis.is_empty() {
            "none found: import deployments or ingest a repository".to_owned()
        } else {
            inputs.deployment_basis.join("; ")
        },
        incidents: incident_basis.join("; "),
    };
    let window = window(args, &attribution)?;
    let windows = match args.by {
        Some(by) => buckets(window, by, MAX_PERIODS)?,
        None => vec![window],
    };
    if !(1..=MAX_EXPLAIN_ROWS).contains(&args.explain_limit) {
        return Err(UsageError(format!(
            "explain limit {}: expected 1 to {MAX_EXPLAIN_ROWS} rows per response",
            args.explain_limit
        ))
        .into());
    }
    let mut pager = Pager {
        offset: args.explain_offset,
        limit: args.explain_limit,
        seen: 0,
    };
    // When every deployment in scope is a first-parent commit, the keys other than frequency
    // would be artefacts of that inference: null, with why.
    let proxy = {
        let mut services = attribution
            .deployments
            .iter()
            .map(|d| d.deployment.service.as_str());
        let mut any = false;
        let all = services.all(|s| {
            any = true;
            inputs.proxy_services.contains(s)
        });
        any && all
    };
    let keys = |w: Window| {
        let mut k = dora::keys(&attribution, w, &config.bands);
        if proxy {
            k.as_first_parent_proxy();
        }
        k
    };
    let mut reports: Vec<Report<'a>> = windows
        .iter()
        .map(|&w| Report {
            since: utc(w.since),
            until: utc(w.until),
            service: args.service.as_deref(),
            environment: &args.env,
            basis: basis.clone(),
            keys: keys(w),
            explain: args.explain.then(|| explain(&attribution, w, &mut pager)),
        })
        .collect();
    let rows = pager.rows();
    for report in &mut reports {
        if let Some(e) = &mut report.explain {
            e.rows = Some(rows);
        }
    }
    let previous = Window {
        since: window.since - (window.until - window.since),
        until: window.since,
    };
    Ok(Computed {
        reports,
        previous: keys(previous),
    })
}

/// The services that deployed to `environment` (stored or inferred deployments), sorted.
pub fn services(inputs: &Inputs, environment: &str) -> Vec<String> {
    let mut names: Vec<String> = inputs
        .deployments
        .iter()
        .filter(|d| d.environment == environment)
        .map(|d| d.service.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The keys of every service for one window (for `/metrics`).
pub fn keys_by_service(
    gathered: &Gathered,
    config: &Settings,
    environment: &str,
    w: Window,
) -> Vec<(String, DoraKeys)> {
    services(&gathered.inputs, environment)
        .into_iter()
        .map(|service| {
            let (attribution, _) = attribute(
                &gathered.inputs,
                gathered.scope(environment, Some(&service)),
            );
            let mut keys = dora::keys(&attribution, w, &config.bands);
            if gathered.inputs.proxy_services.contains(&service) {
                keys.as_first_parent_proxy();
            }
            (service, keys)
        })
        .collect()
}

/// Default bot markers: GitHub App accounts and the common dependency bots.
pub fn default_bots() -> Vec<String> {
    ["[bot]", "dependabot", "renovate"]
        .map(str::to_owned)
        .to_vec()
}

impl Report<'_> {
    pub fn keys(&self) -> &DoraKeys {
        &self.keys
    }

    /// How deployments and incidents were found.
    pub fn basis(&self) -> [String; 2] {
        [
            format!("deployments: {}", self.basis.deployments),
            format!("incidents: {}", self.basis.incidents),
        ]
    }

    pub fn since(&self) -> &str {
        &self.since
    }

    pub fn until(&self) -> &str {
        &self.until
    }

    pub fn explanation(&self) -> Option<&Explanation> {
        self.explain.as_ref()
    }
}
