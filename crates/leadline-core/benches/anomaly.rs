//! `cargo bench -p leadline-core --bench anomaly`: the anomaly detector on seeded synthetic
//! weekly series shaped like delivery data — Poisson deployment counts with holiday dips and
//! slow trends, log-normal lead times, rare-event failure rates — with one injected anomaly
//! each (a spike of 3–6 MADs, a level shift of 20–50 %, a drop to zero for 1–3 weeks, a slow
//! drift), scored per event with a ±1-week tolerance (no point-adjusted scoring): precision,
//! recall, mean detection delay per kind and false alerts per series-year.
//!
//! A MAD here is the normalised one (1.4826 × the median absolute deviation, R's `mad()`),
//! the robust estimate of one standard deviation, measured on the 12 weeks before the spike
//! (on the logarithm for durations). Drops to zero are injected into counts only: a failure
//! rate or a lead time at zero is not a drop in delivery.

use leadline_core::anomaly::score::{Injected, score};
use leadline_core::anomaly::{Params, Series, Shape, detect};

/// xorshift64*: a seeded generator, so every run scores the same series.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda > 50.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0);
        }
        let (limit, mut k, mut p) = ((-lambda).exp(), 0.0, 1.0);
        loop {
            p *= self.next();
            if p <= limit {
                return k;
            }
            k += 1.0;
        }
    }
}

const WEEKS: usize = 104;
const SERIES: usize = 150;

#[derive(Clone, Copy, PartialEq)]
enum Event {
    Spike,
    Shift,
    Drop,
    Drift,
}

/// A clean series of `shape`, then one event of `event` at a week in [40, 95].
fn series(rng: &mut Rng, shape: Shape, event: Event) -> (Vec<Option<f64>>, usize) {
    let at = rng.uniform(40.0, 95.0) as usize;
    let trend = rng.uniform(-0.004, 0.004);
    let level = match shape {
        Shape::Count => rng.uniform(4.0, 30.0),
        Shape::Duration => rng.uniform(1.0, 3.0) * 86_400.0,
        Shape::Rate => rng.uniform(0.05, 0.15),
    };
    let shift = rng.uniform(0.2, 0.5) * if rng.next() < 0.5 { -1.0 } else { 1.0 };
    let spike_mads = rng.uniform(3.0, 6.0);
    let mut values = Vec::with_capacity(WEEKS);
    for w in 0..WEEKS {
        let mut mean = level * (1.0 + trend * w as f64);
        if event == Event::Shift && w >= at {
            mean *= 1.0 + shift;
        }
        if event == Event::Drift && w >= at {
            mean *= 1.0 + 0.02 * (w - at) as f64;
        }
        // Two holiday weeks a year with fewer deployments.
        let holiday = matches!(w % 52, 51 | 0);
        let v = match shape {
            Shape::Count => rng.poisson(mean * if holiday { 0.5 } else { 1.0 }),
            Shape::Duration => mean * (0.25 * rng.normal()).exp(),
            Shape::Rate => {
                let n = 20.0;
                (0..n as usize).filter(|_| rng.next() < mean).count() as f64 / n
            }
        };
        values.push(v);
    }
    let up = if rng.next() < 0.5 { -1.0 } else { 1.0 };
    match event {
        Event::Spike => {
            let before = &values[at.saturating_sub(12)..at];
            values[at] = match shape {
                Shape::Duration => {
                    let logs: Vec<f64> = before.iter().map(|v| v.ln()).collect();
                    let (m, mad) = median_mad(&logs);
                    (m + up * spike_mads * 1.4826 * mad).exp()
                }
                Shape::Count => {
                    let (m, mad) = median_mad(before);
                    (m + up * spike_mads * 1.4826 * mad.max(0.5))
                        .max(0.0)
                        .round()
                }
                Shape::Rate => {
                    let (m, mad) = median_mad(before);
                    (m + spike_mads * 1.4826 * mad.max(1.0 / 20.0)).min(1.0)
                }
            };
        }
        Event::Drop => {
            let weeks = 1 + (rng.next() * 3.0) as usize;
            for v in values.iter_mut().skip(at).take(weeks) {
                *v = 0.0;
            }
        }
        _ => {}
    }
    (values.into_iter().map(Some).collect(), at)
}

