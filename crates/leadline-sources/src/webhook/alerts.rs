//! The generic incident webhook: alerts from Alertmanager, PagerDuty (v3 webhooks), Opsgenie,
//! or leadline's own shape, told apart by their fields. docs/webhooks.md documents the field
//! mapping; an incident's id is the alert's own (fingerprint, incident id, alert id), so an open
//! and a resolve of the same alert meet in one row.
//!
//! | shape | recognised by | id | service | opened | acknowledged | resolved |
//! |---|---|---|---|---|---|---|
//! | Alertmanager | `alerts` array | `fingerprint` | `labels.service`, else `labels.job` | `startsAt` (also the start of impact) | — | `endsAt` when `status` is `resolved` |
//! | PagerDuty v3 | `event.event_type` | `event.data.id` | `event.data.service.summary` | `event.data.created_at` | `event.occurred_at` of `incident.acknowledged` | `event.occurred_at` of `incident.resolved` |
//! | Opsgenie | `action` and `alert` | `alert.alertId` | `alert.entity` | `alert.createdAt` (ms) | `alert.updatedAt` (ms) of `Acknowledge` | `alert.updatedAt` (ms) of `Close` |
//! | leadline | `id` and `service` | `id` | `service` | `opened_at` | `acknowledged_at` | `resolved_at` |
//!
//! Severity is kept as sent (Alertmanager `labels.severity`, PagerDuty `event.data.priority.summary`
//! else `event.data.urgency`, Opsgenie `alert.priority`) and normalised when counted. The
//! fingerprint is Alertmanager's `fingerprint`, PagerDuty's `event.data.incident_key` and
//! Opsgenie's `alert.alias` (their dedup keys).

use leadline_core::events::{Events, Milestone, Stage};
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
        ..Incident::default()
    }
}

/// Events holding one milestone.
fn milestone(id: String, stage: Stage, at: Millis) -> Events {
    Events {
        milestones: vec![Milestone { id, stage, at }],
        ..Events::default()
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
            let fingerprint = a.get("fingerprint").str()?.to_owned();
            let mut row = incident(fingerprint.clone(), service, a.get("startsAt").time()?);
            row.started_at = Some(row.opened_at);
            row.fingerprint = Some(fingerprint);
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
        "incident.acknowledged" => {
            return Ok(Mapping::stored(milestone(id, Stage::Acknowledged, at)));
        }
        other => return Ok(Mapping::ignored(format!("PagerDuty {other}"))),
    }
    let resolved = (kind == "incident.resolved").then_some(at);
    let Some(opened_at) = doc.get("event.data.created_at").opt_time()? else {
        // A resolve that does not say when the incident opened can only close a known one.
        return Ok(match resolved {
            Some(resolved_at) => Mapping::stored(milestone(id, Stage::Resolved, resolved_at)),
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
    // The priority (P1…P5) says more than the urgency (high, low) when the account uses it.
    row.severity = match doc.get("event.data.priority.summary").opt_str()? {
        Some(p) => Some(p.to_owned()),
        None => doc.get("event.data.urgency").opt_str()?.map(str::to_owned),
    };
    row.title = doc.get("event.data.title").opt_str()?.map(str::to_owned);
    row.fingerprint = doc
        .get("event.data.incident_key")
        .opt_str()?
        .map(str::to_owned);
    Ok(Mapping::stored(Events {
        incidents: vec![row],
        ..Events::default()
    }))
}

fn opsgenie(doc: &Doc<'_>) -> Mapped {
    let action = doc.get("action").str()?;
    let id = doc.get("alert.alertId").id()?;
    let stage = match action {
        "Create" => {
            let mut row = incident(
                id,
                doc.get("alert.entity").str()?,
                doc.get("alert.createdAt").epoch_millis()?,
            );
            row.severity = doc.get("alert.priority").opt_str()?.map(str::to_owned);
            row.title = doc.get("alert.message").opt_str()?.map(str::to_owned);
            row.fingerprint = doc.get("alert.alias").opt_str()?.map(str::to_owned);
            return Ok(Mapping::stored(Events {
                incidents: vec![row],
                ..Events::default()
            }));
        }
        "Acknowledge" => Stage::Acknowledged,
        "Close" => Stage::Resolved,
        other => return Ok(Mapping::ignored(format!("Opsgenie {other}"))),
    };
    let at = doc.get("alert.updatedAt").epoch_millis()?;
    let created = doc.get("alert.createdAt");
    if stage == Stage::Resolved && created.exists() && at < created.epoch_millis()? {
        return Err(MappingError::new(
            "alert.updatedAt",
            "is before alert.createdAt",
        ));
    }
    Ok(Mapping::stored(milestone(id, stage, at)))
}

/// leadline's own shape: the incident import's fields; `id` with any of `acknowledged_at`,
/// `mitigated_at` and `resolved_at` but no `opened_at` updates a known incident.
fn leadline(doc: &Doc<'_>) -> Mapped {
    let id = doc.get("id").id()?;
    if !doc.get("opened_at").exists() {
        let mut events = Events::default();
        for stage in Stage::ALL {
            if let Some(at) = doc.get(stage.column()).opt_time()? {
                events.milestones.push(Milestone {
                    id: id.clone(),
                    stage,
                    at,
                });
            }
        }
        if events.milestones.is_empty() {
            return Err(MappingError::new(
                "opened_at",
                "is missing (an update of a known incident needs acknowledged_at, mitigated_at or resolved_at)",
            ));
        }
        return Ok(Mapping::stored(events));
    }
    let mut row = incident(id, doc.get("service").str()?, doc.get("opened_at").time()?);
    row.resolved_at = doc.get("resolved_at").opt_time()?;
    row.started_at = doc.get("started_at").opt_time()?;
    row.detected_at = doc.get("detected_at").opt_time()?;
    row.acknowledged_at = doc.get("acknowledged_at").opt_time()?;
    row.mitigated_at = doc.get("mitigated_at").opt_time()?;
    if let Some(problem) = row.out_of_order().first() {
        return Err(MappingError::new(problem.field, problem.message));
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
    row.fingerprint = text("fingerprint")?;
    Ok(Mapping::stored(Events {
        incidents: vec![row],
        ..Events::default()
    }))
}
