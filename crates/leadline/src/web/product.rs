//! `/api/v1/product` (the family's report) and `POST /api/v1/events` (product analytics
//! events, write scope; users are pseudonymised before anything is stored).

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use leadline_sources::import::Format;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::api::{Imported, given, items_as_ndjson, refused};
use super::error::AppError;
use leadline_metrics::window::By;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before `until`].
    since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest event].
    until: Option<String>,
    /// `week` or `month`: a series of results, one per period.
    by: Option<String>,
}

/// Activation, time to value, feature usage and stickiness, as `leadline product --format
/// json`.
#[utoipa::path(get, path = "/api/v1/product", tag = "metrics", params(ProductQuery),
    responses((status = 200, description = "Product report (object, or array with `by`)", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn product(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ProductQuery>,
) -> Result<Response, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let query = leadline_metrics::product::Query {
        since: nonempty(q.since),
        until: nonempty(q.until),
        by: given::<By>(q.by.as_deref())?,
    };
    let reports =
        leadline_metrics::product::compute(&state.store, &query, &state.settings.product).await?;
    Ok(match query.by {
        Some(_) => Json(&reports).into_response(),
        None => Json(&reports[0]).into_response(),
    })
}

/// Stores product events: one object, an array, or Segment's `{"batch": [...]}`, each in
/// leadline's shape (`time, user, event`, optional `properties`, `id`) or as Segment or
/// PostHog send them. Any bad item refuses the whole request; ids make a retry harmless.
#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    request_body(content = Object, description = "An event, an array of them, or {\"batch\": [...]}"),
    responses((status = 200, body = Imported), (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = ["write"])))]
pub async fn post_events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Imported>, AppError> {
    let body = super::body::read(&state.bodies, &headers, body).await?;
    let body = unbatch(&body)?;
    let parsed =
        leadline_sources::product::events("request", &items_as_ndjson(&body)?, Format::Ndjson)
            .map_err(refused)?;
    let key = state.store.pseudonym_key().await?;
    let rows: Vec<_> = parsed
        .events
        .into_iter()
        .map(|raw| leadline_core::product::stored(&key, raw))
        .collect();
    let counts = state.store.insert_product_events(&rows).await?;
    Ok(Json(Imported::of(counts)))
}

/// Segment's batch envelope `{"batch": [...], "context": …}` opened to its array; anything
/// else as it came.
fn unbatch(body: &[u8]) -> Result<Vec<u8>, AppError> {
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Ok(body.to_vec());
    };
    match map.remove("batch") {
        Some(batch @ serde_json::Value::Array(_)) => Ok(batch.to_string().into_bytes()),
        Some(_) => Err(AppError::bad_request("batch is not an array")),
        None => Ok(body.to_vec()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OkrQuery {
    /// Only objectives of this period (as written: 2026-Q3).
    period: Option<String>,
    /// Evaluate as of this instant [default: now].
    at: Option<String>,
}

/// Every objective with its key results computed, as `leadline okr status --format json`.
#[utoipa::path(get, path = "/api/v1/okrs", tag = "metrics", params(OkrQuery),
    responses((status = 200, description = "Array of objectives", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn okrs(
    State(state): State<Arc<AppState>>,
    Query(q): Query<OkrQuery>,
) -> Result<Response, AppError> {
    let at = match q.at.as_deref().filter(|s| !s.is_empty()) {
        Some(v) => leadline_metrics::window::parse_instant("at", v)?,
        None => super::now(),
    };
    let objectives = leadline_metrics::okrs::load(&state.settings.okrs)?;
    let checkins = state.store.checkins().await?;
    let slo_reader = state.slo_reader();
    let ctx = state.ctx(&slo_reader);
    let gathered = Some(state.gathered().await?);
    let period = q.period.filter(|p| !p.is_empty());
    let found = leadline_metrics::okrs::status(
        &ctx,
        gathered,
        &objectives,
        &checkins,
        period.as_deref(),
        at,
    )
    .await?;
    Ok(Json(found).into_response())
}

/// A check-in's body: a confidence from 0 to 10 and an optional note.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckinBody {
    confidence: i64,
    note: Option<String>,
}

/// Records a check-in on a key result: `{"confidence": 0-10, "note": "…"}`.
#[utoipa::path(post, path = "/api/v1/okrs/{key_result}/checkins", tag = "events",
    params(("key_result" = String, Path, description = "The key result's id (O1.KR1)")),
    request_body(content = Object, description = "{\"confidence\": 7, \"note\": \"…\"}"),
    responses((status = 200, description = "Recorded", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = ["write"])))]
pub async fn checkin(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(key_result): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, AppError> {
    let body = super::body::read(&state.bodies, &headers, body).await?;
    let c: CheckinBody = serde_json::from_slice(&body)
        .map_err(|e| AppError::bad_request(format!("the request body is not a check-in: {e}")))?;
    if !(0..=10).contains(&c.confidence) {
        return Err(AppError::bad_request(
            "confidence: expected 0 (no chance) to 10 (certain)",
        ));
    }
    let objectives = leadline_metrics::okrs::load(&state.settings.okrs)?;
    if !objectives
        .iter()
        .flat_map(|o| &o.key_results)
        .any(|k| k.id == key_result)
    {
        return Err(AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("no key result {key_result:?} in the OKRs file"),
        ));
    }
    state
        .store
        .add_checkin(&leadline_core::store::Checkin {
            key_result: key_result.clone(),
            at: super::now(),
            confidence: c.confidence,
            note: c.note.clone(),
        })
        .await?;
    Ok(Json(serde_json::json!({
        "key_result": key_result, "confidence": c.confidence, "note": c.note,
    })))
}
