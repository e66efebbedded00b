//! Budgets, alerts and webhooks in Postgres. Spend is billed spend: current bill lines the
//! allocation rules gave to the team or model, charged this month. An alert row is unique per
//! threshold and period, so evaluating again never fires it twice; its deliveries are created in
//! the same statement's transaction.

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

use super::webhook::shown_url;
use super::{
    forecast, forecast_may_alert, forecast_message, month_bounds, reached, rise_message, rise_pct,
    threshold_message, AlertKind, AlertView, BudgetScope, BudgetView, Delivery, NewBudget,
    WebhookView, MAX_ATTEMPTS,
};
use crate::audit::{self, Actor, Change};
use crate::catalog::tier::Tier;
use crate::error::AppError;
use crate::format::format_money;
use crate::teams::access::{self, Subject};
use crate::telemetry::cost::{self, per_thousand_requests};

/// Every budget with its billed spend and forecast for the month `now` is in.
pub async fn budgets(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<BudgetView>, sqlx::Error> {
    let (start, end) = month_bounds(now);
    let previous_start = month_bounds(start - TimeDelta::days(1)).0;
    let rows = sqlx::query!(
        r#"select b.budget_id, b.scope as "scope: BudgetScope", b.team_id, b.model_id, b.tier,
                  b.monthly_amount, b.currency, b.thresholds, coalesce(t.name, m.name) as target
             from budget b
             left join team t on t.team_id = b.team_id
             left join model m on m.model_id = b.model_id
            order by b.scope, target, b.tier"#
    )
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // This month's spend and the previous month's, for the forecast's run rate.
    let spent = sqlx::query!(
        r#"select a.team_id, a.model_id, l.currency as "currency!",
                  l.charge_period_start >= $2 as "current!",
                  sum(l.billed_cost * coalesce(a.share, 1)) as "amount!"
             from current_bill_line l
             join bill_allocation a using (bill_import_id, line_number)
            where l.charge_period_start >= $1 and l.charge_period_start < $3
            group by 1, 2, 3, 4"#,
        previous_start,
        start,
        end
    )
    .fetch_all(pool)
    .await?;
    let tiers: HashMap<Uuid, Tier> = if rows.iter().any(|r| r.scope == BudgetScope::Tier) {
        crate::catalog::store::list(pool)
            .await?
            .into_iter()
            .map(|m| (m.model_id, m.placement.tier))
            .collect()
    } else {
        HashMap::new()
    };
    let month = start.format("%B %Y").to_string();
    Ok(rows
        .into_iter()
        .map(|row| {
            let of_month = |current: bool| -> Decimal {
                spent
                    .iter()
                    .filter(|s| s.current == current && s.currency == row.currency)
                    .filter(|s| match row.scope {
                        BudgetScope::Team => s.team_id.is_some() && s.team_id == row.team_id,
                        BudgetScope::Model => s.model_id.is_some() && s.model_id == row.model_id,
                        BudgetScope::Tier => s
                            .model_id
                            .is_some_and(|m| tiers.get(&m).map(|t| t.number()) == row.tier),
                    })
                    .fold(Decimal::ZERO, |sum, s| sum.saturating_add(s.amount))
            };
            let previous = Some(of_month(false)).filter(|p| *p > Decimal::ZERO);
            let spent = of_month(true).round_dp(2);
            BudgetView {
                budget_id: row.budget_id,
                scope: row.scope,
                target: match row.scope {
                    BudgetScope::Tier => format!("Tier {}", row.tier.unwrap_or_default()),
                    _ => row.target.unwrap_or_default(),
                },
                monthly_amount: row.monthly_amount,
                currency: row.currency,
                thresholds: row.thresholds,
                forecast: forecast(spent, previous, now),
                spent,
                month: month.clone(),
            }
        })
        .collect())
}

pub async fn create_budget(
    pool: &PgPool,
    actor: &Actor,
    budget: NewBudget,
) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    match (budget.team_id, budget.model_id) {
        (Some(team_id), _) => access::require(&mut tx, actor, Subject::Team(team_id)).await?,
        (None, Some(model_id)) => access::require(&mut tx, actor, Subject::Model(model_id)).await?,
        (None, None) => access::require_team(&mut tx, actor, None, "tier's budget").await?,
    }
    let inserted = sqlx::query_scalar!(
        "insert into budget (scope, team_id, model_id, tier, monthly_amount, currency, thresholds, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning budget_id",
        budget.scope as BudgetScope,
        budget.team_id,
        budget.model_id,
        budget.tier,
        budget.monthly_amount,
        budget.currency,
        &budget.thresholds,
        actor.user_id()
    )
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(AppError::field(
                "target",
                "It already has a budget in this currency; delete that one first.",
            ))
        }
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            return Err(AppError::field(
                "target",
                "No such team or model; reload the page.",
            ))
        }
        Err(error) => return Err(error.into()),
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "budget.create",
            entity_type: "budget",
            entity_id: id.to_string(),
            summary: format!(
                "set a {} monthly budget of {} (alerts at {})",
                budget.scope,
                format_money(budget.monthly_amount, &budget.currency),
                budget
                    .thresholds
                    .iter()
                    .map(|t| format!("{t}%"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            detail: json!({
                "scope": budget.scope, "team_id": budget.team_id, "model_id": budget.model_id,
                "tier": budget.tier, "monthly_amount": budget.monthly_amount,
                "currency": budget.currency, "thresholds": budget.thresholds,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_budget(pool: &PgPool, actor: &Actor, budget_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Budget(budget_id)).await?;
    let deleted = sqlx::query!(
        "delete from budget where budget_id = $1 returning monthly_amount, currency",
        budget_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        AppError::NotFound("No budget has this id; it may already be deleted.".into())
    })?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "budget.delete",
            entity_type: "budget",
            entity_id: budget_id.to_string(),
            summary: format!(
                "deleted a monthly budget of {}",
                format_money(deleted.monthly_amount, &deleted.currency)
            ),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Inserts an alert unless it already fired for this threshold and period, and queues it for
/// every webhook. Returns whether it is new.
/// An alert about to fire.
struct NewAlert {
    kind: AlertKind,
    budget_id: Option<Uuid>,
    deployment_id: Option<Uuid>,
    /// The guardrail broken, for a guardrail alert.
    guardrail_id: Option<Uuid>,
    period_start: chrono::NaiveDate,
    threshold: i32,
    message: String,
    detail: serde_json::Value,
}

async fn fire(pool: &PgPool, alert: NewAlert) -> Result<bool, sqlx::Error> {
    let NewAlert {
        kind,
        budget_id,
        deployment_id,
        guardrail_id,
        period_start,
        threshold,
        message,
        detail,
    } = alert;
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        "insert into alert (kind, budget_id, deployment_id, guardrail_id, period_start, threshold, message, detail)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict do nothing returning alert_id",
        kind as AlertKind,
        budget_id,
        deployment_id,
        guardrail_id,
        period_start,
        threshold,
        message,
        detail
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(alert_id) = inserted else {
        return Ok(false);
    };
    sqlx::query!(
        "insert into alert_delivery (alert_id, webhook_id, next_attempt_at)
         select $1, webhook_id, now() from webhook",
        alert_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Actor::System,
        Change {
            action: "alert.fire",
            entity_type: "alert",
            entity_id: alert_id.to_string(),
            summary: message,
            detail: json!({ "kind": kind }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Evaluates every budget and every deployment's week-over-week cost; returns the alerts fired.
pub async fn evaluate(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    // Each part runs whatever another's fate: a budget that cannot be read must not silence the
    // cost and drift alerts. The first failure is answered after all have run.
    let parts = [
        ("budgets", budget_alerts(pool, now).await),
        ("cost rises", cost_rises(pool, now).await),
        ("drift", drifting(pool, now).await),
        ("guardrails", guardrail_breaches(pool, now).await),
        ("retraining", retraining_due(pool, now).await),
    ];
    let mut fired = 0;
    let mut failure = None;
    for (part, outcome) in parts {
        match outcome {
            Ok(count) => fired += count,
            Err(error) => {
                tracing::warn!(part, %error, "evaluating alerts failed; the other parts went on");
                failure.get_or_insert(error);
            }
        }
    }
    failure.map_or(Ok(fired), Err)
}

/// Budgets past a threshold or forecast past their amount. A budget whose alert cannot be stored
/// is logged and skipped, so the others still fire.
async fn budget_alerts(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let mut fired = 0;
    let month_start = month_bounds(now).0.date_naive();
    let min_days = sqlx::query_scalar!("select forecast_min_days from alert_setting")
        .fetch_optional(pool)
        .await?
        .unwrap_or(5);
    let forecasts_count = forecast_may_alert(now, min_days);
    for budget in budgets(pool, now).await? {
        let mut alerts = Vec::new();
        for threshold in reached(budget.spent, budget.monthly_amount, &budget.thresholds) {
            let message = threshold_message(
                &budget.target,
                threshold,
                budget.spent,
                budget.monthly_amount,
                &budget.currency,
                &budget.month,
            );
            let detail = json!({
                "target": budget.target, "spent": budget.spent, "budget": budget.monthly_amount,
                "currency": budget.currency, "threshold_pct": threshold, "month": budget.month,
            });
            alerts.push(NewAlert {
                kind: AlertKind::BudgetThreshold,
                budget_id: Some(budget.budget_id),
                deployment_id: None,
                guardrail_id: None,
                period_start: month_start,
                threshold,
                message,
                detail,
            });
        }
        if forecasts_count && budget.forecast > budget.monthly_amount {
            let message = forecast_message(
                &budget.target,
                budget.forecast,
                budget.monthly_amount,
                &budget.currency,
                &budget.month,
            );
            let detail = json!({
                "target": budget.target, "forecast": budget.forecast,
                "budget": budget.monthly_amount, "currency": budget.currency, "month": budget.month,
            });
            alerts.push(NewAlert {
                kind: AlertKind::BudgetForecast,
                budget_id: Some(budget.budget_id),
                deployment_id: None,
                guardrail_id: None,
                period_start: month_start,
                threshold: 0,
                message,
                detail,
            });
        }
        for alert in alerts {
            match fire(pool, alert).await {
                Ok(true) => fired += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(budget_id = %budget.budget_id, %error, "a budget alert could not be stored; skipped");
                }
            }
        }
    }
    Ok(fired)
}

/// Deployments whose drift is past an alert level: one alert per deployment and week.
async fn drifting(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let week_start =
        (now - TimeDelta::days(i64::from(now.weekday().num_days_from_monday()))).date_naive();
    let keys: HashMap<Uuid, String> = sqlx::query!("select deployment_id, key from deployment")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| (row.deployment_id, row.key))
        .collect();
    let mut fired = 0;
    for (deployment_id, (state, findings)) in crate::drift::store::states(pool, now, None).await? {
        if state != crate::drift::DriftState::Drifting {
            continue;
        }
        let key = keys.get(&deployment_id).cloned().unwrap_or_default();
        let worst: Vec<&str> = findings
            .iter()
            .filter(|f| f.state == crate::drift::DriftState::Drifting)
            .map(|f| f.text.as_str())
            .collect();
        let message = format!("{key} is drifting: {}", worst.join("; "));
        let detail = json!({ "deployment": key, "findings": worst });
        if fire(
            pool,
            NewAlert {
                kind: AlertKind::Drift,
                budget_id: None,
                deployment_id: Some(deployment_id),
                guardrail_id: None,
                period_start: week_start,
                threshold: 0,
                message,
                detail,
            },
        )
        .await?
        {
            fired += 1;
        }
    }
    Ok(fired)
}

/// Deployments breaking a guardrail no waiver covers: one alert per guardrail, deployment and week.
async fn guardrail_breaches(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let week_start =
        (now - TimeDelta::days(i64::from(now.weekday().num_days_from_monday()))).date_naive();
    let mut fired = 0;
    for breach in crate::guardrails::store::breaches(pool, now).await? {
        if breach.waiver.is_some() {
            continue;
        }
        let detail = json!({
            "guardrail": breach.guardrail, "deployment": breach.deployment,
            "model": breach.model, "broken": breach.broken,
        });
        if fire(
            pool,
            NewAlert {
                kind: AlertKind::Guardrail,
                budget_id: None,
                deployment_id: Some(breach.deployment_id),
                guardrail_id: Some(breach.guardrail_id),
                period_start: week_start,
                threshold: 0,
                message: breach.sentence(),
                detail,
            },
        )
        .await?
        {
            fired += 1;
        }
    }
    Ok(fired)
}

/// Deployments whose next retraining has come due: one alert per deployment and due date.
async fn retraining_due(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let mut fired = 0;
    for plan in crate::advice::retrain_store::plans(pool, now).await? {
        let (Some(deployment_id), Some(due_at), true) = (plan.deployment_id, plan.due_at, plan.due)
        else {
            continue;
        };
        let detail = json!({
            "deployment": plan.deployment, "model": plan.model, "metric": plan.metric,
            "due_at": due_at, "figures": plan.figures,
        });
        if fire(
            pool,
            NewAlert {
                kind: AlertKind::Retraining,
                budget_id: None,
                deployment_id: Some(deployment_id),
                guardrail_id: None,
                period_start: due_at.date_naive(),
                threshold: 0,
                message: format!("{}: {}", plan.deployment, plan.finding),
                detail,
            },
        )
        .await?
        {
            fired += 1;
        }
    }
    Ok(fired)
}

/// Deployments whose cost per 1,000 requests over the last 7 days is more than the setting above
/// the 7 days before.
async fn cost_rises(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let limit = sqlx::query_scalar!("select cost_rise_pct from alert_setting")
        .fetch_one(pool)
        .await?;
    let limit = rust_decimal::prelude::ToPrimitive::to_f64(&limit).unwrap_or(25.0);
    let split = now - TimeDelta::days(7);
    let rows = sqlx::query!(
        r#"select d.deployment_id, d.key, p.hour >= $2 as "current!",
                  p.currency as "currency!", sum(p.reserved_cost) as reserved,
                  saturated_count(sum(p.requests)) as "requests!"
             from priced_hourly p
             join deployment d using (deployment_id)
            where p.hour >= $1 and p.hour < $3 and p.currency is not null
            group by 1, 2, 3, p.currency"#,
        now - TimeDelta::days(14),
        split,
        now
    )
    .fetch_all(pool)
    .await?;
    // (deployment, key, currency) -> [(cost, requests) previous, current]
    let mut weeks: HashMap<(Uuid, String, String), [(Decimal, i64); 2]> = HashMap::new();
    for row in rows {
        let entry = weeks
            .entry((row.deployment_id, row.key, row.currency))
            .or_default();
        let week = &mut entry[usize::from(row.current)];
        week.0 += cost::shown(row.reserved);
        week.1 = week.1.saturating_add(row.requests);
    }
    let week_start =
        (now - TimeDelta::days(i64::from(now.weekday().num_days_from_monday()))).date_naive();
    let mut fired = 0;
    for ((deployment_id, key, currency), [previous, current]) in weeks {
        let (Some(before), Some(after)) = (
            per_thousand_requests(previous.0, previous.1),
            per_thousand_requests(current.0, current.1),
        ) else {
            continue;
        };
        let Some(pct) = rise_pct(before, after).filter(|pct| *pct > limit) else {
            continue;
        };
        let message = rise_message(&key, before, after, &currency, pct);
        let detail = json!({
            "deployment": key, "previous_per_1k": before, "current_per_1k": after,
            "currency": currency, "rise_pct": pct.round(),
        });
        if fire(
            pool,
            NewAlert {
                kind: AlertKind::CostRise,
                budget_id: None,
                deployment_id: Some(deployment_id),
                guardrail_id: None,
                period_start: week_start,
                threshold: 0,
                message,
                detail,
            },
        )
        .await?
        {
            fired += 1;
        }
    }
    Ok(fired)
}

/// A delivery that is due, claimed for one attempt.
pub struct DueDelivery {
    pub alert_id: Uuid,
    pub webhook_id: Uuid,
    pub url: String,
    pub attempt: i32,
    pub kind: AlertKind,
    pub message: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Claims up to `limit` due deliveries: pushes their next attempt out by `claim` so that another
/// server running the same loop leaves them alone while this one sends them.
pub async fn claim_due(
    pool: &PgPool,
    limit: i64,
    claim: TimeDelta,
) -> Result<Vec<DueDelivery>, sqlx::Error> {
    sqlx::query_as!(
        DueDelivery,
        r#"with due as (
               select alert_id, webhook_id from alert_delivery
                where next_attempt_at <= now()
                order by next_attempt_at
                limit $1
                for update skip locked
           ), claimed as (
               update alert_delivery d
                  set next_attempt_at = now() + $2::interval, attempts = d.attempts + 1
                 from due
                where d.alert_id = due.alert_id and d.webhook_id = due.webhook_id
            returning d.alert_id, d.webhook_id, d.attempts
           )
           select c.alert_id, c.webhook_id, w.url, c.attempts as attempt,
                  a.kind as "kind: AlertKind", a.message, a.detail, a.created_at
             from claimed c
             join webhook w using (webhook_id)
             join alert a using (alert_id)"#,
        limit,
        sqlx::postgres::types::PgInterval::try_from(claim.to_std().unwrap_or_default()).unwrap_or(
            sqlx::postgres::types::PgInterval {
                months: 0,
                days: 0,
                microseconds: 60_000_000
            }
        )
    )
    .fetch_all(pool)
    .await
}

/// Records one attempt: delivered, to be retried after `retry_in`, or given up.
pub async fn record_attempt(
    pool: &PgPool,
    delivery: &DueDelivery,
    status_code: Option<i32>,
    error: Option<&str>,
    retry_in: TimeDelta,
) -> Result<(), sqlx::Error> {
    let delivered = error.is_none();
    let give_up = !delivered && delivery.attempt >= MAX_ATTEMPTS;
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into alert_delivery_attempt (alert_id, webhook_id, attempt, status_code, error, delivered)
         values ($1, $2, $3, $4, $5, $6)",
        delivery.alert_id,
        delivery.webhook_id,
        delivery.attempt,
        status_code,
        error,
        delivered
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update alert_delivery
            set next_attempt_at = case when $3 or $4 then null else now() + $5::interval end,
                delivered_at = case when $3 then now() end,
                gave_up_at = case when $4 then now() end
          where alert_id = $1 and webhook_id = $2",
        delivery.alert_id,
        delivery.webhook_id,
        delivered,
        give_up,
        sqlx::postgres::types::PgInterval::try_from(retry_in.to_std().unwrap_or_default())
            .unwrap_or(sqlx::postgres::types::PgInterval {
                months: 0,
                days: 0,
                microseconds: 60_000_000
            })
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The latest alerts, open ones first, with their deliveries.
pub async fn alerts(pool: &PgPool, limit: i64) -> Result<Vec<AlertView>, sqlx::Error> {
    list(pool, None, limit).await
}

/// Alerts about one model: its budget's, and its deployments' cost rises.
pub async fn for_model(
    pool: &PgPool,
    model_id: Uuid,
    limit: i64,
) -> Result<Vec<AlertView>, sqlx::Error> {
    list(pool, Some(model_id), limit).await
}

async fn list(
    pool: &PgPool,
    model_id: Option<Uuid>,
    limit: i64,
) -> Result<Vec<AlertView>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select a.alert_id, a.kind as "kind: AlertKind", a.message, a.created_at,
                  a.acknowledged_at, a.acknowledged_by_label
             from alert a
             left join budget b using (budget_id)
             left join deployment d using (deployment_id)
             left join model_version v on v.model_version_id = d.model_version_id
            where $1::uuid is null or b.model_id = $1 or v.model_id = $1
            order by (a.acknowledged_at is null) desc, a.created_at desc
            limit $2"#,
        model_id,
        limit
    )
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.alert_id).collect();
    let mut deliveries: HashMap<Uuid, Vec<Delivery>> = HashMap::new();
    for row in sqlx::query!(
        r#"select d.alert_id, w.name, d.delivered_at is not null as "delivered!",
                  d.gave_up_at is not null as "gave_up!", d.attempts,
                  (select coalesce(t.error, 'HTTP ' || t.status_code) from alert_delivery_attempt t
                    where t.alert_id = d.alert_id and t.webhook_id = d.webhook_id and not t.delivered
                    order by t.attempt desc limit 1) as last_error
             from alert_delivery d join webhook w using (webhook_id)
            where d.alert_id = any($1)
            order by w.name"#,
        &ids
    )
    .fetch_all(pool)
    .await?
    {
        deliveries.entry(row.alert_id).or_default().push(Delivery {
            webhook: row.name,
            delivered: row.delivered,
            gave_up: row.gave_up,
            attempts: row.attempts,
            last_error: row.last_error,
        });
    }
    Ok(rows
        .into_iter()
        .map(|row| AlertView {
            deliveries: deliveries.remove(&row.alert_id).unwrap_or_default(),
            alert_id: row.alert_id,
            kind: row.kind,
            message: row.message,
            created_at: row.created_at,
            acknowledged: row.acknowledged_by_label.zip(row.acknowledged_at),
        })
        .collect())
}

pub async fn open_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from alert where acknowledged_at is null"#)
        .fetch_one(pool)
        .await
}

pub async fn acknowledge(pool: &PgPool, actor: &Actor, alert_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::Alert(alert_id)).await?;
    let message = sqlx::query_scalar!(
        "update alert set acknowledged_at = now(), acknowledged_by_label = $2
          where alert_id = $1 and acknowledged_at is null returning message",
        alert_id,
        actor.label()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("This alert is already acknowledged, or gone.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "alert.acknowledge",
            entity_type: "alert",
            entity_id: alert_id.to_string(),
            summary: format!("acknowledged: {message}"),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn webhooks(pool: &PgPool) -> Result<Vec<WebhookView>, sqlx::Error> {
    Ok(
        sqlx::query!("select webhook_id, name, url, created_at from webhook order by name")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| WebhookView {
                webhook_id: row.webhook_id,
                name: row.name,
                shown_url: shown_url(&row.url),
                created_at: row.created_at,
            })
            .collect(),
    )
}

pub async fn create_webhook(
    pool: &PgPool,
    actor: &Actor,
    name: &str,
    url: &str,
) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "insert into webhook (name, url, created_by) values ($1, $2, $3) returning webhook_id",
        name,
        url,
        actor.user_id()
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "webhook.create",
            entity_type: "webhook",
            entity_id: id.to_string(),
            summary: format!("added webhook {name} ({})", shown_url(url)),
            detail: json!({ "name": name, "url": shown_url(url) }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_webhook(
    pool: &PgPool,
    actor: &Actor,
    webhook_id: Uuid,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "delete from webhook where webhook_id = $1 returning name",
        webhook_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No webhook has this id.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "webhook.delete",
            entity_type: "webhook",
            entity_id: webhook_id.to_string(),
            summary: format!("deleted webhook {name}"),
            detail: json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Teams and models, for the budget form.
pub async fn targets(
    pool: &PgPool,
) -> Result<(Vec<(Uuid, String)>, Vec<(Uuid, String)>), sqlx::Error> {
    let teams = sqlx::query!("select team_id, name from team order by lower(name)")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.team_id, r.name))
        .collect();
    let models = sqlx::query!("select model_id, name from model order by lower(name)")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.model_id, r.name))
        .collect();
    Ok((teams, models))
}
