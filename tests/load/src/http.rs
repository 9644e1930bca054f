//! Search through HTTP GraphQL: closed-loop load of keep-alive connections sending the
//! question mix as `searchServices` requests to a running server, as front ends would, each
//! request timed from sending to the last byte of the answer.
//!
//! The load is driven from a separate process (`socialmap-load drive`, this binary run again),
//! as `wrk` would be, so that the load generator's work is not counted as the server's: a
//! connection is one task on hyper's bare HTTP/1.1 client, with the request bodies serialised
//! before the clock starts. The tests drive it in-process instead.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::in_process::PAGE;
use crate::questions::{Question, QuestionKind};
use crate::report::Timings;

/// What a result list shows: each service's id, name, distance and score. The targets are
/// measured with it, and the floor answers the same shape.
pub(super) const RESULT_LIST_QUERY: &str = "query Search($input: ServiceSearchInput!, $first: Int!) {
  searchServices(input: $input, first: $first) {
    edges { score distanceKm node { id name } }
  }
}";

/// What a front end with filter chips asks for: each hit explained, the organization's name
/// (a database lookup per page), the total and the facets.
pub(super) const FULL_QUERY: &str = "query Search($input: ServiceSearchInput!, $first: Int!) {
  searchServices(input: $input, first: $first) {
    totalCount
    edges {
      score distanceKm stale
      node { id name organization { name } }
      languageMatches { language { code } mode exact }
      matchedDomains { code }
      snippet { html }
    }
    facets { domains { code label count } languages { code name count } }
  }
}";

/// A request that takes longer than this is counted as an error, not waited for.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the load is generated.
#[derive(Clone, Debug)]
pub enum Driver {
    /// In a child process: this program, found at the path, run as `drive`.
    Process(PathBuf),
    /// In this process, on its runtime (for the tests).
    InProcess,
}

/// How the load is shaped.
#[derive(Clone, Copy, Debug)]
pub struct LoadShape {
    pub connections: usize,
    /// Runtime threads of the driving process.
    pub threads: usize,
    pub duration: Duration,
}

/// What the connections measured.
pub struct HttpLoad {
    pub shape: LoadShape,
    /// From the first measured request to the last answer.
    pub elapsed: Duration,
    pub requests: usize,
    /// Requests that failed: no answer, an HTTP error, or GraphQL errors.
    pub errors: usize,
    pub first_error: Option<String>,
    pub timings: Timings,
}

/// Everything the driving process is told: where to send which bodies, for how long.
#[derive(Serialize, Deserialize)]
pub struct DrivePlan {
    address: SocketAddr,
    connections: usize,
    threads: usize,
    seconds: f64,
    /// Sent once each before measuring.
    warm_up: Vec<String>,
    /// `QuestionKind::index` and body, sent round and round while measuring.
    timed: Vec<(usize, String)>,
}

/// What the driving process reports back.
#[derive(Serialize, Deserialize, Default)]
struct Driven {
    elapsed_ns: u64,
    /// `QuestionKind::index` and latency in nanoseconds.
    samples: Vec<(usize, u64)>,
    errors: usize,
    first_error: Option<String>,
}

/// Sends `query` for each of the `warm_up` questions once, then for the `timed` ones round
/// and round for the shape's duration, each connection waiting for an answer before it asks
/// again.
pub async fn load(
    driver: &Driver,
    address: SocketAddr,
    query: &str,
    warm_up: &[Question],
    timed: &[Question],
    shape: LoadShape,
) -> anyhow::Result<HttpLoad> {
    anyhow::ensure!(!timed.is_empty(), "no questions to send");
    let body = |question: &Question| {
        serde_json::to_string(&json!({
            "query": query,
            "variables": { "input": question.graphql_input(), "first": PAGE },
        }))
    };
    let plan = DrivePlan {
        address,
        connections: shape.connections,
        threads: shape.threads,
        seconds: shape.duration.as_secs_f64(),
        warm_up: warm_up.iter().map(body).collect::<Result<_, _>>()?,
        timed: timed
            .iter()
            .map(|q| Ok((q.kind.index(), body(q)?)))
            .collect::<Result<_, serde_json::Error>>()?,
    };
    let driven = match driver {
        Driver::InProcess => drive(plan).await?,
        Driver::Process(program) => drive_in_child(program, &plan).await?,
    };
    let elapsed = Duration::from_nanos(driven.elapsed_ns);
    let samples: Vec<(QuestionKind, Duration)> = driven
        .samples
        .iter()
        .filter_map(|(kind, ns)| Some((QuestionKind::from_index(*kind)?, Duration::from_nanos(*ns))))
        .collect();
    Ok(HttpLoad {
        shape,
        elapsed,
        requests: samples.len() + driven.errors,
        errors: driven.errors,
        first_error: driven.first_error,
        timings: Timings::of(samples, elapsed),
    })
}

