//! The social map: organizations, their services and locations, and what each service
//! covers (domains, languages, target groups, area, translations).

use crate::{foreign_key, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every editable record carries these: optimistic-concurrency version and timestamps
/// (set in Rust, never by SQL defaults, so SQLite and PostgreSQL store the same thing).
fn with_edit_columns(table: &mut TableCreateStatement) -> TableCreateStatement {
    table
        .col(string_null("external_id"))
        .col(integer("version"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};

        manager
            .create_table(with_edit_columns(
                Table::create()
                    .table("organization")
                    .col(string("id").primary_key())
                    .col(string("name"))
                    .col(string("kind"))
                    .col(text_null("description"))
                    .col(string_null("website"))
                    .col(string_null("email"))
                    .col(string_null("phone"))
                    .col(string_null("kbo_number"))
                    .col(string("name_search")),
            ))
            .await?;
        manager.create_index(index("organization", &["external_id"])).await?;

        manager
            .create_table(with_edit_columns(
                Table::create()
                    .table("service")
                    .col(string("id").primary_key())
                    .col(string("organization_id"))
                    .col(string("name"))
                    .col(text("description"))
                    .col(string("status"))
                    .col(string("cost"))
                    .col(string("access"))
                    .col(text_null("access_description"))
                    .col(integer_null("age_min"))
                    .col(integer_null("age_max"))
                    .col(string_null("email"))
                    .col(string_null("phone"))
                    .col(string_null("url"))
                    .col(integer_null("capacity_available"))
                    .col(integer_null("capacity_maximum"))
                    .col(timestamp_with_time_zone_null("capacity_updated_at"))
                    .col(timestamp_with_time_zone_null("last_verified_at"))
                    .col(string_null("verified_by"))
                    .col(string("name_search"))
                    .foreign_key(&mut foreign_key(
                        "service",
                        "organization_id",
                        "organization",
                        "id",
                        Cascade,
                    )),
            ))
            .await?;
        manager.create_index(index("service", &["organization_id"])).await?;
        manager.create_index(index("service", &["external_id"])).await?;

        manager
            .create_table(
                Table::create()
                    .table("service_translation")
                    .col(string("service_id"))
                    .col(string("lang"))
                    .col(string("name"))
                    .col(text("description"))
                    .primary_key(Index::create().col("service_id").col("lang"))
                    .foreign_key(&mut foreign_key(
                        "service_translation",
                        "service_id",
                        "service",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("service_domain")
                    .col(string("service_id"))
                    .col(string("domain_code"))
                    .primary_key(Index::create().col("service_id").col("domain_code"))
                    .foreign_key(&mut foreign_key(
                        "service_domain",
                        "service_id",
                        "service",
                        "id",
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "service_domain",
                        "domain_code",
                        "life_domain",
                        "code",
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("service_domain", &["domain_code"])).await?;
        manager
            .create_table(
                Table::create()
                    .table("service_language")
                    .col(string("service_id"))
                    .col(string("language_code"))
                    .col(string("mode"))
                    .col(string_null("interpreter_kind"))
                    .primary_key(Index::create().col("service_id").col("language_code"))
                    .foreign_key(&mut foreign_key(
                        "service_language",
                        "service_id",
                        "service",
                        "id",
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "service_language",
                        "language_code",
                        "language",
                        "code",
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("service_language", &["language_code"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("service_target_group")
                    .col(string("service_id"))
                    .col(string("target_group"))
                    .primary_key(Index::create().col("service_id").col("target_group"))
                    .foreign_key(&mut foreign_key(
                        "service_target_group",
                        "service_id",
                        "service",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(with_edit_columns(
                Table::create()
                    .table("location")
                    .col(string("id").primary_key())
                    .col(string("organization_id"))
                    .col(string("name"))
                    .col(string("address"))
                    .col(string("postal_code"))
                    .col(string("municipality_code"))
                    .col(double_null("latitude"))
                    .col(double_null("longitude"))
                    .col(text_null("accessibility"))
                    .col(text_null("opening_hours"))
                    .col(boolean("confidential"))
                    .foreign_key(&mut foreign_key(
                        "location",
                        "organization_id",
                        "organization",
                        "id",
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "location",
                        "municipality_code",
                        "municipality",
                        "code",
                        Restrict,
                    )),
            ))
            .await?;
        manager.create_index(index("location", &["organization_id"])).await?;
        manager.create_index(index("location", &["municipality_code"])).await?;
        manager
            .create_table(
                Table::create()
                    .table("service_location")
                    .col(string("service_id"))
                    .col(string("location_id"))
                    .primary_key(Index::create().col("service_id").col("location_id"))
                    .foreign_key(&mut foreign_key(
                        "service_location",
                        "service_id",
                        "service",
                        "id",
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "service_location",
                        "location_id",
                        "location",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("service_location", &["location_id"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("service_area")
                    .col(string("id").primary_key())
                    .col(string("service_id"))
                    .col(string("kind"))
                    .col(string_null("region_code"))
                    .col(string_null("province_code"))
                    .col(string_null("municipality_code"))
                    .col(string_null("location_id"))
                    .col(double_null("radius_km"))
                    .foreign_key(&mut foreign_key("service_area", "service_id", "service", "id", Cascade))
                    .foreign_key(&mut foreign_key(
                        "service_area",
                        "region_code",
                        "region",
                        "code",
                        Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "service_area",
                        "province_code",
                        "province",
                        "code",
                        Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "service_area",
                        "municipality_code",
                        "municipality",
                        "code",
                        Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "service_area",
                        "location_id",
                        "location",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("service_area", &["service_id"])).await?;
        manager
            .create_index(index("service_area", &["municipality_code"]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "service_area",
            "service_location",
            "location",
            "service_target_group",
            "service_language",
            "service_domain",
            "service_translation",
            "service",
            "organization",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
