//! A correction someone in the field suggests for a service ("the phone number no longer
//! works"), which the service's editors accept or reject.
use crate::enums::SuggestionStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "suggestion")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: String,
    /// What the suggester wrote, trimmed. Free text: never logged.
    pub message: String,
    pub status: SuggestionStatus,
    /// The account that suggested it; null for an anonymous suggestion.
    pub submitted_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    /// The account that accepted or rejected it.
    pub resolved_by: Option<String>,
    /// Why it was accepted or rejected, as the editor wrote it.
    pub resolution_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
