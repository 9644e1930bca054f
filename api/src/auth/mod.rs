//! Who is asking: accounts with a role, passwords hashed with Argon2id, bearer tokens stored
//! as SHA-256, and login attempts limited per email. `Viewer` is what every resolver sees.

mod types;

pub use types::{AuthMutation, AuthQuery};

use std::num::NonZeroU32;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use entity::enums::{Role, TokenKind};
use entity::{account, account_municipality, api_token, organization};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::reference::{ReferenceData, ReferenceError};

/// How long a `login` token lasts.
pub const SESSION_HOURS: i64 = 12;
/// Login attempts per email: five at once, then one more every 12 seconds.
const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 5;
const MIN_PASSWORD_CHARS: usize = 12;
const TOKEN_PREFIX: &str = "smt_";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The same message whether the email exists or not.
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("too many login attempts for this email; try again in {0} s")]
    TooManyAttempts(u64),
    #[error("the bearer token is unknown, revoked or expired: log in again")]
    BadToken,
    #[error("this needs a logged-in account: send `Authorization: Bearer <token>`")]
    NotLoggedIn,
    #[error("`{0}` is not a valid email address")]
    BadEmail(String),
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters long")]
    WeakPassword,
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("a municipality editor needs at least one municipality")]
    MissingMunicipality,
    #[error("an organization editor or referrer needs an organization")]
    MissingOrganization,
    #[error("only organization editors and referrers belong to an organization")]
    UnexpectedOrganization,
    #[error("only municipality editors have municipalities")]
    UnexpectedMunicipality,
    #[error("unknown organization `{0}`")]
    UnknownOrganization(String),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Who sent a request.
#[derive(Clone, Debug, Default)]
pub enum Viewer {
    #[default]
    Anonymous,
    Account(SignedIn),
}

#[derive(Clone, Debug)]
pub struct SignedIn {
    pub account: account::Model,
    pub municipalities: Vec<String>,
    /// The token of this request, which `logout` revokes.
    pub token_id: String,
}

/// Whose statistics a viewer reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatisticsScope {
    /// Every municipality: an admin who named none.
    All,
    Only(Vec<String>),
}

impl Viewer {
    /// The municipalities whose statistics the viewer may read, narrowed to `asked`: admins
    /// any, municipality editors their own. `None` for anyone else, or an editor asking for
    /// another municipality.
    pub fn statistics_scope(&self, asked: Option<&str>) -> Result<Option<StatisticsScope>, AuthError> {
        let signed_in = self.signed_in()?;
        Ok(match (signed_in.account.role, asked) {
            (Role::Admin, None) => Some(StatisticsScope::All),
            (Role::Admin, Some(code)) => Some(StatisticsScope::Only(vec![code.to_owned()])),
            (Role::MunicipalityEditor, None) => Some(StatisticsScope::Only(signed_in.municipalities.clone())),
            (Role::MunicipalityEditor, Some(code)) if signed_in.municipalities.iter().any(|m| m == code) => {
                Some(StatisticsScope::Only(vec![code.to_owned()]))
            }
            _ => None,
        })
    }

    pub fn signed_in(&self) -> Result<&SignedIn, AuthError> {
        match self {
            Viewer::Account(signed_in) => Ok(signed_in),
            Viewer::Anonymous => Err(AuthError::NotLoggedIn),
        }
    }
}

/// What `account create` asks for.
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub role: Role,
    pub municipalities: Vec<String>,
    pub organization_id: Option<String>,
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether `text` has the shape of an email address: something, `@`, a dotted domain, no
/// spaces. Whether it receives mail only sending can tell.
pub fn looks_like_email(text: &str) -> bool {
    text.len() <= 254
        && text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !text.chars().any(char::is_whitespace)
}

/// Whether `text` has the shape of a phone number: 6 to 20 digits, with only spaces, `+`,
/// brackets, dashes, dots and slashes between them.
pub fn looks_like_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    text.chars().all(|c| c.is_ascii_digit() || " +()-./".contains(c)) && (6..=20).contains(&digits)
}

fn check_email(email: &str) -> Result<(), AuthError> {
    if looks_like_email(email) {
        Ok(())
    } else {
        Err(AuthError::BadEmail(email.to_owned()))
    }
}

