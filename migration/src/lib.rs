//! One migration set for SQLite and PostgreSQL. Migrations are frozen once released: change
//! the schema with a new migration, never by editing an old one.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_reference_data;
mod m20261123_000002_social_map;
mod m20261123_000003_change_log;
mod m20261123_000004_accounts;
mod m20261123_000005_audit;
mod m20261123_000006_suggestions;
mod m20261123_000007_referrals;
mod m20261123_000008_referral_boxes;
mod m20261201_000009_support_plans;
mod m20261202_000010_plan_lifecycle;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_reference_data::Migration),
            Box::new(m20261123_000002_social_map::Migration),
            Box::new(m20261123_000003_change_log::Migration),
            Box::new(m20261123_000004_accounts::Migration),
            Box::new(m20261123_000005_audit::Migration),
            Box::new(m20261123_000006_suggestions::Migration),
            Box::new(m20261123_000007_referrals::Migration),
            Box::new(m20261123_000008_referral_boxes::Migration),
            Box::new(m20261201_000009_support_plans::Migration),
            Box::new(m20261202_000010_plan_lifecycle::Migration),
        ]
    }
}

/// A foreign key from `table.column` to `target.target_column`, named after the pair.
pub(crate) fn foreign_key(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    target_column: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, target_column)
        .on_delete(on_delete)
        .to_owned()
}

/// A plain index on `table(columns…)`, named after them.
pub(crate) fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut statement = Index::create()
        .name(format!("ix_{table}_{}", columns.join("_")))
        .table(table)
        .to_owned();
    for column in columns {
        statement.col(*column);
    }
    statement
}
