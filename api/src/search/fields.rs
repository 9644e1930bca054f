//! The index's schema, and how a service becomes an index document.
//!
//! Text is indexed three times, once per language analyzer, because a volunteer's query may
//! be Dutch, French or English and a service may have translations. Everything search
//! filters on is an exact term; everything ranking reads per hit is a fast field.

use entity::enums::{LanguageMode, ServiceAreaKind, ServiceStatus, TargetGroup};
use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::analysis::{Analyzed, LANGS, analyzer_name};
use super::document::ServiceDocument;
use crate::geo::Position;
use crate::reference::ReferenceData;

/// Bump when the schema or what goes into a document changes: `serve` then rebuilds the
/// index instead of reading one it would misunderstand.
pub const SCHEMA_VERSION: u32 = 7;

/// Ages outside any service's range, for services without a lower or upper bound.
pub const AGE_FLOOR: i64 = 0;
pub const AGE_CEILING: i64 = 200;

#[derive(Clone)]
pub struct Fields {
    pub id: Field,
    /// A stable number per service: the tie-breaker that keeps pagination stable.
    pub tie_breaker: Field,
    pub name: [Field; 3],
    pub description: [Field; 3],
    /// Organization name, domain labels and synonyms, access description.
    pub context: [Field; 3],
    /// Descriptions in the languages not analysed, `OtherDescription::pack`ed: shown, not searched.
    pub other_description: Field,
    /// Domain and need codes, each need with its parent domain.
    pub domain: Field,
    pub staff_language: Field,
    pub interpreted_language: Field,
    /// One value per language the service offers, `LanguageOffer::packed`.
    pub language_offer: Field,
    pub target_group: Field,
    pub cost: Field,
    pub access: Field,
    pub age_min: Field,
    pub age_max: Field,
    /// `Coverage` terms of every place the service's area covers.
    pub area: Field,
    /// One value per public location with coordinates, `pack_position`.
    pub location: Field,
    /// The same for confidential locations: they count for distance, reported coarsely.
    pub confidential_location: Field,
    /// The grid cells (`geo::cells_of`) of every location with coordinates, public or
    /// confidential: a radius search looks up the cells around the family first.
    pub cell: Field,
    /// Unix seconds of the last verification (0 when never verified) times two, plus one
    /// when temporarily closed: ranking reads both at once.
    pub freshness: Field,
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let text = |lang: Analyzed| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzer_name(lang))
                    // No phrase is ever searched: positions would only slow the build.
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let mut per_lang = |name: &str, stored: bool| {
            LANGS.map(|lang| {
                let options = if stored { text(lang).set_stored() } else { text(lang) };
                builder.add_text_field(&format!("{name}_{}", lang.code()), options)
            })
        };
        let name = per_lang("name", false);
        // Stored for snippets.
        let description = per_lang("description", true);
        let context = per_lang("context", false);
        let fields = Fields {
            name,
            description,
            context,
            other_description: builder.add_text_field("other_description", STORED),
            // Fast: a page of ids is read without the document store.
            id: builder.add_text_field("id", STRING | FAST),
            tie_breaker: builder.add_u64_field("tie_breaker", FAST),
            domain: builder.add_text_field("domain", STRING | FAST),
            staff_language: builder.add_text_field("staff_language", STRING),
            interpreted_language: builder.add_text_field("interpreted_language", STRING),
            language_offer: builder.add_u64_field("language_offer", FAST),
            target_group: builder.add_text_field("target_group", STRING),
            cost: builder.add_text_field("cost", STRING),
            access: builder.add_text_field("access", STRING),
            age_min: builder.add_i64_field("age_min", INDEXED | FAST),
            age_max: builder.add_i64_field("age_max", INDEXED | FAST),
            area: builder.add_text_field("area", STRING | FAST),
            location: builder.add_u64_field("location", FAST),
            confidential_location: builder.add_u64_field("confidential_location", FAST),
            cell: builder.add_text_field("cell", STRING),
            freshness: builder.add_i64_field("freshness", FAST),
        };
        (builder.build(), fields)
    }

    /// The index document of a searchable service.
    pub fn document(&self, reference: &ReferenceData, doc: &ServiceDocument) -> TantivyDocument {
        let service = &doc.service;
        let mut out = TantivyDocument::default();
        out.add_text(self.id, &service.id);
        out.add_u64(self.tie_breaker, tie_breaker(&service.id));

        let mut domain_codes: Vec<&str> = Vec::new();
        for code in &doc.domain_codes {
            domain_codes.push(code);
            if let Some(parent) = reference.domain(code).and_then(|d| d.parent_code.as_deref()) {
                domain_codes.push(parent);
            }
        }
        domain_codes.sort();
        domain_codes.dedup();

        for (i, lang) in LANGS.into_iter().enumerate() {
            let translation = doc.translations.iter().find(|t| t.lang == lang.code());
            let (name, description) = match (lang, translation) {
                (Analyzed::Nl, _) => (service.name.as_str(), service.description.as_str()),
                (_, Some(t)) => (t.name.as_str(), t.description.as_str()),
                (_, None) => ("", ""),
            };
            out.add_text(self.name[i], name);
            out.add_text(self.description[i], description);
            // The organization's name and the domains' words belong to every language.
            let mut context = vec![doc.organization_name.clone()];
            for code in &domain_codes {
                if let Some(domain) = reference.domain(code) {
                    context.push(reference.domain_label(domain, lang.lang()).text);
                }
                context.extend(
                    reference
                        .synonyms_of(code)
                        .iter()
                        .filter(|s| s.lang == lang.code())
                        .map(|s| s.synonym.clone()),
                );
            }
            if lang == Analyzed::Nl {
                context.extend(service.access_description.clone());
            }
            out.add_text(self.context[i], context.join(". "));
        }
        for code in domain_codes {
            out.add_text(self.domain, code);
        }
        for t in &doc.translations {
            if !t.description.is_empty() && LANGS.iter().all(|l| l.code() != t.lang) {
                out.add_text(self.other_description, OtherDescription::pack(&t.lang, &t.description));
            }
        }

        let mut offers = Vec::new();
        for language in &doc.languages {
            let field = match language.mode {
                LanguageMode::Staff => self.staff_language,
                LanguageMode::Interpreter => self.interpreted_language,
            };
            out.add_text(field, &language.language_code);
            offers.push(
                LanguageOffer {
                    code: language.language_code.clone(),
                    mode: language.mode,
                }
                .packed(),
            );
        }
        offers.sort_unstable();
        for offer in offers {
            out.add_u64(self.language_offer, offer);
        }

        if doc.target_groups.is_empty() {
            out.add_text(self.target_group, target_group_term(TargetGroup::Everyone));
        }
        for group in &doc.target_groups {
            out.add_text(self.target_group, target_group_term(*group));
        }
        out.add_text(self.cost, enum_term(&service.cost));
        out.add_text(self.access, enum_term(&service.access));
        out.add_i64(self.age_min, service.age_min.map_or(AGE_FLOOR, i64::from));
        out.add_i64(self.age_max, service.age_max.map_or(AGE_CEILING, i64::from));

        for term in coverage_terms(reference, doc) {
            out.add_text(self.area, term);
        }
        let mut cells = Vec::new();
        for location in &doc.locations {
            if let (Some(latitude), Some(longitude)) = (location.latitude, location.longitude) {
                let field = if location.confidential {
                    self.confidential_location
                } else {
                    self.location
                };
                let position = Position::new(latitude, longitude);
                out.add_u64(field, pack_position(position));
                cells.extend(crate::geo::cells_of(position));
            }
        }
        cells.sort();
        cells.dedup();
        for cell in cells {
            out.add_text(self.cell, cell);
        }
        let verified_at = service.last_verified_at.map_or(0, |at| at.timestamp());
        out.add_i64(
            self.freshness,
            verified_at * 2 + i64::from(service.status == ServiceStatus::TemporarilyClosed),
        );
        out
    }
}

