//! The map's mutations. Every update takes the `version` the editor read: a stale one is
//! `CONFLICT` with the current version, and nothing is written.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object};
use sea_orm::DatabaseConnection;

use super::{
    AreaPart, LanguageOffer, LocationChanges, NewService, OrganizationChanges, ServiceChanges, TranslationText,
};
use crate::auth::Viewer;
use crate::error::ApiResult;
use crate::listings::types::{
    Access, Cost, InterpreterKind, LanguageMode, OrganizationKind, ServiceStatus, TargetGroup,
};
use crate::listings::{Author, Location, MapWriter, Organization, Searchable, Service};
use crate::reference::Lang;
use crate::reference::types::reference;
use crate::relay::{self, NodeKind};
use crate::search::SearchIndex;

/// The viewer's writer: the mutation answers once this server's search shows its change.
fn writer<'a>(ctx: &Context<'a>) -> ApiResult<MapWriter<'a>> {
    let viewer = crate::error::context_data::<Viewer>(ctx)?;
    let index: &'a SearchIndex = crate::error::context_data::<Arc<SearchIndex>>(ctx)?;
    Ok(MapWriter::new(
        crate::error::context_data::<DatabaseConnection>(ctx)?,
        reference(ctx),
        Author::Viewer(viewer),
        Searchable::Now(index),
    ))
}

fn keys(kind: NodeKind, ids: Vec<ID>) -> ApiResult<Vec<String>> {
    Ok(ids.iter().map(|id| relay::key_of(kind, id)).collect::<Result<_, _>>()?)
}

/// A new organization. A municipality editor gives its first `location`, in one of its
/// municipalities.
#[derive(InputObject)]
pub struct NewOrganizationInput {
    pub name: String,
    pub kind: OrganizationKind,
    pub description: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Belgian enterprise number, e.g. `0207.437.468`.
    pub kbo_number: Option<String>,
    /// The organization's first location.
    pub location: Option<NewLocationInput>,
}

/// Changes to an organization; fields left out stay as they are, an empty string clears an
/// optional text.
#[derive(InputObject, Default)]
pub struct OrganizationInput {
    pub name: Option<String>,
    pub kind: Option<OrganizationKind>,
    pub description: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub kbo_number: Option<String>,
}

/// A new location.
#[derive(InputObject)]
pub struct NewLocationInput {
    pub name: String,
    /// Street and number.
    pub address: String,
    pub postal_code: String,
    /// REFNIS code; needed only when the postal code spans several municipalities.
    pub municipality_code: Option<String>,
    /// Decimal degrees; with `longitude`, in Belgium or the Netherlands.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accessibility: Option<String>,
    pub opening_hours: Option<String>,
    /// A shelter: address and position are shown only to its editors.
    #[graphql(default)]
    pub confidential: bool,
}

/// Changes to a location; fields left out stay as they are, an empty string clears an
/// optional text. A new postal code without `municipalityCode` takes its municipality.
#[derive(InputObject, Default)]
pub struct LocationInput {
    pub name: Option<String>,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub municipality_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accessibility: Option<String>,
    pub opening_hours: Option<String>,
    pub confidential: Option<bool>,
}

/// A new service of an organization.
#[derive(InputObject)]
pub struct NewServiceInput {
    pub organization_id: ID,
    /// In Dutch; add other languages with `setServiceTranslations`.
    pub name: String,
    pub description: String,
    /// Life-domain or need codes, at least one (`housing.search`).
    pub domains: Vec<String>,
    #[graphql(default_with = "Cost::Free")]
    pub cost: Cost,
    #[graphql(default_with = "Access::SelfReferral")]
    pub access: Access,
    pub access_description: Option<String>,
    pub age_min: Option<i32>,
    pub age_max: Option<i32>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub url: Option<String>,
    #[graphql(default)]
    pub target_groups: Vec<TargetGroup>,
    #[graphql(default)]
    pub languages: Vec<ServiceLanguageInput>,
    /// Locations of the same organization where the service is offered.
    #[graphql(default)]
    pub location_ids: Vec<ID>,
    /// Where it accepts people from; by default the municipalities of its locations.
    pub area: Option<ServiceAreaInput>,
}

/// Changes to a service; fields left out stay as they are, an empty string clears an
/// optional text, a list replaces the one there was.
#[derive(InputObject, Default)]
pub struct ServiceInput {
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
    pub domains: Option<Vec<String>>,
    pub target_groups: Option<Vec<TargetGroup>>,
    pub location_ids: Option<Vec<ID>>,
}

/// Where a service accepts people from; the parts add up.
#[derive(InputObject, Default)]
pub struct ServiceAreaInput {
    /// The whole country.
    #[graphql(default)]
    pub national: bool,
    /// REFNIS region codes (`02000`, the Flemish Region).
    #[graphql(default)]
    pub region_codes: Vec<String>,
    /// REFNIS province codes (`40000`, East Flanders).
    #[graphql(default)]
    pub province_codes: Vec<String>,
    /// REFNIS municipality codes (`41002`, Aalst).
    #[graphql(default)]
    pub municipality_codes: Vec<String>,
    #[graphql(default)]
    pub radius: Vec<RadiusAreaInput>,
}

