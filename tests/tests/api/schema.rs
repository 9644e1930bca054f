//! The committed `schema.graphql` is the contract front ends code against: it must match
//! what the server serves.

use serde_json::json;

use crate::harness::spawn_app;

const COMMITTED: &str = include_str!("../../../schema.graphql");

#[test]
fn committed_schema_matches_the_server() {
    let served = api::graphql::sdl();
    assert!(
        served == COMMITTED,
        "schema.graphql is out of date: run `cargo run -p api -- schema > schema.graphql` and review the diff"
    );
}

#[tokio::test]
async fn introspection_works_for_graphiql() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ __schema { queryType { name } types { name kind fields { name args { name type { name kind ofType { name kind ofType { name kind ofType { name } } } } } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
}
