//! `leadline slo list|status|alerts|check`: the SLO family (computed in leadline-metrics)
//! rendered as a table or JSON.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::slo::openslo::{Budgeting, Slo, Source};
use leadline_core::store::Store;
use leadline_metrics::slo::{self, BURN_WINDOWS, Settings};
use leadline_metrics::window::parse_instant;
use serde::Serialize;

use crate::cli::{
    SloAlertsArgs, SloCheckArgs, SloCommand, SloHistoryArgs, SloListArgs, SloStatusArgs,
    SummaryFormat,
};
use crate::table::share;
use crate::verdict::Verdict;

pub async fn run(
    store: &Arc<dyn Store>,
    command: &SloCommand,
    settings: &Settings,
    dora: &crate::config::DoraConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let mut slos = slo::load(settings)?;
    let reader = &reader(store, settings)?;
    let named = settings.prometheus_url.is_some()
        || match command {
            SloCommand::Status(a) => a.slo.is_some(),
            SloCommand::Alerts(a) => a.slo.is_some(),
            SloCommand::List(_) | SloCommand::Rules(_) | SloCommand::History(_) => true,
            SloCommand::Check(_) => false,
        };
    if !named {
        // Without a Prometheus to read, its SLOs are left out: said once, not an error for all.
        let (prometheus, rest): (Vec<Slo>, Vec<Slo>) = slos
            .into_iter()
            .partition(|s| matches!(s.source, Source::Prometheus { .. }));
        for s in &prometheus {
            eprintln!(
                "{}: read from Prometheus, and [slo.prometheus] url is not set; left out",
                s.name
            );
        }
        slos = rest;
    }
    match command {
        SloCommand::List(args) => list(&slos, args, out),
        SloCommand::Status(args) => status(reader, slos, args, dora, out).await,
        SloCommand::Alerts(args) => alerts(reader, slos, args, out).await,
        SloCommand::Check(args) => check(reader, slos, args, out).await,
        SloCommand::History(args) => history(reader, slos, args, out).await,
        SloCommand::Rules(args) => {
            let chosen = slo::select(slos, args.slo.as_deref(), None)?;
            let text = leadline_core::slo::rules::prometheus(&chosen)
                .map_err(leadline_metrics::UsageError)?;
            out.write_all(text.as_bytes())?;
            Ok(())
        }
    }
}

/// Where the SLOs' events are read: the store, and Prometheus when configured.
pub fn reader(store: &Arc<dyn Store>, settings: &Settings) -> Result<slo::Reader> {
    let prometheus = match &settings.prometheus_url {
        Some(url) => Some(Arc::new(
            leadline_sources::prometheus::Prometheus::new(url).map_err(anyhow::Error::msg)?,
        ) as Arc<dyn leadline_core::slo::Series>),
        None => None,
    };
    Ok(slo::Reader {
        store: store.clone(),
        prometheus,
    })
}

fn at(given: &Option<String>) -> Result<i64> {
    Ok(match given {
        Some(v) => parse_instant("--at", v)?,
        None => jiff::Timestamp::now().as_millisecond(),
    })
}

#[derive(Serialize)]
struct Listed<'a> {
    slo: &'a str,
    service: &'a str,
    target: f64,
    window: String,
    budgeting: &'static str,
    source: &'static str,
    file: &'a str,
}

