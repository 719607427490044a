//! Golden outputs: every command's table, JSON and CSV on one fixed fixture (a synthetic
//! history, imported deployments and incidents, synced pull requests, reviews and builds, a debt
//! register and teams), compared byte for byte with `tests/golden/`. They pin what users and
//! scripts read while the code behind them moves (issue 14: the metrics layer); a change of
//! output must be deliberate: `LEADLINE_BLESS=1 cargo test -p leadline --test it golden::` rewrites the files,
//! and the diff is reviewed like code.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::common::TestStore;
use leadline_core::events::{Build, CodeOwnersFile, Events, PullRequest, PullRequestFiles, Review};
use serde_json::Value;

const HOUR_MS: i64 = 3_600_000;

struct Fixture {
    root: tempfile::TempDir,
    repo: PathBuf,
    config: PathBuf,
    /// The same without the debt register: `analyze` judges its deadlines as of today, which
    /// a golden file cannot hold (`debt list --today` pins the register's outputs).
    undated: PathBuf,
    store: TestStore,
}

/// `git log --first-parent --reverse` of HEAD as (sha, committer time in ms).
fn first_parent(repo: &Path) -> Vec<(String, i64)> {
    let out = std::process::Command::new("git")
        .current_dir(repo)
        .args(["log", "--first-parent", "--reverse", "--format=%H %ct"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (sha, at) = l.split_once(' ').unwrap();
            (sha.to_owned(), at.parse::<i64>().unwrap() * 1000)
        })
        .collect()
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

/// Deployments of every 12th main-line commit an hour after it (every fifth failed), incidents
/// caused by three of them, and forge data for twelve pull requests merged as main-line commits.
fn fixture(store: TestStore) -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("app");
    crate::synth::build(
        &repo,
        crate::synth::Shape {
            commits: 400,
            files: 40,
            seed: 5,
        },
    );
    let main = first_parent(&repo);
    let mut deployments = String::from("id,service,environment,sha,finished_at,status\n");
    let deployed: Vec<(usize, &(String, i64))> = main.iter().enumerate().step_by(12).collect();
    for (n, (i, (sha, at))) in deployed.iter().enumerate() {
        let status = if n % 5 == 4 { "failure" } else { "success" };
        deployments.push_str(&format!(
            "d{i},app,production,{sha},{},{status}\n",
            iso(at + HOUR_MS)
        ));
    }
    let mut incidents =
        String::from("id,service,opened_at,resolved_at,severity,title,cause_sha,fix_sha\n");
    for (k, n) in [3usize, 9, 15].into_iter().enumerate() {
        let (_, (sha, at)) = deployed[n];
        let (_, (fix, _)) = deployed[n + 1];
        incidents.push_str(&format!(
            "inc{k},app,{},{},sev{},outage {k},{sha},{fix}\n",
            iso(at + 2 * HOUR_MS),
            iso(at + (5 + 7 * k as i64) * HOUR_MS),
            k + 1
        ));
    }
    std::fs::write(root.path().join("deployments.csv"), deployments).unwrap();
    std::fs::write(root.path().join("incidents.csv"), incidents).unwrap();
    // A postmortem of the sev1 incident, reviewed three days after it opened, with one action
    // done and one open (inc1, sev2, has none written).
    let postmortems = root.path().join("postmortems");
    std::fs::create_dir(&postmortems).unwrap();
    let opened = deployed[3].1.1 + 2 * HOUR_MS;
    let day = |offset: i64| iso(opened + offset * 24 * HOUR_MS)[..10].to_owned();
    std::fs::write(
        postmortems.join("PM-1.md"),
        format!(
            "---\nid: PM-1\nincidents: [inc0]\nstatus: reviewed\nreviewed: {}\nfactors: [config-change]\n\
             actions:\n  - {{id: A1, title: Validate config on deploy, owner: core, priority: P1, due: {}, state: done, done: {}}}\n\
             \x20 - {{id: A2, title: Alert on error budget, owner: web, priority: P2}}\n---\n## Summary\n",
            day(3),
            day(20),
            day(10)
        ),
    )
    .unwrap();
    std::fs::write(
        root.path().join("debt.toml"),
        "[[item]]\nid = \"DEBT-1\"\ntitle = \"Split module m1\"\narea = [\"src/m1/\"]\n\
         category = \"tactical\"\nkind = \"maintainability\"\nowner = \"core\"\n\
         cost_hours = 40\ninterest_hours_per_month = 6\ncreated = 2017-01-10\n\n\
         [[item]]\nid = \"DEBT-2\"\ntitle = \"Patch the TLS library\"\narea = [\"src/m2/\"]\n\
         category = \"accidental\"\nkind = \"security\"\nowner = \"web\"\ncost_hours = 8\n\
         interest_hours_per_month = 2\ncreated = 2017-02-01\n",
    )
    .unwrap();
    // An SLO of the app's availability from incidents (read now by `metric slo.*`).
    let slos = root.path().join("slos");
    std::fs::create_dir(&slos).unwrap();
    std::fs::write(
        slos.join("app.yaml"),
        "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: app-uptime\nspec:\n  service: app\n\
         \x20 indicator:\n    metadata:\n      name: app-open\n    spec:\n      ratioMetric:\n        counter: true\n\
         \x20       good:\n          metricSource:\n            type: leadline\n            spec:\n              indicator: incidents\n\
         \x20       total:\n          metricSource:\n            type: leadline\n            spec:\n              indicator: incidents\n\
         \x20 timeWindow:\n    - duration: 30d\n      isRolling: true\n  budgetingMethod: Occurrences\n  objectives:\n    - target: 0.999\n",
    )
    .unwrap();
    // Product events of four users in the days before the newest commit, one activation and
    // one feature defined.
    let last = main.last().unwrap().1;
    let mut events = String::from("time,user,event\n");
    for (user, signup_days_ago, did) in [
        (
            "u1",
            20,
            &["project_created", "report_viewed", "export_clicked"][..],
        ),
        ("u2", 15, &["report_viewed"][..]),
        ("u3", 10, &["project_created", "report_viewed"][..]),
        ("u4", 2, &["export_clicked"][..]),
    ] {
        let signup = last - signup_days_ago * 24 * HOUR_MS;
        events.push_str(&format!("{},{user},signed_up\n", iso(signup)));
        for (k, event) in did.iter().enumerate() {
            events.push_str(&format!(
                "{},{user},{event}\n",
                iso(signup + (k as i64 + 1) * 7 * HOUR_MS)
            ));
        }
    }
    std::fs::write(root.path().join("events.csv"), events).unwrap();
    std::fs::write(
        root.path().join("scorecards.toml"),
        "[[check]]\nlevel = \"bronze\"\nexists = \"src/**\"\n\n[[check]]\nlevel = \"silver\"\nexists = \"NOTHING\"\n",
    )
    .unwrap();
    let rest = format!(
        "[scorecards]\nfile = {:?}\n\n\
         [[product.activation]]\nname = \"first-report\"\nsignup = \"signed_up\"\n\
         criteria = [\"project_created\", \"report_viewed\"]\nwithin_days = 7\nvalue = \"report_viewed\"\n\n\
         [[product.feature]]\nname = \"export\"\nevents = [\"export_clicked\"]\n\n\
         [slo]\ndir = {:?}\n\n[postmortems]\ndir = {:?}\n\n[privacy]\nmin_group_size = 2\n\n\
         [[teams]]\nname = \"core\"\nmembers = [\"ann-gh\", \"bob-gh\"]\n\n\
         [[teams]]\nname = \"web\"\nmembers = [\"cat-gh\", \"dan-gh\"]\n",
        root.path().join("scorecards.toml").display().to_string(),
        slos.display().to_string(),
        postmortems.display().to_string()
    );
    let config = root.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!(
            "[debt]\nfile = {:?}\ncapacity_target = 0.2\n\n{rest}",
            root.path().join("debt.toml").display().to_string()
        ),
    )
    .unwrap();
    let undated = root.path().join("undated.toml");
    std::fs::write(
        &undated,
        format!(
            "[debt]\nfile = {:?}\ncapacity_target = 0.2\n\n{rest}",
            root.path().join("no-register.toml").display().to_string()
        ),
    )
    .unwrap();
    store.ingest(&repo);
    for what in ["deployments", "incidents", "events"] {
        let file = root.path().join(format!("{what}.csv"));
        store.run(&[OsStr::new("import"), OsStr::new(what), file.as_os_str()]);
    }
    let events = forge_events(&main);
    crate::server::read_store(&store, async |s| {
        use leadline_core::store::prelude::*;
        s.store_events("github", &events, None).await.unwrap();
    });
    Fixture {
        root,
        repo,
        config,
        undated,
        store,
    }
}

