//! GraphQL over referrals: the contract front ends code against (`createReferral`,
//! `updateReferralStatus`, `addReferralNote`, `referral`, `referrals`, and a subscription on
//! the inbox).

use std::sync::Arc;

use async_graphql::futures_util::stream::{self, Stream};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Duration, Utc};
use entity::account;
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::broadcast::error::RecvError;

use super::live::{ReferralFeed, ReferralUpdate as Update};
use super::{EventView, Keyring, NewReferral, ReferralView, lifecycle};
use crate::auth::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::listings::{self, Organization, Service};
use crate::reference::types::reference;
use crate::reference::{Language, LifeDomain, Municipality};
use crate::relay::{self, NodeKind, Page, PageRequest};

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

fn keyring<'a>(ctx: &Context<'a>) -> &'a Keyring {
    ctx.data_unchecked::<Arc<Keyring>>()
}

fn viewer<'a>(ctx: &Context<'a>) -> ApiResult<&'a Viewer> {
    crate::error::context_data::<Viewer>(ctx)
}

fn feed<'a>(ctx: &Context<'a>) -> &'a ReferralFeed {
    ctx.data_unchecked::<ReferralFeed>()
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ReferralStatus")]
pub enum ReferralStatus {
    /// Sent by the referrer; the service has not opened it yet.
    Sent,
    /// The service has seen it.
    Received,
    /// The service will help.
    Accepted,
    /// The service cannot help; see `declineReason`.
    Declined,
    /// The family was helped.
    Completed,
    /// The family did not come.
    NoShow,
    /// The referrer withdrew it.
    Cancelled,
    /// Nobody answered before `respondBy`.
    Expired,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ContactVia")]
pub enum ContactVia {
    /// The service contacts the referrer, who contacts the family.
    Referrer,
    /// The service calls the family at `contactPhone`.
    Phone,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DeclineReason")]
pub enum DeclineReason {
    NoCapacity,
    OutsideTargetGroup,
    OutsideArea,
    NotOurService,
    FamilyUnreachable,
    Other,
}

/// Which referrals of your organization.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ReferralBox {
    /// Sent to your organization's services.
    Incoming,
    /// Sent by your organization.
    Outgoing,
}

impl From<ReferralBox> for super::ReferralBox {
    fn from(referral_box: ReferralBox) -> Self {
        match referral_box {
            ReferralBox::Incoming => super::ReferralBox::Incoming,
            ReferralBox::Outgoing => super::ReferralBox::Outgoing,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "super::live::ReferralChange")]
pub enum ReferralChange {
    Created,
    StatusChanged,
    NoteAdded,
}

/// A family referred to one service for one need. No names, no birth dates.
#[derive(InputObject)]
pub struct CreateReferralInput {
    pub service_id: ID,
    /// Life-domain or need code (`housing.search`).
    pub need_code: String,
    /// What the family needs, in a few sentences. Encrypted at rest, erased after closing.
    pub need_description: String,
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
    #[graphql(default_with = "ContactVia::Referrer")]
    pub contact_via: ContactVia,
    /// With `contactVia: PHONE` only, given with the family's consent.
    pub contact_phone: Option<String>,
    /// The family agreed to this referral. Required.
    pub consent_given: bool,
    /// Answer wanted by; default five working days from now.
    pub respond_by: Option<DateTime<Utc>>,
    /// Send although the service's area does not cover the family's municipality (recorded).
    #[graphql(default)]
    pub override_area: bool,
    /// The step of a support plan this referral carries out (`addPlanStep`); the step shows
    /// the referral's status to the plan's circle.
    pub plan_step_id: Option<ID>,
}

/// A referral, as its referring and receiving organizations see it.
pub struct Referral(ReferralView);

#[Object]
impl Referral {
    async fn id(&self) -> ID {
        ID(self.0.referral.id.clone())
    }

    async fn status(&self) -> ReferralStatus {
        self.0.referral.status.into()
    }

