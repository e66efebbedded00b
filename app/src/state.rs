//! What every request handler and server function shares: the pool and the settings.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use std::time::Duration;

/// Settings that shape sign-in and sessions; read from the environment by the server.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Mark the session cookie `Secure` (Pareto is served over TLS, directly or by a proxy).
    pub secure_cookies: bool,
    /// A session unused for this long ends.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_max_age: Duration,
    /// Failed sign-ins per account within `login_window` before sign-in is refused.
    pub login_max_failures_per_account: i64,
    /// Failed sign-ins per client address within `login_window` before sign-in is refused.
    pub login_max_failures_per_address: i64,
    pub login_window: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_idle_timeout: Duration::from_secs(2 * 60 * 60),
            session_max_age: Duration::from_secs(7 * 24 * 60 * 60),
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 30,
            login_window: Duration::from_secs(15 * 60),
        }
    }
}

/// How long raw telemetry is kept; the hourly rollups are kept for good.
#[derive(Clone, Debug)]
pub struct TelemetrySettings {
    pub retention_days: u32,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self { retention_days: 30 }
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    /// Bill imports in progress on this server, for their progress bars.
    pub imports: crate::progress::Registry,
    /// What one bill import may hold once decompressed.
    pub bill_limits: bills::Limits,
    /// Long streams (exports, imports) and how long one waits on a client that went quiet.
    pub streams: Streams,
    /// When a change to the allocation rules re-allocates at once, and when as a job.
    pub allocation: AllocationSettings,
    /// Where requests to addresses people type (webhooks, MLflow) may go.
    pub outbound: OutboundSettings,
}

/// The address rules of requests to addresses people type (`outbound.rs`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OutboundSettings {
    /// Loopback and private networks too (`PARETO_WEBHOOK_ALLOW_PRIVATE`).
    pub allow_private: bool,
}

/// A change to the allocation rules re-allocates a ledger of at most `inline_rows` current rows in
/// its own transaction; a larger one is re-allocated by a job, `batch_rows` rows per transaction,
/// which `wake` starts at once (else the next poll does).
#[derive(Clone, Debug)]
pub struct AllocationSettings {
    pub inline_rows: i64,
    /// A rule's preview reads a ledger of at most about this many rows whole, a larger one from a
    /// sample of its pages.
    pub preview_rows: i64,
    pub batch_rows: i64,
    pub wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Default for AllocationSettings {
    fn default() -> Self {
        Self {
            inline_rows: 250_000,
            preview_rows: 250_000,
            batch_rows: 100_000,
            wake: Default::default(),
        }
    }
}

/// The connections long streams may hold at once, and how long one waits on a client that went
/// quiet, so that a dozen slow downloads cannot take the pool from pages and agents.
#[derive(Clone, Debug)]
pub struct Streams {
    pub permits: std::sync::Arc<tokio::sync::Semaphore>,
    pub idle_timeout: Duration,
}

impl Streams {
    pub fn new(connections: usize, idle_timeout: Duration) -> Streams {
        Streams {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(connections.max(1))),
            idle_timeout,
        }
    }

    /// A place for one more stream, or `None` when every one is taken.
    pub fn try_start(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }
}
