//! Our search through HTTP GraphQL: concurrent clients send the question mix as
//! `searchServices` requests to a running server, as front ends would, and each request is
//! timed from sending to the last byte of the answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinSet;

use crate::in_process::PAGE;
use crate::questions::{Question, QuestionKind};
use crate::report::Timings;

/// What a result list in a front end asks for: each hit explained, the organization's name
/// (a database lookup per page, as in real use) and the facets for filter chips.
pub(super) const SEARCH_QUERY: &str = "query Search($input: ServiceSearchInput!, $first: Int!) {
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

/// What the clients measured.
pub struct HttpLoad {
    pub clients: usize,
    /// From the first measured request to the last answer.
    pub elapsed: Duration,
    pub requests: usize,
    /// Requests that failed: no answer, an HTTP error, or GraphQL errors.
    pub errors: usize,
    pub first_error: Option<String>,
    pub timings: Timings,
}

/// The part of a GraphQL answer the load generator looks at.
#[derive(Deserialize)]
struct Answer {
    errors: Option<Vec<AnswerError>>,
}

#[derive(Deserialize)]
struct AnswerError {
    message: String,
}

/// Requests and their kinds, serialised once so that clients spend their time on requests.
struct Requests {
    bodies: Vec<(QuestionKind, String)>,
    next: AtomicUsize,
}

impl Requests {
    fn new(questions: &[Question]) -> anyhow::Result<Requests> {
        anyhow::ensure!(!questions.is_empty(), "no questions to send");
        let bodies = questions
            .iter()
            .map(|question| {
                let body = json!({
                    "query": SEARCH_QUERY,
                    "variables": { "input": question.graphql_input(), "first": PAGE },
                });
                Ok((question.kind, serde_json::to_string(&body)?))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Requests {
            bodies,
            next: AtomicUsize::new(0),
        })
    }

    fn taken(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }

    /// The next request, going round the mix.
    fn take(&self) -> &(QuestionKind, String) {
        let at = self.next.fetch_add(1, Ordering::Relaxed);
        &self.bodies[at % self.bodies.len()]
    }
}

/// What one client saw.
#[derive(Default)]
struct ClientResults {
    samples: Vec<(QuestionKind, Duration)>,
    errors: usize,
    first_error: Option<String>,
}

/// Sends the `warm_up` questions once from `clients` concurrent clients, then the `timed`
/// ones round and round for `duration`, each client waiting for an answer before it asks again.
pub async fn load(
    address: SocketAddr,
    warm_up: &[Question],
    timed: &[Question],
    clients: usize,
    duration: Duration,
) -> anyhow::Result<HttpLoad> {
    let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()?;
    let url = format!("http://{address}/graphql");
    if !warm_up.is_empty() {
        // Each warm-up question once; what they answer is not measured.
        let warm_up = Arc::new(Requests::new(warm_up)?);
        let count = warm_up.bodies.len();
        run_clients(&client, &url, &warm_up, clients, move |requests| {
            requests.taken() >= count
        })
        .await?;
    }
    let timed = Arc::new(Requests::new(timed)?);
    let started = Instant::now();
    let deadline = started + duration;
    let results = run_clients(&client, &url, &timed, clients, move |_| Instant::now() >= deadline).await?;
    let elapsed = started.elapsed();

    let mut samples = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for result in results {
        samples.extend(result.samples);
        errors += result.errors;
        first_error = first_error.or(result.first_error);
    }
    Ok(HttpLoad {
        clients,
        elapsed,
        requests: samples.len() + errors,
        errors,
        first_error,
        timings: Timings::of(samples, elapsed),
    })
}

/// Runs `clients` clients that send requests until `done` says so, and gathers what each saw.
async fn run_clients(
    client: &reqwest::Client,
    url: &str,
    requests: &Arc<Requests>,
    clients: usize,
    done: impl Fn(&Requests) -> bool + Clone + Send + 'static,
) -> anyhow::Result<Vec<ClientResults>> {
    let mut set = JoinSet::new();
    for _ in 0..clients {
        let (client, url, requests, done) = (client.clone(), url.to_owned(), requests.clone(), done.clone());
        set.spawn(async move {
            let mut results = ClientResults::default();
            while !done(&requests) {
                let (kind, body) = requests.take();
                let started = Instant::now();
                match send(&client, &url, body.clone()).await {
                    Ok(()) => results.samples.push((*kind, started.elapsed())),
                    Err(error) => {
                        results.errors += 1;
                        results.first_error.get_or_insert(error);
                    }
                }
            }
            results
        });
    }
    let mut all = Vec::with_capacity(clients);
    while let Some(results) = set.join_next().await {
        all.push(results?);
    }
    Ok(all)
}

/// One request, read to the end; an error says what went wrong.
async fn send(client: &reqwest::Client, url: &str, body: String) -> Result<(), String> {
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| format!("answer cut off: {e}"))?;
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let answer: Answer = serde_json::from_slice(&bytes).map_err(|e| format!("not a GraphQL answer: {e}"))?;
    match answer.errors.unwrap_or_default().into_iter().next() {
        Some(error) => Err(format!("GraphQL error: {}", error.message)),
        None => Ok(()),
    }
}
