//! `leadline serve`: the JSON API, webhooks, the dashboard and `/metrics` on axum, over the
//! same store and metric code as the CLI. [`router`] is built apart from the listener so tests
//! can drive it directly.

mod anomalies;
mod api;
mod auth;
mod body;
mod dashboard;
mod error;
mod family;
mod health;
mod metrics;
mod openapi;
mod platform;
mod product;
mod report;
mod slo;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use leadline_core::store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

use tokio::sync::Mutex;

use crate::config::{DebtConfig, DoraConfig, ServerConfig};
use crate::dora::Gathered;

pub use auth::new_token;

/// What every handler shares.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub dora: DoraConfig,
    pub server: ServerConfig,
    pub debt: DebtConfig,
    /// Flow options (bots, privacy) and teams, for capacity allocation.
    pub flow: leadline_core::flow::Options,
    pub teams: Vec<leadline_core::flow::Team>,
    /// Where the SLO files are.
    pub slo: leadline_metrics::slo::Settings,
    /// What marks a change as AI-assisted or AI-authored.
    pub ai: leadline_core::ai::Rules,
    /// Everything leadline.toml resolved to (the catalog's and scorecards' settings).
    pub settings: Arc<crate::config::Settings>,
    /// Scorecard levels for the metric seam.
    levels: crate::scorecard::Levels,
    /// The Prometheus of `[slo.prometheus] url`.
    prometheus: Option<Arc<dyn leadline_core::slo::Series>>,
    /// Listening on loopback: reads may be open while no token exists.
    pub loopback: bool,
    /// Memory that request bodies being read may hold at once.
    bodies: body::Budget,
    metrics: PrometheusHandle,
    dora_gauges: metrics::DoraGauges,
    gathered: Mutex<Option<(Instant, u64, Arc<Gathered>)>>,
    /// Bumped on every change this replica makes or hears of (PostgreSQL `NOTIFY` from other
    /// replicas and workers): a cache filled under another generation is stale.
    changes: Arc<AtomicU64>,
}

/// How long gathered DORA inputs are reused: writes through this server, and on PostgreSQL
/// the changes other replicas and workers announce, drop them at once; what other processes
/// write to a SQLite store (`ingest`, `import`) shows within this long.
const GATHERED_TTL: Duration = Duration::from_secs(30);

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        settings: &crate::config::Settings,
        loopback: bool,
    ) -> AppState {
        let resolved = Arc::new(settings.clone());
        let levels = crate::scorecard::Levels {
            store: Arc::clone(&store),
            settings: Arc::clone(&resolved),
        };
        AppState {
            bodies: body::Budget::new(settings.server.body_limit),
            levels,
            store,
            dora: settings.dora.clone(),
            server: settings.server.clone(),
            debt: settings.debt.clone(),
            flow: settings.flow.clone(),
            teams: settings.teams.clone(),
            slo: settings.slo.clone(),
            ai: settings.ai.clone(),
            settings: resolved,

            prometheus: settings.slo.prometheus_url.as_deref().and_then(|url| {
                leadline_sources::prometheus::Prometheus::new(url)
                    .ok()
                    .map(|p| Arc::new(p) as Arc<dyn leadline_core::slo::Series>)
            }),
            loopback,
            metrics: metrics::handle(),
            dora_gauges: metrics::DoraGauges::default(),
            gathered: Mutex::new(None),
            changes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Where SLO events are read (a Prometheus client that cannot be built reads nothing).
    pub fn slo_reader(&self) -> leadline_metrics::slo::Reader {
        leadline_metrics::slo::Reader {
            store: self.store.clone(),
            prometheus: self.prometheus.clone(),
        }
    }

    /// What the metric families are computed with, for the seam's readers.
    pub fn ctx<'a>(
        &'a self,
        slo_reader: &'a leadline_metrics::slo::Reader,
    ) -> leadline_metrics::scope::Ctx<'a> {
        let mut ctx = self.settings.ctx(&self.store, slo_reader);
        ctx.scorecards = Some(&self.levels);
        ctx
    }

    /// The DORA inputs, loaded at most once per [`GATHERED_TTL`] (a pass over the history
    /// costs far more than computing keys from it).
    async fn gathered(&self) -> Result<Arc<Gathered>> {
        let mut cached = self.gathered.lock().await;
        let generation = self.generation();
        if let Some((at, made_in, g)) = cached.as_ref()
            && at.elapsed() < GATHERED_TTL
            && *made_in == generation
        {
            return Ok(g.clone());
        }
        let fresh = Arc::new(crate::dora::load(&self.store, &self.dora).await?);
        *cached = Some((Instant::now(), generation, fresh.clone()));
        Ok(fresh)
    }

    /// The generation of the data as this replica knows it.
    fn generation(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// Called after this server stored something the keys depend on: its caches are stale,
    /// and so are those of the other replicas, which are told.
    async fn stored(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = self.store.announce_change().await {
            tracing::warn!("cannot tell the other replicas of a change: {e}");
        }
    }

    /// Drops the caches whenever another process announces a change (PostgreSQL).
    async fn watch_changes(&self) -> Result<bool> {
        let changes = self.changes.clone();
        let watching = self
            .store
            .watch_changes(Arc::new(move || {
                changes.fetch_add(1, Ordering::SeqCst);
            }))
            .await?;
        Ok(watching)
    }
}

