//! `leadline health` against an independent calculation from `git log --name-only` on a
//! generated history: the same revision counts per file and the same coupled pairs.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{GitRepo, TestStore};
use serde_json::Value;

/// A deterministic history: 60 commits over 8 files, each commit touching 1-4 of them, files
/// 0-1 and 2-3 mostly together.
fn history() -> GitRepo {
    let repo = GitRepo::new();
    let mut state: u64 = 42;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for i in 0..60 {
        let mut files: BTreeSet<usize> = BTreeSet::new();
        let first = next() % 8;
        files.insert(first);
        // Partners: 0 with 1, 2 with 3, most of the time.
        if first < 4 && next() % 10 < 8 {
            files.insert(first ^ 1);
        }
        for _ in 0..next() % 2 {
            files.insert(next() % 8);
        }
        for f in &files {
            repo.write(
                format!("src/f{f}.rs").as_bytes(),
                format!("{i}\n").as_bytes(),
            );
        }
        repo.commit_all_at(1_704_067_200 + i as i64 * 3600, None, &format!("c{i}"));
    }
    repo
}

/// (revisions per file, coupled pairs with their shared count) from git itself.
fn from_git(
    repo: &GitRepo,
    min_revisions: usize,
    min_degree: f64,
) -> (BTreeMap<String, usize>, BTreeMap<(String, String), usize>) {
    let log = repo.git(&["log", "--no-renames", "--format=commit %H", "--name-only"]);
    let mut commits: Vec<BTreeSet<String>> = Vec::new();
    for line in log.lines() {
        if line.starts_with("commit ") {
            commits.push(BTreeSet::new());
        } else if !line.trim().is_empty() {
            commits.last_mut().unwrap().insert(line.trim().to_owned());
        }
    }
    let mut revisions: BTreeMap<String, usize> = BTreeMap::new();
    let mut shared: BTreeMap<(String, String), usize> = BTreeMap::new();
    for files in &commits {
        let files: Vec<&String> = files.iter().collect();
        for (i, a) in files.iter().enumerate() {
            *revisions.entry((*a).clone()).or_default() += 1;
            for b in &files[i + 1..] {
                *shared.entry(((*a).clone(), (*b).clone())).or_default() += 1;
            }
        }
    }
    let coupled = shared
        .into_iter()
        .filter(|((a, b), n)| {
            let (ra, rb) = (revisions[a], revisions[b]);
            ra >= min_revisions
                && rb >= min_revisions
                && *n as f64 / ((ra + rb) as f64 / 2.0) >= min_degree
        })
        .collect();
    (revisions, coupled)
}

#[test]
fn files_and_coupling_equal_a_calculation_from_git_log() {
    let repo = history();
    let (revisions, coupled) = from_git(&repo, 5, 0.3);
    assert!(
        coupled.len() >= 2,
        "the history should couple some files: {coupled:?}"
    );
    for store in TestStore::both() {
        store.ingest(repo.path());
        let out = store.run(
            &[
                "health",
                "--format",
                "json",
                "--since",
                "2000-01-01",
                "--until",
                "2100-01-01",
                "--min-revisions",
                "5",
                "--min-degree",
                "0.3",
                "--top",
                "1000",
            ]
            .iter()
            .map(|a| a.as_ref())
            .collect::<Vec<_>>(),
        );
        let reports: Value = serde_json::from_slice(&out).unwrap();
        let report = &reports[0];
        let files: BTreeMap<String, usize> = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_owned(),
                    f["revisions"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        assert_eq!(files, revisions, "{}", store.backend);
        let pairs: BTreeMap<(String, String), usize> = report["coupling"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    (
                        c["a"].as_str().unwrap().to_owned(),
                        c["b"].as_str().unwrap().to_owned(),
                    ),
                    c["shared"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        assert_eq!(pairs, coupled, "{}", store.backend);
        let degrees: Vec<f64> = report["coupling"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["degree"].as_f64().unwrap())
            .collect();
        assert!(
            degrees.windows(2).all(|w| w[0] >= w[1]),
            "strongest first: {degrees:?}"
        );
    }
}

/// A leaver makes an area a knowledge risk: legacy/ was only ever changed by someone whose last
/// commit is five months before the newest one; src/ is still worked on.
#[test]
fn a_leaver_makes_an_area_a_knowledge_risk() {
    let repo = GitRepo::new();
    let day = 86_400;
    let start = 1_704_067_200;
    let mut n = 0;
    let mut commit = |d: i64, who: &str, path: &str| {
        n += 1;
        repo.write(path.as_bytes(), format!("{n}\n").as_bytes());
        let author = format!("{who} <{who}@example.com>");
        repo.commit_all_at(start + d * day, Some(&author), &format!("c{n}"));
    };
    commit(0, "old", "legacy/a.rs");
    commit(10, "old", "legacy/b.rs");
    commit(20, "new", "src/main.rs");
    commit(150, "new", "src/main.rs");
    commit(170, "new", "src/lib.rs");
    for store in TestStore::both() {
        store.ingest(repo.path());
        let out = store.run(
            &["health", "--format", "json", "--left-after-days", "90"]
                .iter()
                .map(|a| a.as_ref())
                .collect::<Vec<_>>(),
        );
        let reports: Value = serde_json::from_slice(&out).unwrap();
        let areas: BTreeMap<String, (bool, u64, f64)> = reports[0]["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["area"].as_str().unwrap().to_owned(),
                    (
                        a["knowledge_risk"].as_bool().unwrap(),
                        a["active_authors"].as_u64().unwrap(),
                        a["age_days"].as_f64().unwrap(),
                    ),
                )
            })
            .collect();
        // The window ends at the midnight after day 170, 171 days after the first commit.
        assert_eq!(areas["legacy"], (true, 1, 161.0), "{}", store.backend);
        assert_eq!(areas["src"], (false, 1, 1.0), "{}", store.backend);
        // No output names a person.
        let table = String::from_utf8(store.run(&["health".as_ref()])).unwrap();
        assert!(table.contains("yes: its authors left"), "{table}");
        assert!(
            !table.contains("old@") && !table.contains("new@"),
            "{table}"
        );
    }
}
