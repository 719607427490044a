//! `leadline health`: per repository, over a window of history: change and churn per file and
//! area, hotspots (change × complexity at HEAD) with the complexity trend of the top ones,
//! temporal coupling, and knowledge and age per area.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;

use anyhow::{Result, bail};
use comfy_table::{Cell, CellAlignment};
use leadline_core::by_hand::HandRules;
use leadline_core::dora::Window;
use leadline_core::flow::Team;
use leadline_core::health::{self, AreaKnowledge, Coupled, FileActivity, Hotspot, Thresholds};
use leadline_core::model::{Complexity, HeadFile, Linguist, Millis, Repository};
use leadline_core::store::Store;
use serde::Serialize;

use crate::cli::{By, HealthArgs, SummaryFormat};
use crate::config::DebtConfig;
use crate::dora::{buckets, parse_instant, utc};
use crate::history::{History, head_history};

const DAY_MS: i64 = 86_400_000;

/// Defaults shared by the command line and the summaries that reuse health (analyze, debt,
/// the API).
pub(crate) const DEFAULT_TREND: usize = 5;
pub(crate) const DEFAULT_DEPTH: usize = 1;
pub(crate) const DEFAULT_LEFT_AFTER_DAYS: i64 = 90;

#[derive(Serialize)]
pub(crate) struct Report {
    pub repository: String,
    pub since: String,
    pub until: String,
    /// The most changed files at HEAD, by commits then lines changed.
    pub files: Vec<FileActivity>,
    /// The same per area (distinct commits).
    pub areas_activity: Vec<FileActivity>,
    pub hotspots: Vec<Hotspot>,
    /// Files at HEAD changed in the window but left out of hotspots because nobody maintains
    /// them by hand (lock files, change logs, vendored and generated code), most changed first.
    pub not_maintained_by_hand: Vec<String>,
    /// Why each of those was left out: the rule that decided (see docs/metrics.md, "Hotspots").
    pub left_out_by: BTreeMap<String, String>,
    /// The complexity of the top hotspots at the end of each month of the window.
    pub trends: Vec<Trend>,
    pub coupling: Vec<Coupled>,
    /// Knowledge and age per area.
    pub areas: Vec<AreaKnowledge>,
    /// How many of those areas are at knowledge risk, and their share.
    pub knowledge_risk: KnowledgeRisk,
    /// Per hotspot, the open debt items covering it (`[]`: a candidate for the register);
    /// absent without a register.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debt_items: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Serialize)]
pub(crate) struct KnowledgeRisk {
    /// Areas at HEAD every author of whose changes in the window has left.
    pub areas: usize,
    /// areas / all areas listed; `null` with none.
    pub share: Option<f64>,
}

impl KnowledgeRisk {
    fn of(areas: &[AreaKnowledge]) -> KnowledgeRisk {
        let at_risk = areas.iter().filter(|a| a.knowledge_risk).count();
        KnowledgeRisk {
            areas: at_risk,
            share: (!areas.is_empty()).then(|| at_risk as f64 / areas.len() as f64),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct Trend {
    pub path: String,
    /// `YYYY-MM`, one per month of the window.
    pub months: Vec<String>,
    /// Complexity (lines + indentation) at each month's end; `null` before it was measured.
    pub complexity: Vec<Option<u64>>,
}

/// Everything a health analysis needs besides the store: the parsed command line.
pub(crate) struct Query {
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub thresholds: Thresholds,
    pub top: usize,
    pub trend: usize,
    pub depth: usize,
    pub left_after: Millis,
    /// Configured teams: areas are shown with the team they belong to.
    pub teams: Vec<Team>,
    /// Which files can be hotspots.
    pub by_hand: Arc<HandRules>,
}

impl Query {
    /// `leadline health`'s defaults, showing `top` rows, with the configured hotspot rules.
    pub(crate) fn defaults(top: usize, debt: &DebtConfig) -> Query {
        Query {
            since: None,
            until: None,
            thresholds: Thresholds::DEFAULT,
            top,
            trend: DEFAULT_TREND,
            depth: DEFAULT_DEPTH,
            left_after: DEFAULT_LEFT_AFTER_DAYS * DAY_MS,
            teams: Vec::new(),
            by_hand: Arc::clone(&debt.by_hand),
        }
    }

    pub(crate) fn from_args(args: &HealthArgs, teams: &[Team], debt: &DebtConfig) -> Result<Query> {
        if !(0.0..=1.0).contains(&args.min_degree) {
            bail!("--min-degree {}: expected 0 to 1", args.min_degree);
        }
        Ok(Query {
            since: args
                .since
                .as_deref()
                .map(|v| parse_instant("--since", v))
                .transpose()?,
            until: args
                .until
                .as_deref()
                .map(|v| parse_instant("--until", v))
                .transpose()?,
            thresholds: Thresholds {
                min_revisions: args.min_revisions,
                min_shared: args.min_shared,
                min_degree: args.min_degree,
                max_files: args.max_files,
            },
            // 0: everything.
            top: match args.top {
                0 => usize::MAX,
                n => n,
            },
            trend: args.trend,
            depth: args.depth.max(1),
            left_after: args.left_after_days.max(0) * DAY_MS,
            teams: teams.to_vec(),
            by_hand: Arc::clone(&debt.by_hand),
        })
    }
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &HealthArgs,
    teams: &[Team],
    debt: &DebtConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query::from_args(args, teams, debt)?;
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

/// The ingested repositories named by `--repo`, or all of them; an error when there are none.
pub(crate) async fn selected(
    store: &Arc<dyn Store>,
    name: Option<&str>,
) -> Result<Vec<Repository>> {
    let repos: Vec<_> = store
        .repositories()
        .await?
        .into_iter()
        .filter(|r| name.is_none_or(|n| r.name == n))
        .collect();
    if repos.is_empty() {
        let why = match name {
            Some(name) => format!("no ingested repository is named {name:?}"),
            None => "no repository ingested yet: run `leadline ingest git PATH`".to_owned(),
        };
        return Err(crate::dora::InvalidArgs(why).into());
    }
    Ok(repos)
}

/// One repository's health over the query's window.
pub(crate) async fn report(store: &Arc<dyn Store>, repo: &Repository, q: &Query) -> Result<Report> {
    let history = head_history(store, repo).await?;
    // The newest commit on HEAD's history, merges included (a merge changes no file).
    let newest = history
        .commits
        .iter()
        .map(|(_, at)| *at)
        .chain(history.changes.iter().map(|c| c.at))
        .max();
    let until = q
        .until
        .unwrap_or_else(|| newest.map_or(0, |n| (n.div_euclid(DAY_MS) + 1) * DAY_MS));
    let since = q.since.unwrap_or(until - 365 * DAY_MS);
    if since >= until {
        return Err(crate::dora::InvalidArgs(
            "the window is empty: --since must be before --until".to_owned(),
        )
        .into());
    }
    let window = Window { since, until };
    let changes: Vec<health::FileChange<'_>> = history
        .changes
        .iter()
        .filter(|c| since <= c.at && c.at < until)
        .map(|c| (history.sha(c), history.path(c), c.added, c.deleted))
        .collect();
    // Files and areas deleted since are history, not code anyone must change now: lists are
    // of what exists at HEAD (when it was measured).
    let head = store.head_files(repo.id).await?;
    let at_head: HashSet<String> = head
        .iter()
        .map(|f| String::from_utf8_lossy(&f.path).into_owned())
        .collect();
    let areas_at_head: HashSet<String> = at_head.iter().map(|p| health::area(p, q.depth)).collect();
    let exists = |path: &str| head.is_empty() || at_head.contains(path);
    let activity = health::activity(&changes);
    let mut areas_activity = health::area_activity(&changes, q.depth);
    areas_activity.retain(|a| head.is_empty() || areas_at_head.contains(&a.path));
    areas_activity.truncate(q.top);
    let linguist: HashMap<String, Linguist> = head
        .iter()
        .filter_map(|f| Some((String::from_utf8_lossy(&f.path).into_owned(), f.linguist?)))
        .collect();
    let mut left_out_by = BTreeMap::new();
    let mut not_maintained_by_hand = Vec::new();
    let mut by_hand = Vec::with_capacity(activity.len());
    for f in &activity {
        match q.by_hand.why_not(&f.path, linguist.get(&f.path).copied()) {
            Some(why) if exists(&f.path) => {
                not_maintained_by_hand.push(f.path.clone());
                left_out_by.insert(f.path.clone(), why);
            }
            Some(_) => {}
            None => by_hand.push(f.clone()),
        }
    }
    let mut hotspots = hotspots(&history, &head, &by_hand, until);
    hotspots.truncate(q.top);
    let trends = trends(&history, &hotspots[..q.trend.min(hotspots.len())], window)?;
    let mut files = activity;
    files.retain(|f| exists(&f.path));
    files.truncate(q.top);
    let mut coupling = health::coupling(&changes, q.thresholds);
    coupling.retain(|c| exists(&c.a) && exists(&c.b));
    coupling.truncate(q.top);
    drop(changes);
    let authored: Vec<health::AuthoredChange<'_>> = history
        .changes
        .iter()
        .map(|c| (history.path(c), history.author(c), c.at))
        .collect();
    let commits: Vec<(&str, Millis)> = history
        .commits
        .iter()
        .map(|(author, at)| (author.as_str(), *at))
        .collect();
    let mut areas = health::knowledge(&authored, &commits, window, q.left_after, q.depth);
    if !head.is_empty() {
        // An area with no file left at HEAD (moved or deleted) needs nobody's knowledge.
        areas.retain(|a| areas_at_head.contains(&a.area));
    }
    if !q.teams.is_empty() {
        let paths: Vec<&str> = at_head.iter().map(String::as_str).collect();
        let mut teams = health::area_teams(&paths, &authored, window, q.depth, &q.teams);
        for a in &mut areas {
            a.team = teams.remove(&a.area);
        }
    }
    Ok(Report {
        repository: repo.name.clone(),
        since: utc(since),
        until: utc(until),
        files,
        areas_activity,
        hotspots,
        not_maintained_by_hand,
        left_out_by,
        trends,
        coupling,
        knowledge_risk: KnowledgeRisk::of(&areas),
        areas,
        debt_items: None,
    })
}

fn hotspots(
    history: &History,
    head: &[HeadFile],
    activity: &[FileActivity],
    until: Millis,
) -> Vec<Hotspot> {
    let head: HashMap<String, Complexity> = head
        .iter()
        .filter_map(|f| Some((String::from_utf8_lossy(&f.path).into_owned(), f.complexity?)))
        .collect();
    let mut last_change: HashMap<&str, Millis> = HashMap::new();
    for c in history.changes.iter().filter(|c| c.at < until) {
        let at = last_change.entry(history.path(c)).or_insert(c.at);
        *at = (*at).max(c.at);
    }
    health::hotspots(activity, &head, &last_change, until)
}

fn trends(history: &History, top: &[Hotspot], window: Window) -> Result<Vec<Trend>> {
    let months = buckets(window, By::Month, crate::dora::MAX_MONTHS)?;
    let labels: Vec<String> = months
        .iter()
        .map(|m| utc(m.since)[..7].to_owned())
        .collect();
    let mut by_path: HashMap<&str, Vec<(Millis, Option<Complexity>)>> =
        top.iter().map(|h| (h.path.as_str(), Vec::new())).collect();
    for c in &history.changes {
        if let Some(changes) = by_path.get_mut(history.path(c)) {
            changes.push((c.at, c.complexity));
        }
    }
    Ok(top
        .iter()
        .map(|h| Trend {
            path: h.path.clone(),
            months: labels.clone(),
            complexity: health::complexity_trend(&by_path[h.path.as_str()], &months),
        })
        .collect())
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
    let mut t = crate::dora_table::table(&header);
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
    let mut t = crate::dora_table::table(&[title, "commits", "lines changed"]);
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
    let mut t = crate::dora_table::table(&header);
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
    let mut t = crate::dora_table::table(&["file", "changes together with", "shared", "degree"]);
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
