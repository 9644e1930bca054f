//! `spawn_app()`: the server on port 0 against a database of its own, and helpers to query it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use entity::enums::Role;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct TestApp {
    pub address: SocketAddr,
    client: reqwest::Client,
    database: Arc<TestDatabase>,
    /// The referral encryption key, shared with replicas.
    pub encryption_key: String,
    /// Kept for its `Drop`, which removes the directory.
    _index: IndexDir,
    stop: Option<oneshot::Sender<()>>,
}

/// A replica's own search-index directory, removed after the test.
pub struct IndexDir(pub PathBuf);

impl IndexDir {
    fn create() -> IndexDir {
        let dir = std::env::temp_dir().join(format!("socialmap-index-{}", uuid::Uuid::new_v4().simple()));
        IndexDir(dir)
    }
}

impl Drop for IndexDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database that exists for one test and is removed after it.
pub enum TestDatabase {
    Sqlite { dir: PathBuf },
    Postgres(api::db::ScratchDatabase),
}

impl TestDatabase {
    /// A new, empty database: an SQLite file, or a PostgreSQL database when
    /// `TEST_DATABASE_URL` is set.
    pub async fn create() -> TestDatabase {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => TestDatabase::Postgres(
                api::db::create_database(&admin_url, "socialmap_test")
                    .await
                    .expect("TEST_DATABASE_URL must be reachable by a user that may create databases"),
            ),
            _ => {
                let dir = std::env::temp_dir().join(format!("socialmap-test-{unique}"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                TestDatabase::Sqlite { dir }
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            TestDatabase::Sqlite { dir } => format!("sqlite://{}?mode=rwc", dir.join("socialmap.sqlite").display()),
            TestDatabase::Postgres(database) => database.url.clone(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDatabase::Postgres(database) => {
                // Drop runs inside the test's runtime; a fresh one on its own thread may block.
                std::thread::scope(|scope| {
                    scope.spawn(|| {
                        let runtime = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .ok()?;
                        runtime.block_on(api::db::drop_database(database)).ok()
                    });
                });
            }
        }
    }
}

/// Starts the server against a fresh database with reference data and the demo map.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, after `adjust` had the prepared connection (e.g. to count statements).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut DatabaseConnection)) -> TestApp {
    spawn(adjust, api::server::Limits::default()).await
}

/// Like `spawn_app`, with other request limits (e.g. trusted proxies).
pub async fn spawn_app_limited(limits: api::server::Limits) -> TestApp {
    spawn(|_| {}, limits).await
}

async fn spawn(adjust: impl FnOnce(&mut DatabaseConnection), limits: api::server::Limits) -> TestApp {
    let database = Arc::new(TestDatabase::create().await);
    let mut db = api::db::connect_url(&database.url())
        .await
        .expect("test database opens");
    api::db::prepare(&db, true)
        .await
        .expect("test database migrates and seeds");
    adjust(&mut db);
    serve(
        database,
        db,
        IndexDir::create(),
        api::referrals::Keyring::generate_key(),
        limits,
    )
    .await
}

async fn serve(
    database: Arc<TestDatabase>,
    db: DatabaseConnection,
    index: IndexDir,
    encryption_key: String,
    limits: api::server::Limits,
) -> TestApp {
    let (stop, stopped) = oneshot::channel::<()>();
    let privacy = api::server::PrivacySettings {
        keyring: Arc::new(api::referrals::Keyring::new(&encryption_key, &[]).unwrap()),
        referral_retention_days: 180,
        plan_retention_days: 180,
    };
    let server = api::server::start_with_limits(
        db,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &index.0,
        privacy,
        limits,
        async {
            let _ = stopped.await;
        },
    )
    .await
    .expect("server starts");
    TestApp {
        address: server.address,
        client: reqwest::Client::new(),
        database,
        encryption_key,
        _index: index,
        stop: Some(stop),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn database_url(&self) -> String {
        self.database.url()
    }

    /// A connection of the test's own to the app's database, to change it behind the API.
    pub async fn connect(&self) -> DatabaseConnection {
        api::db::connect_url(&self.database.url())
            .await
            .expect("test database opens")
    }

    /// Another server on the same database with an index of its own, as a second replica.
    pub async fn spawn_replica(&self) -> TestApp {
        serve(
            self.database.clone(),
            self.connect().await,
            IndexDir::create(),
            self.encryption_key.clone(),
            api::server::Limits::default(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request reaches the server")
    }

    pub async fn post_raw(&self, body: &str) -> reqwest::Response {
        self.client
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request reaches the server")
    }

    /// The whole GraphQL response.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(None, query, variables).await
    }

    /// The whole GraphQL response to a request with `Authorization: Bearer <token>`.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request reaches the server");
        // A refusal before the request ran has its own status (401 for a bad token): the
        // tests read the GraphQL body either way.
        assert!(!response.status().is_server_error(), "HTTP {}", response.status());
        response.json().await.expect("a JSON response")
    }

    /// `data` of a response that must have no errors.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
        response["data"].clone()
    }

    /// The first error of a response that must fail: its `extensions.code` and message.
    pub async fn error(&self, query: &str, variables: Value) -> (String, String) {
        let response = self.graphql(query, variables).await;
        let error = &response["errors"][0];
        assert!(error.is_object(), "expected an error, got {response:#}");
        (
            error["extensions"]["code"].as_str().unwrap_or("<no code>").to_owned(),
            error["message"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

/// The `node`s of a connection.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// The string values of `field` in each of `values`.
pub fn strings(values: &[Value], field: &str) -> Vec<String> {
    values
        .iter()
        .map(|v| v[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A WebSocket client of the server's `/graphql/ws`.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// A WebSocket on `/graphql/ws` offering `protocol`, not yet initialised.
    pub async fn websocket(&self, protocol: &str) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{}/graphql/ws", self.address)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket opens");
        socket
    }

    /// A graphql-transport-ws socket after `connection_init` with `token` (none: anonymous)
    /// and its `connection_ack`.
    pub async fn websocket_ready(&self, token: Option<&str>) -> Socket {
        let mut socket = self.websocket("graphql-transport-ws").await;
        let payload = token.map_or(json!({}), |t| json!({ "Authorization": format!("Bearer {t}") }));
        send(&mut socket, json!({ "type": "connection_init", "payload": payload })).await;
        let ack = receive(&mut socket).await;
        assert_eq!(ack["type"], "connection_ack", "{ack:#}");
        socket
    }
}

pub async fn send(socket: &mut Socket, message: Value) {
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(message.to_string()))
        .await
        .expect("the socket takes the message");
}

/// The next text message; the socket must stay open.
pub async fn receive(socket: &mut Socket) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message arrives")
            .expect("the socket stays open")
            .expect("a valid frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => panic!("the server closed the socket: {frame:?}"),
            _ => {}
        }
    }
}

/// Waits for the server to close the socket: its close code and reason.
pub async fn closed(socket: &mut Socket) -> (u16, String) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("the server closes in time");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code.into(), frame.reason.to_string()),
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => panic!("closed without a close frame"),
            Some(Ok(_)) => {}
        }
    }
}

