//! The report's opening sentences: each key number and its change against the previous
//! period, in words, with a gloss for every term.

use leadline_metrics::catalog::{Better, Unit};

use super::format;

/// A number in this period and the one before.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pair {
    pub now: Option<f64>,
    pub before: Option<f64>,
}

/// What the summary is made of: DORA's keys and the incident count, each over both periods.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs {
    pub deployments_per_day: Pair,
    pub lead_time: Pair,
    pub change_failure_rate: Pair,
    pub recovery_time: Pair,
    pub incidents: Pair,
}

/// The sentences, in the order of the report.
pub fn sentences(i: &Inputs) -> Vec<String> {
    let deployed = |p: Option<f64>| p.filter(|d| *d > 0.0);
    let mut out = Vec::new();
    match (
        deployed(i.deployments_per_day.now),
        deployed(i.deployments_per_day.before),
    ) {
        (None, None) => out.push(
            "No deployments were recorded in this period or the one before, so delivery cannot \
             be measured yet: import deployments, or tag releases in the repositories."
                .to_owned(),
        ),
        (None, Some(b)) => out.push(format!(
            "No deployments were recorded in this period, against {} before.",
            times_a_month(b)
        )),
        (Some(n), _) => out.push(format!(
            "Teams deployed {}{}.",
            times_a_month(n),
            change(
                n,
                i.deployments_per_day.before,
                Unit::PerDay,
                Better::Higher,
                format::month_count
            )
        )),
    }
    if let Some(n) = i.lead_time.now {
        out.push(format!(
            "A change took {} from commit to production (the median lead time){}.",
            format::duration(n),
            change(
                n,
                i.lead_time.before,
                Unit::Seconds,
                Better::Lower,
                format::duration
            )
        ));
    }
    if let Some(n) = i.change_failure_rate.now {
        out.push(format!(
            "{} of deployments led to a failure in production (the change failure rate){}.",
            capitalised(&format::percent(n)),
            change(
                n,
                i.change_failure_rate.before,
                Unit::Ratio,
                Better::Lower,
                format::percent
            )
        ));
    }
    if let Some(n) = i.recovery_time.now {
        out.push(format!(
            "After a failed deployment, service was restored in {} (the median recovery time){}.",
            format::duration(n),
            change(
                n,
                i.recovery_time.before,
                Unit::Seconds,
                Better::Lower,
                format::duration
            )
        ));
    }
    if let Some(n) = i.incidents.now {
        let count = |v: f64| format!("{}", v.round() as i64);
        out.push(match n.round() as i64 {
            0 => format!(
                "No incidents were recorded{}.",
                change(n, i.incidents.before, Unit::Count, Better::Lower, count)
            ),
            1 => format!(
                "1 incident was recorded{}.",
                change(n, i.incidents.before, Unit::Count, Better::Lower, count)
            ),
            k => format!(
                "{k} incidents were recorded{}.",
                change(n, i.incidents.before, Unit::Count, Better::Lower, count)
            ),
        });
    }
    out
}

fn times_a_month(per_day: f64) -> String {
    match format::month_count(per_day).as_str() {
        "1" => "once a month".to_owned(),
        n => format!("{n} times a month"),
    }
}

/// `, up from 12 (better)`, `, down from 3.4 days (better)`, `, the same as before`, or, with
/// nothing to compare, `` (the previous period had no value).
fn change(
    now: f64,
    before: Option<f64>,
    unit: Unit,
    better: Better,
    show: impl Fn(f64) -> String,
) -> String {
    let Some(before) = before else {
        return String::new();
    };
    // Equal as shown is the same for a reader.
    let moved = (show(now) != show(before))
        .then(|| format::movement(now, before, unit, better))
        .flatten();
    match moved {
        None => ", the same as in the previous period".to_owned(),
        Some((direction, "")) => format!(", {direction} from {}", show(before)),
        Some((direction, judgement)) => {
            format!(", {direction} from {} ({judgement})", show(before))
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(now: f64, before: f64) -> Pair {
        Pair {
            now: Some(now),
            before: Some(before),
        }
    }

    #[test]
    fn up_down_the_same_and_nothing() {
        let day = 86_400.0;
        let s = sentences(&Inputs {
            deployments_per_day: pair(19.0 / 30.0, 12.0 / 30.0),
            lead_time: pair(2.1 * day, 3.4 * day),
            change_failure_rate: pair(0.10, 0.10),
            recovery_time: Pair {
                now: Some(3.0 * 3600.0),
                before: None,
            },
            incidents: pair(4.0, 2.0),
        });
        assert_eq!(
            s,
            [
                "Teams deployed 19 times a month, up from 12 (better).",
                "A change took 2.1 days from commit to production (the median lead time), down from 3.4 days (better).",
                "10% of deployments led to a failure in production (the change failure rate), the same as in the previous period.",
                "After a failed deployment, service was restored in 3.0 hours (the median recovery time).",
                "4 incidents were recorded, up from 2 (worse).",
            ]
        );
    }

    #[test]
    fn no_data_says_what_to_do() {
        let s = sentences(&Inputs::default());
        assert_eq!(s.len(), 1);
        assert!(s[0].starts_with("No deployments were recorded"));
        let stopped = sentences(&Inputs {
            deployments_per_day: pair(0.0, 1.0 / 30.0),
            ..Inputs::default()
        });
        assert_eq!(
            stopped,
            ["No deployments were recorded in this period, against once a month before."]
        );
        let started = sentences(&Inputs {
            deployments_per_day: pair(3.0 / 30.0, 0.0),
            ..Inputs::default()
        });
        assert_eq!(
            started,
            ["Teams deployed 3 times a month, up from 0 (better)."]
        );
    }
}
