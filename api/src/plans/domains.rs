//! The domains a plan works in: the 14 top-level life domains, and domains of the family's
//! own for needs outside them (the field guide: "a need outside the listed domains gets a
//! domain added to this family's map"). An own domain's name is sealed; its code
//! (`plan:1`, …) is what the plan's actors, notes, goals, minutes and members refer to.

use chrono::Utc;
use entity::support_plan_domain;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::{Intent, Keyring, PLAN, PlansError, access, context, forbid_domain, invalid, new_id, required_text};
use crate::auth::Viewer;
use crate::reference::{ReferenceData, ReferenceError};

/// What an own domain's code starts with; no life-domain code has a colon.
const OWN_PREFIX: &str = "plan:";
/// A name is what the family calls the need: a few words.
const MAX_NAME_CHARS: usize = 80;
/// A plan is about a family's life, not a taxonomy of its own.
const MAX_OWN_DOMAINS: u64 = 10;

/// An own domain, its name opened.
#[derive(Clone, Debug)]
pub struct OwnDomain {
    pub code: String,
    pub name: String,
}

pub fn is_own(code: &str) -> bool {
    code.starts_with(OWN_PREFIX)
}

/// Adds a domain of the family's own to the plan: the coordinator's to do, with the family.
/// Members are admitted to it as to any domain (`invitePlanMember`).
pub async fn add_domain(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    plan_id: &str,
    name: &str,
) -> Result<OwnDomain, PlansError> {
    let (_, access) = access(db, viewer, plan_id, Intent::Change, PLAN, plan_id).await?;
    if !access.coordinator {
        return Err(PlansError::Forbidden(
            "only the coordinating organization adds a domain of the family's own".to_owned(),
        ));
    }
    let name = required_text("name", name, MAX_NAME_CHARS)?;
    let txn = crate::db::begin_write(db).await?;
    let existing = support_plan_domain::Entity::find()
        .filter(support_plan_domain::Column::PlanId.eq(plan_id))
        .count(&txn)
        .await?;
    if existing >= MAX_OWN_DOMAINS {
        return invalid(
            "name",
            format!(
                "would be the plan's domain number {}: {MAX_OWN_DOMAINS} is the most",
                existing + 1
            ),
        );
    }
    let id = new_id();
    let code = format!("{OWN_PREFIX}{}", existing + 1);
    support_plan_domain::Entity::insert(
        support_plan_domain::Model {
            name: keyring.seal(&context("support_plan_domain", &id, "name"), &name),
            id,
            plan_id: plan_id.to_owned(),
            code: code.clone(),
            organization_id: access.organization,
            created_by: access.account,
            created_at: Utc::now(),
        }
        .into_active_model()
        .reset_all(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(OwnDomain { code, name })
}

/// The plan's own domains, in the order they were added.
pub async fn own_domains(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    plan_id: &str,
) -> Result<Vec<OwnDomain>, PlansError> {
    support_plan_domain::Entity::find()
        .filter(support_plan_domain::Column::PlanId.eq(plan_id))
        .order_by_asc(support_plan_domain::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            Ok(OwnDomain {
                name: keyring.open(&context("support_plan_domain", &row.id, "name"), &row.name)?,
                code: row.code,
            })
        })
        .collect()
}

/// `code` as a domain of plan `plan_id`: a top-level life domain (`housing`) or one of the
/// plan's own (`plan:1`).
pub(super) async fn plan_domain(
    db: &impl ConnectionTrait,
    reference: &ReferenceData,
    plan_id: &str,
    field: &'static str,
    code: &str,
) -> Result<String, PlansError> {
    let code = code.trim();
    if is_own(code) {
        let found = support_plan_domain::Entity::find()
            .filter(support_plan_domain::Column::PlanId.eq(plan_id))
            .filter(support_plan_domain::Column::Code.eq(code))
            .count(db)
            .await?;
        if found == 0 {
            return invalid(
                field,
                format!("`{code}` is not a domain of this plan (addPlanDomain adds one)"),
            );
        }
        return Ok(code.to_owned());
    }
    match reference.domain(code) {
        Some(domain) if domain.parent_code.is_none() => Ok(code.to_owned()),
        Some(domain) => invalid(
            field,
            format!(
                "takes a top-level life domain; `{code}` is a need under `{}`",
                domain.parent_code.as_deref().unwrap_or_default()
            ),
        ),
        None => invalid(field, ReferenceError::UnknownDomain(code.to_owned()).to_string()),
    }
}

/// Like `plan_domain`, for a domain the viewer writes in: refused outside its domains.
pub(super) async fn writable_domain(
    db: &impl ConnectionTrait,
    reference: &ReferenceData,
    plan_id: &str,
    access: &super::Access,
    field: &'static str,
    code: &str,
) -> Result<String, PlansError> {
    let domain = plan_domain(db, reference, plan_id, field, code).await?;
    if !access.sees(&domain) {
        return Err(forbid_domain(&domain));
    }
    Ok(domain)
}
