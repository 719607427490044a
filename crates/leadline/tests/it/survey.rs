//! Pulse surveys end to end: the three forms' CSV exports, hand-computed team scores, the
//! floor, refusals that store nothing, no email or timestamp in the store, the API.

use std::ffi::OsStr;
use std::path::Path;

use serde_json::Value;

use crate::common::{TestStore, json_stdout};

const PS: [&str; 7] = [
    "If you make a mistake on this team, it is often held against you.",
    "Members of this team are able to bring up problems and tough issues.",
    "People on this team sometimes reject others for being different.",
    "It is safe to take a risk on this team.",
    "It is difficult to ask other members of this team for help.",
    "No one on this team would deliberately act in a way that undermines my efforts.",
    "Working with members of this team, my unique skills and talents are valued and utilized.",
];

/// Google Forms: Timestamp, Email Address, the questions' texts, and a free-text question.
fn google_forms() -> String {
    let mut csv = format!(
        "Timestamp,Email Address,Team,{},Anything else?\n",
        PS.map(|q| format!("\"{q}\"")).join(",")
    );
    for (n, (team, answers)) in [
        ("core", "2,6,1,5,3,6,7"),
        ("core", "7,2,7,3,,,"),
        ("core", "4,4,4,4,4,4,4"),
        ("web", "1,7,1,7,1,7,7"),
        ("web", "3,5,3,5,3,5,5"),
        ("ops", "7,1,7,1,7,1,1"),
    ]
    .iter()
    .enumerate()
    {
        csv.push_str(&format!(
            "2026/10/0{} 9:14:02,person{n}@example.com,{team},{answers},\"we are fine, person{n}\"\n",
            n + 1
        ));
    }
    csv
}

/// Typeform: a response token, the items by id, and its dates and network id.
fn typeform() -> String {
    let mut csv = String::from(
        "#,team,ps1,ps2,ps3,ps4,ps5,ps6,ps7,Start Date (UTC),Submit Date (UTC),Network ID\n",
    );
    for (n, team) in ["core", "core", "core", "web", "web"].iter().enumerate() {
        csv.push_str(&format!(
            "tok{n}abcdef,{team},5,5,5,5,5,5,5,2026-11-02 10:0{n}:00,2026-11-02 10:1{n}:00,net{n}77\n"
        ));
    }
    csv
}

/// Microsoft Forms: id, start and completion times, email and name, then the questions.
fn microsoft_forms() -> String {
    let mut csv = String::from(
        "\u{feff}ID,Start time,Completion time,Email,Name,Team,\
         Builds and tests give me feedback quickly enough.,I rarely wait long for a code review.,\
         I get enough uninterrupted time to focus on my work.,\
         Our tools and development environment help rather than hinder me.,\
         I can find the documentation I need to do my work.,\
         A new team member can become productive here quickly.\n",
    );
    for (n, answers) in ["4,3,2,5,2,4", "2,5,,3,4,1", "3,1,4,4,3,5"]
        .iter()
        .enumerate()
    {
        csv.push_str(&format!(
            "{n},11/3/26 9:0{n}:00,11/3/26 9:1{n}:00,dev{n}@example.com,Dev Person{n},core,{answers}\n"
        ));
    }
    csv
}

const CONFIG: &str = "[surveys]\nmin_respondents = 3\n\n[[teams]]\nname = \"core\"\nmembers = []\n\n\
                      [[teams]]\nname = \"web\"\nmembers = []\n\n[[teams]]\nname = \"ops\"\nmembers = []\n";

fn setup(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("leadline.toml");
    std::fs::write(&config, CONFIG).unwrap();
    config
}

fn import(
    store: &TestStore,
    config: &Path,
    file: &Path,
    instrument: &str,
    wave: &str,
) -> std::process::Output {
    store
        .leadline()
        .arg("--config")
        .arg(config)
        .args([OsStr::new("import"), OsStr::new("survey"), file.as_os_str()])
        .args(["--instrument", instrument, "--wave", wave])
        .output()
        .unwrap()
}

fn survey(store: &TestStore, config: &Path, extra: &[&str]) -> Vec<Value> {
    let v = json_stdout(
        store
            .leadline()
            .arg("--config")
            .arg(config)
            .args(["survey", "--format", "json"])
            .args(extra),
    );
    v.as_array().unwrap().clone()
}

