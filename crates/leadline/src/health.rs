//! `leadline health`: the health family's reports (computed in leadline-metrics) rendered as
//! tables or JSON, with the debt register's items per hotspot.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use comfy_table::{Cell, CellAlignment};
use leadline_core::flow::Team;
use leadline_core::health::{AreaKnowledge, Coupled, FileActivity};
use leadline_core::store::Store;

use crate::cli::{HealthArgs, SummaryFormat};
use crate::config::DebtConfig;

pub(crate) use leadline_metrics::health::{Params, Query, Report, Trend, report, selected};

const DAY_MS: i64 = leadline_metrics::window::DAY_MS;

/// The command line as a health [`Query`].
pub(crate) fn query(args: &HealthArgs, teams: &[Team], debt: &DebtConfig) -> Result<Query> {
    let params = Params {
        repo: args.repo.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
        top: Some(args.top),
        trend: Some(args.trend),
        depth: Some(args.depth),
        left_after_days: Some(args.left_after_days),
        min_revisions: Some(args.min_revisions),
        min_shared: Some(args.min_shared),
        min_degree: Some(args.min_degree),
        max_files: Some(args.max_files),
    };
    Ok(params.query(args.top, &debt.by_hand, teams)?)
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &HealthArgs,
    teams: &[Team],
    debt: &DebtConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let query = query(args, teams, debt)?;
    let repos = selected(store, args.repo.as_deref()).await?;
    let mut reports = Vec::new();
    for repo in &repos {
        let mut r = report(store, repo, &query).await?;
        r.debt_items = debt_items(&r, debt);
        reports.push(r);
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
            if args.explain {
                explain(&query, out)?;
                for r in &reports {
                    explain_left_out(r, out)?;
                }
            }
        }
    }
    Ok(())
}

/// `--explain`: each file left out of the hotspots, with the rule that left it out.
fn explain_left_out(r: &Report, out: &mut dyn Write) -> Result<()> {
    if r.not_maintained_by_hand.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "left out of {}'s hotspots (not maintained by hand; [health] include keeps a path):",
        r.repository
    )?;
    for path in &r.not_maintained_by_hand {
        let why = r.left_out_by.get(path).map_or("", String::as_str);
        writeln!(out, "  {path}  ({why})")?;
    }
    Ok(())
}

/// Which open debt items cover each hotspot, when there is a register. The report stands
/// without it: a broken debt.toml is `debt check`'s to report.
pub(crate) fn debt_items(r: &Report, debt: &DebtConfig) -> Option<BTreeMap<String, Vec<String>>> {
    match crate::debt::for_repository(&r.repository, &r.hotspots, debt) {
        Ok(listing) => listing.map(|l| crate::debt::coverage(&l, &r.hotspots)),
        Err(e) => {
            tracing::warn!("the debt register is left out: {e:#}");
            None
        }
    }
}

fn print(r: &Report, out: &mut dyn Write) -> Result<()> {
    writeln!(
        out,
        "{}: {} to {}",
        r.repository,
        &r.since[..10],
        &r.until[..10]
    )?;
    print_hotspots(r, out)?;
    print_activity("most changed file", &r.files, out)?;
    print_activity("most changed area", &r.areas_activity, out)?;
    print_areas(&r.areas, out)?;
    print_coupling(&r.coupling, out)
}

/// What `analyze` shows: hotspots with their trend, areas at knowledge risk, coupling.
pub(crate) fn print_summary(r: &Report, out: &mut dyn Write) -> Result<()> {
    print_hotspots(r, out)?;
    let risky: Vec<AreaKnowledge> = r
        .areas
        .iter()
        .filter(|a| a.knowledge_risk)
        .cloned()
        .collect();
    if risky.is_empty() {
        writeln!(out, "no area is a knowledge risk")?;
    } else {
        print_areas(&risky, out)?;
    }
    print_coupling(&r.coupling, out)
}

fn right(v: impl ToString) -> Cell {
    Cell::new(v.to_string()).set_alignment(CellAlignment::Right)
}

