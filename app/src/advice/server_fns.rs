use leptos::prelude::*;

use super::{Advice, AdviceList};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{simulate::Settings, store};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// Every deployment's advice over the last 30 days, largest saving first.
#[server]
pub async fn load_advice() -> Result<AdviceList, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        Ok(store::load(pool, store::settings(pool).await?).await?)
    })
    .await
}

/// One deployment's advice and retraining plan, for its page.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeploymentAdvice {
    /// None when nothing would save.
    pub advice: Vec<Advice>,
    pub retraining: Option<super::retrain::Retraining>,
    pub serving: Serving,
    /// What holds it back, where it was measured.
    pub diagnosis: Option<super::bottleneck::Diagnosis>,
}

/// How a deployment is served, as the advice reads it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Serving {
    /// A lead marked it as surviving interruptions: priced on spot like a batch job.
    pub interruption_tolerant: bool,
    /// The p95 a lead holds it to, in milliseconds.
    pub lead_p95_target_ms: Option<f64>,
    /// The target the advice sizes its GPUs for: the lead's, else its experiment's SLA.
    pub p95_target: Option<super::Target>,
}

#[server]
pub async fn load_deployment_advice(key: String) -> Result<DeploymentAdvice, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        let list = store::load(pool, store::settings(pool).await?).await?;
        let serving = store::serving(pool, &key).await?.map(
            |(interruption_tolerant, lead_p95_target_ms, p95_target)| Serving {
                interruption_tolerant,
                lead_p95_target_ms,
                p95_target,
            },
        );
        Ok(DeploymentAdvice {
            advice: list
                .advice
                .into_iter()
                .filter(|advice| advice.deployment == key)
                .collect(),
            retraining: list
                .retraining
                .into_iter()
                .find(|plan| plan.deployment == key),
            diagnosis: list
                .diagnoses
                .into_iter()
                .find(|found| found.deployment == key),
            serving: serving.unwrap_or_default(),
        })
    })
    .await
}

/// A lead holds a deployment to a p95 in milliseconds; an empty one clears it (its experiment's
/// SLA then applies).
#[server]
pub async fn set_p95_target(key: String, target_ms: String) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let target = parse_p95_target(&target_ms)?;
        store::set_p95_target(&guard::state()?.pool, &Actor::User(lead), &key, target).await
    })
    .await
}

/// A p95 target as a lead types it: `150`, `150 ms`, or nothing to clear it.
pub fn parse_p95_target(text: &str) -> Result<Option<f64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let value = text
        .trim_end_matches("ms")
        .trim()
        .replace(',', "")
        .parse::<f64>()
        .ok()
        .filter(|ms| ms.is_finite() && *ms > 0.0 && *ms <= 600_000.0);
    let mut check = crate::error::Validator::new();
    check.check(
        value.is_some(),
        "target_ms",
        "Give the p95 in milliseconds, above 0 and at most 600,000, e.g. 150; or leave it empty to use its experiment's SLA.",
    );
    check.finish()?;
    Ok(value)
}

/// A lead sets what one point of a model's quality metric is worth a month, which retraining
/// advice weighs the decay against; an empty amount clears it.
#[server]
pub async fn set_point_value(
    model_id: uuid::Uuid,
    amount: String,
    currency: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let value = if amount.trim().is_empty() {
            None
        } else {
            let parsed = crate::prices::parse_amount(&amount)
                .ok()
                .filter(|a| !a.is_zero());
            let currency = currency.trim().to_ascii_uppercase();
            let mut check = crate::error::Validator::new();
            check
                .check(
                    parsed.is_some(),
                    "amount",
                    "Give an amount above 0, e.g. 1500, or leave it empty to clear it.",
                )
                .check(
                    currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()),
                    "currency",
                    "Give a three-letter currency code, e.g. USD.",
                );
            check.finish()?;
            parsed.map(|a| (a.round_dp(2), currency))
        };
        super::retrain_store::set_point_value(
            &guard::state()?.pool,
            &Actor::User(lead),
            model_id,
            value,
        )
        .await
    })
    .await
}

/// A lead sets what the advice assumes: headroom, start-up time, the least saving, spot re-runs and
/// the spot share of real-time serving.
#[server]
pub async fn save_advice_settings(
    max_utilization_pct: String,
    startup_minutes: String,
    min_saving_pct: String,
    spot_rerun_pct: String,
    spot_share_real_time_pct: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let settings = Settings::parse(
            &max_utilization_pct,
            &startup_minutes,
            &min_saving_pct,
            &spot_rerun_pct,
            &spot_share_real_time_pct,
        )?;
        store::save_settings(&guard::state()?.pool, &Actor::User(lead), settings).await
    })
    .await
}

/// A lead marks a deployment as tolerating interruptions (priced on spot like a batch job).
#[server]
pub async fn set_interruption_tolerant(key: String, tolerant: bool) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        store::set_interruption_tolerant(&guard::state()?.pool, &Actor::User(lead), &key, tolerant)
            .await
    })
    .await
}
