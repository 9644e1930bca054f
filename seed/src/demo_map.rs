//! The demonstration social map: typical actors of Flemish municipalities with fictional
//! names, addresses and contacts (`data/demo-map.json`). Ids are derived from the file's
//! stable keys, so a service keeps its id across reseeds and front-end demos can link to it.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{
    Access, Cost, InterpreterKind, LanguageMode, OrganizationKind, ServiceAreaKind, ServiceStatus, TargetGroup,
};
use entity::{
    location, organization, search_key, service, service_area, service_domain, service_language, service_location,
    service_target_group, service_translation,
};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use uuid::Uuid;

use crate::SeedError;
use crate::insert::MapRows;

const DEMO_MAP: &str = include_str!("../data/demo-map.json");

/// Namespace for the demo map's name-based (v5) UUIDs.
const DEMO_NAMESPACE: Uuid = Uuid::from_u128(0x5a0c_1a1d_e3f0_4c6b_9d2e_7b1f_0d3e_9a41);

/// Says what the demo map is, wherever it is shown.
pub const DEMO_NOTICE: &str = "Demonstration data: typical actors of a Flemish social map with fictional names, \
addresses and contacts. Not a real directory.";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoMap {
    notice: String,
    organizations: Vec<DemoOrganization>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DemoOrganization {
    key: String,
    name: String,
    kind: OrganizationKind,
    description: Option<String>,
    website: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    locations: Vec<DemoLocation>,
    services: Vec<DemoService>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DemoLocation {
    key: String,
    name: String,
    address: String,
    postal_code: String,
    municipality: String,
    latitude: f64,
    longitude: f64,
    accessibility: Option<String>,
    opening_hours: Option<String>,
    confidential: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DemoService {
    key: String,
    name: String,
    description: String,
    translations: HashMap<String, DemoTranslation>,
    domains: Vec<String>,
    target_groups: Vec<TargetGroup>,
    age_min: Option<i32>,
    age_max: Option<i32>,
    cost: Cost,
    access: Access,
    access_description: Option<String>,
    languages: Vec<DemoLanguage>,
    locations: Vec<String>,
    area: DemoArea,
    email: Option<String>,
    phone: Option<String>,
    url: Option<String>,
    last_verified_at: Option<NaiveDate>,
    capacity: Option<DemoCapacity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTranslation {
    name: String,
    description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DemoLanguage {
    code: String,
    mode: LanguageMode,
    interpreter_kind: Option<InterpreterKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoArea {
    national: bool,
    regions: Vec<String>,
    provinces: Vec<String>,
    municipalities: Vec<String>,
    radius: Option<DemoRadius>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRadius {
    location: String,
    km: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCapacity {
    available: i32,
    maximum: i32,
}

/// The id a demo record gets from its key, e.g. `demo_id("service", "huurdersbond-gent")`.
pub fn demo_id(kind: &str, key: &str) -> String {
    Uuid::new_v5(&DEMO_NAMESPACE, format!("{kind}:{key}").as_bytes()).to_string()
}

/// Loads the demo map in one transaction.
pub async fn seed_demo_map(db: &DatabaseConnection) -> Result<(), SeedError> {
    let map: DemoMap =
        serde_json::from_str(DEMO_MAP).map_err(|e| SeedError::InvalidData(format!("demo-map.json: {e}")))?;
    if map.notice != DEMO_NOTICE {
        return Err(SeedError::InvalidData(
            "demo-map.json must carry the demonstration notice".into(),
        ));
    }
    let rows = demo_rows(map, Utc::now())?;

    rows.insert(db).await?;
    Ok(())
}

fn demo_rows(map: DemoMap, now: DateTime<Utc>) -> Result<MapRows, SeedError> {
    let mut rows = MapRows::default();
    for org in map.organizations {
        let organization_id = demo_id("organization", &org.key);
        let location_ids: HashMap<&str, String> = org
            .locations
            .iter()
            .map(|l| (l.key.as_str(), demo_id("location", &l.key)))
            .collect();
        for l in &org.locations {
            rows.locations.push(location::Model {
                id: location_ids[l.key.as_str()].clone(),
                organization_id: organization_id.clone(),
                name: l.name.clone(),
                address: l.address.clone(),
                postal_code: l.postal_code.clone(),
                municipality_code: l.municipality.clone(),
                latitude: Some(l.latitude),
                longitude: Some(l.longitude),
                accessibility: l.accessibility.clone(),
                opening_hours: l.opening_hours.clone(),
                confidential: l.confidential,
                external_id: None,
                version: 1,
                created_at: now,
                updated_at: now,
            });
        }
        for s in org.services {
            let service_id = demo_id("service", &s.key);
            let location_of = |key: &str| {
                location_ids.get(key).cloned().ok_or_else(|| {
                    SeedError::InvalidData(format!(
                        "service {} names location {key} of another organization",
                        s.key
                    ))
                })
            };
            for key in &s.locations {
                rows.service_locations.push(service_location::Model {
                    service_id: service_id.clone(),
                    location_id: location_of(key)?,
                });
            }
            rows.areas.extend(area_rows(&service_id, &s, &location_of)?);
            for (lang, t) in &s.translations {
                rows.translations.push(service_translation::Model {
                    service_id: service_id.clone(),
                    lang: lang.clone(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                });
            }
            rows.domains.extend(s.domains.iter().map(|code| service_domain::Model {
                service_id: service_id.clone(),
                domain_code: code.clone(),
            }));
            rows.languages
                .extend(s.languages.iter().map(|l| service_language::Model {
                    service_id: service_id.clone(),
                    language_code: l.code.clone(),
                    mode: l.mode,
                    interpreter_kind: l.interpreter_kind,
                }));
            rows.target_groups
                .extend(s.target_groups.iter().map(|g| service_target_group::Model {
                    service_id: service_id.clone(),
                    target_group: *g,
                }));
            rows.services.push(service::Model {
                id: service_id.clone(),
                organization_id: organization_id.clone(),
                name_search: search_key::normalize(&s.name),
                name: s.name,
                description: s.description,
                status: ServiceStatus::Active,
                cost: s.cost,
                access: s.access,
                access_description: s.access_description,
                age_min: s.age_min,
                age_max: s.age_max,
                email: s.email,
                phone: s.phone,
                url: s.url,
                capacity_available: s.capacity.as_ref().map(|c| c.available),
                capacity_maximum: s.capacity.as_ref().map(|c| c.maximum),
                capacity_updated_at: s.capacity.as_ref().map(|_| now),
                last_verified_at: s.last_verified_at.map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc()),
                verified_by: None,
                external_id: None,
                version: 1,
                created_at: now,
                updated_at: now,
            });
        }
        rows.organizations.push(organization::Model {
            id: organization_id,
            name_search: search_key::normalize(&org.name),
            name: org.name,
            kind: org.kind,
            description: org.description,
            website: org.website,
            email: org.email,
            phone: org.phone,
            kbo_number: None,
            external_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        });
    }
    Ok(rows)
}

fn area_rows(
    service_id: &str,
    s: &DemoService,
    location_of: &dyn Fn(&str) -> Result<String, SeedError>,
) -> Result<Vec<service_area::Model>, SeedError> {
    let row = |kind, n: usize| service_area::Model {
        id: demo_id("service_area", &format!("{}:{kind:?}:{n}", s.key)),
        service_id: service_id.to_owned(),
        kind,
        region_code: None,
        province_code: None,
        municipality_code: None,
        location_id: None,
        radius_km: None,
    };
    let mut areas = Vec::new();
    if s.area.national {
        areas.push(row(ServiceAreaKind::National, 0));
    }
    for (n, code) in s.area.regions.iter().enumerate() {
        areas.push(service_area::Model {
            region_code: Some(code.clone()),
            ..row(ServiceAreaKind::Region, n)
        });
    }
    for (n, code) in s.area.provinces.iter().enumerate() {
        areas.push(service_area::Model {
            province_code: Some(code.clone()),
            ..row(ServiceAreaKind::Province, n)
        });
    }
    for (n, code) in s.area.municipalities.iter().enumerate() {
        areas.push(service_area::Model {
            municipality_code: Some(code.clone()),
            ..row(ServiceAreaKind::Municipality, n)
        });
    }
    if let Some(radius) = &s.area.radius {
        if !s.locations.contains(&radius.location) {
            return Err(SeedError::InvalidData(format!(
                "service {}: the radius must be around one of its own locations",
                s.key
            )));
        }
        areas.push(service_area::Model {
            location_id: Some(location_of(&radius.location)?),
            radius_km: Some(radius.km),
            ..row(ServiceAreaKind::Radius, 0)
        });
    }
    if areas.is_empty() {
        return Err(SeedError::InvalidData(format!("service {} has no service area", s.key)));
    }
    Ok(areas)
}
