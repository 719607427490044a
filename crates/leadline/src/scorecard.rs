//! `leadline scorecard`: each ingested repository (a service) graded by the checks of
//! scorecards.toml: its files at HEAD, its Backstage catalog entry, its metrics through the
//! seam, and leadline's own facts (SLOs, postmortems, debt, knowledge risk).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use leadline_core::catalog::Catalog;
use leadline_core::model::Millis;
use leadline_core::scorecard::{Check, Fact, Scorecards, level, parse};
use leadline_core::store::Store;
use leadline_metrics::catalog::Family;
use leadline_metrics::reading::Reading;
use leadline_metrics::scope::{Named, Scope, named, read_named};
use leadline_metrics::window::{DAY_MS, parse_instant, utc};
use serde::Serialize;

use crate::cli::{ScorecardArgs, SummaryFormat};
use crate::config::Settings;

/// One check's outcome for one service.
#[derive(Debug, Serialize)]
pub struct Graded {
    pub name: String,
    pub level: String,
    pub pass: bool,
    /// What was found: the file, the value.
    pub evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ServiceCard {
    pub service: String,
    /// The highest level reached; `null` when the lowest fails.
    pub level: Option<String>,
    /// 0 for none, then 1 for the lowest level and so on.
    pub rank: usize,
    pub checks: Vec<Graded>,
}

/// The scorecards file, or none.
pub fn load(path: &Path) -> Result<Option<Scorecards>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    parse(&text)
        .map(Some)
        .map_err(|e| crate::failure::InvalidFile(format!("{}: {e}", path.display())).into())
}

fn glob_set(globs: &[String]) -> Result<globset::GlobSet> {
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        b.add(globset::Glob::new(g).with_context(|| format!("{g:?} is not a glob"))?);
    }
    Ok(b.build()?)
}

/// A metric's value for `service` over the `days` before `at`, through the seam.
async fn metric_value(
    ctx: &leadline_metrics::scope::Ctx<'_>,
    name: &str,
    service: &str,
    at: Millis,
    days: i64,
) -> Result<(Option<f64>, String)> {
    let (metric, mut scope) = match named(name, Scope::default()) {
        Ok(m) => m,
        Err(e) => return Ok((None, e.to_string())),
    };
    if let Named::Catalog(m) = &metric {
        match m.family {
            Family::Dora | Family::Incidents => {
                scope.service.get_or_insert_with(|| service.to_owned());
            }
            Family::Flow | Family::Health | Family::Capacity | Family::Ai | Family::Activity => {
                scope.repo.get_or_insert_with(|| service.to_owned());
            }
            _ => {}
        }
        if !matches!(m.family, Family::Debt | Family::Activity | Family::Slo) {
            scope.since = Some(utc(at - days * DAY_MS));
            scope.until = Some(utc(at));
        }
    }
    Ok(match read_named(ctx, None, &metric, &scope).await {
        Ok(Reading::Value { value, reason, .. }) => match value.as_f64() {
            Some(v) => (Some(v), format!("{name} = {v}")),
            None => (None, reason.unwrap_or_else(|| format!("{name}: no data"))),
        },
        Ok(_) => (None, format!("{name}: not a single value")),
        Err(e) if e.is_usage() => (None, e.to_string()),
        Err(e) => return Err(e.into()),
    })
}

struct Facts<'a> {
    settings: &'a Settings,
    ctx: leadline_metrics::scope::Ctx<'a>,
    catalog: &'a Catalog,
}

