"""The client against a running Pareto: the document it is built on, runs, prices, ingest and the
errors a user meets."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from openapi_spec_validator import validate

from pareto_client import OPERATIONS, Pareto, ParetoError


def test_the_api_document_is_valid_openapi_and_has_every_operation_the_client_calls(pareto: Pareto):
    document = pareto.openapi()
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on a document that breaks the OpenAPI 3.1 schema
    for method_name, (method, path) in OPERATIONS.items():
        assert path in document["paths"], f"{method_name}: {path} is not in the document"
        assert method.lower() in document["paths"][path], f"{method_name}: {method} {path}"


def test_the_token_says_who_it_is(pareto: Pareto):
    me = pareto.whoami()
    assert me["name"] == "python-tests"
    assert sorted(me["scopes"]) == ["ingest", "read", "write"]


def test_a_logged_run_is_priced_from_the_catalog(pareto: Pareto, experiment: str):
    price, currency = pareto.gpu_hour_price("NVIDIA L4")
    assert price > 0 and currency == "USD"
    run = dict(
        metrics={"f1": 0.95},
        latency_ms={"p50": 4, "p95": 12},
        throughput_rps=400,
        gpu_model="NVIDIA L4",
        training_gpu_hours=2.5,
    )
    added = pareto.log_run(experiment, "logreg-l4", "Logistic regression", **run)
    assert added["run_key"] == "logreg-l4" and added["duplicate"] is False
    # The same run again is the same run.
    again = pareto.log_run(experiment, "logreg-l4", "Logistic regression", **run)
    assert again["duplicate"] is True and again["run_id"] == added["run_id"]

    view = pareto.experiment(experiment)
    (stored,) = view["runs"]
    assert stored["metrics"]["f1"] == pytest.approx(0.95)
    # Training: 2.5 GPU-hours at the catalog's L4 price.
    assert Decimal(str(stored["training_cost"])) == (Decimal("2.5") * price).quantize(
        Decimal(str(stored["training_cost"]))
    )
    assert stored["meets_all"] is True and stored["recommended"] is True
    # Serving: 400 requests a second would answer far more than the experiment's million a
    # month, so one L4 is kept all month (730 hours) for those 1,000 thousand requests.
    per_thousand = Decimal(str(stored["per_thousand"]))
    assert per_thousand == pytest.approx(price * 730 / 1000, rel=Decimal("0.001"))


def test_a_wrong_run_is_refused_by_its_field_and_nothing_is_stored(pareto: Pareto, experiment: str):
    with pytest.raises(ParetoError) as refused:
        pareto.add_runs(
            experiment,
            [
                {"run_key": "good", "name": "Good", "metrics": {"f1": 0.9},
                 "inference": {"kind": "self_hosted"}, "throughput_rps": 10,
                 "hardware": {"gpu_model": "NVIDIA L4", "gpu_count": 1}},
                {"run_key": "bad", "name": "Bad", "metrics": {"f1": 0.9},
                 "inference": {"kind": "self_hosted"}, "throughput_rps": -3,
                 "hardware": {"gpu_model": "NVIDIA L4", "gpu_count": 1}},
            ],
        )
    assert refused.value.status == 422
    assert any(e["path"] == "runs[1].throughput_rps" for e in refused.value.errors), refused.value.errors
    assert "runs[1].throughput_rps" in str(refused.value)
    assert pareto.experiment(experiment)["runs"] == []


def test_an_unknown_gpu_has_no_price_and_says_which_do(pareto: Pareto):
    with pytest.raises(LookupError, match="NVIDIA L4"):
        pareto.gpu_hour_price("Abacus 9000")


def test_telemetry_and_drift_are_stored_once(pareto: Pareto):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    batch = {
        "batch_id": str(uuid.uuid4()),
        "host": "gpu-py-1",
        "samples": [
            {
                "ts": (now - timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
                "deployment": "py-client-deployment",
                "gpu_uuid": "GPU-py-1",
                "gpu_index": 0,
                "gpu_model": "NVIDIA L4",
                "interval_s": 60,
                "utilization_pct": 55,
                "memory_used_mib": 9000,
                "power_watts": 60,
                "requests": 1200,
                "latency_ms": {"p50": 20, "p95": 45},
            }
        ],
    }
    stored = pareto.post_telemetry(batch)
    assert stored["accepted"] == 1 and stored["duplicate"] is False
    assert stored["new_deployments"] == ["py-client-deployment"]
    assert pareto.post_telemetry(batch)["duplicate"] is True
    drift = pareto.post_drift(
        {
            "batch_id": str(uuid.uuid4()),
            "measurements": [
                {"ts": now.isoformat(), "deployment": "py-client-deployment",
                 "kind": "performance", "metric": "f1", "value": 0.91, "samples": 500}
            ],
        }
    )
    assert drift["accepted"] == 1
    figures = pareto.deployment("py-client-deployment", days=1)
    assert figures["usage"]["requests"] == 1200


def test_a_missing_deployment_and_a_bad_token_are_told_apart(pareto: Pareto, server):
    with pytest.raises(ParetoError) as missing:
        pareto.deployment("no-such-deployment")
    assert missing.value.status == 404
    with pytest.raises(ParetoError) as unknown:
        Pareto(server.url, "not-a-token").whoami()
    assert unknown.value.status == 401
    with pytest.raises(ConnectionError, match="cannot be reached"):
        Pareto("http://127.0.0.1:9", "x", timeout=2).whoami()
