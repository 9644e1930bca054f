//! A referral of a family to a service for one need. It holds no names and no birth dates;
//! the free text and the family's phone are ciphertexts (`api::referrals::crypto`), erased
//! a while after the referral closes.
use crate::enums::{ContactVia, DeclineReason, ReferralStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referral")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: String,
    /// The referring organization (the outbox it is in).
    pub from_organization_id: String,
    /// The service's organization (the inbox it is in).
    pub to_organization_id: String,
    /// The account that sent it.
    pub created_by: String,
    /// Life-domain or need code.
    pub need_code: String,
    /// Encrypted free text; null once erased.
    pub need_description: Option<String>,
    pub municipality_code: String,
    pub postal_code: Option<String>,
    /// ISO 639-3 codes as a JSON array.
    pub languages: String,
    pub interpreter_needed: bool,
    pub adults: i32,
    /// Children's ages in years as a JSON array.
    pub children_ages: String,
    pub contact_via: ContactVia,
    /// Encrypted phone number of the family, given with its consent; null once erased.
    pub contact_phone: Option<String>,
    pub consent_given_at: DateTimeUtc,
    /// The referrer sent it although the service's area does not cover the family.
    pub area_override: bool,
    pub status: ReferralStatus,
    pub decline_reason: Option<DeclineReason>,
    pub respond_by: DateTimeUtc,
    /// When the service first answered (received, accepted or declined): response time.
    pub first_response_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// When the personal fields were erased.
    pub erased_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The support-plan step this referral carries out, if any.
    pub plan_step_id: Option<String>,
    /// The declined referral this one forwards to another service.
    pub forwarded_from_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
