//! Hybrid routing: a share of a pipeline's requests (the high-value users, say) sent to a heavier
//! candidate of one stage, the rest to a lighter one. Cost and quality blend in proportion to the
//! share (quality as a mean over requests); latency is the mixture of the two combinations'
//! end-to-end distributions, whose p50 and p95 are found by bisection on the mixture's
//! distribution function.

use serde::{Deserialize, Serialize};

use super::latency::{Moments, Z95};
use super::search::{combination, Combination, Question};

/// The blend, beside the two combinations it mixes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Blend {
    /// The share of requests sent to the heavy candidate, 0 to 1.
    pub share: f64,
    pub light: Combination,
    pub heavy: Combination,
    pub cost_per_1k: f64,
    pub monthly: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub quality: Option<f64>,
    /// What sending every request to the heavy candidate would cost more a month.
    pub saving_per_month: f64,
}

/// Blends `base` with stage `stage` at candidate `light` for most requests and `heavy` for
/// `share` of them.
pub fn blend(
    question: &Question,
    base: &[usize],
    stage: usize,
    light: usize,
    heavy: usize,
    share: f64,
) -> Result<Blend, String> {
    let stages = question.stages;
    let Some(routed) = stages.get(stage) else {
        return Err(format!("The pipeline has no stage {}.", stage + 1));
    };
    if base.len() != stages.len() {
        return Err("Choose one candidate for every stage.".into());
    }
    for (which, index) in [("light", light), ("heavy", heavy)] {
        if index >= routed.candidates.len() {
            return Err(format!(
                "Stage “{}” has no candidate {} for the {which} side.",
                routed.name,
                index + 1
            ));
        }
    }
    if !(share.is_finite() && (0.0..=1.0).contains(&share)) {
        return Err("Give the share sent to the heavy candidate, from 0% to 100%.".into());
    }
    let with = |pick: usize| {
        let mut picks = base.to_vec();
        picks[stage] = pick;
        combination(question, picks)
    };
    let (light, heavy) = (with(light), with(heavy));
    let cost_per_1k = (1.0 - share) * light.cost_per_1k + share * heavy.cost_per_1k;
    let monthly = (1.0 - share) * light.monthly + share * heavy.monthly;
    let quality = match (light.quality, heavy.quality) {
        (Some(l), Some(h)) => Some((1.0 - share) * l + share * h),
        _ => None,
    };
    let (light_fit, heavy_fit) = (fit(question, &light.picks), fit(question, &heavy.picks));
    let mixture = |x: f64| (1.0 - share) * light_fit.cdf(x) + share * heavy_fit.cdf(x);
    let top = light.p95_upper_ms.max(heavy.p95_upper_ms).max(1.0) * 4.0;
    Ok(Blend {
        share,
        cost_per_1k,
        monthly,
        p50_ms: quantile(&mixture, 0.5, top),
        p95_ms: quantile(&mixture, 0.95, top),
        quality,
        saving_per_month: heavy.monthly - monthly,
        light,
        heavy,
    })
}

/// A combination's end-to-end latency as the log-normal the search reads its percentiles from.
struct LogNormal {
    mu: f64,
    sigma: f64,
}

impl LogNormal {
    fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        if self.sigma <= 0.0 {
            return if x.ln() >= self.mu { 1.0 } else { 0.0 };
        }
        0.5 * (1.0 + erf((x.ln() - self.mu) / (self.sigma * std::f64::consts::SQRT_2)))
    }
}

fn fit(question: &Question, picks: &[usize]) -> LogNormal {
    let moments = question
        .stages
        .iter()
        .zip(picks)
        .map(|(stage, pick)| {
            let c = &stage.candidates[*pick];
            Moments::stage(c.p50_ms, c.p95_ms, stage.share)
        })
        .fold(Moments::default(), |all, part| all + part);
    let (p50, p95) = moments.percentiles();
    if p50 <= 0.0 {
        return LogNormal {
            mu: f64::NEG_INFINITY,
            sigma: 0.0,
        };
    }
    // The same p50 and (capped) p95 the search shows.
    LogNormal {
        mu: p50.ln(),
        sigma: (p95.ln() - p50.ln()).max(0.0) / Z95,
    }
}

