//! OpenTelemetry's OTLP over HTTP, for applications that call hosted language models:
//! - `POST /api/v1/otlp/v1/traces` (scope `ingest`): spans; those with GenAI usage attributes
//!   (`gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`,
//!   `gen_ai.usage.cache_read.input_tokens`) count one call of `gen_ai.request.model` from
//!   `gen_ai.provider.name` for the resource's `service.name`;
//! - `POST /api/v1/otlp/v1/metrics` (scope `ingest`): the `gen_ai.client.token.usage` histogram
//!   (tokens by `gen_ai.token.type`), delta or cumulative.
//!
//! Bodies are protobuf (`application/x-protobuf`) or OTLP's JSON (`application/json`), gzip with
//! `Content-Encoding`, so an exporter points `OTEL_EXPORTER_OTLP_ENDPOINT` at `/api/v1/otlp`.
//! Only the usage is kept, summed by hour; spans are not stored. The answer is the export
//! response in the request's encoding, with `partial_success` naming what was left out.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, AggregationTemporality};
use prost::Message;

use super::auth::ApiCaller;
use super::error::ApiError;
use super::telemetry::body_bytes;
use app::genai::{CumulativePoint, Source, TokenKind, UsagePoint};
use app::state::AppState;

/// The metric of the GenAI conventions that counts tokens.
pub const TOKEN_USAGE_METRIC: &str = "gen_ai.client.token.usage";

/// How far back a span or point may lie: the table is summed by hour, and a point older than
/// the telemetry window is a replay, not usage.
const OLDEST_DAYS: i64 = 30;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

fn encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match content_type.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        other => Err(ApiError::BadRequest(format!(
            "OTLP over HTTP is application/x-protobuf or application/json, not `{other}`"
        ))),
    }
}

fn decode<T: Message + Default + serde::de::DeserializeOwned>(
    encoding: Encoding,
    bytes: &[u8],
) -> Result<T, ApiError> {
    match encoding {
        Encoding::Protobuf => T::decode(bytes)
            .map_err(|error| ApiError::BadRequest(format!("not an OTLP protobuf export: {error}"))),
        Encoding::Json => serde_json::from_slice(bytes)
            .map_err(|error| ApiError::BadRequest(format!("not an OTLP JSON export: {error}"))),
    }
}

fn answer<T: Message + serde::Serialize>(encoding: Encoding, response: &T) -> Response {
    match encoding {
        Encoding::Protobuf => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            response.encode_to_vec(),
        )
            .into_response(),
        Encoding::Json => {
            // An empty response is `{}`: no `partialSuccess` at all when nothing was left out.
            let mut value = serde_json::to_value(response).unwrap_or_default();
            if let Some(fields) = value.as_object_mut() {
                fields.retain(|_, field| !field.is_null());
            }
            (StatusCode::OK, axum::Json(value)).into_response()
        }
    }
}

/// Attributes by key, the latest of a repeated key winning.
fn attributes(list: &[KeyValue]) -> BTreeMap<&str, &any_value::Value> {
    list.iter()
        .filter_map(|kv| Some((kv.key.as_str(), kv.value.as_ref()?.value.as_ref()?)))
        .collect()
}

