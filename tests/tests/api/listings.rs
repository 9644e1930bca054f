//! Browsing the map: organizations, services and locations, with their filters.

use serde_json::{Value, json};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::harness::{TestApp, nodes, spawn_app, spawn_app_with, strings};

const SERVICE_FIELDS: &str = r#"
    id name nameFr: name(lang: FR) description status cost access accessDescription ageMin ageMax
    organization { id name }
    domains { code parent { code } }
    languages { language { code } mode interpreterKind }
    targetGroups
    locations { id name address postalCode latitude longitude confidential municipality { code } }
    area { national regions { code } provinces { code } municipalities { code } radius { km location { id } } }
    capacity { available maximum }
    lastVerifiedAt stale version createdAt updatedAt
"#;

async fn services(app: &TestApp, filter: Value) -> Vec<Value> {
    let query = format!(
        "query($filter: ServiceFilterInput) {{ services(filter: $filter, first: 100) {{ totalCount edges {{ node {{ {SERVICE_FIELDS} }} }} }} }}"
    );
    let data = app.data(&query, json!({ "filter": filter })).await;
    let found = nodes(&data["services"]);
    assert!(
        data["services"]["totalCount"].as_u64().unwrap() <= 100,
        "filter too wide for one page"
    );
    found
}

fn names(services: &[Value]) -> Vec<String> {
    strings(services, "name")
}

fn has_domain_under(service: &Value, top: &str) -> bool {
    service["domains"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == top || d["parent"]["code"] == top)
}

#[tokio::test]
async fn the_demo_map_has_at_least_150_services_from_60_organizations() {
    let app = spawn_app().await;
    let data = app
        .data(
            "{ services { totalCount } organizations { totalCount } domains { code } }",
            json!({}),
        )
        .await;
    assert!(data["services"]["totalCount"].as_u64().unwrap() >= 150, "{data}");
    assert!(data["organizations"]["totalCount"].as_u64().unwrap() >= 60, "{data}");

    // Every top-level domain has services.
    for domain in strings(data["domains"].as_array().unwrap(), "code") {
        let found = app
            .data(
                "query($d: [String!]) { services(filter: { domains: $d }) { totalCount } }",
                json!({ "d": [domain] }),
            )
            .await;
        assert!(
            found["services"]["totalCount"].as_u64().unwrap() > 0,
            "no service for {domain}"
        );
    }
}

#[tokio::test]
async fn pages_of_services_are_disjoint_and_ordered_by_name() {
    let app = spawn_app().await;
    let query = r#"query($after: String) { services(first: 40, after: $after) {
        totalCount edges { node { id name } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"#;
    let mut after = Value::Null;
    let mut seen = Vec::new();
    let total = loop {
        let data = app.data(query, json!({ "after": after })).await;
        let page = &data["services"];
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        seen.extend(nodes(page));
        if page["pageInfo"]["hasNextPage"] == false {
            break page["totalCount"].as_u64().unwrap();
        }
        after = page["pageInfo"]["endCursor"].clone();
    };
    assert_eq!(seen.len() as u64, total);
    let mut ids = strings(&seen, "id");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as u64, total, "no service appears twice");
    // The order the API promises: by name, ignoring case, accents and punctuation.
    let keys: Vec<String> = names(&seen).iter().map(|n| entity::search_key::normalize(n)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[tokio::test]
async fn organizations_search_ignores_case_and_accents() {
    let app = spawn_app().await;
    let query = r#"query($q: String) { organizations(search: $q) { totalCount edges { node { name kind } } } }"#;
    for input in ["creche", "CRÈCHE", "crèche"] {
        let data = app.data(query, json!({ "q": input })).await;
        let found = names(&nodes(&data["organizations"]));
        assert!(found.iter().any(|n| n.contains("Crèche")), "{input:?} found {found:?}");
    }
    let data = app.data(query, json!({ "q": "huurdersbond" })).await;
    assert!(data["organizations"]["totalCount"].as_u64().unwrap() >= 1);
    let data = app.data(query, json!({ "q": "zzz-no-such-organization" })).await;
    assert_eq!(data["organizations"]["totalCount"], 0);
}

#[tokio::test]
async fn organizations_in_a_municipality_are_located_there_or_serve_it() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ organizations(municipalityCode: "41002", first: 100) { totalCount edges { node {
                name locations { municipality { code } }
                services(first: 50) { edges { node { area { national provinces { code } municipalities { code } regions { code } radius { km } } } } }
            } } } }"#,
            json!({}),
        )
        .await;
    let found = nodes(&data["organizations"]);
    assert!(!found.is_empty());
    for org in &found {
        let located = org["locations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["municipality"]["code"] == "41002");
        let serving = nodes(&org["services"]).iter().any(|s| {
            let area = &s["area"];
            area["national"] == true
                || area["municipalities"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["code"] == "41002")
                || area["provinces"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["code"] == "40000")
                || area["regions"].as_array().unwrap().iter().any(|r| r["code"] == "02000")
                || !area["radius"].as_array().unwrap().is_empty()
        });
        assert!(located || serving, "{} neither in nor serving Aalst", org["name"]);
    }
}

