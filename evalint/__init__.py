"""evalint: quasi-experimental evaluation of health and social care integration.

Interrupted time series, difference-in-differences and synthetic control, tuned to NHS
integration rollouts, with a dated and sourced policy calendar that flags concurrent
events threatening each result.

``import evalint`` is cheap: every public name is imported on first use (PEP 562 module
``__getattr__``), so a script that fits one estimator loads only that estimator's modules and
never matplotlib, statsmodels or linearmodels. The registrations the higher layers make (report
renderers, the result plotter, robustness checks, the estimator registry) run when a registry is
first read (:mod:`evalint._deferred`).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from evalint import _deferred

from evalint._version import __version__

if TYPE_CHECKING:  # the eager form of what __getattr__ imports on first use
    from evalint import datasets, design, errors
    from evalint import records
    from evalint.calendar import (
        Intervention, IntensityTable, PolicyCalendar, PolicyEvent, combine_threats, describe_presets,
        list_presets, rank_threats, read_intensity_csv, resolve_preset,
    )
    from evalint.data import Panel, TreatmentTiming, to_period
    from evalint.datasets import SimulatedPanel, list_datasets, simulate_nhs, simulate_series
    from evalint.datasets import load as load_dataset
    from evalint.diagnostics import CheckResult, Flag
    from evalint.outcomes import OutcomeKind, get_outcome, list_outcomes, register_outcome
    from evalint.results import EffectResult, InferenceInfo, Provenance
    from evalint import plotting  # noqa: F401
    from evalint.inference.permutation import ConleyTaber
    from evalint.inference.specs import (
        Analytic, ARErrors, ARNoiseErrors, Bootstrap, Clustered, Jackknife, MultiplierBootstrap, NeweyWest, Placebo,
        SieveBootstrap, WildClusterBootstrap,
    )
    from evalint.estimators.its import (
        ControlledITS, CountITS, ITSByUnit, SegmentedRegression, controlled_its, count_its, its, its_by_unit,
        pool_its, segmented_regression,
    )
    from evalint.estimators.did import (  # type: ignore[no-redef]  # names of sub-modules too
        TWFE, BaconDecomposition, CallawaySantAnna, DoseResponse, EventStudy, ImputationDiD, SunAbraham,
        aggregate_att, bacon_decomposition, callaway_santanna, dose_response, event_study, imputation_did,
        sun_abraham, twfe,
    )
    from evalint.estimators.synth import (
        AugmentedSyntheticControl, Conformal, JackknifePlus, Predictor, SyntheticControl, SyntheticDiD,
        augmented_synthetic_control, synthetic_control, synthetic_did,
    )
    from evalint.evaluate import Evaluation, evaluate
    from evalint import report  # noqa: F401
    from evalint import geography
    from evalint.geography import add_population, icb_population, trust_to_icb
    from evalint import io
    from evalint.io import list_sources, read_source
    from evalint.evaluate.churn_sensitivity import ChurnSensitivity, churn_sensitivity
    from evalint.sensitivity import HonestDiDResult, honest_did, pretrend_power  # type: ignore[no-redef]  # names of sub-modules too
    from evalint.sensitivity import RobustnessResult, leave_one_out, negative_control, placebo_in_time  # type: ignore[no-redef]  # names of sub-modules too
    from evalint.matching import MatchResult, match_comparisons
    from evalint.records import episodes_to_panel, simulate_episodes

#: public name -> (module, attribute) it is imported from on first use
_LAZY: dict[str, tuple[str, str]] = {
    **{n: ("evalint.calendar", n) for n in (
        "Intervention", "IntensityTable", "PolicyCalendar", "PolicyEvent", "combine_threats", "describe_presets",
        "list_presets", "rank_threats", "read_intensity_csv", "resolve_preset")},
    **{n: ("evalint.data", n) for n in ("Panel", "TreatmentTiming", "to_period")},
    **{n: ("evalint.datasets", n) for n in ("SimulatedPanel", "list_datasets", "simulate_nhs", "simulate_series")},
    "load_dataset": ("evalint.datasets", "load"),
    **{n: ("evalint.diagnostics", n) for n in ("CheckResult", "Flag")},
    **{n: ("evalint.outcomes", n) for n in ("OutcomeKind", "get_outcome", "list_outcomes", "register_outcome")},
    **{n: ("evalint.results", n) for n in ("EffectResult", "InferenceInfo", "Provenance")},
    "ConleyTaber": ("evalint.inference.permutation", "ConleyTaber"),
    **{n: ("evalint.inference.specs", n) for n in (
        "Analytic", "ARErrors", "ARNoiseErrors", "Bootstrap", "Clustered", "Jackknife", "MultiplierBootstrap",
        "NeweyWest", "Placebo", "SieveBootstrap", "WildClusterBootstrap")},
    **{n: ("evalint.estimators.its", n) for n in (
        "ControlledITS", "CountITS", "ITSByUnit", "SegmentedRegression", "controlled_its", "count_its", "its",
        "its_by_unit", "pool_its", "segmented_regression")},
    **{n: ("evalint.estimators.did", n) for n in (
        "TWFE", "BaconDecomposition", "CallawaySantAnna", "DoseResponse", "EventStudy", "ImputationDiD", "SunAbraham",
        "aggregate_att", "bacon_decomposition", "callaway_santanna", "dose_response", "event_study", "imputation_did",
        "sun_abraham", "twfe")},
    **{n: ("evalint.estimators.synth", n) for n in (
        "AugmentedSyntheticControl", "Conformal", "JackknifePlus", "Predictor", "SyntheticControl", "SyntheticDiD",
        "augmented_synthetic_control", "synthetic_control", "synthetic_did")},
    **{n: ("evalint.evaluate", n) for n in ("Evaluation", "evaluate")},
    **{n: ("evalint.geography", n) for n in ("add_population", "icb_population", "trust_to_icb")},
    **{n: ("evalint.io", n) for n in ("list_sources", "read_source")},
    **{n: ("evalint.evaluate.churn_sensitivity", n) for n in ("ChurnSensitivity", "churn_sensitivity")},
    **{n: ("evalint.sensitivity", n) for n in (
        "HonestDiDResult", "honest_did", "pretrend_power", "RobustnessResult", "leave_one_out", "negative_control",
        "placebo_in_time")},
    **{n: ("evalint.matching", n) for n in ("MatchResult", "match_comparisons")},
    **{n: ("evalint.records", n) for n in ("episodes_to_panel", "simulate_episodes")},
}
#: sub-packages reachable as attributes (as when the root imported them eagerly)
_SUBMODULES = ("calendar", "data", "datasets", "design", "diagnostics", "errors", "estimators", "geography",
               "inference", "io", "matching", "outcomes", "plotting", "records", "report", "results", "sensitivity",
               "_distributions", "_forked", "_parallel", "_typing")


def _load_registrations() -> None:
    """What the eager root imported for its side effects: the result plotter, the report's
    renderers and writers, evaluate()'s robustness checks, every estimator in the registry."""
    from evalint import plotting, report, sensitivity  # noqa: F401
    from evalint.estimators import did, its, synth  # noqa: F401


