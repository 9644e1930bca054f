//! Search in the families' own words and languages: a query typed in Arabic, Dari, Pashto,
//! Tigrinya, Somali, Ukrainian, Russian or Turkish, or a need told in everyday Dutch, French
//! or English, names its life domain through the lexicon (`seed/data/lexicon/`) and finds
//! that domain's services near the family; `understood` says which words were taken as what.
//! Answers come back in the family's language where there is text in it (`seed/data/labels/`,
//! services' translations), field by field falling back to the macrolanguage and then Dutch,
//! each text saying which language it is in and which way it runs.

use serde_json::{Value, json};

use entity::enums::Role;

use crate::harness::{TestApp, account, code, service_id, spawn_app};

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

/// The labels file of a language, as the seed ships it.
fn labels(file: &str) -> Value {
    let contents = match file {
        "ara" => include_str!("../../../seed/data/labels/ara.json"),
        "fas" => include_str!("../../../seed/data/labels/fas.json"),
        "ukr" => include_str!("../../../seed/data/labels/ukr.json"),
        other => panic!("no labels file {other} in this test"),
    };
    serde_json::from_str(contents).unwrap()
}

#[tokio::test]
async fn labels_come_back_in_the_familys_language_with_their_direction() {
    let app = spawn_app().await;
    let text = "{ text lang direction reviewed }";
    let found = app
        .data(
            &format!(
                "{{ housing: domain(code: \"housing.tenancy_rights\") {{
                    ar: labelText(lang: AR) {text} arPlain: label(lang: AR)
                    prs: labelText(lang: PRS) {text} uk: labelText(lang: UK) {text}
                    am: labelText(lang: AM) {text} nl: labelText {text} }}
                  arabic: labels(lang: AR) {{ targetGroups {{ targetGroup label {text} }}
                    costs {{ cost label {text} }} access {{ access label {text} }} }}
                  amharic: labels(lang: AM) {{ costs {{ cost label {text} }} }}
                  ckb: language(code: \"ckb\") {{ direction }} kmr: language(code: \"kmr\") {{ direction }}
                  pbt: language(code: \"pbt\") {{ direction }} ti: language(code: \"ti\") {{ direction }} }}"
            ),
            json!({}),
        )
        .await;
    let housing = &found["housing"];
    let arabic = labels("ara");
    assert_eq!(
        housing["ar"],
        json!({ "text": arabic["domains"]["housing.tenancy_rights"], "lang": "AR", "direction": "RTL", "reviewed": false }),
        "{found:#}"
    );
    assert_eq!(housing["arPlain"], arabic["domains"]["housing.tenancy_rights"]);
    // Dari has no labels of its own: they come from Persian, and say so.
    assert_eq!(
        housing["prs"],
        json!({ "text": labels("fas")["domains"]["housing.tenancy_rights"], "lang": "FA", "direction": "RTL", "reviewed": false })
    );
    assert_eq!(
        housing["uk"]["text"],
        labels("ukr")["domains"]["housing.tenancy_rights"]
    );
    assert_eq!(
        (&housing["uk"]["lang"], &housing["uk"]["direction"]),
        (&json!("UK"), &json!("LTR"))
    );
    // No Amharic labels yet: Dutch, marked as Dutch.
    assert_eq!(
        housing["am"],
        json!({ "text": "Huurrecht", "lang": "NL", "direction": "LTR", "reviewed": true }),
        "{found:#}"
    );
    assert_eq!(housing["nl"], housing["am"]);

    let values = &found["arabic"];
    assert_eq!(values["targetGroups"].as_array().unwrap().len(), 9, "{values:#}");
    assert_eq!(values["costs"].as_array().unwrap().len(), 3);
    assert_eq!(values["access"].as_array().unwrap().len(), 2);
    for label in ["targetGroups", "costs", "access"]
        .iter()
        .flat_map(|kind| values[kind].as_array().unwrap())
        .map(|v| &v["label"])
    {
        assert_eq!(
            (&label["lang"], &label["direction"]),
            (&json!("AR"), &json!("RTL")),
            "{label:#}"
        );
    }
    let free = values["costs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cost"] == "FREE")
        .unwrap();
    assert_eq!(free["label"]["text"], arabic["cost"]["FREE"]);
    assert_eq!(found["amharic"]["costs"][0]["label"]["text"], "Gratis");
    assert_eq!(found["amharic"]["costs"][0]["label"]["lang"], "NL");

    // Sorani is written in Arabic script, Kurmanji in Latin; Southern Pashto runs as Pashto.
    assert_eq!(found["ckb"]["direction"], "RTL");
    assert_eq!(found["kmr"]["direction"], "LTR");
    assert_eq!(found["pbt"]["direction"], "RTL");
    assert_eq!(found["ti"]["direction"], "LTR");
}

const SERVICE_TEXTS: &str = "query($id: ID!, $lang: Lang!) { node(id: $id) { ... on Service {
    name(lang: $lang) description(lang: $lang)
    nameText(lang: $lang) { text lang direction } descriptionText(lang: $lang) { text lang direction }
    dutch: descriptionText { text } } } }";

async fn service_texts(app: &TestApp, key: &str, lang: &str) -> Value {
    app.data(SERVICE_TEXTS, json!({ "id": service_id(key), "lang": lang }))
        .await["node"]
        .clone()
}

