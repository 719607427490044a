//! `leadline platform adoption|impact`: when each ingested repository (a service) adopted
//! each `[[platform.capability]]` (its detector matching at HEAD and at every first-parent
//! commit back to that date), and what adopting did to outcome metrics, by
//! leadline-core's difference-in-differences against services that had not adopted yet.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use leadline_core::model::Millis;
use leadline_core::platform::{Estimate, Unit, did};
use leadline_core::store::Store;
use leadline_metrics::catalog::{Family, Unit as MetricUnit};
use leadline_metrics::reading::Reading;
use leadline_metrics::scope::{Scope, read_series};
use leadline_metrics::window::{By, DAY_MS, utc};
use serde::Serialize;

use crate::cli::{PlatformCommand, PlatformImpactArgs, SummaryFormat};
use crate::config::Settings as Config;

const WEEK_MS: Millis = 7 * DAY_MS;
/// First-parent commits looked at per repository and capability.
const MAX_COMMITS: usize = 20_000;
const RESAMPLES: usize = 2_000;

/// A capability and how it is recognised in a repository.
#[derive(Debug, Clone)]
pub struct Capability {
    pub name: String,
    pub files: globset::GlobSet,
    pub contains: Option<regex::bytes::Regex>,
}

/// `[platform]`: the capabilities, the outcome metrics and the weeks around an adoption.
#[derive(Debug, Clone)]
pub struct Settings {
    pub capabilities: Vec<Capability>,
    pub metrics: Vec<&'static leadline_metrics::Metric>,
    pub weeks: usize,
}

/// The outcomes measured when `[platform] metrics` is not set.
pub const DEFAULT_METRICS: [&str; 4] = [
    "dora.lead_time.median_seconds",
    "flow.builds.duration.median_seconds",
    "dora.change_failure_rate.rate",
    "flow.onboarding.to_tenth_change.median_seconds",
];

/// One repository's adoption of one capability.
#[derive(Debug, Clone, Serialize)]
pub struct Adoption {
    pub capability: String,
    pub service: String,
    pub adopted: bool,
    /// The first commit of the unbroken run that matches.
    pub since: Option<String>,
    pub commit: Option<String>,
    #[serde(skip)]
    pub at: Option<Millis>,
}

async fn adoptions(store: &Arc<dyn Store>, settings: &Settings) -> Result<Vec<Adoption>> {
    let mut out = Vec::new();
    for repo in store.repositories().await? {
        let miner = leadline_git::Miner::open(Path::new(&repo.location))
            .with_context(|| format!("cannot open {} at {}", repo.name, repo.location))?;
        for c in &settings.capabilities {
            let wanted = |p: &[u8]| c.files.is_match(String::from_utf8_lossy(p).as_ref());
            let content = |data: &[u8]| c.contains.as_ref().is_none_or(|r| r.is_match(data));
            let found = miner
                .adoption(&wanted, &content, MAX_COMMITS)
                .with_context(|| format!("cannot read {}'s history", repo.name))?;
            out.push(Adoption {
                capability: c.name.clone(),
                service: repo.name.clone(),
                adopted: found.is_some(),
                since: found.as_ref().map(|(_, t)| utc(t * 1000)),
                commit: found.as_ref().map(|(sha, _)| sha.clone()),
                at: found.map(|(_, t)| t * 1000),
            });
        }
    }
    Ok(out)
}

/// The share of services that had adopted each capability at each month's end.
#[derive(Debug, Serialize)]
struct Share {
    capability: String,
    month: String,
    adopted: usize,
    services: usize,
    share: f64,
}

fn shares(all: &[Adoption], now: Millis) -> Vec<Share> {
    let mut out = Vec::new();
    let mut names: Vec<&str> = all.iter().map(|a| a.capability.as_str()).collect();
    names.dedup();
    for name in names {
        let mine: Vec<&Adoption> = all.iter().filter(|a| a.capability == name).collect();
        let Some(first) = mine.iter().filter_map(|a| a.at).min() else {
            continue;
        };
        let mut month = jiff::Timestamp::from_millisecond(first)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .first_of_month();
        loop {
            let Ok(next) = month.checked_add(jiff::Span::new().months(1)) else {
                break;
            };
            let end = next
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(Millis::MAX);
            let adopted = mine
                .iter()
                .filter(|a| a.at.is_some_and(|t| t < end))
                .count();
            out.push(Share {
                capability: name.to_owned(),
                month: month.strftime("%Y-%m").to_string(),
                adopted,
                services: mine.len(),
                share: adopted as f64 / mine.len() as f64,
            });
            if end > now {
                break;
            }
            month = next;
        }
    }
    out
}

