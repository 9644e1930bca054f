//! A Belgian municipality by REFNIS code, e.g. 41002 Aalst. Brussels municipalities have no
//! province.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "municipality")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_nl: String,
    pub name_fr: String,
    pub province_code: Option<String>,
    pub region_code: String,
    /// Mean of its postal codes' coordinates.
    pub latitude: f64,
    pub longitude: f64,
    /// `search_key::normalize` of the nl and fr names.
    pub name_search: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
