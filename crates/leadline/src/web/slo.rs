//! The SLO routes: counts posted as `leadline import sli` takes them, and the status and
//! alerts of `leadline slo status|alerts --format json`.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use leadline_metrics::slo::{self, Alert, Status};
use leadline_metrics::window::parse_instant;
use leadline_sources::import::{self, Format};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::api::{Imported, items_as_ndjson, refused};
use super::error::AppError;

/// Stores SLI counts: one object or an array with the fields of `leadline import sli`
/// (`slo, time, good, total`). Any bad item refuses the whole request.
#[utoipa::path(post, path = "/api/v1/sli", tag = "slo",
    request_body(content = Object, description = "A count or an array of them"),
    responses((status = 200, body = Imported), (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = ["write"])))]
pub async fn post_sli(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Imported>, AppError> {
    let body = super::body::read(&state.bodies, &headers, body).await?;
    let rows = import::sli("request", &items_as_ndjson(&body)?, Format::Ndjson).map_err(refused)?;
    let counts = state.store.upsert_sli(&rows).await?;
    Ok(Json(Imported::of(counts)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Only this SLO.
    slo: Option<String>,
    /// The moment: RFC 3339 or YYYY-MM-DD (UTC) [default: now].
    at: Option<String>,
}

/// Each SLO's window, SLI, budget remaining and burn rates at a moment, as `leadline slo
/// status --format json`.
#[utoipa::path(get, path = "/api/v1/slo", tag = "slo", params(StatusQuery),
    responses((status = 200, description = "One status per SLO", body = Object),
              (status = 400, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn status(
    State(state): State<Arc<AppState>>,
    Query(q): Query<StatusQuery>,
) -> Result<Json<Vec<Status>>, AppError> {
    let at = match q.at.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => parse_instant("at", v)?,
        None => jiff::Timestamp::now().as_millisecond(),
    };
    let chosen = slo::select(slo::load(&state.slo)?, q.slo.as_deref(), None)?;
    Ok(Json(slo::status(&state.slo_reader(), &chosen, at).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// Only this SLO.
    slo: Option<String>,
    /// Span start: RFC 3339 or YYYY-MM-DD (UTC).
    since: String,
    /// Span end, exclusive.
    until: String,
}

/// The page and ticket intervals over a span, as `leadline slo alerts --format json`.
#[utoipa::path(get, path = "/api/v1/slo/alerts", tag = "slo", params(AlertsQuery),
    responses((status = 200, description = "Firing intervals", body = Object),
              (status = 400, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn alerts(
    State(state): State<Arc<AppState>>,
    Query(q): Query<AlertsQuery>,
) -> Result<Json<Vec<Alert>>, AppError> {
    let since = parse_instant("since", &q.since)?;
    let until = parse_instant("until", &q.until)?;
    let chosen = slo::select(slo::load(&state.slo)?, q.slo.as_deref(), None)?;
    Ok(Json(
        slo::alerts(&state.slo_reader(), &chosen, since, until).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BurndownQuery {
    /// The SLO.
    slo: String,
    /// The moment: RFC 3339 or YYYY-MM-DD (UTC) [default: now].
    at: Option<String>,
    /// How many points [default: 30, at most 500].
    points: Option<usize>,
}

/// The budget remaining over the window holding `at`, at evenly spaced moments: the
/// dashboard's burn-down chart.
#[utoipa::path(get, path = "/api/v1/slo/burndown", tag = "slo", params(BurndownQuery),
    responses((status = 200, description = "Points from the window's start to the moment", body = Object),
              (status = 400, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn burndown(
    State(state): State<Arc<AppState>>,
    Query(q): Query<BurndownQuery>,
) -> Result<Json<Vec<slo::BurnPoint>>, AppError> {
    let at = match q.at.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => parse_instant("at", v)?,
        None => jiff::Timestamp::now().as_millisecond(),
    };
    let chosen = slo::select(slo::load(&state.slo)?, Some(&q.slo), None)?;
    Ok(Json(
        slo::burndown(&state.slo_reader(), &chosen[0], at, q.points.unwrap_or(30)).await?,
    ))
}
