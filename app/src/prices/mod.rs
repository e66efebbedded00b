//! The GPU price catalog: what one GPU-hour costs, per GPU model and pricing kind, over time.
//! Telemetry turns into money through it.

mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::PricesPage;
pub use server_fns::*;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

use crate::error::{AppError, Validator};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(
    feature = "ssr",
    sqlx(type_name = "pricing_kind", rename_all = "snake_case")
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum PricingKind {
    OnDemand,
    Spot,
    Reserved,
    OnPrem,
}

impl PricingKind {
    pub const ALL: [PricingKind; 4] = [
        PricingKind::OnDemand,
        PricingKind::Spot,
        PricingKind::Reserved,
        PricingKind::OnPrem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PricingKind::OnDemand => "on_demand",
            PricingKind::Spot => "spot",
            PricingKind::Reserved => "reserved",
            PricingKind::OnPrem => "on_prem",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PricingKind::OnDemand => "on-demand",
            PricingKind::Spot => "spot",
            PricingKind::Reserved => "reserved",
            PricingKind::OnPrem => "on-prem",
        }
    }
}

impl fmt::Display for PricingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for PricingKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "on_demand" => Ok(PricingKind::OnDemand),
            "spot" => Ok(PricingKind::Spot),
            "reserved" => Ok(PricingKind::Reserved),
            "on_prem" => Ok(PricingKind::OnPrem),
            other => Err(format!(
                "unknown pricing kind `{other}`: expected on_demand, spot, reserved or on_prem"
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct GpuPrice {
    pub gpu_price_id: Uuid,
    pub gpu_model: String,
    pub pricing_kind: PricingKind,
    pub hourly_price: Decimal,
    pub energy_price_per_kwh: Option<Decimal>,
    pub currency: String,
    pub effective_from: DateTime<Utc>,
    pub effective_to: Option<DateTime<Utc>>,
    pub is_example: bool,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewPrice {
    pub gpu_model: String,
    pub pricing_kind: PricingKind,
    pub hourly_price: Decimal,
    pub energy_price_per_kwh: Option<Decimal>,
    pub currency: String,
    pub effective_from: DateTime<Utc>,
    pub effective_to: Option<DateTime<Utc>>,
    pub note: String,
}

/// The largest amount Pareto takes anywhere (a price, a budget, a bill line, an hour count, an
/// engineering rate): a trillion in any currency, past any real figure, and small enough that the
/// products and sums of such amounts stay far inside what `Decimal` holds.
pub fn max_amount() -> Decimal {
    Decimal::from(1_000_000_000_000_i64)
}

/// Whether an amount is inside the bounds every stored figure keeps: 0 to `max_amount()`.
pub fn amount_in_bounds(amount: Decimal) -> bool {
    !amount.is_sign_negative() && amount <= max_amount()
}

/// An amount as people type it: "4", "4.00", "1,250.5"; never negative, at most `max_amount()`.
pub fn parse_amount(text: &str) -> Result<Decimal, &'static str> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    let cleaned = cleaned.trim_start_matches(['$', '€', '£']);
    if cleaned.is_empty() {
        return Err("Enter an amount.");
    }
    match Decimal::from_str(cleaned) {
        Ok(amount) if amount.is_sign_negative() => Err("An amount cannot be negative."),
        Ok(amount) if amount.scale() > 6 => Err("Use at most 6 decimal places."),
        Ok(amount) if amount > max_amount() => Err("At most 1,000,000,000,000."),
        Ok(amount) => Ok(amount),
        Err(_) => Err("Enter a number such as 2.75."),
    }
}

/// A currency as people type it ("usd"): a three-letter ISO 4217 code, in capitals.
pub fn parse_currency(text: &str) -> Result<String, &'static str> {
    let currency = text.trim().to_ascii_uppercase();
    if currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(currency)
    } else {
        Err("Use a three-letter ISO 4217 code such as USD or EUR.")
    }
}

/// A UTC day as YYYY-MM-DD, as an `<input type=date>` sends it, meaning midnight UTC.
pub fn parse_day(text: &str) -> Result<DateTime<Utc>, &'static str> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .ok_or("Enter a date as YYYY-MM-DD.")
}

/// When a price is in force: from a day, until a day or further notice.
pub type Range = (DateTime<Utc>, Option<DateTime<Utc>>);

/// The dates a price is in force, from a form's `effective_from` and `effective_to` (empty: until
/// further notice); each problem with its field.
pub fn parse_range(from: &str, to: &str) -> Result<Range, Vec<(&'static str, &'static str)>> {
    let from = parse_day(from).map_err(|message| ("effective_from", message));
    let to = match to.trim() {
        "" => Ok(None),
        text => parse_day(text)
            .map(Some)
            .map_err(|message| ("effective_to", message)),
    };
    match (from, to) {
        (Ok(from), Ok(Some(to))) if to <= from => {
            Err(vec![("effective_to", "The end must come after the start.")])
        }
        (Ok(from), Ok(to)) => Ok((from, to)),
        (from, to) => Err([from.err(), to.err()].into_iter().flatten().collect()),
    }
}

