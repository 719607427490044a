//! Code health from history (see "Code health" in `docs/metrics.md`): how often each file
//! changes, and which files change together (temporal coupling).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::model::Millis;

/// One file change: (commit, path, lines added, lines deleted); binary files have no counts.
pub type FileChange<'a> = (&'a str, &'a str, Option<u64>, Option<u64>);

#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// When two files count as coupled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Both files changed in at least this many commits.
    pub min_revisions: usize,
    /// Shared commits / the average of their revisions, at least this.
    pub min_degree: f64,
    /// Commits changing more files than this (mass renames, formatting) are left out.
    pub max_files: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_revisions: 5,
            min_degree: 0.3,
            max_files: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
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
            let degree = n as f64 / ((ra + rb) as f64 / 2.0);
            (ra >= t.min_revisions && rb >= t.min_revisions && degree >= t.min_degree).then(|| {
                Coupled {
                    a: a.to_owned(),
                    b: b.to_owned(),
                    shared: n,
                    revisions_a: ra,
                    revisions_b: rb,
                    degree,
                }
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaKnowledge {
    pub area: String,
    /// Changes to it in the window.
    pub changes: usize,
    /// Distinct authors of those changes.
    pub active_authors: usize,
    /// The share of those changes by the author with the most (no name given).
    pub main_author_share: Option<f64>,
    /// Every active author has left (no commit anywhere in the repository for `left_after`).
    pub knowledge_risk: bool,
    /// Days from its last change (ever) to the window's end.
    pub age_days: f64,
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
/// repository's history; the window chooses the active authors, and an author has left when
/// their last commit is more than `left_after` before the window's end.
pub fn knowledge(
    changes: &[AuthoredChange<'_>],
    window: crate::dora::Window,
    left_after: Millis,
    depth: usize,
) -> Vec<AreaKnowledge> {
    let mut last_seen: HashMap<&str, Millis> = HashMap::new();
    for (_, author, at) in changes {
        let seen = last_seen.entry(author).or_insert(*at);
        *seen = (*seen).max(*at);
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
                changes,
                active_authors: a.by_author.len(),
                main_author_share: top.map(|t| t as f64 / changes as f64),
                knowledge_risk: !a.by_author.is_empty() && a.by_author.keys().all(|p| gone(p)),
                age_days: (window.until - a.last) as f64 / 86_400_000.0,
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
        let window = crate::dora::Window {
            since: 40 * D,
            until: 100 * D,
        };
        let k = knowledge(&changes, window, 30 * D, 1);
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
    }

    #[test]
    fn worked_example_coupling() {
        let t = |min_revisions, min_degree, max_files| Thresholds {
            min_revisions,
            min_degree,
            max_files,
        };
        let changes = example();
        assert_eq!(
            pairs(&coupling(&changes, t(3, 0.5, 50))),
            [("a", "b", 3, 0.75), ("b", "c", 2, 0.571)]
        );
        assert_eq!(
            pairs(&coupling(&changes, t(4, 0.5, 50))),
            [("a", "b", 3, 0.75)]
        );
        // Leaving out commits of more than two files drops c3.
        assert_eq!(
            pairs(&coupling(&changes, t(2, 0.4, 2))),
            [("a", "b", 2, 0.667), ("b", "c", 1, 0.4)]
        );
        let files: Vec<(String, usize, u64)> = activity(&changes)
            .into_iter()
            .map(|f| (f.path, f.revisions, f.churn))
            .collect();
        assert_eq!(
            files,
            [("a".into(), 4, 8), ("b".into(), 4, 8), ("c".into(), 3, 6)]
        );
    }
}
