//! End-to-end latency of stages called one after another, from each stage's p50 and p95.
//!
//! Each stage's latency is taken as log-normal, the usual shape of service latencies (bounded
//! below, a long right tail), fitted to its p50 and p95: μ = ln p50, σ = (ln p95 − ln p50) / z95.
//! A stage reached by a share s of requests adds that latency to those requests only. The sum of
//! independent stages has the summed means and variances; it is taken as log-normal again with
//! those two moments (Fenton–Wilkinson), whose p50 and p95 are the answer. Summing the stages' p95s
//! assumes every stage is slow for the same request: that is the upper bound, shown beside it, and
//! the combined p95 never exceeds it.

/// The standard normal's 95th percentile.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// A stage's contribution to the sum: its mean and its second moment about zero, over all
/// pipeline requests (those that skip it add zero).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub mean: f64,
    /// E[X²]
    pub square: f64,
    /// The summed p95s: the upper bound.
    pub p95_sum: f64,
    /// Its variance, kept so sums stay exact: Var = Σ (E[X²] − E[X]²) for independent stages.
    pub variance: f64,
    /// The largest p50 and p95 of the stages every request reaches: a sum of positive latencies
    /// is never faster than any of its parts, whatever the fit says.
    pub floor_p50: f64,
    pub floor_p95: f64,
}

impl Moments {
    /// A stage with latency p50/p95 reached by `share` of requests. A p95 under the p50 is read as
    /// no spread.
    pub fn stage(p50_ms: f64, p95_ms: f64, share: f64) -> Moments {
        if !(p50_ms > 0.0 && share > 0.0) {
            return Moments::default();
        }
        let sigma = ((p95_ms.max(p50_ms)).ln() - p50_ms.ln()) / Z95;
        let mean = (p50_ms.ln() + sigma * sigma / 2.0).exp();
        let square = (2.0 * p50_ms.ln() + 2.0 * sigma * sigma).exp();
        let share = share.min(1.0);
        let always = share >= 1.0;
        Moments {
            mean: share * mean,
            square: share * square,
            p95_sum: p95_ms.max(p50_ms),
            variance: share * square - (share * mean).powi(2),
            floor_p50: if always { p50_ms } else { 0.0 },
            floor_p95: if always { p95_ms.max(p50_ms) } else { 0.0 },
        }
    }

    /// The sum's p50 and p95 (Fenton–Wilkinson), the p95 at most the summed p95s and each at
    /// least that of the slowest stage every request reaches.
    pub fn percentiles(&self) -> (f64, f64) {
        if self.mean <= 0.0 {
            return (0.0, 0.0);
        }
        let sigma2 = (1.0 + self.variance.max(0.0) / (self.mean * self.mean)).ln();
        let mu = self.mean.ln() - sigma2 / 2.0;
        let p50 = mu.exp().max(self.floor_p50);
        let p95 = (mu + Z95 * sigma2.sqrt())
            .exp()
            .max(self.floor_p95)
            .max(p50)
            .min(self.p95_sum);
        (p50.min(p95), p95)
    }
}

/// Independent stages' moments add: means, second moments, variances and the p95 bound.
impl std::ops::Add for Moments {
    type Output = Moments;

    fn add(self, other: Moments) -> Moments {
        Moments {
            mean: self.mean + other.mean,
            square: self.square + other.square,
            p95_sum: self.p95_sum + other.p95_sum,
            variance: self.variance + other.variance,
            floor_p50: self.floor_p50.max(other.floor_p50),
            floor_p95: self.floor_p95.max(other.floor_p95),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stage_gives_back_its_own_percentiles() {
        let (p50, p95) = Moments::stage(20.0, 60.0, 1.0).percentiles();
        assert!((p50 - 20.0).abs() < 1e-9, "{p50}");
        assert!((p95 - 60.0).abs() < 1e-9, "{p95}");
    }

    #[test]
    fn two_stages_sum_under_their_summed_p95s() {
        let both = Moments::stage(20.0, 60.0, 1.0) + Moments::stage(10.0, 30.0, 1.0);
        let (p50, p95) = both.percentiles();
        // Means add: the sum's p50 is above the summed medians (both are right-skewed)...
        assert!(p50 > 30.0 && p50 < 50.0, "{p50}");
        // ...and its p95 under the summed p95s, since both stages are rarely slow at once.
        assert!(p95 < 90.0 && p95 > 60.0, "{p95}");
        assert_eq!(both.p95_sum, 90.0);
    }

    #[test]
    fn a_stage_few_requests_reach_adds_little() {
        let all = Moments::stage(20.0, 40.0, 1.0);
        let tenth = all + Moments::stage(200.0, 400.0, 0.1);
        let (_, p95) = tenth.percentiles();
        // 10% of requests take 200 ms more: the p95 rises, but the summed p95s (440) overstate it.
        assert!(p95 > 40.0 && p95 < 440.0, "{p95}");
        assert_eq!(Moments::stage(20.0, 40.0, 0.0), Moments::default());
    }

    #[test]
    fn latency_with_no_spread_adds_exactly() {
        let both = Moments::stage(20.0, 20.0, 1.0) + Moments::stage(5.0, 5.0, 1.0);
        let (p50, p95) = both.percentiles();
        assert!((p50 - 25.0).abs() < 1e-9 && (p95 - 25.0).abs() < 1e-9);
    }

    proptest::proptest! {
        /// Whatever the stages, the combined p50 and p95 lie between the slowest stage every
        /// request reaches and the sum of all the stages' p95s.
        #[test]
        fn the_combined_latency_is_within_the_bounds_of_its_parts(
            stages in proptest::collection::vec(
                (0.5f64..500.0, 1.0f64..20.0, 0.01f64..1.0, proptest::bool::ANY),
                1..7,
            )
        ) {
            let parts: Vec<(f64, f64, f64)> = stages
                .iter()
                .map(|(p50, spread, share, always)| {
                    (*p50, p50 * spread, if *always { 1.0 } else { *share })
                })
                .collect();
            let sum = parts
                .iter()
                .fold(Moments::default(), |m, (p50, p95, share)| m + Moments::stage(*p50, *p95, *share));
            let (p50, p95) = sum.percentiles();
            let upper: f64 = parts.iter().map(|p| p.1).sum();
            proptest::prop_assert!(p50 > 0.0 && p50 <= p95 + 1e-9);
            proptest::prop_assert!(p95 <= upper + 1e-9, "{p95} above the bound {upper}");
            for (stage_p50, stage_p95, share) in &parts {
                if *share >= 1.0 {
                    proptest::prop_assert!(p95 >= stage_p95 - 1e-9, "{p95} under a part's {stage_p95}");
                    proptest::prop_assert!(p50 >= stage_p50 - 1e-9, "{p50} under a part's {stage_p50}");
                }
            }
        }
    }
}
