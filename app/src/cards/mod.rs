//! Model cards that include cost: per version, metadata in the Hugging Face vocabulary, Markdown
//! sections, and a cost section Pareto computes from the ledger. Every edit is a revision.

mod page;
#[cfg(feature = "ssr")]
pub mod readme;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::CardPage;
pub use server_fns::*;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::ModelStatus;
use crate::format::{format_money, format_number};

/// The sections a card is expected to have, as `##` headings.
pub const SECTIONS: [&str; 6] = [
    "Intended use",
    "Out-of-scope use",
    "Limitations",
    "Ethical considerations",
    "Training data",
    "Evaluation",
];

/// The Markdown a new card starts from.
pub fn template(model: &str, version: &str) -> String {
    let mut text = format!("# {model} {version}\n\nWhat the model does, in a sentence or two.\n");
    for section in SECTIONS {
        text.push_str(&format!("\n## {section}\n\n"));
    }
    text
}

/// The expected sections a body lacks (or leaves empty).
pub fn missing_sections(body: &str) -> Vec<String> {
    let lines: Vec<&str> = body.lines().collect();
    SECTIONS
        .iter()
        .filter(|section| {
            let Some(start) = lines.iter().position(|line| {
                line.trim_start_matches('#')
                    .trim()
                    .eq_ignore_ascii_case(section)
                    && line.starts_with("##")
            }) else {
                return true;
            };
            // empty when nothing but blank lines comes before the next heading
            !lines[start + 1..]
                .iter()
                .take_while(|line| !line.starts_with('#'))
                .any(|line| !line.trim().is_empty())
        })
        .map(|section| (*section).to_owned())
        .collect()
}

/// The metadata fields the editor offers, as typed (lists comma-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataForm {
    pub license: String,
    pub language: String,
    pub datasets: String,
    pub base_model: String,
    pub pipeline_tag: String,
    pub tags: String,
}

/// One revision as the history lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionInfo {
    pub revision: i32,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One figure of the cost section: its value in words, how it was computed, and over what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostFigure {
    pub key: String,
    pub label: String,
    pub value: Option<String>,
    pub basis: String,
}

/// The cost section: computed from the ledger when the card is shown or exported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CardCost {
    pub computed_at: DateTime<Utc>,
    pub currency: Option<String>,
    pub training_cost: Option<Decimal>,
    pub training_basis: String,
    pub cost_per_1k: Option<Decimal>,
    pub cost_per_1k_basis: String,
    /// For a language model whose servers count tokens: a million output tokens (their part of
    /// the cost by the prefill/decode rule).
    #[serde(default)]
    pub cost_per_1m_output: Option<Decimal>,
    pub gpu_model: Option<String>,
    pub energy_kwh_per_1k: Option<f64>,
    pub monthly_requests: Option<i64>,
    pub projected_monthly: Option<Decimal>,
    pub quarter: String,
    pub quarter_billed: Option<Decimal>,
    pub quarter_measured: Option<Decimal>,
}

impl CardCost {
    fn money(&self, value: Option<Decimal>) -> Option<String> {
        value.map(|v| format_money(v, self.currency.as_deref().unwrap_or("")))
    }

    /// The section as the card page shows it.
    pub fn figures(&self) -> Vec<CostFigure> {
        let figure = |key: &str, label: &str, value: Option<String>, basis: String| CostFigure {
            key: key.to_owned(),
            label: label.to_owned(),
            value,
            basis,
        };
        vec![
            figure(
                "training_cost",
                "Training cost",
                self.money(self.training_cost),
                self.training_basis.clone(),
            ),
            figure(
                "cost_per_1k",
                "Cost per 1,000 requests",
                self.money(self.cost_per_1k),
                self.cost_per_1k_basis.clone(),
            ),
            figure(
                "cost_per_1m_output_tokens",
                "Cost per 1M output tokens",
                self.money(self.cost_per_1m_output),
                match self.cost_per_1m_output {
                    Some(_) => "The cost of the requests whose servers counted tokens in the last 30 days, split between input and output tokens by the README's cost model (an output token is 4 input tokens' work), over the output tokens.".into(),
                    None => "Its servers count no tokens (not a language model, or no token telemetry).".into(),
                },
            ),
            figure(
                "gpu_model",
                "GPU model",
                self.gpu_model.clone(),
                "The GPU that served most of the version's GPU-hours in the last 30 days.".into(),
            ),
            figure(
                "energy_per_1k",
                "Energy per 1,000 requests",
                self.energy_kwh_per_1k.map(|v| format!("{} kWh", format_number(v))),
                "Power the GPUs reported over the last 30 days, divided by the requests served."
                    .into(),
            ),
            figure(
                "projected_monthly_cost",
                "Projected monthly cost",
                self.money(self.projected_monthly),
                match self.monthly_requests {
                    Some(requests) => format!(
                        "Cost per 1,000 requests × {} requests a month (the last 7 days' volume).",
                        crate::format::format_count(requests)
                    ),
                    None => "No requests in the last 7 days.".into(),
                },
            ),
            figure(
                "last_quarter_billed",
                &format!("TCO {} (billed)", self.quarter),
                self.money(self.quarter_billed),
                "Current bill lines the allocation rules gave to the model in the quarter.".into(),
            ),
            figure(
                "last_quarter_measured",
                &format!("TCO {} (measured)", self.quarter),
                self.money(self.quarter_measured),
                "Telemetry of the version's deployments in the quarter, priced by the GPU price catalog."
                    .into(),
            ),
        ]
    }

