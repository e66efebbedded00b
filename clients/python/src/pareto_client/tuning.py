"""Cost-aware tuning with Optuna: trials ranked on money, not seconds, and recorded in Pareto.

- ``CostAwareObjective`` prices the GPU-hours a trial used from Pareto's GPU catalog and combines
  them with its loss: ``weight * loss + (1 - weight) * cost / reference_cost``.
- ``ParetoCallback`` records each finished trial as a run of an experiment, with its training cost.
- ``record_best_trials`` records a multi-objective study's Pareto front (``study.best_trials``) as
  candidate runs.

A trial says what it measured with user attributes: ``gpu_hours`` (training GPU-hours; the
trial's duration times the GPU count when absent), ``throughput_rps``, ``latency_p50_ms``,
``latency_p95_ms``, ``latency_p99_ms``, and any metric named in ``metric_attrs``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from .client import JSON, Pareto

try:  # Optuna is only needed by the callback.
    import optuna
except ImportError:  # pragma: no cover - the package works without it
    optuna = None


class CostAwareObjective:
    """``weight * loss + (1 - weight) * cost / reference_cost``, the cost being the trial's
    GPU-hours at the catalog's price of ``gpu_model`` (per GPU-hour, ``pricing_kind``)."""

    def __init__(
        self,
        pareto: Pareto,
        gpu_model: str,
        *,
        weight: float = 0.7,
        reference_cost: float,
        pricing_kind: str = "on_demand",
    ):
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be between 0 and 1, not {weight}")
        if reference_cost <= 0:
            raise ValueError(f"reference_cost must be above 0, not {reference_cost}")
        self.weight = weight
        self.reference_cost = float(reference_cost)
        self.gpu_model = gpu_model
        price, currency = pareto.gpu_hour_price(gpu_model, pricing_kind)
        #: The catalog's price of one GPU-hour, and its currency.
        self.price_per_gpu_hour: Decimal = price
        self.currency = currency

    def cost(self, gpu_hours: float) -> float:
        """What ``gpu_hours`` of training cost."""
        return float(gpu_hours) * float(self.price_per_gpu_hour)

    def __call__(self, loss: float, gpu_hours: float) -> float:
        return self.weight * float(loss) + (1.0 - self.weight) * self.cost(gpu_hours) / self.reference_cost


def _gpu_hours(trial: Any, gpu_count: int) -> float:
    hours = trial.user_attrs.get("gpu_hours")
    if hours is not None:
        return float(hours)
    if trial.datetime_start and trial.datetime_complete:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
        return seconds / 3600.0 * gpu_count
    return 0.0


