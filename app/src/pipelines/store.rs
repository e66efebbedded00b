//! Pipelines in Postgres: each stage's candidates are its experiment's runs, priced at the items
//! the stage scores a month, then searched end to end.

use rust_decimal::prelude::ToPrimitive;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::search::{search, Question};
use super::{Candidate, PipelineSummary, PipelineView, Stage, StageSpec, StageView};
use crate::audit::{self, Actor, Change};
use crate::error::{unique_as_field, AppError};
use crate::experiments::{select, Constraint, Direction};
use crate::teams::access::{self, Subject};

/// A pipeline as a lead or a pipeline asks for it, checked field by field.
pub struct NewPipeline {
    pub name: String,
    pub team_id: Uuid,
    pub description: String,
    pub sla: Vec<Constraint>,
    pub monthly_volume: u64,
    pub currency: String,
    pub stages: Vec<StageSpec>,
}

/// Every pipeline, by team and name.
pub async fn list(pool: &PgPool) -> Result<Vec<PipelineSummary>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select p.pipeline_id, p.name, t.name as team, p.constraints, p.monthly_volume,
                  p.currency, p.is_demo,
                  array(select s.name from pipeline_stage s where s.pipeline_id = p.pipeline_id
                         order by s.position) as "stages!"
             from pipeline p join team t using (team_id)
            order by lower(t.name), lower(p.name)"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| PipelineSummary {
            pipeline_id: row.pipeline_id,
            name: row.name,
            team: row.team,
            stages: row.stages,
            sla: described(&row.constraints)
                .into_iter()
                .map(|(_, shown)| shown)
                .collect(),
            monthly_volume: u64::try_from(row.monthly_volume).unwrap_or_default(),
            currency: row.currency,
            is_demo: row.is_demo,
        })
        .collect())
}

/// Stored constraints as stored and as read, in the pipeline's currency; one that no longer
/// reads is skipped.
fn described(constraints: &[String]) -> Vec<(String, String)> {
    constraints
        .iter()
        .filter_map(|text| text.parse::<Constraint>().ok())
        .map(|c| (c.to_string(), c.describe("")))
        .collect()
}

/// A pipeline with its stages priced and the search's answer; `None` when it does not exist.
pub async fn view(pool: &PgPool, pipeline_id: Uuid) -> Result<Option<PipelineView>, sqlx::Error> {
    Ok(load(pool, pipeline_id).await?.map(|loaded| loaded.view))
}

/// A pipeline's page, with what its search read: for questions asked of the same figures.
struct Loaded {
    view: PipelineView,
    stages: Vec<Stage>,
    sla: Vec<Constraint>,
    measured: Vec<(Vec<usize>, f64)>,
}

impl Loaded {
    fn question(&self) -> Question<'_> {
        Question {
            stages: &self.stages,
            sla: &self.sla,
            metric: &self.view.metric,
            higher_is_better: self.view.higher_is_better,
            volume: self.view.monthly_volume,
            measured: &self.measured,
        }
    }
}