fn forge_events(main: &[(String, i64)]) -> Events {
    let authors = ["ann-gh", "bob-gh", "cat-gh", "dan-gh"];
    let titles = [
        "feat: search",
        "fix: crash on empty input",
        "refactor: split the parser",
        "chore(deps): bump serde",
    ];
    let mut events = Events::default();
    for n in 0..12usize {
        let (merge_sha, merged_at) = &main[main.len() - 200 + n * 15];
        let created_at = merged_at - (20 + 7 * n as i64) * HOUR_MS;
        events.pull_requests.push(PullRequest {
            forge: "github".into(),
            repo: "octo/app".into(),
            number: n as i64 + 1,
            title: titles[n % 4].into(),
            author: authors[n % 4].into(),
            state: "merged".into(),
            draft: false,
            created_at,
            first_commit_at: Some(created_at - (3 + n as i64) * HOUR_MS),
            rework_commits: Some((n % 3) as i64),
            ready_at: (n % 4 == 1).then_some(created_at + 4 * HOUR_MS),
            updated_at: *merged_at,
            merged_at: Some(*merged_at),
            closed_at: Some(*merged_at),
            base_ref: "main".into(),
            head_sha: format!("{:040x}", n + 1),
            merge_sha: Some(merge_sha.clone()),
            additions: Some(10 + 45 * n as i64),
            deletions: Some(3 * n as i64),
            changed_files: Some(1 + n as i64 % 5),
            commits: Some(1 + n as i64 % 4),
            labels: if n % 4 == 3 {
                vec!["dependencies".into()]
            } else {
                vec![]
            },
            review_requests: vec![],
            actions: vec![],
            issue_keys: vec![],
        });
        for (k, reviewer) in [authors[(n + 1) % 4], authors[(n + 2) % 4]]
            .into_iter()
            .enumerate()
            .take(1 + n % 2)
        {
            events.reviews.push(Review {
                forge: "github".into(),
                repo: "octo/app".into(),
                number: n as i64 + 1,
                id: format!("r{n}-{k}"),
                reviewer: reviewer.into(),
                state: if k == 0 { "commented" } else { "approved" }.into(),
                submitted_at: created_at + (6 + 2 * n as i64 + k as i64) * HOUR_MS,
                comments: Some((n % 3 + k) as i64),
            });
        }
        events.pull_request_files.push(PullRequestFiles {
            forge: "github".into(),
            repo: "octo/app".into(),
            number: n as i64 + 1,
            paths: vec![format!("src/f{}.rs", n % 6)],
        });
        for attempt in 1..=(1 + i64::from(n % 4 == 2)) {
            let failed = attempt == 1 && n % 4 == 2 || n % 5 == 4;
            events.builds.push(Build {
                id: format!("{}/{attempt}", 900 + n),
                repo: "octo/app".into(),
                pipeline: "CI".into(),
                sha: format!("{:040x}", n + 1),
                branch: Some("main".into()),
                attempt,
                status: if failed { "failure" } else { "success" }.into(),
                created_at: created_at + HOUR_MS,
                started_at: Some(created_at + HOUR_MS + (1 + n as i64) * 60_000),
                finished_at: Some(created_at + HOUR_MS + (8 + 3 * n as i64) * 60_000),
                updated_at: created_at + 2 * HOUR_MS,
            });
        }
    }
    events.code_owners.push(CodeOwnersFile {
        forge: "github".into(),
        repo: "octo/app".into(),
        rules: vec![("*".into(), vec!["@octo/core".into()])],
    });
    events
}

