//! GraphQL over support plans: the contract front ends code against (`createSupportPlan`,
//! `supportPlan`, `supportPlans`, the circle, the network map, the action plan and
//! `planGaps`). Thin: every rule is in the functions of `plans`.

use std::sync::Arc;

use async_graphql::futures_util::{Stream, stream};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{account, referral, support_plan, support_plan_access, support_plan_transfer};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::{
    Access, ActorView, DomainNoteView, GoalChange, GoalEventView, GoalView, MeetingView, MemberView, NewActor, NewGoal,
    NewMeeting, NewMinute, NewPlan, NewStep, PlanView, PlansError, StepEventView, StepView,
};
use crate::auth::Viewer;
use crate::error::{ApiResult, context_data};
use crate::listings::{self, Organization, Service};
use crate::reference::Lang;
use crate::reference::types::reference;
use crate::reference::{Language, LifeDomain, Municipality};
use crate::referrals::Keyring;
use crate::referrals::types::ReferralStatus;
use crate::relay::{self, NodeKind, Page, PageRequest};
use crate::search::SearchIndex;
use crate::server::ClientAddress;
use tokio::sync::broadcast::error::RecvError;

use super::live::{PlanChange, PlanFeed, PlanUpdate};

fn db<'a>(ctx: &Context<'a>) -> ApiResult<&'a DatabaseConnection> {
    context_data::<DatabaseConnection>(ctx)
}

fn keyring<'a>(ctx: &Context<'a>) -> ApiResult<&'a Keyring> {
    context_data::<Arc<Keyring>>(ctx).map(|k| &**k)
}

fn viewer<'a>(ctx: &Context<'a>) -> ApiResult<&'a Viewer> {
    crate::error::context_data::<Viewer>(ctx)
}

/// A domain a plan works in: one of the top-level life domains, or one of the family's own.
pub struct PlanDomain {
    code: String,
    own_name: Option<String>,
}

#[Object]
impl PlanDomain {
    /// `housing`, or `plan:1` for the plan's first domain of its own.
    async fn code(&self) -> &str {
        &self.code
    }

    /// The life domain's label in `lang`; an own domain's name as the plan wrote it.
    async fn label(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> String {
        if let Some(name) = &self.own_name {
            return name.clone();
        }
        reference(ctx)
            .domain(&self.code)
            .map(|d| reference(ctx).domain_label(d, lang).text)
            .unwrap_or_default()
    }

    /// A domain of this family's own (`addPlanDomain`), outside the life domains.
    async fn own(&self) -> bool {
        self.own_name.is_some()
    }

    /// The life domain; null for an own domain.
    async fn life_domain(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.code)
    }
}

/// `codes` as domains of plan `plan_id`, unknown ones left out. Own domains' names are
/// opened only when one is asked for.
async fn plan_domains(ctx: &Context<'_>, plan_id: &str, codes: &[&str]) -> ApiResult<Vec<PlanDomain>> {
    let own = if codes.iter().any(|c| super::is_own(c)) {
        super::own_domains(db(ctx)?, keyring(ctx)?, plan_id).await?
    } else {
        Vec::new()
    };
    Ok(codes
        .iter()
        .filter_map(|code| {
            let own_name = if super::is_own(code) {
                Some(own.iter().find(|o| o.code == *code)?.name.clone())
            } else {
                reference(ctx).domain(code)?;
                None
            };
            Some(PlanDomain {
                code: (*code).to_owned(),
                own_name,
            })
        })
        .collect())
}

async fn plan_domain(ctx: &Context<'_>, plan_id: &str, code: &str) -> ApiResult<Option<PlanDomain>> {
    Ok(plan_domains(ctx, plan_id, &[code]).await?.pop())
}

