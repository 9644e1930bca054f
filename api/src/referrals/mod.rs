//! Closed-loop referrals: a referrer sends a family to a service for one need, the service
//! answers, both follow what happened. Only the two organizations read a referral; what it
//! says about the family is encrypted at rest (`crypto`) and erased a while after it closes
//! (`jobs`). Plain async functions over the database connection; `types` puts GraphQL on top.

pub mod crypto;
pub mod jobs;
mod lifecycle;
pub mod live;
mod statistics;
pub(crate) mod types;

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use entity::enums::{ContactVia, DeclineReason, ReferralStatus, Role, ServiceStatus};
use entity::{referral, referral_event, service};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub use crypto::{CryptoError, Keyring};
pub use lifecycle::{Side, is_closed};
pub use live::{ReferralChange, ReferralFeed};
pub use statistics::{SMALLEST_SHOWN, StatisticsRow, statistics};

use crate::auth::{AuthError, Viewer};
use crate::listings::editing::validate::{MAX_PHONE_CHARS, is_blank};
use crate::reference::{ReferenceData, ReferenceError};
use crate::relay::{PageRequest, RelayError};

/// Working days a service has to answer, unless the referrer gives a deadline.
pub const DEFAULT_RESPONSE_WORKING_DAYS: u32 = 5;
const MAX_RESPONSE_DAYS: i64 = 90;
const MAX_TEXT_CHARS: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum ReferralsError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Page(#[from] RelayError),
    /// Also what a stranger gets for a referral that exists: not confirming it is there.
    #[error("no referral with id `{0}` that you may read")]
    NotFound(String),
    #[error("no service with id `{0}`")]
    UnknownService(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("`{0}` {1}")]
    Invalid(&'static str, String),
    #[error("the referral changed while you were answering it; reload it and try again")]
    Conflict,
    #[error("stored referral data could not be read: {0}")]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Plans(Box<crate::plans::PlansError>),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

impl From<crate::plans::PlansError> for ReferralsError {
    fn from(error: crate::plans::PlansError) -> Self {
        ReferralsError::Plans(Box::new(error))
    }
}

fn invalid<T>(field: &'static str, reason: impl Into<String>) -> Result<T, ReferralsError> {
    Err(ReferralsError::Invalid(field, reason.into()))
}

/// What a referrer sends.
#[derive(Clone, Debug)]
pub struct NewReferral {
    pub service_id: String,
    pub need_code: String,
    pub need_description: String,
    pub postal_code: Option<String>,
    pub municipality_code: Option<String>,
    pub languages: Vec<String>,
    pub interpreter_needed: bool,
    pub adults: i32,
    pub children_ages: Vec<i32>,
    pub contact_via: ContactVia,
    pub contact_phone: Option<String>,
    pub consent_given: bool,
    pub respond_by: Option<DateTime<Utc>>,
    /// Send it although the service's area does not cover the family's municipality.
    pub override_area: bool,
    /// The support-plan step it carries out; the step then shows its status.
    pub plan_step_id: Option<String>,
    /// The declined referral it forwards (`forward_referral`).
    pub forwarded_from_id: Option<String>,
}

/// A referral with its personal fields decrypted, for one of its two organizations.
#[derive(Clone, Debug)]
pub struct ReferralView {
    pub referral: referral::Model,
    pub need_description: Option<String>,
    pub contact_phone: Option<String>,
    pub languages: Vec<String>,
    pub children_ages: Vec<i32>,
}

/// One step of a referral, decrypted.
#[derive(Clone, Debug)]
pub struct EventView {
    pub event: referral_event::Model,
    pub note: Option<String>,
}

/// Where a referral is, seen from an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferralBox {
    Incoming,
    Outgoing,
}

/// The organization the viewer acts for: referrers and organization editors have one.
fn acting_organization(viewer: &Viewer) -> Result<String, ReferralsError> {
    let account = &viewer.signed_in()?.account;
    match (account.role, &account.organization_id) {
        (Role::Referrer | Role::OrganizationEditor, Some(organization)) => Ok(organization.clone()),
        (Role::Admin, _) => Err(ReferralsError::Forbidden(
            "admins see referral statistics, not referrals".to_owned(),
        )),
        _ => Err(ReferralsError::Forbidden(
            "referrals are sent and answered by members of an organization".to_owned(),
        )),
    }
}

/// The organization a reader of referral `id` acts for. Someone without one is a stranger
/// to every referral, and learns nothing, not even that it exists.
fn reader_organization(viewer: &Viewer, id: &str) -> Result<String, ReferralsError> {
    match acting_organization(viewer) {
        Err(ReferralsError::Forbidden(_)) => Err(ReferralsError::NotFound(id.to_owned())),
        outcome => outcome,
    }
}

/// The sides the organization is on; none for a stranger.
fn sides_of(referral: &referral::Model, organization: &str) -> Vec<Side> {
    let mut sides = Vec::new();
    if referral.from_organization_id == organization {
        sides.push(Side::Referring);
    }
    if referral.to_organization_id == organization {
        sides.push(Side::Receiving);
    }
    sides
}

fn context(referral_id: &str, field: &str) -> String {
    format!("referral/{referral_id}/{field}")
}

fn event_context(event_id: &str) -> String {
    format!("referral_event/{event_id}/note")
}

pub async fn create_referral(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    keyring: &Keyring,
    viewer: &Viewer,
    new: NewReferral,
) -> Result<ReferralView, ReferralsError> {
    let organization = acting_organization(viewer)?;
    let account_id = viewer.signed_in()?.account.id.clone();
    let service = service::Entity::find_by_id(new.service_id.as_str())
        .one(db)
        .await?
        .ok_or_else(|| ReferralsError::UnknownService(new.service_id.clone()))?;
    if service.status != ServiceStatus::Active {
        let state = if service.status == ServiceStatus::Inactive {
            "no longer offered"
        } else {
            "temporarily closed"
        };
        return invalid(
            "serviceId",
            format!("`{}` is {state}: refer the family elsewhere", service.name),
        );
    }
    if reference.domain(new.need_code.trim()).is_none() {
        return invalid(
            "needCode",
            ReferenceError::UnknownDomain(new.need_code.clone()).to_string(),
        );
    }
    let description = new.need_description.trim();
    if is_blank(description) {
        return invalid("needDescription", "must say what the family needs");
    }
    check_text("needDescription", description)?;
    let municipality = family_municipality(reference, new.postal_code.as_deref(), new.municipality_code.as_deref())?;
    let languages = family_languages(reference, &new.languages)?;
    if !(1..=20).contains(&new.adults) {
        return invalid("adults", format!("must be between 1 and 20, got {}", new.adults));
    }
    if new.children_ages.len() > 20 {
        return invalid("childrenAges", "lists more than 20 children");
    }
    if let Some(age) = new.children_ages.iter().find(|a| !(0..=17).contains(*a)) {
        return invalid("childrenAges", format!("are ages in years from 0 to 17, got {age}"));
    }
    let phone = new.contact_phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
    match (new.contact_via, phone) {
        (ContactVia::Phone, None) => return invalid("contactPhone", "is needed when the service calls the family"),
        (ContactVia::Referrer, Some(_)) => {
            return invalid(
                "contactPhone",
                "is kept only when the service calls the family (contactVia: PHONE): leave it out",
            );
        }
        (ContactVia::Phone, Some(phone))
            if phone.chars().count() > MAX_PHONE_CHARS || !crate::auth::looks_like_phone(phone) =>
        {
            // The family's number is not repeated: no referral content in error messages.
            return invalid(
                "contactPhone",
                format!("is not a phone number such as +32 470 12 34 56 (at most {MAX_PHONE_CHARS} characters)"),
            );
        }
        _ => {}
    }
    if !new.consent_given {
        return invalid(
            "consentGiven",
            "must be true: a referral is sent only with the family's consent, recorded by the referrer",
        );
    }
    let plan_step_id = match new.plan_step_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(step) if crate::plans::referable_step(db, viewer, step).await? => Some(step.to_owned()),
        Some(_) => {
            return invalid(
                "planStepId",
                "is not an open step of a support plan your organization is in, in a domain it sees",
            );
        }
    };
    let now = Utc::now();
    let respond_by = match new.respond_by {
        None => add_working_days(now, DEFAULT_RESPONSE_WORKING_DAYS),
        Some(at) if at <= now => return invalid("respondBy", "must be in the future"),
        Some(at) if at > now + Duration::days(MAX_RESPONSE_DAYS) => {
            return invalid("respondBy", format!("must be within {MAX_RESPONSE_DAYS} days"));
        }
        Some(at) => at,
    };
    let covered = service::Entity::find()
        .filter(service::Column::Id.eq(service.id.as_str()))
        .filter(
            crate::listings::serving_municipality(db, reference, &municipality)
                .await
                .map_err(|e| match e {
                    crate::listings::ListingsError::Reference(e) => ReferralsError::Reference(e),
                    crate::listings::ListingsError::Database(e) => ReferralsError::Database(e),
                    other => ReferralsError::Database(DbErr::Custom(other.to_string())),
                })?,
        )
        .count(db)
        .await?
        > 0;
    if !covered && !new.override_area {
        let name = reference
            .municipality(&municipality)
            .map_or(municipality.as_str(), |m| m.name_nl.as_str());
        return invalid(
            "municipalityCode",
            format!(
                "`{}` does not serve {name}; send overrideArea: true if the service agreed to help this family anyway",
                service.name
            ),
        );
    }

    let id = uuid::Uuid::new_v4().to_string();
    let created = referral::Model {
        id: id.clone(),
        service_id: service.id.clone(),
        from_organization_id: organization.clone(),
        to_organization_id: service.organization_id.clone(),
        created_by: account_id.clone(),
        need_code: new.need_code.trim().to_owned(),
        need_description: Some(keyring.seal(&context(&id, "need_description"), description)),
        municipality_code: municipality,
        postal_code: new.postal_code.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()),
        languages: serde_json::to_string(&languages).unwrap_or_else(|_| "[]".to_owned()),
        interpreter_needed: new.interpreter_needed,
        adults: new.adults,
        children_ages: serde_json::to_string(&new.children_ages).unwrap_or_else(|_| "[]".to_owned()),
        contact_via: new.contact_via,
        contact_phone: phone.map(|p| keyring.seal(&context(&id, "contact_phone"), p)),
        consent_given_at: now,
        area_override: !covered,
        status: ReferralStatus::Sent,
        decline_reason: None,
        respond_by,
        first_response_at: None,
        closed_at: None,
        erased_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
        plan_step_id,
        forwarded_from_id: new.forwarded_from_id,
    };
    let txn = crate::db::begin_write(db).await?;
    referral::Entity::insert(created.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    let note = (!covered).then_some("sent although the service's area does not cover the family's municipality");
    insert_event(
        &txn,
        keyring,
        &id,
        Some(ReferralStatus::Sent),
        None,
        note,
        Some((&account_id, &organization)),
        now,
    )
    .await?;
    txn.commit().await?;
    view(keyring, created)
}

