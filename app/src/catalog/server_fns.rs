// A form's fields are the server function's arguments, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use uuid::Uuid;

use super::tier::TierRule;
use super::{CatalogModel, ModelPageData};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{parse_override, store, tier, ModelStatus, NewModel, NewVersion};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

#[server]
pub async fn list_catalog() -> Result<Vec<CatalogModel>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::list(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn load_model(model_id: Uuid) -> Result<ModelPageData, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        let detail = store::detail(pool, model_id).await?.ok_or_else(|| {
            AppError::NotFound("No model has this address; it may have been deleted.".into())
        })?;
        let now = crate::clock::now();
        let breaches = crate::guardrails::store::breaches(pool, now)
            .await?
            .into_iter()
            .filter(|breach| breach.model_id == Some(model_id))
            .collect();
        let settings = crate::advice::store::settings(pool).await?;
        let list = crate::advice::store::load(pool, settings).await?;
        let ours = |key: &str| detail.deployments.iter().any(|d| d.key == key);
        let advice = list
            .advice
            .into_iter()
            .filter(|advice| ours(&advice.deployment))
            .collect();
        let retraining = list
            .retraining
            .into_iter()
            .filter(|plan| ours(&plan.deployment))
            .collect();
        Ok(ModelPageData {
            reviews: crate::reviews::store::list(pool, None, Some(model_id), 50).await?,
            alerts: crate::alerts::store::for_model(pool, model_id, 20).await?,
            detail,
            breaches,
            advice,
            retraining,
        })
    })
    .await
}

#[server]
pub async fn create_model(
    name: String,
    task: String,
    team_id: String,
    description: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let model = NewModel::parse(&name, &task, &team_id, &description)?;
        store::create_model(&guard::state()?.pool, &Actor::User(member), model).await
    })
    .await
}

#[server]
pub async fn update_model(
    model_id: Uuid,
    name: String,
    task: String,
    team_id: String,
    description: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let model = NewModel::parse(&name, &task, &team_id, &description)?;
        store::update_model(&guard::state()?.pool, &Actor::User(member), model_id, model).await
    })
    .await
}

#[server]
pub async fn add_model_version(
    model_id: Uuid,
    version: String,
    framework: String,
    parameter_count: String,
    artifact_uri: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let version = NewVersion::parse(&version, &framework, &parameter_count, &artifact_uri)?;
        store::add_version(
            &guard::state()?.pool,
            &Actor::User(member),
            model_id,
            version,
        )
        .await
    })
    .await
}

/// Moves a version to draft, staging or retired. Production goes through the review gate.
#[server]
pub async fn set_version_status(model_version_id: Uuid, status: String) -> Result<(), AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let status = status
            .parse::<ModelStatus>()
            .map_err(|error| AppError::field("status", error))?;
        let state = guard::state()?;
        let mut tx = state.pool.begin().await?;
        let version = store::lock_version(&mut tx, model_version_id).await?;
        if version.status == status {
            return Ok(());
        }
        if status == ModelStatus::Production {
            return Err(AppError::BadRequest(
                "Promote a version to production with Request promotion: it passes the review gate.".into(),
            ));
        }
        store::write_status(&mut tx, &Actor::User(member), model_version_id, &version, status, "")
            .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// A lead's tier for a model over the rules; tier `rules` (or empty) hands it back to the rules.
#[server]
pub async fn set_tier_override(
    model_id: Uuid,
    tier: String,
    reason: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let (tier, reason) = parse_override(&tier, &reason)?;
        store::set_override(
            &guard::state()?.pool,
            &Actor::User(lead),
            model_id,
            tier,
            &reason,
        )
        .await
    })
    .await
}

#[server]
pub async fn list_tier_rules() -> Result<Vec<TierRule>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::tier_rules(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn create_tier_rule(
    name: String,
    tier: String,
    conditions: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let name = name.trim();
        let tier_number = tier
            .trim()
            .trim_start_matches("tier")
            .trim()
            .parse::<i16>()
            .ok();
        let tier = tier_number.and_then(tier::Tier::from_number);
        let conditions = tier::parse_conditions(&conditions);
        let mut check = crate::error::Validator::new();
        check
            .check(
                !name.is_empty(),
                "name",
                "Name the rule, e.g. Cheap and fast.",
            )
            .check(
                name.chars().count() <= 120,
                "name",
                "At most 120 characters.",
            )
            .check(tier.is_some(), "tier", "Choose Tier 1, 2 or 3.")
            .check(
                conditions.is_ok(),
                "conditions",
                conditions.clone().err().unwrap_or_default(),
            );
        check.finish()?;
        store::create_rule(
            &guard::state()?.pool,
            &Actor::User(admin),
            name,
            tier.unwrap_or(tier::Tier::Tier2),
            &conditions.unwrap_or_default(),
        )
        .await
    })
    .await
}

#[server]
pub async fn delete_tier_rule(tier_rule_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::delete_rule(&guard::state()?.pool, &Actor::User(admin), tier_rule_id).await
    })
    .await
}

#[server]
pub async fn move_tier_rule(rule_id: Uuid, earlier: bool) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::move_rule(&guard::state()?.pool, &Actor::User(admin), rule_id, earlier).await
    })
    .await
}
