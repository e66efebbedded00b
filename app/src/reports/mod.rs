//! Reports: quarterly total cost of ownership per model and team, on the page and as CSV, XLSX and
//! a print-ready HTML report.

mod page;
mod quarter;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod tco;

use rust_decimal::Decimal;

use crate::error::{AppError, Validator};
use crate::prices::parse_amount;
pub use page::ReportsPage;
pub use quarter::Quarter;
pub use server_fns::*;

/// The export formats, by the name the URL and the command line use.
pub const FORMATS: &[(&str, &str)] = &[
    ("csv", "CSV"),
    ("xlsx", "Excel (XLSX)"),
    ("html", "Print-ready report (HTML)"),
];

/// A quarter as typed, or the field error.
pub fn parse_quarter(text: &str) -> Result<Quarter, AppError> {
    text.parse::<Quarter>()
        .map_err(|message| AppError::field("quarter", message))
}

fn currency_ok(text: &str) -> bool {
    text.len() == 3 && text.chars().all(|c| c.is_ascii_uppercase())
}

/// A team's engineering time for a quarter, as a lead typed it: hours, rate per hour, currency.
pub fn parse_engineering(
    hours: &str,
    rate: &str,
    currency: &str,
    note: &str,
) -> Result<(Decimal, Decimal, String, String), AppError> {
    let hours_read = parse_amount(hours);
    let rate_read = parse_amount(rate);
    let currency = currency.trim().to_ascii_uppercase();
    let mut check = Validator::new();
    check
        .check(
            hours_read.is_ok(),
            "hours",
            hours_read.err().unwrap_or_default(),
        )
        .check(
            hours_read.is_err() || hours_read.is_ok_and(|h| h <= Decimal::from(100_000)),
            "hours",
            "At most 100,000 hours in a quarter.",
        )
        .check(
            rate_read.is_ok(),
            "hourly_rate",
            rate_read.err().unwrap_or_default(),
        )
        .check(
            currency_ok(&currency),
            "currency",
            "A three-letter code such as USD.",
        )
        .check(
            note.chars().count() <= 1000,
            "note",
            "At most 1,000 characters.",
        );
    check.finish()?;
    Ok((
        hours_read.unwrap_or_default().round_dp(2),
        rate_read.unwrap_or_default().round_dp(2),
        currency,
        note.trim().to_owned(),
    ))
}

/// The value a model delivered in a quarter, as a lead estimated it.
pub fn parse_value(
    amount: &str,
    currency: &str,
    note: &str,
) -> Result<(Decimal, String, String), AppError> {
    let amount_read = parse_amount(amount);
    let currency = currency.trim().to_ascii_uppercase();
    let mut check = Validator::new();
    check
        .check(
            amount_read.is_ok(),
            "amount",
            amount_read.err().unwrap_or_default(),
        )
        .check(
            currency_ok(&currency),
            "currency",
            "A three-letter code such as USD.",
        )
        .check(
            note.chars().count() <= 1000,
            "note",
            "At most 1,000 characters.",
        );
    check.finish()?;
    Ok((
        amount_read.unwrap_or_default().round_dp(2),
        currency,
        note.trim().to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_name_each_bad_field() {
        let error = parse_engineering("-3", "abc", "dollars", "").expect_err("invalid");
        assert!(error.field_message("hours").is_some());
        assert!(error.field_message("hourly_rate").is_some());
        assert_eq!(
            error.field_message("currency"),
            Some("A three-letter code such as USD.".into())
        );
        let ok = parse_engineering("1,200", "$95.5", "usd", " sprint work ").expect("valid");
        assert_eq!(ok.0, Decimal::from(1200));
        assert_eq!(ok.2, "USD");
        assert_eq!(ok.3, "sprint work");
        assert!(parse_value("", "USD", "").is_err());
        assert!(parse_quarter("2026-Q7").is_err());
    }
}
