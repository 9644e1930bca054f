//! A step towards a goal: what (encrypted), who takes it (the family or a member
//! organization), by when, and where it stands; its changes are `support_plan_step_event`s.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Who takes a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StepOwner {
    Family,
    Organization,
}

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StepStatus {
    Open,
    Done,
    Dropped,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_step")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    pub goal_id: String,
    pub text: String,
    pub owner: StepOwner,
    /// The member organization that takes it, with `owner = ORGANIZATION`.
    pub owner_organization_id: Option<String>,
    pub due_by: Option<Date>,
    pub status: StepStatus,
    /// The network meeting that decided it, if one did.
    pub meeting_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
