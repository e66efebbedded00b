// A form's fields are the server function's arguments, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use uuid::Uuid;

use super::{ApiPriceTable, ImportOutcome};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{
    parse_new_api_price, parse_percent, rows_from_csv, rows_from_litellm, store, ImportFormat,
    ProviderDiscount,
};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};
#[cfg(feature = "ssr")]
use crate::error::Validator;

#[server]
pub async fn list_api_prices(provider: String) -> Result<ApiPriceTable, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::table(&guard::state()?.pool, &provider).await?)
    })
    .await
}

#[server]
pub async fn create_api_price(
    provider: String,
    model: String,
    input_per_1m: String,
    output_per_1m: String,
    cached_read_per_1m: String,
    cache_write_per_1m: String,
    above_context_tokens: String,
    input_above_per_1m: String,
    output_above_per_1m: String,
    batch_discount_percent: String,
    currency: String,
    note: String,
    effective_from: String,
    effective_to: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let fields = [
            ("provider", provider),
            ("model", model),
            ("input_per_1m", input_per_1m),
            ("output_per_1m", output_per_1m),
            ("cached_read_per_1m", cached_read_per_1m),
            ("cache_write_per_1m", cache_write_per_1m),
            ("above_context_tokens", above_context_tokens),
            ("input_above_per_1m", input_above_per_1m),
            ("output_above_per_1m", output_above_per_1m),
            ("batch_discount_percent", batch_discount_percent),
            ("currency", currency),
            ("note", note),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let price = parse_new_api_price(&fields, &effective_from, &effective_to)?;
        store::create(&guard::state()?.pool, &Actor::User(admin), price).await
    })
    .await
}

#[server]
pub async fn delete_api_price(api_price_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::delete(&guard::state()?.pool, &Actor::User(admin), api_price_id).await
    })
    .await
}

/// Imports a file the admin chose: LiteLLM's JSON table (only the `providers` named, comma
/// separated, when any are) or a price CSV, in force from `effective_from`.
#[server]
pub async fn import_api_prices(
    format: String,
    effective_from: String,
    providers: String,
    content: String,
) -> Result<ImportOutcome, AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let mut check = Validator::new();
        let format = format.parse::<ImportFormat>();
        if let Err(message) = &format {
            check.check(false, "format", message.clone());
        }
        let from = crate::prices::parse_day(&effective_from);
        if let Err(message) = from {
            check.check(false, "effective_from", message);
        }
        check.check(
            !content.trim().is_empty(),
            "content",
            "Choose the file to import.",
        );
        check.finish()?;
        let (Ok(format), Ok(from)) = (format, from) else {
            return Err(AppError::Internal);
        };
        let providers: Vec<String> = providers
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let (rows, skipped) = match format {
            ImportFormat::LiteLlm => rows_from_litellm(&content, &providers),
            ImportFormat::Csv => rows_from_csv(&content).map(|rows| (rows, 0)),
        }
        .map_err(AppError::Validation)?;
        if rows.is_empty() {
            return Err(AppError::field(
                "providers",
                "No model of these providers is priced per token in this file.",
            ));
        }
        store::import(
            &guard::state()?.pool,
            &Actor::User(admin),
            format,
            rows,
            skipped,
            from,
        )
        .await
    })
    .await
}

#[server]
pub async fn set_provider_discount(
    provider: String,
    discount_percent: String,
    note: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        let mut check = Validator::new();
        let provider = provider.trim().to_lowercase();
        check.check(
            (1..=100).contains(&provider.chars().count()),
            "provider",
            "Enter the provider as the price table names it, e.g. openai.",
        );
        let percent = parse_percent(&discount_percent);
        if let Err(message) = percent {
            check.check(false, "discount_percent", message);
        }
        check.check(
            note.trim().chars().count() <= 200,
            "note",
            "A note has at most 200 characters.",
        );
        check.finish()?;
        let discount = ProviderDiscount {
            provider,
            discount_percent: percent.map_err(|_| AppError::Internal)?,
            note: note.trim().to_owned(),
        };
        store::set_discount(&guard::state()?.pool, &Actor::User(admin), discount).await
    })
    .await
}

#[server]
pub async fn delete_provider_discount(provider: String) -> Result<(), AppError> {
    guard::respond(async {
        let admin = guard::require(Role::Admin)?;
        store::delete_discount(&guard::state()?.pool, &Actor::User(admin), &provider).await
    })
    .await
}
