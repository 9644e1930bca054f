//! A person who edits the map or refers families. Only the email identifies them; no names.
use crate::enums::Role;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Lower-cased and trimmed; unique.
    pub email: String,
    /// Argon2id, PHC string format.
    pub password_hash: String,
    pub role: Role,
    /// The organization of an organization editor or referrer.
    pub organization_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
