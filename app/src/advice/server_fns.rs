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
    /// A lead marked it as surviving interruptions: priced on spot like a batch job.
    pub interruption_tolerant: bool,
}

#[server]
pub async fn load_deployment_advice(key: String) -> Result<DeploymentAdvice, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        let list = store::load(pool, store::settings(pool).await?).await?;
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
            interruption_tolerant: store::interruption_tolerant(pool, &key).await?,
        })
    })
    .await
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
