"""Kackar-Harville allowance for estimated covariance parameters, with Satterthwaite df.

A GLS fit computes its coefficients ``b(theta)`` and their model covariance ``V(theta)`` at an
*estimated* error-covariance parameter ``theta`` (AR coefficients, the AR(1)-plus-noise
``(phi, lam)``). Treating ``theta`` as known makes ``V`` too small in short series. Kackar & Harville
(1984) add the variance that ``b`` inherits from ``theta``:

    V_adj = V + J S J',   J = db/dtheta,   S = (-d^2 l / dtheta dtheta')^{-1},

with ``l`` the (restricted) profile log-likelihood, and the reference distribution of a
coefficient's t statistic is a t with Satterthwaite degrees of freedom

    df_j = 2 v_j^2 / (g_j' S g_j + 2 V_jj^2 / (n - k)),   v_j = V_jj + (J S J')_jj,   g_j = dV_jj/dtheta,

the smallest over the coefficients in focus, capped at the residual df ``n - k`` (Kenward & Roger
1997 motivate this df for REML fits). All derivatives are central differences with step ``h``
(default 1e-4) in whatever parametrisation the caller chooses (the ITS AR(p) fit uses
``atanh`` of the partial autocorrelations; the AR(1)-plus-noise fit ``(phi, lam)`` themselves).

This is the one implementation: the ITS backends' AR(p) GLS and GLM fits and
:mod:`evalint.inference.ar_noise` all call :func:`kackar_harville`.

References
----------
Kackar, R. N. & Harville, D. A. (1984). Approximations for standard errors of estimators of
    fixed and random effects in mixed linear models. *JASA* 79(388), 853-862.
Kenward, M. G. & Roger, J. H. (1997). Small sample inference for fixed effects from restricted
    maximum likelihood. *Biometrics* 53(3), 983-997.
Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance components.
    *Biometrics Bulletin* 2(6), 110-114.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["ProfileAt", "kackar_harville"]

#: ``theta -> (log-likelihood, coefficients b, model covariance V)`` of the GLS fit at ``theta``
ProfileAt = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


def kackar_harville(at: ProfileAt, theta: np.ndarray, focus: Sequence[int], resid_df: int, *, h: float = 1e-4
                    ) -> tuple[np.ndarray, float] | None:
    """``(J S J', Satterthwaite df)`` for coefficients computed at an estimated ``theta``.

    Parameters
    ----------
    at : callable
        ``at(theta)`` returns the (restricted) profile log-likelihood, the GLS coefficients (k,)
        and their model covariance (k, k) at ``theta``; it may raise ``LinAlgError``,
        ``ValueError`` or ``FloatingPointError`` (then there is no adjustment).
    theta : ndarray (p,)
        The estimate, interior to the parameter space (the caller drops parameters held at a
        bound).
    focus : sequence of int
        Coefficients whose df is computed; the smallest is returned.
    resid_df : int
        ``n - k``: the df of the unadjusted fit and the cap of the returned df.
    h : float
        Step of the central differences.

    Returns
    -------
    (ndarray (k, k), float) or None
        The extra covariance ``J S J'`` and the df; ``None`` when ``theta`` is empty, an
        evaluation fails, or the curvature is not negative definite.

    References
    ----------
    Kackar & Harville (1984); Kenward & Roger (1997); Satterthwaite (1946) (module docstring).
    """
    theta = np.asarray(theta, dtype=float)
    p = theta.shape[0]
    if p == 0:
        return None
    try:
        ll0, _, V0 = at(theta)
        E = np.eye(p) * h
        plus = [at(theta + E[i]) for i in range(p)]
        minus = [at(theta - E[i]) for i in range(p)]
        H = np.empty((p, p))
        for i in range(p):
            H[i, i] = (plus[i][0] - 2 * ll0 + minus[i][0]) / h ** 2
            for j in range(i):
                H[i, j] = H[j, i] = (at(theta + (E[i] + E[j]))[0] - plus[i][0] - plus[j][0] + ll0) / h ** 2
        S = np.linalg.inv(-H)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return None
    if not np.all(np.linalg.eigvalsh(S) > 0):
        return None
    J = np.column_stack([(plus[i][1] - minus[i][1]) / (2 * h) for i in range(p)])
    extra = J @ S @ J.T
    dfs = []
    for j in focus:
        v = V0[j, j] + extra[j, j]
        g = np.array([(plus[i][2][j, j] - minus[i][2][j, j]) / (2 * h) for i in range(p)])
        dfs.append(2 * v ** 2 / (float(g @ S @ g) + 2 * V0[j, j] ** 2 / resid_df))
    return extra, float(min(min(dfs), resid_df))
