"""OpenTelemetry into Pareto: spans and the token-usage metric of the GenAI conventions, built and
exported by the official OpenTelemetry SDK (OTLP over HTTP, protobuf, gzip) with an ingest token,
summed and priced with the API price table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from pareto_client import Pareto


def test_spans_from_the_sdk_become_priced_usage(server, pareto: Pareto):
    exporter = OTLPSpanExporter(
        endpoint=f"{server.url}/api/v1/otlp/v1/traces",
        headers={"Authorization": f"Bearer {server.token}"},
        compression=Compression.Gzip,
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "claims-triage"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("claims-triage")
    calls = [(1200, 250, 1000), (900, 150, 0), (2000, 400, 1500)]
    for input_tokens, output_tokens, cached in calls:
        with tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.provider.name", "openai")
            span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
            span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", output_tokens)
            if cached:
                span.set_attribute("gen_ai.usage.cache_read.input_tokens", cached)
    with tracer.start_as_current_span("GET /claims"):
        pass  # no usage: not counted
    assert provider.force_flush()
    provider.shutdown()

    spend = pareto.hosted_spend(days=1)
    (row,) = [m for m in spend["models"] if m["service"] == "claims-triage"]
    assert row["provider"] == "openai" and row["model"] == "gpt-4o-mini"
    assert row["source"] == "span"
    assert row["requests"] == 3
    assert row["input_tokens"] == 4100 and row["output_tokens"] == 800
    assert row["cached_input_tokens"] == 2500
    # The seeded example row: 0.15 per 1M input, 0.075 per 1M cached, 0.60 per 1M output.
    expected = (Decimal(1600) * Decimal("0.15") + Decimal(2500) * Decimal("0.075") + Decimal(800) * Decimal("0.60")) / 1_000_000
    # Pareto keeps prices per 1,000 tokens to nine places and costs to six.
    assert abs(Decimal(str(row["cost"])) - expected) <= Decimal("0.000001")
    assert row["currency"] == "USD"


def test_the_token_usage_metric_counts_each_token_once(server, pareto: Pareto):
    exporter = OTLPMetricExporter(
        endpoint=f"{server.url}/api/v1/otlp/v1/metrics",
        headers={"Authorization": f"Bearer {server.token}"},
        compression=Compression.Gzip,
    )
    # Cumulative temporality, the SDK's default: every export repeats the running totals.
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(
        resource=Resource.create({"service.name": "doc-summarizer"}), metric_readers=[reader]
    )
    usage = provider.get_meter("genai").create_histogram(
        "gen_ai.client.token.usage", unit="{token}", description="Tokens used"
    )
    common = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
              "gen_ai.request.model": "claude-haiku-4-5"}
    usage.record(3000, {**common, "gen_ai.token.type": "input"})
    usage.record(500, {**common, "gen_ai.token.type": "output"})
    assert provider.force_flush()
    usage.record(1000, {**common, "gen_ai.token.type": "input"})
    assert provider.force_flush()
    assert provider.force_flush()  # nothing new: adds nothing
    provider.shutdown()

    spend = pareto.hosted_spend(days=1)
    (row,) = [m for m in spend["models"] if m["service"] == "doc-summarizer"]
    assert row["source"] == "metric"
    assert row["provider"] == "anthropic"
    assert (row["input_tokens"], row["output_tokens"]) == (4000, 500)
