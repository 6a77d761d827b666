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
(:func:`cs_simple_att`), so each placebo costs a few array sums instead of a refit.

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
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evalint.diagnostics.base import Flag
from evalint.errors import InferenceError
from evalint.results.effect import InferenceInfo

__all__ = [
    "FEW_TREATED_METHODS",
    "MAX_PERMUTATION_TREATED",
    "conley_taber_interval",
    "cs_simple_att",
    "n_placebo_assignments",
    "permutation_ranks",
    "placebo_assignments",
    "placebo_few_treated",
    "welch_df",
    "welch_t_interval",
]

#: the largest number of treated units whose DiD interval evaluate() takes from Conley-Taber placebos
MAX_PERMUTATION_TREATED = 5
#: values of ``options={"did": {"few_treated": ...}}``
FEW_TREATED_METHODS = ("permutation", "welch_t", "bootstrap")


def permutation_ranks(m: int, alpha: float) -> tuple[int, int]:
    """Order statistics ``(l, u)`` (1-based) of ``m`` placebo estimates bounding the interval.

    Under exchangeability the rank of ``estimate - effect`` among the ``m + 1`` values is
    uniform, so it lies between the ``l``-th and ``u``-th smallest placebo estimates with
    probability ``(u - l) / (m + 1)``. ``l = floor((m + 1) alpha / 2)`` and ``u = m + 1 - l``
    give at least ``1 - alpha``; when ``(m + 1) alpha / 2 < 1`` no finite interval reaches
    ``1 - alpha`` and the placebo range is used (``l = 1, u = m``: coverage ``(m - 1) / (m + 1)``).
    """
    low = max(1, math.floor((m + 1) * alpha / 2 + 1e-9))
    return low, m + 1 - low


