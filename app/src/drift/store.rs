//! Drift in Postgres: batches stored whole or not at all, the newest value of every series with
//! the experiment's figure beside it, thresholds, and drift set against priced telemetry.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use super::ingest::DriftBatch;
use super::{
    assess, thresholds_with, worst_score, DriftKind, DriftRow, DriftState, Finding, Latest,
    SeriesPoint, Threshold, STATE_WINDOW_DAYS,
};
use crate::audit::{self, Actor, Change};
use crate::error::AppError;
use crate::teams::access::{self, Subject};
use crate::telemetry::cost::per_thousand_requests;
use crate::telemetry::store::{register_deployments, IngestError, Outcome};

/// Stores a validated batch exactly once.
pub async fn ingest(
    pool: &PgPool,
    batch: &DriftBatch,
    content_hash: &[u8],
    api_token_id: Option<Uuid>,
) -> Result<Outcome, IngestError> {
    let mut tx = pool.begin().await?;
    let claimed = sqlx::query_scalar!(
        "insert into drift_batch (batch_id, content_hash, measurement_count, api_token_id)
         values ($1, $2, $3, $4)
         on conflict (batch_id) do nothing
         returning batch_id",
        batch.batch_id,
        content_hash,
        i32::try_from(batch.measurements.len()).unwrap_or(i32::MAX),
        api_token_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_none() {
        let stored = sqlx::query_scalar!(
            "select content_hash from drift_batch where batch_id = $1",
            batch.batch_id
        )
        .fetch_one(&mut *tx)
        .await?;
        return if stored == content_hash {
            Ok(Outcome::Duplicate)
        } else {
            Err(IngestError::Conflict(batch.batch_id))
        };
    }
    let mut latest: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
    for m in &batch.measurements {
        let seen = latest.entry(m.deployment.as_str()).or_insert(m.ts);
        *seen = (*seen).max(m.ts);
    }
    let deployments = register_deployments(&mut tx, &latest).await?;
    let new_deployments = deployments
        .iter()
        .filter(|(_, (_, new))| *new)
        .map(|(key, _)| key.clone())
        .collect();
    let mut ids = Vec::with_capacity(batch.measurements.len());
    for m in &batch.measurements {
        ids.push(
            deployments
                .get(&m.deployment)
                .map(|(id, _)| *id)
                .unwrap_or_default(),
        );
    }
    let ts: Vec<DateTime<Utc>> = batch.measurements.iter().map(|m| m.ts).collect();
    let kinds: Vec<String> = batch
        .measurements
        .iter()
        .map(|m| m.kind.as_str().to_owned())
        .collect();
    let metrics: Vec<String> = batch
        .measurements
        .iter()
        .map(|m| m.metric.clone())
        .collect();
    let features: Vec<String> = batch
        .measurements
        .iter()
        .map(|m| m.feature.clone())
        .collect();
    let values: Vec<f64> = batch.measurements.iter().map(|m| m.value).collect();
    let samples: Vec<Option<i64>> = batch.measurements.iter().map(|m| m.samples).collect();
    let computed: Vec<bool> = batch.measurements.iter().map(|m| m.computed).collect();
    sqlx::query!(
        "insert into drift_measurement
             (deployment_id, batch_id, ts, kind, metric, feature, value, sample_count, computed)
         select d, $2, t, k::drift_kind, m, f, v, s, c
           from unnest($1::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
                       $7::float8[], $8::int8[], $9::bool[]) as x(d, t, k, m, f, v, s, c)",
        &ids,
        batch.batch_id,
        &ts,
        &kinds,
        &metrics,
        &features,
        &values,
        &samples as &[Option<i64>],
        &computed,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into drift_series (deployment_id, kind, metric, feature)
         select distinct d, k::drift_kind, m, f
           from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as x(d, k, m, f)
         on conflict do nothing",
        &ids,
        &kinds,
        &metrics,
        &features,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Outcome::Stored {
        samples: batch.measurements.len(),
        new_deployments,
    })
}

/// The newest value of every series measured in `[to - 7 days, to)`, by deployment; for one
/// deployment or all.
async fn latest(
    pool: &PgPool,
    to: DateTime<Utc>,
    deployment_id: Option<Uuid>,
) -> Result<HashMap<Uuid, Vec<Latest>>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select s.deployment_id, s.kind as "kind: DriftKind", s.metric, s.feature,
                  l.value as "value!", l.ts as "ts!",
                  case when s.kind = 'performance' then (
                      select case when json_typeof(r.spec->'metrics'->s.metric) = 'number'
                                  then (r.spec->'metrics'->>s.metric)::float8 end
                        from experiment_run r
                        join deployment d on d.model_version_id = r.model_version_id
                       where d.deployment_id = s.deployment_id
                       order by r.created_at desc limit 1
                  ) end as baseline
             from drift_series s
            cross join lateral (
                  select m.value, m.ts from drift_measurement m
                   where m.deployment_id = s.deployment_id and m.kind = s.kind
                     and m.metric = s.metric and m.feature = s.feature
                     and m.ts >= $1 and m.ts < $2
                   order by m.ts desc limit 1
                  ) l
            where $3::uuid is null or s.deployment_id = $3"#,
        to - TimeDelta::days(STATE_WINDOW_DAYS),
        to,
        deployment_id,
    )
    .fetch_all(pool)
    .await?;
    let mut by_deployment: HashMap<Uuid, Vec<Latest>> = HashMap::new();
    for row in rows {
        by_deployment
            .entry(row.deployment_id)
            .or_default()
            .push(Latest {
                kind: row.kind,
                metric: row.metric,
                feature: row.feature,
                value: row.value,
                at: row.ts,
                baseline: row.baseline,
            });
    }
    Ok(by_deployment)
}

