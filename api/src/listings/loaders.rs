//! Per-request DataLoaders: a page of 100 services asks for their domains, languages,
//! locations… in one query per relation, not one per service.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::enums::TargetGroup;
use entity::{
    location, organization, service, service_area, service_domain, service_language, service_location,
    service_target_group, service_translation,
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

/// Loads the map's relations in batches; one per request.
pub struct MapLoader {
    db: DatabaseConnection,
}

impl MapLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        MapLoader { db }
    }
}

/// Shared because DataLoader hands the same error to every waiting key.
type LoadError = Arc<DbErr>;

fn group<K: Hash + Eq, T, V>(rows: Vec<T>, key: impl Fn(&T) -> K, value: impl Fn(T) -> V) -> HashMap<K, Vec<V>> {
    let mut grouped: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row)).or_default().push(value(row));
    }
    grouped
}

macro_rules! key {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub String);
    };
}

key!(
    /// An organization by id.
    OrganizationById
);
key!(
    /// An organization's locations.
    LocationsOfOrganization
);
key!(
    /// An organization's services, ordered by name.
    ServicesOfOrganization
);
key!(
    /// The domain codes of a service.
    DomainsOfService
);
key!(
    /// The languages of a service.
    LanguagesOfService
);
key!(
    /// The target groups of a service.
    TargetGroupsOfService
);
key!(
    /// The translations of a service's name and description.
    TranslationsOfService
);
key!(
    /// The locations where a service is offered.
    LocationsOfService
);
key!(
    /// The rows of a service's area.
    AreaOfService
);

fn ids<K: Clone>(keys: &[K], id: impl Fn(&K) -> &String) -> Vec<String> {
    keys.iter().map(|k| id(k).clone()).collect()
}

impl Loader<OrganizationById> for MapLoader {
    type Value = organization::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[OrganizationById]) -> Result<HashMap<OrganizationById, Self::Value>, Self::Error> {
        let rows = organization::Entity::find()
            .filter(organization::Column::Id.is_in(ids(keys, |k| &k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|o| (OrganizationById(o.id.clone()), o)).collect())
    }
}

impl Loader<LocationsOfOrganization> for MapLoader {
    type Value = Vec<location::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LocationsOfOrganization],
    ) -> Result<HashMap<LocationsOfOrganization, Self::Value>, Self::Error> {
        let rows = location::Entity::find()
            .filter(location::Column::OrganizationId.is_in(ids(keys, |k| &k.0)))
            .order_by_asc(location::Column::Name)
            .all(&self.db)
            .await?;
        Ok(group(
            rows,
            |l| LocationsOfOrganization(l.organization_id.clone()),
            |l| l,
        ))
    }
}

impl Loader<ServicesOfOrganization> for MapLoader {
    type Value = Vec<service::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ServicesOfOrganization],
    ) -> Result<HashMap<ServicesOfOrganization, Self::Value>, Self::Error> {
        let rows = service::Entity::find()
            .filter(service::Column::OrganizationId.is_in(ids(keys, |k| &k.0)))
            .order_by_asc(service::Column::NameSearch)
            .order_by_asc(service::Column::Id)
            .all(&self.db)
            .await?;
        Ok(group(
            rows,
            |s| ServicesOfOrganization(s.organization_id.clone()),
            |s| s,
        ))
    }
}

impl Loader<DomainsOfService> for MapLoader {
    type Value = Vec<String>;
    type Error = LoadError;

    async fn load(&self, keys: &[DomainsOfService]) -> Result<HashMap<DomainsOfService, Self::Value>, Self::Error> {
        let rows = service_domain::Entity::find()
            .filter(service_domain::Column::ServiceId.is_in(ids(keys, |k| &k.0)))
            .order_by_asc(service_domain::Column::DomainCode)
            .all(&self.db)
            .await?;
        Ok(group(
            rows,
            |d| DomainsOfService(d.service_id.clone()),
            |d| d.domain_code,
        ))
    }
}

impl Loader<LanguagesOfService> for MapLoader {
    type Value = Vec<service_language::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[LanguagesOfService]) -> Result<HashMap<LanguagesOfService, Self::Value>, Self::Error> {
        let rows = service_language::Entity::find()
            .filter(service_language::Column::ServiceId.is_in(ids(keys, |k| &k.0)))
            .order_by_asc(service_language::Column::LanguageCode)
            .all(&self.db)
            .await?;
        Ok(group(rows, |l| LanguagesOfService(l.service_id.clone()), |l| l))
    }
}

impl Loader<TargetGroupsOfService> for MapLoader {
    type Value = Vec<TargetGroup>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[TargetGroupsOfService],
    ) -> Result<HashMap<TargetGroupsOfService, Self::Value>, Self::Error> {
        let rows = service_target_group::Entity::find()
            .filter(service_target_group::Column::ServiceId.is_in(ids(keys, |k| &k.0)))
            .all(&self.db)
            .await?;
        Ok(group(
            rows,
            |g| TargetGroupsOfService(g.service_id.clone()),
            |g| g.target_group,
        ))
    }
}

impl Loader<TranslationsOfService> for MapLoader {
    type Value = Vec<service_translation::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[TranslationsOfService],
    ) -> Result<HashMap<TranslationsOfService, Self::Value>, Self::Error> {
        let rows = service_translation::Entity::find()
            .filter(service_translation::Column::ServiceId.is_in(ids(keys, |k| &k.0)))
            .all(&self.db)
            .await?;
        Ok(group(rows, |t| TranslationsOfService(t.service_id.clone()), |t| t))
    }
}

impl Loader<LocationsOfService> for MapLoader {
    type Value = Vec<location::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[LocationsOfService]) -> Result<HashMap<LocationsOfService, Self::Value>, Self::Error> {
        let links = service_location::Entity::find()
            .filter(service_location::Column::ServiceId.is_in(ids(keys, |k| &k.0)))
            .all(&self.db)
            .await?;
        let locations: HashMap<String, location::Model> = location::Entity::find()
            .filter(location::Column::Id.is_in(links.iter().map(|l| l.location_id.clone())))
            .order_by_asc(location::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|l| (l.id.clone(), l))
            .collect();
        let mut grouped = group(
            links,
            |link| LocationsOfService(link.service_id.clone()),
            |link| locations.get(&link.location_id).cloned(),
        );
        Ok(grouped
            .drain()
            .map(|(key, found)| {
                let mut found: Vec<location::Model> = found.into_iter().flatten().collect();
                found.sort_by(|a, b| a.name.cmp(&b.name));
                (key, found)
            })
            .collect())
    }
}

impl Loader<AreaOfService> for MapLoader {
    type Value = Vec<service_area::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[AreaOfService]) -> Result<HashMap<AreaOfService, Self::Value>, Self::Error> {
        let rows = service_area::Entity::find()
            .filter(service_area::Column::ServiceId.is_in(ids(keys, |k| &k.0)))
            .all(&self.db)
            .await?;
        Ok(group(rows, |a| AreaOfService(a.service_id.clone()), |a| a))
    }
}
