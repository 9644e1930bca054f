//! Search in the families' own words and languages: a query typed in Arabic, Dari, Pashto,
//! Tigrinya, Somali, Ukrainian, Russian or Turkish, or a need told in everyday Dutch, French
//! or English, names its life domain through the lexicon (`seed/data/lexicon/`) and finds
//! that domain's services near the family; `understood` says which words were taken as what.

use serde_json::{Value, json};

use crate::harness::{TestApp, service_id, spawn_app};

/// Ids, matched domains and what was understood, for `text` near `postal`.
async fn search(app: &TestApp, text: &str, postal: &str) -> Value {
    app.data(
        "query($input: ServiceSearchInput!) { searchServices(input: $input, first: 5) {
            totalCount edges { node { id } matchedDomains { code } }
            understood { text domain { code } language { code } via reviewed } } }",
        json!({ "input": { "text": text, "near": { "postalCode": postal } } }),
    )
    .await["searchServices"]
        .clone()
}

fn ids(result: &Value) -> Vec<String> {
    result["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Whether every hit has `domain` (or a need under it) among the domains that explain it.
fn all_in(result: &Value, domain: &str) -> bool {
    result["edges"].as_array().unwrap().iter().all(|e| {
        e["matchedDomains"].as_array().unwrap().iter().any(|d| {
            d["code"]
                .as_str()
                .is_some_and(|c| c == domain || c.starts_with(&format!("{domain}.")))
        })
    })
}

#[tokio::test]
async fn a_query_in_each_familys_language_finds_that_domains_services_near_the_family() {
    let app = spawn_app().await;
    for (language, text, domain) in [
        ("ara", "سكن", "housing"),
        ("fas", "خانه", "housing"),
        ("pbt", "کور", "housing"),
        ("tir", "ገዛ", "housing"),
        ("som", "guri", "housing"),
        ("ukr", "житло", "housing"),
        ("rus", "жильё", "housing"),
        ("tur", "kiralık ev", "housing"),
        ("ara", "طبيب", "health"),
        ("ukr", "лікар", "health"),
        ("tir", "ሓኪም", "health"),
        ("som", "dhakhtar", "health"),
    ] {
        let found = search(&app, text, "9300").await;
        assert!(
            found["totalCount"].as_u64().unwrap() > 0,
            "{language} {text}: {found:#}"
        );
        assert!(
            all_in(&found, domain),
            "{language} {text}: every hit is about {domain}: {found:#}"
        );
        let understood = &found["understood"][0];
        assert_eq!(understood["text"], text, "{found:#}");
        assert_eq!(understood["domain"]["code"], domain, "{found:#}");
        assert_eq!(understood["language"]["code"], language, "{found:#}");
        assert_eq!(understood["via"], "LEXICON");
        assert_eq!(understood["reviewed"], false, "no speaker has reviewed it yet");
    }
    // Near the family: housing in Aalst, not Antwerp's.
    let aalst = search(&app, "житло", "9300").await;
    assert!(
        ids(&aalst).contains(&service_id("woonpunt-aalst-woonzoekhulp")),
        "{aalst:#}"
    );
    assert!(
        !ids(&aalst).contains(&service_id("svk-antwerpen-sociale-huur")),
        "{aalst:#}"
    );
}

#[tokio::test]
async fn spelling_variants_of_one_word_find_the_same_services() {
    let app = spawn_app().await;
    for (written, variants) in [
        // Persian with the Arabic kaf and yeh, as many keyboards type it.
        ("مکتب", &["مكتب"][..]),
        ("کمک مالی", &["كمك مالي"]),
        // Arabic with harakat, tatweel, and alef with or without hamza.
        ("سكن", &["سَكَن", "سـكـن", "السكن"]),
        ("إقامة", &["اقامة", "اقامه"]),
        ("жильё", &["жилье", "жилья"]),
        ("sağlık", &["saglik"]),
    ] {
        let expected = search(&app, written, "9000").await;
        assert!(!ids(&expected).is_empty(), "{written}: {expected:#}");
        for variant in variants {
            let found = search(&app, variant, "9000").await;
            assert_eq!(ids(&found), ids(&expected), "{variant} finds what {written} finds");
        }
    }
}

#[tokio::test]
async fn needs_told_in_everyday_words_are_understood_as_needs() {
    let app = spawn_app().await;
    for (text, postal, need, expected) in [
        (
            "de huisbaas wil ons eruit zetten",
            "9300",
            "housing.tenancy_rights",
            "woonpunt-aalst-woonclub",
        ),
        ("we hebben geen eten meer", "9300", "basic_needs.food", ""),
        ("I can't pay my bills", "9300", "finance.debt_counselling", ""),
        (
            "mon fils fait des cauchemars",
            "1000",
            "health.psychosocial_children",
            "",
        ),
    ] {
        let found = search(&app, text, postal).await;
        let understood: Vec<&str> = found["understood"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["domain"]["code"].as_str().unwrap())
            .collect();
        assert!(understood.contains(&need), "{text}: {found:#}");
        if !expected.is_empty() {
            assert!(ids(&found).contains(&service_id(expected)), "{text}: {found:#}");
        }
    }
    // A domain's own synonym is understood too, as reviewed project vocabulary.
    let found = search(&app, "huis zoeken", "9300").await;
    let understood = &found["understood"][0];
    assert_eq!(understood["language"]["code"], "nld", "{found:#}");
    assert_eq!(understood["reviewed"], true);
    assert_ne!(understood["via"], "LEXICON");
    // Without text nothing is understood.
    let none = app
        .data(
            "{ searchServices(input: { domains: [\"housing\"] }, first: 1) { understood { text } } }",
            json!({}),
        )
        .await;
    assert_eq!(none["searchServices"]["understood"], json!([]));
}