#[tokio::test]
async fn an_organization_shows_its_services_and_locations() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ organizations(search: "huurdersbond", first: 1) { edges { node {
                id name kind version
                locations { name municipality { code } }
                services { totalCount edges { node { name organization { name } } } }
            } } } }"#,
            json!({}),
        )
        .await;
    let org = &nodes(&data["organizations"])[0];
    assert!(org["services"]["totalCount"].as_u64().unwrap() >= 1);
    for service in nodes(&org["services"]) {
        assert_eq!(service["organization"]["name"], org["name"]);
    }
    let again = app
        .data(
            "query($id: ID!) { organization(id: $id) { name } node(id: $id) { id ... on Organization { name } } }",
            json!({ "id": org["id"] }),
        )
        .await;
    assert_eq!(again["organization"]["name"], org["name"]);
    assert_eq!(again["node"]["name"], org["name"]);
}

#[tokio::test]
async fn a_service_carries_languages_domains_area_and_freshness() {
    let app = spawn_app().await;
    let all = services(
        &app,
        json!({ "languages": ["prs"], "domains": ["housing"], "municipalityCode": "41002" }),
    )
    .await;
    let dari_staff = all
        .iter()
        .find(|s| {
            s["languages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["language"]["code"] == "prs" && l["mode"] == "STAFF")
        })
        .unwrap_or_else(|| panic!("a housing service in Aalst with Dari-speaking staff: {:?}", names(&all)));
    assert!(has_domain_under(dari_staff, "housing"));
    assert_eq!(dari_staff["status"], "ACTIVE");
    assert_eq!(dari_staff["version"], 1);

    let by_id = app
        .data(
            &format!("query($id: ID!) {{ service(id: $id) {{ {SERVICE_FIELDS} }} }}"),
            json!({ "id": dari_staff["id"] }),
        )
        .await;
    assert_eq!(&by_id["service"], dari_staff);
}

#[tokio::test]
async fn filtering_by_a_top_level_domain_includes_its_needs() {
    let app = spawn_app().await;
    let housing = services(&app, json!({ "domains": ["housing"] })).await;
    let tenancy = services(&app, json!({ "domains": ["housing.tenancy_rights"] })).await;
    assert!(!tenancy.is_empty());
    for service in &housing {
        assert!(has_domain_under(service, "housing"), "{}", service["name"]);
    }
    for service in &tenancy {
        assert!(names(&housing).contains(&service["name"].as_str().unwrap().to_owned()));
        assert!(
            service["domains"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == "housing.tenancy_rights")
        );
    }
    assert!(housing.len() > tenancy.len());
}

#[tokio::test]
async fn filtering_by_language_understands_macrolanguages_and_bcp47() {
    let app = spawn_app().await;
    let dari = services(&app, json!({ "languages": ["prs"] })).await;
    assert!(!dari.is_empty());
    let by_tag = services(&app, json!({ "languages": ["fa-AF"] })).await;
    assert_eq!(names(&by_tag), names(&dari), "fa-AF is Dari");
    let persian = services(&app, json!({ "languages": ["fa"] })).await;
    for name in names(&dari) {
        assert!(
            names(&persian).contains(&name),
            "Persian (fas) includes Dari services such as {name}"
        );
    }
    for service in &dari {
        let codes: Vec<&str> = service["languages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["language"]["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"prs") || codes.contains(&"fas"), "{codes:?}");
    }
    let interpreters = dari
        .iter()
        .flat_map(|s| s["languages"].as_array().unwrap().clone())
        .filter(|l| l["language"]["code"] == "prs" && l["mode"] == "INTERPRETER")
        .count();
    assert!(interpreters > 0, "interpreted Dari counts as a match too");
}

