//! socialmap: a GraphQL API over the local social map, for the people who accompany refugee
//! families and the municipalities and organisations that keep the map right.

pub mod auth;
pub mod bench;
pub mod config;
pub mod db;
pub mod error;
pub mod geo;
pub mod graphql;
pub mod hsds;
pub mod listings;
pub mod reference;
pub mod referrals;
pub mod relay;
pub mod search;
pub mod server;
