//! Someone on a plan's network map, in one life domain: a service on the map (linked, so its
//! listing stays current) or an informal role (encrypted free text, never a name).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_actor")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    /// Top-level life-domain code.
    pub domain: String,
    pub service_id: Option<String>,
    /// Encrypted role such as "neighbour" or "buddy"; null for a service.
    pub informal_role: Option<String>,
    /// Encrypted short note.
    pub note: Option<String>,
    pub organization_id: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
