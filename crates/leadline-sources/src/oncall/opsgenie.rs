//! `leadline ingest opsgenie`: alerts from Opsgenie's Alert API v2 (`GET /v2/alerts`, oldest
//! first by `createdAt`, offset-paginated with `paging.next`, at most 20 000 rows deep per
//! query), US (`api.opsgenie.com`) or EU (`api.eu.opsgenie.com`) instance.
//!
//! | incident field | from |
//! |---|---|
//! | id | `id` |
//! | service | `entity`, else a tag `service:NAME`, else `source` |
//! | opened_at | `createdAt` |
//! | acknowledged_at | `createdAt` + `report.ackTime` (ms) when `acknowledged` |
//! | resolved_at | `createdAt` + `report.closeTime` (ms) when `status` is `closed`, else `updatedAt` |
//! | severity | `priority` (P1…P5) |
//! | fingerprint | `alias` |
//! | title | `message` |

use leadline_core::events::Events;
use leadline_core::model::{Incident, Millis};
use serde_json::Value;

use super::{Cursor, Resume, Synced, at_item, encode, items, lenient_number, page};
use crate::forge::{Client, ForgeError, Options, Sink};
use crate::webhook::{Doc, MappingError};

pub const US: &str = "https://api.opsgenie.com";
pub const EU: &str = "https://api.eu.opsgenie.com";

const LIMIT: usize = 100;
/// Opsgenie refuses offset + limit past 20 000; a query moves its start instead.
const MAX_OFFSET: usize = 20_000 - LIMIT;

/// A client for `api_url` with `GenieKey …` authorisation.
pub fn options(api_url: &str, key: &str) -> Options {
    Options {
        authorization: Some(format!("GenieKey {key}")),
        headers: vec![("Accept", "application/json")],
        ..Options::new(api_url, None)
    }
}

/// Syncs alerts created from the cursor's `since` (else `start`).
pub async fn sync(
    client: &Client,
    cursor: Cursor,
    start: Millis,
    sink: &mut impl Sink,
) -> Result<Synced, ForgeError> {
    let mut synced = Synced {
        resumed: cursor.since.is_some(),
        ..Synced::default()
    };
    let mut resume = Resume::default();
    let mut from = cursor.since.unwrap_or(start);
    let mut offset = 0;
    loop {
        let url = client.url(&format!(
            "/v2/alerts?query={}&sort=createdAt&order=asc&limit={LIMIT}&offset={offset}",
            encode(&format!("createdAt>={from}"))
        ));
        let body = page(client, &url, sink, &mut synced).await?;
        let listed = items(&body, "data", &url)?;
        let mut events = Events::default();
        for (i, item) in listed.iter().enumerate() {
            let incident = incident(item).map_err(at_item("data", i))?;
            resume.see(incident.opened_at, incident.resolved_at.is_none());
            events.incidents.push(incident);
            synced.incidents += 1;
            sink.progress("Opsgenie alerts", synced.incidents);
        }
        let last = events.incidents.last().map(|i| i.opened_at);
        let more = body
            .get("paging")
            .and_then(|p| p.get("next"))
            .is_some_and(|n| !n.is_null());
        sink.save(events, &resume.json(from))
            .await
            .map_err(ForgeError::Sink)?;
        if !more || listed.is_empty() {
            break;
        }
        // By what was answered: a server may page by fewer than asked.
        offset += listed.len();
        if offset > MAX_OFFSET {
            from = last.unwrap_or(from);
            offset = 0;
        }
    }
    sink.save(Events::default(), &resume.json(from))
        .await
        .map_err(ForgeError::Sink)?;
    Ok(synced)
}

