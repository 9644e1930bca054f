//! Editing services: who may, against which version, with what validation, and the trail it
//! leaves (audit entries and a change-log row, in the edit's own transaction).

use chrono::Utc;
use entity::enums::{Access, ChangedResource, Cost, Role, ServiceStatus};
use entity::{audit_entry, location, service, service_location};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::Value;

use super::{ListingsError, serving_municipality};
use crate::auth::Viewer;
use crate::reference::ReferenceData;
use crate::search;

const MAX_NAME_CHARS: usize = 200;
const MAX_TEXT_CHARS: usize = 5_000;

/// What `updateService` may change; absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct ServiceChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub cost: Option<Cost>,
    pub access: Option<Access>,
    pub access_description: Option<String>,
    pub age_min: Option<i32>,
    pub age_max: Option<i32>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub url: Option<String>,
}

/// Whether `viewer` may edit `service`: admins all; an organization editor its own
/// organization's; a municipality editor those located in or serving its municipalities.
pub async fn may_edit_service(
    db: &impl ConnectionTrait,
    reference: &ReferenceData,
    viewer: &Viewer,
    service: &service::Model,
) -> Result<bool, ListingsError> {
    let signed_in = viewer.signed_in()?;
    let account = &signed_in.account;
    Ok(match account.role {
        Role::Admin => true,
        Role::OrganizationEditor => account.organization_id.as_deref() == Some(service.organization_id.as_str()),
        Role::Referrer => false,
        Role::MunicipalityEditor => {
            let located_there = service_location::Entity::find()
                .filter(service_location::Column::ServiceId.eq(service.id.as_str()))
                .filter(
                    service_location::Column::LocationId.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(location::Column::Id)
                            .from(location::Entity)
                            .and_where(location::Column::MunicipalityCode.is_in(signed_in.municipalities.clone()))
                            .to_owned(),
                    ),
                )
                .count(db)
                .await?
                > 0;
            if located_there {
                return Ok(true);
            }
            for code in &signed_in.municipalities {
                let serving = service::Entity::find()
                    .filter(service::Column::Id.eq(service.id.as_str()))
                    .filter(serving_municipality(db, reference, code).await?)
                    .count(db)
                    .await?;
                if serving > 0 {
                    return Ok(true);
                }
            }
            false
        }
    })
}

pub async fn update_service(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
    version: i32,
    changes: ServiceChanges,
) -> Result<service::Model, ListingsError> {
    validate(&changes)?;
    edit_service(db, reference, viewer, id, Some(version), "update", |s| {
        let changes = changes.clone();
        if let Some(name) = changes.name {
            s.name_search = entity::search_key::normalize(&name);
            s.name = name.trim().to_owned();
        }
        if let Some(description) = changes.description {
            s.description = description;
        }
        if let Some(cost) = changes.cost {
            s.cost = cost;
        }
        if let Some(access) = changes.access {
            s.access = access;
        }
        if let Some(text) = changes.access_description {
            s.access_description = Some(text).filter(|t| !t.trim().is_empty());
        }
        if let Some(age) = changes.age_min {
            s.age_min = Some(age);
        }
        if let Some(age) = changes.age_max {
            s.age_max = Some(age);
        }
        if let Some(email) = changes.email {
            s.email = Some(email).filter(|e| !e.trim().is_empty());
        }
        if let Some(phone) = changes.phone {
            s.phone = Some(phone).filter(|p| !p.trim().is_empty());
        }
        if let Some(url) = changes.url {
            s.url = Some(url).filter(|u| !u.trim().is_empty());
        }
        match (s.age_min, s.age_max) {
            (Some(min), Some(max)) if min > max => Err(ListingsError::Invalid(
                "ageMin",
                format!("must not be above ageMax ({max}), got {min}"),
            )),
            _ => Ok(()),
        }
    })
    .await
}

pub async fn set_service_status(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
    version: i32,
    status: ServiceStatus,
) -> Result<service::Model, ListingsError> {
    edit_service(db, reference, viewer, id, Some(version), "update", |s| {
        s.status = status;
        Ok(())
    })
    .await
}

/// Confirms the listing is right: sets when and by whom, changes no content.
pub async fn verify_service(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
) -> Result<service::Model, ListingsError> {
    let by = viewer.signed_in()?.account.email.clone();
    edit_service(db, reference, viewer, id, None, "verify", |s| {
        s.last_verified_at = Some(Utc::now());
        s.verified_by = Some(by.clone());
        Ok(())
    })
    .await
}

