//! The overview: where the money goes this month and what needs a decision — spend against
//! budget, top movers, drifting deployments, idle GPU waste, pending approvals, and the savings the
//! experiments' recommendations still leave on the table.

mod page;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::OverviewPage;

use leptos::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::alerts::BudgetView;
use crate::audit::AuditEvent;
#[cfg(feature = "ssr")]
use crate::auth::Role;
use crate::drift::DriftRow;
use crate::error::AppError;
use crate::format::format_money;
use crate::reviews::PromotionRequest;

#[cfg(feature = "ssr")]
use crate::auth::guard;

/// Deployments' idle GPU time over the last 30 days, priced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdleWaste {
    pub key: String,
    pub currency: String,
    pub cost: Decimal,
    /// Share of its GPU time that was idle, in percent.
    pub idle_pct: f64,
}

/// What an open experiment's recommendation would save a month against its most accurate
/// candidate that also meets the SLA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saving {
    pub experiment_id: uuid::Uuid,
    pub experiment: String,
    pub recommended: String,
    pub instead_of: String,
    pub currency: String,
    pub monthly: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub month: String,
    pub budgets: Vec<BudgetView>,
    /// Deployments by how much their cost per 1,000 moved, this week against last.
    pub movers: Vec<DriftRow>,
    pub drifting: Vec<DriftRow>,
    pub idle: Vec<IdleWaste>,
    pub pending: Vec<PromotionRequest>,
    pub savings: Vec<Saving>,
    pub recent: Vec<AuditEvent>,
}

/// How many rows each panel lists.
pub const PANEL_ROWS: usize = 5;

#[server]
pub async fn load_dashboard() -> Result<Dashboard, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        Ok(store::dashboard(&guard::state()?.pool, crate::clock::now()).await?)
    })
    .await
}

/// Sums per currency, largest first.
pub fn by_currency<'a>(
    amounts: impl Iterator<Item = (&'a str, Decimal)>,
) -> Vec<(String, Decimal)> {
    let mut sums: Vec<(String, Decimal)> = Vec::new();
    for (currency, amount) in amounts {
        match sums.iter_mut().find(|(c, _)| c == currency) {
            Some(slot) => slot.1 += amount,
            None => sums.push((currency.to_owned(), amount)),
        }
    }
    sums.sort_by_key(|s| std::cmp::Reverse(s.1));
    sums
}

fn join_money(sums: &[(String, Decimal)]) -> String {
    if sums.is_empty() {
        return "—".into();
    }
    sums.iter()
        .map(|(c, a)| format_money(a.round_dp(2), c))
        .collect::<Vec<_>>()
        .join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_keep_currencies_apart_largest_first() {
        let sums = by_currency(
            [
                ("USD", Decimal::from(5)),
                ("EUR", Decimal::from(20)),
                ("USD", Decimal::from(7)),
            ]
            .into_iter(),
        );
        assert_eq!(
            sums,
            vec![
                ("EUR".into(), Decimal::from(20)),
                ("USD".into(), Decimal::from(12))
            ]
        );
        assert_eq!(join_money(&[]), "—");
    }
}
