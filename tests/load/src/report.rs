//! Latency statistics and the printed report: a table of our search in-process and through
//! HTTP against the PostgreSQL baseline, per question kind, then index build, write →
//! searchable, memory, and which of issue 7's targets hold.

use std::collections::BTreeMap;
use std::fmt::{self, Display, Formatter};
use std::time::Duration;

use crate::BenchReport;
use crate::questions::QuestionKind;

/// Issue 7's targets, set for 100,000 services on 2 cores in a release build.
const TARGET_IN_PROCESS_P99: Duration = Duration::from_millis(10);
const TARGET_TIMES_FASTER_THAN_BASELINE: f64 = 10.0;
const TARGET_HTTP_THROUGHPUT: f64 = 2_000.0;
const TARGET_HTTP_P99: Duration = Duration::from_millis(50);
const TARGET_INDEX_BUILD: Duration = Duration::from_secs(30);
const TARGET_OTHER_REPLICA: Duration = Duration::from_secs(2);
const TARGET_RSS: u64 = 1 << 30;

/// Latency percentiles of a set of timed questions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    pub count: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// All latencies added up: for questions asked one at a time, `count / busy` is how many
    /// one core answers per second.
    pub busy: Duration,
}

impl Latency {
    pub fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort();
        let at = |p: f64| {
            samples
                .get(((p * samples.len() as f64).ceil() as usize).max(1) - 1)
                .copied()
                .unwrap_or_default()
        };
        Latency {
            count: samples.len(),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
            busy: samples.iter().sum(),
        }
    }
}

/// Latencies over all questions and per kind, and how many were answered per second of wall
/// time.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    pub overall: Latency,
    pub by_kind: Vec<(QuestionKind, Latency)>,
    pub queries_per_second: f64,
}

impl Timings {
    pub fn of(samples: Vec<(QuestionKind, Duration)>, wall: Duration) -> Timings {
        let mut by_kind: BTreeMap<QuestionKind, Vec<Duration>> = BTreeMap::new();
        for (kind, latency) in &samples {
            by_kind.entry(*kind).or_default().push(*latency);
        }
        Timings {
            queries_per_second: samples.len() as f64 / wall.as_secs_f64().max(f64::MIN_POSITIVE),
            overall: Latency::of(samples.into_iter().map(|(_, latency)| latency).collect()),
            by_kind: by_kind.into_iter().map(|(k, l)| (k, Latency::of(l))).collect(),
        }
    }

    pub fn kind(&self, kind: QuestionKind) -> Option<&Latency> {
        self.by_kind
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, latency)| latency)
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

fn ratio(theirs: Duration, ours: Duration) -> f64 {
    theirs.as_secs_f64() / ours.as_secs_f64().max(f64::MIN_POSITIVE)
}

fn percent(part: usize, whole: usize) -> String {
    format!("{:.0}%", 100.0 * part as f64 / whole.max(1) as f64)
}

fn median_and_max(samples: &[Duration]) -> (Duration, Duration) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let median = sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default();
    (median, sorted.last().copied().unwrap_or_default())
}

/// One of issue 7's targets: `None` when this run did not measure it.
struct Target {
    holds: Option<bool>,
    text: String,
}

impl BenchReport {
    fn targets(&self) -> Vec<Target> {
        let in_process = &self.in_process.overall;
        let http = &self.http.timings;
        let (_, slowest_other) = median_and_max(&self.write_to_searchable.other_replica);
        let times_faster = self
            .baseline
            .as_ref()
            .map(|b| ratio(b.timings.overall.p50, in_process.p50));
        vec![
            Target {
                holds: Some(in_process.p99 <= TARGET_IN_PROCESS_P99),
                text: format!("in-process p99 ≤ 10 ms: {} ms", ms(in_process.p99)),
            },
            Target {
                holds: times_faster.map(|times| times >= TARGET_TIMES_FASTER_THAN_BASELINE),
                text: match (times_faster, &self.baseline) {
                    (Some(times), Some(baseline)) => format!(
                        "in-process ≥ 10× faster than PostgreSQL at p50: {times:.1}× ({:.1}× on the {} questions \
                         PostgreSQL found something for)",
                        ratio(baseline.answered.theirs.p50, baseline.answered.ours.p50),
                        baseline.answered.questions
                    ),
                    _ => "in-process ≥ 10× faster than PostgreSQL at p50: no baseline (--postgres)".to_owned(),
                },
            },
            Target {
                holds: Some(http.queries_per_second >= TARGET_HTTP_THROUGHPUT),
                text: format!("HTTP ≥ 2000 searches/s: {:.0}/s", http.queries_per_second),
            },
            Target {
                holds: Some(http.overall.p99 <= TARGET_HTTP_P99),
                text: format!("HTTP p99 ≤ 50 ms: {} ms", ms(http.overall.p99)),
            },
            Target {
                holds: Some(self.index.elapsed <= TARGET_INDEX_BUILD),
                text: format!("full index build ≤ 30 s: {}", seconds(self.index.elapsed)),
            },
            Target {
                holds: Some(slowest_other <= TARGET_OTHER_REPLICA),
                text: format!(
                    "write → searchable on another replica ≤ 2 s: {} (slowest of {})",
                    seconds(slowest_other),
                    self.write_to_searchable.other_replica.len()
                ),
            },
            Target {
                holds: (self.memory.peak > 0).then_some(self.memory.peak <= TARGET_RSS),
                text: format!(
                    "replica RSS ≤ 1 GiB: {} (peak of the whole bench process, which hosts both replicas)",
                    megabytes(self.memory.peak)
                ),
            },
        ]
    }

