//! Which municipalities a postal code spans (most one, some two or more).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "postal_code_municipality")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub postal_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub municipality_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
