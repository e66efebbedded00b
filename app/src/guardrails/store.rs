//! Guardrails in Postgres: the rules, the leads' waivers, and each deployment's figures over the
//! last 30 days from the priced hourly telemetry, against which the rules are evaluated.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use super::{evaluate, Breach, Condition, Facts, Guardrail, Scope, Waiver, WINDOW_DAYS};
use crate::audit::{self, Actor, Change};
use crate::catalog::tier::Tier;
use crate::error::{unique_as_field, AppError};
use crate::experiments::{Mode, TaskType};
use crate::prices::PricingKind;
use crate::telemetry::cost;

/// Every guardrail, by name.
pub async fn rules(pool: &PgPool) -> Result<Vec<Guardrail>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select g.guardrail_id, g.name, g.conditions, g.tier, g.team_id, t.name as "team?",
                  g.task as "task: TaskType", g.mode as "mode: Mode", g.created_at
             from guardrail g left join team t using (team_id)
            order by lower(g.name)"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Guardrail {
            guardrail_id: row.guardrail_id,
            name: row.name,
            // Stored conditions were checked when written; one that no longer reads is skipped.
            conditions: row
                .conditions
                .iter()
                .filter_map(|text| Condition::parse(text).ok())
                .collect(),
            scope: Scope {
                tier: row.tier.and_then(Tier::from_number),
                team: row.team_id.zip(row.team),
                task: row.task,
                mode: row.mode,
            },
            created_at: row.created_at,
        })
        .collect())
}

/// A new guardrail's scope as ids: (tier, team, task, mode).
pub struct NewScope {
    pub tier: Option<Tier>,
    pub team_id: Option<Uuid>,
    pub task: Option<TaskType>,
    pub mode: Option<Mode>,
}

pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    name: &str,
    conditions: &[Condition],
    scope: NewScope,
) -> Result<Uuid, AppError> {
    let texts: Vec<String> = conditions.iter().map(ToString::to_string).collect();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        "insert into guardrail (name, conditions, tier, team_id, task, mode, created_by)
         values ($1, $2, $3, $4, $5, $6, $7) returning guardrail_id",
        name,
        &texts,
        scope.tier.map(Tier::number),
        scope.team_id,
        scope.task as Option<TaskType>,
        scope.mode as Option<Mode>,
        actor.accountable_user()
    )
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
            return Err(AppError::field("team", "No team has this id."));
        }
        other => unique_as_field(other, "name", || {
            format!("A guardrail named {name} exists already.")
        })?,
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "guardrail.create",
            entity_type: "guardrail",
            entity_id: id.to_string(),
            summary: format!("added guardrail {name}: {}", texts.join(" and ")),
            detail: json!({
                "name": name, "conditions": texts, "tier": scope.tier.map(Tier::number),
                "team_id": scope.team_id, "task": scope.task, "mode": scope.mode,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete(pool: &PgPool, actor: &Actor, guardrail_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "delete from guardrail where guardrail_id = $1 returning name",
        guardrail_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No guardrail has this id.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "guardrail.delete",
            entity_type: "guardrail",
            entity_id: guardrail_id.to_string(),
            summary: format!("deleted guardrail {name}"),
            detail: json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Waives one guardrail for one deployment until `until`; a newer waiver replaces the last.
pub async fn waive(
    pool: &PgPool,
    actor: &Actor,
    guardrail_id: Uuid,
    deployment_id: Uuid,
    reason: &str,
    until: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let names = sqlx::query!(
        "select g.name, d.key from guardrail g, deployment d
          where g.guardrail_id = $1 and d.deployment_id = $2",
        guardrail_id,
        deployment_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such guardrail or deployment.".into()))?;
    let id = sqlx::query_scalar!(
        "insert into guardrail_waiver
            (guardrail_id, deployment_id, reason, expires_at, granted_by, granted_by_label)
         values ($1, $2, $3, $4, $5, $6) returning guardrail_waiver_id",
        guardrail_id,
        deployment_id,
        reason,
        until,
        actor.accountable_user(),
        actor.label()
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "guardrail.waive",
            entity_type: "guardrail",
            entity_id: guardrail_id.to_string(),
            summary: format!(
                "waived guardrail {} for {} until {}: {reason}",
                names.name,
                names.key,
                until.format("%Y-%m-%d")
            ),
            detail: json!({
                "guardrail_waiver_id": id, "deployment": names.key, "reason": reason,
                "expires_at": until,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The newest waiver of each (guardrail, deployment), expired or not.
async fn waivers(pool: &PgPool) -> Result<BTreeMap<(Uuid, Uuid), Waiver>, sqlx::Error> {
    let rows = sqlx::query!(
        "select distinct on (guardrail_id, deployment_id)
                guardrail_id, deployment_id, reason, expires_at, granted_by_label, created_at
           from guardrail_waiver
          order by guardrail_id, deployment_id, created_at desc"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                (row.guardrail_id, row.deployment_id),
                Waiver {
                    reason: row.reason,
                    until: row.expires_at,
                    by: row.granted_by_label,
                    at: row.created_at,
                },
            )
        })
        .collect())
}

/// Every deployment's figures over the `WINDOW_DAYS` before `now`, with what places it in a scope.
pub async fn facts(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<Facts>, sqlx::Error> {
    let deployments = sqlx::query!(
        r#"select d.deployment_id, d.key, d.pricing_kind as "pricing_kind: PricingKind",
                  d.model_version_id as "model_version_id?", v.model_id as "model_id?",
                  m.name || ' ' || v.version as model, m.owner_team_id, m.task as "task?: TaskType",
                  (select e.mode from experiment_run r join experiment e using (experiment_id)
                    where r.model_version_id = d.model_version_id
                    order by r.created_at desc limit 1) as "mode?: Mode",
                  (select extract(epoch from max(w.created_at) - min(w.created_at))::float8 / 86400
                     from (select created_at from model_version
                            where model_id = v.model_id order by created_at desc limit 2) w
                   having count(*) = 2) as retrain_days
             from deployment d
             left join model_version v using (model_version_id)
             left join model m using (model_id)
            order by d.key"#
    )
    .fetch_all(pool)
    .await?;
    let usage = sqlx::query!(
        r#"select p.deployment_id as "deployment_id!", p.currency,
                  sum(p.reserved_cost) as reserved, saturated_count(sum(p.requests)) as "requests!",
                  sum(p.gpu_seconds) as "held!", sum(p.busy_gpu_seconds) as "busy!",
                  sum(p.latency_p95_weighted) as "latency_weighted!",
                  saturated_count(sum(p.latency_requests)) as "latency_requests!"
             from priced_hourly p
            where p.hour >= date_trunc('hour', $1::timestamptz) and p.hour < $2
            group by 1, 2"#,
        now - TimeDelta::days(WINDOW_DAYS),
        now
    )
    .fetch_all(pool)
    .await?;
    #[derive(Default)]
    struct Usage {
        held: f64,
        busy: f64,
        latency_weighted: f64,
        latency_requests: i64,
        /// currency -> (cost, requests)
        costs: BTreeMap<String, (Decimal, i64)>,
    }
    let mut by_deployment: HashMap<Uuid, Usage> = HashMap::new();
    for row in usage {
        let entry = by_deployment.entry(row.deployment_id).or_default();
        entry.held += row.held;
        entry.busy += row.busy;
        entry.latency_weighted += row.latency_weighted;
        entry.latency_requests = entry.latency_requests.saturating_add(row.latency_requests);
        if let Some(currency) = row.currency {
            let slot = entry.costs.entry(currency).or_default();
            slot.0 += cost::shown(row.reserved);
            slot.1 = slot.1.saturating_add(row.requests);
        }
    }
    // Tier, and the quality metrics of the run that evaluated the model, from the catalog.
    let catalog: HashMap<Uuid, crate::catalog::CatalogModel> = crate::catalog::store::list(pool)
        .await?
        .into_iter()
        .map(|model| (model.model_id, model))
        .collect();
    Ok(deployments
        .into_iter()
        .map(|row| {
            let mut facts = Facts::new(row.deployment_id, row.key);
            facts.model_id = row.model_id;
            facts.model_version_id = row.model_version_id;
            facts.model = row.model;
            facts.team_id = row.owner_team_id;
            facts.task = row.task;
            facts.mode = row.mode.unwrap_or(Mode::RealTime);
            facts.pricing = row.pricing_kind;
            facts.retrain_interval_days = row.retrain_days;
            if let Some(model) = row.model_id.and_then(|id| catalog.get(&id)) {
                facts.tier = Some(model.placement.tier);
                facts.metrics = model.figures.metrics.clone();
            }
            if let Some(usage) = by_deployment.get(&row.deployment_id) {
                facts.utilization_pct =
                    (usage.held > 0.0).then(|| (usage.busy / usage.held * 100.0).min(100.0));
                facts.p95_ms = (usage.latency_requests > 0)
                    .then(|| usage.latency_weighted / usage.latency_requests as f64);
                if let Some((currency, (amount, requests))) =
                    usage.costs.iter().max_by_key(|(_, (amount, _))| *amount)
                {
                    facts.monthly_cost = amount.round_dp(2).to_f64();
                    facts.cost_per_1k =
                        cost::per_thousand_requests(*amount, *requests).and_then(|c| c.to_f64());
                    facts.currency = Some(currency.clone());
                }
            }
            facts
        })
        .collect())
}

/// Every breach as of `now`, waived or not.
pub async fn breaches(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<Breach>, sqlx::Error> {
    let rules = rules(pool).await?;
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let facts = facts(pool, now).await?;
    let waivers = waivers(pool).await?;
    Ok(evaluate(&rules, &facts, &waivers, now))
}