/// Every deployment's own thresholds.
async fn custom_thresholds(
    pool: &PgPool,
    deployment_id: Option<Uuid>,
) -> Result<HashMap<Uuid, Vec<Threshold>>, sqlx::Error> {
    let rows = sqlx::query!(
        "select deployment_id, metric, warn, alert from drift_threshold
          where $1::uuid is null or deployment_id = $1 order by metric",
        deployment_id
    )
    .fetch_all(pool)
    .await?;
    let mut all: HashMap<Uuid, Vec<Threshold>> = HashMap::new();
    for row in rows {
        all.entry(row.deployment_id).or_default().push(Threshold {
            metric: row.metric,
            warn: row.warn,
            alert: row.alert,
            custom: true,
        });
    }
    Ok(all)
}

/// The thresholds in force for one deployment.
pub async fn thresholds(pool: &PgPool, deployment_id: Uuid) -> Result<Vec<Threshold>, sqlx::Error> {
    let mut custom = custom_thresholds(pool, Some(deployment_id)).await?;
    Ok(thresholds_with(
        custom.remove(&deployment_id).unwrap_or_default(),
    ))
}

/// Each deployment's drift state as of `to`, with the findings behind it; for one deployment or
/// all.
pub async fn states(
    pool: &PgPool,
    to: DateTime<Utc>,
    deployment_id: Option<Uuid>,
) -> Result<HashMap<Uuid, (DriftState, Vec<Finding>)>, sqlx::Error> {
    let (latest, mut custom) = tokio::try_join!(
        latest(pool, to, deployment_id),
        custom_thresholds(pool, deployment_id)
    )?;
    Ok(latest
        .into_iter()
        .map(|(id, series)| {
            let thresholds = thresholds_with(custom.remove(&id).unwrap_or_default());
            (id, assess(&series, &thresholds))
        })
        .collect())
}

