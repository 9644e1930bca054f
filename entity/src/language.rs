//! A language by ISO 639-3 code, with its macrolanguage (Dari `prs` → Persian `fas`).

use crate::enums::LanguageScope;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "language")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub iso639_1: Option<String>,
    pub name_en: String,
    pub name_native: Option<String>,
    pub scope: LanguageScope,
    pub macrolanguage_code: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
