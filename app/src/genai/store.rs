//! The hourly table of hosted-model token usage, and what it cost.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use std::collections::BTreeMap;

use super::{hourly, increment, CumulativePoint, HostedSpendView, ModelSpend, Source, UsagePoint};
use crate::api_prices::RequestTokens;

/// What one export added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    /// Hourly rows written to.
    pub rows: usize,
    pub requests: i64,
    pub tokens: i64,
}

/// Adds the points (and the increments of cumulative series since their last export) to the
/// hourly table, in one transaction.
pub async fn ingest(
    pool: &PgPool,
    mut points: Vec<UsagePoint>,
    cumulative: Vec<CumulativePoint>,
) -> Result<Stored, sqlx::Error> {
    let mut tx = pool.begin().await?;
    for point in cumulative {
        let last = sqlx::query!(
            "select start_time, last_sum from genai_usage_series where series = $1 for update",
            point.series
        )
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| (row.start_time, row.last_sum));
        let added = increment(last, point.start, point.sum);
        sqlx::query!(
            "insert into genai_usage_series (series, start_time, last_sum) values ($1, $2, $3)
             on conflict (series) do update
                set start_time = excluded.start_time, last_sum = excluded.last_sum, updated_at = now()",
            point.series,
            point.start,
            point.sum
        )
        .execute(&mut *tx)
        .await?;
        let tokens = added.round() as i64;
        if tokens > 0 {
            let p = point.point;
            points.push(UsagePoint::tokens(
                p.at,
                &p.service,
                &p.provider,
                &p.model,
                point.kind,
                tokens,
            ));
        }
    }
    let rows = hourly(&points);
    let mut stored = Stored::default();
    for ((hour, service, provider, model, source), totals) in &rows {
        sqlx::query!(
            "insert into genai_usage (hour, service, provider, model, source, requests, input_tokens,
                                      output_tokens, cached_input_tokens)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             on conflict (hour, service, provider, model, source) do update
                set requests = genai_usage.requests + excluded.requests,
                    input_tokens = genai_usage.input_tokens + excluded.input_tokens,
                    output_tokens = genai_usage.output_tokens + excluded.output_tokens,
                    cached_input_tokens = genai_usage.cached_input_tokens + excluded.cached_input_tokens,
                    updated_at = now()",
            hour,
            service,
            provider,
            model,
            source.as_str(),
            totals.requests,
            totals.input_tokens,
            totals.output_tokens,
            totals.cached_input_tokens,
        )
        .execute(&mut *tx)
        .await?;
        stored.rows += 1;
        stored.requests += totals.requests;
        stored.tokens += totals.input_tokens + totals.output_tokens;
    }
    tx.commit().await?;
    Ok(stored)
}

/// Each service's use of each hosted model over the last `days`, priced at the API price
/// table's row in force at `now`.
pub async fn spend(
    pool: &PgPool,
    days: u32,
    now: DateTime<Utc>,
) -> Result<HostedSpendView, sqlx::Error> {
    let since = now - TimeDelta::days(i64::from(days));
    let found = sqlx::query!(
        r#"with totals as (
               select service, provider, model, source,
                      sum(requests)::bigint as requests, sum(input_tokens)::bigint as input,
                      sum(output_tokens)::bigint as output,
                      sum(cached_input_tokens)::bigint as cached
                 from genai_usage
                where hour >= date_trunc('hour', $1::timestamptz) and hour <= $2
                group by service, provider, model, source)
           select distinct on (service, provider, model)
                  service as "service!", provider as "provider!", model as "model!",
                  source as "source!", requests as "requests!", input as "input!",
                  output as "output!", cached as "cached!"
             from totals
            order by service, provider, model, (source = 'span') desc"#,
        since,
        now
    )
    .fetch_all(pool)
    .await?;
    let mut conn = pool.acquire().await?;
    let mut models = Vec::with_capacity(found.len());
    let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in found {
        let source = if row.source == "span" {
            Source::Span
        } else {
            Source::Metric
        };
        let price =
            crate::api_prices::store::in_force(&mut conn, &row.provider, &row.model, now).await?;
        let (cost, currency, basis) = match price {
            Some((price, discount)) => {
                // The effective prices at the calls' average size (long-context prices apply to
                // calls past the threshold), with the cached share of the input.
                let calls = row.requests.max(1) as f64;
                let per_thousand = price.row.per_thousand_tokens(
                    RequestTokens {
                        input: row.input as f64 / calls,
                        output: row.output as f64 / calls,
                        cached_input: row.cached as f64 / calls,
                    },
                    false,
                    discount,
                );
                let cost = (Decimal::from(row.input) * per_thousand.input
                    + Decimal::from(row.output) * per_thousand.output)
                    / Decimal::ONE_THOUSAND;
                let cost = cost.round_dp(6);
                *totals.entry(price.row.currency.clone()).or_default() += cost;
                let basis = format!(
                    "{} {} at {} in / {} out per 1M tokens{}{}",
                    price.row.provider,
                    price.row.model,
                    price.row.input_per_million.normalize(),
                    price.row.output_per_million.normalize(),
                    if discount > Decimal::ZERO {
                        format!(", less {}% negotiated", discount.normalize())
                    } else {
                        String::new()
                    },
                    if price.is_example {
                        " (example row)"
                    } else {
                        ""
                    }
                );
                (Some(cost), Some(price.row.currency.clone()), basis)
            }
            None => (
                None,
                None,
                format!(
                    "the API price table has no row for {} {}",
                    if row.provider.is_empty() {
                        "(no provider)"
                    } else {
                        row.provider.as_str()
                    },
                    row.model
                ),
            ),
        };
        models.push(ModelSpend {
            service: row.service,
            provider: row.provider,
            model: row.model,
            source,
            requests: row.requests,
            input_tokens: row.input,
            output_tokens: row.output,
            cached_input_tokens: row.cached,
            cost,
            currency,
            basis,
        });
    }
    models.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.service.cmp(&b.service)));
    Ok(HostedSpendView {
        days,
        models,
        totals: totals.into_iter().collect(),
    })
}
