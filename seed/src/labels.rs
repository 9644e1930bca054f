//! Labels in the families' languages: the life domains and needs, target groups, cost and
//! access, one file per language in `data/labels/`, compiled in; answers read them through
//! the reference data. Dutch, French and English domain labels live in `life-domains.json`;
//! their files hold the rest.

use std::collections::{BTreeMap, HashMap};

use entity::enums::{Access, Cost, TargetGroup};
use serde::Deserialize;

use crate::SeedError;

/// `(file, contents)` of every label file.
const FILES: [(&str, &str); 13] = [
    ("nld.json", include_str!("../data/labels/nld.json")),
    ("fra.json", include_str!("../data/labels/fra.json")),
    ("eng.json", include_str!("../data/labels/eng.json")),
    ("ara.json", include_str!("../data/labels/ara.json")),
    ("fas.json", include_str!("../data/labels/fas.json")),
    ("pus.json", include_str!("../data/labels/pus.json")),
    ("tir.json", include_str!("../data/labels/tir.json")),
    ("som.json", include_str!("../data/labels/som.json")),
    ("ukr.json", include_str!("../data/labels/ukr.json")),
    ("rus.json", include_str!("../data/labels/rus.json")),
    ("tur.json", include_str!("../data/labels/tur.json")),
    ("kmr.json", include_str!("../data/labels/kmr.json")),
    ("ckb.json", include_str!("../data/labels/ckb.json")),
];

/// The labels of one language.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSet {
    /// ISO 639-3.
    pub language: String,
    /// For the reader of the file.
    pub name: String,
    pub source: String,
    /// Whether a speaker of the language reviewed every label.
    pub reviewed: bool,
    /// By life-domain or need code; empty for the languages of `life-domains.json`.
    #[serde(default)]
    pub domains: BTreeMap<String, String>,
    pub target_groups: HashMap<TargetGroup, String>,
    pub cost: HashMap<Cost, String>,
    pub access: HashMap<Access, String>,
}

/// Every label file, in file order.
pub fn labels() -> Result<Vec<LabelSet>, SeedError> {
    FILES
        .iter()
        .map(|(name, contents)| {
            serde_json::from_str(contents).map_err(|e| SeedError::InvalidData(format!("labels/{name}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn every_file_labels_every_value_and_the_other_languages_every_domain() {
        let domains: Vec<serde_json::Value> = serde_json::from_str(include_str!("../data/life-domains.json")).unwrap();
        let codes: Vec<&str> = domains.iter().map(|d| d["code"].as_str().unwrap()).collect();
        let sets = labels().unwrap();
        assert!(sets.len() >= 13);
        for set in &sets {
            let in_domain_file = ["nld", "fra", "eng"].contains(&set.language.as_str());
            let labelled: Vec<&str> = set.domains.keys().map(String::as_str).collect();
            if in_domain_file {
                assert!(
                    labelled.is_empty(),
                    "{}: its domain labels are in life-domains.json",
                    set.language
                );
            } else {
                let mut expected = codes.clone();
                expected.sort();
                assert_eq!(labelled, expected, "{} labels every domain and need", set.language);
            }
            let values = TargetGroup::iter().all(|v| set.target_groups.contains_key(&v))
                && Cost::iter().all(|v| set.cost.contains_key(&v))
                && Access::iter().all(|v| set.access.contains_key(&v));
            assert!(values, "{} labels every target group, cost and access", set.language);
            let texts = set
                .domains
                .values()
                .chain(set.target_groups.values())
                .chain(set.cost.values());
            assert!(
                texts.chain(set.access.values()).all(|t| !t.trim().is_empty()),
                "{}",
                set.language
            );
        }
    }
}
