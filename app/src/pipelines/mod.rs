//! Pipelines: models chained in stages (candidate generation, then a ranker scoring the top of its
//! list), whose SLA, traffic and bill belong to the whole. Each stage has its candidates (runs of
//! an experiment), the share of requests that reach it and its fan-out (items it scores per
//! request reaching it); every combination of one candidate per stage is priced and timed end to
//! end (`search`), with its latency combined from the stages' distributions (`latency`).

pub mod hybrid;
pub mod latency;
mod page;
pub mod portfolio;
mod portfolio_page;
#[cfg(feature = "ssr")]
pub mod report;
#[cfg(feature = "ssr")]
pub mod scenarios;
pub mod search;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::{PipelinePage, PipelinesPage};
pub use portfolio_page::PortfolioPage;
pub use server_fns::*;

use serde::{Deserialize, Serialize};

/// One candidate of a stage, as its experiment measured it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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

/// The most stages a pipeline has.
pub const MAX_STAGES: usize = 8;

/// One stage as people write it on a line: `name | experiment | share | fan-out`, e.g.
/// `ranker | Recommender ranking | 100% | 100`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StageSpec {
    pub name: String,
    /// The experiment's name (or id) whose runs are the stage's candidates.
    pub experiment: String,
    /// 0 to 1.
    pub share: f64,
    pub fan_out: f64,
}

impl StageSpec {
    /// Reads `name | experiment | share | fan-out`; share as `100%` or `1`, fan-out at least 1.
    pub fn parse(line: &str) -> Result<StageSpec, String> {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, experiment, share, fan_out] = parts[..] else {
            return Err(format!(
                "`{}`: write a stage as `name | experiment | share | fan-out`, e.g. `ranker | Recommender ranking | 100% | 100`.",
                line.trim()
            ));
        };
        let share = parse_share(share).ok_or_else(|| {
            format!("`{share}`: give the share of requests reaching the stage, from 1% to 100%.")
        })?;
        let fan_out = fan_out
            .trim_start_matches(['x', '×'])
            .trim()
            .replace(',', "")
            .parse::<f64>()
            .map_err(|_| {
                format!("`{fan_out}`: give the items scored per request, from 1 to 100,000.")
            })?;
        StageSpec {
            name: name.to_owned(),
            experiment: experiment.to_owned(),
            share,
            fan_out,
        }
        .checked()
    }

    /// The stage if its fields are in range, as a form line or the API gives them.
    pub fn checked(self) -> Result<StageSpec, String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err("Name each stage, in at most 80 characters.".into());
        }
        if !(self.share.is_finite() && self.share > 0.0 && self.share <= 1.0) {
            return Err(format!(
                "Stage “{name}”: give the share of requests reaching it, above 0 and at most 1 (100%)."
            ));
        }
        if !(self.fan_out.is_finite() && (1.0..=100_000.0).contains(&self.fan_out)) {
            return Err(format!(
                "Stage “{name}”: give the items scored per request, from 1 to 100,000."
            ));
        }
        if self.experiment.trim().is_empty() {
            return Err(format!(
                "Stage “{name}”: name the experiment whose runs it chooses from."
            ));
        }
        Ok(StageSpec {
            name: name.to_owned(),
            experiment: self.experiment.trim().to_owned(),
            ..self
        })
    }
}

/// `100%`, `10 %`, `0.1` or `1`: a share from above 0 to 1.
fn parse_share(text: &str) -> Option<f64> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().ok()? / 100.0,
        None => text.parse::<f64>().ok()?,
    };
    (value.is_finite() && value > 0.0 && value <= 1.0).then_some(value)
}

/// Reads a pipeline's stages, one per line in order; every bad line is named by its number.
pub fn parse_stages(text: &str) -> Result<Vec<StageSpec>, String> {
    count_stages(crate::experiments::constraint::parse_lines(
        text,
        StageSpec::parse,
    )?)
}

/// Checks stages given whole (the API's), each bad one named by its place.
pub fn check_stages(stages: Vec<StageSpec>) -> Result<Vec<StageSpec>, String> {
    let mut errors = Vec::new();
    let mut checked = Vec::new();
    for (index, stage) in stages.into_iter().enumerate() {
        match stage.checked() {
            Ok(stage) => checked.push(stage),
            Err(why) => errors.push(format!("stage {}: {why}", index + 1)),
        }
    }
    if !errors.is_empty() {
        return Err(errors.join(" "));
    }
    count_stages(checked)
}

fn count_stages(stages: Vec<StageSpec>) -> Result<Vec<StageSpec>, String> {
    if stages.is_empty() {
        return Err(
            "Give at least one stage, e.g. `ranker | Recommender ranking | 100% | 100`.".into(),
        );
    }
    if stages.len() > MAX_STAGES {
        return Err(format!("At most {MAX_STAGES} stages."));
    }
    Ok(stages)
}

/// A pipeline in the list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PipelineSummary {
    pub pipeline_id: uuid::Uuid,
    pub name: String,
    pub team: String,
    /// Stage names in order.
    pub stages: Vec<String>,
    pub sla: Vec<String>,
    pub monthly_volume: u64,
    pub currency: String,
    pub is_demo: bool,
}

/// A stage with its candidates priced at the traffic it sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StageView {
    pub stage: Stage,
    pub experiment_id: uuid::Uuid,
    pub experiment: String,
    /// Items it scores a month: the pipeline's volume × share × fan-out.
    pub items_per_month: u64,
    /// Runs left out, each with why ("fast-v2: no p95 latency").
    pub left_out: Vec<String>,
}

/// A pipeline with every figure its page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PipelineView {
    pub pipeline_id: uuid::Uuid,
    pub name: String,
    pub team_id: uuid::Uuid,
    pub team: String,
    pub description: String,
    /// The SLA as stored (`p95_ms <= 120`) and as read ("p95 latency ≤ 120 ms").
    pub sla: Vec<(String, String)>,
    pub monthly_volume: u64,
    pub currency: String,
    pub is_demo: bool,
    pub stages: Vec<StageView>,
    /// The last stage's primary metric, and whether higher is better.
    pub metric: String,
    pub higher_is_better: bool,
    pub found: Option<search::Found>,
    /// Why the search could not run.
    pub problem: Option<String>,
    /// Combinations whose quality was measured end to end: the run names in stage order, and the
    /// figure, which wins over the last stage's.
    #[serde(default)]
    pub measured: Vec<(Vec<String>, f64)>,
    /// The hybrid route in use, when a lead keeps one.
    #[serde(default)]
    pub route: Option<Route>,
}

/// A hybrid route kept on a pipeline: `share` of requests to the heavy candidate of a stage, the
/// rest to the light one, on the cheapest combination; worked out whenever the pipeline is read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Route {
    /// 0-based.
    pub stage: usize,
    /// Run keys.
    pub light: String,
    pub heavy: String,
    pub share: f64,
    /// The blend, or why it cannot be worked out now (a run removed since, say).
    pub blend: Option<hybrid::Blend>,
    pub problem: Option<String>,
}
