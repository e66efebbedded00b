use leptos::prelude::*;
use uuid::Uuid;

use super::{GateSettings, PromotionOutcome, PromotionRequest, ReviewState};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::store;
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// How many requests the reviews page lists.
pub const REQUESTS_SHOWN: i64 = 100;

#[server]
pub async fn list_promotions() -> Result<Vec<PromotionRequest>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::list(&guard::state()?.pool, None, None, REQUESTS_SHOWN).await?)
    })
    .await
}

#[server]
pub async fn load_gate_settings() -> Result<GateSettings, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::settings(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn save_gate_settings(
    monthly_cost_threshold: String,
    currency: String,
    approvals_required: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let settings =
            GateSettings::parse(&monthly_cost_threshold, &currency, &approvals_required)?;
        store::save_settings(&guard::state()?.pool, &Actor::User(admin), settings).await
    })
    .await
}

/// Asks for a version to go to production: at once when the gate lets it through, else a
/// request for the leads.
#[server]
pub async fn request_promotion(
    model_version_id: Uuid,
    comment: String,
) -> Result<PromotionOutcome, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let comment = comment.trim();
        if comment.chars().count() > 2000 {
            return Err(AppError::field("comment", "At most 2,000 characters."));
        }
        store::request(
            &guard::state()?.pool,
            &Actor::User(member),
            model_version_id,
            comment,
        )
        .await
    })
    .await
}

/// A lead approves or rejects a request; `decision` is `approve` or `reject`.
#[server]
pub async fn review_promotion(
    promotion_request_id: Uuid,
    decision: String,
    comment: String,
) -> Result<ReviewState, AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let approve = match decision.as_str() {
            "approve" => true,
            "reject" => false,
            _ => return Err(AppError::field("decision", "Approve or reject.")),
        };
        let comment = comment.trim();
        if comment.chars().count() > 2000 {
            return Err(AppError::field("comment", "At most 2,000 characters."));
        }
        store::review(
            &guard::state()?.pool,
            &lead,
            promotion_request_id,
            approve,
            comment,
        )
        .await
    })
    .await
}
