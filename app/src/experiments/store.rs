//! Experiments, runs and cascade scenarios in Postgres. A set of runs is stored whole or not at
//! all; every change is audited in the same transaction.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::run::{Inference, RunSpec, TokensPerRequest};
use super::select::CascadeInput;
use super::view::{self, ExperimentView, Scenario, StoredRun};
use super::{
    parse_constraints, Direction, Experiment, ExperimentSummary, InferenceKind, Mode,
    NewExperiment, Status, TaskType,
};
use crate::api_prices::{self, ApiPrice, RequestTokens};
use crate::audit::{self, Actor, Change};
use crate::error::{unique_as_field, AppError, FieldError};
use crate::format::format_money;
use crate::teams::access::{self, Subject};

/// Days of telemetry a measured run is costed over.
pub const MEASURED_DAYS: u32 = 30;

pub async fn list(pool: &PgPool) -> Result<Vec<ExperimentSummary>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select e.experiment_id, e.name, t.name as team, e.task_type as "task_type: TaskType",
                  e.primary_metric, e.constraints, e.currency, e.status as "status: Status", e.is_demo,
                  e.monthly_volume, e.updated_at,
                  (select count(*) from experiment_run r where r.experiment_id = e.experiment_id) as "runs!"
             from experiment e join team t using (team_id)
            order by e.updated_at desc, e.name"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ExperimentSummary {
            experiment_id: row.experiment_id,
            name: row.name,
            team: row.team,
            task_type: row.task_type,
            primary_metric: row.primary_metric,
            constraints: row.constraints,
            currency: row.currency,
            status: row.status,
            is_demo: row.is_demo,
            monthly_volume: u64::try_from(row.monthly_volume).unwrap_or_default(),
            runs: row.runs,
            updated_at: row.updated_at,
        })
        .collect())
}

pub async fn get(pool: &PgPool, experiment_id: Uuid) -> Result<Option<Experiment>, sqlx::Error> {
    let Some(row) = sqlx::query!(
        r#"select e.experiment_id, e.name, e.team_id, t.name as team, e.task_type as "task_type: TaskType",
                  e.dataset, e.primary_metric, e.direction as "direction: Direction", e.constraints,
                  e.monthly_volume, e.mode as "mode: Mode", e.currency, e.status as "status: Status",
                  e.is_demo, e.created_at, e.updated_at
             from experiment e join team t using (team_id)
            where e.experiment_id = $1"#,
        experiment_id
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(Experiment {
        experiment_id: row.experiment_id,
        name: row.name,
        team_id: row.team_id,
        team: row.team,
        task_type: row.task_type,
        dataset: row.dataset,
        primary_metric: row.primary_metric,
        direction: row.direction,
        // Stored only after they parsed; a line that no longer parses is left out rather than fail the page.
        constraints: parse_constraints(&row.constraints.join("\n")).unwrap_or_default(),
        monthly_volume: u64::try_from(row.monthly_volume).unwrap_or(1),
        mode: row.mode,
        currency: row.currency,
        status: row.status,
        is_demo: row.is_demo,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }))
}

pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    new: NewExperiment,
    is_demo: bool,
) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let team = access::team_for_change(
        &mut tx,
        actor,
        new.team_id,
        "team_id",
        "This team does not exist any more.",
    )
    .await?;
    let constraints: Vec<String> = new.constraints.iter().map(ToString::to_string).collect();
    let inserted = sqlx::query_scalar!(
        "insert into experiment (name, team_id, task_type, dataset, primary_metric, direction,
                                 constraints, monthly_volume, mode, currency, is_demo, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         returning experiment_id",
        new.name,
        new.team_id,
        new.task_type as TaskType,
        new.dataset,
        new.primary_metric,
        new.direction as Direction,
        &constraints,
        i64::try_from(new.monthly_volume).unwrap_or(i64::MAX),
        new.mode as Mode,
        new.currency,
        is_demo,
        actor.user_id(),
    )
    .fetch_one(&mut *tx)
    .await;
    let experiment_id = unique_as_field(inserted, "name", || {
        format!("{team} already has an experiment named {}.", new.name)
    })?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "experiment.create",
            entity_type: "experiment",
            entity_id: experiment_id.to_string(),
            summary: format!("created experiment {} for {team}", new.name),
            detail: json!({ "name": new.name, "team": team, "constraints": constraints }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(experiment_id)
}