/// Each command's arguments and the name of its golden file.
fn commands(f: &Fixture) -> Vec<(String, Vec<String>)> {
    let repo = f.repo.display().to_string();
    let mut out = Vec::new();
    let mut add = |name: &str, args: &[&str]| {
        out.push((
            name.to_owned(),
            args.iter().map(|a| (*a).to_owned()).collect(),
        ));
    };
    add("analyze.txt", &["analyze", &repo]);
    add("analyze.json", &["analyze", &repo, "--format", "json"]);
    add("dora.txt", &["dora"]);
    add("dora.json", &["dora", "--format", "json"]);
    add("dora.csv", &["dora", "--format", "csv"]);
    add(
        "dora-by-month.json",
        &["dora", "--by", "month", "--format", "json"],
    );
    add("dora-by-week.txt", &["dora", "--by", "week"]);
    add(
        "dora-explain.json",
        &["dora", "--explain", "--format", "json"],
    );
    add("dora-explain.txt", &["dora", "--explain"]);
    add("flow.txt", &["flow"]);
    add("flow.json", &["flow", "--format", "json"]);
    add("flow-explain.txt", &["flow", "--explain"]);
    add(
        "flow-by-repository.json",
        &["flow", "--group", "repository", "--format", "json"],
    );
    add("health.txt", &["health"]);
    add("health.json", &["health", "--format", "json"]);
    add("health-explain.txt", &["health", "--explain", "--top", "3"]);
    add("debt-list.txt", &["debt", "list", "--today", "2017-06-01"]);
    add(
        "debt-list.json",
        &["debt", "list", "--today", "2017-06-01", "--format", "json"],
    );
    add("debt-capacity.txt", &["debt", "capacity"]);
    add(
        "debt-capacity.json",
        &["debt", "capacity", "--format", "json"],
    );
    add(
        "debt-capacity-commits.json",
        &[
            "debt", "capacity", "--source", "commits", "--format", "json",
        ],
    );
    add("incidents.txt", &["incidents"]);
    add("incidents.json", &["incidents", "--format", "json"]);
    add("incidents.csv", &["incidents", "--format", "csv"]);
    add("incidents-explain.txt", &["incidents", "--explain"]);
    add(
        "incidents-by-month.json",
        &["incidents", "--by", "month", "--format", "json"],
    );
    add("actions.txt", &["actions", "--today", "2017-06-01"]);
    add(
        "actions.json",
        &["actions", "--today", "2017-06-01", "--format", "json"],
    );
    add("ai.json", &["ai", "--format", "json"]);
    add("ai.txt", &["ai"]);
    add("export-deployments.csv", &["export", "deployments"]);
    add(
        "export-incidents.json",
        &["export", "incidents", "--format", "json"],
    );
    add("export-tags.csv", &["export", "tags"]);
    out
}

