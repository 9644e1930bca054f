//! `socialmap serve` as a real process, on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL:
//! - killed with SIGKILL in the middle of a stream of writes, and restarted on the same data,
//!   it has lost no write it acknowledged, and its search index agrees with its database;
//! - stopped with SIGTERM, it stops accepting connections, finishes the request in flight,
//!   commits its index up to the last change and exits cleanly, without waiting for ever on
//!   a client that never finishes its request.
//!
//! These tests live with the binary (not in `tests/`) because only here does Cargo build the
//! binary and say where it is.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BINARY: &str = env!("CARGO_BIN_EXE_socialmap");
const PASSWORD: &str = "correct horse battery";
/// How long a stopping server waits for a request that does not finish.
const GRACE_SECONDS: u64 = 3;

const READ: &str = "query($id: ID!) { service(id: $id) { name version } }";
const RENAME: &str = "mutation($id: ID!, $v: Int!, $name: String!) {
    updateService(id: $id, version: $v, input: { name: $name }) { version } }";
const SEARCH: &str = "query($text: String!) { searchServices(input: { text: $text }) { edges { node { id name } } } }";

/// A data directory (for the index, and the SQLite file) and the database the server uses.
struct Store {
    data: PathBuf,
    postgres: Option<api::db::ScratchDatabase>,
}

