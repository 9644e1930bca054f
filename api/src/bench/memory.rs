//! Resident memory of the bench process, from Linux's `/proc/self/status`.
//!
//! Generating a synthetic map holds all of it in memory at once, which no replica does; so the
//! peak is read after seeding and then reset (`/proc/self/clear_refs`), and the peak at the end
//! covers building the index and serving only.

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
    status_bytes("VmHWM:")
}

/// `VmRSS`: resident memory now.
pub fn current() -> u64 {
    status_bytes("VmRSS:")
}

/// Starts `VmHWM` over from the current resident memory; false where the kernel does not allow it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn status_bytes(field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}
