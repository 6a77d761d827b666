"""Callaway & Sant'Anna (2021) group-time average treatment effects, ATT(g,t).

For each treated cohort ``g`` (units first treated in period ``g``) and period ``t`` the
estimator compares the outcome change of cohort ``g`` between a base period and ``t``
with the change of a comparison group (never-treated units, or units not yet treated by
the later of the two periods plus ``anticipation``). Without covariates each ATT(g,t) is
a difference of (weighted) means, computed here for all cells at once from the
units x periods matrix. With covariates each 2x2 comparison is estimated by outcome
regression (``"reg"``), standardised inverse probability weighting (``"ipw"``) or the
locally efficient doubly robust estimator (``"dr"``) of Sant'Anna & Zhao (2020) - the
same three estimators R ``did`` calls from DRDID (``reg_did_panel``,
``std_ipw_did_panel``, ``drdid_panel``).

Every cell keeps its influence function (one value per unit, zero for units outside the
cell's 2x2 comparison, scaled by n/n1 as R ``did``); :mod:`evalint.estimators.did.aggregate`
combines them into the simple, dynamic, group and calendar summaries.

Algorithm (numbering as Callaway & Sant'Anna 2021, Section 4, panel data)

1. Cohorts g with no period before g - anticipation are dropped (warned, counted).
2. Base period: ``"varying"`` - for pre-periods t < g the previous period t-1, for
   post-periods g - anticipation - 1; ``"universal"`` - always g - anticipation - 1
   (that cell is reported as 0 with a zero influence function).
3. Comparison units: never treated; or (``"not_yet_treated"``) never treated plus cohorts
   g' != g with g' > max(t, base) + anticipation.
4. ATT(g,t) and its influence function from the 2x2 estimator on the units in cohort g
   or in the comparison group, using the outcome change between base and t.

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Sant'Anna, P.H.C. & Zhao, J. (2020). Doubly robust difference-in-differences
estimators. Journal of Econometrics 219(1), 101-122.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from scipy.special import expit

from evalint._typing import check_alpha, check_option, check_positive_int
from evalint.diagnostics.base import Flag
from evalint.errors import (
    DiagnosticWarning,
    DroppedRowsWarning,
    FewClustersWarning,
    InferenceError,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelWarning,
    format_examples,
)
from evalint.estimators.base import calendar_check, register_estimator
from evalint.inference.multiplier import cluster_codes
from evalint.inference.specs import Analytic, Clustered, MultiplierBootstrap, require_supported
from evalint.results.effect import InferenceInfo

__all__ = ["CallawaySantAnna", "GroupTimeCells", "callaway_santanna", "estimate_group_time"]

TRIM_LEVEL = 0.995


@dataclass(frozen=True)
class GroupTimeCells:
    """ATT(g,t) cells and everything aggregation needs.

    Attributes
    ----------
    group, time, base : ndarray of int
        Period ordinals of each cell's cohort, period and base period.
    att : ndarray
        ATT(g,t) estimates.
    influence : ndarray (n_units, n_cells)
        Influence functions (R ``did`` scaling: SE = sqrt(sum psi^2) / n).
    n_treated, n_control : ndarray of int
        Units in the cell's treated and comparison groups.
    units : pandas.Index
        Unit ids, the rows of ``influence``.
    unit_cohort : ndarray of float
        Each unit's cohort ordinal (NaN if never treated, or if used only as a comparison).
    unit_weights : ndarray
        Sampling weights normalised to mean 1 (ones if unweighted).
    freq : str
    """

    group: np.ndarray
    time: np.ndarray
    base: np.ndarray
    att: np.ndarray
    influence: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    units: pd.Index
    unit_cohort: np.ndarray
    unit_weights: np.ndarray
    freq: str

    @property
    def n_units(self) -> int:
        return len(self.units)

    def period(self, ordinal: float) -> pd.Period:
        return pd.Period(ordinal=int(ordinal), freq=self.freq)

    def labels(self, ordinals: np.ndarray) -> list[str]:
        """Period labels (``'2004'``, ``'2019-07'``...) for an array of ordinals."""
        uniq, inv = np.unique(np.asarray(ordinals, dtype=np.int64), return_inverse=True)
        text = [str(pd.Period(ordinal=int(o), freq=self.freq)) for o in uniq]
        return [text[i] for i in inv.ravel()]


# --------------------------------------------------------------------------- 2x2 estimators
def _check_rank(x: np.ndarray, names: Sequence[str], where: str) -> None:
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise SpecificationError(
            f"covariates {format_examples(list(names))} are perfectly collinear (with each other or the "
            f"intercept) in {where}; the regression/propensity model is not identified. Drop one of "
            "the collinear covariates, or covariates that do not vary in that comparison."
        )


def _logit(x: np.ndarray, d: np.ndarray, w: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic MLE by Newton-Raphson; returns fitted p and X'diag(w p(1-p))X."""
    beta = np.zeros(x.shape[1])
    p0 = np.clip(np.average(d, weights=w), 1e-6, 1 - 1e-6)
    beta[0] = np.log(p0 / (1 - p0))
    for _ in range(100):
        p = expit(x @ beta)
        info = x.T @ (x * (w * p * (1 - p))[:, None])
        step = np.linalg.solve(info, x.T @ (w * (d - p)))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(beta))):
            break
    else:
        warnings.warn(f"propensity score model did not converge in {where} (check overlap: are some "
                      "covariate values found only among treated or only among comparison units?).",
                      DiagnosticWarning, stacklevel=3)
    p = np.minimum(expit(x @ beta), 1 - 1e-6)
    info = x.T @ (x * (w * p * (1 - p))[:, None])
    return p, info


