//! `/openapi.json`, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "leadline", description = "DORA keys, events and webhooks of a leadline server"),
    paths(
        super::api::dora,
        super::api::flow,
        super::api::incidents,
        super::api::ai,
        super::api::metrics_catalog,
        super::api::metric,
        super::family::schema,
        super::api::services,
        super::api::list_deployments,
        super::api::post_deployments,
        super::api::list_incidents,
        super::api::post_incidents,
        super::api::repositories,
        super::slo::post_sli,
        super::slo::status,
        super::slo::alerts,
        super::slo::burndown,
        super::product::product,
        super::product::post_events,
        super::product::okrs,
        super::platform::catalog,
        super::platform::scorecards,
        super::platform::wellbeing,
        super::report::page,
        super::platform::survey,
        super::platform::planning,
        super::product::checkin,
        super::anomalies::list,
        super::anomalies::precision,
        super::anomalies::ack,
        super::anomalies::dismiss,
        super::health::health,
        super::health::debt,
        super::health::capacity,
        super::webhooks::github,
        super::webhooks::gitlab,
        super::webhooks::incidents,
    ),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
