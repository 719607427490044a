//! `leadline dora` end to end: the worked example of docs/metrics.md through real git history
//! and imported files, on both stores; the JSON contract; trends; bad arguments.

use std::ffi::OsStr;
use std::path::Path;

use crate::common::{GitRepo, TestStore, json_stdout};
use predicates::str::contains;

// 2024-01-01 00:00 UTC.
const DAY0: i64 = 1_704_067_200;
const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;

/// The history of the worked example: c1..c5, c4 by a bot; returns the repository and the
/// deployment and incident files.
fn worked_example(dir: &Path) -> (GitRepo, std::path::PathBuf, std::path::PathBuf) {
    let r = GitRepo::new();
    let mut shas = Vec::new();
    for (i, (at, bot)) in [
        (0, false),
        (DAY, false),
        (2 * DAY, false),
        (3 * DAY, true),
        (3 * DAY + 12 * HOUR, false),
    ]
    .into_iter()
    .enumerate()
    {
        r.write(b"f", format!("{i}\n").as_bytes());
        let author =
            bot.then_some("dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>");
        shas.push(r.commit_all_at(DAY0 + at, author, &format!("c{}", i + 1)));
    }
    let deployments = dir.join("deployments.csv");
    std::fs::write(
        &deployments,
        format!(
            "id,service,environment,sha,finished_at\n\
             D1,api,production,{},2024-01-02T06:00:00Z\n\
             D2,api,production,{},2024-01-03T12:00:00Z\n\
             D3,api,production,{},2024-01-05T00:00:00Z\n",
            shas[1],
            &shas[2][..7], // abbreviated, as deploy logs often are
            shas[4]
        ),
    )
    .unwrap();
    let incidents = dir.join("incidents.json");
    std::fs::write(
        &incidents,
        format!(
            "[{{\"id\": \"I1\", \"service\": \"api\", \"opened_at\": \"2024-01-03T18:00:00Z\", \"resolved_at\": \"2024-01-03T20:00:00Z\"}},\n \
             {{\"id\": \"I2\", \"service\": \"api\", \"opened_at\": \"2024-01-05T01:00:00Z\", \"resolved_at\": \"2024-01-06T01:00:00Z\", \"cause_sha\": \"{}\"}}]\n",
            &shas[4][..10]
        ),
    )
    .unwrap();
    (r, deployments, incidents)
}

fn setup(store: &TestStore, repo: &GitRepo, deployments: &Path, incidents: &Path) {
    store.ingest(repo.path());
    store.run(&[
        OsStr::new("import"),
        OsStr::new("deployments"),
        deployments.as_os_str(),
    ]);
    store.run(&[
        OsStr::new("import"),
        OsStr::new("incidents"),
        incidents.as_os_str(),
    ]);
}

/// `leadline --config CONFIG dora --format json ARGS…` parsed, failing with stderr.
fn dora_with_config(store: &TestStore, config: &Path, args: &[&str]) -> serde_json::Value {
    json_stdout(
        store
            .leadline()
            .arg("--config")
            .arg(config)
            .args(["dora", "--format", "json"])
            .args(args),
    )
}

fn dora_json(store: &TestStore, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["dora", "--service", "api", "--format", "json"];
    args.extend(extra);
    serde_json::from_slice(&store.run(&args.iter().map(OsStr::new).collect::<Vec<_>>())).unwrap()
}

