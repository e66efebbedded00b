//! Any row the FOCUS exporter writes, the reader reads back to the same values.

use std::collections::BTreeMap;
use std::io::Cursor;

use bills::{Allocation, BillReader, ChargeCategory, FocusWriter, Format, LedgerRow};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Text as ledger rows hold it: trimmed, not empty, and with the separators, quotes and line
/// breaks that CSV must escape.
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 ,\"\n:/._{}-]{0,18}[A-Za-z0-9é]"
        .prop_filter("NULL is read as no value", |s| {
            !s.eq_ignore_ascii_case("null")
        })
}

fn amount() -> impl Strategy<Value = Decimal> {
    // Anything the reader takes: within ±1,000,000,000,000 (`bills::MAX_AMOUNT`).
    (any::<i64>(), 0u32..=12).prop_map(|(mantissa, scale)| {
        let amount = Decimal::new(mantissa, scale);
        let max = Decimal::from(bills::MAX_AMOUNT);
        amount.clamp(-max, max)
    })
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (1_500_000_000i64..2_000_000_000, 0u32..3).prop_map(|(seconds, millis)| {
        Utc.timestamp_opt(seconds, millis * 1_000_000)
            .single()
            .expect("in range")
    })
}

fn row() -> impl Strategy<Value = LedgerRow> {
    (
        (
            text(),
            proptest::option::of(text()),
            time(),
            time(),
            time(),
            time(),
        ),
        (
            proptest::sample::select(ChargeCategory::ALL.to_vec()),
            text(),
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(text()),
        ),
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(amount()),
            proptest::option::of(text()),
            amount(),
            amount(),
        ),
        (
            proptest::option::of(amount()),
            "[A-Z]{3}",
            proptest::collection::btree_map(text(), "[a-z0-9 \"\\\\-]{0,8}", 0..4),
        ),
    )
        .prop_map(|(a, b, c, d)| LedgerRow {
            billing_account_id: a.0,
            sub_account_id: a.1,
            billing_period_start: a.2,
            billing_period_end: a.3,
            charge_period_start: a.4,
            charge_period_end: a.4.max(a.5),
            charge_category: b.0,
            provider: b.1,
            service_name: b.2,
            service_category: b.3,
            resource_id: b.4,
            resource_name: b.5,
            region: c.0,
            sku_id: c.1,
            consumed_quantity: c.2,
            consumed_unit: c.3,
            billed_cost: c.4,
            effective_cost: c.5,
            list_cost: d.0,
            currency: d.1,
            tags: d.2,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn what_the_exporter_writes_the_reader_reads_back(rows in proptest::collection::vec(row(), 1..8)) {
        let mut writer = FocusWriter::new(Vec::new()).expect("header");
        let allocation = Allocation { team: Some("search".into()), model: None, deployment: None };
        for row in &rows {
            writer.write(row, &allocation).expect("writes");
        }
        let bytes = writer.finish().expect("flushes");
        let mut reader = BillReader::open(Cursor::new(bytes), None).expect("reads the header");
        prop_assert_eq!(reader.format(), Format::Focus);
        let mut read = Vec::new();
        while let Some(next) = reader.next_row() {
            match next {
                Ok(row) => read.push(row),
                Err(errors) => prop_assert!(false, "{:?}", errors),
            }
        }
        prop_assert_eq!(read, rows);
    }
}

#[test]
fn tags_survive_quotes_and_backslashes() {
    let tags: BTreeMap<String, String> = [("a\"b".to_string(), "c\\d".to_string())].into();
    assert_eq!(
        bills::parse_tags(&serde_json::to_string(&tags).expect("json")),
        Ok(tags)
    );
}
