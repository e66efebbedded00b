//! The streaming reader: one header, then one [`LedgerRow`] per CSV record.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, TimeZone, Utc};
use flate2::read::MultiGzDecoder;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::parse::{parse_amount, parse_tags, parse_time};
use crate::{ChargeCategory, Format, LedgerRow};

/// How much a file may hold once decompressed: in all, and in one record. A small gzip can expand
/// a thousandfold, and a record with no line break would otherwise grow in memory without end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub file_bytes: u64,
    pub record_bytes: u64,
}

impl Default for Limits {
    /// No bound on the file; 1 MiB per record, more than any export's longest row of tags.
    fn default() -> Self {
        Limits {
            file_bytes: u64::MAX,
            record_bytes: 1 << 20,
        }
    }
}

/// A limit the decompressed input went past.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Overflow {
    #[error(
        "the file is larger than {} once decompressed (PARETO_BILL_LIMIT); split the export",
        bytes_in_words(*.0)
    )]
    File(u64),
    #[error(
        "a row is longer than {} (PARETO_BILL_RECORD_LIMIT): this is not a billing export, or a \
         quote is left open",
        bytes_in_words(*.0)
    )]
    Record(u64),
}

fn bytes_in_words(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// What the CSV reader may hold ahead of the record it is on.
const CSV_BUFFER: usize = 256 << 10;

/// Why a whole file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file could not be read: {0}")]
    Unreadable(String),
    #[error(
        "the header row is not one of a FOCUS, AWS CUR, GCP billing or Azure cost details export \
         (it starts with {0})"
    )]
    NotRecognized(String),
    #[error("the header row lacks columns a {format} file needs: {}", missing.join(", "))]
    MissingColumns {
        format: &'static str,
        missing: Vec<String>,
    },
}

/// A row that cannot be understood: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    /// The line the record starts on, counting the header as line 1.
    pub line: u64,
    /// The column as the file names it; empty when the whole row is wrong.
    pub column: String,
    /// The cell as written (shortened past 80 characters).
    pub value: String,
    pub message: String,
}

/// Reads a billing export row by row.
pub struct BillReader {
    csv: csv::Reader<Digesting>,
    format: Format,
    headers: Vec<String>,
    columns: Columns,
    record: csv::StringRecord,
    line: u64,
    done: bool,
}

impl BillReader {
    /// Opens an export, plain or gzip (told by its first bytes), and reads its header. `chosen`
    /// overrides the format the header suggests.
    pub fn open(
        input: impl Read + Send + 'static,
        chosen: Option<Format>,
    ) -> Result<Self, FileError> {
        Self::open_limited(input, chosen, Limits::default())
    }

