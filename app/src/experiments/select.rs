//! The formulas behind a choice: what each run costs per 1,000 requests and per month, whether it
//! meets every constraint and why, which run to recommend, the Pareto frontier, the decision matrix,
//! the volume what-if with its crossover, and the cascade of a cheap and an expensive model.
//!
//! Money stays `Decimal`; scores and chart positions are `f64`.

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::constraint::{Constraint, Limit, Subject};
use super::run::{Inference, RunSpec};
use super::{metric_label, Direction, Mode};
use crate::format::{format_count, format_money, format_number};

/// Hours in an average month (8,760 / 12).
pub const HOURS_PER_MONTH: i64 = 730;

/// The volumes of the what-if table, in requests per month.
pub const WHAT_IF_VOLUMES: [u64; 4] = [100_000, 1_000_000, 10_000_000, 100_000_000];

/// A cascade's deferred share from which its p95 is a request that went through both models.
const TAIL_SHARE: f64 = 0.05;

/// Why a run with figures past what money arithmetic holds cannot be priced.
const TOO_LARGE: &str = "its prices and figures are too large to price";

/// How a run's monthly cost grows with volume: never below `floor` (capacity that is always on),
/// and `per_thousand` for every 1,000 requests beyond what the floor pays for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CostCurve {
    pub floor: Decimal,
    pub per_thousand: Decimal,
}

impl CostCurve {
    // Saturating throughout: a run stored with an absurd price shows an absurd figure instead of
    // taking the experiment's page down.
    pub fn monthly(&self, volume: u64) -> Decimal {
        let usage = self.per_thousand.saturating_mul(Decimal::from(volume)) / Decimal::ONE_THOUSAND;
        usage.max(self.floor)
    }

    /// Cost per 1,000 requests when `volume` requests a month share the cost.
    pub fn per_thousand_at(&self, volume: u64) -> Decimal {
        if volume == 0 {
            return self.per_thousand;
        }
        (self.monthly(volume) / Decimal::from(volume)).saturating_mul(Decimal::ONE_THOUSAND)
    }
}

/// What an experiment asks of its runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    pub primary_metric: String,
    pub direction: Direction,
    pub constraints: Vec<Constraint>,
    pub volume: u64,
    pub mode: Mode,
    pub currency: String,
}

/// One constraint applied to one run, with the reason in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Check {
    pub constraint: String,
    pub passed: bool,
    pub reason: String,
    /// How far a failing run misses, relative to the bound (0.1 = 10%); 0 when it passes; `None`
    /// when the run has no such figure.
    pub shortfall: Option<f64>,
}

/// One constraint applied to one run, in figures only.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The run's figure for the constraint's subject, when it has one.
    pub value: Option<f64>,
    pub passed: bool,
    /// As in [`Check::shortfall`], infinite when the figure is missing.
    pub shortfall: f64,
}

/// Everything Pareto works out for one run, in figures; [`explain`] puts them into words for the
/// runs a page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub curve: Option<CostCurve>,
    /// Why the run could not be priced.
    pub unpriced: Option<String>,
    pub per_thousand: Option<Decimal>,
    pub monthly: Option<Decimal>,
    pub training_cost: Option<Decimal>,
    pub quality: Option<f64>,
    pub p95_ms: Option<f64>,
    pub outcomes: Vec<Outcome>,
    pub meets_all: bool,
}

/// Prices a run. `measured_per_thousand` is the telemetry figure for a measured run; `hourly` on the
/// hardware is the whole machine's price, already looked up from the catalog where it was not typed.
pub fn price(
    spec: &RunSpec,
    measured_per_thousand: Option<Decimal>,
    mode: Mode,
) -> Result<CostCurve, String> {
    let linear = |per_thousand| CostCurve {
        floor: Decimal::ZERO,
        per_thousand,
    };
    match &spec.inference {
        Inference::SelfHosted => {
            let hardware = spec
                .hardware
                .as_ref()
                .ok_or("no hardware: self-hosted pricing needs it")?;
            let hourly = hardware
                .hourly_price
                .ok_or("no price per hour for the hardware")?;
            let rps = spec
                .throughput_rps
                .and_then(Decimal::from_f64)
                .filter(|rps| *rps > Decimal::ZERO)
                .ok_or("no throughput")?;
            let per_thousand = hourly
                .checked_mul(Decimal::ONE_THOUSAND)
                .zip(rps.checked_mul(Decimal::from(3600)))
                .and_then(|(cost, per_hour)| cost.checked_div(per_hour))
                .ok_or(TOO_LARGE)?;
            Ok(match mode {
                Mode::Batch => linear(per_thousand),
                Mode::RealTime | Mode::Both => CostCurve {
                    floor: hourly
                        .checked_mul(Decimal::from(HOURS_PER_MONTH))
                        .ok_or(TOO_LARGE)?,
                    per_thousand,
                },
            })
        }
        Inference::Measured { deployment } => measured_per_thousand.map(linear).ok_or_else(|| {
            format!("no telemetry with requests from deployment {deployment} in the last 30 days")
        }),
        Inference::ApiTokens {
            input_per_1k_tokens,
            output_per_1k_tokens,
            avg_input_tokens,
            avg_output_tokens,
            ..
        } => {
            let (Some(input_price), Some(output_price)) =
                (input_per_1k_tokens, output_per_1k_tokens)
            else {
                return Err("no prices per 1,000 tokens".into());
            };
            let input = Decimal::from_f64(*avg_input_tokens).unwrap_or_default();
            let output = Decimal::from_f64(*avg_output_tokens).unwrap_or_default();
            // Per request: tokens / 1,000 x price per 1,000 tokens; per 1,000 requests: x 1,000.
            let per_thousand = input
                .checked_mul(*input_price)
                .zip(output.checked_mul(*output_price))
                .and_then(|(input, output)| input.checked_add(output))
                .ok_or(TOO_LARGE)?;
            Ok(linear(per_thousand))
        }
        Inference::ApiRequest { per_request } => Ok(linear(
            per_request
                .checked_mul(Decimal::ONE_THOUSAND)
                .ok_or(TOO_LARGE)?,
        )),
    }
}

