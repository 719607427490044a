//! The SLO family (`leadline slo`): every SLO of the OpenSLO files in `[slo] dir` with its
//! SLI, error budget and burn rates at a moment, the multiwindow alerts over a span, and the
//! release gate on budget remaining. docs/metrics.md ("SLOs") defines every field.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use leadline_core::model::Millis;
use leadline_core::slo::Series;
use leadline_core::slo::burn::{self, Interval, MINUTE, Minutes};
use leadline_core::slo::openslo::{self, Slo, Source};
use leadline_core::store::Store;
use serde::Serialize;

use crate::error::{Error, Result, UsageError};
use crate::window::{By, MAX_PERIODS, buckets, utc};

const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// The burn-rate windows `slo status` reports, by name.
pub const BURN_WINDOWS: [(&str, Millis); 7] = [
    ("5m", 5 * MINUTE),
    ("30m", 30 * MINUTE),
    ("1h", HOUR),
    ("2h", 2 * HOUR),
    ("6h", 6 * HOUR),
    ("1d", DAY),
    ("3d", 3 * DAY),
];

/// Where the SLO files are.
#[derive(Debug, Clone)]
pub struct Settings {
    /// [default: `slos/` of the working directory]
    pub dir: PathBuf,
    /// `[slo.prometheus] url`: where SLOs with a Prometheus indicator are read.
    pub prometheus_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dir: PathBuf::from("slos"),
            prometheus_url: None,
        }
    }
}

/// Every SLO of the folder's `.yaml`/`.yml` files (none without a folder), or
/// [`Error::Slos`] naming each problem.
pub fn load(settings: &Settings) -> Result<Vec<Slo>> {
    let files = read_folder(&settings.dir)?;
    openslo::parse(&files).map_err(Error::Slos)
}

fn read_folder(dir: &Path) -> Result<Vec<(String, String)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Settings(format!(
                "cannot read the SLO folder {}: {e}",
                dir.display()
            )));
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| Error::Settings(format!("cannot read {}: {e}", p.display())))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// The SLOs a query names: one by `--slo`, those of a `--service`, else all.
pub fn select(slos: Vec<Slo>, name: Option<&str>, service: Option<&str>) -> Result<Vec<Slo>> {
    let known: Vec<String> = slos.iter().map(|s| s.name.clone()).collect();
    let chosen: Vec<Slo> = slos
        .into_iter()
        .filter(|s| name.is_none_or(|n| s.name == n) && service.is_none_or(|v| s.service == v))
        .collect();
    if let Some(name) = name
        && chosen.is_empty()
    {
        return Err(UsageError(format!(
            "no SLO {name:?} (the SLOs: {})",
            if known.is_empty() {
                "none: write OpenSLO files in slos/".to_owned()
            } else {
                known.join(", ")
            }
        ))
        .into());
    }
    Ok(chosen)
}

/// Where SLO events are read: the store, and Prometheus when `[slo.prometheus] url` is set.
#[derive(Clone)]
pub struct Reader {
    pub store: Arc<dyn Store>,
    pub prometheus: Option<Arc<dyn Series>>,
}

/// The counts of `slo` over [since, until), by minute.
async fn minutes(reader: &Reader, slo: &Slo, since: Millis, until: Millis) -> Result<Minutes> {
    let store = &reader.store;
    if let Source::Prometheus { good, bad, total } = &slo.source {
        let Some(prometheus) = &reader.prometheus else {
            return Err(UsageError(format!(
                "{}: reads Prometheus, and [slo.prometheus] url is not set in leadline.toml",
                slo.name
            ))
            .into());
        };
        return from_prometheus(prometheus.as_ref(), slo, (good, bad, total), since, until).await;
    }
    if slo.source == Source::Incidents {
        return availability(store, slo, since, until).await;
    }
    Ok(minutes_of(
        &store.sli_counts(&slo.name, since, until).await?,
    ))
}