/// Sends a declined (or expired) referral on to another service: a new referral with the
/// same family details and the same consent, linked to the old one, without retyping. The
/// referring organization's to do.
pub async fn forward_referral(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
    service_id: &str,
    override_area: bool,
) -> Result<ReferralView, ReferralsError> {
    let organization = reader_organization(viewer, id)?;
    let old = referral::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| r.from_organization_id == organization)
        .ok_or_else(|| ReferralsError::NotFound(id.to_owned()))?;
    if !matches!(old.status, ReferralStatus::Declined | ReferralStatus::Expired) {
        return invalid(
            "id",
            format!(
                "is {}: a referral is forwarded once the service declined it or let it expire",
                lifecycle::name(old.status)
            ),
        );
    }
    if old.erased_at.is_some() {
        return invalid("id", "was erased after the retention time: send a new referral");
    }
    if old.service_id == service_id {
        return invalid("serviceId", "is the service that declined: forward to another one");
    }
    let old = view(keyring, old)?;
    // The new referral carries the step on only while the referrer still acts in that plan
    // (a plan handed over to another place no longer is its to follow).
    let plan_step_id = match old.referral.plan_step_id.clone() {
        Some(step) if crate::plans::referable_step(db, viewer, &step).await? => Some(step),
        _ => None,
    };
    let new = NewReferral {
        service_id: service_id.to_owned(),
        need_code: old.referral.need_code.clone(),
        need_description: old.need_description.unwrap_or_default(),
        postal_code: old.referral.postal_code.clone(),
        municipality_code: Some(old.referral.municipality_code.clone()),
        languages: old.languages,
        interpreter_needed: old.referral.interpreter_needed,
        adults: old.referral.adults,
        children_ages: old.children_ages,
        contact_via: old.referral.contact_via,
        contact_phone: old.contact_phone,
        // The family consented to being referred for this need; forwarding keeps to it.
        consent_given: true,
        respond_by: None,
        override_area,
        plan_step_id,
        forwarded_from_id: Some(old.referral.id.clone()),
    };
    create_referral(db, reference, keyring, viewer, new).await
}