/// Each deployment's cost and requests in the first and second half of `[from, to)` (reserved
/// basis), in its main currency (the one with the most money): deployment -> (currency, [first
/// half, second half] as (cost, requests)).
async fn halves(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    deployment_id: Option<Uuid>,
) -> Result<HashMap<Uuid, (String, [(Decimal, i64); 2])>, sqlx::Error> {
    let middle = from + (to - from) / 2;
    let cost = sqlx::query!(
        r#"select deployment_id as "deployment_id!", currency as "currency!",
                  sum(reserved_cost) filter (where hour < $3) as "first_cost",
                  saturated_count(sum(requests) filter (where hour < $3)) as "first_requests",
                  sum(reserved_cost) filter (where hour >= $3) as "second_cost",
                  saturated_count(sum(requests) filter (where hour >= $3)) as "second_requests"
             from priced_hourly
            where hour >= date_trunc('hour', $1::timestamptz) and hour < $2 and currency is not null
              and ($4::uuid is null or deployment_id = $4)
            group by 1, 2"#,
        from,
        to,
        middle,
        deployment_id,
    )
    .fetch_all(pool)
    .await?;
    let mut costs: HashMap<Uuid, (String, [(Decimal, i64); 2])> = HashMap::new();
    for row in cost {
        let halves = [
            (
                row.first_cost.unwrap_or_default(),
                row.first_requests.unwrap_or_default(),
            ),
            (
                row.second_cost.unwrap_or_default(),
                row.second_requests.unwrap_or_default(),
            ),
        ];
        let total = halves[0].0 + halves[1].0;
        let keep = costs
            .get(&row.deployment_id)
            .is_none_or(|(_, h)| h[0].0 + h[1].0 < total);
        if keep {
            costs.insert(row.deployment_id, (row.currency, halves));
        }
    }
    Ok(costs)
}

/// A deployment as the drift table names it: with its model, version and team where it is linked.
struct Linked {
    deployment_id: Uuid,
    key: String,
    model_id: Option<Uuid>,
    model: Option<String>,
    version: Option<String>,
    team: Option<String>,
}

/// Every deployment (or the one asked for), by key.
async fn linked(pool: &PgPool, deployment_id: Option<Uuid>) -> Result<Vec<Linked>, sqlx::Error> {
    sqlx::query_as!(
        Linked,
        r#"select d.deployment_id, d.key, m.model_id as "model_id?", m.name as "model?",
                  v.version as "version?", t.name as "team?"
             from deployment d
             left join model_version v using (model_version_id)
             left join model m using (model_id)
             left join team t on t.team_id = m.owner_team_id
            where $1::uuid is null or d.deployment_id = $1
            order by d.key"#,
        deployment_id
    )
    .fetch_all(pool)
    .await
}

/// Every linked or measured deployment over `[from, to)` (or the one asked for): its drift state as
/// of `to` and what it cost meanwhile (reserved basis, main currency), with its cost per 1,000 in
/// the first and second half of the range.
pub async fn rows(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    deployment_id: Option<Uuid>,
) -> Result<Vec<DriftRow>, sqlx::Error> {
    // Each on its own connection, at once: the cost is the slowest, and the rest take its time.
    let (mut costs, mut states, deployments) = tokio::try_join!(
        halves(pool, from, to, deployment_id),
        states(pool, to, deployment_id),
        linked(pool, deployment_id)
    )?;
    // A month is 30 days of the range's average spend; a range shorter than an hour counts as one.
    let range_seconds = Decimal::from((to - from).num_seconds().max(3_600));
    let month_seconds = Decimal::from(30 * 86_400);
    let shown: Vec<_> = deployments
        .into_iter()
        .filter(|d| {
            d.model_id.is_some()
                || costs.contains_key(&d.deployment_id)
                || states.contains_key(&d.deployment_id)
        })
        .collect();
    Ok(shown
        .into_iter()
        .map(|d| {
            let (state, findings) = states
                .remove(&d.deployment_id)
                .unwrap_or((DriftState::Unmeasured, Vec::new()));
            let cost = costs.remove(&d.deployment_id);
            let (currency, spent, requests, change) = match &cost {
                Some((currency, [first, second])) => {
                    let before = per_thousand_requests(first.0, first.1);
                    let after = per_thousand_requests(second.0, second.1);
                    let change = match (before, after) {
                        (Some(b), Some(a)) => crate::alerts::rise_pct(b, a),
                        _ => None,
                    };
                    (
                        Some(currency.clone()),
                        Some(first.0 + second.0),
                        first.1.saturating_add(second.1),
                        change,
                    )
                }
                None => (None, None, 0, None),
            };
            let per_1k = spent.and_then(|s| per_thousand_requests(s, requests));
            let monthly = spent.map(|s| (s * month_seconds / range_seconds).round_dp(2));
            DriftRow {
                deployment_id: d.deployment_id,
                key: d.key,
                model_id: d.model_id,
                model: d.model,
                version: d.version,
                team: d.team,
                state,
                score: worst_score(&findings),
                findings,
                currency,
                cost: spent.map(|s| s.round_dp(2)),
                requests,
                per_1k,
                per_1k_change_pct: change,
                monthly,
            }
        })
        .collect())
}