#[test]
fn the_worked_example_gives_the_hand_computed_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments, incidents) = worked_example(dir.path());
    for store in TestStore::both() {
        setup(&store, &repo, &deployments, &incidents);
        let v = dora_json(&store, &["--since", "2024-01-01", "--until", "2024-01-06"]);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "basis",
                "change_failure_rate",
                "deployment_frequency",
                "environment",
                "lead_time",
                "recovery_time",
                "rework_rate",
                "service",
                "since",
                "until"
            ]
        );
        assert_eq!(v["since"], "2024-01-01T00:00:00+00:00");
        assert_eq!(v["until"], "2024-01-06T00:00:00+00:00");
        assert_eq!(
            (v["service"].as_str(), v["environment"].as_str()),
            (Some("api"), Some("production"))
        );
        let df = &v["deployment_frequency"];
        assert_eq!(
            (
                df["deployments"].as_u64(),
                df["per_day"].as_f64(),
                df["band"].as_str()
            ),
            (Some(3), Some(0.6), Some("high"))
        );
        let lt = &v["lead_time"];
        assert_eq!(
            lt["changes"], 2,
            "c3 and c5; c4 is a bot's, c1 and c2 are the baseline's"
        );
        assert_eq!(
            (lt["median_seconds"].as_f64(), lt["p90_seconds"].as_f64()),
            (Some(43_200.0), Some(43_200.0))
        );
        assert_eq!(lt["band"], "elite");
        let cfr = &v["change_failure_rate"];
        assert_eq!(
            (
                cfr["failed_deployments"].as_u64(),
                cfr["deployments"].as_u64(),
                cfr["band"].as_str()
            ),
            (Some(2), Some(3), Some("low"))
        );
        assert!((cfr["rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
        let rt = &v["recovery_time"];
        assert_eq!(
            (
                rt["incidents"].as_u64(),
                rt["median_seconds"].as_f64(),
                rt["band"].as_str()
            ),
            (Some(1), Some(7_200.0), Some("high"))
        );
        let rw = &v["rework_rate"];
        assert_eq!(
            (rw["rework_deployments"].as_u64(), rw["rate"].as_f64()),
            (Some(0), Some(0.0))
        );
        assert!(
            v["basis"]["deployments"]
                .as_str()
                .unwrap()
                .contains("imported: 3 deployments")
        );

        // All services together: the imported deployments replace inference for the repository
        // whose commits they deploy, although their service is not named after it.
        let all: serde_json::Value = serde_json::from_slice(
            &store.run(
                &[
                    "dora",
                    "--format",
                    "json",
                    "--since",
                    "2024-01-01",
                    "--until",
                    "2024-01-06",
                ]
                .map(OsStr::new),
            ),
        )
        .unwrap();
        assert_eq!(all["deployment_frequency"]["deployments"], 3);
        assert!(
            !all["basis"]["deployments"]
                .as_str()
                .unwrap()
                .contains("first-parent")
        );

        // The smaller window of docs/metrics.md.
        let v = dora_json(
            &store,
            &["--since", "2024-01-03T00:00:00Z", "--until", "2024-01-05"],
        );
        assert_eq!(v["deployment_frequency"]["deployments"], 1);
        assert_eq!(v["deployment_frequency"]["per_day"], 0.5);
        assert_eq!(v["lead_time"]["changes"], 1);
        assert_eq!(v["change_failure_rate"]["rate"], 1.0);
    }
}

#[test]
fn weekly_trends_add_up_and_explain_lists_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments, incidents) = worked_example(dir.path());
    let store = TestStore::sqlite();
    setup(&store, &repo, &deployments, &incidents);
    let series = dora_json(
        &store,
        &[
            "--since",
            "2023-12-25",
            "--until",
            "2024-01-15",
            "--by",
            "week",
        ],
    );
    let weeks = series.as_array().unwrap();
    assert_eq!(weeks.len(), 3);
    assert_eq!(weeks[0]["since"], "2023-12-25T00:00:00+00:00");
    let total: u64 = weeks
        .iter()
        .map(|w| w["deployment_frequency"]["deployments"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3);
    let explained = dora_json(
        &store,
        &[
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-06",
            "--explain",
        ],
    );
    let changes = explained["explain"]["changes"].as_array().unwrap();
    let excluded: Vec<&str> = changes
        .iter()
        .filter_map(|c| c["excluded"].as_str())
        .collect();
    assert_eq!(excluded, ["baseline", "baseline", "bot"]);
    let causes: Vec<&str> = explained["explain"]["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["rule"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["latest_before", "named_commit"]);

    let table = store.run(
        &[
            "dora",
            "--service",
            "api",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-06",
            "--explain",
        ]
        .map(OsStr::new),
    );
    let table = String::from_utf8(table).unwrap();
    for expected in [
        "deployments in the window",
        "excluded: bot",
        "excluded: baseline",
        "D2 (latest deployment before it opened)",
        "12.0 h",
    ] {
        assert!(table.contains(expected), "missing {expected:?} in\n{table}");
    }
}

#[test]
fn git_alone_infers_deployments_and_says_how() {
    let r = GitRepo::new();
    for i in 0..3 {
        r.write(b"f", format!("{i}\n").as_bytes());
        r.commit_all_at(DAY0 + i * DAY, None, &format!("c{i}"));
    }
    let store = TestStore::sqlite();
    store.ingest(r.path());
    let out = store.run(&["dora", "--format", "json"].map(OsStr::new));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        v["basis"]["deployments"]
            .as_str()
            .unwrap()
            .contains("3 first-parent commits of HEAD")
    );
    assert_eq!(v["deployment_frequency"]["deployments"], 3);
    // Default window: the 90 days up to the midnight after the newest deployment (2024-01-03).
    assert_eq!(v["until"], "2024-01-04T00:00:00+00:00");
    // On first-parent commits alone, frequency is a labelled proxy and the other keys are
    // null with the reason (not a 0 s "elite" lead time).
    assert!(
        v["deployment_frequency"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("a proxy")
    );
    for key in ["lead_time", "recovery_time"] {
        assert!(v[key]["median_seconds"].is_null(), "{key}: {v}");
        assert!(v[key]["band"].is_null(), "{key}: {v}");
        assert!(
            v[key]["reason"]
                .as_str()
                .unwrap()
                .contains("import deployments"),
            "{key}"
        );
    }
    assert!(v["change_failure_rate"]["rate"].is_null());
    let table = String::from_utf8(store.run(&["dora"].map(OsStr::new))).unwrap();
    assert!(
        table.contains("lead time: no deployments are known"),
        "{table}"
    );

    r.git(&["tag", "-a", "-m", "release", "v1.0", "HEAD~1"]);
    store.ingest(r.path());
    let v: serde_json::Value =
        serde_json::from_slice(&store.run(&["dora", "--format", "json"].map(OsStr::new))).unwrap();
    assert!(
        v["basis"]["deployments"]
            .as_str()
            .unwrap()
            .contains("1 release tags matching")
    );
    assert_eq!(v["deployment_frequency"]["deployments"], 1);
    // Release tags are deployments: the keys are what they say.
    assert!(v["lead_time"].get("reason").is_none(), "{v}");
}

#[test]
fn bad_windows_are_clear_errors() {
    let store = TestStore::sqlite();
    store
        .leadline()
        .args(["dora", "--since", "last tuesday"])
        .assert()
        .failure()
        .stderr(contains(
            "--since \"last tuesday\": expected an RFC 3339 time or a date",
        ));
    store
        .leadline()
        .args(["dora", "--since", "2024-02-01", "--until", "2024-01-01"])
        .assert()
        .failure()
        .stderr(contains("the window is empty"));
}

#[test]
fn hotfix_commits_fail_the_deployment_before_them() {
    let r = GitRepo::new();
    for (i, subject) in ["feature one", "feature two", "hotfix: undo the crash"]
        .iter()
        .enumerate()
    {
        r.write(b"f", format!("{i}\n").as_bytes());
        r.commit_all_at(DAY0 + i as i64 * DAY, None, subject);
        r.git(&["tag", &format!("v1.{i}")]);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(&config, "[failures]\nhotfix_pattern = '^hotfix'\n").unwrap();
    let store = TestStore::sqlite();
    store.ingest(r.path());
    let v = dora_with_config(
        &store,
        &config,
        &["--since", "2024-01-01", "--until", "2024-01-10"],
    );
    assert!(
        v["basis"]["incidents"]
            .as_str()
            .unwrap()
            .contains("hotfixes: 1 incidents")
    );
    assert_eq!(v["change_failure_rate"]["failed_deployments"], 1);
    assert_eq!(v["rework_rate"]["rework_deployments"], 1);
    assert_eq!(v["recovery_time"]["median_seconds"], 86_400.0);
}

/// A monorepo with two services: each counts only the changes touching its paths, although
/// both deploy the same commits.
#[test]
fn monorepo_services_own_the_changes_under_their_paths() {
    let r = GitRepo::new();
    let mut shas = Vec::new();
    for (i, path) in [
        "README",
        "services/api/main.rs",
        "services/web/app.js",
        "libs/shared.rs",
    ]
    .iter()
    .enumerate()
    {
        r.write(path.as_bytes(), format!("{i}\n").as_bytes());
        shas.push(r.commit_all_at(DAY0 + i as i64 * DAY, None, &format!("change {path}")));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        "[[services]]\nname = \"api\"\npaths = [\"services/api/**\", \"libs/**\"]\n\n\
         [[services]]\nname = \"web\"\npaths = [\"services/web/**\", \"libs/**\"]\n",
    )
    .unwrap();
    let deployments = dir.path().join("d.csv");
    std::fs::write(
        &deployments,
        format!(
            "id,service,environment,sha,finished_at\n\
             a1,api,production,{0},2024-01-01T01:00:00Z\nw1,web,production,{0},2024-01-01T01:00:00Z\n\
             a2,api,production,{1},2024-01-05T00:00:00Z\nw2,web,production,{1},2024-01-05T00:00:00Z\n",
            shas[0], shas[3]
        ),
    )
    .unwrap();
    for store in TestStore::both() {
        store.ingest(r.path());
        store.run(&[
            OsStr::new("import"),
            OsStr::new("deployments"),
            deployments.as_os_str(),
        ]);
        let keys = |service: &str| {
            dora_with_config(
                &store,
                &config,
                &[
                    "--service",
                    service,
                    "--since",
                    "2024-01-01",
                    "--until",
                    "2024-01-10",
                ],
            )
        };
        // api: services/api (3 days before a2) and libs (1 day); web: services/web (2 days), libs.
        let api = keys("api");
        assert_eq!(api["lead_time"]["changes"], 2);
        assert_eq!(api["lead_time"]["p90_seconds"], 3.0 * 86_400.0);
        let web = keys("web");
        assert_eq!(web["lead_time"]["changes"], 2);
        assert_eq!(web["lead_time"]["p90_seconds"], 2.0 * 86_400.0);
    }
}

/// `[dora] lead_time_start = "pr_first_commit"`: c5 squash-merged a pull request whose first
/// commit was on day 2 at 12:00 (docs/metrics.md, "Lead time for changes").
#[test]
fn lead_time_can_start_at_a_synced_pull_requests_first_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments, incidents) = worked_example(dir.path());
    let c5 = repo.head();
    for store in TestStore::both() {
        setup(&store, &repo, &deployments, &incidents);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use leadline_core::store::prelude::*;
            let s = leadline_store::SqlStore::open(
                &leadline_store::Location::parse(&store.db).unwrap(),
            )
            .await
            .unwrap();
            let pr = leadline_core::events::PullRequest {
                forge: "github".into(),
                repo: "octo/api".into(),
                number: 5,
                title: "c5".into(),
                author: "ann".into(),
                state: "merged".into(),
                draft: false,
                created_at: (DAY0 + 3 * DAY) * 1000,
                first_commit_at: Some((DAY0 + 2 * DAY + 12 * HOUR) * 1000),
                rework_commits: None,
                ready_at: None,
                updated_at: (DAY0 + 3 * DAY + 12 * HOUR) * 1000,
                merged_at: Some((DAY0 + 3 * DAY + 12 * HOUR) * 1000),
                closed_at: Some((DAY0 + 3 * DAY + 12 * HOUR) * 1000),
                base_ref: "main".into(),
                head_sha: "0".repeat(40),
                merge_sha: Some(c5.clone()),
                additions: None,
                deletions: None,
                changed_files: None,
                commits: None,
                labels: vec![],
                review_requests: vec![],
                actions: vec![],
                issue_keys: vec![],
            };
            let events = leadline_core::events::Events {
                pull_requests: vec![pr],
                ..Default::default()
            };
            s.store_events("github", &events, None).await.unwrap();
            s.close().await.unwrap();
        });
        let window = [
            "--service",
            "api",
            "--since",
            "2024-01-01",
            "--until",
            "2024-01-06",
        ];
        let commit = dir.path().join("commit.toml");
        std::fs::write(&commit, "").unwrap();
        let pr = dir.path().join("pr.toml");
        std::fs::write(&pr, "[dora]\nlead_time_start = \"pr_first_commit\"\n").unwrap();
        let by_commit = dora_with_config(&store, &commit, &window);
        let by_pr = dora_with_config(&store, &pr, &window);
        assert_eq!(by_commit["lead_time"]["p90_seconds"], 43_200.0);
        assert_eq!(by_pr["lead_time"]["median_seconds"], 43_200.0);
        assert_eq!(
            by_pr["lead_time"]["p90_seconds"], 129_600.0,
            "{}",
            store.backend
        );
        // --explain lists each change's lead time from the same start as the key.
        let mut explaining = window.to_vec();
        explaining.push("--explain");
        for (config, key) in [(&commit, &by_commit), (&pr, &by_pr)] {
            let explained = dora_with_config(&store, config, &explaining);
            let mut listed: Vec<f64> = explained["explain"]["changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["lead_time_seconds"].as_f64())
                .collect();
            listed.sort_by(f64::total_cmp);
            assert_eq!(
                listed.len() as u64,
                key["lead_time"]["changes"].as_u64().unwrap()
            );
            assert_eq!(
                listed.last().copied(),
                key["lead_time"]["p90_seconds"].as_f64(),
                "{explained}"
            );
        }
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[dora]\nlead_time_start = \"merge\"\n").unwrap();
        store
            .leadline()
            .arg("--config")
            .arg(&bad)
            .arg("dora")
            .assert()
            .failure()
            .stderr(contains("lead_time_start"));
    }
}