/// A description in a language the index does not analyse, stored as `code`, a unit
/// separator, and the text.
pub struct OtherDescription;

impl OtherDescription {
    const SEPARATOR: char = '\u{1f}';

    pub fn pack(code: &str, text: &str) -> String {
        format!("{code}{}{text}", Self::SEPARATOR)
    }

    /// The text of a packed value, if it is in `code`.
    pub fn text_in<'a>(packed: &'a str, code: &str) -> Option<&'a str> {
        let (lang, text) = packed.split_once(Self::SEPARATOR)?;
        (lang == code).then_some(text)
    }
}

/// The exact term an enum value is indexed as: its GraphQL/SQL name.
pub fn enum_term<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn target_group_term(group: TargetGroup) -> String {
    enum_term(&group)
}

/// The places a service area is indexed under; a family's place is covered when one of its
/// own terms (`Coverage::of_municipality`) is among them.
pub enum Coverage {}

impl Coverage {
    pub const NATIONAL: &'static str = "national";

    pub fn region(code: &str) -> String {
        format!("region:{code}")
    }

    pub fn province(code: &str) -> String {
        format!("province:{code}")
    }

    pub fn municipality(code: &str) -> String {
        format!("municipality:{code}")
    }

    /// The terms that cover a family living in `code`.
    pub fn of_municipality(reference: &ReferenceData, code: &str) -> Vec<String> {
        let Some(municipality) = reference.municipality(code) else {
            return Vec::new();
        };
        let mut terms = vec![
            Coverage::NATIONAL.to_owned(),
            Coverage::region(&municipality.region_code),
            Coverage::municipality(&municipality.code),
        ];
        terms.extend(municipality.province_code.as_deref().map(Coverage::province));
        terms
    }
}

