//! The drift batch a monitoring job posts, checked field by field (every bad path reported), with
//! histograms turned into statistics. Pure: no I/O.
//!
//! ```json
//! { "batch_id": "…", "measurements": [
//!     { "ts": "…", "deployment": "fraud-lgbm-v3", "kind": "performance", "metric": "f1",
//!       "value": 0.91, "samples": 5000 },
//!     { "ts": "…", "deployment": "fraud-lgbm-v3", "kind": "data", "feature": "amount_usd",
//!       "metric": "psi", "value": 0.12 },
//!     { "ts": "…", "deployment": "fraud-lgbm-v3", "kind": "data", "feature": "country",
//!       "histogram": { "reference": [120, 80, 40], "current": [90, 95, 55], "edges": [0, 1, 2, 3] } } ] }
//! ```

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::stats;
use super::{DriftKind, DATA_METRICS};
use crate::error::FieldError;
use crate::telemetry::ingest::{
    batch_id, number, text, timestamp, unknown_fields, BodyError, Errors,
};

pub const MAX_MEASUREMENTS: usize = 10_000;
pub const MAX_BINS: usize = 1_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub ts: DateTime<Utc>,
    pub deployment: String,
    pub kind: DriftKind,
    pub metric: String,
    /// Empty for performance.
    pub feature: String,
    pub value: f64,
    /// How many samples (labelled, or in the current window) the value came from.
    pub samples: Option<i64>,
    /// Computed by Pareto from histograms.
    pub computed: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DriftBatch {
    pub batch_id: Uuid,
    pub measurements: Vec<Measurement>,
}

/// The body of `POST /api/v1/drift`, as the API's description tells it. The parser reads the
/// JSON field by field (to name every bad path); a test keeps these fields equal to the ones it
/// reads.
#[cfg(feature = "ssr")]
#[derive(schemars::JsonSchema)]
#[schemars(rename = "DriftBatch")]
#[allow(dead_code)]
pub struct DriftBody {
    /// Chosen by the sender; the same id with the same bytes again stores nothing.
    batch_id: Uuid,
    /// At most 10,000.
    measurements: Vec<DriftMeasurementBody>,
}

/// One measurement: `performance` (a quality metric on labelled samples) or `data` (a feature's
/// drift, given as a statistic or as two histograms Pareto computes PSI, KL and more from).
#[cfg(feature = "ssr")]
#[derive(schemars::JsonSchema)]
#[schemars(rename = "DriftMeasurement")]
#[allow(dead_code)]
pub struct DriftMeasurementBody {
    ts: DateTime<Utc>,
    deployment: String,
    kind: DriftKind,
    /// `f1`, `auc`, `psi`, ...; for a histogram, absent (every data metric is computed).
    metric: Option<String>,
    /// The feature, for data drift.
    feature: Option<String>,
    value: Option<f64>,
    /// How many samples the value came from.
    samples: Option<i64>,
    histogram: Option<HistogramBody>,
}

/// Counts per bin of the reference window and the current one, with the bins' edges.
#[cfg(feature = "ssr")]
#[derive(schemars::JsonSchema)]
#[schemars(rename = "DriftHistogram")]
#[allow(dead_code)]
pub struct HistogramBody {
    reference: Vec<f64>,
    current: Vec<f64>,
    edges: Option<Vec<f64>>,
}

const BATCH_FIELDS: &[&str] = &["batch_id", "measurements"];
const MEASUREMENT_FIELDS: &[&str] = &[
    "ts",
    "deployment",
    "kind",
    "metric",
    "feature",
    "value",
    "samples",
    "histogram",
];
const HISTOGRAM_FIELDS: &[&str] = &["reference", "current", "edges"];

/// A metric name as experiments spell them: `f1`, `auc`, `ndcg@10`.
fn metric_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && text.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_@.-".contains(c))
}

fn numbers(value: Option<&Value>, at: &str, errors: &mut Errors) -> Option<Vec<f64>> {
    let Some(Value::Array(items)) = value else {
        errors.add(at, "required: an array of numbers");
        return None;
    };
    if items.len() > MAX_BINS + 1 {
        errors.add(at, format!("at most {MAX_BINS} bins"));
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_f64() {
            Some(v) if v.is_finite() => out.push(v),
            _ => {
                errors.add(format!("{at}[{i}]"), "must be a number");
                return None;
            }
        }
    }
    Some(out)
}

