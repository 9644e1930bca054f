//! Support plans: the plan, its circle, network map (actors, domain notes), action plan
//! (goals, steps, step events) and the log of who read it. Free text is stored as
//! ciphertexts; lists are JSON text, timestamps are set in Rust.

use crate::{foreign_key, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Child tables, dropped before the plan.
const CHILDREN: [&str; 7] = [
    "support_plan_access",
    "support_plan_step_event",
    "support_plan_step",
    "support_plan_goal",
    "support_plan_domain_note",
    "support_plan_actor",
    "support_plan_member",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};
        manager
            .create_table(
                Table::create()
                    .table("support_plan")
                    .col(string("id").primary_key())
                    .col(string("coordinator_organization_id"))
                    .col(string("created_by"))
                    .col(text("label"))
                    .col(string("municipality_code"))
                    .col(string_null("postal_code"))
                    .col(text("languages"))
                    .col(boolean("interpreter_needed"))
                    .col(integer("adults"))
                    .col(text("children_ages"))
                    .col(timestamp_with_time_zone("consent_given_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        let plan = |table: &'static str| foreign_key(table, "plan_id", "support_plan", "id", Cascade);
        manager
            .create_table(
                Table::create()
                    .table("support_plan_member")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(string("organization_id"))
                    .col(boolean("coordinator"))
                    .col(text("domains"))
                    .col(string("status"))
                    .col(string("consent_recorded_by"))
                    .col(timestamp_with_time_zone("consent_recorded_at"))
                    .col(string_null("answered_by"))
                    .col(timestamp_with_time_zone_null("answered_at"))
                    .col(string_null("removed_by"))
                    .col(timestamp_with_time_zone_null("removed_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut plan("support_plan_member"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_actor")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(string("domain"))
                    .col(string_null("service_id"))
                    .col(text_null("informal_role"))
                    .col(text_null("note"))
                    .col(string("organization_id"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut plan("support_plan_actor"))
                    .foreign_key(&mut foreign_key(
                        "support_plan_actor",
                        "service_id",
                        "service",
                        "id",
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_domain_note")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(string("domain"))
                    .col(text_null("goes_well"))
                    .col(text_null("missing"))
                    .col(string("organization_id"))
                    .col(string("updated_by"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut plan("support_plan_domain_note"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("support_plan_domain_note", &["plan_id", "domain"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_goal")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(string("domain"))
                    .col(text("text"))
                    .col(date_null("due_by"))
                    .col(string("organization_id"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut plan("support_plan_goal"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_step")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(string("goal_id"))
                    .col(text("text"))
                    .col(string("owner"))
                    .col(string_null("owner_organization_id"))
                    .col(date_null("due_by"))
                    .col(string("status"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut plan("support_plan_step"))
                    .foreign_key(&mut foreign_key(
                        "support_plan_step",
                        "goal_id",
                        "support_plan_goal",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_step_event")
                    .col(string("id").primary_key())
                    .col(string("step_id"))
                    .col(string("status"))
                    .col(text_null("note"))
                    .col(string("account_id"))
                    .col(string("organization_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut foreign_key(
                        "support_plan_step_event",
                        "step_id",
                        "support_plan_step",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_access")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(string("organization_id"))
                    .col(string("account_id"))
                    .col(timestamp_with_time_zone("at"))
                    .foreign_key(&mut plan("support_plan_access"))
                    .to_owned(),
            )
            .await?;
        for (table, columns) in [
            ("support_plan_member", &["organization_id", "status"][..]),
            ("support_plan_member", &["plan_id", "status"]),
            ("support_plan_actor", &["plan_id", "domain"]),
            ("support_plan_goal", &["plan_id", "domain"]),
            ("support_plan_step", &["goal_id", "created_at"]),
            ("support_plan_step_event", &["step_id", "created_at"]),
            ("support_plan_access", &["plan_id", "at"]),
        ] {
            manager.create_index(index(table, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in CHILDREN {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table("support_plan").to_owned()).await
    }
}
