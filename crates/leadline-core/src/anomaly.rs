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
    /// Weeks at least that make a shift, from its onset to the week it is known.
    pub shift_weeks: usize,
    /// Weeks at most a shift's evidence is gathered over (its onset at most this far back).
    pub shift_span: usize,
    /// Baseline weeks at most a shift is judged against (longer than a week's: a level is
    /// compared with a level).
    pub shift_history: usize,
    /// The shift statistic's threshold for values: the clipped excess over its standard error.
    pub shift_z: f64,
    /// The shift's threshold for events: the predictive tail of their clipped total.
    pub shift_tail: f64,
    /// Each week's residual counts at most this much towards a shift.
    pub shift_clip: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            history: 12,
            min_history: 6,
            z: 3.5,
            floor: 0.2,
            tail: 0.0003,
            shift_weeks: 3,
            shift_span: 12,
            shift_history: 26,
            shift_z: 4.0,
            // One-sided normal tail at 4 standard deviations.
            shift_tail: 3.2e-5,
            shift_clip: 3.0,
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

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The events a week will hold if they keep the baseline's rate, with that rate itself
/// uncertain: `total` events over `exposure` (weeks, or deployments for a failure rate) give
/// λ ~ Gamma(total + ½, exposure) (Jeffreys), so a week of exposure `e` holds a negative
/// binomial count, r = total + ½, p = exposure / (exposure + e). A short or quiet baseline
/// widens the band instead of flooding the list.
struct Predictive {
    r: f64,
    p: f64,
}

impl Predictive {
    fn new(total: f64, exposure: f64, e: f64) -> Predictive {
        Predictive {
            r: total + 0.5,
            p: exposure / (exposure + e),
        }
    }

    fn mean(&self) -> f64 {
        self.r * (1.0 - self.p) / self.p
    }

    fn ln_pmf(&self, k: u64) -> f64 {
        let k = k as f64;
        ln_gamma(k + self.r) - ln_gamma(self.r) - ln_gamma(k + 1.0)
            + self.r * self.p.ln()
            + k * (1.0 - self.p).ln()
    }

    /// P(X ≥ k) and P(X ≤ k).
    fn tails(&self, k: u64) -> (f64, f64) {
        let below: f64 = (0..k).map(|i| self.ln_pmf(i).exp()).sum();
        let at = self.ln_pmf(k).exp();
        ((1.0 - below).max(0.0), (below + at).min(1.0))
    }

    /// The smallest k with P(X ≤ k) ≥ q.
    fn quantile(&self, q: f64) -> f64 {
        let mut sum = 0.0;
        for k in 0..1_000_000u64 {
            sum += self.ln_pmf(k).exp();
            if sum >= q {
                return k as f64;
            }
        }
        f64::INFINITY
    }
}

/// The step a rate moves in, when every value is a whole multiple of its smallest positive one.
fn step_of(values: &[f64]) -> Option<f64> {
    let unit = values
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let whole = |v: f64| ((v / unit) - (v / unit).round()).abs() < 1e-6;
    (unit.is_finite() && values.iter().all(|v| whole(*v))).then_some(unit)
}

/// One week: its value and its exposure (1, or the week's deployments behind a rate).
#[derive(Clone, Copy)]
struct Week {
    value: f64,
    exposure: f64,
}

/// A baseline's level in the space it is judged in.
enum Level {
    /// Events at a rate per unit of exposure: counts (per week), a rate with its
    /// denominator (failures per deployment), or a rate moving in steps of `unit` (events of
    /// an unknown but fixed denominator).
    Events {
        unit: f64,
        total: f64,
        exposure: f64,
        median: f64,
    },
    /// Values on a scale (durations on their logarithm): a centre, one week's noise σ, the
    /// centre's own variance and how many weeks σ was measured on.
    Scale {
        log: bool,
        center: f64,
        sigma: f64,
        center_var: f64,
        weeks: f64,
        median: f64,
    },
}

/// How far out (in standard deviations) each of two weeks judged together must be.
const PAIR_Z: f64 = 1.75;

