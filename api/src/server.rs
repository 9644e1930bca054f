//! The HTTP server: GraphQL (POST) and GraphiQL (GET) on `/graphql`, subscriptions over
//! WebSocket on `/graphql/ws`, the HSDS API under `/hsds/`, `/healthz`, `/readyz`. Each server has its own search index,
//! fed by the change log, and runs the referral jobs (expiry, erasure).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, BatchResponse, Data};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::Router;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, Viewer};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::graphql::{AppSchema, build_schema};
use crate::hsds::routes::HsdsState;
use crate::listings::MapLoader;
use crate::metrics::Metrics;
use crate::reference::ReferenceData;
use crate::referrals::{self, Keyring, ReferralFeed};
use crate::search::{self, SearchIndex};

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

/// What the referral capability needs from the configuration.
#[derive(Clone)]
pub struct ReferralSettings {
    pub keyring: Arc<Keyring>,
    /// Days after closing before a referral's personal fields are erased.
    pub retention_days: u32,
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
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    schema: AppSchema,
    db: DatabaseConnection,
    hsds: HsdsState,
    limits: Limits,
    search: Arc<SearchIndex>,
    metrics: Arc<Metrics>,
    limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

impl AppState {
    /// Loads reference data, opens (or builds) the search index in `index_dir` and starts
    /// it following the change log, starts the referral jobs, and builds the schema over an
    /// already prepared database.
    pub async fn new(
        db: DatabaseConnection,
        index_dir: &Path,
        referrals: ReferralSettings,
        limits: Limits,
    ) -> anyhow::Result<Self> {
        let reference = Arc::new(ReferenceData::load(&db).await?);
        let search = SearchIndex::open(index_dir, &db, reference.clone(), false).await?;
        search::follow(&search, db.clone());
        let feed = ReferralFeed::default();
        referrals::jobs::spawn(
            db.clone(),
            referrals.keyring.clone(),
            feed.clone(),
            referrals.retention_days,
        );
        let hsds = HsdsState {
            db: db.clone(),
            reference: reference.clone(),
            search: search.clone(),
        };
        let metrics = Arc::new(Metrics::new());
        let limiter = limits
            .requests_per_minute
            .map(|n| Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))));
        Ok(AppState {
            schema: build_schema(
                db.clone(),
                reference,
                search.clone(),
                referrals.keyring,
                feed,
                metrics.clone(),
                limits.introspection,
            ),
            db,
            hsds,
            limits,
            search,
            metrics,
            limiter,
        })
    }
}

pub fn router(state: AppState) -> Router {
    let hsds = crate::hsds::routes::router(state.hsds.clone());
    let graphql = Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .layer(cors(&state.limits.cors_origins));
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
        // Outermost: every request has an id before anything else sees it.
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Browsers may call `/graphql` from the configured origins only, with a bearer token.
fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
}

/// The address a request came from, for limits per client (`suggestChange`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limits = state.limits.clone();
    let client = client_address(peer.ip(), &headers, &limits.trusted_proxies);
    let Ok(bytes) = axum::body::to_bytes(body, limits.max_body_bytes).await else {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            format!("the request body is larger than {} bytes", limits.max_body_bytes),
        );
    };
    // PostgreSQL cannot store NUL in text, and no user means one: refuse it up front, for
    // every text argument alike.
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return refusal(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "text must not contain NUL characters (\\u0000)".to_owned(),
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(error) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                format!("the request body is not a GraphQL request in JSON: {error}"),
            );
        }
    };
    if let BatchRequest::Batch(requests) = &batch
        && !(1..=limits.max_batch).contains(&requests.len())
    {
        return refusal(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            format!(
                "a batch holds 1 to {} operations, got {}",
                limits.max_batch,
                requests.len()
            ),
        );
    }
    if let Some(limiter) = &state.limiter {
        // A token is its own client; without one, the address is.
        let key = bearer_token(&headers).map_or_else(|| format!("address {client}"), |t| format!("token {t}"));
        if let Err(not_until) = limiter.check_key(&key) {
            let wait = not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1);
            let error = ApiError::rate_limited(format!("too many requests: try again in {wait} s"), wait);
            let mut response = error_response(StatusCode::TOO_MANY_REQUESTS, error);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return response;
        }
        if limiter.len() > MAX_TRACKED_CLIENTS {
            limiter.retain_recent();
        }
    }
    let viewer = match bearer_token(&headers) {
        None => Viewer::Anonymous,
        Some(token) => match auth::authenticate(&state.db, token).await {
            Ok(viewer) => viewer,
            // A bad token is refused, never downgraded to anonymous: the client must know.
            Err(error) => return error_response(StatusCode::OK, ApiError::from(error)),
        },
    };
    let with_data = |request: async_graphql::Request| {
        request
            .data(DataLoader::new(MapLoader::new(state.db.clone()), tokio::spawn))
            .data(viewer.clone())
            .data(ClientAddress(client))
    };
    let batch = match batch {
        BatchRequest::Single(request) => BatchRequest::Single(with_data(request)),
        BatchRequest::Batch(requests) => BatchRequest::Batch(requests.into_iter().map(with_data).collect()),
    };
    match tokio::time::timeout(limits.timeout, state.schema.execute_batch(batch)).await {
        Ok(response) => GraphQLResponse::from(match response {
            BatchResponse::Single(one) => BatchResponse::Single(coded(one)),
            BatchResponse::Batch(all) => BatchResponse::Batch(all.into_iter().map(coded).collect()),
        })
        .into_response(),
        Err(_) => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal,
            format!(
                "the request was stopped after {} s; ask for less (smaller pages, fewer nested lists)",
                limits.timeout.as_secs()
            ),
        ),
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy. Then it is the
/// nearest address in `X-Forwarded-For` (read from the right, as each proxy appends the
/// address it saw) that is not itself a trusted proxy: whatever a client wrote to the left
/// of that is its own claim and never believed.
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    for hop in hops.iter().rev() {
        let hop = hop.trim();
        // An address, or one with a port (`203.0.113.7:5123`, `[2001:db8::1]:443`).
        let Some(address) = hop
            .parse::<IpAddr>()
            .ok()
            .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        else {
            break;
        };
        client = address.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// Clients the rate limiter remembers before it forgets those back at a full quota.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Errors that async-graphql raises itself (syntax, unknown fields, argument types, depth,
/// complexity) carry no code; they are all the client's to fix.
fn coded(mut response: async_graphql::Response) -> async_graphql::Response {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::BadUserInput.as_str());
        }
    }
    response
}

