//! Configuration in layers, each overriding the one before: built-in defaults, an optional
//! `socialmap.toml`, `DATABASE_URL`, `SOCIALMAP_*` environment variables, command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`; without it, an SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// Where the SQLite file (and later the search index) live.
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Seed the demonstration map into an empty database.
    pub demo_map: bool,
    /// Log filter in `tracing` syntax, e.g. `info` or `api=debug,sqlx=warn`.
    pub log: String,
    /// `development` (the default) or `production`. Only development makes its own
    /// encryption key.
    pub environment: Environment,
    /// Base64 of 32 random bytes (`socialmap generate-key`): encrypts referrals at rest.
    pub encryption_key: Option<String>,
    /// Keys used before the current one, still needed to read what they encrypted.
    pub previous_encryption_keys: Vec<String>,
    /// Days after a referral closes before its personal fields are erased.
    pub referral_retention_days: u32,
    /// Days after a support plan closes before its content is erased (at once when the
    /// family withdrew its consent).
    pub plan_retention_days: u32,
    /// Days the change log keeps its rows; a replica down for longer rebuilds its index.
    pub change_log_retention_days: u32,
    /// Largest GraphQL request body accepted, in bytes (`importHsds` takes up to 5 MB).
    pub max_body_bytes: usize,
    /// Most operations in one batched GraphQL request.
    pub max_batch: usize,
    /// Seconds a GraphQL request may run before it is stopped.
    pub request_timeout_seconds: u64,
    /// Whether the schema answers introspection (GraphiQL needs it).
    pub introspection: bool,
    /// Origins of front ends allowed to call `/graphql` from a browser
    /// (`https://app.example.org`); none by default. The HSDS API is open to every origin.
    pub cors_origins: Vec<String>,
    /// `text` (the default) or `json`, one object per line, for log collectors.
    pub log_format: LogFormat,
    /// GraphQL requests per minute per token (or, without one, per client address); 0 turns
    /// the limit off. Login and suggestions have stricter limits of their own.
    pub requests_per_minute: u32,
    /// Reverse proxies in front of the server, as addresses or networks (`10.0.0.0/8`).
    /// Behind them, the client is the nearest address in `X-Forwarded-For` that is not one
    /// of them; from anyone else the header is ignored. None by default.
    pub trusted_proxies: Vec<Network>,
    /// Seconds a stopping server (SIGTERM) waits for requests in flight and open
    /// subscriptions before it exits anyway.
    pub shutdown_grace_seconds: u64,
    /// Open subscriptions one client (token, else address) may hold at once.
    pub max_subscriptions_per_client: usize,
    /// Open subscriptions the server holds at once, over all clients.
    pub max_subscriptions: usize,
}

/// An address (`::1`) or a network (`10.0.0.0/8`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub struct Network(pub IpNet);

impl TryFrom<String> for Network {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
            .map(Network)
            .map_err(|_| format!("`{text}` is not an IP address or network such as 10.0.0.0/8"))
    }
}

impl From<Network> for String {
    fn from(network: Network) -> Self {
        network.0.to_string()
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            data_dir: PathBuf::from("data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            demo_map: true,
            log: "info,sqlx=warn,sea_orm=warn".to_owned(),
            environment: Environment::Development,
            encryption_key: None,
            previous_encryption_keys: Vec::new(),
            referral_retention_days: 180,
            plan_retention_days: 180,
            change_log_retention_days: 7,
            max_body_bytes: 6 * 1024 * 1024,
            max_batch: 10,
            request_timeout_seconds: 30,
            introspection: true,
            cors_origins: Vec::new(),
            log_format: LogFormat::Text,
            requests_per_minute: 1_200,
            trusted_proxies: Vec::new(),
            shutdown_grace_seconds: 20,
            max_subscriptions_per_client: 20,
            max_subscriptions: 10_000,
        }
    }
}

/// Values given as command-line flags; only those set override the other layers.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo_map: Option<bool>,
}

impl Config {
    /// Reads the layers. `file` is `socialmap.toml` in the working directory unless given;
    /// a missing file is fine, a malformed one is an error.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file.unwrap_or(Path::new("socialmap.toml"))))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("SOCIALMAP_").only(&[
                "database_url",
                "data_dir",
                "listen",
                "demo_map",
                "log",
                "environment",
                "encryption_key",
                "previous_encryption_keys",
                "referral_retention_days",
                "plan_retention_days",
                "change_log_retention_days",
                "max_body_bytes",
                "max_batch",
                "request_timeout_seconds",
                "introspection",
                "cors_origins",
                "log_format",
                "requests_per_minute",
                "trusted_proxies",
                "shutdown_grace_seconds",
                "max_subscriptions_per_client",
                "max_subscriptions",
            ]))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }

    /// This replica's search index: derived from the database, rebuilt when missing.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("search-index")
    }

    /// The database to use: the configured URL, else `data_dir/socialmap.sqlite`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("socialmap.sqlite").display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail decides the closure's error type
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "socialmap.toml",
                "listen = \"127.0.0.1:9000\"\ndata_dir = \"from-file\"",
            )?;
            jail.set_env("DATABASE_URL", "postgres://generic/db");
            jail.set_env("SOCIALMAP_DATA_DIR", "from-env");
            let config = Config::load(
                None,
                Overrides {
                    demo_map: Some(false),
                    ..Overrides::default()
                },
            )
            .map_err(|e| *e)?;
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.data_dir, PathBuf::from("from-env"));
            assert_eq!(config.database_url(), "postgres://generic/db");
            assert!(!config.demo_map);

            jail.set_env("SOCIALMAP_DATABASE_URL", "postgres://specific/db");
            jail.set_env("SOCIALMAP_TRUSTED_PROXIES", r#"["10.0.0.0/8", "::1"]"#);
            let config = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert_eq!(config.database_url(), "postgres://specific/db");
            let proxies: Vec<String> = config.trusted_proxies.iter().map(|n| n.0.to_string()).collect();
            assert_eq!(proxies, ["10.0.0.0/8", "::1/128"]);
            Ok(())
        });
    }

    #[test]
    fn defaults_to_sqlite_under_data() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://data/socialmap.sqlite?mode=rwc");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    }
}
