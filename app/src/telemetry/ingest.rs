//! The telemetry batch an agent posts: validation of every field (reporting each bad path, not just
//! the first) and the hourly sums it adds to. Pure: no I/O, no SQL.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::error::FieldError;

pub const MAX_SAMPLES: usize = 10_000;
/// Samples may be stamped at most this far ahead of the server's clock.
pub const MAX_FUTURE_SKEW: TimeDelta = TimeDelta::minutes(5);
/// The most requests a GPU may report per second of its interval: far past any real server, and
/// low enough that no sum of them can overflow a count.
pub const MAX_REQUESTS_PER_SECOND: i64 = 1_000_000;
/// The most cores a CPU sample may stand for.
pub const MAX_CPU_CORES: f64 = 4096.0;
/// The most GPU memory a sample may report (16 TiB), its power (10 kW) and a latency (one day).
pub const MAX_MEMORY_MIB: f64 = 16_777_216.0;
pub const MAX_POWER_WATTS: f64 = 10_000.0;
pub const MAX_LATENCY_MS: f64 = 86_400_000.0;
/// The most tokens a GPU may report per second of its interval, read or written: far past any
/// real server (an H100 prefills tens of thousands a second), and low enough that no sum of them
/// can overflow a count.
pub const MAX_TOKENS_PER_SECOND: i64 = 100_000_000;
/// A sample below this utilization counts as idle.
pub const IDLE_UTILIZATION_PCT: f64 = 10.0;
/// Why a sample without a deployment may not count what a deployment does.
pub const UNASSIGNED_SERVES_NOTHING: &str =
    "a GPU without a deployment is its host's idle capacity and serves nothing: \
     name the deployment, or leave this out";
/// At most this many field errors are reported for one batch.
pub const MAX_REPORTED_ERRORS: usize = 100;

#[derive(Clone, Debug, PartialEq)]
pub struct Latency {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub ts: DateTime<Utc>,
    /// The deployment the GPU served; None: no deployment uses it, and it is its host's idle
    /// capacity (then it served no requests).
    pub deployment: Option<String>,
    pub gpu_uuid: String,
    pub gpu_index: i32,
    pub gpu_model: String,
    pub interval_s: f64,
    pub utilization_pct: f64,
    pub memory_used_mib: f64,
    pub power_watts: f64,
    pub requests: i64,
    pub latency: Option<Latency>,
    /// What a language-model server read and wrote in the interval, when it counts tokens.
    pub tokens: Option<Tokens>,
    /// Time to first token, kept apart from the whole request's latency.
    pub ttft: Option<Latency>,
    /// The part of a card this device is: a MIG slice or a time-sliced share (1: a whole card).
    pub slice: Option<GpuSlice>,
    /// The Kubernetes pod using the device, "namespace/pod", when the agent knows it.
    pub pod: Option<String>,
    /// A CPU machine rather than a GPU: the cores this device stands for (a deployment's
    /// allotment; its share of the machine is `slice`'s share). `gpu_model` then names the
    /// machine type the price catalog prices per hour.
    pub cpu_cores: Option<f64>,
}

/// A device that is part of a card: its share of the card, the card it is cut from and, for a
/// MIG slice, its profile.
#[derive(Clone, Debug, PartialEq)]
pub struct GpuSlice {
    pub share: f64,
    pub parent_uuid: Option<String>,
    pub mig_profile: Option<String>,
}

impl Sample {
    /// The share of a card this sample's device stands for.
    pub fn share(&self) -> f64 {
        self.slice.as_ref().map_or(1.0, |s| s.share)
    }
}

/// Tokens a language-model server processed in an interval. `cached_input` is the part of
/// `input` served from a prefix cache rather than computed again.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tokens {
    pub input: i64,
    pub output: i64,
    pub cached_input: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub batch_id: Uuid,
    pub host: String,
    pub samples: Vec<Sample>,
}

/// When a sample may have been measured: no earlier than the first day of raw telemetry kept
/// (`PARETO_TELEMETRY_RETENTION_DAYS`; older days are dropped) and at most `MAX_FUTURE_SKEW` ahead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub now: DateTime<Utc>,
    pub retention_days: u32,
}

impl Window {
    pub fn new(now: DateTime<Utc>, retention_days: u32) -> Window {
        Window {
            now,
            retention_days,
        }
    }

    /// The first day whose raw samples are kept.
    fn first_day_kept(&self) -> chrono::NaiveDate {
        let today = self.now.date_naive();
        today
            .checked_sub_days(chrono::Days::new(u64::from(self.retention_days)))
            .unwrap_or(today)
    }

    fn holds(&self, ts: DateTime<Utc>) -> bool {
        ts <= self.now + MAX_FUTURE_SKEW && ts.date_naive() >= self.first_day_kept()
    }
}

/// Field errors as they are found: the first `MAX_REPORTED_ERRORS`, and how many in all.
pub(crate) struct Errors(pub(crate) Vec<FieldError>, pub(crate) usize);

impl Errors {
    /// How many problems have been found so far.
    pub(crate) fn count(&self) -> usize {
        self.1
    }

    /// The reported errors, with a last line counting those left out.
    pub(crate) fn finish(self) -> Vec<FieldError> {
        let Errors(mut reported, total) = self;
        if total > reported.len() {
            reported.push(FieldError {
                field: String::new(),
                message: format!("{} more problems not listed", total - reported.len()),
            });
        }
        reported
    }

    pub(crate) fn new() -> Self {
        Errors(Vec::new(), 0)
    }

    pub(crate) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.1 += 1;
        if self.0.len() < MAX_REPORTED_ERRORS {
            self.0.push(FieldError {
                field: path.into(),
                message: message.into(),
            });
        }
    }
}

const BATCH_FIELDS: &[&str] = &["batch_id", "host", "samples"];
const SAMPLE_FIELDS: &[&str] = &[
    "ts",
    "deployment",
    "gpu_uuid",
    "gpu_index",
    "gpu_model",
    "interval_s",
    "utilization_pct",
    "memory_used_mib",
    "power_watts",
    "requests",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "ttft_ms",
    "gpu_share",
    "parent_gpu_uuid",
    "mig_profile",
    "pod",
    "cpu_cores",
];
const LATENCY_FIELDS: &[&str] = &["p50", "p95", "p99"];

