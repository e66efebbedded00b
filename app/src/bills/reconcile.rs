//! Reconciliation: per deployment and month, what the bills allocated to it (billed) against what
//! its telemetry priced by the GPU price catalog says it cost (estimated, every GPU-hour held).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciled {
    pub deployment: String,
    pub model: Option<String>,
    pub team: Option<String>,
    /// `YYYY-MM`.
    pub month: String,
    pub currency: String,
    /// None: no bill was allocated to the deployment that month.
    pub billed: Option<Decimal>,
    /// The part of `billed` charged on days the deployment sent telemetry: what the estimate can
    /// be compared with.
    pub billed_covered: Option<Decimal>,
    /// None: no priced telemetry that month.
    pub estimated: Option<Decimal>,
    /// Days of the month with telemetry.
    pub telemetry_days: i64,
}

impl Reconciled {
    /// Billed on the days with telemetry less estimated, where both are known.
    pub fn variance(&self) -> Option<Decimal> {
        Some(self.billed_covered? - self.estimated?)
    }

    /// The variance against the estimate, in percent.
    pub fn variance_pct(&self) -> Option<Decimal> {
        let estimated = self.estimated.filter(|e| !e.is_zero())?;
        Some(
            (self.variance()?.checked_div(estimated)?)
                .checked_mul(Decimal::ONE_HUNDRED)?
                .round_dp(1),
        )
    }

    /// How far apart the two are, for ordering: the variance, or the whole amount when one side
    /// is missing.
    pub fn gap(&self) -> Decimal {
        match (self.billed_covered, self.estimated) {
            (Some(b), Some(e)) => (b - e).abs(),
            (Some(one), None) | (None, Some(one)) => one.abs(),
            (None, None) => Decimal::ZERO,
        }
    }
}

/// Rows with both sides first, the biggest variance first; then the rows with one side missing,
/// the largest amount first; ties by month (latest first) and deployment.
pub fn order(rows: &mut [Reconciled]) {
    rows.sort_by(|a, b| {
        b.variance()
            .is_some()
            .cmp(&a.variance().is_some())
            .then_with(|| b.gap().cmp(&a.gap()))
            .then_with(|| b.month.cmp(&a.month))
            .then_with(|| a.deployment.cmp(&b.deployment))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(deployment: &str, billed: Option<i64>, estimated: Option<i64>) -> Reconciled {
        Reconciled {
            deployment: deployment.into(),
            model: None,
            team: None,
            month: "2026-11".into(),
            currency: "USD".into(),
            billed: billed.map(Decimal::from),
            billed_covered: billed.map(Decimal::from),
            estimated: estimated.map(Decimal::from),
            telemetry_days: 27,
        }
    }

    #[test]
    fn variance_is_billed_less_estimated() {
        let r = row("a", Some(1_180), Some(1_000));
        assert_eq!(r.variance(), Some(Decimal::from(180)));
        assert_eq!(r.variance_pct(), Some(Decimal::new(180, 1)));
        assert_eq!(row("b", None, Some(5)).variance(), None);
        assert_eq!(row("c", Some(5), Some(0)).variance_pct(), None);
    }

    #[test]
    fn the_biggest_variances_come_first_then_rows_missing_a_side() {
        let mut rows = vec![
            row("small", Some(100), Some(98)),
            row("unbilled", None, Some(4_000)),
            row("big", Some(900), Some(700)),
        ];
        order(&mut rows);
        let names: Vec<&str> = rows.iter().map(|r| r.deployment.as_str()).collect();
        assert_eq!(names, ["big", "small", "unbilled"]);
    }
}
