//! Locations: where an organization receives people. The postal code decides the
//! municipality (or narrows it down), and coordinates must lie in that municipality's part of
//! Belgium or the Netherlands.

use chrono::Utc;
use entity::enums::{AuditResource, ChangedResource};
use entity::{location, organization, service, service_area, service_location};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect};

use super::validate::{self, MAX_TEXT_CHARS, invalid};
use super::{Edit, may_edit_location, new_id};
use crate::auth::Viewer;
use crate::listings::write::{Change, Draft, Fields, MapRecord, MapWriter, Removable, one_row_record};
use crate::listings::{Field, ListingsError};
use crate::reference::ReferenceData;

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
    writer: &MapWriter<'_>,
    organization_id: &str,
    fields: LocationChanges,
) -> Result<location::Model, ListingsError> {
    let new = NewLocation {
        organization_id,
        fields: &fields,
    };
    Ok(writer.write(&new).await?.record)
}

pub async fn update_location(
    writer: &MapWriter<'_>,
    id: &str,
    version: i32,
    changes: LocationChanges,
) -> Result<location::Model, ListingsError> {
    let reference = writer.reference();
    let edit = Edit::update(id, version, |location: &mut location::Model| {
        let changes = changes.clone();
        location.name = changes.name.unwrap_or(location.name.clone());
        location.address = changes.address.unwrap_or(location.address.clone());
        if changes.postal_code.is_some() || changes.municipality_code.is_some() {
            location.postal_code = changes.postal_code.unwrap_or(location.postal_code.clone());
            location.municipality_code =
                municipality_of(reference, &location.postal_code, changes.municipality_code.as_deref())?;
        }
        if changes.latitude.is_some() || changes.longitude.is_some() {
            (location.latitude, location.longitude) = (changes.latitude, changes.longitude);
        }
        for (column, change) in [
            (&mut location.accessibility, changes.accessibility),
            (&mut location.opening_hours, changes.opening_hours),
        ] {
            if let Some(text) = change {
                *column = Some(text);
            }
        }
        location.confidential = changes.confidential.unwrap_or(location.confidential);
        Ok(())
    });
    Ok(writer.write(&edit).await?.record)
}

/// Removes a location and its links to services. Refused while it is the centre of a
/// service's radius area: that area would lose its meaning.
pub async fn delete_location(writer: &MapWriter<'_>, id: &str, version: i32) -> Result<location::Model, ListingsError> {
    writer.remove(id, version).await
}

/// A new location of an organization.
pub(super) struct NewLocation<'a> {
    pub(super) organization_id: &'a str,
    pub(super) fields: &'a LocationChanges,
}

impl Change<location::Model> for NewLocation<'_> {
    async fn draft(
        &self,
        txn: &DatabaseTransaction,
        reference: &ReferenceData,
    ) -> Result<Draft<location::Model>, ListingsError> {
        if organization::Entity::find_by_id(self.organization_id)
            .one(txn)
            .await?
            .is_none()
        {
            return Err(ListingsError::NotFound("organization", self.organization_id.to_owned()));
        }
        let fields = self.fields.clone();
        let now = Utc::now();
        let postal_code = fields.postal_code.unwrap_or_default();
        Ok(Draft::over(
            None,
            location::Model {
                id: new_id(),
                organization_id: self.organization_id.to_owned(),
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
            },
        ))
    }
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

impl MapRecord for location::Model {
    const RESOURCE: AuditResource = AuditResource::Location;
    const CHANGED: ChangedResource = ChangedResource::Location;

    one_row_record!(location);

    fn organization_id(&self) -> &str {
        &self.organization_id
    }

    fn tidy(&mut self) {
        self.name = validate::tidy_name(&self.name);
        self.address = self.address.trim().to_owned();
        self.postal_code = self.postal_code.trim().to_owned();
        for text in [&mut self.accessibility, &mut self.opening_hours] {
            *text = text.take().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        }
    }

    async fn check(&self, _: &DatabaseTransaction, reference: &ReferenceData) -> Result<(), ListingsError> {
        validate::name(Field::Name, &self.name)?;
        // A confidential location from another directory may come without its address: an
        // export leaves it out, as it never leaves its server.
        if !(self.confidential && self.external_id.is_some() && self.address.is_empty()) {
            validate::name(Field::Address, &self.address)?;
        }
        validate::optional_text(Field::Accessibility, self.accessibility.as_deref(), MAX_TEXT_CHARS)?;
        validate::optional_text(Field::OpeningHours, self.opening_hours.as_deref(), MAX_TEXT_CHARS)?;
        validate::coordinates(reference, &self.municipality_code, self.latitude, self.longitude)
    }

    async fn editable_by(
        &self,
        _: &DatabaseTransaction,
        _: &ReferenceData,
        viewer: &Viewer,
    ) -> Result<bool, ListingsError> {
        may_edit_location(viewer, self)
    }

    fn fields(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert("name".into(), self.name.clone().into());
        fields.insert("address".into(), self.address.clone().into());
        fields.insert("postal_code".into(), self.postal_code.clone().into());
        fields.insert("municipality_code".into(), self.municipality_code.clone().into());
        fields.insert("latitude".into(), self.latitude.into());
        fields.insert("longitude".into(), self.longitude.into());
        fields.insert("accessibility".into(), self.accessibility.clone().into());
        fields.insert("opening_hours".into(), self.opening_hours.clone().into());
        fields.insert("confidential".into(), self.confidential.into());
        fields.insert("organization_id".into(), self.organization_id.clone().into());
        fields
    }
}

impl Removable for location::Model {
    async fn remove(&self, txn: &DatabaseTransaction) -> Result<Vec<(ChangedResource, String)>, ListingsError> {
        let id = self.id.as_str();
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
            .all(txn)
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
            .all(txn)
            .await?;
        service_location::Entity::delete_many()
            .filter(service_location::Column::LocationId.eq(id))
            .exec(txn)
            .await?;
        let deleted = location::Entity::delete_many()
            .filter(location::Column::Id.eq(id))
            .filter(location::Column::Version.eq(self.version))
            .exec(txn)
            .await?;
        if deleted.rows_affected != 1 {
            return Err(ListingsError::Conflict(self.version + 1));
        }
        // The links are gone, so search learns which services changed from the services.
        Ok(services
            .into_iter()
            .map(|service_id| (ChangedResource::Service, service_id))
            .collect())
    }
}