/// Moves a referral to `status`, if that move is allowed from where it is and the viewer is on
/// the side that makes it.
pub async fn update_status(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
    status: ReferralStatus,
    reason: Option<DeclineReason>,
    note: Option<String>,
) -> Result<ReferralView, ReferralsError> {
    let organization = reader_organization(viewer, id)?;
    let account_id = viewer.signed_in()?.account.id.clone();
    let current = readable(db, &organization, id).await?;
    let sides = sides_of(&current, &organization);
    let Some((_, side)) = lifecycle::moves_from(current.status)
        .iter()
        .find(|(to, _)| *to == status)
    else {
        return invalid(
            "status",
            format!(
                "a {} referral cannot become {}; it can become {}",
                lifecycle::name(current.status),
                lifecycle::name(status),
                lifecycle::describe_moves(current.status)
            ),
        );
    };
    if !sides.contains(side) {
        return Err(ReferralsError::Forbidden(format!(
            "only {} marks a referral {}",
            side.describe(),
            lifecycle::name(status)
        )));
    }
    match (status, reason) {
        (ReferralStatus::Declined, None) => {
            return invalid(
                "reason",
                "is needed to decline: NO_CAPACITY, OUTSIDE_TARGET_GROUP, OUTSIDE_AREA, …",
            );
        }
        (ReferralStatus::Declined, Some(_)) | (_, None) => {}
        (_, Some(_)) => return invalid("reason", "goes with DECLINED only"),
    }
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !is_blank(n));
    if let Some(note) = &note {
        check_text("note", note)?;
    }
    let now = Utc::now();
    let mut updated = current.clone();
    updated.status = status;
    updated.decline_reason = reason;
    updated.version = current.version + 1;
    updated.updated_at = now;
    if lifecycle::is_response(status) && updated.first_response_at.is_none() {
        updated.first_response_at = Some(now);
    }
    if lifecycle::is_closed(status) {
        updated.closed_at = Some(now);
    }
    let txn = crate::db::begin_write(db).await?;
    // Guarded by the version read: of two answers at once, one lands.
    let written = referral::Entity::update_many()
        .set(updated.clone().into_active_model().reset_all())
        .filter(referral::Column::Id.eq(id))
        .filter(referral::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if written.rows_affected != 1 {
        return Err(ReferralsError::Conflict);
    }
    insert_event(
        &txn,
        keyring,
        id,
        Some(status),
        reason,
        note.as_deref(),
        Some((&account_id, &organization)),
        now,
    )
    .await?;
    txn.commit().await?;
    view(keyring, updated)
}

