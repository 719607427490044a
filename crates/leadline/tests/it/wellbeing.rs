//! `leadline wellbeing` end to end on both stores: commit counts by local time against a
//! calculation in the test (offsets east and west of UTC, the 18:00 and 06:00 edges, a
//! weekend in local time that is not one in UTC), a team under the floor folded away and never
//! named, and no person in any output.

use serde_json::Value;

use crate::common::{GitRepo, TestStore, json_stdout};

/// (author, local date-time with offset) of the commits.
const COMMITS: &[(&str, &str)] = &[
    ("a1", "2024-05-03T10:00:00+02:00"), // Friday, working
    ("a2", "2024-05-03T18:00:00+02:00"), // Friday 18:00: off-hours
    ("a3", "2024-05-03T17:59:00-07:00"), // working
    ("a4", "2024-05-04T05:30:00+09:30"), // Saturday locally (Friday 20:00 UTC): weekend, late night
    ("a5", "2024-05-03T06:00:00+00:00"), // off-hours, not late night
    ("a1", "2024-05-03T05:59:00+00:00"), // late night
    ("a2", "2024-05-03T22:00:00-05:00"), // late night (Saturday in UTC, Friday locally)
    ("t1", "2024-05-04T11:00:00+00:00"), // the team of four's
    ("t2", "2024-05-05T11:00:00+00:00"),
    ("t3", "2024-05-05T12:00:00+00:00"),
    ("t4", "2024-05-05T13:00:00+00:00"),
    ("x9", "2024-05-03T12:00:00+00:00"), // in no team
];

fn commit(repo: &GitRepo, n: usize, who: &str, when: &str) {
    repo.write(b"f", format!("{n}\n").as_bytes());
    repo.commit_as_at(who, when, &format!("c{n}"));
}

