use std::collections::{BTreeMap, HashMap};

use entity::{
    language, life_domain, life_domain_synonym, municipality, postal_code, postal_code_municipality, province, region,
    search_key,
};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use super::labels::{self, Direction, Languages, Localized, Value};
use super::{Lang, ReferenceError};
use crate::geo::{Position, distance_km};

/// All reference data, loaded once at start-up.
pub struct ReferenceData {
    regions: BTreeMap<String, region::Model>,
    provinces: BTreeMap<String, province::Model>,
    municipalities: BTreeMap<String, municipality::Model>,
    /// Municipality codes ordered by Dutch name, the order lists are shown in.
    municipalities_by_name: Vec<String>,
    postal_codes: BTreeMap<String, postal_code::Model>,
    postal_codes_of_municipality: HashMap<String, Vec<String>>,
    municipalities_of_postal_code: HashMap<String, Vec<String>>,
    /// Top-level domains, then each domain's needs, in display order.
    domains: Vec<life_domain::Model>,
    synonyms: HashMap<String, Vec<life_domain_synonym::Model>>,
    languages: BTreeMap<String, language::Model>,
    language_by_iso639_1: HashMap<String, String>,
    /// What people type for a need, in the families' languages and in everyday words
    /// (`seed/data/lexicon/`), for domains that exist.
    lexicon: Vec<seed::LexiconTerm>,
    /// Fallbacks, directions and labels of the answer languages.
    answer_languages: Languages,
}

/// One answer of the place autocomplete: a municipality, or a postal code in a municipality.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub postal_code: Option<String>,
    pub municipality_code: String,
}

impl ReferenceData {
    pub async fn load(db: &DatabaseConnection) -> Result<Self, ReferenceError> {
        let regions = region::Entity::find().all(db).await?;
        let provinces = province::Entity::find().all(db).await?;
        let municipalities = municipality::Entity::find().all(db).await?;
        let postal_codes = postal_code::Entity::find().all(db).await?;
        let pairs = postal_code_municipality::Entity::find()
            .order_by_asc(postal_code_municipality::Column::PostalCode)
            .all(db)
            .await?;
        let domains = life_domain::Entity::find()
            .order_by_asc(life_domain::Column::Position)
            .all(db)
            .await?;
        let synonyms = life_domain_synonym::Entity::find().all(db).await?;
        let languages = language::Entity::find().all(db).await?;
        let lexicon = seed::lexicon().map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        let labels = seed::labels().map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        let answer_languages = Languages::new(&languages, labels);

        let mut municipalities_by_name: Vec<&municipality::Model> = municipalities.iter().collect();
        municipalities_by_name.sort_by_key(|m| search_key::normalize(&m.name_nl));
        let municipalities_by_name = municipalities_by_name.into_iter().map(|m| m.code.clone()).collect();

        let mut postal_codes_of_municipality: HashMap<String, Vec<String>> = HashMap::new();
        let mut municipalities_of_postal_code: HashMap<String, Vec<String>> = HashMap::new();
        for pair in pairs {
            postal_codes_of_municipality
                .entry(pair.municipality_code.clone())
                .or_default()
                .push(pair.postal_code.clone());
            municipalities_of_postal_code
                .entry(pair.postal_code)
                .or_default()
                .push(pair.municipality_code);
        }

        // Top-level domains first, each followed by nothing: children are looked up per parent.
        let (top, needs): (Vec<_>, Vec<_>) = domains.into_iter().partition(|d| d.parent_code.is_none());
        let domains: Vec<life_domain::Model> = top.into_iter().chain(needs).collect();
        let lexicon: Vec<seed::LexiconTerm> = lexicon
            .into_iter()
            .filter(|t| domains.iter().any(|d| d.code == t.domain_code))
            .collect();

        let mut synonyms_by_domain: HashMap<String, Vec<life_domain_synonym::Model>> = HashMap::new();
        for s in synonyms {
            synonyms_by_domain.entry(s.domain_code.clone()).or_default().push(s);
        }
        let language_by_iso639_1 = languages
            .iter()
            .filter_map(|l| l.iso639_1.clone().map(|two| (two, l.code.clone())))
            .collect();

        Ok(ReferenceData {
            regions: regions.into_iter().map(|r| (r.code.clone(), r)).collect(),
            provinces: provinces.into_iter().map(|p| (p.code.clone(), p)).collect(),
            municipalities: municipalities.into_iter().map(|m| (m.code.clone(), m)).collect(),
            municipalities_by_name,
            postal_codes: postal_codes.into_iter().map(|p| (p.code.clone(), p)).collect(),
            postal_codes_of_municipality,
            municipalities_of_postal_code,
            domains,
            synonyms: synonyms_by_domain,
            lexicon,
            answer_languages,
            languages: languages.into_iter().map(|l| (l.code.clone(), l)).collect(),
            language_by_iso639_1,
        })
    }