fn text(value: &any_value::Value) -> Option<String> {
    match value {
        any_value::Value::StringValue(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A token count: an int (as the conventions say), or a whole double or string some SDKs send.
fn count(value: &any_value::Value) -> Option<i64> {
    let n = match value {
        any_value::Value::IntValue(i) => *i as f64,
        any_value::Value::DoubleValue(d) => *d,
        any_value::Value::StringValue(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (0.0..1e15).contains(&n).then_some(n.round() as i64)
}

fn first<'a>(
    attrs: &BTreeMap<&str, &'a any_value::Value>,
    keys: &[&str],
) -> Option<&'a any_value::Value> {
    keys.iter().find_map(|key| attrs.get(key).copied())
}

/// The model, provider and service a span or point names.
struct Names {
    service: String,
    provider: String,
    model: Option<String>,
}

fn clip(text: String, max: usize) -> String {
    text.chars().take(max).collect()
}

fn names(
    resource: &BTreeMap<&str, &any_value::Value>,
    attrs: &BTreeMap<&str, &any_value::Value>,
) -> Names {
    let service = resource
        .get("service.name")
        .and_then(|v| text(v))
        .unwrap_or_else(|| "unknown_service".to_owned());
    // `gen_ai.system` was the provider's attribute before `gen_ai.provider.name`.
    let provider = first(attrs, &["gen_ai.provider.name", "gen_ai.system"])
        .and_then(text)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let model = first(attrs, &["gen_ai.request.model", "gen_ai.response.model"]).and_then(text);
    Names {
        service: clip(service, 200),
        provider: clip(provider, 100),
        model: model.map(|m| clip(m, 200)),
    }
}

fn instant(nanos: u64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let at = if nanos == 0 {
        now
    } else {
        DateTime::from_timestamp_nanos(i64::try_from(nanos).ok()?)
    };
    (at <= now + TimeDelta::hours(1) && at >= now - TimeDelta::days(OLDEST_DAYS)).then_some(at)
}

/// What an export carried that could not be used: how many spans or points, and why.
#[derive(Debug, Default)]
pub struct LeftOut {
    pub count: i64,
    pub why: Vec<String>,
}

impl LeftOut {
    fn add(&mut self, why: impl Into<String>) {
        self.count += 1;
        self.why.push(why.into());
    }

    /// The first few reasons, for the answer's `partialSuccess`.
    fn message(&self) -> String {
        let mut reasons: Vec<&String> = self.why.iter().collect();
        reasons.dedup();
        reasons
            .into_iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A resource's attributes (`service.name`, ...).
fn resource_attributes(
    resource: Option<&opentelemetry_proto::tonic::resource::v1::Resource>,
) -> BTreeMap<&str, &any_value::Value> {
    resource
        .map(|r| attributes(&r.attributes))
        .unwrap_or_default()
}

/// The usage in an export of spans, and the spans with usage that had to be left out.
pub fn spans_usage(
    request: &ExportTraceServiceRequest,
    now: DateTime<Utc>,
) -> (Vec<UsagePoint>, LeftOut) {
    let mut points = Vec::new();
    let mut left_out = LeftOut::default();
    for resource_spans in &request.resource_spans {
        let resource = resource_attributes(resource_spans.resource.as_ref());
        for scope in &resource_spans.scope_spans {
            for span in &scope.spans {
                let attrs = attributes(&span.attributes);
                // Input and output as the conventions name them, and as they were named before.
                let input = first(
                    &attrs,
                    &["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"],
                );
                let output = first(
                    &attrs,
                    &[
                        "gen_ai.usage.output_tokens",
                        "gen_ai.usage.completion_tokens",
                    ],
                );
                if input.is_none() && output.is_none() {
                    continue;
                }
                let names = names(&resource, &attrs);
                let Some(model) = names.model else {
                    left_out.add(format!(
                        "span {} has token usage but no gen_ai.request.model",
                        span.name
                    ));
                    continue;
                };
                let Some(at) = instant(span.end_time_unix_nano.max(span.start_time_unix_nano), now)
                else {
                    left_out.add(format!(
                        "span {} ended outside the last {OLDEST_DAYS} days",
                        span.name
                    ));
                    continue;
                };
                let tokens = |value: Option<&any_value::Value>| value.map(count);
                let (input, output) = (tokens(input), tokens(output));
                let cached = tokens(first(
                    &attrs,
                    &[
                        "gen_ai.usage.cache_read.input_tokens",
                        "gen_ai.usage.cache_read_input_tokens",
                    ],
                ));
                if [input, output, cached].contains(&Some(None)) {
                    left_out.add(format!(
                        "span {} has a token count that is not a whole number",
                        span.name
                    ));
                    continue;
                }
                points.push(UsagePoint {
                    at,
                    service: names.service,
                    provider: names.provider,
                    model,
                    source: Source::Span,
                    requests: 1,
                    input_tokens: input.flatten().unwrap_or(0),
                    output_tokens: output.flatten().unwrap_or(0),
                    cached_input_tokens: cached.flatten().unwrap_or(0),
                });
            }
        }
    }
    (points, left_out)
}

/// A metric point as read here: its attributes, start, time and sum.
type Point<'a> = (&'a [KeyValue], u64, u64, Option<f64>);

/// The usage in an export of metrics: delta points as they are, cumulative ones for the store to
/// turn into increments; and the points left out.
pub fn metrics_usage(
    request: &ExportMetricsServiceRequest,
    now: DateTime<Utc>,
) -> (Vec<UsagePoint>, Vec<CumulativePoint>, LeftOut) {
    let mut points = Vec::new();
    let mut cumulative = Vec::new();
    let mut left_out = LeftOut::default();
    for resource_metrics in &request.resource_metrics {
        let resource = resource_attributes(resource_metrics.resource.as_ref());
        for scope in &resource_metrics.scope_metrics {
            for metric in scope
                .metrics
                .iter()
                .filter(|m| m.name == TOKEN_USAGE_METRIC)
            {
                // (attributes, start, time, sum) of each point, and the series' temporality.
                let (temporality, data): (i32, Vec<Point>) = match &metric.data {
                    Some(metric::Data::Histogram(h)) => (
                        h.aggregation_temporality,
                        h.data_points
                            .iter()
                            .map(|p| {
                                (
                                    p.attributes.as_slice(),
                                    p.start_time_unix_nano,
                                    p.time_unix_nano,
                                    p.sum,
                                )
                            })
                            .collect(),
                    ),
                    Some(metric::Data::Sum(s)) => (
                        s.aggregation_temporality,
                        s.data_points
                            .iter()
                            .map(|p| {
                                let value = match p.value {
                                    Some(number_data_point::Value::AsDouble(d)) => Some(d),
                                    Some(number_data_point::Value::AsInt(i)) => Some(i as f64),
                                    None => None,
                                };
                                (
                                    p.attributes.as_slice(),
                                    p.start_time_unix_nano,
                                    p.time_unix_nano,
                                    value,
                                )
                            })
                            .collect(),
                    ),
                    _ => {
                        left_out.why.push(format!(
                            "{TOKEN_USAGE_METRIC} is read as a histogram or a sum"
                        ));
                        continue;
                    }
                };
                for (point_attributes, start, time, sum) in data {
                    let attrs = attributes(point_attributes);
                    let names = names(&resource, &attrs);
                    let kind = match first(&attrs, &["gen_ai.token.type"])
                        .and_then(text)
                        .as_deref()
                    {
                        Some("input") => TokenKind::Input,
                        Some("output") => TokenKind::Output,
                        Some("cached_input" | "cache_read") => TokenKind::CachedInput,
                        other => {
                            left_out.add(format!(
                                "a point's gen_ai.token.type is {}, not input or output",
                                other.unwrap_or("missing")
                            ));
                            continue;
                        }
                    };
                    let (Some(model), Some(sum), Some(at)) = (names.model, sum, instant(time, now))
                    else {
                        left_out.add("a point lacks gen_ai.request.model, its sum, or a time in the last 30 days");
                        continue;
                    };
                    if !sum.is_finite() || sum < 0.0 {
                        left_out.add(format!("a point's sum is {sum}"));
                        continue;
                    }
                    let point =
                        UsagePoint::tokens(at, &names.service, &names.provider, &model, kind, 0);
                    if temporality == AggregationTemporality::Cumulative as i32 {
                        let mut others: Vec<String> = point_attributes
                            .iter()
                            .filter(|kv| kv.key != "gen_ai.token.type")
                            .map(|kv| format!("{}={:?}", kv.key, kv.value))
                            .collect();
                        others.sort();
                        cumulative.push(CumulativePoint {
                            series: format!(
                                "{}\u{1f}{:?}\u{1f}{}",
                                names.service,
                                kind,
                                others.join("\u{1e}")
                            ),
                            // To the microsecond, as Postgres keeps it, so the next export's
                            // start compares equal.
                            start: DateTime::from_timestamp_micros(
                                i64::try_from(start / 1_000).unwrap_or(0),
                            )
                            .unwrap_or_default(),
                            sum,
                            kind,
                            point,
                        });
                    } else {
                        points.push(UsagePoint::tokens(
                            at,
                            &names.service,
                            &names.provider,
                            &model,
                            kind,
                            sum.round() as i64,
                        ));
                    }
                }
            }
        }
    }
    (points, cumulative, left_out)
}

/// An export's encoding and its request, or why it is not one.
fn read_export<T: Message + Default + serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Encoding, T), ApiError> {
    let encoding = encoding(headers)?;
    let bytes = body_bytes(body)?;
    Ok((encoding, decode(encoding, &bytes)?))
}

async fn store(
    state: &AppState,
    points: Vec<UsagePoint>,
    cumulative: Vec<CumulativePoint>,
) -> Result<(), ApiError> {
    app::genai::store::ingest(&state.pool, points, cumulative)
        .await
        .map_err(app::error::AppError::from)?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn traces(
    State(state): State<AppState>,
    _caller: ApiCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (encoding, request) = read_export::<ExportTraceServiceRequest>(&headers, body)?;
    let (points, left_out) = spans_usage(&request, app::clock::now());
    store(&state, points, Vec::new()).await?;
    let partial_success = (left_out.count > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: left_out.count,
        error_message: left_out.message(),
    });
    Ok(answer(
        encoding,
        &ExportTraceServiceResponse { partial_success },
    ))
}

#[tracing::instrument(skip_all)]
pub async fn metrics(
    State(state): State<AppState>,
    _caller: ApiCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (encoding, request) = read_export::<ExportMetricsServiceRequest>(&headers, body)?;
    let (points, cumulative, left_out) = metrics_usage(&request, app::clock::now());
    store(&state, points, cumulative).await?;
    let partial_success = (left_out.count > 0).then(|| ExportMetricsPartialSuccess {
        rejected_data_points: left_out.count,
        error_message: left_out.message(),
    });
    Ok(answer(
        encoding,
        &ExportMetricsServiceResponse { partial_success },
    ))
}

/// The query of `GET /api/v1/genai/usage`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct UsageQuery {
    /// 1, 7, 30 or 90 days back from now; 7 when absent.
    days: Option<u32>,
}

/// `GET /api/v1/genai/usage?days=7` (scope `read`): each service's hosted-model use, priced.
#[tracing::instrument(skip_all)]
pub async fn usage(
    State(state): State<AppState>,
    _caller: ApiCaller,
    axum::extract::Query(query): axum::extract::Query<UsageQuery>,
) -> Result<axum::Json<app::genai::HostedSpendView>, ApiError> {
    let days = app::fleet::clamp_days(query.days);
    let view = app::genai::store::spend(&state.pool, days, app::clock::now())
        .await
        .map_err(app::error::AppError::from)?;
    Ok(axum::Json(view))
}
