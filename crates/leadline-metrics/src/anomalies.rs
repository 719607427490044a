//! `leadline anomalies`: weekly series of watched catalog metrics, per service (DORA and
//! incident metrics) and per team or repository (flow and AI metrics), judged by
//! [`leadline_core::anomaly`]; each flagged week is a proposal a person acknowledges or
//! dismisses. Proposals are recomputed from the data on every read, with an id derived from
//! (metric, scope, week), so only the judgements are stored; a dismissed week leaves the
//! baselines of later weeks.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use leadline_core::anomaly::{self, Direction, Kind, Params, Shape};
use leadline_core::model::Millis;
use leadline_core::store::AnomalyReview;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Family, Metric, Unit};
use crate::dora::Gathered;
use crate::error::{Result, UsageError};
use crate::reading::{self, Reading};
use crate::scope::{Ctx, Scope as ReadScope, explained, read_series};
use crate::window::{DAY_MS, MAX_PERIODS, midnight_after, parse_instant, utc};

const WEEK_MS: Millis = 7 * DAY_MS;

/// What is watched and how it is judged (`[anomalies]` in leadline.toml).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Catalog metric names with weekly series.
    pub watch: Vec<&'static Metric>,
    /// The environment whose deployments the DORA metrics count.
    pub env: String,
    /// ISO week numbers in which a series' fall is expected (year-end holidays): no drop or
    /// downward shift starts in them, and they stay out of baselines.
    pub holiday_weeks: Vec<u8>,
    pub params: Params,
}

/// The metrics watched when `[anomalies] watch` is not set.
pub const DEFAULT_WATCH: [&str; 8] = [
    "dora.deployment_frequency.deployments",
    "dora.lead_time.median_seconds",
    "dora.change_failure_rate.rate",
    "dora.recovery_time.median_seconds",
    "flow.pull_requests.cycle_time.median_seconds",
    "flow.builds.failure_rate",
    "flow.pull_requests.review_load_top_fifth",
    "incidents.incidents.total",
];

impl Settings {
    /// Settings watching `names`, each a catalog metric whose family has weekly series per
    /// service, team or repository.
    pub fn new(names: &[String], env: String, holiday_weeks: Vec<u8>) -> Result<Settings> {
        let mut watch = Vec::new();
        for name in names {
            let metric =
                reading::lookup(name).map_err(|e| UsageError(format!("[anomalies] watch: {e}")))?;
            if !matches!(
                metric.family,
                Family::Dora | Family::Flow | Family::Incidents | Family::Ai | Family::Wellbeing
            ) {
                return Err(UsageError(format!(
                    "[anomalies] watch: {name} has no weekly series (dora, flow, incidents, ai \
                     and wellbeing metrics have)"
                ))
                .into());
            }
            if !watch.contains(&metric) {
                watch.push(metric);
            }
        }
        Ok(Settings {
            watch,
            env,
            holiday_weeks,
            params: Params::default(),
        })
    }
}

impl Default for Settings {
    fn default() -> Settings {
        let names: Vec<String> = DEFAULT_WATCH.iter().map(|s| (*s).to_owned()).collect();
        Settings::new(&names, "production".to_owned(), vec![52, 53, 1])
            .unwrap_or_else(|e| unreachable!("the default watch list is in the catalog: {e}"))
    }
}

/// Where a series comes from: never a person.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Service(String),
    Team(String),
    Repository(String),
}

impl Scope {
    /// `kind:name`, as stored with a judgement.
    pub fn key(&self) -> String {
        match self {
            Scope::Service(n) => format!("service:{n}"),
            Scope::Team(n) => format!("team:{n}"),
            Scope::Repository(n) => format!("repository:{n}"),
        }
    }