/// One deployment's series over `[from, to)`: the chosen drift series (metric and feature; by
/// default the worst finding's) and cost per 1,000 requests in its main currency (the one with the
/// most money in the range), by hour up to 7 days and by day beyond.
pub async fn series(
    pool: &PgPool,
    deployment_id: Uuid,
    metric: &str,
    feature: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<DeploymentSeries, sqlx::Error> {
    let bucket_hours: i32 = if to - from > TimeDelta::days(7) {
        24
    } else {
        1
    };
    let drift = sqlx::query!(
        r#"select m.ts, m.value from drift_series s
             join drift_measurement m using (deployment_id, kind, metric, feature)
            where s.deployment_id = $1 and s.metric = $2 and s.feature = $3
              and m.ts >= $4 and m.ts < $5
            order by m.ts"#,
        deployment_id,
        metric,
        feature,
        from,
        to,
    )
    .fetch_all(pool)
    .await?;
    let cost = sqlx::query!(
        r#"select date_bin(make_interval(hours => $4), hour, timestamptz '2000-01-01') as "at!",
                  currency as "currency!", sum(reserved_cost) as "cost!", saturated_count(sum(requests)) as "requests!"
             from priced_hourly
            where deployment_id = $1 and hour >= date_trunc('hour', $2::timestamptz) and hour < $3
              and currency is not null
            group by 1, 2 order by 1"#,
        deployment_id,
        from,
        to,
        bucket_hours,
    )
    .fetch_all(pool)
    .await?;
    let currency = main_currency(cost.iter().map(|row| (row.currency.as_str(), row.cost)));
    let cost = cost
        .iter()
        .filter(|row| Some(&row.currency) == currency.as_ref())
        .filter_map(|row| {
            Some(SeriesPoint {
                at: row.at,
                value: per_thousand_requests(row.cost, row.requests)?.to_f64()?,
            })
        })
        .collect();
    let drift = drift
        .into_iter()
        .map(|row| SeriesPoint {
            at: row.ts,
            value: row.value,
        })
        .collect();
    Ok(DeploymentSeries {
        drift,
        cost,
        currency,
    })
}

/// The currency with the most money among `amounts`: the one a chart or figure is drawn in.
fn main_currency<'a>(amounts: impl IntoIterator<Item = (&'a str, Decimal)>) -> Option<String> {
    let mut by_currency: HashMap<&str, Decimal> = HashMap::new();
    for (currency, amount) in amounts {
        *by_currency.entry(currency).or_default() += amount;
    }
    by_currency
        .into_iter()
        .max_by_key(|(_, total)| *total)
        .map(|(currency, _)| currency.to_owned())
}

/// What a deployment's drift chart draws.
pub struct DeploymentSeries {
    pub drift: Vec<SeriesPoint>,
    /// Cost per 1,000 requests, in `currency`.
    pub cost: Vec<SeriesPoint>,
    pub currency: Option<String>,
}

/// The deployment behind a drift page or chart, by its key.
pub async fn deployment_id(pool: &PgPool, key: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("select deployment_id from deployment where key = $1", key)
        .fetch_optional(pool)
        .await
}

