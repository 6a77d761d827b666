"""Permutation inference for a difference-in-differences with a single treated unit.

With one treated unit, the analytic and multiplier-bootstrap standard errors of
Callaway-Sant'Anna only reflect the comparison group's sampling noise: the treated unit's
own idiosyncratic shocks are not averaged away and are not in the variance, so the
interval is too narrow (on simulated single-ICB pilots the multiplier interval covered the
true effect in well under 95% of draws). Conley and Taber (2011) use the comparison units
instead: give each control unit in turn the treated unit's start date (dropping the real
treated unit), estimate the same DiD, and use the spread of those placebo estimates as the
distribution of ``estimate - effect``.

The interval is ``[estimate - q(1 - a/2), estimate - q(a/2)]`` with ``q`` the placebo
quantiles; the p-value is the share of placebo estimates at least as large in absolute value
as the estimate (counting the estimate itself); the reported SE is the placebo standard
deviation. With 41 comparison ICBs the smallest attainable two-sided p-value is 1/42.

References
----------
Conley, T. G., & Taber, C. R. (2011). Inference with "difference in differences" with a
small number of policy changes. Review of Economics and Statistics, 93(1), 113-125.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
from evalint.diagnostics.base import Flag
from evalint.errors import InferenceError
from evalint.results.effect import InferenceInfo

__all__ = ["placebo_single_treated", "conley_taber_interval"]


def conley_taber_interval(estimate: float, placebo: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Interval and p-value from placebo estimates (Conley-Taber).

    Returns ``(low, high, p_value)``.
    """
    placebo = np.asarray(placebo, dtype=float)
    if placebo.size < 2:
        raise InferenceError(
            f"permutation inference needs at least 2 placebo estimates; got {placebo.size}. "
            "Add comparison units."
        )
    q_low, q_high = np.quantile(placebo, [alpha / 2, 1 - alpha / 2])
    p = (1 + int(np.sum(np.abs(placebo) >= abs(estimate) - 1e-12))) / (placebo.size + 1)
    return float(estimate - q_high), float(estimate - q_low), float(min(p, 1.0))


def placebo_single_treated(result: Any, panel: Any, fit_one: Any, alpha: float) -> tuple[Any, np.ndarray]:
    """Replace a one-treated-unit DiD result's inference by Conley-Taber permutation.

    Parameters
    ----------
    result : EffectResult
        The DiD result on ``panel`` (one treated unit).
    panel : Panel
        The panel it was fitted on, with cohort timing.
    fit_one : callable
        ``fit_one(placebo_panel) -> float``: the same estimator's headline estimate.
    alpha : float

    Returns
    -------
    (EffectResult, ndarray)
        The result with the permutation SE, interval, p-value and inference description, and
        the placebo estimates (one per comparison unit, in panel order).
    """
    from evalint.data.panel import Panel

    timing = panel.timing
    treated = list(timing.treated_units)
    if len(treated) != 1:
        raise InferenceError(f"placebo_single_treated needs exactly one treated unit; found {len(treated)}.")
    start = timing.cohort[treated[0]]
    controls = list(timing.never_treated)
    data = panel.data
    data = data.loc[data[panel.unit] != treated[0]]
    estimates = []
    for unit in controls:
        frame = data.assign(_evalint_placebo=np.where(data[panel.unit].to_numpy() == unit, start, None))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = Panel.from_frame(frame, unit=panel.unit, time=panel.time, outcome=list(panel.outcomes),
                                 cohort="_evalint_placebo", population=panel.population,
                                 weights=panel.weights, covariates=list(panel.covariates), freq=panel.freq,
                                 outcome_kind=dict(panel.outcome_kinds))
            estimates.append(float(fit_one(p)))
    placebo = np.asarray(estimates)
    low, high, p_value = conley_taber_interval(result.estimate, placebo, alpha)
    info = InferenceInfo(
        name="placebo_permutation",
        description=(f"Conley-Taber permutation over {placebo.size} comparison units (each given the treated "
                     "unit's start date); SE = SD of the placebo estimates"),
        reps=int(placebo.size),
        note=("one treated unit: the estimator's own SEs omit the treated unit's idiosyncratic variance, so "
              "its interval was replaced by the permutation interval"),
    )
    flags = tuple(f for f in result.flags if f.source != "singleton_cohort") + (Flag(
        "inference", "low",
        f"One treated unit: the interval is a Conley-Taber permutation interval over {placebo.size} "
        "comparison units (the estimator's own SEs would understate uncertainty).",
        source="placebo_permutation"),)
    new = dataclasses.replace(result, se=float(np.std(placebo, ddof=1)), ci=(low, high), p_value=p_value,
                              inference=info, flags=flags)
    return new, placebo
