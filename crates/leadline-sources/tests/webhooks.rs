//! Webhook mappings on real GitHub payloads (and GitLab/alert bodies written after their
//! documentation). Expected values are read off the payload files by hand.

use leadline_core::events::{Build, Outcome, PullRequest, PushedCommit, Review};
use leadline_core::events::{Milestone, Stage};
use leadline_core::model::{Deployment, Incident};
use leadline_sources::webhook::{alerts, github, gitlab};

fn fixture(path: &str) -> Vec<u8> {
    // The package's directory as `cargo test` gives it when it runs the test: a test binary
    // reused from a build at another path would otherwise look there.
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let full = format!("{dir}/tests/fixtures/{path}");
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn ms(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

const RECEIVED: i64 = 1_700_000_000_000;

fn gh(event: &str, path: &str) -> leadline_sources::webhook::Mapping {
    github::map(
        event,
        &fixture(&format!("github/{path}")),
        RECEIVED,
        &github::Options::default(),
    )
    .unwrap()
}

/// `gh` on a payload edited in the test.
fn gh_value(event: &str, payload: &serde_json::Value) -> leadline_sources::webhook::Mapping {
    github::map(
        event,
        &serde_json::to_vec(payload).unwrap(),
        RECEIVED,
        &github::Options::default(),
    )
    .unwrap()
}

#[test]
fn github_documented_signature_vector() {
    let secret = b"It's a Secret to Everybody";
    let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert!(github::signature_is_valid(secret, b"Hello, World!", header));
    assert!(!github::signature_is_valid(
        secret,
        b"Hello, World?",
        header
    ));
    assert!(!github::signature_is_valid(
        b"another secret",
        b"Hello, World!",
        header
    ));
    assert!(!github::signature_is_valid(
        secret,
        b"Hello, World!",
        &header.replace("sha256=", "sha1=")
    ));
    assert!(!github::signature_is_valid(
        secret,
        b"Hello, World!",
        "sha256=75"
    ));
    assert!(!github::signature_is_valid(
        secret,
        b"Hello, World!",
        "sha256=zz"
    ));
    assert!(!github::signature_is_valid(secret, b"Hello, World!", ""));
}

#[test]
fn github_deployment_status_is_a_deployment() {
    let m = gh("deployment_status", "deployment_status/payload.json");
    assert_eq!(m.outcome, Outcome::Stored);
    assert_eq!(
        m.events.deployments,
        [Deployment {
            id: "145988746".into(),
            service: "Hello-World".into(),
            environment: "production".into(),
            sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into(),
            started_at: Some(ms("2019-05-15T15:20:53Z")),
            finished_at: ms("2019-05-15T15:20:55Z"),
            status: "success".into(),
            repo: Some("Hello-World".into()),
        }]
    );
    assert_eq!(m.detail, "1 deployment");
}

#[test]
fn github_deployment_progress_and_other_events() {
    let mut body: serde_json::Value =
        serde_json::from_slice(&fixture("github/deployment_status/payload.json")).unwrap();
    for (state, status) in [
        ("in_progress", "in_progress"),
        ("queued", "queued"),
        ("pending", "pending"),
        ("error", "failure"),
        ("failure", "failure"),
    ] {
        body["deployment_status"]["state"] = state.into();
        let m = gh_value("deployment_status", &body);
        assert_eq!(m.events.deployments[0].status, status, "{state}");
    }
    body["deployment_status"]["state"] = "inactive".into();
    let m = gh_value("deployment_status", &body);
    assert_eq!(m.outcome, Outcome::Ignored);
    // The gh-pages status is in progress, in its own environment.
    let pages = gh(
        "deployment_status",
        "deployment_status/gh-pages.payload.json",
    );
    let d = &pages.events.deployments[0];
    assert_eq!(
        (d.status.as_str(), d.environment.as_str()),
        ("in_progress", "github-pages")
    );
    let created = gh("deployment", "deployment/payload.json");
    let d = &created.events.deployments[0];
    assert_eq!(
        (d.id.as_str(), d.status.as_str(), d.finished_at),
        ("145988746", "pending", ms("2019-05-15T15:20:53Z"))
    );
    for (event, path) in [
        ("ping", "ping/payload.json"),
        ("check_run", "check_run/completed.payload.json"),
        ("push", "push/payload.json"),
        ("issues", "issues/labeled.payload.json"),
        ("release", "release/published.payload.json"),
    ] {
        let m = gh(event, path);
        assert_eq!(m.outcome, Outcome::Ignored, "{event}");
        assert!(m.events.is_empty(), "{event}");
    }
}

#[test]
fn github_push_to_the_default_branch_lists_its_commits() {
    let m = gh("push", "push/with-new-branch.payload.json");
    assert_eq!(
        m.events.pushed_commits,
        [PushedCommit {
            forge: "github".into(),
            repo: "Codertocat/Hello-World".into(),
            sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246".into(),
            ref_name: "refs/heads/master".into(),
            author_name: "Codertocat".into(),
            author_email: "21031067+Codertocat@users.noreply.github.com".into(),
            committed_at: ms("2019-05-15T15:19:25Z"),
            pushed_at: RECEIVED,
            message: "Initial commit".into(),
        }]
    );
}

#[test]
fn github_pull_request_and_review() {
    let m = gh("pull_request", "pull_request/closed.payload.json");
    assert_eq!(
        m.events.pull_requests,
        [PullRequest {
            forge: "github".into(),
            repo: "Codertocat/Hello-World".into(),
            number: 2,
            title: "Update the README with new information.".into(),
            author: "Codertocat".into(),
            state: "closed".into(),
            draft: false,
            created_at: ms("2019-05-15T15:20:33Z"),
            first_commit_at: None,
            rework_commits: None,
            ready_at: None,
            updated_at: ms("2019-05-15T15:21:18Z"),
            merged_at: None,
            closed_at: Some(ms("2019-05-15T15:21:18Z")),
            base_ref: "master".into(),
            head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
            merge_sha: None,
            additions: Some(1),
            deletions: Some(1),
            changed_files: Some(1),
            commits: Some(1),
            labels: vec!["bug".into()],
            // The fixture asks octocat for a review.
            review_requests: vec!["octocat".into()],
            actions: vec![],
            issue_keys: vec![],
        }]
    );
    let requested = gh("pull_request", "pull_request/review_requested.payload.json");
    assert_eq!(
        requested.events.pull_requests[0].review_requests,
        ["octocat"]
    );
    let opened = gh("pull_request", "pull_request/opened.payload.json");
    assert_eq!(opened.events.pull_requests[0].state, "open");
    assert_eq!(opened.events.pull_requests[0].ready_at, None);
    // Marking a draft ready: the delivery's update is the moment pickup starts.
    let ready = gh("pull_request", "pull_request/ready_for_review.payload.json");
    let pr = &ready.events.pull_requests[0];
    assert_eq!(
        (pr.draft, pr.created_at, pr.ready_at),
        (
            false,
            ms("2019-05-15T15:20:33Z"),
            Some(ms("2019-05-15T15:21:18Z"))
        )
    );
    let r = gh(
        "pull_request_review",
        "pull_request_review/submitted.payload.json",
    );
    assert_eq!(
        r.events.reviews,
        [Review {
            forge: "github".into(),
            repo: "Codertocat/Hello-World".into(),
            number: 2,
            id: "237895671".into(),
            reviewer: "Codertocat".into(),
            state: "commented".into(),
            submitted_at: ms("2019-05-15T15:20:38Z"),
            comments: None,
        }]
    );
}

#[test]
fn github_workflow_runs_are_builds_per_attempt() {
    let m = gh("workflow_run", "workflow_run/completed.payload.json");
    assert_eq!(
        m.events.builds,
        [Build {
            id: "289782451/1".into(),
            repo: "octo-org/octo-repo".into(),
            // The run has an empty name: its workflow file names it.
            pipeline: ".github/workflows/test.yml".into(),
            sha: "3484a3fb816e0859fd6e1cea078d76385ff50625".into(),
            branch: Some("master".into()),
            attempt: 1,
            status: "success".into(),
            created_at: ms("2020-10-05T16:33:24Z"),
            started_at: Some(ms("2020-10-05T16:33:49Z")),
            finished_at: Some(ms("2020-10-05T16:33:49Z")),
            updated_at: ms("2020-10-05T16:33:49Z"),
        }]
    );
    let queued = gh("workflow_run", "workflow_run/requested.payload.json");
    assert_eq!(queued.events.builds[0].status, "queued");
    assert_eq!(queued.events.builds[0].finished_at, None);
}

#[test]
fn github_issues_with_the_incident_label_are_incidents() {
    let options = github::Options {
        incident_label: "bug".into(),
        ..github::Options::default()
    };
    let m = github::map(
        "issues",
        &fixture("github/issues/labeled.payload.json"),
        RECEIVED,
        &options,
    )
    .unwrap();
    assert_eq!(
        m.events.incidents,
        [Incident {
            id: "Codertocat/Hello-World#1".into(),
            service: "Hello-World".into(),
            opened_at: ms("2019-05-15T15:20:18Z"),
            resolved_at: None,
            severity: None,
            title: Some("Spelling error in the README file".into()),
            cause_deployment: None,
            cause_sha: None,
            postmortem_url: None,
            fix_deployment: None,
            fix_sha: None,
            ..Incident::default()
        }]
    );
}

#[test]
fn github_releases_count_when_configured_and_they_name_a_commit() {
    let options = github::Options {
        releases_are_deployments: true,
        ..github::Options::default()
    };
    let body = fixture("github/release/published.payload.json");
    // The fixture's release targets the branch "master", not a commit.
    let m = github::map("release", &body, RECEIVED, &options).unwrap();
    assert_eq!(m.outcome, Outcome::Ignored);
    assert!(m.detail.contains("master"), "{}", m.detail);
    let mut value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    value["release"]["target_commitish"] = "a".repeat(40).into();
    let m = github::map(
        "release",
        &serde_json::to_vec(&value).unwrap(),
        RECEIVED,
        &options,
    )
    .unwrap();
    let d = &m.events.deployments[0];
    assert_eq!(
        (d.id.as_str(), d.sha.as_str(), d.finished_at),
        (
            "release-17372790",
            "a".repeat(40).as_str(),
            ms("2019-05-15T15:20:53Z")
        )
    );
}

#[test]
fn malformed_or_incomplete_payloads_name_the_field() {
    let e = github::map("push", b"{not json", RECEIVED, &github::Options::default()).unwrap_err();
    assert!(e.to_string().starts_with("invalid JSON"), "{e}");
    let mut body: serde_json::Value =
        serde_json::from_slice(&fixture("github/deployment_status/payload.json")).unwrap();
    body["deployment"].as_object_mut().unwrap().remove("sha");
    let e = github::map(
        "deployment_status",
        &serde_json::to_vec(&body).unwrap(),
        RECEIVED,
        &github::Options::default(),
    )
    .unwrap_err();
    assert_eq!(e.field, "deployment.sha");
    body["deployment"]["sha"] = "not-a-sha".into();
    let e = github::map(
        "deployment_status",
        &serde_json::to_vec(&body).unwrap(),
        RECEIVED,
        &github::Options::default(),
    )
    .unwrap_err();
    assert_eq!(e.field, "deployment.sha");
    assert!(gitlab::map(b"[]", RECEIVED).is_err());
    assert!(alerts::map(b"{\"hello\": 1}").is_err());
}

#[test]
fn gitlab_token_compares_whole_values() {
    assert!(gitlab::token_is_valid(b"s3cret", b"s3cret"));
    assert!(!gitlab::token_is_valid(b"s3cret", b"s3cre"));
    assert!(!gitlab::token_is_valid(b"s3cret", b"s3cret!"));
    assert!(!gitlab::token_is_valid(b"s3cret", b""));
}

#[test]
fn gitlab_events() {
    let d = gitlab::map(&fixture("gitlab/deployment.json"), RECEIVED).unwrap();
    assert_eq!(
        d.events.deployments,
        [Deployment {
            id: "15".into(),
            service: "test-deployment-webhooks".into(),
            environment: "production".into(),
            sha: "279484c09fbe69ededfced8c1bb6e6d24616b468".into(),
            started_at: None,
            finished_at: ms("2021-04-28T19:50:00Z"),
            status: "success".into(),
            repo: Some("test-deployment-webhooks".into()),
        }]
    );
    let mut running: serde_json::Value =
        serde_json::from_slice(&fixture("gitlab/deployment.json")).unwrap();
    running["status"] = "running".into();
    let r = gitlab::map(&serde_json::to_vec(&running).unwrap(), RECEIVED).unwrap();
    assert_eq!(r.events.deployments[0].status, "in_progress");
    let p = gitlab::map(&fixture("gitlab/pipeline.json"), RECEIVED).unwrap();
    assert_eq!(
        p.events.builds,
        [Build {
            id: "pipeline-31".into(),
            repo: "gitlab-org/gitlab-test".into(),
            pipeline: "Pipeline for branch: master".into(),
            sha: "bcbb5ec396a2c0f828686f14fac9b80b780504f2".into(),
            branch: Some("master".into()),
            attempt: 1,
            status: "failure".into(),
            created_at: ms("2016-08-12T15:23:28Z"),
            started_at: Some(ms("2016-08-12T15:23:40Z")),
            finished_at: Some(ms("2016-08-12T15:26:29Z")),
            updated_at: ms("2016-08-12T15:26:29Z"),
        }]
    );
    let mr = gitlab::map(&fixture("gitlab/merge_request.json"), RECEIVED).unwrap();
    let pr = &mr.events.pull_requests[0];
    assert_eq!(
        (
            pr.repo.as_str(),
            pr.number,
            pr.state.as_str(),
            pr.merged_at,
            pr.merge_sha.as_deref(),
            pr.labels.clone()
        ),
        (
            "gitlabhq/gitlab-test",
            1,
            "merged",
            Some(ms("2013-12-03T17:23:34Z")),
            Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7"),
            vec!["API".to_owned()]
        )
    );
    assert_eq!(pr.ready_at, None);
    // A hook whose changes take the draft flag (or, before GitLab 14, `work_in_progress`) from
    // true to false dates when the merge request became ready: its update.
    for flag in ["draft", "work_in_progress"] {
        let mut hook: serde_json::Value =
            serde_json::from_slice(&fixture("gitlab/merge_request.json")).unwrap();
        hook["changes"] = serde_json::json!({ flag: {"previous": true, "current": false} });
        let mr = gitlab::map(hook.to_string().as_bytes(), RECEIVED).unwrap();
        let pr = &mr.events.pull_requests[0];
        assert_eq!(pr.ready_at, Some(ms("2013-12-03T17:23:34Z")), "{flag}");
        hook["changes"] = serde_json::json!({ flag: {"previous": false, "current": true} });
        let mr = gitlab::map(hook.to_string().as_bytes(), RECEIVED).unwrap();
        assert_eq!(mr.events.pull_requests[0].ready_at, None, "{flag}");
    }
    let push = gitlab::map(&fixture("gitlab/push.json"), RECEIVED).unwrap();
    let shas: Vec<(&str, i64)> = push
        .events
        .pushed_commits
        .iter()
        .map(|c| (c.sha.as_str(), c.committed_at))
        .collect();
    assert_eq!(
        shas,
        [
            (
                "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
                ms("2011-12-12T12:27:31Z")
            ),
            (
                "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
                ms("2012-01-03T21:36:29Z")
            )
        ]
    );
}

/// id, service, opened, resolved, title
type AlertRow<'a> = (&'a str, &'a str, i64, Option<i64>, Option<&'a str>);

#[test]
fn alertmanager_alerts_open_and_resolve_by_fingerprint() {
    let m = alerts::map(&fixture("alerts/alertmanager.json")).unwrap();
    let rows: Vec<AlertRow<'_>> = m
        .events
        .incidents
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.service.as_str(),
                i.opened_at,
                i.resolved_at,
                i.title.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "c2a4a41cbf5b5d1b",
                "checkout",
                ms("2024-03-04T10:15:00Z"),
                Some(ms("2024-03-04T11:05:30Z")),
                Some("5xx above 5% for 10 minutes")
            ),
            (
                "9f2e0d7a11c3b8e4",
                "billing-worker",
                ms("2024-03-04T10:20:00Z"),
                None,
                Some("QueueBacklog")
            ),
        ]
    );
    // The alert's start is the start of impact; its fingerprint ties repeats together.
    let first = &m.events.incidents[0];
    assert_eq!(
        (first.started_at, first.fingerprint.as_deref()),
        (Some(ms("2024-03-04T10:15:00Z")), Some("c2a4a41cbf5b5d1b"))
    );
}

