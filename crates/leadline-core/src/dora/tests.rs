use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;

// 2024-01-01 00:00 UTC.
const DAY0: Millis = 1_704_067_200_000;
const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

fn at(day: i64, hour: i64) -> Millis {
    DAY0 + day * DAY + hour * HOUR
}

fn commit(sha: &str, parents: &[&str], committed_at: Millis, bot: bool) -> CommitNode {
    CommitNode {
        sha: sha.into(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        committed_at,
        bot,
    }
}

fn deploy(id: &str, service: &str, sha: &str, finished_at: Millis) -> Deployment {
    Deployment {
        id: id.into(),
        service: service.into(),
        environment: "production".into(),
        sha: sha.into(),
        started_at: None,
        finished_at,
        status: "success".into(),
        repo: None,
    }
}

fn incident(id: &str, service: &str, opened: Millis, resolved: Option<Millis>) -> Incident {
    Incident {
        id: id.into(),
        service: service.into(),
        opened_at: opened,
        resolved_at: resolved,
        severity: None,
        title: None,
        cause_deployment: None,
        cause_sha: None,
        postmortem_url: None,
        fix_deployment: None,
        fix_sha: None,
        ..Incident::default()
    }
}

const PRODUCTION: Scope<'static> = Scope {
    environment: "production",
    service: None,
    paths: None,
};

/// The worked example of docs/metrics.md, "DORA keys".
fn worked_example() -> Attribution {
    let commits = vec![
        commit("c1", &[], at(0, 0), false),
        commit("c2", &["c1"], at(1, 0), false),
        commit("c3", &["c2"], at(2, 0), false),
        commit("c4", &["c3"], at(3, 0), true),
        commit("c5", &["c4"], at(3, 12), false),
    ];
    let deployments = vec![
        deploy("D1", "api", "c2", at(1, 6)),
        deploy("D2", "api", "c3", at(2, 12)),
        deploy("D3", "api", "c5", at(4, 0)),
    ];
    let mut second = incident("I2", "api", at(4, 1), Some(at(5, 1)));
    second.cause_sha = Some("c5".into());
    let incidents = vec![incident("I1", "api", at(2, 18), Some(at(2, 20))), second];
    attribute(
        &deployments,
        &incidents,
        &commits,
        &HashSet::new(),
        PRODUCTION,
    )
}

