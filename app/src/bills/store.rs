//! Bill imports in Postgres: the history, and one import by id or by content.

use chrono::Datelike;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CurrencyTotal, ImportRecord, ImportScope};

/// The newest imports first, with their totals and what superseded them.
pub async fn list(conn: &mut PgConnection, limit: i64) -> Result<Vec<ImportRecord>, sqlx::Error> {
    let ids = sqlx::query_scalar!(
        "select bill_import_id from bill_import order by imported_at desc, file_name limit $1",
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    records(conn, &ids).await
}

pub async fn import_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ImportRecord>, sqlx::Error> {
    Ok(records(conn, &[id]).await?.pop())
}

pub async fn import_by_hash(
    conn: &mut PgConnection,
    digest: &[u8],
) -> Result<Option<ImportRecord>, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "select bill_import_id from bill_import where content_hash = $1",
        digest
    )
    .fetch_optional(&mut *conn)
    .await?;
    match id {
        Some(id) => import_by_id(conn, id).await,
        None => Ok(None),
    }
}

/// The imports with these ids, in the order given.
async fn records(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<ImportRecord>, sqlx::Error> {
    let imports = sqlx::query!(
        "select bill_import_id, file_name, format, row_count, byte_count, imported_by, imported_at
           from bill_import where bill_import_id = any($1)",
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let totals = sqlx::query!(
        "select bill_import_id, currency, billed_cost, effective_cost, row_count
           from bill_import_total where bill_import_id = any($1) order by currency",
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let scopes = sqlx::query!(
        "select bill_import_id, billing_account_id, billing_period_start, row_count, superseded_by
           from bill_scope where bill_import_id = any($1)
          order by billing_period_start, billing_account_id",
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut records: Vec<ImportRecord> = imports
        .into_iter()
        .map(|row| ImportRecord {
            bill_import_id: row.bill_import_id,
            file_name: row.file_name,
            format: row.format,
            rows: row.row_count,
            bytes: row.byte_count,
            imported_by: row.imported_by,
            imported_at: row.imported_at,
            totals: totals
                .iter()
                .filter(|t| t.bill_import_id == row.bill_import_id)
                .map(|t| CurrencyTotal {
                    currency: t.currency.clone(),
                    billed_cost: t.billed_cost,
                    effective_cost: t.effective_cost,
                    rows: t.row_count,
                })
                .collect(),
            scopes: scopes
                .iter()
                .filter(|s| s.bill_import_id == row.bill_import_id)
                .map(|s| ImportScope {
                    billing_account_id: s.billing_account_id.clone(),
                    billing_period_start: s.billing_period_start,
                    rows: s.row_count,
                    superseded_by: s.superseded_by,
                })
                .collect(),
        })
        .collect();
    records.sort_by_key(|r| ids.iter().position(|id| *id == r.bill_import_id));
    Ok(records)
}

/// The explorer's figures for `query`; an empty range means the last three months with bills.
pub async fn explore(
    pool: &sqlx::PgPool,
    query: super::explore::ExploreQuery,
) -> Result<super::explore::Explorer, sqlx::Error> {
    use super::explore::{assemble, months_between, Cell, Explorer};
    use chrono::{NaiveDate, TimeZone, Utc};

    let available = sqlx::query_scalar!(
        r#"select distinct to_char(billing_period_start at time zone 'UTC', 'YYYY-MM') as "month!"
             from bill_scope where superseded_by is null order by 1"#
    )
    .fetch_all(pool)
    .await?;
    let mut query = query;
    let last = available.last().cloned().unwrap_or_default();
    let first = available
        .iter()
        .rev()
        .nth(2)
        .or(available.first())
        .cloned()
        .unwrap_or_default();
    if months_between(&query.from, &query.to).is_empty() {
        query.from = first;
        query.to = last;
    }
    let months = months_between(&query.from, &query.to);
    let start = |month: &str| {
        NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .ok()
            .map(|d| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)))
    };
    let from = months.first().and_then(|m| start(m));
    let to = months
        .last()
        .and_then(|m| start(m))
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)));
    let cells = match (from, to) {
        (Some(from), Some(to)) => sqlx::query!(
            r#"select to_char(l.charge_period_start at time zone 'UTC', 'YYYY-MM') as "month!",
                      case $1
                        when 'month' then 'All charges'
                        when 'service' then l.service_name
                        when 'model' then coalesce(m.name, 'No model')
                        when 'deployment' then coalesce(d.key, 'No deployment')
                        when 'provider' then l.provider
                        when 'account' then l.billing_account_id
                        when 'tag' then coalesce(nullif(l.tags ->> $2, ''), 'Untagged')
                        else coalesce(tm.name, case when a.allocation_rule_id is null
                                                    then 'Unallocated' else 'No team' end)
                      end as "label!",
                      l.currency as "currency!",
                      sum(l.billed_cost * coalesce(a.share, 1)) as "amount!"
                 from current_bill_line l
                 left join bill_allocation a on a.bill_import_id = l.bill_import_id and a.line_number = l.line_number
                 left join team tm on tm.team_id = a.team_id
                 left join model m on m.model_id = a.model_id
                 left join deployment d on d.deployment_id = a.deployment_id
                where l.charge_period_start >= $3 and l.charge_period_start < $4
                  and ($5 = '' or coalesce(tm.name, 'Unallocated') = $5)
                  and ($6 = '' or l.service_name = $6)
                  and ($7 = '' or l.provider = $7)
                group by 1, 2, 3"#,
            query.grouping(),
            query.tag,
            from,
            to,
            query.team,
            query.service,
            query.provider
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| Cell {
            month: r.month,
            label: r.label,
            currency: r.currency,
            amount: r.amount,
        })
        .collect(),
        _ => Vec::new(),
    };
    let teams = sqlx::query_scalar!("select name from team order by name")
        .fetch_all(pool)
        .await?;
    let services = sqlx::query_scalar!(
        r#"select distinct service_name as "service!" from current_bill_line order by 1"#
    )
    .fetch_all(pool)
    .await?;
    let providers = sqlx::query_scalar!(
        r#"select distinct provider as "provider!" from current_bill_line order by 1"#
    )
    .fetch_all(pool)
    .await?;
    let tag_keys = sqlx::query_scalar!(
        r#"select distinct jsonb_object_keys(tags) as "key!"
             from (select tags from current_bill_line where tags <> '{}'::jsonb limit 10000) t order by 1"#
    )
    .fetch_all(pool)
    .await?;
    Ok(Explorer {
        blocks: assemble(&months, &cells),
        months,
        query,
        available_months: available,
        teams,
        services,
        providers,
        tag_keys,
    })
}

