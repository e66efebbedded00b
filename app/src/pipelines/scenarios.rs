//! Budget portfolios kept by name, so a lead's question can be asked again and shared: the budget
//! and each experiment's value of a point, never the answer (worked out again when read).

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::portfolio::Scenario;
use crate::audit::{self, Actor, Change};
use crate::error::{unique_as_field, AppError};

/// Every saved scenario, by name.
pub async fn list(pool: &PgPool) -> Result<Vec<Scenario>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select s.scenario_id, s.name, s.budget, s.is_demo, s.created_by_label, s.created_at,
                  coalesce(array_agg(coalesce(i.experiment_id, i.pipeline_id) order by i.position)
                           filter (where i.position is not null), '{}') as "subjects!",
                  coalesce(array_agg(i.point_value order by i.position)
                           filter (where i.position is not null), '{}') as "values!",
                  coalesce(array_agg(coalesce(e.name, p.name) order by i.position)
                           filter (where i.position is not null), '{}') as "names!"
             from portfolio_scenario s
             left join portfolio_scenario_item i using (scenario_id)
             left join experiment e on e.experiment_id = i.experiment_id
             left join pipeline p on p.pipeline_id = i.pipeline_id
            group by s.scenario_id
            order by lower(s.name)"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Scenario {
            scenario_id: row.scenario_id,
            name: row.name,
            budget: row.budget,
            chosen: row.subjects.into_iter().zip(row.values).collect(),
            experiments: row.names,
            created_by: row.created_by_label,
            created_at: row.created_at,
            is_demo: row.is_demo,
        })
        .collect())
}

/// Keeps a portfolio's question under a name (leads); every experiment or pipeline must exist.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    name: &str,
    budget: f64,
    chosen: &[(Uuid, f64)],
    is_demo: bool,
) -> Result<Uuid, AppError> {
    let name = name.trim();
    let mut check = crate::error::Validator::new();
    check
        .check(
            !name.is_empty() && name.chars().count() <= 120,
            "name",
            "Name the scenario, in at most 120 characters, e.g. Q1 budget.",
        )
        .check(
            budget.is_finite() && (0.0..1e15).contains(&budget),
            "budget",
            "Give the monthly budget, a number of 0 or more.",
        )
        .check(
            !chosen.is_empty(),
            "chosen",
            "Choose at least one experiment before saving.",
        )
        .check(
            chosen
                .iter()
                .all(|(_, v)| v.is_finite() && (0.0..1e15).contains(v)),
            "chosen",
            "Give each experiment's value of a point as a number of 0 or more.",
        );
    check.finish()?;
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        "insert into portfolio_scenario (name, budget, is_demo, created_by, created_by_label)
         values ($1, $2, $3, $4, $5) returning scenario_id",
        name,
        budget,
        is_demo,
        actor.user_id(),
        actor.label(),
    )
    .fetch_one(&mut *tx)
    .await;
    let scenario_id = unique_as_field(inserted, "name", || {
        format!("A scenario is already named {name}: choose another name.")
    })?;
    for (position, (experiment_id, value)) in chosen.iter().enumerate() {
        let added = sqlx::query!(
            "insert into portfolio_scenario_item
                    (scenario_id, experiment_id, pipeline_id, position, point_value)
             select $1::uuid, experiment_id, null::uuid, $3::smallint, $4::float8
               from experiment where experiment_id = $2
              union all
             select $1::uuid, null::uuid, pipeline_id, $3::smallint, $4::float8
               from pipeline where pipeline_id = $2
             on conflict do nothing",
            scenario_id,
            experiment_id,
            i16::try_from(position).unwrap_or(i16::MAX),
            value
        )
        .execute(&mut *tx)
        .await?;
        if added.rows_affected() == 0 {
            return Err(AppError::field(
                "chosen",
                format!(
                    "No experiment or pipeline has the id {experiment_id} (or it is chosen twice)."
                ),
            ));
        }
    }
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "portfolio.save",
            entity_type: "portfolio_scenario",
            entity_id: scenario_id.to_string(),
            summary: format!(
                "saved the portfolio scenario {name}: {} experiments within {budget} a month",
                chosen.len()
            ),
            detail: json!({
                "name": name, "budget": budget,
                "experiments": chosen.iter().map(|(id, v)| json!({"experiment_id": id, "point_value": v})).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(scenario_id)
}

pub async fn delete(pool: &PgPool, actor: &Actor, scenario_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "delete from portfolio_scenario where scenario_id = $1 returning name",
        scenario_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such scenario.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "portfolio.delete",
            entity_type: "portfolio_scenario",
            entity_id: scenario_id.to_string(),
            summary: format!("deleted the portfolio scenario {name}"),
            detail: json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
