//! The lexicon: words and phrases families, interpreters and volunteers use for a need, in
//! the families' own languages and in everyday Dutch, French and English, each mapped to a
//! life-domain or need code. One file per language in `data/lexicon/`, compiled in; search
//! reads it through the reference data. A term ending in `*` matches any word it begins
//! (`житл*`: житло, житла).

use serde::Deserialize;

use crate::SeedError;

/// `(file, contents)` of every lexicon file.
const FILES: [(&str, &str); 13] = [
    ("ara.json", include_str!("../data/lexicon/ara.json")),
    ("fas.json", include_str!("../data/lexicon/fas.json")),
    ("pbt.json", include_str!("../data/lexicon/pbt.json")),
    ("tir.json", include_str!("../data/lexicon/tir.json")),
    ("som.json", include_str!("../data/lexicon/som.json")),
    ("ukr.json", include_str!("../data/lexicon/ukr.json")),
    ("rus.json", include_str!("../data/lexicon/rus.json")),
    ("tur.json", include_str!("../data/lexicon/tur.json")),
    ("kmr.json", include_str!("../data/lexicon/kmr.json")),
    ("ckb.json", include_str!("../data/lexicon/ckb.json")),
    ("nld.json", include_str!("../data/lexicon/nld.json")),
    ("fra.json", include_str!("../data/lexicon/fra.json")),
    ("eng.json", include_str!("../data/lexicon/eng.json")),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LexiconFile {
    /// ISO 639-3.
    language: String,
    /// For the reader of the file; not loaded.
    #[allow(dead_code)]
    name: String,
    source: String,
    /// Whether a speaker of the language reviewed every term.
    reviewed: bool,
    /// Languages written with the same words (Dari with Persian).
    #[serde(default)]
    also_for: Vec<String>,
    terms: Vec<TermRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermRow {
    term: String,
    domain: String,
}

/// One term: what people type, in which language, and the domain or need it names.
#[derive(Clone, Debug, PartialEq)]
pub struct LexiconTerm {
    pub language: String,
    /// The languages it is also written in.
    pub also_for: Vec<String>,
    pub term: String,
    pub domain_code: String,
    pub source: String,
    pub reviewed: bool,
}

/// Every term of every lexicon file, in file order.
pub fn lexicon() -> Result<Vec<LexiconTerm>, SeedError> {
    let mut terms = Vec::new();
    for (name, contents) in FILES {
        let file: LexiconFile =
            serde_json::from_str(contents).map_err(|e| SeedError::InvalidData(format!("lexicon/{name}: {e}")))?;
        for row in file.terms {
            let term = row.term.trim().to_owned();
            if term.is_empty() || term == "*" {
                return Err(SeedError::InvalidData(format!("lexicon/{name}: an empty term")));
            }
            terms.push(LexiconTerm {
                language: file.language.clone(),
                also_for: file.also_for.clone(),
                term,
                domain_code: row.domain,
                source: file.source.clone(),
                reviewed: file.reviewed,
            });
        }
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_names_a_life_domain_and_every_language_names_each_domain_thrice() {
        let domains: Vec<serde_json::Value> = serde_json::from_str(include_str!("../data/life-domains.json")).unwrap();
        let codes: Vec<&str> = domains.iter().map(|d| d["code"].as_str().unwrap()).collect();
        let terms = lexicon().unwrap();
        for language in [
            "ara", "fas", "pbt", "tir", "som", "ukr", "rus", "tur", "kmr", "ckb", "nld", "fra", "eng",
        ] {
            for code in &codes {
                let named = terms
                    .iter()
                    .filter(|t| t.language == language && t.domain_code == *code)
                    .count();
                assert!(
                    named >= 3,
                    "{language} has {named} terms for `{code}`: at least 3, please"
                );
            }
        }
        for term in &terms {
            assert!(
                codes.contains(&term.domain_code.as_str()),
                "{} `{}` names `{}`, which is no life domain",
                term.language,
                term.term,
                term.domain_code
            );
        }
    }
}
