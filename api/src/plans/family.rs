//! The family's own view of its plan. The coordinator issues an access code — long, random,
//! shown once, stored only as a hash, revocable, replaced by the next one — and the family
//! opens its plan read-only with it: goals and steps, who helps, what goes well and what is
//! missing, the meetings and what comes next. Attempts are limited per client address, so a
//! code cannot be guessed; every read is in the coordinator's access log.

use std::net::IpAddr;
use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::support_plan;
use governor::Quota;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{Access, Intent, Keyring, PLAN, PlanView, PlansError, access, log_read, open_plan};
use crate::auth::Viewer;
use crate::server::AddressLimiter;

/// What the family's code is recognised by, so nobody mistakes it for an API token.
const CODE_PREFIX: &str = "gezin_";
/// What the access log shows as the reader when the family opened its plan.
pub const FAMILY_READER: &str = "family";
/// Attempts per client address per minute, right or wrong.
const ATTEMPTS_PER_MINUTE: u32 = 10;

/// Limits family-code attempts per client address.
pub struct FamilyLimiter(AddressLimiter);

impl Default for FamilyLimiter {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(ATTEMPTS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        FamilyLimiter(AddressLimiter::new(Quota::per_minute(per_minute)))
    }
}

/// Issues a new access code for the family (replacing any earlier one) and returns it; it is
/// not shown again. The coordinator's to do.
pub async fn issue_family_code(db: &DatabaseConnection, viewer: &Viewer, plan_id: &str) -> Result<String, PlansError> {
    coordinator(db, viewer, plan_id).await?;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let code = format!("{CODE_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    set_code(db, plan_id, Some(crate::auth::token_hash(&code))).await?;
    Ok(code)
}

/// Revokes the family's code: it opens nothing any more.
pub async fn revoke_family_code(db: &DatabaseConnection, viewer: &Viewer, plan_id: &str) -> Result<(), PlansError> {
    coordinator(db, viewer, plan_id).await?;
    set_code(db, plan_id, None).await
}

async fn coordinator(db: &DatabaseConnection, viewer: &Viewer, plan_id: &str) -> Result<(), PlansError> {
    let (_, access) = access(db, viewer, plan_id, Intent::Change, PLAN, plan_id).await?;
    if !access.coordinator {
        return Err(PlansError::Forbidden(
            "only the coordinating organization gives the family its access code".to_owned(),
        ));
    }
    Ok(())
}

async fn set_code(db: &DatabaseConnection, plan_id: &str, hash: Option<String>) -> Result<(), PlansError> {
    let issued = hash.as_ref().map(|_| Utc::now());
    support_plan::Entity::update_many()
        .col_expr(support_plan::Column::FamilyCodeHash, Expr::value(hash))
        .col_expr(support_plan::Column::FamilyCodeIssuedAt, Expr::value(issued))
        .filter(support_plan::Column::Id.eq(plan_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The plan a family's code opens. A wrong, revoked or old code, and a closed plan, are
/// `NOT_FOUND`; too many attempts from one address are refused before the code is looked up.
pub async fn family_view(
    db: &DatabaseConnection,
    keyring: &Keyring,
    limiter: &FamilyLimiter,
    client: IpAddr,
    code: &str,
) -> Result<PlanView, PlansError> {
    limiter.0.check(client).map_err(PlansError::TooManyAttempts)?;
    let not_found = || PlansError::UnknownFamilyCode;
    let code = code.trim();
    if !code.starts_with(CODE_PREFIX) {
        return Err(not_found());
    }
    let plan = support_plan::Entity::find()
        .filter(support_plan::Column::FamilyCodeHash.eq(crate::auth::token_hash(code)))
        .filter(support_plan::Column::ClosedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    // The family reads every domain of its own plan.
    let access = Access {
        organization: FAMILY_READER.to_owned(),
        account: FAMILY_READER.to_owned(),
        coordinator: true,
        domains: Vec::new(),
    };
    log_read(db, &plan.id, &access).await?;
    open_plan(keyring, plan, access)
}