/// Checks a new price field by field.
#[allow(clippy::too_many_arguments)]
pub fn parse_new_price(
    gpu_model: &str,
    pricing_kind: &str,
    hourly_price: &str,
    energy_price_per_kwh: &str,
    currency: &str,
    effective_from: &str,
    effective_to: &str,
    note: &str,
) -> Result<NewPrice, AppError> {
    let mut check = Validator::new();
    let gpu_model = gpu_model.trim();
    check.check(
        !gpu_model.is_empty(),
        "gpu_model",
        "Enter the GPU model as the GPU reports it, e.g. NVIDIA H100 80GB HBM3.",
    );
    check.check(
        gpu_model.chars().count() <= 100,
        "gpu_model",
        "A GPU model has at most 100 characters.",
    );
    let kind = pricing_kind.parse::<PricingKind>();
    if let Err(message) = &kind {
        check.check(false, "pricing_kind", message.clone());
    }
    // The catalog's columns hold less than 10^8; a million per GPU-hour is past any real price.
    let within = |amount: Decimal| {
        if amount > Decimal::from(1_000_000) {
            Err("At most 1,000,000.")
        } else {
            Ok(amount)
        }
    };
    let hourly = parse_amount(hourly_price).and_then(within);
    if let Err(message) = hourly {
        check.check(false, "hourly_price", message);
    }
    let energy = match (kind.clone(), energy_price_per_kwh.trim()) {
        (Ok(PricingKind::OnPrem), "") => {
            check.check(
                false,
                "energy_price_per_kwh",
                "On-prem prices need the electricity price per kWh.",
            );
            None
        }
        (Ok(PricingKind::OnPrem), text) => match parse_amount(text).and_then(within) {
            Ok(amount) => Some(amount),
            Err(message) => {
                check.check(false, "energy_price_per_kwh", message);
                None
            }
        },
        (_, "") => None,
        (_, _) => {
            check.check(
                false,
                "energy_price_per_kwh",
                "Only on-prem prices have an energy price; leave it empty.",
            );
            None
        }
    };
    let currency = parse_currency(currency).unwrap_or_else(|message| {
        check.check(false, "currency", message);
        String::new()
    });
    let range = parse_range(effective_from, effective_to);
    if let Err(problems) = &range {
        for (field, message) in problems {
            check.check(false, field, *message);
        }
    }
    check.check(
        note.trim().chars().count() <= 200,
        "note",
        "A note has at most 200 characters.",
    );
    check.finish()?;
    match (kind, hourly, range) {
        (Ok(pricing_kind), Ok(hourly_price), Ok((effective_from, effective_to))) => Ok(NewPrice {
            gpu_model: gpu_model.to_owned(),
            pricing_kind,
            hourly_price,
            energy_price_per_kwh: energy,
            currency,
            effective_from,
            effective_to,
            note: note.trim().to_owned(),
        }),
        _ => Err(AppError::Internal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_accept_what_people_type() {
        assert_eq!(parse_amount("4"), Ok(Decimal::new(4, 0)));
        assert_eq!(parse_amount(" $1,250.50 "), Ok(Decimal::new(125050, 2)));
        assert!(parse_amount("-1").is_err());
        assert!(parse_amount("four").is_err());
        assert!(parse_amount("0.0000001").is_err());
        assert_eq!(parse_amount("1,000,000,000,000"), Ok(max_amount()));
        assert_eq!(
            parse_amount("100000000000000000000000000"),
            Err("At most 1,000,000,000,000.")
        );
    }

    #[test]
    fn a_good_price_parses() {
        let price = parse_new_price(
            "NVIDIA L4",
            "on_demand",
            "0.80",
            "",
            "usd",
            "2026-01-01",
            "",
            "",
        )
        .expect("valid");
        assert_eq!(price.pricing_kind, PricingKind::OnDemand);
        assert_eq!(price.currency, "USD");
        assert_eq!(
            price.effective_from.to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        assert_eq!(price.effective_to, None);
    }

    #[test]
    fn on_prem_needs_an_energy_price_and_others_must_not_have_one() {
        let error = parse_new_price("NVIDIA L4", "on_prem", "1", "", "USD", "2026-01-01", "", "")
            .expect_err("no energy");
        assert!(error.field_message("energy_price_per_kwh").is_some());
        let error = parse_new_price("NVIDIA L4", "spot", "1", "0.1", "USD", "2026-01-01", "", "")
            .expect_err("energy");
        assert!(error.field_message("energy_price_per_kwh").is_some());
        assert!(parse_new_price(
            "NVIDIA L4",
            "on_prem",
            "1",
            "0.12",
            "USD",
            "2026-01-01",
            "",
            ""
        )
        .is_ok());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let error = parse_new_price("", "cheap", "-2", "", "dollars", "soon", "2025-01-01", "")
            .expect_err("bad");
        for field in [
            "gpu_model",
            "pricing_kind",
            "hourly_price",
            "currency",
            "effective_from",
        ] {
            assert!(error.field_message(field).is_some(), "{field}: {error:?}");
        }
        let error = parse_new_price(
            "NVIDIA L4",
            "spot",
            "1",
            "",
            "USD",
            "2026-02-01",
            "2026-01-01",
            "",
        )
        .expect_err("order");
        assert_eq!(
            error.field_message("effective_to").as_deref(),
            Some("The end must come after the start.")
        );
    }
}
