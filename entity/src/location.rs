//! A place where an organization receives people (HSDS `location` with its `address`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "location")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub name: String,
    /// Street and number.
    pub address: String,
    pub postal_code: String,
    pub municipality_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accessibility: Option<String>,
    pub opening_hours: Option<String>,
    /// A shelter whose address and exact position never leave the server.
    pub confidential: bool,
    pub external_id: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
