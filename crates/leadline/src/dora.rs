//! `leadline dora`: gathers deployments and incidents (imported, else inferred from git),
//! attributes them with the core and prints the five keys for a window or a trend.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use leadline_core::dora::infer::{self, Revert};
use leadline_core::dora::{self, Attribution, CommitNode, DoraKeys, PathScope, Scope, Window};
use leadline_core::model::{Deployment, Incident, Millis, RefKind};
use leadline_core::store::Store;
use regex::Regex;
use serde::Serialize;
use std::os::unix::ffi::OsStrExt;

use crate::cli::{By, DoraArgs, DoraFormat};
use crate::config::DoraConfig;
use crate::time::rfc3339;

const DAY_MS: i64 = 86_400_000;
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
pub async fn gather(store: &Arc<dyn Store>, config: &DoraConfig) -> Result<Inputs> {
    let pattern = config
        .tag_pattern
        .as_deref()
        .map(|p| Regex::new(p).with_context(|| format!("invalid deployments.tag_pattern {p:?}")))
        .transpose()?;
    let hotfix = config
        .hotfix_pattern
        .as_deref()
        .map(|p| Regex::new(p).with_context(|| format!("invalid failures.hotfix_pattern {p:?}")))
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
                .all(|at| leadline_sources::instant::check(at).is_ok())
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
#[derive(Serialize)]
pub struct Report<'a> {
    since: String,
    until: String,
    service: Option<&'a str>,
    environment: &'a str,
    basis: Basis,
    #[serde(flatten)]
    keys: DoraKeys,
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<Explanation>,
}

#[derive(Serialize, Clone)]
struct Basis {
    deployments: String,
    incidents: String,
}

#[derive(Serialize)]
pub(crate) struct Explanation {
    pub(crate) deployments: Vec<ExplainedDeployment>,
    pub(crate) changes: Vec<ExplainedChange>,
    pub(crate) incidents: Vec<ExplainedIncident>,
    /// Which of the response's explanation rows these are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rows: Option<ExplainRows>,
}

#[derive(Serialize)]
pub(crate) struct ExplainedDeployment {
    pub(crate) id: String,
    pub(crate) service: String,
    pub(crate) sha: String,
    pub(crate) finished_at: String,
    pub(crate) baseline: bool,
    pub(crate) changes: usize,
    pub(crate) failed_by: Vec<String>,
    pub(crate) rework: bool,
}

#[derive(Serialize)]
pub(crate) struct ExplainedChange {
    pub(crate) sha: String,
    pub(crate) deployment: String,
    pub(crate) committed_at: String,
    /// Where its lead time starts: `committed_at`, or the pull request's first commit.
    pub(crate) started_at: String,
    pub(crate) lead_time_seconds: Option<f64>,
    pub(crate) excluded: Option<&'static str>,
}

#[derive(Serialize)]
pub(crate) struct ExplainedIncident {
    pub(crate) id: String,
    pub(crate) service: String,
    pub(crate) opened_at: String,
    pub(crate) resolved_at: Option<String>,
    pub(crate) caused_by: Option<String>,
    pub(crate) rule: Option<dora::CauseRule>,
    pub(crate) recovery_seconds: Option<f64>,
}

