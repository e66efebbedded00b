//! The demo's budgets: one per team, one for the support assistant and one for Tier 3, set by the
//! leads. Fraud Detection's and the assistant's are past 80% this month, so their alerts have
//! fired; the others have room. On a month's first day, before its first bill, each budget is
//! sized from last month's spend and nothing has fired yet.

use rust_decimal::Decimal;
use sqlx::PgPool;

use app::alerts::{store, NewBudget};
use app::audit::Actor;

/// (team, share of its budget spent so far this month, in percent)
const TEAM_BUDGETS: &[(&str, i64)] = &[
    ("Fraud Detection", 85),
    ("Search & Ranking", 45),
    ("Forecasting", 30),
    ("ML Platform", 60),
];

/// (model, share of its budget spent so far this month, in percent)
const MODEL_BUDGETS: &[(&str, i64)] = &[("llm-chat-70b", 92)];

/// Creates the budgets and evaluates them once; returns the alerts that fired.
pub async fn load(pool: &PgPool) -> anyhow::Result<usize> {
    let actor = Actor::CommandLine;
    let mut targets = Vec::new();
    for (team, share) in TEAM_BUDGETS {
        let team_id = app::teams::store::id_by_name(pool, team)
            .await
            .map_err(crate::commands::reason)?;
        targets.push(("team", team_id, *share));
    }
    for (model, share) in MODEL_BUDGETS {
        let model_id = sqlx::query_scalar!("select model_id from model where name = $1", model)
            .fetch_one(pool)
            .await?;
        targets.push(("model", model_id, *share));
    }
    let (start, end) = app::alerts::month_bounds(app::clock::now());
    let (last_start, _) = app::alerts::month_bounds(start - chrono::TimeDelta::days(1));
    for (scope, target_id, share) in targets {
        let spent = spend(pool, scope, target_id, start, end).await?;
        // A round amount that puts this month's spend at `share` percent of it; on a month's
        // first day, before its first bill, last month's whole spend (this month is then at 0%).
        let amount = if spent > Decimal::ZERO {
            (spent / Decimal::from(share)).round().max(Decimal::ONE) * Decimal::ONE_HUNDRED
        } else {
            let last = spend(pool, scope, target_id, last_start, start).await?;
            (last / Decimal::ONE_HUNDRED).ceil().max(Decimal::ONE) * Decimal::ONE_HUNDRED
        };
        let budget = NewBudget::parse(
            scope,
            &target_id.to_string(),
            &amount.to_string(),
            "USD",
            "",
        )
        .map_err(crate::commands::reason)?;
        store::create_budget(pool, &actor, budget)
            .await
            .map_err(crate::commands::reason)?;
    }
    let tier =
        NewBudget::parse("tier", "3", "60000", "USD", "").map_err(crate::commands::reason)?;
    store::create_budget(pool, &actor, tier)
        .await
        .map_err(crate::commands::reason)?;
    Ok(store::evaluate(pool, app::clock::now()).await?)
}

/// The billed USD spend on a team (`scope` "team") or a model with charges starting in
/// [start, end), as its budget counts it.
async fn spend(
    pool: &PgPool,
    scope: &str,
    target_id: uuid::Uuid,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> Result<Decimal, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select coalesce(sum(l.billed_cost * coalesce(a.share, 1)), 0) as "spent!"
             from current_bill_line l
             join bill_allocation a using (bill_import_id, line_number)
            where l.charge_period_start >= $1 and l.charge_period_start < $2
              and l.currency = 'USD'
              and case when $3 = 'team' then a.team_id = $4 else a.model_id = $4 end"#,
        start,
        end,
        scope,
        target_id,
    )
    .fetch_one(pool)
    .await
}
