//! docs/metrics.md, "SLOs": the worked example. One day of minute counts from 00:07 UTC:
//! 1000 requests a minute, all good but 31 bad a minute from 10:00 to 10:59. Target 0.999.

use super::*;

const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// 2026-03-02T00:00:00Z.
const MIDNIGHT: Millis = 1_772_409_600_000;

fn at(h: i64, m: i64) -> Millis {
    MIDNIGHT + h * HOUR + m * MINUTE
}

fn example() -> Minutes {
    let intervals: Vec<Interval> = (7..24 * 60)
        .map(|minute| {
            let bad = if (600..660).contains(&minute) {
                31.0
            } else {
                0.0
            };
            Interval {
                at: MIDNIGHT + minute * MINUTE,
                good: 1000.0 - bad,
                total: 1000.0,
            }
        })
        .collect();
    Minutes::new(&intervals)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn worked_example_budget_and_burn_rates_at_noon() {
    let m = example();
    // From 00:07 to 11:59: 713 minutes, 713 000 requests, 1 860 bad.
    let (good, total) = m.counts(at(12, 0) - 30 * DAY, at(12, 0));
    assert_eq!((good, total), (711_140.0, 713_000.0));
    let sli = good / total;
    assert!(close(budget_remaining(sli, 0.999), -1.608_695_652_173_913));
    let burn = |w| m.burn(at(12, 0), w, 0.999);
    assert_eq!(burn(5 * MINUTE), Some(0.0));
    assert_eq!(burn(HOUR), Some(0.0));
    // 2 h: 1 860 bad of 120 000; 6 h: of 360 000; 1 d and 3 d: of everything since 00:07.
    assert!(close(burn(2 * HOUR).unwrap(), 15.5));
    assert!(close(burn(6 * HOUR).unwrap(), 5.166_666_666_666_667));
    assert!(close(burn(DAY).unwrap(), 2.608_695_652_173_913));
    assert!(close(burn(3 * DAY).unwrap(), 2.608_695_652_173_913));
    // Before any data there is no burn rate.
    assert_eq!(m.burn(at(0, 5), 5 * MINUTE, 0.999), None);
}

#[test]
fn worked_example_alerts_page_and_ticket() {
    let m = example();
    let fired = alerts(&m, &rules(30 * DAY), 0.999, MIDNIGHT, MIDNIGHT + DAY);
    assert_eq!(
        fired,
        [
            // 1 h/5 m: the hour holds 28 bad minutes at 10:28 (burn 14.47); the last 5 minutes
            // hold 3 at 11:02 (18.6), 2 at 11:03 (12.4).
            Firing {
                severity: Severity::Page,
                start: at(10, 28),
                end: at(11, 3)
            },
            // 3 d/6 h: 20 bad minutes of 613 at 10:20 (1.011; 19 of 612 is 0.962); the 6 hours
            // hold 12 bad minutes until 16:48 (1.033), 11 at 16:49 (0.947).
            Firing {
                severity: Severity::Ticket,
                start: at(10, 20),
                end: at(16, 49)
            },
        ]
    );
    // The other two rules never fire: 6 h burns at most 5.17 (< 6), 1 d at most 2.85 (< 3).
    let six_hours = [rules(30 * DAY)[1]];
    assert!(alerts(&m, &six_hours, 0.999, MIDNIGHT, MIDNIGHT + DAY).is_empty());
    let one_day = [rules(30 * DAY)[2]];
    assert!(alerts(&m, &one_day, 0.999, MIDNIGHT, MIDNIGHT + DAY).is_empty());
    // Clipped to the query.
    let clipped = alerts(&m, &rules(30 * DAY), 0.999, at(10, 30), at(11, 0));
    assert_eq!(
        clipped.iter().map(|f| (f.start, f.end)).collect::<Vec<_>>(),
        [(at(10, 30), at(11, 0)), (at(10, 30), at(11, 0))]
    );
}

#[test]
fn windows_scale_with_the_period_and_factors_stay() {
    let r = rules(7 * DAY);
    // 7/30 of 1 h is 14 min; of 5 min, 70 s; of 3 d, 16 h 48 min; of 6 h, 84 min.
    assert_eq!(
        (r[0].long, r[0].short, r[0].factor),
        (14 * MINUTE, 70_000, 14.4)
    );
    assert_eq!(
        (r[3].long, r[3].short, r[3].factor),
        (16 * HOUR + 48 * MINUTE, 84 * MINUTE, 1.0)
    );
    let thirty = rules(30 * DAY);
    assert_eq!(
        (thirty[1].long, thirty[1].short, thirty[1].factor),
        (6 * HOUR, 30 * MINUTE, 6.0)
    );
}

#[test]
fn worked_example_timeslices() {
    let m = example();
    // One-minute slices, good at 98 %: the 60 minutes at 96.9 % are bad, 653 of 713 good.
    let (good, all) = m.slices(at(12, 0) - 30 * DAY, at(12, 0), MINUTE, 0.98);
    assert_eq!((good, all), (653, 713));
    // Target 0.95: 1 − (60/713)/0.05.
    assert!(close(
        budget_remaining(653.0 / 713.0, 0.95),
        -0.683_029_453_015_427_8
    ));
}

#[test]
fn intervals_longer_than_a_minute_spread_evenly() {
    // Hourly counts: each hour's 600 events fall 10 a minute over its 60 minutes.
    let hourly: Vec<Interval> = (0..3)
        .map(|h| Interval {
            at: MIDNIGHT + h * HOUR,
            good: 540.0,
            total: 600.0,
        })
        .collect();
    assert_eq!(cadence(&hourly), HOUR);
    let m = Minutes::new(&hourly);
    assert_eq!(m.counts(at(0, 30), at(0, 45)), (135.0, 150.0));
    assert_eq!(m.counts(at(2, 50), at(4, 0)), (90.0, 100.0));
    // A minute series with a gap has no events in the gap.
    let gappy = [
        Interval {
            at: at(0, 0),
            good: 5.0,
            total: 5.0,
        },
        Interval {
            at: at(0, 1),
            good: 5.0,
            total: 5.0,
        },
        Interval {
            at: at(0, 30),
            good: 1.0,
            total: 2.0,
        },
    ];
    let m = Minutes::new(&gappy);
    assert_eq!(m.counts(at(0, 2), at(0, 30)), (0.0, 0.0));
    assert_eq!(m.burn(at(0, 20), 5 * MINUTE, 0.9), None);
}
