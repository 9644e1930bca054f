//! One item of a meeting's minutes (encrypted), about one life domain or, without one,
//! about the plan as a whole.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_minute")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub meeting_id: String,
    /// Top-level life-domain code; members admitted to it read the item.
    pub domain: Option<String>,
    /// Order in the minutes.
    pub position: i32,
    pub text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
