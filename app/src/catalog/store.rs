//! The catalog in Postgres: models and versions, their figures from the hourly telemetry rollups
//! priced by the GPU price catalog, the tier rules and the leads' overrides.

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use super::tier::{self, Figures, Override, Tier, TierRule};
use super::{
    CatalogModel, HistoryPoint, ModelDeployment, ModelDetail, ModelStatus, NewModel, NewVersion,
    Version, WINDOW_DAYS,
};
use crate::audit::{self, Actor, Change};
use crate::drift::DriftState;
use crate::error::{unique_as_field, AppError};
use crate::experiments::{Constraint, TaskType};
use crate::ordered::Ordered;
use crate::teams::access::{self, Subject};
use crate::telemetry::cost::{self, per_million_tokens, per_thousand_requests, TokenCount};

/// Priced usage of one group (a model, a deployment, a day) in one currency, or unpriced.
#[derive(Default)]
struct Priced {
    /// currency -> (reserved cost, requests it served, tokens they counted)
    costs: BTreeMap<String, (Decimal, i64, TokenCount)>,
    requests: i64,
    latency_weighted: f64,
    latency_requests: i64,
}

impl Priced {
    fn add(&mut self, row: PricedRow) {
        self.requests = self.requests.saturating_add(row.requests);
        self.latency_weighted += row.latency_weighted;
        self.latency_requests = self.latency_requests.saturating_add(row.latency_requests);
        if let Some(currency) = row.currency {
            let entry = self.costs.entry(currency).or_default();
            entry.0 += row.reserved;
            entry.1 = entry.1.saturating_add(row.requests);
            entry.2 += row.tokens;
        }
    }

    /// The currency most of the money was spent in, with that cost and the requests it served.
    fn main_cost(&self) -> Option<(String, Decimal, i64)> {
        self.costs
            .iter()
            .max_by_key(|(_, (cost, ..))| *cost)
            .map(|(currency, (cost, requests, _))| (currency.clone(), *cost, *requests))
    }

    /// What a million output tokens cost in the main currency (reserved basis, their part of the
    /// cost by the prefill/decode rule), for a language model.
    fn per_million_output(&self) -> Option<Decimal> {
        let (_, (cost, requests, tokens)) =
            self.costs.iter().max_by_key(|(_, (cost, ..))| *cost)?;
        per_million_tokens(*cost, *requests, *tokens)?.output
    }

    fn p95_ms(&self) -> Option<f64> {
        (self.latency_requests > 0).then(|| self.latency_weighted / self.latency_requests as f64)
    }

    fn figures(&self, metrics: BTreeMap<String, f64>) -> Figures {
        let main = self.main_cost();
        Figures {
            cost_per_1k: main
                .as_ref()
                .and_then(|(_, cost, requests)| per_thousand_requests(*cost, *requests)),
            monthly_cost: main.as_ref().map(|(_, cost, _)| cost.round_dp(2)),
            currency: main.map(|(currency, _, _)| currency),
            cost_per_1m_output: self.per_million_output(),
            p95_ms: self.p95_ms(),
            metrics,
        }
    }
}

#[derive(Clone)]
struct PricedRow {
    currency: Option<String>,
    /// `priced_hourly`'s reserved cost (zero when unpriced)
    reserved: Decimal,
    requests: i64,
    latency_weighted: f64,
    latency_requests: i64,
    tokens: TokenCount,
}

/// The worst drift state of each model's deployments, as of now.
async fn drift_by_model(pool: &PgPool) -> Result<HashMap<Uuid, DriftState>, sqlx::Error> {
    let states = crate::drift::store::states(pool, crate::clock::now(), None).await?;
    let links = sqlx::query!(
        "select d.deployment_id, v.model_id from deployment d join model_version v using (model_version_id)"
    )
    .fetch_all(pool)
    .await?;
    let mut worst: HashMap<Uuid, DriftState> = HashMap::new();
    for link in links {
        if let Some((state, _)) = states.get(&link.deployment_id) {
            let slot = worst.entry(link.model_id).or_insert(*state);
            *slot = (*slot).max(*state);
        }
    }
    Ok(worst)
}

