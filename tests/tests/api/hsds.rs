//! The HSDS 3.0 API: every response for the demo map validates against Open Referral's
//! compiled schemas with additional properties forbidden everywhere (as their own CI checks),
//! filters combine with AND, and confidential addresses never leave.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::harness::{TestApp, spawn_app};

/// One of the official schemas in `api/hsds-3.0/`, made strict as Open Referral's CI does
/// (`compiletojsonschema --set-additional-properties-false-everywhere`).
fn strict_schema(path: &str) -> jsonschema::Validator {
    let read = |path: &str| -> Value {
        let file = format!("{}/../api/hsds-3.0/{path}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&file).expect("schema file")).expect("schema JSON")
    };
    let mut schema = read(path);
    inline_references(&mut schema, &read);
    forbid_additional_properties(&mut schema);
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the official schema compiles")
}

/// The uncompiled schemas refer to each other by file name (`taxonomy.json`); put each in
/// place, as the compiled ones already are.
fn inline_references(schema: &mut Value, read: &dyn Fn(&str) -> Value) {
    match schema {
        Value::Object(fields) => {
            if let Some(file) = fields
                .get("$ref")
                .and_then(Value::as_str)
                .filter(|r| r.ends_with(".json"))
            {
                let mut referenced = read(file);
                fields.remove("$ref");
                inline_references(&mut referenced, read);
                for (key, value) in referenced.as_object().unwrap() {
                    if key != "$schema" && key != "$id" {
                        fields.entry(key.clone()).or_insert(value.clone());
                    }
                }
            }
            fields.values_mut().for_each(|v| inline_references(v, read));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| inline_references(v, read)),
        _ => {}
    }
}

fn forbid_additional_properties(schema: &mut Value) {
    match schema {
        Value::Object(fields) => {
            if fields.contains_key("properties") {
                fields.insert("additionalProperties".into(), Value::Bool(false));
            }
            fields.values_mut().for_each(forbid_additional_properties);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_additional_properties),
        _ => {}
    }
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks the HSDS schema: {errors:#?}\n{document:#}"
    );
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("*"),
        "{path} is open to every origin"
    );
    let body = response.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// The `contents` of a page that must be complete in one request.
async fn all(app: &TestApp, path: &str) -> Vec<Value> {
    let (status, page) = get(app, path).await;
    assert_eq!(status, 200, "{path}: {page:#}");
    for key in [
        "total_items",
        "total_pages",
        "page_number",
        "size",
        "first_page",
        "last_page",
        "empty",
    ] {
        assert!(page.get(key).is_some(), "{path}: a Page has `{key}`");
    }
    assert_eq!(page["last_page"], true, "{path} fits in one page");
    page["contents"].as_array().unwrap().clone()
}

fn demo_service(key: &str) -> String {
    seed::demo_id("service", key)
}

#[tokio::test]
async fn every_hsds_response_for_the_demo_map_validates_against_the_official_schemas() {
    let app = spawn_app().await;
    let (status, base) = get(&app, "/hsds/").await;
    assert_eq!(status, 200);
    assert_eq!(base["version"], "3.0");
    assert_eq!(get(&app, "/hsds/openapi.json").await.1["openapi"], "3.1.0");

    let service_list = strict_schema("compiled/service_list.json");
    let service = strict_schema("compiled/service.json");
    let services = all(&app, "/hsds/services?per_page=500").await;
    let total = app.data("{ services { totalCount } }", json!({})).await["services"]["totalCount"].clone();
    assert_eq!(json!(services.len()), total, "every service of the map");
    for document in &services {
        assert_valid(&service_list, document, "a /services item");
    }
    for document in all(&app, "/hsds/services?per_page=500&full=true").await {
        assert_valid(&service, &document, "a full /services item");
    }
    for document in &services {
        let (status, full) = get(&app, &format!("/hsds/services/{}", document["id"].as_str().unwrap())).await;
        assert_eq!(status, 200);
        assert_valid(&service, &full, "/services/{id}");
    }

    let organization_list = strict_schema("compiled/organization_list.json");
    let organization = strict_schema("compiled/organization.json");
    let organizations = all(&app, "/hsds/organizations?per_page=500").await;
    assert!(!organizations.is_empty());
    for document in &organizations {
        assert_valid(&organization_list, document, "an /organizations item");
        let id = document["id"].as_str().unwrap();
        for query in ["", "?full_service=true"] {
            let (status, full) = get(&app, &format!("/hsds/organizations/{id}{query}")).await;
            assert_eq!(status, 200);
            assert_valid(&organization, &full, "/organizations/{id}");
        }
    }

    let at_location_list = strict_schema("compiled/service_at_location_list.json");
    let at_location = strict_schema("compiled/service_at_location.json");
    let pairs = all(&app, "/hsds/service_at_locations?per_page=500").await;
    assert!(!pairs.is_empty());
    for document in &pairs {
        assert_valid(&at_location_list, document, "a /service_at_locations item");
    }
    for document in all(&app, "/hsds/service_at_locations?per_page=500&full=true").await {
        assert_valid(&at_location, &document, "a full /service_at_locations item");
    }
    let (status, one) = get(
        &app,
        &format!("/hsds/service_at_locations/{}", pairs[0]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200);
    assert_valid(&at_location, &one, "/service_at_locations/{id}");

    let taxonomy = strict_schema("taxonomy.json");
    let term = strict_schema("taxonomy_term.json");
    let taxonomies = all(&app, "/hsds/taxonomies").await;
    assert_eq!(taxonomies.len(), 1);
    assert_valid(&taxonomy, &taxonomies[0], "a taxonomy");
    let terms = all(&app, "/hsds/taxonomy_terms?per_page=500").await;
    assert!(terms.len() > 14, "domains and their needs");
    for document in &terms {
        assert_valid(&term, document, "a taxonomy term");
    }
    let (status, housing) = get(
        &app,
        &format!(
            "/hsds/taxonomy_terms/{}",
            terms.iter().find(|t| t["code"] == "housing").unwrap()["id"]
                .as_str()
                .unwrap()
        ),
    )
    .await;
    assert_eq!((status, housing["name"].clone()), (200, json!("Wonen")));
}

#[tokio::test]
async fn a_service_reads_as_hsds_with_its_areas_languages_and_domains() {
    let app = spawn_app().await;
    let (_, document) = get(
        &app,
        &format!("/hsds/services/{}", demo_service("ocmw-aalst-huurwaarborg")),
    )
    .await;
    assert_eq!(document["status"], "active");
    let areas = document["service_areas"].as_array().unwrap();
    assert_eq!(areas.len(), 1, "{document:#}");
    assert_eq!(
        (&areas[0]["name"], &areas[0]["extent"], &areas[0]["extent_type"]),
        (&json!("Aalst"), &json!("41002"), &json!("municipality")),
        "a service area carries the municipality's name and code"
    );
    let domains: Vec<&str> = document["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["link_type"] == "life_domain")
        .map(|a| a["taxonomy_term"]["code"].as_str().unwrap())
        .collect();
    assert!(
        domains
            .iter()
            .all(|code| code.starts_with("housing") || code.starts_with("finance")),
        "{domains:?}"
    );
    assert!(!domains.is_empty());
    assert_eq!(document["organization"]["name"], "OCMW Aalst – Sociale dienst");
    assert_eq!(
        document["service_at_locations"][0]["location"]["addresses"][0]["postal_code"],
        "9300"
    );
    for language in document["languages"].as_array().unwrap() {
        assert!(language["code"].as_str().unwrap().len() == 3, "ISO 639-3: {language}");
        assert!(
            language["note"].as_str().unwrap().starts_with("staff")
                || language["note"].as_str().unwrap().starts_with("interpreter")
        );
    }
    let (status, missing) = get(&app, "/hsds/services/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(status, 404);
    assert!(missing["error"].as_str().unwrap().contains("no service"));
}

#[tokio::test]
async fn a_confidential_location_never_exposes_its_address() {
    let app = spawn_app().await;
    let organization = seed::demo_id("organization", "vluchthuis-rivierenland");
    for path in [
        format!("/hsds/organizations/{organization}"),
        format!("/hsds/organizations/{organization}?full_service=true"),
        format!("/hsds/services?organization_id={organization}&full=true"),
        format!("/hsds/service_at_locations?organization_id={organization}&full=true"),
    ] {
        let body = app.get(&path).await.text().await.unwrap();
        assert!(body.contains("Vluchthuis Rivierenland"), "{path}: {body}");
        for secret in ["Vijverstraat", "51.030733", "4.474111"] {
            assert!(!body.contains(secret), "{path} shows `{secret}`");
        }
    }
    let (_, document) = get(&app, &format!("/hsds/organizations/{organization}")).await;
    let shelter = document["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == seed::demo_id("location", "vluchthuis-rivierenland-huis").as_str())
        .unwrap()
        .clone();
    assert!(
        shelter.get("addresses").is_none() && shelter.get("latitude").is_none(),
        "{shelter:#}"
    );
}

#[tokio::test]
async fn filters_combine_with_and_and_pages_add_up() {
    let app = spawn_app().await;
    let ids = |contents: &[Value]| -> HashSet<String> {
        contents.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    let terms = all(&app, "/hsds/taxonomy_terms?top_only=true").await;
    assert!(terms.iter().all(|t| t.get("parent_id").is_none()));
    let housing = terms.iter().find(|t| t["code"] == "housing").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let needs = all(&app, &format!("/hsds/taxonomy_terms?parent_id={housing}")).await;
    assert!(
        needs
            .iter()
            .all(|t| t["code"].as_str().unwrap().starts_with("housing."))
            && !needs.is_empty()
    );

    let in_housing = all(
        &app,
        &format!("/hsds/services?per_page=500&full=true&taxonomy_term_id={housing}"),
    )
    .await;
    assert!(!in_housing.is_empty());
    for document in &in_housing {
        let codes: Vec<&str> = document["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["taxonomy_term"]["code"].as_str())
            .collect();
        assert!(codes.iter().any(|c| c.starts_with("housing")), "{codes:?}");
    }
    let ocmw = seed::demo_id("organization", "ocmw-aalst");
    let of_ocmw = all(&app, &format!("/hsds/services?per_page=500&organization_id={ocmw}")).await;
    let both = all(
        &app,
        &format!("/hsds/services?per_page=500&organization_id={ocmw}&taxonomy_term_id={housing}"),
    )
    .await;
    let expected: HashSet<String> = ids(&of_ocmw).intersection(&ids(&in_housing)).cloned().collect();
    assert_eq!(ids(&both), expected, "filters are ANDed");
    assert!(ids(&both).contains(&demo_service("ocmw-aalst-huurwaarborg")));
    assert!(all(&app, "/hsds/services?modified_after=2999-01-01").await.is_empty());

    let found = all(&app, "/hsds/services?search=huurwaarborg").await;
    let best: Vec<&Value> = found.iter().take(3).map(|s| &s["id"]).collect();
    assert!(
        best.contains(&&json!(demo_service("ocmw-aalst-huurwaarborg"))),
        "ranked by search: {found:#?}"
    );
    assert!(found.len() < 30, "only services about it");

    let (_, first) = get(&app, "/hsds/services?per_page=10").await;
    let (_, second) = get(&app, "/hsds/services?per_page=10&page=2").await;
    assert_eq!(
        (first["page_number"].clone(), second["page_number"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(second["first_page"], false);
    let (first, second) = (
        first["contents"].as_array().unwrap(),
        second["contents"].as_array().unwrap(),
    );
    assert!(ids(first).is_disjoint(&ids(second)) && first.len() == 10);

    let stream = app.get("/hsds/services?format=ndjson").await.text().await.unwrap();
    let total = app.data("{ services { totalCount } }", json!({})).await["services"]["totalCount"]
        .as_u64()
        .unwrap();
    assert_eq!(
        stream.lines().count() as u64,
        total,
        "NDJSON streams every service, unpaged"
    );
    for line in stream.lines() {
        serde_json::from_str::<Value>(line).expect("one JSON document per line");
    }
    for bad in [
        "/hsds/services?per_page=0",
        "/hsds/services?page=x",
        "/hsds/services?full=maybe",
        "/hsds/services?modified_after=yesterday",
        "/hsds/services?format=xml",
    ] {
        let (status, error) = get(&app, bad).await;
        assert_eq!(status, 400, "{bad}");
        assert!(error["error"].is_string(), "{bad}: {error}");
    }
}

#[tokio::test]
async fn service_at_locations_answer_by_postcode_coverage_and_proximity() {
    let app = spawn_app().await;
    let service_ids = |contents: &[Value]| -> HashSet<String> {
        contents
            .iter()
            .map(|c| c["service_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let covering = all(&app, "/hsds/service_at_locations?postcode=9300&per_page=500").await;
    let covering = service_ids(&covering);
    assert!(covering.contains(&demo_service("ocmw-aalst-huurwaarborg")));
    assert!(
        !covering.contains(&demo_service("ocmw-gent-leefloon")),
        "Gent's OCMW does not serve Aalst"
    );

    let near = all(
        &app,
        "/hsds/service_at_locations?postcode=9300&proximity=3000&per_page=500&full=true",
    )
    .await;
    assert!(!near.is_empty());
    for pair in &near {
        let lat = pair["location"]["latitude"].as_f64().unwrap();
        let lon = pair["location"]["longitude"].as_f64().unwrap();
        // Aalst's centre is at about 50.94 N 4.04 E; 3 km is about 0.03 degrees.
        assert!((lat - 50.94).abs() < 0.06 && (lon - 4.04).abs() < 0.08, "{lat} {lon}");
    }
    let (status, _) = get(&app, "/hsds/service_at_locations?proximity=1000").await;
    assert_eq!(status, 400, "proximity needs a postcode");
    let (status, _) = get(&app, "/hsds/service_at_locations?postcode=0000").await;
    assert_eq!(status, 400);
}

/// Every document of an export directory, by file name.
fn exported(dir: &std::path::Path) -> std::collections::BTreeMap<String, Value> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_export_imported_into_an_empty_database_exports_to_the_same_documents() {
    let app = spawn_app().await;
    let db = app.connect().await;
    let reference = api::reference::ReferenceData::load(&db).await.unwrap();
    let temp = std::env::temp_dir().join(format!("socialmap-roundtrip-{}", uuid::Uuid::new_v4().simple()));
    let (first, second) = (temp.join("first"), temp.join("second"));
    let written = api::hsds::export::export(&db, &reference, &first).await.unwrap();
    assert!(written.services > 200 && written.organizations > 100, "{written:?}");

    // A second, empty database with reference data only.
    let empty = crate::harness::TestDatabase::create().await;
    let other = api::db::connect_url(&empty.url()).await.unwrap();
    api::db::prepare(&other, false).await.unwrap();
    let other_reference = api::reference::ReferenceData::load(&other).await.unwrap();
    let report = api::hsds::import::import(
        &other,
        &other_reference,
        api::hsds::import::ImportSource::Path(first.clone()),
        &api::hsds::import::TaxonomyMap::default(),
        "round trip",
    )
    .await
    .unwrap();
    assert!(report.rejected.is_empty(), "{:#?}", report.rejected);
    assert_eq!(
        report.created,
        written.services + written.organizations + count_locations(&first)
    );

    api::hsds::export::export(&other, &other_reference, &second)
        .await
        .unwrap();
    let (before, after) = (exported(&first), exported(&second));
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    for (file, documents) in &before {
        let again = &after[file];
        let (documents, again) = (documents.as_array().unwrap(), again.as_array().unwrap());
        assert_eq!(documents.len(), again.len(), "{file}");
        for (one, other) in documents.iter().zip(again) {
            assert_eq!(one, other, "{file}: a document changed on the way round");
        }
    }
    std::fs::remove_dir_all(&temp).unwrap();
}

/// Locations in an export's organizations.json.
fn count_locations(dir: &std::path::Path) -> usize {
    exported(dir)["organizations.json"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["locations"].as_array().map_or(0, Vec::len))
        .sum()
}

/// A response of the HSDS API: its status, headers and body.
async fn send(method: reqwest::Method, app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::Client::new()
        .request(method, app.url(path))
        .header("origin", "https://directory.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// An error answer as the API documents it: `{"error": …}` as JSON, readable from any origin,
/// in words a client's developer understands.
fn assert_documented_error(path: &str, headers: &reqwest::header::HeaderMap, body: &str) -> String {
    assert_eq!(
        headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap()),
        Some("*"),
        "{path}: CORS"
    );
    assert_eq!(
        headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/json"),
        "{path}: {body}"
    );
    let document: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{path}: not JSON: {body}"));
    let message = document["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{path}: {body}"))
        .to_owned();
    for internal in ["invalid type", "untagged", "deserialize", "duplicate field", "expected"] {
        assert!(!message.contains(internal), "{path}: `{message}` speaks serde");
    }
    message
}

#[tokio::test]
async fn a_cors_preflight_is_answered_with_the_methods_and_headers_allowed() {
    let app = spawn_app().await;
    let service = demo_service("ocmw-aalst-huurwaarborg");
    for path in [
        "/hsds/services".to_owned(),
        format!("/hsds/services/{service}"),
        "/hsds/".to_owned(),
        "/hsds/service_at_locations?postcode=9300".to_owned(),
    ] {
        let (status, headers, body) = send(reqwest::Method::OPTIONS, &app, &path).await;
        assert_eq!(status, 204, "{path}: {body}");
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_lowercase());
        assert_eq!(header("access-control-allow-origin").as_deref(), Some("*"), "{path}");
        let methods = header("access-control-allow-methods").unwrap_or_default();
        assert!(methods.contains("get") && methods.contains("head"), "{path}: {methods}");
        let allowed = header("access-control-allow-headers").unwrap_or_default();
        assert!(
            allowed.contains("authorization") && allowed.contains("content-type"),
            "{path}: {allowed}"
        );
    }
    // HEAD answers as GET does, without a body.
    let (status, headers, body) = send(reqwest::Method::HEAD, &app, "/hsds/services").await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(headers["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn a_repeated_or_undecodable_parameter_is_a_json_400_naming_it() {
    let app = spawn_app().await;
    for (path, parameter) in [
        ("/hsds/services?page=1&page=2", "page"),
        ("/hsds/services?per_page=10&per_page=10", "per_page"),
        ("/hsds/organizations?search=a&full=true&search=b", "search"),
        ("/hsds/service_at_locations?postcode=9300&postcode=9000", "postcode"),
        ("/hsds/taxonomy_terms?top_only=true&top_only=false", "top_only"),
        ("/hsds/services?search=%FF%FE", "search"),
        ("/hsds/services/%FF", "id"),
        ("/hsds/organizations/%C3%28", "id"),
        ("/hsds/services?page=x", "page"),
    ] {
        let (status, headers, body) = send(reqwest::Method::GET, &app, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let message = assert_documented_error(path, &headers, &body);
        assert!(message.starts_with(&format!("`{parameter}`")), "{path}: {message}");
    }
    // Parameters the API does not define are still left alone, and `+` is a space.
    let (status, _, body) = send(
        reqwest::Method::GET,
        &app,
        "/hsds/services?utm_source=x&utm_source=y&search=huur+waarborg",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_unknown_path_under_hsds_is_a_json_404_and_other_methods_a_json_405() {
    let app = spawn_app().await;
    for path in [
        "/hsds/nothing",
        "/hsds/services/",
        "/hsds/services/a/b",
        "/hsds/openapi.yaml",
        "/hsds/organizations/x/services",
    ] {
        let (status, headers, body) = send(reqwest::Method::GET, &app, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        let message = assert_documented_error(path, &headers, &body);
        assert!(message.contains("openapi.json"), "{path}: {message}");
    }
    // The rest of the server keeps its own answer.
    let (status, headers, _) = send(reqwest::Method::GET, &app, "/nothing").await;
    assert_eq!(status, 404);
    assert!(headers.get("access-control-allow-origin").is_none());

    for method in [reqwest::Method::POST, reqwest::Method::PUT, reqwest::Method::DELETE] {
        let (status, headers, body) = send(method.clone(), &app, "/hsds/services").await;
        assert_eq!(status, 405, "{method}: {body}");
        assert_documented_error("/hsds/services", &headers, &body);
        assert_eq!(headers["allow"], "GET, HEAD, OPTIONS");
    }
}

#[tokio::test]
async fn proximity_must_be_a_finite_distance_within_reach() {
    let app = spawn_app().await;
    for proximity in [
        "inf", "-inf", "infinity", "NaN", "1e999", "-5", "0", "500001", "1e12", "3km",
    ] {
        let path = format!("/hsds/service_at_locations?postcode=9300&proximity={proximity}");
        let (status, headers, body) = send(reqwest::Method::GET, &app, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let message = assert_documented_error(&path, &headers, &body);
        assert!(message.starts_with("`proximity`"), "{path}: {message}");
    }
    let (status, _, body) = send(
        reqwest::Method::GET,
        &app,
        "/hsds/service_at_locations?postcode=9300&proximity=500000",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
