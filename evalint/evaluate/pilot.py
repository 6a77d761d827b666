"""Inference for a difference-in-differences with one or a few treated units.

With few treated units the analytic and multiplier-bootstrap standard errors of
Callaway-Sant'Anna are too small or too noisy: with one treated unit they only reflect the
comparison group's sampling noise (the treated unit's own idiosyncratic shocks are not
averaged away and are not in the variance); with two to five the treated units' part of the
variance is estimated from those few units. On simulated 42-ICB pilots the multiplier
interval covered the true effect far less often than 95% (see ``methods/evaluate.md``).

Conley and Taber (2011) use the comparison units instead: give a random set of ``k`` control
units the ``k`` treated units' start dates (dropping the real treated units), estimate the
same DiD, and use the spread of those placebo estimates as the distribution of
``estimate - effect``. That is valid when the placebo units' estimation errors are
exchangeable with the treated units' (same distribution of the outcome's deviations from
parallel trends): on log rates per population, which are noisier in small areas, this needs
treated units of about the comparison units' size (Ferman & Pinto 2019).

The interval is ``[estimate - q(1 - a/2), estimate - q(a/2)]`` with ``q`` the placebo
quantiles; the p-value is the share of placebo estimates at least as large in absolute value
as the estimate (counting the estimate itself); the reported SE is the placebo standard
deviation. All distinct placebo assignments are used when there are at most ``reps`` of
them (one treated unit among 41 comparison ICBs: 41, smallest attainable p-value 1/42),
otherwise ``reps`` random assignments drawn with ``seed``.

Without covariates, with never-treated comparisons and a balanced panel, the simple
Callaway-Sant'Anna ATT is a closed-form function of unit-level averages
(:func:`evalint.estimators.did.permutation.cs_simple_att`), so each placebo costs a few array sums instead of a refit.

:func:`welch_t_interval` keeps the C-S estimate and SE and reads it on a t reference with
Welch-Satterthwaite degrees of freedom (``options={"did": {"few_treated": "welch_t"}}``; the
default for more than :data:`MAX_PERMUTATION_TREATED` treated units).

References
----------
Conley, T. G., & Taber, C. R. (2011). Inference with "difference in differences" with a
small number of policy changes. Review of Economics and Statistics, 93(1), 113-125.
Ferman, B., & Pinto, C. (2019). Inference in differences-in-differences with few treated
groups and heteroskedasticity. Review of Economics and Statistics, 101(3), 452-467.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from evalint._distributions import t_ppf, t_sf
from evalint.errors import InferenceError
from evalint.estimators.did.permutation import with_conley_taber
from evalint.inference.permutation import MAX_FEW_TREATED, ConleyTaber
from evalint.results.effect import InferenceInfo

__all__ = [
    "FEW_TREATED_METHODS",
    "MAX_PERMUTATION_TREATED",
    "placebo_few_treated",
    "welch_df",
    "welch_t_interval",
]

#: the largest number of treated units whose DiD interval evaluate() takes from Conley-Taber placebos
MAX_PERMUTATION_TREATED = MAX_FEW_TREATED
#: values of ``options={"did": {"few_treated": ...}}``
FEW_TREATED_METHODS = ("permutation", "welch_t", "bootstrap")


def placebo_few_treated(result: Any, panel: Any, alpha: float, *, reps: int, seed: int,
                        fit_one: Callable[[Any], float] | None = None, anticipation: int = 0,
                        max_e: float = np.inf) -> tuple[Any, np.ndarray]:
    """Replace a DiD result's inference by Conley-Taber permutation (``ConleyTaber(reps, seed)``).

    ``fit_one=None``: the closed-form simple Callaway-Sant'Anna ATT (no covariates,
    never-treated comparisons, balanced panel) with ``anticipation`` and ``max_e``.
    Returns the result and the placebo estimates
    (:func:`evalint.estimators.did.permutation.with_conley_taber`).
    """
    closed = None if fit_one is not None else {"anticipation": anticipation, "max_e": max_e}
    out = with_conley_taber(result, panel, ConleyTaber(reps=reps, seed=seed), alpha,
                            fit_one=fit_one if fit_one is not None else (lambda p: np.nan), closed_form=closed)
    return out, np.asarray(out.inference.placebo_estimates)


def welch_df(psi: np.ndarray, treated: np.ndarray) -> float:
    """Welch-Satterthwaite degrees of freedom of an estimate with influence function ``psi``.

    ``psi`` has one value per unit (variance ``sum(psi**2) / n**2``); ``treated`` marks the
    treated units. The variance is split into its treated and comparison parts,
    ``V1 = sum(psi[treated]**2) / n**2`` and ``V0``, each estimated from its own units:
    ``df = (V1 + V0)**2 / (V1**2 / (n1 - 1) + V0**2 / (n0 - 1))`` (Welch 1947; Satterthwaite
    1946). With no comparison units (not-yet-treated designs) ``df = n1 - 1``.
    """
    psi = np.asarray(psi, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    n, n1 = psi.size, int(treated.sum())
    n0 = n - n1
    if n1 < 2:
        raise InferenceError(f"Welch degrees of freedom need at least 2 treated units; got {n1}.")
    v1 = float(np.sum(psi[treated] ** 2)) / n**2
    v0 = float(np.sum(psi[~treated] ** 2)) / n**2
    if n0 < 2 or v0 == 0.0:
        return float(n1 - 1)
    if v1 == 0.0:
        return float(n0 - 1)
    return float((v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1)))


def welch_t_interval(result: Any, alpha: float) -> Any:
    """A Callaway-Sant'Anna result's interval and p-value on a t reference with Welch df.

    With few treated units the variance of the ATT is dominated by the treated units'
    part, estimated from those few units, and a normal (or multiplier-bootstrap) interval is
    too narrow: on evalint's simulated 42-ICB panels with 3 treated ICBs the 95% intervals
    covered the truth in 78-85% of 60 draws per outcome (5 treated: 87-93%). Keeping the
    estimate and its SE and using the t quantile with :func:`welch_df` degrees of freedom
    raised that to 90-95% (3 treated) and 90-95% (5 treated). With many treated units the df
    are large and the interval is the usual one.
    """

    from evalint.estimators.did.cs.aggregate import CSState, aggregate_cells

    state = result.state if isinstance(result.state, CSState) else None
    if state is None or not np.isfinite(result.se) or result.se <= 0:
        return result
    cells = state.cells
    psi = aggregate_cells(cells, state.aggregation).overall_influence
    treated = ~np.isnan(np.asarray(cells.unit_cohort, dtype=float))
    if treated.sum() < 2:
        return result
    df = welch_df(psi, treated)
    crit = float(t_ppf(1 - alpha / 2, df))
    est, se = float(result.estimate), float(result.se)
    p_value = float(2 * t_sf(abs(est / se), df))
    n1 = int(treated.sum())
    old = result.inference
    info = InferenceInfo(
        name=old.name, description=(f"{old.description}; interval on a t reference with Welch-Satterthwaite "
                                    f"df = {df:.1f} ({n1} treated, {treated.size - n1} comparison units)"),
        df=df, clusters=old.clusters, reps=old.reps, seed=old.seed,
        note=((old.note + " ") if old.note else "") + "Few treated units: the SE's treated part rests on "
             f"{n1} units, so the interval uses t({df:.1f}) rather than the normal.")
    return dataclasses.replace(result, ci=(est - crit * se, est + crit * se), p_value=p_value, inference=info)