pub(crate) fn unknown_fields(
    object: &Map<String, Value>,
    known: &[&str],
    path: &str,
    errors: &mut Errors,
) {
    for key in object.keys().filter(|key| !known.contains(&key.as_str())) {
        let at = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        errors.add(
            at,
            format!("unknown field; expected one of {}", known.join(", ")),
        );
    }
}

pub(crate) fn text(
    object: &Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
    errors: &mut Errors,
) -> Option<String> {
    // Spelled out only for an error: valid batches are the common case.
    let at = || format!("{path}{key}");
    match object.get(key) {
        None | Some(Value::Null) => errors.add(at(), "required"),
        Some(Value::String(value)) if value.trim().is_empty() => {
            errors.add(at(), "must not be empty")
        }
        Some(Value::String(value)) if value.chars().count() > max => {
            errors.add(at(), format!("must be at most {max} characters"))
        }
        Some(Value::String(value)) => return Some(value.trim().to_owned()),
        Some(_) => errors.add(at(), "must be a string"),
    }
    None
}

/// A finite number within `min..=max` (`max` None: unbounded).
pub(crate) fn number(
    object: &Map<String, Value>,
    key: &str,
    path: &str,
    range: (f64, Option<f64>),
    errors: &mut Errors,
) -> Option<f64> {
    // Spelled out only for an error: valid batches are the common case.
    let at = || format!("{path}{key}");
    match object.get(key) {
        None | Some(Value::Null) => errors.add(at(), "required"),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(value) if value < range.0 => {
                errors.add(at(), format!("must be at least {}", range.0))
            }
            Some(value) if range.1.is_some_and(|max| value > max) => errors.add(
                at(),
                format!("must be at most {}", range.1.unwrap_or_default()),
            ),
            Some(value) => return Some(value),
            None => errors.add(at(), "must be a finite number"),
        },
        Some(_) => errors.add(at(), "must be a number"),
    }
    None
}

pub(crate) fn integer(
    object: &Map<String, Value>,
    key: &str,
    path: &str,
    max: i64,
    errors: &mut Errors,
) -> Option<i64> {
    // Spelled out only for an error: valid batches are the common case.
    let at = || format!("{path}{key}");
    match object.get(key) {
        None | Some(Value::Null) => errors.add(at(), "required"),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(value) if value < 0 => errors.add(at(), "must not be negative"),
            Some(value) if value > max => errors.add(at(), format!("must be at most {max}")),
            Some(value) => return Some(value),
            None => errors.add(at(), "must be a whole number"),
        },
        Some(_) => errors.add(at(), "must be a whole number"),
    }
    None
}

/// `latency_ms` or `ttft_ms`: p50, p95 and p99 in milliseconds, each optional.
fn latency(
    object: &Map<String, Value>,
    key: &str,
    path: &str,
    errors: &mut Errors,
) -> Option<Latency> {
    let value = object.get(key);
    let at = format!("{path}{key}");
    let object = match value {
        None | Some(Value::Null) => return None,
        Some(Value::Object(object)) => object,
        Some(_) => {
            errors.add(
                at,
                "must be an object with p50, p95 and p99 in milliseconds",
            );
            return None;
        }
    };
    unknown_fields(object, LATENCY_FIELDS, &at, errors);
    let prefix = format!("{at}.");
    let mut read = |key: &str| match object.get(key) {
        None | Some(Value::Null) => None,
        Some(_) => number(object, key, &prefix, (0.0, Some(MAX_LATENCY_MS)), errors),
    };
    Some(Latency {
        p50: read("p50"),
        p95: read("p95"),
        p99: read("p99"),
    })
}

/// `ts`: an RFC 3339 time no more than `MAX_FUTURE_SKEW` ahead of `now`.
pub(crate) fn timestamp(
    object: &Map<String, Value>,
    path: &str,
    now: DateTime<Utc>,
    errors: &mut Errors,
) -> Option<DateTime<Utc>> {
    match object.get("ts") {
        None | Some(Value::Null) => {
            errors.add(format!("{path}ts"), "required");
            None
        }
        Some(Value::String(text)) => match DateTime::parse_from_rfc3339(text) {
            Ok(ts) if ts.with_timezone(&Utc) > now + MAX_FUTURE_SKEW => {
                errors.add(
                    format!("{path}ts"),
                    "is more than 5 minutes in the future; check the host's clock",
                );
                None
            }
            Ok(ts) => Some(ts.with_timezone(&Utc)),
            Err(_) => {
                errors.add(
                    format!("{path}ts"),
                    "must be an RFC 3339 timestamp such as 2026-11-28T09:00:00Z",
                );
                None
            }
        },
        Some(_) => {
            errors.add(format!("{path}ts"), "must be an RFC 3339 timestamp string");
            None
        }
    }
}

