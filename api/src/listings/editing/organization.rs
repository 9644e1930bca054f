//! Organizations: created by admins and municipality editors (with a first location in one
//! of their municipalities), updated by those who may edit them.

use chrono::Utc;
use entity::enums::{AuditAction, AuditResource, ChangedResource, OrganizationKind, Role};
use entity::{organization, search_key};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel};
use serde_json::json;

use super::location::{LocationChanges, insert_location, municipality_of};
use super::validate::{self, MAX_TEXT_CHARS};
use super::{Fields, may_edit_organization, new_id, record_audit, with_write_retry, write_if_still};
use crate::auth::Viewer;
use crate::listings::{Field, ListingsError};
use crate::reference::ReferenceData;
use crate::search;

/// An organization's fields; on update, absent fields stay as they are and an empty string
/// clears an optional text.
#[derive(Clone, Debug, Default)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub kind: Option<OrganizationKind>,
    pub description: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub kbo_number: Option<String>,
}

/// Creates an organization, with its first location when given. A municipality editor must
/// give one in its municipalities: that is what makes the organization theirs to edit.
pub async fn create_organization(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    fields: OrganizationChanges,
    first_location: Option<LocationChanges>,
) -> Result<organization::Model, ListingsError> {
    let signed_in = viewer.signed_in()?;
    match signed_in.account.role {
        Role::Admin => {}
        Role::MunicipalityEditor => {
            let Some(location) = &first_location else {
                return validate::invalid(
                    Field::Location,
                    "is needed: a municipality editor creates an organization with its first location in one of its municipalities",
                );
            };
            let municipality = municipality_of(
                reference,
                location.postal_code.as_deref().unwrap_or_default(),
                location.municipality_code.as_deref(),
            )?;
            if !signed_in.municipalities.contains(&municipality) {
                return Err(ListingsError::Forbidden(
                    "a municipality editor creates organizations with a location in its own municipalities".to_owned(),
                ));
            }
        }
        Role::OrganizationEditor | Role::Referrer => {
            return Err(ListingsError::Forbidden(
                "organizations are created by admins and municipality editors".to_owned(),
            ));
        }
    }
    let now = Utc::now();
    let mut created = organization::Model {
        id: new_id(),
        name: fields.name.clone().unwrap_or_default(),
        kind: fields.kind.unwrap_or(OrganizationKind::Ngo),
        description: fields.description.clone(),
        website: fields.website.clone(),
        email: fields.email.clone(),
        phone: fields.phone.clone(),
        kbo_number: fields.kbo_number.clone(),
        name_search: String::new(),
        external_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    tidy(&mut created);
    check(&created)?;
    with_write_retry(|| async {
        let txn = crate::db::begin_write(db).await?;
        organization::Entity::insert(created.clone().into_active_model().reset_all())
            .exec_without_returning(&txn)
            .await?;
        record_audit(
            &txn,
            (AuditResource::Organization, &created.id),
            AuditAction::Create,
            &signed_in.account.id,
            now,
            &Fields::new(),
            &fields_of(&created),
        )
        .await?;
        if let Some(location) = &first_location {
            insert_location(&txn, reference, &signed_in.account.id, &created.id, location.clone()).await?;
        }
        search::record(&txn, ChangedResource::Organization, &created.id).await?;
        txn.commit().await?;
        Ok(created.clone())
    })
    .await
}

pub async fn update_organization(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
    version: i32,
    changes: OrganizationChanges,
) -> Result<organization::Model, ListingsError> {
    let account_id = viewer.signed_in()?.account.id.clone();
    with_write_retry(|| async {
        let txn = crate::db::begin_write(db).await?;
        let current = organization::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| ListingsError::NotFound("organization", id.to_owned()))?;
        if !may_edit_organization(&txn, reference, viewer, id).await? {
            return Err(ListingsError::Forbidden(
                "you may edit only your own organization or organizations in your municipalities".to_owned(),
            ));
        }
        if version != current.version {
            return Err(ListingsError::Conflict(current.version));
        }
        let changes = changes.clone();
        let mut updated = current.clone();
        updated.name = changes.name.unwrap_or(updated.name);
        updated.kind = changes.kind.unwrap_or(updated.kind);
        for (column, change) in [
            (&mut updated.description, changes.description),
            (&mut updated.website, changes.website),
            (&mut updated.email, changes.email),
            (&mut updated.phone, changes.phone),
            (&mut updated.kbo_number, changes.kbo_number),
        ] {
            if let Some(text) = change {
                *column = Some(text);
            }
        }
        tidy(&mut updated);
        check(&updated)?;
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
            (organization::Column::Id, id),
            (organization::Column::Version, current.version),
        )
        .await?;
        record_audit(
            &txn,
            (AuditResource::Organization, id),
            AuditAction::Update,
            &account_id,
            now,
            &fields_of(&current),
            &fields_of(&updated),
        )
        .await?;
        search::record(&txn, ChangedResource::Organization, id).await?;
        txn.commit().await?;
        Ok(updated)
    })
    .await
}

pub(crate) fn tidy(organization: &mut organization::Model) {
    organization.name = validate::tidy_name(&organization.name);
    organization.name_search = search_key::normalize(&organization.name);
    for text in [
        &mut organization.description,
        &mut organization.website,
        &mut organization.email,
        &mut organization.phone,
        &mut organization.kbo_number,
    ] {
        *text = text.take().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    }
}

pub(crate) fn check(organization: &organization::Model) -> Result<(), ListingsError> {
    validate::name(Field::Name, &organization.name)?;
    validate::optional_text(Field::Description, organization.description.as_deref(), MAX_TEXT_CHARS)?;
    validate::url(Field::Website, organization.website.as_deref())?;
    validate::email(Field::Email, organization.email.as_deref())?;
    validate::phone(Field::Phone, organization.phone.as_deref())?;
    validate::kbo_number(organization.kbo_number.as_deref())
}

pub(crate) fn fields_of(organization: &organization::Model) -> Fields {
    let mut fields = Fields::new();
    fields.insert("name".into(), organization.name.clone().into());
    fields.insert("kind".into(), json!(organization.kind));
    fields.insert("description".into(), organization.description.clone().into());
    fields.insert("website".into(), organization.website.clone().into());
    fields.insert("email".into(), organization.email.clone().into());
    fields.insert("phone".into(), organization.phone.clone().into());
    fields.insert("kbo_number".into(), organization.kbo_number.clone().into());
    fields
}
