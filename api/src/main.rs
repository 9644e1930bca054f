//! The `socialmap` command line: parses flags, loads configuration, runs one command.

use std::path::PathBuf;

use anyhow::Context as _;
use api::config::{Config, Overrides};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "socialmap", version, about = "The local social map as a GraphQL API")]
struct Cli {
    /// Configuration file (default: ./socialmap.toml if it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL (sqlite://… or postgres://…); overrides SOCIALMAP_DATABASE_URL and DATABASE_URL.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Directory of the default SQLite database.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate and seed an empty database, then serve GraphQL on /graphql.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Do not seed the demonstration map into an empty database.
        #[arg(long)]
        no_demo_map: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Migrate, then load reference data (and the demo map) into an empty database.
    Seed {
        /// Load reference data only.
        #[arg(long)]
        no_demo_map: bool,
        /// Instead of the demo map, generate this many synthetic services (for benchmarks).
        #[arg(long, value_name = "SERVICES")]
        synthetic: Option<usize>,
        /// Seed of the synthetic map's random generator: the same seed gives the same map.
        #[arg(long, default_value_t = 1)]
        rng_seed: u64,
    },
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Rebuild this replica's search index from the database (stop its server first).
    Reindex,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Write the whole public map as HSDS 3.0 JSON (and NDJSON under ndjson/) into DIR.
    ExportHsds {
        /// The directory to write into (created if missing).
        dir: PathBuf,
    },
    /// Import Open Referral HSDS 3.0 JSON (an object, an array, a page of a list response or
    /// NDJSON; or a directory of .json/.ndjson files) into the map. Records are found again by
    /// their HSDS id, so running it twice changes nothing. Prints what was created, updated,
    /// left unchanged and rejected (with where and why); a rejected record writes nothing.
    ImportHsds {
        /// A file, or a directory whose .json, .ndjson and .jsonl files are read.
        path: PathBuf,
        /// JSON object from foreign taxonomy term ids or codes to life-domain codes.
        #[arg(long, value_name = "FILE")]
        taxonomy_map: Option<PathBuf>,
    },
    /// Print a new random encryption key for SOCIALMAP_ENCRYPTION_KEY.
    GenerateKey,
    /// Erase the personal fields of referrals closed longer than referral_retention_days
    /// ago, and the content of support plans closed longer than plan_retention_days ago
    /// (serve does this daily).
    Purge,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account. The password comes from SOCIALMAP_PASSWORD, else from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A municipality (REFNIS code) of a municipality editor; repeat for several.
        #[arg(long = "municipality", value_name = "CODE")]
        municipalities: Vec<String>,
        /// The organization (its id) of an organization editor or referrer.
        #[arg(long)]
        organization: Option<String>,
        /// Also print an API token that does not expire (for programs; keep it secret).
        #[arg(long)]
        token: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Admin,
    MunicipalityEditor,
    OrganizationEditor,
    Referrer,
}

impl From<RoleArg> for entity::enums::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => entity::enums::Role::Admin,
            RoleArg::MunicipalityEditor => entity::enums::Role::MunicipalityEditor,
            RoleArg::OrganizationEditor => entity::enums::Role::OrganizationEditor,
            RoleArg::Referrer => entity::enums::Role::Referrer,
        }
    }
}

