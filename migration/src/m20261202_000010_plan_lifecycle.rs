//! What a support plan goes through after it starts: domains of the family's own, network
//! meetings and their minutes
//! (sealed, per domain), goals ticked off or changed (as events), a transfer to another
//! place's organization, the family's own access code, closure and erasure; and referrals
//! that carry a plan step, or forward a declined one.

use crate::{foreign_key, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Columns added to `support_plan`, one statement each (SQLite alters one column at a time).
const PLAN_COLUMNS: [&str; 5] = [
    "closed_at",
    "close_reason",
    "erased_at",
    "family_code_hash",
    "family_code_issued_at",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;
        let plan_columns = [
            timestamp_with_time_zone_null("closed_at"),
            string_null("close_reason"),
            timestamp_with_time_zone_null("erased_at"),
            string_null("family_code_hash"),
            timestamp_with_time_zone_null("family_code_issued_at"),
        ];
        for column in plan_columns {
            manager
                .alter_table(Table::alter().table("support_plan").add_column(column).to_owned())
                .await?;
        }
        manager
            .create_index(index("support_plan", &["family_code_hash"]))
            .await?;
        manager
            .create_index(index("support_plan", &["municipality_code", "closed_at"]))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("support_plan_goal")
                    .add_column(string("status").default("OPEN"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("support_plan_step")
                    .add_column(string_null("meeting_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_goal_event")
                    .col(string("id").primary_key())
                    .col(string("goal_id"))
                    .col(string("status"))
                    .col(text_null("text"))
                    .col(date_null("due_by"))
                    .col(text_null("note"))
                    .col(string("account_id"))
                    .col(string("organization_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut foreign_key(
                        "support_plan_goal_event",
                        "goal_id",
                        "support_plan_goal",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        let plan = |table: &'static str| foreign_key(table, "plan_id", "support_plan", "id", Cascade);
        manager
            .create_table(
                Table::create()
                    .table("support_plan_meeting")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(date("held_on"))
                    .col(text("attending_organization_ids"))
                    .col(string("organization_id"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut plan("support_plan_meeting"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_minute")
                    .col(string("id").primary_key())
                    .col(string("meeting_id"))
                    .col(string_null("domain"))
                    .col(integer("position"))
                    .col(text("text"))
                    .foreign_key(&mut foreign_key(
                        "support_plan_minute",
                        "meeting_id",
                        "support_plan_meeting",
                        "id",
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_transfer")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(string("from_organization_id"))
                    .col(string("to_organization_id"))
                    .col(string("from_municipality_code"))
                    .col(string("to_municipality_code"))
                    .col(string_null("to_postal_code"))
                    .col(string("status"))
                    .col(string("offered_by"))
                    .col(timestamp_with_time_zone("offered_at"))
                    .col(string_null("answered_by"))
                    .col(timestamp_with_time_zone_null("answered_at"))
                    .foreign_key(&mut plan("support_plan_transfer"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("support_plan_domain")
                    .col(string("id").primary_key())
                    .col(string("plan_id"))
                    .col(string("code"))
                    .col(text("name"))
                    .col(string("organization_id"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut plan("support_plan_domain"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("support_plan_domain", &["plan_id", "code"]).unique().to_owned())
            .await?;
        for column in ["plan_step_id", "forwarded_from_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("referral")
                        .add_column(string_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for (table, columns) in [
            ("referral", &["plan_step_id"][..]),
            ("support_plan_goal_event", &["goal_id", "created_at"]),
            ("support_plan_meeting", &["plan_id", "held_on"]),
            ("support_plan_minute", &["meeting_id", "position"]),
            ("support_plan_transfer", &["to_organization_id", "status"]),
            ("support_plan_transfer", &["plan_id", "status"]),
        ] {
            manager.create_index(index(table, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_referral_plan_step_id")
                    .table("referral")
                    .to_owned(),
            )
            .await?;
        for column in ["plan_step_id", "forwarded_from_id"] {
            manager
                .alter_table(Table::alter().table("referral").drop_column(column).to_owned())
                .await?;
        }
        for table in [
            "support_plan_domain",
            "support_plan_transfer",
            "support_plan_minute",
            "support_plan_meeting",
            "support_plan_goal_event",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for (table, column) in [("support_plan_step", "meeting_id"), ("support_plan_goal", "status")] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        for name in [
            "ix_support_plan_family_code_hash",
            "ix_support_plan_municipality_code_closed_at",
        ] {
            manager
                .drop_index(Index::drop().name(name).table("support_plan").to_owned())
                .await?;
        }
        for column in PLAN_COLUMNS {
            manager
                .alter_table(Table::alter().table("support_plan").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
