//! `GET /api/v1/{family}`: every metric family's report through one route. The query string
//! deserialises into the family's own query type; the answer is the JSON of `leadline FAMILY
//! --format json` with the same options. A new family is one arm here and its function.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::AppError;

/// The families this route serves, for the error that names them.
const FAMILIES: &str = "dora, flow, health, debt, capacity, incidents, slo, ai, product, wellbeing";

pub async fn report(
    State(state): State<Arc<AppState>>,
    Path(family): Path<String>,
    uri: Uri,
) -> Result<Response, AppError> {
    match family.as_str() {
        "dora" => super::api::dora(State(state), query(&uri)?).await,
        "flow" => super::api::flow(State(state), query(&uri)?).await,
        "health" => super::health::health(State(state), query(&uri)?).await,
        "debt" => super::health::debt(State(state)).await,
        "capacity" => super::health::capacity(State(state), query(&uri)?).await,
        // incidents and slo have static routes of their own (they share the path with a POST
        // or sub-routes), which win over this one.
        "ai" => super::api::ai(State(state), query(&uri)?).await,
        "product" => super::product::product(State(state), query(&uri)?).await,
        "wellbeing" => super::platform::wellbeing(State(state), query(&uri)?).await,
        other => Err(AppError::new(
            StatusCode::NOT_FOUND,
            format!("no metric family {other:?} (the families: {FAMILIES})"),
        )),
    }
}

/// `GET /api/v1/incidents`: the family's report on the path that also takes incident POSTs
/// (a static route wins over `{family}` for every method, so it must serve GET itself).
pub async fn incidents(State(state): State<Arc<AppState>>, uri: Uri) -> Result<Response, AppError> {
    super::api::incidents(State(state), query(&uri)?).await
}

/// `GET /api/v1/schemas/{family}`: the JSON schema of the family's report, as `leadline
/// metrics schema FAMILY` prints it.
#[utoipa::path(get, path = "/api/v1/schemas/{family}", tag = "metrics",
    params(("family" = String, Path, description = "activity, dora, flow, health, debt, capacity, incidents, slo, ai, product, scorecard or wellbeing")),
    responses((status = 200, description = "The JSON schema of the family's report", body = Object),
              (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn schema(Path(family): Path<String>) -> Result<axum::Json<serde_json::Value>, AppError> {
    match leadline_metrics::schema::family(&family) {
        Some(f) => Ok(axum::Json(leadline_metrics::schema::of(f))),
        None => Err(AppError::new(
            StatusCode::NOT_FOUND,
            format!("no metric family {family:?} (the families: activity, {FAMILIES})"),
        )),
    }
}

/// The query string as the family's query type; a malformed one is a 400 naming the problem.
fn query<T: DeserializeOwned>(uri: &Uri) -> Result<Query<T>, AppError> {
    Query::try_from_uri(uri).map_err(|e| AppError::bad_request(e.body_text()))
}