/// Milliseconds since the epoch, now.
fn now() -> i64 {
    crate::time::now()
}

pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.server.body_limit;
    let timeout = state.server.request_timeout;
    // Everything here needs a token (reads on loopback may be open while none exists).
    let authorised = Router::new()
        .route("/metrics", get(metrics::render))
        // dora, flow, health, debt, capacity, incidents: one route, the family's own query type.
        .route("/api/v1/{family}", get(family::report))
        .route("/api/v1/schemas/{family}", get(family::schema))
        .route("/api/v1/metrics", get(api::metrics_catalog))
        .route("/api/v1/metric/{name}", get(api::metric))
        .route("/api/v1/services", get(api::services))
        .route(
            "/api/v1/deployments",
            get(api::list_deployments).post(api::post_deployments),
        )
        .route(
            "/api/v1/incidents",
            get(family::incidents).post(api::post_incidents),
        )
        .route("/api/v1/incidents/records", get(api::list_incidents))
        .route("/api/v1/repositories", get(api::repositories))
        .route("/api/v1/sli", post(slo::post_sli))
        .route("/api/v1/slo", get(slo::status))
        .route("/api/v1/slo/alerts", get(slo::alerts))
        .route("/api/v1/slo/burndown", get(slo::burndown))
        .route("/api/v1/events", post(product::post_events))
        .route("/api/v1/okrs", get(product::okrs))
        .route("/api/v1/catalog", get(platform::catalog))
        .route("/api/v1/scorecards", get(platform::scorecards))
        .route("/api/v1/okrs/{key_result}/checkins", post(product::checkin))
        .route("/report", get(report::page))
        .route("/api/v1/survey", get(platform::survey))
        .route("/api/v1/planning", get(platform::planning))
        .route("/api/v1/anomalies", get(anomalies::list))
        .route("/api/v1/anomalies/precision", get(anomalies::precision))
        .route("/api/v1/anomalies/{id}/ack", post(anomalies::ack))
        .route("/api/v1/anomalies/{id}/dismiss", post(anomalies::dismiss))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ));
    Router::new()
        .route("/", get(dashboard::index))
        .route("/assets/{file}", get(dashboard::asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi::document))
        // Webhooks authenticate their senders (signatures, a write token) and record refusals.
        .route("/webhooks/github", post(webhooks::github))
        .route("/webhooks/gitlab", post(webhooks::gitlab))
        .route("/webhooks/incidents", post(webhooks::incidents))
        .merge(authorised)
        .route_layer(axum::middleware::from_fn(metrics::track))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            host_guard,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

/// On a loopback address (where reads may be open), a request naming another host is refused:
/// a web page on any site could otherwise point its own name at 127.0.0.1 (DNS rebinding)
/// and read the API from the visitor's browser. Allowed: localhost, 127.0.0.1, [::1] (any
/// port) and `[server] allowed_hosts`; a request without a Host header (HTTP/1.0) is not a
/// browser's.
async fn host_guard(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_ascii_lowercase());
    match host {
        Some(host) if state.loopback && !host_allowed(&host, &state.server.allowed_hosts) => {
            let shown: String = host.chars().take(100).collect();
            error::AppError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Host {shown:?} is not this server's: use localhost or 127.0.0.1, or add the \
                     name to [server] allowed_hosts"
                ),
            )
            .into_response()
        }
        _ => next.run(request).await,
    }
}

/// `host` (lower case, with an optional port) names this loopback server.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|a| format!("[{a}]")),
        None => host.split(':').next().map(str::to_owned),
    };
    let Some(name) = name else { return false };
    matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]") || allowed.contains(&name)
}