    /// The moves your organization can make now.
    async fn next_statuses(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReferralStatus>> {
        let Ok(organization) = super::acting_organization(viewer(ctx)?) else {
            return Ok(Vec::new());
        };
        let sides = super::sides_of(&self.0.referral, &organization);
        Ok(lifecycle::moves_from(self.0.referral.status)
            .iter()
            .filter(|(_, side)| sides.contains(side))
            .map(|(status, _)| (*status).into())
            .collect())
    }

    async fn service(&self, ctx: &Context<'_>) -> ApiResult<Option<Service>> {
        Ok(listings::service(db(ctx), &self.0.referral.service_id)
            .await?
            .map(Service))
    }

    /// The organization that sent it.
    async fn from_organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        Ok(listings::organization(db(ctx), &self.0.referral.from_organization_id)
            .await?
            .map(Organization))
    }

    /// The organization of the service.
    async fn to_organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        Ok(listings::organization(db(ctx), &self.0.referral.to_organization_id)
            .await?
            .map(Organization))
    }

    async fn need(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.0.referral.need_code)
    }

    /// Null once erased.
    async fn need_description(&self) -> Option<&str> {
        self.0.need_description.as_deref()
    }

    async fn municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.referral.municipality_code)
    }

    async fn postal_code(&self) -> Option<&str> {
        self.0.referral.postal_code.as_deref()
    }

    async fn languages(&self, ctx: &Context<'_>) -> Vec<Language> {
        self.0
            .languages
            .iter()
            .filter_map(|code| Language::by_code(reference(ctx), code))
            .collect()
    }

    async fn interpreter_needed(&self) -> bool {
        self.0.referral.interpreter_needed
    }

    /// Number of adults; 0 once erased.
    async fn adults(&self) -> i32 {
        self.0.referral.adults
    }

    async fn children_ages(&self) -> &[i32] {
        &self.0.children_ages
    }

    async fn contact_via(&self) -> ContactVia {
        self.0.referral.contact_via.into()
    }

    /// The family's phone, with `contactVia: PHONE`; null once erased.
    async fn contact_phone(&self) -> Option<&str> {
        self.0.contact_phone.as_deref()
    }

    async fn consent_given_at(&self) -> DateTime<Utc> {
        self.0.referral.consent_given_at
    }

    /// Sent although the service's area does not cover the family's municipality.
    async fn area_override(&self) -> bool {
        self.0.referral.area_override
    }

    async fn decline_reason(&self) -> Option<DeclineReason> {
        self.0.referral.decline_reason.map(Into::into)
    }

    async fn respond_by(&self) -> DateTime<Utc> {
        self.0.referral.respond_by
    }

    async fn first_response_at(&self) -> Option<DateTime<Utc>> {
        self.0.referral.first_response_at
    }

    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.referral.closed_at
    }

    /// When the personal fields were erased, after the retention time.
    async fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.0.referral.erased_at
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.referral.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.referral.updated_at
    }

    /// Every status change and note, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReferralEvent>> {
        let events = super::events(db(ctx), keyring(ctx), &self.0.referral.id).await?;
        Ok(events.into_iter().map(ReferralEvent).collect())
    }
}

/// A status change or a note.
pub struct ReferralEvent(EventView);

#[Object]
impl ReferralEvent {
    /// The status it moved to; null for a note.
    async fn status(&self) -> Option<ReferralStatus> {
        self.0.event.status.map(Into::into)
    }

    async fn reason(&self) -> Option<DeclineReason> {
        self.0.event.reason.map(Into::into)
    }

    /// Null when there is none, or once erased.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The email of the account that acted; null for the deadline.
    async fn by(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let Some(id) = &self.0.event.account_id else {
            return Ok(None);
        };
        let found = account::Entity::find_by_id(id.as_str())
            .one(db(ctx))
            .await
            .map_err(super::ReferralsError::from)?;
        Ok(found.map(|a| a.email))
    }

    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let Some(id) = &self.0.event.organization_id else {
            return Ok(None);
        };
        Ok(listings::organization(db(ctx), id).await?.map(Organization))
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.event.created_at
    }
}

