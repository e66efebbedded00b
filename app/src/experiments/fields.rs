//! A run as flat named fields: the columns of a CSV upload and the inputs of the "add a run" form
//! are the same names, so one reader serves both and every error names the column or field.

use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

use super::run::{
    Derivation, Hardware, Inference, Latency, RunSpec, Technique, TokensPerRequest, Training,
};
use super::{InferenceKind, STANDARD_METRICS};
use crate::error::FieldError;

/// Custom metrics are columns named `metric:<name>`, e.g. `metric:ndcg@10`.
pub const METRIC_PREFIX: &str = "metric:";

/// Every column, with the path of the run field it fills (as validation errors name them).
pub const COLUMNS: &[(&str, &str)] = &[
    ("run_key", "run_key"),
    ("name", "name"),
    ("metrics", "metrics"),
    ("latency_p50_ms", "latency_ms.p50"),
    ("latency_p95_ms", "latency_ms.p95"),
    ("latency_p99_ms", "latency_ms.p99"),
    ("batch_latency_p50_ms", "batch_latency_ms.p50"),
    ("batch_latency_p95_ms", "batch_latency_ms.p95"),
    ("batch_latency_p99_ms", "batch_latency_ms.p99"),
    ("throughput_rps", "throughput_rps"),
    ("gpu_model", "hardware.gpu_model"),
    ("gpu_count", "hardware.gpu_count"),
    ("cpu_instance", "hardware.cpu_instance"),
    ("hourly_price", "hardware.hourly_price"),
    ("training_gpu_hours", "training.gpu_hours"),
    ("training_price_per_gpu_hour", "training.price_per_gpu_hour"),
    ("training_cost", "training.amount"),
    ("engineering_hours", "engineering_hours"),
    ("pricing", "inference"),
    ("deployment", "inference.deployment"),
    ("input_price_per_1k_tokens", "inference.input_per_1k_tokens"),
    (
        "output_price_per_1k_tokens",
        "inference.output_per_1k_tokens",
    ),
    ("avg_input_tokens", "inference.avg_input_tokens"),
    ("avg_output_tokens", "inference.avg_output_tokens"),
    (
        "avg_cached_input_tokens",
        "inference.avg_cached_input_tokens",
    ),
    ("api_provider", "inference.provider"),
    ("api_model", "inference.model"),
    ("api_batch", "inference.batch"),
    ("price_per_request", "inference.per_request"),
    ("derived_from", "derived_from.parent"),
    ("technique", "derived_from.technique"),
];

/// The column (or form field) a validation path belongs to: `latency_ms.p95` → `latency_p95_ms`,
/// `metrics.f1` → `f1`, `metrics.ndcg@10` → `metric:ndcg@10`.
pub fn column_of(path: &str) -> String {
    if let Some(metric) = path.strip_prefix("metrics.") {
        return if STANDARD_METRICS.iter().any(|(name, _, _)| *name == metric) {
            metric.to_owned()
        } else {
            format!("{METRIC_PREFIX}{metric}")
        };
    }
    let path = match path {
        "tokens_per_request.input" => "inference.avg_input_tokens",
        "tokens_per_request.output" => "inference.avg_output_tokens",
        "hardware" => "hardware.gpu_model",
        "training" => "training.gpu_hours",
        "latency_ms" => "latency_ms.p50",
        "batch_latency_ms" => "batch_latency_ms.p50",
        other => other,
    };
    COLUMNS
        .iter()
        .find(|(_, p)| *p == path)
        .map_or_else(|| path.to_owned(), |(column, _)| (*column).to_owned())
}

/// Whether a header names a column Pareto reads.
pub fn known_column(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    COLUMNS.iter().any(|(column, _)| *column == name)
        || STANDARD_METRICS
            .iter()
            .any(|(metric, _, _)| *metric == name)
        || name.starts_with(METRIC_PREFIX)
}

struct Reader<'a> {
    values: &'a BTreeMap<String, String>,
    problems: Vec<FieldError>,
}

impl Reader<'_> {
    fn text(&self, column: &str) -> Option<String> {
        self.values
            .get(column)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("null"))
            .map(str::to_owned)
    }

    fn fail(&mut self, column: &str, message: String) {
        self.problems.push(FieldError {
            field: column.to_owned(),
            message,
        });
    }

    fn parsed<T: FromStr>(&mut self, column: &str, what: &str) -> Option<T> {
        let text = self.text(column)?;
        let cleaned = text.replace([',', '_'], "");
        match cleaned.trim_end_matches(['%']).trim().parse::<T>() {
            Ok(value) => Some(value),
            Err(_) => {
                self.fail(column, format!("`{text}` is not {what}."));
                None
            }
        }
    }

    fn number(&mut self, column: &str) -> Option<f64> {
        self.parsed(column, "a number")
    }

    /// An amount as the price catalog reads one: `0.53`, `$1,250`, never negative.
    fn money(&mut self, column: &str) -> Option<Decimal> {
        let text = self.text(column)?;
        match crate::prices::parse_amount(&text) {
            Ok(amount) => Some(amount),
            Err(message) => {
                self.fail(column, message.to_owned());
                None
            }
        }
    }

    fn latency(&mut self, prefix: &str) -> Latency {
        Latency {
            p50: self.number(&format!("{prefix}_p50_ms")),
            p95: self.number(&format!("{prefix}_p95_ms")),
            p99: self.number(&format!("{prefix}_p99_ms")),
        }
    }
}

