"""A client for Pareto's API (``/api/v1``), on the standard library alone.

Every method is one operation of the API's OpenAPI document (``/api/v1/openapi.json``); the
operation it calls is in ``OPERATIONS``, which the tests check against the served document.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

JSON = Dict[str, Any]

#: Each method's operation: (method, path below /api/v1).
OPERATIONS: Dict[str, Tuple[str, str]] = {
    "openapi": ("GET", "/openapi.json"),
    "whoami": ("GET", "/whoami"),
    "create_experiment": ("POST", "/experiments"),
    "experiment": ("GET", "/experiments/{id}"),
    "add_runs": ("POST", "/experiments/{id}/runs"),
    "post_telemetry": ("POST", "/telemetry"),
    "post_drift": ("POST", "/drift"),
    "deployment": ("GET", "/deployments/{key}"),
    "advice": ("GET", "/advice"),
    "gpu_prices": ("GET", "/prices/gpus"),
    "hosted_spend": ("GET", "/genai/usage"),
    "pipelines": ("GET", "/pipelines"),
    "pipeline": ("GET", "/pipelines/{id}"),
}

#: Bodies larger than this are sent gzip-compressed.
GZIP_ABOVE_BYTES = 64 * 1024


class ParetoError(Exception):
    """A refusal from Pareto: its HTTP status and the problem it answered (RFC 9457)."""

    def __init__(self, status: int, problem: JSON):
        self.status = status
        self.problem = problem
        #: Each invalid field: ``{"path": "runs[0].metrics.f1", "message": "..."}``.
        self.errors: List[JSON] = list(problem.get("errors") or [])
        detail = problem.get("detail") or problem.get("title") or f"HTTP {status}"
        lines = [f"{status}: {detail}"]
        lines += [f"  {e.get('path', '')}: {e.get('message', '')}" for e in self.errors]
        super().__init__("\n".join(lines))


class Pareto:
    """Pareto's API, with a token (``pareto token create --name N --scope read,write``)."""

    def __init__(self, url: str, token: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_env(cls) -> "Pareto":
        """From ``PARETO_URL`` and ``PARETO_TOKEN``."""
        try:
            return cls(os.environ["PARETO_URL"], os.environ["PARETO_TOKEN"])
        except KeyError as missing:
            raise ValueError(f"set {missing.args[0]} to use Pareto.from_env()") from None

    # -- the wire ---------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        *,
        params: Optional[Mapping[str, str]] = None,
        query: Optional[Mapping[str, Any]] = None,
        body: Any = None,
    ) -> Any:
        method, path = OPERATIONS[operation]
        for name, value in (params or {}).items():
            path = path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        url = f"{self.url}/api/v1{path}"
        if query:
            pairs = {k: str(v) for k, v in query.items() if v is not None}
            url += "?" + urllib.parse.urlencode(pairs)
        headers = {"Accept": "application/json"}
        if operation != "openapi":
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body, default=_jsonable).encode()
            headers["Content-Type"] = "application/json"
            if len(data) > GZIP_ABOVE_BYTES:
                data = gzip.compress(data)
                headers["Content-Encoding"] = "gzip"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                problem = json.loads(raw)
            except ValueError:
                problem = {"detail": raw.decode(errors="replace").strip() or error.reason}
            raise ParetoError(error.code, problem) from None
        except urllib.error.URLError as error:
            raise ConnectionError(f"Pareto at {self.url} cannot be reached: {error.reason}") from None
        return json.loads(text) if text else None

    # -- the API ----------------------------------------------------------------------------

    def openapi(self) -> JSON:
        """The API's OpenAPI 3.1 document."""
        return self._call("openapi")

    def whoami(self) -> JSON:
        """The token's ``name``, ``scopes`` and ``team``."""
        return self._call("whoami")

    def create_experiment(
        self,
        name: str,
        *,
        team: str,
        task_type: str,
        primary_metric: str,
        dataset: str = "",
        direction: Optional[str] = None,
        constraints: Sequence[str] = (),
        monthly_volume: Optional[int] = None,
        mode: Optional[str] = None,
        currency: Optional[str] = None,
    ) -> str:
        """Creates an experiment and answers its id. Constraints as people write them:
        ``"f1 >= 0.9"``, ``"p95 <= 50"``."""
        body: JSON = {
            "name": name,
            "team": team,
            "task_type": task_type,
            "primary_metric": primary_metric,
            "dataset": dataset,
            "constraints": list(constraints),
        }
        for key, value in (
            ("direction", direction),
            ("monthly_volume", monthly_volume),
            ("mode", mode),
            ("currency", currency),
        ):
            if value is not None:
                body[key] = value
        return self._call("create_experiment", body=body)["experiment_id"]

    def experiment(self, experiment_id: str) -> JSON:
        """Every figure of the experiment's page: its runs priced, the frontier, the
        recommendation."""
        return self._call("experiment", params={"id": experiment_id})

    def add_runs(self, experiment_id: str, runs: Iterable[JSON]) -> List[JSON]:
        """Adds runs (RunSpec bodies), all or none; idempotent by ``run_key``. Answers what each
        did: ``run_id``, ``run_key``, ``duplicate``."""
        answer = self._call("add_runs", params={"id": experiment_id}, body={"runs": list(runs)})
        return answer["runs"]

    def post_telemetry(self, batch: JSON) -> JSON:
        """A batch of GPU samples (scope ``ingest``)."""
        return self._call("post_telemetry", body=batch)

    def post_drift(self, batch: JSON) -> JSON:
        """A batch of drift measurements (scope ``ingest``)."""
        return self._call("post_drift", body=batch)

    def deployment(self, key: str, days: int = 7) -> JSON:
        """A deployment's measured usage and cost over the last 1, 7, 30 or 90 days."""
        return self._call("deployment", params={"key": key}, query={"days": days})

    def advice(self) -> JSON:
        """Every deployment's advice, largest saving first."""
        return self._call("advice")

    def hosted_spend(self, days: int = 7) -> JSON:
        """What hosted language models cost over the last ``days``, measured from the
        OpenTelemetry applications send to ``/api/v1/otlp``: per service, provider and model, the
        calls, tokens and cost."""
        return self._call("hosted_spend", query={"days": days})

    def pipelines(self) -> List[JSON]:
        return self._call("pipelines")

    def pipeline(self, pipeline_id: str) -> JSON:
        return self._call("pipeline", params={"id": pipeline_id})

    def gpu_prices(self) -> List[JSON]:
        """The GPU price catalog: every dated price of every model and pricing kind."""
        return self._call("gpu_prices")

    def gpu_hour_price(
        self,
        gpu_model: str,
        pricing_kind: str = "on_demand",
        at: Optional[datetime] = None,
    ) -> Tuple[Decimal, str]:
        """The price of one hour of one ``gpu_model`` GPU in force at ``at`` (now by default),
        with its currency, as Pareto prices GPU-hours."""
        at = at or datetime.now(timezone.utc)
        in_force = []
        for price in self.gpu_prices():
            if price["gpu_model"] != gpu_model or price["pricing_kind"] != pricing_kind:
                continue
            start = _instant(price["effective_from"])
            end = _instant(price["effective_to"]) if price.get("effective_to") else None
            if start <= at and (end is None or at < end):
                in_force.append((start, price))
        if not in_force:
            known = sorted({p["gpu_model"] for p in self.gpu_prices()})
            raise LookupError(
                f"the catalog has no {pricing_kind} price for {gpu_model!r} in force; "
                f"it prices {', '.join(known) or 'no GPU'}"
            )
        _, latest = max(in_force, key=lambda pair: pair[0])
        return Decimal(str(latest["hourly_price"])), latest["currency"]

    # -- what pipelines do ------------------------------------------------------------------

    def log_run(
        self,
        experiment_id: str,
        run_key: str,
        name: str,
        *,
        metrics: Mapping[str, float],
        gpu_model: Optional[str] = None,
        gpu_count: int = 1,
        hourly_price: Optional[float] = None,
        cpu_instance: Optional[str] = None,
        throughput_rps: Optional[float] = None,
        latency_ms: Optional[Mapping[str, float]] = None,
        training_gpu_hours: Optional[float] = None,
        training_gpu_model: Optional[str] = None,
        inference: Optional[JSON] = None,
        engineering_hours: Optional[float] = None,
        model_version_id: Optional[str] = None,
    ) -> JSON:
        """Records one evaluated candidate at the end of an evaluation: its quality, the hardware
        it serves on (priced from the catalog when no ``hourly_price``), its latency and
        throughput, and the GPU-hours its training measured, priced per GPU-hour from the catalog
        (``training_gpu_model``, or the serving GPU). Idempotent by ``run_key``."""
        run: JSON = {
            "run_key": run_key,
            "name": name,
            "metrics": {k: float(v) for k, v in metrics.items()},
            "inference": inference or {"kind": "self_hosted"},
        }
        hardware: JSON = {}
        if gpu_model:
            hardware.update(gpu_model=gpu_model, gpu_count=gpu_count)
        if cpu_instance:
            hardware["cpu_instance"] = cpu_instance
        if hourly_price is not None:
            hardware["hourly_price"] = str(hourly_price)
        if hardware:
            run["hardware"] = hardware
        if throughput_rps is not None:
            run["throughput_rps"] = float(throughput_rps)
        if latency_ms:
            run["latency_ms"] = {k: float(v) for k, v in latency_ms.items()}
        if training_gpu_hours is not None:
            training: JSON = {"gpu_hours": float(training_gpu_hours)}
            trained_on = training_gpu_model or gpu_model
            if trained_on:
                price, _ = self.gpu_hour_price(trained_on)
                training["price_per_gpu_hour"] = str(price)
            run["training"] = training
        if engineering_hours is not None:
            run["engineering_hours"] = float(engineering_hours)
        if model_version_id:
            run["model_version_id"] = model_version_id
        (added,) = self.add_runs(experiment_id, [run])
        return added


def _instant(text: str) -> datetime:
    """An RFC 3339 instant, as Pareto writes them (``2026-12-01T00:00:00Z``, with up to nine
    digits of a second), on any Python from 3.9."""
    match = re.fullmatch(r"(.+?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 instant: {text!r}")
    whole, fraction, zone = match.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{whole}.{micros}{zone}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
