//! OTLP over HTTP: the GenAI token usage in spans and metrics, as OTLP's JSON encoding writes it
//! (camelCase fields, hex ids, 64-bit integers as strings), summed by hour and priced with the
//! API price table. The Python client's tests send the same through the OpenTelemetry SDK's
//! protobuf exporter.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::*;
use app::tokens::Scope;

fn nanos(minutes_ago: i64) -> String {
    let at = app::clock::now() - chrono::TimeDelta::minutes(minutes_ago);
    at.timestamp_nanos_opt().expect("nanos").to_string()
}

fn span(name: &str, attributes: Value) -> Value {
    json!({
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": name,
        "kind": 3,
        "startTimeUnixNano": nanos(3),
        "endTimeUnixNano": nanos(2),
        "attributes": attributes,
        "status": {}
    })
}

fn traces(spans: Vec<Value>) -> Value {
    json!({ "resourceSpans": [{
        "resource": { "attributes": [
            { "key": "service.name", "value": { "stringValue": "support-bot" } },
            { "key": "telemetry.sdk.language", "value": { "stringValue": "python" } }
        ] },
        "scopeSpans": [{ "scope": { "name": "opentelemetry.instrumentation.openai_v2" }, "spans": spans }]
    }] })
}

fn chat(input: &str, output: u64, cached: Option<u64>) -> Value {
    let mut attributes = vec![
        json!({ "key": "gen_ai.operation.name", "value": { "stringValue": "chat" } }),
        json!({ "key": "gen_ai.provider.name", "value": { "stringValue": "openai" } }),
        json!({ "key": "gen_ai.request.model", "value": { "stringValue": "gpt-4o-mini" } }),
        json!({ "key": "gen_ai.response.model", "value": { "stringValue": "gpt-4o-mini-2024-07-18" } }),
        // 64-bit integers are strings in OTLP's JSON; a number is taken too.
        json!({ "key": "gen_ai.usage.input_tokens", "value": { "intValue": input } }),
        json!({ "key": "gen_ai.usage.output_tokens", "value": { "intValue": output } }),
    ];
    if let Some(cached) = cached {
        attributes.push(json!({ "key": "gen_ai.usage.cache_read.input_tokens", "value": { "intValue": cached.to_string() } }));
    }
    span("chat gpt-4o-mini", Value::Array(attributes))
}

async fn post(router: &axum::Router, path: &str, token: &str, body: &Value) -> Reply {
    let request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    send(router, request).await
}

