//! The price table of hosted language models: what a provider charges per million input, output,
//! cache-read and cache-write tokens, a higher price for requests past a context length, the
//! batch interface's discount, effective-dated like the GPU catalog; and the discount an
//! organization negotiated per provider, applied on top. Experiment runs priced per token can
//! name a model from this table instead of typing its prices.
//!
//! Rows are typed on the page, or imported from a CSV or from the JSON table LiteLLM maintains
//! (`model_prices_and_context_window.json`, prices per token), uploaded by an admin: Pareto never
//! downloads it.

mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::ApiPricesPage;
pub use server_fns::*;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;
use uuid::Uuid;

use crate::error::{AppError, FieldError};
use crate::prices::{parse_amount, parse_currency};

/// A longer request's prices: past `tokens` input tokens, every token of the request pays these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AboveContext {
    pub tokens: i32,
    pub input_per_million: Decimal,
    pub output_per_million: Decimal,
}

/// One model's prices, as a form, a CSV line or a LiteLLM entry gives them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceRow {
    pub provider: String,
    pub model: String,
    pub input_per_million: Decimal,
    pub output_per_million: Decimal,
    pub cached_read_per_million: Option<Decimal>,
    pub cache_write_per_million: Option<Decimal>,
    pub above: Option<AboveContext>,
    /// Percent off for the provider's batch interface.
    pub batch_discount_percent: Option<Decimal>,
    pub currency: String,
    pub note: String,
}

impl PriceRow {
    /// Whether another row asks the same prices (the note aside).
    pub fn same_prices(&self, other: &PriceRow) -> bool {
        self.input_per_million == other.input_per_million
            && self.output_per_million == other.output_per_million
            && self.cached_read_per_million == other.cached_read_per_million
            && self.cache_write_per_million == other.cache_write_per_million
            && self.above == other.above
            && self.batch_discount_percent == other.batch_discount_percent
            && self.currency == other.currency
    }

    /// What one request's tokens cost, as effective prices per 1,000 input and output tokens:
    /// - a request whose input is longer than the long-context threshold pays the higher prices
    ///   for all its tokens (cache reads keep their one price);
    /// - input read from the provider's prompt cache pays the cache-read price (the input price
    ///   where the table has none), so the input figure is the blend of both;
    /// - the batch interface's discount, then the provider's negotiated discount, come off both;
    /// - cache writes are not counted: a run says what it reads from the cache, not what it writes
    ///   (the table keeps their price for reading).
    pub fn per_thousand_tokens(
        &self,
        tokens: RequestTokens,
        batch: bool,
        negotiated_percent: Decimal,
    ) -> PerThousandTokens {
        let (input, output) = match &self.above {
            Some(above) if tokens.input > f64::from(above.tokens) => {
                (above.input_per_million, above.output_per_million)
            }
            _ => (self.input_per_million, self.output_per_million),
        };
        let cached_price = self.cached_read_per_million.unwrap_or(input);
        let total = Decimal::from_f64(tokens.input).unwrap_or_default();
        let cached =
            Decimal::from_f64(tokens.cached_input.min(tokens.input).max(0.0)).unwrap_or_default();
        let input_blend = if total > Decimal::ZERO {
            ((total - cached) * input + cached * cached_price) / total
        } else {
            input
        };
        let hundred = Decimal::ONE_HUNDRED;
        let batch_factor = match (batch, self.batch_discount_percent) {
            (true, Some(percent)) => (hundred - percent) / hundred,
            _ => Decimal::ONE,
        };
        let factor = batch_factor * (hundred - negotiated_percent) / hundred;
        let per_thousand = |per_million: Decimal| {
            (per_million * factor / Decimal::ONE_THOUSAND)
                .round_dp(9)
                .normalize()
        };
        PerThousandTokens {
            input: per_thousand(input_blend),
            output: per_thousand(output),
        }
    }
}

/// One request's average tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RequestTokens {
    pub input: f64,
    pub output: f64,
    /// Of the input, the part read from the provider's prompt cache.
    pub cached_input: f64,
}

