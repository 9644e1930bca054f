//! `searchServices`: who can help this family, near its place, in its language — over the
//! demo map, in Dutch, French and English.

use std::time::{Duration, Instant};

use chrono::Utc;
use entity::enums::{ChangedResource, ServiceStatus};
use entity::service;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::harness::{TestApp, spawn_app};

const HIT: &str = r#"
    cursor score distanceKm stale
    node { id name }
    nearestLocation { id latitude longitude confidential }
    languageMatches { language { code } mode exact }
    matchedDomains { code }
    snippet { text html }
"#;

/// The `searchServices` connection for `input`.
async fn search(app: &TestApp, input: Value, first: i32) -> Value {
    let query = format!(
        "query($input: ServiceSearchInput!, $first: Int!) {{ searchServices(input: $input, first: $first) {{
            totalCount pageInfo {{ hasNextPage endCursor }}
            edges {{ {HIT} }}
            facets {{ domains {{ code label count }} languages {{ code name count }} }}
        }} }}"
    );
    app.data(&query, json!({ "input": input, "first": first })).await["searchServices"].clone()
}

fn edges(result: &Value) -> Vec<Value> {
    result["edges"].as_array().expect("edges").clone()
}

/// The GraphQL id of a demo service.
fn service_id(key: &str) -> String {
    api::relay::global_id(api::relay::NodeKind::Service, &seed::demo_id("service", key)).0
}

