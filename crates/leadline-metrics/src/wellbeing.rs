//! The wellbeing family (`leadline wellbeing`): when each team works, deploys and is paged,
//! by the definitions of docs/metrics.md ("Wellbeing"). Team level only: a group with fewer
//! people than `[wellbeing] min_group_size` folds into `other`, and `other` under the floor is
//! left out; nothing names or ranks a person.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use leadline_core::flow::Team;
use leadline_core::model::Millis;
use leadline_core::store::{PagePosition, Store};
use leadline_core::wellbeing::{Commits, Hours, Local, at_offset, in_zone, late_night};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::window::{DAY_MS, resolve, utc};

const DEFAULT_DAYS: i64 = 90;
const PAGE: usize = 5_000;

/// `[wellbeing]` and the teams' own working hours and time zones.
#[derive(Debug, Clone)]
pub struct Settings {
    pub min_group_size: usize,
    pub hours: Hours,
    pub timezone: jiff::tz::TimeZone,
    /// Per team: its working hours and time zone, when it has its own.
    pub teams: HashMap<String, (Hours, jiff::tz::TimeZone)>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            min_group_size: 5,
            hours: Hours::default(),
            timezone: jiff::tz::TimeZone::UTC,
            teams: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    /// Only this team's group.
    pub team: Option<String>,
    /// Only this repository's commits.
    pub repo: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// A series, one report per calendar week or month.
    pub by: Option<crate::window::By>,
    /// With each group's commits and how they counted.
    pub explain: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Deployments {
    pub total: usize,
    pub out_of_hours: usize,
    pub share: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Pages {
    pub total: usize,
    pub night: usize,
    pub night_share: Option<f64>,
    /// Distinct clock hours with at least one page outside working time.
    pub disrupted_hours: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Load {
    /// The share of the group's reviews done by its busiest fifth of reviewers (flow's).
    pub reviews_top_fifth_share: Option<f64>,
    /// Pages carry no responder in leadline's data yet: always `null`.
    pub pages_top_fifth_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Group {
    pub group: String,
    /// Distinct authors of the group's commits in the window (a count, never a list).
    pub people: usize,
    pub commits: Commits,
    pub deployments: Deployments,
    pub pages: Pages,
    pub load: Load,
    /// With `--explain`: each commit (never its author) and how it counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<Explained>>,
}

/// One commit behind a group's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Explained {
    pub sha: String,
    /// The author's clock: `2024-05-03T18:00:00+02:00`.
    pub local_time: String,
    pub off_hours: bool,
    pub weekend: bool,
    pub late_night: bool,
}

/// `at` as the author's clock showed it, with the offset.
fn local_text(at: Millis, offset_minutes: i32) -> String {
    let offset =
        jiff::tz::Offset::from_seconds(offset_minutes * 60).unwrap_or(jiff::tz::Offset::UTC);
    jiff::Timestamp::from_millisecond(at)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::fixed(offset))
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub since: String,
    pub until: String,
    pub groups: Vec<Group>,
}

/// What a group holds before it is counted.
#[derive(Default)]
struct Gathered {
    people: HashSet<String>,
    commits: Vec<Local>,
    /// (sha, author time, recorded offset) of each commit, for `--explain`.
    rows: Vec<(String, Millis, i32)>,
    deployments: Vec<Millis>,
    pages: Vec<Millis>,
}

fn team_of<'t>(teams: &'t [Team], email: &str) -> Option<&'t str> {
    teams
        .iter()
        .find(|t| t.members.iter().any(|m| m.eq_ignore_ascii_case(email)))
        .map(|t| t.name.as_str())
}

fn team_of_service<'t>(teams: &'t [Team], service: &str, repo: Option<&str>) -> Option<&'t str> {
    teams
        .iter()
        .find(|t| {
            t.repositories.iter().any(|r| {
                r.eq_ignore_ascii_case(service) || repo.is_some_and(|x| r.eq_ignore_ascii_case(x))
            })
        })
        .map(|t| t.name.as_str())
}

/// What the reports are computed from: the non-merge commits (each sha once), successful
/// production deployments and pages.
pub struct Inputs {
    commits: Vec<leadline_core::store::CommitRow>,
    deployments: Vec<leadline_core::model::Deployment>,
    incidents: Vec<leadline_core::model::Incident>,
}