    /// [`open`](Self::open), with bounds on what the file may hold once decompressed. At most one
    /// gzip layer is opened: a gzip inside it reads as a file that is not an export.
    pub fn open_limited(
        input: impl Read + Send + 'static,
        chosen: Option<Format>,
        limits: Limits,
    ) -> Result<Self, FileError> {
        let mut buffered = BufReader::with_capacity(256 << 10, input);
        let start = buffered
            .fill_buf()
            .map_err(|e| FileError::Unreadable(e.to_string()))?;
        if start.is_empty() {
            return Err(FileError::Empty);
        }
        let input: Box<dyn Read + Send> = if start.starts_with(&[0x1f, 0x8b]) {
            Box::new(BufReader::with_capacity(
                256 << 10,
                MultiGzDecoder::new(buffered),
            ))
        } else {
            Box::new(buffered)
        };
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .buffer_capacity(CSV_BUFFER)
            .from_reader(Digesting {
                input,
                hasher: Sha256::new(),
                read: 0,
                record_start: 0,
                limits,
            });
        let headers: Vec<String> = csv
            .headers()
            .map_err(|e| FileError::Unreadable(overflow_in(&e).unwrap_or_else(|| e.to_string())))?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                };
                h.trim().to_owned()
            })
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(FileError::Empty);
        }
        let names = Names::new(&headers);
        let format = match chosen {
            Some(format) => format,
            None => detect(&names, &headers).ok_or_else(|| {
                let shown: Vec<&str> = headers.iter().take(5).map(String::as_str).collect();
                FileError::NotRecognized(shown.join(", "))
            })?,
        };
        let columns = Columns::resolve(format, &names, &headers)?;
        Ok(BillReader {
            csv,
            format,
            headers,
            columns,
            record: csv::StringRecord::new(),
            line: 1,
            done: false,
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The header row as the file writes it.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The cells of the record [`next_row`](Self::next_row) last read, as written.
    pub fn original(&self) -> &csv::StringRecord {
        &self.record
    }

    /// The line the last record started on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Bytes read so far from the (decompressed) input.
    pub fn position(&self) -> u64 {
        self.csv.position().byte()
    }

    /// SHA-256 of the text read so far (after decompression, so a file and its gzip agree); after
    /// the last row, the file's identity.
    pub fn digest(&self) -> [u8; 32] {
        self.csv.get_ref().hasher.clone().finalize().into()
    }

    /// The next row, the reasons it cannot be read, or `None` at the end. A file that breaks off
    /// (a truncated gzip, bytes that are not UTF-8) ends with one error for its line.
    pub fn next_row(&mut self) -> Option<Result<LedgerRow, Vec<LineError>>> {
        if self.done {
            return None;
        }
        match self.csv.read_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(error) => {
                let line = error.position().map_or(self.line + 1, csv::Position::line);
                self.line = line;
                let message = match (error.kind(), overflow_in(&error)) {
                    (csv::ErrorKind::Utf8 { .. }, _) => {
                        "the row is not valid UTF-8 text".to_string()
                    }
                    (_, Some(overflow)) => overflow,
                    _ => format!("the file breaks off here: {error}"),
                };
                // A UTF-8 error leaves the reader able to go on; anything else ends the file.
                if !matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) {
                    self.done = true;
                }
                self.record.clear();
                return Some(Err(vec![LineError {
                    line,
                    column: String::new(),
                    value: String::new(),
                    message,
                }]));
            }
        }
        self.line = self
            .record
            .position()
            .map_or(self.line + 1, csv::Position::line);
        let end = self.csv.position().byte();
        self.csv.get_mut().record_start = end;
        if self.record.len() != self.headers.len() {
            return Some(Err(vec![LineError {
                line: self.line,
                column: String::new(),
                value: String::new(),
                message: format!(
                    "the row has {} cells where the header has {}",
                    self.record.len(),
                    self.headers.len()
                ),
            }]));
        }
        let mut cells = Cells {
            record: &self.record,
            headers: &self.headers,
            line: self.line,
            errors: Vec::new(),
        };
        let row = self.columns.row(self.format, &mut cells);
        match row {
            Some(row) if cells.errors.is_empty() => Some(Ok(row)),
            _ => Some(Err(cells.errors)),
        }
    }
}

/// The decompressed input, hashed and bounded as it is read.
struct Digesting {
    input: Box<dyn Read + Send>,
    hasher: Sha256,
    /// Decompressed bytes read so far.
    read: u64,
    /// Where the record being read starts, as the CSV reader last said.
    record_start: u64,
    limits: Limits,
}

impl Read for Digesting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read >= self.limits.file_bytes {
            // One byte past the limit tells a file of exactly the limit from a longer one.
            let mut probe = [0u8; 1];
            if self.input.read(&mut probe)? > 0 {
                return Err(std::io::Error::other(Overflow::File(
                    self.limits.file_bytes,
                )));
            }
            return Ok(0);
        }
        let ahead = self.read.saturating_sub(self.record_start);
        if ahead > self.limits.record_bytes.saturating_add(CSV_BUFFER as u64) {
            return Err(std::io::Error::other(Overflow::Record(
                self.limits.record_bytes,
            )));
        }
        let room = usize::try_from(self.limits.file_bytes - self.read).unwrap_or(usize::MAX);
        let take = buf.len().min(room);
        let read = self.input.read(&mut buf[..take])?;
        self.hasher.update(&buf[..read]);
        self.read += read as u64;
        Ok(read)
    }
}