pub async fn set_status(
    pool: &PgPool,
    actor: &Actor,
    experiment_id: Uuid,
    status: Status,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Experiment(experiment_id)).await?;
    let name = sqlx::query_scalar!(
        "update experiment set status = $2, updated_at = now() where experiment_id = $1 returning name",
        experiment_id,
        status as Status,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("This experiment does not exist.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "experiment.status",
            entity_type: "experiment",
            entity_id: experiment_id.to_string(),
            summary: format!("marked experiment {name} {status}"),
            detail: json!({ "status": status.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The experiment's runs, or only those in `only`.
pub async fn runs(
    pool: &PgPool,
    experiment_id: Uuid,
    only: Option<&[Uuid]>,
) -> Result<Vec<StoredRun>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select r.run_id, r.spec as "spec: sqlx::types::Json<RunSpec>", r.hourly_price_source,
                  r.measured_cost_per_1k, r.created_at,
                  m.name || ' ' || v.version as model_version
             from experiment_run r
             left join model_version v using (model_version_id)
             left join model m using (model_id)
            where r.experiment_id = $1 and ($2::uuid[] is null or r.run_id = any($2))"#,
        experiment_id,
        only as Option<&[Uuid]>,
    )
    .fetch_all(pool)
    .await?;
    let mut runs: Vec<StoredRun> = rows
        .into_iter()
        .map(|row| StoredRun {
            run_id: row.run_id,
            spec: row.spec.0,
            model_version: row.model_version,
            price_source: row.hourly_price_source,
            measured_per_thousand: row.measured_cost_per_1k,
            created_at: row.created_at,
        })
        .collect();
    // In the order they were added; sorted here, where it is cheaper than in the query.
    runs.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.spec.run_key.cmp(&b.spec.run_key))
    });
    Ok(runs)
}

/// The experiment a person names on the command line: by its id or its name (the oldest of that
/// name).
pub async fn id_by_name_or_id(pool: &PgPool, text: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select experiment_id from experiment
          where experiment_id::text = $1 or lower(name) = lower($1)
          order by created_at limit 1",
        text
    )
    .fetch_optional(pool)
    .await
}

