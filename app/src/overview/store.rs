//! The overview's figures, each from the feature that owns it.

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::{Dashboard, IdleWaste, Saving};
use crate::drift::DriftState;
use crate::experiments::Direction;

/// Idle GPU time of each deployment over the last 30 days, priced, most expensive first.
async fn idle(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<IdleWaste>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select d.key, p.currency as "currency!", sum(p.idle_cost) as "cost!",
                  100 * sum(p.idle_gpu_seconds) / nullif(sum(p.gpu_seconds), 0) as "idle_pct"
             from priced_hourly p join deployment d using (deployment_id)
            where p.hour >= $1 and p.currency is not null
            group by 1, 2
           having sum(p.idle_cost) > 0
            order by 3 desc"#,
        now - TimeDelta::days(30)
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| IdleWaste {
            key: r.key,
            currency: r.currency,
            cost: r.cost,
            idle_pct: r.idle_pct.unwrap_or_default(),
        })
        .collect())
}

/// For each open experiment, the monthly gap between its most accurate candidate that meets the
/// SLA and the recommended (cheapest passing) one.
async fn savings(pool: &PgPool) -> Result<Vec<Saving>, sqlx::Error> {
    let open: Vec<_> = crate::experiments::store::list(pool)
        .await?
        .into_iter()
        .filter(|summary| summary.status == crate::experiments::Status::Open)
        .collect();
    // A few at a time, so that one overview does not take every connection from the agents.
    let ids: Vec<_> = open.iter().map(|summary| summary.experiment_id).collect();
    let views: Vec<_> = futures_util::stream::iter(ids)
        .map(|id| crate::experiments::store::view(pool, id, usize::MAX))
        .buffered(4)
        .try_collect()
        .await?;
    let mut savings = Vec::new();
    for (summary, view) in open.into_iter().zip(views) {
        let Some(view) = view else {
            continue;
        };
        let Some(recommended) = view.runs.iter().find(|r| r.recommended) else {
            continue;
        };
        let higher = view.experiment.direction == Direction::Higher;
        let best = view
            .runs
            .iter()
            .filter(|r| r.meets_all && r.quality.is_some() && r.monthly.is_some())
            .max_by(|a, b| {
                let (a, b) = (a.quality.unwrap_or_default(), b.quality.unwrap_or_default());
                if higher {
                    a.total_cmp(&b)
                } else {
                    b.total_cmp(&a)
                }
            });
        let (Some(best), Some(cost)) = (best, recommended.monthly) else {
            continue;
        };
        let gap = best.monthly.unwrap_or_default() - cost;
        if gap > Decimal::ZERO && best.name != recommended.name {
            savings.push(Saving {
                experiment_id: summary.experiment_id,
                experiment: summary.name,
                recommended: recommended.name.clone(),
                instead_of: best.name.clone(),
                currency: summary.currency,
                monthly: gap,
            });
        }
    }
    savings.sort_by_key(|s| std::cmp::Reverse(s.monthly));
    Ok(savings)
}

/// Every figure of the overview, each asked for at once on its own connection.
pub async fn dashboard(pool: &PgPool, now: DateTime<Utc>) -> Result<Dashboard, sqlx::Error> {
    let (budgets, rows, reviews, idle, savings, recent) = tokio::try_join!(
        crate::alerts::store::budgets(pool, now),
        // Two weeks, so that each deployment's change is this week against last.
        crate::drift::store::rows(pool, now - TimeDelta::days(14), now, None),
        crate::reviews::store::list(pool, None, None, 100),
        idle(pool, now),
        savings(pool),
        crate::audit::recent(pool, 10),
    )?;
    let mut movers: Vec<_> = rows
        .iter()
        .filter(|r| r.per_1k_change_pct.is_some())
        .cloned()
        .collect();
    movers.sort_by(|a, b| {
        let size = |r: &crate::drift::DriftRow| r.per_1k_change_pct.unwrap_or_default().abs();
        size(b).total_cmp(&size(a))
    });
    let mut drifting: Vec<_> = rows
        .into_iter()
        .filter(|r| matches!(r.state, DriftState::Drifting | DriftState::Warning))
        .collect();
    drifting.sort_by(|a, b| {
        b.state
            .cmp(&a.state)
            .then_with(|| b.monthly.cmp(&a.monthly))
    });
    let pending = reviews
        .into_iter()
        .filter(|r| r.state == crate::reviews::ReviewState::Pending)
        .collect();
    Ok(Dashboard {
        month: crate::alerts::month_bounds(now).0.format("%B").to_string(),
        budgets,
        movers,
        drifting,
        idle,
        pending,
        savings,
        recent,
    })
}
