use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{DriftRow, Range, Threshold};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::store;
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// Every deployment's drift and cost over a range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftView {
    pub range: Range,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub rows: Vec<DriftRow>,
}

/// One deployment's drift page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentDrift {
    pub range: Range,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub row: DriftRow,
    pub thresholds: Vec<Threshold>,
    /// Every (metric, feature) ever measured, for the chart's choice.
    pub series: Vec<(String, String)>,
}

#[server]
pub async fn load_drift(range: String, from: String, to: String) -> Result<DriftView, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let range = Range::from_query(Some(&range), Some(&from), Some(&to));
        let (from, to) = range.bounds(crate::clock::now());
        let rows = store::rows(&guard::state()?.pool, from, to, None).await?;
        Ok(DriftView {
            range,
            from,
            to,
            rows,
        })
    })
    .await
}

#[server]
pub async fn load_deployment_drift(
    key: String,
    range: String,
    from: String,
    to: String,
) -> Result<DeploymentDrift, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = guard::state()?.pool;
        let deployment_id = store::deployment_id(&pool, &key)
            .await?
            .ok_or_else(|| AppError::NotFound("No such deployment.".into()))?;
        let range = Range::from_query(Some(&range), Some(&from), Some(&to));
        let (from, to) = range.bounds(crate::clock::now());
        let row = store::rows(&pool, from, to, Some(deployment_id))
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound("No such deployment.".into()))?;
        Ok(DeploymentDrift {
            range,
            from,
            to,
            row,
            thresholds: store::thresholds(&pool, deployment_id).await?,
            series: store::series_names(&pool, deployment_id).await?,
        })
    })
    .await
}

/// Leads set a deployment's own warn and alert levels.
#[server]
pub async fn set_drift_threshold(
    deployment_id: Uuid,
    metric: String,
    warn: String,
    alert: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let threshold = super::parse_threshold(&metric, &warn, &alert)?;
        store::set_threshold(
            &guard::state()?.pool,
            &Actor::User(lead),
            deployment_id,
            threshold,
        )
        .await
    })
    .await
}

#[server]
pub async fn reset_drift_threshold(deployment_id: Uuid, metric: String) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        store::reset_threshold(
            &guard::state()?.pool,
            &Actor::User(lead),
            deployment_id,
            &metric,
        )
        .await
    })
    .await
}
