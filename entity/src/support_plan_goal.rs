//! A goal of a plan's action plan, in one life domain, in the family's words (encrypted).
//! Its status changes and rewordings are `support_plan_goal_event`s.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a goal stands; changes are `support_plan_goal_event`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GoalStatus {
    Open,
    /// Ticked off: the family got there.
    Reached,
    /// Not pursued any more.
    Dropped,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_goal")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    /// Top-level life-domain code.
    pub domain: String,
    pub text: String,
    pub due_by: Option<Date>,
    pub status: GoalStatus,
    pub organization_id: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
