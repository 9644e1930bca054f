//! Reference data a front end builds its pickers from: municipalities, places, life domains
//! and languages.

use serde_json::json;

use crate::harness::{nodes, spawn_app, strings};

#[tokio::test]
async fn lists_all_565_municipalities_with_names_province_and_position() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{
                municipalities(first: 100) { totalCount pageInfo { hasNextPage } }
                aalst: municipality(code: "41002") {
                    code nl: name fr: name(lang: FR) postalCodes latitude longitude
                    province { code name(lang: FR) region { code } }
                    region { code name }
                }
                brussel: municipality(code: "21004") { name(lang: FR) province { code } region { code } }
                nowhere: municipality(code: "99999") { code }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["municipalities"]["totalCount"], 565);
    assert_eq!(data["municipalities"]["pageInfo"]["hasNextPage"], true);
    let aalst = &data["aalst"];
    assert_eq!(aalst["nl"], "Aalst");
    assert_eq!(aalst["fr"], "Alost");
    assert!(aalst["postalCodes"].as_array().unwrap().contains(&json!("9300")));
    assert_eq!(aalst["province"]["code"], "40000");
    assert_eq!(aalst["province"]["region"]["code"], "02000");
    assert_eq!(aalst["region"]["name"], "Vlaams Gewest");
    let (lat, lon) = (
        aalst["latitude"].as_f64().unwrap(),
        aalst["longitude"].as_f64().unwrap(),
    );
    assert!(
        (50.85..51.05).contains(&lat) && (3.95..4.15).contains(&lon),
        "Aalst at {lat},{lon}"
    );
    assert_eq!(data["brussel"]["name"], "Bruxelles");
    assert!(data["brussel"]["province"].is_null(), "Brussels has no province");
    assert_eq!(data["brussel"]["region"]["code"], "04000");
    assert!(data["nowhere"].is_null());
}

#[tokio::test]
async fn pages_through_municipalities_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let query = r#"query($after: String) {
        municipalities(first: 100, after: $after) { edges { cursor node { code } } pageInfo { hasNextPage endCursor } }
    }"#;
    let mut after = serde_json::Value::Null;
    let mut codes = Vec::new();
    loop {
        let data = app.data(query, json!({ "after": after })).await;
        codes.extend(strings(&nodes(&data["municipalities"]), "code"));
        if data["municipalities"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = data["municipalities"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(codes.len(), 565);
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 565);
}

#[tokio::test]
async fn searches_municipalities_in_dutch_and_french_without_accents() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{
                anvers: municipalities(search: "anvers") { edges { node { code } } }
                liege: municipalities(search: "LIEGE") { edges { node { code name(lang: FR) } } }
            }"#,
            json!({}),
        )
        .await;
    assert!(strings(&nodes(&data["anvers"]), "code").contains(&"11002".to_owned()));
    assert!(strings(&nodes(&data["liege"]), "name").contains(&"Liège".to_owned()));
}

#[tokio::test]
async fn places_finds_aalst_by_postal_code_and_by_french_name() {
    let app = spawn_app().await;
    let query = r#"query($q: String!) { places(query: $q) { kind label postalCode municipality { code } } }"#;
    for (input, postal_code) in [
        ("9300", Some("9300")),
        ("alost", None),
        ("ALOST", None),
        ("Aalst", None),
    ] {
        let data = app.data(query, json!({ "q": input })).await;
        let first = &data["places"][0];
        assert_eq!(
            first["municipality"]["code"], "41002",
            "first place for {input:?}: {data}"
        );
        assert_eq!(first["postalCode"].as_str(), postal_code, "{input:?}");
    }
    let data = app.data(query, json!({ "q": "9300" })).await;
    assert_eq!(data["places"][0]["label"], "9300 Aalst");
    assert_eq!(data["places"][0]["kind"], "POSTAL_CODE");
}

#[tokio::test]
async fn places_handles_hyphens_accents_and_localities() {
    let app = spawn_app().await;
    let query =
        r#"query($q: String!) { places(query: $q, first: 5) { kind label postalCode municipality { code name } } }"#;

    let data = app.data(query, json!({ "q": "Sint-Niklaas" })).await;
    assert_eq!(data["places"][0]["municipality"]["name"], "Sint-Niklaas");
    let data = app.data(query, json!({ "q": "sint niklaas" })).await;
    assert_eq!(data["places"][0]["municipality"]["name"], "Sint-Niklaas");

    let data = app.data(query, json!({ "q": "Bruxelles" })).await;
    assert_eq!(data["places"][0]["municipality"]["code"], "21004");
    assert_eq!(data["places"][0]["kind"], "MUNICIPALITY");

    let data = app.data(query, json!({ "q": "liège" })).await;
    assert_eq!(data["places"][0]["municipality"]["code"], "62063");

    // Laeken is a postal code (1020) of the City of Brussels, not a municipality.
    let data = app.data(query, json!({ "q": "laeken" })).await;
    assert_eq!(data["places"][0]["postalCode"], "1020");
    assert_eq!(data["places"][0]["municipality"]["code"], "21004");

    let data = app.data(query, json!({ "q": "   " })).await;
    assert_eq!(data["places"], json!([]));
}