/// A radius around one of the service's own locations.
#[derive(InputObject)]
pub struct RadiusAreaInput {
    pub location_id: ID,
    pub km: f64,
}

/// A language a service works in.
#[derive(InputObject)]
pub struct ServiceLanguageInput {
    /// ISO 639-3 (`prs`), ISO 639-1 (`ar`) or BCP-47 (`fa-AF`).
    pub code: String,
    #[graphql(default_with = "LanguageMode::Staff")]
    pub mode: LanguageMode,
    /// With mode `INTERPRETER`: which kind.
    pub interpreter_kind: Option<InterpreterKind>,
}

/// A service's name and description in another language than Dutch: French, English, or
/// one of the families' (`AR`, `PRS`, `UK`…).
#[derive(InputObject)]
pub struct ServiceTranslationInput {
    pub lang: Lang,
    pub name: String,
    /// Left out or empty, the Dutch description is shown, saying so.
    pub description: Option<String>,
}

impl ServiceAreaInput {
    fn into_parts(self) -> ApiResult<Vec<AreaPart>> {
        let mut parts = Vec::new();
        if self.national {
            parts.push(AreaPart::National);
        }
        let codes = |codes: Vec<String>| codes.into_iter().map(|c| c.trim().to_owned());
        parts.extend(codes(self.region_codes).map(AreaPart::Region));
        parts.extend(codes(self.province_codes).map(AreaPart::Province));
        parts.extend(codes(self.municipality_codes).map(AreaPart::Municipality));
        for radius in self.radius {
            parts.push(AreaPart::Radius {
                location_id: relay::key_of(NodeKind::Location, &radius.location_id)?,
                km: radius.km,
            });
        }
        Ok(parts)
    }
}

impl From<ServiceLanguageInput> for LanguageOffer {
    fn from(input: ServiceLanguageInput) -> Self {
        LanguageOffer {
            code: input.code,
            mode: input.mode.into(),
            interpreter_kind: input.interpreter_kind.map(Into::into),
        }
    }
}

impl From<OrganizationInput> for OrganizationChanges {
    fn from(input: OrganizationInput) -> Self {
        OrganizationChanges {
            name: input.name,
            kind: input.kind.map(Into::into),
            description: input.description,
            website: input.website,
            email: input.email,
            phone: input.phone,
            kbo_number: input.kbo_number,
        }
    }
}

impl From<NewLocationInput> for LocationChanges {
    fn from(input: NewLocationInput) -> Self {
        LocationChanges {
            name: Some(input.name),
            address: Some(input.address),
            postal_code: Some(input.postal_code),
            municipality_code: input.municipality_code,
            latitude: input.latitude,
            longitude: input.longitude,
            accessibility: input.accessibility,
            opening_hours: input.opening_hours,
            confidential: Some(input.confidential),
        }
    }
}

impl From<LocationInput> for LocationChanges {
    fn from(input: LocationInput) -> Self {
        LocationChanges {
            name: input.name,
            address: input.address,
            postal_code: input.postal_code,
            municipality_code: input.municipality_code,
            latitude: input.latitude,
            longitude: input.longitude,
            accessibility: input.accessibility,
            opening_hours: input.opening_hours,
            confidential: input.confidential,
        }
    }
}

impl ServiceInput {
    fn into_changes(self) -> ApiResult<ServiceChanges> {
        Ok(ServiceChanges {
            name: self.name,
            description: self.description,
            cost: self.cost.map(Into::into),
            access: self.access.map(Into::into),
            access_description: self.access_description,
            age_min: self.age_min,
            age_max: self.age_max,
            email: self.email,
            phone: self.phone,
            url: self.url,
            domains: self.domains,
            target_groups: self
                .target_groups
                .map(|groups| groups.into_iter().map(Into::into).collect()),
            location_ids: self.location_ids.map(|ids| keys(NodeKind::Location, ids)).transpose()?,
        })
    }
}

impl NewServiceInput {
    fn into_new_service(self) -> ApiResult<NewService> {
        Ok(NewService {
            organization_id: relay::key_of(NodeKind::Organization, &self.organization_id)?,
            name: self.name,
            description: self.description,
            cost: self.cost.into(),
            access: self.access.into(),
            access_description: self.access_description,
            age_min: self.age_min,
            age_max: self.age_max,
            email: self.email,
            phone: self.phone,
            url: self.url,
            domains: self.domains,
            target_groups: self.target_groups.into_iter().map(Into::into).collect(),
            languages: self.languages.into_iter().map(Into::into).collect(),
            location_ids: keys(NodeKind::Location, self.location_ids)?,
            area: self.area.map(ServiceAreaInput::into_parts).transpose()?,
        })
    }
}

#[derive(Default)]
pub struct ListingsMutation;

