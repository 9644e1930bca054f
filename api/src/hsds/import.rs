//! Importing Open Referral HSDS 3.0 JSON: `socialmap import-hsds PATH` and, for admins,
//! the `importHsds` mutation.
//!
//! Every record is found by its HSDS `id`, kept as its `external_id`, so importing the same
//! documents again changes nothing. Each record goes through the map's one write path, as an
//! edit does: checked, and written in a transaction of its own with its audit entries and
//! change-log row; search follows once the import is done. A record that fails writes
//! nothing and is reported with where it is and why, and the others are imported all the
//! same. `docs/hsds-mapping.md` says what maps to what.

mod document;
mod read;
mod types;
mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use sea_orm::DatabaseConnection;

pub use types::HsdsMutation;

use super::HsdsError;
use crate::auth::Viewer;
use crate::listings::{Author, MapWriter, Searchable, may_import};
use crate::reference::ReferenceData;
use crate::search::SearchIndex;
use read::Read;

/// The most an `importHsds` call takes (documents and taxonomy map together); larger
/// directories are imported on the server with `socialmap import-hsds`.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// Who the audit trail names for a command-line import, which has no account.
pub const COMMAND_LINE: &str = "socialmap import-hsds";

/// Where the documents are.
pub enum ImportSource {
    /// A file, or a directory whose `.json`, `.ndjson` and `.jsonl` files are read in the
    /// order of their names.
    Path(PathBuf),
    /// The text of `importHsds(documents:)`; its records' kinds are told by their shape.
    Documents(String),
}

/// Foreign taxonomy terms, by id or code, and the life domain or need each stands for.
#[derive(Clone, Debug, Default)]
pub struct TaxonomyMap(BTreeMap<String, String>);

impl TaxonomyMap {
    /// A JSON object such as `{"3f7b145d-…": "health.mental_health", "housing-help": "housing"}`.
    pub fn parse(reference: &ReferenceData, json: &str) -> Result<TaxonomyMap, HsdsError> {
        let map: BTreeMap<String, String> = serde_json::from_str(json).map_err(|error| {
            HsdsError::TaxonomyMap(format!(
                "is not a JSON object from taxonomy term ids or codes to life-domain codes: {error}"
            ))
        })?;
        let mut terms = BTreeMap::new();
        for (term, domain) in map {
            let domain = domain.trim().to_owned();
            if reference.domain(&domain).is_none() {
                return Err(HsdsError::TaxonomyMap(format!(
                    "maps `{term}` to `{domain}`, which is no life domain: use codes of the `domains` query, such as `housing.search`"
                )));
            }
            terms.insert(term.trim().to_owned(), domain);
        }
        Ok(TaxonomyMap(terms))
    }

    pub fn read(reference: &ReferenceData, path: &Path) -> Result<TaxonomyMap, HsdsError> {
        let json = std::fs::read_to_string(path).map_err(|error| HsdsError::Unreadable(path.to_owned(), error))?;
        TaxonomyMap::parse(reference, &json)
    }

    fn domain(&self, term: &str) -> Option<&str> {
        self.0.get(term.trim()).map(String::as_str)
    }
}

/// The HSDS objects an import reads; `Document` stands for a file or text that holds none
/// it can read. Ordered as they are imported, so that references resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    Document,
    Taxonomy,
    TaxonomyTerm,
    Organization,
    Location,
    Service,
    ServiceAtLocation,
}

impl RecordKind {
    /// The HSDS name of the object.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Document => "document",
            RecordKind::Taxonomy => "taxonomy",
            RecordKind::TaxonomyTerm => "taxonomy_term",
            RecordKind::Organization => "organization",
            RecordKind::Location => "location",
            RecordKind::Service => "service",
            RecordKind::ServiceAtLocation => "service_at_location",
        }
    }
}

/// A record that was not imported, and why. It wrote nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    /// `file:line` where the record starts (or the record it is nested in).
    pub source: String,
    pub kind: RecordKind,
    /// Its HSDS id, when it has one.
    pub id: Option<String>,
    pub reason: String,
}

