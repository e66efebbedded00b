//! A candidate run as it arrives from the form, a CSV line or the API, and the checks it must pass
//! before anything is stored. Every problem is reported with its path (`latency_ms.p95`), so the
//! form, the CSV import and the API can each point at the field, column or JSON member.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::metric_name;
use crate::error::FieldError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Latency {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

impl Latency {
    pub fn is_empty(&self) -> bool {
        *self == Latency::default()
    }
}

/// What the model runs on: GPUs or a CPU instance, with its price per hour. A GPU run without a
/// typed price takes the on-demand price from the price catalog when it is stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Hardware {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_instance: Option<String>,
    /// For the whole machine (all its GPUs), per hour, in the experiment's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_price: Option<Decimal>,
}

impl Hardware {
    pub fn describe(&self) -> String {
        match (&self.gpu_model, &self.cpu_instance) {
            (Some(gpu), _) => format!("{} × {gpu}", self.gpu_count.unwrap_or(1)),
            (None, Some(cpu)) => cpu.clone(),
            (None, None) => String::new(),
        }
    }
}

/// What training cost: GPU-hours at a price per GPU-hour, or an amount.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Training {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_hours: Option<f64>,
    /// Per GPU-hour; when missing, the run's hardware price per GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_gpu_hour: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
}

/// How a request is paid for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Inference {
    /// Own hardware: its price per hour divided by the requests it serves per hour.
    SelfHosted,
    /// Own hardware, costed from a deployment's telemetry over the last 30 days.
    Measured { deployment: String },
    /// A hosted API priced per 1,000 input and output tokens: typed, or those of a model in the
    /// API price table (`provider` and `model`), which fills them in when the run is stored.
    ApiTokens {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input_per_1k_tokens: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output_per_1k_tokens: Option<Decimal>,
        avg_input_tokens: f64,
        avg_output_tokens: f64,
        /// Of the input, the tokens read from the provider's prompt cache.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avg_cached_input_tokens: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        /// Sent through the provider's batch interface, at its batch discount.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        batch: bool,
    },
    /// A hosted API priced per request.
    ApiRequest { per_request: Decimal },
}

impl Inference {
    pub fn label(&self) -> &'static str {
        match self {
            Inference::SelfHosted => "self-hosted",
            Inference::Measured { .. } => "self-hosted, measured",
            Inference::ApiTokens { .. } => "API, per token",
            Inference::ApiRequest { .. } => "API, per request",
        }
    }

    pub fn is_api(&self) -> bool {
        matches!(
            self,
            Inference::ApiTokens { .. } | Inference::ApiRequest { .. }
        )
    }
}

/// One candidate, as submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunSpec {
    /// Chosen by the caller; sending the same key again does not add a second run.
    pub run_key: String,
    /// The model as people call it: "DistilBERT".
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version_id: Option<Uuid>,
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Latency::is_empty")]
    pub latency_ms: Latency,
    #[serde(default, skip_serializing_if = "Latency::is_empty")]
    pub batch_latency_ms: Latency,
    /// Requests per second one machine (the hardware) sustains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_rps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<Hardware>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Training>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engineering_hours: Option<f64>,
    pub inference: Inference,
    /// What one request reads and writes, for a language model run on own hardware: stated, or
    /// measured from the deployment's telemetry for a measured run. (An API run states its tokens
    /// in its pricing.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_request: Option<TokensPerRequest>,
    /// The run of the same experiment this one was made from, and how: a quantized, pruned,
    /// distilled or compiled form of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<Derivation>,
}

/// How a run was made from another: the parent's run key and the technique.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Derivation {
    pub parent: String,
    pub technique: Technique,
}

/// What makes a model cheaper to serve, usually at some cost in quality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Technique {
    /// 8-bit integer weights (and activations).
    Int8,
    /// 4-bit integer weights.
    Int4,
    /// Half-precision floats.
    Fp16,
    Pruning,
    Distillation,
    /// Converted to ONNX Runtime.
    Onnx,
    /// Compiled with TensorRT.
    TensorRt,
}

