"""evalint: quasi-experimental evaluation of health and social care integration.

Interrupted time series, difference-in-differences and synthetic control, tuned to NHS
integration rollouts, with a dated and sourced policy calendar that flags concurrent
events threatening each result.
"""

from __future__ import annotations

from evalint._version import __version__

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
from evalint import plotting  # noqa: F401 - registers EffectResult.plot()'s plotting function (evalint.results.plots)
from evalint.inference.permutation import ConleyTaber
from evalint.inference.specs import (
    Analytic, ARErrors, ARNoiseErrors, Bootstrap, Clustered, Jackknife, MultiplierBootstrap, NeweyWest, Placebo,
    SieveBootstrap, WildClusterBootstrap,
)
from evalint.estimators.its import (
    ControlledITS, CountITS, ITSByUnit, SegmentedRegression, controlled_its, count_its, its, its_by_unit,
    pool_its, segmented_regression,
)
from evalint.estimators.did import (
    TWFE, BaconDecomposition, CallawaySantAnna, DoseResponse, EventStudy, ImputationDiD, SunAbraham,
    aggregate_att, bacon_decomposition, callaway_santanna, dose_response, event_study, imputation_did,
    sun_abraham, twfe,
)
from evalint.estimators.synth import (
    AugmentedSyntheticControl, Conformal, JackknifePlus, Predictor, SyntheticControl, SyntheticDiD, augmented_synthetic_control,
    synthetic_control, synthetic_did,
)
from evalint.evaluate import Evaluation, evaluate
from evalint import report  # noqa: F401 - registers the renderers Evaluation.summary()/report() use
from evalint import geography
from evalint.geography import add_population, icb_population, trust_to_icb
from evalint import io
from evalint.io import list_sources, read_source
from evalint.evaluate.churn_sensitivity import ChurnSensitivity, churn_sensitivity
from evalint.sensitivity import HonestDiDResult, honest_did, pretrend_power
from evalint.sensitivity import RobustnessResult, leave_one_out, negative_control, placebo_in_time
from evalint.matching import MatchResult, match_comparisons
from evalint.records import episodes_to_panel, simulate_episodes

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
