//! OKRs whose key results compute themselves: each key result names a metric (any catalog
//! name or `samples.NAME`, labels included), read through the metric seam over its
//! objective's period, with progress, projection, status, staleness and the people's
//! check-ins beside it; each objective shows its owner team's delivery. docs/metrics.md
//! ("OKRs") defines every field.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use leadline_core::model::Millis;
use leadline_core::okr::{self, KeyResult, Objective, Status};
use leadline_core::store::Checkin;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Better, CATALOG, Family};
use crate::dora::Gathered;
use crate::error::{Error, Result};
use crate::reading::Reading;
use crate::scope::{Ctx, Named, Scope, named, read_named};
use crate::window::{By, DAY_MS, midnight_after, utc};

/// How long without data makes a key result stale.
const STALE_DAYS: i64 = 14;

/// Where the objectives are (`[okrs] file`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub file: PathBuf,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            file: PathBuf::from("okrs.toml"),
        }
    }
}

/// A problem of the file: its line, field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: line {}, field {}: {}",
            self.file, self.line, self.field, self.message
        )
    }
}

/// The objectives of the file; none when it does not exist. An unreadable file, or one that
/// does not validate, is an error naming its line and field.
pub fn load(settings: &Settings) -> Result<Vec<Objective>> {
    let path = &settings.file;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Settings(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    okr::parse(&text).map_err(|e| {
        Error::Okrs(vec![Problem {
            file: path.display().to_string(),
            line: e.line,
            field: e.field.unwrap_or_default(),
            message: e.message,
        }])
    })
}

/// Edit distance, for suggesting the names closest to an unknown one.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The three catalog names closest to `name`.
pub fn closest(name: &str) -> Vec<&'static str> {
    let bare = name.split('{').next().unwrap_or(name);
    let mut names: Vec<(usize, &'static str)> = CATALOG
        .iter()
        .map(|m| (distance(bare, m.name), m.name))
        .collect();
    names.sort();
    names.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Key results whose metric names nothing: each a problem with the closest names.
pub fn check(objectives: &[Objective], file: &Path) -> Vec<Problem> {
    objectives
        .iter()
        .flat_map(|o| &o.key_results)
        .filter_map(|kr| {
            named(&kr.metric, Scope::default()).err().map(|e| Problem {
                file: file.display().to_string(),
                line: kr.metric_line,
                field: "metric".to_owned(),
                message: format!("{e}; closest: {}", closest(&kr.metric).join(", ")),
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct PeriodOut {
    pub name: String,
    pub since: String,
    pub until: String,
}

#[derive(Debug, Serialize)]
pub struct CheckinOut {
    pub at: String,
    pub confidence: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KeyResultStatus {
    pub id: String,
    pub title: String,
    pub metric: String,
    /// `higher` or `lower`, from the catalog.
    pub better: &'static str,
    pub target: f64,
    pub commit: Option<f64>,
    pub stretch: Option<f64>,
    pub baseline: Option<f64>,
    /// `file`, or `captured`: the metric over the period's length before it started.
    pub baseline_from: &'static str,
    /// The metric over [since, until): the period so far.
    pub current: Option<f64>,
    pub since: String,
    pub until: String,
    pub progress: Option<f64>,
    /// The least-squares line of the weekly values, at the period's end.
    pub projection: Option<f64>,
    pub status: Option<Status>,
    /// No data in the last 14 days of [since, until).
    pub stale: bool,
    /// The latest check-in's confidence (0 to 10).
    pub confidence: Option<i64>,
    pub checkins: Vec<CheckinOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the owner team shipped over the period so far (team level, never a person).
#[derive(Debug, Serialize)]
pub struct Delivery {
    pub team: String,
    pub pull_requests_merged: Value,
    pub cycle_time_median_seconds: Value,
    pub debt_share: Value,
    pub feature_changes: Value,
    pub fix_changes: Value,
}

#[derive(Debug, Serialize)]
pub struct ObjectiveStatus {
    pub id: String,
    pub title: String,
    pub owner: Option<String>,
    pub period: PeriodOut,
    /// The mean progress of the key results that have one.
    pub progress: Option<f64>,
    pub key_results: Vec<KeyResultStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// Families whose reports have no window: read as they are now.
fn windowless(named: &Named) -> bool {
    matches!(named, Named::Catalog(m) if matches!(m.family, Family::Debt | Family::Activity | Family::Slo | Family::Scorecard))
}

fn value_of(reading: &Reading) -> (Option<f64>, Option<String>) {
    match reading {
        Reading::Value { value, reason, .. } => (value.as_f64(), reason.clone()),
        Reading::Series { .. } => (None, None),
    }
}

/// The metric of `kr` over [since, until); `None` with why when it cannot be read.
async fn over(
    ctx: &Ctx<'_>,
    gathered: &Option<Arc<Gathered>>,
    metric: &(Named, Scope),
    since: Millis,
    until: Millis,
    by: Option<By>,
) -> Result<Reading> {
    let (named, scope) = metric;
    let mut scope = scope.clone();
    if !windowless(named) {
        scope.since = Some(utc(since));
        scope.until = Some(utc(until));
        scope.by = by;
    }
    match read_named(ctx, gathered.clone(), named, &scope).await {
        // What the metric cannot answer (no such samples, a family's usage error) is the key
        // result's reason, not the whole status's failure.
        Err(e) if e.is_usage() => Ok(Reading::Value {
            name: named.name().to_owned(),
            value: Value::Null,
            reason: Some(e.to_string()),
        }),
        other => other,
    }
}

async fn key_result(
    ctx: &Ctx<'_>,
    gathered: &Option<Arc<Gathered>>,
    o: &Objective,
    kr: &KeyResult,
    checkins: &[&Checkin],
    at: Millis,
) -> Result<KeyResultStatus> {
    let until = o.period.until.min(midnight_after(at));
    let since = o.period.since;
    let mut out = KeyResultStatus {
        id: kr.id.clone(),
        title: kr.title.clone(),
        metric: kr.metric.clone(),
        better: "higher",
        target: kr.target,
        commit: kr.commit,
        stretch: kr.stretch,
        baseline: kr.baseline,
        baseline_from: "file",
        current: None,
        since: utc(since),
        until: utc(until.max(since)),
        progress: None,
        projection: None,
        status: None,
        stale: false,
        confidence: checkins.last().map(|c| c.confidence),
        checkins: checkins
            .iter()
            .map(|c| CheckinOut {
                at: utc(c.at),
                confidence: c.confidence,
                note: c.note.clone(),
            })
            .collect(),
        reason: None,
    };
    let metric = match named(&kr.metric, Scope::default()) {
        Ok(m) => m,
        Err(e) => {
            out.reason = Some(e.to_string());
            return Ok(out);
        }
    };
    let higher = metric.0.better() != Better::Lower;
    out.better = if higher { "higher" } else { "lower" };
    if until <= since {
        out.reason = Some("the period has not started".to_owned());
        return Ok(out);
    }
    let (current, why) = value_of(&over(ctx, gathered, &metric, since, until, None).await?);
    out.current = current;
    out.reason = why;
    if out.baseline.is_none() && !windowless(&metric.0) {
        let length = o.period.until - o.period.since;
        let before = over(ctx, gathered, &metric, since - length, since, None).await?;
        out.baseline = value_of(&before).0;
        out.baseline_from = "captured";
    }
    if !windowless(&metric.0) {
        let recent = over(
            ctx,
            gathered,
            &metric,
            (until - STALE_DAYS * DAY_MS).max(since),
            until,
            None,
        )
        .await?;
        out.stale = value_of(&recent).0.is_none();
        let weekly = over(ctx, gathered, &metric, since, until, Some(By::Week)).await?;
        if let Reading::Series { series, .. } = weekly {
            let day = |t: &str| {
                crate::window::parse_instant("since", t)
                    .map(|ms| (ms - since) as f64 / DAY_MS as f64)
                    .unwrap_or(0.0)
            };
            let points: Vec<(f64, f64)> = series
                .iter()
                .filter_map(|p| {
                    let y = p.value.as_f64()?;
                    Some(((day(&p.since) + day(&p.until)) / 2.0, y))
                })
                .collect();
            let end = (o.period.until - since) as f64 / DAY_MS as f64;
            out.projection = okr::projection(&points, end);
        }
    }
    if let (Some(current), Some(baseline)) = (out.current, out.baseline) {
        out.progress = okr::progress(current, baseline, kr.target);
    }
    if let (Some(projected), Some(baseline)) = (out.projection, out.baseline) {
        out.status = Some(okr::status(
            projected, baseline, kr.target, kr.commit, higher,
        ));
    }
    Ok(out)
}

/// The owner team's delivery over [since, until); values are `null` where the team has no
/// data (or is hidden by the privacy floor).
async fn delivery(ctx: &Ctx<'_>, team: &str, since: Millis, until: Millis) -> Delivery {
    let read = |name: &'static str| async move {
        let Some(metric) = crate::catalog::find(name) else {
            return Value::Null;
        };
        let scope = Scope {
            team: Some(team.to_owned()),
            since: Some(utc(since)),
            until: Some(utc(until)),
            ..Scope::default()
        };
        match crate::scope::read(ctx, None, metric, &scope).await {
            Ok(Reading::Value { value, .. }) => value,
            _ => Value::Null,
        }
    };
    Delivery {
        team: team.to_owned(),
        pull_requests_merged: read("flow.pull_requests.merged").await,
        cycle_time_median_seconds: read("flow.pull_requests.cycle_time.median_seconds").await,
        debt_share: read("capacity.window.debt_share").await,
        feature_changes: read("capacity.window.feature").await,
        fix_changes: read("capacity.window.fix").await,
    }
}

/// Every objective (of `period` when given) as of `at`.
pub async fn status(
    ctx: &Ctx<'_>,
    gathered: Option<Arc<Gathered>>,
    objectives: &[Objective],
    checkins: &[Checkin],
    period: Option<&str>,
    at: Millis,
) -> Result<Vec<ObjectiveStatus>> {
    let mut out = Vec::new();
    for o in objectives
        .iter()
        .filter(|o| period.is_none_or(|p| o.period.name == p))
    {
        let mut key_results = Vec::new();
        for kr in &o.key_results {
            let mine: Vec<&Checkin> = checkins.iter().filter(|c| c.key_result == kr.id).collect();
            key_results.push(key_result(ctx, &gathered, o, kr, &mine, at).await?);
        }
        let progresses: Vec<f64> = key_results.iter().filter_map(|k| k.progress).collect();
        let until = o.period.until.min(midnight_after(at));
        let delivery = match &o.owner {
            Some(team) if until > o.period.since => {
                Some(delivery(ctx, team, o.period.since, until).await)
            }
            _ => None,
        };
        out.push(ObjectiveStatus {
            id: o.id.clone(),
            title: o.title.clone(),
            owner: o.owner.clone(),
            period: PeriodOut {
                name: o.period.name.clone(),
                since: utc(o.period.since),
                until: utc(o.period.until),
            },
            progress: (!progresses.is_empty())
                .then(|| progresses.iter().sum::<f64>() / progresses.len() as f64),
            key_results,
            delivery,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_metrics_get_the_closest_names() {
        let near = closest("dora.lead_time.median_second{service=api}");
        assert_eq!(near[0], "dora.lead_time.median_seconds");
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
