//! One change of a plan goal: its status, and its wording or term when they changed, by
//! whom and when, with an optional encrypted note. The wording is encrypted too.
use crate::support_plan_goal::GoalStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_goal_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub goal_id: String,
    pub status: GoalStatus,
    /// The goal's new wording, when this change reworded it.
    pub text: Option<String>,
    pub due_by: Option<Date>,
    pub note: Option<String>,
    pub account_id: String,
    pub organization_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
