"""Helpers the staggered-adoption DiD estimators share (imputation, Sun-Abraham, Bacon, TWFE).

The treatment timing a staggered design needs (:func:`require_timing`), the one-unit-cohort
and unbalanced-panel warnings, the policy-calendar call with the cohorts as the intervention
(:func:`calendar_for_staggered`), the long integer-coded frame (:func:`staggered_frame`), the
unit-clustered covariance of Sun-Abraham and the BJS pre-trend test
(:func:`unit_cluster_vcov`), a one-line description of the adoption pattern and a small
simulated staggered panel for examples and contract tests.

References
----------
Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust
and efficient estimation. *Review of Economic Studies* 91(6), 3253-3285.
Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175-199.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.data.panel import Panel
from evalint.diagnostics.base import Flag
from evalint.errors import (
    FewClustersWarning,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelWarning,
    format_examples,
)
from evalint.estimators.template import CalendarQuery
from evalint.inference.cluster import cluster_vcov

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.timing import TreatmentTiming

__all__ = [
    "cohort_size_checks",
    "describe_adoption",
    "example_staggered_panel",
    "require_timing",
    "staggered_calendar_query",
    "staggered_frame",
    "unbalanced_note",
    "unit_cluster_vcov",
]


def require_timing(panel: Panel, purpose: str) -> TreatmentTiming:
    """The panel's treatment timing, or a clear error when it has none / no treated unit."""
    if panel.timing is None:
        raise SpecificationError(
            f"{purpose} needs treatment timing: build the panel with treatment= (0/1 column) or "
            "cohort= (first treated period)."
        )
    if len(panel.timing.treated_units) == 0:
        raise TreatmentError(f"{purpose}: no unit is ever treated in the data, so there is no effect to estimate.")
    return panel.timing


def cohort_size_checks(timing: TreatmentTiming, *, warn: bool = True) -> list[Flag]:
    """Flags (and warnings) for cohorts with a single unit: their SE is not identified."""
    sizes = timing.cohort_sizes
    single = [str(c) for c, n in sizes.items() if n == 1]
    if not single:
        return []
    msg = (f"{len(single)} cohort(s) have a single unit ({format_examples(single)}): the standard error "
           "of that cohort's effects is not identified (one cluster), and clustered SEs of averages "
           "that include it understate its uncertainty. Pool it with a neighbouring cohort or read "
           "its effects as descriptive.")
    if warn:
        warnings.warn(msg, FewClustersWarning, stacklevel=3)
    return [Flag("inference", "medium", msg, source="cohort_size")]


def unbalanced_note(panel: Panel, purpose: str, *, warn: bool = True) -> str:
    """Warn (with the count) that an unbalanced panel is used as is; return the note."""
    if panel.is_balanced:
        return ""
    n_missing = len(panel.missing_cells())
    msg = (f"{purpose}: the panel is unbalanced ({n_missing} missing unit-period cell(s)); every observed "
           "cell is used as is: the fixed-effects model is fitted on the observed untreated cells and "
           "effects are averaged over the observed treated cells. Nothing is filled in.")
    if warn:
        warnings.warn(msg, UnbalancedPanelWarning, stacklevel=3)
    return msg


def staggered_calendar_query(panel: Panel, timing: TreatmentTiming) -> CalendarQuery:
    """Where the policy-calendar check of a staggered design looks (design="did"): each treated
    unit's cohort date, the never-treated units as comparisons."""
    intervention = {u: c for u, c in timing.cohort.dropna().items()}
    comparison = list(timing.never_treated)
    return CalendarQuery(intervention, outcome=panel.outcome, treated_units=list(timing.treated_units),
                         comparison_units=comparison or None, design="did")


def staggered_frame(panel: Panel) -> pd.DataFrame:
    """Long frame with integer codes: ``u`` (unit), ``t`` (period index), ``y``, ``g`` (first
    treated period index, -1 if never treated), ``rel`` (t - g, NaN if never treated)."""
    d = panel.data
    first = panel.periods[0].ordinal
    units = panel.units
    u = pd.Index(units).get_indexer(d[panel.unit])
    t = d[panel.time].map(lambda p: p.ordinal - first).to_numpy(dtype=np.int64)
    coh = panel.timing.cohort.reindex(units)
    g_unit = np.array([-1 if pd.isna(c) else c.ordinal - first for c in coh], dtype=np.int64)
    g = g_unit[u]
    rel = np.where(g >= 0, t - g, np.nan)
    out = pd.DataFrame({"u": u, "t": t, "y": d[panel.outcome].to_numpy(dtype=float), "g": g, "rel": rel})
    for c in panel.covariates:
        out[c] = d[c].to_numpy(dtype=float)
    return out


def example_staggered_panel(seed: int = 0, *, n_per_cohort: int = 6, n_never: int = 8, n_periods: int = 12,
                            starts: tuple[int, ...] = (4, 7, 9), effect: Any = None,
                            unit_sd: float = 1.0, noise_sd: float = 0.5, covariate: bool = False,
                            start: str = "2019-01") -> Panel:
    """A small simulated monthly staggered-adoption panel (for examples and contract tests).

    ``Y_it = a_i + b_t + tau(g, e) 1[e >= 0] (+ 0.5 x_it) + noise``, with cohorts starting at
    period indices ``starts`` and ``n_never`` never-treated units. ``effect(g, e)`` gives the
    true effect of cohort start index ``g`` at event time ``e`` (default ``1 + 0.2 e``).
    """
    rng = np.random.default_rng(seed)
    eff = effect or (lambda g, e: 1.0 + 0.2 * e)
    cohorts = [s for s in starts for _ in range(n_per_cohort)] + [-1] * n_never
    periods = pd.period_range(start, periods=n_periods, freq="M")
    b = np.cumsum(rng.normal(0, 0.3, n_periods))
    rows = []
    for i, g in enumerate(cohorts):
        a = rng.normal(0, unit_sd)
        for t in range(n_periods):
            x = rng.normal(0, 1) if covariate else 0.0
            tau = eff(g, t - g) if g >= 0 and t >= g else 0.0
            rows.append({"unit": f"u{i:03d}", "month": periods[t], "y": a + b[t] + tau + 0.5 * x
                         + rng.normal(0, noise_sd), "x": x,
                         "cohort": periods[g] if g >= 0 else None})
    df = pd.DataFrame(rows)
    return Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort",
                            covariates=["x"] if covariate else ())


def unit_cluster_vcov(fit: Any, clusters: np.ndarray, kind: str) -> Any:
    """Cluster-robust covariance by unit via :func:`evalint.inference.cluster.cluster_vcov`.

    CR1 uses fixest's small-sample rule (``small_sample="nested"``): ``G/(G-1) (n-1)/(n-K)``
    with the fixed effects nested in the clusters (the unit effects) not counted in K. This
    matches pyfixest ``feols(..., vcov={"CRV1": unit})`` and diff-diff's SunAbraham
    (checked in tests/unit/test_did_a2_peers.py). CR2 is Bell-McCaffrey with
    Satterthwaite df. Used by Sun-Abraham and the BJS pre-trend test.
    """
    return cluster_vcov(fit, clusters, kind=kind, small_sample="nested")


def describe_adoption(panel: Any) -> str:
    """One line: cohorts with their sizes, and the comparison units."""
    sizes = panel.timing.cohort_sizes
    parts = ", ".join(f"{k} ({int(v)} unit{'s' if v != 1 else ''})" for k, v in sizes.items())
    return f"first treated {parts}; {len(panel.timing.never_treated)} never treated"