#[test]
fn pagerduty_and_opsgenie() {
    let t = alerts::map(&fixture("alerts/pagerduty-triggered.json")).unwrap();
    let r = alerts::map(&fixture("alerts/pagerduty-resolved.json")).unwrap();
    assert_eq!(t.events.incidents[0].id, "PGR0VU2");
    assert_eq!(t.events.incidents[0].service, "payments");
    assert_eq!(t.events.incidents[0].opened_at, ms("2024-03-05T08:00:10Z"));
    assert_eq!(t.events.incidents[0].resolved_at, None);
    assert_eq!(
        r.events.incidents[0].resolved_at,
        Some(ms("2024-03-05T09:30:00Z"))
    );
    let c = alerts::map(&fixture("alerts/opsgenie-create.json")).unwrap();
    assert_eq!(
        (
            c.events.incidents[0].service.as_str(),
            c.events.incidents[0].opened_at
        ),
        ("search", 1_709_629_200_000)
    );
    let closed = alerts::map(&fixture("alerts/opsgenie-close.json")).unwrap();
    assert_eq!(
        closed.events.milestones,
        [Milestone {
            id: "70413a06-38d6-4c85-92b8-5ebc900d42e2".into(),
            stage: Stage::Resolved,
            at: 1_709_632_800_000
        }]
    );
    // Acknowledgements are milestones of the incident they name.
    let acked = alerts::map(&fixture("alerts/opsgenie-acknowledge.json")).unwrap();
    assert_eq!(
        acked.events.milestones,
        [Milestone {
            id: "70413a06-38d6-4c85-92b8-5ebc900d42e2".into(),
            stage: Stage::Acknowledged,
            at: 1_709_629_500_000
        }]
    );
    let acked = alerts::map(&fixture("alerts/pagerduty-acknowledged.json")).unwrap();
    assert_eq!(
        acked.events.milestones,
        [Milestone {
            id: "PGR0VU2".into(),
            stage: Stage::Acknowledged,
            at: ms("2024-03-05T08:04:40Z")
        }]
    );
    // Severity as sent (PagerDuty's urgency when there is no priority), the dedup key as the
    // fingerprint.
    let i = &t.events.incidents[0];
    assert_eq!(
        (i.severity.as_deref(), i.fingerprint.as_deref()),
        (Some("high"), Some("d3640fbd41094207a1c11e58e46b1662"))
    );
    assert_eq!(i.level(), leadline_core::incident::Severity::Sev2);
    let mut prioritised: serde_json::Value =
        serde_json::from_slice(&fixture("alerts/pagerduty-triggered.json")).unwrap();
    prioritised["event"]["data"]["priority"] =
        serde_json::json!({"id": "PSO4L2Q", "summary": "P1", "type": "priority_reference"});
    let p = alerts::map(&serde_json::to_vec(&prioritised).unwrap()).unwrap();
    assert_eq!(p.events.incidents[0].severity.as_deref(), Some("P1"));
}

