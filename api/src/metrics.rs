//! Prometheus metrics on `/metrics`: GraphQL requests and their latency per operation (the
//! root field asked for, so the label set is bounded by the schema), search latency, how far
//! the search index lags behind the change log, referrals per status, and the allocator's
//! heap. Counts and timings only: no arguments, no personal data.

use std::time::{Duration, Instant};

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection};
use entity::enums::ReferralStatus;
use entity::referral;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QuerySelect};

use crate::search::SearchIndex;

/// Latency buckets in seconds, from 1 ms to 10 s.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    search_latency: HistogramVec,
    index_lag: IntGauge,
    referrals: IntGaugeVec,
    heap_allocated: IntGauge,
    heap_resident: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "socialmap_graphql_requests_total",
                "GraphQL requests by root field and outcome",
            ),
            &["operation", "outcome"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "socialmap_graphql_request_seconds",
                "GraphQL request latency by root field",
            )
            .buckets(BUCKETS.to_vec()),
            &["operation"],
        )
        .expect("valid metric");
        let search_latency = HistogramVec::new(
            HistogramOpts::new("socialmap_search_seconds", "searchServices time in the index")
                .buckets(BUCKETS.to_vec()),
            &[],
        )
        .expect("valid metric");
        let index_lag = IntGauge::new(
            "socialmap_search_index_lag_rows",
            "Change-log rows this replica's index has not applied",
        )
        .expect("valid metric");
        let referrals = IntGaugeVec::new(Opts::new("socialmap_referrals", "Referrals by status"), &["status"])
            .expect("valid metric");
        // Resident memory alone cannot tell a leak from an allocator keeping freed pages;
        // these two can: a leak grows the first.
        let heap_allocated = IntGauge::new(
            "socialmap_heap_allocated_bytes",
            "Bytes in live allocations (jemalloc stats.allocated)",
        )
        .expect("valid metric");
        let heap_resident = IntGauge::new(
            "socialmap_heap_resident_bytes",
            "Bytes in resident pages the allocator maps, live or freed and not yet returned; an upper bound (jemalloc stats.resident)",
        )
        .expect("valid metric");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(search_latency.clone()),
            Box::new(index_lag.clone()),
            Box::new(referrals.clone()),
            Box::new(heap_allocated.clone()),
            Box::new(heap_resident.clone()),
        ] {
            registry.register(collector).expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            latency,
            search_latency,
            index_lag,
            referrals,
            heap_allocated,
            heap_resident,
        }
    }

    /// Records one GraphQL operation under its first root field (`invalid` when its document
    /// did not parse), whether it answered without errors, and how long it took.
    pub fn observe_request(&self, operation: Option<&str>, ok: bool, took: Duration) {
        let operation = operation.unwrap_or("invalid");
        let outcome = if ok { "ok" } else { "error" };
        self.requests.with_label_values(&[operation, outcome]).inc();
        self.latency.with_label_values(&[operation]).observe(took.as_secs_f64());
    }

    /// Records one search's time in the index.
    pub fn observe_search(&self, started: Instant) {
        self.search_latency
            .with_label_values::<&str>(&[])
            .observe(started.elapsed().as_secs_f64());
    }

    /// The text exposition, with the gauges read now.
    pub async fn render(&self, db: &DatabaseConnection, search: &SearchIndex) -> String {
        match search.lag(db).await {
            Ok(lag) => self.index_lag.set(lag),
            Err(error) => tracing::warn!(%error, "could not read the index lag for /metrics"),
        }
        let counts: Result<Vec<(ReferralStatus, i64)>, _> = referral::Entity::find()
            .select_only()
            .column(referral::Column::Status)
            .column_as(referral::Column::Id.count(), "count")
            .group_by(referral::Column::Status)
            .into_tuple()
            .all(db)
            .await;
        match counts {
            Ok(counts) => {
                for status in <ReferralStatus as sea_orm::Iterable>::iter() {
                    let count = counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
                    let label = serde_json::to_value(status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned));
                    self.referrals
                        .with_label_values(&[label.unwrap_or_default().as_str()])
                        .set(count);
                }
            }
            Err(error) => tracing::warn!(%error, "could not count referrals for /metrics"),
        }
        match heap() {
            Ok((allocated, resident)) => {
                self.heap_allocated.set(allocated);
                self.heap_resident.set(resident);
            }
            Err(error) => tracing::warn!(%error, "could not read the allocator's figures for /metrics"),
        }
        let mut text = Vec::new();
        if let Err(error) = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            tracing::warn!(%error, "could not encode metrics");
        }
        String::from_utf8(text).unwrap_or_default()
    }
}

/// Bytes allocated and bytes resident, as jemalloc counts them now.
#[cfg(not(target_env = "msvc"))]
fn heap() -> Result<(i64, i64), tikv_jemalloc_ctl::Error> {
    use tikv_jemalloc_ctl::{epoch, stats};
    // The figures are cached until the epoch moves.
    epoch::advance()?;
    let as_i64 = |bytes: usize| i64::try_from(bytes).unwrap_or(i64::MAX);
    Ok((as_i64(stats::allocated::read()?), as_i64(stats::resident::read()?)))
}

#[cfg(target_env = "msvc")]
fn heap() -> Result<(i64, i64), std::convert::Infallible> {
    Ok((0, 0))
}

/// The first field of the (first) operation: what the request is about, and its label in
/// the request metrics.
pub fn first_root_field(document: &ExecutableDocument) -> Option<String> {
    let operation = match &document.operations {
        DocumentOperations::Single(operation) => operation,
        DocumentOperations::Multiple(operations) => operations.values().next()?,
    };
    operation
        .node
        .selection_set
        .node
        .items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => Some(field.node.name.node.to_string()),
            _ => None,
        })
}
