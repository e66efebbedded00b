//! The API price table in Postgres. Overlapping effective ranges for one provider and model are
//! refused by an exclusion constraint; an import ends a model's row where its new price starts.
//! Every change is audited in its own transaction.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    AboveContext, ApiPrice, ApiPriceTable, ImportFormat, ImportOutcome, NewApiPrice, PriceRow,
    ProviderDiscount, ROWS_SHOWN,
};
use crate::audit::{self, Actor, Change};
use crate::error::{AppError, FieldError};
use crate::format::describe_range;
use crate::upload::MAX_LINE_ERRORS;

/// A row as stored, before its prices are grouped.
struct Record {
    api_price_id: Uuid,
    provider: String,
    model: String,
    input_per_million: Decimal,
    output_per_million: Decimal,
    cached_read_per_million: Option<Decimal>,
    cache_write_per_million: Option<Decimal>,
    above_context_tokens: Option<i32>,
    input_above_per_million: Option<Decimal>,
    output_above_per_million: Option<Decimal>,
    batch_discount_percent: Option<Decimal>,
    currency: String,
    effective_from: DateTime<Utc>,
    effective_to: Option<DateTime<Utc>>,
    is_example: bool,
    source: String,
    note: String,
}

impl From<Record> for ApiPrice {
    fn from(r: Record) -> Self {
        let above = match (
            r.above_context_tokens,
            r.input_above_per_million,
            r.output_above_per_million,
        ) {
            (Some(tokens), Some(input), Some(output)) => Some(AboveContext {
                tokens,
                input_per_million: input,
                output_per_million: output,
            }),
            _ => None,
        };
        ApiPrice {
            api_price_id: r.api_price_id,
            row: PriceRow {
                provider: r.provider,
                model: r.model,
                input_per_million: r.input_per_million,
                output_per_million: r.output_per_million,
                cached_read_per_million: r.cached_read_per_million,
                cache_write_per_million: r.cache_write_per_million,
                above,
                batch_discount_percent: r.batch_discount_percent,
                currency: r.currency,
                note: r.note,
            },
            effective_from: r.effective_from,
            effective_to: r.effective_to,
            is_example: r.is_example,
            source: r.source,
        }
    }
}

/// The rows of one provider (every provider when empty), newest first per model.
pub async fn table(pool: &PgPool, provider: &str) -> Result<ApiPriceTable, sqlx::Error> {
    let provider = provider.trim();
    let mut prices: Vec<ApiPrice> = sqlx::query_as!(
        Record,
        "select api_price_id, provider, model, input_per_million, output_per_million,
                cached_read_per_million, cache_write_per_million, above_context_tokens,
                input_above_per_million, output_above_per_million, batch_discount_percent,
                currency, effective_from, effective_to, is_example, source, note
           from api_price
          where $1 = '' or provider = lower($1)
          order by provider, lower(model), effective_from desc
          limit $2",
        provider,
        ROWS_SHOWN + 1,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(ApiPrice::from)
    .collect();
    let truncated = prices.len() as i64 > ROWS_SHOWN;
    prices.truncate(ROWS_SHOWN as usize);
    let providers = sqlx::query!(
        r#"select provider, count(*) as "rows!" from api_price group by provider order by provider"#
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.provider, r.rows))
    .collect();
    let discounts = discounts(pool).await?;
    Ok(ApiPriceTable {
        prices,
        providers,
        discounts,
        truncated,
    })
}

pub async fn discounts(pool: &PgPool) -> Result<Vec<ProviderDiscount>, sqlx::Error> {
    sqlx::query_as!(
        ProviderDiscount,
        "select provider, discount_percent, note from api_provider_discount order by provider"
    )
    .fetch_all(pool)
    .await
}