/// Effective prices per 1,000 tokens, after every discount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerThousandTokens {
    pub input: Decimal,
    pub output: Decimal,
}

/// A stored row of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiPrice {
    pub api_price_id: Uuid,
    pub row: PriceRow,
    pub effective_from: DateTime<Utc>,
    pub effective_to: Option<DateTime<Utc>>,
    pub is_example: bool,
    /// typed, litellm or csv
    pub source: String,
}

/// A negotiated discount off every list price of one provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderDiscount {
    pub provider: String,
    pub discount_percent: Decimal,
    pub note: String,
}

/// What the page shows: the rows of one provider (or the first rows of all), the providers with
/// their row counts, and the discounts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiPriceTable {
    pub prices: Vec<ApiPrice>,
    pub providers: Vec<(String, i64)>,
    pub discounts: Vec<ProviderDiscount>,
    /// More rows match than are shown.
    pub truncated: bool,
}

/// How many rows the page shows at once.
pub const ROWS_SHOWN: i64 = 300;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub added: usize,
    /// Models whose price changed: the old row now ends where the new one starts.
    pub changed: usize,
    pub unchanged: usize,
    /// Entries of the file that are not priced per token (images, audio seconds) or belong to
    /// providers not asked for.
    pub skipped: usize,
}

/// The file formats an import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportFormat {
    LiteLlm,
    Csv,
}

impl FromStr for ImportFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim() {
            "litellm" => Ok(ImportFormat::LiteLlm),
            "csv" => Ok(ImportFormat::Csv),
            other => Err(format!("unknown format `{other}`: expected litellm or csv")),
        }
    }
}

impl ImportFormat {
    pub fn source(self) -> &'static str {
        match self {
            ImportFormat::LiteLlm => "litellm",
            ImportFormat::Csv => "csv",
        }
    }
}

/// The columns of a price CSV, which are also the form's fields. Prices are per million tokens.
pub const CSV_COLUMNS: [&str; 12] = [
    "provider",
    "model",
    "input_per_1m",
    "output_per_1m",
    "cached_read_per_1m",
    "cache_write_per_1m",
    "above_context_tokens",
    "input_above_per_1m",
    "output_above_per_1m",
    "batch_discount_percent",
    "currency",
    "note",
];

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// The highest price per million tokens the table takes: far past any real one, and inside what
/// its columns hold.
pub fn max_per_million() -> Decimal {
    Decimal::from(1_000_000)
}

/// A percentage from 0 to 100 with at most 2 decimal places.
pub fn parse_percent(text: &str) -> Result<Decimal, &'static str> {
    let text = text.trim().trim_end_matches('%').trim();
    match Decimal::from_str(text) {
        Ok(value) if value.is_sign_negative() || value > Decimal::ONE_HUNDRED => {
            Err("Give a percentage from 0 to 100.")
        }
        Ok(value) if value.scale() > 2 => Err("Use at most 2 decimal places."),
        Ok(value) => Ok(value),
        Err(_) => Err("Give a percentage such as 12.5."),
    }
}

