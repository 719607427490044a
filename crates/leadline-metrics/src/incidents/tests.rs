//! docs/metrics.md, "Incidents": the worked example, field by field.

use std::collections::HashMap;

use leadline_core::postmortem::{Policies, parse};

use super::*;
use crate::postmortems::{Evidence, track};
use crate::window::parse_instant;

fn at(s: &str) -> Millis {
    parse_instant("test", s).unwrap()
}

fn incident(id: &str, service: &str, severity: &str, opened: &str) -> Incident {
    Incident {
        id: id.into(),
        service: service.into(),
        severity: Some(severity.into()),
        opened_at: at(opened),
        ..Incident::default()
    }
}

const PM_A: &str = "---
id: PM-A
incidents: [INC-1]
status: reviewed
reviewed: 2026-03-09
factors: [missing-alert]
actions:
  - {id: A1, title: Alert on pool saturation, priority: P1, due: 2026-03-20, state: done, done: 2026-03-18}
  - {id: A2, title: Canary the pool size, priority: P0, due: 2026-03-10}
  - {id: A3, title: Load-test the pool, priority: P2, due: 2026-04-15}
---
";

const PM_B: &str = "---
id: PM-B
incidents: [INC-0, INC-2]
status: in-review
factors: [config-change]
actions:
  - {id: B1, title: Review config rollouts, priority: P2, due: 2026-05-01}
---
";

fn example() -> Inputs {
    let inc1 = Incident {
        started_at: Some(at("2026-03-02T10:00:00Z")),
        detected_at: Some(at("2026-03-02T10:05:00Z")),
        acknowledged_at: Some(at("2026-03-02T10:20:00Z")),
        mitigated_at: Some(at("2026-03-02T11:00:00Z")),
        resolved_at: Some(at("2026-03-02T12:00:00Z")),
        fingerprint: Some("db-pool".into()),
        ..incident("INC-1", "checkout", "P1", "2026-03-02T10:10:00Z")
    };
    let inc2 = Incident {
        acknowledged_at: Some(at("2026-03-10T08:30:00Z")),
        resolved_at: Some(at("2026-03-10T09:00:00Z")),
        ..incident("INC-2", "checkout", "high", "2026-03-10T08:00:00Z")
    };
    let inc3 = Incident {
        started_at: Some(at("2026-03-20T00:00:00Z")),
        fingerprint: Some("db-pool".into()),
        ..incident("INC-3", "checkout", "minor", "2026-03-20T00:30:00Z")
    };
    let inc4 = Incident {
        resolved_at: Some(at("2026-03-25T14:00:00Z")),
        fingerprint: Some("db-pool".into()),
        ..incident("INC-4", "search", "warning", "2026-03-25T12:00:00Z")
    };
    let inc0 = incident("INC-0", "checkout", "sev3", "2026-02-20T00:00:00Z");
    let postmortems = vec![parse("a.md", PM_A).unwrap(), parse("b.md", PM_B).unwrap()];
    // A3 was shipped after its due date by a commit carrying its trailer.
    let evidence: HashMap<String, Evidence> = [(
        "pm-a/a3".to_owned(),
        Evidence {
            kind: "commit",
            reference: "app@abc".into(),
            at: at("2026-04-20T09:00:00Z"),
        },
    )]
    .into();
    let actions = track(&postmortems, &evidence, &Policies::default());
    Inputs {
        incidents: [inc0, inc1, inc2, inc3, inc4]
            .into_iter()
            .map(|i| ("import".to_owned(), i))
            .collect(),
        postmortems,
        actions,
        review_within_days: 7,
    }
}

fn march() -> Window {
    Window {
        since: at("2026-03-01"),
        until: at("2026-04-01"),
    }
}

fn durations_of(d: &Durations) -> (usize, Option<f64>, Option<f64>) {
    (d.incidents, d.median_seconds, d.p90_seconds)
}

#[test]
fn worked_example_counts_and_times() {
    let r = report(&example(), &Query::default(), march());
    assert_eq!(r.incidents.total, 4);
    let s = &r.incidents.by_severity;
    assert_eq!((s.sev1, s.sev2, s.sev3, s.sev4, s.unknown), (1, 1, 1, 0, 1));
    // Detect: INC-1 10:00 → 10:05, INC-3 00:00 → 00:30 (detected = opened).
    assert_eq!(
        durations_of(&r.time_to_detect),
        (2, Some(300.0), Some(1800.0))
    );
    // Acknowledge: INC-1 10:05 → 10:20, INC-2 08:00 → 08:30.
    assert_eq!(
        durations_of(&r.time_to_acknowledge),
        (2, Some(900.0), Some(1800.0))
    );
    // Mitigate: INC-1 1 h, INC-2 1 h (its resolution), INC-4 2 h.
    assert_eq!(
        durations_of(&r.time_to_mitigate),
        (3, Some(3600.0), Some(7200.0))
    );
    // Resolve: INC-1 2 h, INC-2 1 h, INC-4 2 h.
    assert_eq!(
        durations_of(&r.time_to_resolve),
        (3, Some(7200.0), Some(7200.0))
    );
}

#[test]
fn worked_example_postmortems_actions_and_repeats() {
    let r = report(&example(), &Query::default(), march());
    let p = &r.postmortems;
    // INC-1's review (03-09) is on the last allowed day; INC-2's is not signed off.
    assert_eq!(
        (p.required, p.written, p.reviewed_on_time, p.coverage),
        (2, 2, 1, Some(0.5))
    );
    let a = &r.actions;
    assert_eq!(
        (a.total, a.done, a.done_on_time, a.open, a.overdue),
        (4, 2, 1, 2, 1)
    );
    assert_eq!((a.completion_rate, a.on_time_rate), (Some(0.5), Some(0.25)));
    // INC-3 repeats INC-1 (fingerprint); INC-2 repeats INC-0 (a shared factor); INC-4 shares
    // a fingerprint but not the service.
    assert_eq!(
        (r.repeats.incidents, r.repeats.repeats, r.repeats.rate),
        (4, 2, Some(0.5))
    );
}

#[test]
fn a_service_and_an_empty_window() {
    let inputs = example();
    let q = Query {
        service: Some("search".into()),
        ..Query::default()
    };
    let r = report(&inputs, &q, march());
    assert_eq!((r.incidents.total, r.postmortems.required), (1, 0));
    assert_eq!(r.postmortems.coverage, None);
    assert_eq!((r.actions.total, r.actions.completion_rate), (0, None));
    let empty = Window {
        since: at("2025-01-01"),
        until: at("2025-02-01"),
    };
    let r = report(&inputs, &Query::default(), empty);
    assert_eq!(durations_of(&r.time_to_resolve), (0, None, None));
    assert_eq!(r.repeats.rate, None);
}

#[test]
fn a_boundary_review_a_day_late_is_not_on_time() {
    let mut inputs = example();
    inputs.postmortems[0] = parse("a.md", &PM_A.replace("2026-03-09", "2026-03-10")).unwrap();
    let r = report(&inputs, &Query::default(), march());
    assert_eq!(r.postmortems.reviewed_on_time, 0);
}
