//! A family's support plan: the network map and the action plan around one family, held by
//! a circle of organizations. It holds no names: the label the coordinator chose is a
//! ciphertext (`api::referrals::crypto`), like every free text hanging off the plan.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Why the coordinator closed a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CloseReason {
    /// The family reached its goals and manages on its own.
    GoalsReached,
    /// The family moved where no organization took the plan over.
    FamilyMoved,
    /// The family no longer wants the plan: its content is erased at once.
    ConsentWithdrawn,
    /// Support ended for another reason.
    Other,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The coordinating organization.
    pub coordinator_organization_id: String,
    /// The account that created it.
    pub created_by: String,
    /// Encrypted label chosen by the coordinator (never a family member's name).
    pub label: String,
    pub municipality_code: String,
    pub postal_code: Option<String>,
    /// ISO 639-3 codes as a JSON array.
    pub languages: String,
    pub interpreter_needed: bool,
    pub adults: i32,
    /// Children's ages in years as a JSON array.
    pub children_ages: String,
    /// When the coordinator recorded the family's consent to the plan.
    pub consent_given_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Closed plans are read-only; their personal content is erased after the retention time.
    pub closed_at: Option<DateTimeUtc>,
    pub close_reason: Option<CloseReason>,
    /// When the label, household, languages and every free text were erased.
    pub erased_at: Option<DateTimeUtc>,
    /// SHA-256 of the family's access code, while one is valid.
    pub family_code_hash: Option<String>,
    pub family_code_issued_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
