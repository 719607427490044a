//! `leadline dora`: the DORA family's reports (computed in leadline-metrics) rendered as a
//! table, JSON or CSV.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::dora;
use leadline_core::store::Store;

use crate::cli::{DoraArgs, DoraFormat};
use crate::config::DoraConfig;

pub use leadline_metrics::UsageError as InvalidArgs;
pub use leadline_metrics::dora::{
    ExplainRows, Gathered, MAX_EXPLAIN_ROWS, Query, Report, compute_from, keys_by_service, load,
    services,
};

impl From<&DoraArgs> for Query {
    fn from(a: &DoraArgs) -> Query {
        Query {
            service: a.service.clone(),
            env: a.env.clone(),
            since: a.since.clone(),
            until: a.until.clone(),
            by: a.by,
            explain: a.explain,
            explain_offset: a.explain_offset,
            explain_limit: a.explain_limit,
        }
    }
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &DoraArgs,
    config: &DoraConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query::from(args);
    let gathered = load(store, config).await?;
    let computed = compute_from(&gathered, &query, config)?;
    // The process ends next: freeing every commit id one by one would cost a tenth of the
    // command; the OS takes the memory back at once.
    std::mem::forget(gathered);
    let reports = &computed.reports;
    match args.format {
        DoraFormat::Json => {
            if args.by.is_some() {
                serde_json::to_writer_pretty(&mut *out, reports)?;
            } else {
                serde_json::to_writer_pretty(&mut *out, &reports[0])?;
            }
            writeln!(out)?;
        }
        DoraFormat::Csv => write_csv(reports, out)?,
        DoraFormat::Table => {
            crate::dora_table::print(reports, &computed.previous, args.by.is_some(), out)?
        }
    }
    let page = reports
        .first()
        .and_then(|r| r.explain.as_ref())
        .and_then(|e| e.rows);
    if let Some(ExplainRows {
        total,
        offset,
        next_offset: Some(next),
        ..
    }) = page
    {
        eprintln!(
            "explanation rows {}-{next} of {total} shown; --explain-offset {next} for the next page",
            offset + 1
        );
    }
    Ok(())
}

fn write_csv(reports: &[Report<'_>], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "since",
        "until",
        "service",
        "environment",
        "deployments",
        "deployments_per_day",
        "deployment_frequency_band",
        "lead_time_changes",
        "lead_time_median_seconds",
        "lead_time_p90_seconds",
        "lead_time_band",
        "failed_deployments",
        "change_failure_rate",
        "change_failure_rate_band",
        "recovery_incidents",
        "recovery_median_seconds",
        "recovery_band",
        "rework_deployments",
        "rework_rate",
    ])?;
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let band = |b: Option<dora::Band>| {
        b.and_then(|b| serde_json::to_value(b).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    for r in reports {
        let k = &r.keys;
        crate::csv_cell::write(
            &mut w,
            [
                r.since.clone(),
                r.until.clone(),
                r.service.unwrap_or_default().to_owned(),
                r.environment.to_owned(),
                k.deployment_frequency.deployments.to_string(),
                k.deployment_frequency.per_day.to_string(),
                band(k.deployment_frequency.band),
                k.lead_time.changes.to_string(),
                num(k.lead_time.median_seconds),
                num(k.lead_time.p90_seconds),
                band(k.lead_time.band),
                k.change_failure_rate.failed_deployments.to_string(),
                num(k.change_failure_rate.rate),
                band(k.change_failure_rate.band),
                k.recovery_time.incidents.to_string(),
                num(k.recovery_time.median_seconds),
                band(k.recovery_time.band),
                k.rework_rate.rework_deployments.to_string(),
                num(k.rework_rate.rate),
            ],
        )?;
    }
    w.flush()?;
    Ok(())
}
