//! Importing Open Referral HSDS 3.0 (`socialmap import-hsds`, `importHsds`): a Belgian
//! directory, a second run that changes nothing, one bad record among good ones, every shape
//! of input, the official examples, and who may import over GraphQL.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use api::hsds::import::{ImportReport, ImportSource, RecordKind, TaxonomyMap, import};
use entity::enums::{ChangedResource, LanguageMode, OrganizationKind, Role, ServiceAreaKind, TargetGroup};
use entity::{
    audit_entry, change_log, location, organization, service, service_area, service_domain, service_language,
    service_location, service_target_group, service_translation,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::harness::{TestApp, account, code, spawn_app};

const ORGANIZATION: &str = "b1e2c3d4-0000-4000-8000-000000000001";
const LOCATION: &str = "b1e2c3d4-0000-4000-8000-000000000010";
const SHELTER: &str = "b1e2c3d4-0000-4000-8000-000000000011";
const SERVICE: &str = "b1e2c3d4-0000-4000-8000-000000000100";

/// The example service and organization, and the one location every example shares.
const EXAMPLE_SERVICE: &str = "ac148810-d857-441c-9679-408f346de14b";
const EXAMPLE_LOCATION: &str = "3a19ff88-4620-4d17-9830-ac1d859eb5d5";
const EXAMPLE_LINK: &str = "e94c9f38-1e8f-4564-91d4-d53501ab1765";

const IMPORT: &str = "mutation($documents: String!, $map: String) {
    importHsds(documents: $documents, taxonomyMap: $map) {
        created updated unchanged taxonomies
        rejected { source kind id reason }
        warnings { source kind id message }
    } }";

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hsds").join(path)
}

/// Imports as `socialmap import-hsds` does, into the app's database.
async fn import_into(app: &TestApp, source: ImportSource, taxonomy_map: Option<&str>) -> ImportReport {
    let db = app.connect().await;
    let reference = api::reference::ReferenceData::load(&db).await.unwrap();
    let taxonomy_map = match taxonomy_map {
        Some(file) => TaxonomyMap::read(&reference, &fixture(file)).unwrap(),
        None => TaxonomyMap::default(),
    };
    import(&db, &reference, source, &taxonomy_map, "test").await.unwrap()
}

fn documents(text: &str) -> ImportSource {
    ImportSource::Documents(text.to_owned())
}