#[tokio::test]
async fn a_service_answers_in_the_familys_language_field_by_field() {
    let app = spawn_app().await;
    // Arabic name and description.
    let full = service_texts(&app, "ocmw-aalst-leefloon", "AR").await;
    assert_eq!(full["nameText"]["lang"], "AR", "{full:#}");
    assert_eq!(full["nameText"]["direction"], "RTL");
    assert!(
        full["nameText"]["text"].as_str().unwrap().contains("leefloon"),
        "{full:#}"
    );
    assert_eq!(full["descriptionText"]["lang"], "AR");
    assert_eq!(full["name"], full["nameText"]["text"]);
    // An Arabic name without a description: the description is the Dutch one, and says so.
    let name_only = service_texts(&app, "ocmw-genk-leefloon", "AR").await;
    assert_eq!(name_only["nameText"]["lang"], "AR", "{name_only:#}");
    assert_eq!(
        name_only["descriptionText"],
        json!({ "text": name_only["dutch"]["text"], "lang": "NL", "direction": "LTR" })
    );
    assert_eq!(name_only["description"], name_only["dutch"]["text"]);
    // A service with only Dutch text answers in Dutch, marked as Dutch.
    let dutch_only = service_texts(&app, "ocmw-aalst-huurwaarborg", "UK").await;
    for field in ["nameText", "descriptionText"] {
        assert_eq!(dutch_only[field]["lang"], "NL", "{dutch_only:#}");
        assert_eq!(dutch_only[field]["direction"], "LTR");
    }
    // Dari has its own translation here; Southern Pashto falls back to Pashto's.
    let dari = service_texts(&app, "ocmw-aalst-leefloon", "PRS").await;
    assert_eq!(
        (&dari["nameText"]["lang"], &dari["nameText"]["direction"]),
        (&json!("PRS"), &json!("RTL"))
    );
    let pashto = service_texts(&app, "woonpunt-aalst-woonzoekhulp", "PBT").await;
    assert_eq!(pashto["nameText"]["lang"], "PS", "{pashto:#}");
}

#[tokio::test]
async fn a_search_in_arabic_answers_in_arabic_where_the_map_has_it() {
    let app = spawn_app().await;
    let found = app
        .data(
            "query($input: ServiceSearchInput!) { searchServices(input: $input, first: 50) {
                edges { node { id } snippet { text lang direction } }
                facets { domains { code label labelText { lang direction } } } } }",
            json!({ "input": { "text": "مساعدة مالية", "near": { "postalCode": "9300" }, "lang": "AR" } }),
        )
        .await["searchServices"]
        .clone();
    let edges = found["edges"].as_array().unwrap();
    let snippet_of = |key: &str| {
        edges
            .iter()
            .find(|e| e["node"]["id"] == service_id(key))
            .map(|e| e["snippet"].clone())
            .unwrap_or_else(|| panic!("{key} is found: {found:#}"))
    };
    let arabic = snippet_of("ocmw-aalst-leefloon");
    assert_eq!(
        (&arabic["lang"], &arabic["direction"]),
        (&json!("AR"), &json!("RTL")),
        "{arabic:#}"
    );
    assert!(!arabic["text"].as_str().unwrap().is_empty());
    let dutch = snippet_of("ocmw-aalst-huurwaarborg");
    assert_eq!(
        (&dutch["lang"], &dutch["direction"]),
        (&json!("NL"), &json!("LTR")),
        "{dutch:#}"
    );
    let facet = &found["facets"]["domains"][0];
    assert_eq!(
        facet["labelText"],
        json!({ "lang": "AR", "direction": "RTL" }),
        "{found:#}"
    );
    assert_eq!(
        facet["label"],
        labels("ara")["domains"][facet["code"].as_str().unwrap()]
    );
}

#[tokio::test]
async fn an_editor_writes_a_translation_in_a_familys_language_and_may_leave_out_its_description() {
    let app = spawn_app().await;
    let editor = account(&app, "aalst@x.org", Role::MunicipalityEditor, Some("41002"), None).await;
    let key = "ocmw-aalst-huurwaarborg";
    let version = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Service { version } } }",
            json!({ "id": service_id(key) }),
        )
        .await["node"]["version"]
        .clone();
    let written = app
        .graphql_as(
            Some(&editor),
            "mutation($id: ID!, $v: Int!) { setServiceTranslations(id: $id, version: $v, translations: [
                { lang: UK, name: \"Гарантія оренди\" },
                { lang: TI, name: \"ውሕስና ክራይ\", description: \"\" }]) { version } }",
            json!({ "id": service_id(key), "v": version }),
        )
        .await;
    assert!(written.get("errors").is_none(), "{written:#}");
    let uk = service_texts(&app, key, "UK").await;
    assert_eq!(
        uk["nameText"],
        json!({ "text": "Гарантія оренди", "lang": "UK", "direction": "LTR" })
    );
    assert_eq!(uk["descriptionText"]["lang"], "NL", "{uk:#}");
    let ti = service_texts(&app, key, "TI").await;
    assert_eq!(ti["nameText"]["lang"], "TI", "{ti:#}");

    // Dutch is the service's own text, not a translation.
    let refused = app
        .graphql_as(
            Some(&editor),
            "mutation($id: ID!, $v: Int!) { setServiceTranslations(id: $id, version: $v, translations: [
                { lang: NL, name: \"Huurwaarborg\" }]) { version } }",
            json!({ "id": service_id(key), "v": written["data"]["setServiceTranslations"]["version"] }),
        )
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused:#}");
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "translations",
        "{refused:#}"
    );
    let unchanged = service_texts(&app, key, "UK").await;
    assert_eq!(unchanged["nameText"]["lang"], "UK", "nothing written after a refusal");
}
