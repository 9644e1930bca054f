//! Hostile and broken input, systematically: every text argument gets SQL and query-syntax
//! injection, huge and odd strings; every answer is data or a coded error, and the map is
//! unchanged afterwards.

use entity::enums::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::harness::{TestApp, account, service_id, spawn_app};

/// Strings that have broken APIs before.
fn nasty_strings() -> Vec<String> {
    vec![
        "'; DROP TABLE service; --".to_owned(),
        "\" OR 1=1 --".to_owned(),
        "name:huur AND (status:ACTIVE OR".to_owned(),
        "*".to_owned(),
        "huur~2^10 \"unclosed".to_owned(),
        "%_%".to_owned(),
        "\\".to_owned(),
        "<script>alert(1)</script>".to_owned(),
        "\u{202E}gnitirw tfel-ot-thgir".to_owned(),
        "👨‍👩‍👧‍👦 زبان دری".to_owned(),
        "x".repeat(100_000),
        String::new(),
        " ".to_owned(),
    ]
}

/// Counts of what a request must never change behind our back.
async fn map_counts(app: &TestApp) -> [u64; 4] {
    let db = app.connect().await;
    [
        entity::service::Entity::find().count(&db).await.unwrap(),
        entity::organization::Entity::find().count(&db).await.unwrap(),
        entity::location::Entity::find().count(&db).await.unwrap(),
        entity::referral::Entity::find().count(&db).await.unwrap(),
    ]
}

fn assert_answered(response: &Value, what: &str) {
    match response.get("errors") {
        None => assert!(
            response["data"].is_object(),
            "{what}: no data and no errors: {response}"
        ),
        Some(errors) => {
            for error in errors.as_array().unwrap() {
                let code = error["extensions"]["code"].as_str();
                assert!(
                    matches!(
                        code,
                        Some(
                            "BAD_USER_INPUT"
                                | "NOT_FOUND"
                                | "FORBIDDEN"
                                | "UNAUTHENTICATED"
                                | "RATE_LIMITED"
                                | "CONFLICT"
                        )
                    ),
                    "{what}: an error without a user-facing code: {error}"
                );
            }
        }
    }
}

#[tokio::test]
async fn injection_and_odd_strings_in_every_text_argument_get_answers_not_accidents() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let referrer = account(
        &app,
        "r@x.org",
        Role::Referrer,
        None,
        Some("buddywerking-vluchtelingen-aalst"),
    )
    .await;
    let before = map_counts(&app).await;
    let reads = [
        "query($s: String!) { searchServices(input: { text: $s }) { totalCount } }",
        "query($s: String!) { searchServices(input: { text: \"huur\", near: { postalCode: $s } }) { totalCount } }",
        "query($s: String!) { searchServices(input: { languages: [$s] }) { totalCount } }",
        "query($s: String!) { services(filter: { domains: [$s] }) { totalCount } }",
        "query($s: String!) { services(filter: { municipalityCode: $s }) { totalCount } }",
        "query($s: String!) { organizations(search: $s) { totalCount } }",
        "query($s: String!) { municipalities(search: $s) { totalCount } }",
        "query($s: String!) { service(id: $s) { name } }",
        "query($s: String!) { coverage(municipalityCode: $s) { domains { services } } }",
        "query($s: String!) { services(first: 1, after: $s) { totalCount } }",
    ];
    let writes = [
        "mutation($s: String!) { login(email: $s, password: $s) { token } }",
        "mutation($s: String!) { suggestChange(serviceId: $s, message: $s) { id } }",
    ];
    for text in nasty_strings() {
        let shown: String = text.chars().take(40).collect();
        for query in reads.iter().chain(&writes) {
            let response = app.graphql(query, json!({ "s": text })).await;
            assert_answered(&response, &format!("{query} with `{shown}`"));
        }
        // Signed in, the same strings go into edits and referrals; only valid ones may land.
        let edit = app
            .graphql_as(
                Some(&admin),
                "mutation($id: ID!, $s: String!) { updateService(id: $id, version: 999, input: { name: $s, description: $s }) { id } }",
                json!({ "id": service_id("ocmw-aalst-huurwaarborg"), "s": text }),
            )
            .await;
        assert_answered(&edit, &format!("updateService with `{shown}`"));
        let referral = app
            .graphql_as(
                Some(&referrer),
                "mutation($s: String!, $id: ID!) { createReferral(input: { serviceId: $id, needCode: $s,
                    needDescription: $s, postalCode: $s, languages: [$s], consentGiven: true }) { id } }",
                json!({ "id": service_id("ocmw-aalst-huurwaarborg"), "s": text }),
            )
            .await;
        assert_answered(&referral, &format!("createReferral with `{shown}`"));
    }
    // Suggestions may be stored (they are free text from the field); nothing else changed.
    assert_eq!(map_counts(&app).await, before, "the map is unchanged");
    let data = app
        .data(
            "{ searchServices(input: { text: \"huurwaarborg\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(
        data["searchServices"]["totalCount"].as_u64().unwrap() > 0,
        "and search still works"
    );
}

#[tokio::test]
async fn wrong_types_out_of_range_numbers_nul_and_forged_tokens_are_refused_with_codes() {
    let app = spawn_app().await;
    for (query, variables, why) in [
        (
            "query($n: Int) { services(first: $n) { totalCount } }",
            json!({ "n": "ten" }),
            "a string for an Int",
        ),
        (
            "query($n: Int) { services(first: $n) { totalCount } }",
            json!({ "n": 1e30 }),
            "a number out of Int range",
        ),
        (
            "query($n: Int) { services(first: $n) { totalCount } }",
            json!({ "n": -5 }),
            "a negative page size",
        ),
        (
            "query($a: Int!) { searchServices(input: { age: $a }) { totalCount } }",
            json!({ "a": 500 }),
            "an age of 500",
        ),
        (
            "query($r: Float!) { searchServices(input: { text: \"huur\", near: { postalCode: \"9300\" }, radiusKm: $r }) { totalCount } }",
            json!({ "r": -1.0 }),
            "a negative radius",
        ),
        (
            "query { searchServices(input: { near: { latitude: 91, longitude: 0 } }) { totalCount } }",
            json!({}),
            "latitude 91",
        ),
        (
            "query { searchServices(input: { unknownField: 1 }) { totalCount } }",
            json!({}),
            "an unknown input field",
        ),
        (
            "query($s: String!) { organizations(search: $s) { totalCount } }",
            json!({ "s": "a\u{0}b" }),
            "a NUL character",
        ),
    ] {
        // Some are refused before they run (HTTP 400), some by validation (HTTP 200): both
        // carry a GraphQL error with its code.
        let raw = app
            .post_raw(&json!({ "query": query, "variables": variables }).to_string())
            .await;
        let response: Value = raw.json().await.unwrap();
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{why}: {response}"
        );
    }
    for token in [
        "forged",
        "Bearer",
        "a".repeat(5_000).as_str(),
        "sm_0000000000000000000000000000000000000000",
    ] {
        let response = app.graphql_as(Some(token), "{ me { email } }", json!({})).await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{response}"
        );
    }
    let invalid_utf8 = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(vec![b'{', b'"', b'q', 0xff, 0xfe, b'"', b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_utf8.status(), 400);
    let body: Value = invalid_utf8.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}
