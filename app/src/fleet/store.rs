//! Fleet figures from the hourly rollups and the price catalog.

use chrono::TimeDelta;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::{
    bucket_hours, CurrencyCost, DeploymentCost, DeploymentDetail, Fleet, Gpu, HostCapacity, Point,
    STALE_AFTER_MINUTES,
};
use crate::audit::{self, Actor, Change};
use crate::error::AppError;
use crate::prices::PricingKind;
use crate::teams::access::{self, Subject};
use crate::telemetry::cost::{
    self, per_million_tokens, per_thousand_requests, Cost, TokenCount, Usage,
};
use crate::telemetry::ingest::IDLE_UTILIZATION_PCT;

/// The whole fleet over the last `days`: every deployment with its usage and cost, and every GPU.
pub async fn load(pool: &PgPool, days: u32) -> Result<Fleet, sqlx::Error> {
    let (deployments, gpus, capacity) = tokio::try_join!(
        costs(pool, days, None),
        gpus(pool, None),
        capacity(pool, days)
    )?;
    Ok(Fleet {
        days,
        deployments,
        gpus,
        capacity,
    })
}

/// Each host's GPUs that no deployment used over the last `days`, per GPU model, priced by
/// `priced_host_capacity`.
async fn capacity(pool: &PgPool, days: u32) -> Result<Vec<HostCapacity>, sqlx::Error> {
    let since = crate::clock::now() - TimeDelta::days(i64::from(days));
    let rows = sqlx::query!(
        r#"select host as "host!", gpu_model as "gpu_model!", currency,
                  sum(gpu_seconds) as "gpu_seconds!", sum(busy_gpu_seconds) as "busy!",
                  sum(cost) as cost
             from priced_host_capacity
            where hour >= date_trunc('hour', $1::timestamptz)
            group by host, gpu_model, currency
            order by host, gpu_model, currency"#,
        since
    )
    .fetch_all(pool)
    .await?;
    let mut capacity: Vec<HostCapacity> = Vec::new();
    for row in rows {
        let same = capacity
            .last()
            .is_some_and(|c| c.host == row.host && c.gpu_model == row.gpu_model);
        if !same {
            capacity.push(HostCapacity {
                host: row.host,
                gpu_model: row.gpu_model,
                gpu_hours: 0.0,
                busy_gpu_hours: 0.0,
                costs: Vec::new(),
                unpriced_gpu_hours: 0.0,
            });
        }
        let Some(entry) = capacity.last_mut() else {
            continue;
        };
        entry.gpu_hours += row.gpu_seconds / 3600.0;
        entry.busy_gpu_hours += row.busy / 3600.0;
        match row.currency {
            Some(currency) => entry.costs.push((currency, cost::shown(row.cost))),
            None => entry.unpriced_gpu_hours += row.gpu_seconds / 3600.0,
        }
    }
    Ok(capacity)
}

