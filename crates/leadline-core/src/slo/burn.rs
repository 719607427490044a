//! Error budgets and burn rates over minute buckets: the counts of every counting interval
//! spread evenly over its minutes, prefix-summed so that any window's counts cost O(1).
//! docs/metrics.md ("SLOs") defines every quantity; the worked examples are the tests.

use crate::model::Millis;

pub const MINUTE: Millis = 60_000;

/// One counting interval as imported: it starts at `at`; its length is the series' cadence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub at: Millis,
    pub good: f64,
    pub total: f64,
}

/// A series' counts by minute, from `base` (a minute boundary).
#[derive(Debug, Clone, Default)]
pub struct Minutes {
    base: Millis,
    /// Prefix sums: `good[i]` is the good events of the minutes before `base + i` minutes.
    good: Vec<f64>,
    total: Vec<f64>,
}

fn floor_minute(t: Millis) -> Millis {
    t.div_euclid(MINUTE) * MINUTE
}

/// The series' cadence: the shortest gap between consecutive interval starts, in whole minutes
/// (at least one). Every interval lasts that long, so a series with gaps has no events in them.
pub fn cadence(intervals: &[Interval]) -> Millis {
    intervals
        .windows(2)
        .map(|w| w[1].at - w[0].at)
        .filter(|d| *d > 0)
        .min()
        .map_or(MINUTE, |d| (d / MINUTE).max(1) * MINUTE)
}

impl Minutes {
    /// Buckets `intervals` (sorted by start) over their minutes.
    pub fn new(intervals: &[Interval]) -> Minutes {
        let Some(first) = intervals.first() else {
            return Minutes::default();
        };
        let step = cadence(intervals);
        let base = floor_minute(first.at);
        let last = intervals.iter().map(|i| i.at).max().unwrap_or(first.at);
        let len = ((floor_minute(last) - base + step) / MINUTE) as usize;
        let (mut good, mut total) = (vec![0.0; len], vec![0.0; len]);
        let per = (step / MINUTE) as f64;
        for i in intervals {
            let start = ((floor_minute(i.at) - base) / MINUTE) as usize;
            for m in start..(start + (step / MINUTE) as usize).min(len) {
                good[m] += i.good / per;
                total[m] += i.total / per;
            }
        }
        let prefix = |v: Vec<f64>| {
            let mut out = Vec::with_capacity(v.len() + 1);
            let mut sum = 0.0;
            out.push(0.0);
            for x in v {
                sum += x;
                out.push(sum);
            }
            out
        };
        Minutes {
            base,
            good: prefix(good),
            total: prefix(total),
        }
    }

    /// Index of the first bucket whose start is at or after `t`.
    fn index(&self, t: Millis) -> usize {
        let n = self.total.len().saturating_sub(1) as i64;
        let i = (t - self.base + MINUTE - 1).div_euclid(MINUTE);
        i.clamp(0, n) as usize
    }

    /// (good, total) of the buckets starting in [from, to).
    pub fn counts(&self, from: Millis, to: Millis) -> (f64, f64) {
        if self.total.len() < 2 || to <= from {
            return (0.0, 0.0);
        }
        let (a, b) = (self.index(from), self.index(to));
        if b <= a {
            return (0.0, 0.0);
        }
        (self.good[b] - self.good[a], self.total[b] - self.total[a])
    }

    /// Burn rate over [t − w, t): (bad / total) / (1 − target); `None` without events.
    pub fn burn(&self, t: Millis, w: Millis, target: f64) -> Option<f64> {
        let (good, total) = self.counts(t - w, t);
        (total > 0.0).then(|| ((total - good) / total) / (1.0 - target))
    }

    /// RatioTimeslices over [from, to): (the sum of the slices' good / total, slices with
    /// events), slices as [`Minutes::slices`] cuts them.
    pub fn ratio_slices(&self, from: Millis, to: Millis, slice: Millis) -> (f64, f64) {
        let mut start = from.div_euclid(slice) * slice;
        if start < from {
            start += slice;
        }
        let (mut sum, mut all) = (0.0, 0.0);
        while start < to {
            let (g, t) = self.counts(start, start + slice);
            if t > 0.0 {
                all += 1.0;
                sum += g / t;
            }
            start += slice;
        }
        (sum, all)
    }

