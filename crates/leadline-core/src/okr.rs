//! Objectives and key results from `okrs.toml`, a file reviewed like code, and the arithmetic
//! of a key result: progress between its baseline and target, the projection of its weekly
//! values to the period's end, and the status that projection gives (docs/metrics.md, "OKRs").

use crate::toml_lines::{key_on_line, line_of};
use std::collections::HashSet;

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::model::Millis;

/// A file that could not be read: where, which field, and why.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
pub struct InvalidOkrs {
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

/// When an objective runs: [since, until), UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// As written (`2026-Q3`), or `SINCE..UNTIL`.
    pub name: String,
    #[serde(skip)]
    pub since: Millis,
    #[serde(skip)]
    pub until: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyResult {
    pub id: String,
    pub title: String,
    /// A metric name with its labels (`dora.lead_time.median_seconds{service=api}`).
    pub metric: String,
    pub target: f64,
    pub baseline: Option<f64>,
    pub commit: Option<f64>,
    pub stretch: Option<f64>,
    /// Where the key result starts in the file, and where its metric is.
    pub line: usize,
    pub metric_line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub id: String,
    pub title: String,
    /// A team.
    pub owner: Option<String>,
    pub period: Period,
    pub key_results: Vec<KeyResult>,
    pub line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOkrs {
    #[serde(default)]
    objective: Vec<Spanned<FileObjective>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileObjective {
    id: Spanned<String>,
    title: Spanned<String>,
    owner: Option<String>,
    period: Option<Spanned<String>>,
    since: Option<Spanned<toml::value::Datetime>>,
    until: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    key_result: Vec<Spanned<FileKeyResult>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKeyResult {
    id: Spanned<String>,
    title: Option<String>,
    metric: Spanned<String>,
    target: Spanned<f64>,
    baseline: Option<f64>,
    commit: Option<Spanned<f64>>,
    stretch: Option<Spanned<f64>>,
}

fn midnight(d: Date) -> Millis {
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// A period by name: `2026-Q3`, `2026-H1`, `2026-07` or `2026`.
pub fn period(name: &str) -> Option<Period> {
    let name = name.trim();
    let (year, rest) = name.split_once('-').unwrap_or((name, ""));
    let year: i16 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let (first_month, months) = match rest {
        "" => (1, 12),
        q if q.len() == 2 && q.starts_with(['Q', 'q']) => {
            let n: i8 = q[1..].parse().ok().filter(|n| (1..=4).contains(n))?;
            ((n - 1) * 3 + 1, 3)
        }
        h if h.len() == 2 && h.starts_with(['H', 'h']) => {
            let n: i8 = h[1..].parse().ok().filter(|n| (1..=2).contains(n))?;
            ((n - 1) * 6 + 1, 6)
        }
        m if m.len() == 2 => (m.parse().ok().filter(|m| (1..=12).contains(m))?, 1),
        _ => return None,
    };
    let start = Date::new(year, first_month, 1).ok()?;
    let end = start.checked_add(months.months()).ok()?;
    Some(Period {
        name: name.to_owned(),
        since: midnight(start),
        until: midnight(end),
    })
}

fn date_of(d: &toml::value::Datetime) -> Option<Date> {
    let date = d.date?;
    if d.time.is_some() {
        return None;
    }
    Date::new(date.year as i16, date.month as i8, date.day as i8).ok()
}

/// Reads `okrs.toml`. Every objective has an id, a title and a period (`period`, or `since`
/// and `until` dates); every key result an id, a metric and a target; ids are unique.
pub fn parse(text: &str) -> Result<Vec<Objective>, InvalidOkrs> {
    let file: FileOkrs = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        InvalidOkrs {
            line,
            field: key_on_line(text, line),
            message: e.message().trim().to_owned(),
        }
    })?;
    let invalid = |span: std::ops::Range<usize>, field: &str, message: String| InvalidOkrs {
        line: line_of(text, span.start),
        field: Some(field.to_owned()),
        message,
    };
    let mut ids = HashSet::new();
    let mut out = Vec::new();
    for spanned in file.objective {
        let line = line_of(text, spanned.span().start);
        let o = spanned.into_inner();
        let id = o.id.get_ref().trim().to_owned();
        if id.is_empty() || !ids.insert(id.clone()) {
            let why = if id.is_empty() {
                "is empty"
            } else {
                "is used twice"
            };
            return Err(invalid(o.id.span(), "id", format!("{id:?} {why}")));
        }
        if o.title.get_ref().trim().is_empty() {
            return Err(invalid(o.title.span(), "title", "is empty".into()));
        }
        let period = match (&o.period, &o.since, &o.until) {
            (Some(p), None, None) => period(p.get_ref()).ok_or_else(|| {
                invalid(
                    p.span(),
                    "period",
                    format!(
                        "{:?} is not a period (2026-Q3, 2026-H1, 2026-07 or 2026)",
                        p.get_ref()
                    ),
                )
            })?,
            (None, Some(s), Some(u)) => {
                let day = |d: &Spanned<toml::value::Datetime>, field: &str| {
                    date_of(d.get_ref()).ok_or_else(|| {
                        invalid(d.span(), field, "is not a date (2026-07-01)".into())
                    })
                };
                let (since, until) = (day(s, "since")?, day(u, "until")?);
                if since >= until {
                    return Err(invalid(u.span(), "until", "is not after since".into()));
                }
                Period {
                    name: format!("{since}..{until}"),
                    since: midnight(since),
                    until: midnight(until),
                }
            }
            _ => {
                return Err(InvalidOkrs {
                    line,
                    field: Some("period".into()),
                    message: "give a period (2026-Q3) or since and until dates, not both".into(),
                });
            }
        };
        let mut key_results = Vec::new();
        for spanned in o.key_result {
            let kr_line = line_of(text, spanned.span().start);
            let kr = spanned.into_inner();
            let kr_id = kr.id.get_ref().trim().to_owned();
            if kr_id.is_empty() || !ids.insert(kr_id.clone()) {
                let why = if kr_id.is_empty() {
                    "is empty"
                } else {
                    "is used twice"
                };
                return Err(invalid(kr.id.span(), "id", format!("{kr_id:?} {why}")));
            }
            if kr.metric.get_ref().trim().is_empty() {
                return Err(invalid(kr.metric.span(), "metric", "is empty".into()));
            }
            for (field, value) in [
                ("target", Some(&kr.target)),
                ("commit", kr.commit.as_ref()),
                ("stretch", kr.stretch.as_ref()),
            ] {
                if let Some(v) = value
                    && !v.get_ref().is_finite()
                {
                    return Err(invalid(v.span(), field, "is not a finite number".into()));
                }
            }
            key_results.push(KeyResult {
                title: kr.title.unwrap_or_else(|| kr_id.clone()),
                id: kr_id,
                metric: kr.metric.get_ref().trim().to_owned(),
                target: *kr.target.get_ref(),
                baseline: kr.baseline,
                commit: kr.commit.map(|c| *c.get_ref()),
                stretch: kr.stretch.map(|s| *s.get_ref()),
                line: kr_line,
                metric_line: line_of(text, kr.metric.span().start),
            });
        }
        out.push(Objective {
            id,
            title: o.title.get_ref().trim().to_owned(),
            owner: o.owner,
            period,
            key_results,
            line,
        });
    }
    Ok(out)
}

/// (current − baseline) / (target − baseline), clipped to [0, 1.5]: how far from its baseline
/// to its target a key result has come. `None` when the target is the baseline.
pub fn progress(current: f64, baseline: f64, target: f64) -> Option<f64> {
    let span = target - baseline;
    // `+ 0.0` turns the −0 of a lower-is-better metric that has not moved into 0.
    (span.abs() > f64::EPSILON).then(|| ((current - baseline) / span).clamp(0.0, 1.5) + 0.0)
}

/// The least-squares line through `(x, y)` points, evaluated at `at`; `None` with fewer than
/// two distinct x.
pub fn projection(points: &[(f64, f64)], at: f64) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= f64::EPSILON {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    Some(my + slope * (at - mx))
}

/// Where a key result is heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The projection reaches the target.
    OnTrack,
    /// It reaches the commit (or, without one, 70 % of the way from baseline to target).
    AtRisk,
    OffTrack,
}

/// The status a projection gives, `higher` telling which way is better.
pub fn status(
    projected: f64,
    baseline: f64,
    target: f64,
    commit: Option<f64>,
    higher: bool,
) -> Status {
    let reaches = |goal: f64| {
        if higher {
            projected >= goal
        } else {
            projected <= goal
        }
    };
    let commit = commit.unwrap_or(baseline + 0.7 * (target - baseline));
    if reaches(target) {
        Status::OnTrack
    } else if reaches(commit) {
        Status::AtRisk
    } else {
        Status::OffTrack
    }
}

#[cfg(test)]
mod tests;
