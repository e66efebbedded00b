// A form's fields are the server function's arguments, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use uuid::Uuid;

use super::GpuPrice;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{parse_new_price, store};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

#[server]
pub async fn list_gpu_prices() -> Result<Vec<GpuPrice>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::list(&guard::state()?.pool).await?)
    })
    .await
}

#[server]
pub async fn create_gpu_price(
    gpu_model: String,
    pricing_kind: String,
    hourly_price: String,
    energy_price_per_kwh: String,
    currency: String,
    effective_from: String,
    effective_to: String,
    note: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let price = parse_new_price(
            &gpu_model,
            &pricing_kind,
            &hourly_price,
            &energy_price_per_kwh,
            &currency,
            &effective_from,
            &effective_to,
            &note,
        )?;
        store::create(&guard::state()?.pool, &Actor::User(admin), price).await
    })
    .await
}

#[server]
pub async fn delete_gpu_price(gpu_price_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::delete(&guard::state()?.pool, &Actor::User(admin), gpu_price_id).await
    })
    .await
}
