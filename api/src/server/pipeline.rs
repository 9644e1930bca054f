//! The one request pipeline. HTTP and WebSocket hand every GraphQL operation to it, so the
//! same rules hold on both: who is asking (a bad credential is refused, never downgraded),
//! the per-client rate limit (each operation counts), NUL-free text, the request's cost
//! (each search counts; complexity and depth are the schema's limits), the data every
//! resolver may read, the timeout, the request metrics, and a code and `reason` on every
//! error.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Response, Value};
use futures_util::stream::BoxStream;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use lru::LruCache;
use sea_orm::DatabaseConnection;

use super::Limits;
use crate::auth::{self, Viewer};
use crate::error::{ApiError, Reason};
use crate::graphql::AppSchema;
use crate::listings::MapLoader;
use crate::metrics::{self, Metrics};

/// Searches (and other root fields that rank or count much of the map, weighed in
/// `SEARCH_FIELDS`) one request may hold.
/// A front end needs one search per screen; many aliased searches in one request would buy
/// unbounded work for one request's price.
pub const MAX_SEARCHES_PER_REQUEST: usize = 10;
/// The root fields counted as searches, and how many each counts for: `planGaps` runs a
/// search per gap of the plan.
const SEARCH_FIELDS: [(&str, usize); 3] = [("searchServices", 1), ("coverage", 1), ("planGaps", 5)];
/// Deep enough for GraphiQL's introspection query and real nesting
/// (organization → services → locations → municipality → province → region).
pub const MAX_DEPTH: usize = 16;
/// A connection costs its page size times its selection (`relay::page_cost`): a page of 100
/// services with all their fields is about 6,000; 100 organizations with 50 services each is
/// about 75,000; three nested pages of 100 are refused.
pub const MAX_COMPLEXITY: usize = 100_000;
/// Clients the rate limiter remembers before it forgets those back at a full quota.
const MAX_TRACKED_CLIENTS: usize = 10_000;
/// Parsed documents kept: front ends send a handful of documents, each time with other variables.
const PARSED_DOCUMENTS: NonZeroUsize = NonZeroUsize::new(256).unwrap();
/// Longer documents are parsed each time rather than kept.
const MAX_KEPT_DOCUMENT_BYTES: usize = 16 * 1024;

/// The address a request came from, for limits per client (`suggestChange`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

/// What a request says about who sends it: an `Authorization` header, or the same key in a
/// WebSocket's `connection_init` payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    Bearer(String),
}

impl Credential {
    /// `Bearer <token>`; no value is anonymous, any other value is refused.
    pub fn parse(authorization: Option<&str>) -> Result<Credential, ApiError> {
        let Some(value) = authorization else {
            return Ok(Credential::Anonymous);
        };
        match value.trim().split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                Ok(Credential::Bearer(token.trim().to_owned()))
            }
            _ => Err(ApiError::new(
                Reason::MalformedCredentials,
                "`Authorization` must be `Bearer <token>` with the token `login` gave; leave it out to ask anonymously",
            )),
        }
    }

    /// The payload of `connection_init`: none, null or an object, with `Authorization` (or
    /// `authorization`) as in HTTP.
    pub fn from_init_payload(payload: Option<&serde_json::Value>) -> Result<Credential, ApiError> {
        match payload {
            None | Some(serde_json::Value::Null) => Ok(Credential::Anonymous),
            Some(serde_json::Value::Object(fields)) => {
                match fields.get("Authorization").or_else(|| fields.get("authorization")) {
                    None | Some(serde_json::Value::Null) => Ok(Credential::Anonymous),
                    Some(serde_json::Value::String(value)) => Credential::parse(Some(value)),
                    Some(_) => Credential::parse(Some("")),
                }
            }
            Some(_) => Err(ApiError::new(
                Reason::MalformedRequest,
                "the `connection_init` payload must be an object such as {\"Authorization\": \"Bearer <token>\"}",
            )),
        }
    }
}

/// Who asks: the viewer the credential names, the address it connects from, and the key its
/// rate limit counts under (its token, else its address).
#[derive(Clone)]
pub struct Caller {
    pub viewer: Viewer,
    pub address: IpAddr,
    key: String,
}

pub struct Pipeline {
    schema: AppSchema,
    db: DatabaseConnection,
    pub limits: Limits,
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    subscriptions: Arc<Mutex<SubscriptionCounts>>,
    /// Documents parsed before, by their text: parsing cost more than a search's page.
    /// Shared, so that telling a subscription from the kept document copies nothing; a
    /// request gets its own copy.
    parsed: Mutex<LruCache<String, Arc<ExecutableDocument>>>,
    metrics: Arc<Metrics>,
}

