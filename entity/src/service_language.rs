//! A language a service works in, and how (staff or interpreter).

use crate::enums::{InterpreterKind, LanguageMode};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "service_language")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub language_code: String,
    pub mode: LanguageMode,
    /// Set when `mode` is `Interpreter`.
    pub interpreter_kind: Option<InterpreterKind>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
