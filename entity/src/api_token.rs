//! A bearer token. Only its SHA-256 is stored: a copy of the database gives no access.
use crate::enums::TokenKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: String,
    /// Hex SHA-256 of the token; unique.
    pub token_hash: String,
    pub kind: TokenKind,
    pub created_at: DateTimeUtc,
    /// `None` for API tokens, which last until revoked.
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