    /// Timeslices over [from, to): (good slices, slices with events). Slices of `slice` start
    /// at multiples of `slice` since the epoch; a slice counts when it starts in the window,
    /// and is good when its ratio is at least `slice_target`.
    pub fn slices(&self, from: Millis, to: Millis, slice: Millis, slice_target: f64) -> (u64, u64) {
        let mut start = from.div_euclid(slice) * slice;
        if start < from {
            start += slice;
        }
        let (mut good, mut all) = (0, 0);
        while start < to {
            let (g, t) = self.counts(start, start + slice);
            if t > 0.0 {
                all += 1;
                if g / t >= slice_target {
                    good += 1;
                }
            }
            start += slice;
        }
        (good, all)
    }
}

/// Budget remaining for an SLI against `target`: 1 − (1 − SLI)/(1 − target).
pub fn budget_remaining(sli: f64, target: f64) -> f64 {
    1.0 - (1.0 - sli) / (1.0 - target)
}

/// One multiwindow rule: burn ≥ `factor` over both the long and the short window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub severity: Severity,
    pub long: Millis,
    pub short: Millis,
    pub factor: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Page,
    Ticket,
}

/// The Google SRE workbook's four rules for a 30-day period, scaled to `period`: the windows by
/// period / 30 d, the factors kept (each rule spends the same share of the budget: 2 % in the
/// long window of the first, 5 %, 10 %, 10 %).
pub fn rules(period: Millis) -> Vec<Rule> {
    const HOUR: Millis = 60 * MINUTE;
    const DAYS_30: Millis = 30 * 24 * HOUR;
    let scale = |w: Millis| ((w as i128 * period as i128) / DAYS_30 as i128) as Millis;
    // factor = fraction × period / long window: 0.02 × 720 h / 1 h = 14.4, 0.05 × 720 / 6 = 6,
    // 0.1 × 720 / 24 = 3, 0.1 × 720 / 72 = 1 (written out: no rounding of their own).
    [
        (Severity::Page, HOUR, 5 * MINUTE, 14.4),
        (Severity::Page, 6 * HOUR, 30 * MINUTE, 6.0),
        (Severity::Ticket, 24 * HOUR, 2 * HOUR, 3.0),
        (Severity::Ticket, 72 * HOUR, 6 * HOUR, 1.0),
    ]
    .into_iter()
    .map(|(severity, long, short, factor)| Rule {
        severity,
        long: scale(long),
        short: scale(short),
        factor,
    })
    .collect()
}

/// A firing interval of one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firing {
    pub severity: Severity,
    pub start: Millis,
    pub end: Millis,
}

/// Evaluates `rules` at every minute boundary in [since, until); consecutive firing boundaries
/// t₀…tₖ of a severity form [t₀, tₖ + 1 min), clipped to [since, until). Ordered by severity,
/// then start.
pub fn alerts(
    m: &Minutes,
    rules: &[Rule],
    target: f64,
    since: Millis,
    until: Millis,
) -> Vec<Firing> {
    let mut out = Vec::new();
    for severity in [Severity::Page, Severity::Ticket] {
        let mine: Vec<&Rule> = rules.iter().filter(|r| r.severity == severity).collect();
        let fires = |t: Millis| {
            mine.iter().any(|r| {
                let over = |w| m.burn(t, w, target).is_some_and(|b| b >= r.factor);
                over(r.long) && over(r.short)
            })
        };
        let mut t = floor_minute(since);
        if t < since {
            t += MINUTE;
        }
        let mut open: Option<(Millis, Millis)> = None;
        while t < until {
            if fires(t) {
                open = Some(match open {
                    Some((start, _)) => (start, t),
                    None => (t, t),
                });
            } else if let Some((start, last)) = open.take() {
                out.push(firing(severity, start, last, since, until));
            }
            t += MINUTE;
        }
        if let Some((start, last)) = open {
            out.push(firing(severity, start, last, since, until));
        }
    }
    out
}

fn firing(severity: Severity, first: Millis, last: Millis, since: Millis, until: Millis) -> Firing {
    Firing {
        severity,
        start: first.max(since),
        end: (last + MINUTE).min(until),
    }
}

#[cfg(test)]
mod tests;