    /// The section as the README's `pareto` metadata key holds it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut figures = serde_json::Map::new();
        figures.insert(
            "computed_at".into(),
            serde_json::Value::String(self.computed_at.to_rfc3339()),
        );
        if let Some(currency) = &self.currency {
            figures.insert("currency".into(), currency.clone().into());
        }
        let decimal = |value: Option<Decimal>| value.map(|v| v.normalize().to_string());
        let entries = [
            (
                "training_cost",
                decimal(self.training_cost),
                &self.training_basis,
            ),
            (
                "cost_per_1k",
                decimal(self.cost_per_1k),
                &self.cost_per_1k_basis,
            ),
        ];
        for (key, value, basis) in entries {
            figures.insert(
                key.into(),
                serde_json::json!({ "value": value, "basis": basis }),
            );
        }
        if let Some(value) = decimal(self.cost_per_1m_output) {
            figures.insert("cost_per_1m_output_tokens".into(), value.into());
        }
        if let Some(gpu) = &self.gpu_model {
            figures.insert("gpu_model".into(), gpu.clone().into());
        }
        if let Some(energy) = self.energy_kwh_per_1k {
            figures.insert(
                "energy_kwh_per_1k".into(),
                serde_json::Value::String(format!("{energy:.6}")),
            );
        }
        if let (Some(value), Some(requests)) = (self.projected_monthly, self.monthly_requests) {
            figures.insert(
                "projected_monthly_cost".into(),
                serde_json::json!({ "value": value.normalize().to_string(), "monthly_requests": requests }),
            );
        }
        figures.insert(
            "last_quarter_tco".into(),
            serde_json::json!({
                "quarter": self.quarter,
                "billed": decimal(self.quarter_billed),
                "measured": decimal(self.quarter_measured),
            }),
        );
        serde_json::Value::Object(figures)
    }
}

/// Everything the card page shows for one version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CardView {
    pub model_id: Uuid,
    pub model: String,
    pub model_version_id: Uuid,
    pub version: String,
    pub status: ModelStatus,
    /// The model's versions, to switch between their cards.
    pub versions: Vec<(Uuid, String)>,
    pub current: Option<RevisionInfo>,
    pub revisions: Vec<RevisionInfo>,
    /// The metadata to show, as (key, value in words).
    pub metadata: Vec<(String, String)>,
    pub form: MetadataForm,
    pub body: String,
    pub html: String,
    pub missing_sections: Vec<String>,
    pub cost: CardCost,
}

/// Everything the card page shows: the card with the version's latest promotion request (the
/// reviews feature's), put together by `load_card`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CardPageData {
    /// Flattened: the answer has the shape it had when the cards store assembled it.
    #[serde(flatten)]
    pub card: CardView,
    /// The version's latest promotion request, if any.
    pub review: Option<crate::reviews::PromotionRequest>,
    /// Guardrails the version's deployments break, waived or not (the guardrails feature's).
    pub breaches: Vec<crate::guardrails::Breach>,
    /// The experiments that evaluated the version (the experiments feature's), each with its
    /// evaluation report.
    #[serde(default)]
    pub evaluations: Vec<crate::experiments::Evaluation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffLineKind {
    Same,
    Added,
    Removed,
    /// A run of unchanged lines folded away; its text says how many.
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    pub kind: DiffLineKind,
    pub text: String,
}

/// A comma-separated list as typed: trimmed, empty items dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_has_every_section_and_they_count_as_missing_until_written() {
        let body = template("fraud-lgbm", "v3");
        assert_eq!(missing_sections(&body).len(), SECTIONS.len());
        let written = body.replace(
            "## Limitations\n",
            "## Limitations\n\nCold-start merchants.\n",
        );
        let missing = missing_sections(&written);
        assert!(!missing.contains(&"Limitations".to_owned()));
        assert_eq!(missing.len(), SECTIONS.len() - 1);
    }

    #[test]
    fn lists_are_typed_with_commas() {
        assert_eq!(split_list(" en, de ,,fr "), ["en", "de", "fr"]);
        assert!(split_list(" ").is_empty());
    }
}