/// Checks one row's fields by name (`CSV_COLUMNS`); missing names read as empty. Every problem
/// names its field.
pub fn parse_price_row(fields: &BTreeMap<String, String>) -> Result<PriceRow, Vec<FieldError>> {
    let get = |name: &str| fields.get(name).map_or("", |v| v.trim());
    let mut problems = Vec::new();
    let mut text = |name: &str, max: usize, what: &str| {
        let value = get(name);
        if value.is_empty() {
            problems.push(problem(name, format!("Enter the {what}.")));
        } else if value.chars().count() > max {
            problems.push(problem(name, format!("At most {max} characters.")));
        }
        value.to_owned()
    };
    // Providers are names like openai: one spelling, in lower case.
    let provider = text("provider", 100, "provider, e.g. openai").to_lowercase();
    let model = text("model", 200, "model as the provider names it, e.g. gpt-4o");
    let mut amount = |name: &str, required: bool| match get(name) {
        "" if required => {
            problems.push(problem(name, "Enter a price per million tokens."));
            None
        }
        "" => None,
        value => match parse_amount(value) {
            Ok(amount) if amount > max_per_million() => {
                problems.push(problem(name, "At most 1,000,000 per million tokens."));
                None
            }
            Ok(amount) => Some(amount),
            Err(message) => {
                problems.push(problem(name, message));
                None
            }
        },
    };
    let input = amount("input_per_1m", true);
    let output = amount("output_per_1m", true);
    let cached_read = amount("cached_read_per_1m", false);
    let cache_write = amount("cache_write_per_1m", false);
    let input_above = amount("input_above_per_1m", false);
    let output_above = amount("output_above_per_1m", false);
    let above_tokens = match get("above_context_tokens").replace([',', '_'], "").as_str() {
        "" => None,
        value => match value.parse::<i32>() {
            Ok(tokens) if tokens > 0 => Some(tokens),
            _ => {
                problems.push(problem(
                    "above_context_tokens",
                    "Give a number of input tokens such as 200000.",
                ));
                None
            }
        },
    };
    let above = match (above_tokens, input_above, output_above) {
        (None, None, None) => None,
        (Some(tokens), Some(input), Some(output)) => Some(AboveContext {
            tokens,
            input_per_million: input,
            output_per_million: output,
        }),
        _ => {
            if !problems
                .iter()
                .any(|p| p.field.contains("above") || p.field == "above_context_tokens")
            {
                problems.push(problem(
                    "above_context_tokens",
                    "A long-context price needs the context length and both its input and output prices.",
                ));
            }
            None
        }
    };
    let batch = match get("batch_discount_percent") {
        "" => None,
        value => match parse_percent(value) {
            Ok(percent) => Some(percent),
            Err(message) => {
                problems.push(problem("batch_discount_percent", message));
                None
            }
        },
    };
    let currency = parse_currency(get("currency")).unwrap_or_else(|message| {
        problems.push(problem("currency", message));
        String::new()
    });
    let note = get("note");
    if note.chars().count() > 200 {
        problems.push(problem("note", "A note has at most 200 characters."));
    }
    match (input, output) {
        (Some(input_per_million), Some(output_per_million)) if problems.is_empty() => {
            Ok(PriceRow {
                provider,
                model,
                input_per_million,
                output_per_million,
                cached_read_per_million: cached_read,
                cache_write_per_million: cache_write,
                above,
                batch_discount_percent: batch,
                currency,
                note: note.to_owned(),
            })
        }
        _ => Err(problems),
    }
}

/// A row typed in the form: its prices and the dates it is in force.
#[derive(Clone, Debug, PartialEq)]
pub struct NewApiPrice {
    pub row: PriceRow,
    pub effective_from: DateTime<Utc>,
    pub effective_to: Option<DateTime<Utc>>,
}

/// A new row from the form: its prices and the dates it is in force.
pub fn parse_new_api_price(
    fields: &BTreeMap<String, String>,
    effective_from: &str,
    effective_to: &str,
) -> Result<NewApiPrice, AppError> {
    let row = parse_price_row(fields);
    let mut problems = row.as_ref().err().cloned().unwrap_or_default();
    let range = crate::prices::parse_range(effective_from, effective_to).map_err(|found| {
        for (field, message) in found {
            problems.push(problem(field, message));
        }
    });
    match (row, range) {
        (Ok(row), Ok((effective_from, effective_to))) if problems.is_empty() => Ok(NewApiPrice {
            row,
            effective_from,
            effective_to,
        }),
        _ => Err(AppError::Validation(problems)),
    }
}

