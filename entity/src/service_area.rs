//! One piece of where a service accepts people from: the whole country, a region, a
//! province, a municipality, or a radius around one of its locations.

use crate::enums::ServiceAreaKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "service_area")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: String,
    pub kind: ServiceAreaKind,
    pub region_code: Option<String>,
    pub province_code: Option<String>,
    pub municipality_code: Option<String>,
    /// With `Radius`: the centre, one of the service's locations.
    pub location_id: Option<String>,
    pub radius_km: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
