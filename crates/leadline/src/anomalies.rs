//! `leadline anomalies [ack|dismiss]`: the proposals of leadline-metrics' anomaly watcher as a
//! table or JSON, and a person's judgement of one stored.

use crate::time::now;
use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::Store;
use leadline_metrics::anomalies::{self, Judgement, Precision, Proposal, Query, State};

use crate::cli::{AnomaliesArgs, AnomaliesCommand, SummaryFormat};
use crate::config::Settings;
use crate::dora::InvalidArgs;

pub async fn run(
    store: &Arc<dyn Store>,
    args: &AnomaliesArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let ctx = settings.ctx(store, &slo_reader);
    let (id, judgement) = match &args.command {
        None => return list(&ctx, args, settings, out).await,
        Some(AnomaliesCommand::Ack(a)) => (
            &a.id,
            Judgement::Acknowledge {
                note: a.note.clone(),
            },
        ),
        Some(AnomaliesCommand::Dismiss(a)) => (
            &a.id,
            Judgement::Dismiss {
                reason: a
                    .reason
                    .parse()
                    .map_err(|e: leadline_metrics::UsageError| {
                        InvalidArgs(format!("--reason: {e}"))
                    })?,
                note: a.note.clone(),
            },
        ),
    };
    let judged = anomalies::judge(&ctx, None, &settings.anomalies, id, judgement, now()).await?;
    let Some(p) = judged else {
        return Err(InvalidArgs(format!(
            "no anomaly proposal has the id {id:?}; `leadline anomalies` lists them"
        ))
        .into());
    };
    match (&p.state, &p.reason) {
        (State::Dismissed, Some(reason)) => writeln!(
            out,
            "dismissed {} ({reason}): {} {} {}; the week leaves later baselines",
            p.id,
            p.metric,
            scope_text(&p),
            p.week
        )?,
        _ => writeln!(
            out,
            "acknowledged {}: {} {} {}",
            p.id,
            p.metric,
            scope_text(&p),
            p.week
        )?,
    }
    Ok(())
}

fn scope_text(p: &Proposal) -> String {
    p.scope.key()
}

async fn list(
    ctx: &leadline_metrics::scope::Ctx<'_>,
    args: &AnomaliesArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query {
        since: args.since.clone(),
        until: args.until.clone(),
        explain: args.explain,
    };
    let reviews = ctx.store.anomaly_reviews().await?;
    let found = anomalies::propose(ctx, None, &settings.anomalies, &reviews, &query, now()).await?;
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&found, true, out)?,
        SummaryFormat::Table => table(&found, &Precision::of(&reviews), out)?,
    }
    Ok(())
}

/// What `--explain` found behind a proposal's week, counted, and the family command that
/// lists it.
fn behind(p: &Proposal) -> String {
    let counts: Vec<String> = p
        .rows
        .as_ref()
        .and_then(serde_json::Value::as_object)
        .map(|rows| {
            rows.iter()
                .filter_map(|(k, v)| v.as_array().map(|a| format!("{} {k}", a.len())))
                .collect()
        })
        .unwrap_or_default();
    let family = p.metric.split('.').next().unwrap_or("");
    let (option, name) = match &p.scope {
        anomalies::Scope::Service(n) => ("--service", n),
        anomalies::Scope::Team(n) => ("--team", n),
        anomalies::Scope::Repository(n) => ("--repo", n),
    };
    let since = &p.week_start[..10];
    let until = leadline_metrics::window::utc(p.week_start_ms + 7 * 86_400_000);
    let until = &until[..10];
    format!(
        "{} ({}, {}): {}; `leadline {family} {option} {name} --since {since} --until {until} --explain` lists them",
        p.id,
        p.week,
        p.metric,
        if counts.is_empty() {
            "nothing listed".to_owned()
        } else {
            counts.join(", ")
        }
    )
}

/// A value in its metric's unit, readable.
fn shown(metric: &str, v: f64) -> String {
    match leadline_metrics::catalog::find(metric).map(|m| m.unit) {
        Some(leadline_metrics::Unit::Seconds) => crate::table::human(v),
        Some(leadline_metrics::Unit::Ratio) => format!("{:.1}%", v * 100.0),
        _ if v.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}

fn table(found: &[Proposal], precision: &Precision, out: &mut dyn Write) -> Result<()> {
    if found.is_empty() {
        writeln!(out, "no anomalies proposed in this window")?;
    } else {
        let mut t = crate::table::table(&[
            "id", "week", "metric", "scope", "kind", "value", "baseline", "band", "state",
        ]);
        for p in found {
            let state = match (&p.state, &p.reason) {
                (State::Dismissed, Some(r)) => format!("dismissed ({r})"),
                (s, _) => serde_json::to_value(s)?.as_str().unwrap_or("").to_owned(),
            };
            t.add_row(vec![
                p.id.clone(),
                p.week.clone(),
                p.metric.clone(),
                scope_text(p),
                format!("{:?} {:?}", p.kind, p.direction).to_lowercase(),
                shown(&p.metric, p.value),
                shown(&p.metric, p.baseline),
                format!("{} – {}", shown(&p.metric, p.low), shown(&p.metric, p.high)),
                state,
            ]);
        }
        writeln!(out, "{t}")?;
    }
    for p in found.iter().filter(|p| p.rows.is_some()) {
        writeln!(out, "{}", behind(p))?;
    }
    let open = found.iter().filter(|p| p.state == State::Open).count();
    let live = match precision.precision {
        Some(p) => format!("live precision {:.0}%", p * 100.0),
        None => "no judgements yet".to_owned(),
    };
    writeln!(
        out,
        "{open} open; people confirmed {} and dismissed {} of the proposals they judged ({live})",
        precision.acknowledged, precision.dismissed
    )?;
    if open > 0 {
        writeln!(
            out,
            "judge one: leadline anomalies ack ID [--note …] | anomalies dismiss ID --reason \
             expected|false-positive|data-issue"
        )?;
    }
    Ok(())
}