/// October from Google Forms, November from Typeform.
fn two_waves(store: &TestStore, config: &Path, dir: &Path) {
    for (name, text, wave) in [
        ("g.csv", google_forms(), "2026-10"),
        ("t.csv", typeform(), "2026-11"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = import(store, config, &path, "psychological_safety", wave);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn score(groups: &[Value], group: &str, wave: &str, name: &str) -> Option<f64> {
    groups
        .iter()
        .find(|g| g["group"] == group && g["wave"] == wave && g["scores"].get(name).is_some())
        .and_then(|g| g["scores"][name].as_f64())
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// Every byte of the store (SQLite's files, or PostgreSQL's dump).
fn store_bytes(store: &TestStore) -> String {
    let mut bytes = Vec::new();
    if store.db.starts_with("postgres") {
        let out = std::process::Command::new("pg_dump")
            .arg(&store.db)
            .output()
            .unwrap();
        assert!(out.status.success());
        bytes = out.stdout;
    } else {
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(b) = std::fs::read(format!("{}{suffix}", store.db)) {
                bytes.extend(b);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn three_forms_exports_give_the_hand_computed_team_scores_and_keep_no_identity() {
    for store in TestStore::both() {
        let dir = tempfile::tempdir().unwrap();
        let config = setup(dir.path());
        let files = [
            (
                "google.csv",
                google_forms(),
                "psychological_safety",
                "2026-10",
            ),
            (
                "typeform.csv",
                typeform(),
                "psychological_safety",
                "2026-11",
            ),
            (
                "msforms.csv",
                microsoft_forms(),
                "developer_experience",
                "2026-11",
            ),
        ];
        for (name, text, instrument, wave) in &files {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let out = import(&store, &config, &path, instrument, wave);
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // Importing the same file again stores nothing new.
            let again = import(&store, &config, &path, instrument, wave);
            assert!(String::from_utf8_lossy(&again.stderr).contains("(0 new)"));
        }
        let groups = survey(&store, &config, &[]);
        // October, core: respondents' means 6 (ps1, ps3, ps5 as 8 − answer), 1.75 (four items
        // answered) and 4; the team's score is their mean.
        assert!(
            close(
                score(&groups, "core", "2026-10", "psychological_safety"),
                (6.0 + 1.75 + 4.0) / 3.0
            ),
            "{groups:?}"
        );
        // web (2) and ops (1) are under the floor of 3: together they are `other`, 7, 5 and 1.
        assert!(close(
            score(&groups, "other", "2026-10", "psychological_safety"),
            13.0 / 3.0
        ));
        assert!(
            !groups
                .iter()
                .any(|g| g["group"] == "web" || g["group"] == "ops")
        );
        // November, Typeform: all answers 5, three reverse-coded to 3: (3·3 + 4·5) / 7.
        assert!(close(
            score(&groups, "core", "2026-11", "psychological_safety"),
            29.0 / 7.0
        ));
        // November's `other` would be web's 2 respondents alone: under the floor, not shown.
        assert!(
            !groups
                .iter()
                .any(|g| g["group"] == "other" && g["wave"] == "2026-11")
        );
        // Microsoft Forms: focus time was left blank once, so it is the mean of the two who
        // answered; the overall score is the mean of the respondents' means (20/6, 15/5, 20/6).
        assert!(close(score(&groups, "core", "2026-11", "build_speed"), 3.0));
        assert!(close(score(&groups, "core", "2026-11", "focus_time"), 3.0));
        assert!(close(
            score(&groups, "core", "2026-11", "developer_experience"),
            29.0 / 9.0
        ));
        let respondents: Vec<(String, String, i64)> = groups
            .iter()
            .map(|g| {
                (
                    g["group"].as_str().unwrap().to_owned(),
                    g["wave"].as_str().unwrap().to_owned(),
                    g["respondents"].as_i64().unwrap(),
                )
            })
            .collect();
        assert!(respondents.iter().all(|(.., n)| *n >= 3), "{respondents:?}");
        // Nothing that identifies anyone, or says when they answered, reached the store.
        let bytes = store_bytes(&store);
        for leaked in [
            "@example.com",
            "Person",
            "9:14:02",
            "2026-11-02 10:0",
            "tok0abcdef",
            "net077",
            "we are fine",
        ] {
            assert!(
                !bytes.contains(leaked),
                "{leaked} is in the {} store",
                store.backend
            );
        }
    }
}

#[test]
fn a_bad_answer_or_an_unknown_team_refuses_the_file_and_stores_nothing() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path());
    let before = crate::server::row_counts(&store);
    for (text, expected) in [
        (
            "team,ps1,ps2\ncore,3,4\ncore,8,4\n",
            "bad.csv:3: ps1: \"8\" is not an answer from 1 to 7",
        ),
        (
            "team,ps1\ncore,3\nghosts,2\n",
            "bad.csv:3: team: unknown team \"ghosts\"",
        ),
        (
            "Team,Email\ncore,a@example.com\n",
            "no column is an item of psychological_safety",
        ),
    ] {
        let path = dir.path().join("bad.csv");
        std::fs::write(&path, text).unwrap();
        let out = import(&store, &config, &path, "psychological_safety", "2026-10");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{err}");
    }
    let path = dir.path().join("ok.csv");
    std::fs::write(&path, "team,ps1\ncore,3\n").unwrap();
    let out = import(&store, &config, &path, "no_such_instrument", "2026-10");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("psychological_safety, developer_experience")
    );
    let out = import(&store, &config, &path, "psychological_safety", "October");
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected YYYY-MM"));
    assert_eq!(crate::server::row_counts(&store), before);
}

#[test]
fn the_api_answers_as_the_command_line_and_never_per_respondent() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path());
    let path = dir.path().join("google.csv");
    std::fs::write(&path, google_forms()).unwrap();
    assert!(
        import(&store, &config, &path, "psychological_safety", "2026-10")
            .status
            .success()
    );
    let cli = survey(&store, &config, &["--instrument", "psychological_safety"]);
    let server = crate::server::Server::start(&store, Some(&config));
    let api: Value = server
        .get("/api/v1/survey?instrument=psychological_safety")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(api.as_array().unwrap(), &cli);
    let text = api.to_string();
    for never in ["answers", "ps1", "respondent\""] {
        assert!(!text.contains(never), "{never} in {text}");
    }
    let bad = server.get("/api/v1/survey?by=team").send().unwrap();
    assert_eq!(bad.status(), 400);
}

#[test]
fn scores_are_named_metrics_for_okrs_and_the_metric_command() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path());
    two_waves(&store, &config, dir.path());
    let metric = |name: &str, extra: &[&str]| {
        json_stdout(
            store
                .leadline()
                .arg("--config")
                .arg(&config)
                .args(["metric", name, "--format", "json"])
                .args(extra),
        )
    };
    // The newest wave by default, a wave by label, or the newest in a window.
    let newest = metric("survey.psychological_safety.score{team=core}", &[]);
    assert!(close(newest["value"].as_f64(), 29.0 / 7.0), "{newest}");
    let october = metric(
        "survey.psychological_safety.score{team=core,wave=2026-10}",
        &[],
    );
    assert!(close(october["value"].as_f64(), 11.75 / 3.0), "{october}");
    let windowed = metric(
        "survey.psychological_safety.score",
        &["--team", "core", "--until", "2026-11-01"],
    );
    assert!(close(windowed["value"].as_f64(), 11.75 / 3.0), "{windowed}");
    // web is under the floor: no score, and why.
    let web = metric("survey.psychological_safety.score{team=web}", &[]);
    assert!(
        web["value"].is_null()
            && web["reason"]
                .as_str()
                .unwrap()
                .contains("fold into `other`")
    );
    let missing_team = store
        .leadline()
        .arg("--config")
        .arg(&config)
        .args(["metric", "survey.psychological_safety.score"])
        .output()
        .unwrap();
    assert_eq!(missing_team.status.code(), Some(2));
}

#[test]
fn the_report_shows_the_waves_of_its_window() {
    let store = TestStore::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = setup(dir.path());
    two_waves(&store, &config, dir.path());
    let html = store.october_report(&config, dir.path());
    let shown: Vec<(String, f64)> =
        regex::Regex::new(r#"data-survey="([^"]+)" data-value="([^"]+)""#)
            .unwrap()
            .captures_iter(&html)
            .map(|c| (c[1].to_owned(), c[2].parse().unwrap()))
            .collect();
    let october = survey(&store, &config, &["--wave", "2026-10"]);
    let expected: Vec<(String, f64)> = october
        .iter()
        .map(|g| {
            (
                format!(
                    "psychological_safety/{}/2026-10/psychological_safety",
                    g["group"].as_str().unwrap()
                ),
                g["scores"]["psychological_safety"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shown, expected);
    assert!(!html.contains("2026-11/"), "November is outside the window");
}
