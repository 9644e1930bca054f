//! Network meetings: the family and the organizations working on its needs at one table.
//! The minutes are kept per item, each about one life domain (or about the plan as a whole),
//! sealed; a member reads the items of its domains. Decisions become steps of the action
//! plan, linked to the meeting that took them.

use chrono::{NaiveDate, Utc};
use entity::support_plan_member::MemberStatus;
use entity::{support_plan_goal, support_plan_meeting, support_plan_member, support_plan_minute, support_plan_step};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use super::{
    Access, Intent, Keyring, MAX_TEXT_CHARS, NewStep, PLAN, PlansError, StepView, access, context, insert_step,
    invalid, json, new_id, open_step, prepare_step, required_text, writable_domain,
};
use crate::auth::Viewer;
use crate::reference::ReferenceData;

/// A meeting's minutes are a page or two, not a file.
const MAX_MINUTES: usize = 50;
const MAX_DECISIONS: usize = 50;

/// One item of the minutes.
#[derive(Clone, Debug)]
pub struct NewMinute {
    /// A top-level life domain; none for what concerns the whole plan (next meeting, who
    /// coordinates), which every member reads.
    pub domain: Option<String>,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct NewMeeting {
    pub held_on: NaiveDate,
    pub attending_organization_ids: Vec<String>,
    pub minutes: Vec<NewMinute>,
    /// Steps agreed at the table, each towards a goal of the plan.
    pub decisions: Vec<(String, NewStep)>,
}

#[derive(Clone, Debug)]
pub struct MeetingView {
    pub meeting: support_plan_meeting::Model,
    pub attending: Vec<String>,
    /// The items the reader may see, in order: (domain, text).
    pub minutes: Vec<(Option<String>, String)>,
    /// The steps it decided, in the domains the reader sees.
    pub decisions: Vec<StepView>,
}

/// Records a meeting held with the family; any member may, for the domains it sees.
pub async fn record_meeting(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    keyring: &Keyring,
    viewer: &Viewer,
    plan_id: &str,
    new: NewMeeting,
) -> Result<MeetingView, PlansError> {
    let (_, access) = access(db, viewer, plan_id, Intent::Change, PLAN, plan_id).await?;
    if new.held_on > Utc::now().date_naive() {
        return invalid("heldOn", "is in the future: record a meeting once it was held");
    }
    if new.minutes.len() > MAX_MINUTES {
        return invalid("minutes", format!("has more than {MAX_MINUTES} items"));
    }
    if new.decisions.len() > MAX_DECISIONS {
        return invalid("decisions", format!("has more than {MAX_DECISIONS} steps"));
    }
    let circle: Vec<String> = support_plan_member::Entity::find()
        .filter(support_plan_member::Column::PlanId.eq(plan_id))
        .filter(support_plan_member::Column::Status.eq(MemberStatus::Active))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.organization_id)
        .collect();
    let mut attending = vec![access.organization.clone()];
    for organization in new.attending_organization_ids {
        if !circle.contains(&organization) {
            return invalid(
                "attendingOrganizationIds",
                "names an organization that is not in the plan's circle: invite it first, with the family's consent",
            );
        }
        if !attending.contains(&organization) {
            attending.push(organization);
        }
    }
    let meeting_id = new_id();
    let mut minutes = Vec::new();
    for (position, item) in new.minutes.into_iter().enumerate() {
        let domain = match item.domain.filter(|d| !d.trim().is_empty()) {
            Some(d) => Some(writable_domain(db, reference, plan_id, &access, "minutes.domain", &d).await?),
            None => None,
        };
        let text = required_text("minutes.text", &item.text, MAX_TEXT_CHARS)?;
        minutes.push((position as i32, domain, text));
    }
    let mut decisions = Vec::new();
    for (goal_id, step) in new.decisions {
        let goal = support_plan_goal::Entity::find_by_id(goal_id.as_str())
            .one(db)
            .await?
            .filter(|g| g.plan_id == plan_id && access.sees(&g.domain));
        let Some(goal) = goal else {
            return invalid("decisions.goalId", "is not a goal of this plan in a domain you see");
        };
        decisions.push(prepare_step(db, keyring, &goal, &access, step, Some(meeting_id.clone())).await?);
    }
    let meeting = support_plan_meeting::Model {
        id: meeting_id.clone(),
        plan_id: plan_id.to_owned(),
        held_on: new.held_on,
        attending_organization_ids: json(&attending),
        organization_id: access.organization.clone(),
        created_by: access.account.clone(),
        created_at: Utc::now(),
    };
    let txn = crate::db::begin_write(db).await?;
    support_plan_meeting::Entity::insert(meeting.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    for (position, domain, text) in &minutes {
        let id = new_id();
        support_plan_minute::Model {
            text: keyring.seal(&context("support_plan_minute", &id, "text"), text),
            id,
            meeting_id: meeting_id.clone(),
            domain: domain.clone(),
            position: *position,
        }
        .into_active_model()
        .reset_all()
        .insert(&txn)
        .await?;
    }
    for step in &decisions {
        insert_step(&txn, keyring, &step.step, &access).await?;
    }
    txn.commit().await?;
    Ok(MeetingView {
        meeting,
        attending,
        minutes: minutes.into_iter().map(|(_, domain, text)| (domain, text)).collect(),
        decisions,
    })
}

/// The plan's meetings, newest first, with the minutes and decisions `access` may read.
pub async fn meetings(
    db: &DatabaseConnection,
    keyring: &Keyring,
    plan_id: &str,
    access: &Access,
) -> Result<Vec<MeetingView>, PlansError> {
    let found = support_plan_meeting::Entity::find()
        .filter(support_plan_meeting::Column::PlanId.eq(plan_id))
        .order_by_desc(support_plan_meeting::Column::HeldOn)
        .order_by_desc(support_plan_meeting::Column::CreatedAt)
        .all(db)
        .await?;
    let goals = support_plan_goal::Entity::find()
        .filter(support_plan_goal::Column::PlanId.eq(plan_id))
        .all(db)
        .await?;
    let seen_goal = |goal_id: &str| goals.iter().any(|g| g.id == goal_id && access.sees(&g.domain));
    let mut views = Vec::new();
    for meeting in found {
        let mut minutes = Vec::new();
        for item in support_plan_minute::Entity::find()
            .filter(support_plan_minute::Column::MeetingId.eq(meeting.id.as_str()))
            .order_by_asc(support_plan_minute::Column::Position)
            .all(db)
            .await?
        {
            if item.domain.as_deref().is_none_or(|d| access.sees(d)) {
                let text = keyring.open(&context("support_plan_minute", &item.id, "text"), &item.text)?;
                minutes.push((item.domain, text));
            }
        }
        let decisions = support_plan_step::Entity::find()
            .filter(support_plan_step::Column::MeetingId.eq(meeting.id.as_str()))
            .order_by_asc(support_plan_step::Column::CreatedAt)
            .order_by_asc(support_plan_step::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .filter(|s| seen_goal(&s.goal_id))
            .map(|s| open_step(keyring, s))
            .collect::<Result<Vec<_>, _>>()?;
        views.push(MeetingView {
            attending: serde_json::from_str(&meeting.attending_organization_ids).unwrap_or_default(),
            meeting,
            minutes,
            decisions,
        });
    }
    Ok(views)
}
