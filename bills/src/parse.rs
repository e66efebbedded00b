//! Cell readers for what billing exports really contain: currency symbols, thousands separators,
//! accounting negatives, scientific notation, several timestamp styles, and tags as JSON objects,
//! key/value arrays or Azure's brace-less pairs.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

/// Currency symbols an export may put before or after an amount.
const SYMBOLS: [char; 8] = ['$', '€', '£', '¥', '₹', '₩', '₽', '₣'];

/// The largest amount (or quantity) one bill line may carry, either way: past any real charge, and
/// small enough that sums over millions of lines and month-end forecasts stay exact.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An exact amount: `1234.5`, `1,234.50`, `$1,234.50`, `USD 12.30`, `12.30 EUR`, `(12.30)`, `-$4`,
/// `1.2E-7`. A comma is read as a thousands separator only where it groups three digits.
pub fn parse_amount(raw: &str) -> Result<Decimal, String> {
    let mut text = raw.trim();
    let mut negative = false;
    if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        negative = true;
        text = inner.trim();
    }
    for _ in 0..2 {
        if let Some(rest) = text.strip_prefix('-') {
            negative = !negative;
            text = rest.trim_start();
        } else if let Some(rest) = text.strip_prefix('+') {
            text = rest.trim_start();
        }
        text = text
            .trim_start_matches(SYMBOLS)
            .trim_end_matches(SYMBOLS)
            .trim();
        text = strip_code(text);
    }
    if text.is_empty() {
        return Err("is not an amount".into());
    }
    let digits = ungroup(text).ok_or("has misplaced thousands separators")?;
    let value = if digits.contains(['e', 'E']) {
        Decimal::from_scientific(&digits)
    } else {
        Decimal::from_str(&digits)
    }
    .map_err(|_| "is not an amount".to_string())?;
    if value.abs() > Decimal::from(MAX_AMOUNT) {
        return Err("is past 1,000,000,000,000, more than any one bill line holds".into());
    }
    Ok(if negative { -value } else { value })
}

/// Strips a three-letter currency code written before or after the number (`USD 12`, `12 EUR`).
fn strip_code(text: &str) -> &str {
    let is_code = |s: &str| s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase());
    if let Some((code, rest)) = text.split_once(' ') {
        if is_code(code) {
            return rest.trim();
        }
    }
    if let Some((rest, code)) = text.rsplit_once(' ') {
        if is_code(code) {
            return rest.trim();
        }
    }
    text
}

/// Removes thousands separators (`,`, spaces, no-break spaces) from the integer part, where each
/// group after the first has three digits.
fn ungroup(text: &str) -> Option<Cow<'_, str>> {
    let is_separator = |c: char| matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}');
    if !text.contains(is_separator) {
        return Some(Cow::Borrowed(text));
    }
    let (integer, rest) = match text.find(['.', 'e', 'E']) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    if rest.contains(is_separator) {
        return None;
    }
    let groups: Vec<&str> = integer.split(is_separator).collect();
    let first_ok = !groups[0].is_empty() && groups[0].len() <= 3;
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    (first_ok && rest_ok).then(|| Cow::Owned(groups.concat() + rest))
}

/// A point in time: RFC 3339 (`2026-09-01T00:00:00Z`, with fractions or offsets), the same with a
/// space, with ` UTC` or without a zone (read as UTC), minutes only (`2026-09-01T00:00Z`), a date
/// (`2026-09-01`, `2026/09/01`) or a US date as Azure writes it (`09/01/2026`, optionally with a time).
pub fn parse_time(raw: &str) -> Result<DateTime<Utc>, String> {
    let text = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let bare = text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_suffix('Z'))
        .or_else(|| text.strip_suffix('z'))
        .unwrap_or(text)
        .trim_end();
    for pattern in [
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(at) = DateTime::parse_from_str(text, pattern) {
            return Ok(at.with_timezone(&Utc));
        }
    }
    for pattern in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(bare, pattern) {
            return Ok(Utc.from_utc_datetime(&at));
        }
    }
    for pattern in ["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%Y%m%d"] {
        if let Ok(day) = NaiveDate::parse_from_str(bare, pattern) {
            return Ok(Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN)));
        }
    }
    Err(
        "is not a date or time (use 2026-09-01T00:00:00Z, 2026-09-01 00:00:00 or 2026-09-01)"
            .into(),
    )
}

