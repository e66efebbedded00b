//! Numbers as people read them: grouped thousands, cents, and no more decimals than carry meaning.

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Percent-encodes a query-string value.
/// A deployment's page: every feature names a deployment in an address by its key.
pub fn deployment_href(key: &str) -> String {
    format!("/deployments/{}", url_encode(key))
}

/// A deployment's drift page.
pub fn drift_href(key: &str) -> String {
    format!("/drift/{}", url_encode(key))
}

pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A count with thousands separators: 1,234,567.
pub fn format_count(value: i64) -> String {
    let grouped = group_thousands(&value.unsigned_abs().to_string());
    if value < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

fn group_thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// An amount with its currency: cents for everyday amounts, more places for fractions of a cent,
/// thousands grouped: `9,870.00 USD`, `0.0035 USD`.
pub fn format_money(amount: Decimal, currency: &str) -> String {
    let places = if amount.is_zero() || amount.abs() >= Decimal::new(1, 2) {
        2
    } else {
        4
    };
    let mut rounded = amount.round_dp(places);
    rounded.rescale(places);
    let text = rounded.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{}.{fraction} {currency}", group_thousands(whole))
}

/// A unit price as it was set, every decimal kept, cents at least: `2.50 USD`, `0.075 USD`,
/// `0.000495 USD`. For price lists, where rounding to cents would change the price.
pub fn format_unit_price(amount: Decimal, currency: &str) -> String {
    format!("{} {currency}", format_unit_amount(amount))
}

/// `format_unit_price` without the currency, for a table that names it once per row.
pub fn format_unit_amount(amount: Decimal) -> String {
    let mut exact = amount.normalize();
    if exact.scale() < 2 {
        exact.rescale(2);
    }
    let text = exact.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if exact.is_sign_negative() { "-" } else { "" };
    format!("{sign}{}.{fraction}", group_thousands(whole))
}

/// When a price is in force, by UTC day: `2026-01-01 → 2026-07-01`, or `since 2026-01-01`.
pub fn format_effective(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> String {
    let day = |time: DateTime<Utc>| time.format("%Y-%m-%d").to_string();
    match to {
        Some(to) => format!("{} → {}", day(from), day(to)),
        None => format!("since {}", day(from)),
    }
}

/// When a price is in force, in a sentence: `from 2026-01-01 to 2026-07-01`, `from 2026-01-01
/// with no end`.
pub fn describe_range(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> String {
    let day = |time: DateTime<Utc>| time.format("%Y-%m-%d").to_string();
    match to {
        Some(to) => format!("from {} to {}", day(from), day(to)),
        None => format!("from {} with no end", day(from)),
    }
}

/// An amount that may not be known: `—` when it is not.
pub fn format_money_or_dash(amount: Option<Decimal>, currency: &str) -> String {
    amount.map_or_else(|| "—".to_owned(), |amount| format_money(amount, currency))
}

/// A latency in whole milliseconds, `—` when not measured: `42 ms`, `2,426 ms`.
pub fn format_latency(ms: Option<f64>) -> String {
    ms.map_or_else(
        || "—".to_owned(),
        |ms| format!("{} ms", format_number(ms.round())),
    )
}

/// A measured number with at most four decimals and no trailing zeros: 0.9, 12.25, 1,250.
pub fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    let text = format!("{:.4}", value.abs());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let sign = if value < 0.0 && text != "0" { "-" } else { "" };
    let grouped = group_thousands(whole);
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

/// A name as a spreadsheet cell that stays text: a cell that starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return is run as a formula by Excel and LibreOffice (`=HYPERLINK(...)`), so it
/// gets a leading apostrophe, which they show as nothing. For text cells only, never amounts.
pub fn spreadsheet_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// `part` as a percentage of `whole`: exact where Decimal holds it, through f64 past that (a huge
/// spend against a tiny budget is a huge percentage, not an overflow).
pub fn percent_of(part: Decimal, whole: Decimal) -> Option<f64> {
    if whole.is_zero() {
        return None;
    }
    part.checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|p| p.checked_div(whole))
        .and_then(|p| p.to_f64())
        .or_else(|| Some(part.to_f64()? * 100.0 / whole.to_f64()?))
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn unit_prices_keep_every_decimal() {
        assert_eq!(format_unit_price(Decimal::new(25, 1), "USD"), "2.50 USD");
        assert_eq!(format_unit_price(Decimal::new(75, 3), "USD"), "0.075 USD");
        assert_eq!(
            format_unit_price(Decimal::new(4950, 7), "EUR"),
            "0.000495 EUR"
        );
        assert_eq!(
            format_unit_price(Decimal::new(1_250_000, 2), "USD"),
            "12,500.00 USD"
        );
    }

    #[test]
    fn names_that_a_spreadsheet_would_run_stay_text() {
        for formula in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(spreadsheet_text(formula), format!("'{formula}"));
        }
        assert_eq!(spreadsheet_text("fraud-lgbm"), "fraud-lgbm");
        assert_eq!(spreadsheet_text("Search & Ranking"), "Search & Ranking");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1_000), "1,000");
        assert_eq!(format_count(-1_234_567), "-1,234,567");
    }

    #[test]
    fn money_shows_cents_or_fractions_of_a_cent() {
        assert_eq!(format_money(Decimal::new(4, 0), "USD"), "4.00 USD");
        assert_eq!(format_money(Decimal::new(27_456, 4), "EUR"), "2.75 EUR");
        assert_eq!(format_money(Decimal::new(35, 4), "USD"), "0.0035 USD");
        assert_eq!(format_money(Decimal::ZERO, "USD"), "0.00 USD");
        assert_eq!(
            format_money(Decimal::new(987_000, 2), "USD"),
            "9,870.00 USD"
        );
        assert_eq!(
            format_money(Decimal::new(-1_234_567, 0), "USD"),
            "-1,234,567.00 USD"
        );
    }

    #[test]
    fn numbers_keep_what_carries_meaning() {
        assert_eq!(format_number(0.9), "0.9");
        assert_eq!(format_number(0.91234), "0.9123");
        assert_eq!(format_number(1250.0), "1,250");
        assert_eq!(format_number(-0.05), "-0.05");
        assert_eq!(format_number(f64::NAN), "—");
    }
}

