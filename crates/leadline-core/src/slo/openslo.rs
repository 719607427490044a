//! SLO definitions in OpenSLO v1 YAML (multi-document files): `kind: SLO` with its service,
//! budgeting method, one time window, one objective and an indicator inline or by
//! `indicatorRef` to a `kind: SLI`. Other OpenSLO kinds (Service, DataSource, AlertPolicy, …)
//! may sit in the same files and are left alone; anything leadline cannot honour is refused
//! as `FILE: line N, field X: …`, so a definition never means less than it says.

use std::collections::HashMap;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Span, ToSpan};

use crate::model::Millis;
use crate::yaml::{self, Node, Problem, Reader, Value};

use super::burn::MINUTE;

const DAY: Millis = 24 * 60 * MINUTE;

/// One SLO, its indicator resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub name: String,
    pub service: String,
    pub description: Option<String>,
    /// The objective, 0 < target < 1 (`targetPercent` / 100).
    pub target: f64,
    pub budgeting: Budgeting,
    pub window: TimeWindow,
    pub source: Source,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budgeting {
    Occurrences,
    /// Good slices over slices with events; a slice is good when its ratio reaches `target`.
    Timeslices {
        target: f64,
        slice: Millis,
    },
    /// The mean of the slices' good / total ratios, over slices with events.
    RatioTimeslices {
        slice: Millis,
    },
}

