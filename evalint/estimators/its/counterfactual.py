"""Counterfactual path, per-period effects and cumulative effect of an ITS fit (delta method).

With coefficients ``b`` (covariance ``V``), design row ``x_t`` and its counterfactual ``x0_t``
(the focus interruption's level/slope/ramp terms set to zero), the fitted and
no-intervention means are

* identity link: ``m_t = x_t'b``, ``m0_t = x0_t'b``;
* log link (count models, offset ``o_t``): ``m_t = exp(x_t'b + o_t)``, ``m0_t = exp(x0_t'b + o_t)``.

The effect in period t is ``m_t - m0_t`` (absolute) and ``m_t / m0_t - 1`` (percent). The
cumulative effect over the post window W is ``C = sum_{t in W} (m_t - m0_t)``. Standard errors
come from the delta method, ``se(g(b)) = sqrt(grad' V grad)`` with
``grad = x_t - x0_t`` (identity) or ``m_t x_t - m0_t x0_t`` (log), summed over W for C.
The counterfactual band is ``x0_t'b +/- c se(x0_t'b)`` on the link scale, transformed back
(so it stays positive for counts). Percent effects under a log link are
``exp((x_t - x0_t)'b) - 1`` with the interval transformed from the log scale.

References
----------
Zhang F, Wagner AK, Soumerai SB, Ross-Degnan D (2009). Methods for estimating confidence
intervals in interrupted time series analyses of health interventions. J Clin Epidemiol
62:143-148.
Lopez Bernal J, Cummins S, Gasparrini A (2017). Interrupted time series regression for the
evaluation of public health interventions: a tutorial. Int J Epidemiol 46:348-355.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from evalint.estimators.its.backends import ModelFit
from evalint.estimators.its.design import Design
from evalint.inference.normal import critical_value, wald

__all__ = ["CounterfactualResult", "counterfactual_effects"]


class CounterfactualResult:
    """The counterfactual path, per-period effects and cumulative effect of one ITS fit.

    The numbers are computed when the fit is made (numpy); the three tables are built from them
    on first access (a fleet of fits that reads only the headline never pays for them):

    * ``series``: time, observed, fitted, counterfactual, cf_low, cf_high, phase, fitted_row;
    * ``effects``: tidy rows, one per post period;
    * ``cumulative``: one tidy row, the cumulative effect over the post window
      (``cumulative_row`` holds the same values as a dict without building the frame).
    """

    def __init__(self, series: dict[str, Any], effects: dict[str, Any], cumulative: dict[str, Any]) -> None:
        self._series_cols = series
        self._effects_cols = effects
        self.cumulative_row = cumulative

    @cached_property
    def series(self) -> pd.DataFrame:
        return pd.DataFrame(self._series_cols)

    @cached_property
    def effects(self) -> pd.DataFrame:
        cols = dict(self._effects_cols)
        cols["time"] = cols["time"]().astype(str)
        return pd.DataFrame(cols)

    @cached_property
    def cumulative(self) -> pd.DataFrame:
        return pd.DataFrame([self.cumulative_row])


def _quad(G: np.ndarray, V: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", G, V, G), 0.0))


def counterfactual_effects(fit: ModelFit, design: Design, y: np.ndarray, focus: str, *,
                           alpha: float = 0.05, X_model: pd.DataFrame | None = None,
                           X_cf: pd.DataFrame | None = None, rows: np.ndarray | None = None,
                           post_start: int | None = None) -> CounterfactualResult:
    """Counterfactual path and effects of interruption ``focus``.

    Parameters
    ----------
    fit : ModelFit
    design : Design
        The design the fit used (for periods, phases and the focus interruption).
    y : array
        Observed outcome on every row of the design.
    focus : str
        Name of the interruption whose effect is reported.
    alpha : float
    X_model, X_cf : DataFrame, optional
        Model matrix and counterfactual matrix for the series (default: ``design.X`` and
        ``design.counterfactual([focus])``); the controlled ITS passes its own.
    rows : array of int, optional
        Rows of ``X_model`` that belong to the series (default: all).
    post_start : int, optional
        First post row within the series (default: the focus interruption's start).
    """
    cols = list(fit.params.index)
    b = fit.params.to_numpy()
    V = fit.cov.loc[cols, cols].to_numpy()
    X = (design.X if X_model is None else X_model)[cols].to_numpy(float)
    X0 = (design.counterfactual([focus]) if X_cf is None else X_cf)[cols].to_numpy(float)
    off = fit.offset
    if rows is not None:
        X, X0, off = X[rows], X0[rows], off[rows]
    crit = critical_value(alpha, fit.df)
    eta, eta0 = X @ b + off, X0 @ b + off
    se0 = _quad(X0, V)
    if fit.link == "log":
        m, m0 = np.exp(eta), np.exp(eta0)
        cf_lo, cf_hi = np.exp(eta0 - crit * se0), np.exp(eta0 + crit * se0)
        grad = m[:, None] * X - m0[:, None] * X0
    else:
        m, m0 = eta, eta0
        cf_lo, cf_hi = eta0 - crit * se0, eta0 + crit * se0
        grad = X - X0
    inter = next(i for i in design.interruptions if i.name == focus)
    start = inter.start if post_start is None else post_start
    n = len(m)
    post = np.arange(n) >= start
    periods = design.periods
    series = {
        "time": periods, "observed": np.asarray(y, dtype=float), "fitted": m,
        "counterfactual": m0, "cf_low": cf_lo, "cf_high": cf_hi, "phase": design.phase,
        "fitted_row": design.include,
    }
    idx = np.flatnonzero(post)
    eff = m[idx] - m0[idx]
    se_eff = _quad(grad[idx], V)
    stat, p, lo, hi = wald(eff, se_eff, alpha, fit.df)
    D = (X - X0)[idx]
    if fit.link == "log":
        lin = D @ b
        se_lin = _quad(D, V)
        pct = 100 * (np.exp(lin) - 1)
        pct_lo = 100 * (np.exp(lin - crit * se_lin) - 1)
        pct_hi = 100 * (np.exp(lin + crit * se_lin) - 1)
    else:
        pct = 100 * eff / m0[idx]
        gpct = D / m0[idx][:, None] - (eff / m0[idx] ** 2)[:, None] * X0[idx]
        se_pct = 100 * _quad(gpct, V)
        pct_lo, pct_hi = pct - crit * se_pct, pct + crit * se_pct
    nan = np.full(len(idx), np.nan)
    effects = {
        "term": "effect", "estimate": eff, "std_error": se_eff, "statistic": stat, "p_value": p,
        "conf_low": lo, "conf_high": hi, "group": None, "time": lambda: periods[idx],
        "rel_time": (idx - inter.index).astype(float), "band_low": nan, "band_high": nan,
        "percent": pct, "percent_low": pct_lo, "percent_high": pct_hi,
        "observed": np.asarray(y, dtype=float)[idx], "fitted": m[idx], "counterfactual": m0[idx],
    }
    g_sum = grad[idx].sum(axis=0)
    c = float(eff.sum())
    se_c = float(np.sqrt(max(g_sum @ V @ g_sum, 0.0)))
    cstat, cp, clo, chi = wald(c, se_c, alpha, fit.df)
    cf_total = float(m0[idx].sum())
    if fit.link == "log":
        g_cf = (m0[idx][:, None] * X0[idx]).sum(axis=0)
    else:
        g_cf = X0[idx].sum(axis=0)
    gp = g_sum / cf_total - c * g_cf / cf_total ** 2
    se_p = 100 * float(np.sqrt(max(gp @ V @ gp, 0.0)))
    cumulative = {
        "term": "cumulative", "estimate": c, "std_error": se_c, "statistic": cstat, "p_value": cp,
        "conf_low": clo, "conf_high": chi, "group": None, "time": f"{periods[idx[0]]}..{periods[idx[-1]]}",
        "rel_time": np.nan, "band_low": np.nan, "band_high": np.nan,
        "periods": int(len(idx)), "observed_total": float(np.asarray(y, float)[idx].sum()),
        "fitted_total": float(m[idx].sum()), "counterfactual_total": cf_total,
        "percent": 100 * c / cf_total, "percent_low": 100 * c / cf_total - crit * se_p,
        "percent_high": 100 * c / cf_total + crit * se_p,
    }
    return CounterfactualResult(series=series, effects=effects, cumulative=cumulative)
