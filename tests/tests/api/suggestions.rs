//! Suggestions from the field: anyone may suggest a correction, within a rate limit; only the
//! service's editors see and resolve them, once.

use std::net::IpAddr;

use api::auth::Viewer;
use api::listings::{ListingsError, SuggestionLimiter, suggest_change};
use entity::enums::{Role, SuggestionStatus};
use entity::{account, suggestion};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::{TestApp, account, code, nodes, service_id, spawn_app};

const AALST_SERVICE: &str = "ocmw-aalst-huurwaarborg";
const AFFLIGEM_SERVICE: &str = "ocmw-affligem-leefloon";
const SUGGEST: &str = "mutation($s: ID!, $m: String!) { suggestChange(serviceId: $s, message: $m) {
    id message status createdAt resolvedAt resolutionNote service { id } } }";
const PENDING: &str = "query($s: ID) { pendingSuggestions(serviceId: $s, first: 100) {
    totalCount edges { node { id message status service { id } } } } }";
const RESOLVE: &str = "mutation($id: ID!, $accepted: Boolean!, $note: String) {
    resolveSuggestion(id: $id, accepted: $accepted, note: $note) { id status resolvedAt resolutionNote } }";

async fn suggest(app: &TestApp, token: Option<&str>, service: &str, message: &str) -> Value {
    app.graphql_as(token, SUGGEST, json!({ "s": service_id(service), "m": message }))
        .await
}

