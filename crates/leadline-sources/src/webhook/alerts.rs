//! The generic incident webhook: alerts from Alertmanager, PagerDuty (v3 webhooks), Opsgenie,
//! or leadline's own shape, told apart by their fields. docs/webhooks.md documents the field
//! mapping; an incident's id is the alert's own (fingerprint, incident id, alert id), so an open
//! and a resolve of the same alert meet in one row.
//!
//! | shape | recognised by | id | service | opened | resolved |
//! |---|---|---|---|---|---|
//! | Alertmanager | `alerts` array | `fingerprint` | `labels.service`, else `labels.job` | `startsAt` | `endsAt` when `status` is `resolved` |
//! | PagerDuty v3 | `event.event_type` | `event.data.id` | `event.data.service.summary` | `event.data.created_at` | `event.occurred_at` of `incident.resolved` |
//! | Opsgenie | `action` and `alert` | `alert.alertId` | `alert.entity` | `alert.createdAt` (ms) | `alert.updatedAt` (ms) of `Close` |
//! | leadline | `id` and `service` | `id` | `service` | `opened_at` | `resolved_at` |

use leadline_core::events::{Events, Resolution};
use leadline_core::model::{Incident, Millis};

use super::{Doc, Mapped, Mapping, MappingError, parse};

/// Maps one alert delivery.
pub fn map(body: &[u8]) -> Mapped {
    let value = parse(body)?;
    let doc = Doc(&value);
    if doc.get("alerts").exists() {
        alertmanager(&doc)
    } else if doc.get("event.event_type").exists() {
        pagerduty(&doc)
    } else if doc.get("action").exists() && doc.get("alert").exists() {
        opsgenie(&doc)
    } else if doc.get("id").exists() {
        leadline(&doc)
    } else {
        Err(MappingError::new(
            "",
            "not an alert leadline knows: expected Alertmanager's `alerts`, PagerDuty's `event`, \
             Opsgenie's `action` and `alert`, or leadline's `id`, `service` and `opened_at`",
        ))
    }
}

fn incident(id: String, service: &str, opened_at: Millis) -> Incident {
    Incident {
        id,
        service: service.to_owned(),
        opened_at,
        resolved_at: None,
        severity: None,
        title: None,
        cause_deployment: None,
        cause_sha: None,
        postmortem_url: None,
        fix_deployment: None,
        fix_sha: None,
    }
}

/// Prefixes a nested field's path with the array item it came from.
fn within(prefix: &str) -> impl Fn(MappingError) -> MappingError + '_ {
    move |e| MappingError::new(&format!("{prefix}.{}", e.field), e.message)
}

fn alertmanager(doc: &Doc<'_>) -> Mapped {
    let mut incidents = Vec::new();
    for (i, alert) in doc.get("alerts").array()?.iter().enumerate() {
        let prefix = format!("alerts.{i}");
        let a = Doc(alert);
        let one = || -> Result<Incident, MappingError> {
            let service = match a.get("labels.service").opt_str()? {
                Some(s) => s,
                None => a.get("labels.job").str().map_err(|_| {
                    MappingError::new("labels.service", "is missing (and so is labels.job)")
                })?,
            };
            let mut row = incident(
                a.get("fingerprint").str()?.to_owned(),
                service,
                a.get("startsAt").time()?,
            );
            if a.get("status").str()? == "resolved" {
                let ends = a.get("endsAt").time()?;
                if ends < row.opened_at {
                    return Err(MappingError::new("endsAt", "is before startsAt"));
                }
                row.resolved_at = Some(ends);
            }
            row.severity = a.get("labels.severity").opt_str()?.map(str::to_owned);
            row.title = match a.get("annotations.summary").opt_str()? {
                Some(s) => Some(s.to_owned()),
                None => a.get("labels.alertname").opt_str()?.map(str::to_owned),
            };
            Ok(row)
        };
        incidents.push(one().map_err(within(&prefix))?);
    }
    if incidents.is_empty() {
        return Ok(Mapping::ignored("no alerts"));
    }
    Ok(Mapping::stored(Events {
        incidents,
        ..Events::default()
    }))
}

