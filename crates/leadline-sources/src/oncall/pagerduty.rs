//! `leadline ingest pagerduty`: incidents from PagerDuty's REST API v2 (`GET /incidents`,
//! offset-paginated with `more`, at most 10 000 rows deep and six months wide per query), each
//! with its log entries (newest first) for when it was acknowledged and resolved.
//!
//! | incident field | from |
//! |---|---|
//! | id | `id` |
//! | service | `service.summary` |
//! | opened_at | `created_at` |
//! | acknowledged_at | the earliest `acknowledge_log_entry` |
//! | resolved_at | the `resolve_log_entry`, else `resolved_at`, else `last_status_change_at` of a resolved incident |
//! | severity | `priority.summary` (P1…P5) when set, else `urgency` (high, low) |
//! | fingerprint | `incident_key` |
//! | title | `title` |

use leadline_core::events::Events;
use leadline_core::model::{Incident, Millis};
use serde_json::Value;

use super::{Cursor, Resume, Synced, at_item, encode, items, page};
use crate::forge::{Client, ForgeError, Options, Sink};
use crate::webhook::{Doc, MappingError};

const LIMIT: usize = 100;
/// PagerDuty refuses offsets past 10 000; a query moves its start instead.
const MAX_OFFSET: usize = 10_000 - LIMIT;
/// Queries span at most this much (PagerDuty allows six months).
const SPAN_MS: Millis = 90 * 86_400_000;

/// A client for `api_url` with PagerDuty's media type and `Token token=…` authorisation.
pub fn options(api_url: &str, token: &str) -> Options {
    Options {
        authorization: Some(format!("Token token={token}")),
        headers: vec![("Accept", "application/vnd.pagerduty+json;version=2")],
        ..Options::new(api_url, None)
    }
}

/// Syncs incidents created from the cursor's `since` (else `start`) up to `now`.
pub async fn sync(
    client: &Client,
    cursor: Cursor,
    start: Millis,
    now: Millis,
    sink: &mut impl Sink,
) -> Result<Synced, ForgeError> {
    let mut synced = Synced {
        resumed: cursor.since.is_some(),
        ..Synced::default()
    };
    let mut resume = Resume::default();
    let mut from = cursor.since.unwrap_or(start);
    while from <= now {
        let until = (from + SPAN_MS).min(now + 1);
        let mut offset = 0;
        loop {
            let url = client.url(&format!(
                "/incidents?since={}&until={}&sort_by=created_at%3Aasc&time_zone=UTC&limit={LIMIT}&offset={offset}",
                encode(&rfc3339(from)),
                encode(&rfc3339(until))
            ));
            let body = page(client, &url, sink, &mut synced).await?;
            let mut events = Events::default();
            let listed = items(&body, "incidents", &url)?;
            for (i, item) in listed.iter().enumerate() {
                let mut incident = incident(item).map_err(at_item("incidents", i))?;
                if item.get("status").and_then(Value::as_str) != Some("triggered") {
                    lifecycle(client, &mut incident, sink, &mut synced).await?;
                }
                resume.see(incident.opened_at, incident.resolved_at.is_none());
                events.incidents.push(incident);
                synced.incidents += 1;
                sink.progress("PagerDuty incidents", synced.incidents);
            }
            let more = body.get("more").and_then(Value::as_bool).unwrap_or(false);
            let last = events.incidents.last().map(|i| i.opened_at);
            sink.save(events, &resume.json(from))
                .await
                .map_err(ForgeError::Sink)?;
            if !more || listed.is_empty() {
                break;
            }
            // By what was answered: a server may page by fewer than asked.
            offset += listed.len();
            if offset > MAX_OFFSET {
                // Deeper than PagerDuty pages: start the query again at the last one seen.
                from = last.unwrap_or(from);
                offset = 0;
                continue;
            }
        }
        from = until;
    }
    sink.save(Events::default(), &resume.json(now))
        .await
        .map_err(ForgeError::Sink)?;
    Ok(synced)
}

