//! `leadline okr list|status|checkin|check`: the objectives of okrs.toml, their key results
//! computed through the metric seam (leadline-metrics' `okrs`), and people's check-ins.

use crate::time::now;
use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::{Checkin, Store};
use leadline_metrics::okrs;
use leadline_metrics::window::parse_instant;

use crate::cli::{OkrCheckinArgs, OkrCommand, OkrListArgs, OkrStatusArgs, SummaryFormat};
use crate::config::Settings;
use crate::dora::InvalidArgs;
use crate::table::share;

pub async fn run(
    store: &Arc<dyn Store>,
    command: &OkrCommand,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    match command {
        OkrCommand::List(args) => list(settings, args, out),
        OkrCommand::Status(args) => status(store, settings, args, out).await,
        OkrCommand::Checkin(args) => checkin(store, settings, args, out).await,
        OkrCommand::Check => check(settings, out),
    }
}

fn list(settings: &Settings, args: &OkrListArgs, out: &mut dyn Write) -> Result<()> {
    let objectives = okrs::load(&settings.okrs)?;
    let chosen: Vec<_> = objectives
        .iter()
        .filter(|o| args.period.as_deref().is_none_or(|p| o.period.name == p))
        .collect();
    match args.format {
        SummaryFormat::Json => {
            let json: Vec<serde_json::Value> = chosen
                .iter()
                .map(|o| {
                    serde_json::json!({
                        "id": o.id, "title": o.title, "owner": o.owner, "period": o.period.name,
                        "key_results": o.key_results.iter().map(|k| serde_json::json!({
                            "id": k.id, "title": k.title, "metric": k.metric, "target": k.target,
                            "baseline": k.baseline, "commit": k.commit, "stretch": k.stretch,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            let mut t =
                crate::table::table(&["id", "title", "owner", "period", "metric", "target"]);
            for o in &chosen {
                t.add_row(vec![
                    o.id.clone(),
                    o.title.clone(),
                    o.owner.clone().unwrap_or_default(),
                    o.period.name.clone(),
                    String::new(),
                    String::new(),
                ]);
                for k in &o.key_results {
                    t.add_row(vec![
                        format!("  {}", k.id),
                        k.title.clone(),
                        String::new(),
                        String::new(),
                        k.metric.clone(),
                        k.target.to_string(),
                    ]);
                }
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

async fn status(
    store: &Arc<dyn Store>,
    settings: &Settings,
    args: &OkrStatusArgs,
    out: &mut dyn Write,
) -> Result<()> {
    let at = match &args.at {
        Some(v) => parse_instant("--at", v)?,
        None => now(),
    };
    let objectives = okrs::load(&settings.okrs)?;
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let levels = crate::scorecard::Levels {
        store: store.clone(),
        settings: Arc::new(settings.clone()),
    };
    let mut ctx = settings.ctx(store, &slo_reader);
    ctx.scorecards = Some(&levels);
    let checkins = store.checkins().await?;
    let found = okrs::status(
        &ctx,
        None,
        &objectives,
        &checkins,
        args.period.as_deref(),
        at,
    )
    .await?;
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &found)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            if found.is_empty() {
                writeln!(
                    out,
                    "no objectives in {} (see docs/metrics.md, \"OKRs\")",
                    settings.okrs.file.display()
                )?;
            }
            let number = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.4}"));
            for o in &found {
                writeln!(
                    out,
                    "{} {} ({}{}): progress {}",
                    o.id,
                    o.title,
                    o.period.name,
                    o.owner
                        .as_ref()
                        .map(|t| format!(", {t}"))
                        .unwrap_or_default(),
                    share(o.progress)
                )?;
                let mut t = crate::table::table(&[
                    "key result",
                    "metric",
                    "baseline",
                    "current",
                    "target",
                    "progress",
                    "projection",
                    "status",
                    "confidence",
                ]);
                for k in &o.key_results {
                    let status = match (&k.status, k.stale) {
                        (_, true) => "stale".to_owned(),
                        (Some(s), _) => serde_json::to_value(s)?.as_str().unwrap_or("").to_owned(),
                        (None, _) => "n/a".to_owned(),
                    };
                    t.add_row(vec![
                        k.id.clone(),
                        k.metric.clone(),
                        number(k.baseline),
                        number(k.current),
                        number(Some(k.target)),
                        share(k.progress),
                        number(k.projection),
                        status,
                        k.confidence
                            .map_or_else(|| "–".to_owned(), |c| format!("{c}/10")),
                    ]);
                }
                writeln!(out, "{t}")?;
                if let Some(d) = &o.delivery {
                    writeln!(
                        out,
                        "  {} delivered: {} pull requests merged, cycle time {}, debt share {}",
                        d.team,
                        d.pull_requests_merged,
                        d.cycle_time_median_seconds
                            .as_f64()
                            .map_or_else(|| "n/a".to_owned(), crate::table::human),
                        share(d.debt_share.as_f64())
                    )?;
                }
            }
        }
    }
    Ok(())
}

async fn checkin(
    store: &Arc<dyn Store>,
    settings: &Settings,
    args: &OkrCheckinArgs,
    out: &mut dyn Write,
) -> Result<()> {
    if !(0..=10).contains(&args.confidence) {
        return Err(InvalidArgs(format!(
            "--confidence {}: expected 0 (no chance) to 10 (certain)",
            args.confidence
        ))
        .into());
    }
    let objectives = okrs::load(&settings.okrs)?;
    let known = objectives
        .iter()
        .flat_map(|o| &o.key_results)
        .any(|k| k.id == args.key_result);
    if !known {
        return Err(InvalidArgs(format!(
            "no key result {:?} in {}",
            args.key_result,
            settings.okrs.file.display()
        ))
        .into());
    }
    store
        .add_checkin(&Checkin {
            key_result: args.key_result.clone(),
            at: now(),
            confidence: args.confidence,
            note: args.note.clone(),
        })
        .await?;
    writeln!(
        out,
        "{}: confidence {}/10 recorded",
        args.key_result, args.confidence
    )?;
    Ok(())
}

fn check(settings: &Settings, out: &mut dyn Write) -> Result<()> {
    let objectives = okrs::load(&settings.okrs)?;
    let problems = okrs::check(&objectives, &settings.okrs.file);
    if problems.is_empty() {
        let krs: usize = objectives.iter().map(|o| o.key_results.len()).sum();
        writeln!(
            out,
            "{}: {} objectives, {krs} key results, every metric known",
            settings.okrs.file.display(),
            objectives.len()
        )?;
        return Ok(());
    }
    Err(leadline_metrics::Error::Okrs(problems).into())
}