/// The smallest x in [0, top] with `cdf(x) >= p`, to a thousandth of a millisecond.
fn quantile(cdf: &impl Fn(f64) -> f64, p: f64, top: f64) -> f64 {
    let (mut low, mut high) = (0.0, top);
    while high - low > 1e-3 {
        let middle = (low + high) / 2.0;
        if cdf(middle) >= p {
            high = middle;
        } else {
            low = middle;
        }
    }
    high
}

/// The error function (Abramowitz and Stegun 7.1.26, within 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Candidate, Stage};
    use super::*;

    fn stages() -> Vec<Stage> {
        let c = |run: &str, cost: f64, p50: f64, p95: f64, q: f64| Candidate {
            run: run.into(),
            name: run.into(),
            cost_per_1k: cost,
            p50_ms: p50,
            p95_ms: p95,
            quality: Some(q),
        };
        vec![
            Stage {
                name: "retrieval".into(),
                share: 1.0,
                fan_out: 1.0,
                candidates: vec![c("ann", 0.02, 8.0, 15.0, 0.9)],
            },
            Stage {
                name: "ranker".into(),
                share: 1.0,
                fan_out: 1.0,
                candidates: vec![
                    c("gbt", 0.10, 5.0, 10.0, 0.43),
                    c("xl", 2.00, 60.0, 140.0, 0.47),
                ],
            },
        ]
    }

    fn question(stages: &[Stage]) -> Question<'_> {
        Question {
            stages,
            sla: &[],
            metric: "ndcg",
            higher_is_better: true,
            volume: 10_000_000,
            measured: &[],
        }
    }

    #[test]
    fn a_tenth_to_the_heavy_ranker_blends_cost_quality_and_latency() {
        let stages = stages();
        let q = question(&stages);
        let blend = blend(&q, &[0, 0], 1, 0, 1, 0.1).expect("blend");
        // 90% at 0.12 and 10% at 2.02 per 1,000: 0.31; all heavy would be 20,200 a month.
        assert!((blend.cost_per_1k - 0.31).abs() < 1e-9);
        assert!((blend.monthly - 3_100.0).abs() < 1e-6);
        assert!((blend.saving_per_month - 17_100.0).abs() < 1e-6);
        assert!((blend.quality.unwrap_or_default() - 0.434).abs() < 1e-9);
        // The p50 stays near the light path's; the p95 lies between the two paths' p95s.
        assert!((blend.p50_ms - blend.light.p50_ms).abs() < 3.0, "{blend:?}");
        assert!(
            blend.p95_ms > blend.light.p95_ms && blend.p95_ms < blend.heavy.p95_ms,
            "{blend:?}"
        );
    }

    #[test]
    fn the_ends_of_the_share_are_the_two_paths() {
        let stages = stages();
        let q = question(&stages);
        let none = blend(&q, &[0, 0], 1, 0, 1, 0.0).expect("blend");
        assert!((none.p95_ms - none.light.p95_ms).abs() < 0.01, "{none:?}");
        let all = blend(&q, &[0, 0], 1, 0, 1, 1.0).expect("blend");
        assert!((all.p95_ms - all.heavy.p95_ms).abs() < 0.01, "{all:?}");
        assert!(all.saving_per_month.abs() < 1e-6);
    }

    #[test]
    fn bad_choices_are_named() {
        let stages = stages();
        let q = question(&stages);
        assert!(blend(&q, &[0, 0], 2, 0, 1, 0.1)
            .expect_err("stage")
            .contains("no stage 3"));
        assert!(blend(&q, &[0, 0], 1, 0, 5, 0.1)
            .expect_err("candidate")
            .contains("heavy"));
        assert!(blend(&q, &[0, 0], 1, 0, 1, 1.5)
            .expect_err("share")
            .contains("0% to 100%"));
    }

    #[test]
    fn erf_is_close() {
        assert!((erf(0.5) - 0.520_499_877_8).abs() < 2e-7);
        assert!((erf(-1.0) + 0.842_700_792_9).abs() < 2e-7);
    }
}
