// A form's fields are the server function's arguments, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::view::ExperimentView;
use super::ExperimentSummary;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::fields::{run_from_fields, runs_from_csv, LineError};
#[cfg(feature = "ssr")]
use super::{parse_cascade, store, ExperimentForm, Status};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};
#[cfg(feature = "ssr")]
use crate::error::FieldError;

#[server]
pub async fn list_experiments() -> Result<Vec<ExperimentSummary>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::list(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn create_experiment(
    name: String,
    team_id: String,
    task_type: String,
    dataset: String,
    primary_metric: String,
    direction: String,
    constraints: String,
    monthly_volume: String,
    mode: String,
    currency: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let form = ExperimentForm {
            name,
            team_id,
            task_type,
            dataset,
            primary_metric,
            direction,
            constraints,
            monthly_volume,
            mode,
            currency,
        };
        let new = form.parse()?;
        store::create(&guard::state()?.pool, &Actor::User(member), new, false).await
    })
    .await
}

/// Every figure of an experiment's page.
#[server]
pub async fn load_experiment(experiment_id: Uuid) -> Result<ExperimentView, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        store::view(
            &guard::state()?.pool,
            experiment_id,
            super::view::RUNS_SHOWN,
        )
        .await?
        .ok_or_else(|| AppError::NotFound("This experiment does not exist.".into()))
    })
    .await
}

/// The chosen runs (2 to 5) of an experiment, side by side.
#[server]
pub async fn compare_runs(
    experiment_id: Uuid,
    run_ids: Vec<Uuid>,
) -> Result<ExperimentView, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let mut run_ids = run_ids;
        run_ids.sort();
        run_ids.dedup();
        if !(2..=5).contains(&run_ids.len()) {
            return Err(AppError::BadRequest(
                "Choose between 2 and 5 runs to compare.".into(),
            ));
        }
        let pool = &guard::state()?.pool;
        let experiment = store::get(pool, experiment_id)
            .await?
            .ok_or_else(|| AppError::NotFound("This experiment does not exist.".into()))?;
        let runs = store::runs(pool, experiment_id, Some(&run_ids)).await?;
        if runs.len() != run_ids.len() {
            return Err(AppError::NotFound(
                "Some of these runs are not in this experiment any more.".into(),
            ));
        }
        Ok(super::view::build(experiment, &runs, Vec::new(), 5))
    })
    .await
}

/// Adds one run from the form; its fields carry the CSV column names.
#[server]
pub async fn add_run(
    experiment_id: Uuid,
    fields: BTreeMap<String, String>,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let fields = fields
            .into_iter()
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v))
            .collect();
        let mut spec = run_from_fields(&fields).map_err(AppError::Validation)?;
        if let Some(version) = fields
            .get("model_version_id")
            .filter(|v| !v.trim().is_empty())
        {
            spec.model_version_id = Some(
                Uuid::parse_str(version.trim())
                    .map_err(|_| AppError::field("model_version_id", "Choose a model version."))?,
            );
        }
        let added = store::add_runs(
            &guard::state()?.pool,
            &Actor::User(member),
            experiment_id,
            vec![spec],
        )
        .await
        .map_err(|error| match error {
            store::AddRunsError::Invalid(problems) => AppError::Validation(
                problems
                    .into_iter()
                    .map(|(_, p)| FieldError {
                        field: super::fields::column_of(&p.field),
                        message: p.message,
                    })
                    .collect(),
            ),
            other => other.into(),
        })?;
        match added.first() {
            Some(run) if run.duplicate => Err(AppError::Conflict(format!(
                "The run {} is already stored with these figures.",
                run.run_key
            ))),
            Some(run) => Ok(run.run_id),
            None => Err(AppError::Internal),
        }
    })
    .await
}

/// What a CSV upload stored.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UploadOutcome {
    pub added: usize,
    pub duplicates: usize,
}