/// Telemetry by deployment and day since `since`, priced; for one model or all.
async fn priced_days(
    pool: &PgPool,
    since: DateTime<Utc>,
    model_id: Option<Uuid>,
) -> Result<Vec<(Uuid, Uuid, DateTime<Utc>, PricedRow)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select v.model_id, p.deployment_id as "deployment_id!", date_trunc('day', p.hour) as "day!",
                  p.currency, sum(p.reserved_cost) as reserved,
                  saturated_count(sum(p.requests)) as "requests!",
                  sum(p.latency_p95_weighted) as "latency_weighted!",
                  saturated_count(sum(p.latency_requests)) as "latency_requests!",
                  saturated_count(sum(p.input_tokens)) as "input_tokens!",
                  saturated_count(sum(p.output_tokens)) as "output_tokens!",
                  saturated_count(sum(p.cached_input_tokens)) as "cached_input_tokens!",
                  saturated_count(sum(p.token_requests)) as "token_requests!"
             from priced_hourly p
             join model_version v using (model_version_id)
            where p.hour >= date_trunc('hour', $1::timestamptz)
              and ($2::uuid is null or v.model_id = $2)
            group by 1, 2, 3, p.currency"#,
        since,
        model_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.model_id,
                r.deployment_id,
                r.day,
                PricedRow {
                    currency: r.currency,
                    reserved: cost::shown(r.reserved),
                    requests: r.requests,
                    latency_weighted: r.latency_weighted,
                    latency_requests: r.latency_requests,
                    tokens: TokenCount {
                        input: r.input_tokens,
                        output: r.output_tokens,
                        cached_input: r.cached_input_tokens,
                        requests: r.token_requests,
                    },
                },
            )
        })
        .collect())
}

pub async fn tier_rules(executor: impl sqlx::PgExecutor<'_>) -> Result<Vec<TierRule>, sqlx::Error> {
    let rows = sqlx::query!(
        "select tier_rule_id, position, name, tier, conditions from tier_rule order by position"
    )
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| TierRule {
            tier_rule_id: row.tier_rule_id,
            position: row.position,
            name: row.name,
            tier: Tier::from_number(row.tier).unwrap_or(Tier::Tier2),
            // stored only after being read by the same parser, so a failure means a hand edit
            conditions: row
                .conditions
                .iter()
                .filter_map(|text| Constraint::parse_either_way(text).ok())
                .collect(),
        })
        .collect())
}