/// Every deployment's usage and cost over the last `days`, by key; or only the deployment `only`.
async fn costs(
    pool: &PgPool,
    days: u32,
    only: Option<&str>,
) -> Result<Vec<DeploymentCost>, sqlx::Error> {
    let now = crate::clock::now();
    let since = now - TimeDelta::days(i64::from(days));
    let stale_before = now - TimeDelta::minutes(STALE_AFTER_MINUTES);

    let deployments = sqlx::query!(
        r#"select d.deployment_id, d.key, d.pricing_kind as "pricing_kind: PricingKind", d.last_seen_at,
                  m.name || ' ' || v.version as model,
                  (select count(*) from gpu_device g where g.deployment_id = d.deployment_id) as "gpus!",
                  coalesce((select bool_and(g.cpu_cores is not null) from gpu_device g
                             where g.deployment_id = d.deployment_id), false) as "on_cpu!",
                  array(select distinct g.host from gpu_device g where g.deployment_id = d.deployment_id order by 1) as "hosts!"
             from deployment d
             left join model_version v using (model_version_id)
             left join model m using (model_id)
            where $1::text is null or d.key = $1
            order by d.key"#,
        only
    )
    .fetch_all(pool)
    .await?;
    // One deployment's hours are read by its id, which the index leads with.
    let one = match (only, deployments.as_slice()) {
        (Some(_), [deployment]) => Some(deployment.deployment_id),
        (Some(_), _) => return Ok(Vec::new()),
        (None, _) => None,
    };

    let priced = sqlx::query!(
        r#"select deployment_id as "deployment_id!", currency,
                  sum(gpu_seconds) as "gpu_seconds!", sum(busy_gpu_seconds) as "busy!",
                  sum(idle_gpu_seconds) as "idle!", sum(energy_joules) as "energy!",
                  saturated_count(sum(requests)) as "requests!",
                  sum(reserved_cost) as reserved, sum(utilization_weighted_cost) as utilization_weighted,
                  sum(idle_cost) as idle_cost,
                  saturated_count(sum(input_tokens)) as "input_tokens!",
                  saturated_count(sum(output_tokens)) as "output_tokens!",
                  saturated_count(sum(cached_input_tokens)) as "cached_input_tokens!",
                  sum(ttft_p95_weighted) as "ttft_weighted!",
                  saturated_count(sum(ttft_requests)) as "ttft_requests!",
                  saturated_count(sum(token_requests)) as "token_requests!"
             from priced_hourly
            where hour >= date_trunc('hour', $1::timestamptz)
              and ($2::uuid is null or deployment_id = $2)
            group by deployment_id, currency"#,
        since,
        one
    )
    .fetch_all(pool)
    .await?;

    let mut usage: BTreeMap<Uuid, Usage> = BTreeMap::new();
    let mut unpriced: BTreeMap<Uuid, f64> = BTreeMap::new();
    let mut tokens: BTreeMap<Uuid, TokenCount> = BTreeMap::new();
    let mut ttft: BTreeMap<Uuid, (f64, i64)> = BTreeMap::new();
    let mut costs: BTreeMap<(Uuid, String), (Cost, i64, TokenCount)> = BTreeMap::new();
    for row in priced {
        let counted = TokenCount {
            input: row.input_tokens,
            output: row.output_tokens,
            cached_input: row.cached_input_tokens,
            requests: row.token_requests,
        };
        *tokens.entry(row.deployment_id).or_default() += counted;
        let first_token = ttft.entry(row.deployment_id).or_default();
        first_token.0 += row.ttft_weighted;
        first_token.1 = first_token.1.saturating_add(row.ttft_requests);
        let part = Usage {
            gpu_seconds: row.gpu_seconds,
            busy_gpu_seconds: row.busy,
            idle_gpu_seconds: row.idle,
            energy_joules: row.energy,
            requests: row.requests,
        };
        *usage.entry(row.deployment_id).or_default() += part;
        match row.currency {
            Some(currency) => {
                let cost = Cost::from_sums(row.reserved, row.utilization_weighted, row.idle_cost);
                costs.insert(
                    (row.deployment_id, currency),
                    (cost, part.requests, counted),
                );
            }
            None => *unpriced.entry(row.deployment_id).or_default() += part.gpu_hours(),
        }
    }

    Ok(deployments
        .into_iter()
        .map(|row| DeploymentCost {
            usage: usage.get(&row.deployment_id).copied().unwrap_or_default(),
            costs: costs
                .iter()
                .filter(|((id, _), _)| *id == row.deployment_id)
                .map(|((_, currency), (cost, requests, tokens))| CurrencyCost {
                    currency: currency.clone(),
                    cost: *cost,
                    requests: *requests,
                    per_thousand_reserved: per_thousand_requests(cost.reserved, *requests),
                    per_thousand_utilization_weighted: per_thousand_requests(
                        cost.utilization_weighted,
                        *requests,
                    ),
                    tokens: *tokens,
                    per_million_tokens_reserved: per_million_tokens(
                        cost.reserved,
                        *requests,
                        *tokens,
                    ),
                    per_million_tokens_utilization_weighted: per_million_tokens(
                        cost.utilization_weighted,
                        *requests,
                        *tokens,
                    ),
                })
                .collect(),
            tokens: tokens.get(&row.deployment_id).copied().unwrap_or_default(),
            ttft_p95_ms: ttft
                .get(&row.deployment_id)
                .filter(|(_, requests)| *requests > 0)
                .map(|(weighted, requests)| weighted / *requests as f64),
            unpriced_gpu_hours: unpriced
                .get(&row.deployment_id)
                .copied()
                .unwrap_or_default(),
            deployment_id: row.deployment_id,
            key: row.key,
            model: row.model,
            pricing_kind: row.pricing_kind,
            gpus: row.gpus,
            on_cpu: row.on_cpu,
            hosts: row.hosts,
            stale: row.last_seen_at < stale_before,
            last_seen_at: row.last_seen_at,
        })
        .collect())
}