/// Adds a note to the conversation between the two organizations.
pub async fn add_note(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
    note: &str,
) -> Result<ReferralView, ReferralsError> {
    let organization = reader_organization(viewer, id)?;
    let account_id = viewer.signed_in()?.account.id.clone();
    let current = readable(db, &organization, id).await?;
    let note = note.trim();
    if is_blank(note) {
        return invalid("note", crate::listings::editing::validate::BLANK);
    }
    check_text("note", note)?;
    if current.erased_at.is_some() {
        return invalid(
            "id",
            "is a referral whose personal data was erased: it takes no more notes",
        );
    }
    let now = Utc::now();
    insert_event(
        db,
        keyring,
        id,
        None,
        None,
        Some(note),
        Some((&account_id, &organization)),
        now,
    )
    .await?;
    view(keyring, current)
}

/// A referral for one of its two organizations; `NOT_FOUND` for anyone else.
pub async fn referral(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    id: &str,
) -> Result<ReferralView, ReferralsError> {
    let organization = reader_organization(viewer, id)?;
    view(keyring, readable(db, &organization, id).await?)
}

/// The events of a referral, oldest first (the caller has read the referral).
pub async fn events(db: &DatabaseConnection, keyring: &Keyring, id: &str) -> Result<Vec<EventView>, ReferralsError> {
    referral_event::Entity::find()
        .filter(referral_event::Column::ReferralId.eq(id))
        .order_by_asc(referral_event::Column::CreatedAt)
        .order_by_asc(referral_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|event| {
            let note = event
                .note
                .as_deref()
                .map(|sealed| keyring.open(&event_context(&event.id), sealed))
                .transpose()?;
            Ok(EventView { event, note })
        })
        .collect()
}