/// What storing a set of runs did, run by run.
#[derive(Debug, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Added {
    pub run_id: Uuid,
    pub run_key: String,
    /// The same key with the same content was stored before; nothing was added.
    pub duplicate: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AddRunsError {
    /// Problems found while resolving prices and deployments: (run index, problem).
    #[error("some runs cannot be priced")]
    Invalid(Vec<(usize, FieldError)>),
    #[error("run {run_key} was already stored with different figures")]
    Conflict { index: usize, run_key: String },
    #[error("experiment not found")]
    NotFound,
    /// The caller may not change this experiment (another team's, or a token bound elsewhere).
    #[error(transparent)]
    Refused(AppError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<AddRunsError> for AppError {
    fn from(error: AddRunsError) -> Self {
        match error {
            AddRunsError::Invalid(problems) => AppError::Validation(
                problems
                    .into_iter()
                    .map(|(_, problem)| problem)
                    .collect(),
            ),
            AddRunsError::Conflict { run_key, .. } => AppError::Conflict(format!(
                "A run with the key {run_key} is already stored with different figures. Choose another key, or delete that run first."
            )),
            AddRunsError::NotFound => AppError::NotFound("This experiment does not exist.".into()),
            AddRunsError::Refused(error) => error,
            AddRunsError::Database(error) => error.into(),
        }
    }
}

fn content_hash(spec: &RunSpec) -> Vec<u8> {
    let bytes = serde_json::to_vec(spec).unwrap_or_default();
    Sha256::digest(bytes).to_vec()
}

/// The on-demand price per GPU-hour in force now, by GPU model (any case).
async fn catalog_price(
    tx: &mut sqlx::PgConnection,
    gpu_model: &str,
    currency: &str,
) -> Result<Option<(Decimal, DateTime<Utc>)>, sqlx::Error> {
    let row = sqlx::query!(
        "select hourly_price, effective_from from gpu_price
          where lower(gpu_model) = lower($1) and currency = $2 and pricing_kind = 'on_demand'
            and effective_from <= $3 and (effective_to is null or effective_to > $3)",
        gpu_model,
        currency,
        crate::clock::now(),
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| (r.hourly_price, r.effective_from)))
}

/// Which row of the API price table priced a run, and on which day, in words.
fn api_price_source(
    price: &ApiPrice,
    discount: Decimal,
    batch: bool,
    now: DateTime<Utc>,
) -> String {
    let row = &price.row;
    let mut parts = vec![format!(
        "API price table: {} {}, the row in force since {}{}",
        row.provider,
        row.model,
        price.effective_from.format("%Y-%m-%d"),
        if price.is_example {
            " (an example row)"
        } else {
            ""
        }
    )];
    if let (true, Some(percent)) = (batch, row.batch_discount_percent) {
        parts.push(format!("batch −{}%", percent.normalize()));
    }
    if !discount.is_zero() {
        parts.push(format!("negotiated −{}%", discount.normalize()));
    }
    parts.push(format!("priced on {}", now.format("%Y-%m-%d")));
    parts.join(", ")
}

/// What a measured run takes from its deployment's telemetry.
#[derive(Clone, Copy)]
struct Measured {
    deployment_id: Uuid,
    per_thousand: Decimal,
    /// For a language model whose server counts tokens.
    tokens: Option<TokensPerRequest>,
}

/// A measured run's deployment, its cost per 1,000 requests (reserved basis) in `currency` over
/// the last `MEASURED_DAYS` days, and the tokens per request of the same hours.
async fn measured(
    pool: &PgPool,
    key: &str,
    currency: &str,
) -> Result<Result<Measured, String>, sqlx::Error> {
    let fleet = crate::fleet::store::load(pool, MEASURED_DAYS).await?;
    let Some(deployment) = fleet.deployments.into_iter().find(|d| d.key == key) else {
        return Ok(Err(format!("No deployment has the key {key}.")));
    };
    let cost = deployment.costs.iter().find(|c| c.currency == currency);
    // Per request that counted its tokens: other requests of the deployment may count none.
    let tokens = cost
        .map(|c| c.tokens)
        .filter(|t| t.requests > 0 && t.output > 0)
        .map(|t| TokensPerRequest {
            input: t.input as f64 / t.requests as f64,
            output: t.output as f64 / t.requests as f64,
        });
    Ok(cost
        .and_then(|c| c.per_thousand_reserved)
        .map(|per_thousand| Measured {
            deployment_id: deployment.deployment_id,
            per_thousand,
            tokens,
        })
        .ok_or_else(|| {
            format!(
                "Deployment {key} has no priced requests in {currency} in the last {MEASURED_DAYS} days."
            )
        }))
}

/// Stores validated runs in one transaction: each gets its hardware price from the catalog when
/// it was not typed, and a measured run its cost from telemetry. A key stored before with the same
/// content is a duplicate and adds nothing; with other content it refuses the whole set.
pub async fn add_runs(
    pool: &PgPool,
    actor: &Actor,
    experiment_id: Uuid,
    specs: Vec<RunSpec>,
) -> Result<Vec<Added>, AddRunsError> {
    let experiment = get(pool, experiment_id)
        .await?
        .ok_or(AddRunsError::NotFound)?;
    let currency = experiment.currency.clone();
    let mut problems = Vec::new();
    let mut measured_costs: BTreeMap<String, Result<Measured, String>> = BTreeMap::new();
    for spec in &specs {
        if let Inference::Measured { deployment } = &spec.inference {
            if !measured_costs.contains_key(deployment) {
                let figure = measured(pool, deployment, &currency).await?;
                measured_costs.insert(deployment.clone(), figure);
            }
        }
    }

    let mut tx = pool.begin().await?;
    // One writer of an experiment's runs at a time, so a key is checked and claimed at once.
    sqlx::query!(
        "select experiment_id from experiment where experiment_id = $1 for update",
        experiment_id
    )
    .fetch_one(&mut *tx)
    .await?;
    access::require(&mut tx, actor, Subject::Experiment(experiment_id))
        .await
        .map_err(AddRunsError::Refused)?;
    let existing: BTreeMap<String, (Uuid, Vec<u8>)> = sqlx::query!(
        "select run_key, run_id, content_hash from experiment_run where experiment_id = $1",
        experiment_id
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.run_key, (r.run_id, r.content_hash)))
    .collect();

    // A run made from another names a run of the experiment, stored or in this set.
    for (index, spec) in specs.iter().enumerate() {
        if let Some(derivation) = &spec.derived_from {
            let known = existing.contains_key(&derivation.parent)
                || specs.iter().any(|s| s.run_key == derivation.parent);
            if !known {
                problems.push((
                    index,
                    FieldError {
                        field: "derived_from.parent".into(),
                        message: format!(
                            "No run of this experiment has the key {}: name the run it was made from by its key.",
                            derivation.parent
                        ),
                    },
                ));
            }
        }
    }
    let mut added = Vec::with_capacity(specs.len());
    let mut rows = Vec::new();
    let mut keys_in_set: BTreeMap<String, usize> = BTreeMap::new();
    for (index, mut spec) in specs.into_iter().enumerate() {
        let hash = content_hash(&spec);
        if let Some(first) = keys_in_set.insert(spec.run_key.clone(), index) {
            problems.push((
                index,
                FieldError {
                    field: "run_key".into(),
                    message: format!(
                        "The key {} is used twice in this set (also by run {}).",
                        spec.run_key,
                        first + 1
                    ),
                },
            ));
            continue;
        }
        if let Some((run_id, stored)) = existing.get(&spec.run_key) {
            if *stored == hash {
                added.push(Added {
                    run_id: *run_id,
                    run_key: spec.run_key,
                    duplicate: true,
                });
                continue;
            }
            return Err(AddRunsError::Conflict {
                index,
                run_key: spec.run_key,
            });
        }
        let mut source = String::new();
        if let Some(hardware) = spec.hardware.as_mut() {
            match (&hardware.gpu_model, hardware.hourly_price) {
                (_, Some(_)) => source = "typed".into(),
                (Some(gpu), None) => match catalog_price(&mut tx, gpu, &currency).await? {
                    Some((per_gpu, from)) => {
                        let count = hardware.gpu_count.unwrap_or(1).max(1);
                        hardware.hourly_price = Some(per_gpu * Decimal::from(count));
                        source = format!(
                            "price catalog: on-demand {} per GPU-hour × {count}, in force since {}",
                            format_money(per_gpu, &currency),
                            from.format("%Y-%m-%d")
                        );
                    }
                    None => problems.push((
                        index,
                        FieldError {
                            field: "hardware.hourly_price".into(),
                            message: format!(
                                "The price catalog has no on-demand {currency} price for {gpu} today: type the price per hour, or add one under Settings → GPU prices."
                            ),
                        },
                    )),
                },
                (None, None) => {}
            }
        }
        if let Inference::ApiTokens {
            input_per_1k_tokens,
            output_per_1k_tokens,
            avg_input_tokens,
            avg_output_tokens,
            avg_cached_input_tokens,
            provider: Some(provider),
            model: Some(model),
            batch,
        } = &mut spec.inference
        {
            let now = crate::clock::now();
            match api_prices::store::in_force(&mut tx, provider, model, now).await? {
                Some((price, discount)) if price.row.currency == currency => {
                    let tokens = RequestTokens {
                        input: *avg_input_tokens,
                        output: *avg_output_tokens,
                        cached_input: avg_cached_input_tokens.unwrap_or_default(),
                    };
                    let prices = price.row.per_thousand_tokens(tokens, *batch, discount);
                    *input_per_1k_tokens = Some(prices.input);
                    *output_per_1k_tokens = Some(prices.output);
                    // Beside the hardware's price source, when the run has one (for training).
                    let api = api_price_source(&price, discount, *batch, now);
                    source = if source.is_empty() {
                        api
                    } else {
                        format!("{source}; {api}")
                    };
                }
                Some((price, _)) => problems.push((
                    index,
                    FieldError {
                        field: "inference.model".into(),
                        message: format!(
                            "The API price table prices {} {} in {}; this experiment counts in {currency}. Type the prices per 1,000 tokens instead.",
                            price.row.provider, price.row.model, price.row.currency
                        ),
                    },
                )),
                None => problems.push((
                    index,
                    FieldError {
                        field: "inference.model".into(),
                        message: format!(
                            "The API price table has no price for {provider} {model} today: add one under Settings → API prices, or type the prices."
                        ),
                    },
                )),
            }
        }
        if let Some(version) = spec.model_version_id {
            let known = sqlx::query_scalar!(
                r#"select exists (select 1 from model_version where model_version_id = $1) as "known!""#,
                version
            )
            .fetch_one(&mut *tx)
            .await?;
            if !known {
                problems.push((
                    index,
                    FieldError {
                        field: "model_version_id".into(),
                        message: "No model version has this id.".into(),
                    },
                ));
            }
        }
        let mut deployment_id = None;
        let mut measured_per_thousand = None;
        if let Inference::Measured { deployment } = &spec.inference {
            match measured_costs.get(deployment) {
                Some(Ok(measured)) => {
                    deployment_id = Some(measured.deployment_id);
                    measured_per_thousand = Some(measured.per_thousand);
                    if spec.tokens_per_request.is_none() {
                        spec.tokens_per_request = measured.tokens;
                    }
                }
                Some(Err(message)) => problems.push((
                    index,
                    FieldError {
                        field: "inference.deployment".into(),
                        message: message.clone(),
                    },
                )),
                None => {}
            }
        }
        rows.push((spec, hash, source, deployment_id, measured_per_thousand));
    }
    if !problems.is_empty() {
        return Err(AddRunsError::Invalid(problems));
    }

    for (spec, hash, source, deployment_id, measured_per_thousand) in rows {
        let hourly_price = spec.hardware.as_ref().and_then(|h| h.hourly_price);
        let run_id = sqlx::query_scalar!(
            "insert into experiment_run (experiment_id, run_key, name, model_version_id, inference_kind,
                                         spec, hourly_price, hourly_price_source, deployment_id,
                                         measured_cost_per_1k, content_hash, created_by)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             returning run_id",
            experiment_id,
            spec.run_key,
            spec.name,
            spec.model_version_id,
            spec.inference.kind() as InferenceKind,
            serde_json::to_value(&spec).unwrap_or_default(),
            hourly_price,
            source,
            deployment_id,
            measured_per_thousand,
            hash,
            actor.user_id(),
        )
        .fetch_one(&mut *tx)
        .await?;
        added.push(Added {
            run_id,
            run_key: spec.run_key,
            duplicate: false,
        });
    }
    let new_runs: Vec<&str> = added
        .iter()
        .filter(|a| !a.duplicate)
        .map(|a| a.run_key.as_str())
        .collect();
    if !new_runs.is_empty() {
        sqlx::query!(
            "update experiment set updated_at = now() where experiment_id = $1",
            experiment_id
        )
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            Change {
                action: "experiment.add_runs",
                entity_type: "experiment",
                entity_id: experiment_id.to_string(),
                summary: format!(
                    "added {} run{} to experiment {}",
                    new_runs.len(),
                    if new_runs.len() == 1 { "" } else { "s" },
                    experiment.name
                ),
                detail: json!({ "run_keys": new_runs.iter().take(100).collect::<Vec<_>>() }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(added)
}

pub async fn delete_run(
    pool: &PgPool,
    actor: &Actor,
    experiment_id: Uuid,
    run_id: Uuid,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Experiment(experiment_id)).await?;
    let name = sqlx::query_scalar!(
        "delete from experiment_run where experiment_id = $1 and run_id = $2 returning name",
        experiment_id,
        run_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("This run does not exist any more.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "experiment.delete_run",
            entity_type: "experiment",
            entity_id: experiment_id.to_string(),
            summary: format!("deleted run {name}"),
            detail: json!({ "run_id": run_id, "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn scenarios(pool: &PgPool, experiment_id: Uuid) -> Result<Vec<Scenario>, sqlx::Error> {
    Ok(sqlx::query!(
        "select cascade_scenario_id, name, cheap_run_id, expensive_run_id, share_kept, threshold,
                kept_quality, passed_quality
           from cascade_scenario where experiment_id = $1 order by created_at, name",
        experiment_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| Scenario {
        scenario_id: row.cascade_scenario_id,
        name: row.name,
        cheap_run_id: row.cheap_run_id,
        expensive_run_id: row.expensive_run_id,
        input: CascadeInput {
            share_kept: row.share_kept,
            kept_quality: row.kept_quality,
            passed_quality: row.passed_quality,
        },
        threshold: row.threshold,
    })
    .collect())
}

pub async fn save_scenario(
    pool: &PgPool,
    actor: &Actor,
    experiment_id: Uuid,
    scenario: &Scenario,
) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Experiment(experiment_id)).await?;
    let runs = sqlx::query_scalar!(
        r#"select count(*) as "count!" from experiment_run where experiment_id = $1 and run_id in ($2, $3)"#,
        experiment_id,
        scenario.cheap_run_id,
        scenario.expensive_run_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if runs != 2 {
        return Err(AppError::field(
            "cheap_run_id",
            "Choose two different runs of this experiment.",
        ));
    }
    let inserted = sqlx::query_scalar!(
        "insert into cascade_scenario (experiment_id, name, cheap_run_id, expensive_run_id, share_kept,
                                       threshold, kept_quality, passed_quality, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning cascade_scenario_id",
        experiment_id,
        scenario.name,
        scenario.cheap_run_id,
        scenario.expensive_run_id,
        scenario.input.share_kept,
        scenario.threshold,
        scenario.input.kept_quality,
        scenario.input.passed_quality,
        actor.user_id(),
    )
    .fetch_one(&mut *tx)
    .await;
    let id = unique_as_field(inserted, "name", || {
        format!("A scenario named {} exists already.", scenario.name)
    })?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "experiment.save_cascade",
            entity_type: "experiment",
            entity_id: experiment_id.to_string(),
            summary: format!("saved cascade scenario {}", scenario.name),
            detail: json!({ "name": scenario.name, "share_kept": scenario.input.share_kept }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_scenario(
    pool: &PgPool,
    actor: &Actor,
    experiment_id: Uuid,
    scenario_id: Uuid,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Experiment(experiment_id)).await?;
    let name = sqlx::query_scalar!(
        "delete from cascade_scenario where experiment_id = $1 and cascade_scenario_id = $2 returning name",
        experiment_id,
        scenario_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("This scenario does not exist any more.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "experiment.delete_cascade",
            entity_type: "experiment",
            entity_id: experiment_id.to_string(),
            summary: format!("deleted cascade scenario {name}"),
            detail: json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The recommendation were the experiment served the other way (batch against real time).
pub async fn other_mode(pool: &PgPool, experiment_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    let Some(experiment) = get(pool, experiment_id).await? else {
        return Ok(None);
    };
    let runs = parsed_runs(pool, experiment_id).await?;
    Ok(view::other_mode(&experiment, &runs))
}

/// The experiments with a run of `model_version_id`, those that recommend it first.
pub async fn evaluations_of(
    pool: &PgPool,
    model_version_id: Uuid,
) -> Result<Vec<super::Evaluation>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select e.experiment_id, e.name, array_agg(r.run_key) as "run_keys!"
             from experiment_run r join experiment e using (experiment_id)
            where r.model_version_id = $1
            group by e.experiment_id, e.name
            order by e.name"#,
        model_version_id
    )
    .fetch_all(pool)
    .await?;
    let mut evaluations = Vec::with_capacity(rows.len());
    for row in rows {
        let chose_it = view(pool, row.experiment_id, usize::MAX)
            .await?
            .and_then(|v| v.runs.into_iter().find(|r| r.recommended))
            .is_some_and(|r| row.run_keys.contains(&r.run_key));
        evaluations.push(super::Evaluation {
            experiment_id: row.experiment_id,
            experiment: row.name,
            chose_it,
        });
    }
    evaluations.sort_by_key(|e| !e.chose_it);
    Ok(evaluations)
}

/// The experiment with every figure its page shows, listing at most `limit` runs; `None` when it
/// does not exist.
pub async fn view(
    pool: &PgPool,
    experiment_id: Uuid,
    limit: usize,
) -> Result<Option<ExperimentView>, sqlx::Error> {
    let Some(experiment) = get(pool, experiment_id).await? else {
        return Ok(None);
    };
    let (runs, scenarios) = tokio::try_join!(
        parsed_runs(pool, experiment_id),
        scenarios(pool, experiment_id)
    )?;
    Ok(Some(view::build(experiment, &runs, scenarios, limit)))
}

/// Every run of an experiment, read and parsed once for each state of its runs
/// (`experiment.runs_version`, which the database moves on every change to them): a page viewed
/// again reads one number instead of every run. Each server keeps its own copies, and the number
/// tells each whether its copy is current.
async fn parsed_runs(
    pool: &PgPool,
    experiment_id: Uuid,
) -> Result<std::sync::Arc<Vec<StoredRun>>, sqlx::Error> {
    let Some(version) = sqlx::query_scalar!(
        "select runs_version from experiment where experiment_id = $1",
        experiment_id
    )
    .fetch_optional(pool)
    .await?
    else {
        // Deleted meanwhile, and its runs with it.
        return Ok(std::sync::Arc::default());
    };
    if let Some(runs) = parsed::get(experiment_id, version) {
        return Ok(runs);
    }
    // Read after the version, so never older than it: a change in between is already in them.
    let runs = std::sync::Arc::new(runs(pool, experiment_id, None).await?);
    parsed::put(experiment_id, version, runs.clone());
    Ok(runs)
}

/// The parsed runs this server keeps: the experiments viewed last, up to a number of runs.
mod parsed {
    use std::sync::{Arc, LazyLock, Mutex};
    use uuid::Uuid;

    use super::StoredRun;

    /// At most this many runs in all (some tens of megabytes).
    const MOST_RUNS: usize = 50_000;

    /// (experiment, its runs' version, the runs), the last used at the end.
    type Kept = Vec<(Uuid, i64, Arc<Vec<StoredRun>>)>;

    static KEPT: LazyLock<Mutex<Kept>> = LazyLock::new(Mutex::default);

    fn kept() -> std::sync::MutexGuard<'static, Kept> {
        // A panic while holding the lock leaves nothing half-changed: entries are whole.
        KEPT.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(experiment_id: Uuid, version: i64) -> Option<Arc<Vec<StoredRun>>> {
        let mut kept = kept();
        let at = kept
            .iter()
            .position(|(id, v, _)| *id == experiment_id && *v == version)?;
        let entry = kept.remove(at);
        let runs = entry.2.clone();
        kept.push(entry);
        Some(runs)
    }

    pub fn put(experiment_id: Uuid, version: i64, runs: Arc<Vec<StoredRun>>) {
        if runs.len() > MOST_RUNS {
            return;
        }
        let mut kept = kept();
        kept.retain(|(id, _, _)| *id != experiment_id);
        kept.push((experiment_id, version, runs));
        while kept.iter().map(|(_, _, runs)| runs.len()).sum::<usize>() > MOST_RUNS {
            kept.remove(0);
        }
    }
}
