//! `leadline metrics list` and `leadline metric NAME`: leadline-metrics' catalog read from the
//! families' own reports, so a metric always equals the field of `leadline FAMILY --format
//! json` it names. `GET /api/v1/metrics` and `/api/v1/metric/{name}` answer the same JSON.

use std::io::Write;

use anyhow::Result;
use leadline_metrics::catalog::CATALOG;
use leadline_metrics::reading::Reading;
use serde_json::{Value, json};

use crate::cli::{MetricArgs, MetricsFormat};
use crate::dora::InvalidArgs;

pub(crate) use leadline_metrics::scope::{Ctx, Scope};
use leadline_metrics::scope::{labels, named, read_named, windowed};

/// The command line's scope: the metric's options as typed.
fn scope(a: &MetricArgs) -> Scope {
    Scope {
        service: a.service.clone(),
        repo: a.repo.clone(),
        team: a.team.clone(),
        env: a.env.clone(),
        since: a.since.clone(),
        until: a.until.clone(),
        by: a.by,
        slo: a.slo.clone(),
        explain: false,
        name: None,
    }
}

/// The catalog as `metrics list --format json` and `GET /api/v1/metrics` give it.
pub(crate) fn catalog_json() -> Value {
    Value::Array(
        CATALOG
            .iter()
            .map(|m| {
                json!({"name": m.name, "unit": m.unit.as_str(), "better": m.better.as_str(),
                       "family": m.family.as_str(), "labels": labels(m.family),
                       "window": windowed(m.family), "description": m.description,
                       "docs": m.docs})
            })
            .collect(),
    )
}

pub(crate) fn list(format: MetricsFormat, out: &mut dyn Write) -> Result<()> {
    match format {
        MetricsFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &catalog_json())?;
            writeln!(out)?;
        }
        MetricsFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record([
                "name",
                "unit",
                "better",
                "family",
                "labels",
                "window",
                "description",
                "docs",
            ])?;
            for m in CATALOG {
                w.write_record([
                    m.name,
                    m.unit.as_str(),
                    m.better.as_str(),
                    m.family.as_str(),
                    &labels(m.family).join(" "),
                    if windowed(m.family) { "true" } else { "false" },
                    m.description,
                    m.docs,
                ])?;
            }
            w.flush()?;
        }
        MetricsFormat::Table => {
            let mut t = crate::table::table(&["name", "labels", "unit", "better", "description"]);
            for m in CATALOG {
                t.add_row(vec![
                    m.name,
                    &labels(m.family).join(", "),
                    m.unit.as_str(),
                    m.better.as_str(),
                    m.description,
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

/// `leadline metrics schema FAMILY`: the JSON schema of the family's report.
pub(crate) fn schema(family: &str, out: &mut dyn Write) -> Result<()> {
    let family = leadline_metrics::schema::family(family)
        .ok_or_else(|| InvalidArgs(format!("no metric family {family:?}")))?;
    serde_json::to_writer_pretty(&mut *out, &leadline_metrics::schema::of(family))?;
    writeln!(out)?;
    Ok(())
}

pub(crate) async fn run(ctx: &Ctx<'_>, args: &MetricArgs, out: &mut dyn Write) -> Result<()> {
    let (metric, scope) = named(&args.name, scope(args)).map_err(|e| InvalidArgs(e.to_string()))?;
    let reading = read_named(ctx, None, &metric, &scope).await?;
    let unit = metric.unit().map_or("", |u| u.as_str());
    match args.format {
        MetricsFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &reading)?;
            writeln!(out)?;
        }
        MetricsFormat::Csv => {
            writeln!(out, "name,since,until,value")?;
            for (since, until, value, _) in rows(&reading) {
                writeln!(out, "{},{since},{until},{}", metric.name(), text(&value))?;
            }
        }
        MetricsFormat::Table => {
            let mut t = crate::table::table(&["metric", "since", "until", "value", "unit"]);
            for (since, until, value, reason) in rows(&reading) {
                let shown = match reason {
                    Some(why) if value.is_null() => format!("n/a ({why})"),
                    _ => text(&value),
                };
                t.add_row(vec![
                    metric.name().to_owned(),
                    since,
                    until,
                    shown,
                    unit.to_owned(),
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

/// A reading as (since, until, value, reason) rows; a single value has no period.
fn rows(reading: &Reading) -> Vec<(String, String, Value, Option<String>)> {
    match reading {
        Reading::Value { value, reason, .. } => {
            vec![(String::new(), String::new(), value.clone(), reason.clone())]
        }
        Reading::Series { series, .. } => series
            .iter()
            .map(|p| {
                (
                    p.since.clone(),
                    p.until.clone(),
                    p.value.clone(),
                    p.reason.clone(),
                )
            })
            .collect(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
