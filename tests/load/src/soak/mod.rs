//! `socialmap-load soak`: a server under a mixed read/write load for minutes on end, as it would be
//! in production, to show that it keeps answering, without errors and without growing.
//!
//! It starts `socialmap serve` (the binary built beside this one, so a release build soaks a
//! release build) as a child process on a fresh demo map: SQLite in a temporary directory, or a new PostgreSQL
//! database. It signs up an admin, a volunteer of Buddywerking Aalst and OCMW Aalst's editor,
//! then runs concurrent clients that search, read services, page through HSDS, look at
//! coverage and the inbox, rename services and carry referrals through their life cycle
//! (`workload`). After a warm-up it measures for the given time: errors (there must be none),
//! latency per window, and the server's resident memory, read from `/proc` every 5 s (the
//! median of the last window's readings must not exceed that of the first by more than 10%),
//! with the allocator's live and held bytes from `/metrics` beside it to tell a leak from
//! retention. It ends the server with SIGTERM, which must exit cleanly.

mod report;
mod workload;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use entity::enums::{Role, TokenKind};
use entity::location;
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};

pub use report::{SoakReport, Window};
pub use workload::Operation;

use crate::memory::{self, Resident};
use crate::questions;
use api::reference::ReferenceData;

/// Memory growth from the start to the end of the measured time that fails the soak.
pub const MAX_MEMORY_GROWTH: f64 = 0.10;

/// How often the server's memory is read.
const MEMORY_EVERY: Duration = Duration::from_secs(5);

pub struct SoakOptions {
    /// How long the load is measured.
    pub duration: Duration,
    /// How long the same load runs first, unmeasured, so caches and pools are as in service.
    pub warm_up: Duration,
    /// Concurrent clients, each waiting for its answer before it asks again.
    pub clients: usize,
    /// Latency is reported per window of this length.
    pub window: Duration,
    /// URL of a PostgreSQL user that may create databases; `None`: SQLite.
    pub postgres: Option<String>,
    /// Seed of the question mix and of each client's choice of operations.
    pub rng_seed: u64,
}

/// One reading of the server's memory.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reading {
    pub resident: Resident,
    /// Bytes in live allocations and bytes the allocator holds (`/metrics`), when it answered.
    pub heap: Option<(u64, u64)>,
}

/// Runs the soak and reports it; whether it passed is the report's to say. When `interrupted`
/// completes first (Ctrl-C), it stops the server and still cleans up.
pub async fn run(options: &SoakOptions, interrupted: impl Future<Output = ()>) -> anyhow::Result<SoakReport> {
    anyhow::ensure!(options.clients > 0, "use at least one client (--clients)");
    anyhow::ensure!(!options.duration.is_zero(), "soak for at least a minute (--minutes)");
    anyhow::ensure!(!options.window.is_zero(), "windows must last at least a second");
    let dir = std::env::temp_dir().join(format!("socialmap-soak-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let database = match &options.postgres {
        Some(admin_url) => match api::db::create_database(admin_url, "socialmap_soak").await {
            Ok(database) => Some(database),
            Err(error) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(error);
            }
        },
        None => None,
    };
    let url = match &database {
        Some(database) => database.url.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.join("socialmap.sqlite").display()),
    };
    let result = tokio::select! {
        result = soak_in(&dir, &url, options) => result,
        () = interrupted => Err(anyhow::anyhow!("interrupted")),
    };
    let dropped = match &database {
        Some(database) => api::db::drop_database(database).await,
        None => Ok(()),
    };
    // The server's log is all there is to go on when something failed: keep it.
    let failed = result.as_ref().map_or(true, |report| !report.failures().is_empty());
    let kept_log = if failed { keep_server_log(&dir) } else { None };
    let _ = std::fs::remove_dir_all(&dir);
    let mut report = result.map_err(|error| match &kept_log {
        Some(log) => error.context(format!("the server's log is in {}", log.display())),
        None => error,
    })?;
    report.server_log = kept_log;
    dropped?;
    Ok(report)
}

async fn soak_in(dir: &Path, url: &str, options: &SoakOptions) -> anyhow::Result<SoakReport> {
    let mut server = Server::start(dir, url)?;
    soak_server(&mut server, url, options).await
}

async fn soak_server(server: &mut Server, url: &str, options: &SoakOptions) -> anyhow::Result<SoakReport> {
    let http = reqwest::Client::builder().timeout(workload::REQUEST_TIMEOUT).build()?;
    server.wait_ready(&http).await?;
    let memory_when_ready = read_memory(&http, server.child.id(), server.address)
        .await
        .unwrap_or_default();

    let db = api::db::connect_url(url).await?;
    let cast = sign_up(&db).await?;
    let reference = ReferenceData::load(&db).await?;
    let located: Vec<String> = location::Entity::find()
        .select_only()
        .column(location::Column::MunicipalityCode)
        .distinct()
        .into_tuple()
        .all(&db)
        .await?;
    let questions = questions::question_mix(&reference, &located, 1_000, options.rng_seed);
    let services = workload::services(&db, options.clients).await?;
    db.close().await?;

    let plan = Arc::new(workload::Plan::new(server.address, cast, &questions, &services)?);
    let started = Instant::now();
    let measured_from = started + options.warm_up;
    let until = measured_from + options.duration;
    let (pid, address, sampler_http) = (server.child.id(), server.address, http.clone());
    let sampler = tokio::spawn(async move { sample_memory(&sampler_http, pid, address, measured_from, until).await });
    let samples = workload::run(&http, &plan, services, options, measured_from, until).await?;
    let memory = sampler.await?;

    let stopping = Instant::now();
    let exit = server.terminate()?;
    let shutdown = stopping.elapsed();
    Ok(SoakReport::new(
        options,
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        samples,
        memory_when_ready,
        memory,
        exit,
        shutdown,
    ))
}

