//! GraphQL types of the map. They wrap the sea-orm models and choose what to show, so a new
//! column never leaks by accident (confidential addresses above all).

use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use entity::enums::{AuditResource, ServiceAreaKind};
use entity::{location, organization, service, service_area, service_language, service_translation};
use sea_orm::{ActiveEnum, DatabaseConnection, DbErr};

use super::loaders::{
    AreaOfService, DomainsOfService, LanguagesOfService, LocationsOfOrganization, LocationsOfService, MapLoader,
    OrganizationById, ServicesOfOrganization, TargetGroupsOfService, TranslationsOfService,
};
use super::{OrganizationFilter, STALE_AFTER_DAYS, ServiceFilter};
use crate::error::{ApiError, ApiResult, Reason, loader_error};
use crate::reference::types::{Province, Region, reference};
use crate::reference::{Lang, Language, LifeDomain, Localized, LocalizedText, Municipality, ReferenceData};
use crate::relay::{self, NodeKind, Page, PageRequest};

fn loader<'a>(ctx: &Context<'a>) -> ApiResult<&'a DataLoader<MapLoader>> {
    crate::error::context_data::<DataLoader<MapLoader>>(ctx)
}

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::OrganizationKind")]
pub enum OrganizationKind {
    Public,
    Ngo,
    VolunteerGroup,
    Informal,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ServiceStatus")]
pub enum ServiceStatus {
    Active,
    TemporarilyClosed,
    Inactive,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Cost")]
pub enum Cost {
    Free,
    Contribution,
    Paid,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Access")]
pub enum Access {
    SelfReferral,
    ProfessionalReferral,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::TargetGroup")]
pub enum TargetGroup {
    Everyone,
    AsylumSeekers,
    Refugees,
    TemporaryProtection,
    Undocumented,
    UnaccompaniedMinors,
    FamiliesWithChildren,
    Women,
    Youth,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::LanguageMode")]
pub enum LanguageMode {
    /// Staff speak the language.
    Staff,
    /// The service arranges an interpreter.
    Interpreter,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::InterpreterKind")]
pub enum InterpreterKind {
    Professional,
    Social,
    Volunteer,
}

/// A list loaded through the request's DataLoader; a key with no rows is an empty list.
async fn load_list<K, V>(ctx: &Context<'_>, key: K) -> ApiResult<Vec<V>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
    MapLoader: Loader<K, Value = Vec<V>, Error = Arc<DbErr>>,
{
    Ok(loader(ctx)?
        .load_one(key)
        .await
        .map_err(loader_error)?
        .unwrap_or_default())
}

async fn organization_by_id(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Organization>> {
    let found = loader(ctx)?
        .load_one(OrganizationById(id.to_owned()))
        .await
        .map_err(loader_error)?;
    Ok(found.map(Organization))
}

/// An organization on the map.
pub struct Organization(pub(crate) organization::Model);

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Organization, &self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    /// Belgian enterprise number (KBO/BCE), where known.
    async fn kbo_number(&self) -> Option<&str> {
        self.0.kbo_number.as_deref()
    }

    /// Where the organization receives people, ordered by name.
    async fn locations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Location>> {
        Ok(load_list(ctx, LocationsOfOrganization(self.0.id.clone()))
            .await?
            .into_iter()
            .map(Location)
            .collect())
    }

    /// The organization's services ordered by name, optionally narrowed by `filter`.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn services(
        &self,
        ctx: &Context<'_>,
        filter: Option<ServiceFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Service>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let filter = ServiceFilter {
            organization_id: Some(self.0.id.clone()),
            ..filter.unwrap_or_default().into()
        };
        if filter.domains.is_empty() && filter.languages.is_empty() && filter.municipality_code.is_none() {
            // The common case, batched over all organizations of the request.
            let all = load_list(ctx, ServicesOfOrganization(self.0.id.clone())).await?;
            return Ok(relay::page_of_slice(page, all.into_iter().map(Service).collect()));
        }
        let (found, total) = super::find_services(db(ctx), reference(ctx), &filter, page).await?;
        Ok(relay::page(page, found.into_iter().map(Service).collect(), total))
    }

    /// Bumped on every change; send it back with an update.
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A place where an organization receives people. For a confidential location (a shelter)
/// only the municipality and postal code are shown to the public: address and coordinates are
/// null except for its organization's editors, the editors of its municipality and admins.
pub struct Location(pub(crate) location::Model);

impl Location {
    fn shown(&self, ctx: &Context<'_>) -> bool {
        !self.0.confidential
            || ctx
                .data_opt::<crate::auth::Viewer>()
                .is_some_and(|viewer| super::may_see_confidential(viewer, &self.0))
    }
}

#[Object]
impl Location {
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Location, &self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Street and number; null for a confidential location, except for its editors.
    async fn address(&self, ctx: &Context<'_>) -> Option<&str> {
        self.shown(ctx).then_some(self.0.address.as_str())
    }

    async fn postal_code(&self) -> &str {
        &self.0.postal_code
    }

    async fn municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.municipality_code)
    }

