//! What the soak's clients do: mostly what volunteers and front ends read, with a steady share
//! of writes by editors and of referrals carried from the volunteer to the service and back.
//! Each client edits a service of its own, so that no two clients race for one version and
//! every `CONFLICT` would be a fault.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entity::service;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::{Cast, SoakOptions};
use crate::http::FULL_QUERY;
use crate::in_process::PAGE;
use crate::questions::Question;
use api::relay::{NodeKind, global_id};

/// A request that takes longer than this is an error, not waited for.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Demo-map keys of the organizations a referral goes between.
pub const REFERRING_ORGANIZATION: &str = "buddywerking-vluchtelingen-aalst";
pub const SERVICE_ORGANIZATION: &str = "ocmw-aalst";
/// The service families are referred to: OCMW Aalst's help with a rental deposit.
const REFERRED_SERVICE: &str = "ocmw-aalst-huurwaarborg";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// `searchServices` as a result list asks it (anonymous).
    Search,
    /// One service with its organization, locations, languages and area (anonymous).
    ServiceDetails,
    /// A page of HSDS `/hsds/services` (anonymous).
    HsdsPage,
    /// `coverage` of a municipality (anonymous).
    Coverage,
    /// The service's inbox of referrals (its editor).
    Inbox,
    /// `updateService` renaming the client's own service (admin).
    Rename,
    /// One step of a referral: sent, received, accepted, a note, completed.
    ReferralStep,
}

impl Operation {
    pub const ALL: [Operation; 7] = [
        Operation::Search,
        Operation::ServiceDetails,
        Operation::HsdsPage,
        Operation::Coverage,
        Operation::Inbox,
        Operation::Rename,
        Operation::ReferralStep,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Operation::Search => "search (read)",
            Operation::ServiceDetails => "service details (read)",
            Operation::HsdsPage => "HSDS page of 50 (read)",
            Operation::Coverage => "coverage (read)",
            Operation::Inbox => "referral inbox (read)",
            Operation::Rename => "rename a service (write)",
            Operation::ReferralStep => "referral step (write)",
        }
    }

    pub fn writes(self) -> bool {
        matches!(self, Operation::Rename | Operation::ReferralStep)
    }

    /// Out of 100 operations.
    fn share(self) -> u32 {
        match self {
            Operation::Search => 50,
            Operation::ServiceDetails => 12,
            Operation::HsdsPage => 4,
            Operation::Coverage => 4,
            Operation::Inbox => 5,
            Operation::Rename => 10,
            Operation::ReferralStep => 15,
        }
    }

    fn pick(rng: &mut StdRng) -> Operation {
        let mut roll = rng.random_range(0..100);
        for operation in Operation::ALL {
            if roll < operation.share() {
                return operation;
            }
            roll -= operation.share();
        }
        Operation::Search
    }
}

/// One timed request: when it started (from the start of the measured time; negative during
/// the warm-up), how long it took and whether it failed.
pub struct Sample {
    pub operation: Operation,
    pub at: f64,
    pub latency: Duration,
    pub error: Option<String>,
}

/// What every client shares: where to send, as whom, and what to ask.
pub struct Plan {
    graphql: String,
    hsds: String,
    cast: Cast,
    searches: Vec<String>,
    /// Services anyone may read, as GraphQL ids.
    services: Vec<String>,
    referred_service: String,
}

impl Plan {
    pub fn new(
        address: SocketAddr,
        cast: Cast,
        questions: &[Question],
        services: &[OwnService],
    ) -> anyhow::Result<Plan> {
        let searches = questions
            .iter()
            .map(|question| {
                serde_json::to_string(&json!({
                    "query": FULL_QUERY,
                    "variables": { "input": question.graphql_input(), "first": PAGE },
                }))
            })
            .collect::<Result<_, _>>()?;
        Ok(Plan {
            graphql: format!("http://{address}/graphql"),
            hsds: format!("http://{address}/hsds/services"),
            cast,
            searches,
            services: services.iter().map(|s| s.id.clone()).collect(),
            referred_service: global_id(NodeKind::Service, &seed::demo_id("service", REFERRED_SERVICE)).0,
        })
    }
}

