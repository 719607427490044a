//! The health family, per repository, over a window of history: change and churn per file and
//! area, hotspots (change × complexity at HEAD) with the complexity trend of the top ones,
//! temporal coupling, and knowledge and age per area. `leadline health` renders these
//! reports; `GET /api/v1/health` serves them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use leadline_core::by_hand::HandRules;
use leadline_core::dora::Window;
use leadline_core::flow::Team;
use leadline_core::health::{self, AreaKnowledge, Coupled, FileActivity, Hotspot, Thresholds};
use leadline_core::model::{Complexity, HeadFile, Linguist, Millis, Repository};
use leadline_core::store::Store;
use serde::Serialize;

use crate::error::{Result, UsageError};
use crate::history::{History, head_history};
use crate::window::{By, DAY_MS, MAX_MONTHS, buckets, midnight_after, parse_instant, utc};

/// Defaults shared by the command line and the summaries that reuse health (analyze, debt,
/// the API).
pub const DEFAULT_TREND: usize = 5;
pub const DEFAULT_DEPTH: usize = 1;
pub const DEFAULT_LEFT_AFTER_DAYS: i64 = 90;

#[derive(Serialize, schemars::JsonSchema)]
pub struct Report {
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

#[derive(Serialize, schemars::JsonSchema)]
pub struct KnowledgeRisk {
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

#[derive(Serialize, schemars::JsonSchema)]
pub struct Trend {
    pub path: String,
    /// `YYYY-MM`, one per month of the window.
    pub months: Vec<String>,
    /// Complexity (lines + indentation) at each month's end; `null` before it was measured.
    pub complexity: Vec<Option<u64>>,
}

/// What a health report is asked for, as asked (the command line's options, the API's query
/// string): every field optional, defaults filled in by [`Params::query`].
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct Params {
    /// Only this repository (by name).
    pub repo: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Rows per section; 0: everything.
    pub top: Option<usize>,
    /// Top hotspots whose complexity trend is shown.
    pub trend: Option<usize>,
    /// Directory levels that make an area.
    pub depth: Option<usize>,
    /// Days without a commit after which an author has left.
    pub left_after_days: Option<i64>,
    pub min_revisions: Option<usize>,
    pub min_shared: Option<usize>,
    /// 0 to 1.
    pub min_degree: Option<f64>,
    pub max_files: Option<usize>,
}

impl Params {
    /// The parsed query: `default_top` rows unless `top` says (0: everything), the configured
    /// hotspot rules and teams; invalid times or thresholds are usage errors.
    pub fn query(
        &self,
        default_top: usize,
        by_hand: &Arc<HandRules>,
        teams: &[Team],
    ) -> Result<Query, UsageError> {
        let d = Thresholds::DEFAULT;
        let min_degree = self.min_degree.unwrap_or(d.min_degree);
        if !(0.0..=1.0).contains(&min_degree) {
            return Err(UsageError(format!(
                "--min-degree {min_degree}: expected 0 to 1"
            )));
        }
        let instant = |flag: &str, v: &Option<String>| {
            v.as_deref().map(|v| parse_instant(flag, v)).transpose()
        };
        Ok(Query {
            since: instant("--since", &self.since)?,
            until: instant("--until", &self.until)?,
            thresholds: Thresholds {
                min_revisions: self.min_revisions.unwrap_or(d.min_revisions),
                min_shared: self.min_shared.unwrap_or(d.min_shared),
                min_degree,
                max_files: self.max_files.unwrap_or(d.max_files),
            },
            top: match self.top.unwrap_or(default_top) {
                0 => usize::MAX,
                n => n,
            },
            trend: self.trend.unwrap_or(DEFAULT_TREND),
            depth: self.depth.unwrap_or(DEFAULT_DEPTH).max(1),
            left_after: self
                .left_after_days
                .unwrap_or(DEFAULT_LEFT_AFTER_DAYS)
                .max(0)
                * DAY_MS,
            teams: teams.to_vec(),
            by_hand: Arc::clone(by_hand),
        })
    }
}

/// What a health report is asked for, parsed ([`Params::query`] builds it).
pub struct Query {
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
    pub fn defaults(top: usize, by_hand: &Arc<HandRules>) -> Query {
        Query {
            since: None,
            until: None,
            thresholds: Thresholds::DEFAULT,
            top,
            trend: DEFAULT_TREND,
            depth: DEFAULT_DEPTH,
            left_after: DEFAULT_LEFT_AFTER_DAYS * DAY_MS,
            teams: Vec::new(),
            by_hand: Arc::clone(by_hand),
        }
    }
}

/// The ingested repositories named by `--repo`, or all of them; an error when there are none.
pub async fn selected(store: &Arc<dyn Store>, name: Option<&str>) -> Result<Vec<Repository>> {
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
        return Err(UsageError(why).into());
    }
    Ok(repos)
}

/// One repository's health over the query's window.
pub async fn report(store: &Arc<dyn Store>, repo: &Repository, q: &Query) -> Result<Report> {
    let history = head_history(store, repo).await?;
    // The newest commit on HEAD's history, merges included (a merge changes no file).
    let newest = history
        .commits
        .iter()
        .map(|(_, at)| *at)
        .chain(history.changes.iter().map(|c| c.at))
        .max();
    let until = q.until.unwrap_or_else(|| newest.map_or(0, midnight_after));
    let since = q.since.unwrap_or(until - 365 * DAY_MS);
    if since >= until {
        return Err(
            UsageError("the window is empty: --since must be before --until".to_owned()).into(),
        );
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
    let months = buckets(window, By::Month, MAX_MONTHS)?;
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
