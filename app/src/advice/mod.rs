//! Advice with money on it: for each deployment, what to change and what it would have saved over
//! the last 30 days, from its hourly telemetry: GPU counts right-sized, an autoscaler and
//! scale-to-zero simulated hour by hour, GPUs nothing ran on released (`simulate`), and the spot
//! rate for batch jobs and a share of real-time serving (`simulate::spot`); and when to retrain,
//! from how fast measured quality decays against what training costs (`retrain`).

pub mod bottleneck;
mod page;
pub mod retrain;
#[cfg(feature = "ssr")]
pub mod retrain_store;
mod server_fns;
pub mod simulate;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::{AdviceCard, AdvicePage, DiagnosisCard, RetrainingCard, ServingCard};
pub use server_fns::*;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Days of telemetry the advice reads, and the month its savings are stated for.
pub const WINDOW_DAYS: i64 = 30;

/// What a piece of advice proposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum AdviceKind {
    /// Hold a fixed, smaller number of GPUs.
    RightSize,
    /// Scale between a minimum and a maximum with the traffic.
    Autoscale,
    /// Scale with the traffic, to none in hours without requests.
    ScaleToZero,
    /// Give the GPUs back: nothing ran on them.
    Release,
    /// Pay the catalog's spot rate: all of it for a batch job, a share with on-demand fallback
    /// for real-time serving.
    Spot,
    /// Give the GPUs back: nothing has run on them for days, after traffic before.
    Idle,
    /// Promote or retire a version that has sat in staging for months, holding GPUs.
    Stale,
    /// Move to a cheaper card: the GPUs mostly wait and their memory fits a smaller one.
    Bottleneck,
}

impl AdviceKind {
    pub fn label(self) -> &'static str {
        match self {
            AdviceKind::RightSize => "Right-size",
            AdviceKind::Autoscale => "Autoscale",
            AdviceKind::ScaleToZero => "Scale to zero",
            AdviceKind::Release => "Release",
            AdviceKind::Spot => "Spot",
            AdviceKind::Idle => "Idle",
            AdviceKind::Stale => "Stale version",
            AdviceKind::Bottleneck => "Cheaper card",
        }
    }
}

/// One deployment's advice: what to change, the saving per month at the last 30 days' traffic, the
/// figures it used and the risk it takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Advice {
    pub deployment: String,
    /// "name version" when the deployment is linked to a model version.
    pub model: Option<String>,
    pub kind: AdviceKind,
    /// What to change, in a sentence.
    pub action: String,
    pub saving_per_month: Decimal,
    /// What the deployment cost over the window, for scale.
    pub cost_per_month: Decimal,
    pub currency: String,
    /// The figures the advice used, each a sentence.
    pub figures: Vec<String>,
    pub risk: String,
}

/// Every deployment's advice, largest saving first, with the settings they were simulated at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdviceList {
    pub advice: Vec<Advice>,
    /// Deployments read, with or without advice.
    pub deployments: usize,
    pub settings: simulate::Settings,
    /// Each deployment's retraining plan from its measured quality, due ones first.
    pub retraining: Vec<retrain::Retraining>,
    /// What holds each measured deployment back, in key order.
    pub diagnoses: Vec<bottleneck::Diagnosis>,
}

/// The p95 a deployment is held to, and who said so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub ms: f64,
    /// "set by a lead", "the SLA of experiment Fraud scoring".
    pub source: String,
}

impl Target {
    /// A lead's target wins; else the first `p95 <= N ms` of the experiment's SLA.
    pub fn of(lead_ms: Option<f64>, experiment: Option<(&str, &[String])>) -> Option<Target> {
        use crate::experiments::{Constraint, Limit, Subject};
        use rust_decimal::prelude::ToPrimitive;
        if let Some(ms) = lead_ms {
            return Some(Target {
                ms,
                source: "set by a lead on its page".into(),
            });
        }
        let (name, constraints) = experiment?;
        constraints.iter().find_map(|text| {
            let constraint = text.parse::<Constraint>().ok()?;
            (constraint.subject == Subject::P95LatencyMs && constraint.limit == Limit::AtMost).then(
                || Target {
                    ms: constraint.bound.to_f64().unwrap_or_default(),
                    source: format!("the SLA of experiment {name}"),
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leads_target_wins_over_the_experiments_sla() {
        let sla = vec!["f1 >= 0.9".to_owned(), "p95 <= 150 ms".to_owned()];
        let from_sla = Target::of(None, Some(("Fraud scoring", &sla))).expect("a target");
        assert_eq!(from_sla.ms, 150.0);
        assert_eq!(from_sla.source, "the SLA of experiment Fraud scoring");
        let lead = Target::of(Some(80.0), Some(("Fraud scoring", &sla))).expect("a target");
        assert_eq!(
            (lead.ms, lead.source.as_str()),
            (80.0, "set by a lead on its page")
        );
        // A floor on latency is no target, nor is an SLA without latency.
        let floor = vec!["p95 >= 500 ms".to_owned(), "f1 >= 0.9".to_owned()];
        assert_eq!(Target::of(None, Some(("Batch", &floor))), None);
        assert_eq!(Target::of(None, None), None);
    }
}