/// Whether `searchServices` finds a service of that name within a few seconds: the server
/// follows the change log the import wrote.
async fn found_by_search(app: &TestApp, input: Value, name: &str) -> bool {
    let query = "query($input: ServiceSearchInput!) { searchServices(input: $input) { edges { node { name } } } }";
    let started = Instant::now();
    loop {
        let data = app.data(query, json!({ "input": input })).await;
        let found = data["searchServices"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|edge| edge["node"]["name"] == name);
        if found || started.elapsed() > Duration::from_secs(5) {
            println!("found {name:?}: {found} after {:?}", started.elapsed());
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn service_by_external_id(db: &DatabaseConnection, id: &str) -> Option<service::Model> {
    service::Entity::find()
        .filter(service::Column::ExternalId.eq(id))
        .one(db)
        .await
        .unwrap()
}

async fn location_by_external_id(db: &DatabaseConnection, id: &str) -> location::Model {
    location::Entity::find()
        .filter(location::Column::ExternalId.eq(id))
        .one(db)
        .await
        .unwrap()
        .expect("location imported")
}

/// `(source, kind, id, reason)` of each rejection.
fn rejections(report: &ImportReport) -> Vec<(String, &'static str, Option<String>, String)> {
    report
        .rejected
        .iter()
        .map(|r| (r.source.clone(), r.kind.as_str(), r.id.clone(), r.reason.clone()))
        .collect()
}

#[tokio::test]
async fn a_belgian_directory_imports_whole_and_is_found_at_once() {
    let app = spawn_app().await;
    let report = import_into(&app, ImportSource::Path(fixture("aalst")), None).await;
    assert_eq!(report.rejected, [], "{report}");
    assert_eq!(report.warnings, [], "{report}");
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (4, 0, 0),
        "{report}"
    );
    assert_eq!(report.taxonomies, 2);

    assert!(
        found_by_search(
            &app,
            json!({ "text": "woonbuddy", "near": { "postalCode": "9300" } }),
            "Woonbuddy Aalst"
        )
        .await,
        "the imported service is searchable near Aalst"
    );

    // Everything docs/hsds-mapping.md says the export writes is read back.
    let db = app.connect().await;
    let organization = organization::Entity::find()
        .filter(organization::Column::ExternalId.eq(ORGANIZATION))
        .one(&db)
        .await
        .unwrap()
        .expect("organization imported");
    assert_eq!(organization.kind, OrganizationKind::VolunteerGroup);
    assert_eq!(organization.kbo_number.as_deref(), Some("0123.456.749"));
    assert_eq!(organization.phone.as_deref(), Some("+32 53 00 00 42"));

    let place = location_by_external_id(&db, LOCATION).await;
    assert_eq!(
        (
            place.municipality_code.as_str(),
            place.postal_code.as_str(),
            place.address.as_str()
        ),
        ("41002", "9300", "Werfplein 1")
    );
    assert_eq!(place.opening_hours.as_deref(), Some("di en do 14-17 u"));
    assert_eq!(place.accessibility.as_deref(), Some("Rolstoeltoegankelijk"));
    let shelter = location_by_external_id(&db, SHELTER).await;
    assert!(shelter.confidential, "confidential comes as an attribute");
    assert_eq!(
        (shelter.municipality_code.as_str(), shelter.postal_code.as_str()),
        ("41002", "9300")
    );
    assert_eq!((shelter.address.as_str(), shelter.latitude), ("", None));

    let imported = service_by_external_id(&db, SERVICE).await.expect("service imported");
    assert_eq!(imported.organization_id, organization.id);
    assert_eq!(imported.age_min, Some(18));
    assert_eq!(
        imported.access_description.as_deref(),
        Some("Bel of mail; een maatschappelijk werker mag ook aanmelden.")
    );
    assert_eq!(
        imported.last_verified_at.unwrap().to_rfc3339(),
        "2026-10-01T00:00:00+00:00"
    );
    assert_eq!(
        imported.updated_at.to_rfc3339(),
        "2026-10-01T09:00:00+00:00",
        "last_modified"
    );
    let of_service = |table: &str| format!("{table} of the service");
    let domains = service_domain::Entity::find()
        .filter(service_domain::Column::ServiceId.eq(&imported.id))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(
        domains.iter().map(|d| d.domain_code.as_str()).collect::<Vec<_>>(),
        ["housing.search"],
        "{}: the term named by taxonomy_term_id, read from taxonomy_terms.json",
        of_service("domains")
    );
    let languages = service_language::Entity::find()
        .filter(service_language::Column::ServiceId.eq(&imported.id))
        .order_by_asc(service_language::Column::LanguageCode)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(
        languages
            .iter()
            .map(|l| (l.language_code.as_str(), l.mode))
            .collect::<Vec<_>>(),
        [("nld", LanguageMode::Staff), ("prs", LanguageMode::Interpreter)]
    );
    let groups = service_target_group::Entity::find()
        .filter(service_target_group::Column::ServiceId.eq(&imported.id))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(groups[0].target_group, TargetGroup::Refugees);
    let translations = service_translation::Entity::find()
        .filter(service_translation::Column::ServiceId.eq(&imported.id))
        .order_by_asc(service_translation::Column::Lang)
        .all(&db)
        .await
        .unwrap();
    assert_eq!(
        translations
            .iter()
            .map(|t| (t.lang.as_str(), t.name.as_str(), t.description.is_empty()))
            .collect::<Vec<_>>(),
        [("ar", "رفيق السكن في آلست", true), ("fr", "Woonbuddy Alost", false)],
        "`ara` is stored as the answer language `ar`; a name without a description is kept"
    );
    let mut area: Vec<(ServiceAreaKind, Option<String>, Option<String>)> = service_area::Entity::find()
        .filter(service_area::Column::ServiceId.eq(&imported.id))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.kind, a.municipality_code, a.location_id))
        .collect();
    area.sort_by_key(|a| format!("{a:?}"));
    assert_eq!(
        area,
        [
            (ServiceAreaKind::Municipality, Some("41002".to_owned()), None),
            (ServiceAreaKind::Radius, None, Some(place.id.clone())),
        ]
    );
    let links = service_location::Entity::find()
        .filter(service_location::Column::ServiceId.eq(&imported.id))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(links.iter().map(|l| &l.location_id).collect::<Vec<_>>(), [&place.id]);
}