#[test]
fn leadline_shaped_alerts() {
    let open = alerts::map(
        br#"{"id": "INC-7", "service": "api", "opened_at": "2024-01-01T10:00:00Z", "severity": "sev2"}"#,
    )
    .unwrap();
    assert_eq!(open.events.incidents[0].severity.as_deref(), Some("sev2"));
    let resolve =
        alerts::map(br#"{"id": "INC-7", "resolved_at": "2024-01-01T11:00:00Z"}"#).unwrap();
    assert_eq!(
        resolve.events.milestones,
        [Milestone {
            id: "INC-7".into(),
            stage: Stage::Resolved,
            at: ms("2024-01-01T11:00:00Z")
        }]
    );
    let full = alerts::map(
        br#"{"id": "INC-9", "service": "api", "opened_at": "2024-01-01T10:05:00Z",
             "started_at": "2024-01-01T09:50:00Z", "detected_at": "2024-01-01T10:00:00Z",
             "acknowledged_at": "2024-01-01T10:06:00Z", "mitigated_at": "2024-01-01T10:30:00Z",
             "fingerprint": "db-pool"}"#,
    )
    .unwrap();
    let i = &full.events.incidents[0];
    assert_eq!(
        (
            i.started_at,
            i.detected_at,
            i.acknowledged_at,
            i.mitigated_at,
            i.fingerprint.as_deref()
        ),
        (
            Some(ms("2024-01-01T09:50:00Z")),
            Some(ms("2024-01-01T10:00:00Z")),
            Some(ms("2024-01-01T10:06:00Z")),
            Some(ms("2024-01-01T10:30:00Z")),
            Some("db-pool")
        )
    );
    let e = alerts::map(
        br#"{"id": "INC-9", "service": "api", "opened_at": "2024-01-01T10:05:00Z",
             "started_at": "2024-01-01T10:10:00Z"}"#,
    )
    .unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        ("opened_at", "is before started_at")
    );
    let e = alerts::map(
        br#"{"id": "INC-8", "service": "api", "opened_at": "2024-01-02T10:00:00Z", "resolved_at": "2024-01-01T10:00:00Z"}"#,
    )
    .unwrap_err();
    assert_eq!(e.field, "resolved_at");
}

