//! Settings, from flags or the environment. Every one has a default, so `caisse` with no
//! configuration serves a working checkout on `127.0.0.1:8080` from `caisse.db`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

#[derive(Clone, Args)]
pub struct Settings {
    /// `sqlite:caisse.db` (created if missing) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite:caisse.db",
        global = true
    )]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "CAISSE_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// The URL customers reach caisse at, for checkout links (default: http://<bind>).
    #[arg(long, env = "CAISSE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// The largest quantity a session may carry or a customer may choose.
    #[arg(long, env = "CAISSE_MAX_QUANTITY", default_value_t = 99, global = true,
          value_parser = clap::value_parser!(i64).range(1..=10_000))]
    pub max_quantity: i64,

    /// Seconds between two passes of the expiry sweeper.
    #[arg(long, env = "CAISSE_SWEEP_INTERVAL", default_value_t = 30, global = true,
          value_parser = seconds(86_400))]
    pub sweep_interval_secs: u64,

    /// Seconds before a pending payment's status is first read from its provider (a lost
    /// notification delays a completion by about this much); later reads back off, doubling,
    /// to ten minutes apart.
    #[arg(long, env = "CAISSE_RECONCILE_INTERVAL", default_value_t = 15, global = true,
          value_parser = seconds(3_600))]
    pub reconcile_interval_secs: u64,

    /// Days a test-mode session is kept after it ended (completed or expired), with its
    /// payments and events; `0` keeps them for good. Live sessions are always kept.
    #[arg(long, env = "CAISSE_TEST_RETENTION_DAYS", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub test_retention_days: u32,

    /// Wave's API (change it only to reach a test double of it).
    #[arg(long, env = "CAISSE_WAVE_API_URL", default_value = crate::adapters::wave::DEFAULT_API_URL, global = true)]
    pub wave_api_url: String,

    /// Orange's API, for Orange Money Web Payment: its token endpoint and both the sandbox's and
    /// each country's web payment paths (change it only to reach a test double of it).
    #[arg(long, env = "CAISSE_ORANGE_API_URL", default_value = crate::adapters::orange::DEFAULT_API_URL, global = true)]
    pub orange_api_url: String,

    /// MTN MoMo's Collection API, live (change it only to reach a test double of it); accounts
    /// with `target_environment=sandbox` reach MTN's sandbox host while it is the default.
    #[arg(long, env = "CAISSE_MTN_API_URL", default_value = crate::adapters::mtn::DEFAULT_API_URL, global = true)]
    pub mtn_api_url: String,

    /// Stripe's API, for card payments through Stripe Checkout (change it only to reach a test
    /// double of it).
    #[arg(long, env = "CAISSE_STRIPE_API_URL", default_value = crate::adapters::stripe::DEFAULT_API_URL, global = true)]
    pub stripe_api_url: String,

    /// Requests a second each API key may make (and as many at once), per node; past it, 429
    /// with `Retry-After`. `0` turns the limit off (benchmarks).
    #[arg(
        long,
        env = "CAISSE_API_RATE_LIMIT",
        default_value_t = 100,
        global = true
    )]
    pub api_rate_limit: u32,

    /// The request header that carries the client's address when caisse is behind a reverse
    /// proxy (e.g. `X-Forwarded-For`: its last address, the one the proxy added, is taken).
    /// Unset, the address is the connection's peer. Per-address limits key on it.
    #[arg(long, env = "CAISSE_CLIENT_IP_HEADER", global = true)]
    pub client_ip_header: Option<String>,

    /// Seconds a webhook endpoint has to answer before the attempt counts as failed.
    #[arg(long, env = "CAISSE_WEBHOOK_TIMEOUT", default_value_t = 10, global = true,
          value_parser = seconds(120))]
    pub webhook_timeout_secs: u64,

    /// Milliseconds before the first webhook retry; each later retry waits twice as long, up
    /// to an hour, for a day.
    #[arg(long, env = "CAISSE_WEBHOOK_RETRY_BASE_MS", default_value_t = 30_000, global = true,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_retry_base_ms: u64,

    /// Let webhooks reach loopback and private addresses (`1`): for local development and
    /// tests only. Unset or `0`, caisse connects only to public addresses, whatever a URL says.
    #[arg(long, env = "CAISSE_WEBHOOK_ALLOW_PRIVATE", default_value = "0", global = true,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,

    /// Seconds a client has to send a request's whole body; a body that trickles in longer is
    /// cut off with a 408 and its connection closed.
    #[arg(long, env = "CAISSE_BODY_TIMEOUT", default_value_t = 10, global = true,
          value_parser = seconds(300))]
    pub body_timeout_secs: u64,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CAISSE_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// The folder of the page's CSS, script and icons.
    #[arg(long, env = "CAISSE_STATIC_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/static"), global = true)]
    pub static_dir: std::path::PathBuf,

    /// The bearer token a metrics scraper sends (`Authorization: Bearer …`) to read
    /// `/metrics`. Unset, `/metrics` answers only requests from this machine (loopback) that
    /// no proxy relayed; any other request is 404.
    #[arg(long, env = "CAISSE_METRICS_TOKEN", hide_env_values = true, global = true,
          value_parser = secret)]
    pub metrics_token: Option<SecretString>,

    /// The master key that seals provider credentials in the database: 64 hex digits, or the
    /// base64 of 32 bytes. Every node of one database needs the same. Unset: the key file. Prefer
    /// the environment to the flag, which other users can see in the process list.
    #[arg(long, env = "CAISSE_MASTER_KEY", hide_env_values = true, global = true,
          value_parser = secret)]
    pub master_key: Option<SecretString>,

    /// The file holding the master key when CAISSE_MASTER_KEY is unset; made (32 random bytes,
    /// mode 0600) on the first start without one. [default: caisse.key beside the SQLite
    /// database; with PostgreSQL, in the working directory]
    #[arg(long, env = "CAISSE_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "CAISSE_LOG_FORMAT", default_value = "text", global = true,
          value_parser = ["text", "json"])]
    pub log_format: String,
}

