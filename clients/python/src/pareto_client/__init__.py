"""Pareto's API from Python: experiments, runs, telemetry, drift and prices, and cost-aware tuning
with Optuna (``pareto_client.tuning``)."""

from .client import OPERATIONS, Pareto, ParetoError

__all__ = ["OPERATIONS", "Pareto", "ParetoError"]
__version__ = "0.1.0"
