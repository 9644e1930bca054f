//! A word people type when they mean a life domain, in one language.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "life_domain_synonym")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub domain_code: String,
    /// nl, fr or en.
    #[sea_orm(primary_key, auto_increment = false)]
    pub lang: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub synonym: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
