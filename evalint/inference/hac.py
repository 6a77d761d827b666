"""Newey-West heteroskedasticity and autocorrelation consistent (HAC) covariance.

The sandwich ``V = B M B`` with bread ``B`` (the inverse Hessian, e.g. ``(X'X)^-1`` for OLS
or ``(X'WX)^-1`` for a GLM) and the Bartlett-kernel meat

    M = sum_{j=-L}^{L} w_j sum_t s_t s_{t-j}',   w_j = 1 - |j| / (L + 1),

built from the score rows ``s_t`` (``x_t e_t`` for OLS). This follows R's
``sandwich::NeweyWest`` / ``meatHAC`` exactly, including its options:

* ``adjust=True`` multiplies the meat by ``n / (n - k)`` (the small-sample factor);
* ``prewhite=True`` fits a VAR(1) without intercept to the scores by least squares,
  builds the meat from its residuals (``n - 1`` rows) and recolours it with
  ``D = (I - A)^-1``: ``M = D M* D'`` (Andrews & Monahan 1992);
* the automatic lag: ``lag_rule="nw1994"`` gives ``floor(4 (n/100)^(2/9))`` (the fixed
  rule of Newey & West 1994, the default of :class:`evalint.inference.NeweyWest`);
  ``lag_rule="bwNeweyWest"`` gives the data-driven bandwidth of Newey & West (1994) as in
  ``sandwich::bwNeweyWest`` (truncated to an integer, as ``NeweyWest`` does).

Scores may be summed within time periods first (``groups=``), which gives the
Driscoll-Kraay form used by the controlled ITS (two series stacked).

References
----------
Newey WK, West KD (1987). A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix. Econometrica 55:703-708.
Newey WK, West KD (1994). Automatic lag selection in covariance matrix estimation. Review of
Economic Studies 61:631-653.
Andrews DWK, Monahan JC (1992). An improved heteroskedasticity and autocorrelation consistent
covariance matrix estimator. Econometrica 60:953-966.
Zeileis A (2004). Econometric computing with HC and HAC covariance matrix estimators. Journal
of Statistical Software 11(10).
"""

from __future__ import annotations

import math
from typing import Literal, cast

import numpy as np

from evalint._typing import FloatArray
from evalint.errors import InferenceError, SpecificationError

__all__ = ["newey_west_lag", "bw_newey_west", "hac_meat", "hac_covariance"]


def newey_west_lag(n: int) -> int:
    """The fixed lag rule floor(4 (n/100)^(2/9)) of Newey & West (1994)."""
    if n < 2:
        raise InferenceError(f"Newey-West needs at least 2 observations; got {n}.")
    return int(math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def _var1(u: FloatArray) -> tuple[FloatArray, FloatArray]:
    """VAR(1) without intercept by OLS: u_t = A u_{t-1} + e_t; returns (A, residuals)."""
    y, x = u[1:], u[:-1]
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)   # y = x @ coef  ->  A = coef'
    return cast(FloatArray, coef.T), y - x @ coef


def bw_newey_west(scores: FloatArray, *, prewhite: bool = True, weights: FloatArray | None = None) -> float:
    """Data-driven Bartlett bandwidth of Newey & West (1994), as ``sandwich::bwNeweyWest``.

    Parameters
    ----------
    scores : (n, k) array
        Score rows ``s_t``.
    prewhite : bool
        Prewhiten with a VAR(1) first (R's default).
    weights : (k,) array, optional
        Weights combining the score columns; default 1 for every column except the first
        (taken to be the intercept), as R does when the model has an intercept.
    """
    u = np.asarray(scores, dtype=float)
    n, k = u.shape
    if weights is None:
        weights = np.ones(k)
        weights[0] = 0.0
    if prewhite:
        _, u = _var1(u)
    m_n = n - int(prewhite)
    m = int(math.floor((3 if prewhite else 4) * (m_n / 100.0) ** (2.0 / 9.0)))
    hw = u @ np.asarray(weights, dtype=float)
    sig = np.array([np.sum(hw[: m_n - j] * hw[j:]) / m_n for j in range(m + 1)])
    s0 = sig[0] + 2.0 * sig[1:].sum()
    s1 = 2.0 * np.sum(np.arange(1, m + 1) * sig[1:])
    if s0 == 0:
        return 0.0
    return float(1.1447 * ((s1 / s0) ** 2) ** (1.0 / 3.0) * (m_n + int(prewhite)) ** (1.0 / 3.0))


