//! Corrections suggested from the field, waiting for a service's editors.

use crate::{foreign_key, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, SetNull};
        manager
            .create_table(
                Table::create()
                    .table("suggestion")
                    .col(string("id").primary_key())
                    .col(string("service_id"))
                    .col(text("message"))
                    .col(string("status"))
                    .col(string_null("submitted_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(string_null("resolved_by"))
                    .col(text_null("resolution_note"))
                    // A suggestion is about its service and goes with it.
                    .foreign_key(&mut foreign_key("suggestion", "service_id", "service", "id", Cascade))
                    // A removed account leaves its suggestions and resolutions behind, unsigned.
                    .foreign_key(&mut foreign_key("suggestion", "submitted_by", "account", "id", SetNull))
                    .foreign_key(&mut foreign_key("suggestion", "resolved_by", "account", "id", SetNull))
                    .to_owned(),
            )
            .await?;
        // Editors ask for the pending suggestions of a service.
        manager
            .create_index(index("suggestion", &["service_id", "status"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("suggestion").to_owned()).await
    }
}
