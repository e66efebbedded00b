//! `GET /api/v1/prices/gpus` (scope `read`): the GPU price catalog, every dated price of every
//! model and pricing kind, so a pipeline prices its GPU-hours as Pareto does.

use axum::extract::State;
use axum::Json;

use super::auth::ApiCaller;
use super::error::ApiError;
use app::prices::GpuPrice;
use app::state::AppState;

#[tracing::instrument(skip_all)]
pub async fn gpus(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<Vec<GpuPrice>>, ApiError> {
    let prices = app::prices::store::list(&state.pool)
        .await
        .map_err(app::error::AppError::from)?;
    Ok(Json(prices))
}