/// Reads a price CSV (`CSV_COLUMNS`, in any order; prices per million tokens). Nothing is
/// returned unless every line reads; each problem says its line and column.
#[cfg(feature = "ssr")]
pub fn rows_from_csv(text: &str) -> Result<Vec<PriceRow>, Vec<FieldError>> {
    use crate::upload::LineError;
    let line_error = |column: &str, message: String| LineError {
        line: 1,
        column: column.to_owned(),
        message,
    };
    let check_header = |headers: &[String]| {
        let mut errors: Vec<LineError> = headers
            .iter()
            .filter(|h| !CSV_COLUMNS.contains(&h.as_str()))
            .map(|h| {
                line_error(
                    h,
                    format!(
                        "Unknown column. The columns are {}.",
                        CSV_COLUMNS.join(", ")
                    ),
                )
            })
            .collect();
        for required in [
            "provider",
            "model",
            "input_per_1m",
            "output_per_1m",
            "currency",
        ] {
            if !headers.iter().any(|h| h == required) {
                errors.push(line_error(
                    required,
                    "The header must have this column.".into(),
                ));
            }
        }
        errors
    };
    let mut seen: BTreeMap<(String, String), u64> = BTreeMap::new();
    let parse = |line: u64, values: &BTreeMap<String, String>| {
        let row = parse_price_row(values)?;
        let key = (row.provider.to_lowercase(), row.model.to_lowercase());
        match seen.insert(key, line) {
            Some(first) => Err(vec![problem(
                "model",
                format!(
                    "{} {} is priced twice in this file (also on line {first}).",
                    row.provider, row.model
                ),
            )]),
            None => Ok(row),
        }
    };
    crate::upload::read_csv(text.as_bytes(), check_header, parse, "prices")
        .map(|rows| rows.into_iter().map(|(_, row)| row).collect())
        .map_err(|errors| {
            errors
                .into_iter()
                .map(LineError::into_field_error)
                .collect()
        })
}

