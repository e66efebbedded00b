//! An experiment with every figure its pages show, worked out once on the server from the stored
//! runs: what each run costs, its checks, the recommendation, the frontiers, the what-if table, the
//! crossovers and the saved cascades.

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::run::RunSpec;
use super::select::{
    self, cascade, crossover, evaluate, explain, frontier, recommend, CascadeInput, CascadeOutcome,
    CascadeSide, Check, CostCurve, MatrixRow, Recommendation, WHAT_IF_VOLUMES,
};
use super::{Experiment, Mode};

/// The most runs a page lists; the recommendation, frontier and counts always cover every run.
pub const RUNS_SHOWN: usize = 50;

/// A run as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredRun {
    pub run_id: Uuid,
    pub spec: RunSpec,
    /// "name version" of the registry version it is linked to.
    pub model_version: Option<String>,
    /// Where the hardware's price per hour came from: "typed" or the catalog row.
    pub price_source: String,
    pub measured_per_thousand: Option<Decimal>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Scenario {
    pub scenario_id: Uuid,
    pub name: String,
    pub cheap_run_id: Uuid,
    pub expensive_run_id: Uuid,
    pub input: CascadeInput,
    pub threshold: Option<f64>,
}

/// One run with its figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunRow {
    pub run_id: Uuid,
    pub run_key: String,
    pub name: String,
    pub model_version: Option<String>,
    pub inference: String,
    pub is_api: bool,
    pub hardware: String,
    pub price_source: String,
    pub metrics: BTreeMap<String, f64>,
    pub quality: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub batch_p95_ms: Option<f64>,
    pub throughput_rps: Option<f64>,
    pub curve: Option<CostCurve>,
    pub basis: String,
    pub per_thousand: Option<Decimal>,
    /// A language model's output tokens per request, when the run says.
    pub output_tokens_per_request: Option<f64>,
    /// What 1M output tokens cost at the run's cost per 1,000 requests: the whole cost of the
    /// requests that write them, their input included, as an API bill reads per output token.
    pub per_million_output_tokens: Option<Decimal>,
    pub monthly: Option<Decimal>,
    pub training_cost: Option<Decimal>,
    pub engineering_hours: Option<f64>,
    pub checks: Vec<Check>,
    pub meets_all: bool,
    pub recommended: bool,
    /// On the quality/cost frontier; `None` when quality or cost is missing.
    pub on_cost_frontier: Option<bool>,
    /// On the quality/p95 latency frontier.
    pub on_latency_frontier: Option<bool>,
    /// Monthly cost at each of `WHAT_IF_VOLUMES`.
    pub what_if: Vec<Option<Decimal>>,
    /// The run this one was made from (its key) and how.
    #[serde(default)]
    pub derived_from: Option<super::run::Derivation>,
    /// How its cost is worked out, with the inputs and where its price came from.
    #[serde(default)]
    pub explanation: String,
}

impl RunRow {
    pub fn matrix_row(&self) -> MatrixRow {
        MatrixRow {
            quality: self.quality,
            monthly_cost: self.monthly.and_then(|m| m.to_f64()),
            p95_ms: self.p95_ms,
        }
    }

    pub fn cascade_side(&self) -> Option<CascadeSide> {
        Some(CascadeSide {
            curve: self.curve?,
            p95_ms: self.p95_ms,
            quality: self.quality,
        })
    }
}