/// A service a client renames: its id and the version its next update starts from.
pub struct OwnService {
    id: String,
    name: String,
    version: i64,
}

/// Every service, in id order: the readers read them all, and client N renames the Nth.
pub async fn services(db: &DatabaseConnection, clients: usize) -> anyhow::Result<Vec<OwnService>> {
    let services: Vec<(String, String, i32)> = service::Entity::find()
        .select_only()
        .columns([service::Column::Id, service::Column::Name, service::Column::Version])
        .order_by_asc(service::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    anyhow::ensure!(
        services.len() >= clients,
        "the map has {} services, fewer than the {clients} clients",
        services.len()
    );
    Ok(services
        .into_iter()
        .map(|(id, name, version)| OwnService {
            id: global_id(NodeKind::Service, &id).0,
            name,
            version: i64::from(version),
        })
        .collect())
}

/// Runs the clients until `until` and returns every request each made.
pub async fn run(
    http: &reqwest::Client,
    plan: &Arc<Plan>,
    mut services: Vec<OwnService>,
    options: &SoakOptions,
    measured_from: Instant,
    until: Instant,
) -> anyhow::Result<Vec<Sample>> {
    let mut set = JoinSet::new();
    for number in 0..options.clients {
        let own = services.swap_remove(0);
        let mut client = Client {
            http: http.clone(),
            plan: plan.clone(),
            rng: StdRng::seed_from_u64(options.rng_seed.wrapping_add(number as u64)),
            own,
            renames: 0,
            referral: None,
        };
        set.spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < until {
                let operation = Operation::pick(&mut client.rng);
                let started = Instant::now();
                let outcome = client.perform(operation).await;
                samples.push(Sample {
                    operation,
                    at: signed_seconds(started, measured_from),
                    latency: started.elapsed(),
                    error: outcome.err(),
                });
            }
            samples
        });
    }
    let mut all = Vec::new();
    while let Some(samples) = set.join_next().await {
        all.extend(samples?);
    }
    Ok(all)
}

fn signed_seconds(at: Instant, from: Instant) -> f64 {
    if at >= from {
        (at - from).as_secs_f64()
    } else {
        -(from - at).as_secs_f64()
    }
}

/// Where the client's referral is in its life cycle.
#[derive(Clone, Copy)]
enum Stage {
    Sent,
    Received,
    Accepted,
    Noted,
}

struct Client {
    http: reqwest::Client,
    plan: Arc<Plan>,
    rng: StdRng,
    own: OwnService,
    renames: u64,
    referral: Option<(String, Stage)>,
}

const SERVICE_DETAILS: &str = "query($id: ID!) { service(id: $id) { id name description status
    organization { name } domains { code } languages { language { code } mode }
    locations { name address postalCode municipality { name } }
    area { national municipalities { code } } } }";
const COVERAGE: &str = "query($code: String!) { coverage(municipalityCode: $code) {
    domains { domain { code } services languages { language { code } } } } }";
const INBOX: &str = "{ referrals(box: INCOMING, first: 10) { edges { node { id status respondBy } } } }";
const RENAME: &str = "mutation($id: ID!, $version: Int!, $name: String!) {
    updateService(id: $id, version: $version, input: { name: $name }) { version } }";
const CREATE: &str = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status } }";
const MOVE: &str = "mutation($id: ID!, $status: ReferralStatus!) {
    updateReferralStatus(id: $id, status: $status) { status } }";
const NOTE: &str = "mutation($id: ID!, $note: String!) { addReferralNote(id: $id, note: $note) { id } }";
/// Municipalities whose coverage is asked: Aalst, Gent, Antwerpen, Brussel, Liège.
const MUNICIPALITIES: [&str; 5] = ["41002", "44021", "11002", "21004", "62063"];

