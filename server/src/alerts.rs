//! The alert loop: every `PARETO_ALERT_INTERVAL` it evaluates budgets and week-over-week costs
//! (each alert fires once per threshold and period, however often this runs), then posts due
//! alerts to their webhooks, retrying failures with backoff from `PARETO_WEBHOOK_RETRY`.

use chrono::TimeDelta;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::alerts::webhook::{literal_ip, Reach};
use app::alerts::{backoff, store};
use app::state::AppState;

/// The longest one webhook may take to answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries sent per round; the rest wait for the next one.
const DELIVERIES_PER_ROUND: i64 = 50;

/// Resolves a webhook's host and keeps only the addresses a webhook may go to, so that the
/// check and the connection use the same answer (a name cannot resolve one way for the check and
/// another for the request).
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|address| Reach::of(address.ip()).allowed(allow_private))
                .collect();
            match (allowed.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
                (true, Some(first)) => Err(Box::new(Refused(format!(
                    "{host} resolves to {}, which {}",
                    first.ip(),
                    Reach::of(first.ip()).refusal()
                )))
                    as Box<dyn std::error::Error + Send + Sync>),
                (true, None) => Err(Box::new(Refused(format!("{host} does not resolve"))) as _),
            }
        })
    }
}

/// Why a webhook was not sent to where it points.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Why the address may not be sent to, when its host is written as an IP address.
fn refused_literal(url: &str, allow_private: bool) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let ip = literal_ip(&parsed)?;
    let reach = Reach::of(ip);
    (!reach.allowed(allow_private)).then(|| format!("{ip} {}", reach.refusal()))
}

/// The refusal inside a request error, if the resolver refused the address.
fn refusal_in(error: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return Some(refused.0.clone());
        }
        source = cause.source();
    }
    None
}

pub fn spawn(state: AppState, interval: Duration, retry_base: Duration, allow_private: bool) {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(concat!("pareto/", env!("CARGO_PKG_VERSION")))
            // A redirect would send the alert (a 307 re-posts it) somewhere nobody checked.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
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
