//! Locations: where an organization receives people. The postal code decides the
//! municipality (or narrows it down), and coordinates must lie in that municipality's part of
//! Belgium or the Netherlands.

use chrono::Utc;
use entity::enums::{AuditAction, AuditResource, ChangedResource, Role};
use entity::{location, organization, service, service_area, service_location};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};

use super::validate::{self, MAX_TEXT_CHARS, invalid};
use super::{Fields, may_edit_location, new_id, record_audit, with_write_retry, write_if_still};
use crate::auth::Viewer;
use crate::listings::{Field, ListingsError};
use crate::reference::ReferenceData;
use crate::search;

/// A location's fields; on update, absent fields stay as they are and an empty string clears
/// an optional text.
#[derive(Clone, Debug, Default)]
pub struct LocationChanges {
    pub name: Option<String>,
    /// Street and number.
    pub address: Option<String>,
    pub postal_code: Option<String>,
    /// Needed only when the postal code spans several municipalities.
    pub municipality_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accessibility: Option<String>,
    pub opening_hours: Option<String>,
    pub confidential: Option<bool>,
}

pub async fn create_location(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    organization_id: &str,
    fields: LocationChanges,
) -> Result<location::Model, ListingsError> {
    let signed_in = viewer.signed_in()?;
    let postal_code = fields.postal_code.as_deref().unwrap_or_default();
    let municipality = municipality_of(reference, postal_code, fields.municipality_code.as_deref())?;
    let allowed = match signed_in.account.role {
        Role::Admin => true,
        Role::OrganizationEditor => signed_in.account.organization_id.as_deref() == Some(organization_id),
        Role::MunicipalityEditor => signed_in.municipalities.contains(&municipality),
        Role::Referrer => false,
    };
    if !allowed {
        return Err(ListingsError::Forbidden(
            "you may add locations only to your organization, or in your municipalities".to_owned(),
        ));
    }
    with_write_retry(|| async {
        let txn = crate::db::begin_write(db).await?;
        if organization::Entity::find_by_id(organization_id)
            .one(&txn)
            .await?
            .is_none()
        {
            return Err(ListingsError::NotFound("organization", organization_id.to_owned()));
        }
        let created = insert_location(&txn, reference, &signed_in.account.id, organization_id, fields.clone()).await?;
        txn.commit().await?;
        Ok(created)
    })
    .await
}

