"""Fixed-b critical values for Bartlett-kernel HAC t statistics of a regression coefficient.

Kiefer & Vogelsang (2005) show that when the HAC bandwidth is a fixed fraction ``b = M/T`` of
the sample, the t statistic built on the Bartlett-kernel variance has a non-normal limit that
does not depend on the serial correlation of the errors (it is pivotal) but does depend on
``b`` and, with deterministic regressors such as a trend and a step, on the regressors
(Bunzel & Vogelsang 2005). Its quantiles are larger than normal ones, which is what corrects
the well-known under-coverage of Newey-West intervals in short series.

Because the limit is the same for any error autocorrelation, it can be simulated under
independent standard normal errors with the actual design: for each draw ``e``, the OLS
estimation error ``c'(X'X)^-1 X'e`` over its Bartlett-HAC standard error from the residuals
``(I - H) e`` with the same lag. The critical value is the ``1 - alpha`` quantile of the
absolute statistic. Draws use a fixed seed, so results are reproducible bit for bit.

References
----------
Kiefer NM, Vogelsang TJ (2005). A new asymptotic theory for heteroskedasticity-autocorrelation
robust tests. Econometric Theory 21:1130-1164.
Bunzel H, Vogelsang TJ (2005). Powerful trend function tests that are robust to strong serial
correlation, with an application to the Prebisch-Singer hypothesis. Journal of Business &
Economic Statistics 23:381-394.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from evalint._distributions import norm_ppf, t_ppf
from evalint._typing import FloatArray, check_alpha
from evalint.errors import InferenceError

__all__ = ["fixed_b_critical_value", "fixed_b_lags", "equivalent_t_df", "FIXED_B_RATIO"]

#: bandwidth ratio b = (lags + 1) / T used when no lag is given
FIXED_B_RATIO = 0.3
_SEED = 20050101


def fixed_b_lags(n: int, ratio: float = FIXED_B_RATIO) -> int:
    """Bartlett truncation lag for bandwidth ratio ``ratio``: M = ratio * n, lag = M - 1 (at least 1)."""
    return max(1, int(math.ceil(ratio * n)) - 1)


def fixed_b_critical_value(X: FloatArray, column: int, lags: int, alpha: float = 0.05, *,
                           reps: int = 4000, times: np.ndarray | None = None) -> float:
    """Simulated fixed-b two-sided critical value of the HAC t statistic of coefficient ``column``.

    Parameters
    ----------
    X : (n, k) array
        The (weighted) design on the fitted rows.
    column : int
        The coefficient tested.
    lags : int
        Bartlett truncation lag of the HAC estimator.
    alpha : float
    reps : int
        Simulation draws (fixed seed).
    times : array of int, optional
        Calendar positions of the rows (gaps keep lag distances as calendar distances).
    """
    a_ = check_alpha(alpha)
    X = np.asarray(X, dtype=float)
    n, k = X.shape
    if n <= k + 1:
        raise InferenceError(f"fixed-b critical values need more rows ({n}) than coefficients + 1 ({k + 1}).")
    B = np.linalg.inv(X.T @ X)
    a = B[:, column]
    xa = X @ a                                   # (n,): c'(X'X)^-1 x_t
    rng = np.random.default_rng(_SEED)
    E = rng.standard_normal((reps, n))
    H = X @ B @ X.T
    R = E - E @ H                                # residuals (I - H) e (H symmetric)
    num = E @ xa
    pos = np.arange(n) if times is None else np.asarray(times) - np.asarray(times)[0]
    T = int(pos[-1]) + 1
    V = np.zeros((reps, T))
    V[:, pos] = R * xa
    var = np.sum(V * V, axis=1)
    for j in range(1, min(lags, T - 1) + 1):
        var += 2.0 * (1.0 - j / (lags + 1.0)) * np.sum(V[:, :-j] * V[:, j:], axis=1)
    t = np.abs(num) / np.sqrt(np.maximum(var, 1e-300))
    return float(np.quantile(t, 1 - a_))


def equivalent_t_df(crit: float, alpha: float = 0.05) -> float | None:
    """Degrees of freedom of the t distribution whose two-sided critical value is ``crit`` (None: normal)."""
    z = norm_ppf(1 - alpha / 2)
    if crit <= z * (1 + 1e-9):
        return None
    def f(d: float) -> float:
        return float(t_ppf(1 - alpha / 2, d) - crit)

    if f(0.05) < 0:
        return 0.05
    return float(optimize.brentq(f, 0.05, 1e7))
