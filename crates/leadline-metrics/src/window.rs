//! Windows and periods every family shares: parsing `since`/`until`, calendar buckets (weeks
//! from Monday, months, UTC, clipped to the window) and rendering instants.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use leadline_core::dora::Window;
use leadline_core::model::Millis;
use serde::Deserialize;

use crate::error::UsageError;

pub const DAY_MS: i64 = 86_400_000;

/// The most periods one request may ask for: ten years of weeks. A window from 1970 by week
/// would otherwise be ~2,900 full computations in one request.
pub const MAX_PERIODS: usize = 520;

/// The most months a report lists for one window (health trends, capacity): a hundred years.
pub const MAX_MONTHS: usize = 1200;

/// A series' period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Week,
    Month,
}

impl By {
    pub fn as_str(self) -> &'static str {
        match self {
            By::Week => "week",
            By::Month => "month",
        }
    }
}

impl std::str::FromStr for By {
    type Err = UsageError;

    fn from_str(s: &str) -> Result<By, UsageError> {
        match s {
            "week" => Ok(By::Week),
            "month" => Ok(By::Month),
            other => Err(UsageError(format!("by {other:?}: expected week or month"))),
        }
    }
}

/// Parses `--since`/`--until` (named `flag` in errors): an RFC 3339 instant or a date (UTC
/// midnight).
pub fn parse_instant(flag: &str, value: &str) -> Result<Millis, UsageError> {
    if let Ok(t) = value.parse::<Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let invalid = || {
        UsageError(format!(
            "{flag} {value:?}: expected an RFC 3339 time or a date YYYY-MM-DD"
        ))
    };
    let date: Date = value.parse().map_err(|_| invalid())?;
    let zoned = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| invalid())?;
    Ok(zoned.timestamp().as_millisecond())
}

/// Splits a window into calendar weeks (from Monday) or months, UTC, the first and last clipped
/// to the window; more than `max` periods is a request to narrow the window (one request must
/// not cost unbounded memory).
pub fn buckets(w: Window, by: By, max: usize) -> Result<Vec<Window>, UsageError> {
    let out_of_range = |_| UsageError("the window is outside the supported range".to_owned());
    let mut out = Vec::new();
    let mut start = match by {
        By::Week => leadline_core::activity::week_start(w.since),
        By::Month => {
            let d = Timestamp::from_millisecond(w.since)
                .map_err(out_of_range)?
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date();
            month_start(d.year(), d.month())?
        }
    };
    while start < w.until {
        let end = match by {
            By::Week => start + 7 * DAY_MS,
            By::Month => {
                let d = Timestamp::from_millisecond(start)
                    .map_err(out_of_range)?
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date();
                let next = d.checked_add(1.month()).map_err(out_of_range)?;
                month_start(next.year(), next.month())?
            }
        };
        if out.len() == max {
            return Err(UsageError(format!(
                "the window holds more than {max} periods of a {}; narrow --since and --until",
                by.as_str()
            )));
        }
        // The first and last periods are clipped to the window: a week that starts before
        // --since counts nothing from before it.
        out.push(Window {
            since: start.max(w.since),
            until: end.min(w.until),
        });
        start = end;
    }
    Ok(out)
}

fn month_start(year: i16, month: i8) -> Result<Millis, UsageError> {
    let out_of_range = |_| UsageError("the window is outside the supported range".to_owned());
    Ok(Date::new(year, month, 1)
        .map_err(out_of_range)?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(out_of_range)?
        .timestamp()
        .as_millisecond())
}

/// The UTC midnight after `at`: where a default window ends, so the newest day counts whole.
pub fn midnight_after(at: Millis) -> Millis {
    (at.div_euclid(DAY_MS) + 1) * DAY_MS
}

/// The window a query asks for, every family alike: `until` as given, else the UTC midnight
/// after `newest` (the family's newest event; now when there is none); `since` as given, else
/// `default_since(until)` (the family's default length). An empty window is a usage error.
pub fn resolve(
    since: Option<&str>,
    until: Option<&str>,
    newest: Option<Millis>,
    default_since: impl FnOnce(Millis) -> Result<Millis, UsageError>,
) -> Result<Window, UsageError> {
    let until = match until {
        Some(v) => parse_instant("--until", v)?,
        None => newest.map_or_else(|| Timestamp::now().as_millisecond(), midnight_after),
    };
    let since = match since {
        Some(v) => parse_instant("--since", v)?,
        None => default_since(until)?,
    };
    if since >= until {
        return Err(UsageError(
            "the window is empty: --since must be before --until".to_owned(),
        ));
    }
    Ok(Window { since, until })
}

/// An instant as RFC 3339 in UTC, `2024-05-01T07:30:00+00:00`, as every report writes them.
pub fn utc(at: Millis) -> String {
    Timestamp::from_millisecond(at)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_dates_parse_and_bad_ones_name_the_flag() {
        assert_eq!(
            parse_instant("--since", "2024-05-01").unwrap(),
            1_714_521_600_000
        );
        assert_eq!(
            parse_instant("--until", "2024-05-01T07:30:00Z").unwrap(),
            1_714_548_600_000
        );
        let e = parse_instant("--since", "yesterday").unwrap_err();
        assert!(e.0.starts_with("--since \"yesterday\""), "{e}");
        assert_eq!(utc(1_714_548_600_000), "2024-05-01T07:30:00+00:00");
        assert_eq!("month".parse::<By>(), Ok(By::Month));
        assert!("day".parse::<By>().is_err());
    }

    #[test]
    fn windows_default_to_the_data_and_refuse_to_be_empty() {
        let day = |d: &str| parse_instant("d", d).unwrap();
        let newest = day("2024-03-10") + 5 * 3_600_000;
        let w = resolve(None, None, Some(newest), |u| Ok(u - 7 * DAY_MS)).unwrap();
        assert_eq!((w.since, w.until), (day("2024-03-04"), day("2024-03-11")));
        let w = resolve(
            Some("2024-01-01"),
            Some("2024-02-01"),
            None,
            |_| unreachable!(),
        )
        .unwrap();
        assert_eq!((w.since, w.until), (day("2024-01-01"), day("2024-02-01")));
        let e = resolve(Some("2024-02-01"), Some("2024-01-01"), None, Ok).unwrap_err();
        assert!(e.0.starts_with("the window is empty"));
    }

    #[test]
    fn months_are_clipped_to_the_window_and_bounded() {
        let w = Window {
            since: parse_instant("s", "2024-01-15").unwrap(),
            until: parse_instant("u", "2024-03-10").unwrap(),
        };
        let months = buckets(w, By::Month, 12).unwrap();
        let shown: Vec<(String, String)> = months
            .iter()
            .map(|m| (utc(m.since), utc(m.until)))
            .collect();
        assert_eq!(shown[0].0, "2024-01-15T00:00:00+00:00");
        assert_eq!(
            shown[1],
            (
                "2024-02-01T00:00:00+00:00".into(),
                "2024-03-01T00:00:00+00:00".into()
            )
        );
        assert_eq!(shown[2].1, "2024-03-10T00:00:00+00:00");
        assert!(buckets(w, By::Week, 3).is_err());
    }
}
