use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AlertView, BudgetView, WebhookView};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::webhook::parse_webhook;
#[cfg(feature = "ssr")]
use super::{store, NewBudget};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// How many alerts the page lists.
pub const ALERTS_SHOWN: i64 = 200;

#[server]
pub async fn list_alerts() -> Result<Vec<AlertView>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::alerts(&guard::state()?.pool, ALERTS_SHOWN).await?)
    })
    .await
}

#[server]
pub async fn acknowledge_alert(alert_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        store::acknowledge(&guard::state()?.pool, &Actor::User(member), alert_id).await
    })
    .await
}

#[server]
pub async fn list_budgets() -> Result<Vec<BudgetView>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::budgets(&guard::state()?.pool, crate::clock::now()).await?)
    })
    .await
}

/// What the budget form chooses from: (teams, models).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetTargets {
    pub teams: Vec<(Uuid, String)>,
    pub models: Vec<(Uuid, String)>,
}

#[server]
pub async fn load_budget_targets() -> Result<BudgetTargets, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let (teams, models) = store::targets(&guard::state()?.pool).await?;
        Ok(BudgetTargets { teams, models })
    })
    .await
}

/// `target` names what the scope covers: `team:<id>`, `model:<id>` or `tier:<n>`.
#[server]
pub async fn create_budget(
    target: String,
    monthly_amount: String,
    currency: String,
    thresholds: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let (scope, id) = target.split_once(':').unwrap_or(("", ""));
        let budget = NewBudget::parse(scope, id, &monthly_amount, &currency, &thresholds)?;
        store::create_budget(&guard::state()?.pool, &Actor::User(lead), budget).await
    })
    .await
}

#[server]
pub async fn delete_budget(budget_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        store::delete_budget(&guard::state()?.pool, &Actor::User(lead), budget_id).await
    })
    .await
}

#[server]
pub async fn list_webhooks() -> Result<Vec<WebhookView>, AppError> {
    guard::respond(async {
        guard::require(Role::Lead)?;
        Ok(store::webhooks(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn create_webhook(name: String, url: String) -> Result<Uuid, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let (name, url) = parse_webhook(&name, &url)?;
        store::create_webhook(&guard::state()?.pool, &Actor::User(admin), &name, &url).await
    })
    .await
}

#[server]
pub async fn delete_webhook(webhook_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::delete_webhook(&guard::state()?.pool, &Actor::User(admin), webhook_id).await
    })
    .await
}

/// What the navigation counts: open alerts and promotions waiting for review.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NavCounts {
    pub open_alerts: i64,
    pub pending_reviews: i64,
}

#[server]
pub async fn load_nav_counts() -> Result<NavCounts, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        Ok(NavCounts {
            open_alerts: store::open_count(pool).await?,
            pending_reviews: crate::reviews::store::pending_count(pool).await?,
        })
    })
    .await
}
