"""evalint: quasi-experimental evaluation of health and social care integration.

Interrupted time series, difference-in-differences and synthetic control, tuned to NHS
integration rollouts, with a dated and sourced policy calendar that flags concurrent
events threatening each result.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("evalint")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.1.0"

from evalint import datasets, errors
from evalint.calendar import (
    Intervention, PolicyCalendar, PolicyEvent, describe_presets, list_presets, resolve_preset,
)
from evalint.data import Panel, TreatmentTiming, to_period
from evalint.datasets import SimulatedPanel, list_datasets, simulate_nhs, simulate_series
from evalint.datasets import load as load_dataset
from evalint.diagnostics import CheckResult, Flag
from evalint.outcomes import OutcomeKind, get_outcome, list_outcomes, register_outcome
from evalint.results import EffectResult, InferenceInfo, Provenance

__all__ = [
    "__version__",
    "errors",
    "datasets",
    "Panel",
    "TreatmentTiming",
    "to_period",
    "CheckResult",
    "Flag",
    "OutcomeKind",
    "get_outcome",
    "list_outcomes",
    "register_outcome",
    "PolicyCalendar",
    "PolicyEvent",
    "Intervention",
    "resolve_preset",
    "list_presets",
    "describe_presets",
    "simulate_nhs",
    "simulate_series",
    "SimulatedPanel",
    "list_datasets",
    "load_dataset",
    "EffectResult",
    "InferenceInfo",
    "Provenance",
]
