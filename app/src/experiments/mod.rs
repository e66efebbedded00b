//! Experiments: candidate models evaluated on the same data, and the choice of the cheapest one that
//! meets the service level. The formulas live in `select` and are plain functions of the runs, so the
//! server and the browser (the decision matrix's sliders) compute the same figures.

mod compare_page;
pub mod constraint;
mod detail;
pub mod fields;
pub mod mlflow;
mod page;
pub mod report;
pub mod run;
pub mod select;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
pub mod view;

pub use compare_page::ComparePage;
pub use detail::ExperimentPage;
pub use page::ExperimentsPage;
pub use server_fns::*;

pub use constraint::{parse_constraints, parse_rule_conditions, Constraint, Limit, Subject};
pub use run::{Hardware, Inference, Latency, RunSpec, TokensPerRequest, Training};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, Validator};
use crate::named_enum;
use select::Setup;

named_enum!(
    /// What the candidates are trained to do.
    TaskType, "task type", "task_type" {
        Classification = "classification", "classification", [];
        Regression = "regression", "regression / forecasting", ["forecasting", "regression_forecasting"];
        Ranking = "ranking", "ranking / recommendation", ["recommendation", "ranking_recommendation"];
        Generation = "generation", "translation / generation", ["translation", "translation_generation"];
        Other = "other", "other", [];
    }
);

named_enum!(
    /// Which way the primary metric improves.
    Direction, "direction", "metric_direction" {
        Higher = "higher", "higher is better", ["higher_is_better", "max", "maximize"];
        Lower = "lower", "lower is better", ["lower_is_better", "min", "minimize"];
    }
);

named_enum!(
    /// How the model will serve: real-time pays for capacity that is always on; batch pays per hour used.
    Mode, "mode", "serving_mode" {
        RealTime = "real_time", "real-time", ["realtime", "online"];
        Batch = "batch", "batch", ["offline"];
        Both = "both", "real-time and batch", [];
    }
);

named_enum!(
    /// Where an experiment stands.
    Status, "status", "experiment_status" {
        Open = "open", "open", [];
        Decided = "decided", "decided", [];
        Archived = "archived", "archived", [];
    }
);

named_enum!(
    /// How a run's requests are paid for; the stored column of `Inference`.
    InferenceKind, "inference pricing", "inference_kind" {
        SelfHosted = "self_hosted", "self-hosted", ["self"];
        Measured = "measured", "self-hosted, measured", [];
        ApiTokens = "api_tokens", "API, per token", ["tokens"];
        ApiRequest = "api_request", "API, per request", ["request", "per_request"];
    }
);

/// The default expected volume: one million requests a month.
pub const DEFAULT_MONTHLY_VOLUME: u64 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Experiment {
    pub experiment_id: Uuid,
    pub name: String,
    pub team_id: Uuid,
    pub team: String,
    pub task_type: TaskType,
    pub dataset: String,
    pub primary_metric: String,
    pub direction: Direction,
    pub constraints: Vec<Constraint>,
    pub monthly_volume: u64,
    pub mode: Mode,
    pub currency: String,
    pub status: Status,
    pub is_demo: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Experiment {
    pub fn setup(&self) -> Setup {
        Setup {
            primary_metric: self.primary_metric.clone(),
            direction: self.direction,
            constraints: self.constraints.clone(),
            volume: self.monthly_volume,
            mode: self.mode,
            currency: self.currency.clone(),
        }
    }
}

/// One line of the experiments list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSummary {
    pub experiment_id: Uuid,
    pub name: String,
    pub team: String,
    pub task_type: TaskType,
    pub primary_metric: String,
    pub constraints: Vec<String>,
    pub currency: String,
    pub status: Status,
    pub is_demo: bool,
    pub monthly_volume: u64,
    pub runs: i64,
    pub updated_at: DateTime<Utc>,
}

/// An experiment that evaluated a model version: where the version's card links its report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub experiment_id: Uuid,
    pub experiment: String,
    /// Whether the experiment recommends the version's run.
    pub chose_it: bool,
}