fn list(slos: &[Slo], args: &SloListArgs, out: &mut dyn Write) -> Result<()> {
    let listed: Vec<Listed<'_>> = slos
        .iter()
        .map(|s| Listed {
            slo: &s.name,
            service: &s.service,
            target: s.target,
            window: s.window.describe(),
            budgeting: match s.budgeting {
                Budgeting::Occurrences => "occurrences",
                Budgeting::Timeslices { .. } => "timeslices",
                Budgeting::RatioTimeslices { .. } => "ratio_timeslices",
            },
            source: match s.source {
                Source::Imported => "leadline",
                Source::Incidents => "incidents",
                Source::Prometheus { .. } => "prometheus",
            },
            file: &s.file,
        })
        .collect();
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&[listed], false, out)?,
        SummaryFormat::Table => {
            let mut t =
                crate::table::table(&["slo", "service", "target", "window", "budgeting", "source"]);
            for l in &listed {
                t.add_row(vec![
                    l.slo.to_owned(),
                    l.service.to_owned(),
                    format!("{}%", l.target * 100.0),
                    l.window.clone(),
                    l.budgeting.to_owned(),
                    l.source.to_owned(),
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

async fn status(
    reader: &slo::Reader,
    slos: Vec<Slo>,
    args: &SloStatusArgs,
    dora: &crate::config::DoraConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let chosen = slo::select(slos, args.slo.as_deref(), None)?;
    let at = at(&args.at)?;
    let mut statuses = slo::status(reader, &chosen, at).await?;
    if args.explain {
        slo::explain(reader, dora, &chosen, &mut statuses, at).await?;
    }
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&[statuses], false, out)?,
        SummaryFormat::Table => {
            let mut header = vec!["slo", "service", "target", "window", "sli", "budget left"];
            header.extend(BURN_WINDOWS.iter().map(|(name, _)| *name));
            let mut t = crate::table::table(&header);
            for s in &statuses {
                let mut row = vec![
                    s.slo.clone(),
                    s.service.clone(),
                    format!("{}%", s.target * 100.0),
                    format!("{} to {}", &s.window.since[..16], &s.window.until[..16])
                        .replace('T', " "),
                    s.sli
                        .map_or_else(|| "n/a".into(), |v| format!("{:.3}%", v * 100.0)),
                    share(s.budget_remaining),
                ];
                row.extend(
                    s.burn_rates
                        .in_order()
                        .map(|b| b.map_or_else(|| "–".into(), |b| format!("{b:.2}"))),
                );
                t.add_row(row);
            }
            writeln!(out, "{t}")?;
            for s in statuses.iter().filter(|s| s.spent_by.is_some()) {
                let mut t = crate::table::table(&[
                    "spent by",
                    "finished",
                    "bad events",
                    "of the budget",
                    "changes",
                ]);
                for d in s.spent_by.iter().flatten() {
                    t.add_row(vec![
                        d.deployment.clone(),
                        d.finished_at.clone().unwrap_or_default(),
                        format!("{}", d.bad),
                        share(d.share_of_budget),
                        d.changes.len().to_string(),
                    ]);
                }
                writeln!(out, "{}\n{t}", s.slo)?;
            }
        }
    }
    Ok(())
}

async fn alerts(
    reader: &slo::Reader,
    slos: Vec<Slo>,
    args: &SloAlertsArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let chosen = slo::select(slos, args.slo.as_deref(), None)?;
    let since = parse_instant("--since", &args.since)?;
    let until = parse_instant("--until", &args.until)?;
    let alerts = slo::alerts(reader, &chosen, since, until).await?;
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&[alerts], false, out)?,
        SummaryFormat::Table if alerts.is_empty() => writeln!(out, "no alert fired")?,
        SummaryFormat::Table => {
            let mut t = crate::table::table(&["slo", "severity", "start", "end"]);
            for a in &alerts {
                t.add_row(vec![
                    a.slo.clone(),
                    a.severity.clone(),
                    a.start.clone(),
                    a.end.clone(),
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

async fn check(
    reader: &slo::Reader,
    slos: Vec<Slo>,
    args: &SloCheckArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let chosen = slo::select(slos, None, args.service.as_deref())?;
    let statuses = slo::status(reader, &chosen, at(&args.at)?).await?;
    let below: Vec<&slo::Status> = statuses
        .iter()
        .filter(|s| s.budget_remaining.is_some_and(|b| b < args.min_remaining))
        .collect();
    for s in &statuses {
        writeln!(
            out,
            "{}: budget remaining {} (at least {} asked){}",
            s.slo,
            share(s.budget_remaining),
            share(Some(args.min_remaining)),
            if below.iter().any(|b| b.slo == s.slo) {
                ": below"
            } else {
                ""
            }
        )?;
    }
    if below.is_empty() {
        Ok(())
    } else {
        Err(Verdict::BudgetSpent(below.len()).into())
    }
}

async fn history(
    reader: &slo::Reader,
    slos: Vec<Slo>,
    args: &SloHistoryArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let chosen = slo::select(slos, Some(&args.slo), None)?;
    let instant = |flag: &str, v: &Option<String>| -> Result<Option<i64>> {
        Ok(v.as_deref().map(|v| parse_instant(flag, v)).transpose()?)
    };
    let periods = slo::history(
        reader,
        &chosen[0],
        args.by,
        instant("--since", &args.since)?,
        instant("--until", &args.until)?,
    )
    .await?;
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&[periods], false, out)?,
        SummaryFormat::Table => {
            let mut t = crate::table::table(&["period", "sli", "budget left", "met", "events"]);
            for p in &periods {
                t.add_row(vec![
                    p.period.clone(),
                    p.sli
                        .map_or_else(|| "n/a".into(), |v| format!("{:.3}%", v * 100.0)),
                    share(p.budget_remaining),
                    match p.met {
                        Some(true) => "yes".into(),
                        Some(false) => "no".into(),
                        None => "n/a".into(),
                    },
                    format!("{}", p.total),
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}
