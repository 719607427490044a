//! Instants reported by event sources (webhooks, imports, API posts, forge syncs), held to a
//! sane range: from the Unix epoch to one day past the server's clock. One absurd instant
//! (`createdAt: 9223372036854775807`, a deployment in year 9999) would otherwise move every
//! default window and break reads for everyone; it is refused naming its field instead.

use crate::model::Millis;
use jiff::Timestamp;

/// How far past the server's clock an event may be dated (clock skew between systems).
pub const FUTURE_SLACK_MS: Millis = 24 * 3600 * 1000;

/// The latest instant an event source may report now.
pub fn latest_now() -> Millis {
    Timestamp::now()
        .as_millisecond()
        .saturating_add(FUTURE_SLACK_MS)
}

/// `at`, or why it is outside the sane range.
pub fn check(at: Millis) -> Result<Millis, String> {
    if at < 0 {
        return Err(format!("{} is before 1970", shown(at)));
    }
    if at > latest_now() {
        return Err(format!(
            "{} is more than a day after the server's clock ({})",
            shown(at),
            shown(Timestamp::now().as_millisecond())
        ));
    }
    Ok(at)
}

/// An RFC 3339 instant in the sane range; a value shaped like one that no calendar holds
/// (`9999-12-31T23:59:59Z` is past what the clock library represents) is "out of range",
/// not "not RFC 3339".
pub fn rfc3339(value: &str) -> Result<Millis, String> {
    match value.parse::<Timestamp>() {
        Ok(t) => check(t.as_millisecond()),
        Err(_) if looks_like_rfc3339(value) => Err(format!("{value:?} is out of range")),
        Err(_) => Err(format!(
            "{value:?} is not an RFC 3339 time (e.g. 2024-05-01T09:30:00Z)"
        )),
    }
}

/// `YYYY-MM-DDTHH:MM:SS` followed by anything: the shape, not the values.
fn looks_like_rfc3339(value: &str) -> bool {
    let b = value.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't' | b' '))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
}

/// An instant for messages: RFC 3339 when representable, else the raw milliseconds.
fn shown(at: Millis) -> String {
    Timestamp::from_millisecond(at)
        .map_or_else(|_| format!("{at} ms since 1970"), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_the_epoch_to_a_day_past_now() {
        assert_eq!(check(0), Ok(0));
        assert!(check(-1).unwrap_err().contains("before 1970"));
        let now = Timestamp::now().as_millisecond();
        assert!(check(now + FUTURE_SLACK_MS - 60_000).is_ok());
        assert!(
            check(now + FUTURE_SLACK_MS + 60_000)
                .unwrap_err()
                .contains("more than a day")
        );
        assert!(check(i64::MAX).unwrap_err().contains("ms since 1970"));
    }

    #[test]
    fn out_of_range_is_told_from_malformed() {
        assert!(
            rfc3339("9999-12-31T23:59:59Z")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            rfc3339("9999-12-30T00:00:00Z")
                .unwrap_err()
                .contains("more than a day")
        );
        assert!(
            rfc3339("1969-12-31T23:59:59Z")
                .unwrap_err()
                .contains("before 1970")
        );
        assert!(
            rfc3339("yesterday")
                .unwrap_err()
                .contains("not an RFC 3339 time")
        );
        assert_eq!(rfc3339("2024-05-01T09:30:00Z"), Ok(1_714_555_800_000));
    }
}
