//! The learning family (`leadline learning`): per area, the bus factor and its trend by
//! quarter, the knowledge spread, and mobility per quarter (docs/metrics.md, "Learning").
//! Areas are named; people only counted.

use std::sync::Arc;

use leadline_core::learning::{Quarter, Touch, bus_factors, mobility, spread};
use leadline_core::model::Millis;
use leadline_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::window::{DAY_MS, resolve, utc};

const DEFAULT_DAYS: i64 = 365;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    pub repo: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Area {
    pub area: String,
    /// Over the whole window.
    pub bus_factor: usize,
    /// Per quarter of `quarters` (`null` without changes then).
    pub by_quarter: Vec<Option<usize>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub since: String,
    pub until: String,
    /// Areas with a bus factor of 2 or more / areas changed in the window.
    pub knowledge_spread: Option<f64>,
    pub areas: Vec<Area>,
    pub quarters: Vec<Quarter>,
}

/// Calendar quarters overlapping [since, until), clipped to it.
fn quarters(since: Millis, until: Millis) -> Vec<(String, Millis, Millis)> {
    let date = |at: Millis| {
        jiff::Timestamp::from_millisecond(at)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    };
    let start_of = |d: jiff::civil::Date| {
        jiff::civil::Date::new(d.year(), (d.month() - 1) / 3 * 3 + 1, 1).unwrap_or(d)
    };
    let ms = |d: jiff::civil::Date| {
        d.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(Millis::MAX)
    };
    let mut out = Vec::new();
    let mut q = start_of(date(since));
    while ms(q) < until {
        let Ok(next) = q.checked_add(jiff::Span::new().months(3)) else {
            break;
        };
        out.push((
            format!("{}-Q{}", q.year(), (q.month() - 1) / 3 + 1),
            ms(q).max(since),
            ms(next).min(until),
        ));
        q = next;
    }
    out
}

pub async fn compute(store: &Arc<dyn Store>, q: &Query, floor: usize) -> Result<Report> {
    let repos: Vec<_> = store
        .repositories()
        .await?
        .into_iter()
        .filter(|r| q.repo.as_deref().is_none_or(|n| r.name == n))
        .collect();
    let several = repos.len() > 1;
    let mut touches: Vec<Touch> = Vec::new();
    for repo in &repos {
        let mut each = |row: leadline_core::store::ChurnRow| {
            let area = leadline_core::activity::area_of(&row.path);
            touches.push(Touch {
                area: if several {
                    format!("{}:{area}", repo.name)
                } else {
                    area
                },
                author: row.author_email.to_lowercase(),
                at: row.committed_at,
            });
        };
        store.each_file_change(repo.id, &mut each).await?;
    }
    let newest = touches.iter().map(|t| t.at).max();
    let window = resolve(q.since.as_deref(), q.until.as_deref(), newest, |until| {
        Ok(until - DEFAULT_DAYS * DAY_MS)
    })?;
    let whole = bus_factors(&touches, window.since, window.until);
    let periods = quarters(window.since, window.until);
    let per_quarter: Vec<_> = periods
        .iter()
        .map(|(_, s, u)| bus_factors(&touches, *s, *u))
        .collect();
    let areas = whole
        .iter()
        .map(|(area, factor)| Area {
            area: area.clone(),
            bus_factor: *factor,
            by_quarter: per_quarter.iter().map(|f| f.get(area).copied()).collect(),
        })
        .collect();
    let quarters = periods
        .iter()
        .zip(&per_quarter)
        .map(|((name, s, u), factors)| {
            let (active, mobile) = mobility(&touches, *s, *u);
            let shown = active >= floor;
            Quarter {
                quarter: name.clone(),
                since: utc(*s),
                until: utc(*u),
                areas: factors.len(),
                knowledge_spread: spread(factors),
                active_people: shown.then_some(active),
                mobile_people: shown.then_some(mobile),
                mobility: (shown && active > 0).then(|| mobile as f64 / active as f64),
            }
        })
        .collect();
    Ok(Report {
        since: utc(window.since),
        until: utc(window.until),
        knowledge_spread: spread(&whole),
        areas,
        quarters,
    })
}
