//! The model catalog: models, their versions and deployments, sorted into tiers by what they
//! measurably cost, how fast and how good they are.

mod model_page;
mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod tier;
mod tiers_page;

pub use model_page::ModelPage;
pub use page::CatalogPage;
pub use server_fns::*;
pub use tiers_page::TierRulesPage;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, Validator};
use crate::experiments::TaskType;
use crate::named_enum;
use tier::{Figures, Placement, Tier};

/// Days of telemetry the catalog's figures cover.
pub const WINDOW_DAYS: i64 = 30;

named_enum!(
    /// A version's life cycle. Production is where the review gate stands.
    ModelStatus, "status", "model_status" {
        Draft = "draft", "draft", [];
        Staging = "staging", "staging", [];
        Production = "production", "production", ["prod"];
        Retired = "retired", "retired", [];
    }
);

/// One model as the catalog lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogModel {
    pub model_id: Uuid,
    pub name: String,
    pub task: TaskType,
    pub team: Option<String>,
    pub description: String,
    /// Versions by status, newest first.
    pub versions: Vec<(String, ModelStatus)>,
    pub deployments: i64,
    /// The worst drift state of its deployments.
    pub drift: crate::drift::DriftState,
    pub figures: Figures,
    /// The metric that stands for the model's quality, and its value: the primary metric of the
    /// experiment run that evaluated its production (else newest) version.
    pub quality: Option<(String, f64)>,
    pub placement: Placement,
}

impl CatalogModel {
    /// The status that describes the model: production if any version is, else its newest one's.
    pub fn status(&self) -> Option<ModelStatus> {
        if self
            .versions
            .iter()
            .any(|(_, status)| *status == ModelStatus::Production)
        {
            Some(ModelStatus::Production)
        } else {
            self.versions.first().map(|(_, status)| *status)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub model_version_id: Uuid,
    pub version: String,
    pub framework: String,
    pub parameter_count: Option<i64>,
    pub artifact_uri: String,
    pub status: ModelStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The primary metric of the latest experiment run that evaluated this version, and its value.
    pub quality: Option<(String, f64)>,
}

/// A deployment of one of the model's versions, with its cost over the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDeployment {
    pub deployment_id: Uuid,
    pub key: String,
    pub drift: crate::drift::DriftState,
    /// The finding behind its drift state, when there is one to tell.
    pub drift_finding: Option<String>,
    pub version: String,
    pub requests: i64,
    pub cost: Option<(Decimal, String)>,
    pub cost_per_1k: Option<Decimal>,
    /// A million output tokens (their part of the cost by the prefill/decode rule), for a language
    /// model whose server counts tokens.
    pub cost_per_1m_output: Option<Decimal>,
    pub p95_ms: Option<f64>,
    pub last_seen_at: DateTime<Utc>,
}

/// One model as the catalog holds it: its figures, versions, deployments and weekly history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDetail {
    pub model: CatalogModel,
    pub team_id: Option<Uuid>,
    pub versions: Vec<Version>,
    pub deployments: Vec<ModelDeployment>,
    pub history: Vec<HistoryPoint>,
}

/// Everything the model page shows: the catalog's detail with what the reviews and alerts
/// features hold about the model, put together by `load_model` (each store reads its own tables).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelPageData {
    /// Flattened: the answer has the shape it had when the catalog's store assembled it.
    #[serde(flatten)]
    pub detail: ModelDetail,
    /// Promotion requests of the model's versions, open ones first.
    pub reviews: Vec<crate::reviews::PromotionRequest>,
    /// Alerts about the model's budget and its deployments' costs, newest first.
    pub alerts: Vec<crate::alerts::AlertView>,
    /// Guardrails its deployments break, waived or not.
    pub breaches: Vec<crate::guardrails::Breach>,
    /// What to change in its deployments, largest saving first.
    pub advice: Vec<crate::advice::Advice>,
    /// Its deployments' retraining plans.
    pub retraining: Vec<crate::advice::retrain::Retraining>,
}