/// Every model (or one) with its figures over the window and its tier.
async fn models(pool: &PgPool, only: Option<Uuid>) -> Result<Vec<CatalogModel>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select m.model_id, m.name, m.task as "task: TaskType", t.name as "team?", m.description,
                  coalesce(array(select v.version from model_version v where v.model_id = m.model_id
                                  order by v.created_at desc), '{}') as "versions!",
                  coalesce(array(select v.status from model_version v where v.model_id = m.model_id
                                  order by v.created_at desc), '{}') as "statuses!: Vec<ModelStatus>",
                  (select count(*) from deployment d join model_version v using (model_version_id)
                    where v.model_id = m.model_id) as "deployments!",
                  o.tier as "override_tier?", o.reason as "override_reason?",
                  o.set_by_label as "override_by?", o.created_at as "override_at?"
             from model m
             left join team t on t.team_id = m.owner_team_id
             left join model_tier_override o using (model_id)
            where $1::uuid is null or m.model_id = $1
            order by lower(m.name)"#,
        only
    )
    .fetch_all(pool)
    .await?;

    // The primary metric and all metrics of the run that evaluated each model's production
    // version, else its newest evaluated one.
    let quality = sqlx::query!(
        r#"select distinct on (v.model_id) v.model_id, e.primary_metric, r.spec->'metrics' as "metrics"
             from experiment_run r
             join experiment e using (experiment_id)
             join model_version v using (model_version_id)
            where $1::uuid is null or v.model_id = $1
            order by v.model_id, (v.status = 'production') desc, v.created_at desc, r.created_at desc"#,
        only
    )
    .fetch_all(pool)
    .await?;
    let mut quality: HashMap<Uuid, (String, BTreeMap<String, f64>)> = quality
        .into_iter()
        .map(|row| {
            let metrics = row
                .metrics
                .and_then(|m| serde_json::from_value(m).ok())
                .unwrap_or_default();
            (row.model_id, (row.primary_metric, metrics))
        })
        .collect();

    let since = crate::clock::now() - TimeDelta::days(WINDOW_DAYS);
    let mut priced: HashMap<Uuid, Priced> = HashMap::new();
    for (model_id, _, _, row) in priced_days(pool, since, only).await? {
        priced.entry(model_id).or_default().add(row);
    }
    let rules = tier_rules(pool).await?;
    let drift = drift_by_model(pool).await?;

    Ok(rows
        .into_iter()
        .map(|row| {
            let (primary, metrics) = quality.remove(&row.model_id).unwrap_or_default();
            let figures = priced
                .get(&row.model_id)
                .map(|p| p.figures(metrics.clone()))
                .unwrap_or_else(|| Figures {
                    metrics: metrics.clone(),
                    ..Figures::default()
                });
            let overridden = match (
                row.override_tier.and_then(Tier::from_number),
                row.override_reason,
                row.override_by,
                row.override_at,
            ) {
                (Some(tier), Some(reason), Some(by), Some(at)) => Some(Override {
                    tier,
                    reason,
                    by,
                    at,
                }),
                _ => None,
            };
            CatalogModel {
                placement: tier::place(&figures, &rules, overridden),
                quality: metrics.get(&primary).map(|value| (primary, *value)),
                figures,
                model_id: row.model_id,
                name: row.name,
                task: row.task,
                team: row.team,
                description: row.description,
                versions: row.versions.into_iter().zip(row.statuses).collect(),
                deployments: row.deployments,
                drift: drift
                    .get(&row.model_id)
                    .copied()
                    .unwrap_or(DriftState::Unmeasured),
            }
        })
        .collect())
}

pub async fn list(pool: &PgPool) -> Result<Vec<CatalogModel>, sqlx::Error> {
    models(pool, None).await
}

/// One model with its figures and tier.
pub async fn model(pool: &PgPool, model_id: Uuid) -> Result<Option<CatalogModel>, sqlx::Error> {
    Ok(models(pool, Some(model_id)).await?.pop())
}

/// Weeks of history the model page charts.
const HISTORY_WEEKS: i64 = 12;