fn histogram(sum: f64, kind: &str, start: &str) -> Value {
    json!({ "resourceMetrics": [{
        "resource": { "attributes": [ { "key": "service.name", "value": { "stringValue": "summarizer" } } ] },
        "scopeMetrics": [{ "scope": { "name": "genai" }, "metrics": [
            { "name": "gen_ai.client.operation.duration", "unit": "s",
              "histogram": { "aggregationTemporality": 2, "dataPoints": [
                { "startTimeUnixNano": start, "timeUnixNano": nanos(1), "count": "1", "sum": 1.5 } ] } },
            { "name": "gen_ai.client.token.usage", "unit": "{token}",
              "histogram": { "aggregationTemporality": 2, "dataPoints": [
                { "startTimeUnixNano": start, "timeUnixNano": nanos(1), "count": "4", "sum": sum,
                  "bucketCounts": ["0", "4"], "explicitBounds": [1.0],
                  "attributes": [
                    { "key": "gen_ai.token.type", "value": { "stringValue": kind } },
                    { "key": "gen_ai.system", "value": { "stringValue": "openai" } },
                    { "key": "gen_ai.request.model", "value": { "stringValue": "gpt-4o-mini" } },
                    { "key": "gen_ai.operation.name", "value": { "stringValue": "chat" } } ] } ] } }
        ] }]
    }] })
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn genai_usage_sent_over_otlp_is_priced_from_the_api_price_table(pool: PgPool) {
    let router = router(pool.clone());
    let (_, ingest) = token(&pool, "otel", &[Scope::Ingest]).await;
    let (_, read) = token(&pool, "reader", &[Scope::Read]).await;

    // Two chat calls and a span without usage; one span with usage but no model is left out.
    let sent = post(
        &router,
        "/api/v1/otlp/v1/traces",
        &ingest,
        &traces(vec![
            chat("1200", 300, Some(1000)),
            chat("800", 100, None),
            span(
                "GET /health",
                json!([{ "key": "http.route", "value": { "stringValue": "/health" } }]),
            ),
            span(
                "chat ?",
                json!([{ "key": "gen_ai.usage.input_tokens", "value": { "intValue": "5" } }]),
            ),
        ]),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let answer = sent.json();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], 1, "{answer}");
    assert!(answer["partialSuccess"]["errorMessage"]
        .as_str()
        .is_some_and(|m| m.contains("no gen_ai.request.model")));

    // A cumulative series sent twice adds what is new: 400, then 1,000 in all.
    let start = nanos(30);
    for sum in [400.0, 1000.0] {
        let reply = post(
            &router,
            "/api/v1/otlp/v1/metrics",
            &ingest,
            &histogram(sum, "input", &start),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json(), json!({}));
    }

    let reply = bearer(&router, "/api/v1/genai/usage?days=1", &read).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let usage = reply.json();
    let models = usage["models"].as_array().expect("models");
    let bot = models
        .iter()
        .find(|m| m["service"] == "support-bot")
        .expect("support-bot");
    assert_eq!(bot["source"], "span");
    assert_eq!(
        (
            bot["requests"].as_i64(),
            bot["input_tokens"].as_i64(),
            bot["output_tokens"].as_i64(),
            bot["cached_input_tokens"].as_i64()
        ),
        (Some(2), Some(2000), Some(400), Some(1000))
    );
    // The example row: 0.15 in, 0.075 cached, 0.60 out per 1M tokens.
    // 1,000 × 0.15 + 1,000 × 0.075 + 400 × 0.60 = 465 per 1M tokens.
    assert_eq!(bot["cost"], "0.000465", "{bot}");
    assert_eq!(bot["currency"], "USD");
    assert!(
        bot["basis"]
            .as_str()
            .is_some_and(|b| b.contains("openai gpt-4o-mini")),
        "{bot}"
    );
    let summarizer = models
        .iter()
        .find(|m| m["service"] == "summarizer")
        .expect("summarizer");
    assert_eq!(summarizer["source"], "metric");
    assert_eq!(summarizer["input_tokens"], 1000);
    assert_eq!(
        summarizer["provider"], "openai",
        "gen_ai.system is read where gen_ai.provider.name is absent"
    );

    // The fleet page shows it.
    let viewer = signed_in(&pool, app::auth::Role::Viewer).await;
    let page = get(&router, "/fleet?days=1", Some(&viewer)).await;
    page.shows(&[
        "Hosted models, measured",
        "support-bot",
        "openai · gpt-4o-mini",
        "2,000 (1,000 cached)",
    ]);

    // A reader cannot send usage, nor anyone without a token; a body that is not OTLP is named.
    let refused = post(&router, "/api/v1/otlp/v1/traces", &read, &traces(vec![])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let request = Request::post("/api/v1/otlp/v1/traces")
        .header(header::AUTHORIZATION, format!("Bearer {ingest}"))
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .body(Body::from(vec![0xff, 0xff, 0xff]))
        .expect("request");
    let garbage = send(&router, request).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    garbage.shows(&["not an OTLP protobuf export"]);
    let request = Request::post("/api/v1/otlp/v1/traces")
        .header(header::AUTHORIZATION, format!("Bearer {ingest}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("hello"))
        .expect("request");
    let text = send(&router, request).await;
    assert_eq!(text.status, StatusCode::BAD_REQUEST);
    text.shows(&["application/x-protobuf or application/json"]);
}
