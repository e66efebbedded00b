//! Gathers a quarter's TCO parts from Postgres: experiment runs (training), priced telemetry
//! (estimated inference), allocated bill lines (billed inference, storage, other), and what leads
//! entered (engineering time, value delivered).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

use super::tco::{build, Engineering, Gathered, Parts, Tco, TEAM_WIDE};
use super::Quarter;
use crate::audit::{self, Actor, Change};
use crate::error::AppError;
use crate::teams::access::{self, Subject};

type TeamKey = (Option<Uuid>, String);

/// Amounts by currency, then by (team, model).
#[derive(Default)]
struct ByCurrency(BTreeMap<String, BTreeMap<(TeamKey, Option<Uuid>), Parts>>);

impl ByCurrency {
    fn entry(&mut self, currency: &str, team: TeamKey, model: Option<Uuid>) -> &mut Parts {
        self.0
            .entry(currency.to_owned())
            .or_default()
            .entry((team, model))
            .or_default()
    }

    fn totals(&self) -> BTreeMap<String, Decimal> {
        self.0
            .iter()
            .map(|(currency, parts)| {
                let total = parts
                    .values()
                    .map(|p| p.training + p.inference() + p.storage + p.other)
                    .sum();
                (currency.clone(), total)
            })
            .collect()
    }
}

const NO_TEAM: &str = "No team";

/// A quarter's parts in every currency, before one is chosen.
struct Raw {
    all: ByCurrency,
    names: HashMap<Uuid, String>,
    /// (team, team name, time, currency)
    engineering: Vec<(Uuid, String, Engineering, String)>,
    /// (model, value, currency)
    values: Vec<(Uuid, Decimal, String)>,
}

