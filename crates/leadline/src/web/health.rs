//! `/api/v1/health`, `/api/v1/debt` and `/api/v1/capacity`: code health per repository, the
//! debt register and capacity allocation, each the JSON of its CLI command.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::error::AppError;
use crate::cli::{CapacitySource, GroupBy};

/// Rows per section unless asked.
const DEFAULT_TOP: usize = 10;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthQuery {
    /// Only this repository [default: each ingested repository].
    repo: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 365 days before `until`].
    since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest commit].
    until: Option<String>,
    /// Rows per section [default: 10, 1 to 100].
    top: Option<usize>,
}

/// Hotspots with their complexity trend, churn per file and area, coupling, and knowledge
/// and age per area, per repository, as `leadline health --format json` gives them.
#[utoipa::path(get, path = "/api/v1/health", tag = "metrics", params(HealthQuery),
    responses((status = 200, description = "One report per repository", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn health(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HealthQuery>,
) -> Result<Response, AppError> {
    let given = |v: Option<String>| v.filter(|v| !v.is_empty());
    let params = crate::health::Params {
        repo: given(q.repo),
        since: given(q.since),
        until: given(q.until),
        top: Some(q.top.unwrap_or(DEFAULT_TOP).clamp(1, 100)),
        ..crate::health::Params::default()
    };
    let query = params.query(DEFAULT_TOP, &state.debt.by_hand, &state.teams)?;
    let repos = crate::health::selected(&state.store, params.repo.as_deref()).await?;
    let mut reports = Vec::with_capacity(repos.len());
    for repo in &repos {
        let mut r = crate::health::report(&state.store, repo, &query).await?;
        r.debt_items = crate::health::debt_items(&r, &state.debt);
        reports.push(r);
    }
    Ok(Json(reports).into_response())
}

/// The debt register of the server's configuration (`[debt] file`): the portfolio, open items
/// with their deadlines and covered hotspots, and hotspots no item covers.
#[utoipa::path(get, path = "/api/v1/debt", tag = "metrics",
    responses((status = 200, description = "The register as `leadline debt list --format json`", body = Object),
              (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn debt(State(state): State<Arc<AppState>>) -> Result<Response, AppError> {
    let listing = crate::debt::open_listing(&state.store, &state.debt, DEFAULT_TOP).await?;
    Ok(Json(listing).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CapacityQuery {
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: six calendar months up to `until`].
    since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest merge].
    until: Option<String>,
    /// `issues`, `pull_requests` or `commits` [default: issues if any were synced, else pull
    /// requests if any were, else commits].
    source: Option<String>,
    /// `team` or `repository` [default: team when teams are configured, else all].
    group: Option<String>,
    /// Only this repository.
    repo: Option<String>,
}

/// The share of merged work per class per group and month, against `debt.capacity_target`, as
/// `leadline debt capacity --format json` gives it.
#[utoipa::path(get, path = "/api/v1/capacity", tag = "metrics", params(CapacityQuery),
    responses((status = 200, description = "Capacity allocation", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn capacity(
    State(state): State<Arc<AppState>>,
    Query(q): Query<CapacityQuery>,
) -> Result<Response, AppError> {
    let given = |v: Option<String>| v.filter(|v| !v.is_empty());
    let source: Option<CapacitySource> = super::api::given(q.source.as_deref())?;
    let group: Option<GroupBy> = super::api::given(q.group.as_deref())?;
    let args = crate::capacity::Query {
        since: given(q.since),
        until: given(q.until),
        source,
        repo: given(q.repo),
        group,
    };
    let report =
        crate::capacity::report(&state.store, &args, &state.debt, &state.flow, &state.teams)
            .await?;
    Ok(Json(report).into_response())
}
