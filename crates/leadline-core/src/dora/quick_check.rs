//! DORA's Quick Check scale (dora.dev/quickcheck, `svelte/quick-check` in dora-team/dora.dev):
//! each key's answer is mapped linearly onto 0–10, 10 best, and the score is their mean.
//!
//! The Quick Check asks people to pick a range; leadline measures, so each measured key is put
//! in the range it falls in, then scored as the Quick Check scores that answer:
//! - deployment frequency: fewer than once per six months (answer 1), at least once per six
//!   months (2), per month (3), per week (4), per day (5), several times a day (6);
//! - lead time and recovery time: over six months (1), over a month (2), over a week (3), over a
//!   day (4), over an hour (5), an hour or less (6);
//! - an answer `a` of six scores `(a − 1) / 5 × 10`;
//! - change failure rate, a percentage, scores `10 − rate / 10` (0 % is 10, 100 % is 0).
//!
//! Keys without a value are left out of the mean; with none, there is no score.

use serde::Serialize;

/// The Quick Check's all-industry mean and standard deviation, as leadline's references give
/// them (reliability-outcomes-references: `quickcheck.js`, all industries).
pub const INDUSTRY_MEAN: f64 = 6.3;
pub const INDUSTRY_SD: f64 = 2.0;

const HOUR: f64 = 3600.0;
const DAY: f64 = 24.0 * HOUR;

/// Each key's 0–10 score and their mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QuickCheck {
    pub deployment_frequency: Option<f64>,
    pub lead_time: Option<f64>,
    pub change_failure_rate: Option<f64>,
    pub recovery_time: Option<f64>,
    /// The mean of the keys that have a score.
    pub score: Option<f64>,
}

/// Scores measured keys: deployments per day, median lead time and recovery time in seconds,
/// change failure rate as a share (0–1).
pub fn quick_check(
    per_day: Option<f64>,
    lead_time_seconds: Option<f64>,
    change_failure_rate: Option<f64>,
    recovery_seconds: Option<f64>,
) -> QuickCheck {
    let deployment_frequency = per_day.map(|d| answer(frequency_answer(d)));
    let lead_time = lead_time_seconds.map(|s| answer(duration_answer(s)));
    let change_failure_rate = change_failure_rate.map(|r| 10.0 - r.clamp(0.0, 1.0) * 10.0);
    let recovery_time = recovery_seconds.map(|s| answer(duration_answer(s)));
    let scores: Vec<f64> = [
        deployment_frequency,
        lead_time,
        change_failure_rate,
        recovery_time,
    ]
    .into_iter()
    .flatten()
    .collect();
    let score = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    QuickCheck {
        deployment_frequency,
        lead_time,
        change_failure_rate,
        recovery_time,
        score,
    }
}

/// The Quick Check's score of answer 1 (worst) to 6 (best).
fn answer(a: u8) -> f64 {
    f64::from(a.clamp(1, 6) - 1) / 5.0 * 10.0
}

fn frequency_answer(per_day: f64) -> u8 {
    match per_day {
        d if d >= 2.0 => 6,
        d if d >= 1.0 => 5,
        d if d >= 1.0 / 7.0 => 4,
        d if d >= 1.0 / 30.0 => 3,
        d if d >= 1.0 / 182.0 => 2,
        _ => 1,
    }
}

fn duration_answer(seconds: f64) -> u8 {
    match seconds {
        s if s <= HOUR => 6,
        s if s <= DAY => 5,
        s if s <= 7.0 * DAY => 4,
        s if s <= 30.0 * DAY => 3,
        s if s <= 182.0 * DAY => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/metrics.md, "DORA Quick Check score": 19 deployments in 30 days, a 2.1-day lead
    /// time, 10 % failing, restored in 3 hours.
    #[test]
    fn the_worked_example() {
        let q = quick_check(
            Some(19.0 / 30.0),
            Some(2.1 * DAY),
            Some(0.10),
            Some(3.0 * HOUR),
        );
        assert_eq!(q.deployment_frequency, Some(6.0)); // weekly, not daily: answer 4
        assert_eq!(q.lead_time, Some(6.0)); // a day to a week: answer 4
        assert_eq!(q.change_failure_rate, Some(9.0));
        assert_eq!(q.recovery_time, Some(8.0)); // under a day: answer 5
        assert_eq!(q.score, Some(7.25));
    }

    #[test]
    fn range_edges_and_missing_keys() {
        let freq = |d: f64| quick_check(Some(d), None, None, None).score;
        assert_eq!(freq(3.0), Some(10.0));
        assert_eq!(freq(1.0), Some(8.0));
        assert_eq!(freq(0.0), Some(0.0));
        let lead = |s: f64| quick_check(None, Some(s), None, None).score;
        assert_eq!(lead(HOUR), Some(10.0));
        assert_eq!(lead(HOUR + 1.0), Some(8.0));
        assert_eq!(lead(400.0 * DAY), Some(0.0));
        assert_eq!(quick_check(None, None, Some(1.0), None).score, Some(0.0));
        assert_eq!(quick_check(None, None, None, None).score, None);
    }
}
