//! `leadline health` against an independent calculation from `git log --name-only` on a
//! generated history: the same revision counts per file, the same coupled pairs, and the same
//! hotspots, whose complexity the test knows from how it wrote each file.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{GitRepo, TestStore};
use serde_json::Value;

/// The content written to a file in commit `i`, and its complexity (non-blank lines plus their
/// indentation levels) by construction: line j is indented j % 3 levels of four spaces.
fn content(i: usize) -> (String, u64) {
    let n = i % 7 + 1;
    let text = (0..n)
        .map(|j| format!("{}x{i}\n\n", "    ".repeat(j % 3)))
        .collect();
    (text, (0..n).map(|j| 1 + (j % 3) as u64).sum())
}

/// A deterministic history: 60 commits over 8 files, each commit touching 1-4 of them, files
/// 0-1 and 2-3 mostly together; a binary file changed often; a file deleted; and a side branch
/// that HEAD does not reach. Returns the complexity of each text file at HEAD.
fn history() -> (GitRepo, BTreeMap<String, u64>) {
    let repo = GitRepo::new();
    let mut at_head = BTreeMap::new();
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
        let (text, complexity) = content(i);
        for f in &files {
            let path = format!("src/f{f}.rs");
            repo.write(path.as_bytes(), text.as_bytes());
            at_head.insert(path, complexity);
        }
        if i % 3 == 0 {
            repo.write(b"assets/logo.bin", format!("\0{i}").as_bytes());
        }
        if i < 40 && i % 4 == 0 {
            // Coupled with f7 until it is deleted: a pair that must not be listed.
            repo.write(b"src/old.rs", text.as_bytes());
            repo.write(b"src/f7.rs", text.as_bytes());
            at_head.insert("src/f7.rs".to_owned(), complexity);
        }
        if i == 40 {
            repo.remove("src/old.rs");
        }
        repo.commit_all_at(1_704_067_200 + i as i64 * 3600, None, &format!("c{i}"));
    }
    repo.git(&["checkout", "-q", "-b", "side"]);
    for i in 0..6 {
        repo.write(b"src/f0.rs", content(100 + i).0.as_bytes());
        repo.commit_all_at(1_704_067_200 + (70 + i) as i64 * 3600, None, "side");
    }
    repo.git(&["checkout", "-q", "-"]);
    (repo, at_head)
}

/// (revisions per file, coupled pairs with their shared count) from git itself, for the files
/// at HEAD (files deleted since are left out of both lists; their commits still count).
fn from_git(
    repo: &GitRepo,
    min_revisions: usize,
    min_shared: usize,
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
    let at_head: BTreeSet<String> = repo
        .git(&["ls-tree", "-r", "--name-only", "HEAD"])
        .lines()
        .map(str::to_owned)
        .collect();
    // code-maat's rules: the average of the two revision counts, shared commits, degree.
    let strong = |(a, b): &(String, String), n: usize| {
        let average = (revisions[a] + revisions[b]) as f64 / 2.0;
        average >= min_revisions as f64 && n >= min_shared && n as f64 / average >= min_degree
    };
    assert!(
        shared
            .iter()
            .any(|(pair, n)| pair.1 == "src/old.rs" && strong(pair, *n)),
        "the deleted file is coupled with one still there"
    );
    let coupled = shared
        .iter()
        .filter(|(pair, n)| {
            at_head.contains(&pair.0) && at_head.contains(&pair.1) && strong(pair, **n)
        })
        .map(|(pair, n)| (pair.clone(), *n))
        .collect();
    assert!(
        revisions.contains_key("src/old.rs"),
        "a deleted file was changed"
    );
    revisions.retain(|path, _| at_head.contains(path));
    (revisions, coupled)
}

