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

fn service_id(key: &str) -> String {
    api::relay::global_id(api::relay::NodeKind::Service, &seed::demo_id("service", key)).0
}

/// Creates an account and logs it in; returns its token.
async fn account(
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

fn code(response: &Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

/// The viewers of the authorization matrix, by label, and their tokens.
async fn viewers(app: &TestApp) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("anonymous", None),
        (
            "referrer",
            Some(account(app, "r@x.org", Role::Referrer, None, Some("ocmw-aalst")).await),
        ),
        (
            "other organization's editor",
            Some(
                account(
                    app,
                    "o@x.org",
                    Role::OrganizationEditor,
                    None,
                    Some("woonpunt-nieuwkomers-aalst"),
                )
                .await,
            ),
        ),
        (
            "neighbouring municipality's editor (Affligem)",
            Some(account(app, "affligem@x.org", Role::MunicipalityEditor, Some("23105"), None).await),
        ),
        (
            "organization's editor",
            Some(account(app, "own@x.org", Role::OrganizationEditor, None, Some("ocmw-aalst")).await),
        ),
        (
            "municipality's editor (Aalst)",
            Some(account(app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await),
        ),
        (
            "admin",
            Some(account(app, "admin@x.org", Role::Admin, None, None).await),
        ),
    ]
}

/// Every mutation that edits the map, with who may make it (on OCMW Aalst, its service
/// `ocmw-aalst-huurwaarborg` and its location in Aalst). Everyone else is refused.
const MATRIX: [(&str, &[&str]); 14] = [
    ("createOrganization", &["municipality's editor (Aalst)", "admin"]),
    ("updateOrganization", EDITORS),
    ("createLocation", EDITORS),
    ("updateLocation", EDITORS),
    ("deleteLocation", EDITORS),
    ("createService", EDITORS),
    ("updateService", EDITORS),
    ("setServiceStatus", EDITORS),
    ("setServiceArea", EDITORS),
    ("setServiceLanguages", EDITORS),
    ("setServiceTranslations", EDITORS),
    ("setServiceCapacity", EDITORS),
    ("verifyService", EDITORS),
    ("auditLog", EDITORS),
];
const EDITORS: &[&str] = &["organization's editor", "municipality's editor (Aalst)", "admin"];

fn organization_id(key: &str) -> String {
    api::relay::global_id(api::relay::NodeKind::Organization, &seed::demo_id("organization", key)).0
}

fn location_id(key: &str) -> String {
    api::relay::global_id(api::relay::NodeKind::Location, &seed::demo_id("location", key)).0
}

/// How many writes the database has seen: every accepted edit adds a change-log row.
async fn writes(app: &TestApp) -> (u64, u64) {
    use sea_orm::PaginatorTrait;
    let db = app.connect().await;
    let changes = entity::change_log::Entity::find().count(&db).await.unwrap();
    let audit = audit_entry::Entity::find().count(&db).await.unwrap();
    (changes, audit)
}

const NEW_LOCATION: &str = "mutation($org: ID!, $input: NewLocationInput!) {
    createLocation(organizationId: $org, input: $input) { id version } }";

fn aalst_location(name: &str) -> Value {
    json!({ "name": name, "address": "Werfplein 1", "postalCode": "9300",
            "latitude": 50.9405, "longitude": 4.0385 })
}