/// Writes a new location of an organization, with its audit entries and change-log row, in
/// the caller's transaction.
pub(super) async fn insert_location(
    db: &impl ConnectionTrait,
    reference: &ReferenceData,
    by: &str,
    organization_id: &str,
    fields: LocationChanges,
) -> Result<location::Model, ListingsError> {
    let now = Utc::now();
    let postal_code = fields.postal_code.clone().unwrap_or_default();
    let mut created = location::Model {
        id: new_id(),
        organization_id: organization_id.to_owned(),
        name: fields.name.unwrap_or_default(),
        address: fields.address.unwrap_or_default(),
        municipality_code: municipality_of(reference, &postal_code, fields.municipality_code.as_deref())?,
        postal_code,
        latitude: fields.latitude,
        longitude: fields.longitude,
        accessibility: fields.accessibility,
        opening_hours: fields.opening_hours,
        confidential: fields.confidential.unwrap_or(false),
        external_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    tidy(&mut created);
    check(reference, &created)?;
    location::Entity::insert(created.clone().into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    record_audit(
        db,
        (AuditResource::Location, &created.id),
        AuditAction::Create,
        by,
        now,
        &Fields::new(),
        &fields_of(&created),
    )
    .await?;
    search::record(db, ChangedResource::Location, &created.id).await?;
    Ok(created)
}

pub async fn update_location(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
    version: i32,
    changes: LocationChanges,
) -> Result<location::Model, ListingsError> {
    let account_id = viewer.signed_in()?.account.id.clone();
    with_write_retry(|| async {
        let txn = crate::db::begin_write(db).await?;
        let current = find(&txn, viewer, id, version).await?;
        let changes = changes.clone();
        let mut updated = current.clone();
        updated.name = changes.name.unwrap_or(updated.name);
        updated.address = changes.address.unwrap_or(updated.address);
        if changes.postal_code.is_some() || changes.municipality_code.is_some() {
            updated.postal_code = changes.postal_code.unwrap_or(updated.postal_code);
            updated.municipality_code =
                municipality_of(reference, &updated.postal_code, changes.municipality_code.as_deref())?;
        }
        if changes.latitude.is_some() || changes.longitude.is_some() {
            (updated.latitude, updated.longitude) = (changes.latitude, changes.longitude);
        }
        for (column, change) in [
            (&mut updated.accessibility, changes.accessibility),
            (&mut updated.opening_hours, changes.opening_hours),
        ] {
            if let Some(text) = change {
                *column = Some(text);
            }
        }
        updated.confidential = changes.confidential.unwrap_or(updated.confidential);
        tidy(&mut updated);
        check(reference, &updated)?;
        if !may_edit_location(viewer, &updated)? {
            return Err(ListingsError::Forbidden(
                "you may not move a location out of your municipalities".to_owned(),
            ));
        }
        // Nothing changes: nothing is written, and the version stays for other editors.
        let mut stored = current.clone();
        tidy(&mut stored);
        if updated == stored {
            return Ok(current);
        }
        let now = Utc::now();
        updated.version = current.version + 1;
        updated.updated_at = now;
        write_if_still(
            &txn,
            updated.clone().into_active_model(),
            (location::Column::Id, id),
            (location::Column::Version, current.version),
        )
        .await?;
        record_audit(
            &txn,
            (AuditResource::Location, id),
            AuditAction::Update,
            &account_id,
            now,
            &fields_of(&current),
            &fields_of(&updated),
        )
        .await?;
        search::record(&txn, ChangedResource::Location, id).await?;
        txn.commit().await?;
        Ok(updated)
    })
    .await
}

/// Removes a location and its links to services. Refused while it is the centre of a
/// service's radius area: that area would lose its meaning.
pub async fn delete_location(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: &str,
    version: i32,
) -> Result<location::Model, ListingsError> {
    let account_id = viewer.signed_in()?.account.id.clone();
    with_write_retry(|| async {
        let txn = crate::db::begin_write(db).await?;
        let current = find(&txn, viewer, id, version).await?;
        let centre_of: Vec<String> = service::Entity::find()
            .select_only()
            .column(service::Column::Name)
            .filter(
                service::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(service_area::Column::ServiceId)
                        .from(service_area::Entity)
                        .and_where(service_area::Column::LocationId.eq(id))
                        .to_owned(),
                ),
            )
            .into_tuple()
            .all(&txn)
            .await?;
        if !centre_of.is_empty() {
            return invalid(
                Field::Id,
                format!(
                    "is the centre of the radius area of {}; change that area with setServiceArea first",
                    centre_of.join(", ")
                ),
            );
        }
        let services: Vec<String> = service_location::Entity::find()
            .select_only()
            .column(service_location::Column::ServiceId)
            .filter(service_location::Column::LocationId.eq(id))
            .into_tuple()
            .all(&txn)
            .await?;
        service_location::Entity::delete_many()
            .filter(service_location::Column::LocationId.eq(id))
            .exec(&txn)
            .await?;
        location::Entity::delete_by_id(id).exec(&txn).await?;
        record_audit(
            &txn,
            (AuditResource::Location, id),
            AuditAction::Delete,
            &account_id,
            Utc::now(),
            &fields_of(&current),
            &Fields::new(),
        )
        .await?;
        // The links are gone, so search learns which services changed from the services.
        for service_id in &services {
            search::record(&txn, ChangedResource::Service, service_id).await?;
        }
        txn.commit().await?;
        Ok(current)
    })
    .await
}

/// The location, when the viewer may edit it and it is still at `version`.
async fn find(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: &str,
    version: i32,
) -> Result<location::Model, ListingsError> {
    let current = location::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ListingsError::NotFound("location", id.to_owned()))?;
    if !may_edit_location(viewer, &current)? {
        return Err(ListingsError::Forbidden(
            "you may edit only locations of your organization or in your municipalities".to_owned(),
        ));
    }
    if version != current.version {
        return Err(ListingsError::Conflict(current.version));
    }
    Ok(current)
}

