//! Rendering instants for people and machines.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use leadline_core::model::Millis;

/// RFC 3339 in the offset the instant was recorded with, e.g. `2024-05-01T09:30:00+02:00`,
/// so both the instant and the author's local time survive the export.
pub fn rfc3339(at: Millis, offset_minutes: i32) -> String {
    let ts = Timestamp::from_millisecond(at).unwrap_or(Timestamp::UNIX_EPOCH);
    let offset = Offset::from_seconds(offset_minutes.saturating_mul(60)).unwrap_or(Offset::UTC);
    ts.to_zoned(TimeZone::fixed(offset))
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Now, in milliseconds since the epoch.
pub fn now() -> Millis {
    Timestamp::now().as_millisecond()
}

/// The calendar date (UTC) of an instant, for summaries.
pub fn date(at: Millis) -> String {
    Timestamp::from_millisecond(at)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_recorded_offset() {
        // `date -u -d @1714548600` is 2024-05-01 07:30:00 UTC.
        assert_eq!(rfc3339(1_714_548_600_000, 120), "2024-05-01T09:30:00+02:00");
        assert_eq!(
            rfc3339(1_714_548_600_000, -330),
            "2024-05-01T02:00:00-05:30"
        );
        assert_eq!(rfc3339(1_714_548_600_000, 0), "2024-05-01T07:30:00+00:00");
        assert_eq!(date(1_714_548_600_000), "2024-05-01");
    }
}
