//! `importHsds`: the import for admins, over GraphQL.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use sea_orm::DatabaseConnection;

use super::{ImportReport, Rejection, Warning};
use crate::auth::Viewer;
use crate::error::ApiResult;
use crate::reference::types::reference;
use crate::search::SearchIndex;

/// What an HSDS import did. Each record read is counted once.
#[derive(SimpleObject)]
pub struct HsdsImportReport {
    pub created: i32,
    pub updated: i32,
    /// Records found on the map exactly as the documents describe them: nothing was written.
    pub unchanged: i32,
    /// Taxonomies and taxonomy terms read; they map attributes to life domains and are not
    /// stored.
    pub taxonomies: i32,
    /// Records not imported; none of them wrote anything.
    pub rejected: Vec<HsdsRejection>,
    /// Records imported with something left out or assumed.
    pub warnings: Vec<HsdsWarning>,
}

/// A record that was not imported.
#[derive(SimpleObject)]
pub struct HsdsRejection {
    /// `documents:<line>`: the line the record (or the record it is nested in) starts on.
    pub source: String,
    /// The HSDS object: `organization`, `service`, `location`, `service_at_location`,
    /// `taxonomy`, `taxonomy_term`, or `document` for text that holds no readable record.
    pub kind: String,
    /// Its HSDS `id`, when it has one.
    pub id: Option<String>,
    pub reason: String,
}

/// A record imported with something left out or assumed, such as a location that could not
/// be placed.
#[derive(SimpleObject)]
pub struct HsdsWarning {
    pub source: String,
    pub kind: String,
    pub id: Option<String>,
    pub message: String,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<ImportReport> for HsdsImportReport {
    fn from(report: ImportReport) -> Self {
        HsdsImportReport {
            created: count(report.created),
            updated: count(report.updated),
            unchanged: count(report.unchanged),
            taxonomies: count(report.taxonomies),
            rejected: report.rejected.into_iter().map(Into::into).collect(),
            warnings: report.warnings.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<Rejection> for HsdsRejection {
    fn from(r: Rejection) -> Self {
        HsdsRejection {
            source: r.source,
            kind: r.kind.as_str().to_owned(),
            id: r.id,
            reason: r.reason,
        }
    }
}

impl From<Warning> for HsdsWarning {
    fn from(w: Warning) -> Self {
        HsdsWarning {
            source: w.source,
            kind: w.kind.as_str().to_owned(),
            id: w.id,
            message: w.message,
        }
    }
}

#[derive(Default)]
pub struct HsdsMutation;

#[Object]
impl HsdsMutation {
    /// Imports Open Referral HSDS 3.0 JSON: one object, an array, a page of a list response
    /// (`contents`) or NDJSON, of organizations, locations, services (with their nested
    /// organization and locations), service_at_locations, taxonomies and taxonomy terms. For
    /// admins; at most 5 MB. Records are found again by their HSDS `id`, so importing the same
    /// documents twice changes nothing. A record that fails is reported with its line and why,
    /// and writes nothing; the others are imported and searchable at once. `taxonomyMap` is a
    /// JSON object from foreign taxonomy term ids or codes to life-domain codes.
    async fn import_hsds(
        &self,
        ctx: &Context<'_>,
        documents: String,
        taxonomy_map: Option<String>,
    ) -> ApiResult<HsdsImportReport> {
        let report = super::import_documents(
            crate::error::context_data::<DatabaseConnection>(ctx)?,
            reference(ctx),
            crate::error::context_data::<Arc<SearchIndex>>(ctx)?,
            crate::error::context_data::<Viewer>(ctx)?,
            documents,
            taxonomy_map.as_deref(),
        )
        .await?;
        Ok(report.into())
    }
}