/// How far below the recent weeks' spread the long stretch's noise estimate may go.
const SPREAD_MIX: f64 = 0.7;

impl Level {
    /// How `base` is judged; `spread` (a longer stretch) measures a scale's noise, `extra`
    /// (the weeks to be judged) must share a stepped rate's step.
    fn of(base: &[Week], spread: &[Week], extra: &[Week], shape: Shape) -> Option<Level> {
        let values: Vec<f64> = base.iter().map(|w| w.value).collect();
        let median_raw = median(&values);
        let m = base.len() as f64;
        let mean = values.iter().sum::<f64>() / m;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
        let events = |unit: f64| Level::Events {
            unit,
            total: base.iter().map(|w| Level::count(unit, *w)).sum(),
            exposure: base.iter().map(|w| w.exposure).sum(),
            median: median_raw,
        };
        let exposed = base.iter().chain(extra).any(|w| w.exposure != 1.0);
        if shape == Shape::Rate && exposed {
            return Some(events(1.0));
        }
        if shape == Shape::Count && var <= 2.0 * mean.max(1.0) {
            return Some(events(1.0));
        }
        // A rate of few events (failures of a few deployments a week) moves in steps of 1/n:
        // it is judged as the count of events it is, in units of its smallest positive value.
        if shape == Shape::Rate {
            let all: Vec<f64> = values
                .iter()
                .copied()
                .chain(extra.iter().map(|w| w.value))
                .collect();
            if let Some(unit) = step_of(&all)
                && mean / unit <= 10.0
            {
                return Some(events(unit));
            }
        }
        let log = shape == Shape::Duration;
        let to = |v: f64| if log { v.max(1e-9).ln() } else { v };
        let scaled: Vec<f64> = values.iter().map(|v| to(*v)).collect();
        let center = median(&scaled);
        let deviations: Vec<f64> = scaled.iter().map(|v| (v - center).abs()).collect();
        // The MAD of a dozen weeks often comes out small by chance; the mean absolute
        // deviation (scaled to σ likewise) keeps the scale from collapsing.
        let mean_ad = deviations.iter().sum::<f64>() / m * 1.2533;
        let local = (median(&deviations) / 0.6745).max(mean_ad);
        // Over a longer stretch, week-to-week differences measure the noise without the
        // level (a trend does not inflate them): median |Δ| / (0.6745 · √2).
        let steps: Vec<f64> = spread
            .windows(2)
            .map(|w| (to(w[1].value) - to(w[0].value)).abs())
            .collect();
        let (sigma, weeks) = if steps.len() > base.len() {
            (
                (median(&steps) / 0.954).max(local * SPREAD_MIX),
                steps.len() as f64,
            )
        } else {
            (local, m)
        };
        (sigma > f64::EPSILON).then_some(Level::Scale {
            log,
            center,
            sigma,
            // A median's variance is about π/2 · σ² / n.
            center_var: 1.571 * sigma * sigma / m,
            weeks,
            median: median_raw,
        })
    }

    /// The predictive tail of the events of `post` together (each week's clipped to `clip`
    /// standard deviations, so one spike cannot make a shift): above when `up`, else below.
    fn total_tail(&self, post: &[Week], up: bool, clip: f64) -> f64 {
        let Level::Events {
            unit,
            total,
            exposure,
            ..
        } = *self
        else {
            return 1.0;
        };
        let clipped: f64 = post
            .iter()
            .map(|w| {
                let (excess, sd) = self.residual(*w);
                let k = Level::count(unit, *w);
                let expected = k - excess;
                if up {
                    k.min((expected + clip * sd).floor())
                } else {
                    k.max((expected - clip * sd).ceil())
                }
            })
            .sum();
        let e_post: f64 = post.iter().map(|w| w.exposure).sum();
        let (upper, lower) = Predictive::new(total, exposure, e_post).tails(clipped as u64);
        if up { upper } else { lower }
    }

