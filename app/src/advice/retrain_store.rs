//! Retraining plans from Postgres: each deployment's performance measurements, the training cost
//! its experiment run recorded, and the value of a point (a lead's, else the TCO page's value
//! delivered, taken as proportional to the metric).

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

use super::retrain::{plan, points_per_unit, Inputs, Retraining};
use crate::audit::{self, Actor, Change};
use crate::error::AppError;
use crate::experiments::run::RunSpec;
use crate::experiments::{default_direction, Direction};

/// Days of measurements a decay is fitted to.
pub const FIT_DAYS: i64 = 90;

/// Every deployment with performance measurements, its retraining plan; due ones first.
pub async fn plans(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<Retraining>, sqlx::Error> {
    let series = sqlx::query!(
        r#"select dm.deployment_id, d.key, d.model_version_id as "model_version_id?",
                  v.model_id as "model_id?", m.name || ' ' || v.version as model, dm.metric,
                  array_agg(dm.ts order by dm.ts) as "times!",
                  array_agg(dm.value order by dm.ts) as "values!"
             from drift_measurement dm
             join deployment d using (deployment_id)
             left join model_version v on v.model_version_id = d.model_version_id
             left join model m on m.model_id = v.model_id
            where dm.kind = 'performance' and dm.ts >= $1 and dm.ts <= $2
            group by 1, 2, 3, 4, 5, 6
            order by d.key, dm.metric"#,
        now - TimeDelta::days(FIT_DAYS),
        now
    )
    .fetch_all(pool)
    .await?;
    // The newest run that evaluated each version: its experiment's metric, currency and training.
    let runs: HashMap<Uuid, (String, String, Option<Decimal>)> = sqlx::query!(
        r#"select distinct on (r.model_version_id) r.model_version_id as "model_version_id!",
                  e.primary_metric, e.currency, r.spec as "spec: sqlx::types::Json<RunSpec>"
             from experiment_run r join experiment e using (experiment_id)
            where r.model_version_id is not null
            order by r.model_version_id, r.created_at desc"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        let cost = crate::experiments::select::training_cost(&row.spec.0);
        (
            row.model_version_id,
            (row.primary_metric, row.currency, cost),
        )
    })
    .collect();
    let set: HashMap<Uuid, (Decimal, String, String)> =
        sqlx::query!("select model_id, amount, currency, set_by_label from model_point_value")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| (row.model_id, (row.amount, row.currency, row.set_by_label)))
            .collect();
    let delivered: HashMap<Uuid, (Decimal, String, String)> = sqlx::query!(
        "select distinct on (model_id) model_id, amount, currency, quarter from tco_value
          order by model_id, quarter desc"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.model_id, (row.amount, row.currency, row.quarter)))
    .collect();

    // One series per deployment: its experiment's primary metric where measured, else the first.
    let mut chosen: Vec<usize> = Vec::new();
    let mut slot: HashMap<Uuid, usize> = HashMap::new();
    for (index, row) in series.iter().enumerate() {
        let primary = row
            .model_version_id
            .and_then(|v| runs.get(&v))
            .is_some_and(|(metric, ..)| *metric == row.metric);
        match slot.get(&row.deployment_id) {
            Some(at) if primary => chosen[*at] = index,
            Some(_) => {}
            None => {
                slot.insert(row.deployment_id, chosen.len());
                chosen.push(index);
            }
        }
    }

    let mut plans: Vec<Retraining> = chosen
        .into_iter()
        .map(|index| {
            let row = &series[index];
            let measurements: Vec<(DateTime<Utc>, f64)> = row
                .times
                .iter()
                .copied()
                .zip(row.values.iter().copied())
                .collect();
            let direction = default_direction(&row.metric);
            let run = row.model_version_id.and_then(|v| runs.get(&v));
            let currency = run.map_or("USD", |(_, currency, _)| currency.as_str());
            let training_cost = run.and_then(|(.., cost)| cost.and_then(|c| c.to_f64()));
            let value_per_point = row.model_id.and_then(|model| {
                point_value(
                    set.get(&model),
                    delivered.get(&model),
                    &measurements,
                    direction,
                    currency,
                    &row.metric,
                )
            });
            let label = crate::experiments::Subject::Metric(row.metric.clone()).label();
            let mut planned = plan(&Inputs {
                deployment: &row.key,
                model: row.model.as_deref(),
                metric: &label,
                direction,
                measurements: &measurements,
                training_cost,
                value_per_point,
                currency,
                now,
            });
            planned.deployment_id = Some(row.deployment_id);
            planned
        })
        .collect();
    plans.sort_by(|a, b| {
        b.due
            .cmp(&a.due)
            .then_with(|| a.due_at.cmp(&b.due_at))
            .then_with(|| a.deployment.cmp(&b.deployment))
    });
    Ok(plans)
}