/// Reads one run from named fields (lower-case names). Every problem is reported against its
/// column; the run is also validated whole, with the paths turned back into column names.
pub fn run_from_fields(values: &BTreeMap<String, String>) -> Result<RunSpec, Vec<FieldError>> {
    let mut reader = Reader {
        values,
        problems: Vec::new(),
    };
    let name = reader.text("name").unwrap_or_default();
    let run_key = reader
        .text("run_key")
        .unwrap_or_else(|| name.to_lowercase());

    let mut metrics = BTreeMap::new();
    // `metrics`: several at once, as `f1=0.91, auc=0.95`.
    if let Some(list) = reader.text("metrics") {
        for pair in list
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let parsed = pair
                .split_once(['=', ':'])
                .and_then(|(name, value)| Some((name.trim(), value.trim().parse::<f64>().ok()?)));
            match parsed {
                Some((name, value)) => {
                    metrics.insert(name.to_owned(), value);
                }
                None => reader.fail(
                    "metrics",
                    format!("`{pair}` is not a metric: write it as name=value, e.g. auc=0.95."),
                ),
            }
        }
    }
    for column in values.keys() {
        let metric = if let Some(custom) = column.strip_prefix(METRIC_PREFIX) {
            custom.to_owned()
        } else if STANDARD_METRICS.iter().any(|(m, _, _)| m == column) {
            column.clone()
        } else {
            continue;
        };
        if let Some(value) = reader.number(column) {
            metrics.insert(metric, value);
        }
    }

    let latency_ms = reader.latency("latency");
    let batch_latency_ms = reader.latency("batch_latency");
    let throughput_rps = reader.number("throughput_rps");
    let gpu_model = reader.text("gpu_model");
    let cpu_instance = reader.text("cpu_instance");
    let gpu_count = reader.parsed::<u32>("gpu_count", "a whole number of GPUs");
    let hourly_price = reader.money("hourly_price");
    // A GPU model without a count means one GPU.
    let gpu_count = if gpu_model.is_some() && cpu_instance.is_none() {
        gpu_count.or(Some(1))
    } else {
        gpu_count
    };
    let hardware = (gpu_model.is_some() || cpu_instance.is_some() || hourly_price.is_some())
        .then_some(Hardware {
            gpu_model,
            gpu_count,
            cpu_instance,
            hourly_price,
        });
    let training_gpu_hours = reader.number("training_gpu_hours");
    let training_price = reader.money("training_price_per_gpu_hour");
    let training_cost = reader.money("training_cost");
    let training =
        (training_gpu_hours.is_some() || training_price.is_some() || training_cost.is_some())
            .then_some(Training {
                gpu_hours: training_gpu_hours,
                price_per_gpu_hour: training_price,
                amount: training_cost,
            });
    let engineering_hours = reader.number("engineering_hours");

    let input_price = reader.money("input_price_per_1k_tokens");
    let output_price = reader.money("output_price_per_1k_tokens");
    let input_tokens = reader.number("avg_input_tokens");
    let output_tokens = reader.number("avg_output_tokens");
    let cached_tokens = reader.number("avg_cached_input_tokens");
    let api_provider = reader.text("api_provider");
    let api_model = reader.text("api_model");
    let api_batch = match reader.text("api_batch").map(|t| t.to_ascii_lowercase()) {
        None => false,
        Some(text) => match text.as_str() {
            "yes" | "true" | "1" | "on" => true,
            "no" | "false" | "0" | "off" => false,
            _ => {
                reader.fail("api_batch", "Write yes or no.".into());
                false
            }
        },
    };
    let per_request = reader.money("price_per_request");
    let deployment = reader.text("deployment");
    let kind = match reader.text("pricing") {
        Some(text) => match text.parse::<InferenceKind>() {
            Ok(kind) => Some(kind),
            Err(message) => {
                reader.fail("pricing", message);
                None
            }
        },
        // Left out: the pricing whose columns are filled (even with a bad value, already reported).
        None if reader.text("price_per_request").is_some() => Some(InferenceKind::ApiRequest),
        None if reader.text("input_price_per_1k_tokens").is_some()
            || reader.text("output_price_per_1k_tokens").is_some()
            || api_model.is_some()
            || api_provider.is_some() =>
        {
            Some(InferenceKind::ApiTokens)
        }
        None if deployment.is_some() => Some(InferenceKind::Measured),
        None => Some(InferenceKind::SelfHosted),
    };
    // An empty column the pricing needs; a filled one that did not read is reported already.
    let need = |reader: &mut Reader, column: &str| {
        if reader.text(column).is_none() {
            reader.fail(column, "Required for this pricing.".into());
        }
    };
    let inference = match kind {
        Some(InferenceKind::SelfHosted) => Some(Inference::SelfHosted),
        Some(InferenceKind::Measured) => {
            need(&mut reader, "deployment");
            deployment.map(|deployment| Inference::Measured { deployment })
        }
        Some(InferenceKind::ApiTokens) => {
            // Typed prices, or a model of the API price table.
            if api_provider.is_none() && api_model.is_none() {
                need(&mut reader, "input_price_per_1k_tokens");
                need(&mut reader, "output_price_per_1k_tokens");
            }
            need(&mut reader, "avg_input_tokens");
            need(&mut reader, "avg_output_tokens");
            match (input_tokens, output_tokens) {
                (Some(it), Some(ot)) => Some(Inference::ApiTokens {
                    input_per_1k_tokens: input_price,
                    output_per_1k_tokens: output_price,
                    avg_input_tokens: it,
                    avg_output_tokens: ot,
                    avg_cached_input_tokens: cached_tokens,
                    provider: api_provider,
                    model: api_model,
                    batch: api_batch,
                }),
                _ => None,
            }
        }
        Some(InferenceKind::ApiRequest) => {
            need(&mut reader, "price_per_request");
            per_request.map(|per_request| Inference::ApiRequest { per_request })
        }
        None => None,
    };
    // Own hardware serving a language model: the tokens one request reads and writes, both or
    // neither (a measured run left without them takes them from its telemetry).
    let tokens_per_request = match (&inference, input_tokens, output_tokens) {
        (None | Some(Inference::ApiTokens { .. }), ..) | (_, None, None) => None,
        (_, Some(input), Some(output)) => Some(TokensPerRequest { input, output }),
        (_, Some(_), None) | (_, None, Some(_)) => {
            let missing = if input_tokens.is_none() {
                "avg_input_tokens"
            } else {
                "avg_output_tokens"
            };
            reader.fail(
                missing,
                "Give the average input and output tokens per request, or neither.".into(),
            );
            None
        }
    };
    // Made from another run of the experiment: its key and the technique, both or neither.
    let derived_from = match (reader.text("derived_from"), reader.text("technique")) {
        (None, None) => None,
        (Some(parent), Some(technique)) => match Technique::parse(&technique) {
            Some(technique) => Some(Derivation { parent, technique }),
            None => {
                reader.fail(
                    "technique",
                    format!(
                        "`{technique}` is not a technique: write one of int8, int4, fp16, pruning, distillation, onnx, tensorrt."
                    ),
                );
                None
            }
        },
        (Some(_), None) => {
            reader.fail(
                "technique",
                "Say how the run was made from its parent: int8, int4, fp16, pruning, distillation, onnx or tensorrt.".into(),
            );
            None
        }
        (None, Some(_)) => {
            reader.fail(
                "derived_from",
                "Name the run key of the run it was made from.".into(),
            );
            None
        }
    };
    let mut problems = reader.problems;
    let Some(inference) = inference else {
        return Err(problems);
    };
    let spec = RunSpec {
        run_key,
        name,
        model_version_id: None,
        metrics,
        latency_ms,
        batch_latency_ms,
        throughput_rps,
        hardware,
        training,
        engineering_hours,
        inference,
        tokens_per_request,
        derived_from,
    };
    match spec.normalized() {
        Ok(spec) if problems.is_empty() => Ok(spec),
        Ok(_) => Err(problems),
        Err(found) => {
            for problem in found {
                let field = column_of(&problem.field);
                if !problems.iter().any(|p| p.field == field) {
                    problems.push(FieldError {
                        field,
                        message: problem.message,
                    });
                }
            }
            Err(problems)
        }
    }
}

