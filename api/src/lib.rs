//! socialmap: a GraphQL API over the local social map, for the people who accompany refugee
//! families and the municipalities and organisations that keep the map right.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod geo;
pub mod graphql;
pub mod hsds;
pub mod listings;
pub mod metrics;
pub mod plans;
pub mod reference;
pub mod referrals;
pub mod relay;
pub mod search;
pub mod server;

/// Under the soak glibc's allocator grew the server's heap by a quarter in 10 minutes (freed
/// memory kept in per-thread arenas), and mimalloc served 313 requests/s where jemalloc
/// served 545 (3-minute soaks of the same build otherwise). Set here rather than in `main.rs`
/// so that the tests run on the allocator production runs on, and /metrics can read its
/// figures wherever the library is used.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