/// The statistics a histogram pair yields: PSI, Jensen–Shannon and KS always; Wasserstein with edges.
fn from_histogram(
    value: &Value,
    at: &str,
    errors: &mut Errors,
) -> Option<Vec<(&'static str, f64)>> {
    let Value::Object(object) = value else {
        errors.add(
            at,
            "must be an object with reference, current and optional edges",
        );
        return None;
    };
    unknown_fields(object, HISTOGRAM_FIELDS, at, errors);
    let reference = numbers(object.get("reference"), &format!("{at}.reference"), errors);
    let current = numbers(object.get("current"), &format!("{at}.current"), errors);
    let edges = match object.get("edges") {
        None | Some(Value::Null) => None,
        other => Some(numbers(other, &format!("{at}.edges"), errors)?),
    };
    let (reference, current) = (reference?, current?);
    let mut ok = true;
    for (name, counts) in [("reference", &reference), ("current", &current)] {
        if counts.len() < 2 {
            errors.add(format!("{at}.{name}"), "needs at least 2 bins");
            ok = false;
        } else if counts.iter().any(|c| *c < 0.0) {
            errors.add(format!("{at}.{name}"), "counts must not be negative");
            ok = false;
        } else if counts.iter().sum::<f64>() <= 0.0 {
            errors.add(format!("{at}.{name}"), "needs at least one non-zero count");
            ok = false;
        }
    }
    if ok && reference.len() != current.len() {
        errors.add(
            format!("{at}.current"),
            format!(
                "has {} bins; reference has {}: both must use the same bins",
                current.len(),
                reference.len()
            ),
        );
        ok = false;
    }
    if let Some(edges) = &edges {
        if edges.len() != reference.len() + 1 {
            errors.add(
                format!("{at}.edges"),
                format!(
                    "needs one more value than there are bins ({})",
                    reference.len() + 1
                ),
            );
            ok = false;
        } else if edges.windows(2).any(|w| w[1] <= w[0]) {
            errors.add(format!("{at}.edges"), "must increase strictly");
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let mut values = vec![
        ("psi", stats::psi(&reference, &current)?),
        ("js", stats::jensen_shannon(&reference, &current)?),
        ("ks", stats::kolmogorov_smirnov(&reference, &current)?),
    ];
    if let Some(edges) = edges {
        values.push((
            "wasserstein",
            stats::wasserstein(&reference, &current, &edges)?,
        ));
    }
    Some(values)
}

fn measurement(
    value: &Value,
    index: usize,
    now: DateTime<Utc>,
    errors: &mut Errors,
) -> Vec<Measurement> {
    let at = format!("measurements[{index}]");
    let path = format!("{at}.");
    let Value::Object(object) = value else {
        errors.add(at, "must be an object");
        return Vec::new();
    };
    unknown_fields(object, MEASUREMENT_FIELDS, &at, errors);
    let ts = timestamp(object, &path, now, errors);
    let deployment = text(object, "deployment", &path, 200, errors);
    let kind = match object.get("kind") {
        Some(Value::String(kind)) => match kind.parse::<DriftKind>() {
            Ok(kind) => Some(kind),
            Err(message) => {
                errors.add(format!("{path}kind"), message);
                None
            }
        },
        None | Some(Value::Null) => {
            errors.add(format!("{path}kind"), "required: performance or data");
            None
        }
        Some(_) => {
            errors.add(
                format!("{path}kind"),
                "must be a string: performance or data",
            );
            None
        }
    };
    let samples = match object.get("samples") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => Some(n),
            _ => {
                errors.add(
                    format!("{path}samples"),
                    "must be a whole number, 1 or more",
                );
                None
            }
        },
    };
    let has = |key: &str| !matches!(object.get(key), None | Some(Value::Null));
    let mut values: Vec<(String, f64, bool)> = Vec::new();
    let mut feature = String::new();
    match kind {
        Some(DriftKind::Performance) => {
            if has("feature") {
                errors.add(format!("{path}feature"), "only data drift is per feature");
            }
            if has("histogram") {
                errors.add(
                    format!("{path}histogram"),
                    "histograms are for data drift; performance sends its metric's value",
                );
            }
            let metric = text(object, "metric", &path, 40, errors);
            if let Some(metric) = metric.as_ref().filter(|m| !metric_name(m)) {
                errors.add(
                    format!("{path}metric"),
                    format!("`{metric}` is not a metric name such as f1, auc, mape or ndcg@10"),
                );
            }
            let value = number(object, "value", &path, (f64::MIN, None), errors);
            if let (Some(metric), Some(value)) = (metric.filter(|m| metric_name(m)), value) {
                values.push((metric, value, false));
            }
        }
        Some(DriftKind::Data) => {
            feature = text(object, "feature", &path, 200, errors).unwrap_or_default();
            if has("histogram") {
                if has("metric") || has("value") {
                    errors.add(
                        format!("{path}histogram"),
                        "send either metric and value, or a histogram, not both",
                    );
                } else if let Some(computed) = object
                    .get("histogram")
                    .and_then(|h| from_histogram(h, &format!("{path}histogram"), errors))
                {
                    values.extend(computed.into_iter().map(|(m, v)| (m.to_owned(), v, true)));
                }
            } else {
                let metric = text(object, "metric", &path, 40, errors);
                if let Some(metric) = metric
                    .as_ref()
                    .filter(|m| !DATA_METRICS.iter().any(|(n, _)| n == m))
                {
                    errors.add(
                        format!("{path}metric"),
                        format!(
                            "unknown statistic `{metric}`: expected psi, js, ks or wasserstein"
                        ),
                    );
                }
                let value = number(object, "value", &path, (0.0, None), errors);
                if let (Some(metric), Some(value)) = (metric, value) {
                    if matches!(metric.as_str(), "js" | "ks") && value > 1.0 {
                        errors.add(
                            format!("{path}value"),
                            "must be at most 1 for this statistic",
                        );
                    } else if DATA_METRICS.iter().any(|(n, _)| *n == metric) {
                        values.push((metric, value, false));
                    }
                }
            }
        }
        None => {}
    }
    let (Some(ts), Some(deployment), Some(kind)) = (ts, deployment, kind) else {
        return Vec::new();
    };
    values
        .into_iter()
        .map(|(metric, value, computed)| Measurement {
            ts,
            deployment: deployment.clone(),
            kind,
            metric,
            feature: feature.clone(),
            value,
            samples,
            computed,
        })
        .collect()
}

