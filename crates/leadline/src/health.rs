//! `leadline health`: per repository, the most changed files (revisions and churn) and the
//! files that change together, over a window of history.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Result, bail};
use comfy_table::{Cell, CellAlignment};
use leadline_core::dora::Window;
use leadline_core::health::{self, AreaKnowledge, Coupled, FileActivity, Thresholds};
use leadline_core::store::Store;
use serde::Serialize;

use crate::cli::{HealthArgs, SummaryFormat};
use crate::dora::{parse_instant, utc};

const DAY_MS: i64 = 86_400_000;

#[derive(Serialize)]
struct Report {
    repository: String,
    since: String,
    until: String,
    files: Vec<FileActivity>,
    coupling: Vec<Coupled>,
    /// Knowledge and age per area.
    areas: Vec<AreaKnowledge>,
}

pub async fn run(store: &Arc<dyn Store>, args: &HealthArgs, out: &mut dyn Write) -> Result<()> {
    if !(0.0..=1.0).contains(&args.min_degree) {
        bail!("--min-degree {}: expected 0 to 1", args.min_degree);
    }
    let repos: Vec<_> = store
        .repositories()
        .await?
        .into_iter()
        .filter(|r| args.repo.as_ref().is_none_or(|n| &r.name == n))
        .collect();
    if repos.is_empty() {
        match &args.repo {
            Some(name) => bail!("no ingested repository is named {name:?}"),
            None => bail!("no repository ingested yet: run `leadline ingest git PATH`"),
        }
    }
    let thresholds = Thresholds {
        min_revisions: args.min_revisions,
        min_degree: args.min_degree,
        max_files: args.max_files,
    };
    let mut reports = Vec::new();
    for repo in repos {
        let rows = store.churn_since(repo.id, i64::MIN).await?;
        let newest = rows.iter().map(|r| r.committed_at).max();
        let until = match &args.until {
            Some(v) => parse_instant("--until", v)?,
            None => newest.map_or(0, |n| (n.div_euclid(DAY_MS) + 1) * DAY_MS),
        };
        let since = match &args.since {
            Some(v) => parse_instant("--since", v)?,
            None => until - 365 * DAY_MS,
        };
        let paths: Vec<String> = rows
            .iter()
            .map(|r| String::from_utf8_lossy(&r.path).into_owned())
            .collect();
        let changes: Vec<health::FileChange<'_>> = rows
            .iter()
            .zip(&paths)
            .filter(|(r, _)| since <= r.committed_at && r.committed_at < until)
            .map(|(r, p)| (r.sha.as_str(), p.as_str(), r.added, r.deleted))
            .collect();
        let mut files = health::activity(&changes);
        files.truncate(args.top);
        let mut coupling = health::coupling(&changes, thresholds);
        coupling.truncate(args.top);
        let authored: Vec<health::AuthoredChange<'_>> = rows
            .iter()
            .zip(&paths)
            .map(|(r, p)| (p.as_str(), r.author_email.as_str(), r.committed_at))
            .collect();
        let areas = health::knowledge(
            &authored,
            Window { since, until },
            args.left_after_days.max(0) * DAY_MS,
            args.depth.max(1),
        );
        reports.push(Report {
            repository: repo.name,
            since: utc(since),
            until: utc(until),
            files,
            coupling,
            areas,
        });
    }
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &reports)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            for r in &reports {
                print(r, out)?;
            }
        }
    }
    Ok(())
}

fn print(r: &Report, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{}: {} to {}",
        r.repository,
        &r.since[..10],
        &r.until[..10]
    )?;
    let mut t = crate::dora_table::table(&["most changed file", "commits", "lines changed"]);
    for f in &r.files {
        t.add_row(vec![
            Cell::new(&f.path),
            Cell::new(f.revisions).set_alignment(CellAlignment::Right),
            Cell::new(f.churn).set_alignment(CellAlignment::Right),
        ]);
    }
    writeln!(out, "{t}")?;
    let mut t = crate::dora_table::table(&[
        "area",
        "changes",
        "active authors",
        "main author's share",
        "knowledge risk",
        "days since a change",
    ]);
    for a in &r.areas {
        t.add_row(vec![
            Cell::new(&a.area),
            Cell::new(a.changes).set_alignment(CellAlignment::Right),
            Cell::new(a.active_authors).set_alignment(CellAlignment::Right),
            Cell::new(
                a.main_author_share
                    .map_or_else(|| "n/a".to_owned(), |s| format!("{:.0}%", s * 100.0)),
            )
            .set_alignment(CellAlignment::Right),
            Cell::new(if a.knowledge_risk {
                "yes: its authors left"
            } else {
                ""
            }),
            Cell::new(format!("{:.0}", a.age_days)).set_alignment(CellAlignment::Right),
        ]);
    }
    writeln!(out, "{t}")?;
    if r.coupling.is_empty() {
        writeln!(out, "no files change together above the thresholds")?;
        return Ok(());
    }
    let mut t = crate::dora_table::table(&["file", "changes together with", "shared", "degree"]);
    for c in &r.coupling {
        t.add_row(vec![
            Cell::new(&c.a),
            Cell::new(&c.b),
            Cell::new(format!(
                "{} of {}/{}",
                c.shared, c.revisions_a, c.revisions_b
            ))
            .set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.0}%", c.degree * 100.0)).set_alignment(CellAlignment::Right),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}
