//! `leadline catalog` end to end: descriptors at an ingested repository's HEAD (following a
//! Location's targets) and from `[catalog] files` globs, written after Backstage's own
//! examples (github.com/backstage/backstage, packages/catalog-model/examples, Apache-2.0,
//! © The Backstage Authors); invalid documents reported, never fatal; `catalog check` exits 1
//! on them and on dangling references.

use serde_json::{Value, json};

use crate::common::{GitRepo, TestStore, json_stdout};

const ROOT: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: example-org
spec:
  targets:
    - ./org/groups.yaml
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: artist-lookup
  annotations:
    github.com/project-slug: example/artist-lookup
spec:
  type: service
  lifecycle: experimental
  owner: team-a
  system: artist-engagement-portal
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invalid component
spec:
  type: service
  lifecycle: production
  owner: user:guest
"#;

const GROUPS: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: guest
spec:
  profile:
    email: guest@example.com
  memberOf: [team-a]
"#;

const SYSTEMS: &str = r#"apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: artist-engagement-portal
  namespace: default
spec:
  owner: group:default/Team-A
  domain: artists
"#;

#[test]
fn descriptors_from_heads_locations_and_globs_make_one_catalog() {
    let repo = GitRepo::new();
    repo.write(b"catalog-info.yaml", ROOT.as_bytes());
    repo.write(b"org/groups.yaml", GROUPS.as_bytes());
    repo.commit_all("catalog");
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("catalog");
    std::fs::create_dir(&extra).unwrap();
    std::fs::write(extra.join("systems.yaml"), SYSTEMS).unwrap();
    std::fs::write(extra.join("broken.yaml"), "kind: [unclosed\n").unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        format!(
            "[catalog]\nfiles = [{:?}]\n",
            format!("{}/*.yaml", extra.display())
        ),
    )
    .unwrap();
    for store in TestStore::both() {
        store.ingest(repo.path());
        let name = repo
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let out = store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args(["catalog", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "{name}:catalog-info.yaml: document 3 (line 24), field metadata.name"
            )) && stderr.contains("broken.yaml: document 0"),
            "{stderr}"
        );
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let expected = json!([
            {"kind": "Component", "namespace": "default", "name": "artist-lookup",
             "owner": "group:default/team-a", "system": "system:default/artist-engagement-portal",
             "lifecycle": "experimental", "type": "service", "repository": name},
            {"kind": "Group", "namespace": "default", "name": "team-a", "owner": null,
             "system": null, "lifecycle": null, "type": "team", "repository": name},
            {"kind": "Location", "namespace": "default", "name": "example-org", "owner": null,
             "system": null, "lifecycle": null, "type": null, "repository": name},
            {"kind": "System", "namespace": "default", "name": "artist-engagement-portal",
             "owner": "group:default/team-a", "system": null, "lifecycle": null, "type": null,
             "repository": null},
            {"kind": "User", "namespace": "default", "name": "guest", "owner": null,
             "system": null, "lifecycle": null, "type": null, "repository": name},
        ]);
        assert_eq!(listed, expected);
        let components = json_stdout(store.leadline().arg("--config").arg(&config).args([
            "catalog",
            "--kind",
            "component",
            "--format",
            "json",
        ]));
        assert_eq!(components.as_array().unwrap().len(), 1);
        // check: the invalid documents, and the system's domain that is nowhere.
        let out = store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args(["catalog", "check"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "system:default/artist-engagement-portal spec.domain names domain:default/artists"
            ),
            "{stderr}"
        );
    }
}

/// With `[catalog] teams = true`, the catalog's Groups are teams (their users' emails the
/// members) beside leadline.toml's, which win where both name a team (a warning says so).
#[test]
fn catalog_groups_become_teams_and_config_wins() {
    let repo = GitRepo::new();
    repo.write(
        b"catalog-info.yaml",
        b"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n  members: [ann]\n---\n\
          apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: ann\nspec:\n  profile:\n    email: Ann@Example.com\n  memberOf: []\n---\n\
          apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-b\nspec:\n  type: team\n  children: []\n  members: [ann]\n",
    );
    repo.commit_all_as("Ann <ann@example.com>", "one");
    repo.write(b"a.txt", b"2\n");
    repo.commit_all_as("Ann <ann@example.com>", "two");
    repo.write(b"b.txt", b"3\n");
    repo.commit_all_as("Bob <bob@example.com>", "three");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leadline.toml");
    std::fs::write(
        &config,
        "[catalog]\nteams = true\n\n[privacy]\nmin_group_size = 1\n\n[[teams]]\nname = \"team-b\"\nmembers = [\"bob@example.com\"]\n",
    )
    .unwrap();
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    let changes = |team: &str| {
        let out = store
            .leadline()
            .arg("--config")
            .arg(&config)
            .args([
                "ai",
                "--team",
                team,
                "--since",
                "2000-01-01",
                "--until",
                "2100-01-01",
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
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            v["changes"]["total"].as_u64().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (a, _) = changes("team-a");
    assert_eq!(a, 2);
    let (b, warned) = changes("team-b");
    assert_eq!(b, 1);
    assert!(
        warned.contains("team team-b") && warned.contains("leadline.toml wins"),
        "{warned}"
    );
}

/// With `[catalog] services = true`, deployments and incidents filed under a Component's
/// PagerDuty service id or repository slug count for the Component.
#[test]
fn component_annotations_link_deployments_and_incidents() {
    let repo = GitRepo::new();
    repo.write(
        b"catalog-info.yaml",
        b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout\n  annotations:\n    pagerduty.com/service-id: PXYZ123\n    github.com/project-slug: acme/checkout\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n",
    );
    let sha = repo.commit_all_at(1_714_521_600, None, "init");
    let dir = tempfile::tempdir().unwrap();
    let deployments = dir.path().join("deployments.csv");
    std::fs::write(
        &deployments,
        format!("id,service,environment,sha,finished_at\nD1,checkout,production,{sha},2024-05-02T00:00:00Z\nD2,acme/checkout,production,{sha},2024-05-03T00:00:00Z\n"),
    )
    .unwrap();
    let incidents = dir.path().join("incidents.csv");
    std::fs::write(
        &incidents,
        "id,service,opened_at,resolved_at,cause_deployment\nI1,PXYZ123,2024-05-03T01:00:00Z,2024-05-03T02:00:00Z,D2\n",
    )
    .unwrap();
    let linked = dir.path().join("linked.toml");
    std::fs::write(&linked, "[catalog]\nservices = true\n").unwrap();
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, "").unwrap();
    let store = TestStore::sqlite();
    store.ingest(repo.path());
    for (what, file) in [("deployments", &deployments), ("incidents", &incidents)] {
        store.run(&[
            std::ffi::OsStr::new("import"),
            std::ffi::OsStr::new(what),
            file.as_os_str(),
        ]);
    }
    let dora = |config: &std::path::Path| {
        json_stdout(store.leadline().arg("--config").arg(config).args([
            "dora",
            "--service",
            "checkout",
            "--since",
            "2024-05-01",
            "--until",
            "2024-05-10",
            "--format",
            "json",
        ]))
    };
    let with = dora(&linked);
    assert_eq!(with["deployment_frequency"]["deployments"], 2, "{with}");
    assert_eq!(
        with["change_failure_rate"]["failed_deployments"], 1,
        "{with}"
    );
    let without = dora(&plain);
    assert_eq!(
        without["deployment_frequency"]["deployments"], 1,
        "{without}"
    );
}