/// How many referrals are in one status.
#[derive(SimpleObject)]
pub struct ReferralStatusCount {
    pub status: ReferralStatus,
    pub count: u64,
}

/// How many referrals ended in one status; null below five.
#[derive(SimpleObject)]
pub struct OutcomeCount {
    pub status: ReferralStatus,
    pub count: Option<u64>,
}

/// Referrals of one month, municipality and life domain (cells under five are left out).
pub struct ReferralStatisticsRow(super::StatisticsRow);

#[Object]
impl ReferralStatisticsRow {
    /// `2026-11`.
    async fn month(&self) -> &str {
        &self.0.month
    }

    async fn municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.municipality_code)
    }

    async fn domain(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.0.domain_code)
    }

    async fn referrals(&self) -> u64 {
        self.0.referrals
    }

    async fn outcomes(&self) -> Vec<OutcomeCount> {
        self.0
            .outcomes
            .iter()
            .map(|(status, count)| OutcomeCount {
                status: (*status).into(),
                count: *count,
            })
            .collect()
    }

    /// Median hours until the service first answered; null with fewer than five answers.
    async fn median_response_hours(&self) -> Option<f64> {
        self.0.median_response_hours
    }
}

#[derive(Default)]
pub struct ReferralsQuery;

#[Object]
impl ReferralsQuery {
    /// A referral, for its referring and receiving organizations. Anyone else gets
    /// `NOT_FOUND`, whether or not it exists.
    async fn referral(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Referral> {
        Ok(Referral(
            super::referral(db(ctx), keyring(ctx), viewer(ctx)?, &id).await?,
        ))
    }

    /// Your organization's incoming or outgoing referrals, newest first.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "box")] referral_box: ReferralBox,
        status: Option<ReferralStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Referral>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let (found, total) = super::list(
            db(ctx),
            keyring(ctx),
            viewer(ctx)?,
            referral_box.into(),
            status.map(Into::into),
            page,
            relay::wants_total(ctx),
        )
        .await?;
        Ok(relay::page_probed(
            page,
            found.into_iter().map(Referral).collect(),
            total,
        ))
    }

    /// How many incoming or outgoing referrals your organization has in each status.
    async fn referral_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "box")] referral_box: ReferralBox,
    ) -> ApiResult<Vec<ReferralStatusCount>> {
        let counts = super::counts(db(ctx), viewer(ctx)?, referral_box.into()).await?;
        Ok(counts
            .into_iter()
            .map(|(status, count)| ReferralStatusCount {
                status: status.into(),
                count,
            })
            .collect())
    }

    /// Referrals per month, municipality and life domain since `since` (default: a year ago):
    /// counts only, never under five. For admins and that municipality's editors.
    async fn referral_statistics(
        &self,
        ctx: &Context<'_>,
        municipality_code: Option<String>,
        since: Option<DateTime<Utc>>,
    ) -> ApiResult<Vec<ReferralStatisticsRow>> {
        let since = since.unwrap_or_else(|| Utc::now() - Duration::days(365));
        let rows = super::statistics(
            db(ctx),
            reference(ctx),
            viewer(ctx)?,
            municipality_code.as_deref().map(str::trim),
            since,
        )
        .await?;
        Ok(rows.into_iter().map(ReferralStatisticsRow).collect())
    }
}

#[derive(Default)]
pub struct ReferralsMutation;

#[Object]
impl ReferralsMutation {
    /// Refers a family to a service, for one need, with its consent.
    async fn create_referral(&self, ctx: &Context<'_>, input: CreateReferralInput) -> ApiResult<Referral> {
        let new = NewReferral {
            service_id: relay::key_of(NodeKind::Service, &input.service_id)?,
            need_code: input.need_code,
            need_description: input.need_description,
            postal_code: input.postal_code,
            municipality_code: input.municipality_code,
            languages: input.languages,
            interpreter_needed: input.interpreter_needed,
            adults: input.adults,
            children_ages: input.children_ages,
            contact_via: input.contact_via.into(),
            contact_phone: input.contact_phone,
            consent_given: input.consent_given,
            respond_by: input.respond_by,
            override_area: input.override_area,
            plan_step_id: input.plan_step_id.map(|id| id.0),
            forwarded_from_id: None,
        };
        let created = super::create_referral(db(ctx), reference(ctx), keyring(ctx), viewer(ctx)?, new).await?;
        feed(ctx).publish(&created.referral, super::ReferralChange::Created);
        Ok(Referral(created))
    }