#[test]
fn commit_counts_follow_local_time_and_small_teams_fold_away() {
    let repo = GitRepo::new();
    for (n, (who, when)) in COMMITS.iter().enumerate() {
        commit(&repo, n, who, when);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        "[[teams]]\nname = \"core\"\nmembers = [\"a1@example.com\", \"a2@example.com\", \"a3@example.com\", \"a4@example.com\", \"a5@example.com\"]\n\
         repositories = [\"api\"]\ntimezone = \"Europe/Berlin\"\n\n\
         [[teams]]\nname = \"tiny\"\nmembers = [\"t1@example.com\", \"t2@example.com\", \"t3@example.com\", \"t4@example.com\"]\n",
    )
    .unwrap();
    // The calculation: core's 7 commits by local time.
    let (mut off, mut weekend, mut late) = (0, 0, 0);
    let mut total = 0;
    for (_, when) in COMMITS.iter().filter(|(w, _)| w.starts_with('a')) {
        // The local time is what the author's clock said: the text before the offset.
        let t: jiff::civil::DateTime = when[..19].parse().unwrap();
        let minute = i32::from(t.hour()) * 60 + i32::from(t.minute());
        let sat_sun = matches!(
            t.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        );
        total += 1;
        off += usize::from(sat_sun || !(540..1080).contains(&minute));
        weekend += usize::from(sat_sun);
        late += usize::from(!(360..1320).contains(&minute));
    }
    assert_eq!((total, off, weekend, late), (7, 5, 1, 3));
    // Core's service `api` in Berlin (+02:00 in May): deployments at 09:30 and 19:30 local,
    // a page at 23:30 local.
    let head = repo.head();
    let deployments = dir.path().join("deployments.csv");
    std::fs::write(
        &deployments,
        format!("id,service,environment,sha,finished_at\nD1,api,production,{head},2024-05-06T07:30:00Z\nD2,api,production,{head},2024-05-06T17:30:00Z\n"),
    )
    .unwrap();
    let incidents = dir.path().join("incidents.csv");
    std::fs::write(
        &incidents,
        "id,service,opened_at\nI1,api,2024-05-06T21:30:00Z\n",
    )
    .unwrap();
    for store in TestStore::both() {
        store.ingest(repo.path());
        for (what, file) in [("deployments", &deployments), ("incidents", &incidents)] {
            store.run(&[
                std::ffi::OsStr::new("import"),
                std::ffi::OsStr::new(what),
                file.as_os_str(),
            ]);
        }
        let out = store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args([
                "wellbeing",
                "--since",
                "2024-05-01",
                "--until",
                "2024-05-10",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for secret in ["tiny", "example.com", "a1", "t1", "x9"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let report: Value = serde_json::from_str(&text).unwrap();
        let groups = report["groups"].as_array().unwrap();
        // The team of four and the one person in no team make an `other` of five: shown, the
        // team's name never.
        assert_eq!(groups.len(), 2, "{report}");
        assert_eq!(
            (&groups[1]["group"], &groups[1]["people"]),
            (&Value::from("other"), &Value::from(5))
        );
        let core = &groups[0];
        assert_eq!(
            (&core["group"], &core["people"]),
            (&Value::from("core"), &Value::from(5))
        );
        let c = &core["commits"];
        assert_eq!(
            (
                c["total"].as_u64(),
                c["off_hours"].as_u64(),
                c["weekend"].as_u64(),
                c["late_night"].as_u64()
            ),
            (
                Some(total as u64),
                Some(off as u64),
                Some(weekend as u64),
                Some(late as u64)
            )
        );
        assert_eq!(
            c["off_hours_share"].as_f64(),
            Some(off as f64 / total as f64)
        );
        assert_eq!(
            (
                &core["deployments"]["total"],
                &core["deployments"]["out_of_hours"]
            ),
            (&Value::from(2), &Value::from(1))
        );
        assert_eq!(
            (&core["pages"]["night"], &core["pages"]["disrupted_hours"]),
            (&Value::from(1), &Value::from(1))
        );
        // CSV: core's row with the same counts, and nothing personal.
        let csv = store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args([
                "wellbeing",
                "--since",
                "2024-05-01",
                "--until",
                "2024-05-10",
                "--format",
                "csv",
            ])
            .output()
            .unwrap();
        let csv = String::from_utf8_lossy(&csv.stdout);
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .contains(&format!(",core,5,{total},{off},{weekend},{late},")),
            "{csv}"
        );
        assert!(
            !csv.contains("tiny") && !csv.contains("example.com"),
            "{csv}"
        );
        // The table too names no small team and no person.
        let table = store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args([
                "wellbeing",
                "--since",
                "2024-05-01",
                "--until",
                "2024-05-10",
            ])
            .output()
            .unwrap();
        let table = String::from_utf8_lossy(&table.stdout);
        assert!(
            !table.contains("tiny") && !table.contains("example.com"),
            "{table}"
        );
        // --explain: each of core's commits with its local time and how it counted.
        let explained = json_stdout(store.leadline().arg("--config").arg(&config).args([
            "wellbeing",
            "--since",
            "2024-05-01",
            "--until",
            "2024-05-10",
            "--explain",
            "--format",
            "json",
        ]));
        let rows = explained["groups"][0]["explain"].as_array().unwrap();
        assert_eq!(rows.len(), total);
        let late: usize = rows.iter().filter(|r| r["late_night"] == true).count();
        assert_eq!(late, 3);
        assert!(
            rows.iter()
                .any(|r| r["local_time"] == "2024-05-04T05:30:00+09:30"),
            "{explained}"
        );
        assert!(!explained.to_string().contains("example.com"));
        // The catalog name and the API say the same, and the API names no one either.
        let metric = json_stdout(store.leadline().arg("--config").arg(&config).args([
            "metric",
            "wellbeing.commits.off_hours_share{team=core}",
            "--since",
            "2024-05-01",
            "--until",
            "2024-05-10",
            "--format",
            "json",
        ]));
        assert_eq!(metric["value"], c["off_hours_share"]);
        let server = crate::server::Server::start(&store, Some(&config));
        let served = server
            .get("/api/v1/wellbeing?since=2024-05-01&until=2024-05-10")
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert_eq!(serde_json::from_str::<Value>(&served).unwrap(), report);
        assert!(
            !served.contains("tiny") && !served.contains("example.com"),
            "{served}"
        );
        server.stop();
        let all = json_stdout(store.leadline().args([
            "wellbeing",
            "--since",
            "2024-05-01",
            "--until",
            "2024-05-10",
            "--format",
            "json",
        ]));
        // Without teams: one group of all ten people.
        assert_eq!(
            (&all["groups"][0]["group"], &all["groups"][0]["people"]),
            (&Value::from("all"), &Value::from(10))
        );
    }
}

/// `leadline learning`: bus factors, knowledge spread and mobility against a calculation here.
#[test]
fn learning_counts_bus_factors_and_mobility() {
    let repo = GitRepo::new();
    // (author, area, date): Q1 and Q2 of 2024.
    let changes: &[(&str, &str, &str)] = &[
        ("p1", "a", "2024-01-10T10:00:00+00:00"),
        ("p1", "a", "2024-01-11T10:00:00+00:00"),
        ("p2", "a", "2024-01-12T10:00:00+00:00"),
        ("p3", "b", "2024-02-10T10:00:00+00:00"),
        ("p4", "b", "2024-02-11T10:00:00+00:00"),
        ("p5", "c", "2024-02-12T10:00:00+00:00"),
        ("p1", "b", "2024-04-10T10:00:00+00:00"),
        ("p2", "a", "2024-04-11T10:00:00+00:00"),
        ("p3", "c", "2024-04-12T10:00:00+00:00"),
        ("p4", "b", "2024-04-13T10:00:00+00:00"),
        ("p5", "a", "2024-04-14T10:00:00+00:00"),
    ];
    for (n, (who, area, when)) in changes.iter().enumerate() {
        repo.write(format!("{area}/f{n}.txt").as_bytes(), b"x\n");
        repo.commit_as_at(who, when, &format!("c{n}"));
    }
    for store in TestStore::both() {
        store.ingest(repo.path());
        let out = store
            .leadline()
            .args([
                "learning",
                "--since",
                "2024-01-01",
                "--until",
                "2024-07-01",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            !text.contains("example.com") && !text.contains("\"p1"),
            "{text}"
        );
        let r: Value = serde_json::from_str(&text).unwrap();
        let factor = |area: &str| {
            r["areas"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["area"] == area)
                .unwrap()["bus_factor"]
                .clone()
        };
        // a: p1 2, p2 2, p5 1 (5): two cover half; b: p3 1, p4 2, p1 1 (4): p4 alone is half;
        // c: p5 1, p3 1: one is half.
        assert_eq!(
            (factor("a"), factor("b"), factor("c")),
            (Value::from(2), Value::from(1), Value::from(1))
        );
        assert_eq!(r["knowledge_spread"].as_f64(), Some(1.0 / 3.0));
        // Q2: five active; p1 (b), p3 (c), p5 (a) are new to their areas; p2 and p4 are not.
        let q2 = &r["quarters"][1];
        assert_eq!(
            (&q2["quarter"], &q2["active_people"], &q2["mobile_people"]),
            (&Value::from("2024-Q2"), &Value::from(5), &Value::from(3))
        );
        assert_eq!(q2["mobility"].as_f64(), Some(0.6));
        // Q1 had five active too, all new (nothing before): mobility 1.
        assert_eq!(r["quarters"][0]["mobility"].as_f64(), Some(1.0));
    }
}
