//! A life domain of one family's own, added to its plan when a need falls outside the
//! listed domains ("a driving licence"). Its name is encrypted like the plan's other text;
//! its code (`plan:1`, `plan:2`, …) is what actors, notes, goals and members refer to.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_domain")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub plan_id: String,
    pub code: String,
    pub name: String,
    pub organization_id: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