#[tokio::test]
async fn importing_twice_changes_nothing_and_a_changed_record_is_updated() {
    let app = spawn_app().await;
    let db = app.connect().await;
    import_into(&app, ImportSource::Path(fixture("aalst")), None).await;
    let snapshot = || async {
        let services = service::Entity::find()
            .order_by_asc(service::Column::Id)
            .all(&db)
            .await
            .unwrap();
        let locations = location::Entity::find()
            .order_by_asc(location::Column::Id)
            .all(&db)
            .await
            .unwrap();
        let organizations = organization::Entity::find()
            .order_by_asc(organization::Column::Id)
            .all(&db)
            .await
            .unwrap();
        let changes = change_log::Entity::find().count(&db).await.unwrap();
        let audit = audit_entry::Entity::find().count(&db).await.unwrap();
        (services, locations, organizations, changes, audit)
    };
    let before = snapshot().await;

    let again = import_into(&app, ImportSource::Path(fixture("aalst")), None).await;
    assert_eq!(
        (again.created, again.updated, again.unchanged, again.rejected.len()),
        (0, 0, 4, 0),
        "{again}"
    );
    assert!(
        before == snapshot().await,
        "a second run writes nothing: rows, versions, updated_at, change log and audit trail are as they were"
    );

    // The directory again with the service renamed: one update, found by its HSDS id. (The
    // service names its life domain by a term id only, so its term file comes along.)
    let renamed = std::env::temp_dir().join(format!("socialmap-hsds-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&renamed).unwrap();
    for file in [
        "taxonomy_terms.json",
        "organizations.json",
        "locations.json",
        "services.ndjson",
    ] {
        let text = std::fs::read_to_string(fixture("aalst").join(file)).unwrap();
        std::fs::write(
            renamed.join(file),
            text.replace("\"Woonbuddy Aalst\"", "\"Woonmaatje Aalst\""),
        )
        .unwrap();
    }
    let report = import_into(&app, ImportSource::Path(renamed.clone()), None).await;
    std::fs::remove_dir_all(&renamed).unwrap();
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 1, 3),
        "{report}"
    );
    let updated = service_by_external_id(&db, SERVICE).await.unwrap();
    assert_eq!((updated.name.as_str(), updated.version), ("Woonmaatje Aalst", 2));
    assert!(found_by_search(&app, json!({ "text": "woonmaatje" }), "Woonmaatje Aalst").await);

    // A location does not move to another organization (OCMW Aalst, by its own id), as in
    // editing: its organization's editors and services depend on it.
    let other = seed::demo_id("organization", "ocmw-aalst");
    let moved = std::fs::read_to_string(fixture("aalst/locations.json"))
        .unwrap()
        .replace(ORGANIZATION, &other);
    let report = import_into(&app, documents(&moved), None).await;
    let reasons: Vec<String> = report.rejected.iter().map(|r| r.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            format!(
                "`organization_id` is `{other}`, but the location belongs to another organization on the map; a location does not move between organizations"
            );
            2
        ]
    );
}

