//! The HTTP server: GraphQL (POST) and GraphiQL (GET) on `/graphql`, subscriptions over
//! WebSocket on `/graphql/ws`, the HSDS API under `/hsds/`, `/healthz`, `/readyz`. Each server has its own search index,
//! fed by the change log, and runs the referral jobs (expiry, erasure).

mod address_limit;
mod client;
mod http;
mod pipeline;
mod websocket;

pub use address_limit::AddressLimiter;
pub use pipeline::{ClientAddress, MAX_COMPLEXITY, MAX_DEPTH, MAX_SEARCHES_PER_REQUEST};

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ipnet::IpNet;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::graphql::build_schema;
use crate::hsds::routes::HsdsState;
use crate::metrics::Metrics;
use crate::reference::ReferenceData;
use crate::referrals::{self, Keyring, ReferralFeed};
use crate::search::{self, SearchIndex};
use pipeline::Pipeline;

/// How often a server prunes the change log.
const PRUNE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Prunes change-log rows older than `retention_days`, hourly, while the server runs. Every
/// replica may do it: deleting what another already deleted is harmless.
fn prune_change_log(db: DatabaseConnection, retention_days: u32) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_INTERVAL);
        loop {
            every.tick().await;
            let before = chrono::Utc::now() - chrono::Duration::days(i64::from(retention_days));
            match search::prune_change_log(&db, before).await {
                Ok(0) => {}
                Ok(rows) => tracing::info!(rows, "pruned the change log"),
                Err(error) => tracing::warn!(%error, "pruning the change log failed; retrying in an hour"),
            }
        }
    });
}

/// What referrals and support plans need to keep families' data private: the keyring that
/// seals their free text, and how long closed ones keep it.
#[derive(Clone)]
pub struct PrivacySettings {
    pub keyring: Arc<Keyring>,
    /// Days after closing before a referral's personal fields are erased.
    pub referral_retention_days: u32,
    /// Days after closing before a support plan's content is erased.
    pub plan_retention_days: u32,
}

/// What one GraphQL request may ask of the server, and which browser origins may ask.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_batch: usize,
    pub timeout: Duration,
    pub introspection: bool,
    pub cors_origins: Vec<String>,
    /// Requests per minute per token or client address; `None`: no limit.
    pub requests_per_minute: Option<NonZeroU32>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// How long a stopping server waits for requests in flight.
    pub shutdown_grace: Duration,
    /// Open subscriptions one client (token or address) may hold, and the server in all.
    pub max_subscriptions_per_client: usize,
    pub max_subscriptions: usize,
    /// How long a WebSocket may stay open before its `connection_init`.
    pub connection_init_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from(&Config::default())
    }
}

impl From<&Config> for Limits {
    fn from(config: &Config) -> Self {
        Limits {
            max_body_bytes: config.max_body_bytes,
            max_batch: config.max_batch,
            timeout: Duration::from_secs(config.request_timeout_seconds),
            introspection: config.introspection,
            cors_origins: config.cors_origins.clone(),
            requests_per_minute: NonZeroU32::new(config.requests_per_minute),
            trusted_proxies: config.trusted_proxies.iter().map(|network| network.0).collect(),
            shutdown_grace: Duration::from_secs(config.shutdown_grace_seconds),
            max_subscriptions_per_client: config.max_subscriptions_per_client,
            max_subscriptions: config.max_subscriptions,
            connection_init_timeout: CONNECTION_INIT_TIMEOUT,
        }
    }
}

/// graphql-ws's own default is 3 s; a slow mobile link deserves more.
const CONNECTION_INIT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct AppState {
    pipeline: Arc<Pipeline>,
    db: DatabaseConnection,
    hsds: HsdsState,
    cors_origins: Vec<String>,
    search: Arc<SearchIndex>,
    metrics: Arc<Metrics>,
}

impl AppState {
    /// Loads reference data, opens (or builds) the search index in `index_dir`, starts the
    /// referral jobs, and builds the schema over an
    /// already prepared database.
    pub async fn new(
        db: DatabaseConnection,
        index_dir: &Path,
        privacy: PrivacySettings,
        limits: Limits,
    ) -> anyhow::Result<Self> {
        let reference = Arc::new(ReferenceData::load(&db).await?);
        let search = SearchIndex::open(index_dir, &db, reference.clone(), false).await?;
        let feed = ReferralFeed::default();
        referrals::jobs::spawn(
            db.clone(),
            privacy.keyring.clone(),
            feed.clone(),
            privacy.referral_retention_days,
        );
        crate::plans::spawn_erasure(db.clone(), privacy.plan_retention_days);
        let hsds = HsdsState {
            db: db.clone(),
            reference: reference.clone(),
            search: search.clone(),
        };
        let metrics = Arc::new(Metrics::new());
        let schema = build_schema(
            db.clone(),
            reference,
            search.clone(),
            privacy.keyring,
            feed,
            metrics.clone(),
            limits.introspection,
        );
        Ok(AppState {
            cors_origins: limits.cors_origins.clone(),
            pipeline: Arc::new(Pipeline::new(schema, db.clone(), limits, metrics.clone())),
            db,
            hsds,
            search,
            metrics,
        })
    }
}

