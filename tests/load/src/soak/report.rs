//! The soak's report: errors, latency per window and per operation, memory from start to end,
//! and whether it passed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use super::workload::{Operation, Sample};
use super::{MAX_MEMORY_GROWTH, Reading, SoakOptions};
use crate::report::Latency;

/// Distinct error messages kept for the report.
const ERRORS_SHOWN: usize = 5;

/// One window of the measured time.
pub struct Window {
    pub from: Duration,
    pub requests: usize,
    pub errors: usize,
    pub reads: Latency,
    pub writes: Latency,
    /// The median of the server's memory readings in the window.
    pub memory: Option<Reading>,
}

pub struct SoakReport {
    pub database: &'static str,
    pub clients: usize,
    pub cores: usize,
    pub optimized: bool,
    pub warm_up: Duration,
    pub duration: Duration,
    pub warm_up_requests: usize,
    pub warm_up_errors: usize,
    pub requests: usize,
    pub errors: usize,
    /// The most frequent error messages of the measured time, with how often each came.
    pub error_messages: Vec<(String, usize)>,
    pub windows: Vec<Window>,
    pub by_operation: Vec<(Operation, usize, Latency)>,
    pub memory_when_ready: Reading,
    pub memory_start: Reading,
    pub memory_end: Reading,
    pub memory_peak: Reading,
    pub exit: ExitStatus,
    pub shutdown: Duration,
    /// Where the server's log was kept, when something failed.
    pub server_log: Option<PathBuf>,
}

impl SoakReport {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        options: &SoakOptions,
        database: &'static str,
        samples: Vec<Sample>,
        memory_when_ready: Reading,
        memory: Vec<(Duration, Reading)>,
        exit: ExitStatus,
        shutdown: Duration,
    ) -> SoakReport {
        let duration = options.duration.as_secs_f64();
        let (warm_up, measured): (Vec<Sample>, Vec<Sample>) = samples.into_iter().partition(|s| s.at < 0.0);
        let measured: Vec<Sample> = measured.into_iter().filter(|s| s.at < duration).collect();

        let mut messages: BTreeMap<String, usize> = BTreeMap::new();
        for error in measured.iter().filter_map(|s| s.error.as_ref()) {
            *messages.entry(error.clone()).or_default() += 1;
        }
        let mut error_messages: Vec<(String, usize)> = messages.into_iter().collect();
        error_messages.sort_by_key(|message| std::cmp::Reverse(message.1));
        error_messages.truncate(ERRORS_SHOWN);

        let width = options.window.as_secs_f64();
        let count = (duration / width).ceil() as usize;
        let windows = (0..count)
            .map(|n| {
                let (from, to) = (n as f64 * width, ((n + 1) as f64 * width).min(duration));
                let inside: Vec<&Sample> = measured.iter().filter(|s| s.at >= from && s.at < to).collect();
                Window {
                    from: Duration::from_secs_f64(from),
                    requests: inside.len(),
                    errors: inside.iter().filter(|s| s.error.is_some()).count(),
                    reads: latency(inside.iter().copied().filter(|s| !s.operation.writes())),
                    writes: latency(inside.iter().copied().filter(|s| s.operation.writes())),
                    memory: median_between(&memory, from, to),
                }
            })
            .collect();
        let by_operation = Operation::ALL
            .iter()
            .map(|&operation| {
                let of = measured.iter().filter(|s| s.operation == operation);
                let errors = of.clone().filter(|s| s.error.is_some()).count();
                (operation, errors, latency(of))
            })
            .collect();
        // One reading swings by several MB as the allocator hands freed pages back in bursts;
        // the median of a window's readings does not.
        let first = median_between(&memory, 0.0, width).unwrap_or_default();
        let last = median_between(&memory, (duration - width).max(0.0), duration + 1.0).unwrap_or_default();
        let peak = memory
            .iter()
            .map(|(_, r)| *r)
            .max_by_key(|r| r.resident.total)
            .unwrap_or_default();
        SoakReport {
            database,
            clients: options.clients,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            optimized: !cfg!(debug_assertions),
            warm_up: options.warm_up,
            duration: options.duration,
            warm_up_requests: warm_up.len(),
            warm_up_errors: warm_up.iter().filter(|s| s.error.is_some()).count(),
            requests: measured.len(),
            errors: measured.iter().filter(|s| s.error.is_some()).count(),
            error_messages,
            windows,
            by_operation,
            memory_when_ready,
            memory_start: first,
            memory_end: last,
            memory_peak: peak,
            exit,
            shutdown,
            server_log: None,
        }
    }

    /// Resident memory in the last window over that in the first, minus one.
    pub fn memory_growth(&self) -> f64 {
        if self.memory_start.resident.total == 0 {
            return 0.0;
        }
        self.memory_end.resident.total as f64 / self.memory_start.resident.total as f64 - 1.0
    }

    /// What failed; empty when the soak passed.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.errors + self.warm_up_errors > 0 {
            failures.push(format!(
                "{} requests failed ({} during the warm-up)",
                self.errors + self.warm_up_errors,
                self.warm_up_errors
            ));
        }
        if self.memory_growth() > MAX_MEMORY_GROWTH {
            failures.push(format!(
                "memory grew by {:.1}%, more than {:.0}%",
                self.memory_growth() * 100.0,
                MAX_MEMORY_GROWTH * 100.0
            ));
        }
        if self.memory_start.resident.total == 0 {
            failures.push("the server's memory could not be read (/proc)".to_owned());
        }
        if !self.exit.success() {
            failures.push(format!("the server did not exit cleanly on SIGTERM: {}", self.exit));
        }
        failures
    }
}

