//! The at-a-glance history summary `leadline analyze` prints: span, volume, how many people are
//! active (a count, never names), where the code is busiest and how activity runs week by week.
//!
//! "Recent" is measured back from the newest commit, not from today, so an old clone still
//! yields a meaningful summary and the result does not change with the day it is run.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::model::Millis;
use crate::store::{ChurnRow, CommitFact};

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// How far back "recent" reaches from the newest commit.
pub const RECENT_DAYS: i64 = 90;
/// How many weeks of activity the summary lists.
pub const WEEKS: usize = 12;
/// How many areas the summary lists.
pub const TOP_AREAS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ActivitySummary {
    pub first_commit_at: Option<Millis>,
    pub last_commit_at: Option<Millis>,
    pub commits: u64,
    pub merges: u64,
    pub contributors: u64,
    /// Start of the recent window: `RECENT_DAYS` before the newest commit.
    pub recent_since: Option<Millis>,
    pub recent_commits: u64,
    pub active_contributors: u64,
    /// Areas with the most commits in the recent window, busiest first.
    pub busiest_areas: Vec<AreaActivity>,
    /// The last `WEEKS` weeks (Monday 00:00 UTC starts), oldest first, ending with the newest
    /// commit's week; weeks without commits are listed with zeros.
    pub weekly: Vec<WeekActivity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AreaActivity {
    /// A directory of at most two components (`src/parser`), or `(root)` for top-level files.
    pub area: String,
    pub commits: u64,
    /// Added plus deleted lines; binary changes count no lines.
    pub lines_changed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct WeekActivity {
    pub week_start: Millis,
    pub commits: u64,
    pub active_contributors: u64,
}

/// Monday 00:00 UTC of the week holding `at`.
pub fn week_start(at: Millis) -> Millis {
    let day = at.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: three days after a Monday.
    let weekday_from_monday = (day + 3).rem_euclid(7);
    (day - weekday_from_monday) * DAY_MS
}

/// The area a path belongs to: its directory, cut to at most two components.
pub fn area_of(path: &[u8]) -> String {
    let path = String::from_utf8_lossy(path);
    let mut dirs: Vec<&str> = path.split('/').collect();
    dirs.pop();
    if dirs.is_empty() {
        return "(root)".to_owned();
    }
    dirs.truncate(2);
    dirs.join("/")
}

/// Summarises a repository from all its commits and the file changes of at least the recent
/// window (older rows are ignored). An area's commit count counts a commit once however many
/// of the area's files it touches.
pub fn summarize(commits: &[CommitFact], churn: &[ChurnRow]) -> ActivitySummary {
    let first = commits.iter().map(|c| c.committed_at).min();
    let last = commits.iter().map(|c| c.committed_at).max();
    let recent_since = last.map(|l| l - RECENT_DAYS * DAY_MS);
    let is_recent = |at: Millis| recent_since.is_some_and(|s| at >= s);

    let contributors: HashSet<&str> = commits.iter().map(|c| c.author_email.as_str()).collect();
    let recent: Vec<&CommitFact> = commits
        .iter()
        .filter(|c| is_recent(c.committed_at))
        .collect();
    let active: HashSet<&str> = recent.iter().map(|c| c.author_email.as_str()).collect();

    ActivitySummary {
        first_commit_at: first,
        last_commit_at: last,
        commits: commits.len() as u64,
        merges: commits.iter().filter(|c| c.is_merge).count() as u64,
        contributors: contributors.len() as u64,
        recent_since,
        recent_commits: recent.len() as u64,
        active_contributors: active.len() as u64,
        busiest_areas: busiest_areas(churn.iter().filter(|r| is_recent(r.committed_at))),
        weekly: last.map(|l| weekly(commits, l)).unwrap_or_default(),
    }
}

fn busiest_areas<'a>(rows: impl Iterator<Item = &'a ChurnRow>) -> Vec<AreaActivity> {
    let mut commits_by_area: HashMap<String, HashSet<&str>> = HashMap::new();
    let mut lines_by_area: HashMap<String, u64> = HashMap::new();
    for row in rows {
        let area = area_of(&row.path);
        let lines = row.added.unwrap_or(0) + row.deleted.unwrap_or(0);
        *lines_by_area.entry(area.clone()).or_default() += lines;
        commits_by_area.entry(area).or_default().insert(&row.sha);
    }
    let mut areas: Vec<AreaActivity> = commits_by_area
        .into_iter()
        .map(|(area, shas)| AreaActivity {
            lines_changed: lines_by_area.get(&area).copied().unwrap_or(0),
            commits: shas.len() as u64,
            area,
        })
        .collect();
    areas.sort_by(|a, b| {
        (b.commits, b.lines_changed)
            .cmp(&(a.commits, a.lines_changed))
            .then_with(|| a.area.cmp(&b.area))
    });
    areas.truncate(TOP_AREAS);
    areas
}

fn weekly(commits: &[CommitFact], last: Millis) -> Vec<WeekActivity> {
    let last_week = week_start(last);
    let first_week = last_week - (WEEKS as i64 - 1) * WEEK_MS;
    let mut weeks: BTreeMap<Millis, (u64, HashSet<&str>)> = (0..WEEKS as i64)
        .map(|i| (first_week + i * WEEK_MS, (0, HashSet::new())))
        .collect();
    for c in commits.iter().filter(|c| c.committed_at >= first_week) {
        if let Some((n, people)) = weeks.get_mut(&week_start(c.committed_at)) {
            *n += 1;
            people.insert(&c.author_email);
        }
    }
    weeks
        .into_iter()
        .map(|(week_start, (commits, people))| WeekActivity {
            week_start,
            commits,
            active_contributors: people.len() as u64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // 2024-01-01 was a Monday.
    const MON_2024_01_01: Millis = 1_704_067_200_000;

    fn fact(sha: &str, email: &str, at: Millis, merge: bool) -> CommitFact {
        CommitFact {
            sha: sha.into(),
            author_email: email.into(),
            committed_at: at,
            is_merge: merge,
        }
    }

    fn churn(
        sha: &str,
        path: &str,
        at: Millis,
        added: Option<u64>,
        deleted: Option<u64>,
    ) -> ChurnRow {
        ChurnRow {
            sha: sha.into(),
            path: path.as_bytes().to_vec(),
            committed_at: at,
            author_email: "ann@example.com".into(),
            added,
            deleted,
            complexity: None,
        }
    }

    #[test]
    fn week_starts_on_monday_utc() {
        assert_eq!(week_start(MON_2024_01_01), MON_2024_01_01);
        // Sunday 2024-01-07 23:59:59.999 is still in that week; Monday 2024-01-08 is not.
        assert_eq!(week_start(MON_2024_01_01 + WEEK_MS - 1), MON_2024_01_01);
        assert_eq!(
            week_start(MON_2024_01_01 + WEEK_MS),
            MON_2024_01_01 + WEEK_MS
        );
        // Before the epoch: Monday 1969-12-29.
        assert_eq!(week_start(-1), -3 * DAY_MS);
    }

    #[test]
    fn areas_are_directories_of_two_components_at_most() {
        assert_eq!(area_of(b"README.md"), "(root)");
        assert_eq!(area_of(b"src/main.rs"), "src");
        assert_eq!(area_of(b"src/parser/lexer/token.rs"), "src/parser");
    }

    /// Hand-worked: three people, one of them inactive for the last 90 days; the area `src`
    /// is touched by two commits (one of them touching two files there), `docs` by one.
    #[test]
    fn worked_example() {
        let last = MON_2024_01_01 + 2 * DAY_MS; // Wednesday 2024-01-03
        let old = last - 200 * DAY_MS;
        let commits = vec![
            fact("a", "old@x", old, false),
            fact("b", "ann@x", last - 8 * DAY_MS, false), // Tuesday 2023-12-26
            fact("c", "bob@x", last - DAY_MS, true),      // Tuesday 2024-01-02
            fact("d", "ann@x", last, false),
        ];
        let rows = vec![
            churn("a", "lib/old.rs", old, Some(100), Some(0)),
            churn("b", "src/a.rs", last - 8 * DAY_MS, Some(3), Some(1)),
            churn("b", "src/b.rs", last - 8 * DAY_MS, Some(2), Some(0)),
            churn("d", "src/a.rs", last, Some(1), Some(1)),
            churn("d", "docs/logo.png", last, None, None),
        ];
        let s = summarize(&commits, &rows);
        assert_eq!(s.commits, 4);
        assert_eq!(s.merges, 1);
        assert_eq!(s.contributors, 3);
        assert_eq!(s.recent_commits, 3);
        assert_eq!(s.active_contributors, 2);
        assert_eq!(
            s.busiest_areas,
            vec![
                AreaActivity {
                    area: "src".into(),
                    commits: 2,
                    lines_changed: 8
                },
                AreaActivity {
                    area: "docs".into(),
                    commits: 1,
                    lines_changed: 0
                },
            ]
        );
        assert_eq!(s.weekly.len(), WEEKS);
        let tail: Vec<(Millis, u64, u64)> = s.weekly[WEEKS - 2..]
            .iter()
            .map(|w| (w.week_start, w.commits, w.active_contributors))
            .collect();
        assert_eq!(
            tail,
            vec![(MON_2024_01_01 - WEEK_MS, 1, 1), (MON_2024_01_01, 2, 2)]
        );
    }

    #[test]
    fn empty_history_has_no_span() {
        let s = summarize(&[], &[]);
        assert_eq!(
            (s.first_commit_at, s.last_commit_at, s.commits),
            (None, None, 0)
        );
        assert!(s.weekly.is_empty() && s.busiest_areas.is_empty());
    }

    proptest! {
        /// Weekly counts never exceed the recent total, and permuting input changes nothing.
        #[test]
        fn order_does_not_matter(times in proptest::collection::vec(0i64..400 * DAY_MS, 1..40), seed in any::<u64>()) {
            let commits: Vec<CommitFact> = times.iter().enumerate()
                .map(|(i, t)| fact(&i.to_string(), &format!("p{}@x", i % 5), *t, i % 7 == 0)).collect();
            let mut shuffled = commits.clone();
            let n = shuffled.len();
            for i in 0..n { shuffled.swap(i, (seed as usize).wrapping_add(i * 31) % n); }
            let a = summarize(&commits, &[]);
            prop_assert_eq!(&a, &summarize(&shuffled, &[]));
            let in_weeks: u64 = a.weekly.iter().map(|w| w.commits).sum();
            prop_assert!(in_weeks <= a.commits);
            prop_assert!(a.active_contributors <= a.contributors);
        }
    }
}