fn print_hotspots(r: &Report, out: &mut dyn Write) -> Result<()> {
    if r.hotspots.is_empty() {
        writeln!(out, "no hotspots: no file at HEAD changed in the window")?;
        return Ok(());
    }
    let mut header = vec![
        "hotspot",
        "commits",
        "complexity (lines + indentation)",
        "score",
        "months since a change",
    ];
    if r.debt_items.is_some() {
        header.push("debt item");
    }
    let mut t = crate::table::table(&header);
    for h in &r.hotspots {
        let mut row = vec![
            Cell::new(&h.path),
            right(h.revisions),
            right(format!(
                "{} ({} + {})",
                h.complexity, h.lines, h.indentation
            )),
            right(h.score),
            right(format!("{:.1}", h.age_months)),
        ];
        if let Some(items) = &r.debt_items {
            row.push(Cell::new(match items.get(&h.path) {
                Some(ids) if !ids.is_empty() => ids.join(", "),
                _ => "none: a candidate".to_owned(),
            }));
        }
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    for trend in &r.trends {
        writeln!(out, "{}", trend_line(trend))?;
    }
    Ok(())
}

/// `path  ▁▂▅█  120 -> 180 (+50%) over 12 months`.
fn trend_line(t: &Trend) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let values: Vec<u64> = t.complexity.iter().flatten().copied().collect();
    let (Some(first), Some(last), Some(max)) = (values.first(), values.last(), values.iter().max())
    else {
        return format!("{}: no measured complexity in the window", t.path);
    };
    let spark: String = t
        .complexity
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(v) => BARS[(*v * 7).checked_div(*max).unwrap_or(0) as usize],
        })
        .collect();
    let change = if *first == 0 {
        String::new()
    } else {
        format!(" ({:+.0}%)", (*last as f64 / *first as f64 - 1.0) * 100.0)
    };
    format!(
        "trend {}: {spark} {first} -> {last}{change} over {} months",
        t.path,
        t.months.len()
    )
}

fn print_activity(title: &str, files: &[FileActivity], out: &mut dyn Write) -> Result<()> {
    let mut t = crate::table::table(&[title, "commits", "lines changed"]);
    for f in files {
        t.add_row(vec![Cell::new(&f.path), right(f.revisions), right(f.churn)]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

fn print_areas(areas: &[AreaKnowledge], out: &mut dyn Write) -> Result<()> {
    let teams = areas.iter().any(|a| a.team.is_some());
    let mut header = vec!["area"];
    if teams {
        header.push("team");
    }
    header.extend([
        "changes",
        "active authors",
        "main author's share",
        "knowledge risk",
        "months since a change",
    ]);
    let mut t = crate::table::table(&header);
    for a in areas {
        let mut row = vec![Cell::new(&a.area)];
        if teams {
            row.push(Cell::new(a.team.as_deref().unwrap_or("")));
        }
        row.extend([
            right(a.changes),
            right(a.active_authors),
            right(
                a.main_author_share
                    .map_or_else(|| "n/a".to_owned(), |s| format!("{:.0}%", s * 100.0)),
            ),
            Cell::new(if a.knowledge_risk {
                "yes: its authors left"
            } else {
                ""
            }),
            right(format!("{:.1}", a.age_months)),
        ]);
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

fn print_coupling(coupling: &[Coupled], out: &mut dyn Write) -> Result<()> {
    if coupling.is_empty() {
        writeln!(out, "no files change together above the thresholds")?;
        return Ok(());
    }
    let mut t = crate::table::table(&["file", "changes together with", "shared", "degree"]);
    for c in coupling {
        t.add_row(vec![
            Cell::new(&c.a),
            Cell::new(&c.b),
            right(format!(
                "{} of {}/{}",
                c.shared, c.revisions_a, c.revisions_b
            )),
            right(format!("{:.0}%", c.degree * 100.0)),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

fn explain(q: &Query, out: &mut dyn Write) -> Result<()> {
    let t = q.thresholds;
    writeln!(
        out,
        "\nHow these are computed (docs/metrics.md, \"Code health\"):\n\
         - history: every non-merge commit reachable from HEAD, with its files as \
         `git log --numstat --no-renames HEAD` lists them (a rename is a deletion and an addition); \
         only files and areas that exist at HEAD are listed;\n\
         - commits: distinct commits in the window that changed the file or area; lines changed: \
         added + deleted (binary files count 0);\n\
         - complexity: at HEAD, the file's non-blank lines plus their summed indentation depth \
         (a tab or four spaces is one level); binary files have none;\n\
         - hotspot score: commits in the window x complexity; files deleted from HEAD are left out, \
         and files nobody maintains by hand: [health] include, then [health] exclude, then \
         .gitattributes linguist-generated / linguist-vendored, then the built-ins ({});\n\
         - trend: the complexity after the last change before each month's end, for the top {} hotspots;\n\
         - coupling (code-maat's rules): the two files' commits average at least {}, they share at \
         least {} commits, degree = shared / average commits at least {:.0}%; commits touching more \
         than {} files are left out, of the commit counts too;\n\
         - areas: the first {} directories of a path; an author has left after {} days without a \
         commit on HEAD's history; knowledge risk: every author of the window's changes has left;\n\
         - months since a change: from the last change ever to the window's end (months of 30.44 days).",
        leadline_core::by_hand::BUILT_IN.join(" "),
        q.trend,
        t.min_revisions,
        t.min_shared,
        t.min_degree * 100.0,
        t.max_files,
        q.depth,
        q.left_after / DAY_MS,
    )?;
    Ok(())
}
