//! The alert loop: every `PARETO_ALERT_INTERVAL` it evaluates budgets and week-over-week costs
//! (each alert fires once per threshold and period, however often this runs), then posts due
//! alerts to their webhooks, retrying failures with backoff from `PARETO_WEBHOOK_RETRY`.

use chrono::{TimeDelta, Utc};
use serde_json::json;
use std::time::Duration;

use app::alerts::{backoff, store};
use app::state::AppState;

/// The longest one webhook may take to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries sent per round; the rest wait for the next one.
const DELIVERIES_PER_ROUND: i64 = 50;

pub fn spawn(state: AppState, interval: Duration, retry_base: Duration) {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(concat!("pareto/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "the webhook client could not be built: alerts are not delivered");
                return;
            }
        };
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match store::evaluate(&state.pool, Utc::now()).await {
                Ok(0) => {}
                Ok(fired) => tracing::info!(fired, "alerts fired"),
                Err(error) => tracing::warn!(%error, "evaluating budgets and costs failed"),
            }
            metrics::counter!("pareto_alert_evaluations_total").increment(1);
            deliver(&state, &client, retry_base).await;
        }
    });
}

async fn deliver(state: &AppState, client: &reqwest::Client, retry_base: Duration) {
    // A claim outlasts one attempt, so that a second server leaves the delivery alone meanwhile.
    let claim = TimeDelta::from_std(DELIVERY_TIMEOUT * 3).unwrap_or(TimeDelta::minutes(1));
    let due = match store::claim_due(&state.pool, DELIVERIES_PER_ROUND, claim).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "loading due alert deliveries failed");
            return;
        }
    };
    for delivery in due {
        let body = json!({
            "text": format!("Pareto alert: {}", delivery.message),
            "alert": {
                "id": delivery.alert_id,
                "kind": delivery.kind,
                "message": delivery.message,
                "detail": delivery.detail,
                "created_at": delivery.created_at,
            },
        });
        let (status, error) = match client.post(&delivery.url).json(&body).send().await {
            Ok(response) if response.status().is_success() => {
                (Some(i32::from(response.status().as_u16())), None)
            }
            Ok(response) => (
                Some(i32::from(response.status().as_u16())),
                Some(format!("HTTP {}", response.status().as_u16())),
            ),
            // Never the address: it may hold the webhook's secret.
            Err(error) if error.is_timeout() => (None, Some("no answer within 10 s".to_owned())),
            Err(error) if error.is_connect() => (None, Some("could not connect".to_owned())),
            Err(_) => (None, Some("the request failed".to_owned())),
        };
        let retry_in = TimeDelta::from_std(backoff(delivery.attempt, retry_base))
            .unwrap_or(TimeDelta::minutes(1));
        metrics::counter!(
            "pareto_alert_deliveries_total",
            "outcome" => if error.is_none() { "delivered" } else { "failed" }
        )
        .increment(1);
        if let Err(db_error) =
            store::record_attempt(&state.pool, &delivery, status, error.as_deref(), retry_in).await
        {
            tracing::warn!(%db_error, "recording an alert delivery failed");
        }
    }
}