/// A request ready to run, and the root field its metrics are counted under.
struct Prepared {
    request: Request,
    operation: Option<String>,
}

#[derive(Default)]
struct SubscriptionCounts {
    total: usize,
    per_client: HashMap<String, usize>,
}

/// An open subscription's place in the counts, given back when it ends.
pub struct SubscriptionSlot {
    counts: Arc<Mutex<SubscriptionCounts>>,
    key: String,
}

impl Drop for SubscriptionSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.total = counts.total.saturating_sub(1);
            if let Some(n) = counts.per_client.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    counts.per_client.remove(&self.key);
                }
            }
        }
    }
}

impl Pipeline {
    pub fn new(schema: AppSchema, db: DatabaseConnection, limits: Limits, metrics: Arc<Metrics>) -> Pipeline {
        let limiter = limits
            .requests_per_minute
            .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n)));
        Pipeline {
            schema,
            db,
            limits,
            limiter,
            subscriptions: Arc::default(),
            parsed: Mutex::new(LruCache::new(PARSED_DOCUMENTS)),
            metrics,
        }
    }

    /// Counts `operations` against the client's rate limit (the limit is checked before the
    /// credential, so that a flood of guesses costs no database lookups), then finds who the
    /// credential names.
    pub async fn caller(&self, credential: Credential, address: IpAddr, operations: u32) -> Result<Caller, ApiError> {
        let key = match &credential {
            Credential::Anonymous => format!("address {address}"),
            Credential::Bearer(token) => format!("token {token}"),
        };
        self.admit(&key, operations)?;
        let viewer = match credential {
            Credential::Anonymous => Viewer::Anonymous,
            Credential::Bearer(token) => auth::authenticate(&self.db, &token).await?,
        };
        Ok(Caller { viewer, address, key })
    }

    /// Counts one more operation of a known caller (a WebSocket's next message).
    pub fn admit_operation(&self, caller: &Caller) -> Result<(), ApiError> {
        self.admit(&caller.key, 1)
    }

    fn admit(&self, key: &str, operations: u32) -> Result<(), ApiError> {
        let (Some(limiter), Some(n)) = (&self.limiter, NonZeroU32::new(operations)) else {
            return Ok(());
        };
        let refused = |wait: u64| {
            ApiError::rate_limited(
                Reason::TooManyRequests,
                format!("too many requests from this client: try again in {wait} s"),
                wait,
            )
        };
        let outcome = limiter.check_key_n(&key.to_owned(), n);
        if limiter.len() > MAX_TRACKED_CLIENTS {
            limiter.retain_recent();
        }
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(refused(
                not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1),
            )),
            // More operations at once than a whole minute allows.
            Err(_) => Err(refused(60)),
        }
    }

    /// Whether `request` asks for a subscription (a stream of answers) rather than one answer.
    pub fn is_subscription(&self, request: &Request) -> bool {
        let Some(document) = self.parsed_document(&request.query) else {
            return false;
        };
        let mut operations = document.operations.iter();
        let chosen = match request.operation_name.as_deref() {
            Some(name) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
            None => operations.next(),
        };
        chosen.is_some_and(|(_, operation)| operation.node.ty == OperationType::Subscription)
    }

    /// Runs one query or mutation for `caller`, within the timeout, and counts it in the
    /// request metrics.
    pub async fn execute(&self, caller: &Caller, request: Request) -> Response {
        let started = Instant::now();
        let (operation, response) = match self.prepare(caller, request) {
            Ok(Prepared { request, operation }) => (operation, self.run(request).await),
            Err((operation, error)) => (operation, refused(error)),
        };
        self.metrics
            .observe_request(operation.as_deref(), response.errors.is_empty(), started.elapsed());
        response
    }

    async fn run(&self, request: Request) -> Response {
        let deadline = tokio::time::Instant::now() + self.limits.timeout;
        match tokio::time::timeout_at(deadline, self.schema.execute(request)).await {
            // The timer fires on its next tick: an answer that came after the deadline within
            // that tick is too late all the same.
            Ok(response) if tokio::time::Instant::now() < deadline => coded(response),
            _ => refused(timed_out(self.limits.timeout)),
        }
    }

    /// Starts a subscription for `caller`, within the limits of open subscriptions per
    /// client and per server. The slot is held as long as the stream is.
    pub fn subscribe(
        &self,
        caller: &Caller,
        request: Request,
    ) -> Result<(SubscriptionSlot, BoxStream<'static, Response>), ApiError> {
        let request = self.prepare(caller, request).map_err(|(_, error)| error)?.request;
        let slot = {
            let mut counts = self
                .subscriptions
                .lock()
                .map_err(|_| ApiError::new(Reason::Internal, "subscription counts poisoned"))?;
            let mine = counts.per_client.get(&caller.key).copied().unwrap_or(0);
            if mine >= self.limits.max_subscriptions_per_client || counts.total >= self.limits.max_subscriptions {
                return Err(ApiError::rate_limited(
                    Reason::TooManySubscriptions,
                    format!(
                        "too many open subscriptions (at most {} per client): complete one before starting another",
                        self.limits.max_subscriptions_per_client
                    ),
                    60,
                ));
            }
            counts.total += 1;
            *counts.per_client.entry(caller.key.clone()).or_default() += 1;
            SubscriptionSlot {
                counts: self.subscriptions.clone(),
                key: caller.key.clone(),
            }
        };
        let stream = futures_util::StreamExt::map(self.schema.execute_stream(request), coded);
        Ok((slot, Box::pin(stream)))
    }

    /// Refuses NUL characters and more searches than a request may hold, and gives the
    /// request its parsed document and what its resolvers read. A refusal comes with the
    /// root field the request asked for, for the metrics.
    fn prepare(&self, caller: &Caller, mut request: Request) -> Result<Prepared, (Option<String>, ApiError)> {
        if has_nul(&request) {
            return Err((
                None,
                ApiError::new(Reason::NulCharacter, "text must not contain NUL characters (\\u0000)"),
            ));
        }
        let document = self.parsed_document(&request.query);
        let operation = document.as_deref().and_then(metrics::first_root_field);
        if let Some(document) = document {
            if let Err(error) = check_searches(&document) {
                return Err((operation, error));
            }
            request.set_parsed_query(Arc::unwrap_or_clone(document));
        }
        let request = request
            .data(DataLoader::new(MapLoader::new(self.db.clone()), tokio::spawn))
            .data(caller.viewer.clone())
            .data(ClientAddress(caller.address));
        Ok(Prepared { request, operation })
    }

    /// The document of `query`, kept or parsed now (and kept unless it is long); `None` when
    /// it does not parse: the schema then says why, as for any request. Every check of the
    /// request still runs on it: the searches, complexity, depth, validation.
    fn parsed_document(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        let parse = || async_graphql::parser::parse_query(query).ok().map(Arc::new);
        if query.len() > MAX_KEPT_DOCUMENT_BYTES {
            return parse();
        }
        let lock = || self.parsed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(document) = lock().get(query) {
            return Some(document.clone());
        }
        let document = parse()?;
        lock().put(query.to_owned(), document.clone());
        Some(document)
    }
}