impl Client {
    async fn perform(&mut self, operation: Operation) -> Result<(), String> {
        match operation {
            Operation::Search => {
                let at = self.rng.random_range(0..self.plan.searches.len());
                let body = self.plan.searches[at].clone();
                self.post(None, body).await.map(drop)
            }
            Operation::ServiceDetails => {
                let at = self.rng.random_range(0..self.plan.services.len());
                let id = self.plan.services[at].clone();
                self.graphql(None, SERVICE_DETAILS, json!({ "id": id })).await.map(drop)
            }
            Operation::HsdsPage => {
                let page = self.rng.random_range(1..=4);
                self.hsds_page(page).await
            }
            Operation::Coverage => {
                let code = MUNICIPALITIES[self.rng.random_range(0..MUNICIPALITIES.len())];
                self.graphql(None, COVERAGE, json!({ "code": code })).await.map(drop)
            }
            Operation::Inbox => {
                let token = self.plan.cast.service.clone();
                self.graphql(Some(&token), INBOX, json!({})).await.map(drop)
            }
            Operation::Rename => self.rename().await,
            Operation::ReferralStep => self.referral_step().await,
        }
    }

    async fn rename(&mut self) -> Result<(), String> {
        self.renames += 1;
        let name = format!("{} (soak {})", self.own.name, self.renames);
        let token = self.plan.cast.admin.clone();
        let variables = json!({ "id": self.own.id, "version": self.own.version, "name": name });
        let data = self.graphql(Some(&token), RENAME, variables).await?;
        self.own.version = data["updateService"]["version"]
            .as_i64()
            .ok_or("updateService returned no version")?;
        Ok(())
    }

    async fn referral_step(&mut self) -> Result<(), String> {
        let referrer = self.plan.cast.referrer.clone();
        let service = self.plan.cast.service.clone();
        let Some((id, stage)) = self.referral.clone() else {
            let input = json!({
                "serviceId": self.plan.referred_service, "needCode": "housing.search",
                "needDescription": "Gezin zoekt een huurwoning; de huurwaarborg is het probleem.",
                "postalCode": "9300", "languages": ["prs", "nl"], "interpreterNeeded": true,
                "adults": 2, "childrenAges": [3, 8], "consentGiven": true,
            });
            let data = self.graphql(Some(&referrer), CREATE, json!({ "input": input })).await?;
            let id = data["createReferral"]["id"]
                .as_str()
                .ok_or("createReferral returned no id")?;
            self.referral = Some((id.to_owned(), Stage::Sent));
            return Ok(());
        };
        let (query, variables, next) = match stage {
            Stage::Sent => (MOVE, json!({ "id": id, "status": "RECEIVED" }), Some(Stage::Received)),
            Stage::Received => (MOVE, json!({ "id": id, "status": "ACCEPTED" }), Some(Stage::Accepted)),
            Stage::Accepted => (
                NOTE,
                json!({ "id": id, "note": "Afspraak gemaakt voor dinsdag." }),
                Some(Stage::Noted),
            ),
            Stage::Noted => (MOVE, json!({ "id": id, "status": "COMPLETED" }), None),
        };
        self.graphql(Some(&service), query, variables).await?;
        self.referral = next.map(|stage| (id, stage));
        Ok(())
    }

    async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value, String> {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let mut answer = self.post(token, body).await?;
        Ok(answer["data"].take())
    }

    /// A GraphQL request; an error says what went wrong: no answer, an HTTP error or the
    /// first GraphQL error.
    async fn post(&self, token: Option<&str>, body: String) -> Result<Value, String> {
        let mut request = self
            .http
            .post(&self.plan.graphql)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| format!("no answer: {e}"))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| format!("answer cut off: {e}"))?;
        let answer: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("HTTP {status}, not a GraphQL answer: {e}"))?;
        if let Some(error) = answer["errors"].get(0) {
            return Err(format!("HTTP {status}, GraphQL error: {error}"));
        }
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        Ok(answer)
    }

    async fn hsds_page(&self, page: u32) -> Result<(), String> {
        let response = self
            .http
            .get(&self.plan.hsds)
            .query(&[("page", page.to_string()), ("per_page", "50".to_owned())])
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| format!("answer cut off: {e}"))?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)));
        }
        let page: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
        match page["contents"].as_array() {
            Some(contents) if !contents.is_empty() => Ok(()),
            _ => Err("an HSDS page without contents".to_owned()),
        }
    }
}
