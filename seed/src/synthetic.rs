//! Large synthetic social maps for benchmarks: organizations and services spread over every
//! municipality, with the shape of the demo map (several domains and languages per service,
//! local, provincial, regional, national and radius areas, some services without a
//! location, some stale). Deterministic: the same size and seed give the same map.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::enums::{
    Access, Cost, InterpreterKind, LanguageMode, OrganizationKind, ServiceAreaKind, ServiceStatus, TargetGroup,
};
use entity::{
    life_domain, location, municipality, organization, postal_code_municipality, search_key, service, service_area,
    service_domain, service_language, service_location, service_target_group,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder};
use uuid::Uuid;

use crate::SeedError;
use crate::insert::MapRows;

const SYNTHETIC_NAMESPACE: Uuid = Uuid::from_u128(0x7c1e_55b2_0a4f_4e0d_8f63_2d9a_41c7_b3e8);

/// Services per organization, on average.
const SERVICES_PER_ORGANIZATION: usize = 5;

/// Languages offered besides Dutch, roughly by how often newcomers in Flanders need them.
const OTHER_LANGUAGES: [&str; 16] = [
    "fra", "eng", "ara", "prs", "pbt", "tir", "ukr", "som", "rus", "tur", "fas", "kur", "amh", "pes", "ckb", "spa",
];

const TARGET_GROUPS: [TargetGroup; 9] = [
    TargetGroup::Everyone,
    TargetGroup::AsylumSeekers,
    TargetGroup::Refugees,
    TargetGroup::TemporaryProtection,
    TargetGroup::Undocumented,
    TargetGroup::UnaccompaniedMinors,
    TargetGroup::FamiliesWithChildren,
    TargetGroup::Women,
    TargetGroup::Youth,
];

const KINDS: [OrganizationKind; 4] = [
    OrganizationKind::Public,
    OrganizationKind::Ngo,
    OrganizationKind::VolunteerGroup,
    OrganizationKind::Informal,
];

/// How much a synthetic map holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyntheticReport {
    pub organizations: usize,
    pub services: usize,
    pub locations: usize,
}

struct Place {
    municipality: municipality::Model,
    postal_code: String,
}

/// Adds `services` synthetic services (and their organizations and locations) to a
/// database with reference data and no organizations yet.
pub async fn seed_synthetic_map(
    db: &DatabaseConnection,
    services: usize,
    rng_seed: u64,
) -> Result<SyntheticReport, SeedError> {
    if organization::Entity::find().count(db).await? > 0 {
        return Err(SeedError::InvalidData(
            "a synthetic map goes into a database without organizations: start from an empty one".into(),
        ));
    }
    let postal_codes: HashMap<String, String> = postal_code_municipality::Entity::find()
        .order_by_asc(postal_code_municipality::Column::PostalCode)
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.municipality_code, p.postal_code))
        .collect();
    let places: Vec<Place> = municipality::Entity::find()
        .order_by_asc(municipality::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| {
            Some(Place {
                postal_code: postal_codes.get(&m.code)?.clone(),
                municipality: m,
            })
        })
        .collect();
    let needs: Vec<life_domain::Model> = life_domain::Entity::find()
        .order_by_asc(life_domain::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .filter(|d| d.parent_code.is_some())
        .collect();
    if places.is_empty() || needs.is_empty() {
        return Err(SeedError::InvalidData(
            "seed the reference data before a synthetic map".into(),
        ));
    }

    let mut rng = StdRng::seed_from_u64(rng_seed);
    let now = Utc::now();
    let id = |kind: &str, n: usize| {
        Uuid::new_v5(&SYNTHETIC_NAMESPACE, format!("{rng_seed}:{kind}:{n}").as_bytes()).to_string()
    };
    let mut rows = MapRows::default();
    let organizations = services.div_ceil(SERVICES_PER_ORGANIZATION);
    for o in 0..organizations {
        let place = places.choose(&mut rng).expect("places is not empty");
        let organization_id = id("organization", o);
        let name = format!("{} {} {o}", organization_word(&mut rng), place.municipality.name_nl);
        let location_ids: Vec<String> = (0..rng.random_range(1..=2))
            .map(|l| id("location", o * 2 + l))
            .collect();
        for location_id in &location_ids {
            rows.locations.push(location::Model {
                id: location_id.clone(),
                organization_id: organization_id.clone(),
                name: format!("{name} – onthaal"),
                address: format!("Voorbeeldstraat {}", rng.random_range(1..200)),
                postal_code: place.postal_code.clone(),
                municipality_code: place.municipality.code.clone(),
                // Within about 2 km of the municipality's centre.
                latitude: Some(place.municipality.latitude + rng.random_range(-0.018..0.018)),
                longitude: Some(place.municipality.longitude + rng.random_range(-0.028..0.028)),
                accessibility: rng.random_bool(0.3).then(|| "rolstoeltoegankelijk".to_owned()),
                opening_hours: Some("ma–vr 9:00–12:00".to_owned()),
                confidential: rng.random_bool(0.005),
                external_id: None,
                version: 1,
                created_at: now,
                updated_at: now,
            });
        }
        let first = o * SERVICES_PER_ORGANIZATION;
        for s in first..(first + SERVICES_PER_ORGANIZATION).min(services) {
            rows.add_service(
                &mut rng,
                id("service", s),
                &organization_id,
                &location_ids,
                place,
                &needs,
                now,
                s,
            );
        }
        rows.organizations.push(organization::Model {
            id: organization_id,
            name_search: search_key::normalize(&name),
            name,
            kind: *KINDS.choose(&mut rng).expect("kinds"),
            description: Some(format!("Synthetische organisatie in {}.", place.municipality.name_nl)),
            website: None,
            email: None,
            phone: None,
            kbo_number: None,
            external_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        });
    }
    let report = SyntheticReport {
        organizations: rows.organizations.len(),
        services: rows.services.len(),
        locations: rows.locations.len(),
    };

    rows.insert(db).await?;
    Ok(report)
}