/// The limit a CSV error reports, when the input went past one.
fn overflow_in(error: &csv::Error) -> Option<String> {
    match error.kind() {
        csv::ErrorKind::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<Overflow>())
            .map(Overflow::to_string),
        _ => None,
    }
}

/// Header names reduced to lower-case letters and digits, so that `lineItem/UnblendedCost`,
/// `line_item_unblended_cost`, `service.description` and `costInBillingCurrency` all compare.
struct Names(Vec<String>);

impl Names {
    fn new(headers: &[String]) -> Self {
        Names(headers.iter().map(|h| normalize(h)).collect())
    }

    fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases
            .iter()
            .find_map(|alias| self.0.iter().position(|name| name == alias))
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }
}

fn normalize(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn detect(names: &Names, headers: &[String]) -> Option<Format> {
    if names.has("billedcost") && names.has("chargeperiodstart") {
        Some(Format::Focus)
    } else if names.has("lineitemunblendedcost") {
        let legacy = headers.iter().any(|h| h.contains('/'));
        Some(if legacy {
            Format::AwsCur
        } else {
            Format::AwsCur2
        })
    } else if names.has("usagestarttime") && names.has("cost") {
        Some(Format::Gcp)
    } else if names.has("costinbillingcurrency")
        || (names.has("metercategory") && (names.has("pretaxcost") || names.has("cost")))
    {
        Some(Format::Azure)
    } else {
        None
    }
}

/// A column a format needs: the names it may go by (normalized), and the name to say when absent.
struct Need {
    aliases: &'static [&'static str],
    shown: &'static str,
}