/// The password for a new account: SOCIALMAP_PASSWORD, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("SOCIALMAP_PASSWORD") {
        return Ok(password);
    }
    eprintln!("password (at least 12 characters), then Enter:");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (listen, no_demo_map) = match &cli.command {
        Command::Serve { listen, no_demo_map } => (*listen, *no_demo_map),
        Command::Seed {
            no_demo_map, synthetic, ..
        } => (None, *no_demo_map || synthetic.is_some()),
        _ => (None, false),
    };
    let overrides = Overrides {
        database_url: cli.database_url.clone(),
        data_dir: cli.data_dir.clone(),
        listen,
        demo_map: no_demo_map.then_some(false),
    };
    let config = Config::load(cli.config.as_deref(), overrides).context("invalid configuration")?;
    let logs =
        tracing_subscriber::fmt().with_env_filter(EnvFilter::try_new(&config.log).context("invalid log filter")?);
    match config.log_format {
        api::config::LogFormat::Text => logs.init(),
        api::config::LogFormat::Json => logs.json().flatten_event(true).with_current_span(true).init(),
    }

    match cli.command {
        Command::Schema => print!("{}", api::graphql::sdl()),
        Command::ExportHsds { dir } => {
            let db = api::db::connect(&config).await?;
            api::db::prepare(&db, config.demo_map).await?;
            let reference = api::reference::ReferenceData::load(&db).await?;
            let report = api::hsds::export::export(&db, &reference, &dir).await?;
            tracing::info!(
                organizations = report.organizations,
                services = report.services,
                taxonomy_terms = report.taxonomy_terms,
                "wrote the map as HSDS 3.0 into {}",
                dir.display()
            );
        }
        Command::GenerateKey => println!("{}", api::referrals::Keyring::generate_key()),
        Command::Purge => {
            let db = api::db::connect(&config).await?;
            api::db::migrate(&db).await?;
            let now = chrono::Utc::now();
            let erased = api::referrals::jobs::erase_closed(&db, now, config.referral_retention_days).await?;
            tracing::info!(
                erased,
                retention_days = config.referral_retention_days,
                "erased the personal fields of closed referrals"
            );
            let erased = api::plans::erase_closed(&db, now, config.plan_retention_days).await?;
            tracing::info!(
                erased,
                retention_days = config.plan_retention_days,
                "erased the content of closed support plans"
            );
        }
        Command::Migrate => {
            let db = api::db::connect(&config).await?;
            api::db::migrate(&db).await?;
            tracing::info!("database is up to date");
        }
        Command::Seed {
            synthetic, rng_seed, ..
        } => {
            let db = api::db::connect(&config).await?;
            let report = api::db::prepare(&db, config.demo_map).await?;
            if let Some(services) = synthetic {
                let started = std::time::Instant::now();
                let map = seed::seed_synthetic_map(&db, services, rng_seed).await?;
                tracing::info!(
                    "seeded a synthetic map of {} services, {} organizations and {} locations in {:.1?}",
                    map.services,
                    map.organizations,
                    map.locations,
                    started.elapsed()
                );
            } else if report == seed::SeedReport::default() {
                tracing::info!("nothing to seed: the database already holds data");
            }
        }
        Command::Account(AccountCommand::Create {
            email,
            role,
            municipalities,
            organization,
            token,
        }) => {
            let db = api::db::connect(&config).await?;
            api::db::prepare(&db, config.demo_map).await?;
            let reference = api::reference::ReferenceData::load(&db).await?;
            // Accept the GraphQL id of an organization as well as its raw id.
            let organization_id =
                organization.map(|id| api::relay::key_of(api::relay::NodeKind::Organization, &id).unwrap_or(id));
            let new = api::auth::NewAccount {
                email,
                password: read_password()?,
                role: role.into(),
                municipalities,
                organization_id,
            };
            let account = api::auth::create_account(&db, &reference, new).await?;
            println!("created account {} ({})", account.email, account.id);
            if token {
                let (token, _) = api::auth::issue_token(&db, &account.id, entity::enums::TokenKind::Api).await?;
                println!("{token}");
            }
        }
        Command::ImportHsds { path, taxonomy_map } => {
            let db = api::db::connect(&config).await?;
            // Reference data places the records; the demo map has no place among real ones.
            api::db::prepare(&db, false).await?;
            let reference = api::reference::ReferenceData::load(&db).await?;
            let taxonomy_map = match taxonomy_map {
                Some(file) => api::hsds::import::TaxonomyMap::read(&reference, &file)?,
                None => api::hsds::import::TaxonomyMap::default(),
            };
            let source = api::hsds::import::ImportSource::Path(path);
            let by = api::hsds::import::COMMAND_LINE;
            let report = api::hsds::import::import(&db, &reference, source, &taxonomy_map, by).await?;
            print!("{report}");
        }
        Command::Reindex => {
            let db = api::db::connect(&config).await?;
            api::db::prepare(&db, config.demo_map).await?;
            let reference = std::sync::Arc::new(api::reference::ReferenceData::load(&db).await?);
            let index_dir = config.index_dir();
            let search = api::search::SearchIndex::open(&index_dir, &db, reference, true).await?;
            tracing::info!("search index in {} rebuilt", search.dir().display());
        }
        Command::Serve { .. } => {
            let started = std::time::Instant::now();
            tracing::info!(database = %api::db::redact(&config.database_url()), "starting");
            let server = api::server::start(&config, shutdown_signal()).await?;
            tracing::info!(
                "ready in {:.1?}: GraphQL and GraphiQL at http://{}/graphql",
                started.elapsed(),
                server.address
            );
            server.task.await??;
        }
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM, so in-flight requests finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
