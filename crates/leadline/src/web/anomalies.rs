//! `/api/v1/anomalies`: the proposals of `leadline anomalies --format json`, the live
//! precision, and a person's judgement of one (write scope).

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use leadline_metrics::anomalies::{self, Judgement, Precision, Proposal, Reason};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::error::AppError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomaliesQuery {
    /// Only weeks starting at or after this: RFC 3339 or YYYY-MM-DD (UTC).
    since: Option<String>,
    /// Only weeks starting before this [default: the end of the newest data's week].
    until: Option<String>,
    /// With the rows behind each flagged week.
    #[serde(default)]
    explain: bool,
}

/// Weeks where a service's or team's delivery changed, newest first, each with its state (as
/// `leadline anomalies --format json`).
#[utoipa::path(get, path = "/api/v1/anomalies", tag = "metrics", params(AnomaliesQuery),
    responses((status = 200, description = "Array of proposals", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Query(q): Query<AnomaliesQuery>,
) -> Result<Json<Vec<Proposal>>, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let query = anomalies::Query {
        since: nonempty(q.since),
        until: nonempty(q.until),
        explain: q.explain,
    };
    let reviews = state.store.anomaly_reviews().await?;
    let slo_reader = state.slo_reader();
    let ctx = state.ctx(&slo_reader);
    let gathered = Some(state.gathered().await?);
    let found = anomalies::propose(
        &ctx,
        gathered,
        &state.settings.anomalies,
        &reviews,
        &query,
        super::now(),
    )
    .await?;
    Ok(Json(found))
}

/// How many proposals people confirmed and dismissed: the detector's live precision.
#[utoipa::path(get, path = "/api/v1/anomalies/precision", tag = "metrics",
    responses((status = 200, description = "`{acknowledged, dismissed, precision}`", body = Object),
              (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn precision(State(state): State<Arc<AppState>>) -> Result<Json<Precision>, AppError> {
    Ok(Json(Precision::of(&state.store.anomaly_reviews().await?)))
}

/// The body of an acknowledgement: an optional note.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ack {
    note: Option<String>,
}

/// The body of a dismissal: why, and an optional note.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Dismiss {
    reason: String,
    note: Option<String>,
}

/// Confirms a proposal: body `{"note": "…"}` or empty. Answers the proposal as now listed.
#[utoipa::path(post, path = "/api/v1/anomalies/{id}/ack", tag = "metrics",
    params(("id" = String, Path, description = "The proposal's id")),
    request_body(content = Object, description = "`{\"note\": \"…\"}`, optional"),
    responses((status = 200, description = "The proposal", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = ["write"])))]
pub async fn ack(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Proposal>, AppError> {
    let body = super::body::read(&state.bodies, &headers, body).await?;
    let ack: Ack = if body.iter().all(u8::is_ascii_whitespace) {
        Ack::default()
    } else {
        parse(&body)?
    };
    judge(&state, &id, Judgement::Acknowledge { note: ack.note }).await
}

/// Dismisses a proposal: body `{"reason": "expected|false-positive|data-issue", "note": "…"}`;
/// its week leaves later baselines. Answers the proposal as now listed.
#[utoipa::path(post, path = "/api/v1/anomalies/{id}/dismiss", tag = "metrics",
    params(("id" = String, Path, description = "The proposal's id")),
    request_body(content = Object, description = "`{\"reason\": \"expected\", \"note\": \"…\"}`"),
    responses((status = 200, description = "The proposal", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = ["write"])))]
pub async fn dismiss(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Proposal>, AppError> {
    let body = super::body::read(&state.bodies, &headers, body).await?;
    let dismiss: Dismiss = parse(&body)?;
    let reason: Reason = dismiss.reason.parse()?;
    let judgement = Judgement::Dismiss {
        reason,
        note: dismiss.note,
    };
    judge(&state, &id, judgement).await
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|e| {
        AppError::new(
            StatusCode::BAD_REQUEST,
            format!("the request body is not a judgement: {e}"),
        )
    })
}

async fn judge(
    state: &AppState,
    id: &str,
    judgement: Judgement,
) -> Result<Json<Proposal>, AppError> {
    let slo_reader = state.slo_reader();
    let ctx = state.ctx(&slo_reader);
    let gathered = Some(state.gathered().await?);
    let judged = anomalies::judge(
        &ctx,
        gathered,
        &state.settings.anomalies,
        id,
        judgement,
        super::now(),
    )
    .await?;
    judged.map(Json).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            format!("no anomaly proposal has the id {id:?}; GET /api/v1/anomalies lists them"),
        )
    })
}