/// Where a self-hosted run becomes cheaper than an API-priced one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CrossoverRow {
    pub self_hosted: String,
    pub api: String,
    /// Requests per month from which the self-hosted run costs no more; `None`: never.
    pub volume: Option<u64>,
    /// The same volume in output tokens a month, when the runs count tokens.
    pub output_tokens: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ScenarioRow {
    pub scenario: Scenario,
    pub cheap: String,
    pub expensive: String,
    pub outcome: Option<CascadeOutcome>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ExperimentView {
    pub experiment: Experiment,
    /// Runs that meet every constraint first, cheapest first; at most `RUNS_SHOWN`.
    pub runs: Vec<RunRow>,
    pub total_runs: usize,
    pub passing_runs: usize,
    pub recommendation: String,
    /// When nothing meets every constraint: each run's blocking reasons, closest first.
    pub blockers: Vec<(String, Vec<String>)>,
    /// (metric name, label): the primary metric first.
    pub metric_columns: Vec<(String, String)>,
    pub crossovers: Vec<CrossoverRow>,
    pub scenarios: Vec<ScenarioRow>,
    /// Each run made from another (quantized, pruned, distilled, compiled) against its parent,
    /// by technique.
    #[serde(default)]
    pub compression: Vec<CompressionRow>,
}

/// A run made from another of the experiment, against its parent: what the technique saved and
/// what it cost in quality and latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CompressionRow {
    pub technique: super::run::Technique,
    pub run: String,
    pub parent: String,
    /// The parent's monthly cost less the run's, at the experiment's volume.
    pub saving_monthly: Option<Decimal>,
    /// The saving as a share of the parent's cost, in percent.
    pub saving_pct: Option<f64>,
    /// The run's primary metric less the parent's (negative when it lost quality).
    pub quality_delta: Option<f64>,
    /// The run's p95 less the parent's, in milliseconds.
    pub p95_delta_ms: Option<f64>,
}

