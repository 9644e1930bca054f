//! The HTTP surface: health and readiness, GraphiQL, and how malformed requests are answered.

use serde_json::json;

use crate::harness::{TestDatabase, spawn_app};

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true);
}

#[tokio::test]
async fn graphiql_is_served_on_get() {
    let app = spawn_app().await;
    let response = app.get("/graphql").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(response.text().await.unwrap().to_lowercase().contains("graphiql"));
}

#[tokio::test]
async fn malformed_requests_get_errors_not_crashes() {
    let app = spawn_app().await;

    let response = app.post_raw("{ this is not json").await;
    assert_eq!(response.status(), 400);

    let body = app.graphql("{ municipalities(first: 1) { totalCount ", json!({})).await;
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("expected"),
        "{body}"
    );

    let body = app.graphql("{ noSuchField }", json!({})).await;
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("noSuchField"),
        "{body}"
    );

    // The server still answers afterwards.
    let data = app.data("{ municipalities(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(data["municipalities"]["totalCount"], 565);
}

#[tokio::test]
async fn refuses_queries_nested_beyond_the_depth_limit() {
    let app = spawn_app().await;
    let deep = r#"{ organizations(first: 1) { edges { node { services(first: 1) { edges { node { organization {
        services(first: 1) { edges { node { organization { services(first: 1) { edges { node { organization { services(first: 1) { totalCount } } } } } } } } } } } } } } } } }"#;
    let body = app.graphql(deep, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["reason"], "TOO_DEEP", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("at most 16"),
        "{body}"
    );
}

#[tokio::test]
async fn restarting_on_a_seeded_database_keeps_its_data() {
    let app = spawn_app().await;
    let config = api::config::Config {
        database_url: Some(app.database_url()),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let db = api::db::connect(&config).await.unwrap();
    let report = api::db::prepare(&db, true).await.unwrap();
    assert_eq!(report, seed::SeedReport::default(), "nothing is seeded twice");
    let data = app
        .data("{ services { totalCount } organizations { totalCount } }", json!({}))
        .await;
    assert!(data["services"]["totalCount"].as_u64().unwrap() >= 150);
}

#[tokio::test]
async fn replicas_starting_together_on_an_empty_postgres_prepare_it_once() {
    let database = TestDatabase::create().await;
    if !matches!(database, TestDatabase::Postgres { .. }) {
        // Replicas share PostgreSQL, never an SQLite file; the SQLite run has nothing to show.
        return;
    }
    let (a, b) = (
        api::db::connect_url(&database.url()).await.unwrap(),
        api::db::connect_url(&database.url()).await.unwrap(),
    );
    let (first, second) = tokio::join!(api::db::prepare(&a, true), api::db::prepare(&b, true));
    let (first, second) = (
        first.expect("first replica prepares"),
        second.expect("second replica prepares"),
    );
    assert!(
        first.demo_map_loaded != second.demo_map_loaded,
        "exactly one seeds: {first:?} {second:?}"
    );
    assert_eq!(seed_counts(&a).await, seed_counts(&b).await);
    a.close().await.unwrap();
    b.close().await.unwrap();
}

async fn seed_counts(db: &sea_orm::DatabaseConnection) -> (u64, u64) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    (
        entity::municipality::Entity::find().count(db).await.unwrap(),
        entity::service::Entity::find().count(db).await.unwrap(),
    )
}

#[tokio::test]
async fn metrics_count_operations_and_searches_without_personal_data() {
    let app = spawn_app().await;
    let search = "{ searchServices(input: { text: \"huurwaarborg\", near: { postalCode: \"9300\" } }) { totalCount } }";
    app.data(search, json!({})).await;
    app.data(search, json!({})).await;
    app.graphql("{ noSuchField }", json!({})).await;
    // Refused before it runs, and counted all the same.
    let eleven: String = (0..11)
        .map(|i| format!("s{i}: searchServices(input: {{}}) {{ totalCount }} "))
        .collect();
    let refused = app.graphql(&format!("{{ {eleven} }}"), json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"], "TOO_MANY_SEARCHES",
        "{refused}"
    );
    app.graphql("{ municipalities(first: 1) { totalCount ", json!({})).await;

    let metrics = app.get("/metrics").await.text().await.unwrap();
    for line in [
        "socialmap_graphql_requests_total{operation=\"searchServices\",outcome=\"ok\"} 2",
        "socialmap_graphql_requests_total{operation=\"searchServices\",outcome=\"error\"} 1",
        "socialmap_graphql_requests_total{operation=\"noSuchField\",outcome=\"error\"} 1",
        "socialmap_graphql_requests_total{operation=\"invalid\",outcome=\"error\"} 1",
        "socialmap_search_seconds_count 2",
        "socialmap_search_index_lag_rows 0",
        "socialmap_referrals{status=\"SENT\"} 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "/metrics lacks `{line}`:\n{metrics}"
        );
    }
    assert!(
        !metrics.contains("huurwaarborg") && !metrics.contains("9300"),
        "no arguments in metrics"
    );
    // The allocator's figures, which tell a leak (allocated grows) from retention.
    let gauge = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("/metrics lacks {name}:\n{metrics}"))
    };
    let (allocated, resident) = (
        gauge("socialmap_heap_allocated_bytes"),
        gauge("socialmap_heap_resident_bytes"),
    );
    assert!(
        allocated > 0.0 && resident >= allocated,
        "{allocated} allocated, {resident} resident"
    );

    let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(
        ready,
        json!({ "ready": true, "database": true, "pendingMigrations": 0, "indexLag": 0 })
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    let headers = response.headers();
    let id = headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");

    // A browser on an origin that was not configured gets no CORS permission for GraphQL.
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("Origin", "https://elsewhere.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none());
}