/// The people the clients act as: API tokens for an admin, a volunteer who refers families
/// and the editor of the service that takes them.
pub struct Cast {
    pub admin: String,
    pub referrer: String,
    pub service: String,
}

/// Creates the cast's accounts in the database the server uses, as `socialmap account create`
/// would.
async fn sign_up(db: &DatabaseConnection) -> anyhow::Result<Cast> {
    let reference = ReferenceData::load(db).await?;
    let token = async |email: &str, role: Role, organization: Option<&str>| -> anyhow::Result<String> {
        let new = api::auth::NewAccount {
            email: email.to_owned(),
            password: uuid::Uuid::new_v4().to_string(),
            role,
            municipalities: Vec::new(),
            organization_id: organization.map(|key| seed::demo_id("organization", key)),
        };
        let account = api::auth::create_account(db, &reference, new).await?;
        Ok(api::auth::issue_token(db, &account.id, TokenKind::Api).await?.0)
    };
    Ok(Cast {
        admin: token("admin@soak.example", Role::Admin, None).await?,
        referrer: token(
            "vrijwilliger@soak.example",
            Role::Referrer,
            Some(workload::REFERRING_ORGANIZATION),
        )
        .await?,
        service: token(
            "ocmw@soak.example",
            Role::OrganizationEditor,
            Some(workload::SERVICE_ORGANIZATION),
        )
        .await?,
    })
}

/// Memory when the measured time starts, every `MEMORY_EVERY` during it, and at its end.
async fn sample_memory(
    http: &reqwest::Client,
    pid: u32,
    address: SocketAddr,
    from: Instant,
    until: Instant,
) -> Vec<(Duration, Reading)> {
    let read = || read_memory(http, pid, address);
    tokio::time::sleep_until(from.into()).await;
    let mut samples = Vec::new();
    let mut every = tokio::time::interval(MEMORY_EVERY);
    loop {
        every.tick().await;
        let now = Instant::now().min(until);
        if let Some(reading) = read().await {
            samples.push((now - from, reading));
        }
        if now >= until {
            return samples;
        }
        if until - now < MEMORY_EVERY {
            tokio::time::sleep_until(until.into()).await;
            if let Some(reading) = read().await {
                samples.push((until - from, reading));
            }
            return samples;
        }
    }
}

async fn read_memory(http: &reqwest::Client, pid: u32, address: SocketAddr) -> Option<Reading> {
    Some(Reading {
        resident: memory::of_process(pid)?,
        heap: heap(http, address).await,
    })
}

/// The allocator's live and held bytes, from the server's `/metrics`.
async fn heap(http: &reqwest::Client, address: SocketAddr) -> Option<(u64, u64)> {
    let text = http
        .get(format!("http://{address}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let gauge = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .map(|bytes| bytes as u64)
    };
    Some((
        gauge("socialmap_heap_allocated_bytes")?,
        gauge("socialmap_heap_resident_bytes")?,
    ))
}

/// `socialmap serve`, as a child process of this one.
struct Server {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, url: &str) -> anyhow::Result<Server> {
        let address = free_address()?;
        let log = dir.join("serve.log");
        let output = std::fs::File::create(&log)?;
        let child = Command::new(server_binary()?)
            .arg("--data-dir")
            .arg(dir)
            .arg("--database-url")
            .arg(url)
            .args(["serve", "--listen", &address.to_string()])
            .env("SOCIALMAP_LOG", "warn")
            // One machine's clients are not one abusive client: the limiter stays in the path
            // of every request, but refuses none.
            .env("SOCIALMAP_REQUESTS_PER_MINUTE", "10000000")
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .spawn()
            .context("cannot start socialmap serve")?;
        Ok(Server { child, address, log })
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server exited while starting ({status}): {}", self.log_tail());
            }
            let ready = http.get(format!("http://{}/readyz", self.address)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the server was not ready within 2 minutes: {}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits (at most a minute) for the process to exit.
    fn terminate(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id())?);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).context("cannot send SIGTERM")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                anyhow::bail!("the server did not stop within a minute of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// A server the soak did not get to stop (an error, Ctrl-C) is killed, not left running.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// Copies the server's log out of the directory about to be removed.
fn keep_server_log(dir: &Path) -> Option<PathBuf> {
    let kept = std::env::temp_dir().join(format!("socialmap-soak-{}.log", uuid::Uuid::new_v4().simple()));
    std::fs::copy(dir.join("serve.log"), &kept).ok()?;
    Some(kept)
}

/// The `socialmap` binary built beside this one (`cargo build --release -p api -p
/// socialmap-load` puts both in `target/release`).
fn server_binary() -> anyhow::Result<PathBuf> {
    let this = std::env::current_exe().context("cannot find this program")?;
    let server = this.with_file_name(format!("socialmap{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        server.is_file(),
        "{} is missing: build the server beside this program with `cargo build --release -p api -p socialmap-load`",
        server.display()
    );
    Ok(server)
}