#[test]
fn files_and_coupling_equal_a_calculation_from_git_log() {
    let (repo, at_head) = history();
    let (revisions, coupled) = from_git(&repo, 5, 2, 0.3);
    // Hotspots: files at HEAD with text, commits x complexity.
    let mut hotspots: Vec<(String, u64, u64)> = revisions
        .iter()
        .filter_map(|(path, n)| {
            let c = at_head.get(path)?;
            Some((path.clone(), *n as u64, *n as u64 * c))
        })
        .collect();
    hotspots.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    assert!(revisions.contains_key("assets/logo.bin") && !revisions.contains_key("src/old.rs"));
    assert!(
        coupled.len() >= 2,
        "the history should couple some files: {coupled:?}"
    );
    for store in TestStore::both() {
        store.ingest(repo.path());
        let reports = health_json(
            &store,
            &[
                "--since",
                "2000-01-01",
                "--until",
                "2100-01-01",
                "--min-revisions",
                "5",
                "--min-shared",
                "2",
                "--min-degree",
                "0.3",
                "--top",
                "0",
            ],
        );
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
        let found: Vec<(String, u64, u64)> = report["hotspots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["path"].as_str().unwrap().to_owned(),
                    h["revisions"].as_u64().unwrap(),
                    h["score"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(found, hotspots, "{}", store.backend);
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
        let reports = health_json(&store, &["--left-after-days", "90"]);
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
        // --explain states the definitions with the thresholds in force.
        let explained = String::from_utf8(
            store.run(
                &[
                    "health",
                    "--explain",
                    "--min-revisions",
                    "7",
                    "--left-after-days",
                    "30",
                ]
                .iter()
                .map(|a| a.as_ref())
                .collect::<Vec<_>>(),
            ),
        )
        .unwrap();
        for expected in [
            "commits average at least 7",
            "after 30 days without a commit",
            "reachable from HEAD",
        ] {
            assert!(explained.contains(expected), "{expected:?} in {explained}");
        }
        // With teams, each area shows the team it belongs to: legacy/ by path, src/ by members.
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("leadline.toml");
        std::fs::write(
            &config,
            "[[teams]]\nname = \"ledger\"\npaths = [\"legacy/\"]\n\n[[teams]]\nname = \"core\"\nmembers = [\"new@example.com\"]\n",
        )
        .unwrap();
        let out = store.run(&[
            "--config".as_ref(),
            config.as_os_str(),
            "health".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
        ]);
        let reports: Value = serde_json::from_slice(&out).unwrap();
        let teams: BTreeMap<String, String> = reports[0]["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["area"].as_str().unwrap().to_owned(),
                    a["team"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert_eq!(teams["legacy"], "ledger", "{}", store.backend);
        assert_eq!(teams["src"], "core", "{}", store.backend);
    }
}

/// `leadline health --format json ARGS` on `store`.
fn health_json(store: &TestStore, args: &[&str]) -> Value {
    let mut all = vec!["health", "--format", "json"];
    all.extend(args);
    serde_json::from_slice(&store.run(&all.iter().map(|a| a.as_ref()).collect::<Vec<_>>())).unwrap()
}

/// The hotspots of one file, as (path, revisions, complexity).
fn hotspot_rows(store: &TestStore) -> Vec<(String, u64, u64)> {
    let reports = health_json(store, &["--since", "2000-01-01"]);
    reports[0]["hotspots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["path"].as_str().unwrap().to_owned(),
                h["revisions"].as_u64().unwrap(),
                h["complexity"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A re-ingest measures the new HEAD; a store whose HEAD was never measured (written before
/// hotspots existed) is measured by the next ingest even when no ref moved.
#[test]
fn hotspots_follow_head_across_ingests() {
    let repo = GitRepo::new();
    let (first, c1) = content(3);
    repo.write(b"src/a.rs", first.as_bytes());
    repo.commit_all_at(1_704_067_200, None, "one");
    for store in TestStore::both() {
        store.ingest(repo.path());
        assert_eq!(hotspot_rows(&store), [("src/a.rs".into(), 1, c1)]);
    }
    let (second, c2) = content(5);
    assert_ne!(c1, c2);
    repo.write(b"src/a.rs", second.as_bytes());
    repo.commit_all_at(1_704_070_800, None, "two");
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    assert_eq!(hotspot_rows(&store), [("src/a.rs".into(), 2, c2)]);

    // As if written before the snapshot existed: the next (no-op) ingest measures HEAD.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", store.db))
            .await
            .unwrap();
        sqlx::query("DELETE FROM head_files")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    assert!(hotspot_rows(&store).is_empty());
    store.ingest(repo.path());
    assert_eq!(hotspot_rows(&store), [("src/a.rs".into(), 2, c2)]);
}

/// Lock files and change logs change in most commits and are long, but nobody simplifies them:
/// they are no hotspots, and the report says they were left out.
#[test]
fn files_nobody_maintains_by_hand_are_left_out_of_hotspots() {
    let repo = GitRepo::new();
    for i in 0..6 {
        repo.write(b"Cargo.lock", format!("{i}\n").repeat(50).as_bytes());
        repo.write(b"CHANGELOG.md", format!("- {i}\n").repeat(20).as_bytes());
        repo.write(b"src/lib.rs", format!("fn f{i}() {{}}\n").as_bytes());
        repo.commit_all(&format!("c{i}"));
    }
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    let reports = health_json(&store, &["--since", "2000-01-01"]);
    let hotspots: Vec<&str> = reports[0]["hotspots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    assert_eq!(hotspots, ["src/lib.rs"]);
    // Most changed first, as the file lists are.
    assert_eq!(
        reports[0]["not_maintained_by_hand"],
        serde_json::json!(["Cargo.lock", "CHANGELOG.md"])
    );
}

/// The hotspot paths of the first report of `value` (a health report list or analyze's summary).
fn hotspot_paths(report: &Value) -> BTreeSet<String> {
    report["hotspots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap().to_owned())
        .collect()
}

/// docs/metrics.md, "Hotspots": `[health] include`, then `[health] exclude`, then HEAD's
/// `.gitattributes` (Linguist's attributes), then the built-ins decide; the CLI, `analyze` and
/// the API rank the same files, and attributes changed without touching a file still count.
#[test]
fn health_include_exclude_and_linguist_attributes_decide_hotspots() {
    let repo = GitRepo::new();
    repo.write(
        b".gitattributes",
        b"src/parser.c linguist-generated\nlib/** linguist-vendored\nvendor/ours/** -linguist-vendored\n",
    );
    let paths = [
        "src/main.rs",
        "src/parser.c",
        "lib/jquery.js",
        "vendor/ours/patch.c",
        "vendor/theirs/x.c",
        "gen/api.ts",
        "CHANGELOG.md",
    ];
    for i in 0..4 {
        for p in paths {
            repo.write(
                p.as_bytes(),
                format!("line {i}\n    nested {i}\n").as_bytes(),
            );
        }
        repo.commit_all_at(1_704_067_200 + i * 3600, None, &format!("c{i}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        "[health]\ninclude = [\"CHANGELOG.md\"]\nexclude = [\"gen/\"]\n",
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    let reports = health_json(
        &store,
        &[
            "--config",
            config_arg,
            "--since",
            "2000-01-01",
            "--top",
            "0",
        ],
    );
    let kept: BTreeSet<String> = [
        ".gitattributes",
        "src/main.rs",
        "vendor/ours/patch.c",
        "CHANGELOG.md",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(hotspot_paths(&reports[0]), kept);
    assert_eq!(
        reports[0]["left_out_by"],
        serde_json::json!({
            "src/parser.c": ".gitattributes linguist-generated",
            "lib/jquery.js": ".gitattributes linguist-vendored",
            "vendor/theirs/x.c": "built-in \"vendor/\"",
            "gen/api.ts": "[health] exclude \"gen/\"",
        })
    );
    let explained = String::from_utf8(
        store.run(
            &[
                "--config",
                config_arg,
                "health",
                "--since",
                "2000-01-01",
                "--explain",
            ]
            .map(std::ffi::OsStr::new),
        ),
    )
    .unwrap();
    assert!(
        explained.contains("src/parser.c  (.gitattributes linguist-generated)"),
        "{explained}"
    );

    // analyze and the API follow the same configuration.
    let summary: Value = serde_json::from_slice(
        &store.run(
            &[
                "--config",
                config_arg,
                "analyze",
                repo.path().to_str().unwrap(),
                "--format",
                "json",
            ]
            .map(std::ffi::OsStr::new),
        ),
    )
    .unwrap();
    let analyzed = hotspot_paths(&summary[0]["health"]);
    assert!(
        analyzed.is_subset(&kept) && !analyzed.is_empty(),
        "{analyzed:?}"
    );
    let server = crate::server::Server::start(&store, Some(&config));
    let served: Value = server
        .get("/api/v1/health?since=2000-01-01&top=100")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(hotspot_paths(&served[0]), kept);
    drop(server);

    // Attributes are HEAD's: unmarking the parser makes it a hotspot though its blob is unchanged…
    repo.write(b".gitattributes", b"lib/** linguist-vendored\n");
    repo.commit_all_at(1_704_067_200 + 5 * 3600, None, "attributes");
    store.ingest(repo.path());
    let reports = health_json(&store, &["--since", "2000-01-01", "--top", "0"]);
    let now = hotspot_paths(&reports[0]);
    assert!(now.contains("src/parser.c"), "{now:?}");
    // …and without its `-linguist-vendored`, vendor/ours/ is vendored again by the built-ins.
    assert!(!now.contains("vendor/ours/patch.c"), "{now:?}");
}

#[test]
fn invalid_health_patterns_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(&config, "[health]\nexclude = [\"gen/[a-z]*\"]\n").unwrap();
    let store = TestStore::sqlite();
    let out = store
        .leadline()
        .arg("--config")
        .arg(&config)
        .args(["health"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[health] exclude") && err.contains("gen/[a-z]*"),
        "{err}"
    );
}