/// An experiment as the API takes it (`POST /api/v1/experiments`): the team by name, the
/// constraints as people write them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ExperimentSpec {
    pub name: String,
    pub team: String,
    pub task_type: String,
    #[serde(default)]
    pub dataset: String,
    pub primary_metric: String,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub constraints: Vec<String>,
    #[serde(default)]
    pub monthly_volume: Option<u64>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewExperiment {
    pub name: String,
    pub team_id: Uuid,
    pub task_type: TaskType,
    pub dataset: String,
    pub primary_metric: String,
    pub direction: Direction,
    pub constraints: Vec<Constraint>,
    pub monthly_volume: u64,
    pub mode: Mode,
    pub currency: String,
}

/// The form's fields, as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentForm {
    pub name: String,
    pub team_id: String,
    pub task_type: String,
    pub dataset: String,
    pub primary_metric: String,
    /// Empty: the metric's usual direction.
    pub direction: String,
    /// One constraint per line.
    pub constraints: String,
    /// Empty: one million.
    pub monthly_volume: String,
    pub mode: String,
    pub currency: String,
}

impl ExperimentForm {
    /// Checks every field and reports each problem against its field.
    pub fn parse(&self) -> Result<NewExperiment, AppError> {
        let mut check = Validator::new();
        let name = self.name.trim();
        check.check(!name.is_empty(), "name", "Name the experiment.");
        check.check(
            name.chars().count() <= 120,
            "name",
            "A name has at most 120 characters.",
        );
        let team_id = Uuid::parse_str(self.team_id.trim());
        check.check(team_id.is_ok(), "team_id", "Choose the team that owns it.");
        let task_type = self.task_type.parse::<TaskType>();
        if let Err(message) = &task_type {
            check.check(false, "task_type", message.clone());
        }
        check.check(
            self.dataset.chars().count() <= 2000,
            "dataset",
            "At most 2,000 characters.",
        );
        let metric = metric_name(&self.primary_metric);
        if let Err(message) = &metric {
            check.check(false, "primary_metric", message.clone());
        }
        let direction = match (self.direction.trim(), &metric) {
            ("", Ok(metric)) => Ok(default_direction(metric)),
            ("", Err(_)) => Ok(Direction::Higher),
            (text, _) => text.parse::<Direction>(),
        };
        if let Err(message) = &direction {
            check.check(false, "direction", message.clone());
        }
        let constraints = parse_constraints(&self.constraints);
        if let Err(message) = &constraints {
            check.check(false, "constraints", message.clone());
        }
        let volume = match self
            .monthly_volume
            .trim()
            .replace([',', '_', ' '], "")
            .as_str()
        {
            "" => Ok(DEFAULT_MONTHLY_VOLUME),
            text => text
                .parse::<u64>()
                .ok()
                .filter(|v| (1..=1_000_000_000_000).contains(v))
                .ok_or("Enter the requests expected per month as a whole number, e.g. 1,000,000."),
        };
        if let Err(message) = volume {
            check.check(false, "monthly_volume", message);
        }
        let mode = match self.mode.trim() {
            "" => Ok(Mode::RealTime),
            text => text.parse::<Mode>(),
        };
        if let Err(message) = &mode {
            check.check(false, "mode", message.clone());
        }
        let currency = match self.currency.trim() {
            "" => "USD".to_owned(),
            text => text.to_ascii_uppercase(),
        };
        if let Err(message) = crate::prices::parse_currency(&currency) {
            check.check(false, "currency", message);
        }
        check.finish()?;
        match (
            team_id,
            task_type,
            metric,
            direction,
            constraints,
            volume,
            mode,
        ) {
            (
                Ok(team_id),
                Ok(task_type),
                Ok(primary_metric),
                Ok(direction),
                Ok(constraints),
                Ok(monthly_volume),
                Ok(mode),
            ) => Ok(NewExperiment {
                name: name.to_owned(),
                team_id,
                task_type,
                dataset: self.dataset.trim().to_owned(),
                primary_metric,
                direction,
                constraints,
                monthly_volume,
                mode,
                currency,
            }),
            _ => Err(AppError::Internal),
        }
    }
}