pub use crate::upload::{LineError, MAX_LINE_ERRORS};

/// Reads a CSV of runs, one per line after the header. Nothing is returned unless every line
/// reads: otherwise each problem (the first 100) with its line and column. Returns each run with
/// the line it came from.
#[cfg(feature = "ssr")]
pub fn runs_from_csv(bytes: &[u8]) -> Result<Vec<(u64, RunSpec)>, Vec<LineError>> {
    let check_header = |headers: &[String]| {
        let mut errors: Vec<LineError> = headers
            .iter()
            .filter(|header| !known_column(header))
            .map(|header| LineError {
                line: 1,
                column: header.clone(),
                message: "Unknown column. Use name, run_key, metric columns (f1, auc, mape, ... or metric:<name>), latency_p95_ms, throughput_rps, gpu_model, gpu_count, cpu_instance, hourly_price, pricing, price_per_request, ...".into(),
            })
            .collect();
        if !headers.iter().any(|h| h == "name") {
            errors.push(LineError {
                line: 1,
                column: "name".into(),
                message: "The header must have a name column.".into(),
            });
        }
        errors
    };
    crate::upload::read_csv(
        bytes,
        check_header,
        |_, values| run_from_fields(values),
        "runs",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_self_hosted_row_reads_into_a_run() {
        let spec = run_from_fields(&fields(&[
            ("name", "DistilBERT"),
            ("f1", "0.91"),
            ("metric:ndcg@10", "0.5"),
            ("metrics", "AUC=0.97; recall: 0.9"),
            ("latency_p95_ms", "21"),
            ("throughput_rps", "1,200"),
            ("gpu_model", "NVIDIA T4"),
            ("training_cost", "$120"),
            ("hourly_price", ""),
        ]))
        .expect("valid");
        assert_eq!(spec.run_key, "distilbert");
        assert_eq!(spec.metrics["f1"], 0.91);
        assert_eq!(spec.metrics["ndcg@10"], 0.5);
        assert_eq!(spec.metrics["auc"], 0.97);
        assert_eq!(spec.metrics["recall"], 0.9);
        assert_eq!(spec.throughput_rps, Some(1200.0));
        let hardware = spec.hardware.expect("hardware");
        assert_eq!(hardware.gpu_count, Some(1));
        assert_eq!(hardware.hourly_price, None);
        assert_eq!(spec.inference, Inference::SelfHosted);
    }

    #[test]
    fn api_pricing_is_inferred_from_its_columns() {
        let spec = run_from_fields(&fields(&[
            ("name", "Hosted"),
            ("f1", "0.95"),
            ("price_per_request", "0.002"),
        ]))
        .expect("valid");
        assert!(spec.inference.is_api());
    }

    #[test]
    fn errors_name_the_column() {
        let problems = run_from_fields(&fields(&[
            ("name", "X"),
            ("f1", "high"),
            ("latency_p50_ms", "30"),
            ("latency_p95_ms", "20"),
            ("pricing", "api_tokens"),
            ("avg_input_tokens", "200"),
        ]))
        .expect_err("bad");
        let columns: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            columns,
            [
                "f1",
                "input_price_per_1k_tokens",
                "output_price_per_1k_tokens",
                "avg_output_tokens"
            ]
        );
        let problems = run_from_fields(&fields(&[
            ("name", "X"),
            ("latency_p50_ms", "30"),
            ("latency_p95_ms", "20"),
            ("throughput_rps", "10"),
            ("cpu_instance", "c6i.xlarge"),
        ]))
        .expect_err("bad");
        let columns: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(columns, ["latency_p50_ms", "hourly_price"]);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_csv_reads_whole_or_reports_every_bad_line() {
        let good = "\u{feff}name,F1,latency_p95_ms,throughput_rps,gpu_model,hourly_price\n\
                    Logistic regression,0.84,2,5000,,\n\
                    \"DistilBERT, distilled\",0.91,21,350,NVIDIA T4,0.53\n";
        let good = good.replace(
            "Logistic regression,0.84,2,5000,,",
            "Logistic regression,0.84,2,5000,NVIDIA T4,0.1",
        );
        let runs = runs_from_csv(good.as_bytes()).expect("valid");
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].0, 3);
        assert_eq!(runs[1].1.name, "DistilBERT, distilled");
        let bad = "name,f1,colour\nA,0.9,red\n";
        let errors = runs_from_csv(bad.as_bytes()).expect_err("unknown column");
        assert_eq!(errors[0].line, 1);
        assert_eq!(errors[0].column, "colour");
        let bad = "name,f1,price_per_request\nA,0.9,0.001\nB,oops,0.001\nC,0.8,-1\n";
        let errors = runs_from_csv(bad.as_bytes()).expect_err("bad lines");
        let found: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "line 3, column f1: `oops` is not a number.",
                "line 4, column price_per_request: An amount cannot be negative."
            ]
        );
    }

    #[test]
    fn columns_are_known_or_not() {
        assert!(known_column("F1"));
        assert!(known_column("metric:exact_match"));
        assert!(known_column("gpu_model"));
        assert!(!known_column("colour"));
        assert_eq!(column_of("metrics.ndcg@10"), "metric:ndcg@10");
        assert_eq!(column_of("inference.per_request"), "price_per_request");
    }
}