    /// One row of the table per measurement of `kind` (`None`: all questions).
    fn rows(&self, f: &mut Formatter<'_>, kind: Option<QuestionKind>) -> fmt::Result {
        let label = kind.map_or("all", QuestionKind::label);
        let pick = |timings: &crate::Timings| match kind {
            Some(kind) => timings.kind(kind).copied().unwrap_or_default(),
            None => timings.overall,
        };
        // One at a time, a kind's rate is what one core answers; overall, the wall-clock rate.
        let one_at_a_time_rate = |timings: &crate::Timings, latency: &Latency| match kind {
            Some(_) => format!(
                "{:.0}",
                latency.count as f64 / latency.busy.as_secs_f64().max(f64::MIN_POSITIVE)
            ),
            None => format!("{:.0}", timings.queries_per_second),
        };
        let ours = pick(&self.in_process);
        writeln!(
            f,
            "| {label} | ours, in-process | {} | {} | {} | {} | {} | | | | | |",
            ours.count,
            ms(ours.p50),
            ms(ours.p95),
            ms(ours.p99),
            one_at_a_time_rate(&self.in_process, &ours)
        )?;
        let http = pick(&self.http.timings);
        let http_rate = match kind {
            Some(_) => "—".to_owned(),
            None => format!("{:.0}", self.http.timings.queries_per_second),
        };
        writeln!(
            f,
            "| | ours, HTTP, {} clients | {} | {} | {} | {} | {http_rate} | | | | | |",
            self.http.clients,
            http.count,
            ms(http.p50),
            ms(http.p95),
            ms(http.p99)
        )?;
        if let Some(baseline) = &self.baseline {
            let theirs = pick(&baseline.timings);
            let overlap = match kind {
                Some(kind) => baseline
                    .overlap_by_kind
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|(_, overlap)| *overlap)
                    .unwrap_or_default(),
                None => baseline.overlap,
            };
            writeln!(
                f,
                "| | PostgreSQL baseline | {} | {} | {} | {} | {} | {:.1}× | {:.1}× | {:.2} | {} | {} |",
                theirs.count,
                ms(theirs.p50),
                ms(theirs.p95),
                ms(theirs.p99),
                one_at_a_time_rate(&baseline.timings, &theirs),
                ratio(theirs.p50, ours.p50),
                ratio(theirs.p99, ours.p99),
                overlap.mean,
                percent(overlap.both_empty, overlap.questions),
                percent(overlap.only_ours, overlap.questions),
            )?;
        }
        Ok(())
    }
}