/// Reads LiteLLM's `model_prices_and_context_window.json`: an object of entries named by model,
/// each with its `litellm_provider` and prices per token in US dollars. Entries priced per token
/// (`input_cost_per_token`) become rows, named by their key as LiteLLM writes it; the rest (images,
/// audio seconds, the `sample_spec` entry that documents the fields) are counted as skipped, as
/// are providers not in `providers` (empty: every provider). Read as well:
/// `output_cost_per_token` (absent for embeddings: 0), `cache_read_input_token_cost`,
/// `cache_creation_input_token_cost`, the lowest `input_cost_per_token_above_<N>k_tokens` with its
/// output price, and the batch discount from `input_cost_per_token_batches`.
pub fn rows_from_litellm(
    text: &str,
    providers: &[String],
) -> Result<(Vec<PriceRow>, usize), Vec<FieldError>> {
    let entries: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|error| {
            vec![problem(
                "file",
                format!("This is not LiteLLM's price table (a JSON object of models): {error}."),
            )]
        })?;
    let wanted = |provider: &str| {
        providers.is_empty() || providers.iter().any(|p| p.eq_ignore_ascii_case(provider))
    };
    let mut rows = Vec::new();
    let mut skipped = 0;
    let mut problems = Vec::new();
    for (key, entry) in &entries {
        if problems.len() >= crate::upload::MAX_LINE_ERRORS {
            break;
        }
        let Some(entry) = entry.as_object().filter(|_| key != "sample_spec") else {
            skipped += 1;
            continue;
        };
        let field = |name: &str| entry.get(name).filter(|v| !v.is_null());
        let provider = field("litellm_provider").and_then(|v| v.as_str());
        if field("input_cost_per_token").is_none() || !provider.is_some_and(wanted) {
            skipped += 1;
            continue;
        }
        let provider = provider.unwrap_or_default();
        let mut at = |name: &str, message: &str| {
            problems.push(problem(format!("{key}: {name}"), message));
        };
        let mut per_million = |name: &str| -> Option<Decimal> {
            let value = field(name)?;
            match value.as_f64().and_then(per_token_to_per_million) {
                Some(amount) => Some(amount),
                None => {
                    at(name, "Must be a price per token: a number from 0 up.");
                    None
                }
            }
        };
        let input = per_million("input_cost_per_token");
        let output = per_million("output_cost_per_token");
        let cached_read = per_million("cache_read_input_token_cost");
        let cache_write = per_million("cache_creation_input_token_cost");
        let input_batch = per_million("input_cost_per_token_batches");
        let threshold = entry
            .keys()
            .filter_map(|name| {
                name.strip_prefix("input_cost_per_token_above_")?
                    .strip_suffix("k_tokens")?
                    .parse::<i32>()
                    .ok()
                    .filter(|thousands| (1..=2_000_000).contains(thousands))
            })
            .min();
        let above = match threshold {
            Some(thousands) => {
                let input_above =
                    per_million(&format!("input_cost_per_token_above_{thousands}k_tokens"));
                let output_above =
                    per_million(&format!("output_cost_per_token_above_{thousands}k_tokens"));
                input_above.map(|input_above| AboveContext {
                    tokens: thousands.saturating_mul(1000),
                    input_per_million: input_above,
                    output_per_million: output_above.or(output).unwrap_or_default(),
                })
            }
            None => None,
        };
        let mut at = |name: &str, message: &str| {
            problems.push(problem(format!("{key}: {name}"), message));
        };
        if key.trim().is_empty() || key.chars().count() > 200 {
            at("name", "A model name has 1 to 200 characters.");
            continue;
        }
        if provider.is_empty() || provider.chars().count() > 100 {
            at(
                "litellm_provider",
                "Must name the provider in at most 100 characters.",
            );
            continue;
        }
        let Some(input) = input else { continue };
        let batch_discount_percent = input_batch.filter(|_| input > Decimal::ZERO).map(|batch| {
            ((Decimal::ONE - batch / input) * Decimal::ONE_HUNDRED)
                .round_dp(2)
                .clamp(Decimal::ZERO, Decimal::ONE_HUNDRED)
                .normalize()
        });
        let mode = field("mode").and_then(|v| v.as_str()).unwrap_or("chat");
        rows.push(PriceRow {
            provider: provider.to_lowercase(),
            model: key.clone(),
            input_per_million: input,
            output_per_million: output.unwrap_or_default(),
            cached_read_per_million: cached_read,
            cache_write_per_million: cache_write,
            above,
            batch_discount_percent,
            currency: "USD".into(),
            note: format!("LiteLLM, {mode}"),
        });
    }
    if problems.is_empty() {
        Ok((rows, skipped))
    } else {
        Err(problems)
    }
}

