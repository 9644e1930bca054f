//! Accounts, the municipalities of municipality editors, and bearer tokens.

use crate::foreign_key;
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
                    .table("account")
                    .col(string("id").primary_key())
                    .col(string("email").unique_key())
                    .col(string("password_hash"))
                    .col(string("role"))
                    .col(string_null("organization_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut foreign_key(
                        "account",
                        "organization_id",
                        "organization",
                        "id",
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("account_municipality")
                    .col(string("account_id"))
                    .col(string("municipality_code"))
                    .primary_key(Index::create().col("account_id").col("municipality_code"))
                    .foreign_key(&mut foreign_key(
                        "account_municipality",
                        "account_id",
                        "account",
                        "id",
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "account_municipality",
                        "municipality_code",
                        "municipality",
                        "code",
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("api_token")
                    .col(string("id").primary_key())
                    .col(string("account_id"))
                    .col(string("token_hash").unique_key())
                    .col(string("kind"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut foreign_key("api_token", "account_id", "account", "id", Cascade))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["api_token", "account_municipality", "account"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
