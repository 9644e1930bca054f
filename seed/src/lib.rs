//! What an empty database is filled with: the Belgian reference data, life domains and
//! languages (always), and the demonstration social map (on request), or a large synthetic
//! map for benchmarks. All data is compiled into the binary, so `socialmap serve` works from
//! any directory.

mod demo_map;
mod insert;
mod labels;
mod lexicon;
mod reference;
mod synthetic;

pub use demo_map::{DEMO_NOTICE, demo_id, seed_demo_map};
pub use labels::{LabelSet, labels};
pub use lexicon::{LexiconTerm, lexicon};
pub use reference::seed_reference_data;
pub use synthetic::{SyntheticReport, seed_synthetic_map};

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database error while seeding: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("seed data is inconsistent: {0}")]
    InvalidData(String),
}

/// What `seed` did, for the log and for tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub reference_data_loaded: bool,
    pub demo_map_loaded: bool,
}

/// Seeds what is missing: reference data into a database without municipalities, the demo
/// map (when `with_demo_map`) into one without organizations. Running it twice changes nothing.
pub async fn seed_if_empty(db: &DatabaseConnection, with_demo_map: bool) -> Result<SeedReport, SeedError> {
    let mut report = SeedReport::default();
    if entity::municipality::Entity::find().count(db).await? == 0 {
        seed_reference_data(db).await?;
        report.reference_data_loaded = true;
    }
    if with_demo_map && entity::organization::Entity::find().count(db).await? == 0 {
        seed_demo_map(db).await?;
        report.demo_map_loaded = true;
    }
    Ok(report)
}
