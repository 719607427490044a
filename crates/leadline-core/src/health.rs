//! Code health from history (see "Code health" in `docs/metrics.md`): how often each file
//! changes, and which files change together (temporal coupling).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

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