const fn need(shown: &'static str, aliases: &'static [&'static str]) -> Need {
    Need { aliases, shown }
}

/// Where each ledger field comes from, resolved once from the header.
#[derive(Default)]
struct Columns {
    billed_cost: usize,
    effective_cost: Option<usize>,
    list_cost: Option<usize>,
    currency: usize,
    charge_start: usize,
    charge_end: Option<usize>,
    billing_start: Option<usize>,
    billing_end: Option<usize>,
    /// GCP `invoice.month` (`202609`).
    invoice_month: Option<usize>,
    category: Option<usize>,
    provider: Option<usize>,
    service: Option<usize>,
    service_fallback: Option<usize>,
    service_category: Option<usize>,
    resource_id: Option<usize>,
    resource_name: Option<usize>,
    region: Option<usize>,
    sku: Option<usize>,
    quantity: Option<usize>,
    unit: Option<usize>,
    account: Option<usize>,
    sub_account: Option<usize>,
    tags: Option<usize>,
    /// CUR legacy `resourceTags/user:team` columns: (index, tag key).
    tag_columns: Vec<(usize, String)>,
    /// GCP `credits`, a JSON list of `{"name", "amount"}`.
    credits: Option<usize>,
    /// CUR: savings-plan and reservation effective costs.
    savings_plan_cost: Option<usize>,
    reservation_cost: Option<usize>,
}

impl Columns {
    fn resolve(format: Format, names: &Names, headers: &[String]) -> Result<Self, FileError> {
        let mut missing = Vec::new();
        let mut required = |need: Need| {
            names.find(need.aliases).unwrap_or_else(|| {
                missing.push(need.shown.to_string());
                0
            })
        };
        let columns = match format {
            Format::Focus => Columns {
                billed_cost: required(need("BilledCost", &["billedcost"])),
                currency: required(need("BillingCurrency", &["billingcurrency"])),
                charge_start: required(need("ChargePeriodStart", &["chargeperiodstart"])),
                charge_end: Some(required(need("ChargePeriodEnd", &["chargeperiodend"]))),
                billing_start: Some(required(need(
                    "BillingPeriodStart",
                    &["billingperiodstart"],
                ))),
                billing_end: Some(required(need("BillingPeriodEnd", &["billingperiodend"]))),
                account: Some(required(need("BillingAccountId", &["billingaccountid"]))),
                service: Some(required(need("ServiceName", &["servicename"]))),
                category: Some(required(need("ChargeCategory", &["chargecategory"]))),
                provider: Some(required(need(
                    "ProviderName or ServiceProviderName",
                    &["serviceprovidername", "providername"],
                ))),
                effective_cost: names.find(&["effectivecost"]),
                list_cost: names.find(&["listcost"]),
                service_category: names.find(&["servicecategory"]),
                resource_id: names.find(&["resourceid"]),
                resource_name: names.find(&["resourcename"]),
                region: names.find(&["regionid"]),
                sku: names.find(&["skuid"]),
                quantity: names.find(&["consumedquantity"]),
                unit: names.find(&["consumedunit"]),
                sub_account: names.find(&["subaccountid"]),
                tags: names.find(&["tags"]),
                ..Columns::default()
            },
            Format::AwsCur | Format::AwsCur2 => Columns {
                billed_cost: required(need("lineItem/UnblendedCost", &["lineitemunblendedcost"])),
                currency: required(need("lineItem/CurrencyCode", &["lineitemcurrencycode"])),
                charge_start: required(need(
                    "lineItem/UsageStartDate",
                    &["lineitemusagestartdate"],
                )),
                charge_end: Some(required(need(
                    "lineItem/UsageEndDate",
                    &["lineitemusageenddate"],
                ))),
                category: Some(required(need(
                    "lineItem/LineItemType",
                    &["lineitemlineitemtype"],
                ))),
                billing_start: names.find(&["billbillingperiodstartdate"]),
                billing_end: names.find(&["billbillingperiodenddate"]),
                account: Some(required(need(
                    "bill/PayerAccountId",
                    &["billpayeraccountid", "lineitemusageaccountid"],
                ))),
                sub_account: names.find(&["lineitemusageaccountid"]),
                service: names.find(&["productproductname", "productservicecode"]),
                service_fallback: Some(required(need(
                    "lineItem/ProductCode",
                    &["lineitemproductcode"],
                ))),
                list_cost: names.find(&["pricingpublicondemandcost"]),
                resource_id: names.find(&["lineitemresourceid"]),
                region: names.find(&["productregioncode", "productregion"]),
                sku: names.find(&["productsku"]),
                quantity: names.find(&["lineitemusageamount"]),
                unit: names.find(&["pricingunit"]),
                tags: names.find(&["resourcetags"]),
                tag_columns: headers
                    .iter()
                    .enumerate()
                    .filter_map(|(i, h)| {
                        h.strip_prefix("resourceTags/")
                            .map(|key| (i, key.strip_prefix("user:").unwrap_or(key).to_string()))
                    })
                    .collect(),
                savings_plan_cost: names.find(&["savingsplansavingsplaneffectivecost"]),
                reservation_cost: names.find(&["reservationeffectivecost"]),
                ..Columns::default()
            },
            Format::Gcp => Columns {
                billed_cost: required(need("cost", &["cost"])),
                currency: required(need("currency", &["currency"])),
                charge_start: required(need("usage_start_time", &["usagestarttime"])),
                charge_end: Some(required(need("usage_end_time", &["usageendtime"]))),
                account: Some(required(need("billing_account_id", &["billingaccountid"]))),
                service: Some(required(need(
                    "service.description",
                    &["servicedescription"],
                ))),
                invoice_month: names.find(&["invoicemonth"]),
                category: names.find(&["costtype"]),
                list_cost: names.find(&["costatlist"]),
                sub_account: names.find(&["projectid"]),
                resource_id: names.find(&["resourceglobalname", "resourcename"]),
                resource_name: names.find(&["resourcename"]),
                region: names.find(&["locationregion", "locationlocation"]),
                sku: names.find(&["skuid"]),
                quantity: names.find(&["usageamount"]),
                unit: names.find(&["usageunit"]),
                tags: names.find(&["labels"]),
                credits: names.find(&["credits"]),
                ..Columns::default()
            },
            Format::Azure => Columns {
                billed_cost: required(need(
                    "CostInBillingCurrency",
                    &["costinbillingcurrency", "pretaxcost", "cost"],
                )),
                currency: required(need(
                    "BillingCurrency",
                    &["billingcurrency", "billingcurrencycode", "currency"],
                )),
                charge_start: required(need("Date", &["date", "usagedatetime", "usagedate"])),
                account: Some(required(need(
                    "BillingAccountId or SubscriptionId",
                    &["billingaccountid", "subscriptionid", "subscriptionguid"],
                ))),
                service: Some(required(need(
                    "MeterCategory",
                    &["metercategory", "consumedservice"],
                ))),
                billing_start: names.find(&["billingperiodstartdate"]),
                billing_end: names.find(&["billingperiodenddate"]),
                list_cost: names.find(&["paygcostinbillingcurrency"]),
                category: names.find(&["chargetype"]),
                sub_account: names.find(&["subscriptionid", "subscriptionguid"]),
                resource_id: names.find(&["resourceid", "instanceid"]),
                resource_name: names.find(&["resourcename"]),
                region: names.find(&["resourcelocation"]),
                sku: names.find(&["meterid"]),
                quantity: names.find(&["quantity", "consumedquantity"]),
                unit: names.find(&["unitofmeasure"]),
                tags: names.find(&["tags"]),
                ..Columns::default()
            },
        };
        if missing.is_empty() {
            Ok(columns)
        } else {
            Err(FileError::MissingColumns {
                format: format.label(),
                missing,
            })
        }
    }

    fn row(&self, format: Format, cells: &mut Cells<'_>) -> Option<LedgerRow> {
        let billed = cells.amount(self.billed_cost);
        let credits = self
            .credits
            .map_or(Some(Decimal::ZERO), |at| cells.credits(at));
        let currency = cells
            .required_text(self.currency)
            .map(str::to_ascii_uppercase);
        let charge_start = cells.time(self.charge_start);
        let charge_end = match self.charge_end {
            Some(at) => cells.time(at),
            // Azure rows are daily.
            None => charge_start.map(|start| start + TimeDelta::days(1)),
        };
        let category = self.category(format, cells);
        let (billing_start, billing_end) = self.billing_period(cells, charge_start);
        let provider = match self.provider {
            Some(at) => cells.required_text(at).map(str::to_owned),
            None => Some(format.provider().to_owned()),
        };
        let service = self
            .service
            .and_then(|at| cells.text(at))
            .or_else(|| self.service_fallback.and_then(|at| cells.text(at)))
            .map(str::to_owned);
        if service.is_none() {
            let at = self.service.or(self.service_fallback).unwrap_or(0);
            cells.fail(at, "is empty; every charge names its service");
        }
        let account = self
            .account
            .and_then(|at| cells.required_text(at))
            .map(str::to_owned);
        let mut tags = self
            .tags
            .map_or_else(|| Some(BTreeMap::new()), |at| cells.tags(at));
        if let Some(tags) = tags.as_mut() {
            for (at, key) in &self.tag_columns {
                if let Some(value) = cells.text(*at) {
                    tags.insert(key.clone(), value.to_owned());
                }
            }
        }
        let effective = self.effective_cost(format, cells, billed);
        let list_cost = self.list_cost.and_then(|at| cells.optional_amount(at));
        let quantity = self.quantity.and_then(|at| cells.optional_amount(at));
        let optional = |at: Option<usize>, cells: &Cells<'_>| {
            at.and_then(|at| cells.text(at)).map(str::to_owned)
        };
        if let (Some(start), Some(end)) = (charge_start, charge_end) {
            if end < start {
                cells.fail(
                    self.charge_end.unwrap_or(self.charge_start),
                    "ends before the charge starts",
                );
            }
        }
        let billed = billed? + credits?;
        let effective = match self.credits {
            Some(_) => billed,
            None => effective?,
        };
        let resource_id = optional(self.resource_id, cells);
        let resource_name = optional(self.resource_name, cells).or_else(|| {
            // Azure and CUR resource ids are paths or ARNs; their last part names the resource.
            (format != Format::Focus)
                .then(|| resource_id.as_deref().and_then(last_segment))
                .flatten()
        });
        Some(LedgerRow {
            billing_account_id: account?,
            sub_account_id: optional(self.sub_account, cells),
            billing_period_start: billing_start?,
            billing_period_end: billing_end?,
            charge_period_start: charge_start?,
            charge_period_end: charge_end?,
            charge_category: category?,
            provider: provider?,
            service_name: service?,
            service_category: optional(self.service_category, cells),
            resource_name,
            resource_id,
            region: optional(self.region, cells),
            sku_id: optional(self.sku, cells),
            consumed_quantity: quantity,
            consumed_unit: optional(self.unit, cells),
            billed_cost: billed,
            effective_cost: effective,
            list_cost,
            currency: currency?,
            tags: tags?,
        })
    }

    fn effective_cost(
        &self,
        format: Format,
        cells: &mut Cells<'_>,
        billed: Option<Decimal>,
    ) -> Option<Decimal> {
        match format {
            Format::Focus => match self.effective_cost {
                Some(at) => cells.amount(at),
                None => billed,
            },
            Format::AwsCur | Format::AwsCur2 => {
                let kind = self.category.and_then(|at| cells.text(at)).unwrap_or("");
                let covered = match kind {
                    "SavingsPlanCoveredUsage" => self.savings_plan_cost,
                    "DiscountedUsage" => self.reservation_cost,
                    _ => None,
                };
                match covered.and_then(|at| cells.optional_amount(at)) {
                    Some(cost) => Some(cost),
                    None => billed,
                }
            }
            Format::Gcp | Format::Azure => billed,
        }
    }

    fn category(&self, format: Format, cells: &mut Cells<'_>) -> Option<ChargeCategory> {
        let Some(at) = self.category else {
            return Some(ChargeCategory::Usage);
        };
        let Some(value) = cells.text(at) else {
            return match format {
                // GCP and Azure leave the cell empty for plain usage.
                Format::Gcp | Format::Azure => Some(ChargeCategory::Usage),
                _ => {
                    cells.fail(at, "is empty");
                    None
                }
            };
        };
        let category = match format {
            Format::Focus => value.parse().ok(),
            Format::AwsCur | Format::AwsCur2 => match value {
                "Usage" | "DiscountedUsage" | "SavingsPlanCoveredUsage" => {
                    Some(ChargeCategory::Usage)
                }
                "Fee" | "RIFee" | "SavingsPlanRecurringFee" | "SavingsPlanUpfrontFee" => {
                    Some(ChargeCategory::Purchase)
                }
                "Tax" => Some(ChargeCategory::Tax),
                "Credit" | "Refund" => Some(ChargeCategory::Credit),
                "BundledDiscount"
                | "EdpDiscount"
                | "PrivateRateDiscount"
                | "SavingsPlanNegation"
                | "DistributorDiscount" => Some(ChargeCategory::Adjustment),
                _ => None,
            },
            Format::Gcp => match value.to_ascii_lowercase().as_str() {
                "regular" | "usage" => Some(ChargeCategory::Usage),
                "tax" => Some(ChargeCategory::Tax),
                "adjustment" | "rounding_error" => Some(ChargeCategory::Adjustment),
                "credit" => Some(ChargeCategory::Credit),
                _ => None,
            },
            Format::Azure => match value.to_ascii_lowercase().as_str() {
                "usage" | "unusedreservation" | "unusedsavingsplan" => Some(ChargeCategory::Usage),
                "purchase" => Some(ChargeCategory::Purchase),
                "refund" => Some(ChargeCategory::Credit),
                "tax" => Some(ChargeCategory::Tax),
                "roundingadjustment" | "adjustment" => Some(ChargeCategory::Adjustment),
                _ => None,
            },
        };
        if category.is_none() {
            cells.fail(at, "is not a charge type this reader knows");
        }
        category
    }

    /// The billing period from its columns, GCP's invoice month, or else the calendar month the
    /// charge starts in.
    fn billing_period(
        &self,
        cells: &mut Cells<'_>,
        charge_start: Option<DateTime<Utc>>,
    ) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        if let (Some(start), Some(end)) = (self.billing_start, self.billing_end) {
            let start = cells.time(start);
            let end = cells.time(end);
            return (start, end);
        }
        let month = match self
            .invoice_month
            .and_then(|at| cells.text(at).map(|v| (at, v)))
        {
            Some((at, value)) => {
                let day = NaiveDate::parse_from_str(&format!("{}01", value.trim()), "%Y%m%d").ok();
                if day.is_none() {
                    cells.fail(at, "is not a month written as YYYYMM");
                }
                day
            }
            None => charge_start
                .map(|start| start.date_naive().with_day(1).unwrap_or(start.date_naive())),
        };
        let Some(first) = month else {
            return (None, None);
        };
        let start = Utc.from_utc_datetime(&first.and_time(chrono::NaiveTime::MIN));
        (Some(start), start.checked_add_months(Months::new(1)))
    }
}

