//! The one place where each capability's errors become GraphQL errors with
//! `extensions.code`, as crates.io and meilisearch map theirs to HTTP statuses. Internal
//! details are logged, never sent: a front end sees a stable code and a message it can show.

use async_graphql::{Error, ErrorExtensions};

use crate::auth::AuthError;
use crate::hsds::HsdsError;
use crate::listings::ListingsError;
use crate::reference::ReferenceError;
use crate::referrals::ReferralsError;
use crate::relay::RelayError;
use crate::search::SearchError;

/// The error codes front ends can rely on.
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

/// An error on its way to the client, with its code already set. It has no `Display`, so a
/// capability error can only reach a resolver's result through the `From` impls below, never
/// through async-graphql's catch-all conversion that would drop the code.
#[derive(Clone)]
pub struct ApiError(Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// `Internal` errors are logged and replaced by a generic message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let message = message.into();
        let shown = match code {
            ErrorCode::Internal => {
                tracing::error!(error = %message, "internal error");
                "Internal error: the server could not answer this request. It has been logged.".to_owned()
            }
            _ => message,
        };
        ApiError(Error::new(shown).extend_with(|_, e| e.set("code", code.as_str())))
    }
}

impl ApiError {
    /// `RATE_LIMITED`, with when to try again.
    pub fn rate_limited(message: impl Into<String>, retry_after_seconds: u64) -> Self {
        let ApiError(inner) = ApiError::new(ErrorCode::RateLimited, message);
        ApiError(inner.extend_with(|_, e| e.set("retryAfterSeconds", retry_after_seconds)))
    }
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        error.0
    }
}

impl From<RelayError> for ApiError {
    fn from(error: RelayError) -> Self {
        ApiError::new(ErrorCode::BadUserInput, error.to_string())
    }
}

