//! Reading a named metric for a scope: its family's report computed exactly as the family's
//! command computes it, then the name's path read out of it. The command line's `leadline
//! metric NAME` and the API's `GET /api/v1/metric/{name}` both come here; so will OKRs,
//! anomaly detection, scorecards and the stakeholder report.

use std::sync::Arc;

use leadline_core::flow::{Options, Team};
use leadline_core::store::Store;
use serde_json::{Value, json};

use crate::catalog::{Family, Metric};
use crate::dora::Gathered;
use crate::error::{Result, UsageError};
use crate::group::GroupBy;
use crate::reading::{self, Reading};
use crate::window::By;

/// Where and when a metric is read; which options apply depends on its family.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub service: Option<String>,
    pub repo: Option<String>,
    pub team: Option<String>,
    pub env: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub by: Option<By>,
    /// The SLO (slo metrics).
    pub slo: Option<String>,
    /// With the rows behind the numbers (the family's `--explain`).
    pub explain: bool,
    /// The definition a product metric reads (`{name=…}`).
    pub name: Option<String>,
}

/// What the families are computed with: the resolved settings.
pub struct Ctx<'a> {
    pub store: &'a Arc<dyn Store>,
    pub dora: &'a crate::dora::Settings,
    pub debt: &'a crate::debt::Settings,
    pub flow: &'a Options,
    pub teams: &'a [Team],
    pub slo: &'a crate::slo::Settings,
    /// Where SLO events are read (the store, and Prometheus when configured).
    pub slo_reader: &'a crate::slo::Reader,
    /// What marks a change as AI-assisted or AI-authored.
    pub ai: &'a leadline_core::ai::Rules,
    /// The product metrics of leadline.toml.
    pub product: &'a crate::product::Settings,
    /// Where scorecard levels come from (they read repositories, which this crate does not).
    pub scorecards: Option<&'a dyn ScorecardLevels>,
    /// Working time and the floor of the wellbeing family.
    pub wellbeing: &'a crate::wellbeing::Settings,
    /// Where survey instruments are, and the floor of respondents.
    pub surveys: &'a crate::survey::Settings,
}

/// A service's scorecard level (its rank: 0 for none) as of an instant; `Err` says why there
/// is none to give.
pub trait ScorecardLevels: Send + Sync {
    fn level<'a>(
        &'a self,
        service: &'a str,
        at: leadline_core::model::Millis,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<usize, String>> + Send + 'a>,
    >;
}

/// The report `scorecard.level` reads.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ScorecardReport {
    pub service: String,
    pub at: String,
    pub level: usize,
}

/// What a metric name names: a catalog metric, or samples imported under a name.
#[derive(Debug, Clone)]
pub enum Named {
    Catalog(&'static Metric),
    /// `samples.NAME{labels}`: the labels filter the samples.
    Sample {
        name: String,
        labels: crate::reading::Labels,
    },
    /// `survey.SCORE.score{team=…}`: a team's pulse survey score.
    Survey {
        name: String,
        labels: crate::reading::Labels,
    },
}

impl Named {
    /// The name as written, labels included for samples.
    pub fn name(&self) -> &str {
        match self {
            Named::Catalog(m) => m.name,
            Named::Sample { name, .. } | Named::Survey { name, .. } => name,
        }
    }

    /// Which way is better: the catalog's, and for samples `higher` (a target says more).
    pub fn better(&self) -> crate::catalog::Better {
        match self {
            Named::Catalog(m) => m.better,
            // Both shipped instruments score so that higher is better.
            Named::Sample { .. } | Named::Survey { .. } => crate::catalog::Better::Higher,
        }
    }