def conley_taber_interval(estimate: float, placebo: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Interval and p-value from placebo estimates (Conley-Taber).

    The interval is ``[estimate - P(u), estimate - P(l)]`` with ``P(j)`` the ``j``-th smallest
    placebo estimate and ``(l, u)`` from :func:`permutation_ranks` (a rank rule, not
    interpolated quantiles: those cover ``1 - alpha`` only as the number of placebos grows, e.g.
    90.5% with 41 placebos at ``alpha = 0.05``). The p-value is the share of the placebo
    estimates and the estimate itself at least as large in absolute value as the estimate.

    Returns ``(low, high, p_value)``.
    """
    placebo = np.asarray(placebo, dtype=float)
    if placebo.size < 2:
        raise InferenceError(
            f"permutation inference needs at least 2 placebo estimates; got {placebo.size}. "
            "Add comparison units."
        )
    lo_rank, hi_rank = permutation_ranks(placebo.size, alpha)
    ordered = np.sort(placebo)
    q_low, q_high = ordered[lo_rank - 1], ordered[hi_rank - 1]
    p = (1 + int(np.sum(np.abs(placebo) >= abs(estimate) - 1e-12))) / (placebo.size + 1)
    return float(estimate - q_high), float(estimate - q_low), float(min(p, 1.0))


def _date_groups(dates: Sequence[Any]) -> tuple[list[int], list[int]]:
    """Positions ordered so equal dates sit side by side, and the size of each run."""
    order = sorted(range(len(dates)), key=lambda j: (str(dates[j]), j))
    counts = [len(list(grp)) for _, grp in itertools.groupby(str(dates[j]) for j in order)]
    return order, counts


def n_placebo_assignments(n_controls: int, dates: Sequence[Any]) -> int:
    """Number of distinct placebo assignments: ``k`` comparison units sharing the treated units' dates."""
    _, counts = _date_groups(dates)
    total, left = 1, n_controls
    for c in counts:
        total *= math.comb(left, c)
        left -= c
    return total


def placebo_assignments(n_controls: int, dates: Sequence[Any], reps: int, seed: int) -> np.ndarray:
    """Placebo treated sets: rows of comparison-unit indices, column ``j`` given ``dates[j]``.

    When the number of distinct assignments (:func:`n_placebo_assignments`) is at most
    ``reps``, all of them, in a fixed order; otherwise ``reps`` uniformly random ones (each a
    random ordered ``k``-subset of the comparison units) from ``numpy.random.default_rng(seed)``.
    """
    dates = list(dates)
    k = len(dates)
    if k < 1 or n_controls <= k:
        raise InferenceError(
            f"permutation inference needs more comparison units than treated units; got {n_controls} "
            f"comparison and {k} treated unit(s). Add comparison units."
        )
    order, counts = _date_groups(dates)
    if n_placebo_assignments(n_controls, dates) <= reps:
        rows: list[list[int]] = []

        def rec(avail: list[int], i: int, acc: list[int]) -> None:
            if i == len(counts):
                rows.append(acc)
                return
            for pick in itertools.combinations(avail, counts[i]):
                rec([a for a in avail if a not in pick], i + 1, acc + list(pick))

        rec(list(range(n_controls)), 0, [])
        by_sorted = np.asarray(rows, dtype=np.int64).reshape(len(rows), k)
    else:
        rng = np.random.default_rng(seed)
        by_sorted = np.argsort(rng.random((int(reps), n_controls)), axis=1, kind="stable")[:, :k]
    out = np.empty_like(by_sorted)
    out[:, order] = by_sorted
    return out


def cs_simple_att(y: np.ndarray, per: np.ndarray, cohort: np.ndarray, *, anticipation: int = 0,
                  max_e: float = np.inf) -> float:
    """Callaway-Sant'Anna simple ATT without covariates, never-treated comparisons, in closed form.

    ``y`` is the balanced units x periods outcome matrix, ``per`` the period ordinals and
    ``cohort`` each unit's first treated period ordinal (NaN: never treated). Every post cell
    of cohort ``g`` uses the base period ``b = g - anticipation - 1``, so with
    ``D_i(g) = mean_{t in post(g)} y_it - y_ib`` (post(g): ``g <= t <= g + max_e``) and ``T_g``
    post cells, the cohort-size-weighted average of the ATT(g,t) is
    ``sum_g n_g T_g (mean_{i in g} D_i(g) - mean_{never} D_i(g)) / sum_g n_g T_g``.
    """
    never = np.isnan(cohort)
    num, den = 0.0, 0.0
    for g in np.unique(cohort[~never]).astype(np.int64):
        d, t_g = _post_minus_base(y, per, int(g), anticipation, max_e)
        n_g = int(np.sum(cohort == g))
        num += n_g * t_g * (d[cohort == g].mean() - d[never].mean())
        den += n_g * t_g
    return float(num / den)


def _post_minus_base(y: np.ndarray, per: np.ndarray, g: int, anticipation: int, max_e: float
                     ) -> tuple[np.ndarray, int]:
    """``D_i(g)`` for every unit and the number of post cells ``T_g``."""
    base = np.flatnonzero(per + anticipation < g)[-1]
    post = (per >= g) & (per - g <= max_e)
    return y[:, post].mean(axis=1) - y[:, base], int(post.sum())


def _closed_form_placebos(y: np.ndarray, per: np.ndarray, dates: np.ndarray, draws: np.ndarray,
                          anticipation: int, max_e: float) -> np.ndarray:
    """Simple ATT of every placebo assignment, from the comparison units' ``D_i(g)``.

    ``y`` holds the comparison units only; row ``r`` of ``draws`` gives unit ``draws[r, j]``
    the start ``dates[j]``; the other comparison units are the never-treated group.
    """
    m, k = draws.shape
    n0 = y.shape[0]
    num, den = np.zeros(m), 0.0
    for g in np.unique(dates):
        d, t_g = _post_minus_base(y, per, int(g), anticipation, max_e)
        cols = np.flatnonzero(dates == g)
        picked = d[draws]                                    # (m, k): every placebo unit's D(g)
        treated_mean = picked[:, cols].mean(axis=1)
        control_mean = (d.sum() - picked.sum(axis=1)) / (n0 - k)
        num += cols.size * t_g * (treated_mean - control_mean)
        den += cols.size * t_g
    return num / den


def placebo_few_treated(result: Any, panel: Any, alpha: float, *, reps: int, seed: int,
                        fit_one: Callable[[Any], float] | None = None, anticipation: int = 0,
                        max_e: float = np.inf) -> tuple[Any, np.ndarray]:
    """Replace a DiD result's inference by Conley-Taber permutation over placebo treated sets.

    Parameters
    ----------
    result : EffectResult
        The DiD result on ``panel`` (``k`` treated units, never-treated comparisons).
    panel : Panel
        The panel it was fitted on, with cohort timing.
    alpha : float
    reps, seed : int
        At most ``reps`` placebo assignments (all of them when there are no more), drawn with
        ``seed`` (:func:`placebo_assignments`).
    fit_one : callable, optional
        ``fit_one(placebo_panel) -> float``: the estimator's headline estimate, refitted on a
        placebo panel. ``None``: the closed-form simple Callaway-Sant'Anna ATT
        (:func:`cs_simple_att`; no covariates, never-treated comparisons, balanced panel),
        with ``anticipation`` and ``max_e`` as in the fit.

    Returns
    -------
    (EffectResult, ndarray)
        The result with the permutation SE, interval, p-value and inference description, and
        the placebo estimates (one per assignment).
    """
    from evalint.data.panel import Panel
    from evalint.estimators.did.group_time import _outcome_matrix

    timing = panel.timing
    treated = list(timing.treated_units)
    controls = list(timing.never_treated)
    dates = [timing.cohort[u] for u in treated]
    draws = placebo_assignments(len(controls), dates, reps, seed)
    if fit_one is None:
        y, units, per = _outcome_matrix(panel, panel.outcome)
        pos = units.get_indexer(controls)
        y0 = y[pos]
        if np.isnan(y0).any():
            raise InferenceError("closed-form placebo estimates need a balanced panel; pass fit_one to refit.")
        ords = np.array([d.ordinal for d in dates], dtype=np.int64)
        placebo = _closed_form_placebos(y0, per, ords, draws, anticipation, max_e)
    else:
        data = panel.data
        data = data.loc[~data[panel.unit].isin(treated)]
        unit_ids = data[panel.unit].to_numpy()
        estimates = []
        for row in draws:
            start = dict(zip((controls[i] for i in row), dates))
            frame = data.assign(_evalint_placebo=[start.get(u) for u in unit_ids])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = Panel.from_frame(frame, unit=panel.unit, time=panel.time, outcome=list(panel.outcomes),
                                     cohort="_evalint_placebo", population=panel.population,
                                     weights=panel.weights, covariates=list(panel.covariates), freq=panel.freq,
                                     outcome_kind=dict(panel.outcome_kinds), cluster=panel.cluster)
                estimates.append(float(fit_one(p)))
        placebo = np.asarray(estimates)
    low, high, p_value = conley_taber_interval(result.estimate, placebo, alpha)
    k, m = len(treated), int(placebo.size)
    every = n_placebo_assignments(len(controls), dates) <= reps
    what = (f"{'all ' if every else ''}{m} {'random ' if not every else ''}placebo assignment(s) of "
            f"{'each comparison unit' if k == 1 else f'{k} of the {len(controls)} comparison units'}"
            f" given the treated unit{'s' if k > 1 else ''}' start date{'s' if k > 1 else ''}")
    info = InferenceInfo(
        name="placebo_permutation",
        description=(f"Conley-Taber permutation over {what} (seed {seed}); SE = SD of the placebo estimates"),
        reps=m, seed=None if every else seed,
        note=(f"{k} treated unit(s): the estimator's own SEs understate uncertainty, so its interval was "
              "replaced by the permutation interval; assumes the placebo units' estimation errors are "
              "exchangeable with the treated units' (similar size and noise)"),
    )
    flags = tuple(f for f in result.flags if f.source != "singleton_cohort") + (Flag(
        "inference", "low",
        f"{k} treated unit(s): the interval is a Conley-Taber permutation interval over {m} placebo "
        "assignments of comparison units (the estimator's own SEs would understate uncertainty). It assumes "
        "the treated units are as noisy as the comparison units (e.g. of similar population).",
        source="placebo_permutation"),)
    lo_rank, hi_rank = permutation_ranks(m, alpha)
    if (hi_rank - lo_rank) / (m + 1) < 1 - alpha - 1e-12:
        flags += (Flag(
            "inference", "medium",
            f"Only {m} placebo assignments: no permutation interval reaches {1 - alpha:.0%} coverage; the "
            f"interval spans the placebo range, coverage {(hi_rank - lo_rank) / (m + 1):.0%}. Add comparison units.",
            source="placebo_permutation"),)
    new = dataclasses.replace(result, se=float(np.std(placebo, ddof=1)), ci=(low, high), p_value=p_value,
                              inference=info, flags=flags)
    return new, placebo


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
    from scipy import stats

    from evalint.estimators.did.aggregate import aggregate_cells

    state = result.info.get("cs_state") if isinstance(result.info, dict) else None
    if state is None or not np.isfinite(result.se) or result.se <= 0:
        return result
    cells = state.cells
    psi = aggregate_cells(cells, result.info.get("aggregation", "simple")).overall_influence
    treated = ~np.isnan(np.asarray(cells.unit_cohort, dtype=float))
    if treated.sum() < 2:
        return result
    df = welch_df(psi, treated)
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    est, se = float(result.estimate), float(result.se)
    p_value = float(2 * stats.t.sf(abs(est / se), df))
    n1 = int(treated.sum())
    old = result.inference
    info = InferenceInfo(
        name=old.name, description=(f"{old.description}; interval on a t reference with Welch-Satterthwaite "
                                    f"df = {df:.1f} ({n1} treated, {treated.size - n1} comparison units)"),
        df=df, clusters=old.clusters, reps=old.reps, seed=old.seed,
        note=((old.note + " ") if old.note else "") + "Few treated units: the SE's treated part rests on "
             f"{n1} units, so the interval uses t({df:.1f}) rather than the normal.")
    return dataclasses.replace(result, ci=(est - crit * se, est + crit * se), p_value=p_value, inference=info)
