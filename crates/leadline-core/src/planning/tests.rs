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