/// Checks a whole batch, or returns every problem found (at most 100, then a count).
pub fn parse_batch(value: &Value, now: DateTime<Utc>) -> Result<DriftBatch, Vec<FieldError>> {
    let mut errors = Errors::new();
    let Value::Object(object) = value else {
        return Err(vec![FieldError {
            field: String::new(),
            message: "the body must be a JSON object with batch_id and measurements".into(),
        }]);
    };
    unknown_fields(object, BATCH_FIELDS, "", &mut errors);
    let batch_id = batch_id(object, &mut errors);
    let measurements = match object.get("measurements") {
        Some(Value::Array(items)) if items.is_empty() => {
            errors.add("measurements", "send at least one measurement");
            Vec::new()
        }
        Some(Value::Array(items)) if items.len() > MAX_MEASUREMENTS => {
            errors.add(
                "measurements",
                format!(
                    "at most {MAX_MEASUREMENTS} measurements per batch; this one has {}",
                    items.len()
                ),
            );
            Vec::new()
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .flat_map(|(index, item)| measurement(item, index, now, &mut errors))
            .collect(),
        None | Some(Value::Null) => {
            errors.add("measurements", "required");
            Vec::new()
        }
        Some(_) => {
            errors.add("measurements", "must be an array");
            Vec::new()
        }
    };
    let reported = errors.finish();
    match batch_id {
        Some(batch_id) if reported.is_empty() => Ok(DriftBatch {
            batch_id,
            measurements,
        }),
        _ => Err(reported),
    }
}

pub fn parse_body(bytes: &[u8], now: DateTime<Utc>) -> Result<DriftBatch, BodyError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| BodyError::Json(format!("the body is not JSON: {error}")))?;
    parse_batch(&value, now).map_err(BodyError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_795_000_000, 0).expect("time")
    }

    fn body(measurements: Value) -> Value {
        json!({ "batch_id": "5f0c7f1e-8f51-4d43-9a57-0d6f9b1f2a10", "measurements": measurements })
    }

    /// The fields of a schema's properties, sorted.
    #[cfg(feature = "ssr")]
    fn described<T: schemars::JsonSchema>() -> Vec<String> {
        let schema = schemars::schema_for!(T).to_value();
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_described_body_has_the_fields_the_parser_reads() {
        let sorted = |fields: &[&str]| {
            let mut names: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            names.sort();
            names
        };
        assert_eq!(described::<DriftBody>(), sorted(BATCH_FIELDS));
        assert_eq!(
            described::<DriftMeasurementBody>(),
            sorted(MEASUREMENT_FIELDS)
        );
        assert_eq!(described::<HistogramBody>(), sorted(HISTOGRAM_FIELDS));
    }

    fn errors_of(value: Value) -> Vec<(String, String)> {
        parse_batch(&value, now())
            .expect_err("invalid")
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn values_and_histograms_become_measurements() {
        let batch = parse_batch(
            &body(json!([
                { "ts": "2026-11-18T08:00:00Z", "deployment": "fraud", "kind": "performance",
                  "metric": "f1", "value": 0.91, "samples": 5000 },
                { "ts": "2026-11-18T08:00:00Z", "deployment": "fraud", "kind": "data",
                  "feature": "amount_usd", "metric": "psi", "value": 0.12 },
                { "ts": "2026-11-18T08:00:00Z", "deployment": "fraud", "kind": "data",
                  "feature": "country", "histogram": { "reference": [50, 50], "current": [40, 60],
                  "edges": [0, 1, 2] } }
            ])),
            now(),
        )
        .expect("valid");
        assert_eq!(batch.measurements.len(), 6);
        assert_eq!(batch.measurements[0].samples, Some(5000));
        let computed: Vec<&str> = batch.measurements[2..]
            .iter()
            .map(|m| m.metric.as_str())
            .collect();
        assert_eq!(computed, ["psi", "js", "ks", "wasserstein"]);
        assert!(batch.measurements[2..]
            .iter()
            .all(|m| m.computed && m.feature == "country"));
        assert!((batch.measurements[2].value - 0.0405).abs() < 0.001);
        assert!(
            (batch.measurements[5].value - 0.1).abs() < 1e-9,
            "10% of the mass moves one bin"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = errors_of(body(json!([
            { "ts": "yesterday", "deployment": "", "kind": "vibes", "value": 1 },
            { "ts": "2026-11-18T08:00:00Z", "deployment": "d", "kind": "data", "feature": "x",
              "metric": "entropy", "value": -1 },
            { "ts": "2026-11-18T08:00:00Z", "deployment": "d", "kind": "data", "feature": "x",
              "histogram": { "reference": [1, 2, 3], "current": [1, 2] } },
            { "ts": "2026-11-18T08:00:00Z", "deployment": "d", "kind": "performance",
              "metric": "F 1", "value": 0.5, "feature": "x", "color": "red" }
        ])));
        let has =
            |field: &str, part: &str| errors.iter().any(|(f, m)| f == field && m.contains(part));
        assert!(has("measurements[0].ts", "RFC 3339"), "{errors:?}");
        assert!(has("measurements[0].deployment", "must not be empty"));
        assert!(has("measurements[0].kind", "unknown drift kind `vibes`"));
        assert!(has("measurements[1].metric", "unknown statistic `entropy`"));
        assert!(has("measurements[1].value", "at least 0"));
        assert!(has(
            "measurements[2].histogram.current",
            "has 2 bins; reference has 3"
        ));
        assert!(has("measurements[3].metric", "not a metric name"));
        assert!(has("measurements[3].feature", "only data drift"));
        assert!(has("measurements[3].color", "unknown field"));
    }

    #[test]
    fn batches_need_an_id_and_measurements() {
        let errors = errors_of(json!({ "measurements": [] }));
        assert!(errors.contains(&("batch_id".into(), "required".into())));
        assert!(errors.contains(&(
            "measurements".into(),
            "send at least one measurement".into()
        )));
        assert!(matches!(parse_body(b"{", now()), Err(BodyError::Json(_))));
    }
}
