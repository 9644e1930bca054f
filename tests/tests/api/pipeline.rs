//! One request pipeline: HTTP and WebSocket give the same answers and the same refusals,
//! with the same codes and reasons; a WebSocket speaks graphql-transport-ws strictly.

use std::num::NonZeroU32;
use std::time::Duration;

use entity::enums::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::harness::{TestApp, account, closed, operate, receive, send, service_id, spawn_app, spawn_app_limited};

const SUGGEST: &str =
    "mutation($id: ID!) { suggestChange(serviceId: $id, message: \"Het nummer werkt niet\") { status } }";
const SEARCH: &str =
    "{ searchServices(input: { text: \"huurcontract\", near: { postalCode: \"9300\" } }, first: 3) { totalCount } }";

fn first_error(response: &Value) -> &Value {
    let errors = if response["type"] == "error" {
        &response["payload"]
    } else if response["type"] == "next" {
        &response["payload"]["errors"]
    } else {
        &response["errors"]
    };
    &errors[0]
}

fn reason(response: &Value) -> String {
    first_error(response)["extensions"]["reason"]
        .as_str()
        .unwrap_or("<no reason>")
        .to_owned()
}

async fn suggestions(app: &TestApp) -> u64 {
    entity::suggestion::Entity::find()
        .count(&app.connect().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn over_a_websocket_queries_and_mutations_run_as_over_http() {
    let app = spawn_app().await;
    let mut socket = app.websocket_ready(None).await;
    let found = operate(&mut socket, "search", SEARCH, json!({})).await;
    assert_eq!(found["type"], "next", "{found:#}");
    let over_http = app.data(SEARCH, json!({})).await;
    assert_eq!(
        found["payload"]["data"], over_http,
        "the same answer on both transports"
    );
    assert!(
        found["payload"]["data"]["searchServices"]["totalCount"]
            .as_u64()
            .unwrap()
            > 0
    );

    // It used to panic for want of the client's address, and drop the connection.
    let suggested = operate(
        &mut socket,
        "m",
        SUGGEST,
        json!({ "id": service_id("ocmw-aalst-huurwaarborg") }),
    )
    .await;
    assert_eq!(
        suggested["payload"]["data"]["suggestChange"]["status"], "PENDING",
        "{suggested:#}"
    );
    assert_eq!(suggestions(&app).await, 1);
    // The socket is still open and answers.
    send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(receive(&mut socket).await["type"], "pong");
}

#[tokio::test]
async fn the_rate_limit_counts_websocket_operations_like_requests() {
    let app = spawn_app_limited(api::server::Limits {
        requests_per_minute: NonZeroU32::new(3),
        ..api::server::Limits::default()
    })
    .await;
    // `connection_init` is the first of three; two operations follow.
    let mut socket = app.websocket_ready(None).await;
    for id in ["1", "2"] {
        assert_eq!(operate(&mut socket, id, SEARCH, json!({})).await["type"], "next");
    }
    let refused = operate(&mut socket, "3", SEARCH, json!({})).await;
    assert_eq!(refused["type"], "error", "{refused:#}");
    assert_eq!(first_error(&refused)["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(reason(&refused), "TOO_MANY_REQUESTS");
    assert!(
        first_error(&refused)["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // A refused mutation writes nothing, and the socket stays open.
    let refused = operate(
        &mut socket,
        "4",
        SUGGEST,
        json!({ "id": service_id("ocmw-aalst-huurwaarborg") }),
    )
    .await;
    assert_eq!(reason(&refused), "TOO_MANY_REQUESTS");
    assert_eq!(suggestions(&app).await, 0);
    send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(receive(&mut socket).await["type"], "pong");

    // The same client over HTTP has used its quota too.
    let response = app.post_raw(&json!({ "query": SEARCH }).to_string()).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(reason(&body), "TOO_MANY_REQUESTS");
}

#[tokio::test]
async fn an_operation_that_runs_too_long_is_stopped_with_a_message_it_can_act_on() {
    // No time at all: every operation times out, however fast it is (an answer that comes
    // after its deadline is too late, even within the timer's tick).
    let app = spawn_app_limited(api::server::Limits {
        timeout: Duration::ZERO,
        ..api::server::Limits::default()
    })
    .await;
    // Ten searches in one operation, a request that would otherwise be answered.
    let slow = format!(
        "{{ {} }}",
        (0..10)
            .map(|i| format!("s{i}: searchServices(input: {{ text: \"huurcontract {i}\" }}) {{ totalCount }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let over_http = app.graphql(&slow, json!({})).await;
    let mut socket = app.websocket_ready(None).await;
    let over_ws = operate(&mut socket, "slow", &slow, json!({})).await;
    assert_eq!(over_ws["type"], "error", "{over_ws:#}");
    for response in [&over_http, &over_ws] {
        let error = first_error(response);
        assert_eq!(error["extensions"]["code"], "INTERNAL", "{response:#}");
        assert_eq!(error["extensions"]["reason"], "TIMEOUT");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains("stopped after") && message.contains("ask for less"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn many_aliased_searches_in_one_request_are_refused_before_they_run() {
    let app = spawn_app().await;
    let aliased = |n: usize| {
        let fields: Vec<String> = (0..n)
            .map(|i| format!("s{i}: searchServices(input: {{ text: \"huur\" }}, first: 1) {{ totalCount }}"))
            .collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let refused = app.graphql(&aliased(500), json!({})).await;
    assert_eq!(
        first_error(&refused)["extensions"]["code"],
        "BAD_USER_INPUT",
        "{refused:#}"
    );
    assert_eq!(reason(&refused), "TOO_MANY_SEARCHES");
    let message = first_error(&refused)["message"].as_str().unwrap();
    assert!(
        message.contains("500 searches") && message.contains("at most 10"),
        "{message}"
    );
    assert_eq!(refused["data"], Value::Null, "nothing ran");

    // Hidden in fragments, they count the same.
    let fragments = "{ ...A ...B } fragment A on Query { a: searchServices(input: {}) { totalCount } ...B }
        fragment B on Query { b1: searchServices(input: {}) { totalCount } b2: searchServices(input: {}) { totalCount }
        b3: searchServices(input: {}) { totalCount } b4: searchServices(input: {}) { totalCount } b5: searchServices(input: {}) { totalCount } }";
    assert_eq!(reason(&app.graphql(fragments, json!({})).await), "TOO_MANY_SEARCHES");

    // Ten are fine.
    let ten = app.data(&aliased(10), json!({})).await;
    assert_eq!(ten.as_object().unwrap().len(), 10);
}

#[tokio::test]
async fn every_refusal_over_http_has_its_twin_over_websocket() {
    let app = spawn_app().await;
    let many = (0..11)
        .map(|i| format!("s{i}: searchServices(input: {{}}) {{ totalCount }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let many = format!("{{ {many} }}");
    let deep = "{ organizations(first: 1) { edges { node { services(first: 1) { edges { node { organization {
        services(first: 1) { edges { node { organization { services(first: 1) { edges { node { organization { services(first: 1) { totalCount } } } } } } } } } } } } } } } } }";
    let recursive = format!("{{ {}domains {{ code }}{} }}", "domains { ".repeat(40), " }".repeat(40));
    let complex = "{ organizations(first: 100) { edges { node { services(first: 100) { edges { node {
        organization { services(first: 100) { edges { node { name } } } } } } } } } } }";
    let cases: Vec<(&str, Value, &str)> = vec![
        ("{ searchServices(input: {", json!({}), "INVALID_QUERY"),
        ("{ nope }", json!({}), "INVALID_QUERY"),
        (
            "query($s: String!) { organizations(search: $s) { totalCount } }",
            json!({ "s": "a\u{0}b" }),
            "NUL_CHARACTER",
        ),
        (&many, json!({}), "TOO_MANY_SEARCHES"),
        (deep, json!({}), "TOO_DEEP"),
        (complex, json!({}), "TOO_COMPLEX"),
        (
            "{ searchServices(input: { near: { postalCode: \"0000\" } }) { totalCount } }",
            json!({}),
            "UNKNOWN_POSTAL_CODE",
        ),
        (
            "{ searchServices(input: { near: { postalCode: \"9300\" }, radiusKm: 5000 }) { totalCount } }",
            json!({}),
            "RADIUS_OUT_OF_RANGE",
        ),
        ("{ node(id: \"bm90IGFuIGlk\") { id } }", json!({}), "BAD_ID"),
        // Beyond async-graphql's own recursion limit, refused while parsing.
        (&recursive, json!({}), "TOO_DEEP"),
    ];
    let mut socket = app.websocket_ready(None).await;
    for (i, (query, variables, expected)) in cases.into_iter().enumerate() {
        let over_http = app.graphql(query, variables.clone()).await;
        let over_ws = operate(&mut socket, &i.to_string(), query, variables).await;
        assert_eq!(reason(&over_http), expected, "HTTP {query}: {over_http:#}");
        assert_eq!(reason(&over_ws), expected, "WebSocket {query}: {over_ws:#}");
        assert_eq!(
            first_error(&over_http)["extensions"]["code"],
            first_error(&over_ws)["extensions"]["code"]
        );
        assert!(first_error(&over_ws)["extensions"]["code"].is_string());
    }
}