pub async fn gather(store: &Arc<dyn Store>, repo: Option<&str>) -> Result<Inputs> {
    let mut commits = Vec::new();
    let mut seen = HashSet::new();
    for r in store
        .repositories()
        .await?
        .iter()
        .filter(|r| repo.is_none_or(|n| r.name == n))
    {
        let mut after: Option<PagePosition> = None;
        loop {
            let page = store.commits_page(Some(r.id), after.as_ref(), PAGE).await?;
            commits.extend(
                page.rows
                    .into_iter()
                    .filter(|c| !c.is_merge() && seen.insert(c.sha.clone())),
            );
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(Inputs {
        commits,
        deployments: store
            .deployments()
            .await?
            .into_iter()
            .map(|(_, d)| d)
            .filter(|d| d.environment == "production" && d.status == "success")
            .collect(),
        incidents: store
            .incidents()
            .await?
            .into_iter()
            .map(|(_, i)| i)
            .collect(),
    })
}

/// The reports `q` asks for: one, or one per period with `by`.
pub async fn compute(
    store: &Arc<dyn Store>,
    q: &Query,
    settings: &Settings,
    teams: &[Team],
) -> Result<Vec<Report>> {
    let inputs = gather(store, q.repo.as_deref()).await?;
    let newest = inputs.commits.iter().map(|c| c.authored_at).max();
    let window = resolve(q.since.as_deref(), q.until.as_deref(), newest, |until| {
        Ok(until - DEFAULT_DAYS * DAY_MS)
    })?;
    let windows = match q.by {
        None => vec![window],
        Some(by) => crate::window::buckets(window, by, crate::window::MAX_PERIODS)?,
    };
    Ok(windows
        .into_iter()
        .map(|w| report(&inputs, q, settings, teams, w))
        .collect())
}

/// The report of one window for `teams` (none: one group, `all`).
pub fn report(
    inputs: &Inputs,
    q: &Query,
    settings: &Settings,
    teams: &[Team],
    window: leadline_core::dora::Window,
) -> Report {
    let group_name = |team: Option<&str>| -> String {
        match (teams.is_empty(), team) {
            (true, _) => "all".to_owned(),
            (false, Some(t)) => t.to_owned(),
            (false, None) => "other".to_owned(),
        }
    };
    let hours_of = |group: &str| -> (Hours, jiff::tz::TimeZone) {
        settings
            .teams
            .get(group)
            .cloned()
            .unwrap_or((settings.hours, settings.timezone.clone()))
    };
    let mut groups: BTreeMap<String, Gathered> = BTreeMap::new();
    for c in inputs
        .commits
        .iter()
        .filter(|c| window.contains(c.authored_at))
    {
        let email = c.author.email.to_lowercase();
        let g = groups
            .entry(group_name(team_of(teams, &email)))
            .or_default();
        g.people.insert(email);
        g.commits
            .push(at_offset(c.authored_at, c.author_offset_minutes));
        g.rows
            .push((c.sha.clone(), c.authored_at, c.author_offset_minutes));
    }
    for d in inputs
        .deployments
        .iter()
        .filter(|d| window.contains(d.finished_at))
    {
        let name = group_name(team_of_service(teams, &d.service, d.repo.as_deref()));
        groups
            .entry(name)
            .or_default()
            .deployments
            .push(d.finished_at);
    }
    for i in &inputs.incidents {
        let at = i.acknowledged_at.unwrap_or(i.opened_at);
        if window.contains(at) {
            let name = group_name(team_of_service(teams, &i.service, None));
            groups.entry(name).or_default().pages.push(at);
        }
    }
    // Groups under the floor fold into `other`; `other` under it is left out.
    let mut other = groups.remove("other").unwrap_or_default();
    let mut kept: Vec<(String, Gathered)> = Vec::new();
    for (name, g) in groups {
        if g.people.len() >= settings.min_group_size {
            kept.push((name, g));
        } else {
            other.people.extend(g.people);
            other.commits.extend(g.commits);
            other.rows.extend(g.rows);
            other.deployments.extend(g.deployments);
            other.pages.extend(g.pages);
        }
    }
    if other.people.len() >= settings.min_group_size {
        kept.push(("other".to_owned(), other));
    }
    let out = kept
        .into_iter()
        .filter(|(name, _)| q.team.as_deref().is_none_or(|t| t == name))
        .map(|(name, g)| {
            let (hours, tz) = hours_of(&name);
            let local = |at: Millis| in_zone(at, &tz);
            let out_of_hours = g
                .deployments
                .iter()
                .filter(|d| !hours.working(local(**d)))
                .count();
            let night = g.pages.iter().filter(|p| late_night(local(**p))).count();
            let disrupted: HashSet<Millis> = g
                .pages
                .iter()
                .filter(|p| !hours.working(local(**p)))
                .map(|p| p.div_euclid(3_600_000))
                .collect();
            let share = |n: usize, of: usize| (of > 0).then(|| n as f64 / of as f64);
            Group {
                people: g.people.len(),
                commits: Commits::of(&g.commits, &hours),
                deployments: Deployments {
                    total: g.deployments.len(),
                    out_of_hours,
                    share: share(out_of_hours, g.deployments.len()),
                },
                pages: Pages {
                    total: g.pages.len(),
                    night,
                    night_share: share(night, g.pages.len()),
                    disrupted_hours: disrupted.len(),
                },
                // Filled by the caller from flow (reviews are read through the seam).
                load: Load::default(),
                explain: q.explain.then(|| {
                    g.rows
                        .iter()
                        .map(|(sha, at, offset)| {
                            let l = at_offset(*at, *offset);
                            Explained {
                                sha: sha.clone(),
                                local_time: local_text(*at, *offset),
                                off_hours: !hours.working(l),
                                weekend: leadline_core::wellbeing::weekend(l),
                                late_night: late_night(l),
                            }
                        })
                        .collect()
                }),
                group: name,
            }
        })
        .collect();
    Report {
        since: utc(window.since),
        until: utc(window.until),
        groups: out,
    }
}
