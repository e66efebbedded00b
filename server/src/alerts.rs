//! The alert loop: every `PARETO_ALERT_INTERVAL` it evaluates budgets and week-over-week costs
//! (each alert fires once per threshold and period, however often this runs), then posts due
//! alerts to their webhooks, retrying failures with backoff from `PARETO_WEBHOOK_RETRY`.

use chrono::TimeDelta;
use serde_json::json;
use std::time::Duration;

use app::alerts::{backoff, store};
use app::outbound::{refusal_in, refused_literal};
use app::state::AppState;

/// The longest one webhook may take to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries sent per round; the rest wait for the next one.
const DELIVERIES_PER_ROUND: i64 = 50;

pub fn spawn(state: AppState, interval: Duration, retry_base: Duration, allow_private: bool) {
    tokio::spawn(async move {
        // No redirects: one would send the alert (a 307 re-posts it) somewhere nobody checked.
        let client = match app::outbound::client(allow_private, DELIVERY_TIMEOUT) {
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
            // Replicas on one database take turns: the round runs where the lock was taken, and
            // the lock goes with the connection if that server dies mid-round.
            let mut turn = match state.pool.begin().await {
                Ok(turn) => turn,
                Err(error) => {
                    tracing::warn!(%error, "the alert loop cannot reach the database");
                    continue;
                }
            };
            match sqlx::query_scalar!(
                r#"select pg_try_advisory_xact_lock($1) as "held!""#,
                ALERT_ROUND_LOCK
            )
            .fetch_one(&mut *turn)
            .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(%error, "the alert loop cannot take its turn");
                    continue;
                }
            }
            // A round that fails, even by a panic on some absurd figure, is logged and the loop
            // goes on: one bad target must not stop every alert.
            let pool = state.pool.clone();
            let round =
                tokio::spawn(async move { store::evaluate(&pool, app::clock::now()).await });
            match round.await {
                Ok(Ok(0)) => {}
                Ok(Ok(fired)) => tracing::info!(fired, "alerts fired"),
                Ok(Err(error)) => tracing::warn!(%error, "evaluating budgets and costs failed"),
                Err(error) => tracing::error!(%error, "evaluating budgets and costs panicked"),
            }
            metrics::counter!("pareto_alert_evaluations_total").increment(1);
            deliver(&state, &client, retry_base, allow_private).await;
            let _ = turn.commit().await;
        }
    });
}

/// The advisory lock a server holds while it evaluates alerts and delivers them.
const ALERT_ROUND_LOCK: i64 = 0x7061_7265_746f_0001;

async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    retry_base: Duration,
    allow_private: bool,
) {
    // Claimed one at a time, just before it is sent: a claim outlasts the one attempt it covers
    // (three times the longest a webhook may take), never a whole round of them.
    let claim = TimeDelta::from_std(DELIVERY_TIMEOUT * 3).unwrap_or(TimeDelta::minutes(1));
    for _ in 0..DELIVERIES_PER_ROUND {
        let delivery = match store::claim_due(&state.pool, 1, claim).await {
            Ok(mut due) => match due.pop() {
                Some(delivery) => delivery,
                None => return,
            },
            Err(error) => {
                tracing::warn!(%error, "loading due alert deliveries failed");
                return;
            }
        };
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
        let sent = match refused_literal(&delivery.url, allow_private) {
            Some(refusal) => Err(format!("refused: {refusal}")),
            None => client
                .post(&delivery.url)
                .json(&body)
                .send()
                .await
                .map_err(|error| {
                    // Never the address: it may hold the webhook's secret.
                    refusal_in(&error).map_or_else(
                        || {
                            if error.is_timeout() {
                                "no answer within 10 s".to_owned()
                            } else if error.is_connect() {
                                "could not connect".to_owned()
                            } else {
                                "the request failed".to_owned()
                            }
                        },
                        |refusal| format!("refused: {refusal}"),
                    )
                }),
        };
        let (status, error) = match sent {
            Ok(response) if response.status().is_success() => {
                (Some(i32::from(response.status().as_u16())), None)
            }
            Ok(response) if response.status().is_redirection() => (
                Some(i32::from(response.status().as_u16())),
                Some(format!(
                    "HTTP {}: redirects are not followed; give the final address",
                    response.status().as_u16()
                )),
            ),
            Ok(response) => (
                Some(i32::from(response.status().as_u16())),
                Some(format!("HTTP {}", response.status().as_u16())),
            ),
            Err(error) => (None, Some(error)),
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
