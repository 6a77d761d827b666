"""Conley-Taber permutation inference applied to a DiD result, and the few-treated warning.

:func:`with_conley_taber` refits the estimator on placebo panels (comparison units, or
whole comparison clusters when the panel declares a ``cluster``, given the treated units'
start dates) and replaces the result's interval, p-value and SE by the permutation ones
(:mod:`evalint.inference.permutation`). Callaway-Sant'Anna's simple ATT without covariates,
with never-treated comparisons on a balanced panel, is a closed-form function of unit-level
averages (:func:`cs_simple_att`), so each placebo costs a few array sums instead of a refit.

:func:`warn_few_treated` is the warning a direct call with at most
:data:`~evalint.inference.permutation.MAX_FEW_TREATED` treated units (clusters) and an
asymptotic or bootstrap interval emits.

References
----------
Conley, T. G., & Taber, C. R. (2011). Inference with "difference in differences" with a
    small number of policy changes. Review of Economics and Statistics, 93(1), 113-125.
MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly different
    cluster sizes. Journal of Applied Econometrics 32(2), 233-254.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from evalint.diagnostics.base import Flag
from evalint.errors import FewTreatedWarning, InferenceError, format_examples
from evalint.inference.dispatch import infer
from evalint.inference.permutation import MAX_FEW_TREATED, ConleyTaber
from evalint.results.effect import InferenceInfo

__all__ = ["PlaceboEstimates", "cs_simple_att", "n_treated_groups", "warn_few_treated", "with_conley_taber"]


@dataclasses.dataclass(frozen=True, eq=False)
class PlaceboEstimates:
    """The placebo estimates behind a permutation interval (``values``); prints as one line."""

    values: np.ndarray

    def __str__(self) -> str:
        v = self.values
        return f"{v.size} placebo estimates (SD {np.std(v, ddof=1):.4g}; .values holds them)"

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.values, dtype=dtype)


@dataclasses.dataclass(frozen=True)
class _PlaceboRefits:
    """A DiD result's placebo refits as :class:`~evalint.inference.permutation.PermutationRefit`."""

    estimate: float
    n_control_groups: int
    dates: list[Any]
    refit: Callable[[np.ndarray], np.ndarray]

    def placebo_estimates(self, draws: np.ndarray) -> np.ndarray:
        return self.refit(draws)


def _groups(panel: Any) -> pd.Series:
    """Unit -> permutation group (the declared cluster, else the unit itself)."""
    return panel.unit_clusters() if getattr(panel, "cluster", None) else pd.Series(panel.units, index=panel.units)


def n_treated_groups(panel: Any) -> int:
    """Number of treated units, or of clusters holding treated units when a cluster is declared."""
    treated = list(panel.timing.treated_units)
    return int(_groups(panel).reindex(treated).nunique())


def warn_few_treated(estimator: str, panel: Any, what: str, stacklevel: int = 3) -> Flag | None:
    """Warn (:class:`~evalint.errors.FewTreatedWarning`) when at most MAX_FEW_TREATED units
    (clusters) are treated; returns the flag to attach, or None."""
    n = n_treated_groups(panel)
    if n > MAX_FEW_TREATED:
        return None
    level = f"cluster(s) of {panel.cluster}" if getattr(panel, "cluster", None) else "unit(s)"
    msg = (f"{estimator}: {n} treated {level}. The {what} rests on so few treated units that it is too narrow "
           "(its treated-side variance is estimated from them, or not at all with one). Use "
           "inference=ConleyTaber() (permutation over comparison units, Conley & Taber 2011) for a valid interval.")
    warnings.warn(msg, FewTreatedWarning, stacklevel=stacklevel)
    return Flag("inference", "high", msg, source="few_treated")


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


