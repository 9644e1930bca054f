//! Write → searchable: how long after an editor renames a service a family's search finds
//! the new name, on the server that took the write and on another replica of the same
//! database, which only learns of it through the change log.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use entity::enums::{Role, ServiceStatus, TokenKind};
use entity::service;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use api::reference::ReferenceData;
use api::relay::{NodeKind, global_id};

/// How many renames are timed.
pub const RENAMES: usize = 5;
/// How often each replica is asked whether it finds the new name yet.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// Past this a replica is considered not to follow at all.
const GIVE_UP_AFTER: Duration = Duration::from_secs(10);

const RENAME: &str = "mutation Rename($id: ID!, $version: Int!, $name: String!) {
  updateService(id: $id, version: $version, input: { name: $name }) { version }
}";
const FIND: &str = "query Find($text: String!) {
  searchServices(input: { text: $text }, first: 1) { edges { node { id } } }
}";

/// From sending `updateService` until `searchServices` finds the new name, per rename.
pub struct WriteToSearchable {
    pub same_replica: Vec<Duration>,
    pub other_replica: Vec<Duration>,
}

/// Renames one active service `RENAMES` times through `writer`, each time to a word found
/// nowhere else, and times until `writer` and `other` both find it.
pub async fn measure(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    writer: SocketAddr,
    other: SocketAddr,
) -> anyhow::Result<WriteToSearchable> {
    let service = service::Entity::find()
        .filter(service::Column::Status.eq(ServiceStatus::Active))
        .order_by_asc(service::Column::Id)
        .one(db)
        .await?
        .context("the map has no active service to rename")?;
    let token = admin_token(db, reference).await?;
    let id = global_id(NodeKind::Service, &service.id).to_string();
    let client = reqwest::Client::builder().timeout(GIVE_UP_AFTER).build()?;
    let mut version = service.version;
    let mut result = WriteToSearchable {
        same_replica: Vec::with_capacity(RENAMES),
        other_replica: Vec::with_capacity(RENAMES),
    };
    for _ in 0..RENAMES {
        let name = unique_word();
        let sent = Instant::now();
        let renamed = graphql(
            &client,
            writer,
            Some(&token),
            RENAME,
            json!({ "id": id, "version": version, "name": name }),
        )
        .await
        .context("renaming a service through updateService")?;
        version = renamed["updateService"]["version"]
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .context("updateService answered without a version")?;
        let (same, other) = tokio::join!(
            until_found(&client, writer, &name, &id, sent),
            until_found(&client, other, &name, &id, sent)
        );
        result
            .same_replica
            .push(same.context("on the replica that took the write")?);
        result.other_replica.push(other.context("on the other replica")?);
    }
    Ok(result)
}

/// An API token of a new admin account: admins may edit every service.
async fn admin_token(db: &DatabaseConnection, reference: &ReferenceData) -> anyhow::Result<String> {
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let account = api::auth::create_account(
        db,
        reference,
        api::auth::NewAccount {
            email: format!("bench-{}@socialmap.example", &secret[..12]),
            password: secret,
            role: Role::Admin,
            municipalities: Vec::new(),
            organization_id: None,
        },
    )
    .await?;
    let (token, _) = api::auth::issue_token(db, &account.id, TokenKind::Api).await?;
    Ok(token)
}

/// Letters only, so every analyzer keeps it one word; random, so only the renamed service has it.
fn unique_word() -> String {
    let letters: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .bytes()
        .take(16)
        .map(|b| char::from(b'a' + (b as char).to_digit(16).unwrap_or(0) as u8))
        .collect();
    format!("proef{letters}")
}

/// Asks `server` for `word` until the service `id` is found; how long since `sent`.
async fn until_found(
    client: &reqwest::Client,
    server: SocketAddr,
    word: &str,
    id: &str,
    sent: Instant,
) -> anyhow::Result<Duration> {
    loop {
        let found = graphql(client, server, None, FIND, json!({ "text": word })).await?;
        if found["searchServices"]["edges"][0]["node"]["id"] == id {
            return Ok(sent.elapsed());
        }
        anyhow::ensure!(
            sent.elapsed() < GIVE_UP_AFTER,
            "the new name was not found within {} s",
            GIVE_UP_AFTER.as_secs()
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// `data` of a GraphQL answer, or its first error.
async fn graphql(
    client: &reqwest::Client,
    server: SocketAddr,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let mut request = client
        .post(format!("http://{server}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer: Value = request.send().await?.error_for_status()?.json().await?;
    if let Some(error) = answer["errors"].get(0) {
        anyhow::bail!("GraphQL error: {}", error["message"]);
    }
    Ok(answer["data"].clone())
}
