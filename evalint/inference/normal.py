"""Wald-type statistics, p-values and intervals from an estimate and its standard error.

Every estimator turns (estimate, se[, df]) into statistic, p-value and confidence
interval here, so the same convention holds everywhere: normal reference distribution
unless degrees of freedom are given, then Student t.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special

from evalint._distributions import norm_ppf, t_ppf
from evalint._typing import check_alpha

__all__ = ["wald", "critical_value"]


def critical_value(alpha: float, df: float | None = None) -> float:
    """Two-sided critical value: z_{1-alpha/2}, or t_{df, 1-alpha/2} when ``df`` is given."""
    a = check_alpha(alpha)
    if df is None or not np.isfinite(df):
        return _critical(a, None)
    return _critical(a, float(df))


@lru_cache(maxsize=256)
def _critical(a: float, df: float | None) -> float:
    """The quantile, computed once per (alpha, df): thousands of small fits ask for the same one."""
    if df is None:
        return float(norm_ppf(1 - a / 2))
    return float(t_ppf(1 - a / 2, df))


def wald(estimate: Any, se: Any, alpha: float = 0.05, df: float | None = None) -> tuple[Any, Any, Any, Any]:
    """Statistic, two-sided p-value and (1 - alpha) interval for estimate/se.

    Parameters
    ----------
    estimate, se : float or array-like
    alpha : float
    df : float, optional
        Degrees of freedom for a t reference distribution.

    Returns
    -------
    statistic, p_value, conf_low, conf_high : arrays (or floats for scalar input)
        NaN where ``se`` is missing, zero or not finite.
    """
    est = np.asarray(estimate, dtype=float)
    s = np.asarray(se, dtype=float)
    ok = np.isfinite(s) & (s > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(ok, est / np.where(ok, s, 1.0), np.nan)
    # scipy.special's ndtr/stdtr are what stats.norm.sf / stats.t.sf evaluate (same numbers bit for
    # bit, tests/unit/test_wald_special.py) without the distribution wrapper's per-call overhead
    if df is None or not np.isfinite(df):
        p = 2 * special.ndtr(-np.abs(stat))
    else:
        p = 2 * special.stdtr(df, -np.abs(stat))
    crit = critical_value(alpha, df)
    lo = np.where(ok, est - crit * s, np.nan)
    hi = np.where(ok, est + crit * s, np.nan)
    if est.ndim == 0:
        return float(stat), float(p), float(lo), float(hi)
    return stat, p, lo, hi
