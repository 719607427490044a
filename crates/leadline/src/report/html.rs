//! The report as one HTML page: semantic markup, inline CSS, inline SVG charts with titles, a
//! palette safe for colour-blind readers (Okabe–Ito), print rules for A4 or Letter (the printer's paper) with a page
//! break before each section, and nothing that loads from anywhere.
//!
//! Each number carries `data-metric` (its catalog name), `data-period` (`now`, `before`) and
//! `data-value` (the value as the API gives it), so a reader or a test can trace it back.

use std::fmt::Write;

use leadline_core::dora::quick_check::{INDUSTRY_MEAN, INDUSTRY_SD, QuickCheck};
use serde_json::Value;

use super::format::human;
use super::{Document, Figure, Section};
use crate::time::date;

const STYLE: &str = r#"
:root { --ink: #1b1b1b; --muted: #5a5a5a; --rule: #d0d0d0; --blue: #0072B2; --orange: #E69F00;
        --green: #009E73; --vermillion: #D55E00; --sky: #56B4E9; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       max-width: 52rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--blue); padding-bottom: .2rem; margin-top: 2rem; }
p.window, p.lead, .note { color: var(--muted); }
ul.summary li { margin: .35rem 0; }
table { border-collapse: collapse; width: 100%; margin: .75rem 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
.band { display: inline-block; padding: 0 .4rem; border-radius: .25rem; font-size: .85rem; color: #fff; }
.band-elite { background: var(--green); } .band-high { background: var(--blue); }
.band-medium { background: var(--orange); color: var(--ink); } .band-low { background: var(--vermillion); }
.better { color: var(--green); } .worse { color: var(--vermillion); }
figure { margin: 1rem 0; } figcaption { color: var(--muted); font-size: .9rem; }
svg { width: 100%; height: auto; }
dl.defs dt { font-weight: 600; margin-top: .6rem; } dl.defs dd { margin: 0 0 0 1rem; }
code { font-size: .9em; }
@media (max-width: 40rem) { body { font-size: 15px; padding: .5rem; } th, td { padding: .3rem; } }
@page { margin: 16mm 14mm; }
@media print {
  body { max-width: none; padding: 0; }
  section { break-before: page; }
  section#summary { break-before: avoid; }
  table, figure { break-inside: avoid; }
}
"#;

/// The sections in the order a reader meets them: what was delivered and what it achieved,
/// then how reliably, where the effort went, and how the work and the people fare.
const ORDER: [&str; 14] = [
    "history",
    "delivery",
    "outcomes",
    "service-levels",
    "reliability",
    "investment",
    "planning",
    "debt",
    "flow",
    "health",
    "anomalies",
    "ai",
    "wellbeing",
    "pulse",
];

pub fn render(d: &Document) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Engineering report: {} to {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<h1>Engineering report</h1>\n\
         <p class=\"window\" data-since=\"{}\" data-until=\"{}\">{}, from {} to {} (compared with {} to {}).</p>\n</header>\n<main>\n",
        date(d.since),
        last_day(d.until),
        crate::time::rfc3339(d.since, 0),
        crate::time::rfc3339(d.until, 0),
        escape(&capitalised(&d.scope)),
        date(d.since),
        last_day(d.until),
        date(d.previous_since),
        last_day(d.since),
    );
    summary(&mut h, d);
    for id in ORDER {
        match id {
            "outcomes" => outcomes(&mut h, &d.outcomes),
            "service-levels" => service_levels(&mut h, &d.slos),
            "anomalies" => anomalies(&mut h, &d.confirmed),
            "pulse" => pulse(&mut h, &d.pulse),
            _ => {
                if let Some(s) = d.sections.iter().find(|s| s.id == id) {
                    section(&mut h, s, d);
                }
            }
        }
    }
    appendix(&mut h, d);
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// The last day a window ending at `until` (exclusive) covers.
fn last_day(until: i64) -> String {
    date(until - 1)
}

fn summary(h: &mut String, d: &Document) {
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<ul class=\"summary\">\n");
    for s in &d.summary {
        let _ = writeln!(h, "<li>{}</li>", escape(s));
    }
    h.push_str("</ul>\n");
    if let Some(q) = &d.quick_check {
        quick_check(h, q);
    }
    h.push_str("</section>\n");
}

fn quick_check(h: &mut String, q: &QuickCheck) {
    let Some(score) = q.score else { return };
    let keys = [
        (q.deployment_frequency, "deployment frequency"),
        (q.lead_time, "lead time"),
        (q.change_failure_rate, "change failure rate"),
        (q.recovery_time, "recovery time"),
    ];
    let scored: Vec<&str> = keys
        .iter()
        .filter(|(v, _)| v.is_some())
        .map(|(_, k)| *k)
        .collect();
    let _ = writeln!(
        h,
        "<p>On DORA's Quick Check scale (0 to 10, higher is better) delivery scores \
         <strong data-metric=\"quick_check.score\" data-period=\"now\" data-value=\"{score}\">{score:.1}</strong> \
         from {} of the four keys ({}), against an all-industry mean of {INDUSTRY_MEAN:.1} \
         (standard deviation {INDUSTRY_SD:.1}). \
         The Quick Check (dora.dev/quickcheck) asks teams to place each of the four keys in a range; \
         here each measured key is placed in its range and scored the same way (see the appendix).</p>",
        scored.len(),
        scored.join(", ")
    );
    let width = 600.0;
    let x = |v: f64| 20.0 + v / 10.0 * (width - 40.0);
    let _ = writeln!(
        h,
        "<figure><svg viewBox=\"0 0 {width} 60\" role=\"img\" aria-labelledby=\"qc-title\">\
         <title id=\"qc-title\">Quick Check score {score:.1} of 10 against the industry mean {INDUSTRY_MEAN}</title>\
         <rect x=\"20\" y=\"25\" width=\"{}\" height=\"10\" fill=\"#d0d0d0\"/>\
         <rect x=\"{:.1}\" y=\"25\" width=\"{:.1}\" height=\"10\" fill=\"#56B4E9\"/>\
         <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"15\" y2=\"45\" stroke=\"#1b1b1b\" stroke-width=\"2\"/>\
         <circle cx=\"{:.1}\" cy=\"30\" r=\"8\" fill=\"#0072B2\"/>\
         <text x=\"20\" y=\"58\" font-size=\"12\">0</text><text x=\"{:.1}\" y=\"58\" font-size=\"12\">10</text>\
         <text x=\"{:.1}\" y=\"12\" font-size=\"12\" text-anchor=\"middle\">industry {INDUSTRY_MEAN}</text>\
         </svg><figcaption>The dot is this report's score; the line the all-industry mean, the band one standard deviation either side.</figcaption></figure>",
        width - 40.0,
        x((INDUSTRY_MEAN - INDUSTRY_SD).max(0.0)),
        x((INDUSTRY_MEAN + INDUSTRY_SD).min(10.0)) - x((INDUSTRY_MEAN - INDUSTRY_SD).max(0.0)),
        x(INDUSTRY_MEAN),
        x(INDUSTRY_MEAN),
        x(score),
        width - 35.0,
        x(INDUSTRY_MEAN),
    );
}

fn section(h: &mut String, s: &Section, d: &Document) {
    let _ = write!(
        h,
        "<section id=\"{}\">\n<h2>{}</h2>\n<p class=\"lead\">{}</p>\n",
        s.id,
        escape(s.title),
        escape(s.lead)
    );
    if let Some(basis) = &s.basis {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(basis));
    }
    if s.id == "delivery" && !d.trend.is_empty() {
        trend(h, &d.trend);
    }
    let _ = write!(
        h,
        "<table>\n<caption>{}: this period and the one before</caption>\n<thead><tr>\
         <th scope=\"col\">Measure</th><th scope=\"col\">This period</th><th scope=\"col\">Before</th>\
         <th scope=\"col\">Change</th></tr></thead>\n<tbody>\n",
        escape(s.title)
    );
    for f in &s.figures {
        row(h, f);
    }
    h.push_str("</tbody>\n</table>\n");
    if s.id == "reliability"
        && let Some(by) = d.severities.as_ref().and_then(Value::as_object)
    {
        h.push_str(
            "<table>\n<caption>Incidents by severity</caption>\n<thead><tr><th scope=\"col\">Severity</th>\
             <th scope=\"col\">Incidents</th></tr></thead>\n<tbody>\n",
        );
        for (severity, n) in by {
            let _ = writeln!(
                h,
                "<tr><th scope=\"row\">{}</th><td class=\"num\" data-metric=\"incidents.incidents.by_severity.{0}\" data-period=\"now\" data-value=\"{n}\">{n}</td></tr>",
                escape(severity)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

/// A key result's number in its metric's unit (samples have none).
fn kr_value(metric: &str, v: Option<f64>) -> String {
    let unit =
        leadline_metrics::catalog::find(metric.split('{').next().unwrap_or(metric)).map(|m| m.unit);
    match (v, unit) {
        (None, _) => "no data".to_owned(),
        (Some(v), Some(u)) => human(v, u),
        (Some(v), None) => format!("{v}"),
    }
}

fn outcomes(h: &mut String, objectives: &[leadline_metrics::okrs::ObjectiveStatus]) {
    if objectives.is_empty() {
        return;
    }
    h.push_str(
        "<section id=\"outcomes\">\n<h2>Outcomes</h2>\n<p class=\"lead\">The objectives the teams \
         set and how far each key result has come (progress from its baseline to its target), where it \
         is heading by the period's end, and how confident its owners are (0 to 10).</p>\n",
    );
    for o in objectives {
        let _ = write!(
            h,
            "<table>\n<caption>{}{} ({})</caption>\n<thead><tr><th scope=\"col\">Key result</th>\
             <th scope=\"col\">Now</th><th scope=\"col\">Target</th><th scope=\"col\">Progress</th>\
             <th scope=\"col\">Projected</th><th scope=\"col\">Status</th><th scope=\"col\">Confidence</th></tr></thead>\n<tbody>\n",
            escape(&o.title),
            o.owner
                .as_deref()
                .map_or_else(String::new, |w| format!(", {}", escape(w))),
            escape(&o.period.name)
        );
        for kr in &o.key_results {
            let status = kr
                .status
                .as_ref()
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_else(|| "unknown".to_owned());
            let _ = writeln!(
                h,
                "<tr><th scope=\"row\">{}</th><td class=\"num\" data-okr=\"{}\" data-value=\"{}\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                escape(&kr.title),
                escape(&kr.id),
                kr.current.map_or_else(String::new, |v| v.to_string()),
                kr_value(&kr.metric, kr.current),
                kr_value(&kr.metric, Some(kr.target)),
                kr.progress
                    .map_or_else(|| "no data".to_owned(), super::format::percent),
                kr_value(&kr.metric, kr.projection),
                escape(&status),
                kr.confidence
                    .map_or_else(|| "none".to_owned(), |c| c.to_string()),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn service_levels(h: &mut String, slos: &[leadline_metrics::slo::Status]) {
    if slos.is_empty() {
        return;
    }
    h.push_str(
        "<section id=\"service-levels\">\n<h2>Service levels</h2>\n<p class=\"lead\">Each service level \
         objective: the share of good events it promises, the share measured, and how much of the \
         allowed failure (the error budget) is left in its window.</p>\n<table>\n\
         <caption>Service level objectives at the end of the period</caption>\n<thead><tr>\
         <th scope=\"col\">Objective</th><th scope=\"col\">Service</th><th scope=\"col\">Target</th>\
         <th scope=\"col\">Measured</th><th scope=\"col\">Budget left</th></tr></thead>\n<tbody>\n",
    );
    for s in slos {
        let share = |v: Option<f64>| {
            v.map_or_else(|| "no data".to_owned(), |v| format!("{:.2}%", v * 100.0))
        };
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\" data-slo=\"{}\" data-value=\"{}\">{}</td></tr>",
            escape(&s.slo),
            escape(&s.service),
            share(Some(s.target)),
            share(s.sli),
            escape(&s.slo),
            s.budget_remaining
                .map_or_else(String::new, |v| v.to_string()),
            s.budget_remaining
                .map_or_else(|| "no data".to_owned(), super::format::percent),
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn pulse(h: &mut String, groups: &[leadline_metrics::survey::GroupOut]) {
    if groups.is_empty() {
        return;
    }
    h.push_str(
        "<section id=\"pulse\">\n<h2>Team pulse</h2>\n<p class=\"lead\">What teams said in short \
         anonymous surveys: psychological safety (1 to 7) and developer experience (1 to 5), higher \
         is better. Teams with too few respondents are shown together as \"other\", or not at \
         all.</p>\n<table>\n<caption>Survey scores by team and wave</caption>\n<thead><tr>\
         <th scope=\"col\">Team</th><th scope=\"col\">Survey</th><th scope=\"col\">Wave</th>\
         <th scope=\"col\">Respondents</th><th scope=\"col\">Scores</th></tr></thead>\n<tbody>\n",
    );
    for g in groups {
        let scores: Vec<String> = g
            .scores
            .iter()
            .filter_map(|(name, v)| {
                let v = (*v)?;
                Some(format!(
                    "<span data-survey=\"{}/{}/{}/{name}\" data-value=\"{v}\">{} {v:.1}</span>",
                    escape(&g.instrument),
                    escape(&g.group),
                    escape(&g.wave),
                    escape(&name.replace('_', " "))
                ))
            })
            .collect();
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&g.group),
            escape(&g.instrument.replace('_', " ")),
            escape(&g.wave),
            g.respondents,
            scores.join("; ")
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn anomalies(h: &mut String, confirmed: &[leadline_core::store::AnomalyReview]) {
    if confirmed.is_empty() {
        return;
    }
    h.push_str(
        "<section id=\"anomalies\">\n<h2>Anomalies people confirmed</h2>\n<p class=\"lead\">Weeks \
         leadline flagged as unusual and a person confirmed, with their note.</p>\n<ul>\n",
    );
    for r in confirmed {
        let _ = writeln!(
            h,
            "<li><strong>{}</strong> for {}, week {}{}</li>",
            escape(&r.metric),
            escape(&r.scope),
            escape(&r.week),
            r.note
                .as_deref()
                .map_or_else(String::new, |n| format!(": {}", escape(n)))
        );
    }
    h.push_str("</ul>\n</section>\n");
}

fn row(h: &mut String, f: &Figure) {
    let cell = |period: &str, v: Option<f64>| match v {
        Some(v) => format!(
            "<td class=\"num\" data-metric=\"{}\" data-period=\"{period}\" data-value=\"{v}\">{}</td>",
            f.metric.name,
            escape(&human(v, f.metric.unit))
        ),
        None => "<td class=\"num\">no data</td>".to_owned(),
    };
    let band = f.band.as_deref().map_or_else(String::new, |b| {
        format!(" <span class=\"band band-{0}\">{0}</span>", escape(b))
    });
    let note = match &f.reason {
        Some(r) => format!("<span class=\"note\">{}</span>", escape(r)),
        None => change(f),
    };
    let _ = writeln!(
        h,
        "<tr><th scope=\"row\">{}{band}</th>{}{}<td>{note}</td></tr>",
        escape(f.label),
        cell("now", f.now),
        cell("before", f.before),
    );
}

fn change(f: &Figure) -> String {
    let (Some(now), Some(before)) = (f.now, f.before) else {
        return String::new();
    };
    match super::format::movement(now, before, f.metric.unit, f.metric.better) {
        None => "the same".to_owned(),
        Some((direction, "")) => direction.to_owned(),
        Some((direction, judged)) => {
            format!("<span class=\"{judged}\">{direction} ({judged})</span>")
        }
    }
}

/// Deployments per week as bars.
fn trend(h: &mut String, weeks: &[(String, f64)]) {
    let max = weeks.iter().map(|(_, n)| *n).fold(1.0, f64::max);
    let (width, height, pad) = (600.0, 160.0, 24.0);
    let bar = (width - 2.0 * pad) / weeks.len() as f64;
    let total: f64 = weeks.iter().map(|(_, n)| n).sum();
    let _ = write!(
        h,
        "<figure><svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"trend-title\">\
         <title id=\"trend-title\">Deployments per week: {total} in {} weeks, at most {max} in one week</title>",
        weeks.len()
    );
    for (i, (week, n)) in weeks.iter().enumerate() {
        let hgt = n / max * (height - 2.0 * pad);
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#0072B2\"><title>week of {}: {n}</title></rect>",
            pad + i as f64 * bar + 1.0,
            height - pad - hgt,
            (bar - 2.0).max(1.0),
            hgt,
            escape(week)
        );
    }
    let _ = writeln!(
        h,
        "<line x1=\"{pad}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#5a5a5a\"/>\
         <text x=\"{pad}\" y=\"{}\" font-size=\"12\">{}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>\
         <text x=\"{pad}\" y=\"14\" font-size=\"12\">{max} a week</text></svg>\
         <figcaption>Deployments to production per week over the period.</figcaption></figure>",
        width - pad,
        height - pad,
        height - pad,
        height - 6.0,
        escape(weeks.first().map_or("", |w| w.0.as_str())),
        width - pad,
        height - 6.0,
        escape(weeks.last().map_or("", |w| w.0.as_str())),
    );
}

fn appendix(h: &mut String, d: &Document) {
    h.push_str(
        "<section id=\"appendix\">\n<h2>Appendix</h2>\n<h3>How to read this report</h3>\n\
         <p>Each section compares this period with the one of the same length just before it. \
         \"Better\" and \"worse\" follow which way each measure should move. Numbers are for teams, \
         never for individuals; a section appears only when there is data for it. Bands (elite, \
         high, medium, low) are DORA's, with the thresholds listed below.</p>\n\
         <h3>Definitions</h3>\n<dl class=\"defs\">\n",
    );
    let mut shown: Vec<&Figure> = d.sections.iter().flat_map(|s| &s.figures).collect();
    shown.dedup_by_key(|f| f.metric.name);
    for f in shown {
        let _ = writeln!(
            h,
            "<dt>{} <code>{}</code></dt><dd>{} (defined in leadline's <code>{}</code>)</dd>",
            escape(f.label),
            f.metric.name,
            escape(f.metric.description),
            f.metric.docs
        );
    }
    if d.quick_check.is_some() {
        h.push_str(
            "<dt>Quick Check score</dt><dd>DORA's Quick Check (dora.dev/quickcheck) scores each key \
             from 0 to 10: deployment frequency, lead time and recovery time by the range they fall \
             in (six ranges, scored 0, 2, 4, 6, 8 and 10), change failure rate as 10 minus a tenth of \
             the percentage; the score is the mean of the keys with data. The all-industry mean of 6.3 \
             (standard deviation 2.0) is the Quick Check's, as leadline's references record it.</dd>\n",
        );
    }
    h.push_str("</dl>\n");
    table(h, "Data sources and their freshness", &d.sources);
    table(h, "Configuration that shaped the numbers", &d.config);
    h.push_str("</section>\n");
}

fn table(h: &mut String, caption: &str, rows: &[(String, String)]) {
    let _ = write!(
        h,
        "<table>\n<caption>{}</caption>\n<tbody>\n",
        escape(caption)
    );
    for (k, v) in rows {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            escape(k),
            escape(v)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
