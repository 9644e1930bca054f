//! A plan offered to an organization in the family's new place (*warme overdracht*, the warm
//! hand-off): on acceptance it coordinates, and the old circle's access ends.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferStatus {
    /// Waiting for the receiving organization.
    Offered,
    Accepted,
    Declined,
    /// The coordinator took the offer back, or closed the plan.
    Withdrawn,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_transfer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    pub from_organization_id: String,
    pub to_organization_id: String,
    pub from_municipality_code: String,
    pub to_municipality_code: String,
    pub to_postal_code: Option<String>,
    pub status: TransferStatus,
    pub offered_by: String,
    pub offered_at: DateTimeUtc,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