fn pagerduty(doc: &Doc<'_>) -> Mapped {
    let kind = doc.get("event.event_type").str()?;
    let id = doc.get("event.data.id").id()?;
    let at = doc.get("event.occurred_at").time()?;
    match kind {
        "incident.triggered" | "incident.resolved" => {}
        other => return Ok(Mapping::ignored(format!("PagerDuty {other}"))),
    }
    let resolved = (kind == "incident.resolved").then_some(at);
    let Some(opened_at) = doc.get("event.data.created_at").opt_time()? else {
        // A resolve that does not say when the incident opened can only close a known one.
        return Ok(match resolved {
            Some(resolved_at) => Mapping::stored(Events {
                resolutions: vec![Resolution { id, resolved_at }],
                ..Events::default()
            }),
            None => Mapping::stored(Events {
                incidents: vec![incident(
                    id,
                    doc.get("event.data.service.summary").str()?,
                    at,
                )],
                ..Events::default()
            }),
        });
    };
    if resolved.is_some_and(|r| r < opened_at) {
        return Err(MappingError::new(
            "event.occurred_at",
            "resolves the incident before event.data.created_at",
        ));
    }
    let mut row = incident(id, doc.get("event.data.service.summary").str()?, opened_at);
    row.resolved_at = resolved;
    row.severity = doc.get("event.data.urgency").opt_str()?.map(str::to_owned);
    row.title = doc.get("event.data.title").opt_str()?.map(str::to_owned);
    Ok(Mapping::stored(Events {
        incidents: vec![row],
        ..Events::default()
    }))
}

fn opsgenie(doc: &Doc<'_>) -> Mapped {
    let action = doc.get("action").str()?;
    let id = doc.get("alert.alertId").id()?;
    match action {
        "Create" => {
            let mut row = incident(
                id,
                doc.get("alert.entity").str()?,
                doc.get("alert.createdAt").epoch_millis()?,
            );
            row.severity = doc.get("alert.priority").opt_str()?.map(str::to_owned);
            row.title = doc.get("alert.message").opt_str()?.map(str::to_owned);
            Ok(Mapping::stored(Events {
                incidents: vec![row],
                ..Events::default()
            }))
        }
        "Close" => {
            let resolved_at = doc.get("alert.updatedAt").epoch_millis()?;
            let created = doc.get("alert.createdAt");
            if created.exists() && resolved_at < created.epoch_millis()? {
                return Err(MappingError::new(
                    "alert.updatedAt",
                    "is before alert.createdAt",
                ));
            }
            Ok(Mapping::stored(Events {
                resolutions: vec![Resolution { id, resolved_at }],
                ..Events::default()
            }))
        }
        other => Ok(Mapping::ignored(format!("Opsgenie {other}"))),
    }
}

/// leadline's own shape: the incident import's fields; `id` and `resolved_at` alone resolve.
fn leadline(doc: &Doc<'_>) -> Mapped {
    let id = doc.get("id").id()?;
    if !doc.get("opened_at").exists() {
        let resolved_at = doc.get("resolved_at").time().map_err(|_| {
            MappingError::new("opened_at", "is missing (a resolve needs resolved_at)")
        })?;
        return Ok(Mapping::stored(Events {
            resolutions: vec![Resolution { id, resolved_at }],
            ..Events::default()
        }));
    }
    let mut row = incident(id, doc.get("service").str()?, doc.get("opened_at").time()?);
    row.resolved_at = doc.get("resolved_at").opt_time()?;
    if let Some(resolved) = row.resolved_at
        && resolved < row.opened_at
    {
        return Err(MappingError::new("resolved_at", "is before opened_at"));
    }
    let text = |field: &'static str| -> Result<Option<String>, MappingError> {
        Ok(doc.get(field).opt_str()?.map(str::to_owned))
    };
    row.severity = text("severity")?;
    row.title = text("title")?;
    row.cause_deployment = text("cause_deployment")?;
    row.cause_sha = text("cause_sha")?;
    row.postmortem_url = text("postmortem_url")?;
    row.fix_deployment = text("fix_deployment")?;
    row.fix_sha = text("fix_sha")?;
    Ok(Mapping::stored(Events {
        incidents: vec![row],
        ..Events::default()
    }))
}