/// A cost per 1,000 requests as a cost per 1M output tokens, for requests that write
/// `output_tokens` each: per request ÷ tokens × 1,000,000 = per 1,000 requests × 1,000 ÷ tokens.
pub fn per_million_output_tokens(per_thousand: Decimal, output_tokens: f64) -> Option<Decimal> {
    let tokens = Decimal::from_f64(output_tokens).filter(|t| *t > Decimal::ZERO)?;
    per_thousand
        .checked_mul(Decimal::ONE_THOUSAND)?
        .checked_div(tokens)
        .map(|cost| cost.round_dp(6).normalize())
}

/// How a priced run's cost was worked out, in words.
pub fn cost_basis(spec: &RunSpec, curve: &CostCurve, currency: &str) -> String {
    match &spec.inference {
        Inference::SelfHosted => {
            let hardware = spec.hardware.clone().unwrap_or_default();
            let hourly = hardware.hourly_price.unwrap_or_default();
            let rps = spec.throughput_rps.unwrap_or_default();
            let machine = format!(
                "{} at {}/h serving {} requests/s",
                hardware.describe(),
                format_money(hourly, currency),
                format_number(rps)
            );
            if curve.floor.is_zero() {
                format!("{machine}, paid for the hours used")
            } else {
                format!(
                    "{machine}; one machine always on ({}/month) carries up to {} requests/month",
                    format_money(curve.floor, currency),
                    format_count((rps * 3600.0 * HOURS_PER_MONTH as f64) as i64)
                )
            }
        }
        Inference::Measured { deployment } => {
            format!(
                "measured on deployment {deployment} over the last 30 days (idle time included)"
            )
        }
        Inference::ApiTokens {
            input_per_1k_tokens,
            output_per_1k_tokens,
            avg_input_tokens,
            avg_output_tokens,
            avg_cached_input_tokens,
            ..
        } => {
            let cached = avg_cached_input_tokens
                .filter(|cached| *cached > 0.0)
                .map(|cached| format!(" ({} from the prompt cache)", format_number(cached)))
                .unwrap_or_default();
            // Per million tokens, as providers publish them: per 1,000 they run to many places.
            let per_million = |price: &Option<Decimal>| {
                crate::format::format_unit_price(
                    price.unwrap_or_default() * Decimal::ONE_THOUSAND,
                    currency,
                )
            };
            format!(
                "{} input tokens{cached} at {} and {} output tokens at {} per 1M tokens",
                format_number(*avg_input_tokens),
                per_million(input_per_1k_tokens),
                format_number(*avg_output_tokens),
                per_million(output_per_1k_tokens)
            )
        }
        Inference::ApiRequest { per_request } => {
            format!("{} per request", format_money(*per_request, currency))
        }
    }
}

/// Training cost: an amount, or GPU-hours at the given price or the hardware's price per GPU.
pub fn training_cost(spec: &RunSpec) -> Option<Decimal> {
    let training = spec.training.as_ref()?;
    if let Some(amount) = training.amount {
        return Some(amount);
    }
    let hours = Decimal::from_f64(training.gpu_hours?)?;
    let price = training.price_per_gpu_hour.or_else(|| {
        let hardware = spec.hardware.as_ref()?;
        hardware.gpu_model.as_ref()?;
        Some(hardware.hourly_price? / Decimal::from(hardware.gpu_count.unwrap_or(1).max(1)))
    })?;
    hours.checked_mul(price)
}

fn shortfall(value: f64, bound: f64) -> f64 {
    let gap = (value - bound).abs();
    if bound == 0.0 {
        gap
    } else {
        gap / bound.abs()
    }
}

fn measure(
    constraint: &Constraint,
    spec: &RunSpec,
    per_thousand: Option<Decimal>,
    monthly: Option<Decimal>,
) -> Outcome {
    let value = match &constraint.subject {
        Subject::Metric(metric) => spec.metrics.get(metric).copied(),
        Subject::P95LatencyMs => spec.latency_ms.p95,
        Subject::CostPerThousand => per_thousand.and_then(|a| a.to_f64()),
        Subject::MonthlyCost => monthly.and_then(|a| a.to_f64()),
    };
    match value {
        None => Outcome {
            value,
            passed: false,
            shortfall: f64::INFINITY,
        },
        Some(v) if constraint.holds(v) => Outcome {
            value,
            passed: true,
            shortfall: 0.0,
        },
        Some(v) => Outcome {
            value,
            passed: false,
            shortfall: shortfall(v, constraint.bound_f64()),
        },
    }
}

/// Why a run passes or fails a constraint, with its figure and by how much it misses.
fn reason(constraint: &Constraint, outcome: &Outcome, currency: &str) -> String {
    let label = constraint.describe(currency);
    let name = constraint.subject.label();
    let shown = |v: f64| match &constraint.subject {
        Subject::Metric(_) => format_number(v),
        Subject::P95LatencyMs => format!("{} ms", format_number(v)),
        Subject::CostPerThousand | Subject::MonthlyCost => {
            format_money(Decimal::from_f64(v).unwrap_or_default(), currency)
        }
    };
    let Some(value) = outcome.value else {
        return if constraint.subject.is_money() {
            format!("no {name}: the run could not be priced")
        } else {
            format!("no {name} recorded")
        };
    };
    if outcome.passed {
        return format!("{name} {} meets {label}", shown(value));
    }
    let bound = constraint.bound_f64();
    let side = match constraint.limit {
        Limit::AtLeast => "short of",
        Limit::AtMost => "over",
    };
    format!(
        "{name} {} is {} {side} {} ({:.1}%)",
        shown(value),
        shown((value - bound).abs()),
        shown(bound),
        100.0 * outcome.shortfall
    )
}

