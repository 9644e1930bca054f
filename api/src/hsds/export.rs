//! `socialmap export-hsds DIR`: the whole public map as HSDS 3.0 documents, in the shape the
//! HSDS API serves them and `import-hsds` reads back: `taxonomies.json`,
//! `taxonomy_terms.json`, `organizations.json` (with their locations), `services.json` (full,
//! with areas, languages and locations), each also as NDJSON under `ndjson/`.

use std::path::Path;

use entity::{organization, service};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::Value;

use super::documents::{self, Catalog, Form};
use crate::reference::ReferenceData;

/// How many documents of each kind were written.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    pub organizations: usize,
    pub services: usize,
    pub taxonomy_terms: usize,
}

pub async fn export(db: &DatabaseConnection, reference: &ReferenceData, dir: &Path) -> anyhow::Result<ExportReport> {
    // Ordered by name, then by HSDS id: an export imported elsewhere exports in the same order.
    let mut organizations = organization::Entity::find().all(db).await?;
    organizations.sort_by_key(|o| (o.name_search.clone(), documents::hsds_id(&o.external_id, &o.id)));
    let mut services = service::Entity::find().all(db).await?;
    services.sort_by_key(|s| (s.name_search.clone(), documents::hsds_id(&s.external_id, &s.id)));
    let organization_ids: Vec<String> = organizations.iter().map(|o| o.id.clone()).collect();
    let catalog = Catalog::load(db, reference, &services, &organization_ids).await?;
    let organization_documents: Vec<Value> = organizations
        .iter()
        .map(|o| {
            let mut document = catalog.organization(o, Form::Full, false);
            // Services are written once, in full, in services.json.
            if let Some(fields) = document.as_object_mut() {
                fields.remove("services");
            }
            document
        })
        .collect();
    let service_documents: Vec<Value> = services.iter().map(|s| catalog.service(s, Form::Full)).collect();
    let terms: Vec<Value> = reference.domains().map(documents::term_document).collect();
    let files = [
        ("taxonomies", vec![documents::taxonomy()]),
        ("taxonomy_terms", terms),
        ("organizations", organization_documents),
        ("services", service_documents),
    ];
    std::fs::create_dir_all(dir.join("ndjson"))?;
    let mut report = ExportReport::default();
    for (name, documents) in &files {
        std::fs::write(
            dir.join(format!("{name}.json")),
            serde_json::to_string_pretty(documents)?,
        )?;
        let lines: String = documents.iter().map(|d| format!("{d}\n")).collect();
        std::fs::write(dir.join("ndjson").join(format!("{name}.ndjson")), lines)?;
        match *name {
            "organizations" => report.organizations = documents.len(),
            "services" => report.services = documents.len(),
            "taxonomy_terms" => report.taxonomy_terms = documents.len(),
            _ => {}
        }
    }
    Ok(report)
}