/// One page of an organization's incoming or outgoing referrals, newest first, with one more
/// than the page when there is one (`PageRequest::probe`), and how many there are in all when
/// `count_total` asks. An inbox only grows, and counting it all on every look was most of
/// the inbox's time on PostgreSQL.
pub async fn list(
    db: &DatabaseConnection,
    keyring: &Keyring,
    viewer: &Viewer,
    referral_box: ReferralBox,
    status: Option<ReferralStatus>,
    page: PageRequest,
    count_total: bool,
) -> Result<(Vec<ReferralView>, Option<u64>), ReferralsError> {
    let organization = acting_organization(viewer)?;
    let mut query = referral::Entity::find().filter(box_column(referral_box).eq(organization.as_str()));
    if let Some(status) = status {
        query = query.filter(referral::Column::Status.eq(status));
    }
    let total = if count_total {
        Some(query.clone().count(db).await?)
    } else {
        None
    };
    let found = query
        .order_by_desc(referral::Column::CreatedAt)
        .order_by_asc(referral::Column::Id)
        .offset(page.offset as u64)
        .limit(page.probe() as u64)
        .all(db)
        .await?;
    let views = found.into_iter().map(|r| view(keyring, r)).collect::<Result<_, _>>()?;
    Ok((views, total))
}

/// How many incoming or outgoing referrals the viewer's organization has in each status.
pub async fn counts(
    db: &DatabaseConnection,
    viewer: &Viewer,
    referral_box: ReferralBox,
) -> Result<Vec<(ReferralStatus, u64)>, ReferralsError> {
    let organization = acting_organization(viewer)?;
    let rows: Vec<(ReferralStatus, i64)> = referral::Entity::find()
        .select_only()
        .column(referral::Column::Status)
        .column_as(referral::Column::Id.count(), "count")
        .filter(box_column(referral_box).eq(organization.as_str()))
        .group_by(referral::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(<ReferralStatus as sea_orm::Iterable>::iter()
        .map(|status| {
            let count = rows.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n as u64);
            (status, count)
        })
        .collect())
}

fn box_column(referral_box: ReferralBox) -> referral::Column {
    match referral_box {
        ReferralBox::Incoming => referral::Column::ToOrganizationId,
        ReferralBox::Outgoing => referral::Column::FromOrganizationId,
    }
}

/// The referral, when `organization` is one of its two; otherwise `NOT_FOUND`.
async fn readable(db: &impl ConnectionTrait, organization: &str, id: &str) -> Result<referral::Model, ReferralsError> {
    referral::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|r| !sides_of(r, organization).is_empty())
        .ok_or_else(|| ReferralsError::NotFound(id.to_owned()))
}