pub(crate) fn utc(at: Millis) -> String {
    rfc3339(at, 0)
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

/// The most periods one `--by` request may ask for: ten years of weeks.
pub const MAX_PERIODS: usize = 520;

/// The most months a monthly series over a whole window (health trends, capacity) may hold:
/// a century.
pub const MAX_MONTHS: usize = 1200;

/// The most explanation rows one response holds; more are paged with `--explain-offset`.
pub const MAX_EXPLAIN_ROWS: usize = 10_000;

/// Which explanation rows one response holds. Rows are numbered across the response's
/// reports in order (each report: its deployments, changes, incidents); only those in
/// [offset, offset + limit) are written, so memory and output stay bounded whatever the window.
pub(crate) struct Pager {
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
#[derive(Serialize, Clone, Copy)]
pub(crate) struct ExplainRows {
    pub(crate) total: usize,
    pub(crate) offset: usize,
    pub(crate) limit: usize,
    /// The `explain_offset` of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_offset: Option<usize>,
}

/// A request the caller can fix (a bad time, an empty window), as opposed to a failure of the
/// store: the server answers it with 400.
#[derive(Debug)]
pub struct InvalidArgs(pub String);

impl std::fmt::Display for InvalidArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidArgs {}

/// Parses `--since`/`--until`: an RFC 3339 instant or a date (UTC midnight).
pub fn parse_instant(flag: &str, value: &str) -> Result<Millis> {
    if let Ok(t) = value.parse::<Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let invalid = || {
        InvalidArgs(format!(
            "{flag} {value:?}: expected an RFC 3339 time or a date YYYY-MM-DD"
        ))
    };
    let date: Date = value.parse().map_err(|_| invalid())?;
    let zoned = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| invalid())?;
    Ok(zoned.timestamp().as_millisecond())
}

/// The window asked for, defaulting to the last 90 days of the data (ending at the UTC
/// midnight after the newest event).
fn window(args: &DoraArgs, a: &Attribution) -> Result<Window> {
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
    let until = match &args.until {
        Some(v) => parse_instant("--until", v)?,
        None => match newest {
            Some(n) => (n.div_euclid(DAY_MS) + 1) * DAY_MS,
            None => Timestamp::now().as_millisecond(),
        },
    };
    let since = match &args.since {
        Some(v) => parse_instant("--since", v)?,
        None => until - DEFAULT_DAYS * DAY_MS,
    };
    if since >= until {
        return Err(
            InvalidArgs("the window is empty: --since must be before --until".to_owned()).into(),
        );
    }
    Ok(Window { since, until })
}

/// Splits a window into calendar weeks (from Monday) or months, UTC, the first and last clipped
/// to the window; more than `max` periods
/// is a request to narrow the window (one request must not cost unbounded memory).
pub(crate) fn buckets(w: Window, by: By, max: usize) -> Result<Vec<Window>> {
    let mut out = Vec::new();
    let mut start = match by {
        By::Week => leadline_core::activity::week_start(w.since),
        By::Month => {
            let d = Timestamp::from_millisecond(w.since)?
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date();
            month_start(d.year(), d.month())?
        }
    };
    while start < w.until {
        let end = match by {
            By::Week => start + 7 * DAY_MS,
            By::Month => {
                let d = Timestamp::from_millisecond(start)?
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date();
                let next = d.checked_add(1.month())?;
                month_start(next.year(), next.month())?
            }
        };
        if out.len() == max {
            return Err(InvalidArgs(format!(
                "the window holds more than {max} periods of a {}; narrow --since and --until",
                match by {
                    By::Week => "week",
                    By::Month => "month",
                }
            ))
            .into());
        }
        // The first and last periods are clipped to the window: a week that starts before
        // --since counts nothing from before it.
        out.push(Window {
            since: start.max(w.since),
            until: end.min(w.until),
        });
        start = end;
    }
    Ok(out)
}

fn month_start(year: i16, month: i8) -> Result<Millis> {
    Ok(Date::new(year, month, 1)?
        .to_zoned(jiff::tz::TimeZone::UTC)?
        .timestamp()
        .as_millisecond())
}

/// Which commits touch each configured service's paths, aligned with `commits`.
async fn path_scope(
    store: &Arc<dyn Store>,
    config: &DoraConfig,
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

pub async fn load(store: &Arc<dyn Store>, config: &DoraConfig) -> Result<Gathered> {
    let inputs = gather(store, config).await?;
    let paths = path_scope(store, config, &inputs.commits).await?;
    Ok(Gathered { inputs, paths })
}

impl Gathered {
    fn scope<'a>(&'a self, environment: &'a str, service: Option<&'a str>) -> Scope<'a> {
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
    args: &'a DoraArgs,
    config: &DoraConfig,
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
        return Err(InvalidArgs(format!(
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

pub async fn run(
    store: &Arc<dyn Store>,
    args: &DoraArgs,
    config: &DoraConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let gathered = load(store, config).await?;
    let computed = compute_from(&gathered, args, config)?;
    // The process ends next: freeing every commit id one by one would cost a tenth of the
    // command; the OS takes the memory back at once.
    std::mem::forget(gathered);
    let reports = &computed.reports;
    match args.format {
        DoraFormat::Json => {
            if args.by.is_some() {
                serde_json::to_writer_pretty(&mut *out, reports)?;
            } else {
                serde_json::to_writer_pretty(&mut *out, &reports[0])?;
            }
            writeln!(out)?;
        }
        DoraFormat::Csv => write_csv(reports, out)?,
        DoraFormat::Table => {
            crate::dora_table::print(reports, &computed.previous, args.by.is_some(), out)?
        }
    }
    let page = reports
        .first()
        .and_then(|r| r.explain.as_ref())
        .and_then(|e| e.rows);
    if let Some(ExplainRows {
        total,
        offset,
        next_offset: Some(next),
        ..
    }) = page
    {
        eprintln!(
            "explanation rows {}-{next} of {total} shown; --explain-offset {next} for the next page",
            offset + 1
        );
    }
    Ok(())
}

fn write_csv(reports: &[Report<'_>], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "since",
        "until",
        "service",
        "environment",
        "deployments",
        "deployments_per_day",
        "deployment_frequency_band",
        "lead_time_changes",
        "lead_time_median_seconds",
        "lead_time_p90_seconds",
        "lead_time_band",
        "failed_deployments",
        "change_failure_rate",
        "change_failure_rate_band",
        "recovery_incidents",
        "recovery_median_seconds",
        "recovery_band",
        "rework_deployments",
        "rework_rate",
    ])?;
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let band = |b: Option<dora::Band>| {
        b.and_then(|b| serde_json::to_value(b).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    for r in reports {
        let k = &r.keys;
        crate::csv_cell::write(
            &mut w,
            [
                r.since.clone(),
                r.until.clone(),
                r.service.unwrap_or_default().to_owned(),
                r.environment.to_owned(),
                k.deployment_frequency.deployments.to_string(),
                k.deployment_frequency.per_day.to_string(),
                band(k.deployment_frequency.band),
                k.lead_time.changes.to_string(),
                num(k.lead_time.median_seconds),
                num(k.lead_time.p90_seconds),
                band(k.lead_time.band),
                k.change_failure_rate.failed_deployments.to_string(),
                num(k.change_failure_rate.rate),
                band(k.change_failure_rate.band),
                k.recovery_time.incidents.to_string(),
                num(k.recovery_time.median_seconds),
                band(k.recovery_time.band),
                k.rework_rate.rework_deployments.to_string(),
                num(k.rework_rate.rate),
            ],
        )?;
    }
    w.flush()?;
    Ok(())
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
    config: &DoraConfig,
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

/// The arguments of `leadline dora --service NAME` with every default, for `analyze`.
pub fn service_args(service: &str, format: DoraFormat) -> DoraArgs {
    DoraArgs {
        service: Some(service.to_owned()),
        env: "production".to_owned(),
        since: None,
        until: None,
        by: None,
        explain: false,
        explain_offset: 0,
        explain_limit: MAX_EXPLAIN_ROWS,
        format,
    }
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

    pub(crate) fn explanation(&self) -> Option<&Explanation> {
        self.explain.as_ref()
    }
}