impl Technique {
    pub const ALL: [Technique; 7] = [
        Technique::Int8,
        Technique::Int4,
        Technique::Fp16,
        Technique::Pruning,
        Technique::Distillation,
        Technique::Onnx,
        Technique::TensorRt,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Technique::Int8 => "int8 quantization",
            Technique::Int4 => "int4 quantization",
            Technique::Fp16 => "fp16",
            Technique::Pruning => "pruning",
            Technique::Distillation => "distillation",
            Technique::Onnx => "ONNX Runtime",
            Technique::TensorRt => "TensorRT",
        }
    }

    /// `int8`, `INT8 quantization`, `fp16`, `half`, `pruned`, `distilled`, `onnx runtime`,
    /// `tensorrt`, `trt` and the like.
    pub fn parse(text: &str) -> Option<Technique> {
        let text = text.trim().to_ascii_lowercase().replace(['-', '_'], " ");
        let first = text.split_whitespace().next().unwrap_or_default();
        Some(match first {
            "int8" | "w8a8" | "q8" => Technique::Int8,
            "int4" | "w4a16" | "q4" | "gptq" | "awq" => Technique::Int4,
            "fp16" | "bf16" | "half" => Technique::Fp16,
            "pruning" | "pruned" | "sparse" | "sparsity" => Technique::Pruning,
            "distillation" | "distilled" | "distil" => Technique::Distillation,
            "onnx" | "onnxruntime" | "ort" => Technique::Onnx,
            "tensorrt" | "trt" => Technique::TensorRt,
            _ => return None,
        })
    }
}

/// A language model's average tokens per request.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TokensPerRequest {
    pub input: f64,
    pub output: f64,
}

impl RunSpec {
    /// The tokens one request writes, where the run says: an API run's average output tokens, or
    /// its stated or measured tokens per request.
    pub fn output_tokens_per_request(&self) -> Option<f64> {
        let output = match &self.inference {
            Inference::ApiTokens {
                avg_output_tokens, ..
            } => Some(*avg_output_tokens),
            _ => self.tokens_per_request.map(|t| t.output),
        };
        output.filter(|o| o.is_finite() && *o > 0.0)
    }
}

struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: path.into(),
            message: message.into(),
        });
    }

    fn number(&mut self, path: &str, value: Option<f64>, min: f64, inclusive: bool) {
        if let Some(value) = value {
            if !value.is_finite() {
                self.add(path, "Must be a finite number.");
            } else if value.abs() > 1e12 {
                // Hours, rates, token counts and metrics alike: past any real figure.
                self.add(path, "Must be at most 1,000,000,000,000.");
            } else if value < min || (!inclusive && value == min) {
                let relation = if inclusive { "at least" } else { "more than" };
                self.add(path, format!("Must be {relation} {min}."));
            }
        }
    }

    fn money(&mut self, path: &str, value: Option<Decimal>) {
        if value.is_some_and(|amount| amount.is_sign_negative() && !amount.is_zero()) {
            self.add(path, "An amount cannot be negative.");
        } else if value.is_some_and(|amount| amount > crate::prices::max_amount()) {
            self.add(path, "At most 1,000,000,000,000.");
        }
    }

    fn text(&mut self, path: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(path, "Must not be empty.");
        } else if value.chars().count() > max {
            self.add(path, format!("At most {max} characters."));
        }
    }

    fn latency(&mut self, path: &str, latency: &Latency) {
        for (name, value) in [
            ("p50", latency.p50),
            ("p95", latency.p95),
            ("p99", latency.p99),
        ] {
            self.number(&format!("{path}.{name}"), value, 0.0, true);
        }
        let ordered = [latency.p50, latency.p95, latency.p99];
        let present: Vec<f64> = ordered.iter().flatten().copied().collect();
        if present.windows(2).any(|pair| pair[0] > pair[1]) {
            self.add(path, "Percentiles must not decrease: p50 ≤ p95 ≤ p99.");
        }
    }
}

