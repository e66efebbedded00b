//! The cloud bill ledger: imports of billing exports, kept whole, superseded by newer exports of
//! the same account and period, and read by every billed figure.

#[cfg(feature = "ssr")]
pub mod allocate;
pub mod explore;
mod explore_page;
#[cfg(feature = "ssr")]
pub mod import;
mod page;
pub mod reconcile;
mod reconcile_page;
pub mod rules;
mod rules_page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use explore_page::ExplorerPage;
pub use page::{BillsHeader, BillsPage};
pub use reconcile_page::ReconcilePage;
pub use rules_page::RulesPage;
pub use server_fns::*;

/// The most problems one refused import lists.
pub const ERRORS_SHOWN: usize = 100;

/// One currency's total in an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CurrencyTotal {
    pub currency: String,
    pub billed_cost: Decimal,
    pub effective_cost: Decimal,
    pub rows: i64,
}

/// A billing account and period an import covers, and what superseded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ImportScope {
    pub billing_account_id: String,
    pub billing_period_start: DateTime<Utc>,
    pub rows: i64,
    pub superseded_by: Option<Uuid>,
}

/// An import, as the history page and the API show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ImportRecord {
    pub bill_import_id: Uuid,
    pub file_name: String,
    /// `focus`, `aws-cur`, `aws-cur2`, `gcp` or `azure`.
    pub format: String,
    pub rows: i64,
    pub bytes: i64,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
    pub totals: Vec<CurrencyTotal>,
    pub scopes: Vec<ImportScope>,
}

impl ImportRecord {
    /// Current while any of its accounts and periods is not superseded.
    pub fn is_current(&self) -> bool {
        self.scopes.iter().any(|s| s.superseded_by.is_none())
    }

    pub fn format_label(&self) -> &'static str {
        self.format
            .parse::<bills::Format>()
            .map_or("unknown format", bills::Format::label)
    }
}

/// What an import call answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ImportOutcome {
    /// The file had been imported before: nothing was stored.
    pub duplicate: bool,
    /// Earlier imports this one superseded (for some account and period).
    pub superseded: Vec<Uuid>,
    pub import: ImportRecord,
}

/// A refused row: the line it starts on, the column, the value and why.
pub use bills::LineError;

/// What the browser's upload answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum UploadAnswer {
    Imported(ImportOutcome),
    Refused {
        message: String,
        errors: Vec<LineError>,
        /// More rows were wrong than the ones listed.
        more: bool,
    },
}