/// Prices a run at the experiment's volume and applies every constraint to it, in figures.
pub fn evaluate(
    setup: &Setup,
    spec: &RunSpec,
    measured_per_thousand: Option<Decimal>,
) -> Evaluation {
    let (curve, unpriced) = match price(spec, measured_per_thousand, setup.mode) {
        Ok(curve) => (Some(curve), None),
        Err(reason) => (None, Some(reason)),
    };
    let monthly = curve.map(|c| c.monthly(setup.volume));
    let per_thousand = curve.map(|c| c.per_thousand_at(setup.volume));
    let outcomes: Vec<Outcome> = setup
        .constraints
        .iter()
        .map(|c| measure(c, spec, per_thousand, monthly))
        .collect();
    Evaluation {
        curve,
        unpriced,
        per_thousand,
        monthly,
        training_cost: training_cost(spec),
        quality: spec.metrics.get(&setup.primary_metric).copied(),
        p95_ms: spec.latency_ms.p95,
        meets_all: curve.is_some() && outcomes.iter().all(|o| o.passed),
        outcomes,
    }
}

/// An evaluation in words: how the cost was worked out (or why it could not be), and each check.
pub fn explain(setup: &Setup, spec: &RunSpec, evaluation: &Evaluation) -> (String, Vec<Check>) {
    let basis = match (&evaluation.curve, &evaluation.unpriced) {
        (Some(curve), _) => cost_basis(spec, curve, &setup.currency),
        (None, reason) => format!("not priced: {}", reason.clone().unwrap_or_default()),
    };
    let checks = setup
        .constraints
        .iter()
        .zip(&evaluation.outcomes)
        .map(|(constraint, outcome)| Check {
            constraint: constraint.describe(&setup.currency),
            passed: outcome.passed,
            reason: reason(constraint, outcome, &setup.currency),
            shortfall: outcome.value.map(|_| outcome.shortfall),
        })
        .collect();
    (basis, checks)
}

/// What keeps a run from meeting every constraint, in words.
pub fn blocking_reasons(setup: &Setup, spec: &RunSpec, evaluation: &Evaluation) -> Vec<String> {
    let (basis, checks) = explain(setup, spec, evaluation);
    let mut reasons: Vec<String> = checks
        .into_iter()
        .filter(|c| !c.passed)
        .map(|c| c.reason)
        .collect();
    if evaluation.curve.is_none() {
        reasons.insert(0, basis);
    }
    reasons
}

/// The choice, in a sentence a lead can paste into a decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Recommendation {
    Choose {
        run: usize,
        sentence: String,
    },
    /// No run meets every constraint: what blocks each, closest first.
    NoneMeets {
        sentence: String,
        blockers: Vec<(usize, Vec<String>)>,
    },
    NoRuns,
}

/// Orders two runs' quality, better first.
fn by_quality(direction: Direction, a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) if direction.better(a, b) => Ordering::Less,
        (Some(a), Some(b)) if direction.better(b, a) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// The cheapest run (monthly, at the experiment's volume) that meets every constraint; among equally
/// cheap runs the better quality, then the first.
/// The most runs whose blocking reasons are spelled out when none qualifies.
pub const BLOCKERS_SHOWN: usize = 10;

pub fn recommend(setup: &Setup, specs: &[&RunSpec], runs: &[Evaluation]) -> Recommendation {
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    if runs.is_empty() {
        return Recommendation::NoRuns;
    }
    let mut passing: Vec<usize> = (0..runs.len()).filter(|&i| runs[i].meets_all).collect();
    passing.sort_by(|&a, &b| {
        runs[a]
            .monthly
            .cmp(&runs[b].monthly)
            .then_with(|| by_quality(setup.direction, runs[a].quality, runs[b].quality))
            .then(a.cmp(&b))
    });
    let money = |amount: Decimal| format!("{}/month", format_money(amount, &setup.currency));
    let Some(&chosen) = passing.first() else {
        let mut order: Vec<(usize, f64)> = runs
            .iter()
            .enumerate()
            .map(|(i, run)| {
                let distance = run.outcomes.iter().map(|o| o.shortfall).sum::<f64>()
                    + if run.curve.is_none() {
                        f64::INFINITY
                    } else {
                        0.0
                    };
                (i, distance)
            })
            .collect();
        order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let blockers: Vec<(usize, Vec<String>)> = order
            .into_iter()
            .take(BLOCKERS_SHOWN)
            .map(|(i, _)| (i, blocking_reasons(setup, specs[i], &runs[i])))
            .collect();
        let closest = &blockers[0];
        let sentence = format!(
            "No candidate meets every constraint. The closest is {}: {}.",
            names[closest.0],
            closest.1.join("; ")
        );
        return Recommendation::NoneMeets { sentence, blockers };
    };
    let cost = runs[chosen].monthly.unwrap_or_default();
    let meets = if setup.constraints.is_empty() {
        "is the cheapest candidate".to_owned()
    } else {
        let all: Vec<String> = setup
            .constraints
            .iter()
            .map(|c| c.describe(&setup.currency))
            .collect();
        format!("meets {}", all.join(" and "))
    };
    // Against the run people would pick for its quality: the best that also meets every
    // constraint, else the best of all; failing that, the next cheapest that meets them.
    let best_of = |candidates: &mut dyn Iterator<Item = usize>| {
        candidates
            .filter(|&i| runs[i].monthly > runs[chosen].monthly && runs[i].quality.is_some())
            .min_by(|&a, &b| {
                by_quality(setup.direction, runs[a].quality, runs[b].quality).then(a.cmp(&b))
            })
    };
    let against = best_of(&mut passing.iter().copied())
        .or_else(|| best_of(&mut (0..runs.len())))
        .map(|best| (best, ""))
        .or_else(|| {
            passing
                .get(1)
                .map(|&next| (next, ", the next cheapest that meets them"))
        });
    let comparison = match against {
        Some((other, why)) => format!(
            ", {} less than {}{why}",
            money(runs[other].monthly.unwrap_or_default() - cost),
            names[other]
        ),
        None => String::new(),
    };
    Recommendation::Choose {
        run: chosen,
        sentence: format!("{} {meets} at {}{comparison}.", names[chosen], money(cost)),
    }
}

