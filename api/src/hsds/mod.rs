//! Open Referral HSDS 3.0: the exchange format of human-services directories, and the map's
//! way in and out of them. `docs/hsds-mapping.md` is the one mapping every part follows.

pub mod import;

use std::path::PathBuf;

/// What stops an import as a whole. A bad record never does: it is reported and skipped.
#[derive(Debug, thiserror::Error)]
pub enum HsdsError {
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
