//! The HTTP server: GraphQL (POST) and GraphiQL (GET) on `/graphql`, `/healthz`, `/readyz`.
//! Each server has its own search index, fed by the change log.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::{self, Viewer};
use crate::config::Config;
use crate::error::ApiError;
use crate::graphql::{AppSchema, build_schema};
use crate::listings::MapLoader;
use crate::reference::ReferenceData;
use crate::search::{self, SearchIndex};

#[derive(Clone)]
pub struct AppState {
    schema: AppSchema,
    db: DatabaseConnection,
}

impl AppState {
    /// Loads reference data, opens (or builds) the search index in `index_dir` and starts
    /// it following the change log, and builds the schema over an already prepared database.
    pub async fn new(db: DatabaseConnection, index_dir: &Path) -> anyhow::Result<Self> {
        let reference = Arc::new(ReferenceData::load(&db).await?);
        let search = SearchIndex::open(index_dir, &db, reference.clone(), false).await?;
        search::follow(&search, db.clone());
        Ok(AppState {
            schema: build_schema(db.clone(), reference, search),
            db,
        })
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(state)
}

/// The address a request came from, for limits per client (`suggestChange`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let viewer = match bearer_token(&headers) {
        None => Viewer::Anonymous,
        Some(token) => match auth::authenticate(&state.db, token).await {
            Ok(viewer) => viewer,
            // A bad token is refused, never downgraded to anonymous: the client must know.
            Err(error) => {
                let error: async_graphql::Error = ApiError::from(error).into();
                return async_graphql::Response::from_errors(vec![error.into_server_error(Default::default())]).into();
            }
        },
    };
    let loader = DataLoader::new(MapLoader::new(state.db.clone()), tokio::spawn);
    state
        .schema
        .execute(
            request
                .into_inner()
                .data(loader)
                .data(viewer)
                .data(ClientAddress(peer.ip())),
        )
        .await
        .into()
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").title("socialmap").finish())
}

/// Ready when the database answers.
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database not reachable")
        }
    }
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
    let db = crate::db::connect(config).await?;
    crate::db::prepare(&db, config.demo_map).await?;
    start_with(db, config.listen, &config.index_dir(), shutdown).await
}

/// Serves an already prepared database on `listen`, with its search index in `index_dir`,
/// until `shutdown` completes.
pub async fn start_with(
    db: DatabaseConnection,
    listen: SocketAddr,
    index_dir: &Path,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    let state = AppState::new(db, index_dir).await?;
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    });
    Ok(RunningServer { address, task })
}