/// A GraphQL error response for a request refused before it ran.
fn refusal(status: StatusCode, code: ErrorCode, message: String) -> Response {
    error_response(status, ApiError::new(code, message))
}

fn error_response(status: StatusCode, error: ApiError) -> Response {
    let error: async_graphql::Error = error.into();
    let response = async_graphql::Response::from_errors(vec![error.into_server_error(Default::default())]);
    (status, GraphQLResponse::from(response)).into_response()
}

/// GraphQL subscriptions over WebSocket (graphql-transport-ws or graphql-ws). The token comes
/// in the `connection_init` payload, as `{"Authorization": "Bearer <token>"}`.
async fn graphql_ws(State(state): State<AppState>, protocol: GraphQLProtocol, upgrade: WebSocketUpgrade) -> Response {
    let AppState { schema, db, .. } = state;
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|value| value.as_str())
                        .and_then(|value| value.split_once(' '))
                        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                        .map(|(_, token)| token.trim().to_owned());
                    let viewer = match token {
                        None => Viewer::Anonymous,
                        Some(token) => auth::authenticate(&db, &token)
                            .await
                            .map_err(|error| async_graphql::Error::from(ApiError::from(error)))?,
                    };
                    let mut data = Data::default();
                    data.insert(viewer);
                    data.insert(DataLoader::new(MapLoader::new(db.clone()), tokio::spawn));
                    Ok(data)
                })
                .serve()
        })
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("socialmap")
            .finish(),
    )
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
    let referrals = ReferralSettings {
        keyring: Arc::new(Keyring::from_config(config)?),
        retention_days: config.referral_retention_days,
    };
    let db = crate::db::connect(config).await?;
    crate::db::prepare(&db, config.demo_map).await?;
    prune_change_log(db.clone(), config.change_log_retention_days);
    start_with_limits(
        db,
        config.listen,
        &config.index_dir(),
        referrals,
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
    referrals: ReferralSettings,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    let grace = limits.shutdown_grace;
    let state = AppState::new(db.clone(), index_dir, referrals, limits).await?;
    let search = state.search.clone();
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
        // restart finds it current.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn networks(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_nearest_untrusted_hop_behind_trusted_proxies() {
        let proxies = networks(&["10.0.0.0/8", "127.0.0.1/32"]);
        let cases = [
            // (peer, X-Forwarded-For headers, client)
            ("203.0.113.9", vec!["198.51.100.1"], "203.0.113.9"), // not a proxy: header ignored
            ("127.0.0.1", vec![], "127.0.0.1"),                   // a proxy that said nothing
            ("127.0.0.1", vec!["198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1", vec!["6.6.6.6, 198.51.100.1"], "198.51.100.1"), // a forged hop on the left
            ("127.0.0.1", vec!["198.51.100.1, 10.1.2.3"], "198.51.100.1"), // two proxies
            ("127.0.0.1", vec!["198.51.100.1", "10.1.2.3"], "198.51.100.1"), // two headers
            ("127.0.0.1", vec!["10.9.9.9, 10.1.2.3"], "10.9.9.9"),        // only proxies: the farthest
            ("127.0.0.1", vec!["198.51.100.1:5123"], "198.51.100.1"),
            ("127.0.0.1", vec!["[2001:db8::7]:443"], "2001:db8::7"),
            ("127.0.0.1", vec!["::ffff:198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1", vec!["198.51.100.1, unknown"], "127.0.0.1"), // garbage: stop there
            ("::ffff:127.0.0.1", vec!["198.51.100.1"], "198.51.100.1"),
        ];
        for (peer, headers, client) in cases {
            assert_eq!(
                client_address(ip(peer), &forwarded(&headers), &proxies),
                ip(client),
                "peer {peer}, X-Forwarded-For {headers:?}"
            );
        }
        assert_eq!(
            client_address(ip("127.0.0.1"), &forwarded(&["198.51.100.1"]), &[]),
            ip("127.0.0.1"),
            "no trusted proxies: the header means nothing"
        );
    }
}
