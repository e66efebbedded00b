//! Typed configuration from the environment (and an optional `.env`), checked at start-up.
//! Every variable is documented in `.env.example` and the README.

use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::time::Duration;

use app::state::{AuthSettings, TelemetrySettings};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/pareto";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// What is logged unless `PARETO_LOG` says otherwise: Pareto's own events, and Postgres notices
/// (such as a migration table that already exists) only when they warn.
pub const DEFAULT_LOG: &str = "info,sqlx::postgres::notice=warn";

#[derive(Debug, Clone)]
pub struct Config {
    /// May hold a password, so it is never printed; see [`Config::database_url_for_display`].
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub listen: SocketAddr,
    /// The origin browsers use to reach Pareto, when it sits behind a proxy (e.g. https://pareto.example.com).
    pub public_origin: Option<String>,
    pub trust_proxy_headers: bool,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    pub body_limit_bytes: usize,
    /// The largest billing export one import may send (imports stream; they are not held in memory).
    pub bill_limit_bytes: u64,
    /// The longest one record of an export may be (a row with no line break grows in memory).
    pub bill_record_limit_bytes: u64,
    /// Telemetry batches stored at once; more are refused with 429 and Retry-After.
    pub ingest_concurrency: usize,
    /// A change to the allocation rules re-allocates at most this many current ledger rows in its
    /// own transaction; a larger ledger is re-allocated by a job.
    pub allocate_inline_rows: i64,
    /// Ledger rows the re-allocation job allocates per transaction.
    pub allocate_batch_rows: i64,
    /// A rule's preview reads a ledger of at most about this many rows whole, a larger one from a
    /// sample of its pages.
    pub allocate_preview_rows: i64,
    /// Database connections that long streams (ledger exports, bill imports) may hold at once;
    /// the rest stay for pages, agents and probes. More streams are answered 503.
    pub stream_connections: usize,
    /// How long an export waits for a client that stopped reading, or an import for a client
    /// that stopped sending, before it gives up and lets its connection go.
    pub stream_idle_timeout: Duration,
    pub request_timeout: Duration,
    /// How often budgets and costs are evaluated and due alerts delivered.
    pub alert_interval: Duration,
    /// The wait before a failed webhook delivery's first retry; it doubles per attempt.
    pub webhook_retry: Duration,
    /// Whether webhooks may go to loopback and private addresses (a chat server inside the
    /// network). Link-local and metadata addresses are refused whatever this says.
    pub webhook_allow_private: bool,
    pub log_filter: String,
    pub log_format: LogFormat,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn error(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

fn parse_duration(variable: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let duration = humantime::parse_duration(value.trim()).map_err(|e| {
        error(
            variable,
            format!("`{value}` is not a duration like 30s, 15m or 8h ({e})"),
        )
    })?;
    if duration.is_zero() {
        return Err(error(variable, "must be longer than zero"));
    }
    Ok(duration)
}

fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(error(variable, format!("`{value}` is not true or false"))),
    }
}

fn parse_number<T>(variable: &'static str, value: &str, min: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let number = value
        .trim()
        .parse::<T>()
        .map_err(|_| error(variable, format!("`{value}` is not a whole number")))?;
    if number < min {
        return Err(error(variable, format!("must be at least {min}")));
    }
    Ok(number)
}

