use leptos::prelude::*;

use super::HostedSpendView;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// Every service's hosted-model use over the last `days` (1, 7, 30 or 90), priced.
#[server]
pub async fn load_hosted_spend(days: Option<u32>) -> Result<HostedSpendView, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let days = crate::fleet::clamp_days(days);
        Ok(super::store::spend(&guard::state()?.pool, days, crate::clock::now()).await?)
    })
    .await
}
