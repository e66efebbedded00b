//! Cloud bills as Pareto reads them: FOCUS, AWS Cost and Usage Reports (legacy and 2.0), the GCP
//! billing export and Azure cost details, each row turned into one FOCUS-shaped [`LedgerRow`]; and
//! the ledger written back as FOCUS CSV.
//!
//! Plain Rust: no SQL, no network. The reader takes any [`std::io::Read`] (plain or gzip), reads one
//! row at a time, and says for every row it cannot understand which line, column and value.

mod parse;
mod pattern;
mod read;
mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use parse::{parse_amount, parse_tags, parse_time, MAX_AMOUNT};
pub use pattern::{glob_matches, glob_to_like};
pub use read::{BillReader, FileError, Limits, LineError, Overflow};
pub use write::{Allocation, FocusWriter, FOCUS_EXPORT_COLUMNS};

/// One charge, in the FOCUS vocabulary. Money is exact and carries its currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    pub billing_account_id: String,
    pub sub_account_id: Option<String>,
    pub billing_period_start: DateTime<Utc>,
    pub billing_period_end: DateTime<Utc>,
    pub charge_period_start: DateTime<Utc>,
    pub charge_period_end: DateTime<Utc>,
    pub charge_category: ChargeCategory,
    pub provider: String,
    pub service_name: String,
    pub service_category: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub region: Option<String>,
    pub sku_id: Option<String>,
    pub consumed_quantity: Option<Decimal>,
    pub consumed_unit: Option<String>,
    pub billed_cost: Decimal,
    pub effective_cost: Decimal,
    pub list_cost: Option<Decimal>,
    pub currency: String,
    pub tags: BTreeMap<String, String>,
}

/// FOCUS `ChargeCategory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChargeCategory {
    Usage,
    Purchase,
    Tax,
    Credit,
    Adjustment,
}

impl ChargeCategory {
    pub const ALL: [ChargeCategory; 5] = [
        ChargeCategory::Usage,
        ChargeCategory::Purchase,
        ChargeCategory::Tax,
        ChargeCategory::Credit,
        ChargeCategory::Adjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChargeCategory::Usage => "Usage",
            ChargeCategory::Purchase => "Purchase",
            ChargeCategory::Tax => "Tax",
            ChargeCategory::Credit => "Credit",
            ChargeCategory::Adjustment => "Adjustment",
        }
    }
}

impl fmt::Display for ChargeCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChargeCategory {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        ChargeCategory::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| {
                format!("`{value}` is not a charge category (Usage, Purchase, Tax, Credit or Adjustment)")
            })
    }
}

/// The export a file comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// FinOps FOCUS 1.0 to 1.3.
    Focus,
    /// AWS Cost and Usage Report, legacy `lineItem/UnblendedCost` columns.
    AwsCur,
    /// AWS CUR 2.0 (Data Exports), `line_item_unblended_cost` columns.
    AwsCur2,
    /// GCP billing export (BigQuery export saved as CSV).
    Gcp,
    /// Azure cost details (actual cost) CSV.
    Azure,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Focus,
        Format::AwsCur,
        Format::AwsCur2,
        Format::Gcp,
        Format::Azure,
    ];

    /// The name the API, the command line and the database use.
    pub fn key(self) -> &'static str {
        match self {
            Format::Focus => "focus",
            Format::AwsCur => "aws-cur",
            Format::AwsCur2 => "aws-cur2",
            Format::Gcp => "gcp",
            Format::Azure => "azure",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Focus => "FOCUS",
            Format::AwsCur => "AWS CUR (legacy)",
            Format::AwsCur2 => "AWS CUR 2.0",
            Format::Gcp => "GCP billing export",
            Format::Azure => "Azure cost details",
        }
    }

    /// The provider a format's rows come from when the file does not name one.
    fn provider(self) -> &'static str {
        match self {
            Format::Focus => "",
            Format::AwsCur | Format::AwsCur2 => "AWS",
            Format::Gcp => "Google Cloud",
            Format::Azure => "Microsoft Azure",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.key().eq_ignore_ascii_case(value))
            .ok_or_else(|| {
                format!("`{value}` is not a bill format (focus, aws-cur, aws-cur2, gcp or azure)")
            })
    }
}