async fn drive_in_child(program: &PathBuf, plan: &DrivePlan) -> anyhow::Result<Driven> {
    let file = std::env::temp_dir().join(format!("socialmap-drive-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, serde_json::to_vec(plan)?).with_context(|| format!("cannot write {}", file.display()))?;
    let output = tokio::process::Command::new(program)
        .arg("drive")
        .arg(&file)
        .kill_on_drop(true)
        .output()
        .await;
    let _ = std::fs::remove_file(&file);
    let output = output.with_context(|| format!("cannot run {}", program.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "the load generator failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).context("the load generator's report")
}

/// `socialmap-load drive PLAN`: runs the plan in a runtime of the plan's threads and prints
/// what it measured as JSON.
pub fn drive_main(plan: &std::path::Path) -> anyhow::Result<()> {
    let plan: DrivePlan = serde_json::from_slice(&std::fs::read(plan).with_context(|| format!("{}", plan.display()))?)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(plan.threads.max(1))
        .enable_all()
        .build()?;
    let driven = runtime.block_on(drive(plan))?;
    serde_json::to_writer(std::io::stdout().lock(), &driven)?;
    Ok(())
}

/// Bodies to send, taken in turn by every connection.
struct Bodies {
    bodies: Vec<(usize, Bytes)>,
    next: AtomicUsize,
}

impl Bodies {
    fn taken(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }

    fn take(&self) -> &(usize, Bytes) {
        let at = self.next.fetch_add(1, Ordering::Relaxed);
        &self.bodies[at % self.bodies.len()]
    }
}

async fn drive(plan: DrivePlan) -> anyhow::Result<Driven> {
    let bodies = |list: Vec<(usize, String)>| {
        Arc::new(Bodies {
            bodies: list.into_iter().map(|(kind, body)| (kind, Bytes::from(body))).collect(),
            next: AtomicUsize::new(0),
        })
    };
    if !plan.warm_up.is_empty() {
        let warm_up = bodies(plan.warm_up.into_iter().map(|b| (0, b)).collect());
        let count = warm_up.bodies.len();
        run_connections(plan.address, &warm_up, plan.connections, move |b: &Bodies| {
            b.taken() >= count
        })
        .await?;
    }
    let timed = bodies(plan.timed);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(plan.seconds);
    let results = run_connections(plan.address, &timed, plan.connections, move |_: &Bodies| {
        Instant::now() >= deadline
    })
    .await?;
    let mut driven = Driven {
        elapsed_ns: started.elapsed().as_nanos() as u64,
        ..Driven::default()
    };
    for result in results {
        driven.samples.extend(result.samples);
        driven.errors += result.errors;
        driven.first_error = driven.first_error.or(result.first_error);
    }
    Ok(driven)
}

/// What one connection saw.
#[derive(Default)]
struct ConnectionResults {
    samples: Vec<(usize, u64)>,
    errors: usize,
    first_error: Option<String>,
}

async fn run_connections(
    address: SocketAddr,
    bodies: &Arc<Bodies>,
    connections: usize,
    done: impl Fn(&Bodies) -> bool + Clone + Send + 'static,
) -> anyhow::Result<Vec<ConnectionResults>> {
    let mut set = JoinSet::new();
    for _ in 0..connections {
        let (bodies, done) = (bodies.clone(), done.clone());
        set.spawn(async move {
            let mut results = ConnectionResults::default();
            let mut sender = None;
            while !done(&bodies) {
                let (kind, body) = bodies.take();
                let started = Instant::now();
                let answered = tokio::time::timeout(REQUEST_TIMEOUT, exchange(&mut sender, address, body.clone()))
                    .await
                    .unwrap_or_else(|_| Err("no answer within 30 s".to_owned()));
                match answered {
                    Ok(()) => results.samples.push((*kind, started.elapsed().as_nanos() as u64)),
                    Err(error) => {
                        // The next request opens a new connection.
                        sender = None;
                        results.errors += 1;
                        results.first_error.get_or_insert(error);
                    }
                }
            }
            results
        });
    }
    let mut all = Vec::with_capacity(connections);
    while let Some(results) = set.join_next().await {
        all.push(results?);
    }
    Ok(all)
}

/// One request on the connection (opened first if there is none), read to the end; an error
/// says what went wrong.
async fn exchange(
    sender: &mut Option<http1::SendRequest<Full<Bytes>>>,
    address: SocketAddr,
    body: Bytes,
) -> Result<(), String> {
    if sender.as_ref().is_none_or(|s| s.is_closed()) {
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (opened, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
        tokio::spawn(connection);
        *sender = Some(opened);
    }
    let Some(sender) = sender.as_mut() else {
        return Err("no connection".to_owned());
    };
    sender.ready().await.map_err(|e| format!("connection closed: {e}"))?;
    let request = hyper::Request::post("/graphql")
        .header(hyper::header::HOST, address.to_string())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("answer cut off: {e}"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    // A GraphQL answer with errors has an `errors` member; looking for it is cheaper than
    // parsing every answer, and a generator that parses competes with the server.
    if !bytes.starts_with(b"{\"data\"") || bytes.windows(9).any(|w| w == b"\"errors\":") {
        return Err(format!(
            "GraphQL error: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        ));
    }
    Ok(())
}