    /// Sends a DECLINED (or EXPIRED) referral on to another service, with the same family
    /// details and consent, without retyping; the new referral names the old one in
    /// `forwardedFrom`. The referring organization's to do.
    async fn forward_referral(
        &self,
        ctx: &Context<'_>,
        id: ID,
        service_id: ID,
        #[graphql(default)] override_area: bool,
    ) -> ApiResult<Referral> {
        let service = relay::key_of(NodeKind::Service, &service_id)?;
        let created = super::forward_referral(
            db(ctx),
            reference(ctx),
            keyring(ctx),
            viewer(ctx)?,
            &id,
            &service,
            override_area,
        )
        .await?;
        feed(ctx).publish(&created.referral, super::ReferralChange::Created);
        Ok(Referral(created))
    }

    /// Moves a referral on. The service marks it RECEIVED, ACCEPTED, DECLINED (with a
    /// `reason`), COMPLETED or NO_SHOW; the referrer CANCELLED. An impossible move is
    /// `BAD_USER_INPUT` naming the possible ones.
    async fn update_referral_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: ReferralStatus,
        reason: Option<DeclineReason>,
        note: Option<String>,
    ) -> ApiResult<Referral> {
        let updated = super::update_status(
            db(ctx),
            keyring(ctx),
            viewer(ctx)?,
            &id,
            status.into(),
            reason.map(Into::into),
            note,
        )
        .await?;
        feed(ctx).publish(&updated.referral, super::ReferralChange::StatusChanged);
        Ok(Referral(updated))
    }

    /// Adds a note for the other organization: the warm handover.
    async fn add_referral_note(&self, ctx: &Context<'_>, id: ID, note: String) -> ApiResult<Referral> {
        let current = super::add_note(db(ctx), keyring(ctx), viewer(ctx)?, &id, &note).await?;
        feed(ctx).publish(&current.referral, super::ReferralChange::NoteAdded);
        Ok(Referral(current))
    }
}

/// A change to one of your organization's referrals.
pub struct ReferralUpdate {
    update: Update,
}

#[Object]
impl ReferralUpdate {
    async fn change(&self) -> ReferralChange {
        self.update.change.into()
    }

    /// The referral as it is now.
    async fn referral(&self, ctx: &Context<'_>) -> ApiResult<Referral> {
        let id = &self.update.referral_id;
        Ok(Referral(
            super::referral(db(ctx), keyring(ctx), viewer(ctx)?, id).await?,
        ))
    }
}

#[derive(Default)]
pub struct ReferralSubscription;

#[Subscription]
impl ReferralSubscription {
    /// New referrals, status changes and notes in your organization's inbox (or outbox), as
    /// they happen on this server. Authenticate in the WebSocket `connection_init` payload:
    /// `{"Authorization": "Bearer <token>"}`.
    async fn referral_updates(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "box", default_with = "ReferralBox::Incoming")] referral_box: ReferralBox,
    ) -> async_graphql::Result<impl Stream<Item = ReferralUpdate>> {
        let organization = super::acting_organization(viewer(ctx)?).map_err(ApiError::from)?;
        let receiver = feed(ctx).subscribe();
        Ok(stream::unfold(receiver, move |mut receiver| {
            let organization = organization.clone();
            async move {
                loop {
                    let update = match receiver.recv().await {
                        Ok(update) => update,
                        // A subscriber that fell behind skips what it missed.
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    };
                    let mine = match referral_box {
                        ReferralBox::Incoming => update.to_organization_id == organization,
                        ReferralBox::Outgoing => update.from_organization_id == organization,
                    };
                    if mine {
                        return Some((ReferralUpdate { update }, receiver));
                    }
                }
            }
        }))
    }
}
