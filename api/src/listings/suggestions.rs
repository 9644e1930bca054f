//! Suggestions from the field: anyone, even without an account, tells a service's editors
//! that its listing is wrong ("the phone number no longer works"); the editors accept or
//! reject it. Accepting records the outcome only: the editor corrects the listing with an
//! ordinary, versioned edit.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::enums::{Role, SuggestionStatus as Status};
use entity::{location, service, service_location, suggestion};
use governor::Quota;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{Field, ListingsError, Service, may_edit_service, serving_municipality};
use crate::auth::{SignedIn, Viewer};
use crate::error::ApiResult;
use crate::reference::ReferenceData;
use crate::reference::types::reference;
use crate::relay::{self, NodeKind, Page, PageRequest};
use crate::server::{AddressLimiter, ClientAddress};

/// A message or a note: enough for "the phone number changed to …, the office moved to …".
const MAX_TEXT_CHARS: usize = 1_000;
/// Suggestions per client address: five at once, then one more every two minutes, so never
/// more than five in ten minutes. A volunteer correcting a few listings stays well under it.
const SUGGESTION_BURST: u32 = 5;
const SUGGESTIONS_PER_HOUR: u32 = 30;
/// Limits suggestions per client address, signed in or not.
pub struct SuggestionLimiter(AddressLimiter);

impl Default for SuggestionLimiter {
    fn default() -> Self {
        let per_hour = NonZeroU32::new(SUGGESTIONS_PER_HOUR).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(SUGGESTION_BURST).unwrap_or(NonZeroU32::MIN);
        SuggestionLimiter(AddressLimiter::new(Quota::per_hour(per_hour).allow_burst(burst)))
    }
}

/// A suggestion with the service it is about, which every answer shows.
#[derive(Clone, Debug)]
pub struct ServiceSuggestion {
    pub suggestion: suggestion::Model,
    pub service: service::Model,
}

