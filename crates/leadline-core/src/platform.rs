//! What a platform capability does to the services that adopt it, measured: a
//! difference-in-differences of a weekly outcome (adopters' change from the N weeks before to
//! the N weeks after their adoption week, minus the change of services that had not adopted yet
//! over the same calendar weeks) with a bootstrap interval. It assumes parallel trends: without
//! the capability, adopters would have moved as the others did.

use serde::Serialize;

/// One service's weekly outcome on the common calendar of weeks, and the week it adopted the
/// capability (an index into `weekly`), if it did.
#[derive(Debug, Clone)]
pub struct Unit {
    pub service: String,
    pub adopted: Option<usize>,
    pub weekly: Vec<Option<f64>>,
}

/// Fewer services than this on either side is "not enough data".
pub const MIN_SIDE: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Adopters with data in both windows and at least one control.
    pub adopters: usize,
    /// Distinct services that served as controls.
    pub controls: usize,
    /// The mean over adopters of (their change − the mean change of their controls).
    pub estimate: Option<f64>,
    /// The bootstrap 90 % interval.
    pub low: Option<f64>,
    pub high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The mean of `weekly` over [from, to), `None` without a value there.
fn window(weekly: &[Option<f64>], from: usize, to: usize) -> Option<f64> {
    mean(
        weekly
            .get(from..to.min(weekly.len()))?
            .iter()
            .flatten()
            .copied(),
    )
}

/// A unit's change from [t − n, t) to [t + 1, t + 1 + n): the adoption week itself is left
/// out, as what was made before the adoption still ships in it.
fn change(u: &Unit, t: usize, n: usize) -> Option<f64> {
    let before = window(&u.weekly, t.checked_sub(n)?, t)?;
    let after = window(&u.weekly, t + 1, t + 1 + n)?;
    Some(after - before)
}

/// Each adopter's effect (its change minus its controls' mean change) and the controls used.
fn effects(units: &[&Unit], n: usize) -> (Vec<f64>, Vec<usize>) {
    let mut out = Vec::new();
    let mut used = Vec::new();
    for a in units.iter().filter(|u| u.adopted.is_some()) {
        let Some(t) = a.adopted else { continue };
        let Some(own) = change(a, t, n) else { continue };
        // Not yet adopted through the after window: never, or from t + 1 + n on.
        let controls: Vec<(usize, f64)> = units
            .iter()
            .enumerate()
            .filter(|(_, c)| c.adopted.is_none_or(|s| s > t + n))
            .filter_map(|(i, c)| change(c, t, n).map(|d| (i, d)))
            .collect();
        let Some(baseline) = mean(controls.iter().map(|(_, d)| *d)) else {
            continue;
        };
        used.extend(controls.iter().map(|(i, _)| *i));
        out.push(own - baseline);
    }
    used.sort_unstable();
    used.dedup();
    (out, used)
}

/// xorshift64*: the same resamples on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

/// The estimate over `units` with windows of `n` weeks, and its 90 % interval from
/// `resamples` bootstrap draws of adopters and of not-yet-adopters (services resampled whole).
pub fn did(units: &[Unit], n: usize, resamples: usize, seed: u64) -> Estimate {
    let all: Vec<&Unit> = units.iter().collect();
    let (point, used) = effects(&all, n);
    let adopters = point.len();
    let controls = used.len();
    if adopters < MIN_SIDE || controls < MIN_SIDE {
        return Estimate {
            adopters,
            controls,
            estimate: None,
            low: None,
            high: None,
            note: Some(format!(
                "not enough data: {adopters} adopters and {controls} not-yet-adopters with data before and after (at least {MIN_SIDE} each)"
            )),
        };
    }
    let estimate = mean(point.iter().copied());
    let adopting: Vec<&Unit> = units.iter().filter(|u| u.adopted.is_some()).collect();
    let others: Vec<&Unit> = units.iter().filter(|u| u.adopted.is_none()).collect();
    let mut rng = Rng(seed | 1);
    let mut draws: Vec<f64> = (0..resamples)
        .filter_map(|_| {
            // An adopter can be a control for an earlier adopter: both groups are redrawn.
            let mut sample: Vec<&Unit> = (0..adopting.len())
                .map(|_| adopting[rng.below(adopting.len())])
                .collect();
            if !others.is_empty() {
                sample.extend((0..others.len()).map(|_| others[rng.below(others.len())]));
            }
            mean(effects(&sample, n).0.into_iter())
        })
        .collect();
    draws.sort_by(f64::total_cmp);
    let at = |p: f64| {
        (!draws.is_empty()).then(|| {
            let rank = ((p * draws.len() as f64).ceil() as usize).clamp(1, draws.len());
            draws[rank - 1]
        })
    };
    Estimate {
        adopters,
        controls,
        estimate,
        low: at(0.05),
        high: at(0.95),
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twelve services over 40 weeks: a shared trend, each its own level and noise; half adopt
    /// at staggered weeks, after which their outcome moves by `effect`.
    fn fleet(effect: f64, seed: u64) -> Vec<Unit> {
        let mut rng = Rng(seed);
        let mut noise = || (rng.below(1000) as f64 / 1000.0 - 0.5) * 4.0;
        (0..12)
            .map(|s| {
                let adopted = (s % 2 == 0).then_some(14 + s);
                let level = 20.0 + 3.0 * s as f64;
                let weekly = (0..40)
                    .map(|w| {
                        let treated = adopted.is_some_and(|t| w >= t);
                        Some(level + 0.3 * w as f64 + noise() + if treated { effect } else { 0.0 })
                    })
                    .collect();
                Unit {
                    service: format!("s{s}"),
                    adopted,
                    weekly,
                }
            })
            .collect()
    }

    #[test]
    fn a_known_effect_is_recovered_within_the_interval() {
        let e = did(&fleet(-8.0, 7), 6, 500, 1);
        // The six who never adopt, and two later adopters before their own adoption.
        assert_eq!((e.adopters, e.controls), (6, 8));
        let (est, low, high) = (e.estimate.unwrap(), e.low.unwrap(), e.high.unwrap());
        assert!(low <= -8.0 && -8.0 <= high, "{e:?}");
        assert!((est + 8.0).abs() < 1.5, "{e:?}");
        assert!(high < 0.0, "{e:?}");
    }

    #[test]
    fn no_effect_gives_an_interval_holding_zero() {
        let e = did(&fleet(0.0, 11), 6, 500, 1);
        assert!(e.low.unwrap() <= 0.0 && 0.0 <= e.high.unwrap(), "{e:?}");
    }

    #[test]
    fn a_hand_worked_case_and_too_few_services() {
        // One adopter at week 2 (n = 2; week 2 itself left out) moving from 10 to 4; two
        // controls moving from 10 to 12 and from 20 to 20: effect = (4 − 10) − mean(2, 0) = −7.
        let unit = |name: &str, adopted, values: [f64; 5]| Unit {
            service: name.into(),
            adopted,
            weekly: values.iter().map(|v| Some(*v)).collect(),
        };
        let units = [
            unit("a", Some(2), [10.0, 10.0, 7.0, 4.0, 4.0]),
            unit("b", None, [10.0, 10.0, 11.0, 12.0, 12.0]),
            unit("c", None, [20.0, 20.0, 20.0, 20.0, 20.0]),
        ];
        let all: Vec<&Unit> = units.iter().collect();
        assert_eq!(effects(&all, 2), (vec![-7.0], vec![1, 2]));
        let e = did(&units, 2, 100, 1);
        assert_eq!(e.estimate, None);
        assert!(e.note.unwrap().starts_with("not enough data: 1 adopters"));
    }
}