fn sample(value: &Value, index: usize, window: Window, errors: &mut Errors) -> Option<Sample> {
    let path = format!("samples[{index}].");
    let Value::Object(object) = value else {
        errors.add(format!("samples[{index}]"), "must be an object");
        return None;
    };
    unknown_fields(object, SAMPLE_FIELDS, &format!("samples[{index}]"), errors);
    let ts = timestamp(object, &path, window.now, errors).filter(|ts| {
        let kept = ts.date_naive() >= window.first_day_kept();
        if !kept {
            errors.add(
                format!("{path}ts"),
                format!(
                    "is older than the {} days of raw telemetry kept (PARETO_TELEMETRY_RETENTION_DAYS); \
                     samples from before {} are not accepted",
                    window.retention_days,
                    window.first_day_kept()
                ),
            );
        }
        kept
    });
    let present = |name: &str| object.get(name).is_some_and(|v| !v.is_null());
    let deployment = present("deployment")
        .then(|| text(object, "deployment", &path, 200, errors))
        .flatten();
    let pod = present("pod")
        .then(|| text(object, "pod", &path, 253, errors))
        .flatten();
    let cpu_cores = if present("cpu_cores") {
        match number(
            object,
            "cpu_cores",
            &path,
            (0.0, Some(MAX_CPU_CORES)),
            errors,
        ) {
            Some(cores) if cores <= 0.0 => {
                errors.add(format!("{path}cpu_cores"), "must be greater than 0");
                None
            }
            Some(_) if present("mig_profile") => {
                errors.add(
                    format!("{path}mig_profile"),
                    "a CPU machine (cpu_cores) has no MIG profile",
                );
                None
            }
            other => other,
        }
    } else {
        None
    };
    let gpu_uuid = text(object, "gpu_uuid", &path, 100, errors);
    let gpu_index = integer(object, "gpu_index", &path, 1024, errors);
    let gpu_model = text(object, "gpu_model", &path, 100, errors);
    let interval_s = match number(object, "interval_s", &path, (0.0, Some(86_400.0)), errors) {
        Some(interval) if interval <= 0.0 => {
            errors.add(format!("{path}interval_s"), "must be greater than 0");
            None
        }
        other => other,
    };
    let utilization_pct = number(object, "utilization_pct", &path, (0.0, Some(100.0)), errors);
    let memory_used_mib = number(
        object,
        "memory_used_mib",
        &path,
        (0.0, Some(MAX_MEMORY_MIB)),
        errors,
    );
    let power_watts = number(
        object,
        "power_watts",
        &path,
        (0.0, Some(MAX_POWER_WATTS)),
        errors,
    );
    let requests = integer(
        object,
        "requests",
        &path,
        max_requests(interval_s.unwrap_or(86_400.0)),
        errors,
    );
    let ttft = latency(object, "ttft_ms", &path, errors);
    let latency = latency(object, "latency_ms", &path, errors);
    let tokens = tokens(object, &path, interval_s, errors);
    let slice = slice(object, &path, errors);
    if !present("deployment") {
        let served = [
            ("requests", requests.is_some_and(|r| r > 0)),
            ("latency_ms", latency.is_some()),
            ("ttft_ms", ttft.is_some()),
            ("input_tokens", tokens.flatten().is_some()),
        ];
        for (field, _) in served.iter().filter(|(_, served)| *served) {
            errors.add(format!("{path}{field}"), UNASSIGNED_SERVES_NOTHING);
        }
    }
    let deployment = match (present("deployment"), deployment) {
        (true, None) => return None,
        (_, deployment) => deployment,
    };
    Some(Sample {
        ts: ts?,
        deployment,
        pod,
        cpu_cores,
        gpu_uuid: gpu_uuid?,
        gpu_index: i32::try_from(gpu_index?).ok()?,
        gpu_model: gpu_model?,
        interval_s: interval_s?,
        utilization_pct: utilization_pct?,
        memory_used_mib: memory_used_mib?,
        power_watts: power_watts?,
        requests: requests?,
        latency,
        tokens: tokens?,
        ttft,
        slice: slice?,
    })
}

/// `gpu_share`, `parent_gpu_uuid` and `mig_profile`: all optional; a device that names its card
/// or its MIG profile states its share. The outer None is a problem found; Some(None), a whole
/// card.
fn slice(object: &Map<String, Value>, path: &str, errors: &mut Errors) -> Option<Option<GpuSlice>> {
    let present = |name: &str| object.get(name).is_some_and(|v| !v.is_null());
    let before = errors.count();
    let share = if present("gpu_share") {
        match number(object, "gpu_share", path, (0.0, Some(1.0)), errors) {
            Some(share) if share <= 0.0 => {
                errors.add(format!("{path}gpu_share"), "must be greater than 0");
                None
            }
            other => other,
        }
    } else {
        None
    };
    let parent_uuid = present("parent_gpu_uuid")
        .then(|| text(object, "parent_gpu_uuid", path, 100, errors))
        .flatten();
    let mig_profile = present("mig_profile")
        .then(|| text(object, "mig_profile", path, 32, errors))
        .flatten();
    if share.is_none()
        && errors.count() == before
        && (parent_uuid.is_some() || mig_profile.is_some())
    {
        errors.add(
            format!("{path}gpu_share"),
            "is required with parent_gpu_uuid or mig_profile: the share of the card this device is",
        );
    }
    if errors.count() > before {
        return None;
    }
    Some(share.map(|share| GpuSlice {
        share,
        parent_uuid,
        mig_profile,
    }))
}

/// `input_tokens`, `output_tokens` and `cached_input_tokens`: all optional, but a sample that
/// counts tokens states both input and output, and its cached tokens are part of its input.
/// The outer None is a problem found; Some(None), a sample without tokens.
fn tokens(
    object: &Map<String, Value>,
    path: &str,
    interval_s: Option<f64>,
    errors: &mut Errors,
) -> Option<Option<Tokens>> {
    let max = max_tokens(interval_s.unwrap_or(86_400.0));
    let mut read = |key: &str| match object.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(_) => integer(object, key, path, max, errors).map(Some),
    };
    let (input, output, cached) = (
        read("input_tokens"),
        read("output_tokens"),
        read("cached_input_tokens"),
    );
    token_counts(input?, output?, cached?)
        .map_err(|(field, message)| errors.add(format!("{path}{field}"), message))
        .ok()
}

/// The rule both paths keep for a sample's token counts, each already a count in range: none at
/// all, or input and output both (cached input defaulting to none, and at most the input). A
/// broken rule names its field.
fn token_counts(
    input: Option<i64>,
    output: Option<i64>,
    cached: Option<i64>,
) -> Result<Option<Tokens>, (&'static str, &'static str)> {
    match (input, output, cached.unwrap_or(0)) {
        (None, None, _) if cached.is_none() => Ok(None),
        (Some(input), Some(output), cached_input) if cached_input <= input => Ok(Some(Tokens {
            input,
            output,
            cached_input,
        })),
        (Some(_), Some(_), _) => Err((
            "cached_input_tokens",
            "must be at most input_tokens: cached tokens are part of the input",
        )),
        (None, _, _) => Err((
            "input_tokens",
            "required when a sample counts tokens (0 if none were read)",
        )),
        (_, None, _) => Err((
            "output_tokens",
            "required when a sample counts tokens (0 if none were written)",
        )),
    }
}

/// The most a sample of `interval_s` seconds may count at `per_second`; interval_s is at most
/// 86,400, so the product fits easily.
fn per_interval(interval_s: f64, per_second: i64) -> i64 {
    (interval_s.ceil() as i64).max(1) * per_second
}