/// Absurd instants and durations are refused naming the field, never stored as 1970 or
/// wrapped around.
#[test]
fn absurd_instants_and_durations_name_the_field() {
    let mut create: serde_json::Value =
        serde_json::from_slice(&fixture("alerts/opsgenie-create.json")).unwrap();
    create["alert"]["createdAt"] = i64::MAX.into();
    let err = alerts::map(&serde_json::to_vec(&create).unwrap()).unwrap_err();
    assert_eq!(err.field, "alert.createdAt");
    assert!(err.message.contains("more than a day"), "{err}");
    create["alert"]["createdAt"] = (-1).into();
    let err = alerts::map(&serde_json::to_vec(&create).unwrap()).unwrap_err();
    assert!(err.message.contains("before 1970"), "{err}");

    let mut pipeline: serde_json::Value =
        serde_json::from_slice(&fixture("gitlab/pipeline.json")).unwrap();
    for (q, why) in [(i64::MAX, "out of range"), (-5, "negative")] {
        pipeline["object_attributes"]["queued_duration"] = q.into();
        let err = gitlab::map(&serde_json::to_vec(&pipeline).unwrap(), RECEIVED).unwrap_err();
        assert_eq!(err.field, "object_attributes.queued_duration");
        assert!(err.message.contains(why), "{err}");
    }

    let body = br#"{"id": "x", "service": "api", "opened_at": "9999-12-30T00:00:00Z"}"#;
    let err = alerts::map(body).unwrap_err();
    assert_eq!(err.field, "opened_at");
    let body = br#"{"id": "x\u0000y", "service": "api", "opened_at": "2024-01-01T00:00:00Z"}"#;
    let err = alerts::map(body).unwrap_err();
    assert_eq!(
        (err.field.as_str(), err.message.as_str()),
        ("id", "contains a NUL byte")
    );
}

