//! The one error table. Every refusal the API gives has a [`Reason`]: a stable,
//! machine-readable `extensions.reason` a front end can react to without parsing messages.
//! The table below gives each reason its GraphQL `extensions.code` (one of seven) and the
//! HTTP status of a refusal before execution (GraphQL errors during execution ride in a 200,
//! as GraphQL over HTTP has them). Each capability's errors map to a reason in the `From`
//! impls further down, as meilisearch keeps its error codes. Internal details are logged,
//! never sent.

use async_graphql::{Error, ErrorExtensions, Value};
use axum::http::StatusCode;

use crate::auth::AuthError;
use crate::hsds::HsdsError;
use crate::listings::ListingsError;
use crate::plans::PlansError;
use crate::reference::ReferenceError;
use crate::referrals::ReferralsError;
use crate::relay::RelayError;
use crate::search::SearchError;

/// The error codes front ends can rely on: what kind of refusal it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

macro_rules! reasons {
    ($($(#[doc = $doc:literal])* $variant:ident = $text:literal, $code:ident, $status:ident;)*) => {
        /// Why a request was refused: `extensions.reason`. README lists them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Reason {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Reason {
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Reason::$variant => $text,)* }
            }

            pub fn code(self) -> ErrorCode {
                match self { $(Reason::$variant => ErrorCode::$code,)* }
            }

            /// The HTTP status of this refusal when it is given before a request runs.
            pub fn status(self) -> StatusCode {
                match self { $(Reason::$variant => StatusCode::$status,)* }
            }
        }
    };
}

