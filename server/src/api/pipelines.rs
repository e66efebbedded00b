//! Pipelines over the API:
//! - `GET /api/v1/pipelines` (scope `read`): every pipeline, its stages, SLA and volume;
//! - `GET /api/v1/pipelines/{id}` (scope `read`): its stages with their candidates priced at the
//!   traffic each sees, the cheapest combination within its SLA and the frontier;
//! - `POST /api/v1/pipelines` (scope `write`) creates one: `name`, `team` (by name), `stages`
//!   (each `name`, `experiment` by name or id, `share` from above 0 to 1, `fan_out` from 1),
//!   `sla` (constraints), `monthly_volume`, `currency` (default USD), `description`;
//! - `PUT /api/v1/pipelines/{id}` (scope `write`) changes one whole: the same fields but `team`
//!   (it keeps its own).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::ApiCaller;
use super::error::ApiError;
use super::json::ApiJson;
use app::pipelines::{store, PipelineSummary, PipelineView, StageSpec};
use app::state::AppState;
use app::tokens::Scope;

#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<PipelineSummary>>, ApiError> {
    caller.require(Scope::Read)?;
    Ok(Json(store::list(&state.pool).await?))
}

#[tracing::instrument(skip_all, fields(pipeline_id = %pipeline_id))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(pipeline_id): Path<Uuid>,
) -> Result<Json<PipelineView>, ApiError> {
    caller.require(Scope::Read)?;
    store::view(&state.pool, pipeline_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no such pipeline".into()))
}

/// A pipeline as the API takes it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPipelineBody {
    name: String,
    /// The team, by name.
    team: String,
    #[serde(default)]
    description: String,
    /// In the order a request passes them.
    stages: Vec<StageSpec>,
    /// Constraints on the whole pipeline as people write them: `ndcg@10 >= 0.4`, `p95 <= 120`.
    #[serde(default)]
    sla: Vec<String>,
    /// Requests a month at the first stage.
    monthly_volume: u64,
    #[serde(default = "usd")]
    currency: String,
}

/// A new pipeline: its id and page.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct PipelineCreated {
    pub pipeline_id: Uuid,
    /// Its page, below the server's address.
    pub url: String,
}

fn usd() -> String {
    "USD".into()
}

#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<NewPipelineBody>,
) -> Result<(StatusCode, Json<PipelineCreated>), ApiError> {
    caller.require(Scope::Write)?;
    let team_id = match app::teams::store::id_by_name(&state.pool, &body.team).await {
        Ok(id) => id.to_string(),
        Err(app::error::AppError::NotFound(_)) => {
            return Err(app::error::AppError::field(
                "team",
                format!("No team is named {}.", body.team),
            )
            .into())
        }
        Err(other) => return Err(other.into()),
    };
    let new = app::pipelines::parse_new(
        &body.name,
        &team_id,
        &body.description,
        app::pipelines::check_stages(body.stages),
        &body.sla.join("\n"),
        &body.monthly_volume.to_string(),
        &body.currency,
    )?;
    let pipeline_id = store::create(&state.pool, &caller.0.actor(), new, false).await?;
    Ok((
        StatusCode::CREATED,
        Json(PipelineCreated {
            pipeline_id,
            url: format!("/pipelines/{pipeline_id}"),
        }),
    ))
}

/// A pipeline's new fields, whole; its team stays.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineChangeBody {
    name: String,
    #[serde(default)]
    description: String,
    stages: Vec<StageSpec>,
    #[serde(default)]
    sla: Vec<String>,
    monthly_volume: u64,
    #[serde(default = "usd")]
    currency: String,
}

#[tracing::instrument(skip_all, fields(pipeline_id = %pipeline_id))]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(pipeline_id): Path<Uuid>,
    ApiJson(body): ApiJson<PipelineChangeBody>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Write)?;
    let change = app::pipelines::parse_change(
        &body.name,
        &body.description,
        app::pipelines::check_stages(body.stages),
        &body.sla.join("\n"),
        &body.monthly_volume.to_string(),
        &body.currency,
    )?;
    store::update(&state.pool, &caller.0.actor(), pipeline_id, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query of `GET /api/v1/pipelines/{id}/hybrid`: 1-based stage and candidates, share in
/// percent.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct HybridQuery {
    /// The stage, counted from 1.
    stage: usize,
    /// The candidate most requests go to, counted from 1 in the stage's list.
    light: usize,
    /// The candidate that takes `share_pct` of them.
    heavy: usize,
    /// The heavy candidate's share, in percent.
    share_pct: f64,
}

/// `GET /api/v1/pipelines/{id}/hybrid?stage=2&light=1&heavy=3&share_pct=10` (scope `read`): the
/// blend of sending `share_pct` of requests to the heavy candidate of a stage on the cheapest
/// combination.
#[tracing::instrument(skip_all, fields(pipeline_id = %pipeline_id))]
pub async fn hybrid(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(pipeline_id): Path<Uuid>,
    axum::extract::Query(query): axum::extract::Query<HybridQuery>,
) -> Result<Json<app::pipelines::hybrid::Blend>, ApiError> {
    caller.require(Scope::Read)?;
    let index = |n: usize, field: &str| {
        n.checked_sub(1)
            .ok_or_else(|| app::error::AppError::field(field, "Count from 1."))
    };
    let blend = store::blend(
        &state.pool,
        pipeline_id,
        index(query.stage, "stage")?,
        index(query.light, "light")?,
        index(query.heavy, "heavy")?,
        query.share_pct / 100.0,
    )
    .await?;
    blend
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no such pipeline".into()))
}

/// A pipeline-level run: the quality of one combination measured end to end.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineRunBody {
    /// One run key per stage, in stage order.
    runs: Vec<String>,
    value: f64,
}

/// `POST /api/v1/pipelines/{id}/runs` (scope `write`): records the quality of one combination
/// measured end to end; the same combination again replaces it.
#[tracing::instrument(skip_all, fields(pipeline_id = %pipeline_id))]
pub async fn record_run(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(pipeline_id): Path<Uuid>,
    ApiJson(body): ApiJson<PipelineRunBody>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Write)?;
    store::record_run(
        &state.pool,
        &caller.0.actor(),
        pipeline_id,
        &body.runs,
        body.value,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
