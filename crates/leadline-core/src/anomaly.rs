//! Weekly anomalies a person confirms: a week far from its own recent baseline (a spike or a
//! drop), or three weeks in a row away from it (a shift). Robust to short, noisy series: the
//! baseline is the median and MAD of up to 12 earlier weeks (at least 6), counts use a Poisson
//! tail unless they are overdispersed, durations are judged on a log scale, and every flag must
//! also clear a practical floor (20 % by default). `bench/anomaly` measures it.

use serde::Serialize;

/// How a series is shaped, which decides how it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Events per week (deployments, incidents).
    Count,
    /// Positive durations (lead time, cycle time): judged on their logarithm.
    Duration,
    /// Shares and other values (failure rate, review load).
    Rate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Spike,
    Drop,
    Shift,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// A flagged week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// The week's index in the series (for a shift, its first week).
    pub index: usize,
    pub value: f64,
    /// The baseline's median.
    pub baseline: f64,
    /// The band values inside of which nothing is flagged.
    pub low: f64,
    pub high: f64,
    pub direction: Direction,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub struct Params {
    /// Baseline weeks at most.
    pub history: usize,
    /// Baseline weeks at least before anything is flagged.
    pub min_history: usize,
    /// Modified z-score beyond which one week is flagged.
    pub z: f64,
    /// Smallest relative change worth a person's time.
    pub floor: f64,
    /// Poisson tail probability for one week of counts.
    pub tail: f64,
    /// Consecutive weeks that make a shift, each beyond `shift_z` (or `shift_tail`).
    pub shift_weeks: usize,
    pub shift_z: f64,
    pub shift_tail: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            history: 12,
            min_history: 6,
            z: 3.5,
            floor: 0.2,
            tail: 0.001,
            shift_weeks: 3,
            shift_z: 2.0,
            shift_tail: 0.05,
        }
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    // The mean of the middle two for an even count: a baseline, not a reported value.
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// ln P(X = k) for X ~ Poisson(λ).
fn ln_pmf(k: u64, lambda: f64) -> f64 {
    let k_f = k as f64;
    let ln_fact: f64 = (1..=k).map(|i| (i as f64).ln()).sum();
    k_f * lambda.ln() - lambda - ln_fact
}

/// P(X ≥ k) and P(X ≤ k) for X ~ Poisson(λ).
fn poisson_tails(k: u64, lambda: f64) -> (f64, f64) {
    let below: f64 = (0..k).map(|i| ln_pmf(i, lambda).exp()).sum();
    let at = ln_pmf(k, lambda).exp();
    ((1.0 - below).max(0.0), (below + at).min(1.0))
}

/// The smallest k with P(X ≤ k) ≥ q.
fn poisson_quantile(q: f64, lambda: f64) -> f64 {
    let mut sum = 0.0;
    for k in 0..100_000u64 {
        sum += ln_pmf(k, lambda).exp();
        if sum >= q {
            return k as f64;
        }
    }
    f64::INFINITY
}

/// The step a rate moves in, when every value is a whole multiple of its smallest positive one.
fn step_of(base: &[f64], x: f64) -> Option<f64> {
    let unit = base
        .iter()
        .chain([&x])
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let whole = |v: f64| ((v / unit) - (v / unit).round()).abs() < 1e-6;
    (unit.is_finite() && base.iter().chain([&x]).all(|v| whole(*v))).then_some(unit)
}

/// How one week stands against its baseline: a signed strength (like a z-score), whether it
/// is beyond the point threshold, whether beyond the shift threshold, and the band.
struct Judged {
    up: bool,
    point: bool,
    soft: bool,
    baseline: f64,
    low: f64,
    high: f64,
}