reasons! {
    // The request itself, refused before it runs.
    /// The body is larger than `max_body_bytes` (a WebSocket message too).
    BodyTooLarge = "BODY_TOO_LARGE", BadUserInput, PAYLOAD_TOO_LARGE;
    /// `POST /graphql` takes `application/json` only.
    UnsupportedContentType = "UNSUPPORTED_CONTENT_TYPE", BadUserInput, UNSUPPORTED_MEDIA_TYPE;
    /// The body is not JSON, or not a GraphQL request in JSON.
    MalformedRequest = "MALFORMED_REQUEST", BadUserInput, BAD_REQUEST;
    /// A batch of none, or of more than `max_batch` operations.
    BatchSize = "BATCH_SIZE", BadUserInput, BAD_REQUEST;
    /// Text with a NUL character, which no user means and PostgreSQL cannot store.
    NulCharacter = "NUL_CHARACTER", BadUserInput, BAD_REQUEST;
    /// The query does not parse or does not fit the schema.
    InvalidQuery = "INVALID_QUERY", BadUserInput, BAD_REQUEST;
    /// More searches in one request than `MAX_SEARCHES_PER_REQUEST`.
    TooManySearches = "TOO_MANY_SEARCHES", BadUserInput, BAD_REQUEST;
    /// The request would cost more than the complexity limit (large nested pages).
    TooComplex = "TOO_COMPLEX", BadUserInput, BAD_REQUEST;
    /// Nested deeper than the depth limit.
    TooDeep = "TOO_DEEP", BadUserInput, BAD_REQUEST;
    /// More requests than `requests_per_minute` from one client.
    TooManyRequests = "TOO_MANY_REQUESTS", RateLimited, TOO_MANY_REQUESTS;
    /// More open subscriptions than a client or the server may hold.
    TooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS", RateLimited, TOO_MANY_REQUESTS;
    /// The request ran longer than `request_timeout_seconds`.
    Timeout = "TIMEOUT", Internal, SERVICE_UNAVAILABLE;
    // Who is asking.
    /// An `Authorization` header (or `connection_init` payload) that is not `Bearer <token>`.
    MalformedCredentials = "MALFORMED_CREDENTIALS", Unauthenticated, UNAUTHORIZED;
    /// A token that is unknown, revoked or expired.
    BadToken = "BAD_TOKEN", Unauthenticated, UNAUTHORIZED;
    /// Login with a wrong email or password.
    WrongCredentials = "WRONG_CREDENTIALS", Unauthenticated, UNAUTHORIZED;
    /// The field needs a logged-in account.
    LoginRequired = "LOGIN_REQUIRED", Unauthenticated, UNAUTHORIZED;
    /// Five login attempts a minute per email.
    TooManyLoginAttempts = "TOO_MANY_LOGIN_ATTEMPTS", RateLimited, TOO_MANY_REQUESTS;
    /// Ten family access-code attempts a minute per client address.
    TooManyCodeAttempts = "TOO_MANY_CODE_ATTEMPTS", RateLimited, TOO_MANY_REQUESTS;
    /// Five suggestions per ten minutes per client address.
    TooManySuggestions = "TOO_MANY_SUGGESTIONS", RateLimited, TOO_MANY_REQUESTS;
    /// The viewer's role does not allow it.
    NotAllowed = "NOT_ALLOWED", Forbidden, FORBIDDEN;
    // What was asked for.
    /// No such record, or none the viewer may read.
    NotFound = "NOT_FOUND", NotFound, NOT_FOUND;
    /// A global id this API did not give out, or of another kind.
    BadId = "BAD_ID", BadUserInput, BAD_REQUEST;
    /// An `after` cursor this API did not give out.
    BadCursor = "BAD_CURSOR", BadUserInput, BAD_REQUEST;
    /// `first` above the page limit.
    PageTooLarge = "PAGE_TOO_LARGE", BadUserInput, BAD_REQUEST;
    /// A life-domain or need code that does not exist.
    UnknownDomain = "UNKNOWN_DOMAIN", BadUserInput, BAD_REQUEST;
    /// A language code that is not ISO 639 or BCP-47.
    UnknownLanguage = "UNKNOWN_LANGUAGE", BadUserInput, BAD_REQUEST;
    /// A municipality code that is not a REFNIS code on the map.
    UnknownMunicipality = "UNKNOWN_MUNICIPALITY", BadUserInput, BAD_REQUEST;
    /// A postal code that is not Belgian.
    UnknownPostalCode = "UNKNOWN_POSTAL_CODE", BadUserInput, BAD_REQUEST;
    /// `near` given two ways, or none.
    AmbiguousPlace = "AMBIGUOUS_PLACE", BadUserInput, BAD_REQUEST;
    /// Latitude or longitude out of range.
    BadCoordinates = "BAD_COORDINATES", BadUserInput, BAD_REQUEST;
    /// Coordinates outside the map's municipalities.
    OutsideMap = "OUTSIDE_MAP", BadUserInput, BAD_REQUEST;
    /// `radiusKm` not above 0 or above the maximum.
    RadiusOutOfRange = "RADIUS_OUT_OF_RANGE", BadUserInput, BAD_REQUEST;
    /// `radiusKm` without `near`.
    RadiusWithoutPlace = "RADIUS_WITHOUT_PLACE", BadUserInput, BAD_REQUEST;
    /// An age outside 0–130.
    AgeOutOfRange = "AGE_OUT_OF_RANGE", BadUserInput, BAD_REQUEST;
    /// Search text above its length limit.
    TextTooLong = "TEXT_TOO_LONG", BadUserInput, BAD_REQUEST;
    /// A value that breaks a rule of the map; `extensions.field` names it.
    InvalidValue = "INVALID_VALUE", BadUserInput, BAD_REQUEST;
    /// An account that cannot be created as given (email taken, weak password, role data).
    InvalidAccount = "INVALID_ACCOUNT", BadUserInput, BAD_REQUEST;
    // Concurrent work.
    /// The `version` sent is no longer current; `extensions.currentVersion` is.
    StaleVersion = "STALE_VERSION", Conflict, CONFLICT;
    /// A suggestion that was already accepted or rejected.
    AlreadyResolved = "ALREADY_RESOLVED", Conflict, CONFLICT;
    /// A closed support plan takes no changes.
    PlanClosed = "PLAN_CLOSED", Conflict, CONFLICT;
    /// A referral changed state while it was being answered.
    ConcurrentChange = "CONCURRENT_CHANGE", Conflict, CONFLICT;
    /// The server could not answer; details are in its log.
    Internal = "INTERNAL", Internal, INTERNAL_SERVER_ERROR;
}

/// Quoted input in a message is cut to this many characters: say what was wrong, not echo it.
const MAX_QUOTED_CHARS: usize = 40;

/// An error on its way to the client. It has no `Display`, so a capability error can only
/// reach a resolver's result through the `From` impls below, never through async-graphql's
/// catch-all conversion that would drop the code.
#[derive(Clone, Debug)]
pub struct ApiError {
    reason: Reason,
    message: String,
    extensions: Vec<(&'static str, Value)>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// `Internal` errors are logged and replaced by a generic message.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = if reason == Reason::Internal {
            tracing::error!(error = %message, "internal error");
            "Internal error: the server could not answer this request. It has been logged.".to_owned()
        } else {
            shorten_quotes(&message)
        };
        ApiError {
            reason,
            message,
            extensions: Vec::new(),
        }
    }

    /// Adds `extensions.<key>`.
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.extensions.push((key, value.into()));
        self
    }

    /// `RATE_LIMITED`, with when to try again.
    pub fn rate_limited(reason: Reason, message: impl Into<String>, retry_after_seconds: u64) -> Self {
        ApiError::new(reason, message).with("retryAfterSeconds", retry_after_seconds)
    }

    /// A rule of the map broken by the value of `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(Reason::InvalidValue, message).with("field", field)
    }

    pub fn reason(&self) -> Reason {
        self.reason
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// `extensions.retryAfterSeconds`, if it has one.
    pub fn retry_after(&self) -> Option<u64> {
        self.extensions.iter().find_map(|(key, value)| match (key, value) {
            (&"retryAfterSeconds", Value::Number(n)) => n.as_u64(),
            _ => None,
        })
    }

    pub fn into_server_error(self) -> async_graphql::ServerError {
        Error::from(self).into_server_error(Default::default())
    }
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        let ApiError {
            reason,
            message,
            extensions,
        } = error;
        Error::new(message).extend_with(move |_, e| {
            e.set("code", reason.code().as_str());
            e.set("reason", reason.as_str());
            for (key, value) in &extensions {
                e.set(*key, value.clone());
            }
        })
    }
}

