//! Code health from history (see "Code health" in `docs/metrics.md`): how often each file
//! changes, where change meets complexity (hotspots), which files change together (temporal
//! coupling), and who still knows each area.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::dora::Window;
use crate::model::{Complexity, Millis};

const MONTH_MS: f64 = 365.25 / 12.0 * 86_400_000.0;

/// One file change: (commit, path, lines added, lines deleted); binary files have no counts.
pub type FileChange<'a> = (&'a str, &'a str, Option<u64>, Option<u64>);

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FileActivity {
    pub path: String,
    /// Commits that changed it.
    pub revisions: usize,
    /// Lines added plus deleted.
    pub churn: u64,
}

/// Files by how often they changed (then churn, then path).
pub fn activity(changes: &[FileChange<'_>]) -> Vec<FileActivity> {
    let mut by_path: HashMap<&str, (usize, u64)> = HashMap::new();
    for (_, path, added, deleted) in changes {
        let entry = by_path.entry(path).or_default();
        entry.0 += 1;
        entry.1 += added.unwrap_or(0) + deleted.unwrap_or(0);
    }
    let mut out: Vec<FileActivity> = by_path
        .into_iter()
        .map(|(path, (revisions, churn))| FileActivity {
            path: path.to_owned(),
            revisions,
            churn,
        })
        .collect();
    out.sort_by(|a, b| {
        (b.revisions, b.churn)
            .cmp(&(a.revisions, a.churn))
            .then_with(|| a.path.cmp(&b.path))
    });
    out
}

/// The commits reachable from `tip` (itself included), as `git log tip` walks them; `parents`
/// is every known commit with its parents.
pub fn history_of<'a>(
    tip: &'a str,
    parents: &'a [(String, Vec<String>)],
) -> std::collections::HashSet<&'a str> {
    let by_sha: HashMap<&str, &[String]> = parents
        .iter()
        .map(|(sha, p)| (sha.as_str(), p.as_slice()))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![tip];
    while let Some(sha) = stack.pop() {
        if seen.insert(sha) {
            stack.extend(
                by_sha
                    .get(sha)
                    .into_iter()
                    .flat_map(|p| p.iter().map(String::as_str)),
            );
        }
    }
    seen
}

/// Change frequency and churn per area (see [`area`]): revisions are distinct commits that
/// changed anything in it.
pub fn area_activity(changes: &[FileChange<'_>], depth: usize) -> Vec<FileActivity> {
    let mut by_area: HashMap<String, (std::collections::HashSet<&str>, u64)> = HashMap::new();
    for (sha, path, added, deleted) in changes {
        let entry = by_area.entry(area(path, depth)).or_default();
        entry.0.insert(sha);
        entry.1 += added.unwrap_or(0) + deleted.unwrap_or(0);
    }
    let mut out: Vec<FileActivity> = by_area
        .into_iter()
        .map(|(path, (commits, churn))| FileActivity {
            path,
            revisions: commits.len(),
            churn,
        })
        .collect();
    sort_activity(&mut out);
    out
}

fn sort_activity(files: &mut [FileActivity]) {
    files.sort_by(|a, b| {
        (b.revisions, b.churn)
            .cmp(&(a.revisions, a.churn))
            .then_with(|| a.path.cmp(&b.path))
    });
}

/// A file at HEAD where change and complexity meet.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Hotspot {
    pub path: String,
    /// Commits that changed it in the window.
    pub revisions: usize,
    /// Lines added plus deleted in the window.
    pub churn: u64,
    /// Its complexity at HEAD.
    pub lines: u32,
    pub indentation: u32,
    /// lines + indentation.
    pub complexity: u64,
    /// revisions × complexity: the ranking.
    pub score: u64,
    /// Months from its last change (ever) to the window's end: code age.
    pub age_months: f64,
}

