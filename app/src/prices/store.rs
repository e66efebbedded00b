//! GPU prices in Postgres. Overlapping effective ranges for one GPU model and kind are refused by
//! an exclusion constraint, and reported here with the row they overlap.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{GpuPrice, NewPrice, PricingKind};
use crate::audit::{self, Actor, Change};
use crate::error::AppError;
use crate::format::describe_range;

pub async fn list(pool: &PgPool) -> Result<Vec<GpuPrice>, sqlx::Error> {
    sqlx::query_as!(
        GpuPrice,
        r#"select gpu_price_id, gpu_model, pricing_kind as "pricing_kind: PricingKind", hourly_price,
                  energy_price_per_kwh, currency, effective_from, effective_to, is_example, note
             from gpu_price
            order by gpu_model, pricing_kind, effective_from desc"#
    )
    .fetch_all(pool)
    .await
}

async fn overlapping(pool: &PgPool, price: &NewPrice) -> Result<Option<GpuPrice>, sqlx::Error> {
    sqlx::query_as!(
        GpuPrice,
        r#"select gpu_price_id, gpu_model, pricing_kind as "pricing_kind: PricingKind", hourly_price,
                  energy_price_per_kwh, currency, effective_from, effective_to, is_example, note
             from gpu_price
            where gpu_model = $1 and pricing_kind = $2
              and tstzrange(effective_from, effective_to) && tstzrange($3, $4)
            limit 1"#,
        price.gpu_model,
        price.pricing_kind as PricingKind,
        price.effective_from,
        price.effective_to,
    )
    .fetch_optional(pool)
    .await
}

pub async fn create(pool: &PgPool, actor: &Actor, price: NewPrice) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        "insert into gpu_price (gpu_model, pricing_kind, hourly_price, energy_price_per_kwh, currency,
                                effective_from, effective_to, note, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning gpu_price_id",
        price.gpu_model,
        price.pricing_kind as PricingKind,
        price.hourly_price,
        price.energy_price_per_kwh,
        price.currency,
        price.effective_from,
        price.effective_to,
        price.note,
        actor.user_id(),
    )
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23P01") => {
            drop(tx);
            let existing = overlapping(pool, &price).await?;
            let which = existing.map_or_else(String::new, |e| {
                format!(
                    " ({} {})",
                    e.hourly_price,
                    describe_range(e.effective_from, e.effective_to)
                )
            });
            return Err(AppError::field(
                "effective_from",
                format!(
                    "This overlaps the {} price for {}{which}. End that one first, or choose other dates.",
                    price.pricing_kind, price.gpu_model
                ),
            ));
        }
        Err(error) => return Err(error.into()),
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "gpu_price.create",
            entity_type: "gpu_price",
            entity_id: id.to_string(),
            summary: format!(
                "priced {} {} at {} {}/GPU-hour from {}",
                price.gpu_model,
                price.pricing_kind,
                price.hourly_price,
                price.currency,
                price.effective_from.format("%Y-%m-%d")
            ),
            detail: json!({
                "gpu_model": price.gpu_model, "pricing_kind": price.pricing_kind,
                "hourly_price": price.hourly_price, "energy_price_per_kwh": price.energy_price_per_kwh,
                "currency": price.currency, "effective_from": price.effective_from,
                "effective_to": price.effective_to,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete(pool: &PgPool, actor: &Actor, gpu_price_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"delete from gpu_price where gpu_price_id = $1
           returning gpu_model, pricing_kind as "pricing_kind: PricingKind", hourly_price, currency"#,
        gpu_price_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such price; it may already be deleted.".into()))?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "gpu_price.delete",
            entity_type: "gpu_price",
            entity_id: gpu_price_id.to_string(),
            summary: format!(
                "deleted the {} price of {} ({} {})",
                row.pricing_kind, row.gpu_model, row.hourly_price, row.currency
            ),
            detail: json!({ "gpu_model": row.gpu_model, "pricing_kind": row.pricing_kind }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
