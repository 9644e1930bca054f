//! Opening the database and bringing it to the current schema and seed.

use std::time::Duration;

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, TransactionTrait};

use crate::config::Config;

/// Connects to the configured database; for SQLite, creates its folder and turns on WAL so
/// readers never wait for the writer.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url();
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    }
    connect_url(&url).await
}

pub async fn connect_url(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .with_context(|| format!("cannot open database {}", redact(url)))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// Runs pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("migration failed")
}

/// Key of the PostgreSQL advisory lock that serialises `prepare` across replicas.
const PREPARE_LOCK: i64 = 0x736f_6369_616c; // "social"

/// Migrates, then seeds whatever an empty database lacks. On PostgreSQL, replicas starting
/// together take turns (an advisory lock held by an open transaction), so only one migrates
/// and seeds and the others find the work done.
pub async fn prepare(db: &DatabaseConnection, demo_map: bool) -> anyhow::Result<seed::SeedReport> {
    let lock = if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PREPARE_LOCK})"))
            .await?;
        Some(txn)
    } else {
        None
    };
    migrate(db).await?;
    let report = seed::seed_if_empty(db, demo_map).await?;
    if let Some(txn) = lock {
        txn.commit().await?;
    }
    if report.reference_data_loaded {
        tracing::info!("seeded reference data (municipalities, postal codes, life domains, languages)");
    }
    if report.demo_map_loaded {
        tracing::info!("seeded the demonstration social map: {}", seed::DEMO_NOTICE);
    }
    Ok(report)
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            super::redact("postgres://me:secret@host/db"),
            "postgres://me:***@host/db"
        );
        assert_eq!(super::redact("postgres://me@host/db"), "postgres://me@host/db");
        assert_eq!(
            super::redact("sqlite://data/x.sqlite?mode=rwc"),
            "sqlite://data/x.sqlite?mode=rwc"
        );
    }
}