/// `text` trimmed, at most `MAX_TEXT_CHARS` long; `None` when blank (or only invisible
/// characters).
fn checked_text(field: Field, text: &str) -> Result<Option<String>, ListingsError> {
    let text = text.trim();
    // PostgreSQL cannot store NUL in text: refuse it as bad input rather than fail with an
    // internal error.
    if text.contains('\0') {
        return Err(ListingsError::Invalid(
            field,
            "must not contain NUL characters".to_owned(),
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ListingsError::Invalid(
            field,
            format!("is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    // Invisible characters alone (a zero-width space, a direction mark) say nothing either.
    Ok((!super::editing::validate::is_blank(text)).then(|| text.to_owned()))
}

/// Records a suggested correction to a service, from anyone. Limited per client address;
/// only suggestions that are stored count, so a typo or a stale link costs no quota.
pub async fn suggest_change(
    db: &DatabaseConnection,
    limiter: &SuggestionLimiter,
    client: IpAddr,
    viewer: &Viewer,
    service_id: &str,
    message: &str,
) -> Result<ServiceSuggestion, ListingsError> {
    let message = checked_text(Field::Message, message)?
        .ok_or_else(|| ListingsError::Invalid(Field::Message, super::editing::validate::BLANK.to_owned()))?;
    let service = service::Entity::find_by_id(service_id)
        .one(db)
        .await?
        .ok_or_else(|| ListingsError::NotFound("service", service_id.to_owned()))?;
    limiter.0.check(client).map_err(ListingsError::TooManySuggestions)?;
    let suggestion = suggestion::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        service_id: Set(service.id.clone()),
        message: Set(message),
        status: Set(Status::Pending),
        submitted_by: Set(match viewer {
            Viewer::Account(signed_in) => Some(signed_in.account.id.clone()),
            Viewer::Anonymous => None,
        }),
        created_at: Set(Utc::now()),
        resolved_at: Set(None),
        resolved_by: Set(None),
        resolution_note: Set(None),
    }
    .insert(db)
    .await?;
    Ok(ServiceSuggestion { suggestion, service })
}

/// Pending suggestions, oldest first: for one service when `service_id` is given (for its
/// editors), else for every service the viewer may edit.
pub async fn pending_suggestions(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    service_id: Option<&str>,
) -> Result<Vec<ServiceSuggestion>, ListingsError> {
    let signed_in = viewer.signed_in()?;
    let services = match service_id {
        Some(id) => {
            let service = service::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| ListingsError::NotFound("service", id.to_owned()))?;
            if !may_edit_service(db, reference, viewer, &service).await? {
                return Err(ListingsError::Forbidden(
                    "the suggestions for a service are for its editors and admins".to_owned(),
                ));
            }
            Condition::all().add(service::Column::Id.eq(id))
        }
        None => services_editable_by(db, reference, signed_in).await?,
    };
    let found = suggestion::Entity::find()
        .join(
            JoinType::InnerJoin,
            suggestion::Entity::belongs_to(service::Entity)
                .from(suggestion::Column::ServiceId)
                .to(service::Column::Id)
                .into(),
        )
        .select_also(service::Entity)
        .filter(suggestion::Column::Status.eq(Status::Pending))
        .filter(services)
        .order_by_asc(suggestion::Column::CreatedAt)
        .order_by_asc(suggestion::Column::Id)
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .filter_map(|(suggestion, service)| {
            Some(ServiceSuggestion {
                suggestion,
                service: service?,
            })
        })
        .collect())
}

/// The services `signed_in` may edit, as a condition on `service`: the same rule as
/// `may_edit_service`, for all services at once.
async fn services_editable_by(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    signed_in: &SignedIn,
) -> Result<Condition, ListingsError> {
    let account = &signed_in.account;
    match (account.role, account.organization_id.as_deref()) {
        (Role::Admin, _) => Ok(Condition::all()),
        (Role::OrganizationEditor, Some(organization)) => {
            Ok(Condition::all().add(service::Column::OrganizationId.eq(organization)))
        }
        (Role::MunicipalityEditor, _) => {
            let located_there = Query::select()
                .column(service_location::Column::ServiceId)
                .from(service_location::Entity)
                .and_where(
                    service_location::Column::LocationId.in_subquery(
                        Query::select()
                            .column(location::Column::Id)
                            .from(location::Entity)
                            .and_where(location::Column::MunicipalityCode.is_in(signed_in.municipalities.clone()))
                            .to_owned(),
                    ),
                )
                .to_owned();
            let mut editable = Condition::any().add(service::Column::Id.in_subquery(located_there));
            for code in &signed_in.municipalities {
                editable = editable.add(serving_municipality(db, reference, code).await?);
            }
            Ok(editable)
        }
        (Role::OrganizationEditor | Role::Referrer, _) => Err(ListingsError::Forbidden(
            "suggestions are for the editors of the services they are about".to_owned(),
        )),
    }
}

/// Accepts or rejects a pending suggestion, once. For the editors of its service.
pub async fn resolve_suggestion(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    id: &str,
    accepted: bool,
    note: Option<String>,
) -> Result<ServiceSuggestion, ListingsError> {
    let account_id = viewer.signed_in()?.account.id.clone();
    let note = match note {
        Some(note) => checked_text(Field::Note, &note)?,
        None => None,
    };
    let current = suggestion::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ListingsError::NotFound("suggestion", id.to_owned()))?;
    let service = service::Entity::find_by_id(current.service_id.as_str())
        .one(db)
        .await?
        .ok_or_else(|| ListingsError::NotFound("service", current.service_id.clone()))?;
    if !may_edit_service(db, reference, viewer, &service).await? {
        return Err(ListingsError::Forbidden(
            "the suggestions for a service are for its editors and admins".to_owned(),
        ));
    }
    let resolved = suggestion::Model {
        status: if accepted { Status::Accepted } else { Status::Rejected },
        resolved_at: Some(Utc::now()),
        resolved_by: Some(account_id),
        resolution_note: note,
        ..current.clone()
    };
    // Guarded by the status: of two editors resolving at once, one writes.
    let written = suggestion::Entity::update_many()
        .set(suggestion::ActiveModel::from(resolved.clone()).reset_all())
        .filter(suggestion::Column::Id.eq(id))
        .filter(suggestion::Column::Status.eq(Status::Pending))
        .exec(db)
        .await?;
    if written.rows_affected != 1 {
        let now = suggestion::Entity::find_by_id(id).one(db).await?;
        return Err(ListingsError::AlreadyResolved(match now.map(|s| s.status) {
            Some(Status::Accepted) => "accepted",
            Some(Status::Rejected) => "rejected",
            _ => "resolved",
        }));
    }
    Ok(ServiceSuggestion {
        suggestion: resolved,
        service,
    })
}

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

fn viewer<'a>(ctx: &Context<'a>) -> ApiResult<&'a Viewer> {
    crate::error::context_data::<Viewer>(ctx)
}

