//! The reader on fixtures written from each export's specification, one per quirk.

use std::io::{Cursor, Write};

use bills::{BillReader, ChargeCategory, FileError, Format, LedgerRow, LineError};
use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_all(bytes: Vec<u8>, chosen: Option<Format>) -> (Format, Vec<LedgerRow>, Vec<LineError>) {
    let mut reader =
        BillReader::open(Cursor::new(bytes), chosen).expect("the header is understood");
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    while let Some(next) = reader.next_row() {
        match next {
            Ok(row) => rows.push(row),
            Err(found) => errors.extend(found),
        }
    }
    (reader.format(), rows, errors)
}

fn rows(name: &str) -> (Format, Vec<LedgerRow>) {
    let (format, rows, errors) = read_all(fixture(name), None);
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    (format, rows)
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn at(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid")
}

#[test]
fn focus_1_0_with_a_byte_order_mark_quoted_newlines_null_and_accounting_negatives() {
    let (format, rows) = rows("focus_1_0.csv");
    assert_eq!(format, Format::Focus);
    assert_eq!(rows.len(), 3);
    let gpu = &rows[0];
    assert_eq!(gpu.billing_account_id, "123456789012");
    assert_eq!(gpu.sub_account_id.as_deref(), Some("210987654321"));
    assert_eq!(gpu.resource_name.as_deref(), Some("gpu-node-17, rack 4"));
    assert_eq!(gpu.billed_cost, dec("32.7726"));
    assert_eq!(gpu.effective_cost, dec("30.10"));
    assert_eq!(gpu.list_cost, Some(dec("32.7726")));
    assert_eq!(gpu.tags["team"], "search");
    assert_eq!(gpu.tags["model"], "reranker");
    assert_eq!(gpu.charge_period_start, at(2026, 9, 3, 0));
    assert_eq!(gpu.billing_period_start, at(2026, 9, 1, 0));
    assert_eq!(gpu.provider, "AWS");
    let tax = &rows[1];
    assert_eq!(tax.charge_category, ChargeCategory::Tax);
    assert_eq!(tax.sub_account_id, None, "NULL is no value");
    assert_eq!(tax.billed_cost, dec("1250.00"), "thousands separator");
    assert_eq!(tax.currency, "USD", "currency codes are upper-cased");
    let credit = &rows[2];
    assert_eq!(credit.charge_category, ChargeCategory::Credit);
    assert_eq!(credit.billed_cost, dec("-100.00"), "(100.00) is negative");
    assert_eq!(credit.list_cost, None);
    assert!(credit.tags.is_empty());
}

#[test]
fn focus_1_3_names_the_service_provider_and_writes_scientific_amounts() {
    let (format, rows) = rows("focus_1_3.csv");
    assert_eq!(format, Format::Focus);
    let row = &rows[0];
    assert_eq!(row.provider, "Microsoft");
    assert_eq!(row.billed_cost, dec("0.00000012"));
    assert_eq!(row.effective_cost, dec("0.00000012"));
    assert_eq!(row.consumed_quantity, Some(dec("0.035")));
    assert_eq!(row.currency, "EUR");
    assert_eq!(row.tags["replicas"], "3");
    assert_eq!(row.charge_period_start, at(2026, 10, 1, 10));
}

#[test]
fn aws_cur_legacy_with_tag_columns_savings_plans_tax_and_credits() {
    let (format, rows) = rows("aws_cur_legacy.csv");
    assert_eq!(format, Format::AwsCur);
    assert_eq!(rows.len(), 4);
    let fraud = &rows[0];
    assert_eq!(fraud.provider, "AWS");
    assert_eq!(fraud.service_name, "Amazon Elastic Compute Cloud");
    assert_eq!(fraud.billing_account_id, "111111111111");
    assert_eq!(fraud.sub_account_id.as_deref(), Some("222222222222"));
    assert_eq!(
        fraud.resource_name.as_deref(),
        Some("i-0fraud"),
        "the ARN's last part"
    );
    assert_eq!(fraud.tags["team"], "fraud", "the user: prefix is dropped");
    assert_eq!(fraud.tags["model"], "fraud-lgbm");
    assert_eq!(fraud.tags["aws:createdBy"], "someone");
    assert_eq!(fraud.region.as_deref(), Some("us-east-1"));
    let covered = &rows[1];
    assert_eq!(covered.billed_cost, dec("32.7726"));
    assert_eq!(
        covered.effective_cost,
        dec("21.50"),
        "the savings plan's rate"
    );
    assert!(
        !covered.tags.contains_key("model"),
        "an empty tag cell is no tag"
    );
    assert_eq!(rows[2].charge_category, ChargeCategory::Tax);
    assert_eq!(rows[2].billed_cost, dec("0.0025"));
    assert_eq!(
        rows[2].service_name, "AmazonEC2",
        "the product code when the name is empty"
    );
    assert_eq!(rows[3].charge_category, ChargeCategory::Credit);
    assert_eq!(rows[3].billed_cost, dec("-50"));
}

#[test]
fn aws_cur_2_with_a_resource_tags_map_and_reservations() {
    let (format, rows) = rows("aws_cur2.csv");
    assert_eq!(format, Format::AwsCur2);
    let reserved = &rows[0];
    assert_eq!(reserved.billed_cost, Decimal::ZERO);
    assert_eq!(
        reserved.effective_cost,
        dec("1.84"),
        "the reservation's effective cost"
    );
    assert_eq!(reserved.list_cost, Some(dec("3.06")));
    assert_eq!(reserved.tags["user_team"], "ranking");
    assert_eq!(reserved.service_name, "AmazonEC2");
    assert_eq!(reserved.billing_period_start, at(2026, 9, 1, 0));
    assert_eq!(rows[1].consumed_quantity, Some(dec("120.5")));
    assert!(rows[1].tags.is_empty());
}

#[test]
fn gcp_export_with_label_lists_credits_and_invoice_months() {
    let (format, rows) = rows("gcp.csv");
    assert_eq!(format, Format::Gcp);
    assert_eq!(rows.len(), 3);
    let gpu = &rows[0];
    assert_eq!(gpu.provider, "Google Cloud");
    assert_eq!(gpu.billed_cost, dec("2.347126"), "cost plus credits");
    assert_eq!(gpu.effective_cost, dec("2.347126"));
    assert_eq!(gpu.sub_account_id.as_deref(), Some("ml-serving-prod"));
    assert_eq!(gpu.tags["deployment"], "search-reranker-v2");
    assert_eq!(gpu.charge_period_start, at(2026, 9, 10, 8));
    assert_eq!(gpu.billing_period_start, at(2026, 9, 1, 0));
    assert_eq!(gpu.billing_period_end, at(2026, 10, 1, 0));
    assert_eq!(
        rows[1].charge_category,
        ChargeCategory::Usage,
        "an empty cost type is usage"
    );
    assert_eq!(rows[2].charge_category, ChargeCategory::Tax);
}

#[test]
fn azure_cost_details_with_camel_case_us_dates_symbols_and_braceless_tags() {
    let (format, rows) = rows("azure.csv");
    assert_eq!(format, Format::Azure);
    let vm = &rows[0];
    assert_eq!(vm.provider, "Microsoft Azure");
    assert_eq!(vm.billed_cost, dec("1262.40"));
    assert_eq!(vm.list_cost, Some(dec("1262.4")));
    assert_eq!(vm.charge_period_start, at(2026, 9, 15, 0));
    assert_eq!(vm.charge_period_end, at(2026, 9, 16, 0), "a row is one day");
    assert_eq!(vm.billing_period_start, at(2026, 9, 1, 0));
    assert_eq!(vm.tags["team"], "growth");
    assert_eq!(vm.tags["model"], "churn-xgb");
    assert_eq!(vm.resource_name.as_deref(), Some("churn-gpu-1"));
    assert_eq!(vm.billing_account_id, "8611537");
    assert_eq!(vm.sub_account_id.as_deref(), Some("d0c1-sub"));
    assert_eq!(rows[1].charge_category, ChargeCategory::Credit);
    assert_eq!(rows[1].billed_cost, dec("-12.00"));
}

#[test]
fn gzip_is_read_like_plain_text() {
    let plain = fixture("gcp.csv");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&plain).expect("compresses");
    let (format, rows, errors) = read_all(encoder.finish().expect("compresses"), None);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(format, Format::Gcp);
    assert_eq!(rows.len(), 3);
}