#[tokio::test]
async fn a_websocket_speaks_graphql_transport_ws_strictly() {
    let app = spawn_app_limited(api::server::Limits {
        connection_init_timeout: Duration::from_millis(300),
        ..api::server::Limits::default()
    })
    .await;
    // Never initialised: closed when the wait is over.
    let mut socket = app.websocket("graphql-transport-ws").await;
    assert_eq!(closed(&mut socket).await.0, 4408);

    // An operation before `connection_init`.
    let mut socket = app.websocket("graphql-transport-ws").await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SEARCH } }),
    )
    .await;
    assert_eq!(closed(&mut socket).await.0, 4401);

    // A second `connection_init`.
    let mut socket = app.websocket_ready(None).await;
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(closed(&mut socket).await.0, 4429);

    // Messages that are not the protocol's: a close frame saying so in the user's terms.
    for message in [
        "{\"type\": \"start\", \"id\": \"1\"}".to_owned(),
        "not json".to_owned(),
        "[1, 2]".to_owned(),
        json!({ "type": "subscribe", "payload": { "query": SEARCH } }).to_string(),
    ] {
        let mut socket = app.websocket_ready(None).await;
        futures_util::SinkExt::send(
            &mut socket,
            tokio_tungstenite::tungstenite::Message::text(message.clone()),
        )
        .await
        .unwrap();
        let (code, reason) = closed(&mut socket).await;
        assert_eq!(code, 4400, "{message}: {reason}");
        for internal in ["ClientMessage", "enum", "serde", "variant"] {
            assert!(!reason.contains(internal), "{message}: {reason}");
        }
    }

    // A message above the body limit (6 MB) is refused, as an HTTP body would be: the server
    // closes with 1009, or (when the client is still writing) resets the connection; it
    // never answers it.
    let mut socket = app.websocket_ready(None).await;
    let huge = json!({ "id": "1", "type": "subscribe", "payload": { "query": "x".repeat(7_000_000) } });
    let sent = futures_util::SinkExt::send(
        &mut socket,
        tokio_tungstenite::tungstenite::Message::text(huge.to_string()),
    )
    .await;
    if sent.is_ok() {
        let next = tokio::time::timeout(Duration::from_secs(10), futures_util::StreamExt::next(&mut socket))
            .await
            .expect("the server ends it in time");
        match next {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 1009)
            }
            Some(Err(_)) | None => {}
            Some(Ok(other)) => panic!("a message above the limit was answered: {other:?}"),
        }
    }
    assert!(app.data("{ domains { code } }", json!({})).await["domains"].is_array());
}