/// Files at HEAD ranked by revisions in the window × complexity at HEAD. Files changed in the
/// window but gone from HEAD, and binary files, are not hotspots. `activity` holds the files
/// people maintain by hand (see [`crate::by_hand`]); `head` is each file at HEAD with its
/// complexity; `last_change` is each path's newest change before the window's end.
pub fn hotspots(
    activity: &[FileActivity],
    head: &HashMap<String, Complexity>,
    last_change: &HashMap<&str, Millis>,
    until: Millis,
) -> Vec<Hotspot> {
    let mut out: Vec<Hotspot> = activity
        .iter()
        .filter_map(|f| {
            let c = head.get(&f.path)?;
            let at = last_change.get(f.path.as_str()).copied().unwrap_or(until);
            Some(Hotspot {
                path: f.path.clone(),
                revisions: f.revisions,
                churn: f.churn,
                lines: c.lines,
                indentation: c.indentation,
                complexity: c.score(),
                score: f.revisions as u64 * c.score(),
                age_months: months(until - at),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (b.score, b.revisions)
            .cmp(&(a.score, a.revisions))
            .then_with(|| a.path.cmp(&b.path))
    });
    out
}

/// A duration in months of 365.25 / 12 days.
pub fn months(ms: Millis) -> f64 {
    ms as f64 / MONTH_MS
}

/// The complexity of one file at the end of each bucket: after its last change before that
/// end, `None` before its first measured change. `changes` are (time, complexity after) of
/// that file's changes in any order; changes with no complexity (deleted, binary, or mined by
/// an older leadline) are skipped, so a bucket keeps the last measured value.
pub fn complexity_trend(
    changes: &[(Millis, Option<Complexity>)],
    buckets: &[Window],
) -> Vec<Option<u64>> {
    let mut measured: Vec<(Millis, u64)> = changes
        .iter()
        .filter_map(|(at, c)| Some((*at, c.as_ref()?.score())))
        .collect();
    measured.sort_unstable();
    buckets
        .iter()
        .map(|b| {
            let before = measured.partition_point(|(at, _)| *at < b.until);
            before.checked_sub(1).map(|i| measured[i].1)
        })
        .collect()
}

/// When two files count as coupled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// The average of the two files' revisions is at least this (code-maat's `min-revs`).
    pub min_revisions: usize,
    /// They changed together in at least this many commits (code-maat's `min-shared-revs`).
    pub min_shared: usize,
    /// Shared commits / the average of their revisions, at least this.
    pub min_degree: f64,
    /// Commits changing more files than this (mass renames, formatting) are left out, of the
    /// revisions too (code-maat's `max-changeset-size`).
    pub max_files: usize,
}

impl Thresholds {
    /// What `leadline health` uses unless told otherwise.
    pub const DEFAULT: Thresholds = Thresholds {
        min_revisions: 5,
        min_shared: 5,
        min_degree: 0.3,
        max_files: 30,
    };
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::DEFAULT
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Coupled {
    pub a: String,
    pub b: String,
    /// Commits changing both.
    pub shared: usize,
    pub revisions_a: usize,
    pub revisions_b: usize,
    /// shared / ((revisions_a + revisions_b) / 2).
    pub degree: f64,
}

/// Pairs of files that change together, strongest first.
pub fn coupling(changes: &[FileChange<'_>], t: Thresholds) -> Vec<Coupled> {
    let mut commits: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (sha, path, _, _) in changes {
        commits.entry(sha).or_default().push(path);
    }
    let mut revisions: HashMap<&str, usize> = HashMap::new();
    let mut shared: HashMap<(&str, &str), usize> = HashMap::new();
    for paths in commits.values_mut() {
        paths.sort_unstable();
        paths.dedup();
        if paths.len() > t.max_files {
            continue;
        }
        for (i, a) in paths.iter().enumerate() {
            *revisions.entry(a).or_default() += 1;
            for b in &paths[i + 1..] {
                *shared.entry((a, b)).or_default() += 1;
            }
        }
    }
    let mut out: Vec<Coupled> = shared
        .into_iter()
        .filter_map(|((a, b), n)| {
            let (ra, rb) = (revisions[a], revisions[b]);
            let average = (ra + rb) as f64 / 2.0;
            let degree = n as f64 / average;
            let qualifies =
                average >= t.min_revisions as f64 && n >= t.min_shared && degree >= t.min_degree;
            qualifies.then(|| Coupled {
                a: a.to_owned(),
                b: b.to_owned(),
                shared: n,
                revisions_a: ra,
                revisions_b: rb,
                degree,
            })
        })
        .collect();
    out.sort_by(|x, y| {
        y.degree
            .total_cmp(&x.degree)
            .then_with(|| y.shared.cmp(&x.shared))
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    out
}

/// One file change with its author and time, for knowledge and age.
pub type AuthoredChange<'a> = (&'a str, &'a str, Millis);

/// What an area (a directory) depends on: how many people know it, how much one of them holds,
/// whether those who know it are still around, how long it has been left alone. Never names.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AreaKnowledge {
    pub area: String,
    /// The team it belongs to (see [`area_teams`]), when teams are configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Changes to it in the window.
    pub changes: usize,
    /// Distinct authors of those changes.
    pub active_authors: usize,
    /// The share of those changes by the author with the most (no name given).
    pub main_author_share: Option<f64>,
    /// Every active author has left (no change among those given for `left_after`).
    pub knowledge_risk: bool,
    /// Days from its last change (ever) to the window's end.
    pub age_days: f64,
    /// The same in months: code age.
    pub age_months: f64,
}

/// The team each area belongs to: the team whose `paths` cover most of the area's files at
/// HEAD; else the team whose members made most of its changes in the window; ties go to the
/// first name. Areas no team touches are left out. Teams, never people, own areas.
pub fn area_teams(
    head_paths: &[&str],
    changes: &[AuthoredChange<'_>],
    window: Window,
    depth: usize,
    teams: &[crate::flow::Team],
) -> BTreeMap<String, String> {
    let patterns: Vec<Vec<regex::Regex>> = teams
        .iter()
        .map(|t| {
            t.paths
                .iter()
                .filter_map(|p| crate::codeowners::pattern_regex(p))
                .collect()
        })
        .collect();
    let mut by_paths: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
    for path in head_paths {
        for (t, team) in teams.iter().enumerate() {
            if patterns[t].iter().any(|re| re.is_match(path)) {
                *by_paths
                    .entry(area(path, depth))
                    .or_default()
                    .entry(&team.name)
                    .or_default() += 1;
            }
        }
    }
    let mut by_members: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
    for (path, author, at) in changes {
        if !(window.since <= *at && *at < window.until) {
            continue;
        }
        let author = author.to_lowercase();
        if let Some(team) = teams
            .iter()
            .find(|t| t.members.iter().any(|m| m.to_lowercase() == author))
        {
            *by_members
                .entry(area(path, depth))
                .or_default()
                .entry(&team.name)
                .or_default() += 1;
        }
    }
    let most = |counts: &BTreeMap<&str, usize>| {
        let top = counts.values().max()?;
        counts
            .iter()
            .find(|(_, n)| *n == top)
            .map(|(t, _)| (*t).to_owned())
    };
    let mut out: BTreeMap<String, String> = by_members
        .iter()
        .filter_map(|(a, c)| Some((a.clone(), most(c)?)))
        .collect();
    out.extend(
        by_paths
            .iter()
            .filter_map(|(a, c)| Some((a.clone(), most(c)?))),
    );
    out
}

/// The area of a path: its first `depth` directories (`.` for files at the root).
pub fn area(path: &str, depth: usize) -> String {
    let dirs: Vec<&str> = path.split('/').collect();
    if dirs.len() <= 1 {
        return ".".to_owned();
    }
    dirs[..(dirs.len() - 1).min(depth)].join("/")
}

/// Knowledge and age per area. `changes` is (path, author, time) of every file change in the
/// repository's history and `commits` (author, time) of every commit on it, merges included;
/// the window chooses the active authors, and an author has left when their last commit of
/// either kind is more than `left_after` before the window's end.
pub fn knowledge(
    changes: &[AuthoredChange<'_>],
    commits: &[(&str, Millis)],
    window: Window,
    left_after: Millis,
    depth: usize,
) -> Vec<AreaKnowledge> {
    // An author is present while they commit anything on HEAD's history, merges included: a
    // maintainer who mostly merges has not left.
    let mut last_seen: HashMap<&str, Millis> = HashMap::new();
    let seen_at = changes.iter().map(|(_, author, at)| (*author, *at));
    for (author, at) in seen_at.chain(commits.iter().copied()) {
        // As of the window's end: what they commit later does not say they were there then.
        if at >= window.until {
            continue;
        }
        let seen = last_seen.entry(author).or_insert(at);
        *seen = (*seen).max(at);
    }
    let gone = |author: &str| {
        last_seen
            .get(author)
            .is_none_or(|at| *at < window.until - left_after)
    };
    struct Area<'a> {
        last: Millis,
        by_author: HashMap<&'a str, usize>,
    }
    let mut areas: BTreeMap<String, Area<'_>> = BTreeMap::new();
    for (path, author, at) in changes {
        if *at >= window.until {
            continue;
        }
        let a = areas.entry(area(path, depth)).or_insert(Area {
            last: *at,
            by_author: HashMap::new(),
        });
        a.last = a.last.max(*at);
        if window.since <= *at {
            *a.by_author.entry(author).or_default() += 1;
        }
    }
    areas
        .into_iter()
        .map(|(name, a)| {
            let changes: usize = a.by_author.values().sum();
            let top = a.by_author.values().copied().max();
            AreaKnowledge {
                area: name,
                team: None,
                changes,
                active_authors: a.by_author.len(),
                main_author_share: top.map(|t| t as f64 / changes as f64),
                knowledge_risk: !a.by_author.is_empty() && a.by_author.keys().all(|p| gone(p)),
                age_days: (window.until - a.last) as f64 / 86_400_000.0,
                age_months: months(window.until - a.last),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/metrics.md, "Temporal coupling": six commits over files a, b, c.
    fn example() -> Vec<FileChange<'static>> {
        [
            ("c1", "a"),
            ("c1", "b"),
            ("c2", "a"),
            ("c2", "b"),
            ("c3", "a"),
            ("c3", "b"),
            ("c3", "c"),
            ("c4", "a"),
            ("c5", "c"),
            ("c6", "b"),
            ("c6", "c"),
        ]
        .into_iter()
        .map(|(sha, path)| (sha, path, Some(1), Some(1)))
        .collect()
    }

    fn pairs(c: &[Coupled]) -> Vec<(&str, &str, usize, f64)> {
        c.iter()
            .map(|p| {
                (
                    p.a.as_str(),
                    p.b.as_str(),
                    p.shared,
                    (p.degree * 1000.0).round() / 1000.0,
                )
            })
            .collect()
    }

    /// area, changes, active authors, main author's share, knowledge risk, age in days
    type AreaRow<'a> = (&'a str, usize, usize, Option<f64>, bool, f64);

    /// docs/metrics.md, "Knowledge and age": days 0-100, window [day 40, day 100), authors have
    /// left after 30 days without a commit.
    #[test]
    fn worked_example_knowledge() {
        const D: i64 = 86_400_000;
        let changes: Vec<AuthoredChange<'_>> = vec![
            // api/: ann (3) and bob (1) in the window; ann is still active.
            ("api/a.rs", "ann", 50 * D),
            ("api/a.rs", "ann", 60 * D),
            ("api/b.rs", "ann", 95 * D),
            ("api/b.rs", "bob", 45 * D),
            // billing/: only cat in the window, and cat's last commit is day 55: left.
            ("billing/x.rs", "cat", 55 * D),
            ("billing/x.rs", "cat", 50 * D),
            ("billing/y.rs", "dan", 10 * D),
            // docs/: nothing since day 20.
            ("docs/intro.md", "ann", 20 * D),
            ("README.md", "bob", 45 * D),
        ];
        let window = Window {
            since: 40 * D,
            until: 100 * D,
        };
        let k = knowledge(&changes, &[], window, 30 * D, 1);
        let rows: Vec<AreaRow<'_>> = k
            .iter()
            .map(|a| {
                (
                    a.area.as_str(),
                    a.changes,
                    a.active_authors,
                    a.main_author_share,
                    a.knowledge_risk,
                    a.age_days,
                )
            })
            .collect();
        assert!((k[2].age_months - 45.0 / (365.25 / 12.0)).abs() < 1e-9);
        assert_eq!(
            rows,
            [
                (".", 1, 1, Some(1.0), true, 55.0),
                ("api", 4, 2, Some(0.75), false, 5.0),
                ("billing", 2, 1, Some(1.0), true, 45.0),
                ("docs", 0, 0, None, false, 80.0),
            ]
        );
        assert_eq!(area("src/a/b.rs", 2), "src/a");
        assert_eq!(area("src/b.rs", 2), "src");
        // cat merged a pull request on day 90 (a merge changes no file): cat has not left, and
        // billing is no knowledge risk.
        let k = knowledge(&changes, &[("cat", 90 * D)], window, 30 * D, 1);
        let billing = k.iter().find(|a| a.area == "billing").unwrap();
        assert!(!billing.knowledge_risk);
    }

    /// docs/metrics.md, "Knowledge and age": areas belong to teams by paths, else by members.
    #[test]
    fn worked_example_area_teams() {
        let team = |name: &str, members: &[&str], paths: &[&str]| crate::flow::Team {
            name: name.into(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            repositories: Vec::new(),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        };
        let teams = [
            team("payments", &["ann@example.com"], &["billing/"]),
            team("platform", &["bob@example.com", "cat@example.com"], &[]),
        ];
        let head = ["billing/x.rs", "billing/y.rs", "api/a.rs", "docs/intro.md"];
        let changes: Vec<AuthoredChange<'_>> = vec![
            // billing/ is payments' by path, although platform changed it most.
            ("billing/x.rs", "bob@example.com", 50),
            ("billing/x.rs", "cat@example.com", 51),
            // api/ has no team path: platform's members made two of its three changes.
            ("api/a.rs", "Ann@Example.com", 52),
            ("api/a.rs", "bob@example.com", 53),
            ("api/a.rs", "cat@example.com", 54),
            // docs/ changed only before the window.
            ("docs/intro.md", "ann@example.com", 10),
        ];
        let window = Window {
            since: 40,
            until: 100,
        };
        let owners = area_teams(&head, &changes, window, 1, &teams);
        let owners: Vec<(&str, &str)> = owners
            .iter()
            .map(|(a, t)| (a.as_str(), t.as_str()))
            .collect();
        assert_eq!(owners, [("api", "platform"), ("billing", "payments")]);
    }

    #[test]
    fn history_of_walks_parents_only() {
        let g: Vec<(String, Vec<String>)> = [
            ("a", vec![]),
            ("b", vec!["a"]),
            ("side", vec!["a"]),
            ("m", vec!["b", "side"]),
            ("later", vec!["m"]),
        ]
        .into_iter()
        .map(|(s, p)| (s.to_owned(), p.into_iter().map(str::to_owned).collect()))
        .collect();
        let mut h: Vec<&str> = history_of("m", &g).into_iter().collect();
        h.sort_unstable();
        assert_eq!(h, ["a", "b", "m", "side"]);
        assert_eq!(history_of("b", &g).len(), 2);
    }

    /// docs/metrics.md, "Hotspots": revisions in the window × complexity at HEAD.
    #[test]
    fn worked_example_hotspots() {
        const D: i64 = 86_400_000;
        let c = |lines, indentation| Complexity { lines, indentation };
        let changes: Vec<FileChange<'_>> = [
            ("c1", "a.rs"),
            ("c2", "a.rs"),
            ("c3", "a.rs"),
            ("c4", "a.rs"),
            ("c1", "b.rs"),
            ("c5", "b.rs"),
            ("c1", "gone.rs"),
            ("c2", "gone.rs"),
            ("c3", "gone.rs"),
            ("c4", "gone.rs"),
            ("c5", "gone.rs"),
            ("c2", "logo.png"),
        ]
        .into_iter()
        .map(|(sha, path)| (sha, path, Some(1), Some(0)))
        .collect();
        let head: HashMap<String, Complexity> = [
            ("a.rs", c(10, 5)),
            ("b.rs", c(40, 20)),
            ("quiet.rs", c(500, 300)),
        ]
        .into_iter()
        .map(|(p, c)| (p.to_owned(), c))
        .collect();
        let last: HashMap<&str, Millis> = [("a.rs", 90 * D), ("b.rs", 70 * D)].into();
        let h = hotspots(&activity(&changes), &head, &last, 100 * D);
        let rows: Vec<(&str, usize, u64, u64)> = h
            .iter()
            .map(|h| (h.path.as_str(), h.revisions, h.complexity, h.score))
            .collect();
        assert_eq!(rows, [("b.rs", 2, 60, 120), ("a.rs", 4, 15, 60)]);
        assert!((h[1].age_months - 10.0 / 30.4375).abs() < 1e-9);
    }

    /// docs/metrics.md, "Complexity trend": the value after the last measured change before
    /// each bucket's end.
    #[test]
    fn worked_example_trend() {
        let c = |lines| {
            Some(Complexity {
                lines,
                indentation: 0,
            })
        };
        let buckets: Vec<Window> = (0..4)
            .map(|i| Window {
                since: i * 10,
                until: i * 10 + 10,
            })
            .collect();
        let changes = [
            (25, c(12)),
            (5, c(10)),
            (12, None),
            (15, c(14)),
            (40, c(99)),
        ];
        assert_eq!(
            complexity_trend(&changes, &buckets),
            [Some(10), Some(14), Some(12), Some(12)]
        );
        assert_eq!(complexity_trend(&changes[1..2], &buckets[..1]), [Some(10)]);
        assert_eq!(
            complexity_trend(&[(15, c(3))], &buckets),
            [None, Some(3), Some(3), Some(3)]
        );
    }

    #[test]
    fn worked_example_coupling() {
        let t = |min_revisions, min_degree, max_files| Thresholds {
            min_revisions,
            min_shared: 1,
            min_degree,
            max_files,
        };
        let changes = example();
        assert_eq!(
            pairs(&coupling(&changes, t(3, 0.5, 50))),
            [("a", "b", 3, 0.75), ("b", "c", 2, 0.571)]
        );
        // b and c average 3.5 revisions, under 4.
        assert_eq!(
            pairs(&coupling(&changes, t(4, 0.5, 50))),
            [("a", "b", 3, 0.75)]
        );
        // Leaving out commits of more than two files drops c3.
        assert_eq!(
            pairs(&coupling(&changes, t(2, 0.4, 2))),
            [("a", "b", 2, 0.667), ("b", "c", 1, 0.4)]
        );
        // At least three shared commits: b and c share two.
        let shared = Thresholds {
            min_shared: 3,
            ..t(3, 0.5, 50)
        };
        assert_eq!(pairs(&coupling(&changes, shared)), [("a", "b", 3, 0.75)]);
        let files: Vec<(String, usize, u64)> = activity(&changes)
            .into_iter()
            .map(|f| (f.path, f.revisions, f.churn))
            .collect();
        assert_eq!(
            files,
            [("a".into(), 4, 8), ("b".into(), 4, 8), ("c".into(), 3, 6)]
        );
        // At the root, every file is in area `.`: six commits, 22 lines.
        let areas: Vec<(String, usize, u64)> = area_activity(&changes, 1)
            .into_iter()
            .map(|f| (f.path, f.revisions, f.churn))
            .collect();
        assert_eq!(areas, [(".".into(), 6, 22)]);
    }
}
