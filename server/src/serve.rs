//! `pareto serve`: bind, serve until SIGTERM or Ctrl-C, then finish the requests in flight.

use anyhow::Context;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::config::Config;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let pool = crate::db::connect(&config).await?;
    crate::db::migrate(&pool).await?;
    let mut leptos_options = leptos::config::get_configuration(None)
        .context("reading the Leptos site settings (LEPTOS_* variables)")?
        .leptos_options;
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.to_path_buf()));
    // `cargo xtask site` names the site's files by their content and writes the names into a
    // hash.txt beside the binary, which Leptos reads when it renders a page.
    if let Some(dir) = &exe_dir {
        if dir.join(leptos_options.hash_file.as_ref()).exists() {
            leptos_options.hash_files = true;
        }
        // A release unpacked from `make dist` keeps its site beside the binary.
        let beside = dir.join("site");
        if std::env::var_os("LEPTOS_SITE_ROOT").is_none() && beside.join("pkg").is_dir() {
            leptos_options.site_root = beside.to_string_lossy().as_ref().into();
        }
    }
    let site_root = leptos_options.site_root.to_string();
    if !std::path::Path::new(&site_root).join("pkg").exists() {
        tracing::warn!(
            site_root,
            "the site's pkg/ folder is missing: pages will render without styles and scripts; \
             build with `make build` or set LEPTOS_SITE_ROOT"
        );
    }
    let state = crate::state(pool.clone(), &config, leptos_options);
    spawn_housekeeping(state.clone());
    crate::bills::spawn_allocation_job(state.clone());
    crate::alerts::spawn(
        state.clone(),
        config.alert_interval,
        config.webhook_retry,
        config.webhook_allow_private,
    );
    let router = crate::router::router(state, &config);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (PARETO_LISTEN)", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(database = %config.database_url_for_display(), "listening on http://{address}");
    // A page streams in several writes; with Nagle's algorithm on, a later write waits for the
    // client's delayed acknowledgement of the first (40 ms on Linux).
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the server stopped unexpectedly")?;
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Every ten minutes: deletes expired sessions and old sign-in failures, creates the telemetry
/// partitions for the coming week and drops raw ones past the retention setting.
fn spawn_housekeeping(state: app::state::AppState) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(600));
        loop {
            interval.tick().await;
            if let Err(error) = app::telemetry::store::create_partitions_ahead(&state.pool, 7).await
            {
                tracing::warn!(%error, "creating telemetry partitions ahead failed");
            }
            match app::telemetry::store::drop_expired_partitions(
                &state.pool,
                state.telemetry.retention_days,
            )
            .await
            {
                Ok(dropped) if !dropped.is_empty() => {
                    tracing::info!(?dropped, "dropped raw telemetry past retention")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "dropping expired telemetry failed"),
            }
            let sessions = app::auth::session::delete_expired(&state.pool, &state.auth).await;
            let failures = app::auth::throttle::delete_expired(&state.pool, &state.auth).await;
            match (sessions, failures) {
                (Ok(sessions), Ok(failures)) => {
                    tracing::debug!(
                        sessions,
                        failures,
                        "removed expired sessions and sign-in failures"
                    )
                }
                (Err(error), _) | (_, Err(error)) => tracing::warn!(%error, "housekeeping failed"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
