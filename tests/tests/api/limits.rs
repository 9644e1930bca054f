//! Limits on what one request may ask: each refusal is a GraphQL error with a code, never a
//! dropped connection or a bare HTTP error.

use serde_json::{Value, json};

use api::server::Limits;

use crate::harness::{TestApp, service_id, spawn_app, spawn_app_limited};

fn first_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn oversized_malformed_and_overbatched_requests_get_coded_errors() {
    let app = spawn_app().await;

    let huge = format!(
        r#"{{"query": "{{ municipalities(first: 1) {{ totalCount }} }}", "pad": "{}"}}"#,
        "x".repeat(7 * 1024 * 1024)
    );
    let response = app.post_raw(&huge).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");

    for malformed in ["{ this is not json", r#"{"query": 42}"#, "\"just a string\""] {
        let response = app.post_raw(malformed).await;
        assert_eq!(response.status(), 400, "{malformed}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{malformed}: {body}");
    }

    let empty: Value = app.post_raw("[]").await.json().await.unwrap();
    assert_eq!(first_code(&empty), "BAD_USER_INPUT", "an empty batch: {empty}");

    let one = json!({ "query": "{ municipalities(first: 1) { totalCount } }" });
    let two = app.post_raw(&json!([one, one]).to_string()).await;
    assert_eq!(two.status(), 200);
    let answers: Value = two.json().await.unwrap();
    assert_eq!(
        answers.as_array().map(Vec::len),
        Some(2),
        "a batch gets one answer per operation"
    );
    let eleven = app.post_raw(&Value::Array(vec![one.clone(); 11]).to_string()).await;
    assert_eq!(eleven.status(), 400);
    let body: Value = eleven.json().await.unwrap();
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("1 to 10"));
}

#[tokio::test]
async fn queries_asking_for_too_much_are_refused_before_they_run() {
    let app = spawn_app().await;
    let nested = "{ organizations(first: 100) { edges { node { services(first: 100) { edges { node {
        organization { services(first: 100) { edges { node { name } } } } } } } } } } }";
    let body = app.graphql(nested, json!({})).await;
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["reason"], "TOO_COMPLEX", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("smaller pages"),
        "{body}"
    );

    let page = app.graphql("{ services(first: 1000) { totalCount } }", json!({})).await;
    assert_eq!(first_code(&page), "BAD_USER_INPUT", "{page}");

    for (query, why) in [
        ("{ municipalities(first: 1) { totalCount ", "a syntax error"),
        ("{ noSuchField }", "an unknown field"),
        ("{ services(first: \"ten\") { totalCount } }", "a wrong argument type"),
        (
            "{ services(first: 99999999999) { totalCount } }",
            "an out-of-range number",
        ),
    ] {
        let body = app.graphql(query, json!({})).await;
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{why}: {body}");
    }
    // The server still answers afterwards.
    let data = app.data("{ municipalities(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(data["municipalities"]["totalCount"], 565);
}

#[tokio::test]
async fn a_client_sending_too_many_requests_is_slowed_down_and_others_are_not() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ __typename }" }).to_string();
    // The default quota is 1,200 requests a minute per client address.
    let mut refused = None;
    for sent in 1..=1_300 {
        let response = app.post_raw(&query).await;
        if response.status() == 429 {
            let retry_after = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap();
            assert!(retry_after >= 1, "Retry-After says when to come back");
            refused = Some((sent, response.json::<Value>().await.unwrap()));
            break;
        }
    }
    let (sent, body) = refused.expect("the quota runs out");
    assert!(sent > 1_000, "refused only past the quota, at {sent}");
    assert_eq!(first_code(&body), "RATE_LIMITED", "{body}");
    assert!(body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap() >= 1);

    // A token is a client of its own.
    let token = crate::harness::account(&app, "r@x.org", entity::enums::Role::Referrer, None, Some("ocmw-aalst")).await;
    let me = app.graphql_as(Some(&token), "{ me { email } }", json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "r@x.org", "{me}");
}

const SUGGEST: &str = "mutation($s: ID!, $m: String!) { suggestChange(serviceId: $s, message: $m) { id } }";

/// A suggestion as a reverse proxy passes it on, with the `X-Forwarded-For` it adds.
async fn suggest_through_proxy(app: &TestApp, forwarded_for: &str, message: &str) -> Value {
    let body = json!({ "query": SUGGEST, "variables": { "s": service_id("ocmw-aalst-huurwaarborg"), "m": message } });
    reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = spawn_app_limited(Limits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Limits::default()
    })
    .await;
    for n in 1..=5 {
        let made = suggest_through_proxy(&app, "203.0.113.7", &format!("Opmerking {n}")).await;
        assert!(made["errors"].is_null(), "{made}");
    }
    // The sixth from that client is refused, even when it writes another address to the left
    // of the one the proxy saw.
    let forged = suggest_through_proxy(&app, "198.51.100.99, 203.0.113.7", "Nog eentje").await;
    assert_eq!(first_code(&forged), "RATE_LIMITED", "{forged}");
    // Another family's volunteer behind the same proxy is not slowed down by the first.
    let other = suggest_through_proxy(&app, "198.51.100.20", "Het adres klopt niet").await;
    assert!(other["errors"].is_null(), "{other}");
}

#[tokio::test]
async fn from_anyone_but_a_trusted_proxy_forwarded_for_is_ignored() {
    let app = spawn_app().await;
    for n in 1..=5 {
        let made = suggest_through_proxy(&app, &format!("198.51.100.{n}"), "Opmerking").await;
        assert!(made["errors"].is_null(), "{made}");
    }
    // A client that names a new address in every request is still one client.
    let sixth = suggest_through_proxy(&app, "198.51.100.77", "Nog eentje").await;
    assert_eq!(first_code(&sixth), "RATE_LIMITED", "{sixth}");
}
