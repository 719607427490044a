//! `POST /webhooks/{github,gitlab,incidents}`: authenticate, map, store the delivery with its
//! events in one transaction. Refused requests (bad signature, missing headers, malformed or
//! unmappable bodies) store nothing, not even the delivery. Everything the headers can settle
//! (token, scope, a well-formed signature header, ids, declared length) is settled before the
//! body is read, and "stored" is answered only after the transaction committed.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use leadline_core::events::{Delivery, Scope};
use leadline_sources::webhook::{Mapping, MappingError, github, gitlab};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::AppError;
use super::{AppState, auth, now};
use crate::delivery::{self, ALERTS, GITHUB, GITLAB};

/// What a delivery became.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    /// `stored`, `ignored` or `duplicate`.
    pub outcome: String,
    pub detail: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Delivery ids and event names are short; longer values are refused, never stored or logged.
const MAX_HEADER_CHARS: usize = 200;

fn required<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, AppError> {
    let value = header(headers, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::bad_request(format!("missing header {name}")))?;
    if value.len() > MAX_HEADER_CHARS {
        return Err(AppError::bad_request(format!(
            "header {name} is longer than {MAX_HEADER_CHARS} characters"
        )));
    }
    Ok(value)
}

/// `sha256=` and 64 hexadecimal digits: the only form GitHub sends.
fn well_formed_signature(value: &str) -> bool {
    value
        .strip_prefix("sha256=")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Counts a delivery that was refused before anything was stored.
fn refused(source: &str, event: &str, error: AppError) -> AppError {
    super::metrics::delivery(source, event, "refused");
    error
}

fn unmappable(e: MappingError) -> AppError {
    let status = if e.field.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    AppError::new(status, e.to_string())
}

#[utoipa::path(post, path = "/webhooks/github", tag = "webhooks",
    request_body(content = String, description = "A GitHub webhook body, signed with X-Hub-Signature-256"),
    responses((status = 200, body = Accepted), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody), (status = 413), (status = 422, body = super::error::ErrorBody)))]
pub async fn github(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Accepted>, AppError> {
    let event = header(&headers, "x-github-event").unwrap_or("");
    let event = &event[..event.len().min(MAX_HEADER_CHARS)];
    let Some(secret) = &state.server.github_secret else {
        return Err(refused(
            GITHUB,
            event,
            AppError::new(
                StatusCode::NOT_FOUND,
                "GitHub webhooks are off: set LEADLINE_GITHUB_WEBHOOK_SECRET or [github] webhook_secret",
            ),
        ));
    };
    let signature = header(&headers, "x-hub-signature-256").unwrap_or("");
    let wrong = || {
        refused(
            GITHUB,
            event,
            AppError::unauthorized("missing or wrong X-Hub-Signature-256"),
        )
    };
    if !well_formed_signature(signature) {
        return Err(wrong());
    }
    let event = required(&headers, "x-github-event").map_err(|e| refused(GITHUB, "", e))?;
    let id = required(&headers, "x-github-delivery").map_err(|e| refused(GITHUB, event, e))?;
    let body = read(&state, &headers, body, GITHUB, event).await?;
    if !github::signature_is_valid(secret.as_bytes(), &body, signature) {
        return Err(wrong());
    }
    accept(&state, GITHUB, id, event, body).await
}

/// The body of an authenticated (or, for GitHub, well-signed-looking) request.
async fn read(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    source: &str,
    event: &str,
) -> Result<Bytes, AppError> {
    super::body::read(&state.bodies, headers, body)
        .await
        .map_err(|e| refused(source, event, e))
}

#[utoipa::path(post, path = "/webhooks/gitlab", tag = "webhooks",
    request_body(content = String, description = "A GitLab webhook body with X-Gitlab-Token"),
    responses((status = 200, body = Accepted), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody), (status = 413), (status = 422, body = super::error::ErrorBody)))]
