//! `leadline scorecard` end to end on both stores: levels by OpsLevel's rule over file,
//! catalog and metric checks; a failing bronze check caps a service that passes gold.

use std::ffi::OsStr;

use serde_json::Value;

use crate::common::{GitRepo, TestStore, json_stdout};

const CARDS: &str = r#"
[[check]]
name = "CODEOWNERS"
level = "bronze"
exists = ["CODEOWNERS", ".github/CODEOWNERS"]
hint = "Add a CODEOWNERS file"

[[check]]
name = "Owner in the catalog"
level = "bronze"
owner_set = true

[[check]]
name = "Runbook"
level = "silver"
contains = { path = "README.md", regex = "(?i)runbook" }
hint = "Link the runbook from the README"

[[check]]
name = "Deploys weekly"
level = "gold"
metric = "dora.deployment_frequency.deployments"
op = ">="
value = 12
window_days = 90
"#;

fn service(name_files: &[(&str, &str)]) -> GitRepo {
    let repo = GitRepo::new();
    for (path, text) in name_files {
        repo.write(path.as_bytes(), text.as_bytes());
    }
    repo.commit_all_at(1_704_067_200, None, "init");
    repo
}

#[test]
fn levels_follow_the_lowest_failing_check() {
    let descriptor = |name: &str, owner: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
        )
    };
    let full = service(&[
        ("CODEOWNERS", "* @team-a\n"),
        ("README.md", "See the Runbook.\n"),
        ("catalog-info.yaml", &descriptor("full", "team-a")),
    ]);
    let capped = service(&[
        ("README.md", "runbook\n"),
        ("catalog-info.yaml", &descriptor("capped", "team-b")),
    ]);
    let name = |r: &GitRepo| r.path().file_name().unwrap().to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,service,environment,sha,finished_at\n");
    for r in [&full, &capped] {
        let head = r.head();
        for d in 0..15 {
            csv.push_str(&format!(
                "{}-{d},{},production,{head},2024-02-{:02}T10:00:00Z\n",
                name(r),
                name(r),
                d + 1
            ));
        }
    }
    let deployments = dir.path().join("deployments.csv");
    std::fs::write(&deployments, csv).unwrap();
    let cards = dir.path().join("scorecards.toml");
    std::fs::write(&cards, CARDS).unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!("[scorecards]\nfile = {:?}\n", cards.display().to_string()),
    )
    .unwrap();
    for store in TestStore::both() {
        store.ingest(full.path());
        store.ingest(capped.path());
        store.run(&[
            OsStr::new("import"),
            OsStr::new("deployments"),
            deployments.as_os_str(),
        ]);
        let found = json_stdout(store.leadline().arg("--config").arg(&config).args([
            "scorecard",
            "--at",
            "2024-03-01",
            "--format",
            "json",
        ]));
        let card = |r: &GitRepo| -> Value {
            found
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["service"] == name(r).as_str())
                .unwrap()
                .clone()
        };
        let f = card(&full);
        assert_eq!(
            (&f["level"], &f["rank"]),
            (&Value::from("gold"), &Value::from(3)),
            "{f}"
        );
        assert_eq!(
            f["checks"][3]["evidence"],
            "dora.deployment_frequency.deployments = 15 (needs >= 12)"
        );
        let c = card(&capped);
        // No CODEOWNERS: no level at all, though the runbook and the deployments pass.
        assert_eq!(
            (&c["level"], &c["rank"]),
            (&Value::Null, &Value::from(0)),
            "{c}"
        );
        let passes: Vec<bool> = c["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["pass"].as_bool().unwrap())
            .collect();
        assert_eq!(passes, [false, true, true, true]);
        assert_eq!(c["checks"][0]["hint"], "Add a CODEOWNERS file");
        // The API answers the same, and lists the catalog as `catalog --format json` does.
        let server = crate::server::Server::start(&store, Some(&config));
        let served: Value = server
            .get("/api/v1/scorecards?at=2024-03-01")
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(served, found);
        let catalog: Value = server
            .get("/api/v1/catalog")
            .send()
            .unwrap()
            .json()
            .unwrap();
        let printed = json_stdout(
            store
                .leadline()
                .arg("--config")
                .arg(&config)
                .args(["catalog", "--format", "json"]),
        );
        assert_eq!(catalog, printed);
        server.stop();
    }
}

/// `--trend` grades each month's end on the files HEAD had then.
#[test]
fn the_trend_follows_the_history_month_by_month() {
    let repo = GitRepo::new();
    repo.write(b"README.md", b"hello\n");
    repo.commit_all_at(1_704_880_800, None, "2024-01-10");
    repo.write(b"CODEOWNERS", b"* @team-a\n");
    repo.commit_all_at(1_707_991_200, None, "2024-02-15");
    repo.write(b"README.md", b"hello; the runbook is in docs/\n");
    repo.commit_all_at(1_712_311_200, None, "2024-04-05");
    let dir = tempfile::tempdir().unwrap();
    let cards = dir.path().join("scorecards.toml");
    std::fs::write(
        &cards,
        "[[check]]\nlevel = \"bronze\"\nexists = \"CODEOWNERS\"\n\n[[check]]\nlevel = \"silver\"\ncontains = { path = \"README.md\", regex = \"runbook\" }\n",
    )
    .unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!("[scorecards]\nfile = {:?}\n", cards.display().to_string()),
    )
    .unwrap();
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    let trend = json_stdout(store.leadline().arg("--config").arg(&config).args([
        "scorecard",
        "--trend",
        "--at",
        "2024-06-10",
        "--months",
        "5",
        "--format",
        "json",
    ]));
    let months: Vec<(String, Value)> = trend[0]["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["month"].as_str().unwrap().to_owned(), m["level"].clone()))
        .collect();
    let expected: Vec<(String, Value)> = [
        ("2024-01", Value::Null),
        ("2024-02", "bronze".into()),
        ("2024-03", "bronze".into()),
        ("2024-04", "silver".into()),
        ("2024-05", "silver".into()),
    ]
    .into_iter()
    .map(|(m, l)| (m.to_owned(), l))
    .collect();
    assert_eq!(months, expected);
}