async fn gather(pool: &PgPool, quarter: Quarter) -> Result<Raw, sqlx::Error> {
    let (start, end): (DateTime<Utc>, DateTime<Utc>) = quarter.bounds();
    let models = sqlx::query!(
        r#"select m.model_id, m.name, t.team_id as "team_id?", t.name as "team?"
             from model m left join team t on t.team_id = m.owner_team_id"#
    )
    .fetch_all(pool)
    .await?;
    let names: HashMap<Uuid, String> = models
        .iter()
        .map(|m| (m.model_id, m.name.clone()))
        .collect();
    let team_of: HashMap<Uuid, TeamKey> = models
        .into_iter()
        .map(|m| {
            (
                m.model_id,
                (m.team_id, m.team.unwrap_or_else(|| NO_TEAM.into())),
            )
        })
        .collect();
    let teams: HashMap<Uuid, String> = sqlx::query!("select team_id, name from team")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|t| (t.team_id, t.name))
        .collect();
    let team_key = |team_id: Option<Uuid>| -> TeamKey {
        (
            team_id,
            team_id
                .and_then(|id| teams.get(&id).cloned())
                .unwrap_or_else(|| NO_TEAM.into()),
        )
    };
    let mut all = ByCurrency::default();

    // Training: runs recorded in the quarter; a run of no model is its experiment team's own.
    let runs = sqlx::query!(
        r#"select v.model_id as "model_id?", e.team_id, e.currency, r.spec::text as "spec!"
             from experiment_run r
             join experiment e using (experiment_id)
             left join model_version v using (model_version_id)
            where r.created_at >= $1 and r.created_at < $2"#,
        start,
        end
    )
    .fetch_all(pool)
    .await?;
    for run in runs {
        let Ok(spec) = serde_json::from_str::<crate::experiments::RunSpec>(&run.spec) else {
            continue;
        };
        let Some(cost) = crate::experiments::select::training_cost(&spec) else {
            continue;
        };
        let team = match run.model_id.and_then(|m| team_of.get(&m)) {
            Some(team) => team.clone(),
            None => team_key(Some(run.team_id)),
        };
        all.entry(&run.currency, team, run.model_id).training += cost;
    }

    // Estimated inference: the quarter's telemetry priced by the catalog.
    let measured = sqlx::query!(
        r#"select v.model_id, p.currency as "currency!", sum(p.reserved_cost) as "cost!"
             from priced_hourly p
             join model_version v using (model_version_id)
            where p.hour >= $1 and p.hour < $2 and p.currency is not null
            group by 1, 2"#,
        start,
        end
    )
    .fetch_all(pool)
    .await?;
    for row in measured {
        let team = team_of
            .get(&row.model_id)
            .cloned()
            .unwrap_or_else(|| team_key(None));
        all.entry(&row.currency, team, Some(row.model_id))
            .inference_estimated += row.cost;
    }

    // Billed: allocated current bill lines charged in the quarter, by service category.
    let billed = sqlx::query!(
        r#"select coalesce(a.model_id, dv.model_id) as model_id,
                  coalesce(a.team_id, m.owner_team_id) as team_id,
                  case when l.service_category = 'Storage' then 'storage'
                       when l.service_category in ('Compute', 'AI and Machine Learning') then 'compute'
                       else 'other' end as "category!",
                  l.currency as "currency!", sum(l.billed_cost * a.share) as "amount!"
             from current_bill_line l
             join bill_allocation a using (bill_import_id, line_number)
             left join deployment d on d.deployment_id = a.deployment_id
             left join model_version dv on dv.model_version_id = d.model_version_id
             left join model m on m.model_id = coalesce(a.model_id, dv.model_id)
            where l.charge_period_start >= $1 and l.charge_period_start < $2
            group by 1, 2, 3, 4"#,
        start,
        end
    )
    .fetch_all(pool)
    .await?;
    for row in billed {
        let team = match row.model_id.and_then(|m| team_of.get(&m)) {
            Some(team) => team.clone(),
            None => team_key(row.team_id),
        };
        let parts = all.entry(&row.currency, team, row.model_id);
        match row.category.as_str() {
            "storage" => parts.storage += row.amount,
            // Compute charged to a team but to no model is the team's own: other, not inference.
            "compute" if row.model_id.is_some() => parts.inference_billed += row.amount,
            _ => parts.other += row.amount,
        }
    }

    let engineering = sqlx::query!(
        r#"select e.team_id, t.name, e.hours, e.hourly_rate, e.currency, e.note
             from tco_engineering e join team t using (team_id) where e.quarter = $1"#,
        quarter.to_string()
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            r.team_id,
            r.name,
            Engineering {
                hours: r.hours,
                rate: r.hourly_rate,
                note: r.note,
            },
            r.currency,
        )
    })
    .collect();
    let values = sqlx::query!(
        "select model_id, amount, currency from tco_value where quarter = $1",
        quarter.to_string()
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.model_id, r.amount, r.currency))
    .collect();
    Ok(Raw {
        all,
        names,
        engineering,
        values,
    })
}

fn in_currency(raw: Raw, currency: &str) -> Gathered {
    let Raw {
        mut all,
        names,
        engineering,
        values,
    } = raw;
    let parts = all
        .0
        .remove(currency)
        .unwrap_or_default()
        .into_iter()
        .map(|((team, model), parts)| {
            let name = model
                .and_then(|m| names.get(&m).cloned())
                .unwrap_or_else(|| TEAM_WIDE.into());
            (team, model, name, parts)
        })
        .collect();
    Gathered {
        parts,
        engineering: engineering
            .into_iter()
            .filter(|(_, _, _, c)| c == currency)
            .map(|(id, name, e, _)| (id, name, e))
            .collect(),
        values: values
            .into_iter()
            .filter(|(_, _, c)| c == currency)
            .map(|(id, v, _)| (id, v))
            .collect(),
    }
}

