//! One changed field of one record: who changed it, when, from what to what. The columns
//! follow HSDS's `metadata` object.
use sea_orm::entity::prelude::*;

use crate::enums::{AuditAction, AuditResource};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub resource_type: AuditResource,
    pub resource_id: String,
    pub last_action_type: AuditAction,
    pub last_action_date: DateTimeUtc,
    pub field_name: String,
    /// JSON of the old value; null for a field that was empty.
    pub previous_value: Option<String>,
    pub replacement_value: Option<String>,
    /// The account that made the change.
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