/// One week of the model's cost and the quality its runs reported by then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub week: DateTime<Utc>,
    pub requests: i64,
    pub cost: Decimal,
    pub cost_per_1k: Option<Decimal>,
    pub p95_ms: Option<f64>,
}

/// A model as typed in the form or sent by the API.
#[derive(Clone, Debug, PartialEq)]
pub struct NewModel {
    pub name: String,
    pub task: TaskType,
    pub team_id: Option<Uuid>,
    pub description: String,
}

impl NewModel {
    pub fn parse(
        name: &str,
        task: &str,
        team_id: &str,
        description: &str,
    ) -> Result<NewModel, AppError> {
        let name = name.trim();
        let task = task.parse::<TaskType>();
        let team = if team_id.trim().is_empty() {
            Ok(None)
        } else {
            Uuid::parse_str(team_id.trim()).map(Some)
        };
        let mut check = Validator::new();
        check
            .check(!name.is_empty(), "name", "Name the model.")
            .check(
                name.chars().count() <= 120,
                "name",
                "At most 120 characters.",
            )
            .check(
                !name.contains('/') && !name.chars().any(char::is_control),
                "name",
                "A model name cannot contain / or control characters.",
            )
            .check(task.is_ok(), "task", task.clone().err().unwrap_or_default())
            .check(team.is_ok(), "team_id", "Choose a team from the list.")
            .check(
                description.chars().count() <= 4000,
                "description",
                "At most 4,000 characters.",
            );
        check.finish()?;
        Ok(NewModel {
            name: name.to_owned(),
            task: task.unwrap_or(TaskType::Other),
            team_id: team.unwrap_or_default(),
            description: description.trim().to_owned(),
        })
    }
}

/// A version as typed in the form.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVersion {
    pub version: String,
    pub framework: String,
    pub parameter_count: Option<i64>,
    pub artifact_uri: String,
}

impl NewVersion {
    pub fn parse(
        version: &str,
        framework: &str,
        parameter_count: &str,
        artifact_uri: &str,
    ) -> Result<NewVersion, AppError> {
        let version = version.trim();
        let parameters = parse_parameter_count(parameter_count);
        let artifact_uri = artifact_uri.trim();
        let mut check = Validator::new();
        check
            .check(!version.is_empty(), "version", "Name the version, e.g. v4.")
            .check(
                version.chars().count() <= 80,
                "version",
                "At most 80 characters.",
            )
            .check(
                framework.trim().chars().count() <= 80,
                "framework",
                "At most 80 characters.",
            )
            .check(
                parameters.is_ok(),
                "parameter_count",
                parameters.clone().err().unwrap_or_default(),
            )
            .check(
                artifact_uri.is_empty()
                    || (artifact_uri.contains("://")
                        && !artifact_uri.chars().any(char::is_whitespace)),
                "artifact_uri",
                "Give a URI such as s3://models/fraud/v4 or hf://org/model, without spaces.",
            )
            .check(
                artifact_uri.len() <= 1000,
                "artifact_uri",
                "At most 1,000 characters.",
            );
        check.finish()?;
        Ok(NewVersion {
            version: version.to_owned(),
            framework: framework.trim().to_owned(),
            parameter_count: parameters.unwrap_or_default(),
            artifact_uri: artifact_uri.to_owned(),
        })
    }
}

/// `110M`, `7B`, `1.3b`, `350,000` or empty.
pub fn parse_parameter_count(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim().replace([',', '_', ' '], "");
    if text.is_empty() {
        return Ok(None);
    }
    let (number, scale) = match text.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&text[..text.len() - 1], 1e3),
        Some('M') => (&text[..text.len() - 1], 1e6),
        Some('B') => (&text[..text.len() - 1], 1e9),
        Some('T') => (&text[..text.len() - 1], 1e12),
        _ => (text.as_str(), 1.0),
    };
    match number.parse::<f64>() {
        Ok(value) if value > 0.0 && (value * scale) < 1e15 => {
            Ok(Some((value * scale).round() as i64))
        }
        _ => Err(format!(
            "`{text}` is not a parameter count: write 110M, 7B or 350000."
        )),
    }
}

