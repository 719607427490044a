//! `leadline ai`: the AI family's reports (computed in leadline-metrics) as a table or JSON.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::Store;
use leadline_metrics::ai::{ByClass, Query, compute};

use crate::cli::{AiArgs, SummaryFormat};
use crate::table::share;

pub async fn run(
    store: &Arc<dyn Store>,
    args: &AiArgs,
    settings: &crate::config::Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query {
        repo: args.repo.clone(),
        team: args.team.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
        by: args.by,
        explain: args.explain,
    };
    let reports = compute(
        store,
        &query,
        &leadline_metrics::ai::Settings {
            rules: &settings.ai,
            dora: &settings.dora,
            capacity: &settings.debt.rules,
            teams: &settings.teams,
            min_group_size: settings.flow.min_group_size,
        },
    )
    .await?;
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&reports, args.by.is_some(), out)?,
        SummaryFormat::Table => {
            for r in &reports {
                writeln!(out, "window {} to {}", &r.since[..10], &r.until[..10])?;
                let mut t = crate::table::table(&[
                    "",
                    "total",
                    "human",
                    "AI-assisted",
                    "AI-authored",
                    "AI share",
                ]);
                let row = |name: &str, c: &ByClass| {
                    let ai = c.ai_assisted + c.ai_authored;
                    vec![
                        name.to_owned(),
                        c.total.to_string(),
                        c.human.to_string(),
                        c.ai_assisted.to_string(),
                        c.ai_authored.to_string(),
                        share((c.total > 0).then(|| ai as f64 / c.total as f64)),
                    ]
                };
                t.add_row(row("changes", &r.changes));
                t.add_row(row("lines changed", &r.lines));
                writeln!(out, "{t}")?;
                let mut t =
                    crate::table::table(&["outcome", "human", "AI", "AI − human (size-weighted)"]);
                for (name, o) in [
                    ("change failure", &r.outcomes.change_failure),
                    ("rework", &r.outcomes.rework),
                ] {
                    let side = |s: &leadline_metrics::ai::Side| {
                        format!("{} of {} ({})", s.with_outcome, s.changes, share(s.rate))
                    };
                    t.add_row(vec![
                        name.to_owned(),
                        side(&o.human),
                        side(&o.ai),
                        match (&o.note, o.size_weighted_difference) {
                            (Some(note), _) => note.clone(),
                            (None, Some(d)) => format!("{:+.1} points", d * 100.0),
                            (None, None) => "n/a".to_owned(),
                        },
                    ]);
                }
                let review = &r.outcomes.review;
                let side = |s: &leadline_metrics::ai::ReviewSide| {
                    format!(
                        "{} of {} reviewed ({}), first review {}",
                        s.reviewed,
                        s.pull_requests,
                        share(s.coverage),
                        s.median_review_seconds
                            .map_or_else(|| "n/a".to_owned(), crate::table::human)
                    )
                };
                t.add_row(vec![
                    "review (pull requests)".to_owned(),
                    side(&review.human),
                    side(&review.ai),
                    review.note.clone().unwrap_or_default(),
                ]);
                writeln!(out, "{t}")?;
                if let Some(rows) = &r.explain {
                    let mut t =
                        crate::table::table(&["repository", "commit", "class", "lines", "rule"]);
                    for e in rows {
                        t.add_row(vec![
                            e.repository.clone(),
                            e.sha[..e.sha.len().min(12)].to_owned(),
                            e.class.as_str().to_owned(),
                            e.lines.to_string(),
                            e.rule.clone(),
                        ]);
                    }
                    writeln!(out, "{t}")?;
                }
            }
        }
    }
    Ok(())
}
