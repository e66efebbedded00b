//! What GPU time costs. Two bases are always shown side by side:
//! - reserved: the deployment holds the GPU, so every GPU-hour is paid for, busy or idle;
//! - utilization-weighted: only the share of each GPU-hour the work used.
//!
//! Energy (on-prem) is counted in full on both bases: the meter ran either way.

use rust_decimal::prelude::FromPrimitive;
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

/// The price in force: per GPU-hour, plus energy per kWh for on-prem GPUs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub hourly_price: Decimal,
    pub energy_price_per_kwh: Option<Decimal>,
}

/// Cost in one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub reserved: Decimal,
    pub utilization_weighted: Decimal,
    /// The part of `reserved` spent on GPU time below the idle threshold.
    pub idle: Decimal,
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

/// Hours and kWh as exact decimals, to nine places (a millisecond of GPU time is 2.8e-7 hours).
fn decimal(value: f64) -> Decimal {
    Decimal::from_f64(value).unwrap_or_default().round_dp(9)
}

pub fn cost_of(usage: &Usage, rate: &Rate) -> Cost {
    // Saturating: figures past what Decimal holds must not take a page down.
    let hardware = rate.hourly_price.saturating_mul(decimal(usage.gpu_hours()));
    let energy = rate.energy_price_per_kwh.map_or(Decimal::ZERO, |price| {
        price.saturating_mul(decimal(usage.energy_kwh()))
    });
    let busy_share = if usage.gpu_seconds > 0.0 {
        decimal(usage.busy_gpu_seconds / usage.gpu_seconds)
    } else {
        Decimal::ZERO
    };
    Cost {
        reserved: hardware.saturating_add(energy).round_dp(6),
        utilization_weighted: hardware
            .saturating_mul(busy_share)
            .saturating_add(energy)
            .round_dp(6),
        idle: rate
            .hourly_price
            .saturating_mul(decimal(usage.idle_gpu_seconds / 3600.0))
            .round_dp(6),
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
    fn a_cloud_gpu_costs_its_hours_and_the_work_its_share() {
        let rate = Rate {
            hourly_price: Decimal::new(400, 2),
            energy_price_per_kwh: None,
        };
        // Ten H100-hours at 25% utilization, two of them idle.
        let cost = cost_of(&usage(10.0, 0.25, 2.0, 600.0, 200_000), &rate);
        assert_eq!(cost.reserved, Decimal::new(40, 0));
        assert_eq!(cost.utilization_weighted, Decimal::new(10, 0));
        assert_eq!(cost.idle, Decimal::new(8, 0));
        assert_eq!(
            per_thousand_requests(cost.reserved, 200_000),
            Some(Decimal::new(2, 1))
        );
    }

    #[test]
    fn on_prem_adds_the_energy_it_drew() {
        let rate = Rate {
            hourly_price: Decimal::new(145, 2),
            energy_price_per_kwh: Some(Decimal::new(15, 2)),
        };
        // 4 hours at 500 W is 2 kWh: 0.30 of energy on top of 5.80 of hardware.
        let cost = cost_of(&usage(4.0, 0.5, 0.0, 500.0, 0), &rate);
        assert_eq!(cost.reserved, Decimal::new(610, 2));
        assert_eq!(cost.utilization_weighted, Decimal::new(320, 2));
        assert_eq!(per_thousand_requests(cost.reserved, 0), None);
    }

    #[test]
    fn no_gpu_time_costs_nothing() {
        let rate = Rate {
            hourly_price: Decimal::new(4, 0),
            energy_price_per_kwh: None,
        };
        assert_eq!(cost_of(&Usage::default(), &rate), Cost::default());
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
