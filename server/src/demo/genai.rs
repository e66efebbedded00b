//! The demo's hosted-model calls: two weeks of the spans the support team's applications send
//! over OpenTelemetry, read by the same code the OTLP endpoint uses, so the fleet page shows
//! what GPT-4o mini, Claude Haiku and GPT-4o cost beside the GPUs.

use chrono::{DurationRound, TimeDelta};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use sqlx::PgPool;

/// (service, provider, model, calls in a busy hour, input, output and cached tokens per call)
const SERVICES: &[(&str, &str, &str, u64, i64, i64, i64)] = &[
    (
        "support-assistant",
        "openai",
        "gpt-4o-mini",
        40,
        2_400,
        320,
        1_600,
    ),
    (
        "ticket-summaries",
        "anthropic",
        "claude-haiku-4-5",
        12,
        3_800,
        260,
        0,
    ),
    ("contract-review", "openai", "gpt-4o", 3, 9_000, 900, 4_000),
];

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// Calls in an hour: busy from 08:00 to 18:00 on weekdays, a trickle otherwise; varied by a
/// fixed pattern so the demo is the same on any day.
fn calls(busy: u64, hour_index: u64, weekday: bool, hour_of_day: u32) -> u64 {
    let wobble = (hour_index * 7 + 3) % 5;
    match (weekday, (8..18).contains(&hour_of_day)) {
        (true, true) => busy + wobble * busy / 10,
        (true, false) => busy / 8 + wobble % 2,
        (false, _) => busy / 10 + wobble % 2,
    }
}

pub async fn load(pool: &PgPool) -> anyhow::Result<i64> {
    use chrono::{Datelike, Timelike};
    let now = app::clock::now();
    let this_hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    let mut resource_spans = Vec::new();
    for (service, provider, model, busy, input, output, cached) in SERVICES {
        let mut spans = Vec::new();
        for back in 1..=14 * 24_u64 {
            let hour = this_hour - TimeDelta::hours(back as i64);
            let weekday = hour.weekday().number_from_monday() <= 5;
            for call in 0..calls(*busy, back, weekday, hour.hour()) {
                let start = hour + TimeDelta::seconds((call * 3_599 / busy.max(&1) % 3_599) as i64);
                let nanos = |at: chrono::DateTime<chrono::Utc>| {
                    at.timestamp_nanos_opt().unwrap_or_default() as u64
                };
                let spread = ((back + call) % 7) as i64 - 3;
                let mut attributes = vec![
                    attribute(
                        "gen_ai.operation.name",
                        any_value::Value::StringValue("chat".into()),
                    ),
                    attribute(
                        "gen_ai.provider.name",
                        any_value::Value::StringValue((*provider).into()),
                    ),
                    attribute(
                        "gen_ai.request.model",
                        any_value::Value::StringValue((*model).into()),
                    ),
                    attribute(
                        "gen_ai.usage.input_tokens",
                        any_value::Value::IntValue(input + spread * input / 20),
                    ),
                    attribute(
                        "gen_ai.usage.output_tokens",
                        any_value::Value::IntValue(output + spread * output / 10),
                    ),
                ];
                if *cached > 0 {
                    attributes.push(attribute(
                        "gen_ai.usage.cache_read.input_tokens",
                        any_value::Value::IntValue(*cached),
                    ));
                }
                spans.push(Span {
                    name: format!("chat {model}"),
                    start_time_unix_nano: nanos(start),
                    end_time_unix_nano: nanos(start + TimeDelta::milliseconds(900)),
                    attributes,
                    ..Span::default()
                });
            }
        }
        resource_spans.push(ResourceSpans {
            resource: Some(Resource {
                attributes: vec![attribute(
                    "service.name",
                    any_value::Value::StringValue((*service).into()),
                )],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        });
    }
    let request = ExportTraceServiceRequest { resource_spans };
    let (points, left_out) = crate::api::otlp::spans_usage(&request, now);
    anyhow::ensure!(
        left_out.count == 0,
        "demo spans refused: {:?}",
        left_out.why
    );
    let calls = points.len() as i64;
    app::genai::store::ingest(pool, points, Vec::new()).await?;
    Ok(calls)
}
