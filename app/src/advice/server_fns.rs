use leptos::prelude::*;

use super::AdviceList;
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
