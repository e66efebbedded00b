"""Cost-aware tuning with real Optuna studies on a small scikit-learn model whose data ships with
scikit-learn (the Wisconsin breast cancer set): no downloads."""

from __future__ import annotations

import optuna
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from pareto_client import Pareto
from pareto_client.tuning import CostAwareObjective, ParetoCallback, record_best_trials

optuna.logging.set_verbosity(optuna.logging.WARNING)

X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = train_test_split(
    *load_breast_cancer(return_X_y=True), test_size=0.3, random_state=7, stratify=load_breast_cancer().target
)


def fit(trial: optuna.Trial) -> tuple[float, float]:
    """A forest sized by the trial; its F1 on held-out data, and the GPU-hours such a model's
    training would take at scale (proportional to the trees it grows, so the test is exact)."""
    trees = trial.suggest_int("n_estimators", 5, 200, log=True)
    depth = trial.suggest_int("max_depth", 2, 8)
    model = RandomForestClassifier(n_estimators=trees, max_depth=depth, random_state=0, n_jobs=1)
    model.fit(X_TRAIN, Y_TRAIN)
    f1 = f1_score(Y_TEST, model.predict(X_TEST))
    gpu_hours = trees * depth / 100
    trial.set_user_attr("gpu_hours", gpu_hours)
    trial.set_user_attr("latency_p95_ms", 2 + trees * 0.05)
    trial.set_user_attr("f1", f1)
    return f1, gpu_hours


def test_trials_are_ranked_on_money_and_recorded_as_runs(pareto: Pareto, experiment: str):
    objective = CostAwareObjective(pareto, "NVIDIA L4", weight=0.7, reference_cost=10.0)
    price, _ = pareto.gpu_hour_price("NVIDIA L4")
    assert objective.price_per_gpu_hour == price
    # The composite of the issue: w * loss + (1 - w) * normalized training cost.
    assert objective(0.1, 4) == pytest.approx(0.7 * 0.1 + 0.3 * (4 * float(price)) / 10.0)

    callback = ParetoCallback(
        pareto, experiment, name="Random forest", metric_names=[None], metric_attrs=["f1"],
        gpu_model="NVIDIA L4", serving={"throughput_rps": 300},
    )

    def cost_aware(trial: optuna.Trial) -> float:
        f1, gpu_hours = fit(trial)
        return objective(1 - f1, gpu_hours)

    study = optuna.create_study(
        study_name="forest-cost-aware", direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=3),
    )
    study.optimize(cost_aware, n_trials=8, callbacks=[callback])
    assert [r["trial"] for r in callback.recorded] == list(range(8))

    view = pareto.experiment(experiment)
    runs = {run["run_key"]: run for run in view["runs"]}
    assert len(runs) == 8
    for trial in study.trials:
        run = runs[f"optuna:forest-cost-aware:{trial.number}"]
        assert run["metrics"]["f1"] == pytest.approx(trial.user_attrs["f1"])
        assert float(run["training_cost"]) == pytest.approx(
            trial.user_attrs["gpu_hours"] * float(price), abs=0.01
        )
        assert run["p95_ms"] == pytest.approx(trial.user_attrs["latency_p95_ms"])
        assert f"n_estimators={trial.params['n_estimators']}" in run["name"]
    # The best trial is the one cheapest for its quality: no trial beats it on the composite.
    best = study.best_trial
    assert all(best.value <= t.value for t in study.trials)
    # Recording again changes nothing.
    again = ParetoCallback(
        pareto, experiment, name="Random forest", metric_names=[None], metric_attrs=["f1"],
        gpu_model="NVIDIA L4", serving={"throughput_rps": 300},
    )
    again(study, best)
    assert again.recorded[0]["duplicate"] is True


def test_a_multi_objective_study_records_its_pareto_front(pareto: Pareto, experiment: str):
    price, _ = pareto.gpu_hour_price("NVIDIA L4")

    def quality_and_cost(trial: optuna.Trial) -> tuple[float, float]:
        f1, gpu_hours = fit(trial)
        return f1, gpu_hours * float(price)

    study = optuna.create_study(
        study_name="forest-front", directions=["maximize", "minimize"],
        sampler=optuna.samplers.NSGAIISampler(seed=5),
    )
    study.optimize(quality_and_cost, n_trials=10)
    front = study.best_trials
    assert 1 <= len(front) <= 10
    added = record_best_trials(
        pareto, experiment, study, name="Random forest", metric_names=["f1", None],
        gpu_model="NVIDIA L4", serving={"throughput_rps": 300},
    )
    assert len(added) == len(front)
    view = pareto.experiment(experiment)
    stored = {run["run_key"] for run in view["runs"]}
    assert stored == {f"optuna:forest-front:{t.number}" for t in front}
    # On the front, more quality never costs less.
    costs = sorted((t.values[1], t.values[0]) for t in front)
    assert all(a[1] <= b[1] for a, b in zip(costs, costs[1:]))
    # Idempotent: the front again adds nothing.
    assert all(a["duplicate"] for a in record_best_trials(
        pareto, experiment, study, name="Random forest", metric_names=["f1", None],
        gpu_model="NVIDIA L4", serving={"throughput_rps": 300},
    ))
