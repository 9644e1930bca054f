//! The family's support plan: the network map (*netwerkkaart*: per life domain, who helps and
//! what goes well or is missing) and the action plan (*handelingsplan*: goals per domain,
//! steps, who takes them and by when), held by a circle of organizations. Built on the
//! referral module's privacy machinery: every free text is sealed with the `Keyring`, and
//! anyone outside the circle learns nothing, not even that a plan exists (`NOT_FOUND`, with
//! the message of an unknown id). A member reads only the domains the family consented to
//! share with it; the coordinator reads all, and sees who read the plan when.
//!
//! Plain async functions over the database connection; `types` puts GraphQL on top.

mod domains;
mod family;
mod gaps;
mod lifecycle;
pub mod live;
mod meetings;
mod statistics;
mod transfer;
pub(crate) mod types;

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{Role, ServiceStatus};
use entity::support_plan_goal::GoalStatus;
use entity::support_plan_member::MemberStatus;
use entity::support_plan_step::{StepOwner, StepStatus};
use entity::{
    organization, referral, service, support_plan, support_plan_access, support_plan_actor, support_plan_domain_note,
    support_plan_goal, support_plan_goal_event, support_plan_member, support_plan_step, support_plan_step_event,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub use domains::{OwnDomain, add_domain, is_own, own_domains};
use domains::{plan_domain, writable_domain};
pub use family::{FAMILY_READER, FamilyLimiter, family_view, issue_family_code, revoke_family_code};
pub use gaps::{Gap, GapReason, gaps};
pub use lifecycle::{close_plan, erase_closed, spawn_erasure};
pub use live::{PlanChange, PlanFeed, PlanUpdate};
pub use meetings::{MeetingView, NewMeeting, NewMinute, meetings, record_meeting};
pub use statistics::{DomainStatistics, PlanStatistics, statistics};
pub use transfer::{answer_transfer, offer_transfer, transfer_follow_up, transfers, transfers_offered};

use crate::auth::{AuthError, Viewer};
use crate::listings::editing::validate::{BLANK, is_blank};
use crate::reference::{ReferenceData, ReferenceError};
use crate::referrals::{CryptoError, Keyring, ReferralsError};
use crate::relay::{PageRequest, RelayError};
use crate::search::SearchError;

/// A label is a short handle, not a story.
const MAX_LABEL_CHARS: usize = 80;
/// An informal role is a word or two: "neighbour", "religious community".
const MAX_ROLE_CHARS: usize = 60;
const MAX_NOTE_CHARS: usize = 1_000;
const MAX_TEXT_CHARS: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum PlansError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Page(#[from] RelayError),
    #[error(transparent)]
    Search(#[from] SearchError),
    /// Also what anyone outside the circle gets for something that exists.
    #[error("no {0} with id `{1}` that you may read")]
    NotFound(&'static str, String),
    #[error("no organization with id `{0}`")]
    UnknownOrganization(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("`{0}` {1}")]
    Invalid(&'static str, String),
    /// Wrong, revoked, replaced, or of a closed plan: the family cannot tell which.
    #[error("this family access code opens no plan: ask the coordinator for a new one")]
    UnknownFamilyCode,
    #[error("the plan is closed: it can be read until its content is erased, not changed")]
    Closed,
    /// More family-code attempts from one client than allowed; seconds to wait.
    #[error("too many attempts with family access codes; try again in {0} seconds")]
    TooManyAttempts(u64),
    #[error("stored plan data could not be read: {0}")]
    Crypto(#[from] CryptoError),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

fn invalid<T>(field: &'static str, reason: impl Into<String>) -> Result<T, PlansError> {
    Err(PlansError::Invalid(field, reason.into()))
}

impl From<ReferralsError> for PlansError {
    /// The family's place and languages are checked as referrals check them.
    fn from(error: ReferralsError) -> Self {
        match error {
            ReferralsError::Invalid(field, reason) => PlansError::Invalid(field, reason),
            ReferralsError::Reference(e) => PlansError::Reference(e),
            ReferralsError::Database(e) => PlansError::Database(e),
            ReferralsError::Plans(e) => *e,
            other => PlansError::Database(DbErr::Custom(other.to_string())),
        }
    }
}

const PLAN: &str = "support plan";
const GOAL: &str = "plan goal";
const STEP: &str = "plan step";
const ACTOR: &str = "plan actor";
const INVITATION: &str = "plan invitation";
const TRANSFER: &str = "plan transfer";

/// What the coordinator records to start a plan.
#[derive(Clone, Debug)]
pub struct NewPlan {
    pub label: String,
    pub postal_code: Option<String>,
    pub municipality_code: Option<String>,
    pub languages: Vec<String>,
    pub interpreter_needed: bool,
    pub adults: i32,
    pub children_ages: Vec<i32>,
    pub consent_given: bool,
}

#[derive(Clone, Debug)]
pub struct NewActor {
    pub domain: String,
    pub service_id: Option<String>,
    pub informal_role: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewGoal {
    pub domain: String,
    pub text: String,
    pub due_by: Option<NaiveDate>,
}

#[derive(Clone, Debug)]
pub struct NewStep {
    pub text: String,
    pub owner: StepOwner,
    pub organization_id: Option<String>,
    pub due_by: Option<NaiveDate>,
}

/// Who is reading a plan, and what of it they may see.
#[derive(Clone, Debug)]
pub struct Access {
    pub organization: String,
    pub account: String,
    pub coordinator: bool,
    /// The domains admitted to; the coordinator sees every domain whatever this says.
    pub domains: Vec<String>,
}

impl Access {
    pub fn sees(&self, domain: &str) -> bool {
        self.coordinator || self.domains.iter().any(|d| d == domain)
    }
}

/// A plan opened for one member of its circle.
#[derive(Clone, Debug)]
pub struct PlanView {
    pub plan: support_plan::Model,
    pub access: Access,
    pub label: String,
    pub languages: Vec<String>,
    pub children_ages: Vec<i32>,
}

#[derive(Clone, Debug)]
pub struct MemberView {
    pub member: support_plan_member::Model,
    pub domains: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ActorView {
    pub actor: support_plan_actor::Model,
    pub informal_role: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug)]
pub struct DomainNoteView {
    pub row: support_plan_domain_note::Model,
    pub goes_well: Option<String>,
    pub missing: Option<String>,
}

#[derive(Clone, Debug)]
pub struct GoalView {
    pub goal: support_plan_goal::Model,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct StepView {
    pub step: support_plan_step::Model,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct StepEventView {
    pub event: support_plan_step_event::Model,
    pub note: Option<String>,
}

fn context(table: &str, id: &str, field: &str) -> String {
    format!("{table}/{id}/{field}")
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// The coordinator's domains: all of them.
fn every_domain(reference: &ReferenceData) -> String {
    json(&reference.top_domains().map(|d| d.code.clone()).collect::<Vec<_>>())
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The organization the viewer acts for: referrers and organization editors have one.
/// Admins and municipality editors have none: plans are for the people who accompany a family.
fn acting(viewer: &Viewer) -> Result<(String, String), PlansError> {
    let account = &viewer.signed_in()?.account;
    match (account.role, &account.organization_id) {
        (Role::Referrer | Role::OrganizationEditor, Some(organization)) => {
            Ok((organization.clone(), account.id.clone()))
        }
        _ => Err(PlansError::Forbidden(
            "support plans are kept by members of an organization that accompanies the family".to_owned(),
        )),
    }
}

/// Whether the caller reads a plan or changes it: a closed plan is read-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Intent {
    Read,
    Change,
}

/// The viewer's access to plan `plan_id`, when its organization is an active member. Anyone
/// else — anonymous, admins, municipality editors, other organizations — gets `NOT_FOUND`
/// for the `kind` and `shown_id` they asked about, exactly as for an id that does not exist.
/// An erased plan is not found by anyone.
async fn access(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    plan_id: &str,
    intent: Intent,
    kind: &'static str,
    shown_id: &str,
) -> Result<(support_plan::Model, Access), PlansError> {
    let not_found = || PlansError::NotFound(kind, shown_id.to_owned());
    let Ok((organization, account)) = acting(viewer) else {
        return Err(not_found());
    };
    let plan = support_plan::Entity::find_by_id(plan_id)
        .one(db)
        .await?
        .filter(|p| p.erased_at.is_none())
        .ok_or_else(not_found)?;
    let member = support_plan_member::Entity::find()
        .filter(support_plan_member::Column::PlanId.eq(plan_id))
        .filter(support_plan_member::Column::OrganizationId.eq(organization.as_str()))
        .filter(support_plan_member::Column::Status.eq(MemberStatus::Active))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let access = Access {
        organization,
        account,
        coordinator: member.coordinator,
        domains: serde_json::from_str(&member.domains).unwrap_or_default(),
    };
    if intent == Intent::Change && plan.closed_at.is_some() {
        return Err(PlansError::Closed);
    }
    Ok((plan, access))
}

/// Records that the viewer read the plan: the coordinator lists these.
async fn log_read(db: &impl ConnectionTrait, plan_id: &str, access: &Access) -> Result<(), DbErr> {
    support_plan_access::Model {
        id: new_id(),
        plan_id: plan_id.to_owned(),
        organization_id: access.organization.clone(),
        account_id: access.account.clone(),
        at: Utc::now(),
    }
    .into_active_model()
    .reset_all()
    .insert(db)
    .await?;
    Ok(())
}

fn open_plan(keyring: &Keyring, plan: support_plan::Model, access: Access) -> Result<PlanView, PlansError> {
    if plan.erased_at.is_some() {
        return Ok(PlanView {
            label: String::new(),
            languages: Vec::new(),
            children_ages: Vec::new(),
            plan,
            access,
        });
    }
    Ok(PlanView {
        label: keyring.open(&context("support_plan", &plan.id, "label"), &plan.label)?,
        languages: serde_json::from_str(&plan.languages).unwrap_or_default(),
        children_ages: serde_json::from_str(&plan.children_ages).unwrap_or_default(),
        plan,
        access,
    })
}

/// Trimmed text that must say something and fit `max` characters. Never echoed back.
fn required_text(field: &'static str, text: &str, max: usize) -> Result<String, PlansError> {
    let text = text.trim();
    if is_blank(text) {
        return invalid(field, BLANK);
    }
    if text.chars().count() > max {
        return invalid(field, format!("is longer than {max} characters"));
    }
    Ok(text.to_owned())
}

/// Like `required_text`, but blank means none.
fn optional_text(field: &'static str, text: Option<&str>, max: usize) -> Result<Option<String>, PlansError> {
    match text.map(str::trim).filter(|t| !is_blank(t)) {
        None => Ok(None),
        Some(text) => required_text(field, text, max).map(Some),
    }
}

fn forbid_domain(domain: &str) -> PlansError {
    PlansError::Forbidden(format!(
        "your organization was not admitted to this plan for `{domain}`: ask the coordinator, who records the family's consent"
    ))
}

/// Starts a plan; the viewer's organization becomes its coordinating member.
pub async fn create_plan(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    keyring: &Keyring,
    viewer: &Viewer,
    new: NewPlan,
) -> Result<PlanView, PlansError> {
    let (organization, account) = acting(viewer)?;
    let label = required_text("label", &new.label, MAX_LABEL_CHARS)?;
    let municipality =
        crate::referrals::family_municipality(reference, new.postal_code.as_deref(), new.municipality_code.as_deref())?;
    let languages = crate::referrals::family_languages(reference, &new.languages)?;
    if !(1..=20).contains(&new.adults) {
        return invalid("adults", format!("must be between 1 and 20, got {}", new.adults));
    }
    if new.children_ages.len() > 20 {
        return invalid("childrenAges", "lists more than 20 children");
    }
    if let Some(age) = new.children_ages.iter().find(|a| !(0..=17).contains(*a)) {
        return invalid("childrenAges", format!("are ages in years from 0 to 17, got {age}"));
    }
    if !new.consent_given {
        return invalid(
            "consentGiven",
            "must be true: a plan is kept only with the family's consent, recorded by the coordinator",
        );
    }
    let now = Utc::now();
    let id = new_id();
    let plan = support_plan::Model {
        coordinator_organization_id: organization.clone(),
        created_by: account.clone(),
        label: keyring.seal(&context("support_plan", &id, "label"), &label),
        municipality_code: municipality,
        postal_code: new.postal_code.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()),
        languages: json(&languages),
        interpreter_needed: new.interpreter_needed,
        adults: new.adults,
        children_ages: json(&new.children_ages),
        consent_given_at: now,
        created_at: now,
        updated_at: now,
        closed_at: None,
        close_reason: None,
        erased_at: None,
        family_code_hash: None,
        family_code_issued_at: None,
        id: id.clone(),
    };
    let coordinator = support_plan_member::Model {
        id: new_id(),
        plan_id: id.clone(),
        organization_id: organization.clone(),
        coordinator: true,
        domains: every_domain(reference),
        status: MemberStatus::Active,
        consent_recorded_by: account.clone(),
        consent_recorded_at: now,
        answered_by: Some(account.clone()),
        answered_at: Some(now),
        removed_by: None,
        removed_at: None,
        created_at: now,
    };
    let txn = crate::db::begin_write(db).await?;
    support_plan::Entity::insert(plan.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    support_plan_member::Entity::insert(coordinator.into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    let access = Access {
        organization,
        account,
        coordinator: true,
        domains: Vec::new(),
    };
    open_plan(keyring, plan, access)
}

/// A plan, for a member of its circle; the read is logged.
pub async fn plan(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
) -> Result<PlanView, PlansError> {
    let (plan, access) = access(db, viewer, id, Intent::Read, PLAN, id).await?;
    log_read(db, &plan.id, &access).await?;
    open_plan(keyring, plan, access)
}

/// One page of the plans the viewer's organization is an active member of, newest first,
/// and how many there are. Each plan listed is a read, and logged.
pub async fn plans(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    page: PageRequest,
) -> Result<(Vec<PlanView>, u64), PlansError> {
    let (organization, account) = acting(viewer)?;
    let memberships = support_plan_member::Entity::find()
        .filter(support_plan_member::Column::OrganizationId.eq(organization.as_str()))
        .filter(support_plan_member::Column::Status.eq(MemberStatus::Active))
        .all(db)
        .await?;
    let ids: Vec<String> = memberships.iter().map(|m| m.plan_id.clone()).collect();
    let listed = support_plan::Entity::find()
        .filter(support_plan::Column::Id.is_in(ids))
        .filter(support_plan::Column::ErasedAt.is_null());
    let total = listed.clone().count(db).await?;
    let found = listed
        .order_by_desc(support_plan::Column::CreatedAt)
        .order_by_asc(support_plan::Column::Id)
        .offset(page.offset as u64)
        .limit(page.limit as u64)
        .all(db)
        .await?;
    let mut views = Vec::new();
    for plan in found {
        let Some(member) = memberships.iter().find(|m| m.plan_id == plan.id) else {
            continue;
        };
        let access = Access {
            organization: organization.clone(),
            account: account.clone(),
            coordinator: member.coordinator,
            domains: serde_json::from_str(&member.domains).unwrap_or_default(),
        };
        log_read(db, &plan.id, &access).await?;
        views.push(open_plan(keyring, plan, access)?);
    }
    Ok((views, total))
}

fn member_view(member: support_plan_member::Model) -> MemberView {
    MemberView {
        domains: serde_json::from_str(&member.domains).unwrap_or_default(),
        member,
    }
}

/// The plan's members: the active circle, or (for the coordinator) every invitation and
/// withdrawal too, oldest first.
pub async fn members(db: &DatabaseConnection, plan_id: &str, all: bool) -> Result<Vec<MemberView>, PlansError> {
    let mut query = support_plan_member::Entity::find().filter(support_plan_member::Column::PlanId.eq(plan_id));
    if !all {
        query = query.filter(support_plan_member::Column::Status.eq(MemberStatus::Active));
    }
    Ok(query
        .order_by_asc(support_plan_member::Column::CreatedAt)
        .order_by_asc(support_plan_member::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(member_view)
        .collect())
}

/// Invites an organization into the circle for `domains`, recording the family's consent to
/// it (who recorded it, when, for which domains). The coordinator's to do.
pub async fn invite_member(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    plan_id: &str,
    organization_id: &str,
    domains: &[String],
) -> Result<MemberView, PlansError> {
    let (plan, access) = access(db, viewer, plan_id, Intent::Change, PLAN, plan_id).await?;
    if !access.coordinator {
        return Err(PlansError::Forbidden(
            "only the coordinating organization invites members, with the family's consent".to_owned(),
        ));
    }
    if organization::Entity::find_by_id(organization_id)
        .one(db)
        .await?
        .is_none()
    {
        return Err(PlansError::UnknownOrganization(organization_id.to_owned()));
    }
    if organization_id == plan.coordinator_organization_id {
        return invalid(
            "organizationId",
            "is the coordinating organization, which sees every domain",
        );
    }
    if domains.is_empty() {
        return invalid(
            "domains",
            "must name the life domains the family agreed to share with this organization",
        );
    }
    let mut codes = Vec::new();
    for domain in domains {
        let code = plan_domain(db, reference, plan_id, "domains", domain).await?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    // In a write transaction: of two invitations at once, the second finds the first.
    let txn = crate::db::begin_write(db).await?;
    let current = support_plan_member::Entity::find()
        .filter(support_plan_member::Column::PlanId.eq(plan_id))
        .filter(support_plan_member::Column::OrganizationId.eq(organization_id))
        .filter(support_plan_member::Column::Status.is_in([MemberStatus::Invited, MemberStatus::Active]))
        .one(&txn)
        .await?;
    if current.is_some() {
        return invalid(
            "organizationId",
            "is already invited or in the circle; remove it first to change its domains",
        );
    }
    let now = Utc::now();
    let member = support_plan_member::Model {
        id: new_id(),
        plan_id: plan_id.to_owned(),
        organization_id: organization_id.to_owned(),
        coordinator: false,
        domains: json(&codes),
        status: MemberStatus::Invited,
        consent_recorded_by: access.account,
        consent_recorded_at: now,
        answered_by: None,
        answered_at: None,
        removed_by: None,
        removed_at: None,
        created_at: now,
    };
    support_plan_member::Entity::insert(member.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(member_view(member))
}

/// The invitations waiting for the viewer's organization to answer.
pub async fn invitations(db: &DatabaseConnection, viewer: &Viewer) -> Result<Vec<MemberView>, PlansError> {
    let (organization, _) = acting(viewer)?;
    Ok(support_plan_member::Entity::find()
        .filter(support_plan_member::Column::OrganizationId.eq(organization.as_str()))
        .filter(support_plan_member::Column::Status.eq(MemberStatus::Invited))
        .order_by_asc(support_plan_member::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(member_view)
        .collect())
}

/// The invited organization accepts (and joins for its domains) or declines.
pub async fn answer_invitation(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: &str,
    accept: bool,
) -> Result<MemberView, PlansError> {
    let not_found = || PlansError::NotFound(INVITATION, id.to_owned());
    let (organization, account) = acting(viewer).map_err(|_| not_found())?;
    let member = support_plan_member::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| m.organization_id == organization && !m.coordinator)
        .ok_or_else(not_found)?;
    if member.status != MemberStatus::Invited {
        return invalid("id", "is an invitation that was already answered or withdrawn");
    }
    let now = Utc::now();
    let mut answered = member.clone();
    answered.status = if accept {
        MemberStatus::Active
    } else {
        MemberStatus::Declined
    };
    answered.answered_by = Some(account);
    answered.answered_at = Some(now);
    let written = support_plan_member::Entity::update_many()
        .set(answered.clone().into_active_model().reset_all())
        .filter(support_plan_member::Column::Id.eq(id))
        .filter(support_plan_member::Column::Status.eq(MemberStatus::Invited))
        .exec(db)
        .await?;
    if written.rows_affected != 1 {
        return invalid("id", "is an invitation that was already answered or withdrawn");
    }
    Ok(member_view(answered))
}

/// Ends a membership at once: the coordinator records that the family withdrew its consent
/// (or withdraws an invitation), or a member leaves on its own.
pub async fn remove_member(
    db: &DatabaseConnection,
    viewer: &Viewer,
    plan_id: &str,
    organization_id: &str,
) -> Result<MemberView, PlansError> {
    let (_, access) = access(db, viewer, plan_id, Intent::Read, PLAN, plan_id).await?;
    if !access.coordinator && access.organization != organization_id {
        return Err(PlansError::Forbidden(
            "only the coordinating organization removes other members".to_owned(),
        ));
    }
    let current = support_plan_member::Entity::find()
        .filter(support_plan_member::Column::PlanId.eq(plan_id))
        .filter(support_plan_member::Column::OrganizationId.eq(organization_id))
        .filter(support_plan_member::Column::Status.is_in([MemberStatus::Invited, MemberStatus::Active]))
        .one(db)
        .await?;
    let Some(current) = current else {
        return invalid("organizationId", "is not in this plan's circle");
    };
    if current.coordinator {
        return invalid(
            "organizationId",
            "is the coordinating organization, which cannot leave its own plan",
        );
    }
    let now = Utc::now();
    let mut removed = current.clone();
    removed.status = MemberStatus::Removed;
    removed.removed_by = Some(access.account);
    removed.removed_at = Some(now);
    support_plan_member::Entity::update_many()
        .set(removed.clone().into_active_model().reset_all())
        .filter(support_plan_member::Column::Id.eq(current.id.as_str()))
        .exec(db)
        .await?;
    Ok(member_view(removed))
}

fn open_actor(keyring: &Keyring, actor: support_plan_actor::Model) -> Result<ActorView, PlansError> {
    let open = |field: &str, sealed: &Option<String>| {
        sealed
            .as_deref()
            .map(|s| keyring.open(&context("support_plan_actor", &actor.id, field), s))
            .transpose()
    };
    Ok(ActorView {
        informal_role: open("informal_role", &actor.informal_role)?,
        note: open("note", &actor.note)?,
        actor,
    })
}

/// Puts a service on the map, or an informal role, in one domain of the plan.
pub async fn add_actor(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    keyring: &Keyring,
    viewer: &Viewer,
    plan_id: &str,
    new: NewActor,
) -> Result<ActorView, PlansError> {
    let (_, access) = access(db, viewer, plan_id, Intent::Change, PLAN, plan_id).await?;
    let domain = writable_domain(db, reference, plan_id, &access, "domain", &new.domain).await?;
    let role = optional_text("informalRole", new.informal_role.as_deref(), MAX_ROLE_CHARS)?;
    let service_id = new.service_id.filter(|s| !s.trim().is_empty());
    match (&service_id, &role) {
        (Some(_), Some(_)) => {
            return invalid(
                "informalRole",
                "goes without serviceId: an actor is a service or an informal role",
            );
        }
        (None, None) => {
            return invalid(
                "serviceId",
                "or informalRole is needed: a service on the map, or a role such as neighbour or buddy (no names)",
            );
        }
        (Some(service_id), None) => {
            if service::Entity::find_by_id(service_id.as_str())
                .one(db)
                .await?
                .is_none()
            {
                return invalid("serviceId", "is not a service on the map");
            }
        }
        (None, Some(_)) => {}
    }
    let note = optional_text("note", new.note.as_deref(), MAX_NOTE_CHARS)?;
    let id = new_id();
    let seal = |field: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| keyring.seal(&context("support_plan_actor", &id, field), t))
    };
    let actor = support_plan_actor::Model {
        plan_id: plan_id.to_owned(),
        domain,
        service_id,
        informal_role: seal("informal_role", &role),
        note: seal("note", &note),
        organization_id: access.organization,
        created_by: access.account,
        created_at: Utc::now(),
        id: id.clone(),
    };
    support_plan_actor::Entity::insert(actor.clone().into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    Ok(ActorView {
        actor,
        informal_role: role,
        note,
    })
}

/// Takes an actor off the map.
pub async fn remove_actor(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
) -> Result<ActorView, PlansError> {
    let not_found = || PlansError::NotFound(ACTOR, id.to_owned());
    if acting(viewer).is_err() {
        return Err(not_found());
    }
    let actor = support_plan_actor::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let (_, access) = access(db, viewer, &actor.plan_id, Intent::Change, ACTOR, id).await?;
    if !access.sees(&actor.domain) {
        return Err(not_found());
    }
    let view = open_actor(keyring, actor)?;
    support_plan_actor::Entity::delete_by_id(id).exec(db).await?;
    Ok(view)
}

/// The plan's actors in the domains `access` sees, in domain order then oldest first.
pub async fn actors(
    db: &DatabaseConnection,
    keyring: &Keyring,
    plan_id: &str,
    access: &Access,
) -> Result<Vec<ActorView>, PlansError> {
    support_plan_actor::Entity::find()
        .filter(support_plan_actor::Column::PlanId.eq(plan_id))
        .order_by_asc(support_plan_actor::Column::CreatedAt)
        .order_by_asc(support_plan_actor::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|a| access.sees(&a.domain))
        .map(|a| open_actor(keyring, a))
        .collect()
}

fn open_note(keyring: &Keyring, row: support_plan_domain_note::Model) -> Result<DomainNoteView, PlansError> {
    let open = |field: &str, sealed: &Option<String>| {
        sealed
            .as_deref()
            .map(|s| keyring.open(&context("support_plan_domain_note", &row.id, field), s))
            .transpose()
    };
    Ok(DomainNoteView {
        goes_well: open("goes_well", &row.goes_well)?,
        missing: open("missing", &row.missing)?,
        row,
    })
}

/// Sets what goes well and what is missing in one domain (blank clears it).
#[allow(clippy::too_many_arguments)] // the contract's arguments; a struct would only rename them
pub async fn set_domain_note(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    keyring: &Keyring,
    viewer: &Viewer,
    plan_id: &str,
    domain: &str,
    goes_well: Option<&str>,
    missing: Option<&str>,
) -> Result<DomainNoteView, PlansError> {
    let (_, access) = access(db, viewer, plan_id, Intent::Change, PLAN, plan_id).await?;
    let domain = writable_domain(db, reference, plan_id, &access, "domain", domain).await?;
    let goes_well = optional_text("goesWell", goes_well, MAX_TEXT_CHARS)?;
    let missing = optional_text("missing", missing, MAX_TEXT_CHARS)?;
    let txn = crate::db::begin_write(db).await?;
    let existing = support_plan_domain_note::Entity::find()
        .filter(support_plan_domain_note::Column::PlanId.eq(plan_id))
        .filter(support_plan_domain_note::Column::Domain.eq(domain.as_str()))
        .one(&txn)
        .await?;
    let id = existing.as_ref().map_or_else(new_id, |e| e.id.clone());
    let seal = |field: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| keyring.seal(&context("support_plan_domain_note", &id, field), t))
    };
    let row = support_plan_domain_note::Model {
        id: id.clone(),
        plan_id: plan_id.to_owned(),
        domain,
        goes_well: seal("goes_well", &goes_well),
        missing: seal("missing", &missing),
        organization_id: access.organization,
        updated_by: access.account,
        updated_at: Utc::now(),
    };
    if existing.is_some() {
        support_plan_domain_note::Entity::update_many()
            .set(row.clone().into_active_model().reset_all())
            .filter(support_plan_domain_note::Column::Id.eq(id.as_str()))
            .exec(&txn)
            .await?;
    } else {
        support_plan_domain_note::Entity::insert(row.clone().into_active_model().reset_all())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(DomainNoteView {
        row,
        goes_well,
        missing,
    })
}

/// The plan's domain notes in the domains `access` sees.
pub async fn domain_notes(
    db: &DatabaseConnection,
    keyring: &Keyring,
    plan_id: &str,
    access: &Access,
) -> Result<Vec<DomainNoteView>, PlansError> {
    support_plan_domain_note::Entity::find()
        .filter(support_plan_domain_note::Column::PlanId.eq(plan_id))
        .order_by_asc(support_plan_domain_note::Column::Domain)
        .all(db)
        .await?
        .into_iter()
        .filter(|n| access.sees(&n.domain))
        .map(|n| open_note(keyring, n))
        .collect()
}

fn open_goal(keyring: &Keyring, goal: support_plan_goal::Model) -> Result<GoalView, PlansError> {
    Ok(GoalView {
        text: keyring.open(&context("support_plan_goal", &goal.id, "text"), &goal.text)?,
        goal,
    })
}

/// Adds a goal, in the family's words, to one domain of the action plan.
pub async fn add_goal(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    keyring: &Keyring,
    viewer: &Viewer,
    plan_id: &str,
    new: NewGoal,
) -> Result<GoalView, PlansError> {
    let (_, access) = access(db, viewer, plan_id, Intent::Change, PLAN, plan_id).await?;
    let domain = writable_domain(db, reference, plan_id, &access, "domain", &new.domain).await?;
    let text = required_text("text", &new.text, MAX_TEXT_CHARS)?;
    let id = new_id();
    let goal = support_plan_goal::Model {
        plan_id: plan_id.to_owned(),
        domain,
        text: keyring.seal(&context("support_plan_goal", &id, "text"), &text),
        due_by: new.due_by,
        status: GoalStatus::Open,
        organization_id: access.organization,
        created_by: access.account,
        created_at: Utc::now(),
        id,
    };
    support_plan_goal::Entity::insert(goal.clone().into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    Ok(GoalView { goal, text })
}

/// The plan's goals in the domains `access` sees, oldest first.
pub async fn goals(
    db: &DatabaseConnection,
    keyring: &Keyring,
    plan_id: &str,
    access: &Access,
) -> Result<Vec<GoalView>, PlansError> {
    support_plan_goal::Entity::find()
        .filter(support_plan_goal::Column::PlanId.eq(plan_id))
        .order_by_asc(support_plan_goal::Column::CreatedAt)
        .order_by_asc(support_plan_goal::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|g| access.sees(&g.domain))
        .map(|g| open_goal(keyring, g))
        .collect()
}

/// A goal change, as the family and the circle decide it at a meeting.
#[derive(Clone, Debug, Default)]
pub struct GoalChange {
    pub status: Option<GoalStatus>,
    pub text: Option<String>,
    pub due_by: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Ticks a goal off (REACHED), drops it, reopens it, rewords it or moves its term; each
/// change is kept as an event with who and when.
pub async fn update_goal(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
    change: GoalChange,
) -> Result<GoalView, PlansError> {
    let (goal, access) = goal_access(db, viewer, id, Intent::Change, GOAL, id).await?;
    let text = change
        .text
        .as_deref()
        .map(|t| required_text("text", t, MAX_TEXT_CHARS))
        .transpose()?;
    let note = optional_text("note", change.note.as_deref(), MAX_TEXT_CHARS)?;
    if change.status.is_none() && text.is_none() && change.due_by.is_none() && note.is_none() {
        return invalid("status", "or text, dueBy or note is needed: say what changed");
    }
    let now = Utc::now();
    let mut updated = goal.clone();
    if let Some(status) = change.status {
        updated.status = status;
    }
    if let Some(text) = &text {
        updated.text = keyring.seal(&context("support_plan_goal", id, "text"), text);
    }
    if let Some(due_by) = change.due_by {
        updated.due_by = Some(due_by);
    }
    let event_id = new_id();
    let seal = |field: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| keyring.seal(&context("support_plan_goal_event", &event_id, field), t))
    };
    let event = support_plan_goal_event::Model {
        id: event_id.clone(),
        goal_id: id.to_owned(),
        status: updated.status,
        text: seal("text", &text),
        due_by: change.due_by,
        note: seal("note", &note),
        account_id: access.account.clone(),
        organization_id: access.organization.clone(),
        created_at: now,
    };
    let txn = crate::db::begin_write(db).await?;
    support_plan_goal::Entity::update_many()
        .set(updated.clone().into_active_model().reset_all())
        .filter(support_plan_goal::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    support_plan_goal_event::Entity::insert(event.into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    open_goal(keyring, updated)
}

#[derive(Clone, Debug)]
pub struct GoalEventView {
    pub event: support_plan_goal_event::Model,
    pub text: Option<String>,
    pub note: Option<String>,
}

/// The changes of a goal the caller may read, oldest first.
pub async fn goal_events(
    db: &DatabaseConnection,
    keyring: &Keyring,
    goal_id: &str,
) -> Result<Vec<GoalEventView>, PlansError> {
    support_plan_goal_event::Entity::find()
        .filter(support_plan_goal_event::Column::GoalId.eq(goal_id))
        .order_by_asc(support_plan_goal_event::Column::CreatedAt)
        .order_by_asc(support_plan_goal_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|event| {
            let open = |field: &str, sealed: &Option<String>| {
                sealed
                    .as_deref()
                    .map(|s| keyring.open(&context("support_plan_goal_event", &event.id, field), s))
                    .transpose()
            };
            Ok(GoalEventView {
                text: open("text", &event.text)?,
                note: open("note", &event.note)?,
                event,
            })
        })
        .collect()
}

fn open_step(keyring: &Keyring, step: support_plan_step::Model) -> Result<StepView, PlansError> {
    Ok(StepView {
        text: keyring.open(&context("support_plan_step", &step.id, "text"), &step.text)?,
        step,
    })
}

/// The goal and the viewer's access to it; `NOT_FOUND` (as for an unknown id) for anyone
/// outside the circle or not admitted to the goal's domain.
async fn goal_access(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    goal_id: &str,
    intent: Intent,
    kind: &'static str,
    shown_id: &str,
) -> Result<(support_plan_goal::Model, Access), PlansError> {
    let not_found = || PlansError::NotFound(kind, shown_id.to_owned());
    if acting(viewer).is_err() {
        return Err(not_found());
    }
    let goal = support_plan_goal::Entity::find_by_id(goal_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let (_, access) = access(db, viewer, &goal.plan_id, intent, kind, shown_id).await?;
    if !access.sees(&goal.domain) {
        return Err(not_found());
    }
    Ok((goal, access))
}

/// Adds a step towards a goal: taken by the family, or by a member organization admitted to
/// the goal's domain (the viewer's own when none is named).
pub async fn add_step(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    goal_id: &str,
    new: NewStep,
) -> Result<StepView, PlansError> {
    let (goal, access) = goal_access(db, viewer, goal_id, Intent::Change, GOAL, goal_id).await?;
    let view = prepare_step(db, keyring, &goal, &access, new, None).await?;
    let txn = crate::db::begin_write(db).await?;
    insert_step(&txn, keyring, &view.step, &access).await?;
    txn.commit().await?;
    Ok(view)
}

/// A checked, sealed step towards `goal`, not yet written; `meeting_id` when a network
/// meeting decided it.
async fn prepare_step(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    goal: &support_plan_goal::Model,
    access: &Access,
    new: NewStep,
    meeting_id: Option<String>,
) -> Result<StepView, PlansError> {
    let text = required_text("text", &new.text, MAX_TEXT_CHARS)?;
    let owner_organization = match (new.owner, new.organization_id.filter(|o| !o.trim().is_empty())) {
        (StepOwner::Family, Some(_)) => {
            return invalid("organizationId", "goes with owner: ORGANIZATION only");
        }
        (StepOwner::Family, None) => None,
        (StepOwner::Organization, None) => Some(access.organization.clone()),
        (StepOwner::Organization, Some(organization)) => {
            let member = support_plan_member::Entity::find()
                .filter(support_plan_member::Column::PlanId.eq(goal.plan_id.as_str()))
                .filter(support_plan_member::Column::OrganizationId.eq(organization.as_str()))
                .filter(support_plan_member::Column::Status.eq(MemberStatus::Active))
                .one(db)
                .await?;
            let admitted = member.is_some_and(|m| {
                m.coordinator
                    || serde_json::from_str::<Vec<String>>(&m.domains)
                        .unwrap_or_default()
                        .contains(&goal.domain)
            });
            if !admitted {
                return invalid(
                    "organizationId",
                    "is not a member of this plan's circle for the goal's domain",
                );
            }
            Some(organization)
        }
    };
    let now = Utc::now();
    let id = new_id();
    let step = support_plan_step::Model {
        plan_id: goal.plan_id.clone(),
        goal_id: goal.id.clone(),
        text: keyring.seal(&context("support_plan_step", &id, "text"), &text),
        owner: new.owner,
        owner_organization_id: owner_organization,
        due_by: new.due_by,
        status: StepStatus::Open,
        meeting_id,
        created_by: access.account.clone(),
        created_at: now,
        updated_at: now,
        id,
    };
    Ok(StepView { step, text })
}

/// Writes a prepared step and its first event (OPEN).
async fn insert_step(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    step: &support_plan_step::Model,
    access: &Access,
) -> Result<(), DbErr> {
    support_plan_step::Entity::insert(step.clone().into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    insert_step_event(db, keyring, &step.id, StepStatus::Open, None, access, step.created_at).await
}

/// Moves a step to `status` (the same status again records a note), as an event.
pub async fn update_step(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
    status: StepStatus,
    note: Option<&str>,
) -> Result<StepView, PlansError> {
    let not_found = || PlansError::NotFound(STEP, id.to_owned());
    if acting(viewer).is_err() {
        return Err(not_found());
    }
    let step = support_plan_step::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let (_, access) = goal_access(db, viewer, &step.goal_id, Intent::Change, STEP, id).await?;
    let note = optional_text("note", note, MAX_TEXT_CHARS)?;
    let now = Utc::now();
    let mut updated = step.clone();
    updated.status = status;
    updated.updated_at = now;
    let txn = crate::db::begin_write(db).await?;
    support_plan_step::Entity::update_many()
        .set(updated.clone().into_active_model().reset_all())
        .filter(support_plan_step::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    insert_step_event(&txn, keyring, id, status, note.as_deref(), &access, now).await?;
    txn.commit().await?;
    open_step(keyring, updated)
}

async fn insert_step_event(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    step_id: &str,
    status: StepStatus,
    note: Option<&str>,
    access: &Access,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let id = new_id();
    support_plan_step_event::Model {
        note: note.map(|n| keyring.seal(&context("support_plan_step_event", &id, "note"), n)),
        id,
        step_id: step_id.to_owned(),
        status,
        account_id: access.account.clone(),
        organization_id: access.organization.clone(),
        created_at: at,
    }
    .into_active_model()
    .reset_all()
    .insert(db)
    .await?;
    Ok(())
}

/// Whether the viewer may send a referral for step `id`: an open step of a plan its
/// organization is in (and not closed), in a domain it sees. Unknown and foreign steps are
/// alike.
pub async fn referable_step(db: &DatabaseConnection, viewer: &Viewer, id: &str) -> Result<bool, PlansError> {
    let Some(step) = support_plan_step::Entity::find_by_id(id).one(db).await? else {
        return Ok(false);
    };
    match goal_access(db, viewer, &step.goal_id, Intent::Change, STEP, id).await {
        Ok(_) => Ok(step.status == StepStatus::Open),
        Err(PlansError::NotFound(..) | PlansError::Closed) => Ok(false),
        Err(other) => Err(other),
    }
}

/// The referrals sent for a step, oldest first: what the circle sees of them is the
/// service and the status, never the family details.
pub async fn step_referrals(db: &DatabaseConnection, step_id: &str) -> Result<Vec<referral::Model>, PlansError> {
    Ok(referral::Entity::find()
        .filter(referral::Column::PlanStepId.eq(step_id))
        .order_by_asc(referral::Column::CreatedAt)
        .order_by_asc(referral::Column::Id)
        .all(db)
        .await?)
}

/// The life domain of a goal, for telling subscribers where a step changed.
pub async fn goal_domain(db: &DatabaseConnection, goal_id: &str) -> Result<Option<String>, PlansError> {
    Ok(support_plan_goal::Entity::find_by_id(goal_id)
        .one(db)
        .await?
        .map(|g| g.domain))
}

/// The plan's open steps due today or later, soonest first: what comes next for the family.
pub async fn next_steps(
    db: &DatabaseConnection,
    keyring: &Keyring,
    plan_id: &str,
) -> Result<Vec<StepView>, PlansError> {
    support_plan_step::Entity::find()
        .filter(support_plan_step::Column::PlanId.eq(plan_id))
        .filter(support_plan_step::Column::Status.eq(StepStatus::Open))
        .filter(support_plan_step::Column::DueBy.gte(Utc::now().date_naive()))
        .order_by_asc(support_plan_step::Column::DueBy)
        .order_by_asc(support_plan_step::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| open_step(keyring, s))
        .collect()
}

/// The steps of a goal the caller may read, oldest first.
pub async fn steps(db: &DatabaseConnection, keyring: &Keyring, goal_id: &str) -> Result<Vec<StepView>, PlansError> {
    support_plan_step::Entity::find()
        .filter(support_plan_step::Column::GoalId.eq(goal_id))
        .order_by_asc(support_plan_step::Column::CreatedAt)
        .order_by_asc(support_plan_step::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| open_step(keyring, s))
        .collect()
}

/// The status changes of a step the caller may read, oldest first.
pub async fn step_events(
    db: &DatabaseConnection,
    keyring: &Keyring,
    step_id: &str,
) -> Result<Vec<StepEventView>, PlansError> {
    support_plan_step_event::Entity::find()
        .filter(support_plan_step_event::Column::StepId.eq(step_id))
        .order_by_asc(support_plan_step_event::Column::CreatedAt)
        .order_by_asc(support_plan_step_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|event| {
            let note = event
                .note
                .as_deref()
                .map(|n| keyring.open(&context("support_plan_step_event", &event.id, "note"), n))
                .transpose()?;
            Ok(StepEventView { event, note })
        })
        .collect()
}

/// Who read the plan when, newest first: for the coordinator only.
pub async fn access_log(
    db: &DatabaseConnection,
    plan_id: &str,
    access: &Access,
) -> Result<Vec<support_plan_access::Model>, PlansError> {
    if !access.coordinator {
        return Err(PlansError::Forbidden(
            "only the coordinating organization sees who read the plan".to_owned(),
        ));
    }
    Ok(support_plan_access::Entity::find()
        .filter(support_plan_access::Column::PlanId.eq(plan_id))
        .order_by_desc(support_plan_access::Column::At)
        .order_by_asc(support_plan_access::Column::Id)
        .all(db)
        .await?)
}

/// Whether an actor still helps: an informal role, or a service that is still offered.
fn helps(actor: &support_plan_actor::Model, services: &[service::Model]) -> bool {
    match &actor.service_id {
        None => true,
        Some(id) => services
            .iter()
            .any(|s| &s.id == id && s.status != ServiceStatus::Inactive),
    }
}