    /// Null for a confidential location, except for its editors.
    async fn latitude(&self, ctx: &Context<'_>) -> Option<f64> {
        self.0.latitude.filter(|_| self.shown(ctx))
    }

    /// Null for a confidential location, except for its editors.
    async fn longitude(&self, ctx: &Context<'_>) -> Option<f64> {
        self.0.longitude.filter(|_| self.shown(ctx))
    }

    async fn accessibility(&self) -> Option<&str> {
        self.0.accessibility.as_deref()
    }

    /// Opening hours as the organization writes them, e.g. "ma–vr 9:00–12:00".
    async fn opening_hours(&self) -> Option<&str> {
        self.0.opening_hours.as_deref()
    }

    async fn confidential(&self) -> bool {
        self.0.confidential
    }

    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization_by_id(ctx, &self.0.organization_id).await
    }

    /// Bumped on every change; send it back with an update.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A language a service works in, and how.
pub struct ServiceLanguage(service_language::Model);

#[Object]
impl ServiceLanguage {
    async fn language(&self, ctx: &Context<'_>) -> Option<Language> {
        Language::by_code(reference(ctx), &self.0.language_code)
    }

    async fn mode(&self) -> LanguageMode {
        self.0.mode.into()
    }

    /// Which kind of interpreter, when `mode` is `INTERPRETER`.
    async fn interpreter_kind(&self) -> Option<InterpreterKind> {
        self.0.interpreter_kind.map(Into::into)
    }
}

/// A radius around one of the service's locations.
pub struct RadiusArea {
    location: Option<location::Model>,
    km: f64,
}

#[Object]
impl RadiusArea {
    async fn location(&self) -> Option<Location> {
        self.location.clone().map(Location)
    }

    async fn km(&self) -> f64 {
        self.km
    }
}

/// Where a service accepts people from; the parts add up.
pub struct ServiceArea {
    rows: Vec<service_area::Model>,
    locations: Vec<location::Model>,
    reference: Arc<ReferenceData>,
}

#[Object]
impl ServiceArea {
    /// The whole country.
    async fn national(&self) -> bool {
        self.rows.iter().any(|r| r.kind == ServiceAreaKind::National)
    }

    async fn regions(&self) -> Vec<Region> {
        self.codes(|r| r.region_code.as_deref())
            .filter_map(|code| Region::by_code(&self.reference, code))
            .collect()
    }

    async fn provinces(&self) -> Vec<Province> {
        self.codes(|r| r.province_code.as_deref())
            .filter_map(|code| Province::by_code(&self.reference, code))
            .collect()
    }

    async fn municipalities(&self) -> Vec<Municipality> {
        self.codes(|r| r.municipality_code.as_deref())
            .filter_map(|code| Municipality::by_code(&self.reference, code))
            .collect()
    }

    async fn radius(&self) -> Vec<RadiusArea> {
        self.rows
            .iter()
            .filter(|r| r.kind == ServiceAreaKind::Radius)
            .map(|r| RadiusArea {
                location: self
                    .locations
                    .iter()
                    .find(|l| Some(&l.id) == r.location_id.as_ref())
                    .cloned(),
                km: r.radius_km.unwrap_or_default(),
            })
            .collect()
    }
}

impl ServiceArea {
    fn codes<'a>(
        &'a self,
        code: impl Fn(&'a service_area::Model) -> Option<&'a str> + 'a,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.rows.iter().filter_map(code)
    }
}

/// Places available, for services where that is the question.
#[derive(SimpleObject)]
pub struct Capacity {
    pub available: Option<i32>,
    pub maximum: Option<i32>,
    /// When the service last said so.
    pub updated_at: Option<DateTime<Utc>>,
}

/// What an organization offers: one kind of help, for some people, in some languages,
/// at some locations, for some area.
pub struct Service(pub(crate) service::Model);

impl Service {
    /// A text of the service in `lang`, its macrolanguage or Dutch, field by field: a
    /// translation without a description still gives its name.
    async fn text(
        &self,
        ctx: &Context<'_>,
        lang: Lang,
        dutch: &str,
        translated: fn(&service_translation::Model) -> &str,
    ) -> ApiResult<Localized> {
        let translations = if lang == Lang::Nl {
            Vec::new()
        } else {
            load_list(ctx, TranslationsOfService(self.0.id.clone())).await?
        };
        Ok(reference(ctx).localize(lang, |l| {
            let text = match l {
                Lang::Nl => dutch,
                _ => translations.iter().find(|t| t.lang == l.code()).map(translated)?,
            };
            Some((text, true))
        }))
    }