/// An SLO's events by minute from Prometheus: each query with a one-minute range, sampled at
/// every minute boundary t after `since` up to `until`; a sample (a rate per second, as
/// Sloth's queries are) × 60 is the events of the minute before it.
async fn from_prometheus(
    prometheus: &dyn Series,
    slo: &Slo,
    (good, bad, total): (&Option<String>, &Option<String>, &String),
    since: Millis,
    until: Millis,
) -> Result<Minutes> {
    let start = since.div_euclid(MINUTE) * MINUTE + MINUTE;
    if until - since > 400 * DAY {
        return Err(UsageError("Prometheus is read over at most 400 days".into()).into());
    }
    let fetch = |query: &String| {
        let query = query.replace("{{.window}}", "1m");
        async move {
            prometheus
                .range(&query, start, until, MINUTE)
                .await
                .map_err(|e| Error::Settings(format!("{}: {e}", slo.name)))
        }
    };
    let totals = fetch(total).await?;
    let other = match (good, bad) {
        (Some(q), _) | (None, Some(q)) => fetch(q).await?,
        (None, None) => Vec::new(),
    };
    let other: std::collections::HashMap<Millis, f64> = other.into_iter().collect();
    let intervals: Vec<Interval> = totals
        .into_iter()
        .filter(|(t, _)| *t <= until)
        .map(|(t, rate)| {
            let total = rate * 60.0;
            let part = other.get(&t).copied().unwrap_or(0.0) * 60.0;
            let good = if good.is_some() { part } else { total - part };
            Interval {
                at: t - MINUTE,
                good: good.clamp(0.0, total.max(0.0)),
                total: total.max(0.0),
            }
        })
        .collect();
    Ok(Minutes::new(&intervals))
}

/// Availability from incidents over [since, until) (never past now): one event a minute, bad
/// when a sev1 or sev2 incident of the SLO's service is open during any of it (from its start
/// of impact, else its opening, to its resolution, else still).
async fn availability(
    store: &Arc<dyn Store>,
    slo: &Slo,
    since: Millis,
    until: Millis,
) -> Result<Minutes> {
    use leadline_core::incident::Severity;
    let now = jiff::Timestamp::now().as_millisecond();
    let until = until.min(now);
    let open: Vec<(Millis, Millis)> = store
        .incidents()
        .await?
        .into_iter()
        .map(|(_, i)| i)
        .filter(|i| {
            i.service == slo.service && matches!(i.level(), Severity::Sev1 | Severity::Sev2)
        })
        .map(|i| (i.start(), i.resolved_at.unwrap_or(Millis::MAX)))
        .collect();
    let first = since.div_euclid(MINUTE) * MINUTE;
    let minutes = ((until - first).max(0) / MINUTE) as usize;
    if minutes > 400 * 24 * 60 {
        return Err(UsageError("availability is computed over at most 400 days".into()).into());
    }
    let intervals: Vec<Interval> = (0..minutes)
        .map(|k| {
            let m = first + k as Millis * MINUTE;
            let bad = open.iter().any(|(s, e)| *s < m + MINUTE && *e > m);
            Interval {
                at: m,
                good: if bad { 0.0 } else { 1.0 },
                total: 1.0,
            }
        })
        .collect();
    Ok(Minutes::new(&intervals))
}

/// One SLO at a moment, as `leadline slo status --format json` lists it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Status {
    pub slo: String,
    pub service: String,
    pub target: f64,
    pub window: Span,
    /// Good events (Timeslices: good slices) in the window up to the moment.
    pub good: f64,
    pub total: f64,
    /// good / total; `null` without events.
    pub sli: Option<f64>,
    /// 1 − (1 − sli) / (1 − target); negative once the budget is overspent.
    pub budget_remaining: Option<f64>,
    /// Burn rate over each window ending at the moment; `null` without events.
    pub burn_rates: BurnRates,
    /// With `--explain`: the deployments of the service that spent the most of the budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spent_by: Option<Vec<Spent>>,
}

/// The bad events between a deployment finishing and the next one of its service finishing.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Spent {
    /// The deployment's id, or `before the first deployment` for what precedes them all.
    pub deployment: String,
    pub sha: Option<String>,
    pub finished_at: Option<String>,
    pub bad: f64,
    /// bad / the window's budget ((1 − target) × total events).
    pub share_of_budget: Option<f64>,
    /// The commits it carried (the DORA attribution), at most 20.
    pub changes: Vec<String>,
}