impl RunSpec {
    /// Trims the texts and lower-cases the metric names; then checks every field and reports each
    /// problem with its path. `Ok` means the run can be stored.
    pub fn normalized(mut self) -> Result<RunSpec, Vec<FieldError>> {
        let mut problems = Problems(Vec::new());
        self.run_key = self.run_key.trim().to_owned();
        self.name = self.name.trim().to_owned();
        problems.text("run_key", &self.run_key, 200);
        problems.text("name", &self.name, 120);
        if let Some(derivation) = &mut self.derived_from {
            derivation.parent = derivation.parent.trim().to_owned();
            problems.text("derived_from.parent", &derivation.parent, 200);
            if derivation.parent == self.run_key {
                problems.add(
                    "derived_from.parent",
                    "A run cannot be made from itself: name its parent's run key.",
                );
            }
        }

        let mut metrics = BTreeMap::new();
        for (name, value) in std::mem::take(&mut self.metrics) {
            match metric_name(&name) {
                Ok(clean) => {
                    problems.number(&format!("metrics.{clean}"), Some(value), f64::MIN, true);
                    if metrics.insert(clean.clone(), value).is_some() {
                        problems.add(format!("metrics.{clean}"), "This metric is given twice.");
                    }
                }
                Err(message) => problems.add(format!("metrics.{name}"), message),
            }
        }
        self.metrics = metrics;
        if self.metrics.len() > 50 {
            problems.add("metrics", "At most 50 metrics per run.");
        }

        problems.latency("latency_ms", &self.latency_ms);
        problems.latency("batch_latency_ms", &self.batch_latency_ms);
        problems.number("throughput_rps", self.throughput_rps, 0.0, false);
        problems.number("engineering_hours", self.engineering_hours, 0.0, true);

        if let Some(hardware) = &mut self.hardware {
            hardware.gpu_model = hardware
                .gpu_model
                .take()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty());
            hardware.cpu_instance = hardware
                .cpu_instance
                .take()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty());
            match (&hardware.gpu_model, &hardware.cpu_instance) {
                (Some(_), Some(_)) => {
                    problems.add("hardware", "Give a GPU model or a CPU instance, not both.")
                }
                (None, None) => problems.add("hardware", "Give a GPU model or a CPU instance."),
                (None, Some(_)) => {
                    if hardware.gpu_count.is_some() {
                        problems.add("hardware.gpu_count", "A CPU instance has no GPU count.");
                    }
                    if hardware.hourly_price.is_none() {
                        problems.add(
                            "hardware.hourly_price",
                            "Give the CPU instance's price per hour.",
                        );
                    }
                }
                (Some(gpu), None) => {
                    if gpu.chars().count() > 100 {
                        problems.add("hardware.gpu_model", "At most 100 characters.");
                    }
                    match hardware.gpu_count {
                        Some(0) => problems.add("hardware.gpu_count", "Must be at least 1."),
                        Some(n) if n > 1024 => {
                            problems.add("hardware.gpu_count", "At most 1024 GPUs.")
                        }
                        _ => {}
                    }
                }
            }
            problems.money("hardware.hourly_price", hardware.hourly_price);
        }

        if let Some(training) = &self.training {
            match (training.gpu_hours, training.amount) {
                (Some(_), Some(_)) => problems.add(
                    "training",
                    "Give GPU-hours (with a price) or an amount, not both.",
                ),
                (None, None) => problems.add("training", "Give GPU-hours or an amount."),
                (Some(_), None) => {
                    let priced = training.price_per_gpu_hour.is_some()
                        || self
                            .hardware
                            .as_ref()
                            .is_some_and(|h| h.gpu_model.is_some());
                    if !priced {
                        problems.add(
                            "training.price_per_gpu_hour",
                            "Give the price per GPU-hour, or a GPU model whose price Pareto can look up.",
                        );
                    }
                }
                (None, Some(_)) => {
                    if training.price_per_gpu_hour.is_some() {
                        problems.add(
                            "training.price_per_gpu_hour",
                            "A price per GPU-hour goes with GPU-hours, not with an amount.",
                        );
                    }
                }
            }
            problems.number("training.gpu_hours", training.gpu_hours, 0.0, true);
            problems.money("training.price_per_gpu_hour", training.price_per_gpu_hour);
            problems.money("training.amount", training.amount);
        }

        if let Some(tokens) = self.tokens_per_request {
            problems.number("tokens_per_request.input", Some(tokens.input), 0.0, true);
            problems.number("tokens_per_request.output", Some(tokens.output), 0.0, true);
        }

        match &mut self.inference {
            Inference::SelfHosted => {
                if self.throughput_rps.is_none() {
                    problems.add(
                        "throughput_rps",
                        "Self-hosted pricing needs the throughput: requests per second one machine sustains.",
                    );
                }
                if self.hardware.is_none() {
                    problems.add(
                        "hardware",
                        "Self-hosted pricing needs the hardware it runs on.",
                    );
                }
            }
            Inference::Measured { deployment } => {
                *deployment = deployment.trim().to_owned();
                problems.text("inference.deployment", deployment, 200);
            }
            Inference::ApiTokens {
                input_per_1k_tokens,
                output_per_1k_tokens,
                avg_input_tokens,
                avg_output_tokens,
                avg_cached_input_tokens,
                provider,
                model,
                batch,
            } => {
                for name in [&mut *provider, &mut *model].into_iter().flatten() {
                    *name = name.trim().to_owned();
                }
                let named = provider.is_some() || model.is_some();
                let typed = input_per_1k_tokens.is_some() || output_per_1k_tokens.is_some();
                if named {
                    if typed {
                        problems.add(
                            "inference.model",
                            "Name a model of the API price table, or type the prices per 1,000 tokens, not both.",
                        );
                    }
                    problems.text("inference.provider", provider.as_deref().unwrap_or(""), 100);
                    problems.text("inference.model", model.as_deref().unwrap_or(""), 200);
                } else {
                    // Typed prices are what a request pays: the table's cache and batch prices
                    // have nothing to apply to.
                    if avg_cached_input_tokens.is_some_and(|cached| cached > 0.0) {
                        problems.add(
                            "inference.avg_cached_input_tokens",
                            "Cached input is priced from the API price table: name its provider and model, or leave this empty and type the blended input price.",
                        );
                    }
                    if *batch {
                        problems.add(
                            "inference.batch",
                            "The batch discount comes from the API price table: name its provider and model, or type the batch prices.",
                        );
                    }
                    for (path, price) in [
                        ("inference.input_per_1k_tokens", *input_per_1k_tokens),
                        ("inference.output_per_1k_tokens", *output_per_1k_tokens),
                    ] {
                        if price.is_none() {
                            problems.add(
                                path,
                                "Type the price per 1,000 tokens, or name a model of the API price table.",
                            );
                        }
                        problems.money(path, price);
                    }
                }
                problems.number(
                    "inference.avg_input_tokens",
                    Some(*avg_input_tokens),
                    0.0,
                    true,
                );
                problems.number(
                    "inference.avg_output_tokens",
                    Some(*avg_output_tokens),
                    0.0,
                    true,
                );
                problems.number(
                    "inference.avg_cached_input_tokens",
                    *avg_cached_input_tokens,
                    0.0,
                    true,
                );
                if avg_cached_input_tokens.is_some_and(|cached| cached > *avg_input_tokens) {
                    problems.add(
                        "inference.avg_cached_input_tokens",
                        "The cached input is part of the input: at most the average input tokens.",
                    );
                }
            }
            Inference::ApiRequest { per_request } => {
                problems.money("inference.per_request", Some(*per_request));
            }
        }

        if problems.0.is_empty() {
            Ok(self)
        } else {
            Err(problems.0)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub fn self_hosted(name: &str, f1: f64, p95: f64, rps: f64, hourly: i64) -> RunSpec {
        RunSpec {
            run_key: name.to_lowercase(),
            name: name.into(),
            model_version_id: None,
            metrics: BTreeMap::from([("f1".to_owned(), f1)]),
            latency_ms: Latency {
                p50: None,
                p95: Some(p95),
                p99: None,
            },
            batch_latency_ms: Latency::default(),
            throughput_rps: Some(rps),
            hardware: Some(Hardware {
                gpu_model: Some("NVIDIA T4".into()),
                gpu_count: Some(1),
                cpu_instance: None,
                hourly_price: Some(Decimal::new(hourly, 2)),
            }),
            training: None,
            engineering_hours: None,
            inference: Inference::SelfHosted,
            tokens_per_request: None,
            derived_from: None,
        }
    }

    #[test]
    fn the_api_shape_reads_into_a_run() {
        let spec: RunSpec = serde_json::from_value(json!({
            "run_key": "gpt-large-1", "name": "Hosted LLM",
            "metrics": {"F1": 0.94, "accuracy": 0.95},
            "latency_ms": {"p50": 300, "p95": 900},
            "inference": {"kind": "api_tokens", "input_per_1k_tokens": "0.003",
                          "output_per_1k_tokens": 0.015, "avg_input_tokens": 250, "avg_output_tokens": 5}
        }))
        .expect("json");
        let spec = spec.normalized().expect("valid");
        assert_eq!(spec.metrics.get("f1"), Some(&0.94));
        assert!(spec.inference.is_api());
    }

    #[test]
    fn cache_and_batch_need_a_model_of_the_price_table() {
        let spec: RunSpec = serde_json::from_value(json!({
            "run_key": "api-1", "name": "Hosted", "metrics": {"f1": 0.9},
            "inference": {"kind": "api_tokens", "input_per_1k_tokens": "0.003",
                          "output_per_1k_tokens": "0.015", "avg_input_tokens": 250,
                          "avg_output_tokens": 5, "avg_cached_input_tokens": 100, "batch": true}
        }))
        .expect("json");
        let problems = spec.normalized().expect_err("refused");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["inference.avg_cached_input_tokens", "inference.batch"]
        );
    }

    #[test]
    fn amounts_and_counts_past_any_real_figure_are_refused() {
        let spec: RunSpec = serde_json::from_value(json!({
            "run_key": "api-1", "name": "Hosted", "metrics": {"f1": 0.9},
            "engineering_hours": 1e300,
            "inference": {"kind": "api_request", "per_request": "100000000000000000000000000"}
        }))
        .expect("json");
        let problems = spec.normalized().expect_err("refused");
        let found: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.field.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("engineering_hours", "Must be at most 1,000,000,000,000."),
                ("inference.per_request", "At most 1,000,000,000,000.")
            ]
        );
    }

    #[test]
    fn unknown_members_are_refused() {
        let error = serde_json::from_value::<RunSpec>(json!({
            "run_key": "a", "name": "a", "inference": {"kind": "self_hosted"}, "colour": "red"
        }))
        .expect_err("unknown");
        assert!(error.to_string().contains("colour"), "{error}");
    }

    #[test]
    fn every_problem_has_its_path() {
        let mut spec = self_hosted(" ", f64::NAN, 10.0, 0.0, -5);
        spec.run_key = "k".into();
        spec.latency_ms = Latency {
            p50: Some(50.0),
            p95: Some(20.0),
            p99: None,
        };
        spec.training = Some(Training {
            gpu_hours: Some(3.0),
            price_per_gpu_hour: None,
            amount: Some(Decimal::ONE),
        });
        let problems = spec.normalized().expect_err("bad");
        let paths: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            paths,
            [
                "name",
                "metrics.f1",
                "latency_ms",
                "throughput_rps",
                "hardware.hourly_price",
                "training"
            ]
        );
    }

    #[test]
    fn self_hosted_runs_need_throughput_and_hardware() {
        let mut spec = self_hosted("A", 0.9, 10.0, 100.0, 50);
        spec.throughput_rps = None;
        spec.hardware = None;
        let problems = spec.normalized().expect_err("bad");
        let paths: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(paths, ["throughput_rps", "hardware"]);
    }
}
