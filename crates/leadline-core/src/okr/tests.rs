//! docs/metrics.md, "OKRs": the worked examples.

use super::*;

const FILE: &str = r#"[[objective]]
id = "O1"
title = "New teams get value on day one"
owner = "onboarding"
period = "2026-Q3"

[[objective.key_result]]
id = "O1.KR1"
title = "Half of new signups activate within a week"
metric = "product.activation.rate{name=first-report}"
target = 0.5
baseline = 0.31
commit = 0.4
stretch = 0.6

[[objective.key_result]]
id = "O1.KR2"
metric = "dora.lead_time.median_seconds{service=api}"
target = 86400

[[objective]]
id = "O2"
title = "Fewer pages"
since = 2026-07-15
until = 2026-09-01
"#;

#[test]
fn a_file_reads_with_periods_and_key_results() {
    let okrs = parse(FILE).unwrap();
    assert_eq!(okrs.len(), 2);
    let o1 = &okrs[0];
    // 2026-07-01 and 2026-10-01, UTC.
    assert_eq!(
        (o1.period.since, o1.period.until),
        (1_782_864_000_000, 1_790_812_800_000)
    );
    assert_eq!(o1.key_results[0].commit, Some(0.4));
    assert_eq!(o1.key_results[1].title, "O1.KR2");
    assert_eq!(o1.key_results[1].metric_line, 18);
    assert_eq!(okrs[1].period.name, "2026-07-15..2026-09-01");
}

#[test]
fn bad_files_name_their_line_and_field() {
    let e = parse(&FILE.replace("period = \"2026-Q3\"", "period = \"Q3\"")).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (5, Some("period")));
    let e = parse(&FILE.replace("target = 86400", "target = \"soon\"")).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (19, Some("target")));
    let e = parse(&FILE.replace("id = \"O1.KR2\"", "id = \"O1.KR1\"")).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (17, Some("id")));
    let e = parse(&FILE.replace("until = 2026-09-01", "until = 2026-07-01")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("until"));
    let e = parse(&format!("{FILE}colour = \"red\"\n")).unwrap_err();
    assert!(e.message.contains("colour"), "{e}");
}

#[test]
fn periods_by_name() {
    let q = period("2026-Q1").unwrap();
    assert_eq!(q.until - q.since, 90 * 86_400_000);
    assert_eq!(
        period("2026-H2").unwrap().since,
        period("2026-07").unwrap().since
    );
    assert_eq!(
        period("2026").unwrap().until,
        period("2027-01").unwrap().since
    );
    assert!(period("2026-Q5").is_none() && period("26-Q1").is_none());
}

#[test]
fn progress_projection_and_status() {
    // Baseline 0.31, target 0.5: at 0.405 half way; past the target capped at 1.5.
    assert!((progress(0.405, 0.31, 0.5).unwrap() - 0.5).abs() < 1e-12);
    assert_eq!(progress(2.0, 0.31, 0.5), Some(1.5));
    assert_eq!(progress(0.1, 0.31, 0.5), Some(0.0));
    // Lower is better: lead time from 2 days towards 1 day, now 1.5 days: half way.
    assert_eq!(progress(129_600.0, 172_800.0, 86_400.0), Some(0.5));
    assert_eq!(progress(1.0, 2.0, 2.0), None);
    // Weekly values 0.30, 0.33, 0.36 at days 0, 7, 14: 0.03 a week, 0.45 at day 35.
    let p = projection(&[(0.0, 0.30), (7.0, 0.33), (14.0, 0.36)], 35.0).unwrap();
    assert!((p - 0.45).abs() < 1e-12);
    assert_eq!(projection(&[(0.0, 1.0)], 7.0), None);
    assert_eq!(status(0.52, 0.31, 0.5, Some(0.4), true), Status::OnTrack);
    assert_eq!(status(0.45, 0.31, 0.5, Some(0.4), true), Status::AtRisk);
    assert_eq!(status(0.35, 0.31, 0.5, Some(0.4), true), Status::OffTrack);
    // Without a commit, 70 % of the way: 0.31 + 0.7 × 0.19 = 0.443.
    assert_eq!(status(0.45, 0.31, 0.5, None, true), Status::AtRisk);
    assert_eq!(status(0.44, 0.31, 0.5, None, true), Status::OffTrack);
    assert_eq!(
        status(80_000.0, 172_800.0, 86_400.0, None, false),
        Status::OnTrack
    );
}