impl Facts<'_> {
    async fn grade(
        &self,
        check: &Check,
        service: &str,
        blobs: &[leadline_git::Blob],
        at: Millis,
    ) -> Result<(bool, String)> {
        let entity = self.catalog.entities.iter().find(|e| {
            e.kind == "Component"
                && (e.repository.as_deref() == Some(service)
                    || e.name.eq_ignore_ascii_case(service))
        });
        let path = |p: &Vec<u8>| String::from_utf8_lossy(p).into_owned();
        Ok(match &check.fact {
            Fact::Exists(globs) => {
                let set = glob_set(globs)?;
                match blobs.iter().find(|(p, _)| set.is_match(path(p))) {
                    Some((p, _)) => (true, format!("{} exists", path(p))),
                    None => (false, format!("no file matches {}", globs.join(", "))),
                }
            }
            Fact::Contains { path: glob, regex } => {
                let set = glob_set(std::slice::from_ref(glob))?;
                let re = regex::bytes::Regex::new(regex)?;
                let files: Vec<&leadline_git::Blob> = blobs
                    .iter()
                    .filter(|(p, _)| set.is_match(path(p)))
                    .collect();
                match files.iter().find(|(_, data)| re.is_match(data)) {
                    Some((p, _)) => (true, format!("{} matches {regex}", path(p))),
                    None if files.is_empty() => (false, format!("no file matches {glob}")),
                    None => (
                        false,
                        format!("{} does not match {regex}", path(&files[0].0)),
                    ),
                }
            }
            Fact::OwnerSet => match entity.and_then(|e| e.owner.as_ref()) {
                Some(o) => (true, format!("owner {o}")),
                None => (false, "no catalog entry with an owner".into()),
            },
            Fact::LifecycleIn(allowed) => match entity.and_then(|e| e.lifecycle.clone()) {
                Some(l) => (
                    allowed.iter().any(|a| a.eq_ignore_ascii_case(&l)),
                    format!("lifecycle {l}"),
                ),
                None => (false, "no lifecycle in the catalog".into()),
            },
            Fact::HasSystem => match entity.and_then(|e| e.system.as_ref()) {
                Some(s) => (true, format!("system {s}")),
                None => (false, "no system in the catalog".into()),
            },
            Fact::HasApi => match entity.filter(|e| !e.provides_apis.is_empty()) {
                Some(e) => (true, format!("provides {}", e.provides_apis[0])),
                None => (false, "provides no API in the catalog".into()),
            },
            Fact::Metric {
                name,
                op,
                value,
                window_days,
            } => {
                let (got, evidence) =
                    metric_value(&self.ctx, name, service, at, *window_days).await?;
                (
                    got.is_some_and(|v| op.holds(v, *value)),
                    format!("{evidence} (needs {} {value})", op.as_str()),
                )
            }
            Fact::SloDefined => {
                let slos = leadline_metrics::slo::load(&self.settings.slo).unwrap_or_default();
                match slos
                    .iter()
                    .find(|s| s.service.eq_ignore_ascii_case(service))
                {
                    Some(s) => (true, format!("SLO {}", s.name)),
                    None => (false, "no SLO names this service".into()),
                }
            }
            Fact::PostmortemsOnTime => {
                let (required, _) =
                    metric_value(&self.ctx, "incidents.postmortems.required", service, at, 90)
                        .await?;
                let (on_time, _) = metric_value(
                    &self.ctx,
                    "incidents.postmortems.reviewed_on_time",
                    service,
                    at,
                    90,
                )
                .await?;
                let (r, o) = (required.unwrap_or(0.0), on_time.unwrap_or(0.0));
                (
                    o >= r,
                    format!("{o} of {r} postmortems reviewed on time (90 days)"),
                )
            }
            Fact::DebtPastDeadline(most) => {
                let today = leadline_metrics::postmortems::utc_date(at);
                let register =
                    leadline_metrics::debt::Register::open(&self.settings.debt.file, today)?;
                let breaches = leadline_core::debt::breaches(
                    &register.items,
                    &self.settings.debt.policies,
                    today,
                );
                let mine = breaches
                    .iter()
                    .filter(|b| {
                        register.items.iter().any(|i| {
                            i.id == b.id && i.repository.as_deref().is_some_and(|r| r == service)
                        })
                    })
                    .count() as u64;
                (
                    mine <= *most,
                    format!("{mine} debt item(s) past their deadline (at most {most})"),
                )
            }
            Fact::NoKnowledgeRisk => {
                let (areas, evidence) =
                    metric_value(&self.ctx, "health.knowledge_risk.areas", service, at, 90).await?;
                (areas == Some(0.0), evidence)
            }
        })
    }
}