/// Each derived run whose parent is among the runs, against it; by technique, then the largest
/// saving first.
fn compression(stored: &[StoredRun], evaluations: &[select::Evaluation]) -> Vec<CompressionRow> {
    let mut rows: Vec<CompressionRow> = stored
        .iter()
        .enumerate()
        .filter_map(|(i, run)| {
            let derivation = run.spec.derived_from.as_ref()?;
            let p = stored
                .iter()
                .position(|r| r.spec.run_key == derivation.parent)?;
            let (child, parent) = (&evaluations[i], &evaluations[p]);
            let saving = parent.monthly.zip(child.monthly).map(|(a, b)| a - b);
            Some(CompressionRow {
                technique: derivation.technique,
                run: run.spec.name.clone(),
                parent: stored[p].spec.name.clone(),
                saving_monthly: saving,
                saving_pct: saving.zip(parent.monthly).and_then(|(saved, of)| {
                    (!of.is_zero()).then(|| (saved / of).to_f64().unwrap_or_default() * 100.0)
                }),
                quality_delta: child.quality.zip(parent.quality).map(|(a, b)| a - b),
                p95_delta_ms: child.p95_ms.zip(parent.p95_ms).map(|(a, b)| a - b),
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        a.technique
            .cmp(&b.technique)
            .then(b.saving_monthly.cmp(&a.saving_monthly))
    });
    rows
}

/// Works out every figure over every run; lists at most `limit` runs (the first in the page's
/// order), and only those are put into words.
pub fn build(
    experiment: Experiment,
    stored: &[StoredRun],
    scenarios: Vec<Scenario>,
    limit: usize,
) -> ExperimentView {
    let setup = experiment.setup();
    let evaluations: Vec<select::Evaluation> = stored
        .iter()
        .map(|run| evaluate(&setup, &run.spec, run.measured_per_thousand))
        .collect();
    let specs: Vec<&RunSpec> = stored.iter().map(|r| &r.spec).collect();
    let recommendation = recommend(&setup, &specs, &evaluations);
    let cost_points: Vec<Option<(f64, f64)>> = evaluations
        .iter()
        .map(|e| e.per_thousand.and_then(|c| c.to_f64()).zip(e.quality))
        .collect();
    let latency_points: Vec<Option<(f64, f64)>> = evaluations
        .iter()
        .map(|e| e.p95_ms.zip(e.quality))
        .collect();
    let on_cost = frontier(&cost_points, setup.direction);
    let on_latency = frontier(&latency_points, setup.direction);
    let name = |i: usize| stored[i].spec.name.clone();
    let (chosen, sentence, blockers) = match recommendation {
        Recommendation::Choose { run, sentence } => (Some(run), sentence, Vec::new()),
        Recommendation::NoneMeets { sentence, blockers } => (
            None,
            sentence,
            blockers
                .into_iter()
                .map(|(i, reasons)| (name(i), reasons))
                .collect(),
        ),
        Recommendation::NoRuns => (
            None,
            "No runs yet: add candidates to see which one to choose.".to_owned(),
            Vec::new(),
        ),
    };
    let metric_columns = select::metric_columns(&setup.primary_metric, &specs);
    let passing_runs = evaluations.iter().filter(|e| e.meets_all).count();
    let total_runs = stored.len();

    // The recommended run first, then those meeting every constraint, cheapest first.
    let mut order: Vec<usize> = (0..stored.len()).collect();
    order.sort_by(|&a, &b| {
        let (ea, eb) = (&evaluations[a], &evaluations[b]);
        (chosen == Some(b))
            .cmp(&(chosen == Some(a)))
            .then(eb.meets_all.cmp(&ea.meets_all))
            .then_with(|| match (ea.monthly, eb.monthly) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| stored[a].spec.name.cmp(&stored[b].spec.name))
    });

    let scenarios = scenarios
        .into_iter()
        .map(|scenario| {
            let side = |id: Uuid| {
                let i = stored.iter().position(|r| r.run_id == id)?;
                let e = &evaluations[i];
                Some((
                    name(i),
                    e.curve.map(|curve| CascadeSide {
                        curve,
                        p95_ms: e.p95_ms,
                        quality: e.quality,
                    }),
                ))
            };
            scenario_row(
                scenario.clone(),
                side(scenario.cheap_run_id),
                side(scenario.expensive_run_id),
                experiment.monthly_volume,
            )
        })
        .collect();

    let rows: Vec<RunRow> = order
        .into_iter()
        .take(limit)
        .map(|i| {
            let run = &stored[i];
            let evaluation = &evaluations[i];
            let spec = &run.spec;
            let (mut basis, checks) = explain(&setup, spec, evaluation);
            if spec.inference.is_api() && !run.price_source.is_empty() {
                basis = format!("{basis}; {}", run.price_source);
            }
            let explanation = explanation(
                spec,
                evaluation,
                &basis,
                &run.price_source,
                experiment.monthly_volume,
                &experiment.currency,
            );
            RunRow {
                run_id: run.run_id,
                run_key: spec.run_key.clone(),
                name: spec.name.clone(),
                model_version: run.model_version.clone(),
                inference: spec.inference.label().to_owned(),
                is_api: spec.inference.is_api(),
                hardware: spec
                    .hardware
                    .as_ref()
                    .map(|h| h.describe())
                    .unwrap_or_default(),
                price_source: run.price_source.clone(),
                metrics: spec.metrics.clone(),
                quality: evaluation.quality,
                p50_ms: spec.latency_ms.p50,
                p95_ms: spec.latency_ms.p95,
                p99_ms: spec.latency_ms.p99,
                batch_p95_ms: spec.batch_latency_ms.p95,
                throughput_rps: spec.throughput_rps,
                what_if: WHAT_IF_VOLUMES
                    .iter()
                    .map(|v| evaluation.curve.map(|c| c.monthly(*v)))
                    .collect(),
                curve: evaluation.curve,
                basis,
                per_thousand: evaluation.per_thousand,
                output_tokens_per_request: spec.output_tokens_per_request(),
                per_million_output_tokens: evaluation
                    .per_thousand
                    .zip(spec.output_tokens_per_request())
                    .and_then(|(cost, tokens)| select::per_million_output_tokens(cost, tokens)),
                monthly: evaluation.monthly,
                training_cost: evaluation.training_cost,
                engineering_hours: spec.engineering_hours,
                checks,
                meets_all: evaluation.meets_all,
                recommended: chosen == Some(i),
                on_cost_frontier: on_cost[i],
                on_latency_frontier: on_latency[i],
                derived_from: spec.derived_from.clone(),
                explanation,
            }
        })
        .collect();
    let compression = compression(stored, &evaluations);
    let crossovers = crossovers(&rows, experiment.mode);
    ExperimentView {
        experiment,
        runs: rows,
        total_runs,
        passing_runs,
        recommendation: sentence,
        blockers,
        metric_columns,
        crossovers,
        scenarios,
        compression,
    }
}

/// What the recommendation would be were the experiment served the other way (in batch instead
/// of in real time, or back); `None` for one served both ways or without runs.
pub fn other_mode(experiment: &Experiment, stored: &[StoredRun]) -> Option<String> {
    let mut setup = experiment.setup();
    setup.mode = match setup.mode {
        Mode::RealTime => Mode::Batch,
        Mode::Batch => Mode::RealTime,
        Mode::Both => return None,
    };
    let evaluations: Vec<select::Evaluation> = stored
        .iter()
        .map(|run| evaluate(&setup, &run.spec, run.measured_per_thousand))
        .collect();
    let specs: Vec<&RunSpec> = stored.iter().map(|r| &r.spec).collect();
    let sentence = match recommend(&setup, &specs, &evaluations) {
        Recommendation::Choose { sentence, .. } | Recommendation::NoneMeets { sentence, .. } => {
            sentence
        }
        Recommendation::NoRuns => return None,
    };
    let how = if setup.mode == Mode::Batch {
        "in batch"
    } else {
        "in real time"
    };
    Some(format!("Served {how} instead: {sentence}"))
}

/// A run's cost in words: the figure, the formula with its inputs, the price's source and date,
/// and what it comes to at the experiment's volume.
fn explanation(
    spec: &RunSpec,
    evaluation: &select::Evaluation,
    basis: &str,
    price_source: &str,
    volume: u64,
    currency: &str,
) -> String {
    use crate::format::{format_count, format_money};
    let Some(per_thousand) = evaluation.per_thousand else {
        return basis.to_owned();
    };
    let formula = match spec.inference {
        super::Inference::SelfHosted => {
            "the machine's price per hour ÷ the requests it serves in an hour (requests/s × 3,600) × 1,000"
        }
        super::Inference::Measured { .. } => {
            "what the deployment cost ÷ the requests it served × 1,000"
        }
        super::Inference::ApiTokens { .. } => {
            "the tokens one request reads and writes × their prices per 1,000 tokens × 1,000"
        }
        super::Inference::ApiRequest { .. } => "the price per request × 1,000",
    };
    let source = if !spec.inference.is_api() && !price_source.is_empty() {
        format!(" Price: {price_source}.")
    } else {
        String::new()
    };
    let monthly = evaluation
        .monthly
        .map(|m| {
            format!(
                " At {} requests a month: {} a month.",
                format_count(i64::try_from(volume).unwrap_or(i64::MAX)),
                format_money(m, currency)
            )
        })
        .unwrap_or_default();
    format!(
        "{} per 1,000 requests = {formula}: {basis}.{source}{monthly}",
        format_money(per_thousand, currency)
    )
}

/// Every pair of a self-hosted run with capacity always on and an API-priced run, among the first
/// runs shown.
fn crossovers(rows: &[RunRow], mode: Mode) -> Vec<CrossoverRow> {
    if mode == Mode::Batch {
        return Vec::new();
    }
    let shown = &rows[..rows.len().min(RUNS_SHOWN)];
    let mut pairs = Vec::new();
    for own in shown.iter().filter(|r| !r.is_api) {
        let Some(own_curve) = own.curve.filter(|c| !c.floor.is_zero()) else {
            continue;
        };
        for api in shown.iter().filter(|r| r.is_api) {
            let Some(api_curve) = api.curve else { continue };
            let volume = crossover(&own_curve, &api_curve);
            // The same workload on both sides: the API run's tokens, else the own run's.
            let tokens = api
                .output_tokens_per_request
                .or(own.output_tokens_per_request);
            pairs.push(CrossoverRow {
                self_hosted: own.name.clone(),
                api: api.name.clone(),
                volume,
                output_tokens: volume
                    .zip(tokens)
                    .map(|(volume, tokens)| (volume as f64 * tokens).round() as u64),
            });
            if pairs.len() >= 50 {
                return pairs;
            }
        }
    }
    pairs
}

/// A saved scenario worked out; each side is the run's name and, when it is priced, its cost,
/// latency and quality. `None` for a run deleted since.
pub fn scenario_row(
    scenario: Scenario,
    cheap: Option<(String, Option<CascadeSide>)>,
    expensive: Option<(String, Option<CascadeSide>)>,
    volume: u64,
) -> ScenarioRow {
    let outcome = cheap
        .as_ref()
        .and_then(|(_, side)| *side)
        .zip(expensive.as_ref().and_then(|(_, side)| *side))
        .map(|(c, e)| cascade(&c, &e, &scenario.input, volume));
    let name = |side: Option<(String, Option<CascadeSide>)>| {
        side.map_or_else(|| "a removed run".to_owned(), |(name, _)| name)
    };
    ScenarioRow {
        cheap: name(cheap),
        expensive: name(expensive),
        scenario,
        outcome,
    }
}