/// The answer to an operation refused before it ran.
pub fn refused(error: ApiError) -> Response {
    Response::from_errors(vec![error.into_server_error()])
}

pub fn timed_out(timeout: std::time::Duration) -> ApiError {
    ApiError::new(
        Reason::Timeout,
        format!(
            "the request was stopped after {} s; ask for less (smaller pages, fewer nested lists, fewer fields) or split it",
            timeout.as_secs()
        ),
    )
}

const REQUEST_SHAPE: &str = "a GraphQL request is a JSON object with a `query` string and optional `variables` (an object), `operationName` (a string) and `extensions` (an object); a batch is an array of such objects";

/// One GraphQL request in JSON (HTTP's body or a WebSocket's `subscribe` payload), with what
/// is wrong said in the client's terms rather than the parser's.
pub fn parse_request(value: serde_json::Value) -> Result<Request, ApiError> {
    let malformed = |message: &str| ApiError::new(Reason::MalformedRequest, message.to_owned());
    let serde_json::Value::Object(fields) = &value else {
        return Err(malformed(REQUEST_SHAPE));
    };
    match fields.get("query") {
        Some(serde_json::Value::String(_)) => {}
        None => {
            return Err(malformed(
                "the request has no `query`: send the GraphQL document as a string in `query`",
            ));
        }
        Some(_) => return Err(malformed("`query` must be a string holding the GraphQL document")),
    }
    for (key, value) in fields {
        let fits = match (key.as_str(), value) {
            ("query", _) => true,
            (_, serde_json::Value::Null) => true,
            ("variables" | "extensions", serde_json::Value::Object(_)) => true,
            ("operationName", serde_json::Value::String(_)) => true,
            ("variables" | "extensions" | "operationName", _) => false,
            // Other keys are the client's own business (some send `id`), as in the spec.
            _ => true,
        };
        if !fits {
            let shape = if key == "operationName" {
                "a string"
            } else {
                "an object"
            };
            return Err(malformed(&format!("`{key}` must be {shape} or left out")));
        }
    }
    serde_json::from_value(value).map_err(|_| malformed(REQUEST_SHAPE))
}