#[test]
fn a_trend_of_unbounded_periods_is_refused() {
    let store = TestStore::sqlite();
    store
        .leadline()
        .args(["dora", "--since", "1000-01-01", "--until", "9999-01-01"])
        .args(["--by", "week", "--explain"])
        .assert()
        .failure()
        .stderr(contains("more than 520 periods of a week"));
    store
        .leadline()
        .args(["dora", "--explain", "--explain-limit", "10001"])
        .assert()
        .failure()
        .stderr(contains("expected 1 to 10000 rows"));
}

#[test]
fn explanation_pages_add_up_to_the_whole_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments, incidents) = worked_example(dir.path());
    let store = TestStore::sqlite();
    setup(&store, &repo, &deployments, &incidents);
    let window = [
        "--since",
        "2023-12-25",
        "--until",
        "2024-01-15",
        "--by",
        "week",
    ];
    let rows = |v: &serde_json::Value| -> Vec<String> {
        let mut out = Vec::new();
        for report in v.as_array().unwrap() {
            for list in ["deployments", "changes", "incidents"] {
                for row in report["explain"][list].as_array().unwrap() {
                    out.push(format!("{list}:{row}"));
                }
            }
        }
        out
    };
    let mut args = window.to_vec();
    args.push("--explain");
    let whole = dora_json(&store, &args);
    let all = rows(&whole);
    assert!(all.len() > 5, "{all:?}");
    assert_eq!(whole[0]["explain"]["rows"]["total"], all.len());
    assert!(whole[0]["explain"]["rows"].get("next_offset").is_none());

    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let (o, l) = (offset.to_string(), "3".to_owned());
        let mut args = args.clone();
        args.extend(["--explain-offset", &o, "--explain-limit", &l]);
        let page = dora_json(&store, &args);
        let got = rows(&page);
        assert!(got.len() <= 3);
        paged.extend(got);
        match page[0]["explain"]["rows"]["next_offset"].as_u64() {
            Some(next) => offset = next as usize,
            None => break,
        }
    }
    assert_eq!(paged, all);
}