#[tokio::test]
async fn one_bad_record_is_rejected_alone_with_its_line_and_reason_and_leaves_nothing() {
    let app = spawn_app().await;
    let db = app.connect().await;
    import_into(&app, ImportSource::Path(fixture("aalst")), None).await;
    let counts = || async {
        (
            service::Entity::find().count(&db).await.unwrap(),
            service_domain::Entity::find().count(&db).await.unwrap(),
            service_language::Entity::find().count(&db).await.unwrap(),
            service_area::Entity::find().count(&db).await.unwrap(),
            service_location::Entity::find().count(&db).await.unwrap(),
            change_log::Entity::find().count(&db).await.unwrap(),
        )
    };
    let before = counts().await;
    let newest_change = change_log::Entity::find()
        .order_by_desc(change_log::Column::Id)
        .one(&db)
        .await
        .unwrap()
        .map_or(0, |c| c.id);

    // Three services of the imported organization. The second passes every check but the
    // last one before writing: its location belongs to another organization (OCMW Aalst in
    // the demo map).
    let elsewhere = seed::demo_id("location", "ocmw-aalst-sociaal-huis");
    let service = |id: &str, name: &str, location: &str| {
        json!({
            "id": id, "organization_id": ORGANIZATION, "name": name, "status": "active",
            "description": "Taalcafé voor nieuwkomers.",
            "languages": [{ "code": "nl", "note": "staff" }],
            "service_at_locations": [{ "location_id": location }],
            "attributes": [{ "link_type": "life_domain", "taxonomy_term": { "code": "integration.conversation_practice" } }]
        })
        .to_string()
    };
    let ndjson = [
        service("b1e2c3d4-0000-4000-8000-000000000201", "Taalcafé Werfplein", LOCATION),
        service("b1e2c3d4-0000-4000-8000-000000000202", "Taalcafé elders", &elsewhere),
        service("b1e2c3d4-0000-4000-8000-000000000203", "Taalcafé Dender", LOCATION),
    ]
    .join("\n");
    let report = import_into(&app, documents(&ndjson), None).await;
    assert_eq!((report.created, report.updated), (2, 0), "{report}");
    assert_eq!(
        rejections(&report),
        [(
            "documents:2".to_owned(),
            "service",
            Some("b1e2c3d4-0000-4000-8000-000000000202".to_owned()),
            format!("`service_at_locations` has `{elsewhere}`, a location of another organization"),
        )]
    );

    assert!(
        service_by_external_id(&db, "b1e2c3d4-0000-4000-8000-000000000202")
            .await
            .is_none()
    );
    let after = counts().await;
    assert_eq!(
        after,
        (
            before.0 + 2,
            before.1 + 2,
            before.2 + 2,
            before.3 + 2,
            before.4 + 2,
            before.5 + 2
        ),
        "the two good services and their parts, and nothing of the bad one"
    );
    let good: Vec<String> = service::Entity::find()
        .filter(service::Column::ExternalId.is_in([
            "b1e2c3d4-0000-4000-8000-000000000201",
            "b1e2c3d4-0000-4000-8000-000000000203",
        ]))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let logged = change_log::Entity::find()
        .filter(change_log::Column::Id.gt(newest_change))
        .all(&db)
        .await
        .unwrap();
    assert!(
        logged
            .iter()
            .all(|c| c.resource == ChangedResource::Service && good.contains(&c.resource_id))
    );
    let audited = audit_entry::Entity::find()
        .filter(audit_entry::Column::ReplacementValue.eq("\"Taalcafé elders\""))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(audited, 0, "the rejected service left no audit entry");
}

#[tokio::test]
async fn every_input_shape_is_read_and_each_record_has_its_line() {
    let app = spawn_app().await;
    // One good organization and one without a name in each shape; the nameless one is
    // rejected with the line it starts on.
    let organization = |n: u32, name: &str| json!({ "id": format!("c0000000-0000-4000-8000-{n:012}"), "name": name, "website": "https://example.org" });
    let reason =
        "`name` must not be empty (spaces and invisible characters such as zero-width spaces do not count)".to_owned();
    let rejected = |source: &str, n: u32| {
        (
            source.to_owned(),
            "organization",
            Some(format!("c0000000-0000-4000-8000-{n:012}")),
            reason.clone(),
        )
    };

    let object = format!("\n\n{}", organization(1, " "));
    let report = import_into(&app, documents(&object), None).await;
    assert_eq!(rejections(&report), [rejected("documents:3", 1)]);

    let array = format!("[\n  {},\n  {}\n]", organization(2, "Array Org"), organization(3, ""));
    let report = import_into(&app, documents(&array), None).await;
    assert_eq!(report.created, 1);
    assert_eq!(rejections(&report), [rejected("documents:3", 3)]);

    let page = json!({
        "total_items": 2, "total_pages": 1, "page_number": 1, "size": 2,
        "first_page": true, "last_page": true, "empty": false,
        "contents": [organization(4, "Page Org"), organization(5, "")]
    });
    let page = serde_json::to_string_pretty(&page).unwrap();
    let line_of_fifth = page.lines().position(|l| l.contains("000000000005")).unwrap() + 1;
    let report = import_into(&app, documents(&page), None).await;
    assert_eq!(report.created, 1);
    // The record starts on the line of its `{`, just above its id (keys are sorted).
    assert_eq!(
        rejections(&report),
        [rejected(&format!("documents:{}", line_of_fifth - 1), 5)]
    );

    let ndjson = format!(
        "{}\n\n{}\n{}\n",
        organization(6, "NDJSON Org"),
        organization(7, ""),
        organization(8, "NDJSON Org 2")
    );
    let report = import_into(&app, documents(&ndjson), None).await;
    assert_eq!(report.created, 2);
    assert_eq!(rejections(&report), [rejected("documents:3", 7)]);

    // A directory: named files of each shape (an object, a page, an array, NDJSON), read in
    // the order that lets references resolve whatever the order of the names.
    let report = import_into(&app, ImportSource::Path(fixture("aalst")), None).await;
    assert_eq!((report.created, report.rejected.len()), (4, 0), "{report}");

    // A line that is not JSON is rejected alone; text that is no JSON at all is one rejection.
    let report = import_into(
        &app,
        documents(&format!("{}\n{{\"id\": \n", organization(9, "Nine"))),
        None,
    )
    .await;
    assert_eq!(report.created, 1);
    assert_eq!(report.rejected[0].source, "documents:2");
    let report = import_into(&app, documents("not json"), None).await;
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].kind, RecordKind::Document);
}

