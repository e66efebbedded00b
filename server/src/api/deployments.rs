//! `GET /api/v1/deployments/{key}`: one deployment's measured usage and cost over the last
//! `days` (1, 7, 30 or 90; 7 by default; any other value is refused), with cost per 1,000 requests and, for a language
//! model whose server counts tokens, per million tokens: the figures of its page.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;

use super::auth::ApiCaller;
use super::error::{ApiError, InvalidField};
use app::fleet::{clamp_days, store, DeploymentCost, RANGES};
use app::state::AppState;
use app::tokens::Scope;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct Period {
    /// 1, 7, 30 or 90 days back from now; 7 when absent.
    days: Option<String>,
}

#[tracing::instrument(skip_all, fields(deployment = %key))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    Query(period): Query<Period>,
) -> Result<Json<DeploymentCost>, ApiError> {
    caller.require(Scope::Read)?;
    let days = match period.days.as_deref().map(str::trim) {
        None | Some("") => clamp_days(None),
        Some(text) => match text.parse::<u32>() {
            Ok(days) if RANGES.iter().any(|(d, _)| *d == days) => days,
            _ => {
                return Err(ApiError::Validation(vec![InvalidField {
                    path: "days".into(),
                    message: format!("`{text}` is not a period: use 1, 7, 30 or 90"),
                }]))
            }
        },
    };
    store::summary(&state.pool, &key, days)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no deployment has the key {key}")))
}
