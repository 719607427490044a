//! On-call connectors: PagerDuty's REST API v2 and Opsgenie's Alert API v2, through the forge
//! client (pagination, rate limits, retries). They write what the alert webhooks write — the
//! source `alerts`, the vendor's own incident or alert id — so a webhook and a sync of the same
//! incident meet in one row. Each page is stored with the cursor that follows it, so a killed
//! sync resumes; a complete run starts the next one at the oldest incident it left open (which
//! may still be acknowledged or resolved), else at the newest it saw.

pub mod opsgenie;
pub mod pagerduty;

use leadline_core::model::Millis;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::forge::{Client, Fetched, ForgeError, Sink};
use crate::webhook::MappingError;

/// Where an on-call sync stands; stored as JSON in the ingest cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cursor {
    /// The next run lists incidents created at or after this (epoch milliseconds).
    pub since: Option<Millis>,
}

/// What a sync did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    pub incidents: u64,
    pub requests: u64,
    /// It started from a cursor a previous run left.
    pub resumed: bool,
}

/// What the next run must list again: from the oldest incident still open, else from the
/// newest seen.
#[derive(Debug, Default)]
struct Resume {
    oldest_open: Option<Millis>,
    newest: Option<Millis>,
}

impl Resume {
    fn see(&mut self, created: Millis, open: bool) {
        self.newest = Some(self.newest.map_or(created, |n| n.max(created)));
        if open {
            self.oldest_open = Some(self.oldest_open.map_or(created, |o| o.min(created)));
        }
    }

    /// The cursor as stored.
    fn json(&self, start: Millis) -> String {
        serde_json::to_string(&self.cursor(start)).unwrap_or_default()
    }

    fn cursor(&self, start: Millis) -> Cursor {
        let since = match (self.oldest_open, self.newest) {
            (Some(open), _) => open,
            (None, Some(newest)) => newest,
            (None, None) => start,
        };
        Cursor { since: Some(since) }
    }
}

/// GETs a page that must hold a JSON object; a 304 cannot happen without an ETag.
async fn page(
    client: &Client,
    url: &str,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<Value, ForgeError> {
    synced.requests += 1;
    match client.get(url, None, sink).await? {
        Fetched::Page { body, .. } => Ok(body),
        Fetched::NotModified => Err(ForgeError::Body {
            url: url.to_owned(),
            message: "answered 304 to a request without an ETag".to_owned(),
        }),
    }
}

/// The array at `key` of a listing.
fn items<'a>(body: &'a Value, key: &str, url: &str) -> Result<&'a [Value], ForgeError> {
    body.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| ForgeError::Body {
            url: url.to_owned(),
            message: format!("expected a `{key}` array"),
        })
}

/// A mapping problem of item `index` of a listing, named by its path.
fn at_item(key: &str, index: usize) -> impl Fn(MappingError) -> ForgeError + '_ {
    move |e| {
        ForgeError::Mapping(MappingError::new(
            &format!("{key}.{index}.{}", e.field),
            e.message,
        ))
    }
}

/// A number the vendor may send as a string (`"15702"`).
fn lenient_number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `value` percent-encoded for a query string.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_starts_at_the_oldest_open_incident_else_the_newest() {
        let mut r = Resume::default();
        assert_eq!(r.cursor(5).since, Some(5));
        r.see(10, false);
        r.see(30, false);
        assert_eq!(r.cursor(5).since, Some(30));
        r.see(20, true);
        r.see(25, true);
        assert_eq!(r.cursor(5).since, Some(20));
    }

    #[test]
    fn numbers_and_queries() {
        assert_eq!(lenient_number(&Value::from("15702")), Some(15702));
        assert_eq!(lenient_number(&Value::from(60503)), Some(60503));
        assert_eq!(lenient_number(&Value::Null), None);
        assert_eq!(encode("createdAt>=5 x"), "createdAt%3E%3D5%20x");
    }
}