#[test]
fn a_truncated_gzip_ends_with_an_error_for_its_line() {
    let plain = fixture("gcp.csv");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&plain).expect("compresses");
    let mut gzip = encoder.finish().expect("compresses");
    gzip.truncate(gzip.len() - 30);
    let (_, _, errors) = read_all(gzip, None);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("breaks off"), "{errors:?}");
}

#[test]
fn every_bad_cell_is_named_by_line_column_and_value() {
    let text = "\
BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ServiceName,BilledCost,EffectiveCost,BillingCurrency,Tags
acct,2026-09-01,2026-10-01,2026-09-02,2026-09-03,Usage,AWS,EC2,1.00,1.00,USD,
acct,2026-09-01,2026-10-01,yesterday,2026-09-03,Usage,AWS,EC2,12;50,1.00,USD,
acct,2026-09-01,2026-10-01,2026-09-02,2026-09-03,Refund,AWS,EC2,1.00,1.00,USD,\"{\"\"a\"\":\"\"b\"\"\"
\"acct
two\",2026-09-01,2026-10-01,2026-09-02,2026-09-03,Usage,AWS,,1.00,1.00,USD,{}
acct,2026-09-01,2026-10-01,2026-09-03,2026-09-02,Usage,AWS,EC2,1.00
acct,2026-09-01,2026-10-01,2026-09-03,2026-09-02,Usage,AWS,EC2,1.00,1.00,USD,
";
    let (_, rows, errors) = read_all(text.as_bytes().to_vec(), None);
    assert_eq!(rows.len(), 1);
    let found: Vec<(u64, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (3, "BilledCost", "12;50"),
            (3, "ChargePeriodStart", "yesterday"),
            (4, "ChargeCategory", "Refund"),
            (4, "Tags", "{\"a\":\"b\""),
            (5, "ServiceName", ""),
            (7, "", ""),
            (8, "ChargePeriodEnd", "2026-09-02"),
        ],
        "{errors:#?}"
    );
    assert!(
        errors[5]
            .message
            .contains("9 cells where the header has 12"),
        "{errors:#?}"
    );
}