/// What a point is worth a month in `currency`, and where that came from: a lead's figure, else
/// the value delivered in the newest quarter entered, a third of it a month, divided by the points
/// the metric stood at when measuring began (value taken as proportional to a metric where higher
/// is better).
fn point_value(
    set: Option<&(Decimal, String, String)>,
    delivered: Option<&(Decimal, String, String)>,
    measurements: &[(DateTime<Utc>, f64)],
    direction: Direction,
    currency: &str,
    metric: &str,
) -> Option<(f64, String)> {
    if let Some((amount, _, by)) = set.filter(|(_, c, _)| c == currency) {
        return Some((amount.to_f64()?, format!("set by {by}")));
    }
    let (amount, value_currency, quarter) = delivered.filter(|(_, c, _)| c == currency)?;
    if direction != Direction::Higher {
        return None;
    }
    let values: Vec<f64> = measurements.iter().map(|m| m.1).collect();
    let first: Vec<f64> = values.iter().take(3).copied().collect();
    let start = first.iter().sum::<f64>() / first.len().max(1) as f64 * points_per_unit(&values);
    let monthly = amount.to_f64()? / 3.0;
    let metric = crate::experiments::Subject::Metric(metric.to_owned()).label();
    (start > 0.0).then(|| {
        (
            monthly / start,
            format!(
                "the value delivered in {quarter}, {} a month, taken as proportional to {metric} at {start:.1} points",
                crate::format::format_money(
                    (*amount / rust_decimal::Decimal::from(3)).round_dp(2),
                    value_currency
                )
            ),
        )
    })
}

/// A lead sets what a point of the model's quality is worth a month (or clears it with `None`).
pub async fn set_point_value(
    pool: &PgPool,
    actor: &Actor,
    model_id: Uuid,
    value: Option<(Decimal, String)>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!("select name from model where model_id = $1", model_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound("No model has this id.".into()))?;
    crate::teams::access::require(
        &mut tx,
        actor,
        crate::teams::access::Subject::Model(model_id),
    )
    .await?;
    let summary = match &value {
        Some((amount, currency)) => {
            sqlx::query!(
                "insert into model_point_value (model_id, amount, currency, set_by, set_by_label)
                 values ($1, $2, $3, $4, $5)
                 on conflict (model_id) do update set amount = $2, currency = $3, set_by = $4,
                     set_by_label = $5, updated_at = now()",
                model_id,
                amount,
                currency,
                actor.accountable_user(),
                actor.label()
            )
            .execute(&mut *tx)
            .await?;
            format!("set a point of {name}'s quality to {amount} {currency} a month")
        }
        None => {
            sqlx::query!(
                "delete from model_point_value where model_id = $1",
                model_id
            )
            .execute(&mut *tx)
            .await?;
            format!("cleared the value of a point of {name}'s quality")
        }
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "model.point_value",
            entity_type: "model",
            entity_id: model_id.to_string(),
            summary,
            detail: json!({ "value": value.map(|(a, c)| json!({ "amount": a, "currency": c })) }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