impl Settings {
    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.bind),
        }
    }

    pub fn sweep_interval(&self) -> Duration {
        Duration::from_secs(self.sweep_interval_secs)
    }

    /// How long ended test-mode sessions are kept; `None`: for good.
    pub fn test_retention(&self) -> Option<chrono::Duration> {
        (self.test_retention_days > 0)
            .then(|| chrono::Duration::days(self.test_retention_days.into()))
    }

    pub fn reconcile_interval(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.reconcile_interval_secs).unwrap_or(15))
    }

    /// Where the master key is kept when CAISSE_MASTER_KEY is unset: the setting, else
    /// `caisse.key` beside the SQLite database file, else (PostgreSQL) in the working directory.
    pub fn master_key_file(&self) -> PathBuf {
        const NAME: &str = "caisse.key";
        if let Some(path) = &self.master_key_file {
            return path.clone();
        }
        if self.database_kind() == "sqlite"
            && let Ok(options) = self
                .database_url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
        {
            return options.get_filename().with_file_name(NAME);
        }
        PathBuf::from(NAME)
    }

    /// Which database, for logs: the URL itself may carry a password.
    pub fn database_kind(&self) -> &'static str {
        if self.database_url.starts_with("postgres") {
            "postgresql"
        } else {
            "sqlite"
        }
    }
}

/// A number of seconds, from 1 to `max`.
fn seconds(max: u64) -> clap::builder::RangedU64ValueParser {
    clap::value_parser!(u64).range(1..=max)
}

/// A secret flag or variable, taken as it is: it is checked where it is used, so that no
/// error message repeats it.
fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(value.into())
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.database_kind())
            .field("bind", &self.bind)
            .field("public_url", &self.public_url())
            .field("max_quantity", &self.max_quantity)
            .field("sweep_interval_secs", &self.sweep_interval_secs)
            .finish_non_exhaustive()
    }
}