pub async fn detail(pool: &PgPool, model_id: Uuid) -> Result<Option<ModelDetail>, sqlx::Error> {
    let Some(model) = model(pool, model_id).await? else {
        return Ok(None);
    };
    let team_id = sqlx::query_scalar!(
        "select owner_team_id from model where model_id = $1",
        model_id
    )
    .fetch_one(pool)
    .await?;
    let versions = sqlx::query!(
        r#"select v.model_version_id, v.version, v.framework, v.parameter_count, v.artifact_uri,
                  v.status as "status: ModelStatus", v.created_at, v.updated_at,
                  q.primary_metric as "primary_metric?", q.value as "quality?"
             from model_version v
             left join lateral (
                 select e.primary_metric, (r.spec->'metrics'->>e.primary_metric)::float8 as value
                   from experiment_run r join experiment e using (experiment_id)
                  where r.model_version_id = v.model_version_id
                  order by r.created_at desc limit 1
             ) q on true
            where v.model_id = $1 order by v.created_at desc"#,
        model_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| Version {
        quality: row.primary_metric.zip(row.quality),
        model_version_id: row.model_version_id,
        version: row.version,
        framework: row.framework,
        parameter_count: row.parameter_count,
        artifact_uri: row.artifact_uri,
        status: row.status,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
    .collect();

    let now = crate::clock::now();
    let window_start = now - TimeDelta::days(WINDOW_DAYS);
    let mut by_deployment: HashMap<Uuid, Priced> = HashMap::new();
    let mut by_week: BTreeMap<DateTime<Utc>, Priced> = BTreeMap::new();
    for (_, deployment_id, day, row) in
        priced_days(pool, now - TimeDelta::weeks(HISTORY_WEEKS), Some(model_id)).await?
    {
        let week = day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()));
        if day >= window_start {
            by_deployment
                .entry(deployment_id)
                .or_default()
                .add(row.clone());
        }
        by_week.entry(week).or_default().add(row);
    }
    let mut drift = crate::drift::store::states(pool, crate::clock::now(), None).await?;
    let deployments = sqlx::query!(
        r#"select d.deployment_id, d.key, v.version, d.last_seen_at
             from deployment d join model_version v using (model_version_id)
            where v.model_id = $1 order by d.key"#,
        model_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        let priced = by_deployment.remove(&row.deployment_id).unwrap_or_default();
        let main = priced.main_cost();
        let (state, findings) = drift
            .remove(&row.deployment_id)
            .unwrap_or((DriftState::Unmeasured, Vec::new()));
        ModelDeployment {
            deployment_id: row.deployment_id,
            key: row.key,
            drift: state,
            drift_finding: findings
                .into_iter()
                .find(|f| f.state >= DriftState::Warning)
                .map(|f| f.text),
            version: row.version,
            requests: priced.requests,
            cost_per_1k: main
                .as_ref()
                .and_then(|(_, cost, requests)| per_thousand_requests(*cost, *requests)),
            cost: main.map(|(currency, cost, _)| (cost.round_dp(2), currency)),
            cost_per_1m_output: priced.per_million_output(),
            p95_ms: priced.p95_ms(),
            last_seen_at: row.last_seen_at,
        }
    })
    .collect();
    let history = by_week
        .into_iter()
        .map(|(week, priced)| {
            let main = priced.main_cost();
            HistoryPoint {
                week,
                requests: priced.requests,
                cost: main
                    .as_ref()
                    .map_or(Decimal::ZERO, |(_, cost, _)| cost.round_dp(2)),
                cost_per_1k: main
                    .as_ref()
                    .and_then(|(_, cost, requests)| per_thousand_requests(*cost, *requests)),
                p95_ms: priced.p95_ms(),
            }
        })
        .collect();
    Ok(Some(ModelDetail {
        model,
        team_id,
        versions,
        deployments,
        history,
    }))
}

async fn model_name(conn: &mut PgConnection, model_id: Uuid) -> Result<String, AppError> {
    sqlx::query_scalar!(
        "select name from model where model_id = $1 for update",
        model_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound("No model has this id; it may have been deleted.".into()))
}