#[tokio::test]
async fn the_official_examples_import_and_every_rejection_is_explained() {
    let app = spawn_app().await;

    // Without a taxonomy map the example service's only term (`code`, a placeholder) stands
    // for no life domain: the service is refused and told how to fix it.
    let unmapped = import_into(&app, ImportSource::Path(fixture("examples")), None).await;
    let service_reasons: Vec<&str> = unmapped
        .rejected
        .iter()
        .filter(|r| r.kind == RecordKind::Service)
        .map(|r| r.reason.as_str())
        .collect();
    assert!(!service_reasons.is_empty());
    assert!(
        service_reasons
            .iter()
            .all(|r| r.starts_with("`attributes` has no life domain")),
        "{unmapped}"
    );
    assert!(
        service_reasons
            .iter()
            .any(|r| r.contains("`code` (id `3f7b145d-84af-42d7-8fae-eaca714b02b2`)") && r.contains("--taxonomy-map")),
        "{unmapped}"
    );
    assert_eq!(
        unmapped.created, 1,
        "the organization does not depend on the service: {unmapped}"
    );

    let report = import_into(
        &app,
        ImportSource::Path(fixture("examples")),
        Some("example-taxonomy-map.json"),
    )
    .await;
    // The service is imported now. The other copies of it (4 in all, once duplicates word
    // for word are dropped) and the 3 of its organization are found as they are.
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (1, 0, 6),
        "{report}"
    );
    assert_eq!(
        report.taxonomies, 2,
        "taxonomy.json and taxonomy_term.json; the lists repeat them"
    );

    // Every rejection, and why:
    // - tabular.json is the tabular form (CSV tables as JSON), not the JSON form: the same
    //   records are imported from the other files.
    // - The one example location (in three files) lies in "MyCity", country `US`, postal code
    //   `ABC 1234`, at latitude 100 (no latitude exceeds 90): it cannot be placed in a Belgian
    //   municipality. In service_at_location_list.json it comes in summary form, without
    //   addresses, as HSDS list responses give it.
    // - Both service_at_location records link the service to that location.
    let country =
        "`addresses[0].country` is `US`, not Belgium (`BE`): the map places every location in a Belgian municipality";
    let location = Some(EXAMPLE_LOCATION.to_owned());
    let link = Some(EXAMPLE_LINK.to_owned());
    let unplaced = format!(
        "`location_id` names location `{EXAMPLE_LOCATION}`, which is not on the map: it was rejected: {country}"
    );
    assert_eq!(
        rejections(&report),
        [
            (
                "tabular.json:1".to_owned(),
                "document",
                None,
                "is the HSDS tabular form (the rows of each CSV table): the import reads the JSON form of the same records (`service_full.json`, `organization_full.json`, …)".to_owned()
            ),
            ("location.json:1".to_owned(), "location", location.clone(), country.to_owned()),
            ("organization_full.json:1".to_owned(), "location", location.clone(), country.to_owned()),
            (
                "service_at_location_list.json:10".to_owned(),
                "location",
                location,
                "`addresses` are missing: the map places every location in a Belgian municipality by its postal code".to_owned()
            ),
            ("service_at_location_full.json:1".to_owned(), "service_at_location", link.clone(), unplaced.clone()),
            ("service_at_location_list.json:10".to_owned(), "service_at_location", link, unplaced),
        ],
        "{report}"
    );
    // The service is imported without the location, and, with neither a place nor an area the
    // map can read (its area is GeoJSON), as serving all of Belgium until an editor says where.
    let warnings: Vec<(String, &str, Option<String>, String)> = report
        .warnings
        .iter()
        .map(|w| (w.source.clone(), w.kind.as_str(), w.id.clone(), w.message.clone()))
        .collect();
    let service = Some(EXAMPLE_SERVICE.to_owned());
    assert_eq!(
        warnings,
        [
            (
                "base.json:1".to_owned(),
                "document",
                None,
                "is the root of an HSDS API (`GET /`): it describes the API and holds no records".to_owned()
            ),
            (
                "organization_full.json:1".to_owned(),
                "service",
                service.clone(),
                format!("is offered at location `{EXAMPLE_LOCATION}`, which is left out: it was rejected: {country}")
            ),
            (
                "organization_full.json:1".to_owned(),
                "service",
                service.clone(),
                "has a service area of extent_type `geojson`, which is left out: the map reads `national` (`BE`), `region`, `province` and `municipality` (REFNIS codes) and `radius` areas".to_owned()
            ),
            (
                "organization_full.json:1".to_owned(),
                "service",
                service,
                "has no service area the map can read and no location on the map, so it is listed as serving all of Belgium: set its area with `setServiceArea`".to_owned()
            ),
        ],
        "{report}"
    );

    assert!(
        found_by_search(&app, json!({ "text": "counselling" }), "Community Counselling").await,
        "the example service shows up in search"
    );
    let db = app.connect().await;
    let imported = service_by_external_id(&db, EXAMPLE_SERVICE).await.unwrap();
    assert_eq!(
        imported.phone.as_deref(),
        Some("+44 1234 234567"),
        "the examples' quotes are dropped"
    );
    let domains = service_domain::Entity::find()
        .filter(service_domain::Column::ServiceId.eq(&imported.id))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(domains[0].domain_code, "health.mental_health");
}

