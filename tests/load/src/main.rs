//! `socialmap-load`: the load tools that stand beside the server, not inside it. `bench`
//! measures search on a fresh map; `soak` runs the `socialmap` binary beside this one under
//! ten minutes of mixed load.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "socialmap-load",
    version,
    about = "Benchmarks and soak tests of the socialmap server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    /// Run `socialmap serve` (the binary beside this one) as a child process on a fresh demo map under a
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = std::env::var("SOCIALMAP_LOG").unwrap_or_else(|_| "warn,sqlx=warn,sea_orm=warn".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).context("invalid SOCIALMAP_LOG filter")?)
        .init();
    match cli.command {
        Command::Bench {
            services,
            demo,
            queries,
            rng_seed,
            postgres,
            clients,
            http_seconds,
        } => {
            let options = socialmap_load::BenchOptions {
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
            print!("{}", socialmap_load::run(&options, interrupted).await?);
        }
        Command::Soak {
            minutes,
            warm_up_seconds,
            clients,
            window_seconds,
            postgres,
            rng_seed,
        } => {
            let options = socialmap_load::soak::SoakOptions {
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
            let report = socialmap_load::soak::run(&options, interrupted).await?;
            print!("{report}");
            let failures = report.failures();
            anyhow::ensure!(failures.is_empty(), "the soak failed: {}", failures.join("; "));
        }
    }
    Ok(())
}
