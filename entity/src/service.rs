//! What an organization offers (HSDS `service`).

use crate::enums::{Access, Cost, ServiceStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "service")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    /// Name and description in Dutch; other languages live in `service_translation`.
    pub name: String,
    pub description: String,
    pub status: ServiceStatus,
    pub cost: Cost,
    pub access: Access,
    pub access_description: Option<String>,
    pub age_min: Option<i32>,
    pub age_max: Option<i32>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub url: Option<String>,
    pub capacity_available: Option<i32>,
    pub capacity_maximum: Option<i32>,
    pub capacity_updated_at: Option<DateTimeUtc>,
    /// When someone last confirmed the listing is true (distinct from `updated_at`).
    pub last_verified_at: Option<DateTimeUtc>,
    pub verified_by: Option<String>,
    /// `search_key::normalize(name)`.
    pub name_search: String,
    pub external_id: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
