//! `leadline debt capacity`: the capacity family's report (computed in leadline-metrics)
//! rendered as a table or JSON.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use comfy_table::{Cell, CellAlignment};
use leadline_core::flow::{Options, Team};
use leadline_core::store::Store;

use crate::cli::{DebtCapacityArgs, SummaryFormat};
use crate::config::DebtConfig;

pub(crate) use leadline_metrics::capacity::{GroupAllocation, Query, Report, Settings};

impl From<&DebtCapacityArgs> for Query {
    fn from(a: &DebtCapacityArgs) -> Query {
        Query {
            since: a.since.clone(),
            until: a.until.clone(),
            source: a.source,
            repo: a.repo.clone(),
            group: a.group,
        }
    }
}

/// The family's report for `query` with the configured rules.
pub(crate) async fn report(
    store: &Arc<dyn Store>,
    query: &Query,
    config: &DebtConfig,
    options: &Options,
    teams: &[Team],
) -> Result<Report> {
    let settings = Settings {
        rules: &config.rules,
        target: config.capacity_target,
        options,
        teams,
    };
    Ok(leadline_metrics::capacity::report(store, query, &settings).await?)
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &DebtCapacityArgs,
    config: &DebtConfig,
    options: &Options,
    teams: &[Team],
    out: &mut dyn Write,
) -> Result<()> {
    let report = report(store, &Query::from(args), config, options, teams).await?;
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => print(&report, options, out)?,
    }
    Ok(())
}

fn print(r: &Report, options: &Options, out: &mut dyn Write) -> Result<()> {
    let work = match r.source {
        "issues" => "resolved issues".to_owned(),
        other => format!("merged {}", other.replace('_', " ")),
    };
    writeln!(
        out,
        "capacity allocation of {work} from {} to {}{}",
        &r.since[..10],
        &r.until[..10],
        r.target
            .map(|t| format!(", debt target {:.0}%", t * 100.0))
            .unwrap_or_default()
    )?;
    if r.groups.is_empty() && r.source == "issues" {
        writeln!(out, "nothing to show: no issue was resolved in the window")?;
    } else if r.groups.is_empty() {
        writeln!(
            out,
            "nothing to show: fewer than {} authors merged work in the window (privacy.min_group_size)",
            options.min_group_size
        )?;
    }
    let pct = |v: Option<f64>| v.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_default();
    for g in &r.groups {
        let mut t = crate::table::table(&[
            &g.group,
            "feature",
            "debt",
            "fix",
            "other",
            "debt share",
            "vs target",
        ]);
        for m in &g.months {
            let right = |v: String| Cell::new(v).set_alignment(CellAlignment::Right);
            t.add_row(vec![
                Cell::new(&m.period),
                right(m.feature.to_string()),
                right(m.debt.to_string()),
                right(m.fix.to_string()),
                right(m.other.to_string()),
                right(pct(m.debt_share)),
                right(
                    m.versus_target
                        .map(|v| format!("{:+.0} pts", v * 100.0))
                        .unwrap_or_default(),
                ),
            ]);
        }
        writeln!(out, "{t}")?;
        writeln!(out, "{}", trend_line(g, r.target))?;
    }
    Ok(())
}

/// `debt share by month ▂▅█ ; over the window 27% (target 20%)`: the trend at a glance.
fn trend_line(g: &GroupAllocation, target: Option<f64>) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let spark: String = g
        .months
        .iter()
        .map(|m| match m.debt_share {
            None => ' ',
            Some(s) => BARS[((s * 7.0).round() as usize).min(7)],
        })
        .collect();
    let (debt, all) = g.months.iter().fold((0, 0), |(d, a), m| {
        (d + m.debt, a + m.feature + m.debt + m.fix + m.other)
    });
    let overall = match all {
        0 => "nothing merged".to_owned(),
        _ => format!("{:.0}%", debt as f64 / all as f64 * 100.0),
    };
    let target = target
        .map(|t| format!(" (target {:.0}%)", t * 100.0))
        .unwrap_or_default();
    format!(
        "{}: debt share by month {spark} ; over the window {overall}{target}",
        g.group
    )
}