fn view(keyring: &Keyring, referral: referral::Model) -> Result<ReferralView, ReferralsError> {
    let open = |field: &str, sealed: &Option<String>| {
        sealed
            .as_deref()
            .map(|s| keyring.open(&context(&referral.id, field), s))
            .transpose()
    };
    Ok(ReferralView {
        need_description: open("need_description", &referral.need_description)?,
        contact_phone: open("contact_phone", &referral.contact_phone)?,
        languages: serde_json::from_str(&referral.languages).unwrap_or_default(),
        children_ages: serde_json::from_str(&referral.children_ages).unwrap_or_default(),
        referral,
    })
}

#[allow(clippy::too_many_arguments)] // one row's columns; a struct would only rename them
async fn insert_event(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    referral_id: &str,
    status: Option<ReferralStatus>,
    reason: Option<DeclineReason>,
    note: Option<&str>,
    actor: Option<(&str, &str)>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let id = uuid::Uuid::new_v4().to_string();
    referral_event::Model {
        note: note.map(|n| keyring.seal(&event_context(&id), n)),
        id,
        referral_id: referral_id.to_owned(),
        status,
        reason,
        account_id: actor.map(|(account, _)| account.to_owned()),
        organization_id: actor.map(|(_, organization)| organization.to_owned()),
        created_at: at,
    }
    .into_active_model()
    .reset_all()
    .insert(db)
    .await?;
    Ok(())
}

fn check_text(field: &'static str, text: &str) -> Result<(), ReferralsError> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return invalid(field, format!("is longer than {MAX_TEXT_CHARS} characters"));
    }
    Ok(())
}

/// The family's municipality: as a location's is placed (`listings::municipality_of`) when a
/// postal code is given, else the municipality code, which must be known.
pub(crate) fn family_municipality(
    reference: &ReferenceData,
    postal_code: Option<&str>,
    municipality_code: Option<&str>,
) -> Result<String, ReferralsError> {
    let municipality_code = municipality_code.map(str::trim).filter(|m| !m.is_empty());
    match postal_code.map(str::trim).filter(|p| !p.is_empty()) {
        Some(postal_code) => {
            crate::listings::municipality_of(reference, postal_code, municipality_code).map_err(|error| match error {
                crate::listings::ListingsError::Invalid(field, reason) => {
                    ReferralsError::Invalid(field.graphql(), reason)
                }
                other => ReferralsError::Invalid("postalCode", other.to_string()),
            })
        }
        None => {
            let code = municipality_code.ok_or_else(|| {
                ReferralsError::Invalid(
                    "municipalityCode",
                    "or postalCode is needed: where the family lives".to_owned(),
                )
            })?;
            reference
                .require_municipality(code)
                .map_err(|e| ReferralsError::Invalid("municipalityCode", format!("is an {e}")))?;
            Ok(code.to_owned())
        }
    }
}

pub(crate) fn family_languages(reference: &ReferenceData, inputs: &[String]) -> Result<Vec<String>, ReferralsError> {
    if inputs.is_empty() {
        return invalid("languages", "must name at least one language the family speaks");
    }
    let mut codes = Vec::new();
    for input in inputs {
        let language = reference
            .normalize_language(input)
            .map_err(|e| ReferralsError::Invalid("languages", format!("has {e}")))?;
        if !codes.contains(&language.code) {
            codes.push(language.code.clone());
        }
    }
    Ok(codes)
}

/// `days` working days (Monday to Friday) after `from`, at the same time of day. Public
/// holidays are not counted out.
pub fn add_working_days(from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let mut at = from;
    let mut left = days;
    while left > 0 {
        at += Duration::days(1);
        if !matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn five_working_days_from_a_thursday_end_on_the_next_thursday() {
        let thursday = Utc.with_ymd_and_hms(2026, 11, 19, 10, 0, 0).unwrap();
        let deadline = add_working_days(thursday, 5);
        assert_eq!(deadline, Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap());
        let saturday = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        assert_eq!(add_working_days(saturday, 1).weekday(), Weekday::Mon);
    }
}
