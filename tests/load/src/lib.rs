//! `socialmap-load bench`: how fast search answers, measured on a map of a given size, against a
//! PostgreSQL baseline.
//!
//! It builds a fresh map (the demo map, or a synthetic map of N services over all
//! municipalities) in SQLite in a temporary directory, or in a new PostgreSQL database created
//! for the run and dropped after it. On that one map and one deterministic mix of the
//! questions volunteers ask (`questions`), it measures: the full index build; our search
//! in-process, one question at a time (`in_process`); the PostgreSQL baseline the same way,
//! with the overlap of its answers and ours (`postgres`); our search through HTTP GraphQL
//! from concurrent clients (`http`); how soon a write is found on the replica that took it
//! and on another (`replicas`); and resident memory (`memory`). `report` prints it all.

mod floor;
pub mod http;
mod in_process;
mod memory;
mod postgres;
mod questions;
mod replicas;
mod report;
pub mod soak;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use entity::{location, service};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, QuerySelect};
use tokio::sync::oneshot;

pub use http::{Driver, HttpLoad, LoadShape};
pub use memory::Memory;
pub use postgres::{Answered, Baseline, Flavour, Overlap};
pub use questions::QuestionKind;
pub use replicas::WriteToSearchable;
pub use report::{Latency, Timings};

use api::reference::ReferenceData;
use api::search::{SearchIndex, Shown};
use api::server::{PrivacySettings, RunningServer};

/// Questions asked before measuring, to warm caches as a running server's are.
const WARM_UP: usize = 200;

pub struct BenchOptions {
    /// `None`: the demo map.
    pub synthetic_services: Option<usize>,
    /// Questions to time (after `WARM_UP` more to warm up).
    pub queries: usize,
    /// Seed of the synthetic map and of the question mix.
    pub rng_seed: u64,
    /// URL of a PostgreSQL user that may create databases: the map goes into a new database
    /// there and the baseline runs in it. `None`: SQLite, and no baseline.
    pub postgres: Option<String>,
    /// Where the HTTP load is generated.
    pub driver: Driver,
    /// Connections, the generator's threads, and how long each HTTP load is measured (after
    /// its warm-up).
    pub load: LoadShape,
}

pub struct BenchReport {
    /// "demo map" or "synthetic map of N services (rng seed S)".
    pub map: String,
    pub demo: bool,
    /// "SQLite" or "PostgreSQL".
    pub database: &'static str,
    pub cores: usize,
    /// Whether this is an optimised (release) build: debug figures are no measurement.
    pub optimized: bool,
    pub services: u64,
    pub seed_time: Duration,
    pub index: IndexBuild,
    /// Questions asked before measuring, in every measurement.
    pub warm_up: usize,
    /// Answers that show the page's hits (the result list).
    pub in_process: Timings,
    /// Answers that also show the total, the facets and snippets.
    pub in_process_full: Timings,
    /// Hits per question on average, over the whole result set (not the page).
    pub mean_hits: f64,
    /// Questions whose page was the same in both kinds of answer (it should be all).
    pub same_pages: usize,
    /// The stack answering a constant result list: what HTTP allows here.
    pub floor: HttpLoad,
    /// Our server answering the result list.
    pub http: HttpLoad,
    /// Our server answering the full query (total, facets, snippets, organizations).
    pub http_full: HttpLoad,
    /// Where the load generator ran.
    pub driver: &'static str,
    /// Fair, then strict; empty without PostgreSQL.
    pub baselines: Vec<Baseline>,
    pub write_to_searchable: WriteToSearchable,
    pub memory: Memory,
}

