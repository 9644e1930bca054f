//! An organization in a plan's circle, for the life domains the family consented to share
//! with it: who recorded that consent and when, and what became of the invitation.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a membership stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberStatus {
    /// Invited by the coordinator, not answered yet.
    Invited,
    /// In the circle: reads its domains.
    Active,
    /// The organization said no.
    Declined,
    /// The family's consent was withdrawn (or the organization left): no access.
    Removed,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    pub organization_id: String,
    /// The coordinating organization, which sees every domain.
    pub coordinator: bool,
    /// Top-level life-domain codes the family consented to share, as a JSON array.
    pub domains: String,
    pub status: MemberStatus,
    /// The account that recorded the family's consent to this member.
    pub consent_recorded_by: String,
    pub consent_recorded_at: DateTimeUtc,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
    pub removed_by: Option<String>,
    pub removed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
