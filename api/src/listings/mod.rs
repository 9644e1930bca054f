//! The map itself: organizations, their services and locations. Plain async functions over
//! the database connection (tests call them directly); `types` puts GraphQL on top and
//! `loaders` batches the nested lists per request.

mod coverage;
pub(crate) mod editing;
mod field;
mod loaders;
mod suggestions;
mod types;
pub(crate) mod write;

pub use coverage::{Coverage, CoverageQuery, DomainCoverage, LanguageCoverage, coverage};
pub use editing::{
    AreaPart, LanguageOffer, ListingsMutation, LocationChanges, NewService, OrganizationChanges, ServiceChanges,
    TranslationText, audit_log, create_location, create_organization, create_service, delete_location,
    may_edit_location, may_edit_organization, may_edit_service, may_import, may_see_confidential, municipality_of,
    set_service_area, set_service_capacity, set_service_languages, set_service_status, set_service_translations,
    stale_services, update_location, update_organization, update_service, verify_service,
};
pub use field::Field;
pub use loaders::LocationsOfService;
pub use loaders::MapLoader;
pub use suggestions::{
    ServiceSuggestion, SuggestionLimiter, SuggestionsMutation, SuggestionsQuery, pending_suggestions,
    resolve_suggestion, suggest_change,
};
pub use types::{Access, Cost, LanguageMode, ListingsQuery, Location, Organization, Service, TargetGroup};
pub use write::{Author, MapWriter, Searchable};

/// The longest part of a name `organizations(search:)` looks for (longer patterns are
/// refused by SQLite's LIKE, and no name is that long).
const MAX_NAME_SEARCH_CHARS: usize = 200;

/// A listing not verified for this long is stale: search ranks it lower and says so.
pub const STALE_AFTER_DAYS: i64 = 365;

use entity::enums::ServiceAreaKind;
use entity::{location, organization, search_key, service, service_area, service_domain, service_language};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};

use crate::geo::{Position, distance_km};
use crate::reference::{ReferenceData, ReferenceError};
use crate::relay::{PageRequest, RelayError};

