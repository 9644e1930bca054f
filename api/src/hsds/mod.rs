//! Open Referral HSDS 3.0: the exchange format of human-services directories, and the map's
//! way in and out of them: the read-only HSDS API under `/hsds/` (`routes`), `export-hsds`
//! (`export`) and `import-hsds` (`import`). `documents` writes our records as HSDS; every
//! part follows the one mapping in `docs/hsds-mapping.md`.

pub mod documents;
pub mod export;
pub mod import;
pub mod routes;

use std::path::PathBuf;

/// What an HSDS request or import can get wrong. A bad record in an import is not among
/// them: it is reported and skipped.
#[derive(Debug, thiserror::Error)]
pub enum HsdsError {
    #[error("`{0}` {1}")]
    BadParameter(&'static str, String),
    #[error("no {0} with id `{1}`")]
    NotFound(&'static str, String),
    #[error("cannot read `{path}`: {error}", path = .0.display(), error = .1)]
    Unreadable(PathBuf, std::io::Error),
    #[error("the taxonomy map {0}")]
    TaxonomyMap(String),
    #[error(
        "the documents are {0} bytes, more than the {limit} an import through the API takes; use `socialmap import-hsds` on the server for more",
        limit = import::MAX_DOCUMENT_BYTES
    )]
    TooLarge(usize),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error("only admins may import HSDS documents")]
    Forbidden,
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}
