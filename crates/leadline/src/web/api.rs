//! `/api/v1/*`: the DORA keys and flow (the same JSON as `leadline dora|flow --format json`), services,
//! deployments and incidents (read in pages, written as the CSV imports are), repositories.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use leadline_core::events::Scope;
use leadline_core::model::Repository;
use leadline_core::store::{EventPosition, ImportCounts};
use leadline_sources::import::{self, Format, Rejected};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::Granted;
use super::error::{AppError, Problem};
use crate::cli::GroupBy;
use crate::export::{TextRow, deployment_out, incident_out};
use leadline_metrics::window::By;

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoraQuery {
    /// Only this service [default: all services together].
    service: Option<String>,
    /// The environment whose deployments count [default: production].
    env: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before `until`].
    since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest event].
    until: Option<String>,
    /// `week` or `month`: a series of results, one per period.
    by: Option<String>,
    /// Include the deployments, changes and incidents behind each number.
    #[serde(default)]
    explain: bool,
    /// Skip this many explanation rows (rows are numbered across the response's periods).
    explain_offset: Option<usize>,
    /// At most this many explanation rows, 1 to 10000 [default: 10000].
    explain_limit: Option<usize>,
}

/// The five keys for one window, or (with `by`) an array of them. Fields as documented for
/// `leadline dora --format json` in the README.
#[utoipa::path(get, path = "/api/v1/dora", tag = "metrics", params(DoraQuery),
    responses((status = 200, description = "DORA report (object, or array with `by`)", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn dora(
    State(state): State<Arc<AppState>>,
    Query(q): Query<DoraQuery>,
) -> Result<Response, AppError> {
    let by = given::<By>(q.by.as_deref())?;
    let args = crate::dora::Query {
        service: q.service.filter(|s| !s.is_empty()),
        env: q.env.unwrap_or_else(|| "production".to_owned()),
        since: q.since.filter(|s| !s.is_empty()),
        until: q.until.filter(|s| !s.is_empty()),
        by,
        explain: q.explain,
        explain_offset: q.explain_offset.unwrap_or(0),
        explain_limit: q.explain_limit.unwrap_or(crate::dora::MAX_EXPLAIN_ROWS),
    };
    let gathered = state.gathered().await?;
    let computed = crate::dora::compute_from(&gathered, &args, &state.dora)?;
    Ok(match by {
        Some(_) => Json(&computed.reports).into_response(),
        None => Json(&computed.reports[0]).into_response(),
    })
}

/// `by=week|month`, or none.
/// An optional query parameter parsed with its type's own rules; empty is absent.
pub(super) fn given<T: std::str::FromStr<Err = leadline_metrics::UsageError>>(
    v: Option<&str>,
) -> Result<Option<T>, AppError> {
    Ok(v.filter(|v| !v.is_empty()).map(str::parse).transpose()?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlowQuery {
    /// Only this repository (OWNER/REPO).
    repo: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before `until`].
    since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest merge or build].
    until: Option<String>,
    /// `week` or `month`: a series of results, one per period.
    by: Option<String>,
    /// `team` or `repository` [default: team when teams are configured].
    group: Option<String>,
    /// Include the pull requests behind each group's numbers (without their authors).
    #[serde(default)]
    explain: bool,
}

/// Pull request flow, review and build health per group, as `leadline flow --format json`
/// gives it: one report, or (with `by`) an array of them.
#[utoipa::path(get, path = "/api/v1/flow", tag = "metrics", params(FlowQuery),
    responses((status = 200, description = "Flow report (object, or array with `by`)", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn flow(
    State(state): State<Arc<AppState>>,
    Query(q): Query<FlowQuery>,
) -> Result<Response, AppError> {
    let group: Option<GroupBy> = given(q.group.as_deref())?;
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let query = crate::flow::Query {
        repo: nonempty(q.repo),
        since: nonempty(q.since),
        until: nonempty(q.until),
        by: given::<By>(q.by.as_deref())?,
        explain: q.explain,
        group,
    };
    let reports =
        crate::flow::compute(&state.store, &query, &state.flow, &state.teams, &state.dora).await?;
    Ok(match query.by {
        Some(_) => Json(&reports).into_response(),
        None => Json(&reports[0]).into_response(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentsQuery {
    /// Only this service's incidents.
    service: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before `until`].
    since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest incident].
    until: Option<String>,
    /// `week` or `month`: a series of results, one per period.
    by: Option<String>,
    /// Include the incidents and action items behind the numbers.
    #[serde(default)]
    explain: bool,
}

/// Incidents: detection, acknowledgement, mitigation and resolution times, postmortem
/// coverage, action items and repeats, as `leadline incidents --format json` gives it.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "metrics", params(IncidentsQuery),
    responses((status = 200, description = "Incidents report (object, or array with `by`)", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn incidents(
    State(state): State<Arc<AppState>>,
    Query(q): Query<IncidentsQuery>,
) -> Result<Response, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let query = leadline_metrics::incidents::Query {
        service: nonempty(q.service),
        since: nonempty(q.since),
        until: nonempty(q.until),
        by: given::<By>(q.by.as_deref())?,
        explain: q.explain,
    };
    let reports =
        leadline_metrics::incidents::compute(&state.store, &query, &state.debt.postmortems).await?;
    Ok(match query.by {
        Some(_) => Json(&reports).into_response(),
        None => Json(&reports[0]).into_response(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AiQuery {
    /// Only this ingested repository.
    repo: Option<String>,
    /// Only changes by this team's members (refused below `privacy.min_group_size` authors).
    team: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before `until`].
    since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest commit].
    until: Option<String>,
    /// `week` or `month`: a series of results, one per period.
    by: Option<String>,
    /// Include the AI-marked changes and the rule that marked each.
    #[serde(default)]
    explain: bool,
}

/// AI-assisted and AI-authored changes and their outcomes, as `leadline ai --format json`.
#[utoipa::path(get, path = "/api/v1/ai", tag = "metrics", params(AiQuery),
    responses((status = 200, description = "AI report (object, or array with `by`)", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn ai(
    State(state): State<Arc<AppState>>,
    Query(q): Query<AiQuery>,
) -> Result<Response, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let query = leadline_metrics::ai::Query {
        repo: nonempty(q.repo),
        team: nonempty(q.team),
        since: nonempty(q.since),
        until: nonempty(q.until),
        by: given::<By>(q.by.as_deref())?,
        explain: q.explain,
    };
    let settings = leadline_metrics::ai::Settings {
        rules: &state.ai,
        dora: &state.dora,
        capacity: &state.debt.rules,
        teams: &state.teams,
        min_group_size: state.flow.min_group_size,
    };
    let reports = leadline_metrics::ai::compute(&state.store, &query, &settings).await?;
    Ok(match query.by {
        Some(_) => Json(&reports).into_response(),
        None => Json(&reports[0]).into_response(),
    })
}

/// Every named metric: name, unit, which way is better, family, the labels it takes, whether it
/// reads a window, definition (as `leadline metrics list --format json`).
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics",
    responses((status = 200, description = "The catalog: [{name, unit, better, family, labels, window, description, docs}]", body = Object),
              (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn metrics_catalog() -> Json<serde_json::Value> {
    Json(crate::metric::catalog_json())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricQuery {
    /// Only this service (dora).
    service: Option<String>,
    /// Only this repository (flow, capacity: OWNER/REPO; health: the ingested name).
    repo: Option<String>,
    /// This team's group (flow, capacity) [default: all].
    team: Option<String>,
    /// The environment whose deployments count (dora) [default: production].
    env: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: the family's].
    since: Option<String>,
    /// Window end, exclusive [default: the family's].
    until: Option<String>,
    /// `week` or `month`: a series (dora, flow).
    by: Option<String>,
    /// The SLO (slo metrics; or write `NAME{slo=…}`).
    slo: Option<String>,
}

/// One metric by name: `{name, value}` (a `reason` when `null`), or with `by`
/// `{name, series: [{since, until, value}]}`, as `leadline metric NAME --format json`.
#[utoipa::path(get, path = "/api/v1/metric/{name}", tag = "metrics",
    params(("name" = String, Path, description = "e.g. dora.lead_time.median_seconds"), MetricQuery),
    responses((status = 200, description = "The value or series", body = Object),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn metric(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(name): axum::extract::Path<String>,
    Query(q): Query<MetricQuery>,
) -> Result<Response, AppError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let scope = crate::metric::Scope {
        service: nonempty(q.service),
        repo: nonempty(q.repo),
        team: nonempty(q.team),
        env: nonempty(q.env),
        since: nonempty(q.since),
        until: nonempty(q.until),
        by: given::<By>(q.by.as_deref())?,
        slo: nonempty(q.slo),
        explain: false,
        name: None,
    };
    let (metric, scope) = leadline_metrics::scope::named(&name, scope)?;
    let slo_reader = state.slo_reader();
    let ctx = state.ctx(&slo_reader);
    let gathered = match &metric {
        leadline_metrics::scope::Named::Catalog(m)
            if m.family == leadline_metrics::Family::Dora =>
        {
            Some(state.gathered().await?)
        }
        _ => None,
    };
    let reading = leadline_metrics::scope::read_named(&ctx, gathered, &metric, &scope).await?;
    Ok(Json(reading).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Services {
    services: Vec<String>,
}

/// The services with production deployments (stored or inferred from git).
#[utoipa::path(get, path = "/api/v1/services", tag = "metrics",
    responses((status = 200, body = Services)), security((), ("bearer" = ["read"])))]
pub async fn services(State(state): State<Arc<AppState>>) -> Result<Json<Services>, AppError> {
    let gathered = state.gathered().await?;
    Ok(Json(Services {
        services: crate::dora::services(&gathered.inputs, "production"),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, at most 1000 [default: 100].
    limit: Option<usize>,
    /// `next` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RowPage {
    /// Rows with the fields of `leadline export … --format json`.
    #[schema(value_type = Vec<Object>)]
    items: Vec<TextRow>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

fn page_args(q: &PageQuery) -> Result<(usize, Option<EventPosition>), AppError> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(AppError::bad_request(format!(
            "limit {limit}: expected 1 to {MAX_PAGE}"
        )));
    }
    let after = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => {
            let bad = || AppError::bad_request("cursor: not a cursor this server gave");
            let bytes = hex::decode(c).map_err(|_| bad())?;
            let (at, source, id): (i64, String, String) =
                serde_json::from_slice(&bytes).map_err(|_| bad())?;
            Some(EventPosition { at, source, id })
        }
    };
    Ok((limit, after))
}

fn cursor(at: i64, source: &str, id: &str) -> String {
    hex::encode(serde_json::json!([at, source, id]).to_string())
}

/// Stored deployments, oldest first (by finished_at, source, id).
#[utoipa::path(get, path = "/api/v1/deployments", tag = "events", params(PageQuery),
    responses((status = 200, body = RowPage), (status = 400, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn list_deployments(
    State(state): State<Arc<AppState>>,
    Query(q): Query<PageQuery>,
) -> Result<Json<RowPage>, AppError> {
    let (limit, after) = page_args(&q)?;
    let rows = state
        .store
        .deployments_page(after.as_ref(), limit + 1)
        .await?;
    Ok(Json(row_page(rows, limit, |s, d| {
        (deployment_out(s, d), cursor(d.finished_at, s, &d.id))
    })))
}

/// Stored incidents, oldest first (by opened_at, source, id). (`GET /api/v1/incidents` is the
/// incidents family's report, as every family's name is.)
#[utoipa::path(get, path = "/api/v1/incidents/records", tag = "events", params(PageQuery),
    responses((status = 200, body = RowPage), (status = 400, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn list_incidents(
    State(state): State<Arc<AppState>>,
    Query(q): Query<PageQuery>,
) -> Result<Json<RowPage>, AppError> {
    let (limit, after) = page_args(&q)?;
    let rows = state
        .store
        .incidents_page(after.as_ref(), limit + 1)
        .await?;
    Ok(Json(row_page(rows, limit, |s, i| {
        (incident_out(s, i), cursor(i.opened_at, s, &i.id))
    })))
}

/// A page from up to `limit + 1` rows (one more than shown tells whether a next page exists);
/// `out` gives a row's output and its cursor.
fn row_page<T>(
    rows: Vec<(String, T)>,
    limit: usize,
    out: impl Fn(&str, &T) -> (TextRow, String),
) -> RowPage {
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit);
    let mut next = None;
    for (source, row) in rows.iter().take(limit) {
        let (item, position) = out(source, row);
        items.push(item);
        next = Some(position);
    }
    RowPage {
        items,
        next: next.filter(|_| more),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourceQuery {
    /// Where the rows come from: ids are unique per source [default: api].
    source: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Imported {
    /// Rows in the request.
    rows: usize,
    /// Rows new to the store (the others replaced their earlier selves).
    new: usize,
    /// Commits the store does not know yet (they count once their repository is ingested).
    unknown_shas: Vec<String>,
}

impl Imported {
    /// Counts of rows that name no commit.
    pub(super) fn of(counts: ImportCounts) -> Imported {
        Imported {
            rows: counts.rows,
            new: counts.new,
            unknown_shas: Vec::new(),
        }
    }
}

/// The items of a JSON body (one object or an array) as NDJSON lines, so that the import
/// parser's line numbers are item numbers.
pub(super) fn items_as_ndjson(body: &[u8]) -> Result<String, AppError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("invalid JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        object @ serde_json::Value::Object(_) => vec![object],
        _ => {
            return Err(AppError::bad_request(
                "expected a JSON object or an array of them",
            ));
        }
    };
    if items.is_empty() {
        return Err(AppError::bad_request("the array is empty"));
    }
    Ok(items
        .iter()
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join("\n"))
}

pub(super) fn refused(r: Rejected) -> AppError {
    AppError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "refused, nothing was stored",
    )
    .with_problems(
        r.errors
            .into_iter()
            .map(|e| Problem {
                item: e.line.saturating_sub(1),
                field: e.field,
                message: e.message,
            })
            .collect(),
    )
}

fn source(q: SourceQuery) -> Result<String, AppError> {
    match q.source {
        None => Ok("api".to_owned()),
        Some(s) if s.trim().is_empty() => Err(AppError::bad_request("source: empty")),
        Some(s) => Ok(s),
    }
}

async fn imported(
    state: &AppState,
    counts: ImportCounts,
    shas: Vec<String>,
) -> Result<Json<Imported>, AppError> {
    Ok(Json(Imported {
        rows: counts.rows,
        new: counts.new,
        unknown_shas: state.store.unknown_shas(&shas).await?,
    }))
}

/// Stores deployments: one object or an array, with the fields of the CSV import
/// (`id, service, environment, sha, finished_at`; optional `started_at, status, repo`).
/// Any bad item refuses the whole request.
#[utoipa::path(post, path = "/api/v1/deployments", tag = "events", params(SourceQuery),
    request_body(content = Object, description = "A deployment or an array of them"),
    responses((status = 200, body = Imported), (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = ["write"])))]
pub async fn post_deployments(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<SourceQuery>,
    body: Body,
) -> Result<Json<Imported>, AppError> {
    let source = source(q)?;
    let body = super::body::read(&state.bodies, &headers, body).await?;
    let rows = import::deployments("request", &items_as_ndjson(&body)?, Format::Ndjson)
        .map_err(refused)?;
    let counts = state.store.upsert_deployments(&source, &rows).await?;
    state.stored().await;
    imported(&state, counts, rows.into_iter().map(|d| d.sha).collect()).await
}

/// Stores incidents: one object or an array, with the fields of the CSV import
/// (`id, service, opened_at`; optional `resolved_at, severity, title, cause_deployment,
/// cause_sha, postmortem_url`). Any bad item refuses the whole request.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "events", params(SourceQuery),
    request_body(content = Object, description = "An incident or an array of them"),
    responses((status = 200, body = Imported), (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = ["write"])))]
pub async fn post_incidents(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<SourceQuery>,
    body: Body,
) -> Result<Json<Imported>, AppError> {
    let source = source(q)?;
    let body = super::body::read(&state.bodies, &headers, body).await?;
    let rows =
        import::incidents("request", &items_as_ndjson(&body)?, Format::Ndjson).map_err(refused)?;
    let counts = state.store.upsert_incidents(&source, &rows).await?;
    state.stored().await;
    imported(
        &state,
        counts,
        rows.into_iter().filter_map(|i| i.cause_sha).collect(),
    )
    .await
}

#[derive(Serialize, ToSchema)]
pub struct RepositoryOut {
    id: i64,
    name: String,
    /// Where the server reads it from (a filesystem path): shown to admin tokens only.
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RepositoryPage {
    items: Vec<RepositoryOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// Ingested repositories, by name; their server paths only for admin tokens.
#[utoipa::path(get, path = "/api/v1/repositories", tag = "events", params(PageQuery),
    responses((status = 200, body = RepositoryPage)), security((), ("bearer" = ["read"])))]
pub async fn repositories(
    State(state): State<Arc<AppState>>,
    Extension(Granted(granted)): Extension<Granted>,
    Query(q): Query<PageQuery>,
) -> Result<Json<RepositoryPage>, AppError> {
    let admin = granted == Scope::Admin;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let after = q
        .cursor
        .as_deref()
        .map(|c| {
            hex::decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| AppError::bad_request("cursor: not a cursor this server gave"))
        })
        .transpose()?;
    let all: Vec<Repository> = state.store.repositories().await?;
    let rest: Vec<Repository> = all
        .into_iter()
        .filter(|r| after.as_ref().is_none_or(|a| &r.name > a))
        .take(limit + 1)
        .collect();
    let next = (rest.len() > limit).then(|| hex::encode(&rest[limit - 1].name));
    Ok(Json(RepositoryPage {
        items: rest
            .into_iter()
            .take(limit)
            .map(|r| RepositoryOut {
                id: r.id,
                name: r.name,
                location: admin.then_some(r.location),
            })
            .collect(),
        next,
    }))
}