fn organization_word(rng: &mut StdRng) -> &'static str {
    [
        "OCMW",
        "Vzw Samen",
        "Buurtwerk",
        "Welzijnshuis",
        "Steunpunt",
        "Vrijwilligersgroep",
    ]
    .choose(rng)
    .expect("words")
}

impl MapRows {
    #[allow(clippy::too_many_arguments)]
    fn add_service(
        &mut self,
        rng: &mut StdRng,
        service_id: String,
        organization_id: &str,
        location_ids: &[String],
        place: &Place,
        needs: &[life_domain::Model],
        now: DateTime<Utc>,
        n: usize,
    ) {
        let count = rng.random_range(1..=3);
        let chosen: Vec<&life_domain::Model> = needs.choose_multiple(rng, count).collect();
        for need in &chosen {
            self.domains.push(service_domain::Model {
                service_id: service_id.clone(),
                domain_code: need.code.clone(),
            });
        }
        self.languages.push(service_language::Model {
            service_id: service_id.clone(),
            language_code: "nld".to_owned(),
            mode: LanguageMode::Staff,
            interpreter_kind: None,
        });
        let count = rng.random_range(0..=3);
        for code in OTHER_LANGUAGES.choose_multiple(rng, count) {
            let staff = rng.random_bool(0.4);
            self.languages.push(service_language::Model {
                service_id: service_id.clone(),
                language_code: (*code).to_owned(),
                mode: if staff {
                    LanguageMode::Staff
                } else {
                    LanguageMode::Interpreter
                },
                interpreter_kind: (!staff).then_some(InterpreterKind::Social),
            });
        }
        let count = rng.random_range(1..=2);
        for group in TARGET_GROUPS.choose_multiple(rng, count) {
            self.target_groups.push(service_target_group::Model {
                service_id: service_id.clone(),
                target_group: *group,
            });
        }

        // One in ten services is by phone or online only.
        let located = rng.random_bool(0.9);
        if located {
            for location_id in location_ids {
                self.service_locations.push(service_location::Model {
                    service_id: service_id.clone(),
                    location_id: location_id.clone(),
                });
            }
        }
        let area = |kind| service_area::Model {
            id: Uuid::new_v5(&SYNTHETIC_NAMESPACE, format!("area:{service_id}").as_bytes()).to_string(),
            service_id: service_id.clone(),
            kind,
            region_code: None,
            province_code: None,
            municipality_code: None,
            location_id: None,
            radius_km: None,
        };
        let m = &place.municipality;
        self.areas.push(match rng.random_range(0..100) {
            0..60 => service_area::Model {
                municipality_code: Some(m.code.clone()),
                ..area(ServiceAreaKind::Municipality)
            },
            60..80 if m.province_code.is_some() => service_area::Model {
                province_code: m.province_code.clone(),
                ..area(ServiceAreaKind::Province)
            },
            80..90 => service_area::Model {
                region_code: Some(m.region_code.clone()),
                ..area(ServiceAreaKind::Region)
            },
            90..95 if located => service_area::Model {
                location_id: Some(location_ids[0].clone()),
                radius_km: Some(f64::from(rng.random_range(5..=30))),
                ..area(ServiceAreaKind::Radius)
            },
            _ => area(ServiceAreaKind::National),
        });

        let labels: Vec<&str> = chosen.iter().map(|d| d.label_nl.as_str()).collect();
        let name = format!("{} {} {n}", labels[0], m.name_nl);
        self.services.push(service::Model {
            id: service_id,
            organization_id: organization_id.to_owned(),
            name_search: search_key::normalize(&name),
            name,
            description: format!(
                "Hulp bij {} voor gezinnen in {} en omgeving.",
                labels.join(", ").to_lowercase(),
                m.name_nl
            ),
            status: if rng.random_bool(0.97) {
                ServiceStatus::Active
            } else {
                ServiceStatus::Inactive
            },
            cost: if rng.random_bool(0.85) {
                Cost::Free
            } else {
                Cost::Contribution
            },
            access: if rng.random_bool(0.8) {
                Access::SelfReferral
            } else {
                Access::ProfessionalReferral
            },
            access_description: None,
            age_min: None,
            age_max: None,
            email: None,
            phone: None,
            url: None,
            capacity_available: None,
            capacity_maximum: None,
            capacity_updated_at: None,
            // Up to two years ago, so about half the map is stale.
            last_verified_at: rng
                .random_bool(0.95)
                .then(|| now - Duration::days(rng.random_range(0..730))),
            verified_by: None,
            external_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        });
    }
}
