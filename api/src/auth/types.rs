//! GraphQL over accounts: `me`, `login`, `logout`.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::{LoginLimiter, Viewer};
use crate::error::ApiResult;
use crate::listings::{self, Organization};
use crate::reference::{Municipality, ReferenceData};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Role")]
pub enum Role {
    Admin,
    MunicipalityEditor,
    OrganizationEditor,
    Referrer,
}

/// The logged-in account.
pub struct Me(super::SignedIn);

#[Object]
impl Me {
    async fn id(&self) -> ID {
        ID(self.0.account.id.clone())
    }

    async fn email(&self) -> &str {
        &self.0.account.email
    }

    async fn role(&self) -> Role {
        self.0.account.role.into()
    }

    /// The organization of an organization editor or referrer.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Option<Organization>> {
        let Some(id) = &self.0.account.organization_id else {
            return Ok(None);
        };
        let db = ctx.data_unchecked::<DatabaseConnection>();
        Ok(listings::organization(db, id).await?.map(Organization))
    }

    /// The municipalities of a municipality editor.
    async fn municipalities(&self, ctx: &Context<'_>) -> Vec<Municipality> {
        let reference = ctx.data_unchecked::<Arc<ReferenceData>>();
        self.0
            .municipalities
            .iter()
            .filter_map(|code| Municipality::by_code(reference, code))
            .collect()
    }
}

/// A bearer token for `Authorization: Bearer <token>`.
#[derive(SimpleObject)]
pub struct Session {
    pub token: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The account behind the request's bearer token; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Option<Me>> {
        Ok(match crate::error::context_data::<Viewer>(ctx)? {
            Viewer::Account(signed_in) => Some(Me(signed_in.clone())),
            Viewer::Anonymous => None,
        })
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// A session token that expires after 12 hours. Attempts per email are limited; a wrong
    /// email and a wrong password get the same answer.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> ApiResult<Session> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let limiter = ctx.data_unchecked::<Arc<LoginLimiter>>();
        let (token, expires_at) = super::login(db, limiter, &email, &password).await?;
        Ok(Session { token, expires_at })
    }

    /// Revokes the token this request carries.
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        super::logout(db, crate::error::context_data::<Viewer>(ctx)?).await?;
        Ok(true)
    }
}