#[tokio::test]
async fn import_hsds_is_for_admins_and_takes_at_most_5_mb() {
    let app = spawn_app().await;
    let db = app.connect().await;
    let small = std::fs::read_to_string(fixture("aalst/organizations.json")).unwrap();
    let variables = json!({ "documents": small });
    let changes = change_log::Entity::find().count(&db).await.unwrap();

    let anonymous = app.graphql(IMPORT, variables.clone()).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
    let refused = [
        account(&app, "r@x.org", Role::Referrer, None, Some("ocmw-aalst")).await,
        account(&app, "o@x.org", Role::OrganizationEditor, None, Some("ocmw-aalst")).await,
        account(&app, "m@x.org", Role::MunicipalityEditor, Some("41002"), None).await,
    ];
    for token in &refused {
        let response = app.graphql_as(Some(token), IMPORT, variables.clone()).await;
        assert_eq!(code(&response), "FORBIDDEN", "{response:#}");
    }
    assert_eq!(
        change_log::Entity::find().count(&db).await.unwrap(),
        changes,
        "refusals write nothing"
    );

    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let oversize = format!("{small}\n{}", " ".repeat(5 * 1024 * 1024));
    let response = app
        .graphql_as(Some(&admin), IMPORT, json!({ "documents": oversize }))
        .await;
    assert_eq!(code(&response), "BAD_USER_INPUT", "{response:#}");
    assert_eq!(response["errors"][0]["extensions"]["field"], "documents");

    let response = app
        .graphql_as(
            Some(&admin),
            IMPORT,
            json!({ "documents": small, "map": "{\"x\": \"no-such-domain\"}" }),
        )
        .await;
    assert_eq!(code(&response), "BAD_USER_INPUT", "{response:#}");
    assert_eq!(response["errors"][0]["extensions"]["field"], "taxonomyMap");

    // The Belgian directory as one NDJSON text: its kinds told by their shapes.
    let dir = fixture("aalst");
    let mut ndjson = String::new();
    for file in ["taxonomy_terms.json", "organizations.json", "locations.json"] {
        let document: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let records = match document {
            Value::Array(records) => records,
            Value::Object(ref page) if page.contains_key("contents") => page["contents"].as_array().unwrap().clone(),
            record => vec![record],
        };
        for record in records {
            ndjson.push_str(&format!("{record}\n"));
        }
    }
    ndjson.push_str(&std::fs::read_to_string(dir.join("services.ndjson")).unwrap());
    let response = app
        .graphql_as(Some(&admin), IMPORT, json!({ "documents": ndjson }))
        .await;
    let report = &response["data"]["importHsds"];
    assert_eq!(
        (&report["created"], &report["taxonomies"], &report["rejected"]),
        (&json!(4), &json!(2), &json!([])),
        "{response:#}"
    );
    // This server's index is woken at once, without waiting for its next poll.
    assert!(found_by_search(&app, json!({ "text": "woonbuddy" }), "Woonbuddy Aalst").await);

    let again = app
        .graphql_as(Some(&admin), IMPORT, json!({ "documents": ndjson }))
        .await;
    assert_eq!(again["data"]["importHsds"]["unchanged"], 4, "{again:#}");
}