/// One capability's effect on one outcome.
#[derive(Debug, Serialize)]
pub struct Impact {
    pub capability: String,
    pub metric: String,
    pub weeks: usize,
    #[serde(flatten)]
    pub estimate: Estimate,
    /// For durations: the hours adopters save a month at their post-adoption volume (the
    /// negated estimate × their changes a month); `null` otherwise.
    pub hours_saved_per_month: Option<f64>,
}

/// The weekly values of `metric` for `service` over [since, until).
async fn weekly(
    ctx: &leadline_metrics::scope::Ctx<'_>,
    gathered: &Arc<leadline_metrics::dora::Gathered>,
    metric: &'static leadline_metrics::Metric,
    service: &str,
    window: (Millis, Millis),
) -> Result<Vec<Option<f64>>> {
    let mut scope = Scope {
        since: Some(utc(window.0)),
        until: Some(utc(window.1)),
        by: Some(By::Week),
        ..Scope::default()
    };
    match metric.family {
        Family::Dora | Family::Incidents => scope.service = Some(service_of(gathered, service)),
        _ => scope.repo = Some(service.to_owned()),
    }
    let read = read_series(
        ctx,
        Some(Arc::clone(gathered)),
        metric.family,
        &[metric],
        &scope,
    )
    .await;
    Ok(match read {
        Ok(mut readings) => match readings.pop() {
            Some(Reading::Series { series, .. }) => {
                series.iter().map(|p| p.value.as_f64()).collect()
            }
            _ => Vec::new(),
        },
        Err(e) if e.is_usage() => Vec::new(),
        Err(e) => return Err(e.into()),
    })
}

/// The deployed service of a repository: the one named like it, else the one whose
/// deployments name it as their repository (`repo`), else the repository's name.
fn service_of(gathered: &leadline_metrics::dora::Gathered, repository: &str) -> String {
    let deployments = &gathered.inputs.deployments;
    if deployments.iter().any(|d| d.service == repository) {
        return repository.to_owned();
    }
    let short = repository.rsplit('/').next().unwrap_or(repository);
    deployments
        .iter()
        .find(|d| {
            d.repo
                .as_deref()
                .is_some_and(|r| r == repository || r.rsplit('/').next() == Some(short))
        })
        .map_or_else(|| repository.to_owned(), |d| d.service.clone())
}

/// How many changes a duration metric counts, for converting an effect into hours.
fn volume_of(metric: &str) -> Option<&'static str> {
    match metric {
        "dora.lead_time.median_seconds" | "dora.lead_time.p90_seconds" => {
            Some("dora.lead_time.changes")
        }
        "flow.builds.duration.median_seconds" => Some("flow.builds.attempts"),
        _ => None,
    }
}