/// Tags as exports write them: a JSON object (`{"team": "search"}`), GCP's array of
/// `{"key": …, "value": …}`, or Azure's pairs without braces (`"team": "search","env": "prod"`).
/// Values that are numbers or booleans become their text; a null value becomes empty.
pub fn parse_tags(raw: &str) -> Result<BTreeMap<String, String>, String> {
    let text = raw.trim();
    let value: Value = if text.starts_with('{') || text.starts_with('[') {
        serde_json::from_str(text)
    } else {
        serde_json::from_str(&format!("{{{text}}}"))
    }
    .map_err(|_| "is not a JSON object of tags".to_string())?;
    let mut tags = BTreeMap::new();
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                tags.insert(key, scalar(value)?);
            }
        }
        Value::Array(items) => {
            for item in items {
                let Value::Object(mut pair) = item else {
                    return Err("is not a list of {\"key\", \"value\"} labels".into());
                };
                let Some(Value::String(key)) = pair.remove("key") else {
                    return Err("has a label without a key".into());
                };
                tags.insert(key, scalar(pair.remove("value").unwrap_or(Value::Null))?);
            }
        }
        _ => return Err("is not a JSON object of tags".into()),
    }
    Ok(tags)
}

fn scalar(value: Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text),
        Value::Null => Ok(String::new()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Array(_) | Value::Object(_) => Err("has a tag whose value is not text".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::prelude::FromPrimitive;

    fn amount(text: &str) -> Decimal {
        parse_amount(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn amounts_as_exports_write_them() {
        assert_eq!(amount("1234.5"), Decimal::new(12345, 1));
        assert_eq!(amount("1,234.50"), Decimal::new(123450, 2));
        assert_eq!(amount("$1,234.50"), Decimal::new(123450, 2));
        assert_eq!(amount(" USD 12.30 "), Decimal::new(1230, 2));
        assert_eq!(amount("12.30 EUR"), Decimal::new(1230, 2));
        assert_eq!(amount("€12"), Decimal::new(12, 0));
        assert_eq!(amount("(12.30)"), Decimal::new(-1230, 2));
        assert_eq!(amount("-$4.00"), Decimal::new(-400, 2));
        assert_eq!(amount("$-4.00"), Decimal::new(-400, 2));
        assert_eq!(amount("1 234 567.89"), Decimal::new(123456789, 2));
        assert_eq!(amount("1.2E-7"), Decimal::from_f64(1.2e-7).expect("finite"));
        assert_eq!(amount("3.5e2"), Decimal::new(350, 0));
        assert_eq!(amount("0.0000000123456789"), Decimal::new(123456789, 16));
        assert_eq!(amount("-1,000,000,000,000"), Decimal::from(-MAX_AMOUNT));
    }

    #[test]
    fn amounts_that_are_not_amounts_are_refused() {
        for text in [
            "",
            "abc",
            "12,34",
            "1,2345.0",
            "1.234,56",
            "$",
            "12.3.4",
            "1.5,000",
            "3e22",
            "-1000000000000.01",
        ] {
            assert!(parse_amount(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn timestamp_styles() {
        let at = Utc
            .with_ymd_and_hms(2026, 9, 1, 13, 0, 0)
            .single()
            .expect("valid");
        for text in [
            "2026-09-01T13:00:00Z",
            "2026-09-01T13:00:00.000Z",
            "2026-09-01T15:00:00+02:00",
            "2026-09-01 13:00:00",
            "2026-09-01 13:00:00 UTC",
            "2026-09-01 13:00:00.000",
            "2026-09-01T13:00Z",
            "2026-09-01 13:00:00 +0000",
            "09/01/2026 13:00:00",
            "2026/09/01 13:00:00",
        ] {
            assert_eq!(parse_time(text), Ok(at), "{text}");
        }
        let day = Utc
            .with_ymd_and_hms(2026, 9, 1, 0, 0, 0)
            .single()
            .expect("valid");
        for text in ["2026-09-01", "2026/09/01", "09/01/2026", "20260901"] {
            assert_eq!(parse_time(text), Ok(day), "{text}");
        }
        for text in [
            "",
            "yesterday",
            "2026-13-01",
            "31/12/2026",
            "2026-09-01T25:00:00Z",
        ] {
            assert!(parse_time(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn tag_styles() {
        let expected: BTreeMap<String, String> = [
            ("team".to_string(), "search".to_string()),
            ("env".into(), "prod".into()),
        ]
        .into();
        assert_eq!(
            parse_tags(r#"{"team": "search", "env": "prod"}"#),
            Ok(expected.clone())
        );
        assert_eq!(
            parse_tags(r#""team": "search","env": "prod""#),
            Ok(expected.clone())
        );
        assert_eq!(
            parse_tags(r#"[{"key":"team","value":"search"},{"key":"env","value":"prod"}]"#),
            Ok(expected)
        );
        let odd = parse_tags(r#"{"replicas": 3, "spot": true, "flag": null}"#).expect("reads");
        assert_eq!(odd["replicas"], "3");
        assert_eq!(odd["spot"], "true");
        assert_eq!(odd["flag"], "");
        assert!(parse_tags("team=search").is_err());
        assert!(parse_tags(r#"{"a": {"b": 1}}"#).is_err());
        assert!(parse_tags("[1, 2]").is_err());
    }
}
