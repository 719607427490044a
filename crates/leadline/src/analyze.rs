//! `leadline analyze`: ingest, then the summary a lead wants at a glance.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use leadline_core::activity::{ActivitySummary, RECENT_DAYS};
use leadline_core::model::Repository;
use leadline_core::store::Store;
use serde::Serialize;

use crate::cli::SummaryFormat;
use crate::config::{DebtConfig, DoraConfig};
use crate::dora;
use crate::time::date;

#[derive(Serialize)]
pub struct RepoSummary {
    pub repo: String,
    pub location: String,
    pub shallow: bool,
    #[serde(flatten)]
    pub activity: ActivitySummary,
    /// The DORA keys of the repository as a service, as `leadline dora --format json` gives
    /// them (JSON output only; tables print `leadline dora`'s own table after the summary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dora: Option<serde_json::Value>,
    /// Top hotspots, their trend, coupling and knowledge, as `leadline health --top 5` gives
    /// them (JSON output only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<crate::health::Report>,
    /// The debt register's open items for this repository, linked to its hotspots, when
    /// there is a register.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debt: Option<crate::debt::Listing>,
}

/// Rows per section of code health in the summary.
const HEALTH_TOP: usize = 5;

pub async fn summary(
    store: &Arc<dyn Store>,
    repo: &Repository,
    shallow: bool,
    debt: &DebtConfig,
    teams: &[leadline_core::flow::Team],
) -> Result<RepoSummary> {
    let activity = leadline_metrics::activity::report(store, repo).await?;
    let query = crate::health::Query {
        teams: teams.to_vec(),
        ..crate::health::Query::defaults(HEALTH_TOP, &debt.by_hand)
    };
    let health = crate::health::report(store, repo, &query).await?;
    // The summary stands without the register: a broken debt.toml is `debt check`'s to report.
    let debt =
        crate::debt::for_repository(&repo.name, &health.hotspots, debt).unwrap_or_else(|e| {
            tracing::warn!("the debt register is left out: {e:#}");
            None
        });
    Ok(RepoSummary {
        repo: repo.name.clone(),
        location: repo.location.clone(),
        shallow,
        activity,
        dora: None,
        health: Some(health),
        debt,
    })
}

/// Prints each summary followed by its repository's DORA keys (each service it is deployed as,
/// production, default window): in JSON as the `dora` field (its first service), in tables as
/// `leadline dora`'s own table per service.
pub async fn report(
    store: &Arc<dyn Store>,
    mut summaries: Vec<RepoSummary>,
    format: SummaryFormat,
    config: &DoraConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let gathered = dora::load(store, config).await?;
    match format {
        SummaryFormat::Json => {
            for s in &mut summaries {
                let service = services_of(&gathered, &s.repo).swap_remove(0);
                let args = dora::Query::service(&service);
                let computed = dora::compute_from(&gathered, &args, config)?;
                s.dora = computed
                    .reports
                    .first()
                    .map(serde_json::to_value)
                    .transpose()?;
            }
            serde_json::to_writer_pretty(&mut *out, &summaries)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            for s in &summaries {
                print_table(s, out)?;
                for service in services_of(&gathered, &s.repo) {
                    writeln!(out, "DORA keys ({service} as a service, production)")?;
                    let args = dora::Query::service(&service);
                    let computed = dora::compute_from(&gathered, &args, config)?;
                    crate::dora_table::print(&computed.reports, &computed.previous, false, out)?;
                }
                if let Some(health) = &s.health {
                    writeln!(
                        out,
                        "\ncode health ({} as `leadline health --top {HEALTH_TOP}` shows it)",
                        s.repo
                    )?;
                    crate::health::print_summary(health, out)?;
                }
                if let Some(register) = &s.debt {
                    crate::debt::print_summary(register, out)?;
                }
                writeln!(out)?;
            }
        }
    }
    // The process ends next: the OS takes the memory back at once.
    std::mem::forget(gathered);
    Ok(())
}

/// The services `repo` is deployed as in production, never empty: its own name when
/// deployments of that name exist or no other service's deployments come from it; else, sorted,
/// the services its deployments name (release tags `jq-1.7` in a clone named `jq-src`).
fn services_of(gathered: &dora::Gathered, repo: &str) -> Vec<String> {
    let production = || {
        gathered
            .inputs
            .deployments
            .iter()
            .filter(|d| d.environment == "production")
    };
    if production().any(|d| d.service == repo) {
        return vec![repo.to_owned()];
    }
    let mut named: Vec<String> = production()
        .filter(|d| d.repo.as_deref() == Some(repo))
        .map(|d| d.service.clone())
        .collect();
    named.sort_unstable();
    named.dedup();
    if named.is_empty() {
        named.push(repo.to_owned());
    }
    named
}

fn print_table(s: &RepoSummary, out: &mut dyn Write) -> Result<()> {
    let a = &s.activity;
    writeln!(out, "{} ({})", s.repo, s.location)?;
    if s.shallow {
        writeln!(out, "warning: shallow clone, history is incomplete")?;
    }
    let (Some(first), Some(last), Some(since)) =
        (a.first_commit_at, a.last_commit_at, a.recent_since)
    else {
        writeln!(out, "no commits\n")?;
        return Ok(());
    };
    let mut overview = table(&["", ""]);
    overview.add_row(vec![
        "history".to_owned(),
        format!(
            "{} to {} ({} days)",
            date(first),
            date(last),
            (last - first) / 86_400_000
        ),
    ]);
    overview.add_row(vec![
        "commits".to_owned(),
        format!("{} ({} merges)", a.commits, a.merges),
    ]);
    overview.add_row(vec!["contributors".to_owned(), a.contributors.to_string()]);
    overview.add_row(vec![
        format!("last {RECENT_DAYS} days"),
        format!(
            "{} commits by {} active contributors (since {})",
            a.recent_commits,
            a.active_contributors,
            date(since)
        ),
    ]);
    writeln!(out, "{overview}")?;

    if !a.busiest_areas.is_empty() {
        writeln!(out, "busiest areas, last {RECENT_DAYS} days")?;
        let mut areas = table(&["area", "commits", "lines changed"]);
        for area in &a.busiest_areas {
            areas.add_row(vec![
                Cell::new(&area.area),
                Cell::new(area.commits).set_alignment(CellAlignment::Right),
                Cell::new(area.lines_changed).set_alignment(CellAlignment::Right),
            ]);
        }
        writeln!(out, "{areas}")?;
    }

    writeln!(out, "weekly activity")?;
    let peak = a.weekly.iter().map(|w| w.commits).max().unwrap_or(0).max(1);
    let mut weeks = table(&["week of", "commits", "contributors", ""]);
    for w in &a.weekly {
        let bar = "#".repeat(((w.commits * 30).div_ceil(peak)) as usize);
        weeks.add_row(vec![
            Cell::new(date(w.week_start)),
            Cell::new(w.commits).set_alignment(CellAlignment::Right),
            Cell::new(w.active_contributors).set_alignment(CellAlignment::Right),
            Cell::new(bar),
        ]);
    }
    writeln!(out, "{weeks}")?;
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    if header.iter().any(|h| !h.is_empty()) {
        t.set_header(header.to_vec());
    }
    t
}