impl Facts<'_> {
    /// One service's card from the files it had (`blobs`) as of `at`.
    async fn card(
        &self,
        cards: &Scorecards,
        service: &str,
        blobs: &[leadline_git::Blob],
        at: Millis,
    ) -> Result<ServiceCard> {
        let mut checks = Vec::new();
        for c in &cards.checks {
            let (pass, evidence) = self.grade(c, service, blobs, at).await?;
            checks.push(Graded {
                name: c.name.clone(),
                level: c.level.clone(),
                pass,
                evidence,
                hint: c.hint.clone(),
            });
        }
        let passed: Vec<bool> = checks.iter().map(|c| c.pass).collect();
        let reached = level(cards, &passed).map(str::to_owned);
        let rank = reached
            .as_ref()
            .and_then(|l| cards.levels.iter().position(|x| x == l))
            .map_or(0, |i| i + 1);
        Ok(ServiceCard {
            service: service.to_owned(),
            level: reached,
            rank,
            checks,
        })
    }
}

/// The globs of every file check, to read only those files.
fn wanted_files(cards: &Scorecards) -> Result<globset::GlobSet> {
    let mut globs = Vec::new();
    for c in &cards.checks {
        match &c.fact {
            Fact::Exists(g) => globs.extend(g.iter().cloned()),
            Fact::Contains { path, .. } => globs.push(path.clone()),
            _ => {}
        }
    }
    glob_set(&globs)
}

/// A service's level at one month's end.
#[derive(Debug, Serialize)]
pub struct MonthLevel {
    /// `YYYY-MM`: graded at the end of it.
    pub month: String,
    pub level: Option<String>,
    pub rank: usize,
}

#[derive(Debug, Serialize)]
pub struct Trend {
    pub service: String,
    pub months: Vec<MonthLevel>,
}