async fn not_found() -> error::AppError {
    error::AppError::new(StatusCode::NOT_FOUND, "no such path")
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store takes a write now: a server whose disk is full, or whose database is
/// gone, must not look ready while it answers 503 to every delivery. Each probe is a fresh
/// check, so readiness comes back by itself once the store can write again.
async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, String) {
    match state.store.check_writable().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(e) => {
            tracing::error!("store not ready: {e}");
            let reason = match &e {
                leadline_core::store::StoreError::Unavailable { reason, .. } => reason.clone(),
                _ => "the store failed; see the server log".to_owned(),
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: the store cannot write ({reason})\n"),
            )
        }
    }
}

/// Listens on `addr` until SIGINT or SIGTERM, then finishes the requests in flight.
pub async fn serve(
    store: Arc<dyn Store>,
    settings: &crate::config::Settings,
    addr: &str,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local: SocketAddr = listener.local_addr()?;
    let loopback = local.ip().is_loopback();
    if !loopback && store.tokens().await?.is_empty() {
        bail!(
            "refusing to listen on {local} with no API tokens: anyone who can reach it could read \
             your data. Create one first (`leadline token create --name NAME --scope read`), or \
             listen on 127.0.0.1"
        );
    }
    let state = Arc::new(AppState::new(store, settings, loopback));
    if state.watch_changes().await? {
        tracing::info!("listening for changes from other replicas and workers");
    }
    // The listening line goes to stderr whatever the log level: scripts wait for it.
    eprintln!("leadline listening on http://{local}");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown())
        .await
        .context("the server failed")?;
    eprintln!("leadline stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    /// The router itself, driven with tower's `oneshot` on a fresh SQLite store: one route per
    /// family, 404s that name the families, the authorisation layer in front of every route.
    #[tokio::test]
    async fn the_router_serves_families_and_guards_them() {
        use axum::body::Body;
        use axum::http::{Request, StatusCode};
        use tower::ServiceExt;

        let dir = tempfile::tempdir().expect("a temporary directory");
        // An empty configuration file: the defaults, whatever the working directory holds.
        std::fs::write(dir.path().join("leadline.toml"), "").expect("a config file");
        let settings = crate::config::Settings::resolve(&crate::cli::GlobalArgs {
            db: Some(dir.path().join("leadline.db").display().to_string()),
            config: Some(dir.path().join("leadline.toml")),
            quiet: true,
            verbose: 0,
        })
        .expect("settings");
        let store: std::sync::Arc<dyn leadline_core::store::Store> = std::sync::Arc::new(
            leadline_store::SqlStore::open(&settings.db)
                .await
                .expect("a store"),
        );
        let state = std::sync::Arc::new(super::AppState::new(store.clone(), &settings, true));
        let get = |path: &str| {
            Request::get(path)
                .header("host", "localhost")
                .body(Body::empty())
                .expect("a request")
        };
        let status = |path: &'static str| {
            let app = super::router(state.clone());
            let request = get(path);
            async move { app.oneshot(request).await.expect("a response").status() }
        };
        // Open reads on loopback while no token exists.
        assert_eq!(status("/api/v1/metrics").await, StatusCode::OK);
        assert_eq!(status("/api/v1/flow").await, StatusCode::OK);
        assert_eq!(status("/api/v1/schemas/dora").await, StatusCode::OK);
        assert_eq!(status("/api/v1/velocity").await, StatusCode::NOT_FOUND);
        assert_eq!(status("/api/v1/dora?by=day").await, StatusCode::BAD_REQUEST);
        // Once a token exists, every family needs one.
        store
            .create_token(&leadline_core::events::ApiToken {
                name: "ci".into(),
                hash: "0".repeat(64),
                scope: leadline_core::events::Scope::Read,
                created_at: 0,
            })
            .await
            .expect("a token");
        for path in [
            "/api/v1/dora",
            "/api/v1/flow",
            "/api/v1/velocity",
            "/api/v1/metrics",
        ] {
            assert_eq!(status(path).await, StatusCode::UNAUTHORIZED, "{path}");
        }
        assert_eq!(status("/healthz").await, StatusCode::OK);
    }

    #[test]
    fn only_loopback_names_and_configured_hosts_are_allowed() {
        let allowed = ["leadline.internal".to_owned()];
        for host in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:9",
            "[::1]:8080",
            "[::1]",
            "leadline.internal:443",
        ] {
            assert!(host_allowed(host, &allowed), "{host}");
        }
        for host in [
            "evil.example",
            "127.0.0.1.evil.example",
            "localhost.evil:80",
            "[::2]",
            "",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
    }
}