/// One operation over a ready graphql-transport-ws socket: its `next` or `error` message
/// (and, after `next`, the `complete` that must follow).
pub async fn operate(socket: &mut Socket, id: &str, query: &str, variables: Value) -> Value {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
    let answer = receive(socket).await;
    assert_eq!(answer["id"], id, "{answer:#}");
    if answer["type"] == "next" {
        let complete = receive(socket).await;
        assert_eq!(complete, json!({ "type": "complete", "id": id }));
    }
    answer
}

/// The first update a started subscription delivers after `change`. Neither protocol says
/// when a subscription is listening, so `change` is repeated until one arrives: it must be
/// harmless to repeat (a note, a re-answer), and what arrives is what it caused.
pub async fn heard<F, Fut>(socket: &mut Socket, mut change: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    for _ in 0..20 {
        change().await;
        while let Ok(message) = tokio::time::timeout(std::time::Duration::from_millis(500), socket.next()).await {
            match message.expect("the socket stays open").expect("a valid frame") {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(frame) => panic!("the server closed the socket: {frame:?}"),
                _ => {}
            }
        }
    }
    panic!("the subscription heard nothing of twenty changes");
}

/// The password of every account the tests create.
pub const PASSWORD: &str = "correct horse battery";

pub fn service_id(key: &str) -> String {
    api::relay::global_id(api::relay::NodeKind::Service, &seed::demo_id("service", key)).0
}

/// Creates an account and logs it in; returns its token.
pub async fn account(
    app: &TestApp,
    email: &str,
    role: Role,
    municipality: Option<&str>,
    organization: Option<&str>,
) -> String {
    let db = app.connect().await;
    let reference = api::reference::ReferenceData::load(&db).await.unwrap();
    api::auth::create_account(
        &db,
        &reference,
        api::auth::NewAccount {
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
            role,
            municipalities: municipality.into_iter().map(str::to_owned).collect(),
            organization_id: organization.map(|key| seed::demo_id("organization", key)),
        },
    )
    .await
    .unwrap();
    let login = app
        .graphql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            json!({ "e": email, "p": PASSWORD }),
        )
        .await;
    login["data"]["login"]["token"].as_str().unwrap().to_owned()
}

pub fn code(response: &Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}