/// How often an edit is retried when SQLite refused its write because another transaction
/// was writing; the retry then sees the other edit (and its version).
const WRITE_ATTEMPTS: usize = 5;

/// Loads the service, checks the viewer's right and the version, applies `change`, and
/// writes it with its audit entries and change-log row, or writes nothing.
async fn edit_service(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
    expected_version: Option<i32>,
    action: &str,
    change: impl Fn(&mut service::Model) -> Result<(), ListingsError>,
) -> Result<service::Model, ListingsError> {
    let mut attempt = 1;
    loop {
        match try_edit_service(db, reference, viewer, id, expected_version, action, &change).await {
            Err(ListingsError::Database(error)) if attempt < WRITE_ATTEMPTS && is_write_contention(&error) => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt as u64)).await;
            }
            outcome => return outcome,
        }
    }
}

/// SQLite lets one transaction write at a time and refuses, rather than waits for, a reader
/// that wants to become a writer while another writes.
fn is_write_contention(error: &sea_orm::DbErr) -> bool {
    let message = error.to_string();
    message.contains("database is locked") || message.contains("database table is locked")
}

async fn try_edit_service(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
    expected_version: Option<i32>,
    action: &str,
    change: &impl Fn(&mut service::Model) -> Result<(), ListingsError>,
) -> Result<service::Model, ListingsError> {
    let account_id = viewer.signed_in()?.account.id.clone();
    let txn = db.begin().await?;
    let current = service::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ListingsError::NotFound("service", id.to_owned()))?;
    if !may_edit_service(&txn, reference, viewer, &current).await? {
        return Err(ListingsError::Forbidden(
            "you may edit only services of your organization or of your municipalities".to_owned(),
        ));
    }
    if let Some(expected) = expected_version
        && expected != current.version
    {
        return Err(ListingsError::Conflict(current.version));
    }
    let mut updated = current.clone();
    change(&mut updated)?;
    let now = Utc::now();
    updated.version = current.version + 1;
    updated.updated_at = now;
    // Guarded by the version read: of two edits from the same version, one writes.
    let written = service::Entity::update_many()
        .set(service::ActiveModel::from(updated.clone()).reset_all())
        .filter(service::Column::Id.eq(id))
        .filter(service::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if written.rows_affected != 1 {
        return Err(ListingsError::Conflict(current.version + 1));
    }
    let (before, after) = (as_fields(&current), as_fields(&updated));
    for (field, old) in &before {
        let new = after.get(field).cloned().unwrap_or(Value::Null);
        if *old == new || matches!(field.as_str(), "version" | "updated_at" | "name_search") {
            continue;
        }
        audit_entry::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            resource_type: Set("service".to_owned()),
            resource_id: Set(id.to_owned()),
            last_action_type: Set(action.to_owned()),
            last_action_date: Set(now),
            field_name: Set(field.clone()),
            previous_value: Set((!old.is_null()).then(|| old.to_string())),
            replacement_value: Set((!new.is_null()).then(|| new.to_string())),
            updated_by: Set(account_id.clone()),
        }
        .insert(&txn)
        .await?;
    }
    search::record(&txn, ChangedResource::Service, id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// A service's columns as JSON values, to diff for the audit trail.
fn as_fields(service: &service::Model) -> serde_json::Map<String, Value> {
    let mut fields = serde_json::Map::new();
    let mut put = |name: &str, value: Value| {
        fields.insert(name.to_owned(), value);
    };
    put("name", service.name.clone().into());
    put("description", service.description.clone().into());
    put("status", serde_json::to_value(service.status).unwrap_or_default());
    put("cost", serde_json::to_value(service.cost).unwrap_or_default());
    put("access", serde_json::to_value(service.access).unwrap_or_default());
    put("access_description", service.access_description.clone().into());
    put("age_min", service.age_min.into());
    put("age_max", service.age_max.into());
    put("email", service.email.clone().into());
    put("phone", service.phone.clone().into());
    put("url", service.url.clone().into());
    put(
        "last_verified_at",
        service.last_verified_at.map(|at| at.to_rfc3339()).into(),
    );
    put("verified_by", service.verified_by.clone().into());
    fields
}

fn validate(changes: &ServiceChanges) -> Result<(), ListingsError> {
    let invalid = |field: &'static str, reason: String| Err(ListingsError::Invalid(field, reason));
    if let Some(name) = &changes.name {
        if name.trim().is_empty() {
            return invalid("name", "must not be empty".to_owned());
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return invalid("name", format!("is longer than {MAX_NAME_CHARS} characters"));
        }
    }
    if let Some(description) = &changes.description
        && description.chars().count() > MAX_TEXT_CHARS
    {
        return invalid("description", format!("is longer than {MAX_TEXT_CHARS} characters"));
    }
    if let Some(text) = &changes.access_description
        && text.chars().count() > MAX_TEXT_CHARS
    {
        return invalid(
            "accessDescription",
            format!("is longer than {MAX_TEXT_CHARS} characters"),
        );
    }
    for (field, age) in [("ageMin", changes.age_min), ("ageMax", changes.age_max)] {
        if let Some(age) = age
            && !(0..=130).contains(&age)
        {
            return invalid(field, format!("must be between 0 and 130, got {age}"));
        }
    }
    if let (Some(min), Some(max)) = (changes.age_min, changes.age_max)
        && min > max
    {
        return invalid("ageMin", format!("must not be above ageMax ({max}), got {min}"));
    }
    if let Some(email) = changes.email.as_deref().filter(|e| !e.trim().is_empty())
        && !crate::auth::looks_like_email(email)
    {
        return invalid("email", format!("`{email}` is not an email address"));
    }
    if let Some(phone) = changes.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone.chars().all(|c| c.is_ascii_digit() || " +()-./".contains(c));
        if !allowed || !(6..=20).contains(&digits) {
            return invalid(
                "phone",
                format!("`{phone}` is not a phone number such as +32 53 00 00 10"),
            );
        }
    }
    if let Some(url) = changes.url.as_deref().filter(|u| !u.trim().is_empty())
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return invalid("url", format!("`{url}` must start with https:// or http://"));
    }
    Ok(())
}