/// Every GPU that has reported (or only those of the deployment `only`), by host and index, with
/// what it costs a day at today's price.
async fn gpus(pool: &PgPool, only: Option<Uuid>) -> Result<Vec<Gpu>, sqlx::Error> {
    let stale_before = crate::clock::now() - TimeDelta::minutes(STALE_AFTER_MINUTES);
    Ok(sqlx::query!(
        r#"select g.host, g.gpu_index, g.gpu_uuid, g.gpu_model, d.key as "deployment?",
                  g.last_utilization_pct, g.last_power_watts, g.last_seen_at,
                  g.parent_gpu_uuid, g.mig_profile, g.gpu_share, g.pod, g.cpu_cores,
                  p.hourly_price as "hourly_price?", p.currency as "currency?"
             from gpu_device g
             left join deployment d using (deployment_id)
             left join gpu_price p
               on p.gpu_model = g.gpu_model and p.pricing_kind = coalesce(d.pricing_kind, 'on_demand')
              and now() >= p.effective_from and (p.effective_to is null or now() < p.effective_to)
            where $1::uuid is null or g.deployment_id = $1
            order by g.host, g.gpu_index, g.parent_gpu_uuid nulls first, g.gpu_uuid"#,
        only
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| Gpu {
        idle: f64::from(row.last_utilization_pct) < IDLE_UTILIZATION_PCT,
        stale: row.last_seen_at < stale_before,
        cost_per_day: row
            .hourly_price
            .zip(row.currency)
            .map(|(price, currency)| {
                let share = Decimal::from_f64(row.gpu_share).unwrap_or(Decimal::ONE);
                ((price * Decimal::from(24) * share).round_dp(2), currency)
            }),
        host: row.host,
        gpu_index: row.gpu_index,
        gpu_uuid: row.gpu_uuid,
        gpu_model: row.gpu_model,
        deployment: row.deployment,
        utilization_pct: f64::from(row.last_utilization_pct),
        power_watts: f64::from(row.last_power_watts),
        last_seen_at: row.last_seen_at,
        parent_gpu_uuid: row.parent_gpu_uuid,
        mig_profile: row.mig_profile,
        gpu_share: row.gpu_share,
        pod: row.pod,
        cpu_cores: row.cpu_cores,
    })
    .collect())
}

/// Every model version in the registry, by model name and version.
pub async fn model_versions(pool: &PgPool) -> Result<Vec<super::ModelVersion>, sqlx::Error> {
    sqlx::query_as!(
        super::ModelVersion,
        r#"select v.model_version_id, m.name || ' ' || v.version as "label!"
             from model_version v join model m using (model_id)
            order by lower(m.name), v.created_at desc"#
    )
    .fetch_all(pool)
    .await
}