/// Adds every run of a CSV file, or none: any bad line refuses the file, and the answer lists each
/// problem (the first 100) with its line and column.
#[server]
pub async fn upload_runs(experiment_id: Uuid, csv: String) -> Result<UploadOutcome, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let as_error = |errors: Vec<LineError>| {
            AppError::Validation(
                errors
                    .into_iter()
                    .map(|e| FieldError {
                        field: "csv".into(),
                        message: e.to_string(),
                    })
                    .collect(),
            )
        };
        let runs = runs_from_csv(csv.as_bytes()).map_err(as_error)?;
        let lines: Vec<u64> = runs.iter().map(|(line, _)| *line).collect();
        let specs = runs.into_iter().map(|(_, spec)| spec).collect();
        let added = store::add_runs(
            &guard::state()?.pool,
            &Actor::User(member),
            experiment_id,
            specs,
        )
        .await
        .map_err(|error| match error {
            store::AddRunsError::Invalid(problems) => as_error(
                problems
                    .into_iter()
                    .map(|(index, p)| LineError {
                        line: lines[index],
                        column: super::fields::column_of(&p.field),
                        message: p.message,
                    })
                    .collect(),
            ),
            store::AddRunsError::Conflict { index, run_key } => as_error(vec![LineError {
                line: lines[index],
                column: "run_key".into(),
                message: format!(
                    "A run with the key {run_key} is already stored with different figures."
                ),
            }]),
            other => other.into(),
        })?;
        let duplicates = added.iter().filter(|a| a.duplicate).count();
        Ok(UploadOutcome {
            added: added.len() - duplicates,
            duplicates,
        })
    })
    .await
}

/// Imports the finished runs of an MLflow experiment (leads): the tracking server is reached
/// under the webhook address rules (`PARETO_WEBHOOK_ALLOW_PRIVATE` for one inside the network).
#[server]
pub async fn import_mlflow(
    experiment_id: Uuid,
    tracking_uri: String,
    mlflow_experiment: String,
    filter: String,
    mapping: String,
) -> Result<String, AppError> {
    use super::mlflow::{self, ImportError, Mapping};
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let state = guard::state()?;
        let (tracking_uri, mlflow_experiment) = (tracking_uri.trim(), mlflow_experiment.trim());
        if tracking_uri.is_empty() {
            return Err(AppError::field(
                "tracking_uri",
                "Name the MLflow tracking server, such as http://mlflow.internal:5000.",
            ));
        }
        if mlflow_experiment.is_empty() {
            return Err(AppError::field(
                "mlflow_experiment",
                "Name the MLflow experiment.",
            ));
        }
        let mapping: Mapping = mapping.parse().map_err(AppError::Validation)?;
        if let Some(why) =
            crate::outbound::refused_literal(tracking_uri, state.outbound.allow_private)
        {
            return Err(AppError::field("tracking_uri", why));
        }
        let client = crate::outbound::client(
            state.outbound.allow_private,
            std::time::Duration::from_secs(30),
        )
        .map_err(|_| AppError::Internal)?;
        let request = mlflow::Request {
            tracking_uri,
            experiment: mlflow_experiment,
            filter: &filter,
            mapping: &mapping,
        };
        let summary = mlflow::import(
            &state.pool,
            &Actor::User(lead),
            &client,
            experiment_id,
            &request,
        )
        .await
        .map_err(|error| match error {
            ImportError::Server(message) if message.contains("has no experiment named") => {
                AppError::field("mlflow_experiment", message)
            }
            ImportError::Server(message) => AppError::field("tracking_uri", message),
            ImportError::Runs(problems) => AppError::Validation(
                problems
                    .into_iter()
                    .map(|p| FieldError {
                        field: "runs".into(),
                        message: p.to_string(),
                    })
                    .collect(),
            ),
            ImportError::Refused(message) => AppError::field("runs", message),
            ImportError::Database(error) => error.into(),
        })?;
        Ok(summary.sentence(mlflow_experiment))
    })
    .await
}

#[server]
pub async fn delete_run(experiment_id: Uuid, run_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        store::delete_run(
            &guard::state()?.pool,
            &Actor::User(member),
            experiment_id,
            run_id,
        )
        .await
    })
    .await
}

#[server]
pub async fn set_experiment_status(experiment_id: Uuid, status: String) -> Result<(), AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let status = status
            .parse::<Status>()
            .map_err(|message| AppError::field("status", message))?;
        store::set_status(
            &guard::state()?.pool,
            &Actor::User(member),
            experiment_id,
            status,
        )
        .await
    })
    .await
}

#[server]
pub async fn save_cascade(
    experiment_id: Uuid,
    name: String,
    cheap_run_id: String,
    expensive_run_id: String,
    share_kept_pct: String,
    threshold: String,
    kept_quality: String,
    passed_quality: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        let scenario = parse_cascade(
            &name,
            &cheap_run_id,
            &expensive_run_id,
            &share_kept_pct,
            &threshold,
            &kept_quality,
            &passed_quality,
        )?;
        store::save_scenario(
            &guard::state()?.pool,
            &Actor::User(member),
            experiment_id,
            &scenario,
        )
        .await
    })
    .await
}

#[server]
pub async fn delete_cascade(experiment_id: Uuid, scenario_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        store::delete_scenario(
            &guard::state()?.pool,
            &Actor::User(member),
            experiment_id,
            scenario_id,
        )
        .await
    })
    .await
}