/// Quality turned so that higher is better.
fn upward(direction: Direction, quality: f64) -> f64 {
    match direction {
        Direction::Higher => quality,
        Direction::Lower => -quality,
    }
}

/// True when `a` dominates `b`: no more expensive, no worse, and strictly better in one of the two.
pub fn dominates(a: (f64, f64), b: (f64, f64), direction: Direction) -> bool {
    let (qa, qb) = (upward(direction, a.1), upward(direction, b.1));
    a.0 <= b.0 && qa >= qb && (a.0 < b.0 || qa > qb)
}

/// Which points lie on the Pareto frontier of (cost, quality): those no other point dominates.
/// A point with a missing or non-finite coordinate is neither on it nor dominated (`None`).
/// Exact and O(n log n): sweep by cost, keeping the best quality seen at a strictly lower cost.
pub fn frontier(points: &[Option<(f64, f64)>], direction: Direction) -> Vec<Option<bool>> {
    let mut order: Vec<(usize, f64, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.filter(|(cost, quality)| cost.is_finite() && quality.is_finite())
                .map(|(cost, quality)| (i, cost, upward(direction, quality)))
        })
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.2.total_cmp(&a.2)));
    let mut result = vec![None; points.len()];
    let mut best_cheaper = f64::NEG_INFINITY;
    let mut start = 0;
    while start < order.len() {
        let cost = order[start].1;
        let end = start + order[start..].iter().take_while(|p| p.1 == cost).count();
        // Sorted best first, so the group's best quality is its first.
        let best_here = order[start].2;
        for &(index, _, quality) in &order[start..end] {
            let dominated = best_cheaper >= quality || best_here > quality;
            result[index] = Some(!dominated);
        }
        best_cheaper = best_cheaper.max(best_here);
        start = end;
    }
    result
}

/// Min-max scaling to 0..1 with 1 the best; all-equal values score 1; missing values stay missing.
pub fn normalize(values: &[Option<f64>], higher_is_better: bool) -> Vec<Option<f64>> {
    let present = values.iter().flatten().filter(|v| v.is_finite());
    let (min, max) = present.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    values
        .iter()
        .map(|value| {
            let value = value.filter(|v| v.is_finite())?;
            if max <= min {
                return Some(1.0);
            }
            let up = (value - min) / (max - min);
            Some(if higher_is_better { up } else { 1.0 - up })
        })
        .collect()
}

/// The weights of the decision matrix; they need not add up to anything.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub quality: f64,
    pub cost: f64,
    pub latency: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            quality: 0.5,
            cost: 0.3,
            latency: 0.2,
        }
    }
}

/// What the decision matrix needs of a run; small enough to send to the browser.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub quality: Option<f64>,
    pub monthly_cost: Option<f64>,
    pub p95_ms: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub quality: Option<f64>,
    pub cost: Option<f64>,
    pub latency: Option<f64>,
    /// The weighted mean of the three, a missing one counting 0; higher is better.
    pub total: f64,
    /// w x quality loss + (1 - w) x normalized cost, with w the quality weight's share of quality
    /// and cost; lower is better; missing when quality or cost is.
    pub composite: Option<f64>,
}

pub fn scores(rows: &[MatrixRow], direction: Direction, weights: Weights) -> Vec<Score> {
    let quality = normalize(
        &rows.iter().map(|r| r.quality).collect::<Vec<_>>(),
        direction == Direction::Higher,
    );
    let cost = normalize(
        &rows.iter().map(|r| r.monthly_cost).collect::<Vec<_>>(),
        false,
    );
    let latency = normalize(&rows.iter().map(|r| r.p95_ms).collect::<Vec<_>>(), false);
    let clamp = |w: f64| if w.is_finite() { w.max(0.0) } else { 0.0 };
    let (wq, wc, wl) = (
        clamp(weights.quality),
        clamp(weights.cost),
        clamp(weights.latency),
    );
    let sum = wq + wc + wl;
    let w = if wq + wc > 0.0 { wq / (wq + wc) } else { 0.5 };
    (0..rows.len())
        .map(|i| {
            let total = if sum > 0.0 {
                (wq * quality[i].unwrap_or(0.0)
                    + wc * cost[i].unwrap_or(0.0)
                    + wl * latency[i].unwrap_or(0.0))
                    / sum
            } else {
                0.0
            };
            let composite = match (quality[i], cost[i]) {
                (Some(q), Some(c)) => Some(w * (1.0 - q) + (1.0 - w) * (1.0 - c)),
                _ => None,
            };
            Score {
                quality: quality[i],
                cost: cost[i],
                latency: latency[i],
                total,
                composite,
            }
        })
        .collect()
}