/// Cuts every `quoted` part of a message longer than `MAX_QUOTED_CHARS` to a prefix and `…`,
/// so that an error never echoes a whole input (a 100,000-character id) back.
fn shorten_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(512));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && part.chars().count() > MAX_QUOTED_CHARS {
            out.extend(part.chars().take(MAX_QUOTED_CHARS));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

impl From<RelayError> for ApiError {
    fn from(error: RelayError) -> Self {
        let reason = match error {
            RelayError::PageTooLarge(_) => Reason::PageTooLarge,
            RelayError::BadCursor => Reason::BadCursor,
            RelayError::BadId(_) => Reason::BadId,
        };
        ApiError::new(reason, error.to_string())
    }
}

impl From<ReferenceError> for ApiError {
    fn from(error: ReferenceError) -> Self {
        let reason = match &error {
            ReferenceError::UnknownDomain(_) => Reason::UnknownDomain,
            ReferenceError::UnknownLanguage(_) => Reason::UnknownLanguage,
            ReferenceError::UnknownMunicipality(_) => Reason::UnknownMunicipality,
            ReferenceError::Database(_) => Reason::Internal,
        };
        ApiError::new(reason, error.to_string())
    }
}

impl From<ListingsError> for ApiError {
    fn from(error: ListingsError) -> Self {
        let reason = match error {
            ListingsError::Reference(e) => return e.into(),
            ListingsError::Page(e) => return e.into(),
            ListingsError::Auth(e) => return e.into(),
            ListingsError::NotFound(..) => Reason::NotFound,
            ListingsError::Forbidden(_) => Reason::NotAllowed,
            ListingsError::Conflict(current) => {
                return ApiError::new(Reason::StaleVersion, error.to_string()).with("currentVersion", current);
            }
            ListingsError::Invalid(field, _) => return ApiError::invalid(field.graphql(), error.to_string()),
            ListingsError::TooManySuggestions(seconds) => {
                return ApiError::rate_limited(Reason::TooManySuggestions, error.to_string(), seconds);
            }
            ListingsError::AlreadyResolved(_) => Reason::AlreadyResolved,
            ListingsError::Database(_) => Reason::Internal,
        };
        ApiError::new(reason, error.to_string())
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        let reason = match error {
            SearchError::Reference(e) => return e.into(),
            SearchError::Page(e) => return e.into(),
            SearchError::UnknownPostalCode(_) => Reason::UnknownPostalCode,
            SearchError::AmbiguousPlace => Reason::AmbiguousPlace,
            SearchError::BadCoordinates => Reason::BadCoordinates,
            SearchError::OutsideMap => Reason::OutsideMap,
            SearchError::BadRadius(_) => Reason::RadiusOutOfRange,
            SearchError::RadiusWithoutPlace => Reason::RadiusWithoutPlace,
            SearchError::BadAge(_) => Reason::AgeOutOfRange,
            SearchError::TextTooLong(_) => Reason::TextTooLong,
            SearchError::Locked(_) | SearchError::Io(..) | SearchError::Index(_) | SearchError::Database(_) => {
                Reason::Internal
            }
        };
        ApiError::new(reason, error.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let reason = match error {
            AuthError::Reference(e) => return e.into(),
            AuthError::TooManyAttempts(seconds) => {
                return ApiError::rate_limited(Reason::TooManyLoginAttempts, error.to_string(), seconds);
            }
            AuthError::WrongCredentials => Reason::WrongCredentials,
            AuthError::BadToken => Reason::BadToken,
            AuthError::NotLoggedIn => Reason::LoginRequired,
            AuthError::BadEmail(_)
            | AuthError::WeakPassword
            | AuthError::EmailTaken
            | AuthError::MissingMunicipality
            | AuthError::MissingOrganization
            | AuthError::UnexpectedOrganization
            | AuthError::UnexpectedMunicipality
            | AuthError::UnknownOrganization(_) => Reason::InvalidAccount,
            AuthError::Hashing(_) | AuthError::Database(_) => Reason::Internal,
        };
        ApiError::new(reason, error.to_string())
    }
}

impl From<ReferralsError> for ApiError {
    fn from(error: ReferralsError) -> Self {
        let reason = match error {
            ReferralsError::Auth(e) => return e.into(),
            ReferralsError::Reference(e) => return e.into(),
            ReferralsError::Page(e) => return e.into(),
            ReferralsError::NotFound(_) | ReferralsError::UnknownService(_) => Reason::NotFound,
            ReferralsError::Forbidden(_) => Reason::NotAllowed,
            ReferralsError::Invalid(field, _) => return ApiError::invalid(field, error.to_string()),
            ReferralsError::Conflict => Reason::ConcurrentChange,
            ReferralsError::Plans(e) => return (*e).into(),
            ReferralsError::Crypto(_) | ReferralsError::Database(_) => Reason::Internal,
        };
        ApiError::new(reason, error.to_string())
    }
}

impl From<PlansError> for ApiError {
    fn from(error: PlansError) -> Self {
        let reason = match error {
            PlansError::Auth(e) => return e.into(),
            PlansError::Reference(e) => return e.into(),
            PlansError::Page(e) => return e.into(),
            PlansError::Search(e) => return e.into(),
            PlansError::NotFound(..) | PlansError::UnknownOrganization(_) | PlansError::UnknownFamilyCode => {
                Reason::NotFound
            }
            PlansError::Forbidden(_) => Reason::NotAllowed,
            PlansError::Closed => Reason::PlanClosed,
            PlansError::TooManyAttempts(seconds) => {
                return ApiError::rate_limited(Reason::TooManyCodeAttempts, error.to_string(), seconds);
            }
            PlansError::Invalid(field, _) => return ApiError::invalid(field, error.to_string()),
            PlansError::Crypto(_) | PlansError::Database(_) => Reason::Internal,
        };
        ApiError::new(reason, error.to_string())
    }
}

impl From<HsdsError> for ApiError {
    fn from(error: HsdsError) -> Self {
        let (reason, field) = match error {
            HsdsError::Auth(e) => return e.into(),
            HsdsError::Forbidden => (Reason::NotAllowed, None),
            HsdsError::TooLarge(_) => (Reason::BodyTooLarge, Some("documents")),
            HsdsError::BadParameter(field, _) => (Reason::InvalidValue, Some(field)),
            HsdsError::NotFound(..) => (Reason::NotFound, None),
            HsdsError::TaxonomyMap(_) => (Reason::InvalidValue, Some("taxonomyMap")),
            HsdsError::Unreadable(..) | HsdsError::Database(_) => (Reason::Internal, None),
        };
        let error = ApiError::new(reason, error.to_string());
        match field {
            Some(field) => error.with("field", field),
            None => error,
        }
    }
}

/// The HSDS REST API's statuses, from the same table: `400` for a bad parameter, `404` for
/// an unknown id, `500` (logged, not shown) for the rest, each with `{"error": …}`.
impl axum::response::IntoResponse for HsdsError {
    fn into_response(self) -> axum::response::Response {
        let error = ApiError::from(self);
        crate::hsds::routes::open(
            error.reason.status(),
            "application/json",
            serde_json::json!({ "error": error.message }).to_string(),
        )
    }
}

/// Data a resolver reads: the schema's (database, index, keyring) or what the request
/// pipeline gives every request (viewer, client address, DataLoader). Missing only through a
/// bug, which is then an `INTERNAL` error, not a panic.
pub fn context_data<'a, T: std::any::Any + Send + Sync>(ctx: &async_graphql::Context<'a>) -> ApiResult<&'a T> {
    ctx.data::<T>().map_err(|_| {
        ApiError::new(
            Reason::Internal,
            format!("request data {} missing", std::any::type_name::<T>()),
        )
    })
}

/// A batched load failed; every field waiting on it gets the same internal error.
pub fn loader_error(error: std::sync::Arc<sea_orm::DbErr>) -> ApiError {
    ApiError::new(Reason::Internal, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_distinct_and_in_screaming_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for reason in Reason::ALL {
            let text = reason.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{text} is not SCREAMING_SNAKE_CASE"
            );
        }
    }

    #[test]
    fn quoted_input_is_cut_to_a_prefix() {
        let long = "x".repeat(100_000);
        let message = shorten_quotes(&format!("`{long}` is not a valid id: pass an `id`"));
        assert_eq!(
            message,
            format!("`{}…` is not a valid id: pass an `id`", "x".repeat(40))
        );
    }
}
