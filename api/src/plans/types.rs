//! GraphQL over support plans: the contract front ends code against (`createSupportPlan`,
//! `supportPlan`, `supportPlans`, the circle, the network map, the action plan and
//! `planGaps`). Thin: every rule is in the functions of `plans`.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{account, support_plan, support_plan_access};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::{
    Access, ActorView, DomainNoteView, GoalView, MemberView, NewActor, NewGoal, NewPlan, NewStep, PlanView, PlansError,
    StepEventView, StepView,
};
use crate::auth::Viewer;
use crate::error::ApiResult;
use crate::listings::{self, Organization, Service};
use crate::reference::types::reference;
use crate::reference::{Language, LifeDomain, Municipality};
use crate::referrals::Keyring;
use crate::relay::{self, NodeKind, Page, PageRequest};
use crate::search::SearchIndex;

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

fn keyring<'a>(ctx: &Context<'a>) -> &'a Keyring {
    ctx.data_unchecked::<Arc<Keyring>>()
}

fn viewer<'a>(ctx: &Context<'a>) -> ApiResult<&'a Viewer> {
    crate::error::context_data::<Viewer>(ctx)
}

fn domains(ctx: &Context<'_>, codes: &[String]) -> Vec<LifeDomain> {
    codes
        .iter()
        .filter_map(|code| LifeDomain::by_code(reference(ctx), code))
        .collect()
}

