//! docs/metrics.md, "Anomalies": the worked examples.

use super::*;

const QUIET: [f64; 12] = [
    10.0, 12.0, 9.0, 11.0, 10.0, 13.0, 8.0, 11.0, 10.0, 12.0, 9.0, 11.0,
];

fn series(tail: &[f64]) -> Vec<Option<f64>> {
    QUIET.iter().chain(tail).map(|v| Some(*v)).collect()
}

fn flags(values: &[Option<f64>], shape: Shape) -> Vec<(usize, Kind)> {
    detect(&Series::plain(values), shape, &Params::default())
        .into_iter()
        .map(|f| (f.index, f.kind))
        .collect()
}

#[test]
fn a_quiet_series_and_a_holiday_dip_flag_nothing() {
    assert!(flags(&series(&[]), Shape::Count).is_empty());
    // Half the usual deployments in a holiday week: P(X ≤ 5 | λ = 10.5) ≈ 0.05, no flag.
    assert!(flags(&series(&[5.0, 11.0]), Shape::Count).is_empty());
}

#[test]
fn count_spikes_and_drops_to_zero() {
    // λ = 10.5: 30 deployments is far in the upper tail; 0 in the lower (e^-10.5).
    assert_eq!(flags(&series(&[30.0]), Shape::Count), [(12, Kind::Spike)]);
    assert_eq!(
        flags(&series(&[0.0, 11.0]), Shape::Count),
        [(12, Kind::Drop)]
    );
    let f = &detect(
        &Series::plain(&series(&[30.0])),
        Shape::Count,
        &Params::default(),
    )[0];
    assert_eq!((f.baseline, f.direction), (10.5, Direction::Up));
    assert!(f.low < 10.5 && 10.5 < f.high && f.high < 30.0, "{f:?}");
}

#[test]
fn a_level_shift_is_flagged_at_its_first_week() {
    // Lead times around a day, then three weeks at twice that.
    let day = 86_400.0;
    let mut v: Vec<Option<f64>> = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.1, 0.9, 1.0, 1.05]
        .iter()
        .map(|x| Some(x * day))
        .collect();
    v.extend([Some(2.0 * day), Some(2.1 * day), Some(1.9 * day)]);
    let found = flags(&v, Shape::Duration);
    assert_eq!(found, [(10, Kind::Shift)]);
}

#[test]
fn too_little_history_and_dismissed_weeks() {
    // A spike in week 4: fewer than 6 earlier weeks, nothing flagged.
    let early: Vec<Option<f64>> = [10.0, 11.0, 9.0, 10.0, 40.0]
        .iter()
        .map(|v| Some(*v))
        .collect();
    assert!(flags(&early, Shape::Count).is_empty());
    // Six usable weeks before week 6 flag it; dismissing one of them leaves five.
    let v: Vec<Option<f64>> = [10.0, 11.0, 9.0, 10.0, 12.0, 10.0, 40.0]
        .iter()
        .map(|v| Some(*v))
        .collect();
    assert_eq!(flags(&v, Shape::Count), [(6, Kind::Spike)]);
    let mut dismissed = vec![false; 7];
    dismissed[2] = true;
    assert!(
        detect(
            &Series {
                excluded: &dismissed,
                ..Series::plain(&v)
            },
            Shape::Count,
            &Params::default()
        )
        .is_empty()
    );
}

#[test]
fn rare_event_rates_are_judged_as_the_counts_they_are() {
    let base = [0.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0];
    let with = |x: f64| -> Vec<Option<f64>> { base.iter().chain([&x]).map(|v| Some(*v)).collect() };
    assert!(flags(&with(0.15), Shape::Rate).is_empty());
    assert_eq!(flags(&with(0.5), Shape::Rate), [(12, Kind::Spike)]);
}