/// The full index build.
pub struct IndexBuild {
    pub services: usize,
    pub segments: usize,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Where the map is kept for the run.
enum MapDatabase {
    Sqlite(String),
    Postgres(api::db::ScratchDatabase),
}

impl MapDatabase {
    fn url(&self) -> &str {
        match self {
            MapDatabase::Sqlite(url) => url,
            MapDatabase::Postgres(database) => &database.url,
        }
    }
}

/// Runs the bench. When `interrupted` completes first (Ctrl-C for the command line), it stops
/// and still drops its database: a run on 100,000 services takes minutes.
pub async fn run(options: &BenchOptions, interrupted: impl Future<Output = ()>) -> anyhow::Result<BenchReport> {
    anyhow::ensure!(options.queries > 0, "ask at least one question (--queries)");
    anyhow::ensure!(
        options.load.connections > 0,
        "use at least one HTTP connection (--connections)"
    );
    anyhow::ensure!(
        !options.load.duration.is_zero(),
        "measure HTTP for at least a second (--http-seconds)"
    );
    anyhow::ensure!(
        options.synthetic_services != Some(0),
        "a synthetic map needs at least one service (--services)"
    );
    let dir = std::env::temp_dir().join(format!("socialmap-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let database = match &options.postgres {
        Some(admin_url) => match api::db::create_database(admin_url, "socialmap_bench").await {
            Ok(database) => MapDatabase::Postgres(database),
            Err(error) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(error);
            }
        },
        None => MapDatabase::Sqlite(format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite").display())),
    };
    let result = tokio::select! {
        result = run_in(&dir, &database, options) => result,
        () = interrupted => Err(anyhow::anyhow!("interrupted")),
    };
    let dropped = match &database {
        MapDatabase::Postgres(database) => api::db::drop_database(database).await,
        MapDatabase::Sqlite(_) => Ok(()),
    };
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    dropped?;
    Ok(report)
}

async fn run_in(dir: &Path, database: &MapDatabase, options: &BenchOptions) -> anyhow::Result<BenchReport> {
    let db = api::db::connect_url(database.url()).await?;
    let result = measure(dir, database, &db, options).await;
    db.close().await?;
    result
}

async fn measure(
    dir: &Path,
    database: &MapDatabase,
    db: &DatabaseConnection,
    options: &BenchOptions,
) -> anyhow::Result<BenchReport> {
    let started = Instant::now();
    api::db::prepare(db, options.synthetic_services.is_none()).await?;
    if let Some(services) = options.synthetic_services {
        seed::seed_synthetic_map(db, services, options.rng_seed).await?;
    }
    let seed_time = started.elapsed();
    let seeding_peak = memory::peak();
    let peak_was_reset = memory::reset_peak();
    let services = service::Entity::find().count(db).await?;

    let reference = Arc::new(ReferenceData::load(db).await?);
    let located: Vec<String> = location::Entity::find()
        .select_only()
        .column(location::Column::MunicipalityCode)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let questions = questions::question_mix(&reference, &located, WARM_UP + options.queries, options.rng_seed);
    let (warm_up, timed) = questions.split_at(WARM_UP);

    // Built and searched in-process in the first replica's directory, then dropped (releasing
    // its lock) so that the first replica's server opens it as it would after a restart.
    let first_index = dir.join("replica-1");
    let (index, in_process, in_process_full) = {
        let started = Instant::now();
        let search = SearchIndex::open(&first_index, db, reference.clone(), false).await?;
        let elapsed = started.elapsed();
        let searcher = search.searcher();
        let index = IndexBuild {
            services: searcher.num_docs() as usize,
            segments: searcher.segment_readers().len(),
            bytes: directory_bytes(&first_index)?,
            elapsed,
        };
        let full = in_process::run(&search, warm_up, timed, Shown::EVERYTHING)?;
        let hits = in_process::run(&search, warm_up, timed, Shown::HITS)?;
        (index, hits, full)
    };
    let same_pages = in_process
        .answers
        .iter()
        .zip(&in_process_full.answers)
        .filter(|(a, b)| a.top == b.top)
        .count();

    let baselines = match database {
        MapDatabase::Postgres(database) => {
            postgres::run(&database.url, &reference, warm_up, timed, &in_process.answers).await?
        }
        MapDatabase::Sqlite(_) => Vec::new(),
    };

    let (first, stop_first) = serve(db.clone(), &first_index).await?;
    let floor = floor::Floor::start(&fullest_answer(first.address, timed).await?).await?;
    let load = |address, query| http::load(&options.driver, address, query, warm_up, timed, options.load);
    let floor_load = load(floor.address, http::RESULT_LIST_QUERY).await;
    floor.stop().await?;
    let floor_load = floor_load?;
    let http = load(first.address, http::RESULT_LIST_QUERY).await?;
    let http_full = load(first.address, http::FULL_QUERY).await?;
    // Another replica: its own connections, and its own index built from the database.
    let second_db = api::db::connect_url(database.url()).await?;
    let (second, stop_second) = serve(second_db.clone(), &dir.join("replica-2")).await?;
    let write_to_searchable = replicas::measure(db, &reference, first.address, second.address).await?;
    let memory = Memory {
        seeding_peak,
        peak: memory::peak(),
        peak_was_reset,
        current: memory::current(),
    };
    stop(first, stop_first).await?;
    stop(second, stop_second).await?;
    // A stopped server no longer follows the change log: its connection may close.
    second_db.close().await?;

    Ok(BenchReport {
        map: match options.synthetic_services {
            Some(n) => format!("synthetic map of {n} services (rng seed {})", options.rng_seed),
            None => "demo map".to_owned(),
        },
        demo: options.synthetic_services.is_none(),
        database: match database {
            MapDatabase::Sqlite(_) => "SQLite",
            MapDatabase::Postgres(_) => "PostgreSQL",
        },
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        optimized: !cfg!(debug_assertions),
        services,
        seed_time,
        index,
        warm_up: warm_up.len(),
        in_process: in_process.timings,
        in_process_full: in_process_full.timings,
        mean_hits: in_process_full.mean_hits.unwrap_or_default(),
        same_pages,
        floor: floor_load,
        http,
        http_full,
        driver: match options.driver {
            Driver::Process(_) => "a process of its own",
            Driver::InProcess => "the bench process",
        },
        baselines,
        write_to_searchable,
        memory,
    })
}

/// A replica serving `db` with its index in `index_dir`, on a free port of 127.0.0.1. It
/// stops when the sender is used or dropped, so an error anywhere stops it too.
async fn serve(db: DatabaseConnection, index_dir: &Path) -> anyhow::Result<(RunningServer, oneshot::Sender<()>)> {
    let privacy = PrivacySettings {
        keyring: Arc::new(api::referrals::Keyring::new(
            &api::referrals::Keyring::generate_key(),
            &[],
        )?),
        referral_retention_days: 180,
        plan_retention_days: 180,
    };
    // The load generator is one client sending thousands of requests a second: the per-client
    // rate limit would measure itself.
    let limits = api::server::Limits {
        requests_per_minute: None,
        ..api::server::Limits::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = api::server::start_with_limits(
        db,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        index_dir,
        privacy,
        limits,
        async {
            let _ = stopped.await;
        },
    )
    .await?;
    Ok((server, stop))
}

/// Stops a replica and waits until it has.
async fn stop(server: RunningServer, stop: oneshot::Sender<()>) -> anyhow::Result<()> {
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .context("a replica did not stop within 10 s")???;
    Ok(())
}

/// The result-list answer with the most hits among the first questions: what the floor
/// answers, so that its answer has the shape and size of a real one.
async fn fullest_answer(address: SocketAddr, questions: &[questions::Question]) -> anyhow::Result<serde_json::Value> {
    let client = reqwest::Client::new();
    let mut fullest = serde_json::Value::Null;
    let mut most = 0;
    for question in questions.iter().take(20) {
        let body = serde_json::json!({
            "query": http::RESULT_LIST_QUERY,
            "variables": { "input": question.graphql_input(), "first": in_process::PAGE },
        });
        let answer: serde_json::Value = client
            .post(format!("http://{address}/graphql"))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let hits = answer["data"]["searchServices"]["edges"].as_array().map_or(0, Vec::len);
        if hits > most {
            (most, fullest) = (hits, answer);
        }
    }
    Ok(fullest)
}

fn directory_bytes(dir: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|metadata| metadata.len())
        .sum())
}