/// The ends of the `months` months before `at` (the UTC midnights that start the next
/// month), oldest first, with each month's name.
fn month_ends(at: Millis, months: usize) -> Vec<(String, Millis)> {
    let start = jiff::Timestamp::from_millisecond(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .first_of_month();
    let mut out = Vec::new();
    for k in (1..=months as i32).rev() {
        let Ok(month) = start.checked_sub(jiff::Span::new().months(k)) else {
            continue;
        };
        let Ok(end) = month.checked_add(jiff::Span::new().months(1)) else {
            continue;
        };
        let Ok(zoned) = end.to_zoned(jiff::tz::TimeZone::UTC) else {
            continue;
        };
        out.push((
            month.strftime("%Y-%m").to_string(),
            zoned.timestamp().as_millisecond(),
        ));
    }
    out
}

/// Every service's card as of `at` (or, with `trend`, its level at each of the `trend`
/// month ends before `at`: file facts on the files HEAD had then, metric facts over the
/// window ending then; the catalog is today's).
pub async fn cards(
    store: &Arc<dyn Store>,
    settings: &Settings,
    cards: &Scorecards,
    only: Option<&str>,
    at: Millis,
) -> Result<Vec<ServiceCard>> {
    let catalog = crate::catalog::load(store, &settings.catalog).await?;
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let facts = Facts {
        settings,
        ctx: settings.ctx(store, &slo_reader),
        catalog: &catalog,
    };
    let wanted = wanted_files(cards)?;
    let mut out = Vec::new();
    for repo in store.repositories().await? {
        if only.is_some_and(|s| s != repo.name) {
            continue;
        }
        let blobs = match leadline_git::Miner::open(Path::new(&repo.location)) {
            Ok(m) => {
                m.head_blobs(&|p: &[u8]| wanted.is_match(String::from_utf8_lossy(p).as_ref()))?
            }
            Err(_) => Vec::new(),
        };
        out.push(facts.card(cards, &repo.name, &blobs, at).await?);
    }
    Ok(out)
}

/// Every service's level at each of the `months` month ends before `at`.
pub async fn trend(
    store: &Arc<dyn Store>,
    settings: &Settings,
    cards: &Scorecards,
    only: Option<&str>,
    at: Millis,
    months: usize,
) -> Result<Vec<Trend>> {
    let catalog = crate::catalog::load(store, &settings.catalog).await?;
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let facts = Facts {
        settings,
        ctx: settings.ctx(store, &slo_reader),
        catalog: &catalog,
    };
    let wanted = wanted_files(cards)?;
    let accept = |p: &[u8]| wanted.is_match(String::from_utf8_lossy(p).as_ref());
    let mut out = Vec::new();
    for repo in store.repositories().await? {
        if only.is_some_and(|s| s != repo.name) {
            continue;
        }
        let miner = leadline_git::Miner::open(Path::new(&repo.location)).ok();
        let mut levels = Vec::new();
        for (month, end) in month_ends(at, months) {
            let blobs = match &miner {
                Some(m) => m
                    .blobs_at(&accept, (end - 1).div_euclid(1000))?
                    .map(|(_, b)| b)
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let card = facts.card(cards, &repo.name, &blobs, end).await?;
            levels.push(MonthLevel {
                month,
                level: card.level,
                rank: card.rank,
            });
        }
        out.push(Trend {
            service: repo.name.clone(),
            months: levels,
        });
    }
    Ok(out)
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &ScorecardArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let Some(scorecards) = load(&settings.scorecards)? else {
        return Err(crate::dora::InvalidArgs(format!(
            "no {} (see docs/metrics.md, \"Scorecards\")",
            settings.scorecards.display()
        ))
        .into());
    };
    let at = match &args.at {
        Some(v) => parse_instant("--at", v)?,
        None => crate::time::now(),
    };
    if args.trend {
        let months = args.months.clamp(1, 120);
        let found = trend(
            store,
            settings,
            &scorecards,
            args.service.as_deref(),
            at,
            months,
        )
        .await?;
        match args.format {
            SummaryFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &found)?;
                writeln!(out)?;
            }
            SummaryFormat::Table => {
                let mut header = vec!["service".to_owned()];
                header.extend(
                    found
                        .first()
                        .into_iter()
                        .flat_map(|t| t.months.iter().map(|m| m.month.clone())),
                );
                let mut t =
                    crate::table::table(&header.iter().map(String::as_str).collect::<Vec<_>>());
                for s in &found {
                    let mut row = vec![s.service.clone()];
                    row.extend(
                        s.months
                            .iter()
                            .map(|m| m.level.clone().unwrap_or_else(|| "–".into())),
                    );
                    t.add_row(row);
                }
                writeln!(out, "{t}")?;
            }
        }
        return Ok(());
    }
    let found = cards(store, settings, &scorecards, args.service.as_deref(), at).await?;
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &found)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            for card in &found {
                writeln!(
                    out,
                    "{}: {}",
                    card.service,
                    card.level.as_deref().unwrap_or("no level")
                )?;
                let mut t = crate::table::table(&["level", "check", "", "evidence", "hint"]);
                for c in &card.checks {
                    t.add_row(vec![
                        c.level.clone(),
                        c.name.clone(),
                        if c.pass { "pass" } else { "FAIL" }.to_owned(),
                        c.evidence.clone(),
                        if c.pass {
                            String::new()
                        } else {
                            c.hint.clone().unwrap_or_default()
                        },
                    ]);
                }
                writeln!(out, "{t}")?;
            }
        }
    }
    Ok(())
}

/// Scorecard levels for the metric seam (`scorecard.level{service=…}`), graded on demand.
pub struct Levels {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
}

impl leadline_metrics::scope::ScorecardLevels for Levels {
    fn level<'b>(
        &'b self,
        service: &'b str,
        at: Millis,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<usize, String>> + Send + 'b>,
    > {
        Box::pin(async move {
            let scorecards = load(&self.settings.scorecards)
                .map_err(|e| format!("{e:#}"))?
                .ok_or_else(|| format!("no {}", self.settings.scorecards.display()))?;
            let found = cards(&self.store, &self.settings, &scorecards, Some(service), at)
                .await
                .map_err(|e| format!("{e:#}"))?;
            found
                .first()
                .map(|c| c.rank)
                .ok_or_else(|| format!("no ingested repository is called {service:?}"))
        })
    }
}
