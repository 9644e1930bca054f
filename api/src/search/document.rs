//! What the index knows of a service, loaded from the database in a few batched queries:
//! the service and everything search matches or ranks on.

use std::collections::HashMap;

use entity::enums::{ServiceStatus, TargetGroup};
use entity::{
    location, organization, service, service_area, service_domain, service_language, service_location,
    service_target_group, service_translation,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// SQLite allows at most 32,766 bound parameters per statement; stay far below.
const IDS_PER_QUERY: usize = 500;

pub struct ServiceDocument {
    pub service: service::Model,
    pub organization_name: String,
    pub translations: Vec<service_translation::Model>,
    pub domain_codes: Vec<String>,
    pub languages: Vec<service_language::Model>,
    pub target_groups: Vec<TargetGroup>,
    pub locations: Vec<location::Model>,
    pub areas: Vec<service_area::Model>,
}

impl ServiceDocument {
    /// Inactive services are kept out of the index: search never returns them.
    pub fn searchable(&self) -> bool {
        self.service.status != ServiceStatus::Inactive
    }
}

/// Services read at once by a full rebuild: the whole map at once held a million services'
/// rows and relations in memory (gigabytes); a page of them is a few megabytes.
const SERVICES_PER_PAGE: u64 = 5_000;

/// The next page of services in id order, after the service `after` (from the first without),
/// for a full rebuild; empty after the last.
pub async fn load_page(db: &impl ConnectionTrait, after: Option<&str>) -> Result<Vec<ServiceDocument>, DbErr> {
    let mut services = service::Entity::find()
        .order_by_asc(service::Column::Id)
        .limit(SERVICES_PER_PAGE);
    if let Some(after) = after {
        services = services.filter(service::Column::Id.gt(after));
    }
    let services = services.all(db).await?;
    let (Some(first), Some(last)) = (services.first(), services.last()) else {
        return Ok(Vec::new());
    };
    let (first, last) = (first.id.clone(), last.id.clone());
    // The page's relations by a range of service ids: no list of thousands of ids to bind.
    let translations =
        between::<service_translation::Entity>(db, service_translation::Column::ServiceId, &first, &last).await?;
    let domains = between::<service_domain::Entity>(db, service_domain::Column::ServiceId, &first, &last).await?;
    let languages = between::<service_language::Entity>(db, service_language::Column::ServiceId, &first, &last).await?;
    let target_groups =
        between::<service_target_group::Entity>(db, service_target_group::Column::ServiceId, &first, &last).await?;
    let service_locations =
        between::<service_location::Entity>(db, service_location::Column::ServiceId, &first, &last).await?;
    let areas = between::<service_area::Entity>(db, service_area::Column::ServiceId, &first, &last).await?;
    assemble(
        db,
        services,
        translations,
        domains,
        languages,
        target_groups,
        service_locations,
        areas,
    )
    .await
}

/// The rows of `E` whose `column` lies from `first` to `last`.
async fn between<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    first: &str,
    last: &str,
) -> Result<Vec<E::Model>, DbErr> {
    E::find().filter(column.between(first, last)).all(db).await
}

/// The services of `ids` that still exist.
pub async fn load(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<ServiceDocument>, DbErr> {
    let mut documents = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let chunk = chunk.to_vec();
        let services = service::Entity::find()
            .filter(service::Column::Id.is_in(chunk.clone()))
            .all(db)
            .await?;
        documents.extend(
            assemble(
                db,
                services,
                service_translation::Entity::find()
                    .filter(service_translation::Column::ServiceId.is_in(chunk.clone()))
                    .all(db)
                    .await?,
                service_domain::Entity::find()
                    .filter(service_domain::Column::ServiceId.is_in(chunk.clone()))
                    .all(db)
                    .await?,
                service_language::Entity::find()
                    .filter(service_language::Column::ServiceId.is_in(chunk.clone()))
                    .all(db)
                    .await?,
                service_target_group::Entity::find()
                    .filter(service_target_group::Column::ServiceId.is_in(chunk.clone()))
                    .all(db)
                    .await?,
                service_location::Entity::find()
                    .filter(service_location::Column::ServiceId.is_in(chunk.clone()))
                    .all(db)
                    .await?,
                service_area::Entity::find()
                    .filter(service_area::Column::ServiceId.is_in(chunk))
                    .all(db)
                    .await?,
            )
            .await?,
        );
    }
    Ok(documents)
}

#[allow(clippy::too_many_arguments)]
async fn assemble(
    db: &impl ConnectionTrait,
    services: Vec<service::Model>,
    translations: Vec<service_translation::Model>,
    domains: Vec<service_domain::Model>,
    languages: Vec<service_language::Model>,
    target_groups: Vec<service_target_group::Model>,
    service_locations: Vec<service_location::Model>,
    areas: Vec<service_area::Model>,
) -> Result<Vec<ServiceDocument>, DbErr> {
    let organization_names = names_of_organizations(db, &services).await?;
    let locations = locations_by_id(db, &service_locations).await?;
    let mut translations = group(translations, |t| &t.service_id);
    let mut domains = group(domains, |d| &d.service_id);
    let mut languages = group(languages, |l| &l.service_id);
    let mut target_groups = group(target_groups, |t| &t.service_id);
    let mut service_locations = group(service_locations, |l| &l.service_id);
    let mut areas = group(areas, |a| &a.service_id);
    Ok(services
        .into_iter()
        .map(|service| {
            let id = &service.id;
            ServiceDocument {
                organization_name: organization_names
                    .get(&service.organization_id)
                    .cloned()
                    .unwrap_or_default(),
                translations: translations.remove(id).unwrap_or_default(),
                domain_codes: domains
                    .remove(id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| d.domain_code)
                    .collect(),
                languages: languages.remove(id).unwrap_or_default(),
                target_groups: target_groups
                    .remove(id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.target_group)
                    .collect(),
                locations: service_locations
                    .remove(id)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|l| locations.get(&l.location_id).cloned())
                    .collect(),
                areas: areas.remove(id).unwrap_or_default(),
                service,
            }
        })
        .collect())
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> &String) -> HashMap<String, Vec<T>> {
    let mut grouped: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row).clone()).or_default().push(row);
    }
    grouped
}

async fn names_of_organizations(
    db: &impl ConnectionTrait,
    services: &[service::Model],
) -> Result<HashMap<String, String>, DbErr> {
    let mut ids: Vec<String> = services.iter().map(|s| s.organization_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut names = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        for organization in organization::Entity::find()
            .filter(organization::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            names.insert(organization.id, organization.name);
        }
    }
    Ok(names)
}

async fn locations_by_id(
    db: &impl ConnectionTrait,
    service_locations: &[service_location::Model],
) -> Result<HashMap<String, location::Model>, DbErr> {
    let mut ids: Vec<String> = service_locations.iter().map(|l| l.location_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut locations = HashMap::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        for location in location::Entity::find()
            .filter(location::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            locations.insert(location.id.clone(), location);
        }
    }
    Ok(locations)
}