    /// Weeks judged as one: events add up (their counts and exposures); a value stands
    /// alone, so several values are not one week.
    fn together(&self, weeks: &[Week]) -> Option<Week> {
        match (self, weeks) {
            (_, [one]) => Some(*one),
            (Level::Events { unit, .. }, many) if !many.is_empty() => {
                let events: f64 = many.iter().map(|w| Level::count(*unit, *w)).sum();
                let exposure: f64 = many.iter().map(|w| w.exposure).sum();
                Some(Week {
                    value: events * unit / exposure,
                    exposure,
                })
            }
            _ => None,
        }
    }

    fn count(unit: f64, w: Week) -> f64 {
        (w.value * w.exposure / unit).round().max(0.0)
    }

    fn median(&self) -> f64 {
        match self {
            Level::Events { median, .. } | Level::Scale { median, .. } => *median,
        }
    }

    /// A week's residual: how far it is from the level, and one standard deviation of that
    /// (the week's noise and the level's own error, so a short baseline widens the band).
    fn residual(&self, w: Week) -> (f64, f64) {
        match *self {
            Level::Events {
                unit,
                total,
                exposure,
                ..
            } => {
                // The variance keeps Jeffreys' half event, so an all-zero baseline still has one.
                let expected = total / exposure * w.exposure;
                let var = (total + 0.5) / exposure * w.exposure * (1.0 + w.exposure / exposure);
                (Level::count(unit, w) - expected, var.sqrt())
            }
            Level::Scale {
                log,
                center,
                sigma,
                center_var,
                weeks,
                ..
            } => {
                let v = if log { w.value.max(1e-9).ln() } else { w.value };
                // As a t quantile would, for σ measured on few weeks.
                let sd = (sigma * sigma + center_var).sqrt() * (1.0 + 2.0 / weeks);
                (v - center, sd)
            }
        }
    }
}

/// How one week stands against its baseline: a signed standardised residual, whether it is
/// beyond the point threshold, and the band.
struct Judged {
    z: f64,
    point: bool,
    low: f64,
    high: f64,
}

/// Relative change of `x` from `m`; infinite from a zero baseline.
fn relative(x: f64, m: f64) -> f64 {
    if m.abs() > f64::EPSILON {
        (x - m).abs() / m.abs()
    } else if x.abs() > f64::EPSILON {
        f64::INFINITY
    } else {
        0.0
    }
}

/// One week against the level of its baseline. Events are judged by the predictive tails of
/// the baseline's rate, values by a z-score whose scale counts the week's noise and the
/// baseline's error.
fn judge(w: Week, level: &Level, p: &Params) -> Judged {
    let rel = relative(w.value, level.median());
    let (excess, sd) = level.residual(w);
    let z = excess / sd;
    match *level {
        Level::Events {
            unit,
            total,
            exposure,
            ..
        } => {
            let predictive = Predictive::new(total, exposure, w.exposure);
            let k = Level::count(unit, w);
            let (upper, lower) = predictive.tails(k as u64);
            let tail = if k > predictive.mean() { upper } else { lower };
            let back = |q: f64| predictive.quantile(q) * unit / w.exposure;
            Judged {
                z,
                point: tail < p.tail && rel >= p.floor,
                low: back(p.tail),
                high: back(1.0 - p.tail),
            }
        }
        Level::Scale { log, center, .. } => {
            let back = |v: f64| if log { v.exp() } else { v };
            Judged {
                z,
                point: z.abs() > p.z && rel >= p.floor,
                low: back(center - p.z * sd),
                high: back(center + p.z * sd),
            }
        }
    }
}