#[test]
fn worked_example_attribution() {
    let a = worked_example();
    let shas = |i: usize| {
        a.deployments[i]
            .changes
            .iter()
            .map(|c| c.sha.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(shas(0), ["c1", "c2"]);
    assert_eq!(shas(1), ["c3"]);
    assert_eq!(shas(2), ["c4", "c5"]);
    assert_eq!(
        a.deployments.iter().map(|d| d.baseline).collect::<Vec<_>>(),
        [true, false, false]
    );
    let causes: Vec<_> = a.incidents.iter().map(|i| i.cause.clone()).collect();
    assert_eq!(
        causes,
        [
            Some(("D2".to_owned(), CauseRule::LatestBefore)),
            Some(("D3".to_owned(), CauseRule::NamedCommit))
        ]
    );
}

/// The worked example with c5 the squash merge of a pull request whose first commit was written
/// on day 2 at 12:00 (docs/metrics.md, "Lead time for changes").
#[test]
fn lead_time_can_start_at_the_pull_requests_first_commit() {
    let mut a = worked_example();
    let starts: HashMap<String, Millis> = [("c5".to_owned(), at(2, 12))].into();
    start_at_pull_requests(&mut a, &starts);
    let k = keys(
        &a,
        Window {
            since: at(0, 0),
            until: at(5, 0),
        },
        &Bands::default(),
    );
    // c3 43,200 s as before; c5 from day 2 12:00 to day 4 00:00 = 129,600 s.
    assert_eq!(k.lead_time.changes, 2);
    assert_eq!(k.lead_time.median_seconds, Some(43_200.0));
    assert_eq!(k.lead_time.p90_seconds, Some(129_600.0));
    // A first commit later than the change's own commit changes nothing.
    let mut b = worked_example();
    start_at_pull_requests(&mut b, &[("c5".to_owned(), at(3, 20))].into());
    let k = keys(
        &b,
        Window {
            since: at(0, 0),
            until: at(5, 0),
        },
        &Bands::default(),
    );
    assert_eq!(k.lead_time.p90_seconds, Some(43_200.0));
}

#[test]
fn worked_example_keys() {
    let a = worked_example();
    let k = keys(
        &a,
        Window {
            since: at(0, 0),
            until: at(5, 0),
        },
        &Bands::default(),
    );
    assert_eq!(k.deployment_frequency.deployments, 3);
    assert!((k.deployment_frequency.per_day - 0.6).abs() < 1e-12);
    assert_eq!(k.deployment_frequency.band, Some(Band::High));
    assert_eq!(k.lead_time.changes, 2);
    assert_eq!(k.lead_time.median_seconds, Some(43_200.0));
    assert_eq!(k.lead_time.p90_seconds, Some(43_200.0));
    assert_eq!(k.lead_time.band, Some(Band::Elite));
    assert_eq!(
        (
            k.change_failure_rate.failed_deployments,
            k.change_failure_rate.deployments
        ),
        (2, 3)
    );
    assert!((k.change_failure_rate.rate.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(k.change_failure_rate.band, Some(Band::Low));
    assert_eq!(k.recovery_time.incidents, 1);
    assert_eq!(k.recovery_time.median_seconds, Some(7_200.0));
    assert_eq!(k.recovery_time.band, Some(Band::High));
    assert_eq!(
        (k.rework_rate.rework_deployments, k.rework_rate.rate),
        (0, Some(0.0))
    );

    let k = keys(
        &a,
        Window {
            since: at(2, 0),
            until: at(4, 0),
        },
        &Bands::default(),
    );
    assert_eq!(k.deployment_frequency.deployments, 1);
    assert_eq!(k.deployment_frequency.per_day, 0.5);
    assert_eq!(
        (k.lead_time.changes, k.lead_time.median_seconds),
        (1, Some(43_200.0))
    );
    assert_eq!(k.change_failure_rate.rate, Some(1.0));
    assert_eq!(k.recovery_time.median_seconds, Some(7_200.0));
}

#[test]
fn an_empty_window_has_nulls_not_zeros() {
    let a = worked_example();
    let k = keys(
        &a,
        Window {
            since: at(10, 0),
            until: at(20, 0),
        },
        &Bands::default(),
    );
    assert_eq!(k.deployment_frequency.deployments, 0);
    assert_eq!(k.deployment_frequency.band, Some(Band::Low));
    assert_eq!((k.lead_time.median_seconds, k.lead_time.band), (None, None));
    assert_eq!(
        (k.change_failure_rate.rate, k.change_failure_rate.band),
        (None, None)
    );
    assert_eq!(
        (k.recovery_time.median_seconds, k.recovery_time.band),
        (None, None)
    );
    assert_eq!(k.rework_rate.rate, None);
}

/// A first deployment carrying a year of history gives no lead time at all.
#[test]
fn the_baseline_carries_history_without_lead_time() {
    let commits: Vec<CommitNode> = (0..365)
        .map(|d| {
            let parent = format!("c{}", d - 1);
            let parents: &[&str] = if d == 0 { &[] } else { &[parent.as_str()] };
            commit(&format!("c{d}"), parents, at(d, 0), false)
        })
        .collect();
    let deployments = vec![deploy("first", "api", "c364", at(365, 0))];
    let a = attribute(&deployments, &[], &commits, &HashSet::new(), PRODUCTION);
    assert_eq!(a.deployments[0].changes.len(), 365);
    let k = keys(
        &a,
        Window {
            since: at(0, 0),
            until: at(400, 0),
        },
        &Bands::default(),
    );
    assert_eq!(
        (k.deployment_frequency.deployments, k.lead_time.changes),
        (1, 0)
    );
    assert_eq!(k.lead_time.median_seconds, None);
}

#[test]
fn a_deployment_of_an_unknown_commit_is_never_the_baseline() {
    let commits: Vec<CommitNode> = (0..10)
        .map(|d| {
            let parent = format!("c{}", d - 1);
            let parents: &[&str] = if d == 0 { &[] } else { &[parent.as_str()] };
            commit(&format!("c{d}"), parents, at(d, 0), false)
        })
        .collect();
    let deployments = vec![
        deploy("elsewhere", "api", &"ee".repeat(20), at(0, 1)),
        deploy("first", "api", "c7", at(7, 12)),
        deploy("second", "api", "c9", at(9, 12)),
    ];
    let a = attribute(&deployments, &[], &commits, &HashSet::new(), PRODUCTION);
    let by_id = |id: &str| {
        a.deployments
            .iter()
            .find(|d| d.deployment.id == id)
            .unwrap()
    };
    let unknown = by_id("elsewhere");
    assert!(!unknown.baseline && unknown.changes.is_empty());
    assert!(
        by_id("first").baseline,
        "the earliest deployment of a known commit"
    );
    assert_eq!(by_id("second").changes.len(), 2);
    let k = keys(
        &a,
        Window {
            since: at(0, 0),
            until: at(10, 0),
        },
        &Bands::default(),
    );
    // Three deployments count; lead time only from c8 and c9 (36 and 12 hours).
    assert_eq!(
        (k.deployment_frequency.deployments, k.lead_time.changes),
        (3, 2)
    );
    assert_eq!(k.lead_time.p90_seconds, Some(36.0 * 3600.0));
}

#[test]
fn recovery_counts_only_incidents_a_deployment_caused() {
    let commits = vec![commit("a", &[], at(0, 0), false)];
    let deployments = vec![deploy("D1", "api", "a", at(2, 0))];
    let incidents = vec![
        // Before any deployment: attributed to none (an outage of a provider, say).
        incident("outage", "api", at(1, 0), Some(at(1, 10))),
        incident("failed", "api", at(3, 0), Some(at(3, 2))),
    ];
    let a = attribute(
        &deployments,
        &incidents,
        &commits,
        &HashSet::new(),
        PRODUCTION,
    );
    let window = Window {
        since: at(0, 0),
        until: at(10, 0),
    };
    assert_eq!(recovery_times(&a, window), [2.0 * 3600.0]);
    let k = keys(&a, window, &Bands::default());
    assert_eq!(
        (k.recovery_time.incidents, k.recovery_time.median_seconds),
        (1, Some(7200.0))
    );
}

#[test]
fn merges_are_carried_but_are_not_changes() {
    let commits = vec![
        commit("a", &[], at(0, 0), false),
        commit("b", &["a"], at(1, 0), false),
        commit("side", &["a"], at(1, 1), false),
        commit("m", &["b", "side"], at(2, 0), false),
    ];
    let deployments = vec![
        deploy("D1", "api", "a", at(0, 1)),
        deploy("D2", "api", "m", at(3, 0)),
    ];
    let mut cause = incident("I", "api", at(3, 1), None);
    cause.cause_sha = Some("m".into());
    let a = attribute(
        &deployments,
        &[cause],
        &commits,
        &HashSet::new(),
        PRODUCTION,
    );
    let shas: Vec<&str> = a.deployments[1]
        .changes
        .iter()
        .map(|c| c.sha.as_str())
        .collect();
    assert_eq!(shas, ["b", "side"]);
    // The merge's first deployment is D2 all the same.
    assert_eq!(
        a.incidents[0].cause,
        Some(("D2".into(), CauseRule::NamedCommit))
    );
}

#[test]
fn incidents_follow_the_cause_rules_in_order() {
    let commits = vec![
        commit("a", &[], at(0, 0), false),
        commit("b", &["a"], at(1, 0), false),
    ];
    let deployments = vec![
        deploy("D1", "api", "a", at(0, 6)),
        deploy("D2", "api", "b", at(1, 6)),
        deploy("W1", "web", "b", at(1, 7)),
    ];
    let mut named = incident("named", "api", at(2, 0), None);
    named.cause_deployment = Some("D1".into());
    let mut unknown_name = incident("unknown", "api", at(2, 0), None);
    unknown_name.cause_deployment = Some("nope".into());
    let before_any = incident("early", "api", at(0, 1), None);
    let other_service = incident("web", "web", at(1, 8), None);
    let a = attribute(
        &deployments,
        &[named, unknown_name, before_any, other_service],
        &commits,
        &HashSet::new(),
        PRODUCTION,
    );
    let causes: Vec<Option<(String, CauseRule)>> =
        a.incidents.iter().map(|i| i.cause.clone()).collect();
    assert_eq!(
        causes,
        [
            Some(("D1".into(), CauseRule::NamedDeployment)),
            Some(("D2".into(), CauseRule::LatestBefore)),
            None,
            Some(("W1".into(), CauseRule::LatestBefore)),
        ]
    );
    // Each service keeps its own baseline and history: web's first deployment carries a and b.
    let web = a
        .deployments
        .iter()
        .find(|d| d.deployment.id == "W1")
        .unwrap();
    assert!(web.baseline);
    assert_eq!(web.changes.len(), 2);
}

#[test]
fn only_successful_deployments_of_the_environment_and_service_count() {
    let commits = vec![commit("a", &[], at(0, 0), false)];
    let mut failed = deploy("F", "api", "a", at(0, 2));
    failed.status = "failure".into();
    let mut staging = deploy("S", "api", "a", at(0, 3));
    staging.environment = "staging".into();
    let deployments = vec![
        deploy("P", "api", "a", at(0, 1)),
        failed,
        staging,
        deploy("W", "web", "a", at(0, 4)),
    ];
    let api = Scope {
        environment: "production",
        service: Some("api"),
        paths: None,
    };
    let a = attribute(&deployments, &[], &commits, &HashSet::new(), api);
    assert_eq!(
        a.deployments
            .iter()
            .map(|d| d.deployment.id.as_str())
            .collect::<Vec<_>>(),
        ["P"]
    );
    let staging = Scope {
        environment: "staging",
        service: None,
        paths: None,
    };
    let a = attribute(&deployments, &[], &commits, &HashSet::new(), staging);
    assert_eq!(
        a.deployments
            .iter()
            .map(|d| d.deployment.id.as_str())
            .collect::<Vec<_>>(),
        ["S"]
    );
}

#[test]
fn remediation_commits_make_rework_deployments() {
    let commits = vec![
        commit("a", &[], at(0, 0), false),
        commit("bad", &["a"], at(1, 0), false),
        commit("revert", &["bad"], at(2, 0), false),
    ];
    let deployments = vec![
        deploy("D1", "api", "a", at(0, 1)),
        deploy("D2", "api", "bad", at(1, 1)),
        deploy("D3", "api", "revert", at(2, 1)),
    ];
    let remediations: HashSet<String> = ["revert".to_owned()].into();
    let a = attribute(&deployments, &[], &commits, &remediations, PRODUCTION);
    let k = keys(
        &a,
        Window {
            since: at(0, 0),
            until: at(3, 0),
        },
        &Bands::default(),
    );
    assert_eq!(
        (k.rework_rate.rework_deployments, k.rework_rate.deployments),
        (1, 3)
    );
}

#[test]
fn abbreviated_shas_resolve_to_the_one_commit_they_name() {
    let commits = vec![
        commit("abcdef1111", &[], at(0, 0), false),
        commit("abcdef2222", &["abcdef1111"], at(1, 0), false),
        commit("123456aaaa", &["abcdef2222"], at(2, 0), false),
    ];
    let mut deployments = vec![
        deploy("short", "api", "123456a", at(2, 1)),
        deploy("ambiguous", "api", "abcdef", at(2, 2)),
        deploy("full", "api", "abcdef1111", at(2, 3)),
        deploy("unknown", "api", "fffffff", at(2, 4)),
    ];
    let mut incidents = vec![incident("i", "api", at(3, 0), None)];
    incidents[0].cause_sha = Some("abcdef2".into());
    let unresolved =
        resolve_abbreviations(&mut deployments, &mut incidents, &graph_index(&commits));
    let shas: Vec<&str> = deployments.iter().map(|d| d.sha.as_str()).collect();
    assert_eq!(shas, ["123456aaaa", "abcdef", "abcdef1111", "fffffff"]);
    assert_eq!(incidents[0].cause_sha.as_deref(), Some("abcdef2222"));
    assert_eq!(unresolved, 2);
}

/// A monorepo: both services deploy the same commits, each counts only those touching its paths.
#[test]
fn services_with_paths_own_only_the_changes_that_touch_them() {
    let commits = vec![
        commit("a", &[], at(0, 0), false),
        commit("api-change", &["a"], at(1, 0), false),
        commit("web-change", &["api-change"], at(2, 0), false),
        commit("both", &["web-change"], at(3, 0), false),
    ];
    let deployments = vec![
        deploy("A1", "api", "a", at(0, 1)),
        deploy("W1", "web", "a", at(0, 1)),
        deploy("A2", "api", "both", at(4, 0)),
        deploy("W2", "web", "both", at(4, 0)),
    ];
    let paths: PathScope = [
        ("api".to_owned(), vec![false, true, false, true]),
        ("web".to_owned(), vec![false, false, true, true]),
    ]
    .into();
    let scope = Scope {
        environment: "production",
        service: None,
        paths: Some(&paths),
    };
    let a = attribute(&deployments, &[], &commits, &HashSet::new(), scope);
    let changes = |id: &str| -> Vec<String> {
        let d = a
            .deployments
            .iter()
            .find(|d| d.deployment.id == id)
            .unwrap();
        d.changes.iter().map(|c| c.sha.clone()).collect()
    };
    assert_eq!(changes("A2"), ["api-change", "both"]);
    assert_eq!(changes("W2"), ["web-change", "both"]);
    // A service without paths owns every change.
    let unscoped = attribute(&deployments, &[], &commits, &HashSet::new(), PRODUCTION);
    assert_eq!(
        unscoped
            .deployments
            .iter()
            .find(|d| d.deployment.id == "A2")
            .unwrap()
            .changes
            .len(),
        3
    );
}

#[test]
fn nearest_rank_percentiles() {
    assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), Some(2.0));
    assert_eq!(percentile(&[1.0, 2.0, 3.0], 50.0), Some(2.0));
    let ten: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(percentile(&ten, 90.0), Some(9.0));
    assert_eq!(percentile(&ten, 91.0), Some(10.0));
    assert_eq!(percentile(&[], 50.0), None);
}

#[test]
fn band_boundaries_follow_the_design() {
    let b = Bands::default();
    assert_eq!(band(|l| 1.0 >= l, b.frequency_per_day), Band::Elite);
    assert_eq!(band(|l| (1.0 / 7.0) >= l, b.frequency_per_day), Band::High);
    assert_eq!(band(|l| 0.03 >= l, b.frequency_per_day), Band::Low);
    // Lead time exactly one day is no longer elite; a CFR of exactly 5% still is.
    assert_eq!(band(|l| 86_400.0 < l, b.lead_time_seconds), Band::High);
    assert_eq!(band(|l| 0.05 <= l, b.change_failure_rate), Band::Elite);
    assert_eq!(band(|l| 0.151 <= l, b.change_failure_rate), Band::Low);
}

/// A random history: a chain with occasional merges, times in no particular order (to exercise
/// clock skew), deployments and incidents on two services.
fn history() -> impl Strategy<Value = (Vec<CommitNode>, Vec<Deployment>, Vec<Incident>)> {
    let commits = prop::collection::vec(
        (0i64..1000, any::<bool>(), 0usize..100, any::<bool>()),
        2..60,
    );
    let deployments =
        prop::collection::vec((0usize..60, 0i64..1000, 0usize..2, any::<bool>()), 0..25);
    let incidents = prop::collection::vec(
        (
            0i64..1000,
            prop::option::of(0i64..200),
            0usize..2,
            prop::option::of(0usize..60),
        ),
        0..15,
    );
    (commits, deployments, incidents).prop_map(|(c, d, i)| {
        let commits: Vec<CommitNode> = c
            .iter()
            .enumerate()
            .map(|(n, &(hours, merge, other, bot))| {
                let mut parents = Vec::new();
                if n > 0 {
                    parents.push(format!("c{}", n - 1));
                    if merge && n > 1 {
                        parents.push(format!("c{}", other % (n - 1)));
                    }
                }
                CommitNode {
                    sha: format!("c{n}"),
                    parents,
                    committed_at: DAY0 + hours * HOUR,
                    bot,
                }
            })
            .collect();
        let services = ["api", "web"];
        let deployments = d
            .iter()
            .enumerate()
            .map(|(n, &(sha, hours, s, ok))| {
                let mut dep = deploy(
                    &format!("d{n}"),
                    services[s],
                    &format!("c{}", sha % commits.len()),
                    DAY0 + hours * HOUR,
                );
                if !ok {
                    dep.status = "failure".into();
                }
                dep
            })
            .collect();
        let incidents = i
            .iter()
            .enumerate()
            .map(|(n, &(hours, fix, s, sha))| {
                let mut inc = incident(
                    &format!("i{n}"),
                    services[s],
                    DAY0 + hours * HOUR,
                    fix.map(|f| DAY0 + (hours + f) * HOUR),
                );
                inc.cause_sha = sha.map(|x| format!("c{x}"));
                inc
            })
            .collect();
        (commits, deployments, incidents)
    })
}

proptest! {
    #[test]
    fn permuting_input_rows_changes_nothing((commits, deployments, incidents) in history(), seed in any::<u64>()) {
        let window = Window { since: DAY0, until: DAY0 + 1000 * HOUR };
        let base = keys(&attribute(&deployments, &incidents, &commits, &HashSet::new(), PRODUCTION), window, &Bands::default());
        let shuffle = |n: usize| -> Vec<usize> {
            let mut order: Vec<usize> = (0..n).collect();
            let mut s = seed | 1;
            for i in (1..n).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                order.swap(i, (s % (i as u64 + 1)) as usize);
            }
            order
        };
        let c: Vec<CommitNode> = shuffle(commits.len()).into_iter().map(|i| commits[i].clone()).collect();
        let d: Vec<Deployment> = shuffle(deployments.len()).into_iter().map(|i| deployments[i].clone()).collect();
        let i: Vec<Incident> = shuffle(incidents.len()).into_iter().map(|i| incidents[i].clone()).collect();
        let permuted = keys(&attribute(&d, &i, &c, &HashSet::new(), PRODUCTION), window, &Bands::default());
        prop_assert_eq!(base, permuted);
    }

    #[test]
    fn every_lead_time_is_at_least_zero((commits, deployments, incidents) in history()) {
        let a = attribute(&deployments, &incidents, &commits, &HashSet::new(), PRODUCTION);
        let window = Window { since: DAY0 - 1000 * HOUR, until: DAY0 + 2000 * HOUR };
        prop_assert!(lead_times(&a, window).iter().all(|&l| l >= 0.0));
        prop_assert!(recovery_times(&a, window).iter().all(|&r| r >= 0.0));
    }

    #[test]
    fn split_windows_add_up((commits, deployments, incidents) in history(), a in 0i64..1000, b in 0i64..1000, c in 0i64..1000) {
        let mut cut = [a, b, c];
        cut.sort();
        let w = |x: i64, y: i64| Window { since: DAY0 + x * HOUR, until: DAY0 + y * HOUR };
        let attr = attribute(&deployments, &incidents, &commits, &HashSet::new(), PRODUCTION);
        let bands = Bands::default();
        let (left, right, whole) = (keys(&attr, w(cut[0], cut[1]), &bands), keys(&attr, w(cut[1], cut[2]), &bands), keys(&attr, w(cut[0], cut[2]), &bands));
        prop_assert_eq!(left.deployment_frequency.deployments + right.deployment_frequency.deployments, whole.deployment_frequency.deployments);
        prop_assert_eq!(left.lead_time.changes + right.lead_time.changes, whole.lead_time.changes);
        prop_assert_eq!(left.change_failure_rate.failed_deployments + right.change_failure_rate.failed_deployments, whole.change_failure_rate.failed_deployments);
        prop_assert_eq!(left.recovery_time.incidents + right.recovery_time.incidents, whole.recovery_time.incidents);
    }

    /// Every carried commit is carried by exactly one deployment per service.
    #[test]
    fn changes_are_attributed_once_per_service((commits, deployments, incidents) in history()) {
        let a = attribute(&deployments, &incidents, &commits, &HashSet::new(), PRODUCTION);
        for service in ["api", "web"] {
            let mut seen = HashSet::new();
            for d in a.deployments.iter().filter(|d| d.deployment.service == service) {
                for c in &d.changes {
                    prop_assert!(seen.insert(c.sha.clone()), "{} carried twice", c.sha);
                }
            }
        }
    }
}

#[test]
fn incidents_that_name_their_fix_make_rework() {
    let commits = vec![
        commit("a", &[], at(0, 0), false),
        commit("b", &["a"], at(1, 0), false),
        commit("fix", &["b"], at(2, 0), false),
        commit("c", &["fix"], at(3, 0), false),
    ];
    let deployments = vec![
        deploy("D1", "api", "a", at(0, 1)),
        deploy("D2", "api", "b", at(1, 1)),
        deploy("D3", "api", "fix", at(2, 1)),
        deploy("D4", "api", "c", at(3, 1)),
    ];
    let mut by_commit = incident("I1", "api", at(1, 2), Some(at(2, 2)));
    by_commit.fix_sha = Some("fix".into());
    let mut by_deployment = incident("I2", "api", at(3, 2), Some(at(3, 3)));
    by_deployment.fix_deployment = Some("D4".into());
    let a = attribute(
        &deployments,
        &[by_commit, by_deployment],
        &commits,
        &HashSet::new(),
        PRODUCTION,
    );
    let rework: Vec<&str> = a
        .deployments
        .iter()
        .filter(|d| d.rework)
        .map(|d| d.deployment.id.as_str())
        .collect();
    assert_eq!(rework, ["D3", "D4"]);
    let k = keys(
        &a,
        Window {
            since: at(0, 0),
            until: at(4, 0),
        },
        &Bands::default(),
    );
    assert_eq!(
        (k.rework_rate.rework_deployments, k.rework_rate.rate),
        (2, Some(0.5))
    );
}
