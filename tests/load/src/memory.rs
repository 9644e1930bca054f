//! Resident memory from Linux's `/proc/<pid>/status`: of the bench process itself, or of a
//! server the soak runs as a child process.
//!
//! Generating a synthetic map holds all of it in memory at once, which no replica does; so the
//! bench reads the peak after seeding and then resets it (`/proc/self/clear_refs`), and the
//! peak at the end covers building the index and serving only.

/// Resident memory in bytes; zero where the figures are unavailable (not Linux).
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// Peak while generating and seeding the map.
    pub seeding_peak: u64,
    /// Peak since seeding (`VmHWM`), or over the whole run when it could not be reset.
    pub peak: u64,
    pub peak_was_reset: bool,
    /// At the end (`VmRSS`).
    pub current: u64,
}

/// `VmHWM`: the peak resident memory so far.
pub fn peak() -> u64 {
    self_status().map_or(0, |status| field_bytes(&status, "VmHWM:"))
}

/// `VmRSS`: resident memory now.
pub fn current() -> u64 {
    self_status().map_or(0, |status| field_bytes(&status, "VmRSS:"))
}

/// Starts `VmHWM` over from the current resident memory; false where the kernel does not allow it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Resident memory of another process, split as the kernel counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resident {
    /// `VmRSS`: all of it.
    pub total: u64,
    /// `RssAnon`: the heap and stacks, what a leak grows.
    pub anonymous: u64,
    /// `RssFile`: mapped files (the search index), which the kernel may drop and reread.
    pub file: u64,
}

/// The resident memory of process `pid`; `None` when it is gone or this is not Linux.
pub fn of_process(pid: u32) -> Option<Resident> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Resident {
        total: field_bytes(&status, "VmRSS:"),
        anonymous: field_bytes(&status, "RssAnon:"),
        file: field_bytes(&status, "RssFile:"),
    })
}

fn self_status() -> Option<String> {
    std::fs::read_to_string("/proc/self/status").ok()
}

fn field_bytes(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}
