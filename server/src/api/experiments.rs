//! Experiments over the API, for training pipelines:
//! - `POST /api/v1/experiments` (scope `write`) creates one;
//! - `POST /api/v1/experiments/{id}/runs` (scope `write`) adds one run, or `{"runs": [...]}`,
//!   all or none, idempotent by `run_key`;
//! - `GET /api/v1/experiments/{id}` (scope `read`) answers every figure the page shows, with the
//!   recommendation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::auth::ApiCaller;
use super::error::{ApiError, InvalidField};
use super::json::ApiJson;
use app::audit::Actor;
use app::experiments::store::{self, AddRunsError, Added};
use app::experiments::view::ExperimentView;
use app::experiments::{ExperimentSpec, RunSpec};
use app::state::AppState;
use app::tokens::Scope;

/// The most runs one request may carry.
pub const MAX_RUNS_PER_REQUEST: usize = 1_000;

/// A new experiment: its id and page.
#[derive(Serialize, JsonSchema)]
pub struct ExperimentCreated {
    pub experiment_id: Uuid,
    /// Its page, below the server's address.
    pub url: String,
}

/// What storing the runs did, run by run, in the order sent.
#[derive(Serialize, JsonSchema)]
pub struct RunsAdded {
    pub runs: Vec<Added>,
}

fn actor(caller: &ApiCaller) -> Actor {
    caller.0.actor()
}

#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(spec): ApiJson<ExperimentSpec>,
) -> Result<(StatusCode, Json<ExperimentCreated>), ApiError> {
    caller.require(Scope::Write)?;
    let team_id = match app::teams::store::id_by_name(&state.pool, &spec.team).await {
        Ok(id) => Some(id),
        Err(app::error::AppError::NotFound(_)) => None,
        Err(other) => return Err(other.into()),
    };
    let team = spec.team.clone();
    let form = spec.into_form(team_id);
    let new = form.parse().map_err(|error| {
        let mut api: ApiError = error.into();
        // The form names the team by id; the API by name.
        if let ApiError::Validation(fields) = &mut api {
            for field in fields.iter_mut().filter(|f| f.path == "team_id") {
                field.path = "team".into();
                field.message = format!("No team is named {team}.");
            }
        }
        api
    })?;
    let experiment_id = store::create(&state.pool, &actor(&caller), new, false).await?;
    Ok((
        StatusCode::CREATED,
        Json(ExperimentCreated {
            experiment_id,
            url: format!("/experiments/{experiment_id}"),
        }),
    ))
}

/// One run, or several under `runs` (at most 1,000), stored all or none.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum RunsBody {
    Many {
        #[schemars(with = "Vec<RunSpec>")]
        runs: Vec<Value>,
    },
    One(#[schemars(with = "RunSpec")] Box<Value>),
}

#[tracing::instrument(skip_all, fields(experiment_id = %experiment_id))]
pub async fn add_runs(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(experiment_id): Path<Uuid>,
    ApiJson(body): ApiJson<RunsBody>,
) -> Result<(StatusCode, Json<RunsAdded>), ApiError> {
    caller.require(Scope::Write)?;
    let (values, many) = match body {
        RunsBody::Many { runs } => (runs, true),
        RunsBody::One(run) => (vec![*run], false),
    };
    if values.is_empty() {
        return Err(ApiError::Validation(vec![InvalidField {
            path: "runs".into(),
            message: "send at least one run".into(),
        }]));
    }
    if values.len() > MAX_RUNS_PER_REQUEST {
        return Err(ApiError::Validation(vec![InvalidField {
            path: "runs".into(),
            message: format!("at most {MAX_RUNS_PER_REQUEST} runs per request"),
        }]));
    }
    let at = |index: usize, path: &str| {
        let prefix = if many {
            format!("runs[{index}]")
        } else {
            String::new()
        };
        match (prefix.is_empty(), path.is_empty()) {
            (true, _) => path.to_owned(),
            (false, true) => prefix,
            (false, false) => format!("{prefix}.{path}"),
        }
    };
    let mut specs = Vec::with_capacity(values.len());
    let mut problems = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        match serde_json::from_value::<RunSpec>(value) {
            Ok(spec) => match spec.normalized() {
                Ok(spec) => specs.push(spec),
                Err(found) => problems.extend(found.into_iter().map(|p| InvalidField {
                    path: at(index, &p.field),
                    message: p.message,
                })),
            },
            Err(error) => problems.push(InvalidField {
                path: at(index, ""),
                message: error.to_string(),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let added = store::add_runs(&state.pool, &actor(&caller), experiment_id, specs)
        .await
        .map_err(|error| match error {
            AddRunsError::Invalid(found) => ApiError::Validation(
                found
                    .into_iter()
                    .map(|(index, p)| InvalidField {
                        path: at(index, &p.field),
                        message: p.message,
                    })
                    .collect(),
            ),
            AddRunsError::Conflict { index, run_key } => ApiError::Conflict(format!(
                "{}: run_key {run_key} was already stored with different figures",
                at(index, "run_key")
            )),
            AddRunsError::NotFound => ApiError::NotFound("no experiment has this id".into()),
            AddRunsError::Refused(error) => error.into(),
            AddRunsError::Database(error) => error.into(),
        })?;
    let status = if added.iter().all(|a| a.duplicate) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(RunsAdded { runs: added })))
}

#[tracing::instrument(skip_all, fields(experiment_id = %experiment_id))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(experiment_id): Path<Uuid>,
) -> Result<Json<ExperimentView>, ApiError> {
    caller.require(Scope::Read)?;
    store::view(&state.pool, experiment_id, usize::MAX)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no experiment has this id".into()))
}
