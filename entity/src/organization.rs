//! An organization on the map (HSDS `organization`).

use crate::enums::OrganizationKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub kind: OrganizationKind,
    pub description: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Belgian enterprise number (KBO/BCE).
    pub kbo_number: Option<String>,
    /// `search_key::normalize(name)`.
    pub name_search: String,
    /// Id of the record in the directory it was imported from.
    pub external_id: Option<String>,
    /// Optimistic concurrency: bumped on every change.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
