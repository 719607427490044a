//! `leadline wellbeing`: the wellbeing family's reports (leadline-metrics) with each group's
//! review load read from flow through the seam, as a table or JSON. Team level only.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::Store;
use leadline_metrics::reading::Reading;
use leadline_metrics::scope::{Scope, read};
use leadline_metrics::wellbeing::{Query, Report, compute};

use crate::cli::{DoraFormat, WellbeingArgs};
use crate::config::Settings;
use crate::table::share;

/// The reports `query` asks for, each group's review load read from flow.
pub async fn reports(
    store: &Arc<dyn Store>,
    query: &Query,
    settings: &Settings,
) -> Result<Vec<Report>> {
    let mut reports = compute(store, query, &settings.wellbeing, &settings.teams).await?;
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let ctx = settings.ctx(store, &slo_reader);
    let Some(metric) = leadline_metrics::catalog::find("flow.pull_requests.review_load_top_fifth")
    else {
        return Ok(reports);
    };
    for report in &mut reports {
        for g in &mut report.groups {
            let scope = Scope {
                team: (g.group != "all" && g.group != "other").then(|| g.group.clone()),
                since: Some(report.since.clone()),
                until: Some(report.until.clone()),
                ..Scope::default()
            };
            if let Ok(Reading::Value { value, .. }) = read(&ctx, None, metric, &scope).await {
                g.load.reviews_top_fifth_share = value.as_f64();
            }
        }
    }
    Ok(reports)
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &WellbeingArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query {
        team: args.team.clone(),
        repo: args.repo.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
        by: args.by,
        explain: args.explain,
    };
    let found = reports(store, &query, settings).await?;
    match args.format {
        DoraFormat::Json => crate::table::write_json(&found, args.by.is_some(), out)?,
        DoraFormat::Csv => csv(&found, out)?,
        DoraFormat::Table => {
            for report in &found {
                table(report, settings.wellbeing.min_group_size, out)?;
            }
        }
    }
    Ok(())
}

/// One row per period and group: the counts and shares, never a person.
fn csv(reports: &[Report], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(&mut *out);
    w.write_record([
        "since",
        "until",
        "group",
        "people",
        "commits",
        "off_hours",
        "weekend",
        "late_night",
        "off_hours_share",
        "weekend_share",
        "late_night_share",
        "deployments",
        "out_of_hours_deployments",
        "pages",
        "night_pages",
        "disrupted_hours",
    ])?;
    let n = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    for r in reports {
        for g in &r.groups {
            let c = &g.commits;
            crate::csv_cell::write(
                &mut w,
                [
                    r.since.clone(),
                    r.until.clone(),
                    g.group.clone(),
                    g.people.to_string(),
                    c.total.to_string(),
                    c.off_hours.to_string(),
                    c.weekend.to_string(),
                    c.late_night.to_string(),
                    n(c.off_hours_share),
                    n(c.weekend_share),
                    n(c.late_night_share),
                    g.deployments.total.to_string(),
                    g.deployments.out_of_hours.to_string(),
                    g.pages.total.to_string(),
                    g.pages.night.to_string(),
                    g.pages.disrupted_hours.to_string(),
                ],
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

fn table(report: &Report, floor: usize, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "window {} to {}",
        &report.since[..10],
        &report.until[..10]
    )?;
    if report.groups.is_empty() {
        writeln!(
            out,
            "no group has {floor} people or more in this window (`[wellbeing] min_group_size`)"
        )?;
        return Ok(());
    }
    let mut t = crate::table::table(&[
        "group",
        "people",
        "commits",
        "off-hours",
        "weekend",
        "late night",
        "out-of-hours deploys",
        "night pages",
        "disrupted hours",
    ]);
    for g in &report.groups {
        t.add_row(vec![
            g.group.clone(),
            g.people.to_string(),
            g.commits.total.to_string(),
            share(g.commits.off_hours_share),
            share(g.commits.weekend_share),
            share(g.commits.late_night_share),
            share(g.deployments.share),
            share(g.pages.night_share),
            g.pages.disrupted_hours.to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    for g in &report.groups {
        for e in g.explain.iter().flatten() {
            let marks: Vec<&str> = [
                (e.off_hours, "off-hours"),
                (e.weekend, "weekend"),
                (e.late_night, "late night"),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, m)| *m)
            .collect();
            writeln!(
                out,
                "  {} {} {} {}",
                g.group,
                &e.sha[..e.sha.len().min(12)],
                e.local_time,
                marks.join(", ")
            )?;
        }
    }
    Ok(())
}
