//! `GET /report`: the stakeholder report of `leadline report`, built from the store as it is
//! now, as one self-contained HTML page.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::AppError;
use crate::cli::ReportPeriod;

/// The options of `leadline report`, as a query string.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `month` (30 days, the default) or `quarter` (91 days) ending at the end of today, UTC.
    period: Option<String>,
    /// Start (YYYY-MM-DD or RFC 3339).
    since: Option<String>,
    /// End, exclusive.
    until: Option<String>,
    /// Only this team (the families that have teams).
    team: Option<String>,
    /// Only this service (the families that have services).
    service: Option<String>,
}

#[utoipa::path(get, path = "/report", tag = "metrics", params(ReportQuery),
    responses((status = 200, description = "The report: one HTML page with everything inline", content_type = "text/html"),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security((), ("bearer" = ["read"])))]
pub async fn page(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let period = match q.period.as_deref().filter(|p| !p.is_empty()) {
        None | Some("month") => ReportPeriod::Month,
        Some("quarter") => ReportPeriod::Quarter,
        Some(other) => {
            return Err(AppError::bad_request(format!(
                "period {other:?}: expected month or quarter"
            )));
        }
    };
    let nonempty = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let options = crate::report::Options::new(
        period,
        nonempty(&q.since).as_deref(),
        nonempty(&q.until).as_deref(),
        nonempty(&q.team),
        nonempty(&q.service),
        super::now(),
    )?;
    let document = crate::report::build(&state.store, &state.settings, &options).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page needs nothing from anywhere: say so to the browser too.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        crate::report::html::render(&document),
    )
        .into_response())
}