def _wls_lin_rep(x: np.ndarray, dy: np.ndarray, d: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outcome regression on the comparison units: fitted change and asymptotic linear representation."""
    n = len(d)
    wc = w * (1 - d)
    xtx = x.T @ (x * wc[:, None]) / n
    coef = np.linalg.solve(xtx * n, x.T @ (wc * dy))
    fitted = x @ coef
    lin = (x * (wc * (dy - fitted))[:, None]) @ np.linalg.inv(xtx)
    return fitted, lin


def _two_by_two(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, method: str,
                where: str) -> tuple[float, np.ndarray]:
    """One panel 2x2 ATT and its influence function (DRDID formulas, Sant'Anna & Zhao 2020)."""
    w = w / w.mean()
    if method == "reg":
        fitted, lin = _wls_lin_rep(x, dy, d, w)
        w_t = w * d
        w_c = w * d
        att_t = w_t * dy
        att_c = w_c * fitted
        eta_t = att_t.mean() / w_t.mean()
        eta_c = att_c.mean() / w_c.mean()
        inf_t = (att_t - w_t * eta_t) / w_t.mean()
        inf_c = ((att_c - w_c * eta_c) + lin @ (w_c[:, None] * x).mean(axis=0)) / w_c.mean()
        return eta_t - eta_c, inf_t - inf_c
    n = len(d)
    p, info = _logit(x, d, w, where)
    trim = np.where(d == 1, True, p < TRIM_LEVEL)
    lin_ps = (x * (w * (d - p))[:, None]) @ (np.linalg.inv(info) * n)
    w_t = trim * w * d
    w_c = trim * w * p * (1 - d) / (1 - p)
    if method == "ipw":
        att_t = w_t * dy
        att_c = w_c * dy
        eta_t = att_t.mean() / w_t.mean()
        eta_c = att_c.mean() / w_c.mean()
        inf_t = (att_t - w_t * eta_t) / w_t.mean()
        m2 = ((w_c * (dy - eta_c))[:, None] * x).mean(axis=0)
        inf_c = ((att_c - w_c * eta_c) + lin_ps @ m2) / w_c.mean()
        return eta_t - eta_c, inf_t - inf_c
    fitted, lin = _wls_lin_rep(x, dy, d, w)
    resid = dy - fitted
    att_t = w_t * resid
    att_c = w_c * resid
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    inf_t = ((att_t - w_t * eta_t) - lin @ (w_t[:, None] * x).mean(axis=0)) / w_t.mean()
    m2 = ((w_c * (resid - eta_c))[:, None] * x).mean(axis=0)
    inf_c = ((att_c - w_c * eta_c) + lin_ps @ m2 - lin @ (w_c[:, None] * x).mean(axis=0)) / w_c.mean()
    return eta_t - eta_c, inf_t - inf_c


# --------------------------------------------------------------------------- cell layout
def _cells_for_cohort(g: int, per: np.ndarray, anticipation: int, base_period: str) -> list[tuple[int, int]]:
    """(current index, base index) pairs for cohort g, as R did's compute.att_gt."""
    before = np.flatnonzero(per + anticipation < g)
    pret_g = int(before[-1])
    out = []
    start = 1 if base_period == "varying" else 0
    for j in range(start, len(per)):
        if base_period == "universal" or per[j] >= g:
            out.append((j, pret_g))
        else:
            out.append((j, j - 1))
    return out


def estimate_group_time(
    panel, *, outcome: str, control: str, method: str, covariates: tuple[str, ...],
    anticipation: int, base_period: str, unbalanced: str, weights: bool,
) -> tuple[GroupTimeCells, dict]:
    """Compute every ATT(g,t) with its influence function.

    Returns the cells and a dict of notes (dropped units/periods, singleton cohorts) for
    the result's ``info`` and flags.
    """
    notes: dict = {"dropped_units_unbalanced": 0, "dropped_units_no_pre_period": 0,
                   "dropped_periods_no_comparison": 0, "singleton_cohorts": []}
    timing = panel.timing
    if timing is None:
        raise SpecificationError(
            "Callaway-Sant'Anna needs treatment timing: build the Panel with cohort= (first treated "
            "period) or treatment= (absorbing 0/1)."
        )
    y, units, per = _outcome_matrix(panel, outcome)
    keep = np.ones(len(units), dtype=bool)

    missing = np.isnan(y)
    if missing.any():
        bad = missing.any(axis=1)
        if unbalanced == "error":
            panel.require_balanced("Callaway-Sant'Anna with unbalanced='error'")
        warnings.warn(
            f"Unbalanced panel: {int(bad.sum())} of {len(units)} unit(s) miss {int(missing.sum())} "
            f"unit-period cell(s) (e.g. {format_examples(list(units[bad]))}). Callaway-Sant'Anna uses "
            "the balanced sub-panel: those units are dropped from every ATT(g,t) (as R did does by "
            "default). Pass unbalanced='error' to refuse instead, or fill/trim the panel.",
            UnbalancedPanelWarning, stacklevel=4,
        )
        notes["dropped_units_unbalanced"] = int(bad.sum())
        keep &= ~bad

    data = panel.data
    xmat = None
    if covariates:
        xmat = _unit_covariates(panel, data, covariates, units)
    wvec = np.ones(len(units))
    if weights:
        if panel.weights is None:
            raise SpecificationError("weights=True but the panel has no weights column; build it with weights=.")
        wvec = _unit_constant(panel, data, panel.weights, units, "weights").astype(float)

    cohort = timing.cohort.reindex(units)
    coh = np.where(cohort.isna().to_numpy(), np.nan, pd.PeriodIndex(cohort).asi8.astype(float))
    early = ~np.isnan(coh) & (coh <= per[0] + anticipation) & keep
    if early.any():
        warnings.warn(
            f"Dropped {int(early.sum())} unit(s) whose cohort starts within {anticipation} anticipation "
            f"period(s) of the first period ({format_examples(list(units[early]))}): they have no "
            "untreated base period. Add earlier periods or lower anticipation to keep them.",
            DroppedRowsWarning, stacklevel=4,
        )
        notes["dropped_units_no_pre_period"] = int(early.sum())
        keep &= ~early

    y, coh, wvec, units = y[keep], coh[keep], wvec[keep], units[keep]
    if xmat is not None:
        xmat = xmat[keep]
    never = np.isnan(coh)
    cohorts = np.unique(coh[~never]).astype(np.int64)
    if len(cohorts) == 0:
        raise TreatmentError(
            "No treated units are left to estimate ATT(g,t) for (after dropping units treated in "
            "their first period or with missing cells). Callaway-Sant'Anna needs at least one "
            "cohort first treated after the first period."
        )
    treated_cohorts = cohorts
    if not never.any():
        if control == "never_treated":
            raise SpecificationError(
                "control='never_treated' but no unit is never treated. Use control='not_yet_treated' "
                "to compare each cohort with cohorts not yet treated by then (the latest cohort then "
                "serves only as a comparison group, and periods from its start are dropped)."
            )
        latest = int(cohorts.max())
        if len(cohorts) == 1:
            raise SpecificationError(
                f"All {len(units)} units are first treated in the same period ({pd.Period(ordinal=latest, freq=panel.freq)}) "
                "and none is never treated: there is no comparison group for any period. Add "
                "never-treated (or later-treated) units, or use an interrupted time series design."
            )
        cut = per < latest - anticipation
        notes["dropped_periods_no_comparison"] = int((~cut).sum())
        warnings.warn(
            f"No never-treated units: the latest cohort ({pd.Period(ordinal=latest, freq=panel.freq)}) is used only "
            f"as a not-yet-treated comparison, and the {int((~cut).sum())} period(s) from its start "
            f"(minus anticipation) are dropped because no comparison units remain in them.",
            DroppedRowsWarning, stacklevel=4,
        )
        y, per = y[:, cut], per[cut]
        treated_cohorts = cohorts[cohorts < latest]

    sizes = {int(g): int(np.sum(coh == g)) for g in treated_cohorts}
    notes["singleton_cohorts"] = [g for g, s in sizes.items() if s == 1]
    cells = []
    for g in treated_cohorts:
        for j, b in _cells_for_cohort(int(g), per, anticipation, base_period):
            cells.append((int(g), j, b))
    gk = np.array([c[0] for c in cells], dtype=np.int64)
    jk = np.array([c[1] for c in cells], dtype=np.int64)
    bk = np.array([c[2] for c in cells], dtype=np.int64)
    later = per[np.maximum(jk, bk)]
    # comparison membership by cohort "row": rows = treated cohort list + never
    row_vals = np.concatenate([cohorts.astype(float), [np.nan]])
    ctrl = np.zeros((len(row_vals), len(cells)), dtype=bool)
    ctrl[-1] = True
    if control == "not_yet_treated":
        ctrl[:-1] = (cohorts[:, None] > later[None, :] + anticipation) & (cohorts[:, None] != gk[None, :])
    treat = np.zeros_like(ctrl)
    treat[:-1] = cohorts[:, None] == gk[None, :]
    row = np.where(never, len(cohorts), np.searchsorted(cohorts, np.nan_to_num(coh, nan=0).astype(np.int64)))
    rows_have = np.bincount(row, minlength=len(row_vals)) > 0
    ctrl &= rows_have[:, None]
    counts = np.bincount(row, minlength=len(row_vals)).astype(np.int64)
    n_t = counts @ treat
    n_c = counts @ ctrl
    if np.any(n_c == 0):
        k = int(np.flatnonzero(n_c == 0)[0])
        raise SpecificationError(
            f"ATT(g={pd.Period(ordinal=int(gk[k]), freq=panel.freq)}, t={pd.Period(ordinal=int(per[jk[k]]), freq=panel.freq)}) has no comparison units "
            f"under control={control!r}. Use control='not_yet_treated' or restrict the periods."
        )

    if xmat is None:
        att, infl = _difference_of_means(y, wvec, row, len(row_vals), jk, bk, treat, ctrl)
    else:
        names = ("(intercept)",) + tuple(covariates)
        _check_rank(xmat, names[1:] if xmat.shape[1] > 1 else names, "the full sample")
        att = np.empty(len(cells))
        infl = np.zeros((len(units), len(cells)))
        n = len(units)
        for k in range(len(cells)):
            is_t = treat[row, k]
            sub = is_t | ctrl[row, k]
            if bk[k] == jk[k]:
                att[k] = 0.0
                continue
            where = (f"ATT(g={pd.Period(ordinal=int(gk[k]), freq=panel.freq)}, "
                     f"t={pd.Period(ordinal=int(per[jk[k]]), freq=panel.freq)})")
            xs = xmat[sub]
            _check_rank(xs, list(covariates), where)
            dy = y[sub, jk[k]] - y[sub, bk[k]]
            try:
                a, inf = _two_by_two(dy, is_t[sub].astype(float), xs, wvec[sub], method, where)
            except np.linalg.LinAlgError:
                raise SpecificationError(
                    f"{where}: the {'outcome regression' if method == 'reg' else 'propensity score or outcome regression'} "
                    f"with covariates {format_examples(list(covariates))} is singular on its {int(sub.sum())} units "
                    f"({int(is_t.sum())} treated). Typical causes: perfect separation of treated and comparison "
                    "units by a covariate, or a covariate constant within the cell. Drop or coarsen the "
                    "covariate, or use estimation='reg'."
                ) from None
            att[k] = a
            infl[sub, k] = (n / sub.sum()) * inf
    cells_out = GroupTimeCells(
        group=gk, time=per[jk], base=per[bk], att=att, influence=infl, n_treated=n_t, n_control=n_c,
        units=units, unit_cohort=np.where(np.isin(coh, treated_cohorts), coh, np.nan),
        unit_weights=wvec / wvec.mean(), freq=panel.freq,
    )
    return cells_out, notes


def _outcome_matrix(panel, outcome: str) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Units x periods outcome matrix, unit ids and period ordinals (NaN for missing cells).

    A Panel is stored sorted by unit then period, so a balanced one reshapes directly
    (no pivot); otherwise :meth:`Panel.to_matrix` pivots.
    """
    data = panel.data
    uid = data[panel.unit].to_numpy()
    ords = pd.PeriodIndex(data[panel.time]).asi8
    if len(uid):
        starts = np.flatnonzero(np.r_[True, uid[1:] != uid[:-1]])
        lo, hi = int(ords.min()), int(ords.max())
        n_units, n_per = len(starts), hi - lo + 1
        if len(uid) == n_units * n_per:
            y = data[outcome].to_numpy(dtype=float).reshape(n_units, n_per)
            return y, pd.Index(uid[starts], name=panel.unit), np.arange(lo, hi + 1, dtype=np.int64)
    ymat = panel.to_matrix(outcome)
    return ymat.to_numpy(dtype=float), ymat.index, ymat.columns.asi8.astype(np.int64)


def _difference_of_means(y: np.ndarray, w: np.ndarray, row: np.ndarray, n_rows: int, jk: np.ndarray,
                         bk: np.ndarray, treat: np.ndarray, ctrl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ATT(g,t) without covariates at once (weighted means of outcome changes).

    ATT = m_G - m_C with m the weighted mean change of the cell's treated (comparison) units;
    influence psi_i = n w_i (dY_i - m_G) / W_G for treated units, -n w_i (dY_i - m_C) / W_C
    for comparison units, 0 otherwise (the DR/IPW/OR estimators all reduce to this).
    """
    n = len(w)
    onehot = np.zeros((n, n_rows))
    onehot[np.arange(n), row] = w
    wsum = onehot.sum(axis=0)                         # W_c per cohort row
    sums = onehot.T @ y                               # (rows x T) weighted sums
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = sums / wsum[:, None]
    mu = np.nan_to_num(mu)
    chg = mu[:, jk] - mu[:, bk]                       # (rows x K) mean changes by cohort row
    w_t = wsum @ treat
    w_c = wsum @ ctrl
    m_t = (wsum[:, None] * chg * treat).sum(axis=0) / w_t
    m_c = (wsum[:, None] * chg * ctrl).sum(axis=0) / w_c
    att = m_t - m_c
    scale = np.where(treat, n / w_t, 0.0) - np.where(ctrl, n / w_c, 0.0)   # (rows x K)
    centre = np.where(treat, m_t, 0.0) + np.where(ctrl, m_c, 0.0)
    infl = np.zeros((n, len(jk)))
    # one block per cohort row, only over the cells where that cohort is treated or comparison
    for r in range(n_rows):
        idx = np.flatnonzero(row == r)
        nz = np.flatnonzero(scale[r] != 0)
        if not len(idx) or not len(nz):
            continue
        sub = y[idx]
        block = sub[:, jk[nz]]
        block -= sub[:, bk[nz]]
        block -= centre[r, nz]
        block *= scale[r, nz]
        block *= w[idx, None]
        if len(nz) == nz[-1] - nz[0] + 1 and len(idx) == idx[-1] - idx[0] + 1:
            infl[idx[0]:idx[-1] + 1, nz[0]:nz[-1] + 1] = block
        else:
            infl[np.ix_(idx, nz)] = block
    return att, infl


def _unit_constant(panel, data: pd.DataFrame, col: str, units: pd.Index, role: str) -> np.ndarray:
    g = data.groupby(panel.unit, sort=False)[col]
    lo, hi = g.min(), g.max()
    varies = (hi - lo).abs() > 1e-10 * (1 + hi.abs())
    if varies.any():
        bad = list(varies.index[varies])
        raise SpecificationError(
            f"{role} column {col!r} varies over time within {len(bad)} unit(s) (e.g. {format_examples(bad)}). "
            "Callaway-Sant'Anna (as R did) conditions on one value per unit - R did silently freezes "
            "time-varying covariates at the base period, which evalint refuses to do because it "
            "changes the estimand with the base period. Use a pre-treatment (baseline) value per unit, "
            "e.g. the first period's value, as a time-invariant column."
        )
    return g.first().reindex(units).to_numpy(dtype=float)


def _unit_covariates(panel, data: pd.DataFrame, covariates: tuple[str, ...], units: pd.Index) -> np.ndarray:
    missing = [c for c in covariates if c not in data.columns]
    if missing:
        raise SpecificationError(
            f"covariate(s) {format_examples(missing)} are not columns of the panel; build the Panel with "
            f"covariates=[...] including them (panel covariates: {list(panel.covariates)})."
        )
    cols = [_unit_constant(panel, data, c, units, "covariate") for c in covariates]
    return np.column_stack([np.ones(len(units))] + cols)


# --------------------------------------------------------------------------- estimator
@register_estimator
@dataclass(frozen=True)
class CallawaySantAnna:
    """Callaway & Sant'Anna (2021) staggered difference-in-differences.

    Parameters
    ----------
    control : {"never_treated", "not_yet_treated"}
        Comparison group for each ATT(g,t).
    estimation : {"dr", "ipw", "reg"}
        2x2 estimator with covariates: doubly robust (Sant'Anna & Zhao 2020, locally
        efficient, logit propensity score + OLS outcome model, as R ``did``'s default
        ``drdid_panel``), standardised IPW, or outcome regression. Without covariates all
        three equal the difference in mean outcome changes.
    covariates : sequence of str or None
        Time-invariant covariates (``None``: the panel's covariates; ``()``: none).
        Time-varying covariates are refused (see Notes).
    anticipation : int
        Periods before the cohort date in which effects may already occur.
    base_period : {"varying", "universal"}
    aggregation : {"simple", "dynamic", "group", "calendar"}
        Headline aggregation (others via :func:`~evalint.estimators.did.aggregate.aggregate_att`).
    min_e, max_e : float
        Event-time window (dynamic; ``max_e`` also caps simple and group).
    balance_e : int, optional
        Dynamic aggregation on cohorts observed ``balance_e`` periods after treatment.
    unbalanced : {"balance", "error"}
        Unbalanced panels: ``"balance"`` drops units with missing cells (warned with the
        count - R ``did``'s default), ``"error"`` refuses.
    weights : bool
        Use the panel's ``weights`` column as (time-invariant) sampling weights.
    bootstrap_cells : bool
        With :class:`~evalint.inference.MultiplierBootstrap`, also bootstrap every
        ATT(g,t) (SEs and a simultaneous band in ``tables["att_gt"]``). Otherwise the
        ATT(g,t) table carries analytic (influence-function) SEs and only the reported
        aggregation is bootstrapped.

    Notes
    -----
    R ``did`` silently uses base-period values of time-varying covariates; evalint refuses
    them. Cohorts of a single unit get a warning: their treated-side variance is zero, so
    their SEs understate uncertainty (not identified).

    References
    ----------
    Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230.
    Sant'Anna, P.H.C. & Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. Journal of Econometrics 219(1), 101-122.
    """

    name: ClassVar[str] = "callaway_santanna"
    supported_inference: ClassVar[tuple[type, ...]] = (MultiplierBootstrap, Analytic, Clustered)

    control: Literal["never_treated", "not_yet_treated"] = "never_treated"
    estimation: Literal["dr", "ipw", "reg"] = "dr"
    covariates: Sequence[str] | None = None
    anticipation: int = 0
    base_period: Literal["varying", "universal"] = "varying"
    aggregation: Literal["simple", "dynamic", "group", "calendar"] = "simple"
    min_e: float = -math.inf
    max_e: float = math.inf
    balance_e: int | None = None
    unbalanced: Literal["balance", "error"] = "balance"
    weights: bool = False
    bootstrap_cells: bool = False
    outcome: str | None = field(default=None)

    def __post_init__(self) -> None:
        check_option("control", self.control, ("never_treated", "not_yet_treated"))
        check_option("estimation", self.estimation, ("dr", "ipw", "reg"))
        check_option("base_period", self.base_period, ("varying", "universal"))
        check_option("aggregation", self.aggregation, ("simple", "dynamic", "group", "calendar"))
        check_option("unbalanced", self.unbalanced, ("balance", "error"))
        check_positive_int("anticipation", self.anticipation, minimum=0)
        if self.balance_e is not None:
            check_positive_int("balance_e", self.balance_e, minimum=0)
        if isinstance(self.covariates, str):
            object.__setattr__(self, "covariates", (self.covariates,))
        elif self.covariates is not None:
            object.__setattr__(self, "covariates", tuple(self.covariates))
        if self.min_e > self.max_e:
            raise SpecificationError(f"min_e={self.min_e} is larger than max_e={self.max_e}.")

    @classmethod
    def contract_example(cls) -> tuple[CallawaySantAnna, Any, dict]:
        """A small simulated staggered panel (40 units x 8 years, 2 cohorts + never treated)."""
        from evalint.data.panel import Panel

        rng = np.random.default_rng(1)
        units = np.arange(40)
        cohort = np.where(units < 12, 2014, np.where(units < 24, 2016, 0))
        years = np.arange(2010, 2018)
        u, t = np.meshgrid(units, years, indexing="ij")
        g = cohort[u]
        y = 0.3 * u / 40 + 0.1 * (t - 2010) + ((g > 0) & (t >= g)) * 1.0 + rng.normal(0, 0.2, u.shape)
        df = pd.DataFrame({"unit": u.ravel(), "year": t.ravel(), "y": y.ravel(), "cohort": g.ravel()})
        panel = Panel.from_frame(df, unit="unit", time="year", outcome="y", cohort="cohort")
        return cls(aggregation="dynamic"), panel, {"calendar": False,
                                                    "inference": MultiplierBootstrap(reps=199, seed=3)}

    def fit(self, panel: Any, *, inference: Any = None, calendar: Any = None,
            alpha: float = 0.05) -> Any:
        """Estimate every ATT(g,t) and report the chosen aggregation.

        Parameters
        ----------
        panel : Panel
            With treatment timing (``cohort=`` or ``treatment=``).
        inference : MultiplierBootstrap, Analytic or Clustered, optional
            Default ``MultiplierBootstrap()`` (999 reps, seed 0, simultaneous bands), as R
            ``did``. ``Analytic()``: influence-function SEs; ``Clustered(by=col)``:
            cluster-robust influence-function SEs (col constant within unit).
        calendar : PolicyCalendar, None or False
            Policy calendar for confounding flags (``False`` skips the check).
        alpha : float
        """
        from evalint.estimators.did.aggregate import CSState, build_result

        a = check_alpha(alpha)
        spec_inf = MultiplierBootstrap() if inference is None else inference
        require_supported("CallawaySantAnna", spec_inf, self.supported_inference)
        if isinstance(spec_inf, Clustered) and spec_inf.kind != "CR1":
            raise SpecificationError(
                "CallawaySantAnna supports Clustered(kind='CR1') (cluster sums of influence "
                "functions); CR2 is defined for linear regressions. Use kind='CR1' or "
                "MultiplierBootstrap(cluster=...)."
            )
        outcome = self.outcome or panel.outcome
        cluster_col = getattr(spec_inf, "by", None) if isinstance(spec_inf, Clustered) else getattr(
            spec_inf, "cluster", None)
        # covariates=None means the panel's covariates, except a column used only to cluster
        covs = (tuple(c for c in panel.covariates if c != cluster_col) if self.covariates is None
                else tuple(self.covariates))
        cells, notes = estimate_group_time(
            panel, outcome=outcome, control=self.control, method=self.estimation, covariates=covs,
            anticipation=self.anticipation, base_period=self.base_period, unbalanced=self.unbalanced,
            weights=self.weights,
        )
        flags: list[Flag] = []
        cluster = None
        n_clusters = None
        if cluster_col is not None and cluster_col != panel.unit:
            data = panel.data
            if cluster_col not in data.columns:
                raise InferenceError(
                    f"cluster column {cluster_col!r} is not in the panel (it keeps only declared "
                    f"columns: {format_examples(list(map(str, data.columns)), 20)}). Declare it when "
                    f"building the Panel, e.g. covariates=[..., {cluster_col!r}]; with the "
                    "estimator's covariates=None it is then used for clustering only."
                )
            per_unit = data.groupby(panel.unit, sort=False)[cluster_col].nunique()
            if (per_unit > 1).any():
                raise InferenceError(
                    f"cluster column {cluster_col!r} changes over time within "
                    f"{int((per_unit > 1).sum())} unit(s); clusters must contain whole units."
                )
            labels = data.groupby(panel.unit, sort=False)[cluster_col].first().reindex(cells.units)
            cluster, n_clusters = cluster_codes(labels.to_numpy(), cells.n_units)
            if n_clusters < 30:
                msg = (f"Only {n_clusters} clusters in {cluster_col!r}: cluster-robust SEs and the "
                       "cluster multiplier bootstrap can be unreliable with few clusters.")
                warnings.warn(msg, FewClustersWarning, stacklevel=2)
                flags.append(Flag("inference", "medium", msg, source="few_clusters"))
        for g in notes["singleton_cohorts"]:
            msg = (f"Cohort {pd.Period(ordinal=g, freq=panel.freq)} has a single unit: the variance of its "
                   "treated-side mean change is not identified, so the SEs of its ATT(g,t) (and of "
                   "aggregates using them) only reflect the comparison group and understate uncertainty.")
            warnings.warn(msg, DiagnosticWarning, stacklevel=2)
            flags.append(Flag("data", "medium", msg, source="singleton_cohort"))
        for key, what in (("dropped_units_unbalanced", "units dropped to balance the panel"),
                          ("dropped_units_no_pre_period", "units dropped (no pre-treatment period)"),
                          ("dropped_periods_no_comparison", "periods dropped (no comparison units)")):
            if notes[key]:
                flags.append(Flag("data", "low", f"{notes[key]} {what}.", source="callaway_santanna"))

        if isinstance(spec_inf, MultiplierBootstrap):
            c = f", clustered by {cluster_col}" if cluster is not None else ""
            info = InferenceInfo("MultiplierBootstrap",
                                 f"multiplier bootstrap on influence functions ({spec_inf.reps} reps, "
                                 f"Rademacher weights, seed {spec_inf.seed}{c}); SE = IQR/1.349; "
                                 "simultaneous bands by sup-t", clusters=n_clusters, reps=spec_inf.reps,
                                 seed=spec_inf.seed)
        elif cluster is not None:
            info = InferenceInfo("Clustered", f"cluster-robust influence-function SEs by {cluster_col} "
                                 f"({n_clusters} clusters), normal reference", clusters=n_clusters)
        else:
            info = InferenceInfo("Analytic", "analytic influence-function SEs (units independent), "
                                 "normal reference")
        is_treated = ~np.isnan(cells.unit_cohort)
        cohort_period = {g: cells.period(g) for g in np.unique(cells.group)}
        if calendar is False:
            check, cal_flags = calendar_check(panel, None, calendar=False)
        else:  # staggered: each treated unit's cohort date; comparison = units never used as treated
            labels = {g: str(p) for g, p in cohort_period.items()}
            dates = {str(u): labels[c] for u, c in zip(cells.units[is_treated], cells.unit_cohort[is_treated])}
            check, cal_flags = calendar_check(
                panel, dates, outcome=outcome, treated_units=list(dates),
                comparison_units=[str(u) for u in cells.units[~is_treated]], calendar=calendar, design="did")
        spec = {"estimator": self.name, "control": self.control, "estimation": self.estimation,
                "covariates": list(covs), "anticipation": self.anticipation,
                "base_period": self.base_period, "aggregation": self.aggregation,
                "unbalanced": self.unbalanced, "weights": self.weights, "outcome": outcome,
                "inference": repr(spec_inf), "alpha": a}
        state = CSState(
            cells=cells, inference=spec_inf, inference_info=info, cluster=cluster,
            bootstrap_cells=self.bootstrap_cells, outcome=outcome,
            outcome_label=panel.outcome_kinds[outcome].label if outcome in panel.outcome_kinds else outcome,
            spec=spec, notes=notes, base_diagnostics=(check,) if check is not None else (),
            base_flags=tuple(flags) + tuple(cal_flags),
            intervention="staggered: " + ", ".join(
                f"{p} ({int(np.sum(cells.unit_cohort == g))} units)" for g, p in cohort_period.items()),
            n_obs=cells.n_units * panel.n_periods, n_periods=panel.n_periods,
            extra_info=_info_lines(self, covs, notes, len(cells.att), cells, cluster_col if cluster is not None else None),
        )
        return build_result(state, self.aggregation, alpha=a, min_e=self.min_e, max_e=self.max_e,
                            balance_e=self.balance_e, panel=panel)


def _info_lines(est: CallawaySantAnna, covs: tuple[str, ...], notes: dict, n_cells: int,
                cells: GroupTimeCells, cluster_col: str | None) -> dict[str, str]:
    """Printable facts for the summary (one line each)."""
    info = {
        "comparison group": est.control.replace("_", "-") + " units",
        "2x2 estimator": {"dr": "doubly robust (Sant'Anna & Zhao 2020)", "ipw": "standardised IPW",
                          "reg": "outcome regression"}[est.estimation]
        + (f" with covariates {', '.join(covs)}" if covs else " (no covariates: difference in mean changes)"),
        "anticipation": f"{est.anticipation} period(s)",
        "ATT(g,t) cells": f"{n_cells} (table att_gt)",
    }
    dropped = [f"{notes[k]} {w}" for k, w in (("dropped_units_unbalanced", "unit(s) with missing cells"),
                                               ("dropped_units_no_pre_period", "unit(s) without a pre-period"),
                                               ("dropped_periods_no_comparison", "period(s) without comparison units"))
               if notes[k]]
    if dropped:
        info["dropped"] = "; ".join(dropped)
    if cluster_col:
        info["clusters"] = cluster_col
    return info


def callaway_santanna(panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
                      **options: Any) -> Any:
    """Fit :class:`CallawaySantAnna` with ``options`` (its parameters) in one call.

    Examples
    --------
    >>> res = callaway_santanna(panel, control="not_yet_treated", aggregation="dynamic")  # doctest: +SKIP
    """
    return CallawaySantAnna(**options).fit(panel, inference=inference, calendar=calendar, alpha=alpha)
