//! Reference tables: where people live (regions, provinces, municipalities, postal codes),
//! what they need (life domains) and what they speak (languages).

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
                    .table("region")
                    .col(string("code").primary_key())
                    .col(string("name_nl"))
                    .col(string("name_fr"))
                    .col(string("name_de"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("province")
                    .col(string("code").primary_key())
                    .col(string("region_code"))
                    .col(string("name_nl"))
                    .col(string("name_fr"))
                    .col(string("name_de"))
                    .foreign_key(&mut foreign_key("province", "region_code", "region", "code", Restrict))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("municipality")
                    .col(string("code").primary_key())
                    .col(string("name_nl"))
                    .col(string("name_fr"))
                    .col(string_null("province_code"))
                    .col(string("region_code"))
                    .col(double("latitude"))
                    .col(double("longitude"))
                    .col(string("name_search"))
                    .foreign_key(&mut foreign_key(
                        "municipality",
                        "province_code",
                        "province",
                        "code",
                        Restrict,
                    ))
                    .foreign_key(&mut foreign_key(
                        "municipality",
                        "region_code",
                        "region",
                        "code",
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("municipality", &["province_code"])).await?;
        manager
            .create_table(
                Table::create()
                    .table("postal_code")
                    .col(string("code").primary_key())
                    .col(string_null("locality"))
                    .col(double_null("latitude"))
                    .col(double_null("longitude"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("postal_code_municipality")
                    .col(string("postal_code"))
                    .col(string("municipality_code"))
                    .primary_key(Index::create().col("postal_code").col("municipality_code"))
                    .foreign_key(&mut foreign_key(
                        "postal_code_municipality",
                        "postal_code",
                        "postal_code",
                        "code",
                        Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "postal_code_municipality",
                        "municipality_code",
                        "municipality",
                        "code",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("postal_code_municipality", &["municipality_code"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("life_domain")
                    .col(string("code").primary_key())
                    .col(string_null("parent_code"))
                    .col(integer("position"))
                    .col(string("label_nl"))
                    .col(string("label_fr"))
                    .col(string("label_en"))
                    .foreign_key(&mut foreign_key(
                        "life_domain",
                        "parent_code",
                        "life_domain",
                        "code",
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("life_domain_synonym")
                    .col(string("domain_code"))
                    .col(string("lang"))
                    .col(string("synonym"))
                    .primary_key(Index::create().col("domain_code").col("lang").col("synonym"))
                    .foreign_key(&mut foreign_key(
                        "life_domain_synonym",
                        "domain_code",
                        "life_domain",
                        "code",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("language")
                    .col(string("code").primary_key())
                    .col(string_null("iso639_1"))
                    .col(string("name_en"))
                    .col(string_null("name_native"))
                    .col(string("scope"))
                    .col(string_null("macrolanguage_code"))
                    .foreign_key(&mut foreign_key(
                        "language",
                        "macrolanguage_code",
                        "language",
                        "code",
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "language",
            "life_domain_synonym",
            "life_domain",
            "postal_code_municipality",
            "postal_code",
            "municipality",
            "province",
            "region",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
