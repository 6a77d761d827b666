"""The ridge-augmented synthetic control weights and the choice of their ridge penalty.

For one treated unit with pre-period outcomes :math:`X_1` (T0) and donors' :math:`X_0`
(N0 x T0), the augmented weights are (BFR 2021, eq. 12 with a ridge outcome model)

.. math:: \\gamma = w^{scm} + \\check X_0 (\\check X_0'\\check X_0 + \\lambda I)^{-1}(X_1 - X_0' w^{scm}),

where :math:`w^{scm}` are the simplex SC weights and :math:`\\check X_0` the donors'
pre-period outcomes centred by their donor mean (:func:`ridge_ascm_weights`).

:math:`\\lambda` is chosen as in the ``augsynth`` package (:func:`choose_lambda`): a grid
:math:`\\lambda_{max} 10^{-8 \\dots 0}` (:math:`\\lambda_{max}` the largest squared singular
value of :math:`\\check X_0`), each scored by rolling-origin cross-validation over the
pre-period (fit on periods 1..i, predict period i+1), keeping the largest :math:`\\lambda`
within one standard error of the minimum. The estimator using them is
:class:`~evalint.estimators.synth.augmented.estimator.AugmentedSyntheticControl`.

References
----------
Ben-Michael, E., Feller, A. & Rothstein, J. (2021). The augmented synthetic control method.
*JASA* 116(536), 1789-1803.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalint._typing import FloatArray
from evalint.estimators.synth.simplex import simplex_least_squares

__all__ = ["choose_lambda", "ridge_ascm_weights"]


def ridge_ascm_weights(X0: FloatArray, X1: FloatArray, lam: float) -> tuple[FloatArray, FloatArray]:
    """Augmented weights gamma and the SC weights for donors ``X0`` (N0 x T0) and target ``X1``.

    Returns
    -------
    gamma : array (N0,)  (sums to one, may be negative)
    w_scm : array (N0,)
    """
    w = simplex_least_squares(X0.T, X1).weights
    Xc = X0 - X0.mean(axis=0, keepdims=True)
    imbalance = X1 - X0.T @ w
    T0 = X0.shape[1]
    coef = np.linalg.solve(Xc.T @ Xc + lam * np.eye(T0), imbalance)
    return w + Xc @ coef, w


def _lambda_grid(X0: FloatArray, n: int = 20, min_ratio: float = 1e-8) -> FloatArray:
    Xc = X0 - X0.mean(axis=0, keepdims=True)
    lam_max = float(np.linalg.svd(Xc, compute_uv=False)[0] ** 2) or 1.0
    return lam_max * 10.0 ** np.linspace(np.log10(min_ratio), 0.0, n)


def choose_lambda(X0: FloatArray, X1: FloatArray, grid: FloatArray | None = None) -> tuple[float, pd.DataFrame]:
    """Rolling-origin CV over the pre-period with the one-standard-error rule (as augsynth)."""
    grid = _lambda_grid(X0) if grid is None else np.asarray(grid, dtype=float)
    T0 = X0.shape[1]
    if T0 < 3:
        return float(grid[-1]), pd.DataFrame({"lambda": grid, "cv_error": np.nan, "cv_se": np.nan})
    errs = np.empty((grid.size, T0 - 1))
    for i in range(1, T0):
        # SC weights do not depend on lambda; the ridge step for every lambda at once via the SVD
        X0i, X1i = X0[:, :i], X1[:i]
        w = simplex_least_squares(X0i.T, X1i).weights
        Xc = X0i - X0i.mean(axis=0, keepdims=True)
        U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
        proj = Vt @ (X1i - X0i.T @ w)  # (r,)
        shrink = S[None, :] / (S[None, :] ** 2 + grid[:, None])  # (n_lambda, r)
        gammas = w[None, :] + (shrink * proj[None, :]) @ U.T  # (n_lambda, N0)
        errs[:, i - 1] = (X1[i] - gammas @ X0[:, i]) ** 2
    mean, se = errs.mean(axis=1), errs.std(axis=1, ddof=1) / np.sqrt(errs.shape[1])
    kmin = int(np.argmin(mean))
    ok = np.flatnonzero(mean <= mean[kmin] + se[kmin])
    lam = float(grid[ok.max()])
    return lam, pd.DataFrame({"lambda": grid, "cv_error": mean, "cv_se": se})
