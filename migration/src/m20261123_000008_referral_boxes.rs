//! Inboxes and outboxes list an organization's referrals newest first. Without these indexes
//! every page sorted all of the organization's referrals, and the soak saw the inbox slow down
//! as they piled up.

use crate::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BOXES: [&[&str]; 2] = [
    &["to_organization_id", "created_at"],
    &["from_organization_id", "created_at"],
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for columns in BOXES {
            manager.create_index(index("referral", columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for columns in BOXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("ix_referral_{}", columns.join("_")))
                        .table("referral")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
