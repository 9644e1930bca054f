//! Editing the map: who may change what (`permissions`), what is accepted (`validate`), and
//! for each kind of record what an editor may change and how it is tidied, checked and
//! written. Every change goes through the map's one write path (`listings::write`).

pub(crate) mod location;
pub(crate) mod organization;
pub(crate) mod permissions;
mod review;
pub(crate) mod service;
pub(super) mod types;
pub(crate) mod validate;

use entity::enums::AuditAction;
use sea_orm::DatabaseTransaction;

pub use location::{LocationChanges, create_location, delete_location, municipality_of, update_location};
pub use organization::{OrganizationChanges, create_organization, update_organization};
pub use permissions::{may_edit_location, may_edit_organization, may_edit_service, may_import, may_see_confidential};
pub use review::{audit_log, stale_services};
pub use service::{
    AreaPart, LanguageOffer, NewService, ServiceChanges, TranslationText, create_service, set_service_area,
    set_service_capacity, set_service_languages, set_service_status, set_service_translations, update_service,
    verify_service,
};
pub use types::ListingsMutation;

use super::ListingsError;
use super::write::{Change, Draft, MapRecord};
use crate::reference::ReferenceData;

/// An editor's change to the record `id`, which they read at `version` (none: at whatever
/// version it is, as a verification is).
struct Edit<'a, F> {
    id: &'a str,
    version: Option<i32>,
    action: AuditAction,
    apply: F,
}

impl<'a, F> Edit<'a, F> {
    /// An update of the record they read at `version`.
    fn update(id: &'a str, version: i32, apply: F) -> Self {
        Edit {
            id,
            version: Some(version),
            action: AuditAction::Update,
            apply,
        }
    }
}

impl<R, F> Change<R> for Edit<'_, F>
where
    R: MapRecord,
    F: Fn(&mut R) -> Result<(), ListingsError> + Sync,
{
    async fn draft(&self, txn: &DatabaseTransaction, _: &ReferenceData) -> Result<Draft<R>, ListingsError> {
        let before = R::find(txn, self.id)
            .await?
            .ok_or_else(|| ListingsError::NotFound(R::RESOURCE.as_str(), self.id.to_owned()))?;
        let mut after = before.clone();
        (self.apply)(&mut after)?;
        Ok(Draft {
            read_version: self.version,
            action: self.action,
            ..Draft::over(Some(before), after)
        })
    }
}

/// A new record's id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