def trial_run(
    trial: Any,
    *,
    study_name: str,
    name: str,
    metric_names: Sequence[Optional[str]],
    metric_attrs: Sequence[str] = (),
    gpu_model: Optional[str],
    gpu_count: int,
    serving: Mapping[str, Any],
    price_per_gpu_hour: Optional[Decimal],
) -> JSON:
    """One finished trial as a run (a RunSpec body): its objective values under
    ``metric_names`` (``None`` skips one, such as a cost objective), its parameters in its name."""
    values = trial.values or []
    metrics: Dict[str, float] = {}
    for metric, value in zip(metric_names, values):
        if metric:
            metrics[metric] = float(value)
    for attr in metric_attrs:
        if attr in trial.user_attrs:
            metrics[attr] = float(trial.user_attrs[attr])
    params = ", ".join(f"{k}={_short(v)}" for k, v in sorted(trial.params.items()))
    run: JSON = {
        "run_key": f"optuna:{study_name}:{trial.number}",
        "name": f"{name} #{trial.number}" + (f" ({params})" if params else ""),
        "metrics": metrics,
        "inference": dict(serving.get("inference") or {"kind": "self_hosted"}),
    }
    hardware: JSON = dict(serving.get("hardware") or {})
    if not hardware and gpu_model:
        hardware = {"gpu_model": gpu_model, "gpu_count": gpu_count}
    if hardware:
        run["hardware"] = hardware
    throughput = trial.user_attrs.get("throughput_rps", serving.get("throughput_rps"))
    if throughput is not None:
        run["throughput_rps"] = float(throughput)
    latency = {
        p: float(trial.user_attrs[f"latency_{p}_ms"])
        for p in ("p50", "p95", "p99")
        if f"latency_{p}_ms" in trial.user_attrs
    }
    if latency:
        run["latency_ms"] = latency
    training: JSON = {"gpu_hours": _gpu_hours(trial, gpu_count)}
    if price_per_gpu_hour is not None:
        training["price_per_gpu_hour"] = str(price_per_gpu_hour)
    run["training"] = training
    return run


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class ParetoCallback:
    """An Optuna callback that records each finished trial as a run of ``experiment_id``, with
    the GPU-hours it trained for priced from the catalog (``gpu_model``, per GPU-hour).

    ``metric_names`` names the study's objective values in order (``["f1"]``; ``["f1", None]``
    for a study whose second objective is cost). ``serving`` gives the run's serving figures
    when the trial does not: ``hardware``, ``throughput_rps``, ``inference``."""

    def __init__(
        self,
        pareto: Pareto,
        experiment_id: str,
        *,
        name: str,
        metric_names: Sequence[Optional[str]],
        gpu_model: str,
        gpu_count: int = 1,
        metric_attrs: Sequence[str] = (),
        serving: Optional[Mapping[str, Any]] = None,
        pricing_kind: str = "on_demand",
    ):
        if optuna is None:  # pragma: no cover
            raise ImportError("ParetoCallback needs Optuna: pip install 'pareto-client[optuna]'")
        self.pareto = pareto
        self.experiment_id = experiment_id
        self.name = name
        self.metric_names = list(metric_names)
        self.metric_attrs = list(metric_attrs)
        self.gpu_model = gpu_model
        self.gpu_count = gpu_count
        self.serving = dict(serving or {})
        self.price_per_gpu_hour, _ = pareto.gpu_hour_price(gpu_model, pricing_kind)
        #: Each recorded trial's number and what storing it answered.
        self.recorded: List[JSON] = []

    def __call__(self, study: "optuna.Study", trial: "optuna.trial.FrozenTrial") -> None:
        if trial.state != optuna.trial.TrialState.COMPLETE:
            return
        run = trial_run(
            trial,
            study_name=study.study_name,
            name=self.name,
            metric_names=self.metric_names,
            metric_attrs=self.metric_attrs,
            gpu_model=self.gpu_model,
            gpu_count=self.gpu_count,
            serving=self.serving,
            price_per_gpu_hour=self.price_per_gpu_hour,
        )
        (added,) = self.pareto.add_runs(self.experiment_id, [run])
        self.recorded.append({"trial": trial.number, **added})


def record_best_trials(
    pareto: Pareto,
    experiment_id: str,
    study: "optuna.Study",
    *,
    name: str,
    metric_names: Sequence[Optional[str]],
    gpu_model: str,
    gpu_count: int = 1,
    metric_attrs: Iterable[str] = (),
    serving: Optional[Mapping[str, Any]] = None,
    pricing_kind: str = "on_demand",
) -> List[JSON]:
    """Records the trials on a study's Pareto front (``study.best_trials``) as candidate runs,
    all or none; idempotent, so it can run again as the study grows."""
    price, _ = pareto.gpu_hour_price(gpu_model, pricing_kind)
    runs = [
        trial_run(
            trial,
            study_name=study.study_name,
            name=name,
            metric_names=metric_names,
            metric_attrs=list(metric_attrs),
            gpu_model=gpu_model,
            gpu_count=gpu_count,
            serving=dict(serving or {}),
            price_per_gpu_hour=price,
        )
        for trial in study.best_trials
    ]
    return pareto.add_runs(experiment_id, runs) if runs else []