/// Billed against estimated, per deployment and month, over the last `months` months; the biggest
/// gaps first.
pub async fn reconcile(
    pool: &sqlx::PgPool,
    months: u32,
) -> Result<Vec<super::reconcile::Reconciled>, sqlx::Error> {
    use super::reconcile::{order, Reconciled};
    use crate::telemetry::cost;
    use std::collections::BTreeMap;

    let since = crate::clock::now()
        .date_naive()
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(months.saturating_sub(1))))
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .unwrap_or_else(chrono::Utc::now);
    #[derive(Default)]
    struct Figures {
        billed: Option<Decimal>,
        billed_covered: Option<Decimal>,
        estimated: Option<Decimal>,
        days: i64,
    }
    // (deployment, month, currency)
    type Key = (uuid::Uuid, String, String);
    let mut figures: BTreeMap<Key, Figures> = BTreeMap::new();
    let billed = sqlx::query!(
        r#"with telemetry_days as (
               select distinct deployment_id, date_trunc('day', hour at time zone 'UTC') as day
                 from telemetry_hourly where hour >= $1
           )
           select a.deployment_id as "deployment_id!",
                  to_char(l.charge_period_start at time zone 'UTC', 'YYYY-MM') as "month!",
                  l.currency as "currency!", sum(l.billed_cost * a.share) as "billed!",
                  sum(case when t.day is null then 0 else l.billed_cost * a.share end) as "covered!"
             from bill_allocation a
             join current_bill_line l on l.bill_import_id = a.bill_import_id and l.line_number = a.line_number
             left join telemetry_days t
               on t.deployment_id = a.deployment_id
              and t.day = date_trunc('day', l.charge_period_start at time zone 'UTC')
            where a.deployment_id is not null and l.charge_period_start >= $1
            group by 1, 2, 3"#,
        since
    )
    .fetch_all(pool)
    .await?;
    for row in billed {
        let entry = figures
            .entry((row.deployment_id, row.month, row.currency))
            .or_default();
        entry.billed = Some(row.billed);
        entry.billed_covered = Some(row.covered);
    }
    let usage = sqlx::query!(
        r#"select deployment_id as "deployment_id!", to_char(hour at time zone 'UTC', 'YYYY-MM') as "month!",
                  currency as "currency!", sum(reserved_cost) as reserved,
                  count(distinct date_trunc('day', hour at time zone 'UTC')) as "days!"
             from priced_hourly
            where hour >= $1 and currency is not null
            group by 1, 2, 3"#,
        since
    )
    .fetch_all(pool)
    .await?;
    for row in usage {
        let entry = figures
            .entry((row.deployment_id, row.month, row.currency))
            .or_default();
        entry.estimated = Some(cost::shown(row.reserved));
        entry.days = row.days;
    }
    let names = sqlx::query!(
        r#"select d.deployment_id, d.key, m.name as "model?", t.name as "team?"
             from deployment d
             left join model_version v using (model_version_id)
             left join model m using (model_id)
             left join team t on t.team_id = m.owner_team_id"#
    )
    .fetch_all(pool)
    .await?;
    let mut rows: Vec<Reconciled> = figures
        .into_iter()
        .filter_map(|((deployment_id, month, currency), f)| {
            let name = names.iter().find(|n| n.deployment_id == deployment_id)?;
            Some(Reconciled {
                deployment: name.key.clone(),
                model: name.model.clone(),
                team: name.team.clone(),
                month,
                currency,
                billed: f.billed.map(|b| b.round_dp(2)),
                billed_covered: f
                    .billed_covered
                    .filter(|_| f.days > 0)
                    .map(|b| b.round_dp(2)),
                estimated: f.estimated.map(|e| e.round_dp(2)),
                telemetry_days: f.days,
            })
        })
        .collect();
    order(&mut rows);
    Ok(rows)
}