impl Budgeting {
    /// (good, total) over [from, to): events, good slices of slices, or the sum of the slices'
    /// ratios of slices — so that good / total is the SLI for every method.
    pub fn counts(self, m: &super::burn::Minutes, from: Millis, to: Millis) -> (f64, f64) {
        match self {
            Budgeting::Occurrences => m.counts(from, to),
            Budgeting::Timeslices { target, slice } => {
                let (g, t) = m.slices(from, to, slice, target);
                (g as f64, t as f64)
            }
            Budgeting::RatioTimeslices { slice } => m.ratio_slices(from, to, slice),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TimeWindow {
    /// The `duration` before the moment asked about.
    Rolling { duration: Millis },
    /// Calendar periods of `count` × `unit` from `start` in `zone`.
    Calendar {
        count: i64,
        unit: CalendarUnit,
        start: DateTime,
        zone: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarUnit {
    Week,
    Month,
    Quarter,
    Year,
}

/// Where good and total events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Counts imported with `leadline import sli` or posted to `/api/v1/sli`.
    Imported,
    /// Availability from leadline's incidents: each minute is one event, bad while a sev1 or
    /// sev2 incident of the service is open (`metricSource: {type: leadline, spec: {indicator:
    /// incidents}}`).
    Incidents,
    /// PromQL evaluated against `[slo.prometheus] url`.
    Prometheus {
        good: Option<String>,
        bad: Option<String>,
        total: String,
    },
}

impl TimeWindow {
    /// [since, until) of the window evaluated at `at`: a rolling window ends at `at`; a
    /// calendar window is the period holding it.
    pub fn at(&self, at: Millis) -> (Millis, Millis) {
        match self {
            TimeWindow::Rolling { duration } => (at - duration, at),
            TimeWindow::Calendar {
                count,
                unit,
                start,
                zone,
            } => calendar_period(*count, *unit, *start, zone, at),
        }
    }

    /// The period the alert windows scale with: a rolling window's duration; a calendar
    /// window's nominal length (a week 7 days, a month 30, a quarter 90, a year 365).
    pub fn period(&self) -> Millis {
        match self {
            TimeWindow::Rolling { duration } => *duration,
            TimeWindow::Calendar { count, unit, .. } => {
                count
                    * DAY
                    * match unit {
                        CalendarUnit::Week => 7,
                        CalendarUnit::Month => 30,
                        CalendarUnit::Quarter => 90,
                        CalendarUnit::Year => 365,
                    }
            }
        }
    }

    /// `28d`, `1M` as written.
    pub fn describe(&self) -> String {
        match self {
            TimeWindow::Rolling { duration } if duration % DAY == 0 => {
                format!("{}d rolling", duration / DAY)
            }
            TimeWindow::Rolling { duration } => format!("{}m rolling", duration / MINUTE),
            TimeWindow::Calendar { count, unit, .. } => format!(
                "{count}{} calendar",
                match unit {
                    CalendarUnit::Week => "w",
                    CalendarUnit::Month => "M",
                    CalendarUnit::Quarter => "Q",
                    CalendarUnit::Year => "Y",
                }
            ),
        }
    }
}

fn span_of(count: i64, unit: CalendarUnit) -> Span {
    match unit {
        CalendarUnit::Week => (count * 7).days(),
        CalendarUnit::Month => count.months(),
        CalendarUnit::Quarter => (count * 3).months(),
        CalendarUnit::Year => count.years(),
    }
}

/// The calendar period holding `at`: periods of `count` units from `start`, in `zone`.
fn calendar_period(
    count: i64,
    unit: CalendarUnit,
    start: DateTime,
    zone: &str,
    at: Millis,
) -> (Millis, Millis) {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let Ok(origin) = start.to_zoned(tz) else {
        return (at, at);
    };
    let ms = |z: &jiff::Zoned| z.timestamp().as_millisecond();
    let step = span_of(count, unit);
    // A first guess from the nominal length, then exact steps either way.
    let nominal = TimeWindow::Calendar {
        count,
        unit,
        start,
        zone: zone.to_owned(),
    }
    .period();
    let mut k = (at - ms(&origin)).div_euclid(nominal.max(1)) - 1;
    let nth = |k: i64| origin.checked_add(step.checked_mul(k).unwrap_or(step)).ok();
    loop {
        let (Some(a), Some(b)) = (nth(k), nth(k + 1)) else {
            return (at, at);
        };
        if ms(&a) > at {
            k -= 1;
        } else if ms(&b) <= at {
            k += 1;
        } else {
            return (ms(&a), ms(&b));
        }
    }
}

/// A parsed `kind: SLI`.
#[derive(Debug, Clone)]
struct Sli {
    source: Source,
}

/// A parsed `kind: SLO` before its `indicatorRef` is resolved.
struct Parsed {
    slo: Slo,
    reference: Option<(String, usize)>,
}

const KINDS_LEFT_ALONE: [&str; 5] = [
    "Service",
    "DataSource",
    "AlertPolicy",
    "AlertCondition",
    "AlertNotificationTarget",
];

/// Every SLO of `files` ((name, text) pairs), or every problem in them.
pub fn parse(files: &[(String, String)]) -> Result<Vec<Slo>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut slos: Vec<Parsed> = Vec::new();
    let mut slis: HashMap<String, Sli> = HashMap::new();
    for (file, text) in files {
        let mut r = Reader {
            file,
            offset: 0,
            problems: Vec::new(),
        };
        let documents = match yaml::load_all(text) {
            Ok(d) => d,
            Err((line, message)) => {
                r.fail(line, "", &format!("is not valid YAML: {message}"));
                problems.append(&mut r.problems);
                continue;
            }
        };
        for doc in &documents {
            document(&mut r, doc, &mut slos, &mut slis);
        }
        problems.append(&mut r.problems);
    }
    let mut out: Vec<Slo> = Vec::new();
    for p in slos {
        let mut slo = p.slo;
        if let Some((name, line)) = p.reference {
            match slis.get(&name) {
                Some(sli) => slo.source = sli.source.clone(),
                None => problems.push(Problem {
                    file: slo.file.clone(),
                    line,
                    field: "spec.indicatorRef".into(),
                    message: format!("no kind: SLI named {name:?} in the SLO files"),
                }),
            }
        }
        if let Some(first) = out.iter().find(|o| o.name == slo.name) {
            problems.push(Problem {
                file: slo.file.clone(),
                line: slo.line,
                field: "metadata.name".into(),
                message: format!(
                    "{:?} is already the name of an SLO ({}, line {})",
                    slo.name, first.file, first.line
                ),
            });
        }
        out.push(slo);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn document(
    r: &mut Reader<'_>,
    doc: &Node,
    slos: &mut Vec<Parsed>,
    slis: &mut HashMap<String, Sli>,
) {
    let Some(top) = r.map(doc, "", &["apiVersion", "kind", "metadata", "spec"]) else {
        return;
    };
    let kind = r.required_text(&top, doc, "kind");
    if let Some(version) = r.required_text(&top, doc, "apiVersion")
        && version != "openslo/v1"
    {
        r.fail(
            top["apiVersion"].line,
            "apiVersion",
            &format!("{version:?}: expected openslo/v1"),
        );
    }
    let Some(kind) = kind else { return };
    if KINDS_LEFT_ALONE.contains(&kind.as_str()) {
        return;
    }
    let name = metadata_name(r, &top, doc, "metadata");
    let Some(spec) = r.required(&top, doc, "spec") else {
        return;
    };
    match kind.as_str() {
        "SLO" => {
            if let (Some(name), Some(parsed)) = (name.clone(), slo(r, spec)) {
                let line = top["metadata"].line;
                let (source, reference) = parsed.1;
                slos.push(Parsed {
                    slo: Slo {
                        name,
                        line,
                        file: r.file.to_owned(),
                        source: source.unwrap_or(Source::Imported),
                        ..parsed.0
                    },
                    reference,
                });
            }
        }
        "SLI" => {
            if let (Some(name), Some(source)) = (name, sli_spec(r, spec, "spec")) {
                slis.insert(name, Sli { source });
            }
        }
        other => r.fail(
            top["kind"].line,
            "kind",
            &format!("unknown kind {other:?} (leadline reads SLO and SLI; Service, DataSource and alert kinds are left alone)"),
        ),
    }
}

/// `metadata.name`: an RFC 1123 label (lower-case letters, digits, `-`; at most 63).
fn metadata_name(
    r: &mut Reader<'_>,
    fields: &HashMap<&str, &Node>,
    parent: &Node,
    field: &str,
) -> Option<String> {
    let node = r.required(fields, parent, field)?;
    let meta = r.map(
        node,
        field,
        &["name", "displayName", "labels", "annotations"],
    )?;
    let name = r.required_text(&meta, node, &format!("{field}.name"))?;
    let valid = name.len() <= 63
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        r.fail(
            meta["name"].line,
            &format!("{field}.name"),
            &format!(
                "{name:?} is not an RFC 1123 name (lower-case letters, digits and -, at most 63)"
            ),
        );
        return None;
    }
    Some(name)
}

type SloParts = (Slo, (Option<Source>, Option<(String, usize)>));

fn slo(r: &mut Reader<'_>, spec: &Node) -> Option<SloParts> {
    let f = r.map(
        spec,
        "spec",
        &[
            "description",
            "service",
            "indicator",
            "indicatorRef",
            "timeWindow",
            "budgetingMethod",
            "objectives",
            "alertPolicies",
        ],
    )?;
    let service = r.required_text(&f, spec, "spec.service");
    let description = r.optional_text(f.get("description").copied(), "spec.description")?;
    let method = r.required_text(&f, spec, "spec.budgetingMethod");
    let window = r
        .required(&f, spec, "spec.timeWindow")
        .and_then(|n| time_window(r, n));
    let objective = r
        .required(&f, spec, "spec.objectives")
        .and_then(|n| objective(r, n));
    let indicator = match (f.get("indicator"), f.get("indicatorRef")) {
        (Some(n), None) => {
            let i = r.map(n, "spec.indicator", &["metadata", "spec"])?;
            metadata_name(r, &i, n, "spec.indicator.metadata");
            let s = r.required(&i, n, "spec.indicator.spec")?;
            Some((sli_spec(r, s, "spec.indicator.spec"), None))
        }
        (None, Some(n)) => Some((
            None,
            r.text(n, "spec.indicatorRef").map(|name| (name, n.line)),
        )),
        _ => {
            r.fail(
                spec.line,
                "spec.indicator",
                "give one of indicator (inline) and indicatorRef",
            );
            None
        }
    };
    let (target, slice_target, slice) = objective?;
    let budgeting = match (method?.as_str(), slice_target, slice) {
        ("Occurrences", _, _) => Budgeting::Occurrences,
        ("Timeslices", Some(target), Some(slice)) => Budgeting::Timeslices { target, slice },
        ("RatioTimeslices", _, Some(slice)) => Budgeting::RatioTimeslices { slice },
        ("Timeslices" | "RatioTimeslices", ..) => {
            r.fail(
                f["objectives"].line,
                "spec.objectives.0.timeSliceWindow",
                "Timeslices needs timeSliceTarget and timeSliceWindow; RatioTimeslices timeSliceWindow",
            );
            return None;
        }
        (other, ..) => {
            r.fail(
                f["budgetingMethod"].line,
                "spec.budgetingMethod",
                &format!("{other:?}: expected Occurrences, Timeslices or RatioTimeslices"),
            );
            return None;
        }
    };
    let (source, reference) = indicator?;
    Some((
        Slo {
            name: String::new(),
            service: service?,
            description,
            target,
            budgeting,
            window: window?,
            source: Source::Imported,
            file: String::new(),
            line: 0,
        },
        (source, reference),
    ))
}

/// One objective: its target, and the slice target and slice length of time slices.
fn objective(r: &mut Reader<'_>, node: &Node) -> Option<(f64, Option<f64>, Option<Millis>)> {
    let Value::Seq(items) = &node.value else {
        r.fail(node.line, "spec.objectives", "must be a list");
        return None;
    };
    if items.len() != 1 {
        r.fail(
            node.line,
            "spec.objectives",
            "leadline takes exactly one objective per SLO (write one SLO per objective)",
        );
        return None;
    }
    let item = &items[0];
    let p = "spec.objectives.0";
    let f = r.map(
        item,
        p,
        &[
            "displayName",
            "op",
            "value",
            "target",
            "targetPercent",
            "timeSliceTarget",
            "timeSliceWindow",
            "compositeWeight",
        ],
    )?;
    let target = match (f.get("target"), f.get("targetPercent")) {
        (Some(n), None) => ratio(r, n, &format!("{p}.target"))?,
        (None, Some(n)) => ratio(r, n, &format!("{p}.targetPercent"))? / 100.0,
        _ => {
            r.fail(
                item.line,
                &format!("{p}.target"),
                "give one of target and targetPercent",
            );
            return None;
        }
    };
    if !(target > 0.0 && target < 1.0) {
        r.fail(
            item.line,
            &format!("{p}.target"),
            "must be between 0 and 1 (exclusive)",
        );
        return None;
    }
    let slice_target = match f.get("timeSliceTarget") {
        Some(t) => Some(ratio(r, t, &format!("{p}.timeSliceTarget"))?),
        None => None,
    };
    let slice = match f.get("timeSliceWindow") {
        None => None,
        Some(w) => {
            let text = r.text(w, &format!("{p}.timeSliceWindow"))?;
            let Some(slice) = rolling(&text).filter(|d| *d >= MINUTE && d % MINUTE == 0) else {
                r.fail(
                    w.line,
                    &format!("{p}.timeSliceWindow"),
                    &format!("{text:?}: expected whole minutes (1m, 5m, 1h)"),
                );
                return None;
            };
            Some(slice)
        }
    };
    Some((target, slice_target, slice))
}

fn number(r: &mut Reader<'_>, node: &Node, field: &str) -> Option<f64> {
    let text = r.text(node, field)?;
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            r.fail(node.line, field, &format!("{text:?} is not a number"));
            None
        }
    }
}

/// A number; `targetPercent` is checked against 100 by its caller.
fn ratio(r: &mut Reader<'_>, node: &Node, field: &str) -> Option<f64> {
    let v = number(r, node, field)?;
    let limit = if field.ends_with("Percent") {
        100.0
    } else {
        1.0
    };
    if !(0.0..=limit).contains(&v) {
        r.fail(
            node.line,
            field,
            &format!("{v} is not between 0 and {limit}"),
        );
        return None;
    }
    Some(v)
}

/// `5m`, `1h`, `28d`, `2w` as milliseconds.
fn rolling(text: &str) -> Option<Millis> {
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = digits.parse().ok().filter(|n| *n > 0 && *n <= 100_000)?;
    Some(
        n * match unit {
            "m" => MINUTE,
            "h" => 60 * MINUTE,
            "d" => DAY,
            "w" => 7 * DAY,
            _ => return None,
        },
    )
}

fn time_window(r: &mut Reader<'_>, node: &Node) -> Option<TimeWindow> {
    // OpenSLO writes a list of one; a bare mapping is taken too.
    let (item, p) = match &node.value {
        Value::Seq(items) if items.len() == 1 => (&items[0], "spec.timeWindow.0"),
        Value::Seq(_) => {
            r.fail(node.line, "spec.timeWindow", "must hold exactly one window");
            return None;
        }
        _ => (node, "spec.timeWindow"),
    };
    let f = r.map(item, p, &["duration", "isRolling", "calendar"])?;
    let duration = r.required_text(&f, item, &format!("{p}.duration"))?;
    let rolling_flag = match f.get("isRolling") {
        None => false,
        Some(n) => match r.text(n, &format!("{p}.isRolling"))?.as_str() {
            "true" => true,
            "false" => false,
            other => {
                r.fail(
                    n.line,
                    &format!("{p}.isRolling"),
                    &format!("{other:?}: expected true or false"),
                );
                return None;
            }
        },
    };
    match (rolling_flag, f.get("calendar")) {
        (true, None) => {
            match rolling(&duration) {
                Some(d) => Some(TimeWindow::Rolling { duration: d }),
                None => {
                    r.fail(
                    f["duration"].line,
                    &format!("{p}.duration"),
                    &format!("{duration:?}: a rolling window is minutes, hours, days or weeks (28d, 7d)"),
                );
                    None
                }
            }
        }
        (false, Some(c)) => {
            let unit = match duration.chars().last() {
                Some('w') => Some(CalendarUnit::Week),
                Some('M') => Some(CalendarUnit::Month),
                Some('Q') => Some(CalendarUnit::Quarter),
                Some('Y') | Some('y') => Some(CalendarUnit::Year),
                _ => None,
            };
            let count = duration[..duration.len().saturating_sub(1)]
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=100).contains(n));
            let (Some(unit), Some(count)) = (unit, count) else {
                r.fail(
                    f["duration"].line,
                    &format!("{p}.duration"),
                    &format!("{duration:?}: a calendar window is weeks, months, quarters or years (1w, 1M, 1Q)"),
                );
                return None;
            };
            let cal = r.map(c, &format!("{p}.calendar"), &["startTime", "timeZone"])?;
            let start_text = r.required_text(&cal, c, &format!("{p}.calendar.startTime"))?;
            let zone = r.required_text(&cal, c, &format!("{p}.calendar.timeZone"))?;
            let Some(start) = civil(&start_text) else {
                r.fail(
                    cal["startTime"].line,
                    &format!("{p}.calendar.startTime"),
                    &format!("{start_text:?}: expected YYYY-MM-DD HH:MM:SS"),
                );
                return None;
            };
            if TimeZone::get(&zone).is_err() {
                r.fail(
                    cal["timeZone"].line,
                    &format!("{p}.calendar.timeZone"),
                    &format!("{zone:?} is not an IANA time zone"),
                );
                return None;
            }
            Some(TimeWindow::Calendar {
                count,
                unit,
                start,
                zone,
            })
        }
        (true, Some(_)) => {
            r.fail(
                item.line,
                &format!("{p}.calendar"),
                "a rolling window has no calendar",
            );
            None
        }
        (false, None) => {
            r.fail(
                item.line,
                &format!("{p}.isRolling"),
                "give isRolling: true, or a calendar with startTime and timeZone",
            );
            None
        }
    }
}

