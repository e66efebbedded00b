use leptos::prelude::*;
use uuid::Uuid;

use super::{DeploymentDetail, Fleet, ModelVersion};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{clamp_days, parse_link, store};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// The fleet and each deployment's cost over the last `days` (1, 7, 30 or 90).
#[server]
pub async fn load_fleet(days: Option<u32>) -> Result<Fleet, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::load(&guard::state()?.pool, clamp_days(days)).await?)
    })
    .await
}

/// One deployment's figures over the last `days`, bucketed for its charts.
#[server]
pub async fn load_deployment(key: String, days: Option<u32>) -> Result<DeploymentDetail, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        store::detail(&guard::state()?.pool, &key, clamp_days(days))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("No deployment has the key {key}.")))
    })
    .await
}

/// The registry's model versions, for forms that link to one.
#[server]
pub async fn list_model_versions() -> Result<Vec<ModelVersion>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::model_versions(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn link_deployment(
    deployment_id: Uuid,
    model_name: String,
    version: String,
    team_id: Option<String>,
) -> Result<(), AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let (model_name, version) = parse_link(&model_name, &version)?;
        let team_id = crate::teams::parse_team_choice(team_id.as_deref())?;
        store::link(
            &guard::state()?.pool,
            &Actor::User(member),
            deployment_id,
            &model_name,
            &version,
            team_id,
        )
        .await
    })
    .await
}
