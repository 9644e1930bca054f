//! The warm hand-off (*warme overdracht*) when a family moves: the coordinator offers the plan
//! to an organization that serves the new place; on acceptance that organization coordinates,
//! the plan moves to the new municipality (so its gaps suggest services there), and the old
//! circle's access ends, each member to be re-admitted only with the family's consent. The
//! referrals the plan's steps sent in the old municipality and still open are listed for
//! follow-up.

use chrono::Utc;
use entity::enums::ServiceStatus;
use entity::support_plan_member::MemberStatus;
use entity::support_plan_transfer::TransferStatus;
use entity::{
    organization, referral, service, support_plan, support_plan_member, support_plan_step, support_plan_transfer,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::{Access, Intent, PLAN, PlansError, TRANSFER, access, acting, every_domain, invalid, new_id};
use crate::auth::Viewer;
use crate::reference::ReferenceData;

/// Offers the plan to `to_organization`, which must offer a service covering the family's new
/// municipality. One offer at a time; the coordinator's to do.
pub async fn offer_transfer(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    plan_id: &str,
    to_postal_code: Option<&str>,
    to_municipality_code: Option<&str>,
    to_organization: &str,
) -> Result<support_plan_transfer::Model, PlansError> {
    let (plan, access) = access(db, viewer, plan_id, Intent::Change, PLAN, plan_id).await?;
    if !access.coordinator {
        return Err(PlansError::Forbidden(
            "only the coordinating organization transfers the plan, with the family's consent".to_owned(),
        ));
    }
    let municipality = crate::referrals::family_municipality(reference, to_postal_code, to_municipality_code)?;
    if organization::Entity::find_by_id(to_organization)
        .one(db)
        .await?
        .is_none()
    {
        return Err(PlansError::UnknownOrganization(to_organization.to_owned()));
    }
    if to_organization == plan.coordinator_organization_id {
        return invalid(
            "receivingOrganizationId",
            "already coordinates the plan: change the family's place by offering it to an organization there",
        );
    }
    let serves = service::Entity::find()
        .filter(service::Column::OrganizationId.eq(to_organization))
        .filter(service::Column::Status.ne(ServiceStatus::Inactive))
        .filter(
            crate::listings::serving_municipality(db, reference, &municipality)
                .await
                .map_err(|e| PlansError::Database(DbErr::Custom(e.to_string())))?,
        )
        .count(db)
        .await?
        > 0;
    if !serves {
        let name = reference
            .municipality(&municipality)
            .map_or(municipality.as_str(), |m| m.name_nl.as_str());
        return invalid(
            "receivingOrganizationId",
            format!(
                "offers no service covering {name}: offer the plan to an organization that serves the family's new place"
            ),
        );
    }
    let txn = crate::db::begin_write(db).await?;
    let pending = support_plan_transfer::Entity::find()
        .filter(support_plan_transfer::Column::PlanId.eq(plan_id))
        .filter(support_plan_transfer::Column::Status.eq(TransferStatus::Offered))
        .count(&txn)
        .await?;
    if pending > 0 {
        return invalid("planId", "has a transfer offer waiting for an answer");
    }
    let transfer = support_plan_transfer::Model {
        id: new_id(),
        plan_id: plan_id.to_owned(),
        from_organization_id: plan.coordinator_organization_id.clone(),
        to_organization_id: to_organization.to_owned(),
        from_municipality_code: plan.municipality_code.clone(),
        to_municipality_code: municipality,
        to_postal_code: to_postal_code.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()),
        status: TransferStatus::Offered,
        offered_by: access.account,
        offered_at: Utc::now(),
        answered_by: None,
        answered_at: None,
    };
    support_plan_transfer::Entity::insert(transfer.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(transfer)
}

/// The transfer offers waiting for the viewer's organization.
pub async fn transfers_offered(
    db: &DatabaseConnection,
    viewer: &Viewer,
) -> Result<Vec<support_plan_transfer::Model>, PlansError> {
    let (organization, _) = acting(viewer)?;
    Ok(support_plan_transfer::Entity::find()
        .filter(support_plan_transfer::Column::ToOrganizationId.eq(organization.as_str()))
        .filter(support_plan_transfer::Column::Status.eq(TransferStatus::Offered))
        .order_by_asc(support_plan_transfer::Column::OfferedAt)
        .all(db)
        .await?)
}

/// The plan's transfers, oldest first: for its coordinator.
pub async fn transfers(
    db: &DatabaseConnection,
    plan_id: &str,
    access: &Access,
) -> Result<Vec<support_plan_transfer::Model>, PlansError> {
    if !access.coordinator {
        return Ok(Vec::new());
    }
    Ok(support_plan_transfer::Entity::find()
        .filter(support_plan_transfer::Column::PlanId.eq(plan_id))
        .order_by_asc(support_plan_transfer::Column::OfferedAt)
        .all(db)
        .await?)
}

/// The receiving organization accepts (and coordinates from now on) or declines.
pub async fn answer_transfer(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
    accept: bool,
) -> Result<support_plan_transfer::Model, PlansError> {
    let not_found = || PlansError::NotFound(TRANSFER, id.to_owned());
    let (organization, account) = acting(viewer).map_err(|_| not_found())?;
    let transfer = support_plan_transfer::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| t.to_organization_id == organization)
        .ok_or_else(not_found)?;
    if transfer.status != TransferStatus::Offered {
        return invalid("id", "is a transfer offer that was already answered or withdrawn");
    }
    let now = Utc::now();
    let answered = support_plan_transfer::Model {
        status: if accept {
            TransferStatus::Accepted
        } else {
            TransferStatus::Declined
        },
        answered_by: Some(account.clone()),
        answered_at: Some(now),
        ..transfer.clone()
    };
    let txn = crate::db::begin_write(db).await?;
    let written = support_plan_transfer::Entity::update_many()
        .set(answered.clone().into_active_model().reset_all())
        .filter(support_plan_transfer::Column::Id.eq(id))
        .filter(support_plan_transfer::Column::Status.eq(TransferStatus::Offered))
        .exec(&txn)
        .await?;
    if written.rows_affected != 1 {
        return invalid("id", "is a transfer offer that was already answered or withdrawn");
    }
    if accept {
        let moved = support_plan::Entity::update_many()
            .col_expr(
                support_plan::Column::CoordinatorOrganizationId,
                Expr::value(organization.clone()),
            )
            .col_expr(
                support_plan::Column::MunicipalityCode,
                Expr::value(transfer.to_municipality_code.clone()),
            )
            .col_expr(
                support_plan::Column::PostalCode,
                Expr::value(transfer.to_postal_code.clone()),
            )
            .col_expr(support_plan::Column::UpdatedAt, Expr::value(now))
            .filter(support_plan::Column::Id.eq(transfer.plan_id.as_str()))
            .filter(support_plan::Column::ClosedAt.is_null())
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Err(PlansError::Closed);
        }
        support_plan_member::Entity::update_many()
            .col_expr(support_plan_member::Column::Status, Expr::value(MemberStatus::Removed))
            .col_expr(support_plan_member::Column::RemovedBy, Expr::value(account.clone()))
            .col_expr(support_plan_member::Column::RemovedAt, Expr::value(now))
            .filter(support_plan_member::Column::PlanId.eq(transfer.plan_id.as_str()))
            .filter(support_plan_member::Column::Status.is_in([MemberStatus::Invited, MemberStatus::Active]))
            .exec(&txn)
            .await?;
        support_plan_member::Entity::insert(
            support_plan_member::Model {
                id: new_id(),
                plan_id: transfer.plan_id.clone(),
                organization_id: organization,
                coordinator: true,
                domains: every_domain(reference),
                status: MemberStatus::Active,
                // The old coordinator recorded the family's consent to the transfer.
                consent_recorded_by: transfer.offered_by.clone(),
                consent_recorded_at: transfer.offered_at,
                answered_by: Some(account),
                answered_at: Some(now),
                removed_by: None,
                removed_at: None,
                created_at: now,
            }
            .into_active_model()
            .reset_all(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(answered)
}

/// For an accepted transfer: the referrals the plan's steps sent in the old municipality
/// that are still open, for the new coordinator to follow up. Empty for anyone else.
pub async fn transfer_follow_up(
    db: &DatabaseConnection,
    transfer: &support_plan_transfer::Model,
    viewer: &Viewer,
) -> Result<Vec<referral::Model>, PlansError> {
    let coordinates = acting(viewer).is_ok_and(|(organization, _)| organization == transfer.to_organization_id);
    if transfer.status != TransferStatus::Accepted || !coordinates {
        return Ok(Vec::new());
    }
    let steps: Vec<String> = support_plan_step::Entity::find()
        .filter(support_plan_step::Column::PlanId.eq(transfer.plan_id.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    Ok(referral::Entity::find()
        .filter(referral::Column::PlanStepId.is_in(steps))
        .filter(referral::Column::MunicipalityCode.eq(transfer.from_municipality_code.as_str()))
        .order_by_asc(referral::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|r| !crate::referrals::is_closed(r.status))
        .collect())
}