fn last_segment(id: &str) -> Option<String> {
    id.rsplit(['/', ':'])
        .find(|part| !part.is_empty())
        .map(str::to_owned)
}

/// One record's cells, with the errors found so far.
struct Cells<'a> {
    record: &'a csv::StringRecord,
    headers: &'a [String],
    line: u64,
    errors: Vec<LineError>,
}

impl Cells<'_> {
    /// A cell's text; `None` when empty or a `NULL` literal.
    fn text(&self, at: usize) -> Option<&str> {
        let value = self.record.get(at)?.trim();
        (!value.is_empty() && !value.eq_ignore_ascii_case("null")).then_some(value)
    }

    fn fail(&mut self, at: usize, message: &str) {
        let raw = self.record.get(at).unwrap_or("");
        let value = if raw.chars().count() > 80 {
            raw.chars().take(77).collect::<String>() + "…"
        } else {
            raw.to_owned()
        };
        self.errors.push(LineError {
            line: self.line,
            column: self.headers.get(at).cloned().unwrap_or_default(),
            value,
            message: message.to_owned(),
        });
    }

    fn required_text(&mut self, at: usize) -> Option<&str> {
        if self.text(at).is_none() {
            self.fail(at, "is empty");
            return None;
        }
        self.text(at)
    }

    fn amount(&mut self, at: usize) -> Option<Decimal> {
        let Some(value) = self.text(at) else {
            self.fail(at, "is empty; an amount is needed");
            return None;
        };
        match parse_amount(value) {
            Ok(amount) => Some(amount),
            Err(message) => {
                self.fail(at, &message);
                None
            }
        }
    }

    fn optional_amount(&mut self, at: usize) -> Option<Decimal> {
        self.text(at)?;
        self.amount(at)
    }

    fn time(&mut self, at: usize) -> Option<DateTime<Utc>> {
        let Some(value) = self.text(at) else {
            self.fail(at, "is empty; a date or time is needed");
            return None;
        };
        match parse_time(value) {
            Ok(at) => Some(at),
            Err(message) => {
                self.fail(at, &message);
                None
            }
        }
    }

    fn tags(&mut self, at: usize) -> Option<BTreeMap<String, String>> {
        let Some(value) = self.text(at) else {
            return Some(BTreeMap::new());
        };
        match parse_tags(value) {
            Ok(tags) => Some(tags),
            Err(message) => {
                self.fail(at, &message);
                None
            }
        }
    }

    /// The sum of GCP credits (negative amounts).
    fn credits(&mut self, at: usize) -> Option<Decimal> {
        let Some(value) = self.text(at) else {
            return Some(Decimal::ZERO);
        };
        #[derive(Deserialize)]
        struct Credit {
            amount: serde_json::Value,
        }
        let parsed: Result<Vec<Credit>, _> = serde_json::from_str(value);
        let sum = parsed.ok().and_then(|credits| {
            credits.iter().try_fold(Decimal::ZERO, |sum, credit| {
                let text = match &credit.amount {
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::String(s) => s.clone(),
                    _ => return None,
                };
                parse_amount(&text).ok().map(|amount| sum + amount)
            })
        });
        if sum.is_none() {
            self.fail(at, "is not a JSON list of credits with amounts");
        }
        sum
    }
}