/// The row in force at `at` for a provider and model (any case), with the provider's negotiated
/// discount (0 without one).
pub async fn in_force(
    conn: &mut PgConnection,
    provider: &str,
    model: &str,
    at: DateTime<Utc>,
) -> Result<Option<(ApiPrice, Decimal)>, sqlx::Error> {
    let record = sqlx::query_as!(
        Record,
        "select api_price_id, provider, model, input_per_million, output_per_million,
                cached_read_per_million, cache_write_per_million, above_context_tokens,
                input_above_per_million, output_above_per_million, batch_discount_percent,
                currency, effective_from, effective_to, is_example, source, note
           from api_price
          where provider = lower($1) and lower(model) = lower($2)
            and effective_from <= $3 and (effective_to is null or effective_to > $3)",
        provider,
        model,
        at,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(record) = record else {
        return Ok(None);
    };
    let discount = sqlx::query_scalar!(
        "select discount_percent from api_provider_discount where provider = lower($1)",
        provider
    )
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or_default();
    Ok(Some((ApiPrice::from(record), discount)))
}

async fn insert(
    conn: &mut PgConnection,
    actor: &Actor,
    row: &PriceRow,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
    source: &str,
) -> Result<Uuid, sqlx::Error> {
    let above = row.above.as_ref();
    sqlx::query_scalar!(
        "insert into api_price (provider, model, input_per_million, output_per_million,
                                cached_read_per_million, cache_write_per_million, above_context_tokens,
                                input_above_per_million, output_above_per_million,
                                batch_discount_percent, currency, effective_from, effective_to, source,
                                note, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         returning api_price_id",
        row.provider,
        row.model,
        row.input_per_million,
        row.output_per_million,
        row.cached_read_per_million,
        row.cache_write_per_million,
        above.map(|a| a.tokens),
        above.map(|a| a.input_per_million),
        above.map(|a| a.output_per_million),
        row.batch_discount_percent,
        row.currency,
        from,
        to,
        source,
        row.note,
        actor.user_id(),
    )
    .fetch_one(&mut *conn)
    .await
}

/// The row of the same provider and model whose range meets `from`..`to`, if any.
async fn overlapping(
    conn: &mut PgConnection,
    row: &PriceRow,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> Result<Option<(DateTime<Utc>, Option<DateTime<Utc>>)>, sqlx::Error> {
    let found = sqlx::query!(
        "select effective_from, effective_to from api_price
          where provider = $1 and lower(model) = lower($2)
            and tstzrange(effective_from, effective_to) && tstzrange($3, $4)
          order by effective_from limit 1",
        row.provider,
        row.model,
        from,
        to,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.map(|f| (f.effective_from, f.effective_to)))
}

pub async fn create(pool: &PgPool, actor: &Actor, price: NewApiPrice) -> Result<Uuid, AppError> {
    let NewApiPrice {
        row,
        effective_from: from,
        effective_to: to,
    } = price;
    let mut tx = pool.begin().await?;
    let id = match insert(&mut tx, actor, &row, from, to, "typed").await {
        Ok(id) => id,
        // The exclusion constraint: say which row it meets.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23P01") => {
            drop(tx);
            let mut conn = pool.acquire().await?;
            let which = overlapping(&mut conn, &row, from, to)
                .await?
                .map_or_else(String::new, |(f, t)| {
                    format!(" in force {}", describe_range(f, t))
                });
            return Err(AppError::field(
                "effective_from",
                format!(
                    "This overlaps the price of {} {}{which}. End that one first, or choose other dates.",
                    row.provider, row.model
                ),
            ));
        }
        Err(error) => return Err(error.into()),
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "api_price.create",
            entity_type: "api_price",
            entity_id: id.to_string(),
            summary: format!(
                "priced {} {} at {} input / {} output {} per 1M tokens {}",
                row.provider,
                row.model,
                row.input_per_million,
                row.output_per_million,
                row.currency,
                describe_range(from, to)
            ),
            detail: json!({ "row": row, "effective_from": from, "effective_to": to }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete(pool: &PgPool, actor: &Actor, api_price_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "delete from api_price where api_price_id = $1 returning provider, model, effective_from",
        api_price_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such price; it may already be deleted.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "api_price.delete",
            entity_type: "api_price",
            entity_id: api_price_id.to_string(),
            summary: format!(
                "deleted the price of {} {} from {}",
                row.provider,
                row.model,
                row.effective_from.format("%Y-%m-%d")
            ),
            detail: json!({ "provider": row.provider, "model": row.model }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Writes an import's rows in one transaction, all from `from`: a model without a price then gets
/// one; a model whose price in force at `from` is the same is left as it is (so the same file
/// imported twice changes nothing); a model whose price differs has that row ended at `from` and
/// the new one added. A model priced otherwise from `from` or later refuses the import, naming
/// it: nothing is written unless every row can be.
pub async fn import(
    pool: &PgPool,
    actor: &Actor,
    format: ImportFormat,
    rows: Vec<PriceRow>,
    skipped: usize,
    from: DateTime<Utc>,
) -> Result<ImportOutcome, AppError> {
    let mut tx = pool.begin().await?;
    // One import at a time, so two cannot end the same row.
    sqlx::query!("lock table api_price in share row exclusive mode")
        .execute(&mut *tx)
        .await?;
    let mut outcome = ImportOutcome {
        skipped,
        ..ImportOutcome::default()
    };
    let mut problems = Vec::new();
    let mut changed_models = Vec::new();
    for row in &rows {
        if problems.len() >= MAX_LINE_ERRORS {
            break;
        }
        let current = sqlx::query_as!(
            Record,
            "select api_price_id, provider, model, input_per_million, output_per_million,
                    cached_read_per_million, cache_write_per_million, above_context_tokens,
                    input_above_per_million, output_above_per_million, batch_discount_percent,
                    currency, effective_from, effective_to, is_example, source, note
               from api_price
              where provider = $1 and lower(model) = lower($2)
                and effective_from <= $3 and (effective_to is null or effective_to > $3)",
            row.provider,
            row.model,
            from,
        )
        .fetch_optional(&mut *tx)
        .await?
        .map(ApiPrice::from);
        if current.as_ref().is_some_and(|c| c.row.same_prices(row)) {
            outcome.unchanged += 1;
            continue;
        }
        let later = sqlx::query_scalar!(
            "select effective_from from api_price
              where provider = $1 and lower(model) = lower($2) and effective_from >= $3
              order by effective_from limit 1",
            row.provider,
            row.model,
            from,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(later) = later {
            problems.push(FieldError {
                field: format!("{} {}", row.provider, row.model),
                message: format!(
                    "Priced otherwise from {}; import with a later date, or delete that row first.",
                    later.format("%Y-%m-%d")
                ),
            });
            continue;
        }
        match current {
            Some(current) => {
                sqlx::query!(
                    "update api_price set effective_to = $2 where api_price_id = $1",
                    current.api_price_id,
                    from
                )
                .execute(&mut *tx)
                .await?;
                insert(
                    &mut tx,
                    actor,
                    row,
                    from,
                    current.effective_to,
                    format.source(),
                )
                .await?;
                outcome.changed += 1;
                if changed_models.len() < 100 {
                    changed_models.push(format!("{} {}", row.provider, row.model));
                }
            }
            None => {
                insert(&mut tx, actor, row, from, None, format.source()).await?;
                outcome.added += 1;
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let what = match format {
        ImportFormat::LiteLlm => "LiteLLM's price table",
        ImportFormat::Csv => "a price CSV",
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "api_price.import",
            entity_type: "api_price",
            entity_id: String::new(),
            summary: format!(
                "imported {what} from {}: {} added, {} changed, {} unchanged",
                from.format("%Y-%m-%d"),
                outcome.added,
                outcome.changed,
                outcome.unchanged
            ),
            detail: json!({ "outcome": outcome, "changed": changed_models }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

pub async fn set_discount(
    pool: &PgPool,
    actor: &Actor,
    discount: ProviderDiscount,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into api_provider_discount (provider, discount_percent, note, updated_by)
         values ($1, $2, $3, $4)
         on conflict (provider) do update
            set discount_percent = excluded.discount_percent, note = excluded.note,
                updated_by = excluded.updated_by, updated_at = now()",
        discount.provider,
        discount.discount_percent,
        discount.note,
        actor.user_id(),
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "api_price.discount",
            entity_type: "api_provider_discount",
            entity_id: discount.provider.clone(),
            summary: format!(
                "set a negotiated discount of {}% on {}'s prices",
                discount.discount_percent, discount.provider
            ),
            detail: json!({ "discount": discount }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_discount(pool: &PgPool, actor: &Actor, provider: &str) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query!(
        "delete from api_provider_discount where provider = $1",
        provider
    )
    .execute(&mut *tx)
    .await?;
    if deleted.rows_affected() == 0 {
        return Err(AppError::NotFound(
            "No such discount; it may already be removed.".into(),
        ));
    }
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "api_price.discount_delete",
            entity_type: "api_provider_discount",
            entity_id: provider.to_owned(),
            summary: format!("removed the negotiated discount on {provider}'s prices"),
            detail: json!({ "provider": provider }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