#[tokio::test]
async fn a_running_id_cannot_be_reused_and_subscriptions_are_limited_per_client() {
    let app = spawn_app_limited(api::server::Limits {
        max_subscriptions_per_client: 2,
        ..api::server::Limits::default()
    })
    .await;
    let token = account(
        &app,
        "vrijwilliger@buddy.example",
        Role::Referrer,
        None,
        Some("buddywerking-vluchtelingen-aalst"),
    )
    .await;
    let updates = json!({ "query": "subscription { referralUpdates(box: OUTGOING) { change } }" });
    let mut socket = app.websocket_ready(Some(&token)).await;
    for id in ["a", "b"] {
        send(
            &mut socket,
            json!({ "id": id, "type": "subscribe", "payload": updates }),
        )
        .await;
    }
    // A third subscription of the same client is refused; a query still runs.
    let third = operate(
        &mut socket,
        "c",
        "subscription { referralUpdates { change } }",
        json!({}),
    )
    .await;
    assert_eq!(third["type"], "error", "{third:#}");
    assert_eq!(reason(&third), "TOO_MANY_SUBSCRIPTIONS");
    assert_eq!(operate(&mut socket, "d", SEARCH, json!({})).await["type"], "next");
    // So does another client's socket on the same token: the limit is the client's.
    let mut other = app.websocket_ready(Some(&token)).await;
    let refused = operate(
        &mut other,
        "a",
        "subscription { referralUpdates { change } }",
        json!({}),
    )
    .await;
    assert_eq!(reason(&refused), "TOO_MANY_SUBSCRIPTIONS");

    // `a` is still running: its id is taken.
    send(
        &mut socket,
        json!({ "id": "a", "type": "subscribe", "payload": updates }),
    )
    .await;
    assert_eq!(closed(&mut socket).await.0, 4409);
}