/// The smallest monthly volume from which a self-hosted run whose capacity is always on (`floor`)
/// costs no more than a run paid per request (no floor). `None` when that never happens: the
/// per-request run is cheaper at the margin too.
pub fn crossover(self_hosted: &CostCurve, per_request: &CostCurve) -> Option<u64> {
    if !per_request.floor.is_zero()
        || self_hosted.floor.is_zero()
        || per_request.per_thousand <= self_hosted.per_thousand
    {
        return None;
    }
    // max(F, m V) <= a V  <=>  V >= F / a, given m < a.
    let volume = self_hosted
        .floor
        .saturating_mul(Decimal::ONE_THOUSAND)
        .checked_div(per_request.per_thousand)?
        .ceil();
    volume.to_u64()
}

/// One side of a cascade.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CascadeSide {
    pub curve: CostCurve,
    pub p95_ms: Option<f64>,
    pub quality: Option<f64>,
}

/// The cheap model keeps `share_kept` of the traffic (the part it is confident on) and passes the rest
/// to the expensive one. The quality on each slice may be given; otherwise each model's overall figure
/// stands in for it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CascadeInput {
    pub share_kept: f64,
    pub kept_quality: Option<f64>,
    pub passed_quality: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CascadeOutcome {
    pub monthly: Decimal,
    pub per_thousand: Decimal,
    pub p95_ms: Option<f64>,
    pub p95_basis: String,
    pub quality: Option<f64>,
    /// True when the slice qualities were not given and the overall figures stood in.
    pub quality_estimated: bool,
    pub expensive_alone: Decimal,
    pub saving: Decimal,
}

/// The cascade a page starts from: the cheapest run in front of the best of the others by the
/// experiment's direction (of equals, the last), from each run's key, monthly cost and quality.
/// A run without a quality is the fallback only when no other run has one. `None` with fewer
/// than two runs.
pub fn default_cascade<K: Copy + PartialEq>(
    runs: &[(K, Option<Decimal>, Option<f64>)],
    direction: Direction,
) -> Option<(K, K)> {
    let (cheapest, ..) = runs.iter().min_by(|a, b| a.1.cmp(&b.1))?;
    let (best, ..) = runs
        .iter()
        .filter(|(key, ..)| key != cheapest)
        .max_by(|a, b| {
            let (qa, qb) = match (a.2, b.2) {
                (Some(qa), Some(qb)) => (qa, qb),
                (Some(_), None) => return Ordering::Greater,
                (None, Some(_)) => return Ordering::Less,
                (None, None) => return Ordering::Equal,
            };
            if direction.better(qa, qb) {
                Ordering::Greater
            } else if direction.better(qb, qa) {
                Ordering::Less
            } else {
                Ordering::Equal
            }
        })?;
    Some((*cheapest, *best))
}

pub fn cascade(
    cheap: &CascadeSide,
    expensive: &CascadeSide,
    input: &CascadeInput,
    volume: u64,
) -> CascadeOutcome {
    let kept = input.share_kept.clamp(0.0, 1.0);
    let passed = 1.0 - kept;
    let passed_volume = (volume as f64 * passed).round() as u64;
    // Every request goes through the cheap model; the passed ones through the expensive one too.
    let monthly = cheap
        .curve
        .monthly(volume)
        .saturating_add(expensive.curve.monthly(passed_volume));
    let per_thousand = if volume == 0 {
        Decimal::ZERO
    } else {
        (monthly / Decimal::from(volume)).saturating_mul(Decimal::ONE_THOUSAND)
    };
    let (p95_ms, p95_basis) = if passed >= TAIL_SHARE {
        (
            cheap.p95_ms.zip(expensive.p95_ms).map(|(a, b)| a + b),
            format!(
                "{}% of requests pass through both models, so the 95th percentile is one of them: the two p95s added",
                format_number(100.0 * passed)
            ),
        )
    } else {
        (
            cheap.p95_ms,
            "fewer than 5% of requests are passed on, so the 95th percentile is the cheap model's"
                .to_owned(),
        )
    };
    let kept_quality = input.kept_quality.or(cheap.quality);
    let passed_quality = input.passed_quality.or(expensive.quality);
    let quality = match (kept_quality, passed_quality) {
        (Some(k), Some(p)) => Some(kept * k + passed * p),
        (Some(k), None) if passed == 0.0 => Some(k),
        (None, Some(p)) if kept == 0.0 => Some(p),
        _ => None,
    };
    let expensive_alone = expensive.curve.monthly(volume);
    CascadeOutcome {
        monthly,
        per_thousand,
        p95_ms,
        p95_basis,
        quality,
        quality_estimated: input.kept_quality.is_none() || input.passed_quality.is_none(),
        expensive_alone,
        saving: expensive_alone - monthly,
    }
}