/// The fixture's temporary directory, which differs per run, written as `<root>`.
fn normalised(output: &[u8], root: &Path) -> String {
    String::from_utf8(output.to_vec())
        .unwrap()
        .replace(&root.display().to_string(), "<root>")
}

/// On both stores: the backends print the same bytes too.
#[test]
fn every_command_prints_what_it_printed_before() {
    for store in TestStore::both() {
        compare(fixture(store));
    }
}

fn compare(f: Fixture) {
    let golden = crate::common::manifest_dir().join("tests/golden");
    let bless = std::env::var_os("LEADLINE_BLESS").is_some();
    let mut differ = Vec::new();
    for (name, args) in commands(&f) {
        let config = match name.starts_with("analyze") {
            true => &f.undated,
            false => &f.config,
        };
        let mut all: Vec<&OsStr> = vec![OsStr::new("--config"), config.as_os_str()];
        all.extend(args.iter().map(OsStr::new));
        let got = normalised(&f.store.run(&all), f.root.path());
        let path = golden.join(&name);
        if bless {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (LEADLINE_BLESS=1 writes it)", path.display()));
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(g, w)| g != w)
                .map_or(got.lines().count().min(want.lines().count()), |i| i)
                + 1;
            differ.push(format!(
                "{name} on {} (first difference on line {line}):\n{got}",
                f.store.backend
            ));
        }
    }
    assert!(differ.is_empty(), "outputs changed:\n{}", differ.join("\n"));
}