impl ExperimentSpec {
    /// The same checks as the form, once the team's name has been turned into its id.
    pub fn into_form(self, team_id: Option<Uuid>) -> ExperimentForm {
        ExperimentForm {
            name: self.name,
            team_id: team_id.map(|id| id.to_string()).unwrap_or_default(),
            task_type: self.task_type,
            dataset: self.dataset,
            primary_metric: self.primary_metric,
            direction: self.direction.unwrap_or_default(),
            constraints: self.constraints.join("\n"),
            monthly_volume: self
                .monthly_volume
                .map(|v| v.to_string())
                .unwrap_or_default(),
            mode: self.mode.unwrap_or_default(),
            currency: self.currency.unwrap_or_default(),
        }
    }
}

/// Checks a cascade scenario as typed: the share kept by the cheap model in percent, the optional
/// threshold and slice qualities.
pub fn parse_cascade(
    name: &str,
    cheap_run_id: &str,
    expensive_run_id: &str,
    share_kept_pct: &str,
    threshold: &str,
    kept_quality: &str,
    passed_quality: &str,
) -> Result<view::Scenario, AppError> {
    let mut check = Validator::new();
    let name = name.trim();
    check.check(!name.is_empty(), "name", "Name the scenario.");
    check.check(
        name.chars().count() <= 120,
        "name",
        "A name has at most 120 characters.",
    );
    let cheap = Uuid::parse_str(cheap_run_id.trim());
    let expensive = Uuid::parse_str(expensive_run_id.trim());
    check.check(cheap.is_ok(), "cheap_run_id", "Choose the cheap model.");
    check.check(
        expensive.is_ok(),
        "expensive_run_id",
        "Choose the expensive model.",
    );
    if let (Ok(a), Ok(b)) = (&cheap, &expensive) {
        check.check(a != b, "expensive_run_id", "Choose two different runs.");
    }
    let share = share_kept_pct
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| (0.0..=100.0).contains(v));
    check.check(
        share.is_some(),
        "share_kept_pct",
        "Enter the share the cheap model keeps, from 0 to 100 %.",
    );
    let optional = |text: &str| -> Result<Option<f64>, ()> {
        match text.trim() {
            "" => Ok(None),
            t => t
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or(()),
        }
    };
    let threshold = optional(threshold);
    check.check(
        threshold.is_ok(),
        "threshold",
        "Enter a number, or leave it empty.",
    );
    let kept = optional(kept_quality);
    check.check(
        kept.is_ok(),
        "kept_quality",
        "Enter a number, or leave it empty.",
    );
    let passed = optional(passed_quality);
    check.check(
        passed.is_ok(),
        "passed_quality",
        "Enter a number, or leave it empty.",
    );
    check.finish()?;
    match (cheap, expensive, share, threshold, kept, passed) {
        (
            Ok(cheap_run_id),
            Ok(expensive_run_id),
            Some(share),
            Ok(threshold),
            Ok(kept_quality),
            Ok(passed_quality),
        ) => Ok(view::Scenario {
            scenario_id: Uuid::nil(),
            name: name.to_owned(),
            cheap_run_id,
            expensive_run_id,
            input: select::CascadeInput {
                share_kept: share / 100.0,
                kept_quality,
                passed_quality,
            },
            threshold,
        }),
        _ => Err(AppError::Internal),
    }
}

impl Inference {
    pub fn kind(&self) -> InferenceKind {
        match self {
            Inference::SelfHosted => InferenceKind::SelfHosted,
            Inference::Measured { .. } => InferenceKind::Measured,
            Inference::ApiTokens { .. } => InferenceKind::ApiTokens,
            Inference::ApiRequest { .. } => InferenceKind::ApiRequest,
        }
    }
}

impl Direction {
    /// True when `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::Higher => a > b,
            Direction::Lower => a < b,
        }
    }
}

/// The standard metrics, with their label and which way they improve. Any other name is a custom
/// metric.
pub const STANDARD_METRICS: &[(&str, &str, Direction)] = &[
    ("accuracy", "Accuracy", Direction::Higher),
    ("precision", "Precision", Direction::Higher),
    ("recall", "Recall", Direction::Higher),
    ("f1", "F1", Direction::Higher),
    ("auc", "AUC", Direction::Higher),
    ("mape", "MAPE", Direction::Lower),
    ("rmse", "RMSE", Direction::Lower),
    ("bleu", "BLEU", Direction::Higher),
    ("ndcg", "NDCG", Direction::Higher),
];

