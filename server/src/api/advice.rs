//! `GET /api/v1/advice`: every deployment's advice over the last 30 days, largest saving first,
//! with the figures each used and the risk it takes, at the settings a lead saved: the Advice
//! page's list.

use axum::extract::State;
use axum::Json;

use super::auth::ApiCaller;
use super::error::ApiError;
use app::advice::{store, AdviceList};
use app::state::AppState;
use app::tokens::Scope;

#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<AdviceList>, ApiError> {
    caller.require(Scope::Read)?;
    let settings = store::settings(&state.pool).await?;
    Ok(Json(store::load(&state.pool, settings).await?))
}