/// The runs' labels for a metric, for tables: the primary metric first, then the rest by name.
pub fn metric_columns(primary: &str, runs: &[&RunSpec]) -> Vec<(String, String)> {
    let mut names: BTreeMap<&str, ()> = BTreeMap::new();
    for run in runs {
        for name in run.metrics.keys() {
            names.insert(name, ());
        }
    }
    let mut columns = vec![(primary.to_owned(), metric_label(primary))];
    columns.extend(
        names
            .into_keys()
            .filter(|n| *n != primary)
            .map(|n| (n.to_owned(), metric_label(n))),
    );
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cascade_puts_the_cheapest_run_in_front_of_the_best_other() {
        let money = |v: i64| Some(Decimal::from(v));
        let runs = [
            ("logistic", money(40), Some(0.86)),
            ("bert", money(900), Some(0.93)),
            ("distilbert", money(300), Some(0.91)),
            ("unmeasured", money(500), None),
        ];
        assert_eq!(
            default_cascade(&runs, Direction::Higher),
            Some(("logistic", "bert"))
        );
        // Lower is better (an error rate): the best other is the one with the smallest figure.
        assert_eq!(
            default_cascade(&runs, Direction::Lower),
            Some(("logistic", "distilbert"))
        );
        // The cheapest is never its own fallback, even when it is also the best.
        let runs = [
            ("cheap", money(10), Some(0.99)),
            ("dear", money(20), Some(0.5)),
        ];
        assert_eq!(
            default_cascade(&runs, Direction::Higher),
            Some(("cheap", "dear"))
        );
        let unmeasured = [("cheap", money(10), None), ("dear", money(20), None)];
        assert_eq!(
            default_cascade(&unmeasured, Direction::Higher),
            Some(("cheap", "dear"))
        );
        assert_eq!(default_cascade(&runs[..1], Direction::Higher), None);
        assert_eq!(default_cascade::<&str>(&[], Direction::Higher), None);
    }
    use crate::experiments::run::tests::self_hosted;
    use proptest::prelude::*;

    fn setup(constraints: &str) -> Setup {
        Setup {
            primary_metric: "f1".into(),
            direction: Direction::Higher,
            constraints: super::super::constraint::parse_constraints(constraints).expect("ok"),
            volume: 1_000_000,
            mode: Mode::Batch,
            currency: "USD".into(),
        }
    }

    fn api(name: &str, f1: f64, per_request: Decimal) -> RunSpec {
        let mut spec = self_hosted(name, f1, 300.0, 1.0, 0);
        spec.hardware = None;
        spec.throughput_rps = None;
        spec.inference = Inference::ApiRequest { per_request };
        spec
    }

    #[test]
    fn self_hosted_cost_is_the_hour_divided_by_what_it_serves() {
        // 0.36 USD/h at 100 requests/s = 360,000 requests/h: 0.001 USD per 1,000.
        let spec = self_hosted("A", 0.9, 10.0, 100.0, 36);
        let batch = price(&spec, None, Mode::Batch).expect("priced");
        assert_eq!(batch.per_thousand, Decimal::new(1, 3));
        assert_eq!(batch.monthly(1_000_000), Decimal::ONE);
        let real_time = price(&spec, None, Mode::RealTime).expect("priced");
        let basis = cost_basis(&spec, &real_time, "USD");
        // One machine always on: 0.36 x 730 = 262.80 USD, whatever the volume below its capacity.
        assert_eq!(real_time.monthly(1_000_000), Decimal::new(26_280, 2));
        assert_eq!(real_time.per_thousand_at(1_000_000), Decimal::new(2628, 4));
        assert!(basis.contains("262.80 USD/month"), "{basis}");
        // Beyond one machine's 262.8 M requests a month, the cost follows the volume.
        assert_eq!(real_time.monthly(1_000_000_000), Decimal::ONE_THOUSAND);
    }

    #[test]
    fn api_tokens_cost_the_tokens_of_a_thousand_requests() {
        let mut spec = api("LLM", 0.95, Decimal::ZERO);
        spec.inference = Inference::ApiTokens {
            input_per_1k_tokens: Some(Decimal::new(3, 3)),
            output_per_1k_tokens: Some(Decimal::new(15, 3)),
            avg_input_tokens: 250.0,
            avg_output_tokens: 10.0,
            avg_cached_input_tokens: None,
            provider: None,
            model: None,
            batch: false,
        };
        // Per request: 0.25 x 0.003 + 0.01 x 0.015 = 0.0009; per 1,000: 0.90.
        let curve = price(&spec, None, Mode::RealTime).expect("priced");
        assert_eq!(curve.per_thousand, Decimal::new(90, 2));
        assert_eq!(curve.floor, Decimal::ZERO);
    }

    #[test]
    fn a_cost_per_thousand_requests_reads_per_million_output_tokens() {
        // 2.61 per 1,000 requests of 250 output tokens: 0.00261 per request, 10.44 per 1M.
        assert_eq!(
            per_million_output_tokens(Decimal::new(261, 2), 250.0),
            Some(Decimal::new(1044, 2))
        );
        assert_eq!(per_million_output_tokens(Decimal::ONE, 0.0), None);
    }

    #[test]
    fn training_cost_uses_the_price_per_gpu() {
        let mut spec = self_hosted("A", 0.9, 10.0, 100.0, 400);
        spec.hardware.as_mut().expect("hw").gpu_count = Some(2);
        spec.training = Some(crate::experiments::Training {
            gpu_hours: Some(10.0),
            price_per_gpu_hour: None,
            amount: None,
        });
        assert_eq!(training_cost(&spec), Some(Decimal::new(20, 0)));
    }

    #[test]
    fn checks_say_why_and_by_how_much() {
        let strict = setup("f1 >= 0.9\np95 <= 100\nmonthly <= 0.5");
        let spec = self_hosted("A", 0.87, 140.0, 100.0, 36);
        let evaluation = evaluate(&strict, &spec, None);
        let (_, checks) = explain(&strict, &spec, &evaluation);
        let reasons: Vec<&str> = checks.iter().map(|c| c.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "F1 0.87 is 0.03 short of 0.9 (3.3%)",
                "p95 latency 140 ms is 40 ms over 100 ms (40.0%)",
                "monthly cost 1.00 USD is 0.50 USD over 0.50 USD (100.0%)"
            ]
        );
        assert!(!evaluation.meets_all);
        let bleu = setup("bleu >= 30");
        let missing = evaluate(&bleu, &spec, None);
        assert_eq!(
            explain(&bleu, &spec, &missing).1[0].reason,
            "no BLEU recorded"
        );
    }

    #[test]
    fn the_recommendation_is_the_cheapest_that_meets_every_constraint() {
        let setup = setup("f1 >= 0.9");
        let runs = [
            self_hosted("Logistic regression", 0.84, 2.0, 2000.0, 10),
            self_hosted("DistilBERT", 0.91, 20.0, 100.0, 50),
            self_hosted("BERT-base", 0.93, 60.0, 20.0, 300),
        ];
        let specs: Vec<&RunSpec> = runs.iter().collect();
        let evaluations: Vec<Evaluation> = runs.iter().map(|r| evaluate(&setup, r, None)).collect();
        let Recommendation::Choose { run, sentence } = recommend(&setup, &specs, &evaluations)
        else {
            panic!("a run meets the constraint");
        };
        assert_eq!(run, 1);
        // DistilBERT: 0.50 / 360 per 1,000 x 1,000 = 1.39; BERT-base: 3.00 / 72 x 1,000 = 41.67.
        assert_eq!(
            sentence,
            "DistilBERT meets F1 ≥ 0.9 at 1.39 USD/month, 40.28 USD/month less than BERT-base."
        );
    }

    #[test]
    fn when_nothing_meets_the_closest_miss_is_named() {
        let setup = setup("f1 >= 0.95");
        let runs = [
            self_hosted("A", 0.80, 2.0, 2000.0, 10),
            self_hosted("B", 0.93, 20.0, 100.0, 50),
        ];
        let specs: Vec<&RunSpec> = runs.iter().collect();
        let evaluations: Vec<Evaluation> = runs.iter().map(|r| evaluate(&setup, r, None)).collect();
        let Recommendation::NoneMeets { sentence, blockers } =
            recommend(&setup, &specs, &evaluations)
        else {
            panic!("nothing meets");
        };
        assert_eq!(
            sentence,
            "No candidate meets every constraint. The closest is B: F1 0.93 is 0.02 short of 0.95 (2.1%)."
        );
        assert_eq!(blockers[1].0, 0);
    }

    #[test]
    fn crossover_is_where_the_always_on_machine_pays_off() {
        // 100 USD/month always on, 0.10 per 1,000 at the margin, against 1.00 per 1,000 by API.
        let own = CostCurve {
            floor: Decimal::new(100, 0),
            per_thousand: Decimal::new(1, 1),
        };
        let hosted = CostCurve {
            floor: Decimal::ZERO,
            per_thousand: Decimal::ONE,
        };
        assert_eq!(crossover(&own, &hosted), Some(100_000));
        assert!(own.monthly(100_000) <= hosted.monthly(100_000));
        assert!(own.monthly(99_999) > hosted.monthly(99_999));
        let dearer = CostCurve {
            floor: Decimal::ZERO,
            per_thousand: Decimal::new(5, 2),
        };
        assert_eq!(crossover(&own, &dearer), None);
    }

    #[test]
    fn a_cascade_blends_cost_latency_and_quality() {
        let cheap = CascadeSide {
            curve: CostCurve {
                floor: Decimal::ZERO,
                per_thousand: Decimal::new(1, 1),
            },
            p95_ms: Some(10.0),
            quality: Some(0.88),
        };
        let expensive = CascadeSide {
            curve: CostCurve {
                floor: Decimal::ZERO,
                per_thousand: Decimal::new(2, 0),
            },
            p95_ms: Some(200.0),
            quality: Some(0.94),
        };
        let outcome = cascade(
            &cheap,
            &expensive,
            &CascadeInput {
                share_kept: 0.8,
                kept_quality: Some(0.95),
                passed_quality: Some(0.90),
            },
            1_000_000,
        );
        // 1M x 0.10/1k + 200k x 2.00/1k = 100 + 400.
        assert_eq!(outcome.monthly, Decimal::new(500, 0));
        assert_eq!(outcome.per_thousand, Decimal::new(5, 1));
        assert_eq!(outcome.saving, Decimal::new(1500, 0));
        assert_eq!(outcome.p95_ms, Some(210.0));
        assert!((outcome.quality.expect("q") - 0.94).abs() < 1e-9);
        assert!(!outcome.quality_estimated);
        let nearly_all = cascade(
            &cheap,
            &expensive,
            &CascadeInput {
                share_kept: 0.99,
                kept_quality: None,
                passed_quality: None,
            },
            1_000_000,
        );
        assert_eq!(nearly_all.p95_ms, Some(10.0));
        assert!(nearly_all.quality_estimated);
    }

    #[test]
    fn scores_follow_the_weights() {
        let rows = [
            MatrixRow {
                quality: Some(0.95),
                monthly_cost: Some(1000.0),
                p95_ms: Some(100.0),
            },
            MatrixRow {
                quality: Some(0.90),
                monthly_cost: Some(10.0),
                p95_ms: Some(20.0),
            },
        ];
        let quality_first = scores(
            &rows,
            Direction::Higher,
            Weights {
                quality: 1.0,
                cost: 0.0,
                latency: 0.0,
            },
        );
        assert!(quality_first[0].total > quality_first[1].total);
        let cost_first = scores(
            &rows,
            Direction::Higher,
            Weights {
                quality: 0.1,
                cost: 1.0,
                latency: 0.0,
            },
        );
        assert!(cost_first[1].total > cost_first[0].total);
        assert_eq!(cost_first[1].composite, Some(1.0 / 11.0));
    }

    #[test]
    fn frontier_keeps_ties_and_drops_the_dominated() {
        let points = [
            Some((1.0, 0.8)),
            Some((2.0, 0.9)),
            Some((2.0, 0.85)),
            Some((3.0, 0.9)),
            Some((1.0, 0.8)),
            None,
            Some((f64::NAN, 0.9)),
        ];
        assert_eq!(
            frontier(&points, Direction::Higher),
            [
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                None,
                None
            ]
        );
        // For MAPE lower is better: (2.0, 0.85) beats (2.0, 0.9) and (3.0, 0.9).
        assert_eq!(
            frontier(&points[..4], Direction::Lower),
            [Some(true), Some(false), Some(false), Some(false)]
        );
    }

    fn point() -> impl Strategy<Value = Option<(f64, f64)>> {
        // Few distinct values, so that ties are common.
        prop::option::weighted(
            0.95,
            (0u8..8, 0u8..8).prop_map(|(c, q)| (f64::from(c), f64::from(q) / 8.0)),
        )
    }

    proptest! {
        #[test]
        fn no_frontier_point_is_dominated_and_every_other_is(
            points in prop::collection::vec(point(), 0..40),
            lower in any::<bool>(),
        ) {
            let direction = if lower { Direction::Lower } else { Direction::Higher };
            let on = frontier(&points, direction);
            for (i, p) in points.iter().enumerate() {
                let Some(p) = p else { prop_assert_eq!(on[i], None); continue; };
                let others = points.iter().flatten();
                if on[i] == Some(true) {
                    prop_assert!(!others.clone().any(|q| dominates(*q, *p, direction)), "{:?} is dominated", p);
                } else {
                    let covered = points.iter().zip(&on).any(|(q, f)| {
                        *f == Some(true) && q.is_some_and(|q| dominates(q, *p, direction))
                    });
                    prop_assert!(covered, "{:?} is dominated by no frontier point", p);
                }
            }
        }

        #[test]
        fn the_recommendation_meets_every_constraint_and_is_cheapest(
            runs in prop::collection::vec((50u32..99, 1u32..300, 1u32..2000, 1i64..500), 1..12),
            floor in 60u32..98,
            ceiling in 10u32..300,
        ) {
            let setup = setup(&format!("f1 >= 0.{floor}\np95 <= {ceiling}"));
            let specs: Vec<RunSpec> = runs
                .iter()
                .enumerate()
                .map(|(i, (f1, p95, rps, price))| {
                    self_hosted(&format!("r{i}"), f64::from(*f1) / 100.0, f64::from(*p95), f64::from(*rps), *price)
                })
                .collect();
            let refs: Vec<&RunSpec> = specs.iter().collect();
            let evaluations: Vec<Evaluation> = specs.iter().map(|s| evaluate(&setup, s, None)).collect();
            match recommend(&setup, &refs, &evaluations) {
                Recommendation::Choose { run, .. } => {
                    let chosen = &specs[run];
                    prop_assert!(chosen.metrics["f1"] >= f64::from(floor) / 100.0);
                    prop_assert!(chosen.latency_ms.p95.unwrap_or(f64::MAX) <= f64::from(ceiling));
                    for e in evaluations.iter().filter(|e| e.meets_all) {
                        prop_assert!(evaluations[run].monthly <= e.monthly);
                    }
                }
                Recommendation::NoneMeets { blockers, .. } => {
                    prop_assert!(evaluations.iter().all(|e| !e.meets_all));
                    prop_assert_eq!(blockers.len(), specs.len().min(BLOCKERS_SHOWN));
                }
                Recommendation::NoRuns => prop_assert!(false, "there are runs"),
            }
        }

        #[test]
        fn normalized_values_stay_between_0_and_1_and_keep_their_order(
            values in prop::collection::vec(prop::option::of(-1e6f64..1e6), 0..30),
            higher in any::<bool>(),
        ) {
            let scaled = normalize(&values, higher);
            for (i, a) in values.iter().enumerate() {
                prop_assert_eq!(a.is_some(), scaled[i].is_some());
                let Some(sa) = scaled[i] else { continue };
                prop_assert!((0.0..=1.0).contains(&sa));
                for (j, b) in values.iter().enumerate() {
                    if let (Some(a), Some(b), Some(sb)) = (a, b, scaled[j]) {
                        let ordered = if higher { sa <= sb } else { sa >= sb };
                        if a < b { prop_assert!(ordered, "{} < {} but {} vs {}", a, b, sa, sb); }
                    }
                }
            }
        }

        #[test]
        fn a_crossover_is_where_the_cheaper_side_changes(
            floor in 1u32..10_000, own in 0u32..1000, hosted in 1u32..5000,
        ) {
            let own = CostCurve { floor: Decimal::from(floor), per_thousand: Decimal::new(i64::from(own), 3) };
            let hosted = CostCurve { floor: Decimal::ZERO, per_thousand: Decimal::new(i64::from(hosted), 3) };
            match crossover(&own, &hosted) {
                Some(volume) => {
                    prop_assert!(own.monthly(volume) <= hosted.monthly(volume));
                    prop_assert!(own.monthly(volume * 10) <= hosted.monthly(volume * 10));
                    if volume > 0 {
                        prop_assert!(own.monthly(volume - 1) > hosted.monthly(volume - 1));
                    }
                }
                None => {
                    for volume in WHAT_IF_VOLUMES {
                        prop_assert!(own.monthly(volume) > hosted.monthly(volume) || own.per_thousand >= hosted.per_thousand);
                    }
                }
            }
        }
    }
}
