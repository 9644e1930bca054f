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
        /// Keep-alive HTTP connections of the load generator.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Threads of the load generator, a process of its own.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seconds each HTTP load is measured, after its warm-up.
        #[arg(long, default_value_t = 20)]
        http_seconds: u64,
    },
    /// The load generator of `bench`, run by it as a process of its own: sends the requests of
    /// a plan file and prints what it measured as JSON.
    #[command(hide = true)]
    Drive { plan: std::path::PathBuf },
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Drive { plan } = &cli.command {
        // A runtime of the plan's size, not the default one per core.
        return socialmap_load::http::drive_main(plan);
    }
    tokio::runtime::Runtime::new()?.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let filter = std::env::var("SOCIALMAP_LOG").unwrap_or_else(|_| "warn,sqlx=warn,sea_orm=warn".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).context("invalid SOCIALMAP_LOG filter")?)
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Drive { .. } => anyhow::bail!("`drive` runs on a runtime of its own"),
        Command::Bench {
            services,
            demo,
            queries,
            rng_seed,
            postgres,
            connections,
            threads,
            http_seconds,
        } => {
            let options = socialmap_load::BenchOptions {
                synthetic_services: (!demo).then_some(services),
                queries,
                rng_seed,
                postgres,
                driver: socialmap_load::http::Driver::Process(
                    std::env::current_exe().context("cannot find this program to run the load generator")?,
                ),
                load: socialmap_load::http::LoadShape {
                    connections,
                    threads,
                    duration: std::time::Duration::from_secs(http_seconds),
                },
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