fn judge(x: f64, base: &[f64], shape: Shape, p: &Params) -> Option<Judged> {
    let m_raw = median(base);
    let relative = |x: f64| {
        if m_raw.abs() > f64::EPSILON {
            (x - m_raw).abs() / m_raw.abs()
        } else {
            f64::INFINITY
        }
    };
    let mean = base.iter().sum::<f64>() / base.len() as f64;
    let var = base.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / base.len() as f64;
    if shape == Shape::Count && var <= 2.0 * mean.max(1.0) {
        let lambda = m_raw.max(0.5);
        let k = x.max(0.0).round() as u64;
        let (upper, lower) = poisson_tails(k, lambda);
        let up = x > lambda;
        let tail = if up { upper } else { lower };
        return Some(Judged {
            up,
            point: tail < p.tail && relative(x) >= p.floor,
            soft: tail < p.shift_tail && relative(x) >= p.floor,
            baseline: m_raw,
            low: poisson_quantile(p.tail, lambda),
            high: poisson_quantile(1.0 - p.tail, lambda),
        });
    }
    // A rate of few events (failures of a few deployments a week) moves in steps of 1/n: it
    // is judged as the count of events it is, in units of its smallest positive value.
    if shape == Shape::Rate
        && let Some(unit) = step_of(base, x)
    {
        let counts: Vec<f64> = base.iter().map(|v| (v / unit).round()).collect();
        let mean = counts.iter().sum::<f64>() / counts.len() as f64;
        if mean <= 10.0 {
            let lambda = mean.max(0.5);
            let k = (x / unit).round().max(0.0) as u64;
            let (upper, lower) = poisson_tails(k, lambda);
            let up = k as f64 > lambda;
            let tail = if up { upper } else { lower };
            return Some(Judged {
                up,
                point: tail < p.tail && relative(x) >= p.floor,
                soft: tail < p.shift_tail && relative(x) >= p.floor,
                baseline: m_raw,
                low: poisson_quantile(p.tail, lambda) * unit,
                high: poisson_quantile(1.0 - p.tail, lambda) * unit,
            });
        }
    }
    let t = |v: f64| match shape {
        Shape::Duration => v.max(1e-9).ln(),
        _ => v,
    };
    let back = |v: f64| match shape {
        Shape::Duration => v.exp(),
        _ => v,
    };
    let logs: Vec<f64> = base.iter().map(|v| t(*v)).collect();
    let m = median(&logs);
    let deviations: Vec<f64> = logs.iter().map(|v| (v - m).abs()).collect();
    // The MAD of a dozen weeks often comes out small by chance; the mean absolute deviation
    // (scaled to σ likewise) keeps the scale from collapsing, which is what floods lists.
    let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64 * 1.2533;
    let scale = (median(&deviations) / 0.6745).max(mean_ad);
    if scale <= f64::EPSILON {
        return None;
    }
    let z = (t(x) - m) / scale;
    Some(Judged {
        up: z > 0.0,
        point: z.abs() > p.z && relative(x) >= p.floor,
        soft: z.abs() > p.shift_z && relative(x) >= p.floor,
        baseline: m_raw,
        low: back(m - p.z * scale),
        high: back(m + p.z * scale),
    })
}

/// The flags of a weekly series (`None`: no value that week). `excluded` weeks (dismissed by
/// a person) never enter a baseline. Ordered by week.
pub fn detect(values: &[Option<f64>], shape: Shape, excluded: &[bool], p: &Params) -> Vec<Flag> {
    let mut flags: Vec<Flag> = Vec::new();
    let mut spikes = vec![false; values.len()];
    // A shift starts a new regime: baselines take only its weeks.
    let mut regime = 0;
    let usable = |j: usize, spikes: &[bool]| {
        values[j].is_some() && !excluded.get(j).copied().unwrap_or(false) && !spikes[j]
    };
    for i in 0..values.len() {
        let Some(x) = values[i] else { continue };
        let baseline_of = |end: usize, spikes: &[bool]| -> Vec<f64> {
            let mut b: Vec<f64> = (regime..end)
                .rev()
                .filter(|j| usable(*j, spikes))
                .take(p.history)
                .filter_map(|j| values[j])
                .collect();
            b.reverse();
            b
        };
        // A shift: the last `shift_weeks` weeks all away in one direction.
        let first = (i + 1).checked_sub(p.shift_weeks);
        if let Some(s) = first.filter(|s| *s >= regime) {
            let base = baseline_of(s, &spikes);
            if base.len() >= p.min_history {
                let judged: Vec<Option<Judged>> = (s..=i)
                    .map(|j| values[j].and_then(|v| judge(v, &base, shape, p)))
                    .collect();
                let all_soft = judged.iter().all(|j| j.as_ref().is_some_and(|j| j.soft));
                let same_way = judged
                    .iter()
                    .flatten()
                    .map(|j| j.up)
                    .collect::<Vec<_>>()
                    .windows(2)
                    .all(|w| w[0] == w[1]);
                if all_soft && same_way {
                    let j = judged[0]
                        .as_ref()
                        .map(|j| (j.up, j.baseline, j.low, j.high));
                    if let Some((up, baseline, low, high)) = j {
                        flags.retain(|f| f.index < s);
                        flags.push(Flag {
                            index: s,
                            value: values[s].unwrap_or(x),
                            baseline,
                            low,
                            high,
                            direction: if up { Direction::Up } else { Direction::Down },
                            kind: Kind::Shift,
                        });
                        for flag in spikes.iter_mut().take(i + 1).skip(s) {
                            *flag = false;
                        }
                        regime = s;
                        continue;
                    }
                }
            }
        }
        let base = baseline_of(i, &spikes);
        if base.len() < p.min_history {
            continue;
        }
        if let Some(j) = judge(x, &base, shape, p).filter(|j| j.point) {
            spikes[i] = true;
            flags.push(Flag {
                index: i,
                value: x,
                baseline: j.baseline,
                low: j.low,
                high: j.high,
                direction: if j.up { Direction::Up } else { Direction::Down },
                kind: if j.up { Kind::Spike } else { Kind::Drop },
            });
        }
    }
    flags
}

#[cfg(test)]
mod tests;