fn ids(result: &Value) -> Vec<String> {
    edges(result)
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn edge_of(result: &Value, key: &str) -> Option<Value> {
    edges(result)
        .into_iter()
        .find(|e| e["node"]["id"] == service_id(key).as_str())
}

fn position(result: &Value, key: &str) -> Option<usize> {
    ids(result).iter().position(|id| *id == service_id(key))
}

fn codes(values: &Value, field: &str) -> Vec<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_volunteers_question_is_answered_in_one_query_and_explained() {
    let app = spawn_app().await;
    // "Who can help this family with a rental contract, near 9300, in Dari?"
    let result = search(
        &app,
        json!({ "text": "huurcontract", "near": { "postalCode": "9300" }, "languages": ["fa-AF"] }),
        5,
    )
    .await;
    let top = &edges(&result)[0];
    assert!(
        [
            service_id("woonpunt-aalst-woonzoekhulp"),
            service_id("woonpunt-aalst-woonclub")
        ]
        .contains(&top["node"]["id"].as_str().unwrap().to_owned()),
        "a Dari-speaking housing service in Aalst comes first: {top:#}"
    );
    assert!(top["distanceKm"].as_f64().unwrap() < 5.0);
    assert_eq!(
        top["languageMatches"][0],
        json!({ "language": { "code": "prs" }, "mode": "STAFF", "exact": true })
    );
    assert!(codes(&top["matchedDomains"], "code").contains(&"housing".to_owned()));
    assert!(top["nearestLocation"]["id"].is_string());
    assert_eq!(top["stale"], false);
    let union = edge_of(&result, "woonpunt-aalst-woonzoekhulp").expect("the house-search helper is found");
    assert!(
        union["snippet"]["html"]
            .as_str()
            .unwrap()
            .contains("<b>huurcontract</b>"),
        "{union:#}"
    );
}

#[tokio::test]
async fn a_service_is_offered_only_where_its_area_covers_the_family() {
    let app = spawn_app().await;
    // The tenants' union of Oost-Vlaanderen serves that province only.
    let union = "huurdersbond-ov-huuradvies";
    let in_aalst = search(
        &app,
        json!({ "domains": ["housing"], "near": { "postalCode": "9300" } }),
        100,
    )
    .await;
    assert!(position(&in_aalst, union).is_some());
    let in_leuven = search(
        &app,
        json!({ "domains": ["housing"], "near": { "postalCode": "3000" } }),
        100,
    )
    .await;
    assert!(in_leuven["totalCount"].as_u64().unwrap() > 0);
    assert_eq!(position(&in_leuven, union), None, "never offered to a family in Leuven");
    let by_code = search(
        &app,
        json!({ "domains": ["housing"], "near": { "municipalityCode": "24062" } }),
        100,
    )
    .await;
    let sorted = |r: &Value| {
        let mut ids = ids(r);
        ids.sort();
        ids
    };
    assert_eq!(
        sorted(&by_code),
        sorted(&in_leuven),
        "Leuven by municipality code is the same place"
    );

    // With a radius, a location within reach counts too: its Gent office is ~70 km away.
    let within_80 = search(
        &app,
        json!({ "domains": ["housing"], "near": { "postalCode": "3000" }, "radiusKm": 80 }),
        100,
    )
    .await;
    let edge = edge_of(&within_80, union).expect("within 80 km of Leuven");
    assert!(edge["distanceKm"].as_f64().unwrap() <= 80.0);
    let within_20 = search(
        &app,
        json!({ "domains": ["housing"], "near": { "postalCode": "3000" }, "radiusKm": 20 }),
        100,
    )
    .await;
    assert_eq!(position(&within_20, union), None);
}

#[tokio::test]
async fn distance_is_to_the_nearest_location_and_null_without_one() {
    let app = spawn_app().await;
    // The CAW of Oost-Vlaanderen has offices in Gent, Aalst, Dendermonde and Sint-Niklaas.
    let result = search(
        &app,
        json!({ "text": "CAW onthaal", "near": { "postalCode": "9200" } }),
        20,
    )
    .await;
    let caw = edge_of(&result, "caw-ov-onthaal").expect("found from Dendermonde");
    assert!(
        caw["distanceKm"].as_f64().unwrap() < 3.0,
        "the Dendermonde office: {caw:#}"
    );

    // A helpline has no location: no distance, no nearest location, still found.
    let result = search(
        &app,
        json!({ "text": "telefoon geweld", "near": { "postalCode": "9300" } }),
        20,
    )
    .await;
    let helpline = edge_of(&result, "hulplijn-geweld-telefoon").expect("the violence helpline");
    assert_eq!(helpline["distanceKm"], Value::Null);
    assert_eq!(helpline["nearestLocation"], Value::Null);
    let distances: Vec<f64> = edges(&result).iter().filter_map(|e| e["distanceKm"].as_f64()).collect();
    assert!(!distances.is_empty());
}

#[tokio::test]
async fn a_shelters_position_never_leaves_the_server() {
    let app = spawn_app().await;
    let result = search(
        &app,
        json!({ "domains": ["safety.domestic_violence"], "near": { "postalCode": "2800" } }),
        50,
    )
    .await;
    let shelter = edge_of(&result, "vluchthuis-rivierenland-opvang").expect("the shelter covers Mechelen");
    let km = shelter["distanceKm"].as_f64().unwrap();
    assert_eq!(km, km.round(), "whole kilometres only: {km}");
    assert_eq!(shelter["nearestLocation"]["confidential"], true);
    assert_eq!(shelter["nearestLocation"]["latitude"], Value::Null);
    assert_eq!(shelter["nearestLocation"]["longitude"], Value::Null);
}

#[tokio::test]
async fn text_is_stemmed_accent_folded_and_forgives_typos_in_three_languages() {
    let app = spawn_app().await;
    let near_gent = json!({ "postalCode": "9000" });
    // Dutch plural finds the singular, and the other way round.
    let plural = search(&app, json!({ "text": "woningen", "near": near_gent }), 10).await;
    let singular = search(&app, json!({ "text": "woning", "near": near_gent }), 10).await;
    assert!(plural["totalCount"].as_u64().unwrap() > 0);
    assert_eq!(plural["totalCount"], singular["totalCount"]);
    // A typo in a long word: the tenants' union still comes first.
    let typo = search(&app, json!({ "text": "huurcontrat", "near": near_gent }), 5).await;
    assert_eq!(position(&typo, "huurdersbond-ov-huuradvies"), Some(0), "{typo:#}");
    // French without accents finds the accented text.
    let creche = search(&app, json!({ "text": "creche", "lang": "FR" }), 10).await;
    let accented = search(&app, json!({ "text": "crèche", "lang": "FR" }), 10).await;
    assert!(creche["totalCount"].as_u64().unwrap() > 0);
    assert_eq!(ids(&creche), ids(&accented));
    // English stemming: "diplomas" finds the diploma recognition service.
    let english = search(&app, json!({ "text": "recognition of diplomas", "lang": "EN" }), 5).await;
    assert!(position(&english, "naric-erkenning").is_some(), "{english:#}");
}

#[tokio::test]
async fn domain_synonyms_expand_the_query_in_every_language() {
    let app = spawn_app().await;
    for (text, lang) in [("huis zoeken", "NL"), ("logement", "FR"), ("rent", "EN")] {
        let result = search(
            &app,
            json!({ "text": text, "near": { "postalCode": "9300" }, "lang": lang }),
            5,
        )
        .await;
        assert!(
            position(&result, "woonpunt-aalst-woonzoekhulp").is_some(),
            "`{text}` finds the house-search help: {result:#}"
        );
        for edge in edges(&result) {
            assert!(
                codes(&edge["matchedDomains"], "code")
                    .iter()
                    .any(|c| c.starts_with("housing")),
                "`{text}` explains every hit by housing: {edge:#}"
            );
        }
    }
}

#[tokio::test]
async fn raw_user_input_is_searched_as_text_never_a_parser_error() {
    let app = spawn_app().await;
    for text in [
        "\"huurcontract",
        "huur: contract",
        "(woning AND) OR [",
        "title:woning^2 -x +y ~ *",
        "🏠 woning 🙏",
        "NOT",
        "'; DROP TABLE service; --",
        "   ",
    ] {
        let result = search(&app, json!({ "text": text, "near": { "postalCode": "9300" } }), 5).await;
        assert!(result["totalCount"].is_u64(), "`{text}`");
    }
    let result = search(
        &app,
        json!({ "text": "🏠 woning 🙏", "near": { "postalCode": "9300" } }),
        5,
    )
    .await;
    assert!(result["totalCount"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn languages_match_through_the_macrolanguage_and_staff_ranks_above_an_interpreter() {
    let app = spawn_app().await;
    // `fa` (Persian) matches services that list Dari, marked as not exact.
    let persian = search(
        &app,
        json!({ "languages": ["fa"], "near": { "postalCode": "9300" } }),
        100,
    )
    .await;
    let dari = search(
        &app,
        json!({ "languages": ["prs"], "near": { "postalCode": "9300" } }),
        100,
    )
    .await;
    assert!(dari["totalCount"].as_u64().unwrap() > 0);
    let match_of = |result: &Value, key: &str| edge_of(result, key).unwrap()["languageMatches"][0].clone();
    assert_eq!(
        match_of(&persian, "woonpunt-aalst-woonzoekhulp"),
        json!({ "language": { "code": "prs" }, "mode": "STAFF", "exact": false })
    );
    assert_eq!(match_of(&dari, "woonpunt-aalst-woonzoekhulp")["exact"], true);

    // Same place, same domain: Dari-speaking staff first, an interpreter after.
    let housing = search(
        &app,
        json!({ "domains": ["housing"], "languages": ["prs"], "near": { "postalCode": "9300" } }),
        100,
    )
    .await;
    let staff = position(&housing, "woonpunt-aalst-woonzoekhulp").unwrap();
    let interpreter = position(&housing, "ocmw-aalst-huurwaarborg").unwrap();
    assert_eq!(match_of(&housing, "ocmw-aalst-huurwaarborg")["mode"], "INTERPRETER");
    assert!(staff < interpreter, "staff {staff} before interpreter {interpreter}");

    // Without interpreters, only staff who speak it.
    let staff_only = search(
        &app,
        json!({ "domains": ["housing"], "languages": ["prs"], "includeInterpreted": false, "near": { "postalCode": "9300" } }),
        100,
    )
    .await;
    assert_eq!(position(&staff_only, "ocmw-aalst-huurwaarborg"), None);
    for edge in edges(&staff_only) {
        assert_eq!(edge["languageMatches"][0]["mode"], "STAFF");
    }
}

#[tokio::test]
async fn other_filters_narrow_the_answer() {
    let app = spawn_app().await;
    let all = search(&app, json!({ "near": { "postalCode": "9000" } }), 100).await;
    let free = search(&app, json!({ "near": { "postalCode": "9000" }, "freeOnly": true }), 100).await;
    let child = search(&app, json!({ "near": { "postalCode": "9000" }, "age": 7 }), 100).await;
    let self_referral = search(
        &app,
        json!({ "near": { "postalCode": "9000" }, "access": "SELF_REFERRAL" }),
        100,
    )
    .await;
    let minors = search(
        &app,
        json!({ "near": { "postalCode": "9000" }, "targetGroups": ["UNACCOMPANIED_MINORS"] }),
        100,
    )
    .await;
    let total = |r: &Value| r["totalCount"].as_u64().unwrap();
    for narrowed in [&free, &child, &self_referral, &minors] {
        assert!(
            total(narrowed) > 0 && total(narrowed) < total(&all),
            "{}",
            total(narrowed)
        );
    }
    for node in all_services(&app).await {
        let id = node["id"].as_str().unwrap().to_owned();
        if ids(&free).contains(&id) {
            assert_eq!(node["cost"], "FREE");
        }
        if ids(&self_referral).contains(&id) {
            assert_eq!(node["access"], "SELF_REFERRAL");
        }
        if ids(&child).contains(&id) {
            assert!(node["ageMin"].as_i64().unwrap_or(0) <= 7 && node["ageMax"].as_i64().unwrap_or(200) >= 7);
        }
    }
}

/// Every service of the map with the fields the filters look at.
async fn all_services(app: &TestApp) -> Vec<Value> {
    let query = "query($after: String) { services(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { id cost ageMin ageMax access } } } }";
    let (mut found, mut after) = (Vec::new(), Value::Null);
    loop {
        let page = app.data(query, json!({ "after": after })).await["services"].clone();
        found.extend(crate::harness::nodes(&page));
        if page["pageInfo"]["hasNextPage"] != true {
            return found;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn facets_count_the_whole_result_set_not_the_page() {
    let app = spawn_app().await;
    let input = json!({ "domains": ["health"], "near": { "postalCode": "2000" }, "lang": "EN" });
    let one = search(&app, input.clone(), 1).await;
    let all = search(&app, input, 100).await;
    assert_eq!(edges(&one).len(), 1);
    assert_eq!(one["facets"], all["facets"]);
    let total = all["totalCount"].as_u64().unwrap();
    let health = one["facets"]["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "health")
        .unwrap()
        .clone();
    assert_eq!(health["count"].as_u64().unwrap(), total, "every hit is in health");
    assert_eq!(
        health["label"], "Health and wellbeing",
        "labels in the language asked for"
    );
    let dutch = one["facets"]["languages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "nld")
        .unwrap()
        .clone();
    let with_dutch = edges(&all).len();
    assert!(dutch["count"].as_u64().unwrap() <= with_dutch as u64);
    assert_eq!(dutch["name"], "Dutch");
}

#[tokio::test]
async fn snippets_mark_the_matching_words_in_the_language_asked_for() {
    let app = spawn_app().await;
    let french = search(&app, json!({ "text": "diplôme", "lang": "FR" }), 3).await;
    let html = edges(&french)[0]["snippet"]["html"].as_str().unwrap().to_owned();
    assert!(html.contains("<b>diplôme</b>"), "{html}");
    let english = search(&app, json!({ "text": "diploma", "lang": "EN" }), 3).await;
    let html = edges(&english)[0]["snippet"]["html"].as_str().unwrap().to_owned();
    assert!(html.to_lowercase().contains("<b>diploma</b>"), "{html}");
    // Without text, the description's opening words, nothing marked.
    let plain = search(&app, json!({ "domains": ["housing"] }), 1).await;
    let snippet = &edges(&plain)[0]["snippet"];
    assert!(!snippet["text"].as_str().unwrap().is_empty());
    assert!(!snippet["html"].as_str().unwrap().contains("<b>"));
}

#[tokio::test]
async fn walking_all_pages_returns_every_hit_exactly_once() {
    let app = spawn_app().await;
    let input = json!({ "text": "hulp", "near": { "postalCode": "9300" } });
    let first = search(&app, input.clone(), 100).await;
    let total = first["totalCount"].as_u64().unwrap() as usize;
    assert!(total > 20, "a broad search: {total}");
    let query = format!(
        "query($input: ServiceSearchInput!, $after: String) {{ searchServices(input: $input, first: 7, after: $after) {{
            pageInfo {{ hasNextPage endCursor }} edges {{ {HIT} }} }} }}"
    );
    let (mut seen, mut after) = (Vec::new(), Value::Null);
    loop {
        let page = app.data(&query, json!({ "input": input, "after": after })).await["searchServices"].clone();
        seen.extend(ids(&page));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ids(&first), "the same hits in the same order");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), total);
}

#[tokio::test]
async fn a_result_list_without_counts_or_snippets_shows_the_same_services_in_the_same_order() {
    let app = spawn_app().await;
    // Without totalCount, facets and snippets the search looks only for the best hits.
    let list = "query($input: ServiceSearchInput!) { searchServices(input: $input, first: 6) {
        pageInfo { hasNextPage } edges { score distanceKm node { id name } } } }";
    for input in [
        json!({ "text": "huurcontract", "near": { "postalCode": "9300" }, "languages": ["prs"] }),
        json!({ "text": "hulp bij papieren" }),
        json!({ "text": "logement", "near": { "postalCode": "9000" }, "radiusKm": 20.0, "lang": "FR" }),
        json!({ "domains": ["health"], "near": { "postalCode": "9300" } }),
    ] {
        let full = search(&app, input.clone(), 6).await;
        let listed = app.data(list, json!({ "input": input })).await["searchServices"].clone();
        assert!(!ids(&full).is_empty(), "{input}");
        assert_eq!(ids(&listed), ids(&full), "{input}");
        let scores = |r: &Value| edges(r).iter().map(|e| e["score"].clone()).collect::<Vec<_>>();
        assert_eq!(scores(&listed), scores(&full), "{input}");
        let more = full["totalCount"].as_u64().unwrap() > 6;
        assert_eq!(listed["pageInfo"]["hasNextPage"], more, "{input}");
    }
}

#[tokio::test]
async fn bad_input_is_a_clear_user_error() {
    let app = spawn_app().await;
    let query = "query($input: ServiceSearchInput!, $first: Int) { searchServices(input: $input, first: $first) { totalCount } }";
    for (input, first, says) in [
        (json!({ "near": { "postalCode": "0000" } }), 5, "postal code"),
        (
            json!({ "near": { "postalCode": "9300", "municipalityCode": "41002" } }),
            5,
            "exactly one",
        ),
        (json!({ "near": { "latitude": 50.9 } }), 5, "exactly one"),
        (
            json!({ "near": { "latitude": 40.4, "longitude": -3.7 } }),
            5,
            "not in a municipality",
        ),
        (json!({ "near": { "latitude": 95.0, "longitude": 4.0 } }), 5, "latitude"),
        (json!({ "radiusKm": 10 }), 5, "radiusKm"),
        (
            json!({ "near": { "postalCode": "9300" }, "radiusKm": -1 }),
            5,
            "radiusKm",
        ),
        (json!({ "languages": ["klingon"] }), 5, "unknown language"),
        (json!({ "domains": ["happiness"] }), 5, "unknown life domain"),
        (json!({ "age": 400 }), 5, "age"),
        (json!({ "text": "woning ".repeat(100) }), 5, "at most"),
        (json!({}), 101, "first"),
    ] {
        let (code, message) = app.error(query, json!({ "input": input, "first": first })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{input}: {message}");
        assert!(message.contains(says), "{input}: `{message}` should mention {says}");
    }
}

/// Changes a demo service behind the API, with its change-log row in the same transaction.
async fn change_service(app: &TestApp, key: &str, change: impl FnOnce(&mut service::ActiveModel)) {
    let db = app.connect().await;
    let id = seed::demo_id("service", key);
    let txn = api::db::begin_write(&db).await.unwrap();
    let mut active: service::ActiveModel = service::Entity::find_by_id(id.clone())
        .one(&txn)
        .await
        .unwrap()
        .expect("demo service")
        .into();
    change(&mut active);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await.unwrap();
    api::search::record(&txn, ChangedResource::Service, &id).await.unwrap();
    txn.commit().await.unwrap();
}

/// The answer to a mutation that must succeed.
async fn mutated(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let response = app.graphql_as(Some(token), query, variables).await;
    assert!(response.get("errors").is_none(), "{response:#}");
    response["data"].as_object().unwrap().values().next().unwrap().clone()
}

/// Polls `search` until `holds` or a deadline. The index follows the log every
/// `FOLLOW_INTERVAL` (250 ms); the deadline leaves room for a loaded CI machine.
async fn eventually(app: &TestApp, input: Value, holds: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let result = search(app, input.clone(), 100).await;
        if holds(&result) || Instant::now() > deadline {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn inactive_services_are_never_returned_and_stale_ones_rank_lower() {
    let app = spawn_app().await;
    let input = json!({ "domains": ["housing"], "languages": ["prs"], "near": { "postalCode": "9300" } });
    let before = search(&app, input.clone(), 100).await;
    let club = "woonpunt-aalst-woonclub";
    let was = position(&before, club).expect("the housing club is found");
    let fresh = edge_of(&before, club).unwrap();
    assert_eq!(fresh["stale"], false);

    // Not verified for two years: still found, but stale and lower.
    change_service(&app, club, |s| {
        s.last_verified_at = Set(Some(Utc::now() - chrono::Duration::days(730)));
    })
    .await;
    let after = eventually(&app, input.clone(), |r| {
        edge_of(r, club).is_some_and(|e| e["stale"] == true)
    })
    .await;
    let stale = edge_of(&after, club).expect("still found");
    assert_eq!(stale["stale"], true);
    assert!(stale["score"].as_f64().unwrap() < fresh["score"].as_f64().unwrap() * 0.8);
    assert!(position(&after, club).unwrap() >= was, "demoted from {was}");

    // Inactive: gone.
    change_service(&app, club, |s| s.status = Set(ServiceStatus::Inactive)).await;
    let after = eventually(&app, input.clone(), |r| position(r, club).is_none()).await;
    assert_eq!(position(&after, club), None);
    assert_eq!(
        after["totalCount"].as_u64().unwrap() + 1,
        before["totalCount"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn every_replica_follows_the_change_log() {
    let app = spawn_app().await;
    let replica = app.spawn_replica().await;
    let input = json!({ "text": "xylofoonatelier" });
    let club = "woonpunt-aalst-woonclub";
    let housing = json!({ "domains": ["housing"], "near": { "postalCode": "9300" } });
    let name_shown = |result: &Value| edge_of(result, club).map(|e| e["node"]["name"].clone());
    for server in [&app, &replica] {
        assert_eq!(search(server, input.clone(), 5).await["totalCount"], 0);
        // Shown once before the change, so each server has had its row in hand.
        assert_eq!(
            name_shown(&search(server, housing.clone(), 100).await),
            Some(json!("Woonclub: groepssessies over huren"))
        );
    }
    change_service(&app, club, |s| {
        s.name = Set("Xylofoonatelier voor nieuwkomers".to_owned());
    })
    .await;
    for server in [&app, &replica] {
        let found = eventually(server, input.clone(), |r| r["totalCount"] == 1).await;
        assert_eq!(ids(&found), vec![service_id(club)]);
        // Once the change is searchable, every answer shows it, not the row shown before.
        let found = search(server, housing.clone(), 100).await;
        assert_eq!(name_shown(&found), Some(json!("Xylofoonatelier voor nieuwkomers")));
    }
}

#[tokio::test]
async fn a_change_committed_out_of_order_is_not_missed() {
    let app = spawn_app().await;
    let db = app.connect().await;
    // Two transactions took ids n+1 and n+2; n+2 commits first, n+1 a moment later.
    let newest = entity::change_log::Entity::find().all(&db).await.unwrap().len() as i64;
    let (early, late) = ("woonpunt-aalst-woonclub", "woonpunt-aalst-woonzoekhulp");
    for (key, id, name) in [
        (early, newest + 2, "Fietslessen eerst"),
        (late, newest + 1, "Fietslessen later"),
    ] {
        let service_id = seed::demo_id("service", key);
        let txn = api::db::begin_write(&db).await.unwrap();
        let mut active: service::ActiveModel = service::Entity::find_by_id(service_id.clone())
            .one(&txn)
            .await
            .unwrap()
            .unwrap()
            .into();
        active.name = Set(name.to_owned());
        active.update(&txn).await.unwrap();
        entity::change_log::ActiveModel {
            id: Set(id),
            resource: Set(ChangedResource::Service),
            resource_id: Set(service_id),
            changed_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let input = json!({ "text": name });
        let found = eventually(&app, input, |r| position(r, key) == Some(0)).await;
        assert_eq!(position(&found, key), Some(0), "`{name}` is searchable");
    }
}

#[tokio::test]
async fn the_index_is_rebuilt_when_missing_corrupt_or_forced() {
    let app = spawn_app().await;
    let db = app.connect().await;
    let reference = std::sync::Arc::new(api::reference::ReferenceData::load(&db).await.unwrap());
    let request = api::search::SearchRequest {
        text: Some("huurcontract".to_owned()),
        ..Default::default()
    };
    let page = api::relay::PageRequest::new(Some(5), None).unwrap();
    let dir = std::env::temp_dir().join(format!("socialmap-index-{}", uuid::Uuid::new_v4().simple()));

    let built = api::search::SearchIndex::open(&dir, &db, reference.clone(), false)
        .await
        .unwrap();
    let expected = built.search(&request, page).unwrap();
    assert!(expected.total.is_some_and(|total| total > 0));
    drop(built);

    // Damaged files: every segment file overwritten.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .extension()
            .is_some_and(|e| e == "idx" || e == "store" || e == "term")
        {
            std::fs::write(&path, b"not an index").unwrap();
        }
    }
    let repaired = api::search::SearchIndex::open(&dir, &db, reference.clone(), false)
        .await
        .unwrap();
    assert_eq!(repaired.search(&request, page).unwrap().total, expected.total);
    drop(repaired);

    // Unreadable metadata.
    std::fs::write(dir.join("meta.json"), b"{ nonsense").unwrap();
    let reopened = api::search::SearchIndex::open(&dir, &db, reference.clone(), false)
        .await
        .unwrap();
    assert_eq!(reopened.search(&request, page).unwrap().total, expected.total);
    drop(reopened);

    // `socialmap reindex` rebuilds a healthy index too.
    let forced = api::search::SearchIndex::open(&dir, &db, reference, true)
        .await
        .unwrap();
    assert_eq!(forced.search(&request, page).unwrap().total, expected.total);
    drop(forced);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_replica_down_while_the_log_was_pruned_rebuilds_and_misses_nothing() {
    let app = spawn_app().await;
    let db = app.connect().await;
    let reference = std::sync::Arc::new(api::reference::ReferenceData::load(&db).await.unwrap());
    let dir = std::env::temp_dir().join(format!("socialmap-index-{}", uuid::Uuid::new_v4().simple()));
    let page = api::relay::PageRequest::new(Some(5), None).unwrap();
    let found = |index: &api::search::SearchIndex, text: &str| {
        let request = api::search::SearchRequest {
            text: Some(text.to_owned()),
            ..Default::default()
        };
        index.search(&request, page).unwrap().total.unwrap_or_default()
    };

    // A replica builds its index, then goes down.
    let replica = api::search::SearchIndex::open(&dir, &db, reference.clone(), false)
        .await
        .unwrap();
    drop(replica);

    // Meanwhile two services change and the log is pruned of all but its newest row.
    change_service(&app, "woonpunt-aalst-woonclub", |s| {
        s.name = Set("Xylofoonatelier voor nieuwkomers".to_owned());
    })
    .await;
    change_service(&app, "ocmw-aalst-huurwaarborg", |s| {
        s.name = Set("Zebrapremie voor huurders".to_owned());
    })
    .await;
    let pruned = api::search::prune_change_log(&db, Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert!(pruned > 0);

    // Back up: the first change is no longer in the log, but the index still learns it.
    let replica = api::search::SearchIndex::open(&dir, &db, reference, false)
        .await
        .unwrap();
    assert_eq!(
        found(&replica, "xylofoonatelier"),
        1,
        "a change whose log row was pruned"
    );
    assert_eq!(found(&replica, "zebrapremie"), 1, "the newest change");
    drop(replica);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_replica_started_after_the_writes_finds_them() {
    let app = spawn_app().await;
    change_service(&app, "woonpunt-aalst-woonclub", |s| {
        s.name = Set("Xylofoonatelier voor nieuwkomers".to_owned());
    })
    .await;
    let late = app.spawn_replica().await;
    let found = search(&late, json!({ "text": "xylofoonatelier" }), 5).await;
    assert_eq!(
        ids(&found),
        vec![service_id("woonpunt-aalst-woonclub")],
        "at once, without waiting"
    );
}

/// Read your writes: when a mutation returns, this server's search already shows it.
#[tokio::test]
async fn a_save_is_searchable_when_the_mutation_returns() {
    let app = spawn_app().await;
    let token = crate::harness::account(
        &app,
        "editor@aalst.example",
        entity::enums::Role::MunicipalityEditor,
        Some("41002"),
        None,
    )
    .await;
    let organization = api::relay::global_id(
        api::relay::NodeKind::Organization,
        &seed::demo_id("organization", "ocmw-aalst"),
    )
    .0;
    let read = app
        .data(
            "query($id: ID!) { organization(id: $id) { locations { id } } }",
            json!({ "id": organization }),
        )
        .await;
    let location = read["organization"]["locations"][0]["id"].clone();
    let mutate = |query: &'static str, variables: Value| mutated(&app, &token, query, variables);
    // Several rounds, each searching the moment the mutation answered.
    for (round, (old, new)) in [("okapi", "tapir"), ("gibbon", "walrus"), ("jaguar", "bizon")]
        .into_iter()
        .enumerate()
    {
        let name = format!("Zwemlessen {old}");
        let created = mutate(
            "mutation($input: NewServiceInput!) { createService(input: $input) { id version } }",
            json!({ "input": { "organizationId": organization, "name": name, "locationIds": [location],
                    "description": "Zwemlessen voor nieuwkomers in het stedelijk zwembad.", "domains": ["leisure"] } }),
        )
        .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let found = search(&app, json!({ "text": old }), 5).await;
        assert_eq!(
            ids(&found).first(),
            Some(&id),
            "round {round}: created, then found at once"
        );
        let before = search(&app, json!({ "text": "zwemlessen" }), 50).await;
        assert!(ids(&before).contains(&id), "round {round}: found as a swimming lesson");

        let renamed = mutate(
            "mutation($id: ID!, $v: Int!, $name: String!) { updateService(id: $id, version: $v, input: { name: $name }) { version } }",
            json!({ "id": id, "v": created["version"], "name": format!("Zwemlessen {new}") }),
        )
        .await;
        let found = search(&app, json!({ "text": new }), 5).await;
        assert_eq!(
            ids(&found).first(),
            Some(&id),
            "round {round}: renamed, found by its new name"
        );
        // Found before the rename under its old name too: the page shows the new one.
        let shown = search(&app, json!({ "text": "zwemlessen" }), 50).await;
        let shown = edges(&shown).into_iter().find(|e| e["node"]["id"] == id.as_str());
        assert_eq!(
            shown.map(|e| e["node"]["name"].clone()),
            Some(json!(format!("Zwemlessen {new}"))),
            "round {round}: the page shows the new name"
        );
        let gone = search(&app, json!({ "text": old }), 5).await;
        assert!(!ids(&gone).contains(&id), "round {round}: not by its old one");

        mutate(
            "mutation($id: ID!, $v: Int!) { setServiceStatus(id: $id, version: $v, status: INACTIVE) { version } }",
            json!({ "id": id, "v": renamed["version"] }),
        )
        .await;
        let found = search(&app, json!({ "text": new }), 5).await;
        assert!(!ids(&found).contains(&id), "round {round}: inactive, never found");
    }
}

#[tokio::test]
async fn the_same_search_after_an_edit_sees_the_edit() {
    // The place, domain and language of a search are kept as sets of services per index
    // segment; an edit must never be answered from a set made before it.
    let app = spawn_app().await;
    let token = crate::harness::account(&app, "admin@example.org", entity::enums::Role::Admin, None, None).await;
    let union = "huurdersbond-ov-huuradvies";
    let in_aalst = json!({ "domains": ["housing"], "near": { "postalCode": "9300" } });
    let in_leuven = json!({ "domains": ["housing"], "near": { "postalCode": "3000" } });
    let in_tigrinya = json!({ "domains": ["housing"], "near": { "postalCode": "9300" }, "languages": ["ti"] });
    assert!(position(&search(&app, in_aalst.clone(), 100).await, union).is_some());
    assert_eq!(position(&search(&app, in_leuven.clone(), 100).await, union), None);
    assert_eq!(position(&search(&app, in_tigrinya.clone(), 100).await, union), None);

    let mutate = |query: &'static str, variables: Value| mutated(&app, &token, query, variables);
    let id = crate::harness::service_id(union);
    let read = app
        .data("query($id: ID!) { service(id: $id) { version } }", json!({ "id": id }))
        .await;
    // Moved from Oost-Vlaanderen to Vlaams-Brabant, and a Tigrinya interpreter added.
    let moved = mutate(
        "mutation($id: ID!, $v: Int!) { setServiceArea(id: $id, version: $v, area: { provinceCodes: [\"20001\"] }) { version } }",
        json!({ "id": id, "v": read["service"]["version"] }),
    )
    .await;
    mutate(
        "mutation($id: ID!, $v: Int!) { setServiceLanguages(id: $id, version: $v, languages: [
            { code: \"nl\" }, { code: \"ti\", mode: INTERPRETER, interpreterKind: SOCIAL }]) { version } }",
        json!({ "id": id, "v": moved["version"] }),
    )
    .await;

    assert_eq!(
        position(&search(&app, in_aalst, 100).await, union),
        None,
        "no longer in Aalst"
    );
    assert!(
        position(&search(&app, in_leuven, 100).await, union).is_some(),
        "now in Leuven"
    );
    let tigrinya_in_leuven = json!({ "domains": ["housing"], "near": { "postalCode": "3000" }, "languages": ["ti"] });
    assert!(
        position(&search(&app, tigrinya_in_leuven, 100).await, union).is_some(),
        "now with a Tigrinya interpreter"
    );
}
