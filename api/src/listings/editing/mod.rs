//! Editing the map: who may change what (`permissions`), what is accepted (`validate`), and
//! for each kind of record its create/update functions. Every write runs in one transaction
//! that checks the version it was based on and leaves an audit entry per changed field and a
//! change-log row for search, or writes nothing.

pub(crate) mod location;
pub(crate) mod organization;
mod permissions;
mod review;
pub(crate) mod service;
pub(super) mod types;
pub(crate) mod validate;

use std::future::Future;

use chrono::{DateTime, Utc};
use entity::audit_entry;
use entity::enums::{AuditAction, AuditResource};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use serde_json::{Map, Value};

pub use location::{LocationChanges, create_location, delete_location, municipality_of, update_location};
pub use organization::{OrganizationChanges, create_organization, update_organization};
pub use permissions::{may_edit_location, may_edit_organization, may_edit_service, may_see_confidential};
pub use review::{audit_log, stale_services};
pub use service::{
    AreaPart, LanguageOffer, NewService, ServiceChanges, TranslationText, create_service, set_service_area,
    set_service_capacity, set_service_languages, set_service_status, set_service_translations, update_service,
    verify_service,
};
pub use types::ListingsMutation;

use super::ListingsError;

/// How often a write is retried when SQLite refused it because another transaction was
/// writing; the retry then sees the other write (and its version).
const WRITE_ATTEMPTS: u64 = 5;

/// Runs `attempt` (one transaction) again while SQLite reports write contention.
pub(crate) async fn with_write_retry<T, F, Fut>(mut attempt: F) -> Result<T, ListingsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ListingsError>>,
{
    let mut tried = 1;
    loop {
        match attempt().await {
            Err(ListingsError::Database(error)) if tried < WRITE_ATTEMPTS && is_write_contention(&error) => {
                tried += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 * tried)).await;
            }
            outcome => return outcome,
        }
    }
}

/// SQLite lets one transaction write at a time and refuses, rather than waits for, a reader
/// that wants to become a writer while another writes.
fn is_write_contention(error: &DbErr) -> bool {
    let message = error.to_string();
    message.contains("database is locked") || message.contains("database table is locked")
}

/// A record's audited fields as JSON values, by name.
pub(crate) type Fields = Map<String, Value>;

/// One audit entry (HSDS `metadata`) per field whose value differs between `before` and
/// `after`; a created record has an empty `before`, a deleted one an empty `after`.
pub(crate) async fn record_audit(
    db: &impl ConnectionTrait,
    (resource_type, resource_id): (AuditResource, &str),
    action: AuditAction,
    by: &str,
    at: DateTime<Utc>,
    before: &Fields,
    after: &Fields,
) -> Result<(), DbErr> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let old = before.get(name).cloned().unwrap_or(Value::Null);
        let new = after.get(name).cloned().unwrap_or(Value::Null);
        if old == new {
            continue;
        }
        audit_entry::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            resource_type: Set(resource_type),
            resource_id: Set(resource_id.to_owned()),
            last_action_type: Set(action),
            last_action_date: Set(at),
            field_name: Set(name.clone()),
            previous_value: Set((!old.is_null()).then(|| old.to_string())),
            replacement_value: Set((!new.is_null()).then(|| new.to_string())),
            updated_by: Set(by.to_owned()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Writes `changed` over the row `id` only if that row is still at `version`: of two edits
/// from the same version, one writes and the other gets `CONFLICT`.
pub(crate) async fn write_if_still<A>(
    db: &impl ConnectionTrait,
    changed: A,
    (id_column, id): (<A::Entity as EntityTrait>::Column, &str),
    (version_column, version): (<A::Entity as EntityTrait>::Column, i32),
) -> Result<(), ListingsError>
where
    A: ActiveModelTrait + Send,
{
    let written = <A::Entity as EntityTrait>::update_many()
        .set(changed.reset_all())
        .filter(id_column.eq(id))
        .filter(version_column.eq(version))
        .exec(db)
        .await?;
    if written.rows_affected != 1 {
        return Err(ListingsError::Conflict(version + 1));
    }
    Ok(())
}

/// A new record's id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