fn rfc3339(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// An incident as listed, before its log entries.
pub fn incident(item: &Value) -> Result<Incident, MappingError> {
    let doc = Doc(item);
    let mut incident = Incident {
        id: doc.get("id").id()?,
        service: doc.get("service.summary").str()?.to_owned(),
        opened_at: doc.get("created_at").time()?,
        title: doc.get("title").opt_str()?.map(str::to_owned),
        fingerprint: doc.get("incident_key").opt_str()?.map(str::to_owned),
        ..Incident::default()
    };
    incident.severity = match doc.get("priority.summary").opt_str()? {
        Some(p) => Some(p.to_owned()),
        None => doc.get("urgency").opt_str()?.map(str::to_owned),
    };
    if doc.get("status").str()? == "resolved" {
        incident.resolved_at = match doc.get("resolved_at").opt_time()? {
            Some(at) => Some(at),
            None => doc.get("last_status_change_at").opt_time()?,
        };
    }
    Ok(incident)
}

/// Fills acknowledged and resolved times from the incident's log entries (all pages).
async fn lifecycle(
    client: &Client,
    incident: &mut Incident,
    sink: &mut impl Sink,
    synced: &mut Synced,
) -> Result<(), ForgeError> {
    let mut offset = 0;
    let (mut acknowledged, mut resolved): (Option<Millis>, Option<Millis>) = (None, None);
    loop {
        let url = client.url(&format!(
            "/incidents/{}/log_entries?is_overview=true&time_zone=UTC&limit={LIMIT}&offset={offset}",
            encode(&incident.id)
        ));
        let body = page(client, &url, sink, synced).await?;
        let entries = items(&body, "log_entries", &url)?;
        for (i, entry) in entries.iter().enumerate() {
            let doc = Doc(entry);
            let at = || {
                doc.get("created_at")
                    .time()
                    .map_err(at_item("log_entries", i))
            };
            match doc
                .get("type")
                .opt_str()
                .map_err(at_item("log_entries", i))?
            {
                // Newest first: keep the earliest acknowledgement (a re-acknowledgement after
                // an escalation is not when the incident was first acknowledged).
                Some("acknowledge_log_entry") => {
                    let at = at()?;
                    acknowledged = Some(acknowledged.map_or(at, |a| a.min(at)));
                }
                Some("resolve_log_entry") => {
                    let at = at()?;
                    resolved = Some(resolved.map_or(at, |r| r.max(at)));
                }
                _ => {}
            }
        }
        let more = body.get("more").and_then(Value::as_bool).unwrap_or(false);
        if !more || entries.is_empty() || offset >= MAX_OFFSET {
            break;
        }
        offset += entries.len();
    }
    incident.acknowledged_at = acknowledged;
    if resolved.is_some() {
        incident.resolved_at = resolved;
    }
    // A clock skew between PagerDuty's records must not make an impossible incident.
    if incident.resolved_at.is_some_and(|r| r < incident.opened_at) {
        incident.resolved_at = Some(incident.opened_at);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_wins_over_urgency_and_resolution_falls_back() {
        let listed = serde_json::json!({
            "id": "PT4KHLK", "type": "incident", "title": "The server is on fire.",
            "created_at": "2015-10-06T21:30:42Z", "status": "resolved",
            "incident_key": "baf7cf21b1da41b4b0221008339ff357",
            "service": {"id": "PIJ90N7", "type": "service_reference", "summary": "My Mail Service"},
            "priority": {"id": "P53ZZH5", "type": "priority_reference", "summary": "P2"},
            "urgency": "high", "last_status_change_at": "2015-10-06T21:38:23Z"
        });
        let i = incident(&listed).unwrap();
        assert_eq!(
            (
                i.service.as_str(),
                i.severity.as_deref(),
                i.fingerprint.as_deref()
            ),
            (
                "My Mail Service",
                Some("P2"),
                Some("baf7cf21b1da41b4b0221008339ff357")
            )
        );
        // `date -u -d 2015-10-06T21:38:23Z +%s` is 1444167503.
        assert_eq!(i.resolved_at, Some(1_444_167_503_000));
        let mut low = listed.clone();
        low["priority"] = Value::Null;
        low["urgency"] = "low".into();
        low["status"] = "acknowledged".into();
        let i = incident(&low).unwrap();
        assert_eq!((i.severity.as_deref(), i.resolved_at), (Some("low"), None));
        let mut broken = listed;
        broken["created_at"] = "yesterday".into();
        assert_eq!(incident(&broken).unwrap_err().field, "created_at");
    }
}