    pub fn unit(&self) -> Option<crate::catalog::Unit> {
        match self {
            Named::Catalog(m) => Some(m.unit),
            Named::Sample { .. } | Named::Survey { .. } => None,
        }
    }
}

/// A metric name that may carry labels (`slo.budget_remaining{slo=checkout}`,
/// `product.activation.rate{name=first-report}`, `samples.revenue{region=eu}`): what it names,
/// and `scope` with the labels applied. A catalog label is an option by another spelling.
pub fn named(name: &str, mut scope: Scope) -> std::result::Result<(Named, Scope), UsageError> {
    let usage = |e: String| UsageError(e);
    let (bare, labels) = reading::labels(name).map_err(|e| usage(e.to_string()))?;
    if bare.starts_with("survey.") && bare.ends_with(".score") && bare.len() > 13 {
        return Ok((
            Named::Survey {
                name: name.to_owned(),
                labels,
            },
            scope,
        ));
    }
    if bare.starts_with("samples.") && bare.len() > "samples.".len() {
        return Ok((
            Named::Sample {
                name: name.to_owned(),
                labels,
            },
            scope,
        ));
    }
    let metric = reading::lookup(bare).map_err(|e| usage(e.to_string()))?;
    for (key, value) in labels {
        let slot = match key.as_str() {
            "slo" => &mut scope.slo,
            "service" => &mut scope.service,
            "repo" => &mut scope.repo,
            "team" => &mut scope.team,
            "env" => &mut scope.env,
            "name" => &mut scope.name,
            other => {
                return Err(usage(format!(
                    "{name}: unknown label {other:?} (slo, service, repo, team, env, name)"
                )));
            }
        };
        match slot {
            Some(given) if *given != value => {
                return Err(usage(format!(
                    "{name}: the label {key}={value} and --{key} {given} disagree"
                )));
            }
            _ => *slot = Some(value),
        }
    }
    Ok((Named::Catalog(metric), scope))
}

/// What `named` names, over `scope`.
pub async fn read_named(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    named: &Named,
    scope: &Scope,
) -> Result<Reading> {
    match named {
        Named::Catalog(metric) => read(ctx, gathered, metric, scope).await,
        Named::Sample { name, labels } => {
            crate::samples::read(ctx.store, name, labels, scope).await
        }
        Named::Survey { name, labels } => {
            crate::survey::read(ctx.store, ctx.surveys, name, labels, scope).await
        }
    }
}

/// `metric` over `scope`: computed by its family exactly as the family's command would, then
/// read by name. `gathered` is the server's cached DORA inputs, when it has them.
pub async fn read(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    metric: &Metric,
    scope: &Scope,
) -> Result<Reading> {
    refuse_options(metric.family, scope)?;
    if scope.by.is_some() && !metric.family.has_series() {
        return Err(UsageError(format!(
            "{} has no series: --by applies to dora, flow, incidents and ai metrics",
            metric.name
        ))
        .into());
    }
    let reports = reports(ctx, gathered, metric.family, scope).await?;
    Ok(match scope.by {
        Some(_) => reading::series(metric, &reports),
        None => reading::single(metric, reports.first().unwrap_or(&Value::Null)),
    })
}

/// The series of each of `metrics` (all of one family with series) over `scope`, from one
/// computation of the family's reports: what a watcher of several metrics reads.
pub async fn read_series(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    family: Family,
    metrics: &[&Metric],
    scope: &Scope,
) -> Result<Vec<Reading>> {
    refuse_options(family, scope)?;
    let scope = Scope {
        by: Some(scope.by.unwrap_or(By::Week)),
        ..scope.clone()
    };
    let reports = reports(ctx, gathered, family, &scope).await?;
    Ok(metrics
        .iter()
        .map(|m| reading::series(m, &reports))
        .collect())
}

/// The family's report of `scope` with its explanation rows (`--explain`): the rows behind a
/// number, e.g. behind one flagged week.
pub async fn explained(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    family: Family,
    scope: &Scope,
) -> Result<Value> {
    refuse_options(family, scope)?;
    let scope = Scope {
        explain: true,
        by: None,
        ..scope.clone()
    };
    let reports = reports(ctx, gathered, family, &scope).await?;
    Ok(reports
        .into_iter()
        .next()
        .and_then(|mut r| r.get_mut("explain").map(Value::take))
        .unwrap_or(Value::Null))
}

/// The family's report(s) over `scope` as JSON (one per period with `by`): for a document
/// that shows several of a family's metrics from one computation.
pub async fn reports_of(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    family: Family,
    scope: &Scope,
) -> Result<Vec<Value>> {
    refuse_options(family, scope)?;
    reports(ctx, gathered, family, scope).await
}

/// A label and how it sets a scope.
type Probe = (&'static str, fn(&mut Scope));

/// The labels a family's names take (`dora.lead_time.median_seconds{service=api}`), in the
/// order `leadline metrics list` shows them: those its report can be narrowed by.
pub fn labels(family: Family) -> Vec<&'static str> {
    let probes: [Probe; 6] = [
        ("service", |s| s.service = Some(String::new())),
        ("env", |s| s.env = Some(String::new())),
        ("repo", |s| s.repo = Some(String::new())),
        ("team", |s| s.team = Some(String::new())),
        ("slo", |s| s.slo = Some(String::new())),
        ("name", |s| s.name = Some(String::new())),
    ];
    probes
        .into_iter()
        .filter(|(_, set)| {
            let mut scope = Scope::default();
            set(&mut scope);
            refuse_options(family, &scope).is_ok()
        })
        .map(|(label, _)| label)
        .collect()
}

/// Whether a family's names read a window (`--since`/`--until`); the others are read now.
pub fn windowed(family: Family) -> bool {
    let scope = Scope {
        since: Some(String::new()),
        ..Scope::default()
    };
    refuse_options(family, &scope).is_ok()
}

/// `scope` without the options `family` does not take (a report over a team still shows the
/// families that have no teams, over everything).
pub fn fitted(family: Family, scope: &Scope) -> Scope {
    let mut out = scope.clone();
    let only = |set: fn(&mut Scope)| {
        let mut s = Scope::default();
        set(&mut s);
        refuse_options(family, &s).is_ok()
    };
    if !only(|s| s.service = Some(String::new())) {
        out.service = None;
    }
    if !only(|s| s.env = Some(String::new())) {
        out.env = None;
    }
    if !only(|s| s.repo = Some(String::new())) {
        out.repo = None;
    }
    if !only(|s| s.team = Some(String::new())) {
        out.team = None;
    }
    if !only(|s| s.since = Some(String::new())) {
        out.since = None;
        out.until = None;
    }
    out
}

/// An option the family does not take is an error, not silently ignored.
fn refuse_options(family: Family, scope: &Scope) -> Result<()> {
    let given = [
        (
            "--service",
            scope.service.is_some(),
            matches!(family, Family::Dora | Family::Incidents | Family::Scorecard),
        ),
        ("--env", scope.env.is_some(), matches!(family, Family::Dora)),
        (
            "--repo",
            scope.repo.is_some(),
            matches!(
                family,
                Family::Activity
                    | Family::Flow
                    | Family::Health
                    | Family::Capacity
                    | Family::Ai
                    | Family::Wellbeing
            ),
        ),
        (
            "--team",
            scope.team.is_some(),
            matches!(
                family,
                Family::Flow | Family::Capacity | Family::Ai | Family::Wellbeing | Family::Planning
            ),
        ),
        (
            "--since/--until",
            scope.since.is_some() || scope.until.is_some(),
            !matches!(
                family,
                Family::Debt | Family::Activity | Family::Slo | Family::Scorecard
            ),
        ),
        ("--slo", scope.slo.is_some(), matches!(family, Family::Slo)),
        (
            "{name=…}",
            scope.name.is_some(),
            matches!(family, Family::Product),
        ),
    ];
    match given.iter().find(|(_, set, applies)| *set && !*applies) {
        Some((option, ..)) => Err(UsageError(format!(
            "{option} does not apply to {} metrics",
            family.as_str()
        ))
        .into()),
        None => Ok(()),
    }
}

/// The family's report(s) for `scope` as JSON, narrowed to what metric paths address: one per
/// period with `by`.
async fn reports(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    family: Family,
    scope: &Scope,
) -> Result<Vec<Value>> {
    match family {
        Family::Dora => {
            let args = crate::dora::Query {
                service: scope.service.clone(),
                env: scope.env.clone().unwrap_or_else(|| "production".to_owned()),
                since: scope.since.clone(),
                until: scope.until.clone(),
                by: scope.by,
                explain: scope.explain,
                ..crate::dora::Query::default()
            };
            let gathered = match gathered {
                Some(g) => g,
                None => Arc::new(crate::dora::load(ctx.store, ctx.dora).await?),
            };
            let computed = crate::dora::compute_from(&gathered, &args, ctx.dora)?;
            computed
                .reports
                .iter()
                .map(|r| Ok(serde_json::to_value(r)?))
                .collect()
        }
        Family::Flow => {
            let query = crate::flow::Query {
                repo: scope.repo.clone(),
                since: scope.since.clone(),
                until: scope.until.clone(),
                by: scope.by,
                explain: scope.explain,
                group: scope.team.as_ref().map(|_| GroupBy::Team),
            };
            let reports =
                crate::flow::compute(ctx.store, &query, ctx.flow, ctx.teams, ctx.dora).await?;
            reports
                .iter()
                .map(|r| Ok(flow_view(&serde_json::to_value(r)?, scope)))
                .collect()
        }
        Family::Activity => {
            let repo = one_repository(ctx, family, scope).await?;
            let report = crate::activity::report(ctx.store, &repo).await?;
            Ok(vec![serde_json::to_value(&report)?])
        }
        Family::Health => {
            let repo = &one_repository(ctx, family, scope).await?;
            let mut query = crate::health::Query::defaults(usize::MAX, &ctx.debt.by_hand);
            query.teams = ctx.teams.to_vec();
            query.since = instant("--since", &scope.since)?;
            query.until = instant("--until", &scope.until)?;
            let report = crate::health::report(ctx.store, repo, &query).await?;
            Ok(vec![serde_json::to_value(&report)?])
        }
        Family::Debt => {
            let listing = crate::debt::open_listing(ctx.store, ctx.debt, 0).await?;
            Ok(vec![serde_json::to_value(&listing)?])
        }
        Family::Capacity => {
            let args = crate::capacity::Query {
                since: scope.since.clone(),
                until: scope.until.clone(),
                source: None,
                repo: scope.repo.clone(),
                group: scope.team.as_ref().map(|_| GroupBy::Team),
            };
            let report = crate::capacity::report(
                ctx.store,
                &args,
                &crate::capacity::Settings {
                    rules: &ctx.debt.rules,
                    target: ctx.debt.capacity_target,
                    options: ctx.flow,
                    teams: ctx.teams,
                },
            )
            .await?;
            Ok(vec![capacity_view(&serde_json::to_value(&report)?, scope)])
        }
        Family::Slo => {
            let slos = crate::slo::load(ctx.slo)?;
            let chosen = match &scope.slo {
                Some(name) => crate::slo::select(slos, Some(name), None)?,
                None if slos.len() == 1 => slos,
                None => {
                    let names: Vec<&str> = slos.iter().map(|s| s.name.as_str()).collect();
                    return Err(UsageError(format!(
                        "slo metrics are per SLO: name one with --slo or NAME{{slo=…}} ({})",
                        names.join(", ")
                    ))
                    .into());
                }
            };
            let now = jiff::Timestamp::now().as_millisecond();
            let statuses = crate::slo::status(ctx.slo_reader, &chosen, now).await?;
            statuses
                .iter()
                .map(|s| Ok(serde_json::to_value(s)?))
                .collect()
        }
        Family::Ai => {
            let query = crate::ai::Query {
                repo: scope.repo.clone(),
                team: scope.team.clone(),
                since: scope.since.clone(),
                until: scope.until.clone(),
                by: scope.by,
                explain: scope.explain,
            };
            let settings = crate::ai::Settings {
                rules: ctx.ai,
                dora: ctx.dora,
                capacity: &ctx.debt.rules,
                teams: ctx.teams,
                min_group_size: ctx.flow.min_group_size,
            };
            let reports = crate::ai::compute(ctx.store, &query, &settings).await?;
            reports
                .iter()
                .map(|r| Ok(serde_json::to_value(r)?))
                .collect()
        }
        Family::Planning => {
            let query = crate::planning::Query {
                since: scope.since.clone(),
                until: scope.until.clone(),
                team: scope.team.clone(),
            };
            let report = crate::planning::compute(ctx.store, &query, ctx.dora).await?;
            Ok(vec![serde_json::to_value(report)?])
        }
        Family::Wellbeing => {
            let query = crate::wellbeing::Query {
                team: None,
                repo: scope.repo.clone(),
                since: scope.since.clone(),
                until: scope.until.clone(),
                by: scope.by,
                explain: scope.explain,
            };
            let reports =
                crate::wellbeing::compute(ctx.store, &query, ctx.wellbeing, ctx.teams).await?;
            let name = scope.team.as_deref().unwrap_or("all");
            reports
                .iter()
                .map(|r| Ok(group(&serde_json::to_value(r)?, name)))
                .collect()
        }
        Family::Scorecard => {
            let Some(source) = ctx.scorecards else {
                return Err(UsageError(
                    "scorecard levels are read by `leadline metric`, the API and OKRs".into(),
                )
                .into());
            };
            let Some(service) = &scope.service else {
                return Err(UsageError(
                    "scorecard metrics are per service: name one with --service or {service=…}"
                        .into(),
                )
                .into());
            };
            let at = jiff::Timestamp::now().as_millisecond();
            let level = source.level(service, at).await.map_err(UsageError)?;
            Ok(vec![serde_json::to_value(ScorecardReport {
                service: service.clone(),
                at: crate::window::utc(at),
                level,
            })?])
        }
        Family::Product => {
            let query = crate::product::Query {
                since: scope.since.clone(),
                until: scope.until.clone(),
                by: scope.by,
            };
            let reports = crate::product::compute(ctx.store, &query, ctx.product).await?;
            reports
                .iter()
                .map(|r| Ok(product_view(&serde_json::to_value(r)?, scope)))
                .collect()
        }
        Family::Incidents => {
            let query = crate::incidents::Query {
                service: scope.service.clone(),
                since: scope.since.clone(),
                until: scope.until.clone(),
                by: scope.by,
                explain: scope.explain,
            };
            let reports =
                crate::incidents::compute(ctx.store, &query, &ctx.debt.postmortems).await?;
            reports
                .iter()
                .map(|r| Ok(serde_json::to_value(r)?))
                .collect()
        }
    }
}

/// The repository a per-repository family reads: `--repo`, or the only one ingested.
async fn one_repository(
    ctx: &Ctx<'_>,
    family: Family,
    scope: &Scope,
) -> Result<leadline_core::model::Repository> {
    let mut repos = crate::health::selected(ctx.store, scope.repo.as_deref()).await?;
    if repos.len() != 1 {
        let names: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
        return Err(UsageError(format!(
            "{} metrics are per repository: name one with --repo ({})",
            family.as_str(),
            names.join(", ")
        ))
        .into());
    }
    Ok(repos.remove(0))
}

fn instant(flag: &str, v: &Option<String>) -> Result<Option<i64>> {
    Ok(v.as_deref()
        .map(|v| crate::window::parse_instant(flag, v))
        .transpose()?)
}

/// The group a flow query selects (`all`, or `--team`), with the onboarding of the same scope
/// and the report's window: a group hidden by the privacy floor has no fields, so its metrics
/// are `null` with the reason.
fn flow_view(report: &Value, scope: &Scope) -> Value {
    let name = scope.team.as_deref().unwrap_or("all");
    let mut view = group(report, name);
    let onboarding = match (&scope.team, &scope.repo) {
        (Some(team), _) => entry_named(report, "team_onboarding", team),
        (None, Some(repo)) => {
            let short = repo.rsplit('/').next().unwrap_or(repo);
            entry_named(report, "repository_onboarding", short)
        }
        (None, None) => report.get("onboarding").cloned(),
    };
    if let Some(o) = onboarding {
        view["onboarding"] = o;
    }
    view
}

/// A product report narrowed to one definition: `activation`, `time_to_value` and `feature`
/// become the entry `{name=…}` names (or the only one), each `{reason}` when there is none.
fn product_view(report: &Value, scope: &Scope) -> Value {
    let pick = |list: &str| -> Value {
        let entries = report.get(list).and_then(Value::as_array);
        let names: Vec<&str> = entries
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("name").and_then(Value::as_str))
            .collect();
        let found = entries.and_then(|e| match &scope.name {
            Some(name) => e
                .iter()
                .find(|x| x.get("name").and_then(Value::as_str) == Some(name.as_str())),
            None if e.len() == 1 => e.first(),
            None => None,
        });
        found.cloned().unwrap_or_else(|| {
            let why = match (&scope.name, names.as_slice()) {
                (Some(name), _) => format!(
                    "no product definition {name:?} here (defined: {})",
                    names.join(", ")
                ),
                (None, []) => "no such product metric is defined in leadline.toml".to_owned(),
                (None, _) => format!("name one with {{name=…}} ({})", names.join(", ")),
            };
            json!({ "reason": why })
        })
    };
    let mut view = json!({
        "activation": pick("activation"),
        "time_to_value": pick("time_to_value"),
        "feature": pick("features"),
        "stickiness": report.get("stickiness").cloned().unwrap_or(Value::Null),
    });
    for key in ["since", "until"] {
        if let Some(v) = report.get(key) {
            view[key] = v.clone();
        }
    }
    view
}

