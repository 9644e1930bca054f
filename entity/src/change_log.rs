//! One committed change to the map, written in the same transaction as the change itself.
//! Search indexes (one per API replica) follow this log to stay in step with the database.
use crate::enums::ChangedResource;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "change_log")]
pub struct Model {
    /// Increasing, but not necessarily committed in order: readers must allow for gaps.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub resource: ChangedResource,
    pub resource_id: String,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
