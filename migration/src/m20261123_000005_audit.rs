//! The audit trail of edits to the map.

use crate::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_entry")
                    .col(string("id").primary_key())
                    .col(string("resource_type"))
                    .col(string("resource_id"))
                    .col(string("last_action_type"))
                    .col(timestamp_with_time_zone("last_action_date"))
                    .col(string("field_name"))
                    .col(text_null("previous_value"))
                    .col(text_null("replacement_value"))
                    .col(string("updated_by"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("audit_entry", &["resource_id", "last_action_date"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("audit_entry").to_owned()).await
    }
}