async fn impacts(
    store: &Arc<dyn Store>,
    config: &Config,
    only: Option<&str>,
    weeks: usize,
) -> Result<Vec<Impact>> {
    let settings = &config.platform;
    let all = adoptions(store, settings).await?;
    let slo_reader = crate::slo::reader(store, &config.slo)?;
    let ctx = config.ctx(store, &slo_reader);
    let gathered = Arc::new(leadline_metrics::dora::load(store, &config.dora).await?);
    let mut out = Vec::new();
    for c in settings
        .capabilities
        .iter()
        .filter(|c| only.is_none_or(|o| o == c.name))
    {
        let mine: Vec<&Adoption> = all.iter().filter(|a| a.capability == c.name).collect();
        let times: Vec<Millis> = mine.iter().filter_map(|a| a.at).collect();
        let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else {
            continue;
        };
        let span = weeks as Millis * WEEK_MS;
        let since = leadline_core::activity::week_start(first - span);
        let until = leadline_core::activity::week_start(last + span) + WEEK_MS;
        for metric in &settings.metrics {
            let mut units = Vec::new();
            let mut volume = 0.0;
            for a in &mine {
                let values = weekly(&ctx, &gathered, metric, &a.service, (since, until)).await?;
                let adopted = a
                    .at
                    .map(|t| ((leadline_core::activity::week_start(t) - since) / WEEK_MS) as usize);
                let volume_metric =
                    volume_of(metric.name).and_then(leadline_metrics::catalog::find);
                if let (Some(t), Some(m)) = (adopted, volume_metric) {
                    let counted = weekly(&ctx, &gathered, m, &a.service, (since, until)).await?;
                    let after: Vec<f64> = counted
                        .iter()
                        .skip(t)
                        .take(weeks)
                        .flatten()
                        .copied()
                        .collect();
                    if !after.is_empty() {
                        volume += after.iter().sum::<f64>() / after.len() as f64 * 52.0 / 12.0;
                    }
                }
                units.push(Unit {
                    service: a.service.clone(),
                    adopted,
                    weekly: values,
                });
            }
            let estimate = did(&units, weeks, RESAMPLES, 0x5EED_D1D0);
            let hours = (metric.unit == MetricUnit::Seconds && volume_of(metric.name).is_some())
                .then(|| estimate.estimate.map(|e| -e * volume / 3600.0))
                .flatten();
            out.push(Impact {
                capability: c.name.clone(),
                metric: metric.name.to_owned(),
                weeks,
                estimate,
                hours_saved_per_month: hours,
            });
        }
    }
    Ok(out)
}

pub async fn run(
    store: &Arc<dyn Store>,
    command: &PlatformCommand,
    config: &Config,
    out: &mut dyn Write,
) -> Result<()> {
    if config.platform.capabilities.is_empty() {
        return Err(crate::dora::InvalidArgs(
            "no [[platform.capability]] in leadline.toml (see docs/metrics.md, \"Platform capabilities\")"
                .into(),
        )
        .into());
    }
    match command {
        PlatformCommand::Adoption(args) => {
            let all = adoptions(store, &config.platform).await?;
            let now = crate::time::now();
            match args.format {
                SummaryFormat::Json => {
                    let json = serde_json::json!({"services": all, "months": shares(&all, now)});
                    serde_json::to_writer_pretty(&mut *out, &json)?;
                    writeln!(out)?;
                }
                SummaryFormat::Table => {
                    let mut t = crate::table::table(&["capability", "service", "adopted since"]);
                    for a in &all {
                        t.add_row(vec![
                            a.capability.clone(),
                            a.service.clone(),
                            a.since
                                .as_deref()
                                .map_or("not adopted", |s| &s[..10])
                                .to_owned(),
                        ]);
                    }
                    writeln!(out, "{t}")?;
                    let mut t = crate::table::table(&["capability", "month", "adopted", "share"]);
                    for s in shares(&all, now) {
                        t.add_row(vec![
                            s.capability,
                            s.month,
                            format!("{} of {}", s.adopted, s.services),
                            format!("{:.0}%", s.share * 100.0),
                        ]);
                    }
                    writeln!(out, "{t}")?;
                }
            }
        }
        PlatformCommand::Impact(args) => impact(store, config, args, out).await?,
    }
    Ok(())
}

async fn impact(
    store: &Arc<dyn Store>,
    config: &Config,
    args: &PlatformImpactArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let weeks = args.weeks.unwrap_or(config.platform.weeks);
    let found = impacts(store, config, args.capability.as_deref(), weeks).await?;
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &found)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            let mut t = crate::table::table(&[
                "capability",
                "metric",
                "effect",
                "90% interval",
                "adopters",
                "controls",
                "hours saved / month",
            ]);
            let n = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.3}"));
            for i in &found {
                t.add_row(vec![
                    i.capability.clone(),
                    i.metric.clone(),
                    i.estimate
                        .note
                        .clone()
                        .unwrap_or_else(|| n(i.estimate.estimate)),
                    format!("{} to {}", n(i.estimate.low), n(i.estimate.high)),
                    i.estimate.adopters.to_string(),
                    i.estimate.controls.to_string(),
                    n(i.hours_saved_per_month),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(
                out,
                "adopters' change over {weeks} weeks around adoption minus that of services not yet adopted over the same weeks; assumes parallel trends"
            )?;
        }
    }
    Ok(())
}