#[tokio::test]
async fn a_postal_code_spanning_two_municipalities_offers_both() {
    let app = spawn_app().await;
    // 1040 Etterbeek is shared by Etterbeek (21005) and the City of Brussels (21004).
    let data = app
        .data(
            r#"{ places(query: "1040") { postalCode municipality { code } } }"#,
            json!({}),
        )
        .await;
    let codes: Vec<&str> = data["places"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["postalCode"] == "1040")
        .map(|p| p["municipality"]["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"21004") && codes.contains(&"21005"), "{data}");
}

#[tokio::test]
async fn refuses_oversized_pages_with_a_clear_error() {
    let app = spawn_app().await;
    let (code, message) = app
        .error("{ municipalities(first: 500) { totalCount } }", json!({}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("`first`") && message.contains("100"), "{message}");

    let (code, _) = app
        .error(r#"{ municipalities(after: "not-a-cursor") { totalCount } }"#, json!({}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");

    let (code, message) = app
        .error(r#"{ places(query: "gent", first: 51) { label } }"#, json!({}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("50"), "{message}");
}

#[tokio::test]
async fn domains_form_the_fourteen_domain_taxonomy_in_three_languages() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{
                domains { code nl: label fr: label(lang: FR) en: label(lang: EN) children { code parent { code } } }
                need: domain(code: "housing.tenancy_rights") { label(lang: EN) parent { code } children { code } }
                housing: domain(code: "housing") { synonyms nlSynonyms: synonyms(lang: NL) fr: synonyms(lang: FR) en: synonyms(lang: EN) }
            }"#,
            json!({}),
        )
        .await;
    let codes = strings(data["domains"].as_array().unwrap(), "code");
    assert_eq!(
        codes,
        [
            "integration",
            "work",
            "finance",
            "housing",
            "health",
            "education",
            "leisure",
            "parenting",
            "informal_network",
            "volunteer_support",
            "legal",
            "interpreting",
            "basic_needs",
            "safety"
        ]
    );
    for domain in data["domains"].as_array().unwrap() {
        for lang in ["nl", "fr", "en"] {
            assert!(!domain[lang].as_str().unwrap().is_empty(), "{domain}");
        }
        let children = domain["children"].as_array().unwrap();
        assert!(!children.is_empty(), "{} has needs", domain["code"]);
        for child in children {
            assert_eq!(child["parent"]["code"], domain["code"]);
            assert!(
                child["code"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{}.", domain["code"].as_str().unwrap()))
            );
        }
    }
    assert_eq!(data["domains"][3]["nl"], "Wonen");
    assert_eq!(data["need"]["parent"]["code"], "housing");
    assert_eq!(data["need"]["children"], json!([]));
    let housing = &data["housing"];
    assert_eq!(housing["synonyms"], housing["nlSynonyms"], "Dutch is the default");
    assert!(housing["nlSynonyms"].as_array().unwrap().contains(&json!("woning")));
    assert!(
        housing["fr"]
            .as_array()
            .unwrap()
            .contains(&json!("chercher un logement"))
    );
    assert!(housing["en"].as_array().unwrap().contains(&json!("rent")));
}

#[tokio::test]
async fn languages_cover_newcomer_groups_with_iso_codes_and_macrolanguages() {
    let app = spawn_app().await;
    let data = app
        .data(
            "{ languages { code iso6391 nameEn macrolanguage { code } } }",
            json!({}),
        )
        .await;
    let languages = data["languages"].as_array().unwrap();
    let codes = strings(languages, "code");
    for needed in [
        "ara", "arz", "apc", "prs", "pes", "fas", "pbt", "pus", "tir", "amh", "som", "ckb", "kmr", "kur", "tur", "ukr",
        "rus", "kat", "sqi", "urd", "ben", "tam", "lin", "swa", "spa", "por", "ron", "bul", "pol", "nld", "fra", "deu",
        "eng",
    ] {
        assert!(codes.contains(&needed.to_owned()), "{needed} missing");
    }
    let by_code = |code: &str| languages.iter().find(|l| l["code"] == code).unwrap().clone();
    assert_eq!(by_code("prs")["macrolanguage"]["code"], "fas");
    assert_eq!(by_code("pes")["macrolanguage"]["code"], "fas");
    assert_eq!(by_code("ckb")["macrolanguage"]["code"], "kur");
    assert_eq!(by_code("kmr")["macrolanguage"]["code"], "kur");
    assert_eq!(by_code("arz")["macrolanguage"]["code"], "ara");
    assert_eq!(by_code("nld")["iso6391"], "nl");
}

#[tokio::test]
async fn language_accepts_iso_639_1_639_3_and_bcp47_codes() {
    let app = spawn_app().await;
    let data = app
        .data(
            r#"{
                dari: language(code: "fa-AF") { code nameEn nameNative macrolanguage { code } }
                arabic: language(code: "ar") { code isMacrolanguage members { code } }
                dutch: language(code: "nl-BE") { code nameNative }
                persian: language(code: "fas") { members { code } }
                unknown: language(code: "xx-YY") { code }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["dari"]["code"], "prs");
    assert_eq!(data["dari"]["macrolanguage"]["code"], "fas");
    assert_eq!(data["arabic"]["code"], "ara");
    assert_eq!(data["arabic"]["isMacrolanguage"], true);
    assert!(strings(data["arabic"]["members"].as_array().unwrap(), "code").contains(&"arz".to_owned()));
    assert_eq!(data["dutch"]["code"], "nld");
    assert_eq!(data["dutch"]["nameNative"], "Nederlands");
    let persian = strings(data["persian"]["members"].as_array().unwrap(), "code");
    assert!(persian.contains(&"prs".to_owned()) && persian.contains(&"pes".to_owned()));
    assert!(data["unknown"].is_null());
}