/// The most tokens a sample of `interval_s` seconds may report in one count.
fn max_tokens(interval_s: f64) -> i64 {
    per_interval(interval_s, MAX_TOKENS_PER_SECOND)
}

/// The most requests a sample of `interval_s` seconds may report.
fn max_requests(interval_s: f64) -> i64 {
    per_interval(interval_s, MAX_REQUESTS_PER_SECOND)
}

/// `batch_id`: the UUID the sender chose for this batch.
pub(crate) fn batch_id(object: &Map<String, Value>, errors: &mut Errors) -> Option<Uuid> {
    match object.get("batch_id") {
        Some(Value::String(text)) => match Uuid::parse_str(text) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add(
                    "batch_id",
                    "must be a UUID chosen by the agent; a retry reuses it",
                );
                None
            }
        },
        None | Some(Value::Null) => {
            errors.add("batch_id", "required");
            None
        }
        Some(_) => {
            errors.add("batch_id", "must be a UUID string");
            None
        }
    }
}

/// Checks a whole batch and returns it, or every problem found (at most 100, then a count).
pub fn parse_batch(value: &Value, window: Window) -> Result<Batch, Vec<FieldError>> {
    let mut errors = Errors::new();
    let Value::Object(object) = value else {
        return Err(vec![FieldError {
            field: String::new(),
            message: "the body must be a JSON object with batch_id, host and samples".into(),
        }]);
    };
    unknown_fields(object, BATCH_FIELDS, "", &mut errors);
    let batch_id = batch_id(object, &mut errors);
    let host = text(object, "host", "", 253, &mut errors);
    let samples = match object.get("samples") {
        Some(Value::Array(items)) if items.is_empty() => {
            errors.add("samples", "send at least one sample");
            Vec::new()
        }
        Some(Value::Array(items)) if items.len() > MAX_SAMPLES => {
            errors.add(
                "samples",
                format!(
                    "at most {MAX_SAMPLES} samples per batch; this one has {}",
                    items.len()
                ),
            );
            Vec::new()
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| sample(item, index, window, &mut errors))
            .collect(),
        None | Some(Value::Null) => {
            errors.add("samples", "required");
            Vec::new()
        }
        Some(_) => {
            errors.add("samples", "must be an array");
            Vec::new()
        }
    };
    let reported = errors.finish();
    match (batch_id, host) {
        (Some(batch_id), Some(host)) if reported.is_empty() => Ok(Batch {
            batch_id,
            host,
            samples,
        }),
        _ => Err(reported),
    }
}

/// Why a request body is not a batch.
#[derive(Debug, PartialEq)]
pub enum BodyError {
    /// Not JSON at all.
    Json(String),
    /// JSON, but fields are wrong: every problem, by path.
    Invalid(Vec<FieldError>),
}

/// Latency percentiles over the sample's interval, in milliseconds.
#[derive(serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", schemars(rename = "LatencyMs"))]
#[serde(deny_unknown_fields)]
pub struct TypedLatency {
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
}

/// One GPU (or MIG slice, or a pod's share of one) over one interval.
#[derive(serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", schemars(rename = "TelemetrySample"))]
#[serde(deny_unknown_fields)]
pub struct TypedSample {
    /// When the interval ended (RFC 3339), inside the server's retention and not in the future.
    ts: DateTime<Utc>,
    /// The deployment the GPU served; absent for an idle GPU (then no requests or tokens).
    deployment: Option<String>,
    gpu_uuid: String,
    gpu_index: i64,
    /// As nvidia-smi names it, such as "NVIDIA A100-SXM4-80GB"; priced from the catalog.
    gpu_model: String,
    /// Seconds the sample covers (above 0, at most a day).
    interval_s: f64,
    /// 0 to 100.
    utilization_pct: f64,
    memory_used_mib: f64,
    power_watts: f64,
    /// Requests answered in the interval.
    requests: i64,
    latency_ms: Option<TypedLatency>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    cached_input_tokens: Option<i64>,
    ttft_ms: Option<TypedLatency>,
    gpu_share: Option<f64>,
    parent_gpu_uuid: Option<String>,
    mig_profile: Option<String>,
    pod: Option<String>,
    cpu_cores: Option<f64>,
}

/// A batch of samples from one host, stored whole or not at all.
#[derive(serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", schemars(rename = "TelemetryBatch"))]
#[serde(deny_unknown_fields)]
pub struct TypedBatch {
    /// Chosen by the agent; the same id with the same bytes again stores nothing.
    batch_id: Uuid,
    host: String,
    /// At most 10,000.
    samples: Vec<TypedSample>,
}

/// The body of `POST /api/v1/telemetry`.
pub type TelemetryBody = TypedBatch;

fn fits(text: &str, max: usize) -> bool {
    let trimmed = text.trim();
    !trimmed.is_empty() && trimmed.chars().count() <= max
}

/// Whether a well-typed batch also keeps every rule `parse_batch` checks. It is at least as
/// strict, so a batch it accepts is one `parse_batch` would accept too.
fn keeps_the_rules(batch: &TypedBatch, window: Window) -> bool {
    fits(&batch.host, 253)
        && !batch.samples.is_empty()
        && batch.samples.len() <= MAX_SAMPLES
        && batch.samples.iter().all(|s| {
            window.holds(s.ts)
                && match &s.deployment {
                    Some(deployment) => fits(deployment, 200),
                    None => {
                        s.requests == 0
                            && s.latency_ms.is_none()
                            && s.ttft_ms.is_none()
                            && s.input_tokens.is_none()
                            && s.output_tokens.is_none()
                            && s.cached_input_tokens.is_none()
                    }
                }
                && s.pod.as_deref().is_none_or(|p| fits(p, 253))
                && s.cpu_cores.is_none_or(|cores| {
                    cores > 0.0 && cores <= MAX_CPU_CORES && s.mig_profile.is_none()
                })
                && fits(&s.gpu_uuid, 100)
                && fits(&s.gpu_model, 100)
                && (0..=1024).contains(&s.gpu_index)
                && s.interval_s > 0.0
                && s.interval_s <= 86_400.0
                && (0.0..=100.0).contains(&s.utilization_pct)
                && (0.0..=MAX_MEMORY_MIB).contains(&s.memory_used_mib)
                && (0.0..=MAX_POWER_WATTS).contains(&s.power_watts)
                && (0..=max_requests(s.interval_s)).contains(&s.requests)
                && [&s.latency_ms, &s.ttft_ms].iter().all(|latency| {
                    latency.as_ref().is_none_or(|l| {
                        [l.p50, l.p95, l.p99]
                            .iter()
                            .flatten()
                            .all(|v| (0.0..=MAX_LATENCY_MS).contains(v))
                    })
                })
                && typed_tokens(s).is_some()
                && s.gpu_share.is_none_or(|share| share > 0.0 && share <= 1.0)
                && (s.gpu_share.is_some()
                    || (s.parent_gpu_uuid.is_none() && s.mig_profile.is_none()))
                && s.parent_gpu_uuid.as_deref().is_none_or(|p| fits(p, 100))
                && s.mig_profile.as_deref().is_none_or(|p| fits(p, 32))
        })
}