pub async fn create_model(pool: &PgPool, actor: &Actor, model: NewModel) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    access::require_team(&mut tx, actor, model.team_id, "model").await?;
    let id = unique_as_field(
        sqlx::query_scalar!(
            "insert into model (name, task, owner_team_id, description) values ($1, $2, $3, $4)
             returning model_id",
            model.name,
            model.task as TaskType,
            model.team_id,
            model.description
        )
        .fetch_one(&mut *tx)
        .await,
        "name",
        || format!("A model named {} already exists.", model.name),
    )?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "model.create",
            entity_type: "model",
            entity_id: id.to_string(),
            summary: format!("added model {} ({})", model.name, model.task.label()),
            detail: json!({ "name": model.name, "task": model.task, "team_id": model.team_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_model(
    pool: &PgPool,
    actor: &Actor,
    model_id: Uuid,
    model: NewModel,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let before = model_name(&mut tx, model_id).await?;
    access::require(&mut tx, actor, Subject::Model(model_id)).await?;
    access::require_team(&mut tx, actor, model.team_id, "model").await?;
    unique_as_field(
        sqlx::query!(
            "update model set name = $2, task = $3, owner_team_id = $4, description = $5,
                              updated_at = now()
              where model_id = $1",
            model_id,
            model.name,
            model.task as TaskType,
            model.team_id,
            model.description
        )
        .execute(&mut *tx)
        .await,
        "name",
        || format!("A model named {} already exists.", model.name),
    )?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "model.update",
            entity_type: "model",
            entity_id: model_id.to_string(),
            summary: if before == model.name {
                format!("edited model {}", model.name)
            } else {
                format!("renamed model {before} to {}", model.name)
            },
            detail: json!({ "name": model.name, "task": model.task, "team_id": model.team_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn add_version(
    pool: &PgPool,
    actor: &Actor,
    model_id: Uuid,
    version: NewVersion,
) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let name = model_name(&mut tx, model_id).await?;
    access::require(&mut tx, actor, Subject::Model(model_id)).await?;
    let id = unique_as_field(
        sqlx::query_scalar!(
            "insert into model_version (model_id, version, framework, parameter_count, artifact_uri)
             values ($1, $2, $3, $4, $5) returning model_version_id",
            model_id,
            version.version,
            version.framework,
            version.parameter_count,
            version.artifact_uri
        )
        .fetch_one(&mut *tx)
        .await,
        "version",
        || format!("{name} already has a version {}.", version.version),
    )?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "model_version.create",
            entity_type: "model_version",
            entity_id: id.to_string(),
            summary: format!("added version {} of {name} (draft)", version.version),
            detail: json!({
                "model": name, "version": version.version, "framework": version.framework,
                "parameter_count": version.parameter_count, "artifact_uri": version.artifact_uri,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A version and its model's name: locked for a status change by [`lock_version`].
pub struct LockedVersion {
    pub model_id: Uuid,
    pub model: String,
    pub version: String,
    pub status: ModelStatus,
}

pub async fn lock_version(
    conn: &mut PgConnection,
    model_version_id: Uuid,
) -> Result<LockedVersion, AppError> {
    sqlx::query_as!(
        LockedVersion,
        r#"select v.model_id, m.name as model, v.version, v.status as "status: ModelStatus"
             from model_version v join model m using (model_id)
            where v.model_version_id = $1
            for update of v"#,
        model_version_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::NotFound("No model version has this id.".into()))
}

/// The catalog version of a model (by name, as people and MLflow's registry write it) and a
/// version label.
pub async fn version_id(
    pool: &PgPool,
    model: &str,
    version: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select v.model_version_id from model_version v join model m using (model_id)
          where lower(m.name) = lower($1) and (v.version = $2 or v.version = 'v' || $2)
          limit 1",
        model,
        version
    )
    .fetch_optional(pool)
    .await
}

/// A version with its model's name and its status, unlocked.
pub async fn version(
    pool: &PgPool,
    model_version_id: Uuid,
) -> Result<Option<LockedVersion>, sqlx::Error> {
    sqlx::query_as!(
        LockedVersion,
        r#"select v.model_id, m.name as model, v.version, v.status as "status: ModelStatus"
             from model_version v join model m using (model_id)
            where v.model_version_id = $1"#,
        model_version_id
    )
    .fetch_optional(pool)
    .await
}

/// Writes a version's new status with its audit entry, in the caller's transaction.
pub async fn write_status(
    conn: &mut PgConnection,
    actor: &Actor,
    model_version_id: Uuid,
    version: &LockedVersion,
    status: ModelStatus,
    note: &str,
) -> Result<(), AppError> {
    access::require(&mut *conn, actor, Subject::ModelVersion(model_version_id)).await?;
    sqlx::query!(
        "update model_version set status = $2, updated_at = now() where model_version_id = $1",
        model_version_id,
        status as ModelStatus
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        &mut *conn,
        actor,
        Change {
            action: "model_version.status",
            entity_type: "model_version",
            entity_id: model_version_id.to_string(),
            summary: format!(
                "moved {} {} from {} to {}{note}",
                version.model, version.version, version.status, status
            ),
            detail: json!({
                "model": version.model, "version": version.version,
                "from": version.status, "to": status,
            }),
        },
    )
    .await?;
    Ok(())
}

pub async fn set_override(
    pool: &PgPool,
    actor: &Actor,
    model_id: Uuid,
    tier: Option<Tier>,
    reason: &str,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let name = model_name(&mut tx, model_id).await?;
    access::require(&mut tx, actor, Subject::Model(model_id)).await?;
    let summary = match tier {
        Some(tier) => {
            sqlx::query!(
                "insert into model_tier_override (model_id, tier, reason, set_by, set_by_label)
                 values ($1, $2, $3, $4, $5)
                 on conflict (model_id) do update
                    set tier = excluded.tier, reason = excluded.reason, set_by = excluded.set_by,
                        set_by_label = excluded.set_by_label, created_at = now()",
                model_id,
                tier.number(),
                reason,
                actor.user_id(),
                actor.label()
            )
            .execute(&mut *tx)
            .await?;
            format!("placed {name} in {tier} over the rules: {reason}")
        }
        None => {
            sqlx::query!(
                "delete from model_tier_override where model_id = $1",
                model_id
            )
            .execute(&mut *tx)
            .await?;
            format!("returned {name} to the tier rules")
        }
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "model.tier_override",
            entity_type: "model",
            entity_id: model_id.to_string(),
            summary,
            detail: json!({ "model": name, "tier": tier.map(Tier::number), "reason": reason }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The tier rules, in the order they apply.
const TIER_RULES: Ordered = Ordered {
    table: "tier_rule",
    id: "tier_rule_id",
    missing: "No tier rule has this id.",
};

/// Adds a tier rule at the end of the list.
pub async fn create_rule(
    pool: &PgPool,
    actor: &Actor,
    name: &str,
    tier: Tier,
    conditions: &[Constraint],
) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    TIER_RULES.lock(&mut tx).await?;
    let position = TIER_RULES.next_position(&mut tx).await?;
    let texts: Vec<String> = conditions.iter().map(ToString::to_string).collect();
    let id = sqlx::query_scalar!(
        "insert into tier_rule (position, name, tier, conditions) values ($1, $2, $3, $4)
         returning tier_rule_id",
        position,
        name,
        tier.number(),
        &texts
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "tier_rule.create",
            entity_type: "tier_rule",
            entity_id: id.to_string(),
            summary: format!(
                "added tier rule {name}: {tier} when {}",
                texts.join(" and ")
            ),
            detail: json!({ "name": name, "tier": tier.number(), "conditions": texts }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_rule(pool: &PgPool, actor: &Actor, rule_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    TIER_RULES.lock(&mut tx).await?;
    let name = sqlx::query_scalar!(
        "delete from tier_rule where tier_rule_id = $1 returning name",
        rule_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(TIER_RULES.missing.into()))?;
    TIER_RULES.close_gap(&mut tx).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "tier_rule.delete",
            entity_type: "tier_rule",
            entity_id: rule_id.to_string(),
            summary: format!("deleted tier rule {name}"),
            detail: json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a rule one place earlier (it then wins over the one it passed) or later.
pub async fn move_rule(
    pool: &PgPool,
    actor: &Actor,
    rule_id: Uuid,
    earlier: bool,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    TIER_RULES.lock(&mut tx).await?;
    let planned = TIER_RULES.plan_move(&mut tx, rule_id, earlier).await?;
    if !TIER_RULES.make_move(&mut tx, &planned).await? {
        // Already first or last.
        return Ok(());
    }
    let (name, other) = (&planned.rule.name, planned.to);
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "tier_rule.reorder",
            entity_type: "tier_rule",
            entity_id: rule_id.to_string(),
            summary: format!("moved tier rule {name} to position {other}"),
            detail: json!({ "position": other }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