/// Where a suggestion stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::SuggestionStatus")]
pub enum SuggestionStatus {
    /// Waiting for an editor of the service.
    Pending,
    /// An editor agreed; the listing itself is corrected by an edit of its own.
    Accepted,
    /// An editor found the listing right as it is.
    Rejected,
}

pub struct Suggestion(ServiceSuggestion);

/// A correction someone suggested for a service's listing.
#[Object]
impl Suggestion {
    /// The suggestion's id, to pass to `resolveSuggestion`.
    async fn id(&self) -> ID {
        ID(self.0.suggestion.id.clone())
    }

    /// The service the suggestion is about.
    async fn service(&self) -> Service {
        Service(self.0.service.clone())
    }

    /// What the suggester wrote, e.g. "the phone number no longer works".
    async fn message(&self) -> &str {
        &self.0.suggestion.message
    }

    /// `PENDING` until an editor accepts or rejects it.
    async fn status(&self) -> SuggestionStatus {
        self.0.suggestion.status.into()
    }

    /// When it was suggested.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.suggestion.created_at
    }

    /// When an editor accepted or rejected it; null while pending.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.suggestion.resolved_at
    }

    /// The editor's note on accepting or rejecting it; null if none.
    async fn resolution_note(&self) -> Option<&str> {
        self.0.suggestion.resolution_note.as_deref()
    }
}

#[derive(Default)]
pub struct SuggestionsQuery;

#[Object]
impl SuggestionsQuery {
    /// Suggestions waiting for an editor, oldest first: those for `serviceId`, or without
    /// it those for every service you may edit. For the services' editors and admins.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn pending_suggestions(
        &self,
        ctx: &Context<'_>,
        service_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Suggestion>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let key = service_id.map(|id| relay::key_of(NodeKind::Service, &id)).transpose()?;
        let pending = pending_suggestions(db(ctx), reference(ctx), viewer(ctx)?, key.as_deref()).await?;
        Ok(relay::page_of_slice(
            page,
            pending.into_iter().map(Suggestion).collect(),
        ))
    }
}

#[derive(Default)]
pub struct SuggestionsMutation;

#[Object]
impl SuggestionsMutation {
    /// Tells a service's editors its listing needs a correction (at most 1000 characters).
    /// Anyone may, without logging in; at most five suggestions in ten minutes from one
    /// address, after which the error is `RATE_LIMITED` with `retryAfterSeconds`.
    async fn suggest_change(&self, ctx: &Context<'_>, service_id: ID, message: String) -> ApiResult<Suggestion> {
        let key = relay::key_of(NodeKind::Service, &service_id)?;
        let limiter = ctx.data_unchecked::<Arc<SuggestionLimiter>>();
        let ClientAddress(client) = *crate::error::context_data::<ClientAddress>(ctx)?;
        let suggested = suggest_change(db(ctx), limiter, client, viewer(ctx)?, &key, &message).await?;
        Ok(Suggestion(suggested))
    }

    /// Accepts or rejects a pending suggestion, with an optional note (at most 1000
    /// characters). Accepting does not change the listing: correct it with `updateService`.
    /// For the service's editors and admins; a suggestion is resolved once (`CONFLICT` after).
    async fn resolve_suggestion(
        &self,
        ctx: &Context<'_>,
        id: ID,
        accepted: bool,
        note: Option<String>,
    ) -> ApiResult<Suggestion> {
        let resolved = resolve_suggestion(db(ctx), reference(ctx), viewer(ctx)?, &id, accepted, note).await?;
        Ok(Suggestion(resolved))
    }
}
