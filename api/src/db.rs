//! Opening the database and bringing it to the current schema and seed.

use std::time::Duration;

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Config;

/// Connects to the configured database, creating the data directory first; SQLite gets WAL
/// so readers never wait for the writer.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    // The data directory holds the search index whatever the database, and the SQLite file
    // unless another is named.
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    connect_url(&config.database_url()).await
}

/// Page cache per SQLite connection, in KiB.
const SQLITE_CACHE_KIB: u32 = 512;

pub async fn connect_url(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // Each SQLite connection keeps its own page cache, 2 MB by default: 16 of them grew
        // the server's heap by 30 MB as the soak's data grew. The kernel caches the file
        // anyway, so a small cache per connection costs little (README → Soak).
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
                .statement_cache_capacity(32)
        });
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

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), waiting for it as long as the busy timeout allows: a transaction that
/// read first and then wanted to write could find another writer committed in between and
/// fail with "database is locked", which no waiting mends. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
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

/// A database of its own on a PostgreSQL server, for a bench, a soak or a test run, dropped
/// at its end with `drop_database`.
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

/// Creates an empty database named `<prefix>_<uuid>` with the user of `admin_url`.
pub async fn create_database(admin_url: &str, prefix: &str) -> anyhow::Result<ScratchDatabase> {
    anyhow::ensure!(
        admin_url.starts_with("postgres://") || admin_url.starts_with("postgresql://"),
        "give the URL of a PostgreSQL user that may create databases, such as \
         postgres://postgres@127.0.0.1:5432/postgres"
    );
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url)
        .await
        .with_context(|| format!("cannot reach PostgreSQL at {}", redact(admin_url)))?;
    let created = admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .context("the PostgreSQL user must be allowed to create databases");
    admin.close().await?;
    created?;
    Ok(ScratchDatabase {
        url: with_database_name(admin_url, &name),
        admin_url: admin_url.to_owned(),
        name,
    })
}

/// Drops a scratch database, closing whatever connections are still open to it.
pub async fn drop_database(database: &ScratchDatabase) -> anyhow::Result<()> {
    let admin = Database::connect(&database.admin_url).await?;
    let dropped = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", database.name))
        .await
        .with_context(|| format!("could not drop the database {}", database.name));
    admin.close().await?;
    dropped.map(|_| ())
}

/// `postgres://user@host:5432/test?x=y` with the database `name` instead of `test`.
fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
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
    fn replaces_only_the_database_name() {
        use super::with_database_name;
        assert_eq!(
            with_database_name("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database_name("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database_name("postgres://u@h", "x"), "postgres://u@h/x");
    }

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