pub async fn create_account(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    new: NewAccount,
) -> Result<account::Model, AuthError> {
    let email = normalize_email(&new.email);
    check_email(&email)?;
    if new.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::WeakPassword);
    }
    match new.role {
        Role::MunicipalityEditor if new.municipalities.is_empty() => return Err(AuthError::MissingMunicipality),
        Role::OrganizationEditor | Role::Referrer if new.organization_id.is_none() => {
            return Err(AuthError::MissingOrganization);
        }
        Role::Admin | Role::MunicipalityEditor if new.organization_id.is_some() => {
            return Err(AuthError::UnexpectedOrganization);
        }
        role if role != Role::MunicipalityEditor && !new.municipalities.is_empty() => {
            return Err(AuthError::UnexpectedMunicipality);
        }
        _ => {}
    }
    for code in &new.municipalities {
        reference.require_municipality(code)?;
    }
    if let Some(id) = &new.organization_id
        && organization::Entity::find_by_id(id.clone()).one(db).await?.is_none()
    {
        return Err(AuthError::UnknownOrganization(id.clone()));
    }
    if account::Entity::find()
        .filter(account::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AuthError::EmailTaken);
    }
    let password_hash = hash_password(&new.password)?;
    let txn = crate::db::begin_write(db).await?;
    let created = account::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        email: Set(email),
        password_hash: Set(password_hash),
        role: Set(new.role),
        organization_id: Set(new.organization_id),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    for code in new.municipalities {
        account_municipality::ActiveModel {
            account_id: Set(created.id.clone()),
            municipality_code: Set(code),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}

fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

/// A new token for `account_id`; only its hash is stored. Session tokens expire.
pub async fn issue_token(
    db: &impl ConnectionTrait,
    account_id: &str,
    kind: TokenKind,
) -> Result<(String, Option<DateTime<Utc>>), AuthError> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let now = Utc::now();
    let expires_at = (kind == TokenKind::Session).then(|| now + Duration::hours(SESSION_HOURS));
    api_token::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        account_id: Set(account_id.to_owned()),
        token_hash: Set(token_hash(&token)),
        kind: Set(kind),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((token, expires_at))
}

pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Limits login attempts per email, whether or not the account exists.
pub struct LoginLimiter(DefaultKeyedRateLimiter<String>);

impl Default for LoginLimiter {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(LOGIN_ATTEMPTS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        LoginLimiter(DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)))
    }
}

/// Checks the password and issues a session token.
pub async fn login(
    db: &DatabaseConnection,
    limiter: &LoginLimiter,
    email: &str,
    password: &str,
) -> Result<(String, Option<DateTime<Utc>>), AuthError> {
    let email = normalize_email(email);
    if let Err(not_until) = limiter.0.check_key(&email) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        return Err(AuthError::TooManyAttempts(wait.as_secs().max(1)));
    }
    let found = account::Entity::find()
        .filter(account::Column::Email.eq(email.as_str()))
        .one(db)
        .await?;
    // Hashing happens for unknown emails too, so timing does not tell them apart.
    let stored = found
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| UNKNOWN_ACCOUNT_HASH.clone());
    let password = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), stored.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false);
    match found {
        Some(account) if verified => issue_token(db, &account.id, TokenKind::Session).await,
        _ => Err(AuthError::WrongCredentials),
    }
}

/// A hash of a random password nobody knows, verified against for unknown emails.
static UNKNOWN_ACCOUNT_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    hash_password(&URL_SAFE_NO_PAD.encode(secret)).unwrap_or_default()
});

/// The viewer behind a bearer token.
pub async fn authenticate(db: &DatabaseConnection, token: &str) -> Result<Viewer, AuthError> {
    let Some(found) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(token.trim())))
        .one(db)
        .await?
    else {
        return Err(AuthError::BadToken);
    };
    let now = Utc::now();
    if found.revoked_at.is_some() || found.expires_at.is_some_and(|at| at <= now) {
        return Err(AuthError::BadToken);
    }
    let account = account::Entity::find_by_id(found.account_id.clone())
        .one(db)
        .await?
        .ok_or(AuthError::BadToken)?;
    let municipalities = account_municipality::Entity::find()
        .filter(account_municipality::Column::AccountId.eq(account.id.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.municipality_code)
        .collect();
    Ok(Viewer::Account(SignedIn {
        account,
        municipalities,
        token_id: found.id,
    }))
}

/// Revokes the token the viewer used.
pub async fn logout(db: &DatabaseConnection, viewer: &Viewer) -> Result<(), AuthError> {
    let signed_in = viewer.signed_in()?;
    if let Some(token) = api_token::Entity::find_by_id(signed_in.token_id.clone())
        .one(db)
        .await?
    {
        let mut token: api_token::ActiveModel = token.into();
        token.revoked_at = Set(Some(Utc::now()));
        token.update(db).await?;
    }
    Ok(())
}