#[tokio::test]
async fn credentials_that_are_not_a_bearer_token_are_refused_not_downgraded() {
    let app = spawn_app().await;
    for header in [
        "Bearer ",
        "Basic dXNlcjpwYXNzd29yZA==",
        "token-without-scheme",
        "Bearer smt_forged",
    ] {
        let response = reqwest::Client::new()
            .post(app.url("/graphql"))
            .header("authorization", header)
            .json(&json!({ "query": "{ me { email } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            first_error(&body)["extensions"]["code"],
            "UNAUTHENTICATED",
            "{header}: {body}"
        );
        assert_eq!(body["data"], Value::Null);
    }
    for (payload, code) in [
        (json!({ "Authorization": "Bearer " }), 4403),
        (json!({ "Authorization": "Basic dXNlcjpwYXNzd29yZA==" }), 4403),
        (json!({ "Authorization": "Bearer smt_forged" }), 4403),
        (json!({ "Authorization": 42 }), 4403),
        (json!("Bearer smt_forged"), 4400),
        (json!([1]), 4400),
    ] {
        let mut socket = app.websocket("graphql-transport-ws").await;
        send(&mut socket, json!({ "type": "connection_init", "payload": payload })).await;
        assert_eq!(closed(&mut socket).await.0, code, "{payload}");
    }
}

#[tokio::test]
async fn only_json_bodies_are_executed() {
    let app = spawn_app().await;
    let body = json!({ "query": SUGGEST, "variables": { "id": service_id("ocmw-aalst-huurwaarborg") } }).to_string();
    // What a browser sends cross-origin without asking first.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = reqwest::Client::new().post(app.url("/graphql")).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 415, "{content_type:?}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(reason(&answer), "UNSUPPORTED_CONTENT_TYPE");
    }
    assert_eq!(suggestions(&app).await, 0, "nothing was executed");
    for content_type in ["application/json; charset=utf-8", "application/graphql-response+json"] {
        let response = reqwest::Client::new()
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(json!({ "query": SEARCH }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{content_type}");
    }
}

#[tokio::test]
async fn messages_say_what_was_wrong_without_internals_or_echoes() {
    let app = spawn_app().await;
    for (body, says) in [
        ("{\"query\": 5}", "`query` must be a string"),
        ("{\"variables\": {}}", "has no `query`"),
        (
            "{\"query\": \"{ domains { code } }\", \"variables\": [1]}",
            "`variables` must be an object",
        ),
        ("[1, 2]", "operation 1"),
        ("\"just a string\"", "a GraphQL request is a JSON object"),
        ("{\"query\": ", "not valid JSON"),
    ] {
        let response = app.post_raw(body).await;
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(reason(&answer), "MALFORMED_REQUEST", "{body}");
        let message = first_error(&answer)["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
        for internal in ["untagged", "BatchRequest", "enum", "expected f64"] {
            assert!(!message.contains(internal), "{body}: {message}");
        }
    }

    // An id of 100,000 characters is not echoed back whole.
    let long_id = "A".repeat(100_000);
    let answer = app
        .graphql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": long_id }))
        .await;
    let message = first_error(&answer)["message"].as_str().unwrap();
    assert_eq!(reason(&answer), "BAD_ID");
    assert!(message.len() < 300 && message.contains('…'), "{message}");

    // A client's request id is kept only when it is sane.
    let sent_back = |id: String| {
        let app = &app;
        async move {
            let response = reqwest::Client::new()
                .post(app.url("/graphql"))
                .header("x-request-id", id)
                .json(&json!({ "query": "{ domains { code } }" }))
                .send()
                .await
                .unwrap();
            response.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(sent_back("front-end-42.a:b".to_owned()).await, "front-end-42.a:b");
    let replaced = sent_back("x".repeat(5_000)).await;
    assert!(replaced.len() <= 64 && !replaced.contains("xxxx"), "{replaced}");
    let replaced = sent_back("<script>".to_owned()).await;
    assert!(!replaced.contains('<'), "{replaced}");
}

#[tokio::test]
async fn older_clients_speak_subscriptions_transport_ws() {
    let app = spawn_app().await;
    let mut socket = app.websocket("graphql-ws").await;
    send(&mut socket, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(receive(&mut socket).await["type"], "connection_ack");
    assert_eq!(receive(&mut socket).await["type"], "ka");
    send(
        &mut socket,
        json!({ "id": "1", "type": "start", "payload": { "query": SEARCH } }),
    )
    .await;
    let data = receive(&mut socket).await;
    assert_eq!(data["type"], "data", "{data:#}");
    assert_eq!(data["payload"]["data"], app.data(SEARCH, json!({})).await);
    assert_eq!(receive(&mut socket).await, json!({ "type": "complete", "id": "1" }));
    // Refusals carry their reason here too.
    send(
        &mut socket,
        json!({ "id": "2", "type": "start", "payload": { "query": "{ nope }" } }),
    )
    .await;
    let error = receive(&mut socket).await;
    assert_eq!(error["type"], "error");
    assert_eq!(reason(&error), "INVALID_QUERY");
}