/// `github::EVENTS` (which /metrics labels by name) lists exactly what the mapping reads.
#[test]
fn github_events_listed_are_the_events_mapped() {
    let untracked = |event: &str| {
        github::map(event, b"{}", RECEIVED, &github::Options::default())
            .is_ok_and(|m| m.detail.contains("is not tracked"))
    };
    for event in github::EVENTS {
        assert!(!untracked(event), "{event} is listed but not mapped");
    }
    assert!(untracked("star"));
}

/// An alert that resolves before it opened is refused, naming the field.
#[test]
fn resolved_before_opened_is_refused() {
    let mut am: serde_json::Value =
        serde_json::from_slice(&fixture("alerts/alertmanager.json")).unwrap();
    let alerts = am["alerts"].as_array_mut().unwrap();
    let resolved = alerts
        .iter_mut()
        .find(|a| a["status"] == "resolved")
        .unwrap();
    resolved["endsAt"] = "2001-01-01T00:00:00Z".into();
    let err = alerts::map(&serde_json::to_vec(&am).unwrap()).unwrap_err();
    assert!(err.field.ends_with("endsAt"), "{err}");

    let mut close: serde_json::Value =
        serde_json::from_slice(&fixture("alerts/opsgenie-close.json")).unwrap();
    close["alert"]["updatedAt"] = 1_000.into();
    let err = alerts::map(&serde_json::to_vec(&close).unwrap()).unwrap_err();
    assert_eq!(err.field, "alert.updatedAt");

    let mut pd: serde_json::Value =
        serde_json::from_slice(&fixture("alerts/pagerduty-resolved.json")).unwrap();
    pd["event"]["occurred_at"] = "2001-01-01T00:00:00Z".into();
    let err = alerts::map(&serde_json::to_vec(&pd).unwrap()).unwrap_err();
    assert_eq!(err.field, "event.occurred_at");
}