/// The group named `name` of a report with `groups`, plus its window; a `reason` when there is
/// no such group.
fn group(report: &Value, name: &str) -> Value {
    let found = report
        .get("groups")
        .and_then(Value::as_array)
        .and_then(|g| {
            g.iter()
                .find(|g| g.get("group").and_then(Value::as_str) == Some(name))
        });
    let mut view = match found {
        Some(g) => g.clone(),
        None => json!({"reason": format!(
            "no group {name:?} in this window: it does not exist or has fewer people than \
             privacy.min_group_size"
        )}),
    };
    for key in ["since", "until"] {
        if let Some(v) = report.get(key) {
            view[key] = v.clone();
        }
    }
    view
}

fn entry_named(report: &Value, list: &str, name: &str) -> Option<Value> {
    report
        .get(list)?
        .as_array()?
        .iter()
        .find(|o| o.get("team").and_then(Value::as_str) == Some(name))
        .cloned()
}

/// The group a capacity query selects; without `--team` and with teams configured (no `all`
/// group), every group together: their counts summed, the share recomputed.
fn capacity_view(report: &Value, scope: &Scope) -> Value {
    if let Some(team) = &scope.team {
        return group(report, team);
    }
    let groups = report.get("groups").and_then(Value::as_array);
    if groups.is_some_and(|g| g.iter().any(|g| g["group"] == "all")) {
        return group(report, "all");
    }
    let count = |key: &str| -> u64 {
        groups
            .into_iter()
            .flatten()
            .filter_map(|g| g.pointer(&format!("/window/{key}"))?.as_u64())
            .sum()
    };
    let (feature, debt, fix, other) = (
        count("feature"),
        count("debt"),
        count("fix"),
        count("other"),
    );
    let all = feature + debt + fix + other;
    let share = (all > 0).then(|| debt as f64 / all as f64);
    let target = report.get("target").and_then(Value::as_f64);
    json!({
        "since": report.get("since"), "until": report.get("until"),
        "window": {"period": "window", "feature": feature, "debt": debt, "fix": fix,
                   "other": other, "debt_share": share,
                   "versus_target": share.zip(target).map(|(s, t)| s - t)},
    })
}
