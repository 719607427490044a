//! The terminal view of `leadline dora`: value, band and the trend against the previous window;
//! with `--by`, one row per period; with `--explain`, the rows behind the numbers.

use std::io::Write;

use anyhow::Result;
use comfy_table::{Cell, CellAlignment, Table};
use leadline_core::dora::{Band, CauseRule, DoraKeys};

use leadline_metrics::dora::{Explanation, Report};

pub fn print(
    reports: &[Report<'_>],
    previous: &DoraKeys,
    series: bool,
    out: &mut dyn Write,
) -> Result<()> {
    for line in reports.first().map(Report::basis).into_iter().flatten() {
        writeln!(out, "{line}")?;
    }
    if series {
        return print_series(reports, out);
    }
    let Some(report) = reports.first() else {
        return Ok(());
    };
    let k = report.keys();
    writeln!(
        out,
        "window {} to {}",
        &report.since()[..10],
        &report.until()[..10]
    )?;
    let mut t = crate::table::table(&["key", "value", "band", "previous window"]);
    let row = |t: &mut Table, key: &str, now: String, band: Option<Band>, before: String| {
        t.add_row(vec![
            Cell::new(key),
            Cell::new(now).set_alignment(CellAlignment::Right),
            Cell::new(band_name(band)),
            Cell::new(before.trim_end()).set_alignment(CellAlignment::Right),
        ]);
    };
    let p = previous;
    row(
        &mut t,
        "deployment frequency",
        format!(
            "{:.2}/day ({})",
            k.deployment_frequency.per_day, k.deployment_frequency.deployments
        ),
        k.deployment_frequency.band,
        format!(
            "{:.2}/day {}",
            p.deployment_frequency.per_day,
            arrow(
                Some(p.deployment_frequency.per_day),
                Some(k.deployment_frequency.per_day)
            )
        ),
    );
    row(
        &mut t,
        "lead time, median",
        format!(
            "{} ({} changes)",
            duration(k.lead_time.median_seconds),
            k.lead_time.changes
        ),
        k.lead_time.band,
        format!(
            "{} {}",
            duration(p.lead_time.median_seconds),
            arrow(p.lead_time.median_seconds, k.lead_time.median_seconds)
        ),
    );
    row(
        &mut t,
        "lead time, p90",
        duration(k.lead_time.p90_seconds),
        None,
        duration(p.lead_time.p90_seconds),
    );
    row(
        &mut t,
        "change failure rate",
        format!(
            "{} ({}/{})",
            percent(k.change_failure_rate.rate),
            k.change_failure_rate.failed_deployments,
            k.change_failure_rate.deployments
        ),
        k.change_failure_rate.band,
        format!(
            "{} {}",
            percent(p.change_failure_rate.rate),
            arrow(p.change_failure_rate.rate, k.change_failure_rate.rate)
        ),
    );
    row(
        &mut t,
        "recovery time, median",
        format!(
            "{} ({} incidents)",
            duration(k.recovery_time.median_seconds),
            k.recovery_time.incidents
        ),
        k.recovery_time.band,
        format!(
            "{} {}",
            duration(p.recovery_time.median_seconds),
            arrow(
                p.recovery_time.median_seconds,
                k.recovery_time.median_seconds
            )
        ),
    );
    row(
        &mut t,
        "rework rate",
        format!(
            "{} ({}/{})",
            percent(k.rework_rate.rate),
            k.rework_rate.rework_deployments,
            k.rework_rate.deployments
        ),
        None,
        format!(
            "{} {}",
            percent(p.rework_rate.rate),
            arrow(p.rework_rate.rate, k.rework_rate.rate)
        ),
    );
    writeln!(out, "{t}")?;
    for (key, reason) in [
        ("deployment frequency", &k.deployment_frequency.reason),
        ("lead time", &k.lead_time.reason),
        ("change failure rate", &k.change_failure_rate.reason),
        ("recovery time", &k.recovery_time.reason),
    ] {
        if let Some(reason) = reason {
            writeln!(out, "{key}: {reason}")?;
        }
    }
    if let Some(explained) = report.explanation() {
        print_explanation(explained, out)?;
    }
    Ok(())
}

/// The rows behind the numbers: deployments, their changes, incidents.
fn print_explanation(e: &Explanation, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "deployments in the window")?;
    let mut t = crate::table::table(&[
        "deployment",
        "service",
        "finished",
        "changes",
        "failed by",
        "",
    ]);
    for d in &e.deployments {
        let note = match (d.baseline, d.rework) {
            (true, _) => "baseline",
            (false, true) => "rework",
            _ => "",
        };
        t.add_row(vec![
            Cell::new(&d.id),
            Cell::new(&d.service),
            Cell::new(&d.finished_at),
            Cell::new(d.changes).set_alignment(CellAlignment::Right),
            Cell::new(d.failed_by.join(", ")),
            Cell::new(note),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(out, "changes")?;
    let mut t = crate::table::table(&["commit", "deployment", "committed", "lead time"]);
    for c in &e.changes {
        let lead = match (c.lead_time_seconds, c.excluded) {
            (Some(s), _) => duration(Some(s)),
            (None, Some(why)) => format!("excluded: {why}"),
            (None, None) => "n/a".to_owned(),
        };
        t.add_row(vec![
            Cell::new(&c.sha[..c.sha.len().min(12)]),
            Cell::new(&c.deployment),
            Cell::new(&c.committed_at),
            Cell::new(lead).set_alignment(CellAlignment::Right),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(out, "incidents")?;
    let mut t = crate::table::table(&[
        "incident",
        "service",
        "opened",
        "resolved",
        "caused by",
        "recovery",
    ]);
    for i in &e.incidents {
        let cause = match (&i.caused_by, i.rule) {
            (Some(d), Some(rule)) => format!("{d} ({})", rule_name(rule)),
            _ => "no deployment before it".to_owned(),
        };
        t.add_row(vec![
            Cell::new(&i.id),
            Cell::new(&i.service),
            Cell::new(&i.opened_at),
            Cell::new(i.resolved_at.as_deref().unwrap_or("open")),
            Cell::new(cause),
            Cell::new(duration(i.recovery_seconds)).set_alignment(CellAlignment::Right),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

fn rule_name(rule: CauseRule) -> &'static str {
    match rule {
        CauseRule::NamedDeployment => "named by the incident",
        CauseRule::NamedCommit => "deployed the named commit",
        CauseRule::LatestBefore => "latest deployment before it opened",
    }
}

fn print_series(reports: &[Report<'_>], out: &mut dyn Write) -> Result<()> {
    let mut t = crate::table::table(&[
        "from",
        "deployments",
        "per day",
        "lead time",
        "failure rate",
        "recovery",
        "rework",
    ]);
    for r in reports {
        let k = r.keys();
        t.add_row(vec![
            Cell::new(&r.since()[..10]),
            Cell::new(k.deployment_frequency.deployments).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.2}", k.deployment_frequency.per_day))
                .set_alignment(CellAlignment::Right),
            Cell::new(duration(k.lead_time.median_seconds)).set_alignment(CellAlignment::Right),
            Cell::new(percent(k.change_failure_rate.rate)).set_alignment(CellAlignment::Right),
            Cell::new(duration(k.recovery_time.median_seconds)).set_alignment(CellAlignment::Right),
            Cell::new(percent(k.rework_rate.rate)).set_alignment(CellAlignment::Right),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

fn band_name(band: Option<Band>) -> &'static str {
    match band {
        Some(Band::Elite) => "elite",
        Some(Band::High) => "high",
        Some(Band::Medium) => "medium",
        Some(Band::Low) => "low",
        None => "",
    }
}

/// Readable duration: `45 s`, `12.5 min`, `3.2 h`, `2.1 d`; `n/a` without data.
fn duration(seconds: Option<f64>) -> String {
    match seconds {
        None => "n/a".to_owned(),
        Some(s) if s < 60.0 => format!("{s:.0} s"),
        Some(s) if s < 3_600.0 => format!("{:.1} min", s / 60.0),
        Some(s) if s < 86_400.0 => format!("{:.1} h", s / 3_600.0),
        Some(s) => format!("{:.1} d", s / 86_400.0),
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "n/a".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// How the current value moved against the previous one.
fn arrow(before: Option<f64>, now: Option<f64>) -> &'static str {
    match (before, now) {
        (Some(b), Some(n)) if n > b => "↑",
        (Some(b), Some(n)) if n < b => "↓",
        (Some(_), Some(_)) => "=",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_read_well() {
        assert_eq!(duration(Some(45.0)), "45 s");
        assert_eq!(duration(Some(7_200.0)), "2.0 h");
        assert_eq!(duration(Some(43_200.0 * 5.0)), "2.5 d");
        assert_eq!(duration(None), "n/a");
        assert_eq!(percent(Some(2.0 / 3.0)), "66.7%");
        assert_eq!(arrow(Some(1.0), Some(2.0)), "↑");
        assert_eq!(arrow(None, Some(2.0)), "");
    }
}