    async fn locations_of(&self, ctx: &Context<'_>) -> ApiResult<Vec<location::Model>> {
        load_list(ctx, LocationsOfService(self.0.id.clone())).await
    }
}

#[Object]
impl Service {
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Service, &self.0.id)
    }

    /// Name in `lang`, falling back to its macrolanguage, then Dutch (see `nameText`).
    async fn name(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> ApiResult<String> {
        Ok(self.text(ctx, lang, &self.0.name, |t| &t.name).await?.text)
    }

    /// The name in `lang` or the language it fell back to, saying which and which way it runs.
    async fn name_text(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> ApiResult<LocalizedText> {
        Ok(self.text(ctx, lang, &self.0.name, |t| &t.name).await?.into())
    }

    /// Description in `lang`, falling back to its macrolanguage, then Dutch (see
    /// `descriptionText`).
    async fn description(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> ApiResult<String> {
        Ok(self
            .text(ctx, lang, &self.0.description, |t| &t.description)
            .await?
            .text)
    }

    /// The description in `lang` or the language it fell back to, saying which and which
    /// way it runs.
    async fn description_text(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> ApiResult<LocalizedText> {
        Ok(self
            .text(ctx, lang, &self.0.description, |t| &t.description)
            .await?
            .into())
    }

    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization_by_id(ctx, &self.0.organization_id).await
    }

    async fn status(&self) -> ServiceStatus {
        self.0.status.into()
    }

    /// The life domains and needs the service helps with.
    async fn domains(&self, ctx: &Context<'_>) -> ApiResult<Vec<LifeDomain>> {
        let codes = load_list(ctx, DomainsOfService(self.0.id.clone())).await?;
        Ok(codes
            .iter()
            .filter_map(|code| LifeDomain::by_code(reference(ctx), code))
            .collect())
    }

    /// Languages the service works in: spoken by staff, or with an interpreter it arranges.
    async fn languages(&self, ctx: &Context<'_>) -> ApiResult<Vec<ServiceLanguage>> {
        Ok(load_list(ctx, LanguagesOfService(self.0.id.clone()))
            .await?
            .into_iter()
            .map(ServiceLanguage)
            .collect())
    }

    async fn target_groups(&self, ctx: &Context<'_>) -> ApiResult<Vec<TargetGroup>> {
        Ok(load_list(ctx, TargetGroupsOfService(self.0.id.clone()))
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    async fn age_min(&self) -> Option<i32> {
        self.0.age_min
    }

    async fn age_max(&self) -> Option<i32> {
        self.0.age_max
    }

    async fn cost(&self) -> Cost {
        self.0.cost.into()
    }

    /// How a family gets in.
    async fn access(&self) -> Access {
        self.0.access.into()
    }

    /// More on how to get in, e.g. "via het OCMW".
    async fn access_description(&self) -> Option<&str> {
        self.0.access_description.as_deref()
    }

    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }

    /// Where the service is offered; empty for phone or online services.
    async fn locations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Location>> {
        Ok(self.locations_of(ctx).await?.into_iter().map(Location).collect())
    }

    /// Where the service accepts people from.
    async fn area(&self, ctx: &Context<'_>) -> ApiResult<ServiceArea> {
        let rows = load_list(ctx, AreaOfService(self.0.id.clone())).await?;
        let locations = if rows.iter().any(|r| r.kind == ServiceAreaKind::Radius) {
            self.locations_of(ctx).await?
        } else {
            Vec::new()
        };
        Ok(ServiceArea {
            rows,
            locations,
            reference: reference(ctx).clone(),
        })
    }

    /// Places available, where the service publishes that.
    async fn capacity(&self) -> Option<Capacity> {
        (self.0.capacity_available.is_some() || self.0.capacity_maximum.is_some()).then_some(Capacity {
            available: self.0.capacity_available,
            maximum: self.0.capacity_maximum,
            updated_at: self.0.capacity_updated_at,
        })
    }

    /// When someone last confirmed this listing is true; null if never.
    async fn last_verified_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_verified_at
    }

    /// The email of the account that last verified the listing. Shown to logged-in accounts
    /// only: editors' addresses are not for the public.
    async fn verified_by(&self, ctx: &Context<'_>) -> Option<&str> {
        match ctx.data_opt::<crate::auth::Viewer>() {
            Some(crate::auth::Viewer::Account(_)) => self.0.verified_by.as_deref(),
            _ => None,
        }
    }

    /// True when the listing was never verified or not in the last year.
    async fn stale(&self) -> bool {
        self.0
            .last_verified_at
            .is_none_or(|at| Utc::now() - at > Duration::days(STALE_AFTER_DAYS))
    }

    /// Bumped on every change; send it back with an update.
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Narrows a list of services; all given criteria must hold.
#[derive(InputObject, Default)]
pub struct ServiceFilterInput {
    /// Life-domain or need codes; a top-level code (`housing`) includes its needs. Any may match.
    pub domains: Option<Vec<String>>,
    /// ISO 639-3, 639-1 or BCP-47 codes (`prs`, `ar`, `fa-AF`). A macrolanguage matches its
    /// members (`fas` finds Dari); staff languages and interpreters both count. Any may match.
    pub languages: Option<Vec<String>>,
    /// REFNIS code of a municipality the service's area must cover.
    pub municipality_code: Option<String>,
}

impl From<ServiceFilterInput> for ServiceFilter {
    fn from(input: ServiceFilterInput) -> Self {
        ServiceFilter {
            domains: input.domains.unwrap_or_default(),
            languages: input.languages.unwrap_or_default(),
            municipality_code: input.municipality_code.map(|c| c.trim().to_owned()),
            organization_id: None,
        }
    }
}

#[derive(Default)]
pub struct ListingsQuery;

#[Object]
impl ListingsQuery {
    /// Organizations ordered by name. `search` matches part of the name, accent- and
    /// case-insensitive; `municipalityCode` keeps those with a location there or a service
    /// whose area covers it.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        municipality_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Organization>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let filter = OrganizationFilter {
            search,
            municipality_code: municipality_code.map(|c| c.trim().to_owned()),
        };
        let (found, total) = super::find_organizations(db(ctx), reference(ctx), &filter, page).await?;
        Ok(relay::page(page, found.into_iter().map(Organization).collect(), total))
    }

    /// An organization by id; null if there is none.
    async fn organization(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Organization>> {
        let key = relay::key_of(NodeKind::Organization, &id)?;
        Ok(super::organization(db(ctx), &key).await?.map(Organization))
    }

    /// Services ordered by name, optionally narrowed by `filter`.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn services(
        &self,
        ctx: &Context<'_>,
        filter: Option<ServiceFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Service>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let filter: ServiceFilter = filter.unwrap_or_default().into();
        let (found, total) = super::find_services(db(ctx), reference(ctx), &filter, page).await?;
        Ok(relay::page(page, found.into_iter().map(Service).collect(), total))
    }

    /// A service by id; null if there is none.
    async fn service(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Service>> {
        let key = relay::key_of(NodeKind::Service, &id)?;
        Ok(super::service(db(ctx), &key).await?.map(Service))
    }

    /// Every recorded change to an organization, service or location, newest first. For
    /// their editors and admins.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        resource_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<AuditEntry>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let (kind, key) = relay::parse_global_id(&resource_id)?;
        let resource = match kind {
            NodeKind::Organization => AuditResource::Organization,
            NodeKind::Service => AuditResource::Service,
            NodeKind::Location => AuditResource::Location,
            _ => {
                return Err(ApiError::new(
                    Reason::BadId,
                    "resourceId must be the id of an organization, a service or a location",
                ));
            }
        };
        let viewer = crate::error::context_data::<crate::auth::Viewer>(ctx)?;
        let entries = super::audit_log(db(ctx), reference(ctx), viewer, resource, &key).await?;
        Ok(relay::page_of_slice(
            page,
            entries.into_iter().map(AuditEntry).collect(),
        ))
    }

    /// Services located in or serving a municipality that were not verified for a year (or
    /// never), oldest first. For that municipality's editors and admins.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn stale_services(
        &self,
        ctx: &Context<'_>,
        municipality_code: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Service>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let viewer = crate::error::context_data::<crate::auth::Viewer>(ctx)?;
        let stale = super::stale_services(db(ctx), reference(ctx), viewer, municipality_code.trim()).await?;
        Ok(relay::page_of_slice(page, stale.into_iter().map(Service).collect()))
    }
}

/// One changed field of a record (HSDS `metadata`).
pub struct AuditEntry(entity::audit_entry::Model);

#[Object]
impl AuditEntry {
    /// `update` or `verify`.
    async fn last_action_type(&self) -> String {
        self.0.last_action_type.to_value()
    }

    async fn last_action_date(&self) -> DateTime<Utc> {
        self.0.last_action_date
    }

    async fn field_name(&self) -> &str {
        &self.0.field_name
    }

    /// The old value as JSON; null when the field was empty.
    async fn previous_value(&self) -> Option<&str> {
        self.0.previous_value.as_deref()
    }

    async fn replacement_value(&self) -> Option<&str> {
        self.0.replacement_value.as_deref()
    }

    /// The id of the account that made the change.
    async fn updated_by(&self) -> ID {
        ID(self.0.updated_by.clone())
    }
}
