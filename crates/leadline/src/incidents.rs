//! `leadline incidents`: the incidents family's reports (computed in leadline-metrics)
//! rendered as a table, JSON or CSV. CSV is long: one row per metric path, as the metric
//! names read them.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::Store;
use leadline_metrics::incidents::{Durations, Query, Report, compute};
use leadline_metrics::postmortems::Settings;

use crate::cli::{DoraFormat, IncidentsArgs};
use crate::table::{human, share};

impl From<&IncidentsArgs> for Query {
    fn from(a: &IncidentsArgs) -> Query {
        Query {
            service: a.service.clone(),
            since: a.since.clone(),
            until: a.until.clone(),
            by: a.by,
            explain: a.explain,
        }
    }
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &IncidentsArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let reports = compute(store, &Query::from(args), settings).await?;
    match args.format {
        DoraFormat::Json => crate::table::write_json(&reports, args.by.is_some(), out)?,
        DoraFormat::Csv => write_csv(&reports, out)?,
        DoraFormat::Table => {
            for r in &reports {
                print_table(r, out)?;
            }
        }
    }
    Ok(())
}

fn duration(d: &Durations) -> String {
    match (d.median_seconds, d.p90_seconds) {
        (Some(m), Some(p)) => format!("{} (p90 {}, n={})", human(m), human(p), d.incidents),
        _ => "n/a".to_owned(),
    }
}

fn print_table(r: &Report, out: &mut dyn Write) -> Result<()> {
    let scope = r.service.as_deref().unwrap_or("all services");
    writeln!(
        out,
        "{scope}, window {} to {}",
        &r.since[..10],
        &r.until[..10]
    )?;
    let s = &r.incidents.by_severity;
    let p = &r.postmortems;
    let a = &r.actions;
    let mut t = crate::table::table(&["measure", "value"]);
    for (name, value) in [
        (
            "incidents",
            format!(
                "{} (sev1 {}, sev2 {}, sev3 {}, sev4 {}, unknown {})",
                r.incidents.total, s.sev1, s.sev2, s.sev3, s.sev4, s.unknown
            ),
        ),
        ("time to detect", duration(&r.time_to_detect)),
        ("time to acknowledge", duration(&r.time_to_acknowledge)),
        ("time to mitigate", duration(&r.time_to_mitigate)),
        ("time to resolve", duration(&r.time_to_resolve)),
        (
            "postmortems",
            format!(
                "{} reviewed on time of {} required ({} written), coverage {}",
                p.reviewed_on_time,
                p.required,
                p.written,
                share(p.coverage)
            ),
        ),
        (
            "action items",
            format!(
                "{} done of {} ({} on time), {} open, {} overdue; completion {}, on time {}",
                a.done,
                a.total,
                a.done_on_time,
                a.open,
                a.overdue,
                share(a.completion_rate),
                share(a.on_time_rate)
            ),
        ),
        (
            "repeats",
            format!(
                "{} of {} ({})",
                r.repeats.repeats,
                r.repeats.incidents,
                share(r.repeats.rate)
            ),
        ),
    ] {
        t.add_row(vec![name.to_owned(), value]);
    }
    writeln!(out, "{t}")?;
    if let Some(e) = &r.explain {
        let mut t = crate::table::table(&[
            "incident",
            "service",
            "severity",
            "opened",
            "resolve",
            "postmortems",
            "repeat of",
        ]);
        for i in &e.incidents {
            t.add_row(vec![
                i.id.clone(),
                i.service.clone(),
                i.severity.as_str().to_owned(),
                i.opened_at[..16].replace('T', " "),
                i.time_to_resolve_seconds
                    .map_or_else(|| "open".into(), human),
                i.postmortems.join(", "),
                i.repeat_of.clone().unwrap_or_default(),
            ]);
        }
        writeln!(out, "{t}")?;
        crate::actions::print_table(&e.actions, out)?;
    }
    Ok(())
}

fn write_csv(reports: &[Report], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["since", "until", "service", "metric", "value"])?;
    for r in reports {
        let mut value = serde_json::to_value(r)?;
        if let Some(map) = value.as_object_mut() {
            for key in ["since", "until", "service", "explain"] {
                map.remove(key);
            }
        }
        let service = r.service.clone().unwrap_or_default();
        let mut rows = Vec::new();
        leaves("", &value, &mut rows);
        for (path, v) in rows {
            crate::csv_cell::write(&mut w, [&r.since, &r.until, &service, &path, &v])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Every scalar of `value` with its dotted path; `null` is an empty cell.
fn leaves(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, v, out);
            }
        }
        serde_json::Value::Null => out.push((prefix.to_owned(), String::new())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}
