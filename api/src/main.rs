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
    /// ago (serve does this daily).
    Purge,
    /// Measure search on a fresh map: index build; in-process, HTTP and (with --postgres) a
    /// PostgreSQL baseline over one mix of volunteers' questions; write → searchable on two
    /// replicas; memory. Prints a table with the ratios and which targets hold.
    Bench {
        /// Services in the synthetic map.
        #[arg(long, default_value_t = 100_000)]
        services: usize,
        /// Use the demo map instead of a synthetic one.
        #[arg(long)]
        demo: bool,
        /// Questions to time (after 200 to warm up).
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// Seed of the synthetic map and of the question mix.
        #[arg(long, default_value_t = 1)]
        rng_seed: u64,
        /// URL of a PostgreSQL user that may create databases, e.g.
        /// postgres://postgres@127.0.0.1:5432/postgres: the map goes into a new database there
        /// (dropped afterwards) and a PostgreSQL full-text baseline is measured against ours.
        /// Without it the map is SQLite in a temporary directory and the baseline is skipped.
        #[arg(long, value_name = "ADMIN_URL")]
        postgres: Option<String>,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds the HTTP clients are measured, after their warm-up.
        #[arg(long, default_value_t = 20)]
        http_seconds: u64,
    },
    /// Run `socialmap serve` (this binary) as a child process on a fresh demo map under a
    /// mixed read/write load, and report errors, latency per minute and the server's memory
    /// from start to end; then stop it with SIGTERM. Fails when any request failed, memory
    /// grew by more than 10% or the server did not exit cleanly. Use a release build.
    Soak {
        /// Minutes measured, after the warm-up (0.5 for a quick try).
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
        /// Seconds of the same load before measuring.
        #[arg(long, default_value_t = 30)]
        warm_up_seconds: u64,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Seconds per line of the latency table.
        #[arg(long, default_value_t = 60)]
        window_seconds: u64,
        /// URL of a PostgreSQL user that may create databases: the server runs on a new
        /// database there (dropped afterwards) instead of SQLite.
        #[arg(long, value_name = "ADMIN_URL")]
        postgres: Option<String>,
        /// Seed of the question mix and of the clients' choices.
        #[arg(long, default_value_t = 1)]
        rng_seed: u64,
    },
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
            let erased =
                api::referrals::jobs::erase_closed(&db, chrono::Utc::now(), config.referral_retention_days).await?;
            tracing::info!(
                erased,
                retention_days = config.referral_retention_days,
                "erased the personal fields of closed referrals"
            );
        }
        Command::Bench {
            services,
            demo,
            queries,
            rng_seed,
            postgres,
            clients,
            http_seconds,
        } => {
            let options = api::bench::BenchOptions {
                synthetic_services: (!demo).then_some(services),
                queries,
                rng_seed,
                postgres,
                clients,
                http_duration: std::time::Duration::from_secs(http_seconds),
            };
            let interrupted = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            print!("{}", api::bench::run(&options, interrupted).await?);
        }
        Command::Soak {
            minutes,
            warm_up_seconds,
            clients,
            window_seconds,
            postgres,
            rng_seed,
        } => {
            let options = api::bench::soak::SoakOptions {
                duration: std::time::Duration::try_from_secs_f64(minutes * 60.0)
                    .context("--minutes must be a positive number")?,
                warm_up: std::time::Duration::from_secs(warm_up_seconds),
                clients,
                window: std::time::Duration::from_secs(window_seconds),
                postgres,
                rng_seed,
            };
            let interrupted = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            let report = api::bench::soak::run(&options, interrupted).await?;
            print!("{report}");
            let failures = report.failures();
            anyhow::ensure!(failures.is_empty(), "the soak failed: {}", failures.join("; "));
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
