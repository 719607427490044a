//! `/api/v1/catalog` and `/api/v1/scorecards`: the service catalog and the scorecards, as
//! `leadline catalog --format json` and `leadline scorecard --format json` give them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::error::AppError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Only entities of this kind.
    kind: Option<String>,
}

/// The catalog's entities, sorted by reference (invalid documents are in the server log).
#[utoipa::path(get, path = "/api/v1/catalog", tag = "metrics", params(CatalogQuery),
    responses((status = 200, description = "Array of entities", body = Object),
              (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn catalog(
    State(state): State<Arc<AppState>>,
    Query(q): Query<CatalogQuery>,
) -> Result<Json<Vec<crate::catalog::Listed>>, AppError> {
    let catalog = crate::catalog::load(&state.store, &state.settings.catalog).await?;
    for problem in &catalog.invalid {
        tracing::warn!("catalog: {problem}");
    }
    let mut entities: Vec<&leadline_core::catalog::Entity> = catalog
        .entities
        .iter()
        .filter(|e| {
            q.kind
                .as_deref()
                .filter(|k| !k.is_empty())
                .is_none_or(|k| e.kind.eq_ignore_ascii_case(k))
        })
        .collect();
    entities.sort_by_key(|e| e.reference());
    Ok(Json(
        entities.into_iter().map(crate::catalog::listed).collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// Only this service.
    service: Option<String>,
    /// Grade as of this instant [default: now].
    at: Option<String>,
}

/// Every service's level and checks.
#[utoipa::path(get, path = "/api/v1/scorecards", tag = "metrics", params(ScorecardQuery),
    responses((status = 200, description = "Array of service cards", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn scorecards(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ScorecardQuery>,
) -> Result<Json<Vec<crate::scorecard::ServiceCard>>, AppError> {
    let settings = &state.settings;
    let Some(cards) = crate::scorecard::load(&settings.scorecards)? else {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            "no scorecards file on the server (see docs/metrics.md, \"Scorecards\")",
        ));
    };
    let at = match q.at.as_deref().filter(|s| !s.is_empty()) {
        Some(v) => leadline_metrics::window::parse_instant("at", v)?,
        None => super::now(),
    };
    let service = q.service.filter(|s| !s.is_empty());
    let found =
        crate::scorecard::cards(&state.store, settings, &cards, service.as_deref(), at).await?;
    Ok(Json(found))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WellbeingQuery {
    /// Only this team's group.
    team: Option<String>,
    /// Only this repository's commits.
    repo: Option<String>,
    since: Option<String>,
    until: Option<String>,
    /// `week` or `month`: a series of results, one per period.
    by: Option<String>,
    /// With each group's commits (never their authors) and how they counted.
    #[serde(default)]
    explain: bool,
}

/// When teams work, deploy and are paged, as `leadline wellbeing --format json` (team level
/// only; groups under the floor fold into `other`).
#[utoipa::path(get, path = "/api/v1/wellbeing", tag = "metrics", params(WellbeingQuery),
    responses((status = 200, description = "Wellbeing report (object, or array with `by`)", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn wellbeing(
    State(state): State<Arc<AppState>>,
    Query(q): Query<WellbeingQuery>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let query = leadline_metrics::wellbeing::Query {
        team: nonempty(q.team),
        repo: nonempty(q.repo),
        since: nonempty(q.since),
        until: nonempty(q.until),
        by: super::api::given::<leadline_metrics::window::By>(q.by.as_deref())?,
        explain: q.explain,
    };
    let found = crate::wellbeing::reports(&state.store, &query, &state.settings).await?;
    Ok(match query.by {
        Some(_) => Json(&found).into_response(),
        None => Json(&found[0]).into_response(),
    })
}

/// The options of `leadline survey`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SurveyQuery {
    /// Only this instrument.
    instrument: Option<String>,
    /// Only this wave, YYYY-MM.
    wave: Option<String>,
    /// `wave`: each team's waves together, oldest first.
    by: Option<String>,
}

/// Pulse survey scores per team and wave, as `leadline survey --format json`: never per
/// respondent, never the answers; teams under `[surveys] min_respondents` fold into `other`.
#[utoipa::path(get, path = "/api/v1/survey", tag = "metrics", params(SurveyQuery),
    responses((status = 200, description = "Array of {instrument, group, wave, respondents, scores, beside}", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn survey(
    State(state): State<Arc<AppState>>,
    Query(q): Query<SurveyQuery>,
) -> Result<Json<Vec<leadline_metrics::survey::GroupOut>>, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let query = leadline_metrics::survey::Query {
        instrument: nonempty(q.instrument),
        wave: nonempty(q.wave),
        by: nonempty(q.by),
    };
    let groups = crate::survey::compute(&state.store, &state.settings, &query).await?;
    Ok(Json(groups))
}

/// The options of `leadline planning`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlanningQuery {
    /// Start (YYYY-MM-DD or RFC 3339).
    since: Option<String>,
    /// End, exclusive.
    until: Option<String>,
    /// Only this team's issues.
    team: Option<String>,
}

/// Planning from Jira, as `leadline planning --format json`.
#[utoipa::path(get, path = "/api/v1/planning", tag = "metrics", params(PlanningQuery),
    responses((status = 200, description = "{since, until, team, resolved, lead_time, time_in, investment, defects, sprints, sprint_accuracy}", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn planning(
    State(state): State<Arc<AppState>>,
    Query(q): Query<PlanningQuery>,
) -> Result<Json<leadline_metrics::planning::Report>, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let query = leadline_metrics::planning::Query {
        since: nonempty(q.since),
        until: nonempty(q.until),
        team: nonempty(q.team),
    };
    Ok(Json(
        leadline_metrics::planning::compute(&state.store, &query, &state.dora).await?,
    ))
}