/// Links a deployment to a model version, creating the model and version when they are new.
/// The names come checked by [`super::parse_link`].
pub async fn link(
    pool: &PgPool,
    actor: &Actor,
    deployment_id: Uuid,
    model_name: &str,
    version: &str,
    team_id: Option<Uuid>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let key = sqlx::query_scalar!(
        "select key from deployment where deployment_id = $1 for update",
        deployment_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such deployment.".into()))?;
    // An unlinked deployment is anyone's to claim; a linked one is its model's team's.
    if let Some(owner) = access::owner(&mut tx, Subject::Deployment(deployment_id)).await? {
        access::require_owner(&mut tx, actor, "deployment", Some(&owner)).await?;
    }
    let model_id = sqlx::query_scalar!(
        "insert into model (name, owner_team_id) values ($1, $2)
         on conflict (lower(name)) do update set updated_at = model.updated_at
         returning model_id",
        model_name,
        team_id
    )
    .fetch_one(&mut *tx)
    .await?;
    access::require(&mut tx, actor, Subject::Model(model_id)).await?;
    let model_version_id = sqlx::query_scalar!(
        "insert into model_version (model_id, version) values ($1, $2)
         on conflict (model_id, version) do update set version = excluded.version
         returning model_version_id",
        model_id,
        version
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "update deployment set model_version_id = $2, updated_at = now() where deployment_id = $1",
        deployment_id,
        model_version_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "deployment.link",
            entity_type: "deployment",
            entity_id: deployment_id.to_string(),
            summary: format!("linked deployment {key} to {model_name} {version}"),
            detail: json!({ "deployment": key, "model": model_name, "version": version }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One deployment's usage and cost over the last `days`, or None when no deployment has `key`.
pub async fn summary(
    pool: &PgPool,
    key: &str,
    days: u32,
) -> Result<Option<DeploymentCost>, sqlx::Error> {
    Ok(costs(pool, days, Some(key)).await?.into_iter().next())
}

/// A deployment's figures over the last `days`, bucketed by hour or by day.
pub async fn detail(
    pool: &PgPool,
    key: &str,
    days: u32,
) -> Result<Option<DeploymentDetail>, sqlx::Error> {
    let bucket_hours = bucket_hours(days);
    let since = crate::clock::now() - TimeDelta::days(i64::from(days));
    let series = sqlx::query!(
        r#"select date_bin(make_interval(hours => $3), p.hour, timestamptz '2000-01-01') as "at!",
                  p.currency, sum(p.reserved_cost) as reserved,
                  sum(p.gpu_seconds) as "gpu_seconds!", sum(p.busy_gpu_seconds) as "busy!",
                  sum(p.idle_gpu_seconds) as "idle!", sum(p.energy_joules) as "energy!",
                  saturated_count(sum(p.requests)) as "requests!",
                  sum(p.latency_p95_weighted) as "latency_weighted!", saturated_count(sum(p.latency_requests)) as "latency_requests!"
             from priced_hourly p
             join deployment d using (deployment_id)
            where d.key = $1 and p.hour >= date_trunc('hour', $2::timestamptz)
            group by 1, p.currency
            order by 1"#,
        key,
        since,
        i32::try_from(bucket_hours).unwrap_or(1),
    )
    .fetch_all(pool);
    // The summary and the series at once, each on its own connection.
    let (summary, rows) = tokio::try_join!(costs(pool, days, Some(key)), series)?;
    let Some(deployment) = summary.into_iter().next() else {
        return Ok(None);
    };
    let devices = gpus(pool, Some(deployment.deployment_id)).await?;
    // The currency shown is the deployment's main one; other currencies stay in the summary.
    let currency = deployment.costs.first().map(|c| c.currency.clone());
    let mut points: Vec<Point> = Vec::new();
    let mut latency: Vec<(f64, i64)> = Vec::new();
    for row in rows {
        let usage = Usage {
            gpu_seconds: row.gpu_seconds,
            busy_gpu_seconds: row.busy,
            idle_gpu_seconds: row.idle,
            energy_joules: row.energy,
            requests: row.requests,
        };
        let cost = row
            .currency
            .filter(|c| Some(c) == currency.as_ref())
            .map(|_| cost::shown(row.reserved));
        match points.last_mut() {
            Some(last) if last.at == row.at => {
                last.usage += usage;
                last.cost = match (last.cost, cost) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
                if let Some(l) = latency.last_mut() {
                    l.0 += row.latency_weighted;
                    l.1 = l.1.saturating_add(row.latency_requests);
                }
            }
            _ => {
                points.push(Point {
                    at: row.at,
                    usage,
                    p95_ms: None,
                    cost,
                });
                latency.push((row.latency_weighted, row.latency_requests));
            }
        }
    }
    for (point, (weighted, requests)) in points.iter_mut().zip(latency) {
        point.p95_ms = (requests > 0).then(|| weighted / requests as f64);
    }
    Ok(Some(DeploymentDetail {
        deployment,
        days,
        bucket_hours,
        currency,
        points,
        devices,
    }))
}
