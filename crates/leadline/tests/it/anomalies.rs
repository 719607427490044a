//! `leadline anomalies` end to end on both stores: a delivery history with a level shift and a
//! spike is proposed as exactly those weeks, in the JSON contract; ack and dismiss round-trip;
//! a dismissed week leaves later baselines; bad ids and reasons store nothing.

use std::ffi::OsStr;
use std::path::Path;

use serde_json::Value;

use crate::common::{GitRepo, TestStore, json_stdout};

// 2024-03-04, a Monday (ISO week 2024-W10).
const WEEK0: i64 = 1_709_510_400;
const HOUR: i64 = 3_600;
const WEEK: i64 = 7 * 24 * HOUR;

/// Deployments per week of service `api`: 5 for ten weeks, then 15 (a level shift from week
/// 10, 2024-W20), with 40 in week 16 (2024-W26, a spike against the new level); each
/// deployment ships one commit made an hour earlier, so lead times never move.
const PER_WEEK: [usize; 19] = [
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 15, 15, 15, 15, 15, 15, 40, 15, 15,
];

fn history(dir: &Path) -> (GitRepo, std::path::PathBuf) {
    let repo = GitRepo::new();
    let mut csv = String::from("id,service,environment,sha,finished_at\n");
    let mut n = 0;
    for (week, count) in PER_WEEK.iter().enumerate() {
        for k in 0..*count {
            // Spread evenly over Monday to Friday, in commit order.
            let at = WEEK0 + week as i64 * WEEK + k as i64 * (5 * 24 * HOUR) / *count as i64;
            repo.write(b"f", format!("{n}\n").as_bytes());
            let sha = repo.commit_all_at(at, None, &format!("change {n}"));
            let deployed = jiff::Timestamp::from_second(at + HOUR).unwrap();
            csv.push_str(&format!("D{n},api,production,{sha},{deployed}\n"));
            n += 1;
        }
    }
    let file = dir.join("deployments.csv");
    std::fs::write(&file, csv).unwrap();
    (repo, file)
}

fn anomalies(store: &TestStore, extra: &[&str]) -> Vec<Value> {
    let v = json_stdout(
        store
            .leadline()
            .args(["anomalies", "--format", "json"])
            .args(extra),
    );
    v.as_array().expect("an array").clone()
}

fn find<'a>(list: &'a [Value], week: &str) -> &'a Value {
    list.iter()
        .find(|p| p["week"] == week)
        .unwrap_or_else(|| panic!("no proposal in {week}: {list:?}"))
}

#[test]
fn a_shift_and_a_spike_are_proposed_judged_and_dismissals_leave_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, deployments) = history(dir.path());
    for store in TestStore::both() {
        store.ingest(repo.path());
        store.run(&[
            OsStr::new("import"),
            OsStr::new("deployments"),
            deployments.as_os_str(),
        ]);
        let list = anomalies(&store, &[]);
        // Exactly the two weeks, newest first.
        let weeks: Vec<&str> = list.iter().map(|p| p["week"].as_str().unwrap()).collect();
        assert_eq!(weeks, ["2024-W26", "2024-W20"], "{list:#?}");
        let spike = find(&list, "2024-W26");
        let keys: Vec<&str> = spike
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "baseline",
                "direction",
                "high",
                "id",
                "kind",
                "low",
                "metric",
                "scope",
                "state",
                "value",
                "week",
                "week_start"
            ]
        );
        assert_eq!(spike["metric"], "dora.deployment_frequency.deployments");
        assert_eq!(spike["scope"], serde_json::json!({"service": "api"}));
        assert_eq!(spike["week_start"], "2024-06-24T00:00:00+00:00");
        assert_eq!(
            (&spike["kind"], &spike["direction"], &spike["state"]),
            (
                &Value::from("spike"),
                &Value::from("up"),
                &Value::from("open")
            )
        );
        // The baseline is the six weeks of the new level; the band is Poisson around it.
        assert_eq!(
            (spike["value"].as_f64(), spike["baseline"].as_f64()),
            (Some(40.0), Some(15.0))
        );
        let (low, high) = (
            spike["low"].as_f64().unwrap(),
            spike["high"].as_f64().unwrap(),
        );
        assert!(low < 15.0 && 15.0 < high && high < 40.0, "{spike}");
        let shift = find(&list, "2024-W20");
        assert_eq!(
            (
                &shift["kind"],
                &shift["direction"],
                shift["baseline"].as_f64()
            ),
            (&Value::from("shift"), &Value::from("up"), Some(5.0))
        );
        // --since/--until select weeks by their start.
        let only = anomalies(&store, &["--since", "2024-06-01", "--until", "2024-07-01"]);
        assert_eq!(only.len(), 1);
        assert_eq!(only[0]["week"], "2024-W26");

        // Acknowledge the spike, dismiss the shift's first week: both stored, listed with state.
        let id = |p: &Value| p["id"].as_str().unwrap().to_owned();
        store
            .leadline()
            .args(["anomalies", "ack", &id(spike), "--note", "release train"])
            .assert()
            .success();
        store
            .leadline()
            .args(["anomalies", "dismiss", &id(shift), "--reason", "expected"])
            .assert()
            .success();
        let list = anomalies(&store, &[]);
        // With week 10 out of the new level's baseline, week 16 has five weeks behind it, fewer
        // than the six needed: no spike is proposed any more.
        let weeks: Vec<&str> = list.iter().map(|p| p["week"].as_str().unwrap()).collect();
        assert_eq!(weeks, ["2024-W20"], "{list:#?}");
        assert_eq!(list[0]["state"], "dismissed");
        assert_eq!(list[0]["reason"], "expected");
        let table = store.leadline().arg("anomalies").output().unwrap();
        let text = String::from_utf8_lossy(&table.stdout);
        assert!(
            text.contains("confirmed 1 and dismissed 1") && text.contains("live precision 50%"),
            "{text}"
        );

        // A wrong id or reason: exit 2, nothing stored.
        let before = crate::server::row_counts(&store);
        let out = store
            .leadline()
            .args(["anomalies", "ack", "ffffffffffff"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("ffffffffffff"));
        let out = store
            .leadline()
            .args(["anomalies", "dismiss", &id(shift), "--reason", "boring"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("boring"));
        assert_eq!(crate::server::row_counts(&store), before);
    }
}