/// The strongest level shift ending at week `i`: an onset `s` (at least `shift_weeks` weeks
/// before the end, at most `shift_span`), judged against up to `shift_history` weeks before
/// it. The statistic is the new weeks' summed excess over the baseline's level (each week
/// clipped to ±3 standard deviations, so one spike cannot make a shift) over its standard
/// error, which counts both the new weeks' noise and the baseline's: a two-sided CUSUM's
/// test with the onset estimated where it is strongest. It must pass `shift_z`, three
/// quarters of the weeks (the onset among them) must lie on its side, and the new level's
/// median must move at least the floor.
fn shift_at(
    weeks: &[Option<Week>],
    i: usize,
    regime: usize,
    baseline_of: &dyn Fn(usize, usize) -> Vec<Week>,
    shape: Shape,
    p: &Params,
) -> Option<(usize, f64, Level)> {
    struct Candidate {
        onset: usize,
        weeks: usize,
        passes: bool,
        new_level: f64,
        level: Level,
        strength: f64,
    }
    let mut best: Option<Candidate> = None;
    let earliest = (i + 1).saturating_sub(p.shift_span).max(regime);
    // Onsets too recent to make a shift yet still compete: while the strongest onset is one
    // of them, the shift waits for its weeks rather than starting a week early.
    for s in earliest..=i {
        let base = baseline_of(s, p.shift_history);
        if base.len() < p.min_history {
            continue;
        }
        let post: Vec<Week> = weeks[s..=i].iter().flatten().copied().collect();
        let Some(level) = Level::of(&base, &base, &post, shape) else {
            continue;
        };
        let residuals: Vec<(f64, f64)> = post.iter().map(|w| level.residual(*w)).collect();
        let excess: f64 = residuals
            .iter()
            .map(|(e, sd)| e.clamp(-p.shift_clip * sd, p.shift_clip * sd))
            .sum();
        let se = match level {
            Level::Events {
                total, exposure, ..
            } => {
                let e_post: f64 = post.iter().map(|w| w.exposure).sum();
                let rate = (total + 0.5) / exposure;
                (rate * e_post * (1.0 + e_post / exposure)).sqrt()
            }
            Level::Scale {
                sigma, center_var, ..
            } => {
                let n = post.len() as f64;
                n * (sigma * sigma / n + center_var).sqrt()
            }
        };
        let stat = excess / se;
        let significant = match level {
            // Few events are far from normal: their total is judged by its own tail.
            Level::Events { .. } => {
                level.total_tail(&post, stat > 0.0, p.shift_clip) < p.shift_tail
            }
            Level::Scale { .. } => stat.abs() >= p.shift_z,
        };
        // The onset is where the whole excess is largest: clipping decides whether there is
        // a shift, not where it starts.
        let strength = residuals.iter().map(|(e, _)| e).sum::<f64>() / se;
        let up = stat > 0.0;
        let n = post.len() as f64;
        let same_side = residuals.iter().filter(|(e, _)| (*e > 0.0) == up).count() as f64;
        let values: Vec<f64> = post.iter().map(|w| w.value).collect();
        let new_level = median(&values);
        let passes = post.len() >= p.shift_weeks
            && significant
            && same_side >= (n * 0.75).ceil()
            && residuals.first().is_some_and(|(e, _)| (*e > 0.0) == up)
            && relative(new_level, level.median()) >= p.floor;
        if best.as_ref().is_none_or(|b| strength.abs() > b.strength) {
            best = Some(Candidate {
                onset: s,
                weeks: post.len(),
                passes,
                new_level,
                level,
                strength: strength.abs(),
            });
        }
    }
    best.filter(|b| b.passes && b.weeks >= p.shift_weeks)
        .map(|b| (b.onset, b.new_level, b.level))
}

/// A weekly series to judge.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// One value a week (`None`: no value that week).
    pub values: &'a [Option<f64>],
    /// For a rate, its denominator each week (deployments behind a failure rate): the rate
    /// is judged as events per unit of it. `None` for counts and values.
    pub exposure: Option<&'a [Option<f64>]>,
    /// Weeks a person dismissed: they never enter a baseline.
    pub excluded: &'a [bool],
    /// Holiday weeks: never in a baseline, and no drop or downward shift is proposed in one
    /// (a fall there is expected).
    pub holidays: &'a [bool],
}