impl From<ReferenceError> for ApiError {
    fn from(error: ReferenceError) -> Self {
        let code = match &error {
            ReferenceError::UnknownDomain(_)
            | ReferenceError::UnknownLanguage(_)
            | ReferenceError::UnknownMunicipality(_) => ErrorCode::BadUserInput,
            ReferenceError::Database(_) => ErrorCode::Internal,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<ListingsError> for ApiError {
    fn from(error: ListingsError) -> Self {
        match error {
            ListingsError::Reference(e) => e.into(),
            ListingsError::Page(e) => e.into(),
            ListingsError::Auth(e) => e.into(),
            ListingsError::NotFound(..) => ApiError::new(ErrorCode::NotFound, error.to_string()),
            ListingsError::Forbidden(_) => ApiError::new(ErrorCode::Forbidden, error.to_string()),
            ListingsError::Conflict(current) => {
                let ApiError(inner) = ApiError::new(ErrorCode::Conflict, error.to_string());
                ApiError(inner.extend_with(|_, e| e.set("currentVersion", current)))
            }
            ListingsError::Invalid(field, _) => {
                let ApiError(inner) = ApiError::new(ErrorCode::BadUserInput, error.to_string());
                ApiError(inner.extend_with(|_, e| e.set("field", field)))
            }
            ListingsError::TooManySuggestions(seconds) => ApiError::rate_limited(error.to_string(), seconds),
            ListingsError::AlreadyResolved(_) => ApiError::new(ErrorCode::Conflict, error.to_string()),
            ListingsError::Database(e) => ApiError::new(ErrorCode::Internal, e.to_string()),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        let code = match error {
            SearchError::Reference(e) => return e.into(),
            SearchError::Page(e) => return e.into(),
            SearchError::UnknownPostalCode(_)
            | SearchError::AmbiguousPlace
            | SearchError::BadCoordinates
            | SearchError::OutsideMap
            | SearchError::BadRadius(_)
            | SearchError::RadiusWithoutPlace
            | SearchError::BadAge(_)
            | SearchError::TextTooLong(_) => ErrorCode::BadUserInput,
            SearchError::Locked(_) | SearchError::Io(..) | SearchError::Index(_) | SearchError::Database(_) => {
                ErrorCode::Internal
            }
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let code = match error {
            AuthError::Reference(e) => return e.into(),
            AuthError::TooManyAttempts(seconds) => return ApiError::rate_limited(error.to_string(), seconds),
            AuthError::WrongCredentials | AuthError::BadToken | AuthError::NotLoggedIn => ErrorCode::Unauthenticated,
            AuthError::BadEmail(_)
            | AuthError::WeakPassword
            | AuthError::EmailTaken
            | AuthError::MissingMunicipality
            | AuthError::MissingOrganization
            | AuthError::UnexpectedOrganization
            | AuthError::UnexpectedMunicipality
            | AuthError::UnknownOrganization(_) => ErrorCode::BadUserInput,
            AuthError::Hashing(_) | AuthError::Database(_) => ErrorCode::Internal,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<ReferralsError> for ApiError {
    fn from(error: ReferralsError) -> Self {
        let code = match error {
            ReferralsError::Auth(e) => return e.into(),
            ReferralsError::Reference(e) => return e.into(),
            ReferralsError::Page(e) => return e.into(),
            ReferralsError::NotFound(_) | ReferralsError::UnknownService(_) => ErrorCode::NotFound,
            ReferralsError::Forbidden(_) => ErrorCode::Forbidden,
            ReferralsError::Invalid(field, _) => {
                let ApiError(inner) = ApiError::new(ErrorCode::BadUserInput, error.to_string());
                return ApiError(inner.extend_with(|_, e| e.set("field", field)));
            }
            ReferralsError::Conflict => ErrorCode::Conflict,
            ReferralsError::Crypto(_) | ReferralsError::Database(_) => ErrorCode::Internal,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<HsdsError> for ApiError {
    fn from(error: HsdsError) -> Self {
        let (code, field) = match error {
            HsdsError::Auth(e) => return e.into(),
            HsdsError::Forbidden => (ErrorCode::Forbidden, None),
            HsdsError::TooLarge(_) => (ErrorCode::BadUserInput, Some("documents")),
            HsdsError::BadParameter(field, _) => (ErrorCode::BadUserInput, Some(field)),
            HsdsError::NotFound(..) => (ErrorCode::NotFound, None),
            HsdsError::TaxonomyMap(_) => (ErrorCode::BadUserInput, Some("taxonomyMap")),
            HsdsError::Unreadable(..) | HsdsError::Database(_) => (ErrorCode::Internal, None),
        };
        let ApiError(inner) = ApiError::new(code, error.to_string());
        match field {
            Some(field) => ApiError(inner.extend_with(|_, e| e.set("field", field))),
            None => ApiError(inner),
        }
    }
}

/// The HSDS REST API's statuses: `400` for a bad parameter, `404` for an unknown id, `500`
/// (logged, not shown) for the rest, each with `{"error": …}`.
impl axum::response::IntoResponse for HsdsError {
    fn into_response(self) -> axum::response::Response {
        use axum::http::StatusCode;
        let status = match &self {
            HsdsError::BadParameter(..) | HsdsError::TooLarge(_) | HsdsError::TaxonomyMap(_) => StatusCode::BAD_REQUEST,
            HsdsError::NotFound(..) => StatusCode::NOT_FOUND,
            HsdsError::Auth(_) => StatusCode::UNAUTHORIZED,
            HsdsError::Forbidden => StatusCode::FORBIDDEN,
            HsdsError::Unreadable(..) | HsdsError::Database(_) => {
                tracing::error!(error = %self, "HSDS request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match status {
            StatusCode::INTERNAL_SERVER_ERROR => {
                "internal error: the server could not answer; it has been logged".to_owned()
            }
            _ => self.to_string(),
        };
        crate::hsds::routes::open(
            status,
            "application/json",
            serde_json::json!({ "error": message }).to_string(),
        )
    }
}

/// A batched load failed; every field waiting on it gets the same internal error.
pub fn loader_error(error: std::sync::Arc<sea_orm::DbErr>) -> ApiError {
    ApiError::new(ErrorCode::Internal, error.to_string())
}