/// The API answers what the command line prints, on both stores: `/api/v1/flow`, `/dora` and
/// `/health` against `leadline flow|dora|health --format json` with the same options.
#[test]
fn the_api_equals_the_command_line() {
    for store in TestStore::both() {
        let f = fixture(store);
        let server = crate::server::Server::start(&f.store, Some(&f.config));
        let pairs: &[(&str, &[&str])] = &[
            ("/api/v1/flow", &["flow"]),
            ("/api/v1/flow?by=week", &["flow", "--by", "week"]),
            (
                "/api/v1/flow?group=repository&explain=true",
                &["flow", "--group", "repository", "--explain"],
            ),
            (
                "/api/v1/flow?repo=octo/app&since=2017-07-01&until=2017-07-20&by=month",
                &[
                    "flow",
                    "--repo",
                    "octo/app",
                    "--since",
                    "2017-07-01",
                    "--until",
                    "2017-07-20",
                    "--by",
                    "month",
                ],
            ),
            ("/api/v1/dora?by=month", &["dora", "--by", "month"]),
            ("/api/v1/dora?explain=true", &["dora", "--explain"]),
            ("/api/v1/health?top=10", &["health", "--top", "10"]),
        ];
        for (url, args) in pairs {
            let served: serde_json::Value = server.get(url).send().unwrap().json().unwrap();
            let mut all: Vec<&OsStr> = vec![OsStr::new("--config"), f.config.as_os_str()];
            all.extend(args.iter().map(OsStr::new));
            all.extend(["--format", "json"].map(OsStr::new));
            let printed: serde_json::Value = serde_json::from_slice(&f.store.run(&all)).unwrap();
            assert!(served == printed, "{url} differs on {}", f.store.backend);
        }
        let refused = server.get("/api/v1/flow?group=person").send().unwrap();
        assert_eq!(refused.status(), 400);
        // One route serves the families: an unknown one is a 404 naming them, a malformed
        // query a 400.
        let unknown = server.get("/api/v1/velocity").send().unwrap();
        assert_eq!(unknown.status(), 404);
        assert!(
            unknown
                .text()
                .unwrap()
                .contains("dora, flow, health, debt, capacity")
        );
        let malformed = server.get("/api/v1/dora?explain=maybe").send().unwrap();
        assert_eq!(malformed.status(), 400);
    }
}

/// The value at a dotted path.
fn at<'a>(v: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    path.split('.').fold(v, |v, k| &v[k])
}

