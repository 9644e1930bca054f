//! Coverage gaps: per life domain, the active services covering a municipality and their
//! languages, as the public listings show them.

use std::collections::BTreeMap;

use entity::enums::Role;
use serde_json::{Value, json};

use crate::harness::{TestApp, account, code, nodes, service_id, spawn_app};

const AALST: &str = "41002";
const COVERAGE: &str = "query($code: String!) { coverage(municipalityCode: $code) {
    municipality { code name }
    domains { domain { code } services languages { language { code } services withStaff withInterpreter } } } }";
const LISTED: &str = "query($domain: String!, $code: String!) {
    services(filter: { domains: [$domain], municipalityCode: $code }, first: 100) {
        totalCount edges { node { status languages { language { code } mode } } } } }";

/// Per language: (services, with staff, with interpreter).
type LanguageCounts = BTreeMap<String, (u64, u64, u64)>;

/// What the coverage of one domain must be, counted from the public `services` listing:
/// the active services and their languages.
async fn expected_from_listing(app: &TestApp, domain: &str) -> (u64, LanguageCounts) {
    let listed = app.data(LISTED, json!({ "domain": domain, "code": AALST })).await;
    assert!(
        listed["services"]["totalCount"].as_u64().unwrap() <= 100,
        "one page holds them all"
    );
    let active: Vec<Value> = nodes(&listed["services"])
        .into_iter()
        .filter(|s| s["status"] == "ACTIVE")
        .collect();
    let mut languages = LanguageCounts::new();
    for service in &active {
        for language in service["languages"].as_array().unwrap() {
            let counts = languages
                .entry(language["language"]["code"].as_str().unwrap().to_owned())
                .or_default();
            counts.0 += 1;
            match language["mode"].as_str().unwrap() {
                "STAFF" => counts.1 += 1,
                _ => counts.2 += 1,
            }
        }
    }
    (active.len() as u64, languages)
}

/// Services per domain code, from a `coverage` answer.
fn services_per_domain(coverage: &Value) -> BTreeMap<String, u64> {
    coverage["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["domain"]["code"].as_str().unwrap().to_owned(),
                d["services"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn coverage_counts_per_domain_the_active_services_the_map_lists_there() {
    let app = spawn_app().await;
    let coverage = app.data(COVERAGE, json!({ "code": AALST })).await["coverage"].clone();
    assert_eq!(coverage["municipality"]["code"], AALST);
    assert_eq!(coverage["municipality"]["name"], "Aalst");

    let top_domains = app.data("{ domains { code } }", json!({})).await;
    let domain_codes: Vec<&str> = top_domains["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    let counted = services_per_domain(&coverage);
    assert_eq!(
        counted.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut sorted = domain_codes.clone();
            sorted.sort();
            sorted
        },
        "every top-level domain, those without services too"
    );

    for domain in coverage["domains"].as_array().unwrap() {
        let code = domain["domain"]["code"].as_str().unwrap();
        let (services, languages) = expected_from_listing(&app, code).await;
        assert_eq!(domain["services"].as_u64(), Some(services), "{code}");
        let reported: Vec<&Value> = domain["languages"].as_array().unwrap().iter().collect();
        let counts: LanguageCounts = reported
            .iter()
            .map(|l| {
                let count = |field: &str| l[field].as_u64().unwrap();
                (
                    l["language"]["code"].as_str().unwrap().to_owned(),
                    (count("services"), count("withStaff"), count("withInterpreter")),
                )
            })
            .collect();
        assert_eq!(counts, languages, "languages of {code}");
        let order: Vec<(i64, &str)> = reported
            .iter()
            .map(|l| {
                (
                    -l["services"].as_i64().unwrap(),
                    l["language"]["code"].as_str().unwrap(),
                )
            })
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "most services first, then code: {order:?}"
        );
    }
    assert!(
        counted.values().all(|&n| n > 0),
        "the demo map covers every domain in Aalst: {counted:?}"
    );
}

async fn retire(app: &TestApp, admin: &str, id: &Value, version: &Value) {
    let retired = app
        .graphql_as(
            Some(admin),
            "mutation($id: ID!, $version: Int!) { setServiceStatus(id: $id, version: $version, status: INACTIVE) { status } }",
            json!({ "id": id, "version": version }),
        )
        .await;
    assert!(retired.get("errors").is_none(), "{retired:#}");
}

async fn coverage_of_aalst(app: &TestApp) -> Value {
    app.data(COVERAGE, json!({ "code": AALST })).await["coverage"].clone()
}

#[tokio::test]
async fn retiring_services_lowers_the_count_down_to_a_visible_gap() {
    let app = spawn_app().await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let id = json!(service_id("ocmw-aalst-huurwaarborg"));
    let service = app
        .data(
            "query($id: ID!) { service(id: $id) { version domains { code parent { code } } } }",
            json!({ "id": id }),
        )
        .await["service"]
        .clone();
    let mut its_domains: Vec<String> = service["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["parent"]["code"].as_str().or(d["code"].as_str()).unwrap().to_owned())
        .collect();
    its_domains.sort();
    its_domains.dedup();
    assert!(!its_domains.is_empty());

    let before = services_per_domain(&coverage_of_aalst(&app).await);
    retire(&app, &admin, &id, &service["version"]).await;
    let after = services_per_domain(&coverage_of_aalst(&app).await);
    for (domain, count) in &before {
        let expected = if its_domains.contains(domain) {
            count - 1
        } else {
            *count
        };
        assert_eq!(after[domain], expected, "{domain}: before {count}");
    }

    // Retire what is left of the least covered domain: it stays in the list, as a gap.
    let (domain, _) = after.iter().min_by_key(|(_, n)| **n).unwrap();
    let listed = app
        .data(
            "query($domain: String!, $code: String!) {
                services(filter: { domains: [$domain], municipalityCode: $code }, first: 100) {
                    edges { node { id version status } } } }",
            json!({ "domain": domain, "code": AALST }),
        )
        .await;
    for service in nodes(&listed["services"]).iter().filter(|s| s["status"] == "ACTIVE") {
        retire(&app, &admin, &service["id"], &service["version"]).await;
    }
    let gap = coverage_of_aalst(&app).await["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"]["code"] == domain.as_str())
        .cloned()
        .expect("a domain without services is still listed");
    assert_eq!(gap["services"], 0, "{gap:#}");
    assert_eq!(gap["languages"], json!([]), "no services, no languages");
}

#[tokio::test]
async fn an_unknown_municipality_is_bad_input() {
    let app = spawn_app().await;
    let response = app.graphql(COVERAGE, json!({ "code": "99999" })).await;
    assert_eq!(code(&response), "BAD_USER_INPUT", "{response:#}");
}