def hac_meat(scores: FloatArray, lags: int, *, prewhite: bool = False, adjust: bool = False,
             n_params: int | None = None) -> FloatArray:
    """The Bartlett HAC meat in sum form (``n`` times R's ``meatHAC``).

    Parameters
    ----------
    scores : (n, k) array
        Score rows in time order.
    lags : int
        Truncation lag L (weights 1 - j/(L+1), j = 0..L).
    prewhite : bool
        VAR(1) prewhitening (see module docstring).
    adjust : bool
        Multiply by n/(n - n_params).
    n_params : int, optional
        Number of parameters for ``adjust`` (default: columns of ``scores``).
    """
    u = np.asarray(scores, dtype=float)
    if u.ndim != 2:
        raise InferenceError("scores must be a 2-d array (observations x parameters).")
    n_orig, k = u.shape
    if lags < 0:
        raise SpecificationError(f"lags must be >= 0; got {lags}.")
    A = None
    if prewhite:
        if n_orig < k + 3:
            raise InferenceError(f"prewhitening needs more observations ({n_orig}) than parameters + 2 ({k + 2}).")
        A, u = _var1(u)
    n = u.shape[0]
    meat = u.T @ u
    for j in range(1, min(lags, n - 1) + 1):
        wj = 1.0 - j / (lags + 1.0)
        g = u[:-j].T @ u[j:]
        meat += wj * (g + g.T)
    if adjust:
        kk = k if n_params is None else n_params
        if n_orig <= kk:
            raise InferenceError(f"small-sample adjustment needs n > k; got n={n_orig}, k={kk}.")
        meat *= n_orig / (n_orig - kk)
    if A is not None:
        try:
            D = np.linalg.inv(np.eye(k) - A)
        except np.linalg.LinAlgError:
            raise InferenceError("prewhitening VAR(1) has a unit root (I - A singular); use prewhite=False.") from None
        meat = D @ meat @ D.T
    return cast(FloatArray, meat)


def hac_covariance(
    scores: FloatArray,
    bread: FloatArray,
    *,
    lags: int | None = None,
    lag_rule: Literal["nw1994", "bwNeweyWest"] = "nw1994",
    prewhite: bool = False,
    adjust: bool = False,
    groups: np.ndarray | None = None,
) -> tuple[FloatArray, int]:
    """Newey-West covariance ``bread @ meat @ bread`` and the lag used.

    Parameters
    ----------
    scores : (n, k) array
        Score rows (``x_t * e_t`` for OLS), in time order.
    bread : (k, k) array
        Inverse Hessian in sum form (``(X'X)^-1`` for OLS; ``(X'WX)^-1`` for a GLM with
        scores ``x_t (y_t - mu_t) (dmu/deta) / V(mu_t)``).
    lags : int, optional
        Truncation lag; ``None`` applies ``lag_rule`` to the number of time points.
    lag_rule : {"nw1994", "bwNeweyWest"}
    prewhite, adjust : bool
        As R's ``sandwich::NeweyWest``.
    groups : array of int, optional
        Time index of each row; scores are summed within each time point before the
        kernel is applied (for several series observed at the same times). ``adjust``
        then uses the number of rows.

    Returns
    -------
    (covariance, lags)
    """
    s = np.asarray(scores, dtype=float)
    n_rows, k = s.shape
    if groups is not None:
        g = np.asarray(groups)
        uniq, inv = np.unique(g, return_inverse=True)
        agg = np.zeros((len(uniq), k))
        np.add.at(agg, inv, s)
        s = agg
    if lags is None:
        if lag_rule == "nw1994":
            lags = newey_west_lag(s.shape[0])
        elif lag_rule == "bwNeweyWest":
            lags = int(math.floor(bw_newey_west(s, prewhite=prewhite)))
        else:
            raise SpecificationError(f"lag_rule={lag_rule!r}; use 'nw1994' or 'bwNeweyWest'.")
    meat = hac_meat(s, int(lags), prewhite=prewhite, adjust=False)
    if adjust:
        if n_rows <= k:
            raise InferenceError(f"small-sample adjustment needs n > k; got n={n_rows}, k={k}.")
        meat *= n_rows / (n_rows - k)
    B = np.asarray(bread, dtype=float)
    V = B @ meat @ B
    return (V + V.T) / 2.0, int(lags)
