//! Organizations: created by admins and municipality editors (with a first location in one
//! of their municipalities), updated by those who may edit them.

use chrono::Utc;
use entity::enums::{AuditResource, ChangedResource, OrganizationKind, Role};
use entity::{organization, search_key};
use sea_orm::DatabaseTransaction;
use serde_json::json;

use super::location::{LocationChanges, NewLocation};
use super::validate::{self, MAX_TEXT_CHARS};
use super::{Edit, may_edit_organization, new_id};
use crate::auth::Viewer;
use crate::listings::write::{Change, Draft, Fields, MapRecord, MapWriter, one_row_record};
use crate::listings::{Field, ListingsError};
use crate::reference::ReferenceData;

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
    writer: &MapWriter<'_>,
    fields: OrganizationChanges,
    first_location: Option<LocationChanges>,
) -> Result<organization::Model, ListingsError> {
    if writer.author().account()?.account.role == Role::MunicipalityEditor && first_location.is_none() {
        return validate::invalid(
            Field::Location,
            "is needed: a municipality editor creates an organization with its first location in one of its municipalities",
        );
    }
    let new = NewOrganization { fields, first_location };
    Ok(writer.write(&new).await?.record)
}

pub async fn update_organization(
    writer: &MapWriter<'_>,
    id: &str,
    version: i32,
    changes: OrganizationChanges,
) -> Result<organization::Model, ListingsError> {
    let edit = Edit::update(id, version, |organization: &mut organization::Model| {
        let changes = changes.clone();
        organization.name = changes.name.unwrap_or(organization.name.clone());
        organization.kind = changes.kind.unwrap_or(organization.kind);
        for (column, change) in [
            (&mut organization.description, changes.description),
            (&mut organization.website, changes.website),
            (&mut organization.email, changes.email),
            (&mut organization.phone, changes.phone),
            (&mut organization.kbo_number, changes.kbo_number),
        ] {
            if let Some(text) = change {
                *column = Some(text);
            }
        }
        Ok(())
    });
    Ok(writer.write(&edit).await?.record)
}

/// A new organization, and the location it starts with.
struct NewOrganization {
    fields: OrganizationChanges,
    first_location: Option<LocationChanges>,
}

impl Change<organization::Model> for NewOrganization {
    async fn draft(
        &self,
        _: &DatabaseTransaction,
        _: &ReferenceData,
    ) -> Result<Draft<organization::Model>, ListingsError> {
        let fields = &self.fields;
        let now = Utc::now();
        Ok(Draft::over(
            None,
            organization::Model {
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
            },
        ))
    }

    async fn also(
        &self,
        writer: &MapWriter<'_>,
        txn: &DatabaseTransaction,
        organization: &organization::Model,
    ) -> Result<(), ListingsError> {
        if let Some(fields) = &self.first_location {
            let location = NewLocation {
                organization_id: &organization.id,
                fields,
            };
            writer.write_in(txn, &location).await?;
        }
        Ok(())
    }
}

impl MapRecord for organization::Model {
    const RESOURCE: AuditResource = AuditResource::Organization;
    const CHANGED: ChangedResource = ChangedResource::Organization;

    one_row_record!(organization);

    fn organization_id(&self) -> &str {
        &self.id
    }

    fn tidy(&mut self) {
        self.name = validate::tidy_name(&self.name);
        self.name_search = search_key::normalize(&self.name);
        for text in [
            &mut self.description,
            &mut self.website,
            &mut self.email,
            &mut self.phone,
            &mut self.kbo_number,
        ] {
            *text = text.take().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        }
    }

    async fn check(&self, _: &DatabaseTransaction, _: &ReferenceData) -> Result<(), ListingsError> {
        validate::name(Field::Name, &self.name)?;
        validate::optional_text(Field::Description, self.description.as_deref(), MAX_TEXT_CHARS)?;
        validate::url(Field::Website, self.website.as_deref())?;
        validate::email(Field::Email, self.email.as_deref())?;
        validate::phone(Field::Phone, self.phone.as_deref())?;
        validate::kbo_number(self.kbo_number.as_deref())
    }

    async fn editable_by(
        &self,
        txn: &DatabaseTransaction,
        reference: &ReferenceData,
        viewer: &Viewer,
    ) -> Result<bool, ListingsError> {
        may_edit_organization(txn, reference, viewer, &self.id).await
    }

    fn fields(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert("name".into(), self.name.clone().into());
        fields.insert("kind".into(), json!(self.kind));
        fields.insert("description".into(), self.description.clone().into());
        fields.insert("website".into(), self.website.clone().into());
        fields.insert("email".into(), self.email.clone().into());
        fields.insert("phone".into(), self.phone.clone().into());
        fields.insert("kbo_number".into(), self.kbo_number.clone().into());
        fields
    }
}
