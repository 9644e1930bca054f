//! Open Referral HSDS 3.0: the read-only HSDS API under `/hsds/` (`routes`), and the mapping
//! between our map and HSDS documents (`documents`, described in `docs/hsds-mapping.md`) that
//! the API and `export-hsds` share.

pub mod documents;
pub mod export;
pub mod routes;

/// What an HSDS request can get wrong.
#[derive(Debug, thiserror::Error)]
pub enum HsdsError {
    #[error("`{0}` {1}")]
    BadParameter(&'static str, String),
    #[error("no {0} with id `{1}`")]
    NotFound(&'static str, String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}