/// The ids of the pending suggestions `token` sees, for one service or for all it may edit.
async fn pending_ids(app: &TestApp, token: &str, service: Option<&str>) -> Vec<String> {
    let response = app
        .graphql_as(Some(token), PENDING, json!({ "s": service.map(service_id) }))
        .await;
    assert!(response.get("errors").is_none(), "{response:#}");
    nodes(&response["data"]["pendingSuggestions"])
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn stored(app: &TestApp, id: &str) -> suggestion::Model {
    suggestion::Entity::find_by_id(id)
        .one(&app.connect().await)
        .await
        .unwrap()
        .expect("the suggestion is stored")
}

async fn account_id(app: &TestApp, email: &str) -> String {
    account::Entity::find()
        .filter(account::Column::Email.eq(email))
        .one(&app.connect().await)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn anyone_may_suggest_a_change_but_not_more_than_five_in_ten_minutes() {
    let app = spawn_app().await;
    let referrer = account(&app, "r@x.org", Role::Referrer, None, Some("ocmw-aalst")).await;

    // Refused suggestions cost no quota: five valid ones still pass after them.
    // (NUL in any text is refused before GraphQL runs; see bad_input.rs.)
    for message in ["   ".to_owned(), "x".repeat(1001)] {
        let refused = suggest(&app, None, AALST_SERVICE, &message).await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused:#}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "message");
    }

    let anonymous = suggest(&app, None, AALST_SERVICE, "  Het telefoonnummer werkt niet meer.  ").await;
    assert!(anonymous.get("errors").is_none(), "{anonymous:#}");
    let made = &anonymous["data"]["suggestChange"];
    assert_eq!(made["message"], "Het telefoonnummer werkt niet meer.");
    assert_eq!(made["status"], "PENDING");
    assert_eq!(made["service"]["id"], service_id(AALST_SERVICE).as_str());
    assert_eq!(made["resolvedAt"], Value::Null);
    assert_eq!(stored(&app, made["id"].as_str().unwrap()).await.submitted_by, None);

    for message in [
        "y".repeat(1000),
        "Open op zaterdag?".to_owned(),
        "Nieuw adres".to_owned(),
    ] {
        let accepted = suggest(&app, None, AALST_SERVICE, &message).await;
        assert!(accepted.get("errors").is_none(), "{accepted:#}");
    }
    let signed = suggest(&app, Some(&referrer), AFFLIGEM_SERVICE, "Ook in het Pashto").await;
    let signed_id = signed["data"]["suggestChange"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        stored(&app, &signed_id).await.submitted_by,
        Some(account_id(&app, "r@x.org").await),
        "a signed-in suggestion records its account"
    );

    for token in [None, Some(referrer.as_str())] {
        let sixth = suggest(&app, token, AALST_SERVICE, "Nog eentje").await;
        assert_eq!(code(&sixth), "RATE_LIMITED", "{sixth:#}");
        let wait = sixth["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap();
        assert!((1..=600).contains(&wait), "retry after {wait} s");
    }
    let all = suggestion::Entity::find().all(&app.connect().await).await.unwrap();
    assert_eq!(all.len(), 5, "refused suggestions are not stored");
}

#[tokio::test]
async fn the_limit_counts_per_address_and_an_ipv6_client_is_its_slash_64() {
    let app = spawn_app().await;
    let db = app.connect().await;
    let service = seed::demo_id("service", AALST_SERVICE);
    let limiter = SuggestionLimiter::default();
    let from = |address: &str| address.parse::<IpAddr>().unwrap();
    for _ in 0..5 {
        suggest_change(
            &db,
            &limiter,
            from("2001:db8:1:2::10"),
            &Viewer::Anonymous,
            &service,
            "Gesloten",
        )
        .await
        .unwrap();
    }
    let same_client = suggest_change(
        &db,
        &limiter,
        from("2001:db8:1:2:ffff::1"),
        &Viewer::Anonymous,
        &service,
        "Gesloten",
    )
    .await;
    assert!(
        matches!(same_client, Err(ListingsError::TooManySuggestions(_))),
        "{same_client:?}"
    );
    for other in ["2001:db8:1:3::10", "192.0.2.7"] {
        suggest_change(&db, &limiter, from(other), &Viewer::Anonymous, &service, "Gesloten")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_services_editors_see_and_resolve_suggestions_and_nobody_else() {
    let app = spawn_app().await;
    let own = account(&app, "own@x.org", Role::OrganizationEditor, None, Some("ocmw-aalst")).await;
    let aalst = account(&app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await;
    let affligem = account(&app, "affligem@x.org", Role::MunicipalityEditor, Some("23105"), None).await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let other_organization = account(
        &app,
        "other@x.org",
        Role::OrganizationEditor,
        None,
        Some("woonpunt-nieuwkomers-aalst"),
    )
    .await;
    let gent = account(&app, "gent@x.org", Role::MunicipalityEditor, Some("44021"), None).await;
    let referrer = account(&app, "r@x.org", Role::Referrer, None, Some("ocmw-aalst")).await;

    let made = suggest(&app, None, AALST_SERVICE, "Het telefoonnummer werkt niet meer").await;
    let in_aalst = made["data"]["suggestChange"]["id"].as_str().unwrap().to_owned();
    let made = suggest(&app, None, AFFLIGEM_SERVICE, "De zitdag is nu op woensdag").await;
    let in_affligem = made["data"]["suggestChange"]["id"].as_str().unwrap().to_owned();

    assert_eq!(pending_ids(&app, &own, Some(AALST_SERVICE)).await, [in_aalst.as_str()]);
    assert_eq!(
        pending_ids(&app, &own, None).await,
        [in_aalst.as_str()],
        "its own services only"
    );
    assert_eq!(
        pending_ids(&app, &aalst, None).await,
        [in_aalst.as_str()],
        "services in Aalst"
    );
    assert_eq!(pending_ids(&app, &affligem, None).await, [in_affligem.as_str()]);
    assert_eq!(
        pending_ids(&app, &admin, None).await,
        [in_aalst.as_str(), in_affligem.as_str()],
        "all, oldest first"
    );
    assert!(pending_ids(&app, &other_organization, None).await.is_empty());
    assert!(pending_ids(&app, &gent, None).await.is_empty());

    let refused = [
        (None, "UNAUTHENTICATED"),
        (Some(other_organization.as_str()), "FORBIDDEN"),
        (Some(gent.as_str()), "FORBIDDEN"),
        (Some(referrer.as_str()), "FORBIDDEN"),
    ];
    for (token, expected) in refused {
        let listed = app
            .graphql_as(token, PENDING, json!({ "s": service_id(AALST_SERVICE) }))
            .await;
        assert_eq!(code(&listed), expected, "{listed:#}");
        assert_eq!(listed["data"], Value::Null, "nothing is shown: {listed:#}");
        let resolved = app
            .graphql_as(token, RESOLVE, json!({ "id": in_aalst, "accepted": false }))
            .await;
        assert_eq!(code(&resolved), expected, "{resolved:#}");
    }
    for (token, expected) in [(None, "UNAUTHENTICATED"), (Some(referrer.as_str()), "FORBIDDEN")] {
        let all = app.graphql_as(token, PENDING, json!({})).await;
        assert_eq!(code(&all), expected, "{all:#}");
    }
    let untouched = stored(&app, &in_aalst).await;
    assert_eq!(
        untouched.status,
        SuggestionStatus::Pending,
        "refused resolutions change nothing"
    );
    assert_eq!((untouched.resolved_at, untouched.resolved_by), (None, None));

    let accepted = app
        .graphql_as(
            Some(&own),
            RESOLVE,
            json!({ "id": in_aalst, "accepted": true, "note": " Nummer aangepast " }),
        )
        .await;
    assert!(accepted.get("errors").is_none(), "{accepted:#}");
    let resolved = &accepted["data"]["resolveSuggestion"];
    assert_eq!(resolved["status"], "ACCEPTED");
    assert_eq!(resolved["resolutionNote"], "Nummer aangepast");
    assert!(resolved["resolvedAt"].is_string());
    assert_eq!(
        stored(&app, &in_aalst).await.resolved_by,
        Some(account_id(&app, "own@x.org").await)
    );
    assert!(
        pending_ids(&app, &own, None).await.is_empty(),
        "resolved: no longer pending"
    );

    let again = app
        .graphql_as(Some(&aalst), RESOLVE, json!({ "id": in_aalst, "accepted": false }))
        .await;
    assert_eq!(code(&again), "CONFLICT", "{again:#}");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already accepted"),
        "{again:#}"
    );
    assert_eq!(stored(&app, &in_aalst).await.status, SuggestionStatus::Accepted);

    // Two editors resolving at once: exactly one decides.
    let reject = json!({ "id": in_affligem, "accepted": false, "note": "Klopt nog" });
    let (a, b) = tokio::join!(
        app.graphql_as(Some(&affligem), RESOLVE, reject.clone()),
        app.graphql_as(Some(&admin), RESOLVE, reject.clone()),
    );
    let codes = [code(&a), code(&b)];
    assert!(
        codes.contains(&"<none>".to_owned()) && codes.contains(&"CONFLICT".to_owned()),
        "{a:#} {b:#}"
    );
    assert_eq!(stored(&app, &in_affligem).await.status, SuggestionStatus::Rejected);
}

#[tokio::test]
async fn unknown_ids_and_overlong_notes_are_refused() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let nowhere = api::relay::global_id(api::relay::NodeKind::Service, "nope").0;

    let unknown_service = app
        .graphql_as(None, SUGGEST, json!({ "s": nowhere, "m": "Gesloten" }))
        .await;
    assert_eq!(code(&unknown_service), "NOT_FOUND", "{unknown_service:#}");
    let unknown_list = app.graphql_as(Some(&admin), PENDING, json!({ "s": nowhere })).await;
    assert_eq!(code(&unknown_list), "NOT_FOUND", "{unknown_list:#}");
    let unknown_suggestion = app
        .graphql_as(
            Some(&admin),
            RESOLVE,
            json!({ "id": uuid::Uuid::new_v4().to_string(), "accepted": true }),
        )
        .await;
    assert_eq!(code(&unknown_suggestion), "NOT_FOUND", "{unknown_suggestion:#}");

    let made = suggest(&app, None, AALST_SERVICE, "Gesloten").await;
    let id = made["data"]["suggestChange"]["id"].as_str().unwrap().to_owned();
    let long_note = app
        .graphql_as(
            Some(&admin),
            RESOLVE,
            json!({ "id": id, "accepted": true, "note": "x".repeat(1001) }),
        )
        .await;
    assert_eq!(code(&long_note), "BAD_USER_INPUT", "{long_note:#}");
    assert_eq!(long_note["errors"][0]["extensions"]["field"], "note");
    assert_eq!(stored(&app, &id).await.status, SuggestionStatus::Pending);
}

#[tokio::test]
async fn a_message_of_invisible_characters_is_refused_and_not_stored() {
    let app = spawn_app().await;
    let count = || async {
        use sea_orm::PaginatorTrait;
        suggestion::Entity::find().count(&app.connect().await).await.unwrap()
    };
    let before = count().await;
    for message in [
        "\u{200b}",
        "\u{202e}",
        "\u{feff}",
        " \u{200b}\u{200d}\u{2060} ",
        "\u{2066}\u{2069}\u{200e}\u{200f}",
    ] {
        let refused = suggest(&app, None, AALST_SERVICE, message).await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{message:?}: {refused:#}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "message");
    }
    assert_eq!(count().await, before, "nothing was stored");
}