impl Store {
    async fn create() -> Store {
        let data = std::env::temp_dir().join(format!("socialmap-process-{}", uuid::Uuid::new_v4().simple()));
        let postgres = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => Some(
                api::db::create_database(&admin_url, "socialmap_test")
                    .await
                    .expect("TEST_DATABASE_URL must be reachable by a user that may create databases"),
            ),
            _ => None,
        };
        Store { data, postgres }
    }

    fn database_url(&self) -> String {
        match &self.postgres {
            Some(database) => database.url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data.join("socialmap.sqlite").display()),
        }
    }

    fn socialmap(&self) -> Command {
        let mut command = Command::new(BINARY);
        command
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--database-url")
            .arg(self.database_url())
            .env("SOCIALMAP_LOG", "warn")
            .env("SOCIALMAP_REQUESTS_PER_MINUTE", "0")
            .env("SOCIALMAP_SHUTDOWN_GRACE_SECONDS", GRACE_SECONDS.to_string());
        command
    }

    fn serve(&self, port: u16) -> Child {
        self.socialmap()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socialmap serve starts")
    }

    /// An admin's API token, made by the CLI on the database `serve` will use.
    fn admin_token(&self) -> String {
        let created = self
            .socialmap()
            .args([
                "account",
                "create",
                "--email",
                "admin@process.example",
                "--role",
                "admin",
                "--token",
            ])
            .env("SOCIALMAP_PASSWORD", PASSWORD)
            .output()
            .expect("account create runs");
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        String::from_utf8(created.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_owned()
    }

    async fn remove(self) {
        if let Some(database) = &self.postgres {
            api::db::drop_database(database).await.unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(Instant::now() < deadline, "the server did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn graphql(
    client: &reqwest::Client,
    port: u16,
    token: &str,
    query: &str,
    variables: Value,
) -> reqwest::Result<Value> {
    client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?
        .json()
        .await
}

/// The demo map's service the tests rename, as a GraphQL id.
fn renamed_service() -> String {
    api::relay::global_id(
        api::relay::NodeKind::Service,
        &seed::demo_id("service", "ocmw-aalst-huurwaarborg"),
    )
    .0
}

async fn version_of(client: &reqwest::Client, port: u16, token: &str, service: &str) -> i64 {
    graphql(client, port, token, READ, json!({ "id": service }))
        .await
        .unwrap()["data"]["service"]["version"]
        .as_i64()
        .unwrap()
}

/// The ids `searchServices` finds for `text`.
async fn found(client: &reqwest::Client, port: u16, token: &str, text: &str) -> Vec<String> {
    let answer = graphql(client, port, token, SEARCH, json!({ "text": text }))
        .await
        .unwrap();
    answer["data"]["searchServices"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits (at most `within`) for the process to exit.
fn exit_within(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test]
async fn a_replica_killed_mid_write_loses_no_acknowledged_write() {
    let store = Store::create().await;
    let token = store.admin_token();
    let client = reqwest::Client::new();
    let port = free_port();
    let mut child = store.serve(port);
    wait_ready(&client, port).await;
    let service = renamed_service();

    // A stream of renames, each from the version the last one returned.
    let mut acknowledged: Option<(String, i64)> = None;
    let mut version = version_of(&client, port, &token, &service).await;
    for n in 0..40 {
        let name = format!("Crashproef{n}");
        let rename = graphql(
            &client,
            port,
            &token,
            RENAME,
            json!({ "id": service, "v": version, "name": name }),
        );
        if n == 25 {
            // Kill it while this write is in flight: it may or may not have committed.
            let kill = async {
                tokio::time::sleep(Duration::from_millis(2)).await;
                child.kill().expect("SIGKILL");
                child.wait().unwrap();
            };
            let _ = tokio::join!(rename, kill);
            break;
        }
        let response = rename.await.unwrap();
        version = response["data"]["updateService"]["version"]
            .as_i64()
            .expect("acknowledged");
        acknowledged = Some((name, version));
    }
    // Already killed above; this reaps it on every path.
    let _ = child.kill();
    let _ = child.wait();
    let (last_name, last_version) = acknowledged.expect("writes were acknowledged before the kill");

    // Restart on the same data: the database and the index agree, and nothing acknowledged
    // is lost.
    let port = free_port();
    let mut child = store.serve(port);
    wait_ready(&client, port).await;
    let now = graphql(&client, port, &token, READ, json!({ "id": service }))
        .await
        .unwrap();
    let stored = &now["data"]["service"];
    let stored_version = stored["version"].as_i64().unwrap();
    assert!(
        stored_version == last_version || stored_version == last_version + 1,
        "acknowledged version {last_version}, stored {stored_version}"
    );
    let stored_name = stored["name"].as_str().unwrap().to_owned();
    if stored_version == last_version {
        assert_eq!(stored_name, last_name, "the last acknowledged write is there");
    }
    let hits = found(&client, port, &token, &stored_name).await;
    assert!(
        hits.contains(&service),
        "the index knows the stored name `{stored_name}`: {hits:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    store.remove().await;
}

/// Sends the headers of a rename and the first half of its body, and leaves the rest for later.
async fn half_sent_rename(port: u16, token: &str, variables: Value) -> (TcpStream, Vec<u8>) {
    let body = json!({ "query": RENAME, "variables": variables })
        .to_string()
        .into_bytes();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first).await.unwrap();
    stream.flush().await.unwrap();
    (stream, rest.to_vec())
}

/// The last change-log id the index's last commit reflects, from its commit payload.
fn index_commit_position(store: &Store) -> i64 {
    let meta: Value =
        serde_json::from_slice(&std::fs::read(store.data.join("search-index").join("meta.json")).unwrap()).unwrap();
    let payload: Value = serde_json::from_str(meta["payload"].as_str().expect("a commit payload")).unwrap();
    payload["log"]["last_id"].as_i64().unwrap()
}

async fn newest_change(store: &Store) -> i64 {
    let db = api::db::connect_url(&store.database_url()).await.unwrap();
    let backend: DatabaseBackend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT CAST(MAX(id) AS BIGINT) AS newest FROM change_log",
        ))
        .await
        .unwrap()
        .unwrap();
    let newest: i64 = row.try_get("", "newest").unwrap();
    db.close().await.unwrap();
    newest
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_commits_the_index_and_exits() {
    let store = Store::create().await;
    let token = store.admin_token();
    let client = reqwest::Client::new();
    let port = free_port();
    let mut child = store.serve(port);
    wait_ready(&client, port).await;
    let service = renamed_service();
    let version = version_of(&client, port, &token, &service).await;

    // Two requests in flight when the signal comes: one that the client finishes sending
    // afterwards, and one it never finishes.
    let name = "Afgewerkt tijdens het stoppen";
    let (mut finishing, rest) =
        half_sent_rename(port, &token, json!({ "id": service, "v": version, "name": name })).await;
    let (_stalled, _) = half_sent_rename(port, &token, json!({ "id": service, "v": version, "name": "Nooit" })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();

    // It stops accepting new connections at once...
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting connections after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "it waits for the requests in flight"
    );

    // ...and still answers the request it was reading.
    finishing.write_all(&rest).await.unwrap();
    let mut answer = Vec::new();
    finishing.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let renamed = answer.split("\r\n\r\n").nth(1).and_then(|body| {
        let body: Value = serde_json::from_str(body).ok()?;
        body["data"]["updateService"]["version"].as_i64()
    });
    assert_eq!(renamed, Some(version + 1), "the rename in flight was done: {answer}");

    // The stalled request does not keep it up beyond the grace period, and it exits cleanly.
    let exited = exit_within(&mut child, Duration::from_secs(GRACE_SECONDS + 10));
    let Some(status) = exited else {
        let _ = child.kill();
        panic!("the server did not exit after SIGTERM");
    };
    assert!(status.success(), "exit status {status}");

    // Its index was committed with the last change, the rename finished while stopping.
    assert_eq!(index_commit_position(&store), newest_change(&store).await);
    let port = free_port();
    let mut child = store.serve(port);
    wait_ready(&client, port).await;
    assert!(found(&client, port, &token, name).await.contains(&service));
    child.kill().unwrap();
    child.wait().unwrap();
    store.remove().await;
}