/// A size in bytes, with an optional KiB / MiB / GiB suffix.
fn parse_size(variable: &'static str, value: &str) -> Result<usize, ConfigError> {
    let trimmed = value.trim();
    let (digits, factor) = [
        ("GiB", 1usize << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ]
    .into_iter()
    .find_map(|(suffix, factor)| trimmed.strip_suffix(suffix).map(|digits| (digits, factor)))
    .unwrap_or((trimmed, 1));
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .filter(|n| *n > 0)
        .ok_or_else(|| error(variable, format!("`{value}` is not a size like 16MiB")))
}

fn parse_origin(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let uri: http::Uri = value.trim().parse().map_err(|_| {
        error(
            variable,
            format!("`{value}` is not a URL like https://pareto.example.com"),
        )
    })?;
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme @ ("http" | "https")), Some(authority)) => {
            Ok(format!("{scheme}://{authority}"))
        }
        _ => Err(error(
            variable,
            format!("`{value}` is not a URL like https://pareto.example.com"),
        )),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |key: &str| lookup(key).filter(|value| !value.trim().is_empty());
        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(error(
                "DATABASE_URL",
                "must start with postgres:// or postgresql://",
            ));
        }
        let listen_text = get("PARETO_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_text.trim().parse::<SocketAddr>().map_err(|_| {
            error(
                "PARETO_LISTEN",
                format!("`{listen_text}` is not an address like 127.0.0.1:3000"),
            )
        })?;
        let public_origin = get("PARETO_PUBLIC_URL")
            .map(|value| parse_origin("PARETO_PUBLIC_URL", &value))
            .transpose()?;
        let defaults = AuthSettings::default();
        let secure_cookies = match get("PARETO_SECURE_COOKIES") {
            Some(value) => parse_bool("PARETO_SECURE_COOKIES", &value)?,
            None => public_origin
                .as_deref()
                .is_some_and(|o| o.starts_with("https://")),
        };
        let duration_or = |key: &'static str, default: Duration| {
            get(key).map_or(Ok(default), |value| parse_duration(key, &value))
        };
        let auth = AuthSettings {
            secure_cookies,
            session_idle_timeout: duration_or(
                "PARETO_SESSION_IDLE_TIMEOUT",
                defaults.session_idle_timeout,
            )?,
            session_max_age: duration_or("PARETO_SESSION_MAX_AGE", defaults.session_max_age)?,
            login_max_failures_per_account: get("PARETO_LOGIN_MAX_FAILURES_PER_ACCOUNT")
                .map_or(Ok(defaults.login_max_failures_per_account), |v| {
                    parse_number("PARETO_LOGIN_MAX_FAILURES_PER_ACCOUNT", &v, 1)
                })?,
            login_max_failures_per_address: get("PARETO_LOGIN_MAX_FAILURES_PER_ADDRESS")
                .map_or(Ok(defaults.login_max_failures_per_address), |v| {
                    parse_number("PARETO_LOGIN_MAX_FAILURES_PER_ADDRESS", &v, 1)
                })?,
            login_window: duration_or("PARETO_LOGIN_WINDOW", defaults.login_window)?,
        };
        if auth.session_idle_timeout > auth.session_max_age {
            return Err(error(
                "PARETO_SESSION_IDLE_TIMEOUT",
                "must not be longer than PARETO_SESSION_MAX_AGE",
            ));
        }
        let log_format = match get("PARETO_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(error(
                    "PARETO_LOG_FORMAT",
                    format!("`{other}` is not text or json"),
                ))
            }
        };
        let database_max_connections: u32 = get("PARETO_DATABASE_MAX_CONNECTIONS")
            .map_or(Ok(10), |v| {
                parse_number("PARETO_DATABASE_MAX_CONNECTIONS", &v, 1)
            })?;
        // Each batch holds a connection; leave two for pages and probes.
        let default_ingest =
            usize::try_from(database_max_connections.saturating_sub(2).max(1)).unwrap_or(1);
        // A quarter of the pool, at least one.
        let default_streams = usize::try_from(database_max_connections / 4)
            .unwrap_or(1)
            .max(1);
        Ok(Config {
            database_url: SecretString::from(database_url),
            database_max_connections,
            stream_connections: get("PARETO_STREAM_CONNECTIONS")
                .map_or(Ok(default_streams), |v| {
                    parse_number("PARETO_STREAM_CONNECTIONS", &v, 1)
                })?,
            stream_idle_timeout: duration_or(
                "PARETO_STREAM_IDLE_TIMEOUT",
                Duration::from_secs(30),
            )?,
            allocate_inline_rows: get("PARETO_ALLOCATE_INLINE_ROWS").map_or(Ok(250_000), |v| {
                parse_number("PARETO_ALLOCATE_INLINE_ROWS", &v, 0)
            })?,
            allocate_batch_rows: get("PARETO_ALLOCATE_BATCH_ROWS").map_or(Ok(100_000), |v| {
                parse_number("PARETO_ALLOCATE_BATCH_ROWS", &v, 1)
            })?,
            allocate_preview_rows: get("PARETO_ALLOCATE_PREVIEW_ROWS")
                .map_or(Ok(250_000), |v| {
                    parse_number("PARETO_ALLOCATE_PREVIEW_ROWS", &v, 1)
                })?,
            ingest_concurrency: get("PARETO_INGEST_CONCURRENCY")
                .map_or(Ok(default_ingest), |v| {
                    parse_number("PARETO_INGEST_CONCURRENCY", &v, 1)
                })?,
            listen,
            public_origin,
            trust_proxy_headers: get("PARETO_TRUST_PROXY_HEADERS")
                .map_or(Ok(false), |v| parse_bool("PARETO_TRUST_PROXY_HEADERS", &v))?,
            auth,
            telemetry: TelemetrySettings {
                retention_days: get("PARETO_TELEMETRY_RETENTION_DAYS").map_or(Ok(30), |v| {
                    parse_number("PARETO_TELEMETRY_RETENTION_DAYS", &v, 1)
                })?,
            },
            body_limit_bytes: get("PARETO_BODY_LIMIT")
                .map_or(Ok(16 << 20), |v| parse_size("PARETO_BODY_LIMIT", &v))?,
            bill_limit_bytes: get("PARETO_BILL_LIMIT").map_or(Ok(8 << 30), |v| {
                parse_size("PARETO_BILL_LIMIT", &v).map(|size| size as u64)
            })?,
            bill_record_limit_bytes: get("PARETO_BILL_RECORD_LIMIT").map_or(Ok(1 << 20), |v| {
                parse_size("PARETO_BILL_RECORD_LIMIT", &v).map(|size| size as u64)
            })?,
            request_timeout: duration_or("PARETO_REQUEST_TIMEOUT", Duration::from_secs(30))?,
            alert_interval: duration_or("PARETO_ALERT_INTERVAL", Duration::from_secs(300))?,
            webhook_retry: duration_or("PARETO_WEBHOOK_RETRY", Duration::from_secs(60))?,
            webhook_allow_private: get("PARETO_WEBHOOK_ALLOW_PRIVATE").map_or(Ok(false), |v| {
                parse_bool("PARETO_WEBHOOK_ALLOW_PRIVATE", &v)
            })?,
            log_filter: get("PARETO_LOG").unwrap_or_else(|| DEFAULT_LOG.into()),
            log_format,
        })
    }

    /// The database URL with any password replaced, for messages and logs.
    pub fn database_url_for_display(&self) -> String {
        redact_url(self.database_url.expose_secret())
    }
}

pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(unparsable URL)".into();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let path = path.split('?').next().unwrap_or_default();
    format!("{scheme}://{authority}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(move |key| map.get(key).cloned())
    }

    #[test]
    fn defaults_need_no_variables() {
        let config = config(&[]).expect("defaults");
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url.expose_secret(), DEFAULT_DATABASE_URL);
        assert!(!config.auth.secure_cookies);
        assert_eq!(config.auth.login_max_failures_per_account, 5);
        assert_eq!(config.body_limit_bytes, 16 << 20);
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn values_are_parsed() {
        let config = config(&[
            ("PARETO_LISTEN", "0.0.0.0:8080"),
            ("PARETO_PUBLIC_URL", "https://pareto.example.com/some/path"),
            ("PARETO_SESSION_IDLE_TIMEOUT", "30m"),
            ("PARETO_SESSION_MAX_AGE", "1day"),
            ("PARETO_BODY_LIMIT", "2MiB"),
            ("PARETO_LOG_FORMAT", "json"),
        ])
        .expect("valid");
        assert_eq!(config.listen.port(), 8080);
        assert_eq!(
            config.public_origin.as_deref(),
            Some("https://pareto.example.com")
        );
        assert!(
            config.auth.secure_cookies,
            "https public URL implies Secure cookies"
        );
        assert_eq!(config.auth.session_idle_timeout, Duration::from_secs(1800));
        assert_eq!(config.auth.session_max_age, Duration::from_secs(86_400));
        assert_eq!(config.body_limit_bytes, 2 << 20);
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            ("PARETO_LISTEN", "localhost"),
            ("PARETO_SESSION_IDLE_TIMEOUT", "soon"),
            ("PARETO_SECURE_COOKIES", "maybe"),
            ("PARETO_BODY_LIMIT", "lots"),
            ("PARETO_PUBLIC_URL", "pareto.example.com"),
            ("PARETO_LOGIN_MAX_FAILURES_PER_ACCOUNT", "0"),
            ("DATABASE_URL", "mysql://localhost/pareto"),
            ("PARETO_LOG_FORMAT", "xml"),
        ];
        for (variable, value) in cases {
            let error = config(&[(variable, value)]).expect_err(variable);
            assert_eq!(error.variable, variable, "{error}");
            assert!(error.to_string().starts_with(variable), "{error}");
        }
    }

    #[test]
    fn idle_timeout_cannot_exceed_max_age() {
        let error = config(&[
            ("PARETO_SESSION_IDLE_TIMEOUT", "2d"),
            ("PARETO_SESSION_MAX_AGE", "1d"),
        ])
        .expect_err("idle > max");
        assert_eq!(error.variable, "PARETO_SESSION_IDLE_TIMEOUT");
    }

    #[test]
    fn the_database_password_is_never_displayed() {
        let config = config(&[(
            "DATABASE_URL",
            "postgres://pareto:hunter2@db:5432/pareto?sslmode=require",
        )])
        .expect("valid");
        let shown = config.database_url_for_display();
        assert_eq!(shown, "postgres://pareto:***@db:5432/pareto");
        assert!(
            !format!("{config:?}").contains("hunter2"),
            "Debug must not print the secret"
        );
    }
}