/// A price per token (as LiteLLM writes them: `2.5e-06`) as a price per million tokens, kept to
/// the table's 6 decimal places; `None` when negative or past any real price.
fn per_token_to_per_million(value: f64) -> Option<Decimal> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    // Through the shortest decimal text of the float ("0.0000025"), not its binary value.
    let per_token = Decimal::from_str(&value.to_string()).ok()?;
    let per_million = per_token
        .checked_mul(Decimal::from(1_000_000))?
        .round_dp(6)
        .normalize();
    (per_million <= max_per_million()).then_some(per_million)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).expect("decimal")
    }

    /// Written from LiteLLM's documented table: the `sample_spec` entry with strings for values,
    /// an image model priced per image, a provider-prefixed key, an embedding without an output
    /// price, nulls, per-token prices in exponent form, a long-context price above 200k tokens
    /// with the cache prices, and a batch price.
    const LITELLM: &str = r#"{
        "sample_spec": {
            "input_cost_per_token": 0.0,
            "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
            "max_input_tokens": "max input tokens, if the provider specifies it. if not default to max_tokens",
            "mode": "one of: chat, embedding, completion, image_generation, audio_transcription, audio_speech, image_generation, moderation, rerank, search",
            "output_cost_per_token": 0.0
        },
        "1024-x-1024/dall-e-2": {
            "input_cost_per_pixel": 1.9e-08,
            "litellm_provider": "openai",
            "mode": "image_generation",
            "output_cost_per_pixel": 0.0
        },
        "gpt-4o": {
            "cache_read_input_token_cost": 1.25e-06,
            "input_cost_per_token": 2.5e-06,
            "input_cost_per_token_batches": 1.25e-06,
            "litellm_provider": "openai",
            "max_input_tokens": 128000,
            "mode": "chat",
            "output_cost_per_token": 1e-05,
            "output_cost_per_token_batches": 5e-06
        },
        "text-embedding-3-small": {
            "input_cost_per_token": 2e-08,
            "litellm_provider": "openai",
            "mode": "embedding",
            "output_cost_per_token": null
        },
        "vertex_ai/gemini-3-pro-preview": {
            "cache_read_input_token_cost": 2e-07,
            "cache_read_input_token_cost_above_200k_tokens": 4e-07,
            "input_cost_per_token": 2e-06,
            "input_cost_per_token_above_200k_tokens": 4e-06,
            "input_cost_per_token_batches": 1e-06,
            "litellm_provider": "vertex_ai",
            "mode": "chat",
            "output_cost_per_token": 1.2e-05,
            "output_cost_per_token_above_200k_tokens": 1.8e-05,
            "output_cost_per_token_batches": 6e-06
        },
        "claude-sonnet-4-5": {
            "cache_creation_input_token_cost": 3.75e-06,
            "cache_read_input_token_cost": 3e-07,
            "input_cost_per_token": 3e-06,
            "input_cost_per_token_above_200k_tokens": 6e-06,
            "litellm_provider": "anthropic",
            "mode": "chat",
            "output_cost_per_token": 1.5e-05,
            "output_cost_per_token_above_200k_tokens": 2.25e-05
        }
    }"#;

    #[test]
    fn litellm_entries_priced_per_token_become_rows() {
        let (rows, skipped) = rows_from_litellm(LITELLM, &[]).expect("reads");
        assert_eq!(skipped, 2, "sample_spec and the image model");
        let by_model: BTreeMap<&str, &PriceRow> =
            rows.iter().map(|r| (r.model.as_str(), r)).collect();
        let gpt = by_model["gpt-4o"];
        assert_eq!(gpt.provider, "openai");
        assert_eq!(gpt.input_per_million, dec("2.5"));
        assert_eq!(gpt.output_per_million, dec("10"));
        assert_eq!(gpt.cached_read_per_million, Some(dec("1.25")));
        assert_eq!(gpt.batch_discount_percent, Some(dec("50")));
        assert_eq!(gpt.currency, "USD");
        let embedding = by_model["text-embedding-3-small"];
        assert_eq!(embedding.input_per_million, dec("0.02"));
        assert_eq!(embedding.output_per_million, Decimal::ZERO);
        let gemini = by_model["vertex_ai/gemini-3-pro-preview"];
        assert_eq!(gemini.provider, "vertex_ai");
        assert_eq!(
            gemini.above,
            Some(AboveContext {
                tokens: 200_000,
                input_per_million: dec("4"),
                output_per_million: dec("18"),
            })
        );
        let claude = by_model["claude-sonnet-4-5"];
        assert_eq!(claude.cache_write_per_million, Some(dec("3.75")));
        assert_eq!(claude.batch_discount_percent, None);
    }

    #[test]
    fn litellm_imports_only_the_providers_asked_for() {
        let (rows, skipped) = rows_from_litellm(LITELLM, &["Anthropic".to_owned()]).expect("reads");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].model, "claude-sonnet-4-5");
        assert_eq!(skipped, 5);
    }

    #[test]
    fn a_bad_litellm_entry_is_named_with_its_field() {
        let text = r#"{"gpt-x": {"litellm_provider": "openai", "input_cost_per_token": "cheap",
                       "output_cost_per_token": -1}}"#;
        let problems = rows_from_litellm(text, &[]).expect_err("bad");
        let found: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            found,
            [
                "gpt-x: input_cost_per_token",
                "gpt-x: output_cost_per_token"
            ]
        );
        let problems = rows_from_litellm("[1, 2]", &[]).expect_err("not an object");
        assert_eq!(problems[0].field, "file");
    }

    #[test]
    fn a_csv_reads_whole_or_names_each_bad_line_and_column() {
        let good = "provider,model,input_per_1m,output_per_1m,cached_read_per_1m,currency\n\
                    mistral,mistral-large,2,6,,EUR\n\
                    openai,gpt-4o-mini,0.15,0.60,0.075,usd\n";
        let rows = rows_from_csv(good).expect("valid");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].currency, "EUR");
        assert_eq!(rows[1].cached_read_per_million, Some(dec("0.075")));

        let bad = "provider,model,input_per_1m,output_per_1m,currency,above_context_tokens\n\
                   openai,gpt-4o,2.5,ten,USD,\n\
                   openai,gpt-4o-mini,0.15,0.6,USD,128000\n\
                   openai,gpt-4o,2.5,10,USD,\n";
        let problems = rows_from_csv(bad).expect_err("bad");
        let found: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            found,
            ["line 2, output_per_1m", "line 3, above_context_tokens",]
        );
        let unknown = "provider,model,input,output_per_1m,currency\n";
        let problems = rows_from_csv(unknown).expect_err("unknown column");
        assert_eq!(problems[0].field, "line 1, input");
    }

    #[test]
    fn the_form_reports_every_field_and_the_dates() {
        let error = parse_new_api_price(
            &fields(&[
                ("provider", ""),
                ("model", "gpt-4o"),
                ("input_per_1m", "-1"),
                ("output_per_1m", "10"),
                ("batch_discount_percent", "150"),
                ("currency", "dollars"),
            ]),
            "2026-02-01",
            "2026-01-01",
        )
        .expect_err("bad");
        for field in [
            "provider",
            "input_per_1m",
            "batch_discount_percent",
            "currency",
            "effective_to",
        ] {
            assert!(error.field_message(field).is_some(), "{field}: {error:?}");
        }
    }

    fn claude() -> PriceRow {
        parse_price_row(&fields(&[
            ("provider", "anthropic"),
            ("model", "claude-sonnet-4-5"),
            ("input_per_1m", "3"),
            ("output_per_1m", "15"),
            ("cached_read_per_1m", "0.30"),
            ("above_context_tokens", "200000"),
            ("input_above_per_1m", "6"),
            ("output_above_per_1m", "22.50"),
            ("batch_discount_percent", "50"),
            ("currency", "USD"),
        ]))
        .expect("valid")
    }

    #[test]
    fn cached_input_batch_and_negotiated_discounts_lower_the_effective_prices() {
        let row = claude();
        let plain = RequestTokens {
            input: 1000.0,
            output: 200.0,
            cached_input: 0.0,
        };
        assert_eq!(
            row.per_thousand_tokens(plain, false, Decimal::ZERO),
            PerThousandTokens {
                input: dec("0.003"),
                output: dec("0.015")
            }
        );
        // Half the input from the cache: (500 x 3 + 500 x 0.30) / 1000 = 1.65 per million.
        let cached = RequestTokens {
            cached_input: 500.0,
            ..plain
        };
        assert_eq!(
            row.per_thousand_tokens(cached, false, Decimal::ZERO).input,
            dec("0.00165")
        );
        // Batch (50%) and a negotiated 10%: 3 x 0.5 x 0.9 = 1.35 per million.
        let both = row.per_thousand_tokens(plain, true, Decimal::TEN);
        assert_eq!(both.input, dec("0.00135"));
        assert_eq!(both.output, dec("0.00675"));
    }

    #[test]
    fn a_request_past_the_context_threshold_pays_the_long_context_prices() {
        let long = RequestTokens {
            input: 250_000.0,
            output: 1000.0,
            cached_input: 0.0,
        };
        assert_eq!(
            claude().per_thousand_tokens(long, false, Decimal::ZERO),
            PerThousandTokens {
                input: dec("0.006"),
                output: dec("0.0225")
            }
        );
    }
}
