//! `leadline planning`: lead time from the first In Progress, time per status category, the
//! investment mix and defects, from the issues `ingest jira` stored.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::Store;
use leadline_metrics::planning::{Query, compute};

use crate::cli::{PlanningArgs, SummaryFormat};
use crate::table::{human, share, table};

pub async fn run(
    store: &Arc<dyn Store>,
    args: &PlanningArgs,
    dora: &leadline_metrics::dora::Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query {
        since: args.since.clone(),
        until: args.until.clone(),
        team: args.team.clone(),
    };
    let report = compute(store, &query, dora).await?;
    if args.format == SummaryFormat::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    let duration = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), human);
    writeln!(
        out,
        "window {} to {}: {} issues resolved; lead time (first In Progress to the first deployment of a linked change, else resolution) median {}, p90 {} over {} issues",
        &report.since[..10],
        &report.until[..10],
        report.resolved,
        duration(report.lead_time.median_seconds),
        duration(report.lead_time.p90_seconds),
        report.lead_time.count
    )?;
    for (category, s) in &report.time_in {
        writeln!(
            out,
            "  time in {category}: median {} (p90 {})",
            duration(s.median_seconds),
            duration(s.p90_seconds)
        )?;
    }
    if report.investment.is_empty() && report.sprints.is_empty() {
        writeln!(
            out,
            "no tracker issue resolved and no sprint closed in the window (`leadline ingest jira PROJECT…` syncs them)"
        )?;
        return Ok(());
    }
    let mut t = table(&[
        "team",
        "month",
        "resolved",
        "by type (share of issues)",
        "defects",
    ]);
    for m in &report.investment {
        let types: Vec<String> = m
            .by_type
            .iter()
            .map(|(k, s)| format!("{k} {}", share(Some(s.share))))
            .collect();
        t.add_row(vec![
            m.team.clone(),
            m.month.clone(),
            m.resolved.to_string(),
            types.join(", "),
            format!(
                "{} ({} escaped)",
                share(Some(m.defect_share)),
                m.escaped_defects
            ),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "defects: {} of the resolved issues ({}), {} escaped (linked to an incident)",
        report.defects.resolved,
        share(report.defects.share),
        report.defects.escaped
    )?;
    for s in &report.sprints {
        writeln!(
            out,
            "sprint {}: {} of {} committed done ({}), {} added, {} carried over",
            s.sprint,
            s.done,
            s.committed,
            share(s.accuracy),
            s.added,
            s.carried_over
        )?;
    }
    if report.sprints.len() > 1 {
        writeln!(
            out,
            "sprints together: {} of committed done",
            share(report.sprint_accuracy)
        )?;
    }
    Ok(())
}
