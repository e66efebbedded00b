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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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

/// Tokens a deployment read and wrote over some hours; `cached_input` is the part of `input`
/// served from a prefix cache, `requests` the requests whose tokens these are (where only some
/// replicas or hours count tokens, fewer than all the requests served).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TokenCount {
    pub input: i64,
    pub output: i64,
    pub cached_input: i64,
    pub requests: i64,
}

impl TokenCount {
    pub fn is_empty(&self) -> bool {
        self.input == 0 && self.output == 0
    }
}

impl std::ops::AddAssign for TokenCount {
    fn add_assign(&mut self, other: TokenCount) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
        self.cached_input = self.cached_input.saturating_add(other.cached_input);
        self.requests = self.requests.saturating_add(other.requests);
    }
}

/// How much GPU time one output token takes against one input token, for splitting a language
/// model's cost between reading (prefill) and writing (decode).
///
/// Prefill reads the whole prompt in one parallel pass and keeps the GPU's arithmetic busy;
/// decode writes one token per pass per request and waits on memory, so an output token holds the
/// GPU several times as long as an input token. Hosted APIs charge the same way: their output
/// tokens cost 3 to 5 times their input tokens (4 for most), which is their split of the same GPU
/// time. Input tokens served from a prefix cache are not computed again and take no share.
pub const OUTPUT_TOKEN_WEIGHT: i64 = 4;

/// A cost per million tokens: of input (prefill's share over every input token, cached ones
/// included), of output (decode's share over output tokens), and blended (the whole cost over
/// every token read or written).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PerMillionTokens {
    pub input: Option<Decimal>,
    pub output: Option<Decimal>,
    pub blended: Decimal,
}

/// `cost`, of `requests` requests, per million tokens, split by [`OUTPUT_TOKEN_WEIGHT`]; nothing
/// when no tokens were counted. Where only some of the requests counted their tokens, only their
/// share of the cost (by requests) is divided by the tokens.
pub fn per_million_tokens(
    cost: Decimal,
    requests: i64,
    tokens: TokenCount,
) -> Option<PerMillionTokens> {
    const MILLION: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
    let cost = if (1..requests).contains(&tokens.requests) {
        cost.saturating_mul(Decimal::from(tokens.requests)) / Decimal::from(requests)
    } else {
        cost
    };
    let per_million = |part: Decimal, count: i64| {
        (count > 0).then(|| {
            (part / Decimal::from(count))
                .saturating_mul(MILLION)
                .round_dp(6)
        })
    };
    let read_and_written = i128::from(tokens.input) + i128::from(tokens.output);
    if read_and_written <= 0 {
        return None;
    }
    let prefill = Decimal::from(tokens.input.saturating_sub(tokens.cached_input).max(0));
    let decode = Decimal::from(tokens.output).saturating_mul(Decimal::from(OUTPUT_TOKEN_WEIGHT));
    let work = prefill.saturating_add(decode);
    let (input, output) = if work > Decimal::ZERO {
        let input_part = cost.saturating_mul(prefill / work);
        (
            per_million(input_part, tokens.input),
            per_million(cost.saturating_sub(input_part), tokens.output),
        )
    } else {
        (None, None)
    };
    Some(PerMillionTokens {
        input,
        output,
        blended: (cost / Decimal::from_i128_with_scale(read_and_written, 0))
            .saturating_mul(MILLION)
            .round_dp(6),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_cost_splits_prefill_from_decode() {
        // 10 USD for 4M input tokens (1M of them cached) and 0.5M output tokens: prefill did 3M
        // units of work, decode 0.5M x 4 = 2M, so input takes 3/5 of the cost.
        let tokens = TokenCount {
            input: 4_000_000,
            output: 500_000,
            cached_input: 1_000_000,
            requests: 2_000,
        };
        let figures = per_million_tokens(Decimal::TEN, 2_000, tokens).expect("tokens");
        assert_eq!(figures.input, Some(Decimal::new(15, 1)), "6 USD / 4M");
        assert_eq!(figures.output, Some(Decimal::new(8, 0)), "4 USD / 0.5M");
        assert_eq!(figures.blended, Decimal::new(2_222_222, 6), "10 USD / 4.5M");
        // What input and output cost at their own rates adds up to the whole.
        let whole = figures.input.unwrap_or_default() * Decimal::new(4, 0)
            + figures.output.unwrap_or_default() * Decimal::new(5, 1);
        assert_eq!(whole, Decimal::TEN);
        // The same tokens counted by half the requests (a replica that counts none beside one
        // that does): half the cost is theirs.
        let half = per_million_tokens(Decimal::new(20, 0), 4_000, tokens).expect("tokens");
        assert_eq!(half, figures);
    }

    #[test]
    fn no_tokens_no_figure() {
        assert_eq!(
            per_million_tokens(Decimal::TEN, 0, TokenCount::default()),
            None
        );
        // Only cached reads: no work to split, but a blended figure.
        let cached = per_million_tokens(
            Decimal::ONE,
            10,
            TokenCount {
                input: 1_000_000,
                output: 0,
                cached_input: 1_000_000,
                requests: 10,
            },
        )
        .expect("tokens");
        assert_eq!((cached.input, cached.output), (None, None));
        assert_eq!(cached.blended, Decimal::ONE);
        // Counts at their largest do not overflow.
        let huge = TokenCount {
            input: i64::MAX,
            output: i64::MAX,
            cached_input: 0,
            requests: i64::MAX - 1,
        };
        assert!(per_million_tokens(Decimal::MAX, i64::MAX, huge).is_some());
    }

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
