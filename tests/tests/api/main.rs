//! End-to-end tests: each test starts the real server on a free port against a fresh,
//! migrated and seeded database (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set) and
//! speaks GraphQL over HTTP, as a front end would.

mod harness;

mod auth;
mod bad_input;
mod bench;
mod coverage;
mod editing;
mod hsds;
mod hsds_import;
mod languages;
mod limits;
mod listings;
mod pipeline;
mod plans;
mod reference;
mod referrals;
mod relevance;
mod schema;
mod search;
mod server;
mod suggestions;