/// A metric name as stored: lower case, e.g. `f1`, `ndcg@10`, `exact_match`.
pub fn metric_name(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err("Name the metric, e.g. f1 or ndcg@10.".into());
    }
    if name.len() > 40
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '.' | '-'))
        || !name.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        return Err(format!(
            "`{}` is not a metric name: use up to 40 letters, digits, _ @ . or -, starting with a letter.",
            text.trim()
        ));
    }
    Ok(name)
}

/// How a metric is shown: F1, AUC, or the custom name as recorded.
pub fn metric_label(name: &str) -> String {
    STANDARD_METRICS
        .iter()
        .find(|(standard, _, _)| *standard == name)
        .map_or_else(|| name.to_owned(), |(_, label, _)| (*label).to_owned())
}

/// The usual direction of a metric: known for the standard ones, higher for a custom one.
pub fn default_direction(name: &str) -> Direction {
    STANDARD_METRICS
        .iter()
        .find(|(standard, _, _)| *standard == name)
        .map_or(Direction::Higher, |(_, _, direction)| *direction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_their_names_labels_and_aliases() {
        assert_eq!("Real-time".parse::<Mode>(), Ok(Mode::RealTime));
        assert_eq!("forecasting".parse::<TaskType>(), Ok(TaskType::Regression));
        assert_eq!(
            "translation / generation".parse::<TaskType>(),
            Ok(TaskType::Generation)
        );
        assert_eq!("lower".parse::<Direction>(), Ok(Direction::Lower));
        let error = "sometimes".parse::<Mode>().expect_err("unknown");
        assert_eq!(
            error,
            "unknown mode `sometimes`: expected real_time, batch, both"
        );
        for task in TaskType::ALL {
            assert_eq!(task.as_str().parse::<TaskType>(), Ok(*task));
        }
    }

    #[test]
    fn an_experiment_form_reports_every_bad_field() {
        let form = ExperimentForm {
            name: "Sentiment".into(),
            team_id: Uuid::nil().to_string(),
            task_type: "classification".into(),
            primary_metric: "F1".into(),
            constraints: "f1 >= 0.9\np95 <= 100".into(),
            ..ExperimentForm::default()
        };
        let new = form.parse().expect("valid");
        assert_eq!(new.direction, Direction::Higher);
        assert_eq!(new.monthly_volume, DEFAULT_MONTHLY_VOLUME);
        assert_eq!(new.mode, Mode::RealTime);
        assert_eq!(new.currency, "USD");
        assert_eq!(new.constraints.len(), 2);
        let bad = ExperimentForm {
            team_id: "x".into(),
            task_type: "vision".into(),
            primary_metric: "f1 score".into(),
            constraints: "f1 > 0.9".into(),
            monthly_volume: "lots".into(),
            currency: "dollars".into(),
            ..ExperimentForm::default()
        };
        let error = bad.parse().expect_err("bad");
        for field in [
            "name",
            "team_id",
            "task_type",
            "primary_metric",
            "constraints",
            "monthly_volume",
            "currency",
        ] {
            assert!(error.field_message(field).is_some(), "{field}: {error:?}");
        }
    }

    #[test]
    fn metric_names_are_lower_case_words() {
        assert_eq!(metric_name(" F1 ").as_deref(), Ok("f1"));
        assert_eq!(metric_name("NDCG@10").as_deref(), Ok("ndcg@10"));
        assert!(metric_name("").is_err());
        assert!(metric_name("1st").is_err());
        assert!(metric_name("f1 score").is_err());
        assert_eq!(metric_label("auc"), "AUC");
        assert_eq!(metric_label("ndcg@10"), "ndcg@10");
        assert_eq!(default_direction("mape"), Direction::Lower);
        assert_eq!(default_direction("exact_match"), Direction::Higher);
    }
}
