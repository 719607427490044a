//! `/metrics` in Prometheus text format: requests (count and latency by route and status),
//! webhook deliveries by source, event and outcome, the ingest lag, the five DORA keys per
//! service over the last 30 days, and the debt register's portfolio as gauges.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leadline_core::dora::{DoraKeys, Window};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::error::AppError;
use super::{AppState, now};

/// The DORA gauges cost a pass over the history; scrapes within this long reuse them.
const DORA_TTL: Duration = Duration::from_secs(60);
const DORA_DAYS: i64 = 30;

/// Events whose names may become label values; anything else is `other`, so unauthenticated
/// requests cannot grow the label set.
const KNOWN_EVENTS: &[&str] = &[
    "Deployment Hook",
    "Pipeline Hook",
    "Merge Request Hook",
    "Push Hook",
    "alert",
];

/// The process-wide recorder (the `metrics` facade has one global recorder).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .expect("constant, non-empty buckets")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only when another recorder is installed; the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Counts and times every request by its route pattern (not its path: ids stay out of labels).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("leadline_http_requests_total", &labels).increment(1);
    metrics::histogram!("leadline_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

pub fn delivery(source: &str, event: &str, outcome: &str) {
    let known =
        KNOWN_EVENTS.contains(&event) || leadline_sources::webhook::github::EVENTS.contains(&event);
    let event = if known { event } else { "other" };
    metrics::counter!(
        "leadline_webhook_deliveries_total",
        "source" => source.to_owned(),
        "event" => event.to_owned(),
        "outcome" => outcome.to_owned()
    )
    .increment(1);
}

/// The text of the DORA gauges, cached for [`DORA_TTL`].
/// The DORA gauges as last rendered, with when and in which data generation.
#[derive(Default)]
pub struct DoraGauges(tokio::sync::Mutex<Option<(Instant, u64, String)>>);

pub async fn render(State(state): State<Arc<AppState>>) -> Result<Response, AppError> {
    let mut text = state.metrics.render();
    let lag = match state.store.oldest_unmined_push().await? {
        Some(pushed) => (now() - pushed).max(0) as f64 / 1000.0,
        None => 0.0,
    };
    text.push_str(
        "# HELP leadline_ingest_lag_seconds Age of the oldest pushed commit git ingest has not stored.\n\
         # TYPE leadline_ingest_lag_seconds gauge\n",
    );
    text.push_str(&format!("leadline_ingest_lag_seconds {lag}\n"));
    text.push_str(&dora_gauges(&state).await?);
    text.push_str(&debt_gauges(&state));
    text.push_str(&slo_gauges(&state).await);
    text.push_str(&okr_gauges(&state).await);
    text.push_str(&fleet_gauges(&state).await?);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

async fn dora_gauges(state: &AppState) -> Result<String, AppError> {
    let mut cached = state.dora_gauges.0.lock().await;
    let generation = state.generation();
    if let Some((at, made_in, text)) = cached.as_ref()
        && at.elapsed() < DORA_TTL
        && *made_in == generation
    {
        return Ok(text.clone());
    }
    let until = now();
    let window = Window {
        since: until - DORA_DAYS * 86_400_000,
        until,
    };
    let gathered = state.gathered().await?;
    let keys = crate::dora::keys_by_service(&gathered, &state.dora, "production", window);
    let text = gauge_text(&keys);
    *cached = Some((Instant::now(), generation, text.clone()));
    Ok(text)
}

fn gauge_text(keys: &[(String, DoraKeys)]) -> String {
    type Read = fn(&DoraKeys) -> Option<f64>;
    let gauges: [(&str, &str, Read); 5] = [
        (
            "leadline_dora_deployments_per_day",
            "Successful production deployments per day, last 30 days.",
            |k| Some(k.deployment_frequency.per_day),
        ),
        (
            "leadline_dora_lead_time_median_seconds",
            "Median lead time for changes deployed in the last 30 days.",
            |k| k.lead_time.median_seconds,
        ),
        (
            "leadline_dora_change_failure_rate",
            "Failed deployments / deployments, last 30 days.",
            |k| k.change_failure_rate.rate,
        ),
        (
            "leadline_dora_recovery_time_median_seconds",
            "Median failed deployment recovery time, incidents resolved in the last 30 days.",
            |k| k.recovery_time.median_seconds,
        ),
        (
            "leadline_dora_rework_rate",
            "Deployments carrying a remediation / deployments, last 30 days.",
            |k| k.rework_rate.rate,
        ),
    ];
    let mut out = String::new();
    for (name, help, read) in gauges {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for (service, k) in keys {
            // An undefined value (no data) is left out rather than reported as 0.
            if let Some(v) = read(k) {
                out.push_str(&format!(
                    "{name}{{service=\"{}\"}} {v}\n",
                    escape_label(service)
                ));
            }
        }
    }
    out
}

/// Each SLO's budget remaining and burn rates now, read at each scrape; SLOs that cannot be read
/// (invalid files, Prometheus unreachable) are logged and left out.
/// Each key result's progress now (0 to 1.5), labelled by objective and key result.
async fn okr_gauges(state: &AppState) -> String {
    let objectives = match leadline_metrics::okrs::load(&state.settings.okrs) {
        Ok(o) if !o.is_empty() => o,
        Ok(_) => return String::new(),
        Err(e) => {
            tracing::warn!("OKR gauges left out: {e:#}");
            return String::new();
        }
    };
    let slo_reader = state.slo_reader();
    let ctx = state.ctx(&slo_reader);
    let checkins = state.store.checkins().await.unwrap_or_default();
    let found =
        match leadline_metrics::okrs::status(&ctx, None, &objectives, &checkins, None, now()).await
        {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("OKR gauges left out: {e:#}");
                return String::new();
            }
        };
    let mut text = String::from(
        "# HELP leadline_okr_progress Key result progress from baseline (0) to target (1), up to 1.5.\n\
         # TYPE leadline_okr_progress gauge\n",
    );
    for o in &found {
        for k in &o.key_results {
            if let Some(p) = k.progress {
                text.push_str(&format!(
                    "leadline_okr_progress{{objective=\"{}\",key_result=\"{}\"}} {p}\n",
                    escape_label(&o.id),
                    escape_label(&k.id)
                ));
            }
        }
    }
    text
}

async fn slo_gauges(state: &AppState) -> String {
    let slos = match leadline_metrics::slo::load(&state.slo) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => return String::new(),
        Err(e) => {
            tracing::warn!("SLO gauges left out: {e:#}");
            return String::new();
        }
    };
    let reader = state.slo_reader();
    let mut budget = String::from(
        "# HELP leadline_slo_budget_remaining Share of the error budget left in the SLO's window (negative: overspent).\n\
         # TYPE leadline_slo_budget_remaining gauge\n",
    );
    let mut burn = String::from(
        "# HELP leadline_slo_burn_rate Error budget burn rate over the window ending now.\n\
         # TYPE leadline_slo_burn_rate gauge\n",
    );
    for slo in &slos {
        if slo.source != leadline_core::slo::openslo::Source::Imported
            && slo.source != leadline_core::slo::openslo::Source::Incidents
            && state.slo.prometheus_url.is_none()
        {
            continue;
        }
        let status =
            match leadline_metrics::slo::status(&reader, std::slice::from_ref(slo), now()).await {
                Ok(mut s) => s.remove(0),
                Err(e) => {
                    tracing::warn!("SLO gauges of {} left out: {e:#}", slo.name);
                    continue;
                }
            };
        let labels = format!(
            "slo=\"{}\",service=\"{}\"",
            escape_label(&status.slo),
            escape_label(&status.service)
        );
        if let Some(b) = status.budget_remaining {
            budget.push_str(&format!("leadline_slo_budget_remaining{{{labels}}} {b}\n"));
        }
        let rates = status.burn_rates.in_order();
        for ((window, _), rate) in leadline_metrics::slo::BURN_WINDOWS.iter().zip(rates) {
            if let Some(r) = rate {
                burn.push_str(&format!(
                    "leadline_slo_burn_rate{{{labels},window=\"{window}\"}} {r}\n"
                ));
            }
        }
    }
    budget + &burn
}

