//! What every fuzz target does: read a file of arbitrary rows to the end. Any panic is a bug; a
//! refused row or file is the expected answer to garbage.

use std::io::Cursor;

use bills::{BillReader, Format};

/// Headers as each export writes them, so that the fuzzer spends its time on the rows.
pub const FOCUS: &str = "BillingAccountId,SubAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ServiceName,ServiceCategory,ResourceId,ResourceName,RegionId,SkuId,ConsumedQuantity,ConsumedUnit,BilledCost,EffectiveCost,ListCost,BillingCurrency,Tags\n";
pub const AWS_CUR: &str = "bill/PayerAccountId,bill/BillingPeriodStartDate,bill/BillingPeriodEndDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,lineItem/ResourceId,lineItem/UsageAmount,lineItem/CurrencyCode,lineItem/UnblendedCost,product/ProductName,pricing/publicOnDemandCost,savingsPlan/SavingsPlanEffectiveCost,reservation/EffectiveCost,resourceTags/user:team\n";
pub const AWS_CUR2: &str = "bill_payer_account_id,bill_billing_period_start_date,bill_billing_period_end_date,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,line_item_currency_code,line_item_unblended_cost,reservation_effective_cost,resource_tags\n";
pub const GCP: &str = "billing_account_id,service.description,usage_start_time,usage_end_time,project.id,labels,cost,currency,usage.amount,credits,invoice.month,cost_type\n";
pub const AZURE: &str = "billingAccountId,billingPeriodStartDate,billingPeriodEndDate,subscriptionId,resourceId,date,meterCategory,quantity,costInBillingCurrency,paygCostInBillingCurrency,billingCurrency,chargeType,tags\n";

pub fn read(format: Option<Format>, header: &str, rows: &[u8]) {
    let mut file = header.as_bytes().to_vec();
    file.extend_from_slice(rows);
    let Ok(mut reader) = BillReader::open(Cursor::new(file), format) else {
        return;
    };
    while let Some(row) = reader.next_row() {
        if let Ok(row) = row {
            // The exporter must take whatever the reader gave.
            let mut writer = bills::FocusWriter::new(Vec::new()).expect("a header");
            writer.write(&row, &bills::Allocation::default()).expect("a row");
        }
    }
    let _ = reader.digest();
}