async fn organization(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Organization>> {
    Ok(listings::organization(db(ctx)?, id).await?.map(Organization))
}

async fn email(ctx: &Context<'_>, id: &str) -> ApiResult<Option<String>> {
    let found = account::Entity::find_by_id(id)
        .one(db(ctx)?)
        .await
        .map_err(PlansError::from)?;
    Ok(found.map(|a| a.email))
}

fn organization_key(id: &ID) -> ApiResult<String> {
    Ok(relay::key_of(NodeKind::Organization, id)?)
}

/// Tells the circle's subscribers that something changed; a schema without the feed (none
/// is built so) would only skip it.
fn publish(
    ctx: &Context<'_>,
    plan_id: &str,
    change: PlanChange,
    domain: Option<&str>,
    subject_id: &str,
    addressee: Option<&str>,
) {
    if let Ok(feed) = ctx.data::<PlanFeed>() {
        feed.publish(PlanUpdate {
            plan_id: plan_id.to_owned(),
            change,
            domain: domain.map(str::to_owned),
            subject_id: subject_id.to_owned(),
            addressee: addressee.map(str::to_owned),
        });
    }
}

fn member_changed(ctx: &Context<'_>, member: &MemberView) {
    let m = &member.member;
    publish(
        ctx,
        &m.plan_id,
        PlanChange::Invitation,
        None,
        &m.id,
        Some(&m.organization_id),
    );
}

fn actor_changed(ctx: &Context<'_>, actor: &ActorView) {
    let a = &actor.actor;
    publish(ctx, &a.plan_id, PlanChange::Actor, Some(&a.domain), &a.id, None);
}

fn goal_changed(ctx: &Context<'_>, goal: &GoalView) {
    let g = &goal.goal;
    publish(ctx, &g.plan_id, PlanChange::Goal, Some(&g.domain), &g.id, None);
}

async fn step_changed(ctx: &Context<'_>, step: &StepView) -> ApiResult<()> {
    let s = &step.step;
    let domain = super::goal_domain(db(ctx)?, &s.goal_id).await?;
    publish(ctx, &s.plan_id, PlanChange::Step, domain.as_deref(), &s.id, None);
    Ok(())
}

fn transfer_changed(ctx: &Context<'_>, transfer: &support_plan_transfer::Model, addressee: &str) {
    publish(
        ctx,
        &transfer.plan_id,
        PlanChange::Transfer,
        None,
        &transfer.id,
        Some(addressee),
    );
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::support_plan_member::MemberStatus")]
pub enum PlanMemberStatus {
    /// Invited by the coordinator; the organization has not answered.
    Invited,
    /// In the circle: reads the plan in its domains.
    Active,
    /// The organization declined.
    Declined,
    /// The family's consent was withdrawn, or the organization left: no access.
    Removed,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::support_plan_step::StepOwner")]
pub enum PlanStepOwner {
    /// The family takes the step itself.
    Family,
    /// A member organization takes it (`organization`).
    Organization,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::support_plan_step::StepStatus")]
pub enum PlanStepStatus {
    Open,
    Done,
    Dropped,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::support_plan_goal::GoalStatus")]
pub enum PlanGoalStatus {
    Open,
    /// Ticked off: the family got there.
    Reached,
    /// Not pursued any more.
    Dropped,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::support_plan::CloseReason")]
pub enum PlanCloseReason {
    /// The family reached its goals and manages on its own.
    GoalsReached,
    /// The family moved where no organization took the plan over (else: `transferPlan`).
    FamilyMoved,
    /// The family no longer wants the plan: its content is erased at once.
    ConsentWithdrawn,
    /// Support ended for another reason.
    Other,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::support_plan_transfer::TransferStatus")]
pub enum PlanTransferStatus {
    /// Waiting for the receiving organization's answer.
    Offered,
    /// The receiving organization coordinates the plan now.
    Accepted,
    Declined,
    /// Taken back when the plan closed.
    Withdrawn,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "super::GapReason")]
pub enum PlanGapReason {
    /// The action plan has a goal in this domain and nobody on the network map helps there.
    GoalWithoutActor,
    /// The network map notes something missing in this domain, and nobody helps there.
    MissingWithoutActor,
}

/// One item of a meeting's minutes.
#[derive(InputObject)]
pub struct PlanMinuteInput {
    /// The top-level life domain it is about; members admitted to that domain read it.
    /// Leave it out for what concerns the whole plan (next meeting, tasks of the
    /// coordinator), which every member reads.
    pub domain: Option<String>,
    /// Encrypted at rest.
    pub text: String,
}

/// A step agreed at a meeting.
#[derive(InputObject)]
pub struct PlanDecisionInput {
    /// The goal it serves.
    pub goal_id: ID,
    /// What happens. Encrypted at rest.
    pub text: String,
    pub owner: PlanStepOwner,
    /// With `owner: ORGANIZATION`: a member admitted to the goal's domain; yours when left out.
    pub organization_id: Option<ID>,
    pub due_by: Option<NaiveDate>,
}

/// A network meeting held with the family.
#[derive(InputObject)]
pub struct PlanMeetingInput {
    pub held_on: NaiveDate,
    /// Members of the circle at the table; yours is counted in.
    #[graphql(default)]
    pub attending_organization_ids: Vec<ID>,
    /// The minutes, item by item, in the domains you see.
    #[graphql(default)]
    pub minutes: Vec<PlanMinuteInput>,
    /// Steps agreed at the table; they join the action plan.
    #[graphql(default)]
    pub decisions: Vec<PlanDecisionInput>,
}

/// A family whose support the coordinator starts to plan, with its consent. No names, no
/// birth dates.
#[derive(InputObject)]
pub struct CreateSupportPlanInput {
    /// A short handle the coordinator chooses to recognise the plan, such as "gezin 2026-14".
    /// Never a family member's name, not even initials. Encrypted at rest.
    pub label: String,
    /// Where the family lives: a postal code, a REFNIS municipality code, or both.
    pub postal_code: Option<String>,
    pub municipality_code: Option<String>,
    /// Languages the family speaks (ISO 639-1, 639-3 or BCP-47).
    pub languages: Vec<String>,
    #[graphql(default)]
    pub interpreter_needed: bool,
    #[graphql(default = 1)]
    pub adults: i32,
    /// Children's ages in years.
    #[graphql(default)]
    pub children_ages: Vec<i32>,
    /// The family agreed to this plan. Required.
    pub consent_given: bool,
}

/// Someone on the network map, in one life domain: a service on the map, or an informal role.
#[derive(InputObject)]
pub struct PlanActorInput {
    /// A top-level life-domain code (`housing`).
    pub domain: String,
    /// A service on the map; its listing stays current on the plan.
    pub service_id: Option<ID>,
    /// Instead of a service: a role such as `neighbour`, `buddy`, `religious community`,
    /// `family abroad`. Never a name. Encrypted at rest.
    pub informal_role: Option<String>,
    /// What this actor does for the family, in a sentence. Encrypted at rest.
    pub note: Option<String>,
}

/// A goal, in the family's words.
#[derive(InputObject)]
pub struct PlanGoalInput {
    /// A top-level life-domain code (`housing`).
    pub domain: String,
    /// What the family wants ("a house with enough bedrooms"). Encrypted at rest.
    pub text: String,
    /// By when, as the family sees it.
    pub due_by: Option<NaiveDate>,
}

/// A step towards a goal.
#[derive(InputObject)]
pub struct PlanStepInput {
    /// What happens. Encrypted at rest.
    pub text: String,
    pub owner: PlanStepOwner,
    /// With `owner: ORGANIZATION`: a member admitted to the goal's domain; yours when left out.
    pub organization_id: Option<ID>,
    pub due_by: Option<NaiveDate>,
}

/// A family's support plan: its network map (*netwerkkaart*) and action plan
/// (*handelingsplan*), as one member of its circle may see it.
pub struct SupportPlan(PlanView);

impl SupportPlan {
    fn access(&self) -> &Access {
        &self.0.access
    }

    fn id(&self) -> &str {
        &self.0.plan.id
    }
}

#[Object]
impl SupportPlan {
    #[graphql(name = "id")]
    async fn gql_id(&self) -> ID {
        ID(self.0.plan.id.clone())
    }

    /// The coordinator's handle for the plan; never a family member's name.
    async fn label(&self) -> &str {
        &self.0.label
    }

    async fn municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.plan.municipality_code)
    }

    async fn postal_code(&self) -> Option<&str> {
        self.0.plan.postal_code.as_deref()
    }

    async fn languages(&self, ctx: &Context<'_>) -> Vec<Language> {
        self.0
            .languages
            .iter()
            .filter_map(|code| Language::by_code(reference(ctx), code))
            .collect()
    }

    async fn interpreter_needed(&self) -> bool {
        self.0.plan.interpreter_needed
    }

    async fn adults(&self) -> i32 {
        self.0.plan.adults
    }

    async fn children_ages(&self) -> &[i32] {
        &self.0.children_ages
    }

    /// When the coordinator recorded the family's consent to the plan.
    async fn consent_given_at(&self) -> DateTime<Utc> {
        self.0.plan.consent_given_at
    }

    /// The coordinating organization.
    async fn coordinator(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.plan.coordinator_organization_id).await
    }

    /// Whether your organization coordinates this plan (and so sees every domain).
    async fn coordinating(&self) -> bool {
        self.access().coordinator
    }

    /// The domains your organization sees in this plan: life domains, then the family's own.
    async fn visible_domains(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanDomain>> {
        let mut codes: Vec<String> = reference(ctx).top_domains().map(|d| d.code.clone()).collect();
        codes.extend(
            super::own_domains(db(ctx)?, keyring(ctx)?, self.id())
                .await?
                .into_iter()
                .map(|o| o.code),
        );
        let seen: Vec<&str> = codes
            .iter()
            .map(String::as_str)
            .filter(|c| self.access().sees(c))
            .collect();
        plan_domains(ctx, self.id(), &seen).await
    }

    /// The domains of this family's own that you see (`addPlanDomain`).
    async fn own_domains(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanDomain>> {
        Ok(super::own_domains(db(ctx)?, keyring(ctx)?, self.id())
            .await?
            .into_iter()
            .filter(|o| self.access().sees(&o.code))
            .map(|o| PlanDomain {
                code: o.code,
                own_name: Some(o.name),
            })
            .collect())
    }

    /// The organizations in the circle now, each with the domains it was admitted to.
    async fn circle(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMember>> {
        let members = super::members(db(ctx)?, self.id(), false).await?;
        Ok(members.into_iter().map(PlanMember).collect())
    }

    /// Every invitation, answer and withdrawal of consent, oldest first. The coordinator's
    /// only: empty for other members.
    async fn invitations(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMember>> {
        if !self.access().coordinator {
            return Ok(Vec::new());
        }
        let members = super::members(db(ctx)?, self.id(), true).await?;
        Ok(members
            .into_iter()
            .filter(|m| !m.member.coordinator)
            .map(PlanMember)
            .collect())
    }

    /// The network map: who helps, in the domains you see.
    async fn actors(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanActor>> {
        let actors = super::actors(db(ctx)?, keyring(ctx)?, self.id(), self.access()).await?;
        Ok(actors.into_iter().map(PlanActor).collect())
    }

    /// What goes well and what is missing, per domain you see.
    async fn domain_notes(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanDomainNote>> {
        let notes = super::domain_notes(db(ctx)?, keyring(ctx)?, self.id(), self.access()).await?;
        Ok(notes.into_iter().map(PlanDomainNote).collect())
    }

    /// The action plan: goals in the domains you see, oldest first.
    async fn goals(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanGoal>> {
        let goals = super::goals(db(ctx)?, keyring(ctx)?, self.id(), self.access()).await?;
        Ok(goals.into_iter().map(PlanGoal).collect())
    }

    /// Who read this plan when, newest first. For the coordinator only (`FORBIDDEN` for
    /// other members).
    async fn access_log(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanAccess>> {
        let log = super::access_log(db(ctx)?, self.id(), self.access()).await?;
        Ok(log.into_iter().map(PlanAccess).collect())
    }

    /// The network meetings, newest first, with the minutes and decisions of the domains you see.
    async fn meetings(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMeeting>> {
        let meetings = super::meetings(db(ctx)?, keyring(ctx)?, self.id(), self.access()).await?;
        Ok(meetings.into_iter().map(PlanMeeting).collect())
    }

    /// Every transfer offer, oldest first. The coordinator's only: empty for other members.
    async fn transfers(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanTransfer>> {
        let transfers = super::transfers(db(ctx)?, self.id(), self.access()).await?;
        Ok(transfers.into_iter().map(PlanTransfer).collect())
    }

    /// When the family's current access code was issued; null without one. The
    /// coordinator's only.
    async fn family_code_issued_at(&self) -> Option<DateTime<Utc>> {
        self.access()
            .coordinator
            .then_some(self.0.plan.family_code_issued_at)
            .flatten()
    }

    /// A closed plan takes no changes; its content is erased after the retention time.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.plan.closed_at
    }

    async fn close_reason(&self) -> Option<PlanCloseReason> {
        self.0.plan.close_reason.map(Into::into)
    }

    /// When the label, household, languages and every free text were erased.
    async fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.0.plan.erased_at
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.plan.created_at
    }
}

/// An organization in a plan's circle (or invited to it), with the family's consent.
pub struct PlanMember(MemberView);

#[Object]
impl PlanMember {
    /// The invitation's id, which `answerPlanInvitation` takes.
    async fn id(&self) -> ID {
        ID(self.0.member.id.clone())
    }

    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.member.organization_id).await
    }

    /// The domains the family consented to share with it (all, for the coordinator).
    async fn domains(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanDomain>> {
        let codes: Vec<&str> = self.0.domains.iter().map(String::as_str).collect();
        plan_domains(ctx, &self.0.member.plan_id, &codes).await
    }

    async fn coordinator(&self) -> bool {
        self.0.member.coordinator
    }

    /// The coordinating organization, which invited this member.
    async fn invited_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let plan = support_plan::Entity::find_by_id(self.0.member.plan_id.as_str())
            .one(db(ctx)?)
            .await
            .map_err(PlansError::from)?;
        match plan {
            Some(plan) => organization(ctx, &plan.coordinator_organization_id).await,
            None => Ok(None),
        }
    }

    async fn status(&self) -> PlanMemberStatus {
        self.0.member.status.into()
    }

    /// The email of the account that recorded the family's consent to this member.
    async fn consent_recorded_by(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        email(ctx, &self.0.member.consent_recorded_by).await
    }

    async fn consent_recorded_at(&self) -> DateTime<Utc> {
        self.0.member.consent_recorded_at
    }

    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.member.answered_at
    }

    /// When the family's consent was withdrawn (or the organization left).
    async fn removed_at(&self) -> Option<DateTime<Utc>> {
        self.0.member.removed_at
    }
}

/// Someone who helps the family in one domain: a service on the map, or an informal role.
pub struct PlanActor(ActorView);

#[Object]
impl PlanActor {
    async fn id(&self) -> ID {
        ID(self.0.actor.id.clone())
    }

    async fn domain(&self, ctx: &Context<'_>) -> ApiResult<Option<PlanDomain>> {
        plan_domain(ctx, &self.0.actor.plan_id, &self.0.actor.domain).await
    }

    /// The service, as its listing is now; null for an informal role.
    async fn service(&self, ctx: &Context<'_>) -> ApiResult<Option<Service>> {
        let Some(id) = &self.0.actor.service_id else {
            return Ok(None);
        };
        Ok(listings::service(db(ctx)?, id).await?.map(Service))
    }

    /// The role of an informal actor ("neighbour"); null for a service.
    async fn informal_role(&self) -> Option<&str> {
        self.0.informal_role.as_deref()
    }

    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The member organization that put it on the map.
    async fn added_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.actor.organization_id).await
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.actor.created_at
    }
}

/// What goes well and what is missing in one domain.
pub struct PlanDomainNote(DomainNoteView);

#[Object]
impl PlanDomainNote {
    async fn domain(&self, ctx: &Context<'_>) -> ApiResult<Option<PlanDomain>> {
        plan_domain(ctx, &self.0.row.plan_id, &self.0.row.domain).await
    }

    async fn goes_well(&self) -> Option<&str> {
        self.0.goes_well.as_deref()
    }

    /// Where the family needs extra help: with no actor in the domain, a gap (`planGaps`).
    async fn missing(&self) -> Option<&str> {
        self.0.missing.as_deref()
    }

    async fn updated_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.row.organization_id).await
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.row.updated_at
    }
}

/// A goal of the action plan, in the family's words.
pub struct PlanGoal(GoalView);

#[Object]
impl PlanGoal {
    async fn id(&self) -> ID {
        ID(self.0.goal.id.clone())
    }

    async fn domain(&self, ctx: &Context<'_>) -> ApiResult<Option<PlanDomain>> {
        plan_domain(ctx, &self.0.goal.plan_id, &self.0.goal.domain).await
    }

    async fn text(&self) -> &str {
        &self.0.text
    }

    async fn due_by(&self) -> Option<NaiveDate> {
        self.0.goal.due_by
    }

    async fn status(&self) -> PlanGoalStatus {
        self.0.goal.status.into()
    }

    /// Every change since it was set: ticked off, dropped, reworded, moved, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanGoalEvent>> {
        let events = super::goal_events(db(ctx)?, keyring(ctx)?, &self.0.goal.id).await?;
        Ok(events.into_iter().map(PlanGoalEvent).collect())
    }

    /// The steps towards it, oldest first.
    async fn steps(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanStep>> {
        let steps = super::steps(db(ctx)?, keyring(ctx)?, &self.0.goal.id).await?;
        Ok(steps.into_iter().map(PlanStep).collect())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.goal.created_at
    }
}

/// A step towards a goal.
pub struct PlanStep(StepView);

#[Object]
impl PlanStep {
    async fn id(&self) -> ID {
        ID(self.0.step.id.clone())
    }

    async fn text(&self) -> &str {
        &self.0.text
    }

    async fn owner(&self) -> PlanStepOwner {
        self.0.step.owner.into()
    }

    /// The member organization that takes it, with `owner: ORGANIZATION`.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        match &self.0.step.owner_organization_id {
            Some(id) => organization(ctx, id).await,
            None => Ok(None),
        }
    }

    async fn due_by(&self) -> Option<NaiveDate> {
        self.0.step.due_by
    }

    async fn status(&self) -> PlanStepStatus {
        self.0.step.status.into()
    }

    /// The referrals sent for this step (`createReferral(input: { planStepId })`), with
    /// where each stands.
    async fn referrals(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanStepReferral>> {
        let found = super::step_referrals(db(ctx)?, &self.0.step.id).await?;
        Ok(found.into_iter().map(PlanStepReferral).collect())
    }

    /// The id of the network meeting that decided it, if one did.
    async fn meeting_id(&self) -> Option<ID> {
        self.0.step.meeting_id.clone().map(ID)
    }

    /// Every status change, oldest first, from its creation (OPEN).
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanStepEvent>> {
        let events = super::step_events(db(ctx)?, keyring(ctx)?, &self.0.step.id).await?;
        Ok(events.into_iter().map(PlanStepEvent).collect())
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.step.updated_at
    }
}

/// A step's status change, by whom and when.
pub struct PlanStepEvent(StepEventView);

#[Object]
impl PlanStepEvent {
    async fn status(&self) -> PlanStepStatus {
        self.0.event.status.into()
    }

    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The email of the account that made the change.
    async fn by(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        email(ctx, &self.0.event.account_id).await
    }

    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.event.organization_id).await
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.event.created_at
    }
}

/// A change of a goal, by whom and when.
pub struct PlanGoalEvent(GoalEventView);

#[Object]
impl PlanGoalEvent {
    /// The goal's status after the change.
    async fn status(&self) -> PlanGoalStatus {
        self.0.event.status.into()
    }

    /// The new wording, when the change reworded the goal.
    async fn text(&self) -> Option<&str> {
        self.0.text.as_deref()
    }

    /// The new term, when the change moved it.
    async fn due_by(&self) -> Option<NaiveDate> {
        self.0.event.due_by
    }

    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The email of the account that made the change.
    async fn by(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        email(ctx, &self.0.event.account_id).await
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.event.created_at
    }
}

/// A referral sent for a plan step, as the plan's circle sees it: the service and where it
/// stands, never the family's details (those are for the two organizations, on `referral`).
pub struct PlanStepReferral(referral::Model);

#[Object]
impl PlanStepReferral {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn service(&self, ctx: &Context<'_>) -> ApiResult<Option<Service>> {
        Ok(listings::service(db(ctx)?, &self.0.service_id).await?.map(Service))
    }

    async fn status(&self) -> ReferralStatus {
        self.0.status.into()
    }

    /// The municipality it was sent for.
    async fn municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.municipality_code)
    }

    /// The declined referral this one forwarded, if any.
    async fn forwarded_from_id(&self) -> Option<ID> {
        self.0.forwarded_from_id.clone().map(ID)
    }

    async fn sent_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One item of a meeting's minutes.