/// Makes `mutation` as `token`; returns the response.
async fn attempt(app: &TestApp, mutation: &str, token: Option<&str>, admin: &str) -> Value {
    let service = service_id(SERVICE);
    let location = location_id("ocmw-aalst-sociaal-huis");
    let organization = organization_id("ocmw-aalst");
    let versions = app
        .data(
            "query($s: ID!, $o: ID!, $l: ID!) { service(id: $s) { version }
             organization(id: $o) { version } node(id: $l) { ... on Location { version } } }",
            json!({ "s": service, "o": organization, "l": location }),
        )
        .await;
    let service_version = versions["service"]["version"].clone();
    let (query, variables) = match mutation {
        "createOrganization" => (
            "mutation($input: NewOrganizationInput!) { createOrganization(input: $input) { id } }",
            json!({ "input": { "name": "Taalcafé Aalst", "kind": "VOLUNTEER_GROUP",
                               "location": aalst_location("Ontmoetingscentrum") } }),
        ),
        "updateOrganization" => (
            "mutation($id: ID!, $v: Int!) { updateOrganization(id: $id, version: $v,
                input: { phone: \"+32 53 73 20 00\" }) { version } }",
            json!({ "id": organization, "v": versions["organization"]["version"] }),
        ),
        "createLocation" => (
            NEW_LOCATION,
            json!({ "org": organization, "input": aalst_location("Antenne Werfplein") }),
        ),
        "updateLocation" => (
            "mutation($id: ID!, $v: Int!) { updateLocation(id: $id, version: $v,
                input: { openingHours: \"ma–vr 9:00–12:00\" }) { version } }",
            json!({ "id": location, "v": versions["node"]["version"] }),
        ),
        "deleteLocation" => {
            let spare = app
                .graphql_as(
                    Some(admin),
                    NEW_LOCATION,
                    json!({ "org": organization, "input": aalst_location("Tijdelijke antenne") }),
                )
                .await;
            let spare = &spare["data"]["createLocation"];
            (
                "mutation($id: ID!, $v: Int!) { deleteLocation(id: $id, version: $v) }",
                json!({ "id": spare["id"], "v": spare["version"] }),
            )
        }
        "createService" => (
            "mutation($input: NewServiceInput!) { createService(input: $input) { id } }",
            json!({ "input": { "organizationId": organization, "name": "Woonloket nieuwkomers",
                               "description": "Hulp bij het zoeken van een huurwoning.",
                               "domains": ["housing.search"], "locationIds": [location] } }),
        ),
        "updateService" => (UPDATE, json!({ "id": service, "version": service_version,
                                             "input": { "phone": "+32 53 11 22 33" } })),
        "setServiceStatus" => (STATUS, json!({ "id": service, "version": service_version })),
        "setServiceArea" => (
            "mutation($id: ID!, $v: Int!) { setServiceArea(id: $id, version: $v,
                area: { municipalityCodes: [\"41002\"], provinceCodes: [\"40000\"] }) { version } }",
            json!({ "id": service, "v": service_version }),
        ),
        "setServiceLanguages" => (
            "mutation($id: ID!, $v: Int!) { setServiceLanguages(id: $id, version: $v, languages: [
                { code: \"nl\" }, { code: \"prs\", mode: INTERPRETER, interpreterKind: PROFESSIONAL }]) { version } }",
            json!({ "id": service, "v": service_version }),
        ),
        "setServiceTranslations" => (
            "mutation($id: ID!, $v: Int!) { setServiceTranslations(id: $id, version: $v, translations: [
                { lang: FR, name: \"Garantie locative\", description: \"Avance de la garantie locative.\" }]) { version } }",
            json!({ "id": service, "v": service_version }),
        ),
        "setServiceCapacity" => (
            "mutation($id: ID!, $v: Int!) { setServiceCapacity(id: $id, version: $v, available: 2, maximum: 10) { version } }",
            json!({ "id": service, "v": service_version }),
        ),
        "verifyService" => (VERIFY, json!({ "id": service })),
        "auditLog" => (
            "query($id: ID!) { auditLog(resourceId: $id) { totalCount } }",
            json!({ "id": organization }),
        ),
        other => panic!("no attempt for {other}"),
    };
    app.graphql_as(token, query, variables).await
}

#[tokio::test]
async fn every_mutation_is_refused_to_all_but_the_records_own_editors_and_admins() {
    let app = spawn_app().await;
    let viewers = viewers(&app).await;
    let admin = viewers.last().unwrap().1.clone().unwrap();
    for (mutation, allowed) in MATRIX {
        for (who, token) in &viewers {
            let before = writes(&app).await;
            let response = attempt(&app, mutation, token.as_deref(), &admin).await;
            let after = writes(&app).await;
            if allowed.contains(who) {
                assert!(response.get("errors").is_none(), "{who} may {mutation}: {response:#}");
            } else {
                let expected = if token.is_none() {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                assert_eq!(code(&response), expected, "{who} {mutation}: {response:#}");
                // deleteLocation's spare location was created (by the admin) before the attempt.
                let setup = if mutation == "deleteLocation" { 1 } else { 0 };
                assert_eq!(after.0, before.0 + setup, "{who}: a refused {mutation} writes nothing");
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