/// The JSON a family command prints, with the fixture's configuration.
fn family_json(f: &Fixture, args: &[&str]) -> serde_json::Value {
    let mut all: Vec<&OsStr> = vec![OsStr::new("--config"), f.config.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    all.extend(["--format", "json"].map(OsStr::new));
    serde_json::from_slice(&f.store.run(&all)).unwrap()
}

/// `metrics list` says which labels each name takes and whether it reads a window, and
/// `leadline metric` agrees: a listed label or window is taken, any other is refused as not
/// applying to the family.
#[test]
fn metrics_list_names_the_labels_and_windows_the_names_take() {
    let f = fixture(TestStore::sqlite());
    let catalog = family_json(&f, &["metrics", "list"]);
    let mut families: Vec<&serde_json::Value> = Vec::new();
    for m in catalog.as_array().unwrap() {
        if !families.iter().any(|f| f["family"] == m["family"]) {
            families.push(m);
        }
    }
    assert!(families.len() >= 12, "{families:?}");
    let refused = |args: &[String]| {
        let out = f
            .store
            .leadline()
            .arg("--config")
            .arg(&f.config)
            .arg("metric")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).contains("does not apply")
    };
    for m in families {
        let name = m["name"].as_str().unwrap();
        let listed: Vec<&str> = m["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        for label in ["service", "env", "repo", "team", "slo", "name"] {
            let labelled = format!("{name}{{{label}=x}}");
            assert_eq!(
                refused(std::slice::from_ref(&labelled)),
                !listed.contains(&label),
                "{labelled}: listed {listed:?}"
            );
        }
        let windowed = m["window"].as_bool().unwrap();
        let args = [
            name.to_owned(),
            "--since".to_owned(),
            "2017-01-01".to_owned(),
        ];
        assert_eq!(refused(&args), !windowed, "{name} --since");
    }
}