#[derive(SimpleObject)]
pub struct PlanMinute {
    /// Null for an item about the whole plan.
    domain: Option<PlanDomain>,
    text: String,
}

/// A network meeting held with the family.
pub struct PlanMeeting(MeetingView);

#[Object]
impl PlanMeeting {
    async fn id(&self) -> ID {
        ID(self.0.meeting.id.clone())
    }

    async fn held_on(&self) -> NaiveDate {
        self.0.meeting.held_on
    }

    /// The members at the table.
    async fn attending(&self, ctx: &Context<'_>) -> ApiResult<Vec<Organization>> {
        let mut found = Vec::new();
        for id in &self.0.attending {
            found.extend(organization(ctx, id).await?);
        }
        Ok(found)
    }

    /// The items of the minutes you may read, in order.
    async fn minutes(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMinute>> {
        let mut items = Vec::new();
        for (domain, text) in &self.0.minutes {
            let domain = match domain {
                Some(code) => plan_domain(ctx, &self.0.meeting.plan_id, code).await?,
                None => None,
            };
            items.push(PlanMinute {
                domain,
                text: text.clone(),
            });
        }
        Ok(items)
    }

    /// The steps it decided, in the domains you see.
    async fn decisions(&self) -> Vec<PlanStep> {
        self.0.decisions.iter().cloned().map(PlanStep).collect()
    }

    /// The member that recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.meeting.organization_id).await
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.meeting.created_at
    }
}