    /// A life domain's label in `lang`, or in the language it falls back to.
    pub fn domain_label(&self, domain: &life_domain::Model, lang: Lang) -> Localized {
        self.answer_languages.domain_label(domain, lang)
    }

    /// A target group's, cost's or access's label in `lang`, or in its fallback.
    pub fn value_label(&self, value: Value, lang: Lang) -> Localized {
        self.answer_languages.value_label(value, lang)
    }

    /// The first text `text_in` gives (with whether it was reviewed) along `lang`'s
    /// fallbacks: `lang`, its macrolanguage, Dutch. Empty texts are skipped.
    pub fn localize<'t>(&self, lang: Lang, text_in: impl Fn(Lang) -> Option<(&'t str, bool)>) -> Localized {
        self.answer_languages.localize(lang, text_in)
    }

    pub fn direction(&self, lang: Lang) -> Direction {
        self.answer_languages.direction(lang)
    }

    /// Whether labels asked in `lang` come in that language or its macrolanguage.
    pub fn has_labels(&self, lang: Lang) -> bool {
        self.answer_languages.has_labels(lang)
    }

    /// The answer language of a language code (`prs`, `ar`, `fa-AF`).
    pub fn answer_language(&self, code: &str) -> Option<Lang> {
        labels::lang_of(self.normalize_language(code).ok()?)
    }

    /// The lexicon's terms, file by file.
    pub fn lexicon(&self) -> &[seed::LexiconTerm] {
        &self.lexicon
    }

    pub fn region(&self, code: &str) -> Option<&region::Model> {
        self.regions.get(code)
    }

    pub fn province(&self, code: &str) -> Option<&province::Model> {
        self.provinces.get(code)
    }

    pub fn municipality(&self, code: &str) -> Option<&municipality::Model> {
        self.municipalities.get(code)
    }

    /// The municipality of `code`, or `UnknownMunicipality`.
    pub fn require_municipality(&self, code: &str) -> Result<&municipality::Model, ReferenceError> {
        self.municipality(code)
            .ok_or_else(|| ReferenceError::UnknownMunicipality(code.to_owned()))
    }

    /// Municipalities whose nl or fr name contains `search` (accent- and case-insensitive) or
    /// whose REFNIS code starts with it; all of them without `search`. Ordered by Dutch name.
    pub fn search_municipalities(&self, search: Option<&str>) -> Vec<&municipality::Model> {
        let needle = search.map(search_key::normalize).unwrap_or_default();
        self.municipalities_by_name
            .iter()
            .map(|code| &self.municipalities[code])
            .filter(|m| needle.is_empty() || m.name_search.contains(&needle) || m.code.starts_with(&needle))
            .collect()
    }

    pub fn postal_codes_of(&self, municipality_code: &str) -> &[String] {
        self.postal_codes_of_municipality
            .get(municipality_code)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn postal_code(&self, code: &str) -> Option<&postal_code::Model> {
        self.postal_codes.get(code)
    }

    pub fn municipalities_of_postal_code(&self, code: &str) -> &[String] {
        self.municipalities_of_postal_code
            .get(code)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Municipalities whose centre lies within `km` of `centre`.
    pub fn municipalities_within(&self, centre: Position, km: f64) -> impl Iterator<Item = &municipality::Model> {
        self.municipalities
            .values()
            .filter(move |m| distance_km(centre, Position::new(m.latitude, m.longitude)) <= km)
    }

    /// The municipality whose centre is nearest to `position`, and how far that centre is.
    pub fn nearest_municipality(&self, position: Position) -> Option<(&municipality::Model, f64)> {
        self.municipalities
            .values()
            .map(|m| (m, distance_km(position, Position::new(m.latitude, m.longitude))))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Autocomplete over postal codes, municipality names (nl and fr) and the localities of
    /// postal codes, accent- and case-insensitive: "9300", "alost", "Sint-Niklaas",
    /// "Bruxelles", "Laeken". Exact matches first, then prefixes, then words, then the rest.
    pub fn places(&self, query: &str, limit: usize) -> Vec<Place> {
        let needle = search_key::normalize(query);
        if needle.is_empty() {
            return Vec::new();
        }
        let mut ranked: Vec<(u8, String, Place)> = Vec::new();
        if needle.chars().all(|c| c.is_ascii_digit()) {
            for (code, municipalities) in &self.municipalities_of_postal_code {
                if code.starts_with(&needle) {
                    let rank = if *code == needle { 0 } else { 1 };
                    for m in municipalities {
                        ranked.push((
                            rank,
                            code.clone(),
                            Place {
                                postal_code: Some(code.clone()),
                                municipality_code: m.clone(),
                            },
                        ));
                    }
                }
            }
        } else {
            for m in self.municipalities.values() {
                let names = [search_key::normalize(&m.name_nl), search_key::normalize(&m.name_fr)];
                if let Some(rank) = names.iter().filter_map(|name| match_rank(name, &needle)).min() {
                    ranked.push((
                        rank,
                        names[0].clone(),
                        Place {
                            postal_code: None,
                            municipality_code: m.code.clone(),
                        },
                    ));
                }
            }
            // Localities such as Laeken or Gentbrugge, which are postal codes, not municipalities.
            for p in self.postal_codes.values() {
                let Some(locality) = p.locality.as_deref().map(search_key::normalize) else {
                    continue;
                };
                let Some(rank) = match_rank(&locality, &needle) else {
                    continue;
                };
                for m in self.municipalities_of_postal_code.get(&p.code).into_iter().flatten() {
                    let municipality = &self.municipalities[m];
                    let same_as_municipality = [&municipality.name_nl, &municipality.name_fr]
                        .iter()
                        .any(|name| search_key::normalize(name) == locality);
                    if !same_as_municipality {
                        // A locality ranks just after a municipality matched as well.
                        ranked.push((
                            rank + 1,
                            locality.clone(),
                            Place {
                                postal_code: Some(p.code.clone()),
                                municipality_code: m.clone(),
                            },
                        ));
                    }
                }
            }
        }
        ranked.sort_by(|a, b| (a.0, &a.1, &a.2.postal_code).cmp(&(b.0, &b.1, &b.2.postal_code)));
        ranked.into_iter().take(limit).map(|(_, _, place)| place).collect()
    }

    pub fn domain(&self, code: &str) -> Option<&life_domain::Model> {
        self.domains.iter().find(|d| d.code == code)
    }

    /// Every domain and need, top-level domains first.
    pub fn domains(&self) -> impl Iterator<Item = &life_domain::Model> {
        self.domains.iter()
    }

    pub fn top_domains(&self) -> impl Iterator<Item = &life_domain::Model> {
        self.domains.iter().filter(|d| d.parent_code.is_none())
    }

    pub fn needs_of(&self, code: &str) -> impl Iterator<Item = &life_domain::Model> {
        self.domains
            .iter()
            .filter(move |d| d.parent_code.as_deref() == Some(code))
    }

    pub fn synonyms_of(&self, code: &str) -> &[life_domain_synonym::Model] {
        self.synonyms.get(code).map(Vec::as_slice).unwrap_or_default()
    }

    /// The domain codes a filter on `codes` matches: each code, and for a top-level domain
    /// all its needs too.
    pub fn expand_domains(&self, codes: &[String]) -> Result<Vec<String>, ReferenceError> {
        let mut expanded = Vec::new();
        for code in codes {
            let domain = self
                .domain(code.trim())
                .ok_or_else(|| ReferenceError::UnknownDomain(code.clone()))?;
            expanded.push(domain.code.clone());
            expanded.extend(self.needs_of(&domain.code).map(|need| need.code.clone()));
        }
        expanded.sort();
        expanded.dedup();
        Ok(expanded)
    }

    pub fn languages(&self) -> impl Iterator<Item = &language::Model> {
        self.languages.values()
    }

    pub fn language(&self, code: &str) -> Option<&language::Model> {
        self.languages.get(code)
    }

    /// Normalises an ISO 639-3 code, ISO 639-1 code or BCP-47 tag to a known ISO 639-3 code.
    /// `fa-AF` (Persian as spoken in Afghanistan) is Dari.
    pub fn normalize_language(&self, input: &str) -> Result<&language::Model, ReferenceError> {
        let tag = input.trim().replace('_', "-").to_lowercase();
        let unknown = || ReferenceError::UnknownLanguage(input.to_owned());
        let code = match tag.as_str() {
            "fa-af" | "prs-af" => "prs".to_owned(),
            _ => {
                let primary = tag.split('-').next().ok_or_else(unknown)?;
                match primary.len() {
                    2 => self.language_by_iso639_1.get(primary).cloned().ok_or_else(unknown)?,
                    _ => primary.to_owned(),
                }
            }
        };
        self.language(&code).ok_or_else(unknown)
    }

    /// The codes a filter on `code` matches: the language, the languages of its
    /// macrolanguage family below it (Persian → Dari, Iranian Persian) and its macrolanguage
    /// (Dari → Persian, for services that list only "Persian").
    pub fn matching_languages(&self, code: &str) -> Vec<String> {
        let mut codes = vec![code.to_owned()];
        codes.extend(
            self.languages
                .values()
                .filter(|l| l.macrolanguage_code.as_deref() == Some(code))
                .map(|l| l.code.clone()),
        );
        if let Some(macro_code) = self.language(code).and_then(|l| l.macrolanguage_code.clone()) {
            codes.push(macro_code);
        }
        codes
    }
}

/// How well `name` matches `needle`: 0 exact, 1 prefix, 2 a word starts with it, 3 contains.
fn match_rank(name: &str, needle: &str) -> Option<u8> {
    if name == needle {
        Some(0)
    } else if name.starts_with(needle) {
        Some(1)
    } else if name.split(' ').any(|word| word.starts_with(needle)) {
        Some(2)
    } else if name.contains(needle) {
        Some(3)
    } else {
        None
    }
}