/// A well-typed sample's tokens when they keep the rules (Some(None): it counts none).
fn typed_tokens(s: &TypedSample) -> Option<Option<Tokens>> {
    let max = max_tokens(s.interval_s);
    let fits = |count: Option<i64>| count.is_none_or(|c| (0..=max).contains(&c));
    if !(fits(s.input_tokens) && fits(s.output_tokens) && fits(s.cached_input_tokens)) {
        return None;
    }
    token_counts(s.input_tokens, s.output_tokens, s.cached_input_tokens).ok()
}

fn typed_latency(latency: Option<TypedLatency>) -> Option<Latency> {
    latency.map(|l| Latency {
        p50: l.p50,
        p95: l.p95,
        p99: l.p99,
    })
}

/// Parses and checks a request body. Good batches take the fast typed path; anything else is
/// walked field by field so that every problem is reported.
pub fn parse_body(bytes: &[u8], window: Window) -> Result<Batch, BodyError> {
    if let Ok(typed) = serde_json::from_slice::<TypedBatch>(bytes) {
        if keeps_the_rules(&typed, window) {
            return Ok(Batch {
                batch_id: typed.batch_id,
                host: typed.host.trim().to_owned(),
                samples: typed
                    .samples
                    .into_iter()
                    .map(|s| Sample {
                        tokens: typed_tokens(&s).flatten(),
                        ts: s.ts,
                        deployment: s.deployment.map(|d| d.trim().to_owned()),
                        pod: s.pod.map(|p| p.trim().to_owned()),
                        cpu_cores: s.cpu_cores,
                        gpu_uuid: s.gpu_uuid.trim().to_owned(),
                        gpu_index: i32::try_from(s.gpu_index).unwrap_or_default(),
                        gpu_model: s.gpu_model.trim().to_owned(),
                        interval_s: s.interval_s,
                        utilization_pct: s.utilization_pct,
                        memory_used_mib: s.memory_used_mib,
                        power_watts: s.power_watts,
                        requests: s.requests,
                        latency: typed_latency(s.latency_ms),
                        ttft: typed_latency(s.ttft_ms),
                        slice: s.gpu_share.map(|share| GpuSlice {
                            share,
                            parent_uuid: s.parent_gpu_uuid.map(|p| p.trim().to_owned()),
                            mig_profile: s.mig_profile.map(|p| p.trim().to_owned()),
                        }),
                    })
                    .collect(),
            });
        }
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| BodyError::Json(format!("the body is not valid JSON: {error}")))?;
    parse_batch(&value, window).map_err(BodyError::Invalid)
}

/// The hourly sums one batch adds, per deployment key, GPU model and hour.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HourlyRollup {
    pub sample_count: i64,
    pub gpu_seconds: f64,
    pub busy_gpu_seconds: f64,
    pub idle_gpu_seconds: f64,
    pub energy_joules: f64,
    pub memory_mib_seconds: f64,
    pub requests: i64,
    pub latency_p95_weighted: f64,
    pub latency_requests: i64,
    pub latency_p95_max_ms: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_input_tokens: i64,
    /// Sum of the time to first token's p95 x requests over samples that report it, and those
    /// requests.
    pub ttft_p95_weighted: f64,
    pub ttft_requests: i64,
    /// The requests of samples that count tokens.
    pub token_requests: i64,
}

pub type RollupKey = (String, String, DateTime<Utc>);

/// The hour a sample falls in.
fn hour_of(sample: &Sample) -> DateTime<Utc> {
    sample
        .ts
        .duration_trunc(TimeDelta::hours(1))
        .unwrap_or(sample.ts)
}

/// The GPU-seconds a sample holds (a slice: its share of the card for the interval) and those
/// its work used.
fn held(sample: &Sample) -> (f64, f64) {
    let held = sample.interval_s * sample.share();
    (held, held * sample.utilization_pct / 100.0)
}

/// The hourly sums of the samples that name a deployment; the others go to `capacity_rollup`.
pub fn rollup(samples: &[Sample]) -> BTreeMap<RollupKey, HourlyRollup> {
    let mut sums: BTreeMap<RollupKey, HourlyRollup> = BTreeMap::new();
    for sample in samples {
        let Some(deployment) = &sample.deployment else {
            continue;
        };
        let sum = sums
            .entry((
                deployment.clone(),
                sample.gpu_model.clone(),
                hour_of(sample),
            ))
            .or_default();
        sum.sample_count += 1;
        let (held, busy) = held(sample);
        sum.gpu_seconds += held;
        sum.busy_gpu_seconds += busy;
        if sample.utilization_pct < IDLE_UTILIZATION_PCT {
            sum.idle_gpu_seconds += held;
        }
        sum.energy_joules += sample.power_watts * sample.interval_s;
        sum.memory_mib_seconds += sample.memory_used_mib * sample.interval_s;
        // Counts saturate: many batches for one GPU and hour must not wrap into negatives.
        sum.requests = sum.requests.saturating_add(sample.requests);
        if let Some(p95) = sample.latency.as_ref().and_then(|latency| latency.p95) {
            sum.latency_p95_weighted += p95 * sample.requests as f64;
            sum.latency_requests = sum.latency_requests.saturating_add(sample.requests);
            sum.latency_p95_max_ms = Some(sum.latency_p95_max_ms.map_or(p95, |max| max.max(p95)));
        }
        if let Some(tokens) = sample.tokens {
            sum.input_tokens = sum.input_tokens.saturating_add(tokens.input);
            sum.output_tokens = sum.output_tokens.saturating_add(tokens.output);
            sum.cached_input_tokens = sum.cached_input_tokens.saturating_add(tokens.cached_input);
            sum.token_requests = sum.token_requests.saturating_add(sample.requests);
        }
        if let Some(p95) = sample.ttft.as_ref().and_then(|ttft| ttft.p95) {
            sum.ttft_p95_weighted += p95 * sample.requests as f64;
            sum.ttft_requests = sum.ttft_requests.saturating_add(sample.requests);
        }
    }
    sums
}

