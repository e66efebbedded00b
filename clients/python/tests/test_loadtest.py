"""`pareto loadtest` against a Python model: a scikit-learn classifier behind a small HTTP server,
driven at a fixed rate, its figures stored as a priced run. Latency is reported, never asserted;
the counts and the accuracy are exact whatever the machine's speed."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pareto_client import Pareto

DATA = load_breast_cancer()
NAMES = list(DATA.target_names)  # ["malignant", "benign"]
X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = train_test_split(
    DATA.data, DATA.target, test_size=30, random_state=11, stratify=DATA.target
)
MODEL = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=500)).fit(X_TRAIN, Y_TRAIN)


class Predict(BaseHTTPRequestHandler):
    """`POST /predict {"features": [...]}` answers `{"label": "benign"}`."""

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        length = int(self.headers.get("Content-Length", 0))
        try:
            features = json.loads(self.rfile.read(length))["features"]
            label = NAMES[int(MODEL.predict([features])[0])]
            status, answer = 200, {"label": label}
        except (ValueError, KeyError, TypeError) as error:
            status, answer = 400, {"error": str(error)}
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def model_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Predict)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/predict"
    server.shutdown()


def test_a_python_model_is_load_tested_and_its_figures_become_a_run(
    server, pareto: Pareto, experiment: str, model_url: str, tmp_path: Path
):
    bodies = tmp_path / "tumours.jsonl"
    with bodies.open("w") as out:
        for features, target in zip(X_TEST, Y_TEST):
            out.write(json.dumps({"body": {"features": list(features)}, "label": NAMES[target]}) + "\n")
    right = int((MODEL.predict(X_TEST) == Y_TEST).sum())
    # 30 a second for 2 seconds: 60 requests, each of the 30 bodies twice.
    ran = server.run(
        "loadtest", "--url", model_url, "--body", str(bodies), "--rate", "30/s",
        "--duration", "2s", "--experiment", experiment, "--run-key", "logreg-cpu",
        "--cpu-instance", "c7i.large", "--hourly-price", "0.0893",
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for shown in [
        "60 requests to",
        "60 answered, 0 errors",
        "latency (from when each request was due): p50",
        f"accuracy: {100 * 2 * right / 60:.1f}% ({2 * right} of 60 labelled answers)",
        "stored as run logreg-cpu",
    ]:
        assert shown in ran.stdout, f"{shown}: {ran.stdout}"

    (run,) = [r for r in pareto.experiment(experiment)["runs"] if r["run_key"] == "logreg-cpu"]
    assert run["metrics"]["accuracy"] == pytest.approx(right / 30, abs=1e-4)
    assert run["p95_ms"] > 0 and run["throughput_rps"] > 0
    assert run["hardware"].startswith("c7i.large")
    assert float(run["per_thousand"]) > 0


def test_a_model_that_cannot_be_reached_is_named_before_any_load(server, tmp_path: Path):
    bodies = tmp_path / "one.jsonl"
    bodies.write_text(json.dumps({"features": [0.0] * 30}) + "\n")
    ran = server.run(
        "loadtest", "--url", "http://127.0.0.1:9/predict", "--body", str(bodies),
        "--rate", "10/s", "--duration", "1s",
    )
    assert ran.returncode != 0
    assert "127.0.0.1:9" in ran.stderr, ran.stderr
