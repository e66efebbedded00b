//! The `pareto` server: configuration, the HTTP router, the agent API and the command line.

pub mod alerts;
pub mod api;
pub mod bills;
pub mod cards;
pub mod charts;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod demo;
pub mod evaluation;
pub mod loadtest;
pub mod metrics;
pub mod middleware;
pub mod portfolio;
pub mod reports;
pub mod router;
pub mod serve;

use app::state::AppState;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

/// The shared state, built once.
pub fn state(pool: PgPool, config: &config::Config, mut leptos_options: LeptosOptions) -> AppState {
    leptos_options.site_addr = config.listen;
    AppState {
        leptos_options,
        pool,
        auth: config.auth.clone(),
        telemetry: config.telemetry.clone(),
        imports: Default::default(),
        streams: app::state::Streams::new(config.stream_connections, config.stream_idle_timeout),
        bill_limits: ::bills::Limits {
            file_bytes: config.bill_limit_bytes,
            record_bytes: config.bill_record_limit_bytes,
        },
        allocation: app::state::AllocationSettings {
            inline_rows: config.allocate_inline_rows,
            preview_rows: config.allocate_preview_rows,
            batch_rows: config.allocate_batch_rows,
            wake: Default::default(),
        },
        outbound: app::state::OutboundSettings {
            allow_private: config.webhook_allow_private,
        },
    }
}
