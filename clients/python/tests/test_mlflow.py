"""`pareto import mlflow` against a real MLflow tracking server (MLflow from PyPI, its own SQLite
store, on loopback), with runs logged by MLflow's own Python client."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

from pareto_client import Pareto  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server",
         "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
         "--artifacts-destination", str(folder / "artifacts"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None:
            pytest.fail(f"mlflow server stopped: {process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("mlflow server did not answer /health within 120 s")
        time.sleep(0.3)
    yield uri
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def log(uri: str, name: str, *, f1: float, p95: float, rps: float, gpu_count: str, hours: str) -> str:
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("tumour-screening")
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params({"gpu_count": gpu_count, "max_iter": 500})
        mlflow.set_tags({"gpu_model": "NVIDIA L4", "training_gpu_hours": hours})
        # An earlier step first: MLflow answers the latest value of each metric.
        mlflow.log_metric("f1", f1 - 0.1, step=0)
        mlflow.log_metric("f1", f1, step=1)
        mlflow.log_metrics({"auc": min(1.0, f1 + 0.04), "latency_p95_ms": p95, "throughput_rps": rps})
        return run.info.run_id


def import_runs(server, uri: str, into: str, *extra: str):
    return server.run(
        "import", "mlflow", "--tracking-uri", uri, "--experiment", "tumour-screening",
        "--into", into, *extra,
    )


def test_runs_logged_to_mlflow_are_imported_once_with_their_registry_link(
    server, pareto: Pareto, experiment: str, tracking_uri: str
):
    logreg = log(tracking_uri, "logreg", f1=0.94, p95=12.0, rps=800, gpu_count="1", hours="0.5")
    forest = log(tracking_uri, "forest", f1=0.96, p95=31.0, rps=300, gpu_count="2", hours="3.25")
    boosted = log(tracking_uri, "boosted", f1=0.95, p95=22.0, rps=450, gpu_count="1", hours="1.5")
    broken = log(tracking_uri, "broken", f1=0.2, p95=10.0, rps=10, gpu_count="two", hours="1")
    # The forest is version 2 of fraud-lgbm in MLflow's registry; the demo's catalog has its v2.
    registry = MlflowClient(tracking_uri)
    registry.create_registered_model("fraud-lgbm")
    registry.create_model_version("fraud-lgbm", f"runs:/{logreg}/model", run_id=logreg)
    registry.create_model_version("fraud-lgbm", f"runs:/{forest}/model", run_id=forest)

    # One run cannot be mapped: it is named with its field, and nothing is imported.
    refused = import_runs(server, tracking_uri, experiment)
    assert refused.returncode != 0
    assert f"run {broken}: gpu_count (params.gpu_count): `two` is not a whole number of GPUs" in refused.stderr, refused.stderr
    assert "nothing imported" in refused.stderr
    assert pareto.experiment(experiment)["runs"] == []

    # MLflow's own filter leaves it out.
    imported = import_runs(server, tracking_uri, experiment, "--filter", "metrics.f1 > 0.5")
    assert imported.returncode == 0, imported.stderr
    assert (
        "3 finished runs of MLflow's tumour-screening: 3 added, 0 already imported, "
        "1 linked to catalog versions" in imported.stdout
    ), imported.stdout
    runs = {run["run_key"]: run for run in pareto.experiment(experiment)["runs"]}
    assert set(runs) == {f"mlflow-{logreg}", f"mlflow-{forest}", f"mlflow-{boosted}"}
    tree = runs[f"mlflow-{forest}"]
    assert tree["name"] == "forest"
    assert tree["metrics"] == {"f1": pytest.approx(0.96), "auc": pytest.approx(1.0)}
    assert tree["p95_ms"] == pytest.approx(31.0)
    assert tree["throughput_rps"] == pytest.approx(300)
    assert tree["hardware"] == "2 × NVIDIA L4"
    price, _ = pareto.gpu_hour_price("NVIDIA L4")
    assert float(tree["training_cost"]) == pytest.approx(3.25 * float(price), abs=0.01)
    assert tree["model_version"] and "v2" in tree["model_version"]
    assert runs[f"mlflow-{logreg}"]["model_version"] is None

    # Again: nothing new.
    again = import_runs(server, tracking_uri, experiment, "--filter", "metrics.f1 > 0.5")
    assert again.returncode == 0, again.stderr
    assert "3 finished runs of MLflow's tumour-screening: 0 added, 3 already imported" in again.stdout
    assert len(pareto.experiment(experiment)["runs"]) == 3


def test_an_unknown_experiment_or_server_is_named(server, experiment: str, tracking_uri: str):
    missing = server.run(
        "import", "mlflow", "--tracking-uri", tracking_uri, "--experiment", "no-such-study",
        "--into", experiment,
    )
    assert missing.returncode != 0
    assert "has no experiment named no-such-study" in missing.stderr, missing.stderr
    unreachable = server.run(
        "import", "mlflow", "--tracking-uri", "http://127.0.0.1:9", "--experiment", "x",
        "--into", experiment,
    )
    assert unreachable.returncode != 0
    assert "MLflow at http://127.0.0.1:9: it cannot be reached" in unreachable.stderr, unreachable.stderr
    bad_map = server.run(
        "import", "mlflow", "--tracking-uri", tracking_uri, "--experiment", "x",
        "--into", experiment, "--map", "speed = metrics.rps",
    )
    assert bad_map.returncode != 0
    assert "mapping: line 13: `speed` is not a run field" in bad_map.stderr, bad_map.stderr