/// The current ledger, allocated, for the FOCUS export: a row split across targets comes once per
/// target, its amounts multiplied by the target's share; in charge order. Streamed.
pub fn allocated_ledger(
    pool: &sqlx::PgPool,
) -> futures_util::stream::BoxStream<'_, Result<(bills::LedgerRow, bills::Allocation), sqlx::Error>>
{
    use futures_util::{StreamExt, TryStreamExt};
    sqlx::query!(
        r#"select l.billing_account_id as "billing_account_id!", l.sub_account_id,
                  l.billing_period_start as "billing_period_start!", l.billing_period_end as "billing_period_end!",
                  l.charge_period_start as "charge_period_start!", l.charge_period_end as "charge_period_end!",
                  l.charge_category as "charge_category!", l.provider as "provider!", l.service_name as "service_name!",
                  l.service_category, l.resource_id, l.resource_name, l.region, l.sku_id, l.consumed_quantity,
                  l.consumed_unit,
                  round(l.billed_cost * coalesce(a.share, 1), 10) as "billed_cost!",
                  round(l.effective_cost * coalesce(a.share, 1), 10) as "effective_cost!",
                  round(l.list_cost * coalesce(a.share, 1), 10) as list_cost,
                  l.currency as "currency!", l.tags as "tags!",
                  tm.name as "team?", m.name as "model?", d.key as "deployment?"
             from current_bill_line l
             left join bill_allocation a on a.bill_import_id = l.bill_import_id and a.line_number = l.line_number
             left join team tm on tm.team_id = a.team_id
             left join model m on m.model_id = a.model_id
             left join deployment d on d.deployment_id = a.deployment_id
            order by l.charge_period_start, l.bill_import_id, l.line_number"#
    )
    .fetch(pool)
    .and_then(|row| async move {
        let charge_category = row
            .charge_category
            .parse()
            .map_err(|e: String| sqlx::Error::Decode(e.into()))?;
        let ledger = bills::LedgerRow {
            billing_account_id: row.billing_account_id,
            sub_account_id: row.sub_account_id,
            billing_period_start: row.billing_period_start,
            billing_period_end: row.billing_period_end,
            charge_period_start: row.charge_period_start,
            charge_period_end: row.charge_period_end,
            charge_category,
            provider: row.provider,
            service_name: row.service_name,
            service_category: row.service_category,
            resource_id: row.resource_id,
            resource_name: row.resource_name,
            region: row.region,
            sku_id: row.sku_id,
            consumed_quantity: row.consumed_quantity,
            consumed_unit: row.consumed_unit,
            billed_cost: row.billed_cost.normalize(),
            effective_cost: row.effective_cost.normalize(),
            list_cost: row.list_cost.map(|v| v.normalize()),
            currency: row.currency,
            tags: serde_json::from_value(row.tags).unwrap_or_default(),
        };
        let allocation = bills::Allocation {
            team: row.team,
            model: row.model,
            deployment: row.deployment,
        };
        Ok((ledger, allocation))
    })
    .boxed()
}
