//! What happens to referrals with time: unanswered ones expire at their deadline, and the
//! personal fields of closed ones are erased after the retention time, leaving what the
//! statistics count. Both take `now`, so tests can move the clock; `serve` runs them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::enums::ReferralStatus;
use entity::{referral, referral_event};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::live::{ReferralChange, ReferralFeed};
use super::{Keyring, ReferralsError, insert_event, lifecycle};

/// How often `serve` looks for referrals past their deadline.
const EXPIRY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// How often `serve` erases what is past its retention time.
const ERASE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Marks `EXPIRED` every referral still awaiting an answer after its deadline; returns them.
pub async fn expire_overdue(
    db: &DatabaseConnection,
    keyring: &Keyring,
    now: DateTime<Utc>,
) -> Result<Vec<referral::Model>, ReferralsError> {
    let overdue = referral::Entity::find()
        .filter(referral::Column::Status.is_in(lifecycle::AWAITING_ANSWER))
        .filter(referral::Column::RespondBy.lt(now))
        .all(db)
        .await?;
    let mut expired = Vec::new();
    for current in overdue {
        let txn = crate::db::begin_write(db).await?;
        // Guarded: an answer that lands first wins over the deadline.
        let written = referral::Entity::update_many()
            .col_expr(referral::Column::Status, Expr::value(ReferralStatus::Expired))
            .col_expr(referral::Column::ClosedAt, Expr::value(now))
            .col_expr(referral::Column::UpdatedAt, Expr::value(now))
            .col_expr(referral::Column::Version, Expr::value(current.version + 1))
            .filter(referral::Column::Id.eq(current.id.as_str()))
            .filter(referral::Column::Version.eq(current.version))
            .exec(&txn)
            .await?;
        if written.rows_affected != 1 {
            continue;
        }
        insert_event(
            &txn,
            keyring,
            &current.id,
            Some(ReferralStatus::Expired),
            None,
            None,
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        expired.push(referral::Model {
            status: ReferralStatus::Expired,
            closed_at: Some(now),
            updated_at: now,
            version: current.version + 1,
            ..current
        });
    }
    Ok(expired)
}

/// Erases the personal fields of referrals closed more than `retention_days` before `now`:
/// need description, phone, postal code, household, languages and notes. Need, municipality,
/// status and dates stay for the statistics. Returns how many referrals it erased.
pub async fn erase_closed(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    retention_days: u32,
) -> Result<u64, ReferralsError> {
    let before = now - Duration::days(i64::from(retention_days));
    let txn = crate::db::begin_write(db).await?;
    let due = referral::Entity::find()
        .filter(referral::Column::ClosedAt.lt(before))
        .filter(referral::Column::ErasedAt.is_null());
    let ids: Vec<String> = due.clone().all(&txn).await?.into_iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    referral_event::Entity::update_many()
        .col_expr(referral_event::Column::Note, Expr::value(Option::<String>::None))
        .filter(referral_event::Column::ReferralId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let erased = referral::Entity::update_many()
        .col_expr(referral::Column::NeedDescription, Expr::value(Option::<String>::None))
        .col_expr(referral::Column::ContactPhone, Expr::value(Option::<String>::None))
        .col_expr(referral::Column::PostalCode, Expr::value(Option::<String>::None))
        .col_expr(referral::Column::Languages, Expr::value("[]"))
        .col_expr(referral::Column::ChildrenAges, Expr::value("[]"))
        .col_expr(referral::Column::Adults, Expr::value(0))
        .col_expr(referral::Column::ErasedAt, Expr::value(now))
        .filter(referral::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(erased.rows_affected)
}

/// Runs expiry every minute and erasure every day, for as long as the server runs.
pub fn spawn(db: DatabaseConnection, keyring: Arc<Keyring>, feed: ReferralFeed, retention_days: u32) {
    let expiry_db = db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EXPIRY_INTERVAL);
        loop {
            every.tick().await;
            match expire_overdue(&expiry_db, &keyring, Utc::now()).await {
                Ok(expired) => {
                    for referral in &expired {
                        feed.publish(referral, ReferralChange::StatusChanged);
                    }
                    if !expired.is_empty() {
                        tracing::info!(count = expired.len(), "referrals expired");
                    }
                }
                Err(error) => tracing::warn!(%error, "expiring referrals failed; retrying next minute"),
            }
        }
    });
    tokio::spawn(async move {
        let mut every = tokio::time::interval(ERASE_INTERVAL);
        loop {
            every.tick().await;
            match erase_closed(&db, Utc::now(), retention_days).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "erased personal data of closed referrals"),
                Err(error) => tracing::warn!(%error, "erasing closed referrals failed; retrying tomorrow"),
            }
        }
    });
}