/// `2026-01-01 00:00:00`, with `T` or without the time.
fn civil(text: &str) -> Option<DateTime> {
    let t = text.trim().replace(' ', "T");
    t.parse::<DateTime>().ok().or_else(|| {
        t.parse::<jiff::civil::Date>()
            .ok()
            .map(|d| d.at(0, 0, 0, 0))
    })
}

/// An SLI's `spec`: a `ratioMetric` whose sources are all leadline's or all Prometheus'.
fn sli_spec(r: &mut Reader<'_>, spec: &Node, p: &str) -> Option<Source> {
    let f = r.map(spec, p, &["description", "ratioMetric", "thresholdMetric"])?;
    if let Some(n) = f.get("thresholdMetric") {
        r.fail(
            n.line,
            &format!("{p}.thresholdMetric"),
            "threshold metrics are not supported: write a ratioMetric of good and total events",
        );
        return None;
    }
    let node = r.required(&f, spec, &format!("{p}.ratioMetric"))?;
    let p = format!("{p}.ratioMetric");
    let m = r.map(
        node,
        &p,
        &["counter", "good", "bad", "total", "rawType", "raw"],
    )?;
    if let Some(n) = m.get("raw") {
        r.fail(
            n.line,
            &format!("{p}.raw"),
            "raw ratios are not supported: give good (or bad) and total",
        );
        return None;
    }
    let mut sources: Vec<(&str, String, Option<String>)> = Vec::new();
    for part in ["good", "bad", "total"] {
        if let Some(n) = m.get(part) {
            let (kind, query) = metric_source(r, n, &format!("{p}.{part}"))?;
            sources.push((part, kind, query));
        }
    }
    let has = |part: &str| sources.iter().any(|(p, ..)| *p == part);
    if !has("total") || has("good") == has("bad") {
        r.fail(node.line, &p, "give total and one of good and bad");
        return None;
    }
    let kinds: Vec<&str> = sources.iter().map(|(_, k, _)| k.as_str()).collect();
    if kinds.iter().all(|k| *k == "leadline") {
        return Some(Source::Imported);
    }
    if kinds.iter().all(|k| *k == "leadline-incidents") {
        return Some(Source::Incidents);
    }
    if kinds.iter().all(|k| k.eq_ignore_ascii_case("prometheus")) {
        let query = |part: &str| {
            sources
                .iter()
                .find(|(p, ..)| *p == part)
                .and_then(|(_, _, q)| q.clone())
        };
        return match query("total") {
            Some(total) => Some(Source::Prometheus {
                good: query("good"),
                bad: query("bad"),
                total,
            }),
            None => {
                r.fail(
                    node.line,
                    &format!("{p}.total.metricSource.spec.query"),
                    "is required",
                );
                None
            }
        };
    }
    r.fail(
        node.line,
        &p,
        &format!("metric sources {kinds:?}: leadline reads type leadline or Prometheus, one kind per indicator"),
    );
    None
}