/// A size in bytes as people read it: 912 B, 4.2 MB, 1.07 GB (decimal units, as browsers show files).
pub fn format_bytes(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    scaled(bytes as f64, &[" kB", " MB", " GB", " TB"])
}

/// A large count as people read it: 912, 4.56k, 38.1M, 1.07B (tokens, mostly).
pub fn format_short_count(count: i64) -> String {
    if count.unsigned_abs() < 1000 {
        return count.to_string();
    }
    let sign = if count < 0 { "-" } else { "" };
    format!(
        "{sign}{}",
        scaled(count.unsigned_abs() as f64, &["k", "M", "B", "T", "P", "E"])
    )
}

/// `value` (at least 1,000) in the largest of `units` (thousands, millions, ...) that keeps it at
/// or above 1, with three significant digits.
fn scaled(value: f64, units: &[&str]) -> String {
    let mut value = value / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    let places = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    format!("{value:.places$}{}", units[unit])
}

#[cfg(test)]
mod byte_tests {
    use super::{format_bytes, format_short_count};

    #[test]
    fn large_counts_are_shortened() {
        assert_eq!(format_short_count(912), "912");
        assert_eq!(format_short_count(4_560), "4.56k");
        assert_eq!(format_short_count(38_120_000), "38.1M");
        assert_eq!(format_short_count(1_070_000_000), "1.07B");
        assert_eq!(format_short_count(-2_500), "-2.50k");
        assert_eq!(format_short_count(i64::MIN), "-9.22E");
    }

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(format_bytes(912), "912 B");
        assert_eq!(format_bytes(4_200_000), "4.20 MB");
        assert_eq!(format_bytes(1_073_741_824), "1.07 GB");
        assert_eq!(format_bytes(56_700), "56.7 kB");
    }
}