#[tokio::test]
async fn records_sharing_an_id_in_one_document_are_rejected_and_only_the_first_is_imported() {
    let app = spawn_app().await;
    let db = app.connect().await;
    import_into(&app, ImportSource::Path(fixture("aalst")), None).await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let id = "b1e2c3d4-0000-4000-8000-000000000301";
    let service = |id: &str, name: &str, description: Option<&str>| {
        let mut record = json!({
            "id": id, "organization_id": ORGANIZATION, "name": name, "status": "active",
            "languages": [{ "code": "nl", "note": "staff" }],
            "service_at_locations": [{ "location_id": LOCATION }],
            "attributes": [{ "link_type": "life_domain", "taxonomy_term": { "code": "integration.conversation_practice" } }]
        });
        if let Some(description) = description {
            record["description"] = json!(description);
        }
        record.to_string()
    };
    // One service given 50 times, as a broken export gives one id to every record; then a
    // service without a description, and one whose description is a zero-width space.
    let mut lines: Vec<String> = (0..50)
        .map(|n| service(id, &format!("Taalcafé {n}"), Some("Taalcafé voor nieuwkomers.")))
        .collect();
    lines.push(service(
        "b1e2c3d4-0000-4000-8000-000000000302",
        "Zonder beschrijving",
        None,
    ));
    lines.push(service(
        "b1e2c3d4-0000-4000-8000-000000000303",
        "Onzichtbare beschrijving",
        Some("\u{200b}"),
    ));
    let (changes, audit) = (
        change_log::Entity::find().count(&db).await.unwrap(),
        audit_entry::Entity::find().count(&db).await.unwrap(),
    );
    let response = app
        .graphql_as(Some(&admin), IMPORT, json!({ "documents": lines.join("\n") }))
        .await;
    let report = &response["data"]["importHsds"];
    assert_eq!(
        (&report["created"], &report["updated"], &report["unchanged"]),
        (&json!(1), &json!(0), &json!(0)),
        "{response:#}"
    );
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 51, "{response:#}");
    for (n, rejection) in rejected.iter().take(49).enumerate() {
        assert_eq!(rejection["source"], format!("documents:{}", n + 2));
        assert_eq!((&rejection["kind"], &rejection["id"]), (&json!("service"), &json!(id)));
        assert!(
            rejection["reason"]
                .as_str()
                .unwrap()
                .starts_with("duplicate id, already given at line 1"),
            "{rejection}"
        );
    }
    for (rejection, line) in rejected[49..].iter().zip([51, 52]) {
        assert_eq!(rejection["source"], format!("documents:{line}"));
        assert!(
            rejection["reason"]
                .as_str()
                .unwrap()
                .starts_with("`description` must not be empty"),
            "a service needs a description: {rejection}"
        );
    }

    let imported = service_by_external_id(&db, id).await.expect("the first is imported");
    assert_eq!((imported.name.as_str(), imported.version), ("Taalcafé 0", 1));
    for missing in [
        "b1e2c3d4-0000-4000-8000-000000000302",
        "b1e2c3d4-0000-4000-8000-000000000303",
    ] {
        assert!(service_by_external_id(&db, missing).await.is_none());
    }
    assert_eq!(
        change_log::Entity::find().count(&db).await.unwrap(),
        changes + 1,
        "one service written, once"
    );
    let audited = audit_entry::Entity::find().count(&db).await.unwrap() - audit;
    let later_names = audit_entry::Entity::find()
        .filter(audit_entry::Column::ReplacementValue.eq("\"Taalcafé 1\""))
        .count(&db)
        .await
        .unwrap();
    assert!(
        audited > 0 && later_names == 0,
        "only the first record left an audit trail"
    );
}

