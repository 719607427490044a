//! `leadline anomalies [ack|dismiss]`: the proposals of leadline-metrics' anomaly watcher as a
//! table or JSON, and a person's judgement of one stored.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::Store;
use leadline_metrics::anomalies::{self, Precision, Proposal, Query, Reason, State};

use crate::cli::{AnomaliesArgs, AnomaliesCommand, SummaryFormat};
use crate::config::Settings;
use crate::dora::InvalidArgs;

fn now() -> leadline_core::model::Millis {
    jiff::Timestamp::now().as_millisecond()
}

/// Every proposal over the whole history (what an id is looked up in), with the reviews.
pub(crate) async fn proposals(
    store: &Arc<dyn Store>,
    settings: &Settings,
    query: &Query,
) -> Result<(Vec<Proposal>, Vec<leadline_core::store::AnomalyReview>)> {
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let ctx = settings.ctx(store, &slo_reader);
    let reviews = store.anomaly_reviews().await?;
    let found = anomalies::propose(&ctx, None, &settings.anomalies, &reviews, query, now()).await?;
    Ok((found, reviews))
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &AnomaliesArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    match &args.command {
        None => list(store, args, settings, out).await,
        Some(AnomaliesCommand::Ack(a)) => {
            let p = judge(
                store,
                settings,
                &a.id,
                State::Acknowledged,
                None,
                a.note.clone(),
            )
            .await?;
            writeln!(
                out,
                "acknowledged {}: {} {} {}",
                p.id,
                p.metric,
                scope_text(&p),
                p.week
            )?;
            Ok(())
        }
        Some(AnomaliesCommand::Dismiss(a)) => {
            let reason: Reason = a
                .reason
                .parse()
                .map_err(|e: leadline_metrics::UsageError| InvalidArgs(format!("--reason: {e}")))?;
            let p = judge(
                store,
                settings,
                &a.id,
                State::Dismissed,
                Some(reason),
                a.note.clone(),
            )
            .await?;
            writeln!(
                out,
                "dismissed {} ({}): {} {} {}; the week leaves later baselines",
                p.id,
                reason.as_str(),
                p.metric,
                scope_text(&p),
                p.week
            )?;
            Ok(())
        }
    }
}

/// Stores a person's judgement of the proposal `id`; an id no current proposal has is a
/// usage error (exit 2) and stores nothing.
async fn judge(
    store: &Arc<dyn Store>,
    settings: &Settings,
    id: &str,
    state: State,
    reason: Option<Reason>,
    note: Option<String>,
) -> Result<Proposal> {
    let (found, _) = proposals(store, settings, &Query::default()).await?;
    let Some(p) = found.into_iter().find(|p| p.id == id.trim()) else {
        return Err(InvalidArgs(format!(
            "no anomaly proposal has the id {id:?}; `leadline anomalies` lists them"
        ))
        .into());
    };
    store
        .review_anomaly(&anomalies::review(&p, state, reason, note, now()))
        .await?;
    Ok(p)
}

fn scope_text(p: &Proposal) -> String {
    p.scope.key()
}

async fn list(
    store: &Arc<dyn Store>,
    args: &AnomaliesArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query {
        since: args.since.clone(),
        until: args.until.clone(),
        explain: args.explain,
    };
    let (found, reviews) = proposals(store, settings, &query).await?;
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&found, true, out)?,
        SummaryFormat::Table => table(&found, &Precision::of(&reviews), out)?,
    }
    Ok(())
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