/// A plan offered to an organization in the family's new place (*warme overdracht*).
pub struct PlanTransfer(support_plan_transfer::Model);

#[Object]
impl PlanTransfer {
    /// The offer's id, which `answerPlanTransfer` takes.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The plan; readable by the receiving organization once it accepted.
    async fn plan_id(&self) -> ID {
        ID(self.0.plan_id.clone())
    }

    async fn status(&self) -> PlanTransferStatus {
        self.0.status.into()
    }

    /// The coordinator that offered it.
    async fn from(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.from_organization_id).await
    }

    /// The organization offered the plan.
    async fn to(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.to_organization_id).await
    }

    async fn from_municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.from_municipality_code)
    }

    /// The family's new municipality.
    async fn to_municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.to_municipality_code)
    }

    async fn offered_at(&self) -> DateTime<Utc> {
        self.0.offered_at
    }

    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.answered_at
    }

    /// Once accepted, for the new coordinator: the referrals the plan's steps sent in the
    /// old municipality that are still open, to follow up.
    async fn follow_up(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanStepReferral>> {
        let found = super::transfer_follow_up(db(ctx)?, &self.0, viewer(ctx)?).await?;
        Ok(found.into_iter().map(PlanStepReferral).collect())
    }
}

/// The family's access code, shown once.
#[derive(SimpleObject)]
pub struct FamilyCode {
    /// Give it to the family (as a link or QR code): it opens `familyView`. Not shown again;
    /// issuing a new one revokes this one.
    code: String,
    issued_at: DateTime<Utc>,
}

