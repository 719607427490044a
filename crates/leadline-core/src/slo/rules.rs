//! `leadline slo rules`: Prometheus recording and alerting rules for SLOs whose indicator is
//! PromQL, in Sloth's layout (`slo:sli_error:ratio_rate<window>` per window, the meta
//! recordings, and the page and ticket alerts of the multiwindow, multi-burn-rate rules) so
//! teams that alert from Prometheus get the same alerts `leadline slo alerts` computes.
//! A query names its range as `{{.window}}` (Sloth's convention): `sum(rate(x[{{.window}}]))`.

use std::fmt::Write as _;

use super::burn::{self, MINUTE, Severity};
use super::openslo::{Slo, Source};
use crate::model::Millis;

/// A PromQL duration: the largest unit that divides it (`1h`, `14m`, `70s`).
fn duration(ms: Millis) -> String {
    let s = ms / 1000;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s % size == 0 {
            return format!("{}{unit}", s / size);
        }
    }
    format!("{s}s")
}

/// A number as a person writes it: 1 − 0.995 is 0.005, not 0.0050000000000000044.
fn plain(x: f64) -> String {
    let s = format!("{x:.12}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// A YAML double-quoted string.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The error ratio over `window`: bad / total, or 1 − good / total.
fn error_ratio(good: &Option<String>, bad: &Option<String>, total: &str, window: &str) -> String {
    let w = |q: &str| q.replace("{{.window}}", window);
    match (bad, good) {
        (Some(bad), _) => format!("({}) / ({})", w(bad), w(total)),
        (None, Some(good)) => format!("1 - (({}) / ({}))", w(good), w(total)),
        (None, None) => String::new(),
    }
}

/// The rules of every SLO read from Prometheus, as one rule file; an SLO whose query cannot
/// take a window is an error naming it. SLOs counted by leadline have no rules (their alerts
/// are `leadline slo alerts`).
pub fn prometheus(slos: &[Slo]) -> Result<String, String> {
    let mut out = String::from("groups:\n");
    for slo in slos {
        let Source::Prometheus { good, bad, total } = &slo.source else {
            continue;
        };
        let queries = [good.as_deref(), bad.as_deref(), Some(total.as_str())];
        if queries.iter().flatten().any(|q| !q.contains("{{.window}}")) {
            return Err(format!(
                "{} ({}, line {}): each query must name its range as [{{{{.window}}}}], as Sloth's do, so every window can be recorded",
                slo.name, slo.file, slo.line
            ));
        }
        let rules = burn::rules(slo.window.period());
        let mut windows: Vec<Millis> = rules.iter().flat_map(|r| [r.long, r.short]).collect();
        windows.push(slo.window.period());
        windows.sort_unstable();
        windows.dedup();
        let id = format!("{}-{}", slo.service, slo.name);
        let labels = format!(
            "          sloth_id: {}\n          sloth_service: {}\n          sloth_slo: {}",
            quoted(&id),
            quoted(&slo.service),
            quoted(&slo.name)
        );
        let selector = format!("{{sloth_id={}}}", quoted(&id));
        let _ = writeln!(
            out,
            "  - name: {}",
            quoted(&format!("sloth-slo-sli-recordings-{id}"))
        );
        let _ = writeln!(out, "    rules:");
        for w in &windows {
            let d = duration(*w);
            let _ = writeln!(out, "      - record: slo:sli_error:ratio_rate{d}");
            let _ = writeln!(
                out,
                "        expr: {}",
                quoted(&error_ratio(good, bad, total, &d))
            );
            let _ = writeln!(
                out,
                "        labels:\n{labels}\n          sloth_window: {}",
                quoted(&d)
            );
        }
        let period = duration(slo.window.period());
        let days = slo.window.period() / (24 * 60 * MINUTE);
        let _ = writeln!(
            out,
            "  - name: {}",
            quoted(&format!("sloth-slo-meta-recordings-{id}"))
        );
        let _ = writeln!(out, "    rules:");
        for (record, expr) in [
            ("slo:objective:ratio", format!("vector({})", slo.target)),
            (
                "slo:error_budget:ratio",
                format!("vector(1 - {})", slo.target),
            ),
            ("slo:time_period:days", format!("vector({days})")),
            (
                "slo:current_burn_rate:ratio",
                format!(
                    "slo:sli_error:ratio_rate{}{selector} / on(sloth_id, sloth_slo, sloth_service) group_left slo:error_budget:ratio{selector}",
                    duration(rules[0].short)
                ),
            ),
            (
                "slo:period_burn_rate:ratio",
                format!(
                    "slo:sli_error:ratio_rate{period}{selector} / on(sloth_id, sloth_slo, sloth_service) group_left slo:error_budget:ratio{selector}"
                ),
            ),
            (
                "slo:period_error_budget_remaining:ratio",
                format!("1 - slo:period_burn_rate:ratio{selector}"),
            ),
        ] {
            let _ = writeln!(out, "      - record: {record}");
            let _ = writeln!(out, "        expr: {}", quoted(&expr));
            let _ = writeln!(out, "        labels:\n{labels}");
        }
        let _ = writeln!(
            out,
            "  - name: {}",
            quoted(&format!("sloth-slo-alerts-{id}"))
        );
        let _ = writeln!(out, "    rules:");
        for severity in [Severity::Page, Severity::Ticket] {
            let conditions: Vec<String> = rules
                .iter()
                .filter(|r| r.severity == severity)
                .map(|r| {
                    let over = |w: Millis| {
                        format!(
                            "max(slo:sli_error:ratio_rate{}{selector} > ({} * {})) without (sloth_window)",
                            duration(w),
                            r.factor,
                            plain(1.0 - slo.target)
                        )
                    };
                    format!("({} and {})", over(r.short), over(r.long))
                })
                .collect();
            let (name, label) = match severity {
                Severity::Page => ("Page", "page"),
                Severity::Ticket => ("Ticket", "ticket"),
            };
            let _ = writeln!(
                out,
                "      - alert: {}",
                quoted(&format!("{}{name}", camel(&slo.name)))
            );
            let _ = writeln!(out, "        expr: {}", quoted(&conditions.join(" or ")));
            let _ = writeln!(
                out,
                "        labels:\n          severity: {label}\n          sloth_severity: {label}"
            );
            let _ = writeln!(
                out,
                "        annotations:\n          summary: {}",
                quoted(&format!(
                    "{} SLO of {} is burning its error budget too fast ({label})",
                    slo.name, slo.service
                ))
            );
        }
    }
    if out == "groups:\n" {
        out = "groups: []\n".to_owned();
    }
    Ok(out)
}

/// `checkout-availability` as `CheckoutAvailability`, for alert names.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_names() {
        assert_eq!(duration(60 * MINUTE), "1h");
        assert_eq!(duration(14 * MINUTE), "14m");
        assert_eq!(duration(70_000), "70s");
        assert_eq!(duration(30 * 24 * 60 * MINUTE), "30d");
        assert_eq!(camel("checkout-availability"), "CheckoutAvailability");
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(plain(1.0 - 0.995), "0.005");
        assert_eq!(plain(14.4), "14.4");
    }
}