_deferred.add_loader(_load_registrations)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


#: this module's own helpers, left out of dir() (which lists what the eager root had)
_HIDDEN = frozenset({"Any", "TYPE_CHECKING", "importlib", "sys", "types", "_deferred", "_LAZY", "_SUBMODULES",
                     "_HIDDEN", "_Root", "_load_registrations", "__getattr__", "__dir__", "__annotations__"})


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES} - _HIDDEN)


class _Root(types.ModuleType):
    """The package module: importing the sub-package ``evalint.evaluate`` must not replace the
    public function ``evalint.evaluate`` (the eager root re-bound it after the import)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Root

__all__ = [
    "records", "episodes_to_panel", "simulate_episodes",
    "__version__",
    "errors",
    "datasets",
    "design",
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
    "IntensityTable",
    "read_intensity_csv",
    "rank_threats",
    "combine_threats",
    "churn_sensitivity",
    "ChurnSensitivity",
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
    # inference specifications
    "Analytic", "NeweyWest", "ARErrors", "Clustered", "WildClusterBootstrap", "MultiplierBootstrap", "ConleyTaber",
    "Placebo", "Jackknife", "Bootstrap", "SieveBootstrap", "ARNoiseErrors",
    # interrupted time series
    "its", "segmented_regression", "SegmentedRegression", "count_its", "CountITS", "controlled_its",
    "ControlledITS", "its_by_unit", "ITSByUnit", "pool_its",
    # difference-in-differences
    "twfe", "TWFE", "event_study", "EventStudy", "dose_response", "DoseResponse", "callaway_santanna",
    "CallawaySantAnna", "aggregate_att", "sun_abraham", "SunAbraham", "imputation_did", "ImputationDiD",
    "bacon_decomposition", "BaconDecomposition",
    # synthetic control
    "synthetic_control", "SyntheticControl", "Predictor", "augmented_synthetic_control",
    "AugmentedSyntheticControl", "Conformal", "JackknifePlus", "synthetic_did", "SyntheticDiD",
    # one question, every design
    "evaluate", "Evaluation",
    # geography and denominators (2022 ICBs)
    "geography", "trust_to_icb", "add_population", "icb_population",
    # real NHS England / ONS publications (evalint.io; methods/data_sources.md)
    "io", "read_source", "list_sources",
    # sensitivity of event studies
    "honest_did", "HonestDiDResult", "pretrend_power",
    # robustness checks
    "placebo_in_time", "negative_control", "leave_one_out", "RobustnessResult",
    # matched comparison areas
    "match_comparisons", "MatchResult",
]