pub async fn gitlab(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Accepted>, AppError> {
    let event = header(&headers, "x-gitlab-event").unwrap_or("");
    let event = &event[..event.len().min(MAX_HEADER_CHARS)];
    let Some(expected) = &state.server.gitlab_token else {
        return Err(refused(
            GITLAB,
            event,
            AppError::new(
                StatusCode::NOT_FOUND,
                "GitLab webhooks are off: set LEADLINE_GITLAB_WEBHOOK_TOKEN or [gitlab] webhook_token",
            ),
        ));
    };
    let given = header(&headers, "x-gitlab-token").unwrap_or("");
    if !gitlab::token_is_valid(expected.as_bytes(), given.as_bytes()) {
        return Err(refused(
            GITLAB,
            event,
            AppError::unauthorized("missing or wrong X-Gitlab-Token"),
        ));
    }
    let event = required(&headers, "x-gitlab-event").map_err(|e| refused(GITLAB, "", e))?;
    let id = required(&headers, "x-gitlab-event-uuid").map_err(|e| refused(GITLAB, event, e))?;
    let body = read(&state, &headers, body, GITLAB, event).await?;
    accept(&state, GITLAB, id, event, body).await
}

#[utoipa::path(post, path = "/webhooks/incidents", tag = "webhooks",
    request_body(content = String, description = "An Alertmanager, PagerDuty v3, Opsgenie or leadline-shaped alert"),
    responses((status = 200, body = Accepted), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = ["write"])))]
pub async fn incidents(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Accepted>, AppError> {
    auth::require(&state, &headers, Scope::Write)
        .await
        .map_err(|e| refused(ALERTS, "alert", e))?;
    let named = ["idempotency-key", "x-request-id"]
        .into_iter()
        .find(|name| header(&headers, name).is_some_and(|v| !v.is_empty()));
    let given = match named {
        Some(name) => Some(
            required(&headers, name)
                .map_err(|e| refused(ALERTS, "alert", e))?
                .to_owned(),
        ),
        None => None,
    };
    let body = read(&state, &headers, body, ALERTS, "alert").await?;
    // Senders without a delivery id are deduplicated by the body itself.
    let id = given.unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(&body))));
    accept(&state, ALERTS, &id, "alert", body).await
}

async fn accept(
    state: &AppState,
    source: &str,
    id: &str,
    event: &str,
    body: Bytes,
) -> Result<Json<Accepted>, AppError> {
    let received_at = now();
    let Mapping {
        outcome,
        detail,
        events,
    } = delivery::map(source, event, &body, received_at, &state.server)
        .map_err(|e| refused(source, event, unmappable(e)))?;
    let d = Delivery {
        source: source.to_owned(),
        id: id.to_owned(),
        event: event.to_owned(),
        received_at,
        body: body.to_vec(),
        outcome,
        detail: detail.clone(),
    };
    let (outcome, detail) = if state.store.apply_delivery(&d, &events, false).await? {
        if !events.is_empty() {
            state.stored().await;
        }
        fetch_pushed(state, source, event, &body).await;
        (outcome.as_str(), detail)
    } else {
        (
            "duplicate",
            format!("delivery {id} was received before; nothing stored"),
        )
    };
    super::metrics::delivery(source, event, outcome);
    tracing::info!(source, event, delivery = id, outcome, "{detail}");
    Ok(Json(Accepted {
        outcome: outcome.to_owned(),
        detail,
    }))
}

/// A push to a fleet repository arms its fetch at once, ahead of the schedule. A failure is
/// logged, not answered: the delivery itself is stored, and the schedule fetches it anyway.
async fn fetch_pushed(state: &AppState, source: &str, event: &str, body: &[u8]) {
    let fleet = &state.settings.fleet;
    if fleet.repositories.is_empty() {
        return;
    }
    let Some(target) = pushed_repository(source, event, body) else {
        return;
    };
    match crate::fleet::arm_pushed(&state.store, fleet, &target, now()).await {
        Ok(true) => tracing::info!("push to {target}: its fetch is queued"),
        Ok(false) => {}
        Err(e) => tracing::warn!("push to {target}: cannot queue its fetch: {e:#}"),
    }
}

/// `github:OWNER/REPO` or `gitlab:GROUP/PROJECT` of a push delivery.
fn pushed_repository(source: &str, event: &str, body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let name = match (source, event) {
        (GITHUB, "push") => value.pointer("/repository/full_name"),
        (GITLAB, "Push Hook" | "Tag Push Hook") => value.pointer("/project/path_with_namespace"),
        _ => None,
    }?;
    Some(format!("{source}:{}", name.as_str()?))
}
