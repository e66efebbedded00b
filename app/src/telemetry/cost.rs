//! What GPU time costs. Two bases are always shown side by side:
//! - reserved: the deployment holds the GPU, so every GPU-hour is paid for, busy or idle;
//! - utilization-weighted: only the share of each GPU-hour the work used.
//!
//! Energy (on-prem) is counted in full on both bases: the meter ran either way.
//!
//! What an hour costs is defined once, in SQL: the view `priced_hourly`
//! (migrations/20261204000017_one_price.sql) prices every hourly rollup at the catalog's price in
//! force, and every figure (fleet, deployment, catalog, model card, alerts, reconciliation, drift,
//! overview, TCO) sums its columns. This module holds what is done with those sums.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// GPU time and what it did, summed over any period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub gpu_seconds: f64,
    pub busy_gpu_seconds: f64,
    pub idle_gpu_seconds: f64,
    pub energy_joules: f64,
    pub requests: i64,
}

impl Usage {
    pub fn gpu_hours(&self) -> f64 {
        self.gpu_seconds / 3600.0
    }

    pub fn energy_kwh(&self) -> f64 {
        self.energy_joules / 3_600_000.0
    }

    /// Mean utilization in percent, weighted by time.
    pub fn mean_utilization_pct(&self) -> Option<f64> {
        (self.gpu_seconds > 0.0).then(|| 100.0 * self.busy_gpu_seconds / self.gpu_seconds)
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.gpu_seconds += other.gpu_seconds;
        self.busy_gpu_seconds += other.busy_gpu_seconds;
        self.idle_gpu_seconds += other.idle_gpu_seconds;
        self.energy_joules += other.energy_joules;
        self.requests = self.requests.saturating_add(other.requests);
    }
}

/// Cost in one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub reserved: Decimal,
    pub utilization_weighted: Decimal,
    /// The part of `reserved` spent on GPU time below the idle threshold.
    pub idle: Decimal,
}

/// A sum of one of `priced_hourly`'s cost columns over some hours (null when none was priced),
/// rounded to a millionth as every figure shows it.
pub fn shown(sum: Option<Decimal>) -> Decimal {
    sum.unwrap_or_default().round_dp(6)
}

impl Cost {
    /// The sums of `priced_hourly`'s three cost columns over some hours, as [`shown`].
    pub fn from_sums(
        reserved: Option<Decimal>,
        utilization_weighted: Option<Decimal>,
        idle: Option<Decimal>,
    ) -> Cost {
        Cost {
            reserved: shown(reserved),
            utilization_weighted: shown(utilization_weighted),
            idle: shown(idle),
        }
    }
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, other: Cost) {
        self.reserved = self.reserved.saturating_add(other.reserved);
        self.utilization_weighted = self
            .utilization_weighted
            .saturating_add(other.utilization_weighted);
        self.idle = self.idle.saturating_add(other.idle);
    }
}

/// Cost per 1,000 requests: cost / requests x 1000, or nothing when nothing was served.
pub fn per_thousand_requests(cost: Decimal, requests: i64) -> Option<Decimal> {
    (requests > 0).then(|| {
        (cost / Decimal::from(requests))
            .saturating_mul(Decimal::ONE_THOUSAND)
            .round_dp(6)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(hours: f64, utilization: f64, idle_hours: f64, watts: f64, requests: i64) -> Usage {
        Usage {
            gpu_seconds: hours * 3600.0,
            busy_gpu_seconds: hours * 3600.0 * utilization,
            idle_gpu_seconds: idle_hours * 3600.0,
            energy_joules: watts * hours * 3600.0,
            requests,
        }
    }

    #[test]
    fn cost_per_thousand_requests_needs_requests() {
        assert_eq!(
            per_thousand_requests(Decimal::new(40, 0), 200_000),
            Some(Decimal::new(2, 1))
        );
        assert_eq!(per_thousand_requests(Decimal::new(610, 2), 0), None);
        assert_eq!(Usage::default().mean_utilization_pct(), None);
    }

    #[test]
    fn usage_adds_up() {
        let mut total = usage(1.0, 0.5, 0.0, 100.0, 10);
        total += usage(1.0, 1.0, 0.0, 300.0, 30);
        assert_eq!(total.gpu_hours(), 2.0);
        assert_eq!(total.mean_utilization_pct(), Some(75.0));
        assert!((total.energy_kwh() - 0.4).abs() < 1e-12);
        assert_eq!(total.requests, 40);
    }
}