    fn read_scope(&self, family: Family, env: &str) -> ReadScope {
        let mut s = ReadScope::default();
        match self {
            Scope::Service(n) => s.service = Some(n.clone()),
            Scope::Team(n) => s.team = Some(n.clone()),
            Scope::Repository(n) => s.repo = Some(n.clone()),
        }
        if family == Family::Dora {
            s.env = Some(env.to_owned());
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Open,
    Acknowledged,
    Dismissed,
}

/// Why a person dismissed a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Expected,
    FalsePositive,
    DataIssue,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Expected => "expected",
            Reason::FalsePositive => "false-positive",
            Reason::DataIssue => "data-issue",
        }
    }
}

impl std::str::FromStr for Reason {
    type Err = UsageError;

    fn from_str(s: &str) -> std::result::Result<Reason, UsageError> {
        match s {
            "expected" => Ok(Reason::Expected),
            "false-positive" => Ok(Reason::FalsePositive),
            "data-issue" => Ok(Reason::DataIssue),
            other => Err(UsageError(format!(
                "reason {other:?}: expected expected, false-positive or data-issue"
            ))),
        }
    }
}

/// One flagged week, as `leadline anomalies --format json` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub id: String,
    pub metric: String,
    pub scope: Scope,
    /// ISO week, `YYYY-Www`.
    pub week: String,
    pub week_start: String,
    pub value: f64,
    /// The baseline's median.
    pub baseline: f64,
    /// The band inside of which nothing is flagged.
    pub low: f64,
    pub high: f64,
    pub direction: Direction,
    pub kind: Kind,
    pub state: State,
    /// The dismissal's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The acknowledgement's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The rows behind the week (the family's `--explain`), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Value>,
    #[serde(skip)]
    pub week_start_ms: Millis,
}

/// Proposals people judged: confirmed vs dismissed, the detector's live precision.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Precision {
    pub acknowledged: usize,
    pub dismissed: usize,
    /// acknowledged / (acknowledged + dismissed); `null` before any judgement.
    pub precision: Option<f64>,
}

impl Precision {
    pub fn of(reviews: &[AnomalyReview]) -> Precision {
        let count = |state: &str| reviews.iter().filter(|r| r.state == state).count();
        let (acknowledged, dismissed) = (count("acknowledged"), count("dismissed"));
        let judged = acknowledged + dismissed;
        Precision {
            acknowledged,
            dismissed,
            precision: (judged > 0).then(|| acknowledged as f64 / judged as f64),
        }
    }
}

/// What is listed: weeks starting in [since, until) (default: the whole history, up to the
/// end of the newest data's week).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub since: Option<String>,
    pub until: Option<String>,
    pub explain: bool,
}

/// The id of a proposal: stable across runs for the same metric, scope and week.
pub fn proposal_id(metric: &str, scope: &Scope, week: &str) -> String {
    // FNV-1a, 64 bits: stable and short; not a secret.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{metric}|{}|{week}", scope.key()).bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h >> 16)
}

