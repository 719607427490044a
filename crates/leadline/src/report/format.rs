//! Numbers for people who do not read seconds: days, hours and minutes; per month; percent.

use leadline_metrics::catalog::{Better, Unit};

/// A value of `unit` as a reader expects it.
pub fn human(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Seconds => duration(value),
        Unit::PerDay => per_month(value),
        Unit::Ratio => percent(value),
        Unit::Hours => format!("{} hours", round(value)),
        Unit::HoursPerMonth => format!("{} hours a month", round(value)),
        Unit::Count | Unit::Lines | Unit::Files => round(value),
        Unit::PerItem => format!("{value:.1}"),
    }
}

/// `42 minutes`, `5.3 hours`, `2.1 days`.
pub fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 60.0 => "under a minute".to_owned(),
        s if s < 3600.0 => plural(s / 60.0, "minute", 0),
        s if s < 2.0 * 86_400.0 => plural(s / 3600.0, "hour", 1),
        s => plural(s / 86_400.0, "day", 1),
    }
}

/// Deployments a day as `19 / month` (30 days).
pub fn per_month(per_day: f64) -> String {
    format!("{} / month", month_count(per_day))
}

/// Deployments a day as a count in 30 days: `19`, `1.5`.
pub fn month_count(per_day: f64) -> String {
    let n = per_day * 30.0;
    if n >= 10.0 || n == n.round() {
        format!("{}", n.round())
    } else {
        format!("{n:.1}")
    }
}

/// How `now` moved from `before`: `up` or `down`, and `better` or `worse` by the metric's
/// direction (empty for neither); `None` when the two read the same as shown.
pub fn movement(
    now: f64,
    before: f64,
    unit: Unit,
    better: Better,
) -> Option<(&'static str, &'static str)> {
    if human(now, unit) == human(before, unit) {
        return None;
    }
    let up = now > before;
    let judgement = match (better, up) {
        (Better::Higher, true) | (Better::Lower, false) => "better",
        (Better::Higher, false) | (Better::Lower, true) => "worse",
        (Better::Neither, _) => "",
    };
    Some((if up { "up" } else { "down" }, judgement))
}

/// A share: `12%`, under 10 % with a decimal (`4.5%`).
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p != 0.0 && p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{}%", p.round())
    }
}

fn round(v: f64) -> String {
    if v == v.round() {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

fn plural(n: f64, unit: &str, decimals: usize) -> String {
    let shown = format!("{n:.decimals$}");
    let one = shown == "1" || shown == "1.0";
    format!("{shown} {unit}{}", if one { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_days_months_and_percent() {
        assert_eq!(duration(2.1 * 86_400.0), "2.1 days");
        assert_eq!(duration(3.0 * 3600.0), "3.0 hours");
        assert_eq!(duration(42.0 * 60.0), "42 minutes");
        assert_eq!(duration(60.0), "1 minute");
        assert_eq!(duration(5.0), "under a minute");
        assert_eq!(per_month(19.0 / 30.0), "19 / month");
        assert_eq!(per_month(0.05), "1.5 / month");
        assert_eq!(percent(0.1234), "12%");
        assert_eq!(percent(0.045), "4.5%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(human(120.0, Unit::Hours), "120 hours");
    }
}
