//! A network meeting around a plan: when, which member organizations were at the table; its
//! minutes are `support_plan_minute`s, one per item.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_meeting")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    pub held_on: Date,
    /// Organization ids as a JSON array.
    pub attending_organization_ids: String,
    /// The member that recorded it.
    pub organization_id: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
