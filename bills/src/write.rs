//! The ledger written back as FOCUS CSV, with Pareto's allocation in `x_` columns.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::LedgerRow;

/// The columns of an export, in order: FOCUS names, then Pareto's own.
pub const FOCUS_EXPORT_COLUMNS: [&str; 24] = [
    "BillingAccountId",
    "SubAccountId",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ProviderName",
    "ServiceName",
    "ServiceCategory",
    "ResourceId",
    "ResourceName",
    "RegionId",
    "SkuId",
    "ConsumedQuantity",
    "ConsumedUnit",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "BillingCurrency",
    "Tags",
    "x_Team",
    "x_Model",
    "x_Deployment",
];

/// Where Pareto allocated a row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allocation {
    pub team: Option<String>,
    pub model: Option<String>,
    pub deployment: Option<String>,
}

/// Writes rows as FOCUS CSV that [`crate::BillReader`] reads back to the same values.
pub struct FocusWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> FocusWriter<W> {
    pub fn new(output: W) -> csv::Result<Self> {
        let mut csv = csv::Writer::from_writer(output);
        csv.write_record(FOCUS_EXPORT_COLUMNS)?;
        Ok(FocusWriter { csv })
    }

    pub fn write(&mut self, row: &LedgerRow, allocation: &Allocation) -> csv::Result<()> {
        let time = |at: &DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let amount = |value: &Option<rust_decimal::Decimal>| {
            value.map(|v| v.to_string()).unwrap_or_default()
        };
        let tags = if row.tags.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&row.tags).unwrap_or_default()
        };
        self.csv.write_record([
            row.billing_account_id.clone(),
            text(&row.sub_account_id),
            time(&row.billing_period_start),
            time(&row.billing_period_end),
            time(&row.charge_period_start),
            time(&row.charge_period_end),
            row.charge_category.to_string(),
            row.provider.clone(),
            row.service_name.clone(),
            text(&row.service_category),
            text(&row.resource_id),
            text(&row.resource_name),
            text(&row.region),
            text(&row.sku_id),
            amount(&row.consumed_quantity),
            text(&row.consumed_unit),
            row.billed_cost.to_string(),
            row.effective_cost.to_string(),
            amount(&row.list_cost),
            row.currency.clone(),
            tags,
            text(&allocation.team),
            text(&allocation.model),
            text(&allocation.deployment),
        ])
    }

    /// Hands what was written so far to the output.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.csv.flush()
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.csv.flush()?;
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}