#[derive(Debug, thiserror::Error)]
pub enum ListingsError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Page(#[from] RelayError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    /// What kind of record (`service`, `organization`, …) and the id asked for.
    #[error("no {0} with id `{1}`")]
    NotFound(&'static str, String),
    #[error("{0}")]
    Forbidden(String),
    #[error(
        "someone changed this since you loaded it: the current version is {0}; reload, reapply your change and send that version"
    )]
    Conflict(i32),
    /// A value that breaks a rule of the map, and why.
    #[error("`{0}` {1}")]
    Invalid(Field, String),
    #[error("too many suggestions from your address; try again in {0} s")]
    TooManySuggestions(u64),
    /// How it was resolved: `accepted` or `rejected`.
    #[error("this suggestion was already {0}; a suggestion is resolved only once")]
    AlreadyResolved(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Narrows a list of organizations.
#[derive(Clone, Debug, Default)]
pub struct OrganizationFilter {
    /// Part of the name, accent- and case-insensitive.
    pub search: Option<String>,
    /// Organizations with a location in this municipality or a service whose area covers it.
    pub municipality_code: Option<String>,
}

/// Narrows a list of services; all given criteria must hold.
#[derive(Clone, Debug, Default)]
pub struct ServiceFilter {
    /// Life-domain or need codes; a top-level code includes its needs. Any one may match.
    pub domains: Vec<String>,
    /// Language codes (ISO 639-3, 639-1 or BCP-47). Any one may match, by staff or interpreter.
    pub languages: Vec<String>,
    /// Services whose area covers this municipality.
    pub municipality_code: Option<String>,
    pub organization_id: Option<String>,
}

pub async fn organization(db: &DatabaseConnection, id: &str) -> Result<Option<organization::Model>, ListingsError> {
    Ok(organization::Entity::find_by_id(id).one(db).await?)
}

pub async fn service(db: &DatabaseConnection, id: &str) -> Result<Option<service::Model>, ListingsError> {
    Ok(service::Entity::find_by_id(id).one(db).await?)
}

pub async fn location(db: &DatabaseConnection, id: &str) -> Result<Option<location::Model>, ListingsError> {
    Ok(location::Entity::find_by_id(id).one(db).await?)
}

/// One page of organizations ordered by name, and how many match in all.
pub async fn find_organizations(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    filter: &OrganizationFilter,
    page: PageRequest,
) -> Result<(Vec<organization::Model>, u64), ListingsError> {
    let mut condition = Condition::all();
    if filter
        .search
        .as_deref()
        .is_some_and(|s| s.chars().count() > MAX_NAME_SEARCH_CHARS)
    {
        return Err(ListingsError::Invalid(
            Field::Search,
            format!("is longer than {MAX_NAME_SEARCH_CHARS} characters: search for part of a name"),
        ));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(search_key::normalize)
        .filter(|s| !s.is_empty())
    {
        // The normalised column holds only [a-z0-9 ], so the needle has no LIKE wildcards.
        condition = condition.add(organization::Column::NameSearch.contains(search));
    }
    if let Some(code) = &filter.municipality_code {
        let serving = serving_municipality(db, reference, code).await?;
        let located_here = Query::select()
            .column(location::Column::OrganizationId)
            .from(location::Entity)
            .and_where(location::Column::MunicipalityCode.eq(code.as_str()))
            .to_owned();
        let with_service_here = Query::select()
            .column(service::Column::OrganizationId)
            .from(service::Entity)
            .cond_where(serving)
            .to_owned();
        condition = condition.add(
            Condition::any()
                .add(organization::Column::Id.in_subquery(located_here))
                .add(organization::Column::Id.in_subquery(with_service_here)),
        );
    }
    fetch_page(
        db,
        organization::Entity::find().filter(condition),
        [organization::Column::NameSearch, organization::Column::Id],
        page,
    )
    .await
}

/// One page of services ordered by name, and how many match in all.
pub async fn find_services(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    filter: &ServiceFilter,
    page: PageRequest,
) -> Result<(Vec<service::Model>, u64), ListingsError> {
    let mut condition = Condition::all();
    if let Some(id) = &filter.organization_id {
        condition = condition.add(service::Column::OrganizationId.eq(id.as_str()));
    }
    if !filter.domains.is_empty() {
        let codes = reference.expand_domains(&filter.domains)?;
        condition = condition.add(service::Column::Id.in_subquery(services_where(
            service_domain::Entity,
            service_domain::Column::ServiceId,
            service_domain::Column::DomainCode.is_in(codes),
        )));
    }
    if !filter.languages.is_empty() {
        let mut codes = Vec::new();
        for input in &filter.languages {
            codes.extend(reference.matching_languages(&reference.normalize_language(input)?.code));
        }
        condition = condition.add(service::Column::Id.in_subquery(services_where(
            service_language::Entity,
            service_language::Column::ServiceId,
            service_language::Column::LanguageCode.is_in(codes),
        )));
    }
    if let Some(code) = &filter.municipality_code {
        condition = condition.add(serving_municipality(db, reference, code).await?);
    }
    fetch_page(
        db,
        service::Entity::find().filter(condition),
        [service::Column::NameSearch, service::Column::Id],
        page,
    )
    .await
}

/// One page of `query` in the given order, and how many rows it matches in all.
async fn fetch_page<E: EntityTrait>(
    db: &DatabaseConnection,
    query: Select<E>,
    order: [E::Column; 2],
    page: PageRequest,
) -> Result<(Vec<E::Model>, u64), ListingsError>
where
    E::Model: Sync,
{
    let total = query.clone().count(db).await?;
    let items = order
        .into_iter()
        .fold(query, |query, column| query.order_by_asc(column))
        .offset(page.offset as u64)
        .limit(page.limit as u64)
        .all(db)
        .await?;
    Ok((items, total))
}

fn services_where<E: EntityTrait>(table: E, service_id: E::Column, condition: impl Into<Condition>) -> SelectStatement {
    Query::select()
        .column(service_id)
        .from(table)
        .cond_where(condition)
        .to_owned()
}

/// A radius area: service id, radius in km, and its centre's latitude and longitude.
type RadiusRow = (String, Option<f64>, Option<f64>, Option<f64>);

/// A condition on `service` that holds when the service's area covers the municipality:
/// the whole country, its region, its province, the municipality itself, or a radius around
/// one of the service's locations that reaches the municipality's centre.
pub async fn serving_municipality(
    db: &impl sea_orm::ConnectionTrait,
    reference: &ReferenceData,
    code: &str,
) -> Result<Condition, ListingsError> {
    let municipality = reference.require_municipality(code)?;
    let mut covers = Condition::any()
        .add(service_area::Column::Kind.eq(ServiceAreaKind::National))
        .add(
            Condition::all()
                .add(service_area::Column::Kind.eq(ServiceAreaKind::Region))
                .add(service_area::Column::RegionCode.eq(municipality.region_code.as_str())),
        )
        .add(
            Condition::all()
                .add(service_area::Column::Kind.eq(ServiceAreaKind::Municipality))
                .add(service_area::Column::MunicipalityCode.eq(municipality.code.as_str())),
        );
    if let Some(province) = &municipality.province_code {
        covers = covers.add(
            Condition::all()
                .add(service_area::Column::Kind.eq(ServiceAreaKind::Province))
                .add(service_area::Column::ProvinceCode.eq(province.as_str())),
        );
    }

    // Radius areas are few; their distance is checked here rather than in SQL, which
    // neither SQLite nor plain PostgreSQL can do without extensions.
    let centre = Position::new(municipality.latitude, municipality.longitude);
    let radius_areas: Vec<RadiusRow> = service_area::Entity::find()
        .select_only()
        .column(service_area::Column::ServiceId)
        .column(service_area::Column::RadiusKm)
        .column(location::Column::Latitude)
        .column(location::Column::Longitude)
        .join(
            sea_orm::JoinType::InnerJoin,
            service_area::Entity::belongs_to(location::Entity)
                .from(service_area::Column::LocationId)
                .to(location::Column::Id)
                .into(),
        )
        .filter(service_area::Column::Kind.eq(ServiceAreaKind::Radius))
        .into_tuple()
        .all(db)
        .await?;
    let within_radius: Vec<String> = radius_areas
        .into_iter()
        .filter_map(|(service_id, km, lat, lon)| {
            let reach = distance_km(centre, Position::new(lat?, lon?));
            (reach <= km?).then_some(service_id)
        })
        .collect();

    Ok(Condition::any()
        .add(service::Column::Id.in_subquery(services_where(
            service_area::Entity,
            service_area::Column::ServiceId,
            covers,
        )))
        .add(service::Column::Id.is_in(within_radius)))
}
