//! The end of a plan. The coordinator closes it with a reason; a closed plan stays readable
//! to its circle (for the hand-over and the report) but takes no changes, and its personal
//! content is erased after the retention time, leaving what the statistics count: domains,
//! goal and step statuses, dates. When the family withdraws its consent, erasure is at once.

use chrono::{DateTime, Duration, Utc};
use entity::support_plan::CloseReason;
use entity::support_plan_member::MemberStatus;
use entity::support_plan_transfer::TransferStatus;
use entity::{
    support_plan, support_plan_access, support_plan_actor, support_plan_domain, support_plan_domain_note,
    support_plan_goal, support_plan_goal_event, support_plan_meeting, support_plan_member, support_plan_minute,
    support_plan_step, support_plan_step_event, support_plan_transfer,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::{Intent, Keyring, PLAN, PlanView, PlansError, access, open_plan};
use crate::auth::Viewer;

/// How often `serve` erases what is past its retention time.
const ERASE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Closes a plan; the coordinator's to do. Open invitations and transfer offers end with it.
pub async fn close_plan(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
    reason: CloseReason,
) -> Result<PlanView, PlansError> {
    let (plan, access) = access(db, viewer, id, Intent::Change, PLAN, id).await?;
    if !access.coordinator {
        return Err(PlansError::Forbidden(
            "only the coordinating organization closes the plan".to_owned(),
        ));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    // Guarded: of two closings at once, one wins and the other finds the plan closed.
    let written = support_plan::Entity::update_many()
        .col_expr(support_plan::Column::ClosedAt, Expr::value(now))
        .col_expr(support_plan::Column::CloseReason, Expr::value(reason))
        .col_expr(
            support_plan::Column::FamilyCodeHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(support_plan::Column::UpdatedAt, Expr::value(now))
        .filter(support_plan::Column::Id.eq(id))
        .filter(support_plan::Column::ClosedAt.is_null())
        .exec(&txn)
        .await?;
    if written.rows_affected != 1 {
        return Err(PlansError::Closed);
    }
    support_plan_member::Entity::update_many()
        .col_expr(support_plan_member::Column::Status, Expr::value(MemberStatus::Removed))
        .col_expr(
            support_plan_member::Column::RemovedBy,
            Expr::value(access.account.clone()),
        )
        .col_expr(support_plan_member::Column::RemovedAt, Expr::value(now))
        .filter(support_plan_member::Column::PlanId.eq(id))
        .filter(support_plan_member::Column::Status.eq(MemberStatus::Invited))
        .exec(&txn)
        .await?;
    support_plan_transfer::Entity::update_many()
        .col_expr(
            support_plan_transfer::Column::Status,
            Expr::value(TransferStatus::Withdrawn),
        )
        .col_expr(support_plan_transfer::Column::AnsweredAt, Expr::value(now))
        .filter(support_plan_transfer::Column::PlanId.eq(id))
        .filter(support_plan_transfer::Column::Status.eq(TransferStatus::Offered))
        .exec(&txn)
        .await?;
    if reason == CloseReason::ConsentWithdrawn {
        erase(&txn, &[id.to_owned()], now).await?;
    }
    txn.commit().await?;
    let closed = support_plan::Entity::find_by_id(id).one(db).await?.unwrap_or(plan);
    open_plan(keyring, closed, access)
}

/// Erases the personal content of plans closed more than `retention_days` before `now`.
/// Returns how many plans it erased.
pub async fn erase_closed(db: &DatabaseConnection, now: DateTime<Utc>, retention_days: u32) -> Result<u64, DbErr> {
    let before = now - Duration::days(i64::from(retention_days));
    let txn = crate::db::begin_write(db).await?;
    let ids: Vec<String> = support_plan::Entity::find()
        .filter(support_plan::Column::ClosedAt.lt(before))
        .filter(support_plan::Column::ErasedAt.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    erase(&txn, &ids, now).await?;
    txn.commit().await?;
    Ok(ids.len() as u64)
}

/// Wipes every free text, the label, the household, languages and postal codes, the minutes
/// and the access log of `ids`, and ends their circles. Rows stay, as counts: domains, statuses,
/// dates, which organizations took part.
async fn erase(db: &impl ConnectionTrait, ids: &[String], now: DateTime<Utc>) -> Result<(), DbErr> {
    let none = || Expr::value(Option::<String>::None);
    support_plan::Entity::update_many()
        .col_expr(support_plan::Column::Label, Expr::value(""))
        .col_expr(support_plan::Column::PostalCode, none())
        .col_expr(support_plan::Column::Languages, Expr::value("[]"))
        .col_expr(support_plan::Column::ChildrenAges, Expr::value("[]"))
        .col_expr(support_plan::Column::Adults, Expr::value(0))
        .col_expr(support_plan::Column::FamilyCodeHash, none())
        .col_expr(support_plan::Column::ErasedAt, Expr::value(now))
        .filter(support_plan::Column::Id.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    support_plan_member::Entity::update_many()
        .col_expr(support_plan_member::Column::Status, Expr::value(MemberStatus::Removed))
        .col_expr(support_plan_member::Column::RemovedAt, Expr::value(now))
        .filter(support_plan_member::Column::PlanId.is_in(ids.to_vec()))
        .filter(support_plan_member::Column::Status.ne(MemberStatus::Removed))
        .exec(db)
        .await?;
    support_plan_actor::Entity::update_many()
        .col_expr(support_plan_actor::Column::InformalRole, none())
        .col_expr(support_plan_actor::Column::Note, none())
        .filter(support_plan_actor::Column::PlanId.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    support_plan_domain_note::Entity::update_many()
        .col_expr(support_plan_domain_note::Column::GoesWell, none())
        .col_expr(support_plan_domain_note::Column::Missing, none())
        .filter(support_plan_domain_note::Column::PlanId.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    support_plan_domain::Entity::update_many()
        .col_expr(support_plan_domain::Column::Name, Expr::value(""))
        .filter(support_plan_domain::Column::PlanId.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    support_plan_goal::Entity::update_many()
        .col_expr(support_plan_goal::Column::Text, Expr::value(""))
        .filter(support_plan_goal::Column::PlanId.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    let goals = support_plan_goal::Entity::find()
        .filter(support_plan_goal::Column::PlanId.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.id);
    support_plan_goal_event::Entity::update_many()
        .col_expr(support_plan_goal_event::Column::Text, none())
        .col_expr(support_plan_goal_event::Column::Note, none())
        .filter(support_plan_goal_event::Column::GoalId.is_in(goals))
        .exec(db)
        .await?;
    support_plan_step::Entity::update_many()
        .col_expr(support_plan_step::Column::Text, Expr::value(""))
        .filter(support_plan_step::Column::PlanId.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    let steps = support_plan_step::Entity::find()
        .filter(support_plan_step::Column::PlanId.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id);
    support_plan_step_event::Entity::update_many()
        .col_expr(support_plan_step_event::Column::Note, none())
        .filter(support_plan_step_event::Column::StepId.is_in(steps))
        .exec(db)
        .await?;
    let meetings = support_plan_meeting::Entity::find()
        .filter(support_plan_meeting::Column::PlanId.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id);
    support_plan_minute::Entity::delete_many()
        .filter(support_plan_minute::Column::MeetingId.is_in(meetings))
        .exec(db)
        .await?;
    support_plan_transfer::Entity::update_many()
        .col_expr(support_plan_transfer::Column::ToPostalCode, none())
        .filter(support_plan_transfer::Column::PlanId.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    support_plan_access::Entity::delete_many()
        .filter(support_plan_access::Column::PlanId.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    Ok(())
}

/// Erases what is past its retention time every day, for as long as the server runs.
pub fn spawn_erasure(db: DatabaseConnection, retention_days: u32) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(ERASE_INTERVAL);
        loop {
            every.tick().await;
            match erase_closed(&db, Utc::now(), retention_days).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "erased the content of closed support plans"),
                Err(error) => tracing::warn!(%error, "erasing closed support plans failed; retrying tomorrow"),
            }
        }
    });
}
