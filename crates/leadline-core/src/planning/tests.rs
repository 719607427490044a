//! The worked example of docs/metrics.md, "Planning": four issues of two teams, one sprint.

use super::*;

const D: Millis = 86_400_000;

fn t(day: i64, to: Category) -> Transition {
    Transition { at: day * D, to }
}

#[allow(clippy::too_many_arguments)]
fn issue(
    key: &str,
    kind: &str,
    epic: Option<&str>,
    team: &str,
    points: Option<f64>,
    resolved: Option<i64>,
    transitions: Vec<Transition>,
    deployed: Option<i64>,
    incident: bool,
) -> Issue {
    Issue {
        key: key.into(),
        issue_type: kind.into(),
        epic: epic.map(Into::into),
        team: Some(team.into()),
        story_points: points,
        created_at: 0,
        resolved_at: resolved.map(|d| d * D),
        transitions,
        deployed_at: deployed.map(|d| d * D),
        incident,
    }
}

fn example() -> Vec<Issue> {
    use Category::{Done, Indeterminate, New};
    vec![
        issue(
            "A",
            "Story",
            Some("E1"),
            "core",
            Some(3.0),
            Some(3),
            vec![t(1, Indeterminate), t(3, Done)],
            Some(4),
            false,
        ),
        // Started, put back to To Do, started again.
        issue(
            "B",
            "Bug",
            None,
            "core",
            Some(1.0),
            Some(5),
            vec![
                t(2, Indeterminate),
                t(3, New),
                t(4, Indeterminate),
                t(5, Done),
            ],
            None,
            true,
        ),
        issue(
            "C",
            "Story",
            Some("E1"),
            "core",
            Some(5.0),
            Some(10),
            vec![t(1, Indeterminate), t(10, Done)],
            Some(12),
            false,
        ),
        // Closed without ever being started.
        issue(
            "D",
            "Task",
            Some("E2"),
            "web",
            None,
            Some(2),
            vec![t(2, Done)],
            None,
            false,
        ),
    ]
}

#[test]
fn worked_example_lead_time_from_the_first_in_progress() {
    let issues = example();
    // A: day 1 → deployed day 4 = 3 days; B: day 2 → resolved day 5 = 3 days (no deployment);
    // C: day 1 → deployed day 12 = 11 days; D was never started.
    let s = lead_time(&issues, 0, 30 * D);
    assert_eq!(s.count, 3);
    assert_eq!(s.median_seconds, Some(3.0 * 86_400.0));
    assert_eq!(s.p90_seconds, Some(11.0 * 86_400.0));
    // C's end (day 12) is outside a window ending on day 11.
    assert_eq!(lead_time(&issues, 0, 11 * D).count, 2);
}

#[test]
fn worked_example_time_in_each_category() {
    let by = time_in_categories(&example(), 0, 30 * D);
    let days = |c: Category| {
        let s = &by[&c];
        (
            s.count,
            s.median_seconds.map(|v| v / 86_400.0),
            s.p90_seconds.map(|v| v / 86_400.0),
        )
    };
    // To Do: A 1, B 2 + 1, C 1, D 2 days.
    assert_eq!(days(Category::New), (4, Some(1.0), Some(3.0)));
    // In Progress: A 2, B 1 + 1, C 9 days.
    assert_eq!(days(Category::Indeterminate), (3, Some(2.0), Some(9.0)));
    // Done at the moment of resolution: no time.
    assert_eq!(days(Category::Done), (4, Some(0.0), Some(0.0)));
}

#[test]
fn worked_example_planning_accuracy() {
    let sprint = Sprint {
        id: 1,
        name: "S1".into(),
        started_at: 0,
        closed_at: 4 * D,
        at_start: vec!["A".into(), "B".into(), "C".into()],
        at_close: vec!["A".into(), "B".into(), "C".into(), "D".into()],
    };
    let a = planning_accuracy(&sprint, &example());
    // At the close (day 4) only A is done: B was started again that day, C is in progress.
    assert_eq!(
        a,
        SprintAccuracy {
            sprint: "S1".into(),
            committed: 3,
            done: 1,
            accuracy: Some(1.0 / 3.0),
            added: 1,
            carried_over: 2,
        }
    );
}

#[test]
fn worked_example_sprint_members_from_the_sprint_field_history() {
    let change = |day: i64, from: &[i64], to: &[i64]| SprintChange {
        at: day * D,
        from: from.to_vec(),
        to: to.to_vec(),
    };
    // A moved into S1 the instant it started; B never moved and is in S1 (and S2) now; C was
    // in S1 before it started and moved to S2 after it closed; D was added on day 2.
    let a = [change(0, &[], &[1])];
    let c = [change(-1, &[], &[1]), change(5, &[1], &[2])];
    let d = [change(2, &[], &[1])];
    let issues: [(&str, &[SprintChange], &[i64]); 4] = [
        ("A", &a, &[1]),
        ("B", &[], &[1, 2]),
        ("C", &c, &[2]),
        ("D", &d, &[1]),
    ];
    let built = Sprint::closed(1, "S1", 0, 4 * D, issues);
    assert_eq!(built.at_start, ["A", "B", "C"]);
    assert_eq!(built.at_close, ["A", "B", "C", "D"]);
    assert_eq!(
        planning_accuracy(&built, &example()).accuracy,
        Some(1.0 / 3.0)
    );
}