/// Burn rates over the windows ending at a moment, named as the alert rules name them.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct BurnRates {
    #[serde(rename = "5m")]
    pub m5: Option<f64>,
    #[serde(rename = "30m")]
    pub m30: Option<f64>,
    #[serde(rename = "1h")]
    pub h1: Option<f64>,
    #[serde(rename = "2h")]
    pub h2: Option<f64>,
    #[serde(rename = "6h")]
    pub h6: Option<f64>,
    #[serde(rename = "1d")]
    pub d1: Option<f64>,
    #[serde(rename = "3d")]
    pub d3: Option<f64>,
}

impl BurnRates {
    /// The rates in the order of [`BURN_WINDOWS`].
    pub fn in_order(&self) -> [Option<f64>; 7] {
        [
            self.m5, self.m30, self.h1, self.h2, self.h6, self.d1, self.d3,
        ]
    }

    fn at(m: &Minutes, at: Millis, target: f64) -> BurnRates {
        let [m5, m30, h1, h2, h6, d1, d3] = BURN_WINDOWS.map(|(_, w)| m.burn(at, w, target));
        BurnRates {
            m5,
            m30,
            h1,
            h2,
            h6,
            d1,
            d3,
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Span {
    pub since: String,
    pub until: String,
}

/// Every chosen SLO at `at`.
pub async fn status(reader: &Reader, slos: &[Slo], at: Millis) -> Result<Vec<Status>> {
    let mut out = Vec::with_capacity(slos.len());
    for slo in slos {
        let (since, until) = slo.window.at(at);
        let lookback = since.min(at - 3 * DAY);
        let m = minutes(reader, slo, lookback, until.max(at)).await?;
        let end = until.min(at);
        let (good, total) = slo.budgeting.counts(&m, since, end);
        let sli = (total > 0.0).then(|| good / total);
        out.push(Status {
            slo: slo.name.clone(),
            service: slo.service.clone(),
            target: slo.target,
            window: Span {
                since: utc(since),
                until: utc(until),
            },
            good,
            total,
            sli,
            budget_remaining: sli.map(|s| burn::budget_remaining(s, slo.target)),
            burn_rates: BurnRates::at(&m, at, slo.target),
            spent_by: None,
        });
    }
    Ok(out)
}

/// How many deployments `--explain` lists per SLO.
const SPENT_SHOWN: usize = 10;

/// Adds to each status the deployments of its service (production, successful) that spent the
/// most of its budget in the window: the bad events from each one finishing to the next one
/// finishing.
pub async fn explain(
    reader: &Reader,
    dora: &crate::dora::Settings,
    slos: &[Slo],
    statuses: &mut [Status],
    at: Millis,
) -> Result<()> {
    let gathered = crate::dora::load(&reader.store, dora).await?;
    for (slo, status) in slos.iter().zip(statuses.iter_mut()) {
        let (since, until) = slo.window.at(at);
        let end = until.min(at);
        let m = minutes(reader, slo, since, end).await?;
        let (attribution, _) = crate::dora::attribute(
            &gathered.inputs,
            gathered.scope("production", Some(&slo.service)),
        );
        let deployments: Vec<_> = attribution
            .deployments
            .iter()
            .filter(|d| d.deployment.service == slo.service)
            .collect();
        let budget = (1.0 - slo.target) * status.total;
        let bad = |from: Millis, to: Millis| {
            let (g, t) = m.counts(from.max(since), to.min(end));
            t - g
        };
        let mut spent = Vec::new();
        let first = deployments
            .first()
            .map_or(end, |d| d.deployment.finished_at);
        if first > since {
            spent.push(Spent {
                deployment: "before the first deployment".into(),
                sha: None,
                finished_at: None,
                bad: bad(since, first),
                share_of_budget: None,
                changes: Vec::new(),
            });
        }
        for (i, d) in deployments.iter().enumerate() {
            let next = deployments
                .get(i + 1)
                .map_or(end, |n| n.deployment.finished_at);
            if next <= since || d.deployment.finished_at >= end {
                continue;
            }
            spent.push(Spent {
                deployment: d.deployment.id.clone(),
                sha: Some(d.deployment.sha.clone()),
                finished_at: Some(utc(d.deployment.finished_at)),
                bad: bad(d.deployment.finished_at, next),
                share_of_budget: None,
                changes: d.changes.iter().take(20).map(|c| c.sha.clone()).collect(),
            });
        }
        for s in &mut spent {
            s.share_of_budget = (budget > 0.0).then(|| s.bad / budget);
        }
        spent.retain(|s| s.bad > 0.0);
        spent.sort_by(|a, b| b.bad.total_cmp(&a.bad));
        spent.truncate(SPENT_SHOWN);
        status.spent_by = Some(spent);
    }
    Ok(())
}

/// One firing interval, as `leadline slo alerts --format json` lists it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Alert {
    pub slo: String,
    /// `page` or `ticket`.
    pub severity: String,
    pub start: String,
    pub end: String,
}

/// The multiwindow alerts of the chosen SLOs over [since, until).
pub async fn alerts(
    reader: &Reader,
    slos: &[Slo],
    since: Millis,
    until: Millis,
) -> Result<Vec<Alert>> {
    if since >= until {
        return Err(UsageError("the span is empty: --since must be before --until".into()).into());
    }
    if until - since > 400 * DAY {
        return Err(UsageError("a span of alerts is at most 400 days".into()).into());
    }
    let mut out = Vec::new();
    for slo in slos {
        let rules = burn::rules(slo.window.period());
        let longest = rules.iter().map(|r| r.long).max().unwrap_or(0);
        let m = minutes(reader, slo, since - longest, until).await?;
        for f in burn::alerts(&m, &rules, slo.target, since, until) {
            out.push(Alert {
                slo: slo.name.clone(),
                severity: match f.severity {
                    burn::Severity::Page => "page",
                    burn::Severity::Ticket => "ticket",
                }
                .to_owned(),
                start: utc(f.start),
                end: utc(f.end),
            });
        }
    }
    Ok(out)
}

/// One calendar period of an SLO's compliance history.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Period {
    pub slo: String,
    /// `2026-03` for a month, the Monday `2026-03-02` for a week.
    pub period: String,
    /// The period, clipped to the span asked for (or to the data).
    pub since: String,
    pub until: String,
    pub good: f64,
    pub total: f64,
    pub sli: Option<f64>,
    /// The period taken as the SLO's window: 1 − (1 − sli) / (1 − target).
    pub budget_remaining: Option<f64>,
    /// sli ≥ target; `null` without events.
    pub met: Option<bool>,
}

/// Counts as minute buckets.
fn minutes_of(rows: &[leadline_core::store::SliCount]) -> Minutes {
    let intervals: Vec<Interval> = rows
        .iter()
        .map(|r| Interval {
            at: r.at,
            good: r.good,
            total: r.total,
        })
        .collect();
    Minutes::new(&intervals)
}

/// Compliance per calendar month or week (UTC) over [since, until), by default over the data:
/// the imported counts, or for availability from incidents the first incident of the service
/// until now. Prometheus has no "all of the data": a span must be given.
pub async fn history(
    reader: &Reader,
    slo: &Slo,
    by: By,
    since: Option<Millis>,
    until: Option<Millis>,
) -> Result<Vec<Period>> {
    let store = &reader.store;
    // Imported counts are read once: they give the default span and the minutes.
    let imported = match slo.source {
        Source::Imported => Some(store.sli_counts(&slo.name, i64::MIN, i64::MAX).await?),
        _ => None,
    };
    let span = match (&imported, &slo.source) {
        (Some(rows), _) => rows
            .first()
            .zip(rows.last())
            .map(|(f, l)| (f.at, l.at + MINUTE)),
        (None, Source::Incidents) => store
            .incidents()
            .await?
            .into_iter()
            .filter(|(_, i)| i.service == slo.service)
            .map(|(_, i)| i.start())
            .min()
            .map(|f| (f, jiff::Timestamp::now().as_millisecond())),
        (None, _) => None,
    };
    let (since, until) = match (since, until, span) {
        (Some(s), Some(u), _) => (s, u),
        (s, u, Some((first, end))) => (s.unwrap_or(first), u.unwrap_or(end)),
        (_, _, None) if imported.is_some() || slo.source == Source::Incidents => {
            return Ok(Vec::new());
        }
        _ => {
            return Err(UsageError(format!(
                "{}: reads Prometheus; give --since and --until",
                slo.name
            ))
            .into());
        }
    };
    if since >= until {
        return Err(UsageError("the span is empty: --since must be before --until".into()).into());
    }
    let m = match &imported {
        Some(rows) => minutes_of(rows),
        None => minutes(reader, slo, since, until).await?,
    };
    let window = leadline_core::dora::Window { since, until };
    Ok(buckets(window, by, MAX_PERIODS)?
        .into_iter()
        .map(|w| {
            let (good, total) = slo.budgeting.counts(&m, w.since, w.until);
            let sli = (total > 0.0).then(|| good / total);
            let label = utc(match by {
                By::Week => leadline_core::activity::week_start(w.since),
                By::Month => w.since,
            });
            Period {
                slo: slo.name.clone(),
                period: match by {
                    By::Month => label[..7].to_owned(),
                    By::Week => label[..10].to_owned(),
                },
                since: utc(w.since),
                until: utc(w.until),
                good,
                total,
                sli,
                budget_remaining: sli.map(|s| burn::budget_remaining(s, slo.target)),
                met: sli.map(|s| s >= slo.target),
            }
        })
        .collect())
}

/// Whether one SLO's alert of one severity fires at a moment: what notifications follow.
#[derive(Debug, Serialize)]
pub struct Condition {
    /// `slo/NAME/SEVERITY`: one notification state per key.
    pub key: String,
    pub slo: String,
    pub service: String,
    pub severity: &'static str,
    pub firing: bool,
    /// One line for a person.
    pub text: String,
}

/// Every alert of the chosen SLOs at the minute boundary at or before `at`.
pub async fn conditions(reader: &Reader, slos: &[Slo], at: Millis) -> Result<Vec<Condition>> {
    let t = at.div_euclid(MINUTE) * MINUTE;
    let mut out = Vec::new();
    for slo in slos {
        let rules = burn::rules(slo.window.period());
        let longest = rules.iter().map(|r| r.long).max().unwrap_or(0);
        let m = minutes(reader, slo, t - longest, t + MINUTE).await?;
        let fired = burn::alerts(&m, &rules, slo.target, t, t + MINUTE);
        for (severity, name) in [
            (burn::Severity::Page, "page"),
            (burn::Severity::Ticket, "ticket"),
        ] {
            let firing = fired.iter().any(|f| f.severity == severity);
            out.push(Condition {
                key: format!("slo/{}/{name}", slo.name),
                slo: slo.name.clone(),
                service: slo.service.clone(),
                severity: name,
                firing,
                text: format!(
                    "{} SLO {} of {}: {} ({})",
                    if firing { "FIRING" } else { "RESOLVED" },
                    slo.name,
                    slo.service,
                    if firing {
                        "burning its error budget too fast"
                    } else {
                        "the burn rate is back under the alert's"
                    },
                    name
                ),
            });
        }
    }
    Ok(out)
}

/// One point of a budget burn-down.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct BurnPoint {
    pub at: String,
    /// The budget remaining over the window's events up to `at`.
    pub budget_remaining: Option<f64>,
}

/// How the budget of the window holding `at` was spent: its remaining share at `points` evenly
/// spaced moments from the window's start to `at` (or its end).
pub async fn burndown(
    reader: &Reader,
    slo: &Slo,
    at: Millis,
    points: usize,
) -> Result<Vec<BurnPoint>> {
    let (since, until) = slo.window.at(at);
    let end = until.min(at);
    let m = minutes(reader, slo, since, end).await?;
    let points = points.clamp(2, 500) as i64;
    Ok((1..=points)
        .map(|k| {
            let x = since + (end - since) * k / points;
            let (good, total) = slo.budgeting.counts(&m, since, x);
            BurnPoint {
                at: utc(x),
                budget_remaining: (total > 0.0)
                    .then(|| burn::budget_remaining(good / total, slo.target)),
            }
        })
        .collect())
}
