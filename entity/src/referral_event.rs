//! One step in a referral's life: a status change or a note, by whom and when.
use crate::enums::{DeclineReason, ReferralStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub referral_id: String,
    /// The status it moved to; null for a note.
    pub status: Option<ReferralStatus>,
    pub reason: Option<DeclineReason>,
    /// Encrypted note; null when there is none or once erased.
    pub note: Option<String>,
    /// The account that acted; null for the system (expiry).
    pub account_id: Option<String>,
    pub organization_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