/// The municipality of a location: the one given, which must lie in the postal code, or the
/// postal code's only municipality.
pub fn municipality_of(
    reference: &ReferenceData,
    postal_code: &str,
    municipality_code: Option<&str>,
) -> Result<String, ListingsError> {
    let postal_code = postal_code.trim();
    if reference.postal_code(postal_code).is_none() {
        return invalid(
            Field::PostalCode,
            format!("`{postal_code}` is not a known postal code, such as 9300"),
        );
    }
    let candidates = reference.municipalities_of_postal_code(postal_code);
    let name = |code: &str| {
        reference
            .municipality(code)
            .map_or_else(|| code.to_owned(), |m| format!("{} ({code})", m.name_nl))
    };
    match municipality_code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => {
            reference
                .require_municipality(code)
                .map_err(|e| ListingsError::Invalid(Field::MunicipalityCode, format!("is an {e}")))?;
            if !candidates.iter().any(|c| c == code) {
                let names: Vec<String> = candidates.iter().map(|c| name(c)).collect();
                return invalid(
                    Field::MunicipalityCode,
                    format!(
                        "{} does not include postal code {postal_code}, which lies in {}",
                        name(code),
                        names.join(", ")
                    ),
                );
            }
            Ok(code.to_owned())
        }
        None => match candidates {
            [only] => Ok(only.clone()),
            several => {
                let names: Vec<String> = several.iter().map(|c| name(c)).collect();
                invalid(
                    Field::MunicipalityCode,
                    format!("is needed: postal code {postal_code} lies in {}", names.join(", ")),
                )
            }
        },
    }
}

pub(crate) fn tidy(location: &mut location::Model) {
    location.name = validate::tidy_name(&location.name);
    location.address = location.address.trim().to_owned();
    location.postal_code = location.postal_code.trim().to_owned();
    for text in [&mut location.accessibility, &mut location.opening_hours] {
        *text = text.take().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    }
}

fn check(reference: &ReferenceData, location: &location::Model) -> Result<(), ListingsError> {
    validate::name(Field::Name, &location.name)?;
    validate::name(Field::Address, &location.address)?;
    validate::optional_text(Field::Accessibility, location.accessibility.as_deref(), MAX_TEXT_CHARS)?;
    validate::optional_text(Field::OpeningHours, location.opening_hours.as_deref(), MAX_TEXT_CHARS)?;
    validate::coordinates(
        reference,
        &location.municipality_code,
        location.latitude,
        location.longitude,
    )
}

pub(crate) fn fields_of(location: &location::Model) -> Fields {
    let mut fields = Fields::new();
    fields.insert("name".into(), location.name.clone().into());
    fields.insert("address".into(), location.address.clone().into());
    fields.insert("postal_code".into(), location.postal_code.clone().into());
    fields.insert("municipality_code".into(), location.municipality_code.clone().into());
    fields.insert("latitude".into(), location.latitude.into());
    fields.insert("longitude".into(), location.longitude.into());
    fields.insert("accessibility".into(), location.accessibility.clone().into());
    fields.insert("opening_hours".into(), location.opening_hours.clone().into());
    fields.insert("confidential".into(), location.confidential.into());
    fields.insert("organization_id".into(), location.organization_id.clone().into());
    fields
}