/// The portfolio of the register as gauges (none without a register). A register that cannot
/// be read is logged, not a failed scrape: `debt check` is where it fails.
fn debt_gauges(state: &AppState) -> String {
    let portfolio = match crate::debt::portfolio_now(&state.debt) {
        Ok(Some(p)) => p,
        Ok(None) => return String::new(),
        Err(e) => {
            tracing::warn!("debt gauges left out: {e:#}");
            return String::new();
        }
    };
    let mut out = String::from(
        "# HELP leadline_debt_items_open Open items of the debt register, by kind.\n\
         # TYPE leadline_debt_items_open gauge\n",
    );
    for kind in leadline_core::debt::Kind::ALL {
        let n = portfolio
            .open_by_kind
            .get(kind.as_str())
            .copied()
            .unwrap_or(0);
        out.push_str(&format!(
            "leadline_debt_items_open{{kind=\"{}\"}} {n}\n",
            kind.as_str()
        ));
    }
    for (name, help, value) in [
        (
            "leadline_debt_items_past_deadline",
            "Open debt items past their deadline (due date or policy).",
            portfolio.overdue as f64,
        ),
        (
            "leadline_debt_cost_hours",
            "Estimated hours to repay the open debt items.",
            portfolio.cost_hours,
        ),
        (
            "leadline_debt_interest_hours_per_month",
            "Hours per month the open debt items cost while they stay.",
            portfolio.interest_hours_per_month,
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    out
}

/// Prometheus label values escape backslash, double quote and newline.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The fleet's queue by state, and the runs of the last day by kind and outcome with the time
/// they took (failures are the `retry`, `failed` and `abandoned` runs).
async fn fleet_gauges(state: &AppState) -> Result<String, AppError> {
    let jobs = state.store.jobs().await?;
    let since = now() - 86_400_000;
    let totals = state.store.job_run_totals(since).await?;
    let mut text = String::from(
        "# HELP leadline_fleet_jobs Fleet jobs by state (one per target).\n\
         # TYPE leadline_fleet_jobs gauge\n",
    );
    for s in ["pending", "running", "done", "failed"] {
        let n = jobs.iter().filter(|j| j.state == s).count();
        text.push_str(&format!("leadline_fleet_jobs{{state=\"{s}\"}} {n}\n"));
    }
    text.push_str(
        "# HELP leadline_fleet_job_runs Fleet job runs that ended in the last 24 hours.\n\
         # TYPE leadline_fleet_job_runs gauge\n",
    );
    for t in &totals {
        text.push_str(&format!(
            "leadline_fleet_job_runs{{kind=\"{}\",outcome=\"{}\"}} {}\n",
            t.kind, t.outcome, t.runs
        ));
    }
    text.push_str(
        "# HELP leadline_fleet_job_run_seconds Time taken by the fleet job runs that ended in the last 24 hours.\n\
         # TYPE leadline_fleet_job_run_seconds gauge\n",
    );
    for t in &totals {
        text.push_str(&format!(
            "leadline_fleet_job_run_seconds{{kind=\"{}\",outcome=\"{}\"}} {}\n",
            t.kind,
            t.outcome,
            t.millis as f64 / 1000.0
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
