//! `leadline flow`: the flow family's reports (computed in leadline-metrics) rendered as a
//! table, JSON or CSV.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use comfy_table::{Cell, CellAlignment};
use leadline_core::flow::{Durations, Options, Team};
use leadline_core::store::Store;

use crate::cli::{DoraFormat, FlowArgs};
use crate::config::DoraConfig;
use crate::table::{human, share};

pub use leadline_metrics::flow::{Query, Report, compute};

impl From<&FlowArgs> for Query {
    fn from(a: &FlowArgs) -> Query {
        Query {
            repo: a.repo.clone(),
            since: a.since.clone(),
            until: a.until.clone(),
            by: a.by,
            explain: a.explain,
            group: a.group,
        }
    }
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &FlowArgs,
    options: &Options,
    teams: &[Team],
    dora: &DoraConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let reports = compute(store, &Query::from(args), options, teams, dora).await?;
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
        (Some(m), Some(p)) => format!("{} (p90 {}, n={})", human(m), human(p), d.count),
        _ => "n/a".to_owned(),
    }
}

fn print_table(r: &Report, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "window {} to {}", &r.since[..10], &r.until[..10])?;
    if r.groups.is_empty() {
        writeln!(
            out,
            "no group has enough authors to report (see [privacy] min_group_size)"
        )?;
    }
    writeln!(
        out,
        "onboarding: {} newcomers; first to tenth change {}",
        r.onboarding.newcomers,
        duration(&r.onboarding.to_tenth_change)
    )?;
    for t in r.team_onboarding.iter().chain(&r.repository_onboarding) {
        writeln!(
            out,
            "  {}: {} newcomers; first to tenth change {}",
            t.team,
            t.onboarding.newcomers,
            duration(&t.onboarding.to_tenth_change)
        )?;
    }
    for g in &r.groups {
        let (p, b) = (&g.keys.pull_requests, &g.keys.builds);
        writeln!(out, "{}", g.group)?;
        let mut t = crate::table::table(&["key", "value"]);
        let rows: Vec<(&str, String)> = vec![
            (
                "pull requests merged",
                format!("{} (+{} by bots, left out)", p.merged, p.bot_pull_requests),
            ),
            ("cycle time", duration(&p.cycle_time)),
            ("  coding", duration(&p.coding)),
            ("  pickup", duration(&p.pickup)),
            ("  review", duration(&p.review)),
            ("  deploy", duration(&p.deploy)),
            ("time to merge", duration(&p.time_to_merge)),
            (
                "size (median)",
                match (p.size_lines_median, p.size_files_median) {
                    (Some(l), Some(f)) => format!("{l:.0} lines, {f:.0} files"),
                    _ => "n/a".to_owned(),
                },
            ),
            ("large pull requests", share(p.large_share)),
            ("merged without review", share(p.merged_without_review)),
            (
                "rework after review",
                format!(
                    "{} of reviewed ({} commits each)",
                    share(p.rework_share),
                    p.rework_commits_per_pull_request
                        .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}"))
                ),
            ),
            (
                "reviews per pull request",
                p.reviews_per_pull_request
                    .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}")),
            ),
            (
                "comments per review",
                p.comments_per_review
                    .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}")),
            ),
            (
                "review load, busiest fifth",
                format!(
                    "{} of reviews ({} reviewers)",
                    share(p.review_load_top_fifth),
                    p.reviewers
                ),
            ),
            (
                "build failure rate",
                format!("{} ({}/{})", share(b.failure_rate), b.failed, b.attempts),
            ),
            (
                "flaky runs",
                format!("{} ({}/{})", share(b.flaky_rate), b.flaky, b.runs),
            ),
            ("build duration", duration(&b.duration)),
            ("build queue", duration(&b.queue)),
        ];
        for (key, value) in rows {
            t.add_row(vec![
                Cell::new(key),
                Cell::new(value).set_alignment(CellAlignment::Right),
            ]);
        }
        writeln!(out, "{t}")?;
        if let Some(e) = &g.explain {
            let mut t = crate::table::table(&[
                "pull request",
                "opened",
                "ready for review",
                "merged",
                "cycle time",
                "reviews",
                "lines",
            ]);
            for p in &e.pull_requests {
                t.add_row(vec![
                    Cell::new(&p.pull_request),
                    Cell::new(&p.opened),
                    Cell::new(p.ready.as_deref().unwrap_or("")),
                    Cell::new(&p.merged),
                    Cell::new(human(p.cycle_seconds)).set_alignment(CellAlignment::Right),
                    Cell::new(p.reviews).set_alignment(CellAlignment::Right),
                    Cell::new(p.lines.map(|l| l.to_string()).unwrap_or_default())
                        .set_alignment(CellAlignment::Right),
                ]);
            }
            writeln!(out, "{t}")?;
            if !e.bot_pull_requests.is_empty() {
                writeln!(out, "left out (bots): {}", e.bot_pull_requests.join(", "))?;
            }
        }
    }
    Ok(())
}

fn write_csv(reports: &[Report], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["since", "until", "group", "metric", "value"])?;
    for r in reports {
        for g in &r.groups {
            let value = serde_json::to_value(&g.keys)?;
            for (section, fields) in value.as_object().into_iter().flatten() {
                flatten(&mut w, r, &g.group, section, fields)?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

fn flatten(
    w: &mut csv::Writer<&mut dyn Write>,
    r: &Report,
    group: &str,
    prefix: &str,
    value: &serde_json::Value,
) -> Result<()> {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten(w, r, group, &format!("{prefix}.{k}"), v)?;
            }
        }
        serde_json::Value::Null => {
            crate::csv_cell::write(w, [&r.since, &r.until, group, prefix, ""])?;
        }
        other => {
            crate::csv_cell::write(w, [&r.since, &r.until, group, prefix, &other.to_string()])?;
        }
    }
    Ok(())
}
