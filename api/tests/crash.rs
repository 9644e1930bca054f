//! Crash safety, for real: a `socialmap serve` child process is killed with SIGKILL in the
//! middle of a stream of writes, restarted on the same data, and must have lost no write it
//! acknowledged, with its search index agreeing with its database.
//!
//! This test lives with the binary (not in `tests/`) because only here does Cargo build the
//! binary and say where it is.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_socialmap");
const PASSWORD: &str = "correct horse battery";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn socialmap(data: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg("--data-dir")
        .arg(data)
        .env_remove("DATABASE_URL")
        .env_remove("SOCIALMAP_DATABASE_URL")
        .env("SOCIALMAP_LOG", "warn")
        .env("SOCIALMAP_REQUESTS_PER_MINUTE", "0");
    command
}

fn serve(data: &Path, port: u16) -> Child {
    socialmap(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socialmap serve starts")
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

const READ: &str = "query($id: ID!) { service(id: $id) { name version } }";
const RENAME: &str = "mutation($id: ID!, $v: Int!, $name: String!) {
    updateService(id: $id, version: $v, input: { name: $name }) { version } }";

#[tokio::test]
async fn a_replica_killed_mid_write_loses_no_acknowledged_write() {
    let data = std::env::temp_dir().join(format!("socialmap-crash-{}", uuid::Uuid::new_v4().simple()));
    // An admin with an API token, made by the CLI on the database `serve` will use.
    let created = socialmap(&data)
        .args([
            "account",
            "create",
            "--email",
            "admin@crash.example",
            "--role",
            "admin",
            "--token",
        ])
        .env("SOCIALMAP_PASSWORD", PASSWORD)
        .output()
        .expect("account create runs");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let token = String::from_utf8(created.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();

    let client = reqwest::Client::new();
    let port = free_port();
    let mut child = serve(&data, port);
    wait_ready(&client, port).await;
    let service = api::relay::global_id(
        api::relay::NodeKind::Service,
        &seed::demo_id("service", "ocmw-aalst-huurwaarborg"),
    )
    .0;

    // A stream of renames, each from the version the last one returned.
    let mut acknowledged: Option<(String, i64)> = None;
    let mut version = graphql(&client, port, &token, READ, json!({ "id": service }))
        .await
        .unwrap()["data"]["service"]["version"]
        .as_i64()
        .unwrap();
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
    let mut child = serve(&data, port);
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
    let search = "query($text: String!) { searchServices(input: { text: $text }) { edges { node { id name } } } }";
    let found = graphql(&client, port, &token, search, json!({ "text": stored_name }))
        .await
        .unwrap();
    let hits: Vec<&str> = found["data"]["searchServices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert!(
        hits.contains(&service.as_str()),
        "the index knows the stored name `{stored_name}`: {found}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&data).unwrap();
}