fn latency<'a>(samples: impl Iterator<Item = &'a Sample>) -> Latency {
    Latency::of(samples.map(|s| s.latency).collect())
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1_048_576.0)
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.duration.as_secs_f64();
        writeln!(f, "# Soak")?;
        writeln!(f)?;
        writeln!(
            f,
            "Demo map on {}, `socialmap serve` as a child process, {} clients, {} cores, {} build. \
             {:.0} s warm-up ({} requests, {} errors), then {:.0} s measured.",
            self.database,
            self.clients,
            self.cores,
            if self.optimized {
                "release"
            } else {
                "debug (no measurement)"
            },
            self.warm_up.as_secs_f64(),
            self.warm_up_requests,
            self.warm_up_errors,
            seconds,
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "**{} requests ({:.0}/s), {} errors.**",
            self.requests,
            self.requests as f64 / seconds,
            self.errors
        )?;
        for (message, count) in &self.error_messages {
            writeln!(f, "- {count} × {message}")?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "| from | requests | errors | reads p50 / p95 / p99 / max (ms) | writes p50 / p95 / p99 / max (ms) | server RSS (MB) | live heap (MB) |"
        )?;
        writeln!(f, "|---|---:|---:|---|---|---:|---:|")?;
        for window in &self.windows {
            let figures = |l: &Latency| format!("{} / {} / {} / {}", ms(l.p50), ms(l.p95), ms(l.p99), ms(l.max));
            writeln!(
                f,
                "| {} s | {} | {} | {} | {} | {} | {} |",
                window.from.as_secs(),
                window.requests,
                window.errors,
                figures(&window.reads),
                figures(&window.writes),
                window.memory.map_or("–".to_owned(), |m| mb(m.resident.total)),
                window
                    .memory
                    .and_then(|m| m.heap)
                    .map_or("–".to_owned(), |(allocated, _)| mb(allocated)),
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "| operation | requests | errors | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|")?;
        for (operation, errors, latency) in &self.by_operation {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} |",
                operation.label(),
                latency.count + errors,
                errors,
                ms(latency.p50),
                ms(latency.p95),
                ms(latency.p99),
                ms(latency.max)
            )?;
        }
        writeln!(f)?;
        let resident = |r: &Reading| {
            let heap = r.heap.map_or(String::new(), |(allocated, held)| {
                format!("; the allocator holds {} MB, {} MB of it live", mb(held), mb(allocated))
            });
            format!(
                "{} MB ({} MB heap and stacks, {} MB mapped files{heap})",
                mb(r.resident.total),
                mb(r.resident.anonymous),
                mb(r.resident.file)
            )
        };
        writeln!(f, "Server memory (resident):")?;
        writeln!(f, "- when ready: {}", resident(&self.memory_when_ready))?;
        writeln!(
            f,
            "- in the first window (median of its readings): {}",
            resident(&self.memory_start)
        )?;
        writeln!(f, "- in the last window (median): {}", resident(&self.memory_end))?;
        writeln!(f, "- highest reading: {}", resident(&self.memory_peak))?;
        writeln!(
            f,
            "- growth from the first window to the last: {:+.1}% (at most {:.0}%)",
            self.memory_growth() * 100.0,
            MAX_MEMORY_GROWTH * 100.0
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "SIGTERM: the server exited with {} after {:.2} s.",
            self.exit,
            self.shutdown.as_secs_f64()
        )?;
        writeln!(f)?;
        match self.failures().as_slice() {
            [] => writeln!(f, "**Passed.**"),
            failures => {
                writeln!(f, "**Failed:** {}.", failures.join("; "))?;
                match &self.server_log {
                    Some(log) => writeln!(f, "The server's log is in {}.", log.display()),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The median, by resident total, of the readings taken from `from` to `to` seconds.
fn median_between(readings: &[(Duration, Reading)], from: f64, to: f64) -> Option<Reading> {
    let mut inside: Vec<Reading> = readings
        .iter()
        .filter(|(at, _)| (from..=to).contains(&at.as_secs_f64()))
        .map(|(_, reading)| *reading)
        .collect();
    inside.sort_by_key(|reading| reading.resident.total);
    inside.get(inside.len() / 2).copied()
}