/// A radius around a location is indexed as the municipalities whose centre it reaches, so
/// coverage is one term lookup at query time.
fn coverage_terms(reference: &ReferenceData, doc: &ServiceDocument) -> Vec<String> {
    let mut terms = Vec::new();
    for area in &doc.areas {
        match area.kind {
            ServiceAreaKind::National => terms.push(Coverage::NATIONAL.to_owned()),
            ServiceAreaKind::Region => terms.extend(area.region_code.as_deref().map(Coverage::region)),
            ServiceAreaKind::Province => terms.extend(area.province_code.as_deref().map(Coverage::province)),
            ServiceAreaKind::Municipality => {
                terms.extend(area.municipality_code.as_deref().map(Coverage::municipality))
            }
            ServiceAreaKind::Radius => {
                let centre = doc
                    .locations
                    .iter()
                    .find(|l| Some(&l.id) == area.location_id.as_ref())
                    .and_then(|l| Some(Position::new(l.latitude?, l.longitude?)));
                if let (Some(centre), Some(km)) = (centre, area.radius_km) {
                    terms.extend(
                        reference
                            .municipalities_within(centre, km)
                            .map(|m| Coverage::municipality(&m.code)),
                    );
                }
            }
        }
    }
    terms.sort();
    terms.dedup();
    terms
}

/// A language a service offers and how, packed in a fast-field value: the ISO 639-3 code's
/// letters, then the mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanguageOffer {
    pub code: String,
    pub mode: LanguageMode,
}

impl LanguageOffer {
    pub fn packed(&self) -> u64 {
        (Self::packed_code(&self.code) << 8) | u64::from(self.mode == LanguageMode::Interpreter)
    }

    /// The code's letters as a number: `packed() >> 8`. Values of one service sort by it, so
    /// a language offered in both modes is adjacent.
    pub fn packed_code(code: &str) -> u64 {
        code.bytes().take(7).fold(0u64, |acc, b| (acc << 8) | u64::from(b))
    }

    pub fn mode_of(value: u64) -> LanguageMode {
        if value & 1 == 1 {
            LanguageMode::Interpreter
        } else {
            LanguageMode::Staff
        }
    }

    pub fn unpack(value: u64) -> LanguageOffer {
        let bytes: Vec<u8> = (value >> 8).to_be_bytes().into_iter().filter(|b| *b != 0).collect();
        LanguageOffer {
            code: String::from_utf8_lossy(&bytes).into_owned(),
            mode: Self::mode_of(value),
        }
    }
}

/// Latitude and longitude as two f32 in one u64: ample for distances in kilometres.
pub fn pack_position(position: Position) -> u64 {
    (u64::from((position.latitude as f32).to_bits()) << 32) | u64::from((position.longitude as f32).to_bits())
}

pub fn unpack_position(value: u64) -> Position {
    Position::new(
        f64::from(f32::from_bits((value >> 32) as u32)),
        f64::from(f32::from_bits(value as u32)),
    )
}

/// FNV-1a of the id: stable across builds and processes, unlike the standard hasher.
fn tie_breaker(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_offers_and_positions_round_trip() {
        for (code, mode) in [("prs", LanguageMode::Staff), ("ukr", LanguageMode::Interpreter)] {
            let offer = LanguageOffer {
                code: code.to_owned(),
                mode,
            };
            assert_eq!(LanguageOffer::unpack(offer.packed()), offer);
        }
        let aalst = Position::new(50.9378, 4.0403);
        let back = unpack_position(pack_position(aalst));
        assert!(crate::geo::distance_km(aalst, back) < 0.01);
    }
}