def with_conley_taber(result: Any, panel: Any, spec: ConleyTaber, alpha: float, *,
                      fit_one: Callable[[Any], float], closed_form: dict[str, Any] | None = None) -> Any:
    """``result`` with its interval, p-value and SE from Conley-Taber placebo estimates.

    Parameters
    ----------
    result : EffectResult
        The DiD result on ``panel`` (never-treated comparison units needed).
    panel : Panel
    spec : ConleyTaber
    alpha : float
    fit_one : callable
        ``fit_one(placebo_panel) -> float``: the estimator's headline estimate refitted.
    closed_form : dict, optional
        ``{"anticipation": a, "max_e": m}``: use :func:`cs_simple_att`'s closed form (C-S
        simple ATT, no covariates, never-treated comparisons, balanced; units not grouped).

    Returns
    -------
    EffectResult
        With ``inference.placebo_estimates`` the placebo estimates (and their one-line
        description in the summary).

    Raises
    ------
    InferenceError
        No never-treated comparison units; a cluster with treated and untreated units or with
        several start dates (placebos reassign whole clusters); too few comparison groups.
    """
    from evalint.data.panel import Panel

    timing = panel.timing
    groups = _groups(panel)
    treated = list(timing.treated_units)
    never = set(timing.never_treated)
    cohort = timing.cohort
    by_group = pd.DataFrame({"g": groups.to_numpy(), "c": cohort.reindex(groups.index).to_numpy()},
                            index=groups.index)
    treated_groups = list(pd.unique(groups.reindex(treated)))
    dates = []
    for g in treated_groups:
        members = by_group.index[by_group["g"] == g]
        starts = pd.unique(by_group.loc[members, "c"])
        if any(u in never for u in members) or len(starts) != 1:
            raise InferenceError(
                f"Conley-Taber permutation reassigns whole {panel.cluster or 'unit'}s, but {panel.cluster} {g!r} mixes "
                f"treated and untreated units or start dates ({format_examples(list(members))}). Use a cluster "
                "in which every unit starts together, or Clustered inference.")
        dates.append(starts[0])
    control_groups = [g for g in pd.unique(groups.to_numpy()) if g not in set(treated_groups)
                      and all(u in never for u in by_group.index[by_group["g"] == g])]
    if not control_groups:
        raise InferenceError("Conley-Taber permutation needs never-treated comparison units; the panel has none.")
    grouped = bool(getattr(panel, "cluster", None)) and panel.cluster != panel.unit

    def placebo_estimates(draws: np.ndarray) -> np.ndarray:
        """The refit callback: one estimate per placebo assignment (a row of ``draws``)."""
        if closed_form is not None and not grouped:
            from evalint.estimators.did.cs.cells import outcome_matrix

            y, units, per = outcome_matrix(panel, panel.outcome)
            y0 = y[units.get_indexer(control_groups)]
            if np.isnan(y0).any():
                raise InferenceError("closed-form placebo estimates need a balanced panel.")
            ords = np.array([d.ordinal for d in dates], dtype=np.int64)
            return _closed_form_placebos(y0, per, ords, draws, int(closed_form.get("anticipation", 0)),
                                         float(closed_form.get("max_e", np.inf)))
        data = panel.data
        data = data.loc[~data[panel.unit].isin(treated)]
        unit_group = data[panel.unit].map(groups).to_numpy()
        estimates = []
        for row in draws:
            start = dict(zip((control_groups[i] for i in row), dates))
            frame = data.assign(_evalint_placebo=[start.get(g) for g in unit_group])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = Panel.from_frame(frame, unit=panel.unit, time=panel.time, outcome=list(panel.outcomes),
                                     cohort="_evalint_placebo", population=panel.population,
                                     weights=panel.weights, covariates=list(panel.covariates), freq=panel.freq,
                                     outcome_kind=dict(panel.outcome_kinds), cluster=panel.cluster)
                p._primary_chosen = getattr(panel, "_primary_chosen", False)
                estimates.append(float(fit_one(p)))
        return np.asarray(estimates)

    # the inference layer draws the assignments with the spec's seed, calls the refit callback
    # and inverts the permutation test
    res = infer(spec, _PlaceboRefits(float(result.estimate), len(control_groups), dates, placebo_estimates),
                alpha=alpha)
    placebo, (low, high), p_value, every = res.placebo, res.ci, res.p_value, res.every
    k, m = len(treated_groups), int(placebo.size)
    level = panel.cluster if grouped else "unit"
    what = (f"{'all ' if every else ''}{m} {'random ' if not every else ''}placebo assignment(s) of "
            f"{f'each comparison {level}' if k == 1 else f'{k} of the {len(control_groups)} comparison {level}s'}"
            f" given the treated {level}{'s' if k > 1 else ''}' start date{'s' if k > 1 else ''}")
    info = InferenceInfo(
        name="placebo_permutation",
        description=(f"Conley-Taber permutation over {what} (seed {spec.seed}); SE = SD of the placebo estimates"),
        reps=m, seed=None if every else spec.seed, placebo_estimates=placebo,
        note=(f"{k} treated {level}(s): the estimator's own SEs understate uncertainty, so its interval was "
              "replaced by the permutation interval; assumes the placebo units' estimation errors are "
              "exchangeable with the treated units' (similar size and noise)"),
    )
    flags = tuple(f for f in result.flags if f.source not in ("singleton_cohort", "few_treated")) + (Flag(
        "inference", "low",
        f"{k} treated {level}(s): the interval is a Conley-Taber permutation interval over {m} placebo "
        "assignments of comparison units (the estimator's own SEs would understate uncertainty). It assumes "
        "the treated units are as noisy as the comparison units (e.g. of similar population).",
        source="placebo_permutation"),)
    if res.coverage < 1 - alpha - 1e-12:
        flags += (Flag(
            "inference", "medium",
            f"Only {m} placebo assignments: no permutation interval reaches {1 - alpha:.0%} coverage; the "
            f"interval spans the placebo range, coverage {res.coverage:.0%}. Add comparison units.",
            source="placebo_permutation"),)
    new_info = dict(result.info) if isinstance(result.info, dict) else {}
    new_info["placebo_estimates"] = str(PlaceboEstimates(placebo))
    return dataclasses.replace(result, se=res.se, ci=(low, high), p_value=p_value,
                               inference=info, flags=flags, info=new_info)