/// The holiday weeks of the synthetic calendar, as `[anomalies] holiday_weeks` marks them.
fn holidays(weeks: usize) -> Vec<bool> {
    (0..weeks).map(|w| matches!(w % 52, 51 | 0)).collect()
}

/// The weeks an event spans: a drop lasts until deployments come back, other events one week
/// (a shift or a drift is found at its start).
fn drop_weeks(event: Event, values: &[Option<f64>], at: usize) -> usize {
    match event {
        Event::Drop => values[at..]
            .iter()
            .take_while(|v| **v == Some(0.0))
            .count()
            .max(1),
        _ => 1,
    }
}

fn median_mad(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s[s.len() / 2];
    let mut d: Vec<f64> = s.iter().map(|x| (x - m).abs()).collect();
    d.sort_by(f64::total_cmp);
    (m, d[d.len() / 2])
}

fn main() {
    let params = Params::default();
    let mut rng = Rng(0x5EED_1EAD_1E00_0001);
    println!(
        "{:<8} {:>7} {:>9} {:>8} {:>10} {:>9}   (recall by shape)",
        "event", "events", "detected", "recall", "delay (w)", "flags"
    );
    let (mut all_flags, mut all_true, mut false_alerts) = (0usize, 0usize, 0usize);
    let mut series_years = 0.0;
    for (name, event) in [
        ("spike", Event::Spike),
        ("shift", Event::Shift),
        ("drop", Event::Drop),
        ("drift", Event::Drift),
    ] {
        let (mut found, mut delay, mut flags_n) = (0usize, 0.0, 0usize);
        let mut events = 0;
        let shapes: &[Shape] = match event {
            Event::Drop => &[Shape::Count],
            _ => &[Shape::Count, Shape::Duration, Shape::Rate],
        };
        let mut by_shape = Vec::new();
        for &shape in shapes {
            let found_before = found;
            for _ in 0..SERIES {
                let (values, at) = series(&mut rng, shape, event);
                let flags = detect(
                    &Series {
                        holidays: &holidays(values.len()),
                        ..Series::plain(&values)
                    },
                    shape,
                    &params,
                );
                events += 1;
                series_years += WEEKS as f64 / 52.0;
                flags_n += flags.len();
                let injected = Injected {
                    start: at,
                    end: at + drop_weeks(event, &values, at) - 1,
                    open_ended: event == Event::Drift,
                };
                let scored = score(injected, &flags, params.shift_weeks);
                false_alerts += scored.false_alerts;
                all_true += scored.true_alerts;
                if let Some(d) = scored.delay {
                    found += 1;
                    delay += d as f64;
                }
            }
            by_shape.push(format!(
                "{:?} {:.2}",
                shape,
                (found - found_before) as f64 / SERIES as f64
            ));
        }
        all_flags += flags_n;
        println!(
            "{name:<8} {events:>7} {found:>9} {:>8.3} {:>10.2} {flags_n:>9}   ({})",
            found as f64 / events as f64,
            if found > 0 {
                delay / found as f64
            } else {
                f64::NAN
            },
            by_shape.join(", ").to_lowercase()
        );
    }
    // False alerts by shape, on series without events (spikes removed).
    for (name, shape) in [
        ("count", Shape::Count),
        ("duration", Shape::Duration),
        ("rate", Shape::Rate),
    ] {
        let mut kinds = [0usize; 3];
        for _ in 0..SERIES {
            let (values, _) = series(&mut rng, shape, Event::Drift);
            // Drift starts late; count flags before week 40 only: pure noise.
            for f in detect(
                &Series {
                    holidays: &holidays(40),
                    ..Series::plain(&values[..40])
                },
                shape,
                &params,
            ) {
                kinds[f.kind as usize] += 1;
            }
        }
        let years = SERIES as f64 * 40.0 / 52.0;
        println!(
            "quiet {name}: {:.3} flags per series-year (spikes {:.3}, drops {:.3}, shifts {:.3})",
            kinds.iter().sum::<usize>() as f64 / years,
            kinds[0] as f64 / years,
            kinds[1] as f64 / years,
            kinds[2] as f64 / years,
        );
    }
    println!(
        "precision {:.3} (flags matching an event / all flags), false alerts per series-year {:.3}",
        all_true as f64 / all_flags.max(1) as f64,
        false_alerts as f64 / series_years
    );
}