#[tokio::test]
async fn a_provincial_service_is_offered_in_its_province_and_not_elsewhere() {
    let app = spawn_app().await;
    let in_aalst = services(
        &app,
        json!({ "domains": ["housing.tenancy_rights"], "municipalityCode": "41002" }),
    )
    .await;
    let union = in_aalst
        .iter()
        .find(|s| s["name"].as_str().unwrap().to_lowercase().contains("huurdersbond"))
        .unwrap_or_else(|| panic!("the tenants' union serves Aalst: {:?}", names(&in_aalst)));
    assert!(
        union["area"]["provinces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "40000")
    );

    let in_leuven = services(
        &app,
        json!({ "domains": ["housing.tenancy_rights"], "municipalityCode": "24062" }),
    )
    .await;
    assert!(
        !strings(&in_leuven, "id").contains(&union["id"].as_str().unwrap().to_owned()),
        "not offered in Leuven"
    );

    // Every service offered in Leuven covers it.
    for service in services(&app, json!({ "municipalityCode": "24062", "domains": ["health"] })).await {
        let area = &service["area"];
        let covers = area["national"] == true
            || area["regions"].as_array().unwrap().iter().any(|r| r["code"] == "02000")
            || area["provinces"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["code"] == "20001")
            || area["municipalities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["code"] == "24062")
            || !area["radius"].as_array().unwrap().is_empty();
        assert!(covers, "{} offered in Leuven without covering it", service["name"]);
    }
}

#[tokio::test]
async fn a_confidential_location_never_shows_its_address_or_position() {
    let app = spawn_app().await;
    let all = services(&app, json!({ "domains": ["safety"] })).await;
    let shelter_location = all
        .iter()
        .flat_map(|s| s["locations"].as_array().unwrap().clone())
        .find(|l| l["confidential"] == true)
        .expect("the demo map has a confidential shelter");
    assert!(shelter_location["address"].is_null());
    assert!(shelter_location["latitude"].is_null());
    assert!(shelter_location["longitude"].is_null());
    assert!(
        shelter_location["municipality"]["code"].is_string(),
        "the municipality is shown"
    );

    let via_node = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Location { address latitude longitude } } }",
            json!({ "id": shelter_location["id"] }),
        )
        .await;
    assert_eq!(
        via_node["node"],
        json!({ "address": null, "latitude": null, "longitude": null })
    );
}

#[tokio::test]
async fn services_without_a_location_and_national_services_exist() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ services(first: 100) { edges { node { locations { id } area { national } } } } }"#,
            json!({}),
        )
        .await;
    let first_hundred = nodes(&data["services"]);
    let data = app
        .data(
            r#"query($after: String) { services(first: 100, after: $after) { edges { node { locations { id } area { national } } } } }"#,
            json!({ "after": data["services"]["edges"][99]["cursor"] }),
        )
        .await;
    let all: Vec<Value> = first_hundred.into_iter().chain(nodes(&data["services"])).collect();
    assert!(
        all.iter().any(|s| s["locations"] == json!([])),
        "phone or online services"
    );
    assert!(all.iter().any(|s| s["area"]["national"] == true), "national services");
}

#[tokio::test]
async fn names_fall_back_to_dutch_when_no_translation_exists() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{ services(first: 100) { edges { node { nl: name fr: name(lang: FR) en: name(lang: EN) descriptionEn: description(lang: EN) description } } } }"#,
            json!({}),
        )
        .await;
    let all = nodes(&data["services"]);
    assert!(
        all.iter().any(|s| s["fr"] != s["nl"]),
        "some services are translated to French"
    );
    assert!(
        all.iter()
            .any(|s| s["en"] == s["nl"] && s["descriptionEn"] == s["description"]),
        "others fall back"
    );
}

#[tokio::test]
async fn unknown_codes_and_ids_are_bad_user_input_naming_the_value() {
    let app = spawn_app().await;
    let query = "query($f: ServiceFilterInput) { services(filter: $f) { totalCount } }";
    for (filter, named) in [
        (json!({ "domains": ["housingg"] }), "housingg"),
        (json!({ "languages": ["klingon"] }), "klingon"),
        (json!({ "municipalityCode": "00000" }), "00000"),
    ] {
        let (code, message) = app.error(query, json!({ "f": filter })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{filter}");
        assert!(message.contains(named), "{message}");
    }
    let (code, _) = app.error(r#"{ service(id: "nonsense") { name } }"#, json!({})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, _) = app
        .error(
            r#"{ organizations(municipalityCode: "123") { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");

    // A well-formed id of nothing is simply null.
    let municipality_id = app.data(r#"{ municipality(code: "41002") { id } }"#, json!({})).await;
    let (code, _) = app
        .error(
            "query($id: ID!) { service(id: $id) { name } }",
            json!({ "id": municipality_id["municipality"]["id"] }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "a municipality id is not a service id");
}

#[tokio::test]
async fn nested_lists_are_batched_not_loaded_per_service() {
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    let app = spawn_app_with(move |db| {
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
    })
    .await;
    let query = format!(
        "query($n: Int) {{ services(first: $n) {{ edges {{ node {{ {SERVICE_FIELDS} organization {{ locations {{ name }} }} }} }} }} }}"
    );
    let mut cost = Vec::new();
    for n in [10, 100] {
        statements.store(0, Ordering::SeqCst);
        let data = app.data(&query, json!({ "n": n })).await;
        assert_eq!(nodes(&data["services"]).len(), n as usize);
        cost.push(statements.load(Ordering::SeqCst));
    }
    // One statement per relation and batch: about a dozen on an idle machine, a few more
    // when load splits a batch. Loading per service would cost at least 8 relations x 10
    // services = 80 statements for the small page alone.
    assert!(
        cost.iter().all(|&c| c <= 40),
        "statements for pages of 10 and 100 services: {cost:?}"
    );
}