#[test]
fn headers_that_fit_no_format_are_refused_with_what_they_lack() {
    let error = BillReader::open(Cursor::new(b"date,amount\n2026-09-01,3\n".to_vec()), None)
        .err()
        .expect("refused");
    assert!(
        matches!(error, FileError::NotRecognized(ref start) if start == "date, amount"),
        "{error}"
    );
    let error = BillReader::open(
        Cursor::new(b"BilledCost,ChargePeriodStart\n1,2026-09-01\n".to_vec()),
        None,
    )
    .err()
    .expect("refused");
    let FileError::MissingColumns { missing, .. } = &error else {
        panic!("{error}");
    };
    assert!(missing.contains(&"BillingCurrency".to_string()), "{error}");
    assert!(
        missing.contains(&"ProviderName or ServiceProviderName".to_string()),
        "{error}"
    );
    let error = BillReader::open(Cursor::new(fixture("gcp.csv")), Some(Format::Azure))
        .err()
        .expect("a GCP file is no Azure file");
    assert!(error.to_string().contains("Azure cost details"), "{error}");
    assert_eq!(
        BillReader::open(Cursor::new(Vec::new()), None).err(),
        Some(FileError::Empty)
    );
}

#[test]
fn the_original_cells_stay_readable_for_audit() {
    let mut reader = BillReader::open(Cursor::new(fixture("focus_1_0.csv")), None).expect("opens");
    assert_eq!(
        reader.headers()[0],
        "BillingAccountId",
        "the byte-order mark is gone"
    );
    reader.next_row().expect("a row").expect("valid");
    assert_eq!(reader.line(), 2);
    assert_eq!(&reader.original()[9], "p4d.24xlarge, On Demand\nLinux");
    reader.next_row().expect("a row").expect("valid");
    assert_eq!(reader.line(), 4, "the quoted newline took a line");
}

#[test]
fn a_file_and_its_gzip_have_one_digest() {
    let digest = |bytes: Vec<u8>| {
        let mut reader = BillReader::open(Cursor::new(bytes), None).expect("opens");
        while reader.next_row().is_some() {}
        reader.digest()
    };
    let plain = fixture("azure.csv");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&plain).expect("compresses");
    let gzip = encoder.finish().expect("compresses");
    assert_eq!(digest(plain.clone()), digest(gzip));
    assert_ne!(digest(plain), digest(fixture("gcp.csv")));
}
