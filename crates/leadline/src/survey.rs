//! `leadline survey`: team scores per wave, as a table or the JSON of `/api/v1/survey`.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::Store;
use leadline_metrics::survey::{GroupOut, Query};

use crate::cli::{SummaryFormat, SurveyArgs};
use crate::config::Settings;

pub async fn run(
    store: &Arc<dyn Store>,
    args: &SurveyArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query {
        instrument: args.instrument.clone(),
        wave: args.wave.clone(),
        by: args.by.clone(),
    };
    let groups = compute(store, settings, &query).await?;
    if args.format == SummaryFormat::Json {
        serde_json::to_writer_pretty(&mut *out, &groups)?;
        writeln!(out)?;
        return Ok(());
    }
    if groups.is_empty() {
        writeln!(
            out,
            "no team has {} or more respondents yet (import survey FILE --instrument NAME --wave YYYY-MM)",
            settings.surveys.min_respondents
        )?;
        return Ok(());
    }
    let mut t = crate::table::table(&["instrument", "group", "wave", "respondents", "scores"]);
    for g in &groups {
        let scores: Vec<String> = g
            .scores
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}",
                    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
                )
            })
            .collect();
        t.add_row(vec![
            g.instrument.clone(),
            g.group.clone(),
            g.wave.clone(),
            g.respondents.to_string(),
            scores.join(", "),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "groups under {} respondents fold into `other`; delivery numbers beside scores (JSON `beside`) show association, not cause",
        settings.surveys.min_respondents
    )?;
    Ok(())
}

/// The groups with the team's flow beside them: what the command and the API answer.
pub async fn compute(
    store: &Arc<dyn Store>,
    settings: &Settings,
    query: &Query,
) -> Result<Vec<GroupOut>> {
    let mut groups = leadline_metrics::survey::report(store, &settings.surveys, query).await?;
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let ctx = settings.ctx(store, &slo_reader);
    leadline_metrics::survey::add_beside(&ctx, &mut groups).await;
    Ok(groups)
}