/// The audit trail of a service, newest first, for those who may edit it.
pub async fn audit_log(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    service_id: &str,
) -> Result<Vec<audit_entry::Model>, ListingsError> {
    let service = service::Entity::find_by_id(service_id)
        .one(db)
        .await?
        .ok_or_else(|| ListingsError::NotFound("service", service_id.to_owned()))?;
    if !may_edit_service(db, reference, viewer, &service).await? {
        return Err(ListingsError::Forbidden(
            "the audit log of a service is for its editors and admins".to_owned(),
        ));
    }
    Ok(audit_entry::Entity::find()
        .filter(audit_entry::Column::ResourceId.eq(service_id))
        .order_by_desc(audit_entry::Column::LastActionDate)
        .order_by_asc(audit_entry::Column::FieldName)
        .all(db)
        .await?)
}

/// The services located in or serving a municipality that are not verified for a year (or
/// never), oldest first: what its editors should review. For those editors and admins.
pub async fn stale_services(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    municipality_code: &str,
) -> Result<Vec<service::Model>, ListingsError> {
    let account = &viewer.signed_in()?.account;
    let responsible = account.role == Role::Admin
        || (account.role == Role::MunicipalityEditor
            && viewer
                .signed_in()?
                .municipalities
                .iter()
                .any(|m| m == municipality_code));
    if !responsible {
        return Err(ListingsError::Forbidden(format!(
            "stale listings of {municipality_code} are for its municipality editors and admins"
        )));
    }
    let located_there = sea_orm::sea_query::Query::select()
        .column(service_location::Column::ServiceId)
        .from(service_location::Entity)
        .and_where(
            service_location::Column::LocationId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(location::Column::Id)
                    .from(location::Entity)
                    .and_where(location::Column::MunicipalityCode.eq(municipality_code))
                    .to_owned(),
            ),
        )
        .to_owned();
    let year_ago = Utc::now() - chrono::Duration::days(super::STALE_AFTER_DAYS);
    let mut stale: Vec<service::Model> = service::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(service::Column::Id.in_subquery(located_there))
                .add(serving_municipality(db, reference, municipality_code).await?),
        )
        .filter(service::Column::Status.ne(ServiceStatus::Inactive))
        .filter(
            sea_orm::Condition::any()
                .add(service::Column::LastVerifiedAt.is_null())
                .add(service::Column::LastVerifiedAt.lt(year_ago)),
        )
        .all(db)
        .await?;
    // Never verified first, then the oldest verification; by name within a date.
    stale.sort_by(|a, b| {
        a.last_verified_at
            .cmp(&b.last_verified_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(stale)
}
