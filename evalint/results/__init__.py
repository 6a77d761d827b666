"""The one result type, its tidy schema and its summary renderings."""

from evalint.results.effect import TIDY_COLUMNS, EffectResult, InferenceInfo, Provenance, make_result, tidy
from evalint.results.summary import Summary

__all__ = ["EffectResult", "InferenceInfo", "Provenance", "Summary", "TIDY_COLUMNS", "make_result", "tidy"]
