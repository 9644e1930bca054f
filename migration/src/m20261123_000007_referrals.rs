//! Referrals and their events. Free text and the family's phone are stored as ciphertexts.

use crate::{foreign_key, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};
        manager
            .create_table(
                Table::create()
                    .table("referral")
                    .col(string("id").primary_key())
                    .col(string("service_id"))
                    .col(string("from_organization_id"))
                    .col(string("to_organization_id"))
                    .col(string("created_by"))
                    .col(string("need_code"))
                    .col(text_null("need_description"))
                    .col(string("municipality_code"))
                    .col(string_null("postal_code"))
                    .col(text("languages"))
                    .col(boolean("interpreter_needed"))
                    .col(integer("adults"))
                    .col(text("children_ages"))
                    .col(string("contact_via"))
                    .col(text_null("contact_phone"))
                    .col(timestamp_with_time_zone("consent_given_at"))
                    .col(boolean("area_override"))
                    .col(string("status"))
                    .col(string_null("decline_reason"))
                    .col(timestamp_with_time_zone("respond_by"))
                    .col(timestamp_with_time_zone_null("first_response_at"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(timestamp_with_time_zone_null("erased_at"))
                    .col(integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut foreign_key("referral", "service_id", "service", "id", Restrict))
                    .to_owned(),
            )
            .await?;
        for columns in [
            &["to_organization_id", "status"][..],
            &["from_organization_id", "status"],
            &["status", "respond_by"],
            &["municipality_code", "created_at"],
            &["closed_at"],
        ] {
            manager.create_index(index("referral", columns)).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("referral_event")
                    .col(string("id").primary_key())
                    .col(string("referral_id"))
                    .col(string_null("status"))
                    .col(string_null("reason"))
                    .col(text_null("note"))
                    .col(string_null("account_id"))
                    .col(string_null("organization_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut foreign_key(
                        "referral_event",
                        "referral_id",
                        "referral",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("referral_event", &["referral_id", "created_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("referral_event").to_owned())
            .await?;
        manager.drop_table(Table::drop().table("referral").to_owned()).await
    }
}