pub fn router(state: AppState) -> Router {
    let hsds = crate::hsds::routes::router(state.hsds.clone());
    let graphql = Router::new()
        .route("/graphql", get(http::graphiql).post(http::graphql))
        .route("/graphql/ws", get(websocket::upgrade))
        .layer(cors(&state.cors_origins));
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .merge(graphql)
        .with_state(state)
        .merge(hsds)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        // The request id names the span, so every log line of a request carries it; the path
        // is logged without its query string.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<Body>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", id, method = %request.method(), path = request.uri().path())
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        // Outermost: a client's request id is kept only if it is sane, else replaced, so
        // that logs and responses never carry whatever a client wrote there.
        .layer(axum::middleware::map_request(sane_request_id))
}

/// Browsers may call `/graphql` from the configured origins only, with a bearer token.
fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
}

/// A client may name its request (to find it in our logs) with up to 64 letters, digits,
/// `-`, `_`, `.` or `:`; any other `x-request-id` is dropped and a new one made.
async fn sane_request_id(mut request: axum::http::Request<Body>) -> axum::http::Request<Body> {
    let sane = |value: &HeaderValue| {
        let bytes = value.as_bytes();
        (1..=64).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    };
    let headers = request.headers_mut();
    let all_sane = {
        let values: Vec<&HeaderValue> = headers.get_all("x-request-id").iter().collect();
        values.len() <= 1 && values.iter().all(|v| sane(v))
    };
    if !all_sane {
        headers.remove("x-request-id");
    }
    request
}

/// Index lag (change-log rows) beyond which a replica stops taking traffic.
const READY_LAG: i64 = 1_000;

/// Ready when the database answers, every migration this binary knows has run, and the
/// search index is no more than `READY_LAG` rows behind the change log.
async fn ready(State(state): State<AppState>) -> Response {
    let database = state.db.ping().await.is_ok();
    let pending = match <migration::Migrator as migration::MigratorTrait>::get_pending_migrations(&state.db).await {
        Ok(pending) => Some(pending.len()),
        Err(_) => None,
    };
    let lag = state.search.lag(&state.db).await.ok();
    let ready = database && pending == Some(0) && lag.is_some_and(|lag| lag <= READY_LAG);
    if !ready {
        tracing::warn!(database, ?pending, ?lag, "not ready");
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "ready": ready,
        "database": database,
        "pendingMigrations": pending,
        "indexLag": lag,
    });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(&state.db, &state.search).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// A server that is accepting connections.
pub struct RunningServer {
    pub address: SocketAddr,
    pub task: JoinHandle<std::io::Result<()>>,
}

/// Opens and prepares the database, binds `config.listen` (port 0 picks a free port) and
/// serves until `shutdown` completes.
pub async fn start(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    let privacy = PrivacySettings {
        keyring: Arc::new(Keyring::from_config(config)?),
        referral_retention_days: config.referral_retention_days,
        plan_retention_days: config.plan_retention_days,
    };
    let db = crate::db::connect(config).await?;
    crate::db::prepare(&db, config.demo_map).await?;
    prune_change_log(db.clone(), config.change_log_retention_days);
    start_with_limits(
        db,
        config.listen,
        &config.index_dir(),
        privacy,
        Limits::from(config),
        shutdown,
    )
    .await
}

/// Serves an already prepared database on `listen`, with its search index in `index_dir`
/// and the given request limits, until `shutdown` completes; then finishes the requests in
/// flight (for at most `limits.shutdown_grace`) and commits the index.
pub async fn start_with_limits(
    db: DatabaseConnection,
    listen: SocketAddr,
    index_dir: &Path,
    privacy: PrivacySettings,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    let grace = limits.shutdown_grace;
    let state = AppState::new(db.clone(), index_dir, privacy, limits).await?;
    let search = state.search.clone();
    let follower = search::follow(&search, db.clone());
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        // On the signal axum stops accepting and lets each connection finish the request it
        // is on; open subscriptions would keep it waiting for ever, hence the grace period.
        let serving = axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping.send(());
        });
        let overdue = async move {
            if stopped.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = serving => served?,
            () = overdue => tracing::warn!("stopped waiting for open connections after {grace:?}"),
        }
        // Writes of the last requests are in the change log; the index takes them now, so a
        // restart finds it current. The follower stops first: when the server has stopped,
        // nothing of it reads the database any more.
        follower.abort();
        let _ = follower.await;
        match search.catch_up(&db).await {
            Ok(_) => tracing::info!("search index committed"),
            Err(error) => {
                tracing::warn!(%error, "the search index could not take the last changes; it will on restart")
            }
        }
        Ok(())
    });
    Ok(RunningServer { address, task })
}