/// PostgreSQL cannot store NUL in text, and no user means one: refused for every text
/// alike, in the query (as a character or a `\u0000` escape) and in the variables.
fn has_nul(request: &Request) -> bool {
    fn in_value(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::List(items) => items.iter().any(in_value),
            Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || in_value(v)),
            _ => false,
        }
    }
    let query = request.query.as_bytes();
    query.contains(&0)
        || query.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
        || request.variables.iter().any(|(k, v)| k.contains('\0') || in_value(v))
}

/// Errors async-graphql raises itself (syntax, unknown fields, argument types, recursion,
/// the schema's complexity and depth limits) carry no code: they are the client's to fix.
/// The limits get a reason and what to ask for instead.
pub fn coded(mut response: Response) -> Response {
    for error in &mut response.errors {
        if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
            continue;
        }
        let reason = match error.message.as_str() {
            "Query is too complex." => {
                error.message = format!(
                    "this request would cost more than a request may ({MAX_COMPLEXITY}): ask for smaller pages (`first`) or fewer nested lists"
                );
                Reason::TooComplex
            }
            "Query is nested too deep." => {
                error.message =
                    format!("this request is nested too deep: a request may be at most {MAX_DEPTH} levels deep");
                Reason::TooDeep
            }
            message if message.contains("recursion depth") => Reason::TooDeep,
            _ => Reason::InvalidQuery,
        };
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", reason.code().as_str());
        extensions.set("reason", reason.as_str());
    }
    response
}

/// Refuses a request holding more searches than `MAX_SEARCHES_PER_REQUEST`, counted one by
/// one (aliases and fragments included) in its largest operation.
fn check_searches(document: &ExecutableDocument) -> Result<(), ApiError> {
    let searches = document
        .operations
        .iter()
        .map(|(_, operation)| count_searches(document, &operation.node.selection_set.node, 0))
        .max()
        .unwrap_or(0);
    if searches > MAX_SEARCHES_PER_REQUEST {
        return Err(ApiError::new(
            Reason::TooManySearches,
            format!(
                "this request holds {searches} searches (`planGaps` counts as five); a request may hold at most {MAX_SEARCHES_PER_REQUEST}. Send the others as separate requests, or ask one search for more results with `first` (up to 100) and `after`"
            ),
        ));
    }
    Ok(())
}

/// Search fields at the root of an operation, through fragments (cycles are stopped by the
/// depth bound; validation refuses them afterwards).
fn count_searches(document: &ExecutableDocument, selection: &SelectionSet, depth: usize) -> usize {
    if depth > MAX_DEPTH {
        return 0;
    }
    selection
        .items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => SEARCH_FIELDS
                .iter()
                .find(|(name, _)| *name == field.node.name.node.as_str())
                .map_or(0, |(_, weight)| *weight),
            Selection::InlineFragment(fragment) => {
                count_searches(document, &fragment.node.selection_set.node, depth + 1)
            }
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |fragment| {
                    count_searches(document, &fragment.node.selection_set.node, depth + 1)
                }),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_a_bearer_token_or_nothing() {
        assert_eq!(Credential::parse(None).unwrap(), Credential::Anonymous);
        assert_eq!(
            Credential::parse(Some("Bearer abc")).unwrap(),
            Credential::Bearer("abc".into())
        );
        assert_eq!(
            Credential::parse(Some("bearer  abc ")).unwrap(),
            Credential::Bearer("abc".into())
        );
        for bad in ["Bearer ", "Bearer", "Basic dXNlcjpwYXNz", "abc", ""] {
            let error = Credential::parse(Some(bad)).unwrap_err();
            assert_eq!(error.reason(), Reason::MalformedCredentials, "{bad:?}");
        }
        let payload = serde_json::json!("Bearer abc");
        assert_eq!(
            Credential::from_init_payload(Some(&payload)).unwrap_err().reason(),
            Reason::MalformedRequest
        );
        let payload = serde_json::json!({ "Authorization": 5 });
        assert!(Credential::from_init_payload(Some(&payload)).is_err());
        let payload = serde_json::json!({});
        assert_eq!(
            Credential::from_init_payload(Some(&payload)).unwrap(),
            Credential::Anonymous
        );
    }

    #[test]
    fn searches_are_counted_through_aliases_and_fragments() {
        let query = "query { a: searchServices(input: {}) { totalCount } ...F ... on Query { c: searchServices(input: {}) { totalCount } } }
                     fragment F on Query { b: searchServices(input: {}) { totalCount } domains { code } }";
        let document = async_graphql::parser::parse_query(query).unwrap();
        let (_, operation) = document.operations.iter().next().unwrap();
        assert_eq!(count_searches(&document, &operation.node.selection_set.node, 0), 3);
    }
}
