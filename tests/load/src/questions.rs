//! What the bench asks: a deterministic mix of the questions volunteers ask, each one usable
//! as an in-process request, as GraphQL variables and as the PostgreSQL baseline's parameters,
//! so that every measurement answers exactly the same questions.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use api::reference::{Lang, ReferenceData};
use api::search::{Near, SearchRequest};

/// Languages families ask for most, in the forms front ends send.
const ASKED_LANGUAGES: [&str; 10] = ["prs", "ar", "ti", "uk", "so", "fa", "ps", "tr", "ru", "fa-AF"];
/// Radius of the questions that ask for services nearby whatever their area.
const RADIUS_KM: f64 = 15.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum QuestionKind {
    TextPlaceLanguage,
    TextPlace,
    FiltersOnly,
    TextDomainRadius,
    TextOnly,
}

impl QuestionKind {
    const ALL: [QuestionKind; 5] = [
        QuestionKind::TextPlaceLanguage,
        QuestionKind::TextPlace,
        QuestionKind::FiltersOnly,
        QuestionKind::TextDomainRadius,
        QuestionKind::TextOnly,
    ];

    /// A number for the kind, to tell it to another process.
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or_default()
    }

    pub fn from_index(index: usize) -> Option<QuestionKind> {
        Self::ALL.get(index).copied()
    }

    pub fn label(self) -> &'static str {
        match self {
            QuestionKind::TextPlaceLanguage => "text + place + language",
            QuestionKind::TextPlace => "text + place",
            QuestionKind::FiltersOnly => "domain + place + language, no text",
            QuestionKind::TextDomainRadius => "text + domain + 15 km radius",
            QuestionKind::TextOnly => "text only",
        }
    }
}

/// One question of the mix: only what the mix varies.
#[derive(Clone, Debug)]
pub struct Question {
    pub kind: QuestionKind,
    pub text: Option<String>,
    pub postal_code: Option<String>,
    pub radius_km: Option<f64>,
    pub domain: Option<String>,
    pub language: Option<String>,
    pub lang: Lang,
}

impl Question {
    /// The question as our search takes it in-process.
    pub fn request(&self) -> SearchRequest {
        SearchRequest {
            text: self.text.clone(),
            near: self.postal_code.clone().map(Near::PostalCode),
            radius_km: self.radius_km,
            domains: self.domain.iter().cloned().collect(),
            languages: self.language.iter().cloned().collect(),
            lang: self.lang,
            ..SearchRequest::default()
        }
    }

    /// The question as a front end sends it: `ServiceSearchInput`.
    pub fn graphql_input(&self) -> Value {
        let mut input = json!({ "lang": self.lang.code().to_uppercase() });
        if let Some(text) = &self.text {
            input["text"] = json!(text);
        }
        if let Some(code) = &self.postal_code {
            input["near"] = json!({ "postalCode": code });
        }
        if let Some(km) = self.radius_km {
            input["radiusKm"] = json!(km);
        }
        if let Some(domain) = &self.domain {
            input["domains"] = json!([domain]);
        }
        if let Some(language) = &self.language {
            input["languages"] = json!([language]);
        }
        input
    }
}

/// A deterministic mix of questions: text with place and language (40%), text with place
/// (20%), domain with place and language and no text (20%), text with domain within a
/// radius (10%), and text alone (10%). Words come from the domains' labels and synonyms in
/// nl, fr and en; one in five long words has a typo. Places are postal codes of
/// `municipalities` (those where the map has locations).
pub fn question_mix(reference: &ReferenceData, municipalities: &[String], count: usize, seed: u64) -> Vec<Question> {
    let mut rng = StdRng::seed_from_u64(seed);
    let domains: Vec<&entity::life_domain::Model> = reference.domains().collect();
    let postal_codes: Vec<&String> = municipalities
        .iter()
        .flat_map(|m| reference.postal_codes_of(m))
        .collect();
    let mut words: Vec<String> = Vec::new();
    for domain in &domains {
        words.extend(reference.synonyms_of(&domain.code).iter().map(|s| s.synonym.clone()));
        words.push(domain.label_nl.clone());
    }
    (0..count)
        .map(|_| {
            // Drawn in this order whatever the kind, so a seed gives the same mix as before.
            let mut text = words.choose(&mut rng).cloned().unwrap_or_default();
            if text.len() >= 6 && rng.random_bool(0.2) {
                let at = rng.random_range(1..text.len() - 1);
                if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                    text.remove(at);
                }
            }
            let postal_code = postal_codes.choose(&mut rng).map(|code| (*code).clone());
            let language = ASKED_LANGUAGES.choose(&mut rng).map(|l| (*l).to_owned());
            let domain = domains.choose(&mut rng).map(|d| d.code.clone());
            let lang = *[Lang::Nl, Lang::Fr, Lang::En].choose(&mut rng).unwrap_or(&Lang::Nl);
            let base = Question {
                kind: QuestionKind::TextOnly,
                text: Some(text),
                postal_code: None,
                radius_km: None,
                domain: None,
                language: None,
                lang,
            };
            match rng.random_range(0..10) {
                0..4 => Question {
                    kind: QuestionKind::TextPlaceLanguage,
                    postal_code,
                    language,
                    ..base
                },
                4..6 => Question {
                    kind: QuestionKind::TextPlace,
                    postal_code,
                    ..base
                },
                6..8 => Question {
                    kind: QuestionKind::FiltersOnly,
                    text: None,
                    postal_code,
                    domain,
                    language,
                    ..base
                },
                8 => Question {
                    kind: QuestionKind::TextDomainRadius,
                    // A radius needs a place; every map but an empty one has some.
                    radius_km: postal_code.as_ref().map(|_| RADIUS_KM),
                    postal_code,
                    domain,
                    ..base
                },
                _ => base,
            }
        })
        .collect()
}