/// The hourly sums a batch adds to its host's idle capacity: the GPUs no deployment uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CapacityRollup {
    pub sample_count: i64,
    pub gpu_seconds: f64,
    pub busy_gpu_seconds: f64,
    pub energy_joules: f64,
}

/// The sums of the samples without a deployment, per GPU model and hour (the host is the batch's).
pub fn capacity_rollup(samples: &[Sample]) -> BTreeMap<(String, DateTime<Utc>), CapacityRollup> {
    let mut sums: BTreeMap<(String, DateTime<Utc>), CapacityRollup> = BTreeMap::new();
    for sample in samples.iter().filter(|s| s.deployment.is_none()) {
        let sum = sums
            .entry((sample.gpu_model.clone(), hour_of(sample)))
            .or_default();
        let (held, busy) = held(sample);
        sum.sample_count += 1;
        sum.gpu_seconds += held;
        sum.busy_gpu_seconds += busy;
        sum.energy_joules += sample.power_watts * sample.interval_s;
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Window {
        let now = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .expect("now")
            .with_timezone(&Utc);
        Window::new(now, 30)
    }

    fn good_sample() -> Value {
        json!({
            "ts": "2026-11-28T09:00:00Z", "deployment": "fraud-lgbm-v3",
            "gpu_uuid": "GPU-8a", "gpu_index": 0, "gpu_model": "NVIDIA H100 80GB HBM3",
            "interval_s": 10, "utilization_pct": 87.5, "memory_used_mib": 40213, "power_watts": 612.3,
            "requests": 1520, "latency_ms": { "p50": 12.1, "p95": 40.2, "p99": 80.3 }
        })
    }

    fn batch(samples: Vec<Value>) -> Value {
        json!({ "batch_id": "5f0c1a52-6a47-4c39-9d7e-0e1f2a3b4c5d", "host": "gpu-node-17", "samples": samples })
    }

    fn paths(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn the_documented_example_is_accepted() {
        let parsed = parse_batch(&batch(vec![good_sample()]), now()).expect("valid");
        assert_eq!(parsed.host, "gpu-node-17");
        assert_eq!(parsed.samples.len(), 1);
        let sample = &parsed.samples[0];
        assert_eq!(sample.requests, 1520);
        assert_eq!(sample.latency.as_ref().and_then(|l| l.p95), Some(40.2));
    }

    #[test]
    fn every_bad_field_is_reported_with_its_path() {
        let mut bad = good_sample();
        bad["utilization_pct"] = json!(101);
        bad["power_watts"] = json!(-1);
        bad["interval_s"] = json!(0);
        bad["ts"] = json!("yesterday");
        bad["colour"] = json!("blue");
        bad["latency_ms"]["p95"] = json!("fast");
        let mut future = good_sample();
        future["ts"] = json!("2026-11-28T10:06:00Z");
        future.as_object_mut().expect("object").remove("requests");
        let errors =
            parse_batch(&batch(vec![good_sample(), bad, future]), now()).expect_err("invalid");
        assert_eq!(
            paths(&errors),
            [
                "samples[1].colour",
                "samples[1].ts",
                "samples[1].interval_s",
                "samples[1].utilization_pct",
                "samples[1].power_watts",
                "samples[1].latency_ms.p95",
                "samples[2].ts",
                "samples[2].requests",
            ]
        );
        assert!(errors[6].message.contains("future"), "{:?}", errors[6]);
    }

    #[test]
    fn five_minutes_of_clock_skew_are_tolerated() {
        let mut sample = good_sample();
        sample["ts"] = json!("2026-11-28T10:05:00Z");
        assert!(parse_batch(&batch(vec![sample]), now()).is_ok());
    }

    #[test]
    fn the_batch_itself_is_checked() {
        let errors = parse_batch(
            &json!({ "batch_id": "nope", "samples": [], "extra": 1 }),
            now(),
        )
        .expect_err("bad");
        assert_eq!(paths(&errors), ["extra", "batch_id", "host", "samples"]);
        let too_many = batch(vec![good_sample(); MAX_SAMPLES + 1]);
        let errors = parse_batch(&too_many, now()).expect_err("too many");
        assert!(errors[0].message.contains("at most 10000"), "{:?}", errors);
        assert!(parse_batch(&json!([1, 2]), now()).is_err());
    }

    #[test]
    fn the_fast_path_and_the_field_walk_agree() {
        let good = batch(vec![good_sample(), good_sample()]);
        let bytes = serde_json::to_vec(&good).expect("json");
        assert_eq!(
            parse_body(&bytes, now()),
            parse_batch(&good, now()).map_err(BodyError::Invalid)
        );

        let mut bad = good_sample();
        bad["utilization_pct"] = json!(101);
        let invalid = batch(vec![good_sample(), bad]);
        let bytes = serde_json::to_vec(&invalid).expect("json");
        let Err(BodyError::Invalid(errors)) = parse_body(&bytes, now()) else {
            panic!("refused");
        };
        assert_eq!(paths(&errors), ["samples[1].utilization_pct"]);

        let mut padded = good_sample();
        padded["deployment"] = json!("  fraud-lgbm-v3  ");
        let bytes = serde_json::to_vec(&batch(vec![padded])).expect("json");
        assert_eq!(
            parse_body(&bytes, now()).expect("valid").samples[0]
                .deployment
                .as_deref(),
            Some("fraud-lgbm-v3")
        );

        assert!(matches!(
            parse_body(b"{\"batch_id\": ", now()),
            Err(BodyError::Json(_))
        ));
    }

    fn token_sample() -> Value {
        let mut sample = good_sample();
        sample["input_tokens"] = json!(912_000);
        sample["output_tokens"] = json!(228_000);
        sample["cached_input_tokens"] = json!(300_000);
        sample["ttft_ms"] = json!({ "p50": 90.5, "p95": 240.0 });
        sample
    }

    #[test]
    fn a_language_model_sample_counts_its_tokens() {
        let good = batch(vec![token_sample(), good_sample()]);
        let parsed = parse_batch(&good, now()).expect("valid");
        assert_eq!(
            parsed.samples[0].tokens,
            Some(Tokens {
                input: 912_000,
                output: 228_000,
                cached_input: 300_000
            })
        );
        assert_eq!(
            parsed.samples[0].ttft,
            Some(Latency {
                p50: Some(90.5),
                p95: Some(240.0),
                p99: None
            })
        );
        assert_eq!(parsed.samples[1].tokens, None, "tokens are optional");
        let bytes = serde_json::to_vec(&good).expect("json");
        assert_eq!(parse_body(&bytes, now()), Ok(parsed));

        // Cached tokens default to none.
        let mut uncached = token_sample();
        uncached["cached_input_tokens"] = Value::Null;
        let parsed = parse_batch(&batch(vec![uncached]), now()).expect("valid");
        assert_eq!(parsed.samples[0].tokens.map(|t| t.cached_input), Some(0));
    }

    #[test]
    fn token_counts_are_checked_by_both_paths() {
        let cases: [(&str, Value, &str); 5] = [
            ("cached_input_tokens", json!(912_001), "part of the input"),
            (
                "output_tokens",
                Value::Null,
                "required when a sample counts tokens",
            ),
            ("input_tokens", json!(-1), "must not be negative"),
            ("input_tokens", json!(1.5), "whole number"),
            (
                "output_tokens",
                json!(10_000_000_000_i64),
                "must be at most 1000000000",
            ),
        ];
        for (field, value, message) in cases {
            let mut bad = token_sample();
            bad[field] = value.clone();
            let body = batch(vec![good_sample(), bad]);
            let errors = parse_batch(&body, now()).expect_err("refused");
            assert_eq!(
                paths(&errors),
                [format!("samples[1].{field}")],
                "{field} = {value}"
            );
            assert!(errors[0].message.contains(message), "{}", errors[0].message);
            let bytes = serde_json::to_vec(&body).expect("json");
            assert_eq!(
                parse_body(&bytes, now()),
                Err(BodyError::Invalid(errors)),
                "the fast path refuses {field} = {value} too"
            );
        }
        let mut bad = token_sample();
        bad["ttft_ms"] = json!({ "p95": -3 });
        let errors = parse_batch(&batch(vec![bad]), now()).expect_err("refused");
        assert_eq!(paths(&errors), ["samples[0].ttft_ms.p95"]);
    }

    #[test]
    fn a_gpu_slice_holds_its_share_of_the_card_and_both_paths_check_it() {
        let mut slice = good_sample();
        slice["gpu_share"] = json!(0.25);
        slice["parent_gpu_uuid"] = json!("GPU-card");
        slice["mig_profile"] = json!("2g.20gb");
        let body = batch(vec![slice.clone()]);
        let walked = parse_batch(&body, now()).expect("valid");
        let bytes = serde_json::to_vec(&body).expect("json");
        assert_eq!(
            parse_body(&bytes, now()),
            Ok(walked.clone()),
            "the paths agree"
        );
        let sample = &walked.samples[0];
        assert_eq!(
            sample.slice,
            Some(GpuSlice {
                share: 0.25,
                parent_uuid: Some("GPU-card".into()),
                mig_profile: Some("2g.20gb".into()),
            })
        );
        let hour = rollup(&walked.samples)
            .into_values()
            .next()
            .expect("an hour");
        assert!((hour.gpu_seconds - sample.interval_s * 0.25).abs() < 1e-9);

        let cases: [(&str, Value, &str); 3] = [
            ("gpu_share", json!(0), "greater than 0"),
            ("gpu_share", json!(1.5), "at most 1"),
            ("gpu_share", Value::Null, "is required with parent_gpu_uuid"),
        ];
        for (field, value, message) in cases {
            let mut bad = slice.clone();
            bad[field] = value.clone();
            let body = batch(vec![good_sample(), bad]);
            let errors = parse_batch(&body, now()).expect_err("refused");
            assert_eq!(paths(&errors), [format!("samples[1].{field}")], "{value}");
            assert!(errors[0].message.contains(message), "{}", errors[0].message);
            let bytes = serde_json::to_vec(&body).expect("json");
            assert_eq!(
                parse_body(&bytes, now()),
                Err(BodyError::Invalid(errors)),
                "the fast path refuses {field} = {value} too"
            );
        }
    }

    #[test]
    fn a_gpu_without_a_deployment_is_host_capacity_and_serves_nothing() {
        let mut idle = good_sample();
        let object = idle.as_object_mut().expect("object");
        object.remove("deployment");
        object.remove("latency_ms");
        object.insert("requests".into(), json!(0));
        object.insert("pod".into(), json!("ml-serving/chat-7d9f-abcde"));
        let mut busy = good_sample();
        busy["gpu_uuid"] = json!("GPU-2");
        busy["deployment"] = Value::Null;
        for mut sample in [idle.clone(), busy.clone()] {
            sample["gpu_share"] = json!(0.5);
            let bytes = serde_json::to_vec(&batch(vec![idle.clone(), sample])).expect("json");
            let walked = parse_batch(&batch(vec![idle.clone()]), now()).expect("valid");
            assert_eq!(walked.samples[0].deployment, None);
            assert_eq!(
                walked.samples[0].pod.as_deref(),
                Some("ml-serving/chat-7d9f-abcde")
            );
            match parse_body(&bytes, now()) {
                Ok(parsed) => {
                    assert_eq!(parsed.samples[1].deployment, None);
                    let capacity = capacity_rollup(&parsed.samples);
                    let sum = capacity.values().next().expect("one hour");
                    assert_eq!(sum.sample_count, 2);
                    // 10 s of a whole card and 10 s of half of one.
                    assert!((sum.gpu_seconds - 15.0).abs() < 1e-9);
                    assert!(rollup(&parsed.samples).is_empty(), "no deployment's hours");
                }
                Err(BodyError::Invalid(errors)) => {
                    // The busy one: its requests and latency belong to a deployment.
                    assert_eq!(
                        paths(&errors),
                        ["samples[1].requests", "samples[1].latency_ms"]
                    );
                    assert!(errors[0].message.contains("idle capacity"));
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        let mut empty = good_sample();
        empty["deployment"] = json!(" ");
        let errors = parse_batch(&batch(vec![empty]), now()).expect_err("empty key");
        assert_eq!(paths(&errors), ["samples[0].deployment"]);
    }

    #[test]
    fn rollups_sum_tokens_and_time_to_first_token() {
        let parsed = parse_batch(
            &batch(vec![token_sample(), token_sample(), good_sample()]),
            now(),
        )
        .expect("valid");
        let sums = rollup(&parsed.samples);
        let hour = sums.values().next().expect("one hour");
        assert_eq!(
            (
                hour.input_tokens,
                hour.output_tokens,
                hour.cached_input_tokens
            ),
            (1_824_000, 456_000, 600_000)
        );
        assert_eq!(hour.ttft_requests, 3040, "only samples that report it");
        assert_eq!(
            hour.token_requests, 3040,
            "the requests of the samples that count tokens"
        );
        assert!(hour.requests > hour.token_requests);
        assert!((hour.ttft_p95_weighted / hour.ttft_requests as f64 - 240.0).abs() < 1e-9);
    }

    #[test]
    fn error_lists_are_capped() {
        let mut bad = good_sample();
        bad["utilization_pct"] = json!(500);
        let errors = parse_batch(&batch(vec![bad; 150]), now()).expect_err("bad");
        assert_eq!(errors.len(), MAX_REPORTED_ERRORS + 1);
        assert_eq!(
            errors[MAX_REPORTED_ERRORS].message,
            "50 more problems not listed"
        );
    }

    #[test]
    fn rollups_sum_per_deployment_model_and_hour() {
        let mut idle = good_sample();
        idle["utilization_pct"] = json!(5);
        idle["ts"] = json!("2026-11-28T09:59:59Z");
        idle["latency_ms"] = Value::Null;
        let mut next_hour = good_sample();
        next_hour["ts"] = json!("2026-11-28T10:00:00Z");
        let parsed =
            parse_batch(&batch(vec![good_sample(), idle, next_hour]), now()).expect("valid");
        let sums = rollup(&parsed.samples);
        assert_eq!(sums.len(), 2);
        let (key, nine) = sums.iter().next().expect("first hour");
        assert_eq!(key.2.to_rfc3339(), "2026-11-28T09:00:00+00:00");
        assert_eq!(nine.sample_count, 2);
        assert_eq!(nine.gpu_seconds, 20.0);
        assert!((nine.busy_gpu_seconds - (8.75 + 0.5)).abs() < 1e-9);
        assert_eq!(nine.idle_gpu_seconds, 10.0);
        assert!((nine.energy_joules - 12_246.0).abs() < 1e-6);
        assert_eq!(nine.requests, 3040);
        assert_eq!(
            nine.latency_requests, 1520,
            "only samples that report latency"
        );
        assert_eq!(nine.latency_p95_max_ms, Some(40.2));
    }

    #[test]
    fn numbers_past_any_real_gpu_and_samples_past_retention_are_refused_by_both_paths() {
        let mut huge = good_sample();
        huge["requests"] = json!(5_000_000_000_000_000_000_i64);
        huge["power_watts"] = json!(1e30);
        huge["memory_used_mib"] = json!(1e30);
        huge["latency_ms"]["p95"] = json!(1e300);
        let mut old = good_sample();
        old["ts"] = json!("2026-10-28T23:59:59Z");
        let mut oldest_kept = good_sample();
        oldest_kept["ts"] = json!("2026-10-29T00:00:00Z");
        let body = batch(vec![huge, old, oldest_kept]);
        let bytes = serde_json::to_vec(&body).expect("json");
        let Err(BodyError::Invalid(errors)) = parse_body(&bytes, now()) else {
            panic!("refused");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for field in [
            "samples[0].requests",
            "samples[0].power_watts",
            "samples[0].memory_used_mib",
            "samples[0].latency_ms.p95",
            "samples[1].ts",
        ] {
            assert!(fields.contains(&field), "{field} in {fields:?}");
        }
        assert_eq!(errors.len(), 5, "{errors:?}");
        let requests = errors.iter().find(|e| e.field == "samples[0].requests");
        assert_eq!(
            requests.map(|e| e.message.as_str()),
            Some("must be at most 10000000")
        );
        let old = errors.iter().find(|e| e.field == "samples[1].ts");
        assert!(
            old.is_some_and(|e| e.message.contains("older than the 30 days")
                && e.message.contains("2026-10-29")),
            "{old:?}"
        );
        // At the bounds, the fast path takes what the field-by-field one would.
        let mut busiest = good_sample();
        busiest["requests"] = json!(10_000_000_000_i64);
        busiest["interval_s"] = json!(10_000);
        let body = batch(vec![busiest.clone()]);
        let bytes = serde_json::to_vec(&body).expect("json");
        assert_eq!(
            parse_body(&bytes, now()),
            parse_batch(&body, now()).map_err(BodyError::Invalid)
        );
        assert!(parse_body(&bytes, now()).is_ok());
        busiest["interval_s"] = json!(9_999);
        assert!(parse_batch(&batch(vec![busiest]), now()).is_err());
    }

    #[test]
    fn hourly_counts_saturate_instead_of_wrapping() {
        let body = batch(vec![good_sample()]);
        let mut sample = parse_batch(&body, now()).expect("valid").samples.remove(0);
        sample.requests = i64::MAX / 2 + 1;
        let sums = rollup(&[sample.clone(), sample.clone(), sample]);
        let hour = sums.values().next().expect("one hour");
        assert_eq!(hour.requests, i64::MAX);
        assert_eq!(hour.latency_requests, i64::MAX);
    }
}