impl<'a> Series<'a> {
    /// A series with nothing excluded and no holidays.
    pub fn plain(values: &'a [Option<f64>]) -> Series<'a> {
        Series {
            values,
            exposure: None,
            excluded: &[],
            holidays: &[],
        }
    }
}

/// The flags of a weekly series, ordered by week.
pub fn detect(series: &Series<'_>, shape: Shape, p: &Params) -> Vec<Flag> {
    let mark = |list: &[bool], j: usize| list.get(j).copied().unwrap_or(false);
    let weeks: Vec<Option<Week>> = series
        .values
        .iter()
        .enumerate()
        .map(|(j, v)| {
            let exposure = match series.exposure {
                Some(e) => e.get(j).copied().flatten().filter(|e| *e > 0.0)?,
                None => 1.0,
            };
            v.filter(|v| v.is_finite())
                .map(|value| Week { value, exposure })
        })
        .collect();
    let mut flags: Vec<Flag> = Vec::new();
    let mut points = vec![false; weeks.len()];
    // A shift starts a new regime: baselines take only its weeks.
    let mut regime = 0;
    for i in 0..weeks.len() {
        let Some(w) = weeks[i] else { continue };
        let usable =
            |j: usize| weeks[j].is_some() && !mark(series.excluded, j) && !mark(series.holidays, j);
        let baseline_of = |end: usize, count: usize| -> Vec<Week> {
            let mut b: Vec<Week> = (regime..end)
                .rev()
                .filter(|j| usable(*j) && !points[*j])
                .take(count)
                .filter_map(|j| weeks[j])
                .collect();
            b.reverse();
            b
        };
        if let Some((s, new_level, level)) = shift_at(&weeks, i, regime, &baseline_of, shape, p)
            && !mark(series.holidays, s)
        {
            let up = new_level > level.median();
            let j = judge(weeks[s].unwrap_or(w), &level, p);
            flags.retain(|f| f.index < s);
            flags.push(Flag {
                index: s,
                value: new_level,
                baseline: level.median(),
                low: j.low,
                high: j.high,
                direction: if up { Direction::Up } else { Direction::Down },
                kind: Kind::Shift,
            });
            for flag in points.iter_mut().take(i + 1).skip(s) {
                *flag = false;
            }
            regime = s;
            continue;
        }
        // Nothing is proposed in a holiday week: whatever it holds is expected to differ.
        if mark(series.holidays, i) {
            continue;
        }
        let point = |from: usize, judged: &[Week]| -> Option<Flag> {
            let base = baseline_of(from, p.history);
            if base.len() < p.min_history {
                return None;
            }
            let spread = baseline_of(from, p.shift_history);
            let level = Level::of(&base, &spread, judged, shape)?;
            let together = level.together(judged)?;
            // Two tests a week (the week, and the pair it ends) share the week's tail.
            let tail = p.tail / judged.len() as f64 / if judged.len() > 1 { 2.0 } else { 1.0 };
            let j = judge(together, &level, &Params { tail, ..p.clone() });
            let up = j.z > 0.0;
            // Weeks judged together must each be well out on the same side, or one odd week
            // and an ordinary one would pass as a pair.
            let each = |w: &Week| {
                let (excess, sd) = level.residual(*w);
                excess / sd * if up { 1.0 } else { -1.0 } >= PAIR_Z
            };
            if judged.len() > 1 && !judged.iter().all(each) {
                return None;
            }
            j.point.then(|| Flag {
                index: from,
                value: together.value,
                baseline: level.median(),
                low: j.low,
                high: j.high,
                direction: if up { Direction::Up } else { Direction::Down },
                kind: if up { Kind::Spike } else { Kind::Drop },
            })
        };
        // One week, or (events) two in a row that are only far out together: deployments
        // stopping for two weeks of a service that ships a few a week.
        let pair = i
            .checked_sub(1)
            .filter(|h| !points[*h] && !mark(series.holidays, *h) && *h >= regime)
            .and_then(|h| weeks[h].map(|prev| (h, prev)));
        let found = point(i, &[w]).or_else(|| {
            let (h, prev) = pair?;
            point(h, &[prev, w])
        });
        if let Some(flag) = found {
            for marked in points.iter_mut().take(i + 1).skip(flag.index) {
                *marked = true;
            }
            flags.push(flag);
        }
    }
    flags
}

pub mod score;

#[cfg(test)]
mod tests;