/// The TCO report of a quarter, in the currency most of its money was in (another currency's
/// amounts are listed as left out).
pub async fn tco(pool: &PgPool, quarter: Quarter, now: DateTime<Utc>) -> Result<Tco, sqlx::Error> {
    let current = gather(pool, quarter).await?;
    let previous = gather(pool, quarter.previous()).await?;
    let mut totals = current.all.totals();
    for (currency, _) in previous.all.totals() {
        totals.entry(currency).or_default();
    }
    for (_, _, e, currency) in &current.engineering {
        *totals.entry(currency.clone()).or_default() += e.cost();
    }
    let currency = totals
        .iter()
        .max_by_key(|(_, total)| **total)
        .map_or_else(|| "USD".to_owned(), |(c, _)| c.clone());
    let left_out = totals
        .into_iter()
        .filter(|(c, total)| *c != currency && !total.is_zero())
        .map(|(c, total)| (c, total.round_dp(2)))
        .collect();
    let to_date = now < quarter.bounds().1;
    Ok(build(
        quarter,
        currency.clone(),
        to_date,
        in_currency(current, &currency),
        &in_currency(previous, &currency),
        left_out,
    ))
}

/// Sets a team's engineering time for a quarter.
pub async fn set_engineering(
    pool: &PgPool,
    actor: &Actor,
    team_id: Uuid,
    quarter: Quarter,
    entry: (Decimal, Decimal, String, String),
) -> Result<(), AppError> {
    let (hours, rate, currency, note) = entry;
    let mut tx = pool.begin().await?;
    let team =
        access::team_for_change(&mut tx, actor, team_id, "team_id", "Choose a team.").await?;
    sqlx::query!(
        "insert into tco_engineering (team_id, quarter, hours, hourly_rate, currency, note, set_by, set_by_label)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (team_id, quarter) do update
            set hours = excluded.hours, hourly_rate = excluded.hourly_rate, currency = excluded.currency,
                note = excluded.note, set_by = excluded.set_by, set_by_label = excluded.set_by_label,
                updated_at = now()",
        team_id,
        quarter.to_string(),
        hours,
        rate,
        currency,
        note,
        actor.user_id(),
        actor.label(),
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "tco.engineering.set",
            entity_type: "team",
            entity_id: team_id.to_string(),
            summary: format!("entered {hours} engineering hours at {rate} {currency} for {team} in {quarter}"),
            detail: json!({ "quarter": quarter.to_string(), "hours": hours, "hourly_rate": rate, "currency": currency }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the value a model delivered in a quarter.
pub async fn set_value(
    pool: &PgPool,
    actor: &Actor,
    model_id: Uuid,
    quarter: Quarter,
    entry: (Decimal, String, String),
) -> Result<(), AppError> {
    let (amount, currency, note) = entry;
    let mut tx = pool.begin().await?;
    let model = sqlx::query_scalar!("select name from model where model_id = $1", model_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::field("model_id", "Choose a model."))?;
    access::require(&mut tx, actor, Subject::Model(model_id)).await?;
    sqlx::query!(
        "insert into tco_value (model_id, quarter, amount, currency, note, set_by, set_by_label)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (model_id, quarter) do update
            set amount = excluded.amount, currency = excluded.currency, note = excluded.note,
                set_by = excluded.set_by, set_by_label = excluded.set_by_label, updated_at = now()",
        model_id,
        quarter.to_string(),
        amount,
        currency,
        note,
        actor.user_id(),
        actor.label(),
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "tco.value.set",
            entity_type: "model",
            entity_id: model_id.to_string(),
            summary: format!("estimated the value {model} delivered in {quarter} at {amount} {currency}"),
            detail: json!({ "quarter": quarter.to_string(), "amount": amount, "currency": currency }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Teams and models for the entry forms.
pub async fn choices(
    pool: &PgPool,
) -> Result<(Vec<(Uuid, String)>, Vec<(Uuid, String)>), sqlx::Error> {
    let teams = sqlx::query!("select team_id, name from team order by name")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|t| (t.team_id, t.name))
        .collect();
    let models = sqlx::query!("select model_id, name from model order by lower(name)")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|m| (m.model_id, m.name))
        .collect();
    Ok((teams, models))
}