async fn organization(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Organization>> {
    Ok(listings::organization(db(ctx), id).await?.map(Organization))
}

async fn email(ctx: &Context<'_>, id: &str) -> ApiResult<Option<String>> {
    let found = account::Entity::find_by_id(id)
        .one(db(ctx))
        .await
        .map_err(PlansError::from)?;
    Ok(found.map(|a| a.email))
}

fn organization_key(id: &ID) -> ApiResult<String> {
    Ok(relay::key_of(NodeKind::Organization, id)?)
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
#[graphql(remote = "super::GapReason")]
pub enum PlanGapReason {
    /// The action plan has a goal in this domain and nobody on the network map helps there.
    GoalWithoutActor,
    /// The network map notes something missing in this domain, and nobody helps there.
    MissingWithoutActor,
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

    /// The life domains your organization sees in this plan.
    async fn visible_domains(&self, ctx: &Context<'_>) -> Vec<LifeDomain> {
        reference(ctx)
            .top_domains()
            .filter(|d| self.access().sees(&d.code))
            .map(|d| LifeDomain(d.clone()))
            .collect()
    }

    /// The organizations in the circle now, each with the domains it was admitted to.
    async fn circle(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMember>> {
        let members = super::members(db(ctx), self.id(), false).await?;
        Ok(members.into_iter().map(PlanMember).collect())
    }

    /// Every invitation, answer and withdrawal of consent, oldest first. The coordinator's
    /// only: empty for other members.
    async fn invitations(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMember>> {
        if !self.access().coordinator {
            return Ok(Vec::new());
        }
        let members = super::members(db(ctx), self.id(), true).await?;
        Ok(members
            .into_iter()
            .filter(|m| !m.member.coordinator)
            .map(PlanMember)
            .collect())
    }

    /// The network map: who helps, in the domains you see.
    async fn actors(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanActor>> {
        let actors = super::actors(db(ctx), keyring(ctx), self.id(), self.access()).await?;
        Ok(actors.into_iter().map(PlanActor).collect())
    }

    /// What goes well and what is missing, per domain you see.
    async fn domain_notes(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanDomainNote>> {
        let notes = super::domain_notes(db(ctx), keyring(ctx), self.id(), self.access()).await?;
        Ok(notes.into_iter().map(PlanDomainNote).collect())
    }

    /// The action plan: goals in the domains you see, oldest first.
    async fn goals(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanGoal>> {
        let goals = super::goals(db(ctx), keyring(ctx), self.id(), self.access()).await?;
        Ok(goals.into_iter().map(PlanGoal).collect())
    }

    /// Who read this plan when, newest first. For the coordinator only (`FORBIDDEN` for
    /// other members).
    async fn access_log(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanAccess>> {
        let log = super::access_log(db(ctx), self.id(), self.access()).await?;
        Ok(log.into_iter().map(PlanAccess).collect())
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

    /// The life domains the family consented to share with it (all, for the coordinator).
    async fn domains(&self, ctx: &Context<'_>) -> Vec<LifeDomain> {
        domains(ctx, &self.0.domains)
    }

    async fn coordinator(&self) -> bool {
        self.0.member.coordinator
    }

    /// The coordinating organization, which invited this member.
    async fn invited_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let plan = support_plan::Entity::find_by_id(self.0.member.plan_id.as_str())
            .one(db(ctx))
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

    async fn domain(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.0.actor.domain)
    }

    /// The service, as its listing is now; null for an informal role.
    async fn service(&self, ctx: &Context<'_>) -> ApiResult<Option<Service>> {
        let Some(id) = &self.0.actor.service_id else {
            return Ok(None);
        };
        Ok(listings::service(db(ctx), id).await?.map(Service))
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
    async fn domain(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.0.row.domain)
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

    async fn domain(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.0.goal.domain)
    }

    async fn text(&self) -> &str {
        &self.0.text
    }

    async fn due_by(&self) -> Option<NaiveDate> {
        self.0.goal.due_by
    }

    /// The steps towards it, oldest first.
    async fn steps(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanStep>> {
        let steps = super::steps(db(ctx), keyring(ctx), &self.0.goal.id).await?;
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

    /// Every status change, oldest first, from its creation (OPEN).
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanStepEvent>> {
        let events = super::step_events(db(ctx), keyring(ctx), &self.0.step.id).await?;
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

/// One read of a plan.
pub struct PlanAccess(support_plan_access::Model);

#[Object]
impl PlanAccess {
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
    async fn domain(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.0.domain)
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
            super::plan(db(ctx), keyring(ctx), viewer(ctx)?, &id).await?,
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
        let (found, total) = super::plans(db(ctx), keyring(ctx), viewer(ctx)?, page).await?;
        Ok(relay::page(page, found.into_iter().map(SupportPlan).collect(), total))
    }

    /// Invitations to plans waiting for your organization's answer: which domains, since when.
    async fn plan_invitations(&self, ctx: &Context<'_>) -> ApiResult<Vec<PlanMember>> {
        let found = super::invitations(db(ctx), viewer(ctx)?).await?;
        Ok(found.into_iter().map(PlanMember).collect())
    }

    /// The domains (that you see) with a goal or a "missing" note and nobody helping, each
    /// with services that cover the family's municipality and speak its languages. A read of
    /// the plan, logged. It counts as five of a request's ten searches.
    async fn plan_gaps(&self, ctx: &Context<'_>, plan_id: ID) -> ApiResult<Vec<PlanGap>> {
        let gaps = super::gaps(
            db(ctx),
            reference(ctx),
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
            super::create_plan(db(ctx), reference(ctx), keyring(ctx), viewer(ctx)?, new).await?,
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
        let member =
            super::invite_member(db(ctx), reference(ctx), viewer(ctx)?, &plan_id, &organization, &domains).await?;
        Ok(PlanMember(member))
    }

    /// Accepts or declines an invitation to your organization (`planInvitations`).
    async fn answer_plan_invitation(&self, ctx: &Context<'_>, id: ID, accept: bool) -> ApiResult<PlanMember> {
        Ok(PlanMember(
            super::answer_invitation(db(ctx), viewer(ctx)?, &id, accept).await?,
        ))
    }

    /// Removes a member (or withdraws its invitation): the family withdrew its consent, and
    /// the member's access ends at once. A member may also remove itself.
    async fn remove_plan_member(&self, ctx: &Context<'_>, plan_id: ID, organization_id: ID) -> ApiResult<PlanMember> {
        let organization = organization_key(&organization_id)?;
        Ok(PlanMember(
            super::remove_member(db(ctx), viewer(ctx)?, &plan_id, &organization).await?,
        ))
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
        let actor = super::add_actor(db(ctx), reference(ctx), keyring(ctx), viewer(ctx)?, &plan_id, new).await?;
        Ok(PlanActor(actor))
    }

    /// Takes someone off the network map.
    async fn remove_plan_actor(&self, ctx: &Context<'_>, id: ID) -> ApiResult<PlanActor> {
        Ok(PlanActor(
            super::remove_actor(db(ctx), keyring(ctx), viewer(ctx)?, &id).await?,
        ))
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
            db(ctx),
            reference(ctx),
            keyring(ctx),
            viewer(ctx)?,
            &plan_id,
            &domain,
            goes_well.as_deref(),
            missing.as_deref(),
        )
        .await?;
        Ok(PlanDomainNote(note))
    }

    /// Adds a goal to one domain of the action plan.
    async fn add_plan_goal(&self, ctx: &Context<'_>, plan_id: ID, input: PlanGoalInput) -> ApiResult<PlanGoal> {
        let new = NewGoal {
            domain: input.domain,
            text: input.text,
            due_by: input.due_by,
        };
        let goal = super::add_goal(db(ctx), reference(ctx), keyring(ctx), viewer(ctx)?, &plan_id, new).await?;
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
        Ok(PlanStep(
            super::add_step(db(ctx), keyring(ctx), viewer(ctx)?, &goal_id, new).await?,
        ))
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
        Ok(PlanStep(
            super::update_step(db(ctx), keyring(ctx), viewer(ctx)?, &id, status.into(), note.as_deref()).await?,
        ))
    }
}