/// One listed alert.
pub fn incident(item: &Value) -> Result<Incident, MappingError> {
    let doc = Doc(item);
    let opened_at = doc.get("createdAt").time()?;
    let service = match doc
        .get("entity")
        .opt_str()?
        .filter(|e| !e.trim().is_empty())
    {
        Some(entity) => entity.to_owned(),
        None => tag_service(item)
            .map_or_else(|| doc.get("source").str().map(str::to_owned), Ok)
            .map_err(|_| {
                MappingError::new(
                    "entity",
                    "is missing (and there is no service: tag or source)",
                )
            })?,
    };
    let after = |field: &'static str| -> Result<Option<Millis>, MappingError> {
        match item.get("report").and_then(|r| r.get(field)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match lenient_number(v) {
                Some(ms) if ms >= 0 => Ok(opened_at.checked_add(ms)),
                _ => Err(MappingError::new(
                    &format!("report.{field}"),
                    "is not a non-negative number of milliseconds",
                )),
            },
        }
    };
    let acknowledged = item.get("acknowledged").and_then(Value::as_bool) == Some(true);
    let closed = doc.get("status").opt_str()? == Some("closed");
    let resolved_at = match (closed, after("closeTime")?) {
        (false, _) => None,
        (true, Some(at)) => Some(at),
        (true, None) => Some(doc.get("updatedAt").time()?.max(opened_at)),
    };
    Ok(Incident {
        id: doc.get("id").id()?,
        service,
        opened_at,
        resolved_at,
        acknowledged_at: if acknowledged || closed {
            after("ackTime")?
        } else {
            None
        },
        severity: doc.get("priority").opt_str()?.map(str::to_owned),
        title: doc.get("message").opt_str()?.map(str::to_owned),
        fingerprint: doc.get("alias").opt_str()?.map(str::to_owned),
        ..Incident::default()
    })
}

/// The service a `service:NAME` tag names.
fn tag_service(item: &Value) -> Option<String> {
    item.get("tags")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|t| t.strip_prefix("service:"))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The alert of Opsgenie's "List alerts" documentation, trimmed.
    fn documented() -> Value {
        serde_json::json!({
            "id": "70413a06-38d6-4c85-92b8-5ebc900d42e2", "tinyId": "1791", "alias": "event_573",
            "message": "Our servers are in danger", "status": "closed", "acknowledged": false,
            "isSeen": true, "tags": ["OverwriteQuietHours", "Critical"], "count": 79,
            "lastOccurredAt": "2017-04-24T14:58:37.542Z", "createdAt": "2017-03-21T20:32:52.353Z",
            "updatedAt": "2017-04-24T14:58:37.557Z", "source": "Isengard",
            "owner": "morpheus@opsgenie.com", "priority": "P4",
            "report": {"ackTime": 15702, "closeTime": 60503, "acknowledgedBy": "agent_smith@opsgenie.com",
                       "closedBy": "neo@opsgenie.com"}
        })
    }

    #[test]
    fn times_are_offsets_from_creation_and_services_have_fallbacks() {
        let i = incident(&documented()).unwrap();
        // `date -u -d 2017-03-21T20:32:52.353Z +%s%3N` is 1490128372353.
        let created = 1_490_128_372_353;
        assert_eq!(i.opened_at, created);
        assert_eq!(i.acknowledged_at, Some(created + 15_702));
        assert_eq!(i.resolved_at, Some(created + 60_503));
        assert_eq!(i.service, "Isengard");
        assert_eq!(
            (i.severity.as_deref(), i.fingerprint.as_deref()),
            (Some("P4"), Some("event_573"))
        );
        let mut tagged = documented();
        tagged["tags"] = serde_json::json!(["service:checkout"]);
        tagged["report"]["ackTime"] = "2000".into();
        tagged["status"] = "open".into();
        tagged["acknowledged"] = true.into();
        let i = incident(&tagged).unwrap();
        assert_eq!(i.service, "checkout");
        assert_eq!(
            (i.acknowledged_at, i.resolved_at),
            (Some(created + 2000), None)
        );
        tagged["report"]["ackTime"] = (-5).into();
        assert_eq!(incident(&tagged).unwrap_err().field, "report.ackTime");
    }
}
