use super::*;

const VALID: &str = "---
id: PM-2026-014
incidents: [INC-311]          # incident ids (any source), one or more
status: reviewed
reviewed: 2026-03-04
services: [checkout]
factors: [config-change, missing-alert]
actions:
  - id: A1
    title: Alert on queue depth
    owner: payments
    priority: P1
    due: 2026-04-01
    state: done
    done: 2026-03-20
    link: https://github.com/org/repo/issues/88
  - id: A2
    title: Canary the config rollout
    priority: p0
---
## Summary
";

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn a_valid_file_is_read_whole() {
    let pm = parse("postmortems/pm.md", VALID).unwrap();
    assert_eq!(pm.id, "PM-2026-014");
    assert_eq!(pm.incidents, ["INC-311"]);
    assert_eq!(pm.status, Status::Reviewed);
    assert_eq!(pm.reviewed, Some(date("2026-03-04")));
    assert_eq!(pm.factors, ["config-change", "missing-alert"]);
    assert_eq!((pm.line, pm.incidents_line), (2, 3));
    let [a1, a2] = &pm.actions[..] else {
        panic!("two actions expected")
    };
    assert_eq!(
        (a1.priority, a1.state, a1.done, a1.line),
        (Priority::P1, ActionState::Done, Some(date("2026-03-20")), 9)
    );
    assert_eq!(
        (a2.priority, a2.state, a2.due),
        (Priority::P0, ActionState::Open, None)
    );
    // A2 has no due date: the policy gives it 14 days after the review.
    assert_eq!(pm.due(a2, &Policies::default()), Some(date("2026-03-18")));
    assert_eq!(pm.due(a1, &Policies::default()), Some(date("2026-04-01")));
    assert_eq!(pm.action_ref(a1), "PM-2026-014/A1");
}

fn problems(text: &str) -> Vec<String> {
    parse("pm.md", text)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn every_kind_of_invalid_field_is_named_by_line() {
    let text = VALID
        .replace("status: reviewed", "status: reviewd")
        .replace("reviewed: 2026-03-04", "reviewed: 2026-03-04\nowner: ann")
        .replace("due: 2026-04-01", "due: 2026-04-31");
    let got = problems(&text);
    for expected in [
        "pm.md: line 4, field status: unknown status \"reviewd\"",
        "pm.md: line 6, field owner: unknown field",
        "pm.md: line 14, field actions.0.due: \"2026-04-31\" is not a date",
    ] {
        assert!(
            got.iter().any(|g| g.starts_with(expected)),
            "missing {expected:?} in {got:#?}"
        );
    }
    assert_eq!(
        problems(&VALID.replace("id: A2", "id: A1")),
        ["pm.md: line 17, field actions.1.id: \"A1\" repeats the id of line 9"]
    );
}

#[test]
fn required_fields_and_consistent_states() {
    let got = problems(
        "---\nincidents: []\nstatus: closed\nactions:\n  - id: A1\n    title: t\n    priority: P3\n    state: done\n---\n",
    );
    for expected in [
        "pm.md: line 2, field id: is required",
        "pm.md: line 2, field incidents: names no incident",
        "pm.md: line 3, field reviewed: is required when the status is reviewed or closed",
        "pm.md: line 7, field actions.0.priority: unknown priority \"P3\"",
    ] {
        assert!(
            got.iter().any(|g| g.starts_with(expected)),
            "missing {expected:?} in {got:#?}"
        );
    }
}

#[test]
fn files_without_front_matter_or_with_broken_yaml_are_refused() {
    assert_eq!(
        problems("# Postmortem\n"),
        [
            "pm.md: line 1: does not start with YAML front matter (a line `---`, the fields, and `---`)"
        ]
    );
    assert!(problems("---\nid: x\n")[0].contains("not closed"));
    assert!(problems("---\nid: [x\n---\n")[0].contains("is not valid YAML"));
}

#[test]
fn ids_repeated_across_files_and_unknown_incidents() {
    let a = parse("a.md", VALID).unwrap();
    let b = parse("b.md", &VALID.replace("INC-311", "INC-9")).unwrap();
    let got: Vec<String> = check_folder(&[a, b], |id| id == "INC-311")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        [
            "b.md: line 2, field id: \"PM-2026-014\" is already the id of a.md (line 2)",
            "b.md: line 3, field incidents: no incident \"INC-9\" is stored (import or receive it first)"
        ]
    );
}

#[test]
fn references_are_found_in_free_text() {
    let text = "Alert on queue depth (PM-2026-014/A1)\nAction: PM-2026-015/A3, PM-2026-014/A1, PM-A/A2.\nSee https://x/y, input/output and and/or.";
    assert_eq!(
        references_in(text),
        ["PM-2026-014/A1", "PM-2026-015/A3", "PM-A/A2"]
    );
}

#[test]
fn a_done_action_without_its_date_is_read_and_pointed_out() {
    let pm = parse(
        "pm.md",
        &VALID.replace("    done: 2026-03-20\n", "").replace(
            "    priority: p0\n",
            "    priority: p0\n    done: 2026-03-01\n",
        ),
    )
    .unwrap();
    assert_eq!(pm.actions[0].done, None);
    let found = pm.inconsistencies();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].1.contains("A1 is done but has no done date"));
    assert!(found[1].1.contains("A2 has a done date"));
}