/// `YYYY-Www` of the ISO week holding `at`.
pub fn iso_week(at: Millis) -> String {
    let date = jiff::Timestamp::from_millisecond(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let iso = date.iso_week_date();
    format!("{:04}-W{:02}", iso.year(), iso.week())
}

fn iso_week_number(at: Millis) -> u8 {
    let date = jiff::Timestamp::from_millisecond(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    date.iso_week_date().week() as u8
}

/// The denominator of a rate, when the catalog has it: the rate is then judged as events per
/// unit of it (failures per deployment), so a week of few deployments is not a spike.
fn exposure_of(metric: &str) -> Option<&'static str> {
    match metric {
        "dora.change_failure_rate.rate" | "dora.rework_rate.rate" => {
            Some("dora.deployment_frequency.deployments")
        }
        "flow.builds.failure_rate" | "flow.builds.flaky_rate" => Some("flow.builds.attempts"),
        _ => None,
    }
}

fn shape(unit: Unit) -> Shape {
    match unit {
        Unit::Count => Shape::Count,
        Unit::Seconds | Unit::Hours => Shape::Duration,
        _ => Shape::Rate,
    }
}

/// The weeks series are read over: from the week of the oldest data (at most
/// [`MAX_PERIODS`] weeks back) to the end of the week of the newest, or `--until`.
fn series_window(gathered: &Gathered, until: Option<&str>) -> Result<Option<(Millis, Millis)>> {
    let inputs = &gathered.inputs;
    let times = inputs
        .deployments
        .iter()
        .map(|d| d.finished_at)
        .chain(inputs.incidents.iter().map(|i| i.opened_at))
        .chain(inputs.commits.iter().map(|c| c.committed_at));
    let (oldest, newest) = times.fold((Millis::MAX, Millis::MIN), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    if oldest > newest {
        return Ok(None);
    }
    let until = match until {
        Some(v) => leadline_core::activity::week_start(parse_instant("--until", v)? - 1) + WEEK_MS,
        None => leadline_core::activity::week_start(midnight_after(newest) - 1) + WEEK_MS,
    };
    let since =
        leadline_core::activity::week_start(oldest).max(until - MAX_PERIODS as Millis * WEEK_MS);
    Ok((since < until).then_some((since, until)))
}

/// The scopes a family's series are read for: services for DORA and incidents, teams (or
/// repositories when no team is configured) for flow, repositories for AI.
async fn scopes(
    ctx: &Ctx<'_>,
    gathered: &Gathered,
    family: Family,
    env: &str,
) -> Result<Vec<Scope>> {
    let set: BTreeSet<Scope> = match family {
        Family::Dora => gathered
            .inputs
            .deployments
            .iter()
            .filter(|d| d.environment == env)
            .map(|d| Scope::Service(d.service.clone()))
            .collect(),
        Family::Incidents => gathered
            .inputs
            .incidents
            .iter()
            .map(|i| Scope::Service(i.service.clone()))
            .collect(),
        Family::Flow | Family::Wellbeing if !ctx.teams.is_empty() => ctx
            .teams
            .iter()
            .map(|t| Scope::Team(t.name.clone()))
            .collect(),
        // Wellbeing is per team only.
        Family::Wellbeing => BTreeSet::new(),
        _ => ctx
            .store
            .repositories()
            .await?
            .into_iter()
            .map(|r| Scope::Repository(r.name))
            .collect(),
    };
    Ok(set.into_iter().collect())
}

/// One watched series, aligned on whole weeks.
struct Series {
    metric: &'static Metric,
    scope: Scope,
    weeks: Vec<Millis>,
    values: Vec<Option<f64>>,
    /// A rate's denominator each week.
    exposure: Option<Vec<Option<f64>>>,
}

async fn watched(
    ctx: &Ctx<'_>,
    gathered: &Arc<Gathered>,
    settings: &Settings,
    window: (Millis, Millis),
) -> Result<Vec<Series>> {
    let mut out = Vec::new();
    let families: BTreeSet<&'static str> =
        settings.watch.iter().map(|m| m.family.as_str()).collect();
    for family in Family::ALL
        .into_iter()
        .filter(|f| families.contains(f.as_str()))
    {
        let watched: Vec<&'static Metric> = settings
            .watch
            .iter()
            .copied()
            .filter(|m| m.family == family)
            .collect();
        // The watched metrics, then the denominators of their rates, read in one pass.
        let mut metrics = watched.clone();
        for name in watched.iter().filter_map(|m| exposure_of(m.name)) {
            let m = reading::lookup(name).map_err(|e| UsageError(e.to_string()))?;
            if !metrics.contains(&m) {
                metrics.push(m);
            }
        }
        for scope in scopes(ctx, gathered, family, &settings.env).await? {
            let mut read = scope.read_scope(family, &settings.env);
            read.since = Some(utc(window.0));
            read.until = Some(utc(window.1));
            let readings =
                read_series(ctx, Some(Arc::clone(gathered)), family, &metrics, &read).await?;
            let mut by_name: HashMap<&str, (Vec<Millis>, Vec<Option<f64>>)> = HashMap::new();
            for (metric, reading) in metrics.iter().zip(readings) {
                let Reading::Series { series, .. } = reading else {
                    continue;
                };
                let weeks = series
                    .iter()
                    .map(|p| parse_instant("since", &p.since))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let values = series.iter().map(|p| p.value.as_f64()).collect();
                by_name.insert(metric.name, (weeks, values));
            }
            for metric in &watched {
                let Some((weeks, values)) = by_name.get(metric.name).cloned() else {
                    continue;
                };
                let exposure = exposure_of(metric.name)
                    .and_then(|name| by_name.get(name))
                    .map(|(_, v)| v.clone());
                out.push(Series {
                    metric,
                    scope: scope.clone(),
                    weeks,
                    values,
                    exposure,
                });
            }
        }
    }
    Ok(out)
}

/// The proposals of weeks in the query's window, newest first, each with its state.
pub async fn propose(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    settings: &Settings,
    reviews: &[AnomalyReview],
    q: &Query,
    now: Millis,
) -> Result<Vec<Proposal>> {
    let gathered = match gathered {
        Some(g) => g,
        None => Arc::new(crate::dora::load(ctx.store, ctx.dora).await?),
    };
    let since = q
        .since
        .as_deref()
        .map(|v| parse_instant("--since", v))
        .transpose()?;
    let until = q
        .until
        .as_deref()
        .map(|v| parse_instant("--until", v))
        .transpose()?;
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return Err(
            UsageError("the window is empty: --since must be before --until".into()).into(),
        );
    }
    let Some(window) = series_window(&gathered, q.until.as_deref())? else {
        return Ok(Vec::new());
    };
    let by_id: HashMap<&str, &AnomalyReview> = reviews.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut out = Vec::new();
    for s in watched(ctx, &gathered, settings, window).await? {
        let labels: Vec<String> = s.weeks.iter().map(|w| iso_week(*w)).collect();
        let excluded: Vec<bool> = labels
            .iter()
            .map(|label| {
                let id = proposal_id(s.metric.name, &s.scope, label);
                by_id
                    .get(id.as_str())
                    .is_some_and(|r| r.state == "dismissed")
            })
            .collect();
        let holidays: Vec<bool> = s
            .weeks
            .iter()
            .map(|start| settings.holiday_weeks.contains(&iso_week_number(*start)))
            .collect();
        let shape = shape(s.metric.unit);
        let series = anomaly::Series {
            values: &s.values,
            exposure: s.exposure.as_deref(),
            excluded: &excluded,
            holidays: &holidays,
        };
        let flags = anomaly::detect(&series, shape, &settings.params);
        for flag in flags {
            let start = s.weeks[flag.index];
            let complete = start + WEEK_MS <= now;
            let in_window = since.is_none_or(|t| start >= t) && until.is_none_or(|t| start < t);
            if !complete || !in_window {
                continue;
            }
            let week = labels[flag.index].clone();
            let id = proposal_id(s.metric.name, &s.scope, &week);
            let review = by_id.get(id.as_str());
            let state = match review.map(|r| r.state.as_str()) {
                Some("acknowledged") => State::Acknowledged,
                Some("dismissed") => State::Dismissed,
                _ => State::Open,
            };
            let rows = if q.explain {
                let mut read = s.scope.read_scope(s.metric.family, &settings.env);
                read.since = Some(utc(start));
                read.until = Some(utc(start + WEEK_MS));
                Some(explained(ctx, Some(Arc::clone(&gathered)), s.metric.family, &read).await?)
            } else {
                None
            };
            out.push(Proposal {
                id,
                metric: s.metric.name.to_owned(),
                scope: s.scope.clone(),
                week,
                week_start: utc(start),
                value: flag.value,
                baseline: flag.baseline,
                low: flag.low,
                high: flag.high,
                direction: flag.direction,
                kind: flag.kind,
                state,
                reason: review.and_then(|r| r.reason.clone()),
                note: review.and_then(|r| r.note.clone()),
                rows,
                week_start_ms: start,
            });
        }
    }
    out.sort_by(|a, b| {
        b.week_start_ms
            .cmp(&a.week_start_ms)
            .then_with(|| a.metric.cmp(&b.metric))
            .then_with(|| a.scope.cmp(&b.scope))
    });
    Ok(out)
}

/// What a person decided about a proposal.
#[derive(Debug, Clone)]
pub enum Judgement {
    /// The change is real.
    Acknowledge { note: Option<String> },
    /// It is not worth attention, and its week leaves later baselines.
    Dismiss {
        reason: Reason,
        note: Option<String>,
    },
}

/// Stores `judgement` of the proposal `id` (any week of the history) and returns it as now
/// listed; `None`, storing nothing, when no proposal has that id.
pub async fn judge(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    settings: &Settings,
    id: &str,
    judgement: Judgement,
    now: Millis,
) -> Result<Option<Proposal>> {
    let reviews = ctx.store.anomaly_reviews().await?;
    let found = propose(ctx, gathered, settings, &reviews, &Query::default(), now).await?;
    let Some(mut proposal) = found.into_iter().find(|p| p.id == id.trim()) else {
        return Ok(None);
    };
    let (state, reason, note) = match judgement {
        Judgement::Acknowledge { note } => (State::Acknowledged, None, note),
        Judgement::Dismiss { reason, note } => {
            (State::Dismissed, Some(reason.as_str().to_owned()), note)
        }
    };
    ctx.store
        .review_anomaly(&AnomalyReview {
            id: proposal.id.clone(),
            metric: proposal.metric.clone(),
            scope: proposal.scope.key(),
            week: proposal.week.clone(),
            state: match state {
                State::Dismissed => "dismissed",
                _ => "acknowledged",
            }
            .to_owned(),
            reason: reason.clone(),
            note: note.clone(),
            reviewed_at: now,
        })
        .await?;
    proposal.state = state;
    proposal.reason = reason;
    proposal.note = note;
    Ok(Some(proposal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks_follow_the_iso_calendar() {
        // 2024-12-30 is a Monday in ISO week 1 of 2025; 2021-01-03 (Sunday) is in 2020-W53.
        assert_eq!(iso_week(1_735_516_800_000), "2025-W01");
        assert_eq!(iso_week(1_609_632_000_000), "2020-W53");
        assert_eq!(iso_week(1_714_521_600_000), "2024-W18");
    }

    #[test]
    fn ids_are_stable_and_tell_scopes_apart() {
        let a = proposal_id(
            "dora.lead_time.median_seconds",
            &Scope::Service("api".into()),
            "2024-W18",
        );
        assert_eq!(a.len(), 12);
        assert_eq!(
            a,
            proposal_id(
                "dora.lead_time.median_seconds",
                &Scope::Service("api".into()),
                "2024-W18"
            )
        );
        assert_ne!(
            a,
            proposal_id(
                "dora.lead_time.median_seconds",
                &Scope::Team("api".into()),
                "2024-W18"
            )
        );
        assert_ne!(
            a,
            proposal_id(
                "dora.lead_time.median_seconds",
                &Scope::Service("api".into()),
                "2024-W19"
            )
        );
    }

    #[test]
    fn the_watch_list_refuses_what_has_no_weekly_series() {
        let e = Settings::new(
            &["health.knowledge_risk.share".into()],
            "production".into(),
            vec![],
        );
        assert!(e.is_err());
        let e = Settings::new(&["dora.nope".into()], "production".into(), vec![]);
        assert!(e.unwrap_err().to_string().contains("dora.nope"));
        assert_eq!(Settings::default().watch.len(), DEFAULT_WATCH.len());
    }

    #[test]
    fn precision_counts_judgements() {
        let r = |state: &str| AnomalyReview {
            id: state.into(),
            metric: String::new(),
            scope: String::new(),
            week: String::new(),
            state: state.into(),
            reason: None,
            note: None,
            reviewed_at: 0,
        };
        assert_eq!(Precision::of(&[]).precision, None);
        let p = Precision::of(&[
            r("acknowledged"),
            r("acknowledged"),
            r("acknowledged"),
            r("dismissed"),
        ]);
        assert_eq!(
            (p.acknowledged, p.dismissed, p.precision),
            (3, 1, Some(0.75))
        );
    }
}
