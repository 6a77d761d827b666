"""The one result type, its tidy schema, its typed per-family state and its summary renderings."""

from evalint.results.effect import (
    TIDY_COLUMNS,
    EffectResult,
    InferenceInfo,
    Provenance,
    make_result,
    tidy,
)
from evalint.results.state import FamilyState
from evalint.results.summary import Summary

__all__ = [
    "TIDY_COLUMNS",
    "EffectResult",
    "FamilyState",
    "InferenceInfo",
    "Provenance",
    "Summary",
    "make_result",
    "tidy",
]
