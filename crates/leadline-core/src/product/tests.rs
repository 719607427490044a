//! docs/metrics.md, "Product metrics": the worked example.

use super::*;

// 2024-05-01T00:00:00Z; the window is [D0, D0 + 30 days).
const D0: Millis = 1_714_521_600_000;
const H: Millis = 3_600_000;
const D: Millis = 24 * H;

fn example() -> Vec<ProductEvent> {
    let rows: &[(&str, &str, Millis)] = &[
        ("a", "signed_up", D0 + H),
        ("a", "project_created", D0 + 2 * H),
        ("a", "report_viewed", D0 + D),
        ("a", "export_clicked", D0 + D),
        ("b", "signed_up", D0 + 2 * D),
        ("b", "project_created", D0 + 3 * D),
        ("b", "report_viewed", D0 + 10 * D),
        ("b", "export_scheduled", D0 + 12 * D),
        ("c", "signed_up", D0 + 5 * D),
        ("d", "signed_up", D0 + 25 * D),
        ("d", "report_viewed", D0 + 26 * D),
        ("e", "signed_up", D0 - 3 * D),
        ("e", "export_clicked", D0 - D),
        ("e", "signed_up", D0 + 4 * D),
        ("e", "project_created", D0 + 4 * D),
        ("e", "report_viewed", D0 + 4 * D),
        ("f", "signed_up", D0 + 10 * D),
        ("f", "report_viewed", D0 + 10 * D + H),
        ("f", "project_created", D0 + 17 * D),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (user, event, at))| ProductEvent {
            id: i.to_string(),
            at: *at,
            user: (*user).to_owned(),
            event: (*event).to_owned(),
            properties: None,
        })
        .collect()
}

fn first_report() -> Activation {
    Activation {
        name: "first-report".into(),
        signup: "signed_up".into(),
        criteria: vec!["project_created".into(), "report_viewed".into()],
        within_days: 7,
        value: vec!["report_viewed".into()],
    }
}

#[test]
fn activation_counts_the_eligible_cohort_and_includes_the_last_instant() {
    let events = example();
    let index = Index::new(&events);
    // Cohort: a, b, c, d, f (e signed up before the window); d is not yet eligible (25 + 7 >
    // 30); a and f activated (f's project exactly 7 days after signup counts), b too late.
    let r = index.activation(&first_report(), D0, D0 + 30 * D);
    assert_eq!((r.cohort, r.activated, r.rate), (4, 2, Some(0.5)));
}

#[test]
fn time_to_value_takes_nearest_rank_percentiles() {
    let events = example();
    let index = Index::new(&events);
    // Waits: f 1 h, a 23 h, d 1 day, b 8 days; c never: p50 = rank 2, p75 = rank 3.
    let t = index.time_to_value(&first_report(), D0, D0 + 30 * D);
    assert_eq!((t.users, t.reached), (5, 4));
    assert_eq!(
        (t.p50_seconds, t.p75_seconds),
        (Some(82_800.0), Some(86_400.0))
    );
}

#[test]
fn feature_usage_and_stickiness() {
    let events = example();
    let index = Index::new(&events);
    let export = Feature {
        name: "export".into(),
        events: vec!["export_clicked".into(), "export_scheduled".into()],
    };
    // a and b exported in the window (e before it); six users were active.
    let f = index.feature(&export, D0, D0 + 30 * D);
    assert_eq!((f.users, f.active_users), (2, 6));
    assert!((f.usage.unwrap() - 1.0 / 3.0).abs() < 1e-12);
    // Twelve user-days over 30 days; six users.
    let s = index.stickiness(D0, D0 + 30 * D);
    assert_eq!((s.dau_avg, s.mau), (Some(0.4), 6));
    assert!((s.ratio.unwrap() - 0.4 / 6.0).abs() < 1e-12);
}

#[test]
fn raw_ids_never_survive_into_the_stored_form() {
    let mut properties = serde_json::Map::new();
    properties.insert("distinct_id".into(), "alice@example.com".into());
    properties.insert("plan".into(), "pro".into());
    let raw = RawEvent {
        id: None,
        at: D0,
        user: "alice@example.com".into(),
        event: "signed_up".into(),
        properties: Some(properties),
    };
    let a = stored(b"key", raw.clone());
    assert!(a.user.starts_with("user-") && a.user.len() == 21);
    let text = format!("{a:?}");
    assert!(!text.contains("alice"), "{text}");
    // The same event gets the same id; another key, another pseudonym.
    assert_eq!(stored(b"key", raw.clone()).id, a.id);
    assert_ne!(stored(b"other", raw).user, a.user);
}

#[test]
fn nearest_rank_percentiles() {
    assert_eq!(nearest_rank(&[], 0.5), None);
    assert_eq!(nearest_rank(&[5], 0.75), Some(5));
    assert_eq!(nearest_rank(&[1, 2, 3, 4], 0.5), Some(2));
    assert_eq!(nearest_rank(&[1, 2, 3, 4, 5], 0.5), Some(3));
}