/// Sets a deployment's own threshold for one statistic.
pub async fn set_threshold(
    pool: &PgPool,
    actor: &Actor,
    deployment_id: Uuid,
    threshold: Threshold,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Deployment(deployment_id)).await?;
    let key = sqlx::query_scalar!(
        "select key from deployment where deployment_id = $1",
        deployment_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("That deployment no longer exists.".into()))?;
    sqlx::query!(
        "insert into drift_threshold (deployment_id, metric, warn, alert, set_by, set_by_label)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (deployment_id, metric) do update
            set warn = excluded.warn, alert = excluded.alert, set_by = excluded.set_by,
                set_by_label = excluded.set_by_label, updated_at = now()",
        deployment_id,
        threshold.metric,
        threshold.warn,
        threshold.alert,
        actor.user_id(),
        actor.label(),
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "drift.threshold.set",
            entity_type: "deployment",
            entity_id: deployment_id.to_string(),
            summary: format!(
                "set the {} drift threshold of {key} to warn at {} and alert at {}",
                super::drift_metric_label(&threshold.metric),
                threshold.warn,
                threshold.alert
            ),
            detail: json!({ "metric": threshold.metric, "warn": threshold.warn, "alert": threshold.alert }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Goes back to Pareto's default for one statistic.
pub async fn reset_threshold(
    pool: &PgPool,
    actor: &Actor,
    deployment_id: Uuid,
    metric: &str,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Deployment(deployment_id)).await?;
    let key = sqlx::query_scalar!(
        "delete from drift_threshold t using deployment d
          where t.deployment_id = $1 and t.metric = $2 and d.deployment_id = t.deployment_id
         returning d.key",
        deployment_id,
        metric
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("That threshold is already the default.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "drift.threshold.reset",
            entity_type: "deployment",
            entity_id: deployment_id.to_string(),
            summary: format!(
                "reset the {} drift threshold of {key} to the default",
                super::drift_metric_label(metric)
            ),
            detail: json!({ "metric": metric }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every (metric, feature) a deployment has measurements for, performance first.
pub async fn series_names(
    pool: &PgPool,
    deployment_id: Uuid,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"select kind::text as "kind!", metric, feature from drift_series
          where deployment_id = $1 order by 1, 3, 2"#,
        deployment_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.metric, row.feature))
    .collect())
}

/// The figure the deployment's experiment recorded for a performance metric.
pub async fn baseline(
    pool: &PgPool,
    deployment_id: Uuid,
    metric: &str,
) -> Result<Option<f64>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        r#"select case when json_typeof(r.spec->'metrics'->$2) = 'number'
                       then (r.spec->'metrics'->>$2)::float8 end
             from experiment_run r
             join deployment d on d.model_version_id = r.model_version_id
            where d.deployment_id = $1
            order by r.created_at desc limit 1"#,
        deployment_id,
        metric
    )
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// Reserved-basis spend over `[from, to)` by day (by week past 31 days), by team or by model, in
/// the main currency.
pub async fn spend(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by_model: bool,
) -> Result<super::Spend, sqlx::Error> {
    let bucket_days: i32 = if to - from > TimeDelta::days(31) {
        7
    } else {
        1
    };
    let rows = sqlx::query!(
        r#"select date_bin(make_interval(days => $3), p.hour, timestamptz '2000-01-03') as "at!",
                  case when $4 then coalesce(m.name, d.key) else coalesce(t.name, 'No team') end as "label!",
                  p.currency as "currency!", sum(p.reserved_cost) as "cost!"
             from priced_hourly p
             join deployment d using (deployment_id)
             left join model_version v on v.model_version_id = p.model_version_id
             left join model m on m.model_id = v.model_id
             left join team t on t.team_id = m.owner_team_id
            where p.hour >= date_trunc('hour', $1::timestamptz) and p.hour < $2 and p.currency is not null
            group by 1, 2, 3"#,
        from,
        to,
        bucket_days,
        by_model,
    )
    .fetch_all(pool)
    .await?;
    let currency =
        main_currency(rows.iter().map(|row| (row.currency.as_str(), row.cost))).unwrap_or_default();
    let rows: Vec<(DateTime<Utc>, String, Decimal)> = rows
        .into_iter()
        .filter(|r| r.currency == currency)
        .map(|r| (r.at, r.label, r.cost))
        .collect();
    Ok(super::stack(&rows, currency))
}