async fn load(pool: &PgPool, pipeline_id: Uuid) -> Result<Option<Loaded>, sqlx::Error> {
    let Some(row) = sqlx::query!(
        r#"select p.name, p.team_id, t.name as team, p.description, p.constraints,
                  p.monthly_volume, p.currency, p.is_demo,
                  p.route_stage, p.route_light, p.route_heavy, p.route_share
             from pipeline p join team t using (team_id) where p.pipeline_id = $1"#,
        pipeline_id
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let stages = sqlx::query!(
        "select position, name, experiment_id, share, fan_out from pipeline_stage
          where pipeline_id = $1 order by position",
        pipeline_id
    )
    .fetch_all(pool)
    .await?;
    let volume = u64::try_from(row.monthly_volume).unwrap_or_default();
    let mut views = Vec::with_capacity(stages.len());
    let mut problem = None;
    let mut metric = (String::new(), true);
    for stage in stages {
        let Some(experiment) = crate::experiments::store::get(pool, stage.experiment_id).await?
        else {
            continue;
        };
        let runs = crate::experiments::store::runs(pool, stage.experiment_id, None).await?;
        let items = (volume as f64 * stage.share * stage.fan_out).round() as u64;
        if experiment.currency != row.currency && problem.is_none() {
            problem = Some(format!(
                "Stage “{}” prices its runs in {}, the pipeline in {}: give them one currency.",
                stage.name, experiment.currency, row.currency
            ));
        }
        let mut candidates = Vec::new();
        let mut left_out = Vec::new();
        for run in runs.iter() {
            let spec = &run.spec;
            let priced = select::price(spec, run.measured_per_thousand, experiment.mode)
                .map(|curve| curve.per_thousand_at(items.max(1)));
            let latency = &spec.latency_ms;
            match (priced, latency.p95) {
                (Err(why), _) => left_out.push(format!("{}: {why}", spec.run_key)),
                (_, None) => left_out.push(format!("{}: no p95 latency", spec.run_key)),
                (Ok(per_thousand), Some(p95)) => candidates.push(Candidate {
                    run: spec.run_key.clone(),
                    name: spec.name.clone(),
                    cost_per_1k: per_thousand.to_f64().unwrap_or(f64::INFINITY),
                    // Without a p50, no spread is assumed: the stage always takes its p95.
                    p50_ms: latency.p50.unwrap_or(p95).min(p95),
                    p95_ms: p95,
                    quality: spec.metrics.get(&experiment.primary_metric).copied(),
                }),
            }
        }
        metric = (
            experiment.primary_metric.clone(),
            experiment.direction == Direction::Higher,
        );
        views.push(StageView {
            stage: Stage {
                name: stage.name,
                share: stage.share,
                fan_out: stage.fan_out,
                candidates,
            },
            experiment_id: stage.experiment_id,
            experiment: experiment.name,
            items_per_month: items,
            left_out,
        });
    }
    let sla: Vec<Constraint> = row
        .constraints
        .iter()
        .filter_map(|text| text.parse().ok())
        .collect();
    let stages: Vec<Stage> = views.iter().map(|v| v.stage.clone()).collect();
    // Quality measured end to end, for the combinations whose runs are all still candidates.
    let measured: Vec<(Vec<usize>, f64)> = sqlx::query!(
        "select run_keys, metric_value from pipeline_run where pipeline_id = $1",
        pipeline_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .filter(|row| row.run_keys.len() == stages.len())
    .filter_map(|row| {
        let picks = row
            .run_keys
            .iter()
            .zip(&stages)
            .map(|(key, stage)| stage.candidates.iter().position(|c| c.run == *key))
            .collect::<Option<Vec<usize>>>()?;
        Some((picks, row.metric_value))
    })
    .collect();
    let found = match problem {
        Some(_) => None,
        None => match search(&Question {
            stages: &stages,
            sla: &sla,
            metric: &metric.0,
            higher_is_better: metric.1,
            volume,
            measured: &measured,
        }) {
            Ok(found) => Some(found),
            Err(why) => {
                problem = Some(why);
                None
            }
        },
    };
    let view = PipelineView {
        pipeline_id,
        name: row.name,
        team_id: row.team_id,
        team: row.team,
        description: row.description,
        sla: described(&row.constraints),
        monthly_volume: volume,
        currency: row.currency,
        is_demo: row.is_demo,
        stages: views,
        metric: metric.0,
        higher_is_better: metric.1,
        found,
        problem,
        measured: measured
            .iter()
            .map(|(picks, value)| {
                let names = picks
                    .iter()
                    .zip(&stages)
                    .map(|(pick, stage)| stage.candidates[*pick].name.clone())
                    .collect();
                (names, *value)
            })
            .collect(),
        route: None,
    };
    let mut loaded = Loaded {
        view,
        stages,
        sla,
        measured,
    };
    if let (Some(stage), Some(light), Some(heavy), Some(share)) = (
        row.route_stage,
        row.route_light,
        row.route_heavy,
        row.route_share,
    ) {
        let stage = usize::try_from(stage).unwrap_or(1).saturating_sub(1);
        let blend = loaded.route_blend(stage, &light, &heavy, share);
        let (blend, problem) = match blend {
            Ok(blend) => (Some(blend), None),
            Err(why) => (None, Some(why)),
        };
        loaded.view.route = Some(super::Route {
            stage,
            light,
            heavy,
            share,
            blend,
            problem,
        });
    }
    Ok(Some(loaded))
}

impl Loaded {
    /// The combination routes are blended on: the cheapest within the SLA, else the frontier's
    /// first, else every stage's first candidate.
    fn base(&self) -> Vec<usize> {
        self.view
            .found
            .as_ref()
            .and_then(|found| found.best.as_ref().or(found.frontier.first()))
            .map_or_else(|| vec![0; self.view.stages.len()], |c| c.picks.clone())
    }

    /// The blend of a route named by run keys.
    fn route_blend(
        &self,
        stage: usize,
        light: &str,
        heavy: &str,
        share: f64,
    ) -> Result<super::hybrid::Blend, String> {
        if let Some(problem) = &self.view.problem {
            return Err(problem.clone());
        }
        let routed = self
            .stages
            .get(stage)
            .ok_or_else(|| format!("The pipeline has no stage {} any more.", stage + 1))?;
        let find = |key: &str| {
            routed
                .candidates
                .iter()
                .position(|c| c.run == key)
                .ok_or_else(|| format!("Stage “{}” has no candidate {key} any more.", routed.name))
        };
        super::hybrid::blend(
            &self.question(),
            &self.base(),
            stage,
            find(light)?,
            find(heavy)?,
            share,
        )
    }
}

/// Keeps a hybrid route on a pipeline (or, with `None`, stops it): `(stage, light, heavy,
/// share)`, the stage and candidates 0-based as the page and the API count them from 1. Audited.
pub async fn set_route(
    pool: &PgPool,
    actor: &Actor,
    pipeline_id: Uuid,
    route: Option<(usize, usize, usize, f64)>,
) -> Result<(), AppError> {
    let loaded = load(pool, pipeline_id)
        .await?
        .ok_or_else(|| AppError::NotFound("No such pipeline.".into()))?;
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Team(loaded.view.team_id)).await?;
    let (columns, summary) = match route {
        None => (
            (None, None, None, None),
            format!("stopped the hybrid route of {}", loaded.view.name),
        ),
        Some((stage, light, heavy, share)) => {
            // Checked as the page works it out, so a kept route always reads back.
            let question = loaded.question();
            super::hybrid::blend(&question, &loaded.base(), stage, light, heavy, share)
                .map_err(|why| AppError::field("heavy", why))?;
            let routed = &loaded.stages[stage];
            let (light, heavy) = (&routed.candidates[light], &routed.candidates[heavy]);
            (
                (
                    Some(i16::try_from(stage + 1).unwrap_or(i16::MAX)),
                    Some(light.run.clone()),
                    Some(heavy.run.clone()),
                    Some(share),
                ),
                format!(
                    "routed {:.0}% of {}'s requests to {} instead of {} in stage {}",
                    share * 100.0,
                    loaded.view.name,
                    heavy.name,
                    light.name,
                    routed.name
                ),
            )
        }
    };
    sqlx::query!(
        "update pipeline set route_stage = $2, route_light = $3, route_heavy = $4, route_share = $5,
                updated_at = now()
          where pipeline_id = $1",
        pipeline_id,
        columns.0,
        columns.1,
        columns.2,
        columns.3,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "pipeline.route",
            entity_type: "pipeline",
            entity_id: pipeline_id.to_string(),
            summary,
            detail: json!({
                "stage": columns.0, "light": columns.1, "heavy": columns.2, "share": columns.3,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the quality measured end to end for one combination (a run key per stage, in order);
/// the same combination again replaces its figure. Every key must be a run of its stage's
/// experiment.
pub async fn record_run(
    pool: &PgPool,
    actor: &Actor,
    pipeline_id: Uuid,
    run_keys: &[String],
    value: f64,
) -> Result<(), AppError> {
    if !value.is_finite() {
        return Err(AppError::field(
            "value",
            "Give the measured metric as a number.",
        ));
    }
    let mut tx = pool.begin().await?;
    let found = sqlx::query!(
        "select name, team_id from pipeline where pipeline_id = $1",
        pipeline_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such pipeline.".into()))?;
    access::require(&mut tx, actor, Subject::Team(found.team_id)).await?;
    let stages = sqlx::query!(
        "select s.name, s.experiment_id from pipeline_stage s
          where s.pipeline_id = $1 order by s.position",
        pipeline_id
    )
    .fetch_all(&mut *tx)
    .await?;
    if run_keys.len() != stages.len() {
        return Err(AppError::field(
            "runs",
            format!(
                "Give one run key per stage, {} in all, in stage order.",
                stages.len()
            ),
        ));
    }
    for (stage, key) in stages.iter().zip(run_keys) {
        let known = sqlx::query_scalar!(
            "select exists(select 1 from experiment_run where experiment_id = $1 and run_key = $2)",
            stage.experiment_id,
            key
        )
        .fetch_one(&mut *tx)
        .await?
        .unwrap_or(false);
        if !known {
            return Err(AppError::field(
                "runs",
                format!("Stage “{}” has no run with the key {key}.", stage.name),
            ));
        }
    }
    sqlx::query!(
        "insert into pipeline_run (pipeline_id, run_keys, metric_value, created_by_label)
         values ($1, $2, $3, $4)
         on conflict (pipeline_id, run_keys) do update
            set metric_value = $3, created_by_label = $4, created_at = now()",
        pipeline_id,
        run_keys,
        value,
        actor.label()
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "pipeline.run",
            entity_type: "pipeline",
            entity_id: pipeline_id.to_string(),
            summary: format!(
                "measured {} end to end at {value} for {}",
                found.name,
                run_keys.join(" → ")
            ),
            detail: json!({ "runs": run_keys, "value": value }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Stores a pipeline and its stages, all or nothing; each stage's experiment is found by name (or
/// id) among the team's, and a missing one is named by its stage.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    new: NewPipeline,
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
    let experiments = stage_experiments(&mut tx, new.team_id, &new.stages).await?;
    let constraints: Vec<String> = new.sla.iter().map(ToString::to_string).collect();
    let inserted = sqlx::query_scalar!(
        "insert into pipeline (name, team_id, description, constraints, monthly_volume, currency,
                               is_demo, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning pipeline_id",
        new.name,
        new.team_id,
        new.description,
        &constraints,
        i64::try_from(new.monthly_volume).unwrap_or(i64::MAX),
        new.currency,
        is_demo,
        actor.user_id(),
    )
    .fetch_one(&mut *tx)
    .await;
    let pipeline_id = unique_as_field(inserted, "name", || {
        format!("{team} already has a pipeline named {}.", new.name)
    })?;
    insert_stages(&mut tx, pipeline_id, &new.stages, &experiments).await?;
    let stages: Vec<&str> = new.stages.iter().map(|s| s.name.as_str()).collect();
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "pipeline.create",
            entity_type: "pipeline",
            entity_id: pipeline_id.to_string(),
            summary: format!(
                "created pipeline {} for {team}: {}",
                new.name,
                stages.join(" → ")
            ),
            detail: json!({
                "name": new.name, "team": team, "constraints": constraints,
                "monthly_volume": new.monthly_volume, "stages": new.stages,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(pipeline_id)
}

/// Each stage's experiment, found by name (or id) among all, the team's own first; a missing one
/// is named by its line.
async fn stage_experiments(
    tx: &mut sqlx::PgConnection,
    team_id: Uuid,
    stages: &[StageSpec],
) -> Result<Vec<Uuid>, AppError> {
    let mut experiments = Vec::with_capacity(stages.len());
    for (index, stage) in stages.iter().enumerate() {
        let found = sqlx::query_scalar!(
            "select experiment_id from experiment
              where experiment_id::text = $1 or lower(name) = lower($1)
              order by (team_id = $2) desc limit 1",
            stage.experiment.trim(),
            team_id
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            AppError::field(
                "stages",
                format!(
                    "line {}: no experiment is named {}.",
                    index + 1,
                    stage.experiment
                ),
            )
        })?;
        experiments.push(found);
    }
    Ok(experiments)
}

async fn insert_stages(
    tx: &mut sqlx::PgConnection,
    pipeline_id: Uuid,
    stages: &[StageSpec],
    experiments: &[Uuid],
) -> Result<(), sqlx::Error> {
    for (position, (stage, experiment_id)) in stages.iter().zip(experiments).enumerate() {
        sqlx::query!(
            "insert into pipeline_stage (pipeline_id, position, name, experiment_id, share, fan_out)
             values ($1, $2, $3, $4, $5, $6)",
            pipeline_id,
            i16::try_from(position + 1).unwrap_or(i16::MAX),
            stage.name,
            experiment_id,
            stage.share,
            stage.fan_out
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Changes a pipeline whole (name, description, stages, SLA, volume, currency; its team stays),
/// all or nothing, audited with what it was. Its measured combinations stay: those whose runs
/// are no longer its stages' candidates are simply not read.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    pipeline_id: Uuid,
    new: NewPipeline,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let before = sqlx::query!(
        r#"select p.name, p.team_id, t.name as team, p.constraints, p.monthly_volume
             from pipeline p join team t using (team_id) where p.pipeline_id = $1 for update of p"#,
        pipeline_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such pipeline.".into()))?;
    access::require(&mut tx, actor, Subject::Team(before.team_id)).await?;
    let experiments = stage_experiments(&mut tx, before.team_id, &new.stages).await?;
    let constraints: Vec<String> = new.sla.iter().map(ToString::to_string).collect();
    let updated = sqlx::query!(
        "update pipeline set name = $2, description = $3, constraints = $4, monthly_volume = $5,
                currency = $6, updated_at = now()
          where pipeline_id = $1",
        pipeline_id,
        new.name,
        new.description,
        &constraints,
        i64::try_from(new.monthly_volume).unwrap_or(i64::MAX),
        new.currency,
    )
    .execute(&mut *tx)
    .await;
    unique_as_field(updated, "name", || {
        format!("{} already has a pipeline named {}.", before.team, new.name)
    })?;
    sqlx::query!(
        "delete from pipeline_stage where pipeline_id = $1",
        pipeline_id
    )
    .execute(&mut *tx)
    .await?;
    insert_stages(&mut tx, pipeline_id, &new.stages, &experiments).await?;
    let stages: Vec<&str> = new.stages.iter().map(|s| s.name.as_str()).collect();
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "pipeline.update",
            entity_type: "pipeline",
            entity_id: pipeline_id.to_string(),
            summary: format!(
                "changed pipeline {}: {}; SLA {}",
                new.name,
                stages.join(" → "),
                if constraints.is_empty() {
                    "none".to_owned()
                } else {
                    constraints.join(", ")
                }
            ),
            detail: json!({
                "before": {
                    "name": before.name, "constraints": before.constraints,
                    "monthly_volume": before.monthly_volume,
                },
                "after": {
                    "name": new.name, "constraints": constraints,
                    "monthly_volume": new.monthly_volume, "stages": new.stages,
                },
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a pipeline and its stages (its experiments stay).
pub async fn delete(pool: &PgPool, actor: &Actor, pipeline_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query!(
        "select name, team_id from pipeline where pipeline_id = $1",
        pipeline_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such pipeline.".into()))?;
    access::require(&mut tx, actor, Subject::Team(found.team_id)).await?;
    sqlx::query!("delete from pipeline where pipeline_id = $1", pipeline_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "pipeline.delete",
            entity_type: "pipeline",
            entity_id: pipeline_id.to_string(),
            summary: format!("deleted pipeline {}", found.name),
            detail: json!({ "name": found.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Hybrid routing on the pipeline's cheapest combination within its SLA (else its frontier's
/// first, else every stage's first candidate); `None` when the pipeline does not exist.
pub async fn blend(
    pool: &PgPool,
    pipeline_id: Uuid,
    stage: usize,
    light: usize,
    heavy: usize,
    share: f64,
) -> Result<Option<super::hybrid::Blend>, AppError> {
    let Some(loaded) = load(pool, pipeline_id).await? else {
        return Ok(None);
    };
    if let Some(problem) = &loaded.view.problem {
        return Err(AppError::BadRequest(problem.clone()));
    }
    let base = loaded.base();
    let question = loaded.question();
    super::hybrid::blend(&question, &base, stage, light, heavy, share)
        .map(Some)
        .map_err(|why| AppError::field("heavy", why))
}
