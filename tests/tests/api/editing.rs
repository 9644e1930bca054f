//! Editing services: who may, against which version, what is refused, and what it leaves
//! behind (audit trail, search).

use std::time::{Duration, Instant};

use entity::audit_entry;
use entity::enums::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::{TestApp, account, code, service_id, spawn_app};

const SERVICE: &str = "ocmw-aalst-huurwaarborg";
const READ: &str = "query($id: ID!) { service(id: $id) { name version status phone lastVerifiedAt verifiedBy } }";
const UPDATE: &str = "mutation($id: ID!, $version: Int!, $input: ServiceInput!) {
    updateService(id: $id, version: $version, input: $input) { name version } }";
const VERIFY: &str = "mutation($id: ID!) { verifyService(id: $id) { lastVerifiedAt verifiedBy version } }";

async fn current(app: &TestApp) -> Value {
    app.data(READ, json!({ "id": service_id(SERVICE) })).await["service"].clone()
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

/// Makes `mutation` as `token`; returns the response. Each `turn` changes something else, so
/// that no attempt repeats the one before (which would change nothing and write nothing).
async fn attempt(app: &TestApp, mutation: &str, token: Option<&str>, admin: &str, turn: usize) -> Value {
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
    let status = ["TEMPORARILY_CLOSED", "ACTIVE"][turn % 2];
    let province = ["40000", "20001", "10000"][turn % 3];
    let interpreter = ["PROFESSIONAL", "SOCIAL", "VOLUNTEER"][turn % 3];
    let (query, variables) = match mutation {
        "createOrganization" => (
            "mutation($input: NewOrganizationInput!) { createOrganization(input: $input) { id } }",
            json!({ "input": { "name": "Taalcafé Aalst", "kind": "VOLUNTEER_GROUP",
                               "location": aalst_location("Ontmoetingscentrum") } }),
        ),
        "updateOrganization" => (
            "mutation($id: ID!, $v: Int!, $phone: String!) { updateOrganization(id: $id, version: $v,
                input: { phone: $phone }) { version } }",
            json!({ "id": organization, "v": versions["organization"]["version"],
                    "phone": format!("+32 53 73 20 0{turn}") }),
        ),
        "createLocation" => (
            NEW_LOCATION,
            json!({ "org": organization, "input": aalst_location("Antenne Werfplein") }),
        ),
        "updateLocation" => (
            "mutation($id: ID!, $v: Int!, $hours: String!) { updateLocation(id: $id, version: $v,
                input: { openingHours: $hours }) { version } }",
            json!({ "id": location, "v": versions["node"]["version"],
                    "hours": format!("ma–vr 9:00–12:0{turn}") }),
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
                                             "input": { "phone": format!("+32 53 11 22 3{turn}") } })),
        "setServiceStatus" => (
            "mutation($id: ID!, $version: Int!, $status: ServiceStatus!) {
                setServiceStatus(id: $id, version: $version, status: $status) { status version } }",
            json!({ "id": service, "version": service_version, "status": status }),
        ),
        "setServiceArea" => (
            "mutation($id: ID!, $v: Int!, $province: String!) { setServiceArea(id: $id, version: $v,
                area: { municipalityCodes: [\"41002\"], provinceCodes: [$province] }) { version } }",
            json!({ "id": service, "v": service_version, "province": province }),
        ),
        "setServiceLanguages" => (
            "mutation($id: ID!, $v: Int!, $kind: InterpreterKind!) { setServiceLanguages(id: $id, version: $v, languages: [
                { code: \"nl\" }, { code: \"prs\", mode: INTERPRETER, interpreterKind: $kind }]) { version } }",
            json!({ "id": service, "v": service_version, "kind": interpreter }),
        ),
        "setServiceTranslations" => (
            "mutation($id: ID!, $v: Int!, $name: String!) { setServiceTranslations(id: $id, version: $v, translations: [
                { lang: FR, name: $name, description: \"Avance de la garantie locative.\" }]) { version } }",
            json!({ "id": service, "v": service_version, "name": format!("Garantie locative {turn}") }),
        ),
        "setServiceCapacity" => (
            "mutation($id: ID!, $v: Int!, $available: Int!) {
                setServiceCapacity(id: $id, version: $v, available: $available, maximum: 10) { version } }",
            json!({ "id": service, "v": service_version, "available": turn }),
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
        for (turn, (who, token)) in viewers.iter().enumerate() {
            let before = writes(&app).await;
            let response = attempt(&app, mutation, token.as_deref(), &admin, turn).await;
            let after = writes(&app).await;
            if allowed.contains(who) {
                assert!(response.get("errors").is_none(), "{who} may {mutation}: {response:#}");
                if mutation != "auditLog" {
                    assert!(after.0 > before.0, "{who}'s {mutation} was written");
                }
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
async fn editors_working_at_once_on_different_services_all_succeed() {
    // Each edit reads its service before it writes; on SQLite such a transaction once failed
    // with "database is locked" when another editor committed in between.
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let db = app.connect().await;
    let services: Vec<entity::service::Model> = entity::service::Entity::find().all(&db).await.unwrap();
    let mut edited: Vec<(String, i64)> = services
        .iter()
        .take(8)
        .map(|s| {
            (
                api::relay::global_id(api::relay::NodeKind::Service, &s.id).0,
                i64::from(s.version),
            )
        })
        .collect();
    for round in 1..=3 {
        let edits = edited.iter().map(|(id, version)| {
            let variables =
                json!({ "id": id, "version": version, "input": { "name": format!("Samen bewerkt {round}") } });
            app.graphql_as(Some(&admin), UPDATE, variables)
        });
        let answers = futures_util::future::join_all(edits).await;
        for ((_, version), answer) in edited.iter_mut().zip(&answers) {
            assert!(answer.get("errors").is_none(), "round {round}: {answer:#}");
            *version = answer["data"]["updateService"]["version"].as_i64().unwrap();
        }
    }
    for (id, version) in &edited {
        let stored = app.data(READ, json!({ "id": id })).await;
        assert_eq!(stored["service"]["name"], "Samen bewerkt 3");
        assert_eq!(stored["service"]["version"].as_i64(), Some(*version));
    }
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

/// The README's walkthrough: a municipality editor puts a new organization on the map, with
/// a location and a service, and a volunteer finds it.
#[tokio::test]
async fn a_municipality_editor_puts_a_new_organization_on_the_map_and_volunteers_find_it() {
    let app = spawn_app().await;
    let aalst = account(&app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await;
    let created = app
        .graphql_as(
            Some(&aalst),
            "mutation($input: NewOrganizationInput!) { createOrganization(input: $input) {
                id version locations { id municipality { code } } } }",
            json!({ "input": { "name": "Vluchtelingenwerk Dender", "kind": "NGO", "website": "https://dender.example",
                               "location": aalst_location("Huis van de Dender") } }),
        )
        .await;
    let organization = &created["data"]["createOrganization"];
    assert_eq!(
        organization["locations"][0]["municipality"]["code"], "41002",
        "{created:#}"
    );
    let location = organization["locations"][0]["id"].clone();

    let service = app
        .graphql_as(
            Some(&aalst),
            "mutation($input: NewServiceInput!) { createService(input: $input) {
                id version area { municipalities { code } } domains { code } } }",
            json!({ "input": { "organizationId": organization["id"], "name": "Kamerzoekdienst Dender",
                               "description": "Zoekt samen met het gezin een betaalbare huurwoning of kamer.",
                               "domains": ["housing.search"], "locationIds": [location],
                               "languages": [{ "code": "nl" }, { "code": "prs", "mode": "INTERPRETER", "interpreterKind": "SOCIAL" }] } }),
        )
        .await;
    let service = &service["data"]["createService"];
    assert_eq!(
        service["area"]["municipalities"][0]["code"], "41002",
        "by default a service serves the municipalities of its locations"
    );
    let translated = app
        .graphql_as(
            Some(&aalst),
            "mutation($id: ID!, $v: Int!) { setServiceTranslations(id: $id, version: $v, translations: [
                { lang: EN, name: \"Room finder Dender\", description: \"Finds affordable housing with the family.\" }]) {
                version name(lang: EN) } }",
            json!({ "id": service["id"], "v": service["version"] }),
        )
        .await;
    assert_eq!(
        translated["data"]["setServiceTranslations"]["name"], "Room finder Dender",
        "{translated:#}"
    );
    let capacity = app
        .graphql_as(
            Some(&aalst),
            "mutation($id: ID!, $v: Int!) { setServiceCapacity(id: $id, version: $v, available: 3, maximum: 12) {
                capacity { available maximum updatedAt } } }",
            json!({ "id": service["id"], "v": translated["data"]["setServiceTranslations"]["version"] }),
        )
        .await;
    assert_eq!(capacity["data"]["setServiceCapacity"]["capacity"]["available"], 3);

    // A volunteer near 9300 with a family that speaks Dari, looking for housing.
    let search = "query { searchServices(input: { domains: [\"housing\"], near: { postalCode: \"9300\" },
        languages: [\"prs\"] }, first: 50) { edges { node { id } languageMatches { language { code } mode } } } }";
    let started = Instant::now();
    let found = loop {
        let result = app.data(search, json!({})).await;
        let edges = result["searchServices"]["edges"].as_array().unwrap().clone();
        if let Some(edge) = edges.iter().find(|e| e["node"]["id"] == service["id"]) {
            break Some(edge.clone());
        }
        if started.elapsed() > Duration::from_secs(5) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let found = found.expect("the new service is found by a volunteer");
    assert_eq!(found["languageMatches"][0]["mode"], "INTERPRETER");

    let log = app
        .graphql_as(
            Some(&aalst),
            "query($id: ID!) { auditLog(resourceId: $id, first: 50) { edges { node { lastActionType fieldName } } } }",
            json!({ "id": organization["id"] }),
        )
        .await;
    let entries = crate::harness::nodes(&log["data"]["auditLog"]);
    assert!(
        entries
            .iter()
            .any(|e| e["lastActionType"] == "create" && e["fieldName"] == "name"),
        "{log:#}"
    );
}

#[tokio::test]
async fn bad_listings_are_refused_naming_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let organization = organization_id("ocmw-aalst");
    let location = |changes: Value| {
        let mut input = aalst_location("Antenne");
        input
            .as_object_mut()
            .unwrap()
            .extend(changes.as_object().unwrap().clone());
        (NEW_LOCATION, json!({ "org": organization, "input": input }))
    };
    let new_service = |changes: Value| {
        let mut input = json!({ "organizationId": organization, "name": "Woonloket",
            "description": "Hulp bij huren.", "domains": ["housing.search"],
            "locationIds": [location_id("ocmw-aalst-sociaal-huis")] });
        input
            .as_object_mut()
            .unwrap()
            .extend(changes.as_object().unwrap().clone());
        (
            "mutation($input: NewServiceInput!) { createService(input: $input) { id } }",
            json!({ "input": input }),
        )
    };
    let new_organization = |changes: Value| {
        let mut input = json!({ "name": "Nieuwe vzw", "kind": "NGO" });
        input
            .as_object_mut()
            .unwrap()
            .extend(changes.as_object().unwrap().clone());
        (
            "mutation($input: NewOrganizationInput!) { createOrganization(input: $input) { id } }",
            json!({ "input": input }),
        )
    };
    let cases = [
        (location(json!({ "postalCode": "0000" })), "postalCode"),
        (location(json!({ "municipalityCode": "44021" })), "municipalityCode"),
        (
            location(json!({ "latitude": 48.8566, "longitude": 2.3522 })),
            "latitude",
        ),
        (
            location(json!({ "latitude": 4.0385, "longitude": 50.9405 })),
            "latitude",
        ),
        (
            location(json!({ "latitude": 51.2194, "longitude": 4.4025 })),
            "latitude",
        ),
        (location(json!({ "longitude": null, "latitude": 50.94 })), "longitude"),
        (location(json!({ "name": " " })), "name"),
        (new_service(json!({ "domains": ["housing.castles"] })), "domains"),
        (new_service(json!({ "domains": [] })), "domains"),
        (
            new_service(json!({ "languages": [{ "code": "xx-klingon" }] })),
            "languages",
        ),
        (
            new_service(json!({ "languages": [{ "code": "nl", "interpreterKind": "SOCIAL" }] })),
            "languages",
        ),
        (
            new_service(json!({ "area": { "municipalityCodes": ["99999"] } })),
            "area",
        ),
        (
            new_service(json!({ "area": { "radius": [{ "locationId": location_id("vdab-gent"), "km": 5 }] } })),
            "area",
        ),
        (
            new_service(json!({ "locationIds": [location_id("vdab-gent")] })),
            "locationIds",
        ),
        (new_service(json!({ "ageMin": 30, "ageMax": 3 })), "ageMin"),
        (new_service(json!({ "description": "x".repeat(5_001) })), "description"),
        (new_organization(json!({ "kboNumber": "12345" })), "kboNumber"),
        (new_organization(json!({ "website": "dender.example" })), "website"),
        (new_organization(json!({ "email": "info@" })), "email"),
        // Names and texts of characters that show nothing: zero-width space, bidi override,
        // byte-order mark, joiners and isolates, the Hangul filler.
        (new_organization(json!({ "name": "\u{200b}" })), "name"),
        (new_organization(json!({ "name": "\u{202e}" })), "name"),
        (new_organization(json!({ "name": "\u{feff}" })), "name"),
        (
            new_organization(json!({ "name": "\u{200d}\u{2066}\u{2069} \u{200e}\u{2060}" })),
            "name",
        ),
        (new_organization(json!({ "name": "\u{3164}" })), "name"),
        (location(json!({ "name": "\u{200b}\u{200c}" })), "name"),
        (new_service(json!({ "name": "\u{2060}\u{feff}" })), "name"),
        (new_service(json!({ "description": "" })), "description"),
        (
            new_service(json!({ "description": " \u{200b}\u{202e} " })),
            "description",
        ),
        // Enterprise numbers with a wrong check digit, or none at all.
        (new_organization(json!({ "kboNumber": "0207.437.469" })), "kboNumber"),
        (new_organization(json!({ "kboNumber": "0207.437.486" })), "kboNumber"),
        (new_organization(json!({ "kboNumber": "0000.000.000" })), "kboNumber"),
        (new_organization(json!({ "kboNumber": "2207.437.468" })), "kboNumber"),
        // Addresses no one can type.
        (
            new_organization(json!({ "website": format!("https://dender.example/{}", "a".repeat(4_995)) })),
            "website",
        ),
        (
            new_service(json!({ "url": format!("https://dender.example/{}", "a".repeat(4_995)) })),
            "url",
        ),
        (
            new_organization(json!({ "email": format!("{}@dender.example", "a".repeat(250)) })),
            "email",
        ),
        // Two circles around one location.
        (
            new_service(json!({ "area": { "radius": [
                { "locationId": location_id("ocmw-aalst-sociaal-huis"), "km": 5 },
                { "locationId": location_id("ocmw-aalst-sociaal-huis"), "km": 10 }] } })),
            "area",
        ),
    ];
    let before = writes(&app).await;
    for ((query, variables), field) in cases {
        let response = app.graphql_as(Some(&admin), query, variables.clone()).await;
        assert_eq!(code(&response), "BAD_USER_INPUT", "{variables}: {response:#}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{variables}: {response:#}"
        );
    }
    let version = current(&app).await["version"].clone();
    let versions = app
        .data(
            "query($o: ID!, $l: ID!) { organization(id: $o) { version } node(id: $l) { ... on Location { version } } }",
            json!({ "o": organization, "l": location_id("ocmw-aalst-sociaal-huis") }),
        )
        .await;
    let (organization_version, location_version) = (&versions["organization"]["version"], &versions["node"]["version"]);
    for (query, variables, field) in [
        (
            "mutation($id: ID!, $v: Int!) { setServiceCapacity(id: $id, version: $v, available: 12, maximum: 10) { version } }",
            json!({ "id": service_id(SERVICE), "v": version }),
            "capacityAvailable",
        ),
        (
            "mutation($id: ID!, $v: Int!) { setServiceTranslations(id: $id, version: $v,
                translations: [{ lang: NL, name: \"Huurwaarborg\", description: \"\" }]) { version } }",
            json!({ "id": service_id(SERVICE), "v": version }),
            "translations",
        ),
        (
            "mutation($id: ID!, $v: Int!) { setServiceArea(id: $id, version: $v, area: {}) { version } }",
            json!({ "id": service_id(SERVICE), "v": version }),
            "area",
        ),
        (
            "mutation($id: ID!, $v: Int!, $l: ID!) { setServiceArea(id: $id, version: $v, area: {
                radius: [{ locationId: $l, km: 5 }, { locationId: $l, km: 15 }] }) { version } }",
            json!({ "id": service_id(SERVICE), "v": version, "l": location_id("ocmw-aalst-sociaal-huis") }),
            "area",
        ),
        (
            "mutation($id: ID!, $v: Int!) { setServiceTranslations(id: $id, version: $v,
                translations: [{ lang: FR, name: \"Garantie locative\", description: \"\\u200b\" }]) { version } }",
            json!({ "id": service_id(SERVICE), "v": version }),
            "translations",
        ),
        (
            UPDATE,
            json!({ "id": service_id(SERVICE), "version": version, "input": { "description": "" } }),
            "description",
        ),
        (
            UPDATE,
            json!({ "id": service_id(SERVICE), "version": version, "input": { "name": "\u{feff}\u{200b}" } }),
            "name",
        ),
        (
            "mutation($id: ID!, $v: Int!) { updateOrganization(id: $id, version: $v,
                input: { name: \"\\u202e\\u202c\" }) { version } }",
            json!({ "id": organization, "v": organization_version }),
            "name",
        ),
        (
            "mutation($id: ID!, $v: Int!) { updateOrganization(id: $id, version: $v,
                input: { kboNumber: \"0207.437.469\" }) { version } }",
            json!({ "id": organization, "v": organization_version }),
            "kboNumber",
        ),
        (
            "mutation($id: ID!, $v: Int!) { updateLocation(id: $id, version: $v,
                input: { name: \"\\u200b\" }) { version } }",
            json!({ "id": location_id("ocmw-aalst-sociaal-huis"), "v": location_version }),
            "name",
        ),
    ] {
        let response = app.graphql_as(Some(&admin), query, variables).await;
        assert_eq!(code(&response), "BAD_USER_INPUT", "{response:#}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response:#}");
    }
    assert_eq!(writes(&app).await, before, "nothing was written");
}

#[tokio::test]
async fn a_confidential_address_is_shown_only_to_its_editors() {
    let app = spawn_app().await;
    let own = account(
        &app,
        "vh@x.org",
        Role::OrganizationEditor,
        None,
        Some("vluchthuis-rivierenland"),
    )
    .await;
    let mechelen = account(&app, "mechelen@x.org", Role::MunicipalityEditor, Some("12025"), None).await;
    let aalst = account(&app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let referrer = account(&app, "r@x.org", Role::Referrer, None, Some("ocmw-aalst")).await;
    let query = "query($id: ID!) { node(id: $id) { ... on Location { address latitude postalCode confidential } } }";
    let shelter = json!({ "id": location_id("vluchthuis-rivierenland-huis") });
    for (who, token, sees) in [
        ("anonymous", None, false),
        ("a referrer", Some(&referrer), false),
        ("another municipality's editor", Some(&aalst), false),
        ("the organization's editor", Some(&own), true),
        ("the municipality's editor", Some(&mechelen), true),
        ("an admin", Some(&admin), true),
    ] {
        let response = app.graphql_as(token.map(String::as_str), query, shelter.clone()).await;
        let location = &response["data"]["node"];
        assert_eq!(location["confidential"], true);
        assert_eq!(location["postalCode"], "2800", "the postal code is public");
        assert_eq!(location["address"].is_string(), sees, "{who}: {response:#}");
        assert_eq!(location["latitude"].is_number(), sees, "{who}: {response:#}");
    }
}

#[tokio::test]
async fn locations_stay_where_their_editors_may_keep_them() {
    let app = spawn_app().await;
    let aalst = account(&app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let version_of = |key: &'static str| {
        let app = &app;
        async move {
            app.data(
                "query($id: ID!) { node(id: $id) { ... on Location { version } } }",
                json!({ "id": location_id(key) }),
            )
            .await["node"]["version"]
                .clone()
        }
    };

    // Moving a location to Gent would take it out of the Aalst editor's hands.
    let moved = app
        .graphql_as(
            Some(&aalst),
            "mutation($id: ID!, $v: Int!) { updateLocation(id: $id, version: $v,
                input: { postalCode: \"9000\", latitude: 51.05, longitude: 3.72 }) { id } }",
            json!({ "id": location_id("ocmw-aalst-erembodegem"), "v": version_of("ocmw-aalst-erembodegem").await }),
        )
        .await;
    assert_eq!(code(&moved), "FORBIDDEN", "{moved:#}");

    // The centre of a radius area cannot go while the area needs it.
    let centre = app
        .graphql_as(
            Some(&admin),
            "mutation($id: ID!, $v: Int!) { deleteLocation(id: $id, version: $v) }",
            json!({ "id": location_id("buddywerking-aalst-de-brug"), "v": version_of("buddywerking-aalst-de-brug").await }),
        )
        .await;
    assert_eq!(code(&centre), "BAD_USER_INPUT", "{centre:#}");
    assert!(
        centre["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("setServiceArea")
    );

    // Deleting a location takes it off its services, and the trail keeps what it was.
    let deleted = app
        .graphql_as(
            Some(&aalst),
            "mutation($id: ID!, $v: Int!) { deleteLocation(id: $id, version: $v) }",
            json!({ "id": location_id("ocmw-aalst-erembodegem"), "v": version_of("ocmw-aalst-erembodegem").await }),
        )
        .await;
    assert!(deleted.get("errors").is_none(), "{deleted:#}");
    let leefloon = app
        .data(
            "query($id: ID!) { service(id: $id) { locations { id } } }",
            json!({ "id": service_id("ocmw-aalst-leefloon") }),
        )
        .await;
    let left = crate::harness::strings(leefloon["service"]["locations"].as_array().unwrap(), "id");
    assert_eq!(left, vec![location_id("ocmw-aalst-sociaal-huis")]);
    let trail = app
        .graphql_as(
            Some(&admin),
            "query($id: ID!) { auditLog(resourceId: $id) { edges { node { lastActionType fieldName previousValue } } } }",
            json!({ "id": location_id("ocmw-aalst-erembodegem") }),
        )
        .await;
    let entries = crate::harness::nodes(&trail["data"]["auditLog"]);
    assert!(
        entries
            .iter()
            .any(|e| e["lastActionType"] == "delete" && e["fieldName"] == "address"),
        "{trail:#}"
    );
    let gone = app
        .graphql_as(
            Some(&aalst),
            "query($id: ID!) { auditLog(resourceId: $id) { totalCount } }",
            json!({ "id": location_id("ocmw-aalst-erembodegem") }),
        )
        .await;
    assert_eq!(code(&gone), "NOT_FOUND", "a deleted location's trail is for admins");
}

#[tokio::test]
async fn names_are_stored_without_bidi_controls_or_zero_width_padding() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let create = "mutation($input: NewOrganizationInput!) { createOrganization(input: $input) { name } }";
    // A right-to-left override would show the rest of the name mirrored in every list.
    let created = app
        .graphql_as(
            Some(&admin),
            create,
            json!({ "input": { "name": "\u{feff}Vluchtelingenwerk \u{202e}Dender\u{202c}\u{200b}", "kind": "NGO" } }),
        )
        .await;
    assert_eq!(
        created["data"]["createOrganization"]["name"], "Vluchtelingenwerk Dender",
        "{created:#}"
    );
    // A Persian name keeps the zero-width non-joiner it is written with.
    let persian = app
        .graphql_as(
            Some(&admin),
            create,
            json!({ "input": { "name": "خانه\u{200c}ها", "kind": "INFORMAL" } }),
        )
        .await;
    assert_eq!(
        persian["data"]["createOrganization"]["name"], "خانه\u{200c}ها",
        "{persian:#}"
    );
}

#[tokio::test]
async fn a_refused_web_address_is_not_repeated_in_the_message() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let website = format!("https://dender.example/{}", "a".repeat(4_995));
    assert_eq!(website.chars().count(), 5_018);
    let refused = app
        .graphql_as(
            Some(&admin),
            "mutation($input: NewOrganizationInput!) { createOrganization(input: $input) { id } }",
            json!({ "input": { "name": "Lange link", "kind": "NGO", "website": website } }),
        )
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "website", "{refused:#}");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("2000 characters"), "{message}");
    assert!(message.len() < 300, "{message}");
}

/// Reads the version of a service, organization or location.
async fn version_of(app: &TestApp, kind: &str, id: &str) -> i64 {
    let query = match kind {
        "service" => "query($id: ID!) { record: service(id: $id) { version } }",
        "organization" => "query($id: ID!) { record: organization(id: $id) { version } }",
        _ => "query($id: ID!) { record: node(id: $id) { ... on Location { version } } }",
    };
    app.data(query, json!({ "id": id })).await["record"]["version"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn an_edit_that_changes_nothing_writes_nothing_and_keeps_the_version() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let own = account(&app, "own@x.org", Role::OrganizationEditor, None, Some("ocmw-aalst")).await;
    let service = service_id(SERVICE);
    let organization = organization_id("ocmw-aalst");
    let location = location_id("ocmw-aalst-sociaal-huis");
    // Each edit is made twice: the first may change the record, the second says what it
    // already says.
    let edits = [
        (
            "service",
            "mutation($id: ID!, $v: Int!) { edit: updateService(id: $id, version: $v, input: {
                name: \"Huurwaarborg\", phone: \"+32 53 11 22 33\", url: \"https://demo.example/huur\" }) { version } }",
        ),
        (
            // The same name, spelled with spaces and a zero-width space around it.
            "service",
            "mutation($id: ID!, $v: Int!) { edit: updateService(id: $id, version: $v, input: {
                name: \" Huurwaarborg\\u200b \", cost: FREE }) { version } }",
        ),
        (
            "service",
            "mutation($id: ID!, $v: Int!) { edit: setServiceStatus(id: $id, version: $v, status: TEMPORARILY_CLOSED) { version } }",
        ),
        (
            "service",
            "mutation($id: ID!, $v: Int!, $l: ID!) { edit: setServiceArea(id: $id, version: $v, area: {
                municipalityCodes: [\"41002\"], radius: [{ locationId: $l, km: 12 }] }) { version } }",
        ),
        (
            "service",
            "mutation($id: ID!, $v: Int!) { edit: setServiceLanguages(id: $id, version: $v, languages: [
                { code: \"nl\" }, { code: \"fa-AF\", mode: INTERPRETER, interpreterKind: SOCIAL }]) { version } }",
        ),
        (
            "service",
            "mutation($id: ID!, $v: Int!) { edit: setServiceTranslations(id: $id, version: $v, translations: [
                { lang: FR, name: \"Garantie locative\", description: \"Avance de la garantie locative.\" }]) { version } }",
        ),
        (
            "service",
            "mutation($id: ID!, $v: Int!) { edit: setServiceCapacity(id: $id, version: $v, available: 2, maximum: 10) { version } }",
        ),
        (
            "organization",
            "mutation($id: ID!, $v: Int!) { edit: updateOrganization(id: $id, version: $v, input: {
                phone: \"+32 53 73 20 00\", website: \"https://ocmw.example\", kboNumber: \"0207.437.468\" }) { version } }",
        ),
        (
            "location",
            "mutation($id: ID!, $v: Int!) { edit: updateLocation(id: $id, version: $v, input: {
                openingHours: \"ma–vr 9:00–12:00\", postalCode: \"9300\" }) { version } }",
        ),
    ];
    for (kind, mutation) in edits {
        let id = match kind {
            "service" => &service,
            "organization" => &organization,
            _ => &location,
        };
        let variables = |version: i64| json!({ "id": id, "v": version, "l": location });
        let first = app
            .graphql_as(Some(&admin), mutation, variables(version_of(&app, kind, id).await))
            .await;
        assert!(first.get("errors").is_none(), "{first:#}");
        let version = first["data"]["edit"]["version"].as_i64().unwrap();
        let before = writes(&app).await;
        let again = app.graphql_as(Some(&admin), mutation, variables(version)).await;
        assert!(again.get("errors").is_none(), "{again:#}");
        assert_eq!(again["data"]["edit"]["version"].as_i64(), Some(version), "{mutation}");
        assert_eq!(version_of(&app, kind, id).await, version, "{mutation}");
        assert_eq!(
            writes(&app).await,
            before,
            "no change-log row, no audit entry: {mutation}"
        );
    }

    // An editor who read the service before someone else's edit that changed nothing still
    // gets theirs in: no spurious CONFLICT.
    let read = version_of(&app, "service", &service).await;
    let unchanged = app
        .graphql_as(
            Some(&admin),
            UPDATE,
            json!({ "id": service, "version": read, "input": { "name": "Huurwaarborg" } }),
        )
        .await;
    assert_eq!(unchanged["data"]["updateService"]["version"].as_i64(), Some(read));
    let theirs = app
        .graphql_as(
            Some(&own),
            UPDATE,
            json!({ "id": service, "version": read, "input": { "phone": "+32 53 99 88 77" } }),
        )
        .await;
    assert!(theirs.get("errors").is_none(), "{theirs:#}");
    assert_eq!(theirs["data"]["updateService"]["version"].as_i64(), Some(read + 1));
}