/// A family's own plan, read-only, opened with its access code.
pub struct FamilyPlan(PlanView);

impl FamilyPlan {
    fn access(&self) -> &Access {
        &self.0.access
    }
}

#[Object]
impl FamilyPlan {
    async fn municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.plan.municipality_code)
    }

    async fn languages(&self, ctx: &Context<'_>) -> Vec<Language> {
        self.0
            .languages
            .iter()
            .filter_map(|code| Language::by_code(reference(ctx), code))
            .collect()
    }

    /// The first of the family's languages the API has labels in, itself or through its
    /// macrolanguage (Dari through Persian); Dutch when none. Ask `label(lang:)` in it.
    async fn label_language(&self, ctx: &Context<'_>) -> Lang {
        let reference = reference(ctx);
        self.0
            .languages
            .iter()
            .filter_map(|code| reference.answer_language(code))
            .find(|lang| reference.has_labels(*lang))
            .unwrap_or_default()
    }

    /// The coordinating organization, to contact.
    async fn coordinator(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.plan.coordinator_organization_id).await
    }

    /// Who helps, per domain.
    async fn actors(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanActor>> {
        let actors = super::actors(db(ctx)?, keyring(ctx)?, &self.0.plan.id, self.access()).await?;
        Ok(actors.into_iter().map(PlanActor).collect())
    }

    /// What goes well and what is missing, per domain.
    async fn domain_notes(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanDomainNote>> {
        let notes = super::domain_notes(db(ctx)?, keyring(ctx)?, &self.0.plan.id, self.access()).await?;
        Ok(notes.into_iter().map(PlanDomainNote).collect())
    }

    /// The goals and their steps.
    async fn goals(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanGoal>> {
        let goals = super::goals(db(ctx)?, keyring(ctx)?, &self.0.plan.id, self.access()).await?;
        Ok(goals.into_iter().map(PlanGoal).collect())
    }

    /// What comes next: open steps with a date from today on, soonest first.
    async fn next_steps(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanStep>> {
        let steps = super::next_steps(db(ctx)?, keyring(ctx)?, &self.0.plan.id).await?;
        Ok(steps.into_iter().map(PlanStep).collect())
    }

    /// The network meetings, newest first.
    async fn meetings(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMeeting>> {
        let meetings = super::meetings(db(ctx)?, keyring(ctx)?, &self.0.plan.id, self.access()).await?;
        Ok(meetings.into_iter().map(PlanMeeting).collect())
    }
}

/// One municipality's support plans, in counts.
pub struct PlanStatisticsRow(super::PlanStatistics);

#[Object(name = "PlanStatistics")]
impl PlanStatisticsRow {
    async fn municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.municipality_code)
    }

    /// Null below five.
    async fn plans_open(&self) -> Option<u64> {
        self.0.plans_open
    }

    async fn domains(&self) -> Vec<PlanDomainStatistics> {
        self.0.domains.iter().cloned().map(PlanDomainStatistics).collect()
    }
}

/// One life domain of a municipality's support plans; counts below five are null.
pub struct PlanDomainStatistics(super::DomainStatistics);

#[Object]
impl PlanDomainStatistics {
    async fn domain(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.0.domain_code)
    }

    /// Goals set in this domain, in plans open or closed.
    async fn goals(&self) -> Option<u64> {
        self.0.goals
    }

    async fn goals_reached(&self) -> Option<u64> {
        self.0.goals_reached
    }

    /// Reached over set, from 0 to 1, when both counts are shown.
    async fn share_reached(&self) -> Option<f64> {
        self.0.share_reached
    }

    /// Open plans with a goal or a need in this domain and nobody helping.
    async fn unfilled_gaps(&self) -> Option<u64> {
        self.0.unfilled_gaps
    }
}

/// One read of a plan.
pub struct PlanAccess(support_plan_access::Model);

#[Object]
impl PlanAccess {
    /// The family itself read it, with its access code.
    async fn family(&self) -> bool {
        self.0.account_id == super::FAMILY_READER
    }

    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        organization(ctx, &self.0.organization_id).await
    }

    /// The email of the account that read it.
    async fn by(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        email(ctx, &self.0.account_id).await
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// A domain where the plan needs help and nobody gives it, with services that could.
pub struct PlanGap(super::Gap);

#[Object]
impl PlanGap {
    async fn domain(&self) -> PlanDomain {
        PlanDomain {
            code: self.0.domain.clone(),
            own_name: self.0.own_name.clone(),
        }
    }

    async fn reason(&self) -> PlanGapReason {
        self.0.reason.into()
    }

    /// Services covering the family's municipality that speak one of its languages (staff or
    /// interpreter), best first, ranked as `searchServices` ranks them.
    async fn services(&self) -> Vec<Service> {
        self.0.services.iter().cloned().map(Service).collect()
    }
}

#[derive(Default)]
pub struct PlansQuery;

#[Object]
impl PlansQuery {
    /// A support plan, for the organizations in its circle (each sees the domains it was
    /// admitted to). Anyone else gets `NOT_FOUND`, whether or not it exists. Every read is
    /// logged for the coordinator.
    async fn support_plan(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SupportPlan> {
        Ok(SupportPlan(
            super::plan(db(ctx)?, keyring(ctx)?, viewer(ctx)?, &id).await?,
        ))
    }

    /// The plans your organization is in, newest first. Each plan listed is a logged read.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn support_plans(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<SupportPlan>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let (found, total) = super::plans(db(ctx)?, keyring(ctx)?, viewer(ctx)?, page).await?;
        Ok(relay::page(page, found.into_iter().map(SupportPlan).collect(), total))
    }

    /// Support plans per municipality, for admins (any, or all) and municipality editors
    /// (their own): plans open, and per life domain goals set and reached and open plans
    /// with a gap. Counts below five are null, and a domain with none shown is left out.
    async fn plan_statistics(
        &self,
        ctx: &Context<'_>,
        municipality_code: Option<String>,
    ) -> ApiResult<Vec<PlanStatisticsRow>> {
        let rows = super::statistics(db(ctx)?, reference(ctx), viewer(ctx)?, municipality_code.as_deref()).await?;
        Ok(rows.into_iter().map(PlanStatisticsRow).collect())
    }

    /// Transfer offers waiting for your organization's answer.
    async fn plan_transfers(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanTransfer>> {
        let found = super::transfers_offered(db(ctx)?, viewer(ctx)?).await?;
        Ok(found.into_iter().map(PlanTransfer).collect())
    }

    /// The family's own plan, read-only, with the code its coordinator gave it; no account
    /// needed. A wrong, revoked or replaced code is `NOT_FOUND`; ten attempts a minute per
    /// client address, then `RATE_LIMITED`.
    async fn family_view(&self, ctx: &Context<'_>, code: String) -> ApiResult<FamilyPlan> {
        let ClientAddress(client) = *context_data::<ClientAddress>(ctx)?;
        let limiter = context_data::<Arc<super::FamilyLimiter>>(ctx)?;
        Ok(FamilyPlan(
            super::family_view(db(ctx)?, keyring(ctx)?, limiter, client, &code).await?,
        ))
    }

    /// Invitations to plans waiting for your organization's answer: which domains, since when.
    async fn plan_invitations(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMember>> {
        let found = super::invitations(db(ctx)?, viewer(ctx)?).await?;
        Ok(found.into_iter().map(PlanMember).collect())
    }

    /// The domains (that you see) with a goal or a "missing" note and nobody helping, each
    /// with services that cover the family's municipality and speak its languages. A read of
    /// the plan, logged. It counts as five of a request's ten searches.
    async fn plan_gaps(&self, ctx: &Context<'_>, plan_id: ID) -> ApiResult<Vec<PlanGap>> {
        let gaps = super::gaps(
            db(ctx)?,
            reference(ctx),
            keyring(ctx)?,
            crate::error::context_data::<Arc<SearchIndex>>(ctx)?,
            viewer(ctx)?,
            &plan_id,
        )
        .await?;
        Ok(gaps.into_iter().map(PlanGap).collect())
    }
}

#[derive(Default)]
pub struct PlansMutation;

#[Object]
impl PlansMutation {
    /// Starts a support plan for a family, with its consent; your organization coordinates it.
    async fn create_support_plan(&self, ctx: &Context<'_>, input: CreateSupportPlanInput) -> ApiResult<SupportPlan> {
        let new = NewPlan {
            label: input.label,
            postal_code: input.postal_code,
            municipality_code: input.municipality_code,
            languages: input.languages,
            interpreter_needed: input.interpreter_needed,
            adults: input.adults,
            children_ages: input.children_ages,
            consent_given: input.consent_given,
        };
        Ok(SupportPlan(
            super::create_plan(db(ctx)?, reference(ctx), keyring(ctx)?, viewer(ctx)?, new).await?,
        ))
    }

    /// Invites an organization into the circle for `domains`, recording that the family
    /// consented to share those domains with it. The coordinator's to do.
    async fn invite_plan_member(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        organization_id: ID,
        domains: Vec<String>,
    ) -> ApiResult<PlanMember> {
        let organization = organization_key(&organization_id)?;
        let member = super::invite_member(
            db(ctx)?,
            reference(ctx),
            viewer(ctx)?,
            &plan_id,
            &organization,
            &domains,
        )
        .await?;
        member_changed(ctx, &member);
        Ok(PlanMember(member))
    }

    /// Accepts or declines an invitation to your organization (`planInvitations`).
    async fn answer_plan_invitation(&self, ctx: &Context<'_>, id: ID, accept: bool) -> ApiResult<PlanMember> {
        let member = super::answer_invitation(db(ctx)?, viewer(ctx)?, &id, accept).await?;
        member_changed(ctx, &member);
        Ok(PlanMember(member))
    }

    /// Removes a member (or withdraws its invitation): the family withdrew its consent, and
    /// the member's access ends at once. A member may also remove itself.
    async fn remove_plan_member(&self, ctx: &Context<'_>, plan_id: ID, organization_id: ID) -> ApiResult<PlanMember> {
        let organization = organization_key(&organization_id)?;
        let member = super::remove_member(db(ctx)?, viewer(ctx)?, &plan_id, &organization).await?;
        member_changed(ctx, &member);
        Ok(PlanMember(member))
    }

    /// Adds a domain of the family's own, for a need outside the life domains ("a driving
    /// licence"); it takes actors, notes and goals as any domain, and members are admitted
    /// to it by its code. The coordinator's to do. Its name is encrypted at rest.
    async fn add_plan_domain(&self, ctx: &Context<'_>, plan_id: ID, name: String) -> ApiResult<PlanDomain> {
        let own = super::add_domain(db(ctx)?, keyring(ctx)?, viewer(ctx)?, &plan_id, &name).await?;
        Ok(PlanDomain {
            code: own.code,
            own_name: Some(own.name),
        })
    }

    /// Puts someone on the network map in one domain.
    async fn add_plan_actor(&self, ctx: &Context<'_>, plan_id: ID, input: PlanActorInput) -> ApiResult<PlanActor> {
        let new = NewActor {
            domain: input.domain,
            service_id: input
                .service_id
                .map(|id| relay::key_of(NodeKind::Service, &id))
                .transpose()?,
            informal_role: input.informal_role,
            note: input.note,
        };
        let actor = super::add_actor(db(ctx)?, reference(ctx), keyring(ctx)?, viewer(ctx)?, &plan_id, new).await?;
        actor_changed(ctx, &actor);
        Ok(PlanActor(actor))
    }

    /// Takes someone off the network map.
    async fn remove_plan_actor(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PlanActor> {
        let actor = super::remove_actor(db(ctx)?, keyring(ctx)?, viewer(ctx)?, &id).await?;
        actor_changed(ctx, &actor);
        Ok(PlanActor(actor))
    }

    /// Sets what goes well and what is missing in one domain; null or blank clears one.
    async fn set_plan_domain_note(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        domain: String,
        goes_well: Option<String>,
        missing: Option<String>,
    ) -> ApiResult<PlanDomainNote> {
        let note = super::set_domain_note(
            db(ctx)?,
            reference(ctx),
            keyring(ctx)?,
            viewer(ctx)?,
            &plan_id,
            &domain,
            goes_well.as_deref(),
            missing.as_deref(),
        )
        .await?;
        publish(
            ctx,
            &note.row.plan_id,
            PlanChange::DomainNote,
            Some(&note.row.domain),
            &note.row.id,
            None,
        );
        Ok(PlanDomainNote(note))
    }

    /// Adds a goal to one domain of the action plan.
    async fn add_plan_goal(&self, ctx: &Context<'_>, plan_id: ID, input: PlanGoalInput) -> ApiResult<PlanGoal> {
        let new = NewGoal {
            domain: input.domain,
            text: input.text,
            due_by: input.due_by,
        };
        let goal = super::add_goal(db(ctx)?, reference(ctx), keyring(ctx)?, viewer(ctx)?, &plan_id, new).await?;
        goal_changed(ctx, &goal);
        Ok(PlanGoal(goal))
    }

    /// Adds a step towards a goal, taken by the family or a member organization.
    async fn add_plan_step(&self, ctx: &Context<'_>, goal_id: ID, input: PlanStepInput) -> ApiResult<PlanStep> {
        let new = NewStep {
            text: input.text,
            owner: input.owner.into(),
            organization_id: input.organization_id.as_ref().map(organization_key).transpose()?,
            due_by: input.due_by,
        };
        let step = super::add_step(db(ctx)?, keyring(ctx)?, viewer(ctx)?, &goal_id, new).await?;
        step_changed(ctx, &step).await?;
        Ok(PlanStep(step))
    }

    /// Ticks a goal off (REACHED), drops it, reopens it, rewords it or moves its term, as the
    /// family decides; each change is kept as an event.
    async fn update_plan_goal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: Option<PlanGoalStatus>,
        text: Option<String>,
        due_by: Option<NaiveDate>,
        note: Option<String>,
    ) -> ApiResult<PlanGoal> {
        let change = GoalChange {
            status: status.map(Into::into),
            text,
            due_by,
            note,
        };
        let goal = super::update_goal(db(ctx)?, keyring(ctx)?, viewer(ctx)?, &id, change).await?;
        goal_changed(ctx, &goal);
        Ok(PlanGoal(goal))
    }

    /// Records a network meeting: who was at the table, the minutes per domain, and the steps
    /// agreed, which join the action plan.
    async fn record_plan_meeting(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        input: PlanMeetingInput,
    ) -> ApiResult<PlanMeeting> {
        let mut decisions = Vec::new();
        for decision in input.decisions {
            let step = NewStep {
                text: decision.text,
                owner: decision.owner.into(),
                organization_id: decision.organization_id.as_ref().map(organization_key).transpose()?,
                due_by: decision.due_by,
            };
            decisions.push((decision.goal_id.0, step));
        }
        let new = NewMeeting {
            held_on: input.held_on,
            attending_organization_ids: input
                .attending_organization_ids
                .iter()
                .map(organization_key)
                .collect::<ApiResult<_>>()?,
            minutes: input
                .minutes
                .into_iter()
                .map(|m| NewMinute {
                    domain: m.domain,
                    text: m.text,
                })
                .collect(),
            decisions,
        };
        let meeting =
            super::record_meeting(db(ctx)?, reference(ctx), keyring(ctx)?, viewer(ctx)?, &plan_id, new).await?;
        publish(ctx, &plan_id, PlanChange::Meeting, None, &meeting.meeting.id, None);
        Ok(PlanMeeting(meeting))
    }

    /// Offers the plan to an organization that serves the family's new place. On acceptance
    /// it coordinates, the plan moves there, and the current circle's access ends.
    async fn transfer_plan(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        to_postal_code: Option<String>,
        to_municipality_code: Option<String>,
        receiving_organization_id: ID,
    ) -> ApiResult<PlanTransfer> {
        let receiving = organization_key(&receiving_organization_id)?;
        let transfer = super::offer_transfer(
            db(ctx)?,
            reference(ctx),
            viewer(ctx)?,
            &plan_id,
            to_postal_code.as_deref(),
            to_municipality_code.as_deref(),
            &receiving,
        )
        .await?;
        transfer_changed(ctx, &transfer, &transfer.to_organization_id);
        Ok(PlanTransfer(transfer))
    }

    /// Accepts (and coordinates from now on) or declines a plan offered to your organization.
    async fn answer_plan_transfer(&self, ctx: &Context<'_>, id: ID, accept: bool) -> ApiResult<PlanTransfer> {
        let transfer = super::answer_transfer(db(ctx)?, reference(ctx), viewer(ctx)?, &id, accept).await?;
        transfer_changed(ctx, &transfer, &transfer.from_organization_id);
        Ok(PlanTransfer(transfer))
    }

    /// Closes the plan: it stays readable to the circle until its content is erased after
    /// the retention time (at once with CONSENT_WITHDRAWN), and takes no changes.
    async fn close_support_plan(&self, ctx: &Context<'_>, id: ID, reason: PlanCloseReason) -> ApiResult<SupportPlan> {
        let plan = super::close_plan(db(ctx)?, keyring(ctx)?, viewer(ctx)?, &id, reason.into()).await?;
        publish(ctx, &plan.plan.id, PlanChange::Closed, None, &plan.plan.id, None);
        Ok(SupportPlan(plan))
    }

    /// Gives the family a new access code to its own plan (`familyView`), revoking any
    /// earlier one. The coordinator's to do.
    async fn issue_family_code(&self, ctx: &Context<'_>, plan_id: ID) -> ApiResult<FamilyCode> {
        let code = super::issue_family_code(db(ctx)?, viewer(ctx)?, &plan_id).await?;
        Ok(FamilyCode {
            code,
            issued_at: Utc::now(),
        })
    }

    /// Revokes the family's access code; true once it opens nothing.
    async fn revoke_family_code(&self, ctx: &Context<'_>, plan_id: ID) -> ApiResult<bool> {
        super::revoke_family_code(db(ctx)?, viewer(ctx)?, &plan_id).await?;
        Ok(true)
    }

    /// Ticks a step off (DONE), drops it, or opens it again; each change is kept as an event
    /// with who and when, and an optional note.
    async fn update_plan_step(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: PlanStepStatus,
        note: Option<String>,
    ) -> ApiResult<PlanStep> {
        let step = super::update_step(
            db(ctx)?,
            keyring(ctx)?,
            viewer(ctx)?,
            &id,
            status.into(),
            note.as_deref(),
        )
        .await?;
        step_changed(ctx, &step).await?;
        Ok(PlanStep(step))
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "super::PlanChange")]
pub enum PlanChangeKind {
    Step,
    Goal,
    Actor,
    DomainNote,
    Meeting,
    /// An invitation was sent, answered or withdrawn, or a member removed.
    Invitation,
    /// A transfer was offered or answered.
    Transfer,
    Closed,
}

/// Something changed in a plan you are in (or were invited to, or offered): reload it
/// (`supportPlan`, `planInvitations`, `planTransfers`) to see what, with your rights.
pub struct PlanUpdateEvent(PlanUpdate);

#[Object(name = "PlanUpdate")]
impl PlanUpdateEvent {
    async fn plan_id(&self) -> ID {
        ID(self.0.plan_id.clone())
    }

    async fn change(&self) -> PlanChangeKind {
        self.0.change.into()
    }

    /// The domain it concerns; null for what every member sees.
    async fn domain(&self, ctx: &Context<'_>) -> ApiResult<Option<PlanDomain>> {
        match &self.0.domain {
            Some(code) => plan_domain(ctx, &self.0.plan_id, code).await,
            None => Ok(None),
        }
    }

    /// The id of what changed: the step, goal, actor, invitation, meeting or transfer.
    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.clone())
    }
}

#[derive(Default)]
pub struct PlansSubscription;

#[Subscription]
impl PlansSubscription {
    /// Changes to steps, goals, actors, notes, meetings, invitations and transfers of the
    /// plans your organization is in, in the domains it sees, as they happen on this server;
    /// and invitations and transfer offers addressed to it. Only `planId`'s with one.
    async fn plan_updates(
        &self,
        ctx: &Context<'_>,
        plan_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = PlanUpdateEvent>> {
        let (organization, _) = super::acting(viewer(ctx)?).map_err(crate::error::ApiError::from)?;
        let db = db(ctx)?.clone();
        let receiver = context_data::<PlanFeed>(ctx)?.subscribe();
        let only = plan_id.map(|id| id.0);
        Ok(stream::unfold(receiver, move |mut receiver| {
            let (organization, db, only) = (organization.clone(), db.clone(), only.clone());
            async move {
                loop {
                    let update = match receiver.recv().await {
                        Ok(update) => update,
                        // A subscriber that fell behind skips what it missed.
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    };
                    if only.as_ref().is_some_and(|id| *id != update.plan_id) {
                        continue;
                    }
                    // Checked per update: consent withdrawn ends the stream's content at once.
                    match super::live::concerns(&db, &update, &organization).await {
                        Ok(true) => return Some((PlanUpdateEvent(update), receiver)),
                        Ok(false) => continue,
                        Err(error) => {
                            tracing::warn!(%error, "checking a plan update's audience failed; skipped");
                            continue;
                        }
                    }
                }
            }
        }))
    }
}
