//! Pipelines: models chained in stages (candidate generation, then a ranker scoring the top of its
//! list), whose SLA, traffic and bill belong to the whole. Each stage has its candidates (runs of
//! an experiment), the share of requests that reach it and its fan-out (items it scores per
//! request reaching it); every combination of one candidate per stage is priced and timed end to
//! end (`search`), with its latency combined from the stages' distributions (`latency`).

pub mod latency;
pub mod search;

use serde::{Deserialize, Serialize};

/// One candidate of a stage, as its experiment measured it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The run's key in its experiment.
    pub run: String,
    pub name: String,
    /// Cost per 1,000 items the stage scores with it, in the pipeline's currency.
    pub cost_per_1k: f64,
    /// Latency of one call of the stage (however many items it scores), in milliseconds.
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// The experiment's primary metric, where measured.
    pub quality: Option<f64>,
}

/// A stage: its candidates, the share of the pipeline's requests that reach it, and the items it
/// scores for each request that does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    /// 0 to 1: a stage that only some requests reach (a fallback, a re-ranker for logged-in users).
    pub share: f64,
    /// Items scored per request reaching it: 1 for a model called once, 100 for a ranker scoring
    /// a hundred candidates.
    pub fan_out: f64,
    pub candidates: Vec<Candidate>,
}

impl Stage {
    /// What one pipeline request costs in this stage with candidate `c`.
    pub fn cost_per_request(&self, c: &Candidate) -> f64 {
        self.share * self.fan_out * c.cost_per_1k / 1000.0
    }
}