impl Display for BenchReport {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "socialmap-load bench: {} in {}, {} cores, {} build",
            self.map,
            self.database,
            self.cores,
            if self.optimized { "release" } else { "debug" }
        )?;
        if !self.optimized {
            writeln!(
                f,
                "(an unoptimised build: these figures show the bench works, not how fast search is; use --release)"
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "map          {} services, seeded in {}",
            self.services,
            seconds(self.seed_time)
        )?;
        writeln!(
            f,
            "index        full build {}: {} searchable services in {} segment(s), {:.1} MB on disk",
            seconds(self.index.elapsed),
            self.index.services,
            self.index.segments,
            self.index.bytes as f64 / 1e6
        )?;
        match &self.baseline {
            Some(baseline) => writeln!(
                f,
                "baseline     tsvector table and GIN index built in {}, {:.1} MB; {}",
                seconds(baseline.build),
                baseline.bytes as f64 / 1e6,
                baseline.server
            )?,
            None => writeln!(
                f,
                "baseline     skipped: the map is in SQLite; give --postgres ADMIN_URL to compare with PostgreSQL"
            )?,
        }
        writeln!(f)?;
        writeln!(
            f,
            "Search: {} questions after {} to warm up, {:.0} hits per question on average. In-process and \
             PostgreSQL answer one at a time; HTTP clients send searchServices (first: 20) for {} after their \
             warm-up: {} requests, {} errors{}.",
            self.in_process.overall.count,
            self.warm_up,
            self.mean_hits,
            seconds(self.http.elapsed),
            self.http.requests,
            self.http.errors,
            self.http
                .first_error
                .as_ref()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        )?;
        if self.baseline.is_some() {
            writeln!(
                f,
                "PG ÷ ours: how many times the baseline's latency is ours in-process. Overlap: |ours ∩ PG| / \
                 max(1, min(|ours|, |PG|)) over the top 20, averaged; \"both empty\" count 0. \"PG empty, ours not\": the \
                 baseline found nothing where ours found something, which costs it little: read its \
                 latencies with that column in mind."
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "| questions | measured | count | p50 ms | p95 ms | p99 ms | queries/s | PG ÷ ours p50 | PG ÷ ours p99 | \
             overlap | both empty | PG empty, ours not |"
        )?;
        writeln!(f, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")?;
        self.rows(f, None)?;
        for (kind, _) in &self.in_process.by_kind {
            self.rows(f, Some(*kind))?;
        }
        writeln!(f)?;
        if let Some(baseline) = &self.baseline {
            let answered = &baseline.answered;
            writeln!(
                f,
                "where PostgreSQL found something ({} of {} questions): PostgreSQL p50 {} ms, p99 {} ms; ours on \
                 the same questions p50 {} ms, p99 {} ms (PG ÷ ours p50 {:.1}×, p99 {:.1}×)",
                answered.questions,
                baseline.overlap.questions,
                ms(answered.theirs.p50),
                ms(answered.theirs.p99),
                ms(answered.ours.p50),
                ms(answered.ours.p99),
                ratio(answered.theirs.p50, answered.ours.p50),
                ratio(answered.theirs.p99, answered.ours.p99)
            )?;
            writeln!(f)?;
        }

        let write = &self.write_to_searchable;
        let (same_median, same_max) = median_and_max(&write.same_replica);
        let (other_median, other_max) = median_and_max(&write.other_replica);
        writeln!(
            f,
            "write → searchable ({} renames through updateService, until searchServices finds the new name): \
             same replica median {}, max {}; other replica median {}, max {}",
            write.same_replica.len(),
            seconds(same_median),
            seconds(same_max),
            seconds(other_median),
            seconds(other_max)
        )?;
        let memory = &self.memory;
        if memory.peak == 0 {
            writeln!(f, "memory       not measured: /proc/self/status is Linux only")?;
        } else if memory.peak_was_reset {
            writeln!(
                f,
                "memory       peak RSS {} after seeding (VmHWM: this process hosts the in-process index, both \
                 replicas and the load generator), {} at the end (VmRSS); seeding the map peaked at {}",
                megabytes(memory.peak),
                megabytes(memory.current),
                megabytes(memory.seeding_peak)
            )?;
        } else {
            writeln!(
                f,
                "memory       peak RSS {} over the whole run, seeding included (VmHWM could not be reset; this \
                 process hosts the in-process index, both replicas and the load generator), {} at the end (VmRSS)",
                megabytes(memory.peak),
                megabytes(memory.current)
            )?;
        }
        writeln!(f)?;
        writeln!(f, "targets (set for 100,000 services on 2 cores, release build):")?;
        for target in self.targets() {
            let mark = match target.holds {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "–",
            };
            writeln!(f, "  {mark} {}", target.text)?;
        }
        if self.baseline.is_some() {
            writeln!(f)?;
            writeln!(
                f,
                "The baseline does not forgive typos, know domain labels or synonyms (a French or English word \
                 finds nothing in Dutch text), stem French or English, or rank by language fit and freshness; \
                 it wants every word of the text (plainto_tsquery) where ours wants any, and orders by ts_rank, \
                 then distance."
            )?;
        }
        Ok(())
    }
}