/// A pull request's title and description may name postmortem action items; only those
/// references are kept of the description.
#[test]
fn pull_requests_keep_the_action_items_they_name_and_nothing_else_of_the_description() {
    let mut pr: serde_json::Value =
        serde_json::from_slice(&fixture("github/pull_request/closed.payload.json")).unwrap();
    pr["pull_request"]["title"] = "Alert on queue depth (PM-2026-014/A1)".into();
    pr["pull_request"]["body"] =
        "Written by Ann Smith.\n\nAction: PM-2026-014/A2, PM-2026-014/A1\nSee docs/and/or.".into();
    let m = gh_value("pull_request", &pr);
    assert_eq!(
        m.events.pull_requests[0].actions,
        ["PM-2026-014/A1", "PM-2026-014/A2"]
    );
    pr["pull_request"]["body"] = serde_json::Value::Null;
    pr["pull_request"]["title"] = "No reference".into();
    let m = gh_value("pull_request", &pr);
    assert!(m.events.pull_requests[0].actions.is_empty());
}

#[test]
fn pull_requests_keep_the_issue_keys_of_their_title_description_and_branch() {
    let mut pr: serde_json::Value =
        serde_json::from_slice(&fixture("github/pull_request/closed.payload.json")).unwrap();
    pr["pull_request"]["title"] = "Retry card payments".into();
    pr["pull_request"]["body"] = "Closes PAY-12. Also touches OPS-3, not UTF8-x.".into();
    pr["pull_request"]["head"]["ref"] = "feature/PAY-14-retries".into();
    let m = gh_value("pull_request", &pr);
    assert_eq!(
        m.events.pull_requests[0].issue_keys,
        ["PAY-12", "OPS-3", "PAY-14"]
    );
    // The real payload's branch (`changes`) and text name no key.
    let plain = gh("pull_request", "pull_request/closed.payload.json");
    assert!(plain.events.pull_requests[0].issue_keys.is_empty());

    let mut mr: serde_json::Value =
        serde_json::from_slice(&fixture("gitlab/merge_request.json")).unwrap();
    mr["object_attributes"]["title"] = "Draft: OPS-7 viewport".into();
    mr["object_attributes"]["source_branch"] = "PAY-9-viewport".into();
    let m = gitlab::map(&serde_json::to_vec(&mr).unwrap(), RECEIVED).unwrap();
    assert_eq!(m.events.pull_requests[0].issue_keys, ["OPS-7", "PAY-9"]);
}
