use leptos::prelude::*;

use super::{Advice, AdviceList};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{simulate::Settings, store};
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// Every deployment's advice over the last 30 days, largest saving first.
#[server]
pub async fn load_advice() -> Result<AdviceList, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::load(&guard::state()?.pool, Settings::default()).await?)
    })
    .await
}

/// One deployment's advice (none when nothing would save), for its page.
#[server]
pub async fn load_deployment_advice(key: String) -> Result<Vec<Advice>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let list = store::load(&guard::state()?.pool, Settings::default()).await?;
        Ok(list
            .advice
            .into_iter()
            .filter(|advice| advice.deployment == key)
            .collect())
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
            &crate::audit::Actor::User(lead),
            model_id,
            value,
        )
        .await
    })
    .await
}
