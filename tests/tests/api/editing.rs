//! Editing services: who may, against which version, what is refused, and what it leaves
//! behind (audit trail, search).

use std::time::{Duration, Instant};

use entity::audit_entry;
use entity::enums::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";
const SERVICE: &str = "ocmw-aalst-huurwaarborg";
const READ: &str = "query($id: ID!) { service(id: $id) { name version status phone lastVerifiedAt verifiedBy } }";
const UPDATE: &str = "mutation($id: ID!, $version: Int!, $input: ServiceInput!) {
    updateService(id: $id, version: $version, input: $input) { name version } }";
const STATUS: &str = "mutation($id: ID!, $version: Int!) {
    setServiceStatus(id: $id, version: $version, status: TEMPORARILY_CLOSED) { status version } }";
const VERIFY: &str = "mutation($id: ID!) { verifyService(id: $id) { lastVerifiedAt verifiedBy version } }";

pub(crate) fn service_id(key: &str) -> String {
    api::relay::global_id(api::relay::NodeKind::Service, &seed::demo_id("service", key)).0
}

/// Creates an account and logs it in; returns its token.
pub(crate) async fn account(
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

async fn current(app: &TestApp) -> Value {
    app.data(READ, json!({ "id": service_id(SERVICE) })).await["service"].clone()
}

pub(crate) fn code(response: &Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

#[tokio::test]
async fn only_the_services_own_editors_and_admins_may_edit_it() {
    let app = spawn_app().await;
    let tokens = [
        ("anonymous", None, "UNAUTHENTICATED"),
        (
            "referrer",
            Some(account(&app, "r@x.org", Role::Referrer, None, Some("ocmw-aalst")).await),
            "FORBIDDEN",
        ),
        (
            "another organization's editor",
            Some(
                account(
                    &app,
                    "o@x.org",
                    Role::OrganizationEditor,
                    None,
                    Some("woonpunt-nieuwkomers-aalst"),
                )
                .await,
            ),
            "FORBIDDEN",
        ),
        (
            "the editor of a neighbouring municipality (Gent)",
            Some(account(&app, "gent@x.org", Role::MunicipalityEditor, Some("44021"), None).await),
            "FORBIDDEN",
        ),
        (
            "the organization's editor",
            Some(account(&app, "own@x.org", Role::OrganizationEditor, None, Some("ocmw-aalst")).await),
            "OK",
        ),
        (
            "the municipality's editor (Aalst)",
            Some(account(&app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await),
            "OK",
        ),
        (
            "an admin",
            Some(account(&app, "admin@x.org", Role::Admin, None, None).await),
            "OK",
        ),
    ];
    let id = service_id(SERVICE);
    for (who, token, expected) in &tokens {
        for (mutation, query, input) in [
            ("updateService", UPDATE, json!({ "phone": "+32 53 11 22 33" })),
            ("setServiceStatus", STATUS, Value::Null),
            ("verifyService", VERIFY, Value::Null),
        ] {
            let before = current(&app).await;
            let mut variables = json!({ "id": id, "version": before["version"] });
            if !input.is_null() {
                variables["input"] = input;
            }
            let response = app.graphql_as(token.as_deref(), query, variables).await;
            let after = current(&app).await;
            if *expected == "OK" {
                assert!(response.get("errors").is_none(), "{who} may {mutation}: {response:#}");
                assert_eq!(after["version"].as_i64(), before["version"].as_i64().map(|v| v + 1));
            } else {
                assert_eq!(code(&response), *expected, "{who} {mutation}: {response:#}");
                assert_eq!(after, before, "{who}: a refused {mutation} changes nothing");
            }
        }
    }
}

#[tokio::test]
async fn of_two_edits_from_the_same_version_exactly_one_wins() {
    let app = spawn_app().await;
    let first = account(&app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await;
    let second = account(&app, "own@x.org", Role::OrganizationEditor, None, Some("ocmw-aalst")).await;
    let version = current(&app).await["version"].as_i64().unwrap();
    let id = service_id(SERVICE);
    let (a, b) = tokio::join!(
        app.graphql_as(
            Some(&first),
            UPDATE,
            json!({ "id": id, "version": version, "input": { "name": "Huurwaarborg A" } })
        ),
        app.graphql_as(
            Some(&second),
            UPDATE,
            json!({ "id": id, "version": version, "input": { "name": "Huurwaarborg B" } })
        ),
    );
    let outcomes = [&a, &b].map(|r| r.get("errors").is_none());
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:#} {b:#}");
    let loser = if outcomes[0] { &b } else { &a };
    assert_eq!(code(loser), "CONFLICT");
    assert_eq!(
        loser["errors"][0]["extensions"]["currentVersion"].as_i64(),
        Some(version + 1)
    );

    let db = app.connect().await;
    let trail = audit_entry::Entity::find()
        .filter(audit_entry::Column::ResourceId.eq(seed::demo_id("service", SERVICE)))
        .filter(audit_entry::Column::FieldName.eq("name"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1, "one change in the audit trail");
    assert_eq!(
        trail[0].previous_value.as_deref(),
        Some("\"Huurwaarborg en installatiepremie\"")
    );
    let stale = app
        .graphql_as(
            Some(&first),
            UPDATE,
            json!({ "id": id, "version": version, "input": { "name": "Late" } }),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT", "an old version is refused");
}

#[tokio::test]
async fn invalid_changes_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let before = current(&app).await;
    for (input, field) in [
        (json!({ "name": "  " }), "name"),
        (json!({ "name": "x".repeat(201) }), "name"),
        (json!({ "ageMin": 18, "ageMax": 12 }), "ageMin"),
        (json!({ "email": "not-an-email" }), "email"),
        (json!({ "phone": "call me" }), "phone"),
        (json!({ "url": "javascript:alert(1)" }), "url"),
    ] {
        let response = app
            .graphql_as(
                Some(&admin),
                UPDATE,
                json!({ "id": service_id(SERVICE), "version": before["version"], "input": input }),
            )
            .await;
        assert_eq!(code(&response), "BAD_USER_INPUT", "{input}: {response:#}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{input}");
    }
    assert_eq!(current(&app).await, before, "nothing was written");
    let missing = app
        .graphql_as(
            Some(&admin),
            VERIFY,
            json!({ "id": api::relay::global_id(api::relay::NodeKind::Service, "nope").0 }),
        )
        .await;
    assert_eq!(code(&missing), "NOT_FOUND");
}

#[tokio::test]
async fn an_edit_is_searchable_at_once_and_verification_changes_no_content() {
    let app = spawn_app().await;
    let editor = account(&app, "own@x.org", Role::OrganizationEditor, None, Some("ocmw-aalst")).await;
    let before = current(&app).await;
    let edited = app
        .graphql_as(
            Some(&editor),
            UPDATE,
            json!({ "id": service_id(SERVICE), "version": before["version"], "input": { "name": "Zebrapremie voor huurders" } }),
        )
        .await;
    assert!(edited.get("errors").is_none(), "{edited:#}");
    let started = Instant::now();
    let search = "query { searchServices(input: { text: \"zebrapremie\" }) { edges { node { id } } } }";
    let found = loop {
        let result = app.data(search, json!({})).await;
        let ids: Vec<String> = result["searchServices"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect();
        if ids.contains(&service_id(SERVICE)) || started.elapsed() > Duration::from_secs(5) {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(found.contains(&service_id(SERVICE)), "the new name is searchable");
    println!("edit searchable after {:?}", started.elapsed());

    let verified = app
        .graphql_as(Some(&editor), VERIFY, json!({ "id": service_id(SERVICE) }))
        .await;
    assert_eq!(verified["data"]["verifyService"]["verifiedBy"], "own@x.org");
    let after = current(&app).await;
    assert_eq!(after["name"], "Zebrapremie voor huurders");
    assert_eq!(
        after["verifiedBy"],
        Value::Null,
        "editors' emails are not shown to the public"
    );
    assert!(after["lastVerifiedAt"].as_str().unwrap() > before["lastVerifiedAt"].as_str().unwrap_or(""));
}

#[tokio::test]
async fn the_audit_log_and_stale_listings_are_for_the_responsible_editors() {
    let app = spawn_app().await;
    let own = account(&app, "own@x.org", Role::OrganizationEditor, None, Some("ocmw-aalst")).await;
    let aalst = account(&app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await;
    let gent = account(&app, "gent@x.org", Role::MunicipalityEditor, Some("44021"), None).await;
    let version = current(&app).await["version"].clone();
    let id = service_id(SERVICE);
    let edit = json!({ "id": id, "version": version, "input": { "phone": "+32 53 11 22 33" } });
    assert!(app.graphql_as(Some(&own), UPDATE, edit).await.get("errors").is_none());

    let log = "query($id: ID!) { auditLog(resourceId: $id) { totalCount edges { node {
        lastActionType fieldName previousValue replacementValue updatedBy } } } }";
    let seen = app.graphql_as(Some(&aalst), log, json!({ "id": id })).await;
    let entries = crate::harness::nodes(&seen["data"]["auditLog"]);
    assert_eq!(entries.len(), 1, "{seen:#}");
    assert_eq!(entries[0]["fieldName"], "phone");
    assert_eq!(entries[0]["lastActionType"], "update");
    assert_eq!(entries[0]["replacementValue"], "\"+32 53 11 22 33\"");
    assert_eq!(
        code(&app.graphql_as(Some(&gent), log, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    assert_eq!(code(&app.graphql(log, json!({ "id": id })).await), "UNAUTHENTICATED");

    let stale = "query($code: String!) { staleServices(municipalityCode: $code, first: 100) {
        edges { node { id lastVerifiedAt stale } } } }";
    let review = app.graphql_as(Some(&aalst), stale, json!({ "code": "41002" })).await;
    let services = crate::harness::nodes(&review["data"]["staleServices"]);
    assert!(!services.is_empty(), "{review:#}");
    assert!(services.iter().all(|s| s["stale"] == true));
    assert!(
        services
            .iter()
            .any(|s| s["id"] == service_id("kruidenier-aalst-voedselpakket").as_str())
    );
    let dates: Vec<&str> = services.iter().filter_map(|s| s["lastVerifiedAt"].as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first: {dates:?}");
    let refused = app.graphql_as(Some(&gent), stale, json!({ "code": "41002" })).await;
    assert_eq!(code(&refused), "FORBIDDEN");
}