/// A record that was imported, or a document that was read, with something left out or
/// assumed that its editors should know.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub source: String,
    pub kind: RecordKind,
    pub id: Option<String>,
    pub message: String,
}

/// What an import did. Every record read is counted once: created, updated, unchanged,
/// read as taxonomy, or rejected.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Taxonomies and taxonomy terms read: they map attributes to life domains and are not
    /// stored.
    pub taxonomies: usize,
    pub rejected: Vec<Rejection>,
    pub warnings: Vec<Warning>,
}

/// Imports every record of `source` as the server's operator (`socialmap import-hsds`),
/// named `by` in the audit trail; a running server finds the records through the change log.
/// Fails only when `source` cannot be read at all or the database fails; a bad record is
/// reported in `rejected` and the rest go on.
pub async fn import(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    source: ImportSource,
    taxonomy_map: &TaxonomyMap,
    by: &str,
) -> Result<ImportReport, HsdsError> {
    let writer = MapWriter::new(db, reference, Author::Operator(by), Searchable::Later);
    run(&writer, source, taxonomy_map).await
}

/// `importHsds`: an admin's import of documents sent with the request, searchable on this
/// server when it returns.
pub async fn import_documents(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    index: &SearchIndex,
    viewer: &Viewer,
    documents: String,
    taxonomy_map: Option<&str>,
) -> Result<ImportReport, HsdsError> {
    if !may_import(viewer.signed_in()?) {
        return Err(HsdsError::Forbidden);
    }
    let size = documents.len() + taxonomy_map.map_or(0, str::len);
    if size > MAX_DOCUMENT_BYTES {
        return Err(HsdsError::TooLarge(size));
    }
    let taxonomy_map = match taxonomy_map {
        Some(json) => TaxonomyMap::parse(reference, json)?,
        None => TaxonomyMap::default(),
    };
    let writer = MapWriter::new(db, reference, Author::Viewer(viewer), Searchable::AtEnd(index));
    run(&writer, ImportSource::Documents(documents), &taxonomy_map).await
}

/// Reads `source` and writes its records in import order, then waits, if the writer is to,
/// once for search to show them all.
async fn run(
    writer: &MapWriter<'_>,
    source: ImportSource,
    taxonomy_map: &TaxonomyMap,
) -> Result<ImportReport, HsdsError> {
    let read = match source {
        ImportSource::Path(path) => Read::path(&path)?,
        ImportSource::Documents(text) => {
            let mut read = Read::default();
            read.text("documents", &text);
            read
        }
    }
    .in_import_order();
    let mut run = write::Run::new(writer, taxonomy_map);
    run.report.rejected = read.rejected;
    run.report.warnings = read.warnings;
    for item in &read.items {
        run.import(item).await?;
    }
    writer.finish().await;
    let report = run.report;
    tracing::info!(
        created = report.created,
        updated = report.updated,
        unchanged = report.unchanged,
        rejected = report.rejected.len(),
        "imported HSDS records"
    );
    Ok(report)
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let warnings = match self.warnings.len() {
            1 => "1 warning".to_owned(),
            n => format!("{n} warnings"),
        };
        writeln!(
            f,
            "{} created, {} updated, {} unchanged, {} taxonomy records read, {} rejected, {warnings}",
            self.created,
            self.updated,
            self.unchanged,
            self.taxonomies,
            self.rejected.len(),
        )?;
        let id = |id: &Option<String>| id.as_deref().map(|id| format!(" {id}")).unwrap_or_default();
        if !self.rejected.is_empty() {
            writeln!(f, "\nrejected (none of these wrote anything):")?;
            for r in &self.rejected {
                writeln!(f, "  {}  {}{}: {}", r.source, r.kind.as_str(), id(&r.id), r.reason)?;
            }
        }
        if !self.warnings.is_empty() {
            writeln!(f, "\nwarnings:")?;
            for w in &self.warnings {
                writeln!(f, "  {}  {}{}: {}", w.source, w.kind.as_str(), id(&w.id), w.message)?;
            }
        }
        Ok(())
    }
}