#[tokio::test]
async fn a_rejected_record_names_the_field_as_hsds_does_not_as_the_api() {
    let app = spawn_app().await;
    import_into(&app, ImportSource::Path(fixture("aalst")), None).await;
    let with = |mut record: Value, fields: Value| {
        record
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        record.to_string()
    };
    let organization = |n: u32, fields: Value| {
        with(
            json!({ "id": format!("d0000000-0000-4000-8000-{n:012}"), "name": "Vzw Dender" }),
            fields,
        )
    };
    let location = |n: u32, fields: Value| {
        with(
            json!({ "id": format!("d0000000-0000-4000-8000-{n:012}"), "organization_id": ORGANIZATION, "name": "Antenne",
                    "addresses": [{ "address_1": "Werfplein 1", "postal_code": "9300", "country": "BE" }] }),
            fields,
        )
    };
    let service = |n: u32, fields: Value| {
        with(
            json!({ "id": format!("d0000000-0000-4000-8000-{n:012}"), "organization_id": ORGANIZATION, "name": "Taalcafé",
                    "status": "active", "description": "Taalcafé voor nieuwkomers.",
                    "attributes": [{ "link_type": "life_domain", "taxonomy_term": { "code": "integration.conversation_practice" } }] }),
            fields,
        )
    };
    // Each record breaks one rule that editing checks too, where the API names the field
    // otherwise (`kboNumber`, `phone`, `openingHours`, `ageMin`, `accessDescription`).
    let cases = [
        (
            organization(
                1,
                json!({ "organization_identifiers": [{ "identifier_scheme": "BE-BCE_KBO", "identifier": "0207.437.469" }] }),
            ),
            "`organization_identifiers` `0207.437.469` is not a valid enterprise number",
        ),
        (
            organization(2, json!({ "phones": [{ "number": "call me" }] })),
            "`phones[0].number` `call me` is not a phone number",
        ),
        (
            location(3, json!({ "schedules": [{ "description": "x".repeat(5_001) }] })),
            "`schedules[0].description` is longer than 5000 characters",
        ),
        (
            service(4, json!({ "minimum_age": 18, "maximum_age": 12 })),
            "`minimum_age` must not be above the maximum age (12), got 18",
        ),
        (
            service(5, json!({ "application_process": "x".repeat(5_001) })),
            "`application_process` is longer than 5000 characters",
        ),
    ];
    let text: Vec<&str> = cases.iter().map(|(record, _)| record.as_str()).collect();
    let report = import_into(&app, documents(&text.join("\n")), None).await;
    assert_eq!((report.created, report.updated), (0, 0), "{report}");
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons.len(), cases.len(), "{report}");
    for (reason, (_, expected)) in reasons.iter().zip(&cases) {
        assert!(
            reason.starts_with(expected),
            "{reason:?} should start with {expected:?}"
        );
    }
}

#[tokio::test]
async fn a_shelter_imported_without_its_address_can_still_be_edited() {
    let app = spawn_app().await;
    let db = app.connect().await;
    import_into(&app, ImportSource::Path(fixture("aalst")), None).await;
    let shelter = location_by_external_id(&db, SHELTER).await;
    let admin = account(&app, "admin@x.org", Role::Admin, None, None).await;
    let edited = app
        .graphql_as(
            Some(&admin),
            "mutation($id: ID!, $v: Int!) { updateLocation(id: $id, version: $v,
                input: { openingHours: \"op afspraak\" }) { version } }",
            json!({ "id": api::relay::global_id(api::relay::NodeKind::Location, &shelter.id).0, "v": shelter.version }),
        )
        .await;
    assert!(edited.get("errors").is_none(), "{edited:#}");
    assert_eq!(
        edited["data"]["updateLocation"]["version"].as_i64(),
        Some(i64::from(shelter.version) + 1)
    );

    // A shelter of the map's own still needs its address.
    let organization = api::relay::global_id(api::relay::NodeKind::Organization, &shelter.organization_id).0;
    let own = app
        .graphql_as(
            Some(&admin),
            "mutation($org: ID!) { createLocation(organizationId: $org, input: {
                name: \"Opvang\", address: \"\", postalCode: \"9300\", confidential: true }) { id } }",
            json!({ "org": organization }),
        )
        .await;
    assert_eq!(code(&own), "BAD_USER_INPUT", "{own:#}");
    assert_eq!(own["errors"][0]["extensions"]["field"], "address");
}
