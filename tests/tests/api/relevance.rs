//! The relevance set: realistic requests as volunteers and social workers type them, each with
//! the demo services that must be in the top 5 (`tests/relevance/requests.json`). The test
//! prints precision@5 and fails below `PRECISION_BAR`; a second set in the families' languages
//! and everyday words (`requests-languages.json`) below `LANGUAGES_PRECISION_BAR`.
//!
//! Precision@5 here is, per request, the share of its expected services found in the top 5
//! (out of at most 5), averaged over all requests.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::harness::spawn_app;

/// The first set: Dutch, French and English as volunteers type them.
const PRECISION_BAR: f64 = 0.95;
/// The second set (`requests-languages.json`): queries in the families' own languages and
/// needs in everyday words, written against the demo map by someone who did not write the
/// lexicon.
const LANGUAGES_PRECISION_BAR: f64 = 0.85;

#[tokio::test]
async fn precision_at_5_over_the_relevance_set_meets_the_bar() {
    let precision = precision_at_5(include_str!("../../relevance/requests.json"), PRECISION_BAR).await;
    println!("precision@5 over requests.json: {precision:.3} (bar {PRECISION_BAR})");
}

#[tokio::test]
async fn precision_at_5_over_the_families_languages_and_everyday_words_meets_the_bar() {
    let precision = precision_at_5(
        include_str!("../../relevance/requests-languages.json"),
        LANGUAGES_PRECISION_BAR,
    )
    .await;
    println!("precision@5 over requests-languages.json: {precision:.3} (bar {LANGUAGES_PRECISION_BAR})");
}

/// A held-out set of the same kind (`requests-languages-holdout.json`), by another author,
/// written after the lexicon was tuned on the second set and never used to tune it: the
/// honest figure for new questions. It measured 0.674 first, and 0.855 after the lexicon was
/// extended need by need, in every language, by writers who never saw it. Its bar guards
/// against regressions; raise it as the lexicon grows. Once its misses have been used to add
/// terms it is no longer held out: write a new one.
const HELD_OUT_PRECISION_BAR: f64 = 0.80;

#[tokio::test]
async fn precision_at_5_over_the_held_out_set_meets_its_bar() {
    let precision = precision_at_5(
        include_str!("../../relevance/requests-languages-holdout.json"),
        HELD_OUT_PRECISION_BAR,
    )
    .await;
    println!("precision@5 over requests-languages-holdout.json: {precision:.3} (bar {HELD_OUT_PRECISION_BAR})");
}

/// Runs every request of a set and fails below `bar`; returns precision@5.
async fn precision_at_5(set: &str, bar: f64) -> f64 {
    let requests: Vec<Value> = serde_json::from_str(set).expect("the relevance set is JSON");
    assert!(requests.len() >= 40, "the set has {} requests", requests.len());
    let app = spawn_app().await;
    let keys_by_id: HashMap<String, String> = requests
        .iter()
        .flat_map(|r| r["expected"].as_array().unwrap().iter())
        .map(|key| {
            let key = key.as_str().unwrap().to_owned();
            let id = api::relay::global_id(api::relay::NodeKind::Service, &seed::demo_id("service", &key));
            (id.0, key)
        })
        .collect();

    let mut total = 0.0;
    let mut misses = Vec::new();
    for request in &requests {
        let data = app
            .data(
                "query($input: ServiceSearchInput!) { searchServices(input: $input, first: 5) { edges { node { id name } } } }",
                json!({ "input": request["input"] }),
            )
            .await;
        let top: Vec<String> = data["searchServices"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let id = e["node"]["id"].as_str().unwrap();
                keys_by_id
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| e["node"]["name"].as_str().unwrap().to_owned())
            })
            .collect();
        let expected: Vec<&str> = request["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        let found = expected.iter().filter(|k| top.iter().any(|t| t == *k)).count();
        let precision = found as f64 / expected.len().min(5) as f64;
        total += precision;
        if precision < 1.0 {
            misses.push(format!(
                "  {:.2} {} — {}\n       expected {expected:?}\n       got      {top:?}",
                precision, request["input"], request["description"]
            ));
        }
    }
    let precision = total / requests.len() as f64;
    println!(
        "precision@5 over {} requests: {precision:.3} (bar {bar})\n{}",
        requests.len(),
        misses.join("\n")
    );
    assert!(
        precision >= bar,
        "precision@5 {precision:.3} is below {bar}:\n{}",
        misses.join("\n")
    );
    precision
}