/// docs/metrics.md, "Metric names": every name in the catalog equals the field its name
/// addresses in the family's own JSON (for flow and capacity, in the group the query selects),
/// from the command line and from the API, on both stores.
#[test]
fn every_metric_equals_the_field_of_its_family_report() {
    for store in TestStore::both() {
        let f = fixture(store);
        let catalog = family_json(&f, &["metrics", "list"]);
        let names: Vec<String> = catalog
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(names.len() >= 25, "{names:?}");
        let repo = f.repo.display().to_string();
        let activity = family_json(&f, &["analyze", &repo]);
        let dora = family_json(&f, &["dora"]);
        let flow = family_json(&f, &["flow"]);
        let health = family_json(&f, &["health"]);
        let debt = family_json(&f, &["debt", "list"]);
        let capacity = family_json(&f, &["debt", "capacity"]);
        let incidents = family_json(&f, &["incidents"]);
        let slo = family_json(&f, &["slo", "status"]);
        let ai = family_json(&f, &["ai"]);
        let product = family_json(&f, &["product"]);
        let wellbeing = family_json(&f, &["wellbeing"]);
        let planning = family_json(&f, &["planning"]);
        let first = |list: &str| product[list][0].clone();
        let all_flow = flow["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == "all")
            .unwrap()
            .clone();
        // Teams are configured, so capacity has no `all` group: every group together.
        let capacity_all = |key: &str| -> serde_json::Value {
            let sum: u64 = capacity["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["window"][key].as_u64().unwrap())
                .sum();
            serde_json::json!(sum)
        };
        let server = crate::server::Server::start(&f.store, Some(&f.config));
        let mut checked = 0;
        for name in &names {
            let (family, path) = name.split_once('.').unwrap();
            let expected = match family {
                "activity" => at(&activity[0], path).clone(),
                "dora" => at(&dora, path).clone(),
                "flow" if path.starts_with("onboarding.") => at(&flow, path).clone(),
                "flow" => at(&all_flow, path).clone(),
                "health" => at(&health[0], path).clone(),
                "debt" => at(&debt, path).clone(),
                "capacity" if path == "window.debt_share" => {
                    let (d, all) = (
                        capacity_all("debt").as_u64().unwrap(),
                        ["feature", "debt", "fix", "other"]
                            .iter()
                            .map(|k| capacity_all(k).as_u64().unwrap())
                            .sum::<u64>(),
                    );
                    serde_json::json!(d as f64 / all as f64)
                }
                "capacity" => capacity_all(path.trim_start_matches("window.")),
                "incidents" => at(&incidents, path).clone(),
                "slo" => at(&slo[0], path).clone(),
                "ai" => at(&ai, path).clone(),
                "product" => {
                    let (kind, field) = path.split_once('.').unwrap();
                    match kind {
                        "activation" => first("activation")[field].clone(),
                        "time_to_value" => first("time_to_value")[field].clone(),
                        "feature" => first("features")[field].clone(),
                        _ => at(&product, path).clone(),
                    }
                }
                // Teams are configured: there is no `all` group.
                "wellbeing" => wellbeing["groups"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|g| g["group"] == "all")
                    .map_or(serde_json::Value::Null, |g| at(g, path).clone()),
                "planning" => at(&planning, path).clone(),
                "scorecard" => {
                    let cards = family_json(&f, &["scorecard", "--service", "app"]);
                    cards[0]["rank"].clone()
                }
                other => panic!("a family the test does not know: {other}"),
            };
            // A scorecard level is per service: the fixture's only one.
            let query = match family {
                "scorecard" => format!("{name}{{service=app}}"),
                _ => name.clone(),
            };
            let printed = family_json(&f, &["metric", &query]);
            assert_eq!(printed["name"], name.as_str());
            assert_eq!(printed["value"], expected, "{name} on {}", f.store.backend);
            if expected.is_null() {
                assert!(
                    printed["reason"].is_string(),
                    "{name}: null without a reason"
                );
            }
            let served: serde_json::Value = server
                .get(&format!("/api/v1/metric/{query}"))
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(served, printed, "{name}: the API on {}", f.store.backend);
            checked += 1;
        }
        assert_eq!(checked, names.len());
        let served: serde_json::Value = server
            .get("/api/v1/metrics")
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(served, catalog);

        // A series is the family's own series, period by period.
        let by_month = family_json(&f, &["dora", "--by", "month"]);
        let series = family_json(
            &f,
            &["metric", "dora.lead_time.median_seconds", "--by", "month"],
        );
        let points = series["series"].as_array().unwrap();
        assert_eq!(points.len(), by_month.as_array().unwrap().len());
        for (p, r) in points.iter().zip(by_month.as_array().unwrap()) {
            assert_eq!(
                (&p["since"], &p["value"]),
                (&r["since"], &r["lead_time"]["median_seconds"])
            );
        }
        // A team's group.
        let core = family_json(
            &f,
            &["metric", "flow.pull_requests.merged", "--team", "core"],
        );
        let core_group = flow["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == "core")
            .unwrap();
        assert_eq!(core["value"], core_group["pull_requests"]["merged"]);
    }
}

/// Unknown names and options a family does not take are usage errors: exit 2, and 400.
#[test]
fn metric_usage_errors_exit_2_and_answer_400() {
    let f = fixture(TestStore::sqlite());
    for args in [
        &["metric", "dora.lead_time.mean"][..],
        &["metric", "flow.builds.failure_rate", "--service", "app"],
        &["metric", "debt.portfolio.open", "--by", "week"],
        &[
            "metric",
            "dora.lead_time.median_seconds",
            "--since",
            "yesterday",
        ],
    ] {
        let out = f
            .store
            .leadline()
            .arg("--config")
            .arg(&f.config)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
    }
    let server = crate::server::Server::start(&f.store, Some(&f.config));
    for url in [
        "/api/v1/metric/dora.lead_time.mean",
        "/api/v1/metric/flow.builds.failure_rate?service=app",
        "/api/v1/metric/debt.portfolio.open?by=week",
    ] {
        assert_eq!(server.get(url).send().unwrap().status(), 400, "{url}");
    }
}

/// Whether `value` conforms to `schema` (JSON Schema as schemars writes it: `$ref` into
/// `$defs`, `anyOf`/`oneOf`/`allOf`, types, enums, properties, required keys, items, maps):
/// every key present must be declared, every required key present, every type right.
fn conforms(value: &Value, schema: &Value, defs: &Value, at: &str) -> Result<(), String> {
    if schema == &Value::Bool(true) {
        return Ok(());
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        return conforms(value, &defs[name], defs, at);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array)
            && !options.iter().any(|o| conforms(value, o, defs, at).is_ok())
        {
            return Err(format!("{at}: {value} matches none of {key}"));
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            conforms(value, s, defs, at)?;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = |t: &str| match (t, value) {
            ("null", Value::Null) | ("boolean", Value::Bool(_)) | ("string", Value::String(_)) => {
                true
            }
            ("array", Value::Array(_)) | ("object", Value::Object(_)) => true,
            ("number", Value::Number(_)) => true,
            ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
            _ => false,
        };
        if !types.iter().any(|t| fits(t)) {
            return Err(format!("{at}: {value} is not {types:?}"));
        }
    }
    if let Value::Object(map) = value {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = required.as_str().unwrap_or("");
            if !map.contains_key(key) {
                return Err(format!("{at}: required {key} is missing"));
            }
        }
        let properties = schema.get("properties");
        for (k, v) in map {
            match (
                properties.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => conforms(v, s, defs, &format!("{at}.{k}"))?,
                (None, Some(s)) if s.is_object() => conforms(v, s, defs, &format!("{at}.{k}"))?,
                (None, _) if properties.is_some() => {
                    return Err(format!("{at}: {k} is not in the schema"));
                }
                _ => {}
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            conforms(v, s, defs, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Every family's schema (`leadline metrics schema FAMILY`, `GET /api/v1/schemas/{family}`)
/// describes what its command printed on the fixture: every key declared, every type right.
#[test]
fn every_report_conforms_to_its_family_schema() {
    let golden = crate::common::manifest_dir().join("tests/golden");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(golden.join(name)).unwrap()).unwrap()
    };
    let f = fixture(TestStore::sqlite());
    let server = crate::server::Server::start(&f.store, Some(&f.config));
    let mut analyzed = read("analyze.json")[0].clone();
    for key in ["repo", "location", "shallow", "dora", "health", "debt"] {
        analyzed.as_object_mut().unwrap().remove(key);
    }
    let cases: Vec<(&str, Vec<Value>)> = vec![
        ("activity", vec![analyzed]),
        ("dora", vec![read("dora.json"), read("dora-explain.json")]),
        (
            "dora",
            read("dora-by-month.json").as_array().unwrap().clone(),
        ),
        (
            "flow",
            vec![read("flow.json"), read("flow-by-repository.json")],
        ),
        ("health", read("health.json").as_array().unwrap().clone()),
        ("debt", vec![read("debt-list.json")]),
        (
            "capacity",
            vec![
                read("debt-capacity.json"),
                read("debt-capacity-commits.json"),
            ],
        ),
        ("ai", vec![read("ai.json")]),
        (
            "incidents",
            std::iter::once(read("incidents.json"))
                .chain(read("incidents-by-month.json").as_array().unwrap().clone())
                .collect(),
        ),
    ];
    for (family, reports) in cases {
        let schema: Value =
            serde_json::from_slice(&f.store.run(&["metrics", "schema", family].map(OsStr::new)))
                .unwrap();
        let served: Value = server
            .get(&format!("/api/v1/schemas/{family}"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(served, schema, "{family}: the API's schema");
        let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
        for report in &reports {
            conforms(report, &schema, &defs, family).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    // The checker itself refuses what the schema does not declare.
    let schema: Value =
        serde_json::from_slice(&f.store.run(&["metrics", "schema", "debt"].map(OsStr::new)))
            .unwrap();
    let mut listing = read("debt-list.json");
    listing["invented"] = Value::Bool(true);
    assert!(conforms(&listing, &schema, &schema["$defs"], "debt").is_err());
}