#[Object]
impl ListingsMutation {
    /// Adds an organization to the map. For admins, and for municipality editors with its
    /// first `location` in one of their municipalities.
    async fn create_organization(&self, ctx: &Context<'_>, input: NewOrganizationInput) -> ApiResult<Organization> {
        let location = input.location.map(Into::into);
        let fields = OrganizationChanges {
            name: Some(input.name),
            kind: Some(input.kind.into()),
            description: input.description,
            website: input.website,
            email: input.email,
            phone: input.phone,
            kbo_number: input.kbo_number,
        };
        let created = super::create_organization(&writer(ctx)?, fields, location).await?;
        Ok(Organization(created))
    }

    /// Changes an organization. `version` is the one you read.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: OrganizationInput,
    ) -> ApiResult<Organization> {
        let key = relay::key_of(NodeKind::Organization, &id)?;
        let updated = super::update_organization(&writer(ctx)?, &key, version, input.into()).await?;
        Ok(Organization(updated))
    }

    /// Adds a location to an organization.
    async fn create_location(
        &self,
        ctx: &Context<'_>,
        organization_id: ID,
        input: NewLocationInput,
    ) -> ApiResult<Location> {
        let organization = relay::key_of(NodeKind::Organization, &organization_id)?;
        let created = super::create_location(&writer(ctx)?, &organization, input.into()).await?;
        Ok(Location(created))
    }

    /// Changes a location. `version` is the one you read.
    async fn update_location(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        input: LocationInput,
    ) -> ApiResult<Location> {
        let key = relay::key_of(NodeKind::Location, &id)?;
        let updated = super::update_location(&writer(ctx)?, &key, version, input.into()).await?;
        Ok(Location(updated))
    }

    /// Removes a location and its links to services; refused while a service's radius area is
    /// centred on it. Returns the id of the removed location.
    async fn delete_location(&self, ctx: &Context<'_>, id: ID, version: i32) -> ApiResult<ID> {
        let key = relay::key_of(NodeKind::Location, &id)?;
        super::delete_location(&writer(ctx)?, &key, version).await?;
        Ok(id)
    }

    /// Adds a service to an organization. An organization editor adds to its own organization;
    /// a municipality editor's new service must be located in or serve its municipalities.
    async fn create_service(&self, ctx: &Context<'_>, input: NewServiceInput) -> ApiResult<Service> {
        let new = input.into_new_service()?;
        let created = super::create_service(&writer(ctx)?, new).await?;
        Ok(Service(created))
    }

    /// Changes a service. `version` is the one you read: if someone changed the service since,
    /// nothing is written and the error (`CONFLICT`) carries the current version.
    async fn update_service(&self, ctx: &Context<'_>, id: ID, version: i32, input: ServiceInput) -> ApiResult<Service> {
        let key = relay::key_of(NodeKind::Service, &id)?;
        let changes = input.into_changes()?;
        let updated = super::update_service(&writer(ctx)?, &key, version, changes).await?;
        Ok(Service(updated))
    }

    /// Opens, temporarily closes or retires (INACTIVE: no longer found by search) a service.
    async fn set_service_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        status: ServiceStatus,
    ) -> ApiResult<Service> {
        let key = relay::key_of(NodeKind::Service, &id)?;
        let updated = super::set_service_status(&writer(ctx)?, &key, version, status.into()).await?;
        Ok(Service(updated))
    }

    /// Replaces where the service accepts people from.
    async fn set_service_area(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        area: ServiceAreaInput,
    ) -> ApiResult<Service> {
        let key = relay::key_of(NodeKind::Service, &id)?;
        let parts = area.into_parts()?;
        let updated = super::set_service_area(&writer(ctx)?, &key, version, parts).await?;
        Ok(Service(updated))
    }

    /// Replaces the languages the service works in.
    async fn set_service_languages(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        languages: Vec<ServiceLanguageInput>,
    ) -> ApiResult<Service> {
        let key = relay::key_of(NodeKind::Service, &id)?;
        let offers = languages.into_iter().map(Into::into).collect();
        let updated = super::set_service_languages(&writer(ctx)?, &key, version, offers).await?;
        Ok(Service(updated))
    }

    /// Replaces the service's names and descriptions in other languages than Dutch.
    async fn set_service_translations(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        translations: Vec<ServiceTranslationInput>,
    ) -> ApiResult<Service> {
        let key = relay::key_of(NodeKind::Service, &id)?;
        let texts = translations
            .into_iter()
            .map(|t| TranslationText {
                lang: t.lang.code().to_owned(),
                name: t.name,
                description: t.description.unwrap_or_default(),
            })
            .collect();
        let updated = super::set_service_translations(&writer(ctx)?, &key, version, texts).await?;
        Ok(Service(updated))
    }

    /// Says how many places are available now and at most; null clears a figure.
    async fn set_service_capacity(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        available: Option<i32>,
        maximum: Option<i32>,
    ) -> ApiResult<Service> {
        let key = relay::key_of(NodeKind::Service, &id)?;
        let updated = super::set_service_capacity(&writer(ctx)?, &key, version, available, maximum).await?;
        Ok(Service(updated))
    }

    /// Confirms the listing is right today: sets `lastVerifiedAt` and `verifiedBy`, nothing else.
    async fn verify_service(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Service> {
        let key = relay::key_of(NodeKind::Service, &id)?;
        let updated = super::verify_service(&writer(ctx)?, &key).await?;
        Ok(Service(updated))
    }
}
