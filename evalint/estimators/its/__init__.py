"""Interrupted time series: segmented regression, count models, controlled ITS, per-unit fits.

Public names
------------
SegmentedRegression, segmented_regression
    OLS with Newey-West HAC, or GLS with AR(p) errors, for continuous outcomes.
CountITS, count_its
    Poisson / quasi-Poisson / negative binomial GLMs with a log(population) offset.
ControlledITS, controlled_its
    The series against a comparison series (differential level and slope changes).
its
    One call that picks the model from the outcome kind.
its_by_unit, ITSByUnit, pool_its
    Every unit of a panel, with a random-effects pooled estimate.
DesignSpec, build_design
    The shared design-matrix builder.
"""

from __future__ import annotations

from typing import Any

from evalint.estimators.its.by_unit import ITSByUnit, its_by_unit, pool_its
from evalint.estimators.its.controlled import ControlledITS, controlled_its
from evalint.estimators.its.counts import COUNT_MODELS, CountITS, count_its
from evalint.estimators.its.design import DesignSpec, build_design
from evalint.estimators.its.segmented import SegmentedRegression, segmented_regression
from evalint.results.effect import EffectResult

__all__ = ["SegmentedRegression", "segmented_regression", "CountITS", "count_its", "ControlledITS",
           "controlled_its", "its", "its_by_unit", "ITSByUnit", "pool_its", "DesignSpec", "build_design"]


def its(panel: Any, intervention: Any = None, *, outcome: str | None = None, model: str | None = None,
        **options: Any) -> EffectResult:
    """Interrupted time series with the model the outcome kind calls for.

    ``model=None`` uses ``panel.outcome_kinds[outcome].default_its_model``: quasi-Poisson
    with AR(1) errors (and a log(population) offset) for admissions and delayed discharges, GLS
    with AR(1) errors for continuous outcomes (``inference=NeweyWest()`` for OLS + Newey-West). Give
    ``model`` to override ("poisson", "quasi_poisson", "negative_binomial", "gls_ar", "ols").
    Other keyword arguments go to :func:`count_its` or :func:`segmented_regression`.
    """
    from evalint.data.guards import require_outcome, require_panel

    require_panel(panel, "its")
    require_outcome(panel, outcome, "its")
    name = outcome or panel.outcome
    if name not in panel.outcome_kinds:
        from evalint.errors import SpecificationError

        raise SpecificationError(f"outcome={name!r} is not an outcome of this panel: {', '.join(panel.outcomes)}.")
    chosen = model or panel.outcome_kinds[name].default_its_model
    if chosen in COUNT_MODELS:
        return count_its(panel, intervention, outcome=name, model=chosen, **options)
    if chosen not in ("gls_ar", "ols"):
        from evalint.errors import SpecificationError

        raise SpecificationError(f"model={chosen!r}; use one of {', '.join(COUNT_MODELS + ('gls_ar', 'ols'))}.")
    # "gls_ar" and "ols" both use segmented regression's default interval, GLS with AR(1) errors
    # (REML, adjusted): OLS + Newey-West under-covers on monthly series (methods/its.md section 10);
    # inference= overrides (no deprecated errors= is set on the user's behalf)
    return segmented_regression(panel, intervention, outcome=name, **options)