/// 110M, 7B, 1.3B: how people say parameter counts.
pub fn format_parameter_count(count: i64) -> String {
    let (value, suffix) = match count {
        c if c >= 1_000_000_000_000 => (c as f64 / 1e12, "T"),
        c if c >= 1_000_000_000 => (c as f64 / 1e9, "B"),
        c if c >= 1_000_000 => (c as f64 / 1e6, "M"),
        c if c >= 1_000 => (c as f64 / 1e3, "K"),
        c => return c.to_string(),
    };
    let text = format!("{value:.1}");
    format!("{}{suffix}", text.trim_end_matches(".0"))
}

/// A quality figure as the catalog shows it: `F1 0.91`, or `—`.
pub fn format_quality(quality: Option<&(String, f64)>) -> String {
    quality.map_or_else(
        || "—".to_owned(),
        |(metric, value)| {
            format!(
                "{} {}",
                crate::experiments::metric_label(metric),
                crate::format::format_number(*value)
            )
        },
    )
}

/// A lead's tier override as typed.
pub fn parse_override(tier: &str, reason: &str) -> Result<(Option<Tier>, String), AppError> {
    let reason = reason.trim();
    let tier = match tier.trim() {
        "" | "rules" => Ok(None),
        other => other
            .trim_start_matches("tier")
            .trim()
            .parse::<i16>()
            .ok()
            .and_then(Tier::from_number)
            .map(Some)
            .ok_or("Choose Tier 1, 2 or 3, or the rules."),
    };
    let mut check = Validator::new();
    check.check(tier.is_ok(), "tier", tier.err().unwrap_or_default());
    if matches!(tier, Ok(Some(_))) {
        check
            .check(
                reason.chars().count() >= 3,
                "reason",
                "Say why the rules are wrong for this model; people see it next to the tier.",
            )
            .check(
                reason.chars().count() <= 1000,
                "reason",
                "At most 1,000 characters.",
            );
    }
    check.finish()?;
    Ok((tier.unwrap_or_default(), reason.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_read_and_print_as_people_say_them() {
        assert_eq!(parse_parameter_count("110M"), Ok(Some(110_000_000)));
        assert_eq!(parse_parameter_count("1.3b"), Ok(Some(1_300_000_000)));
        assert_eq!(parse_parameter_count("350,000"), Ok(Some(350_000)));
        assert_eq!(parse_parameter_count(" "), Ok(None));
        assert!(parse_parameter_count("lots").is_err());
        assert!(parse_parameter_count("-5M").is_err());
        assert_eq!(format_parameter_count(110_000_000), "110M");
        assert_eq!(format_parameter_count(1_300_000_000), "1.3B");
        assert_eq!(format_parameter_count(70_000_000_000), "70B");
        assert_eq!(format_parameter_count(950), "950");
    }

    #[test]
    fn a_model_form_names_each_bad_field() {
        let Err(AppError::Validation(errors)) = NewModel::parse(" ", "poetry", "nope", "") else {
            panic!("expected field errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "task", "team_id"]);
        let version = NewVersion::parse("v4", "PyTorch 2.4", "110M", "not a uri");
        assert!(matches!(version, Err(AppError::Validation(e)) if e[0].field == "artifact_uri"));
    }

    #[test]
    fn an_override_needs_a_reason_and_a_real_tier() {
        assert_eq!(
            parse_override("3", "critical path for payments"),
            Ok((Some(Tier::Tier3), "critical path for payments".into()))
        );
        assert_eq!(parse_override("rules", ""), Ok((None, String::new())));
        assert!(parse_override("4", "because").is_err());
        assert!(parse_override("1", "").is_err());
    }
}
