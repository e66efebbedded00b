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