/// (type, PromQL query) of `{metricSource: {type, spec: {query}}}`.
fn metric_source(r: &mut Reader<'_>, node: &Node, p: &str) -> Option<(String, Option<String>)> {
    let f = r.map(node, p, &["metricSource"])?;
    let ms = r.required(&f, node, &format!("{p}.metricSource"))?;
    let p = format!("{p}.metricSource");
    let s = r.map(ms, &p, &["type", "spec", "metricSourceRef"])?;
    let kind = r.required_text(&s, ms, &format!("{p}.type"))?;
    let query = match s.get("spec") {
        Some(spec) if kind.eq_ignore_ascii_case("prometheus") => {
            let q = r.map(spec, &format!("{p}.spec"), &["query", "promql"])?;
            match q.get("query").or(q.get("promql")) {
                Some(n) => Some(r.text(n, &format!("{p}.spec.query"))?),
                None => None,
            }
        }
        // leadline's own: imported counts, or availability from incidents.
        Some(spec) if kind == "leadline" => {
            let q = r.map(spec, &format!("{p}.spec"), &["indicator"])?;
            match q.get("indicator") {
                None => None,
                Some(n) => match r.text(n, &format!("{p}.spec.indicator"))?.as_str() {
                    "counts" => None,
                    "incidents" => return Some(("leadline-incidents".to_owned(), None)),
                    other => {
                        r.fail(
                            n.line,
                            &format!("{p}.spec.indicator"),
                            &format!("{other:?}: expected counts or incidents"),
                        );
                        return None;
                    }
                },
            }
        }
        _ => None,
    };
    Some((kind, query))
}

#[cfg(test)]
mod tests;