/// jq tags its releases `jq-1.7.1`: with no configuration those are its releases (not every
/// commit), pre-releases left out, and the prefix equal to the repository's name is its own
/// service.
#[test]
fn prefixed_release_tags_are_releases_without_configuration() {
    let r = GitRepo::new();
    for (i, tag) in [
        (0, Some("jq-1.6")),
        (1, None),
        (2, Some("jq-1.7rc1")),
        (3, None),
        (4, Some("jq-1.7")),
    ] {
        r.write(b"f", format!("{i}\n").as_bytes());
        r.commit_all_at(DAY0 + i * DAY, None, &format!("c{i}"));
        if let Some(tag) = tag {
            r.git(&["tag", tag]);
        }
    }
    let store = TestStore::sqlite();
    store.run(&[
        OsStr::new("ingest"),
        OsStr::new("git"),
        OsStr::new("--name"),
        OsStr::new("jq"),
        r.path().as_os_str(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(
        &store.run(&["dora", "--service", "jq", "--format", "json"].map(OsStr::new)),
    )
    .unwrap();
    let basis = v["basis"]["deployments"].as_str().unwrap();
    assert!(basis.contains("jq: 2 release tags matching"), "{basis}");
    assert!(basis.contains("pre-releases left out"), "{basis}");
    assert_eq!(v["deployment_frequency"]["deployments"], 2, "{v}");
    // jq-1.7 carries c1..c4 after the baseline jq-1.6: lead times of 3, 2, 1 and 0 days;
    // nearest-rank median the 2nd of 4 (1 day), p90 the 4th (3 days).
    assert_eq!(v["lead_time"]["changes"], 4, "{v}");
    assert_eq!(
        v["lead_time"]["median_seconds"],
        serde_json::json!(86400.0),
        "{v}"
    );
    assert_eq!(
        v["lead_time"]["p90_seconds"],
        serde_json::json!(259200.0),
        "{v}"
    );

    // deployments.tag_pattern still decides when set.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(&config, "[deployments]\ntag_pattern = '^jq-1\\.7'\n").unwrap();
    let v = dora_with_config(&store, &config, &["--service", "jq"]);
    let basis = v["basis"]["deployments"].as_str().unwrap();
    assert!(
        basis.contains("jq: 2 release tags matching ^jq-1\\.7 (deployments.tag_pattern)"),
        "{basis}"
    );
}

/// The periods of `--by` are clipped to the window: together they count exactly what the
/// whole window counts.
#[test]
fn trend_periods_are_clipped_to_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments, incidents) = worked_example(dir.path());
    let store = TestStore::sqlite();
    setup(&store, &repo, &deployments, &incidents);
    // 2024-01-03 is a Wednesday; D1 finished on the Tuesday before it.
    let window = ["--since", "2024-01-03", "--until", "2024-01-10"];
    let whole = dora_json(&store, &window);
    let mut args = window.to_vec();
    args.extend(["--by", "week"]);
    let weeks = dora_json(&store, &args);
    let weeks = weeks.as_array().unwrap();
    assert_eq!(weeks[0]["since"], "2024-01-03T00:00:00+00:00");
    assert_eq!(weeks.last().unwrap()["until"], "2024-01-10T00:00:00+00:00");
    let sum: u64 = weeks
        .iter()
        .map(|w| w["deployment_frequency"]["deployments"].as_u64().unwrap())
        .sum();
    assert_eq!(
        sum,
        whole["deployment_frequency"]["deployments"]
            .as_u64()
            .unwrap()
    );
    assert_eq!(sum, 2, "D2 and D3, not D1");
}

/// An imported incident may name its fix, by deployment or by (abbreviated) commit: the
/// deployment carrying it counts as rework.
#[test]
fn imported_incidents_naming_their_fix_make_rework() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments, incidents) = worked_example(dir.path());
    let store = TestStore::sqlite();
    setup(&store, &repo, &deployments, &incidents);
    let window = ["--since", "2024-01-01", "--until", "2024-01-06"];
    let before = dora_json(&store, &window)["rework_rate"]["rework_deployments"]
        .as_u64()
        .unwrap();
    let fixes = dir.path().join("fixes.csv");
    std::fs::write(
        &fixes,
        "id,service,opened_at,resolved_at,fix_deployment\nI3,api,2024-01-04T00:00:00Z,2024-01-05T00:00:00Z,D3\n",
    )
    .unwrap();
    store.run(&[
        OsStr::new("import"),
        OsStr::new("incidents"),
        fixes.as_os_str(),
    ]);
    let v = dora_json(&store, &window);
    assert_eq!(
        v["rework_rate"]["rework_deployments"].as_u64().unwrap(),
        before + 1,
        "{v}"
    );
    let exported = String::from_utf8(store.export("incidents", "csv")).unwrap();
    assert!(
        exported
            .lines()
            .next()
            .unwrap()
            .ends_with(",fix_deployment,fix_sha,started_at,detected_at,acknowledged_at,mitigated_at,fingerprint"),
        "{exported}"
    );
}