#[test]
fn before_its_first_change_an_issue_is_where_that_change_took_it_from() {
    let changes = [
        SprintChange {
            at: 10,
            from: vec![7],
            to: vec![7, 8],
        },
        SprintChange {
            at: 20,
            from: vec![7, 8],
            to: vec![],
        },
    ];
    assert_eq!(sprints_at(&changes, &[9], 5), [7]);
    assert_eq!(sprints_at(&changes, &[9], 10), [7, 8]);
    assert_eq!(sprints_at(&changes, &[9], 25), [] as [i64; 0]);
    assert_eq!(sprints_at(&[], &[9], 25), [9]);
}

#[test]
fn worked_example_investment_mix_and_defects() {
    let mix = investment(
        &example(),
        0,
        30 * D,
        |_| "2026-10".to_owned(),
        &["bug".to_owned()],
    );
    assert_eq!(mix.len(), 2);
    let core = &mix[0];
    assert_eq!((core.team.as_str(), core.resolved), ("core", 3));
    let story = &core.by_type["Story"];
    assert_eq!((story.issues, story.points), (2, 8.0));
    assert_eq!(story.share, 2.0 / 3.0);
    assert_eq!(story.points_share, Some(8.0 / 9.0));
    assert_eq!(core.by_type["Bug"].points_share, Some(1.0 / 9.0));
    assert_eq!(core.by_epic["E1"].issues, 2);
    assert_eq!(core.by_epic["none"].issues, 1);
    assert_eq!(core.defect_share, 1.0 / 3.0);
    assert_eq!(core.escaped_defects, 1);
    let web = &mix[1];
    assert_eq!(
        (web.team.as_str(), web.by_type["Task"].points_share),
        ("web", None)
    );
    assert_eq!(web.defect_share, 0.0);
    // The window together: B of the four resolved is a defect, and escaped.
    assert_eq!(
        defects(&example(), 0, 30 * D, &["bug".to_owned()]),
        Defects {
            resolved: 1,
            share: Some(0.25),
            escaped: 1
        }
    );
    // Only D resolved before day 3: no defect.
    assert_eq!(
        defects(&example(), 0, 3 * D, &["bug".to_owned()]).share,
        Some(0.0)
    );
    assert_eq!(defects(&example(), 40 * D, 50 * D, &[]).share, None);
}

/// Sprints together: S1's 1 of 3 and a sprint with 2 of 2 done give 3 of 5, not the mean of
/// 1/3 and 1.
#[test]
fn worked_example_accuracy_of_sprints_together() {
    let sprint = |committed, done| SprintAccuracy {
        sprint: String::new(),
        committed,
        done,
        accuracy: None,
        added: 0,
        carried_over: committed - done,
    };
    assert_eq!(overall_accuracy(&[sprint(3, 1), sprint(2, 2)]), Some(0.6));
    assert_eq!(overall_accuracy(&[sprint(0, 0)]), None);
}

#[test]
fn categories_come_from_jira_keys() {
    assert_eq!(Category::from_key("indeterminate"), Category::Indeterminate);
    assert_eq!(Category::from_key("done"), Category::Done);
    assert_eq!(Category::from_key("new"), Category::New);
    assert_eq!(Category::from_key("undefined"), Category::New);
}

#[test]
fn issue_keys_link_branches_pull_requests_and_commits() {
    let none: [String; 0] = [];
    assert_eq!(issue_keys("feature/PAY-123-refunds", &none), ["PAY-123"]);
    assert_eq!(
        issue_keys("Fix PAY-12 and OPS-7; see PAY-12 again", &none),
        ["PAY-12", "OPS-7"]
    );
    assert_eq!(issue_keys("[CORE_2-45] retry", &none), ["CORE_2-45"]);
    // Not keys: lower case, one letter, inside a word, no number, a leading zero.
    for text in ["pay-12", "A-1", "XPAY-12x", "PAY-", "PAY-012", "myPAY-3"] {
        assert!(issue_keys(text, &none).is_empty(), "{text}");
    }
    // With the projects known, UTF-8 and SHA-256 are not issues.
    let projects = ["PAY".to_owned()];
    assert_eq!(
        issue_keys("UTF-8 names, SHA-256 sums, PAY-9", &projects),
        ["PAY-9"]
    );
    assert_eq!(issue_keys("UTF-8 names", &none), ["UTF-8"]);
}
