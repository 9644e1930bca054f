//! Reference data: municipalities, postal codes, provinces, regions, life domains and
//! languages. Seeded, never edited by users, and small, so it is held in memory and every
//! lookup (place autocomplete, domain expansion, language normalisation) is a map access.

mod data;
mod labels;
mod lang;
pub(crate) mod types;

pub use data::{Place, ReferenceData};
pub use labels::{Direction, Localized, Value};
pub use lang::Lang;
pub use types::{Language, LifeDomain, LocalizedText, Municipality, ReferenceQuery};

#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("unknown life domain `{0}`: use a code from the `domains` query, such as `housing` or `housing.search`")]
    UnknownDomain(String),
    #[error(
        "unknown language `{0}`: use an ISO 639-3 code (`prs`), an ISO 639-1 code (`ar`) or a BCP-47 tag (`fa-AF`)"
    )]
    UnknownLanguage(String),
    #[error("unknown municipality code `{0}`: use a 5-digit REFNIS code such as `41002` (Aalst)")]
    UnknownMunicipality(String),
    #[error("could not load reference data: {0}")]
    Database(#[from] sea_orm::DbErr),
}
