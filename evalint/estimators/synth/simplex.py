"""The one simplex-constrained weight solver of the synthetic-control family.

Every synthetic-control estimator needs donor weights on the unit simplex,

.. math::

    \\min_{w \\ge 0,\\ 1'w = 1,\\ c}\\ \\sum_t v_t\\,(b_t - c - a_t' w)^2 + \\rho\\,\\|w\\|^2 ,

with ``A`` (rows = periods or predictors, columns = donors), target ``b`` (the treated
unit), optional row weights ``v`` (the predictor weights V of Abadie et al.), optional
ridge ``rho`` and an optional free intercept ``c`` (de-meaned synthetic control, SDID).

:func:`simplex_least_squares` solves it *exactly* (to machine precision) by a reduction
to non-negative least squares: with :math:`C = [\\,\\sqrt{v}\\,(A - b1');\\ \\sqrt{\\rho} I\\,]`
the objective is the homogeneous quadratic :math:`\\|Cw\\|^2` on the simplex, and the
minimiser of :math:`\\|Cu\\|^2 + (1'u - 1)^2` over :math:`u \\ge 0` is
:math:`u^* = s\\,w^*` with :math:`s = 1/(1 + \\|Cw^*\\|^2)`, so :math:`w^* = u^*/1'u^*`.
The NNLS problem is solved by the Lawson–Hanson active-set algorithm
(:func:`scipy.optimize.nnls`), which terminates finitely at the exact KKT point. An
intercept is handled by centring the rows (the optimal ``c`` is the mean residual).

:func:`simplex_least_squares_batch` solves many such problems (placebo fits, many
treated units). :func:`frank_wolfe_simplex` is the Frank–Wolfe routine of the
``synthdid`` package (Arkhangelsky et al. 2021, Algorithm 1 footnote; R function
``sc.weight.fw``) for estimators that must reproduce its *approximate* solution, and
:func:`sparsify_weights` its sparsification step.

References
----------
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *JASA* 105(490), 493-505.
Lawson, C. L. & Hanson, R. J. (1974). *Solving Least Squares Problems*, ch. 23 (NNLS).
Wolfe, P. (1976). Finding the nearest point in a polytope. *Math. Programming* 11, 128-149.
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021). Synthetic
difference-in-differences. *AER* 111(12), 4088-4118.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from evalint._typing import FloatArray
from evalint.errors import SpecificationError

__all__ = [
    "SimplexSolution",
    "frank_wolfe_simplex",
    "simplex_least_squares",
    "simplex_least_squares_batch",
    "simplex_objective",
    "simplex_weights_from_differences",
    "sparsify_weights",
]


@dataclass(frozen=True)
class SimplexSolution:
    """Solution of one simplex-constrained least-squares problem.

    Attributes
    ----------
    weights : numpy.ndarray
        Donor weights, non-negative, summing to one (length J).
    intercept : float
        The fitted intercept ``c`` (0.0 when ``intercept=False``).
    objective : float
        :math:`\\sum_t v_t (b_t - c - a_t'w)^2 + \\rho\\|w\\|^2` at the solution.
    iterations : int
        Solver iterations (Frank–Wolfe steps; 0 for the exact solver, whose count
        scipy does not report).
    converged : bool
    method : str
        ``"nnls-exact"`` or ``"frank-wolfe"``.
    """

    weights: FloatArray
    intercept: float
    objective: float
    iterations: int
    converged: bool
    method: str


def _as_problem(A: object, b: object, row_weights: object) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    A_arr = np.asarray(A, dtype=float)
    b_arr = np.asarray(b, dtype=float)
    if A_arr.ndim != 2:
        raise SpecificationError(f"A must be a 2-D array (rows x donors); got shape {A_arr.shape}.")
    if b_arr.ndim != 1 or b_arr.shape[0] != A_arr.shape[0]:
        raise SpecificationError(
            f"b must be a 1-D array with one value per row of A ({A_arr.shape[0]}); got shape {b_arr.shape}."
        )
    if A_arr.shape[1] < 1:
        raise SpecificationError("A has no columns (donors); the simplex problem needs at least one.")
    if not (np.all(np.isfinite(A_arr)) and np.all(np.isfinite(b_arr))):
        raise SpecificationError("A and b must be finite (no NaN/inf); list and fix the missing cells first.")
    v = None
    if row_weights is not None:
        v = np.asarray(row_weights, dtype=float)
        if v.shape != (A_arr.shape[0],) or np.any(v < 0) or not np.all(np.isfinite(v)):
            raise SpecificationError(
                f"row_weights must be {A_arr.shape[0]} finite non-negative numbers; got shape {v.shape}."
            )
    return A_arr, b_arr, v


def simplex_objective(A: FloatArray, b: FloatArray, weights: FloatArray, *, ridge: float = 0.0,
                      intercept: bool = False, row_weights: FloatArray | None = None) -> tuple[float, float]:
    """Objective value and optimal intercept of given ``weights`` (see module docstring).

    Returns
    -------
    (objective, intercept) : tuple of float
    """
    A, b, v = _as_problem(A, b, row_weights)
    w = np.asarray(weights, dtype=float)
    r = b - A @ w
    vv = np.ones_like(r) if v is None else v
    c = float(np.sum(vv * r) / np.sum(vv)) if intercept and np.sum(vv) > 0 else 0.0
    return float(np.sum(vv * (r - c) ** 2) + ridge * np.sum(w * w)), c


def simplex_least_squares(
    A: FloatArray,
    b: FloatArray,
    *,
    ridge: float = 0.0,
    intercept: bool = False,
    row_weights: FloatArray | None = None,
    weights_init: FloatArray | None = None,
    tol: float | None = None,
    max_iter: int | None = None,
) -> SimplexSolution:
    """Exact simplex-constrained (ridge) least squares.

    Solves :math:`\\min_{w \\in \\Delta, c} \\sum_t v_t (b_t - c - a_t'w)^2 + \\rho\\|w\\|^2`
    where :math:`\\Delta = \\{w \\ge 0, 1'w = 1\\}`.

    Parameters
    ----------
    A : array (T, J)
        Rows are periods (or predictors), columns donors.
    b : array (T,)
        The treated unit's values on the same rows.
    ridge : float
        :math:`\\rho \\ge 0`, penalty on :math:`\\|w\\|^2`.
    intercept : bool
        Fit a free intercept ``c`` (de-meaned / SDID-style unit weights).
    row_weights : array (T,), optional
        Non-negative row weights :math:`v_t` (the diagonal of the predictor weights V).
    weights_init : array (J,), optional
        Accepted for API symmetry with :func:`frank_wolfe_simplex`; the exact solver does
        not need a starting point and ignores it.
    tol : float, optional
        Passed to :func:`scipy.optimize.nnls` as ``atol`` (default: scipy's).
    max_iter : int, optional
        Passed to :func:`scipy.optimize.nnls` as ``maxiter`` (default: 3 J).

    Returns
    -------
    SimplexSolution

    Notes
    -----
    The reduction to NNLS (see module docstring) is exact for any ``A``, rank-deficient or
    not; when the minimiser is not unique (the treated unit strictly inside the donors'
    convex hull with more donors than rows) one minimiser is returned. The problem is
    rescaled internally so that the largest column of :math:`C` has unit norm, which
    leaves :math:`w^*` unchanged and keeps :math:`s` in [1/2, 1].

    References
    ----------
    Lawson & Hanson (1974), ch. 23; Abadie, Diamond & Hainmueller (2010).
    """
    A, b, v = _as_problem(A, b, row_weights)
    if ridge < 0 or not np.isfinite(ridge):
        raise SpecificationError(f"ridge must be a finite number >= 0; got {ridge!r}.")
    del weights_init  # the exact solver needs no start
    _T, J = A.shape
    C = A - b[:, None]
    if intercept:
        if v is None:
            C = C - C.mean(axis=0, keepdims=True)
        elif np.sum(v) > 0:
            C = C - (v @ C / np.sum(v))[None, :]
    if v is not None:
        C = np.sqrt(v)[:, None] * C
    if ridge > 0:
        C = np.vstack([C, np.sqrt(ridge) * np.eye(J)])
    if J == 1:
        w = np.ones(1)
    else:
        w = _polish(C, simplex_weights_from_differences(C, tol=tol, max_iter=max_iter))
    obj, c = simplex_objective(A, b, w, ridge=ridge, intercept=intercept, row_weights=v)
    return SimplexSolution(weights=w, intercept=c, objective=obj, iterations=0, converged=True,
                           method="nnls-exact")


def simplex_weights_from_differences(C: FloatArray, *, tol: float | None = None,
                                     max_iter: int | None = None) -> FloatArray:
    """Minimiser of :math:`\\|Cw\\|^2` over the simplex (the core of the exact solver).

    ``C`` (rows x J) is the already formed difference matrix
    :math:`\\sqrt{v}(A - b1')` (centred and/or stacked with :math:`\\sqrt{\\rho}I` as
    needed). No input checks: for inner loops (nested V, placebos) that call it
    thousands of times; everyone else should call :func:`simplex_least_squares`.
    """
    J = C.shape[1]
    if J == 1:
        return np.ones(1)
    scale = float(np.max(np.sqrt(np.einsum("ij,ij->j", C, C))))
    E = np.empty((C.shape[0] + 1, J))
    E[:-1] = C / scale if scale > 0 else C
    E[-1] = 1.0
    f = np.zeros(E.shape[0])
    f[-1] = 1.0
    if tol is None:
        u, _ = nnls(E, f, maxiter=max_iter if max_iter is not None else max(3 * J, 50))
    else:
        u, _ = nnls(E, f, maxiter=max_iter if max_iter is not None else max(3 * J, 50), atol=tol)
    total = float(u.sum())
    if not total > 0:  # cannot happen mathematically (s >= 1/2); guard numerically
        return np.full(J, 1.0 / J)
    w = np.clip(u / total, 0.0, None)
    return w / w.sum()


def _polish(C: FloatArray, w: FloatArray) -> FloatArray:
    """Re-solve the KKT system on the support of ``w`` (equality-constrained least squares);
    keep the result when it stays in the simplex and does not raise the objective."""
    S = np.flatnonzero(w > 0)
    if S.size < 2:
        return w
    CS = C[:, S]
    G = CS.T @ CS
    k = S.size
    K = np.zeros((k + 1, k + 1))
    K[:k, :k] = G
    K[:k, k] = 1.0
    K[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    try:
        sol = np.linalg.solve(K, rhs)
    except np.linalg.LinAlgError:
        return w
    wS = sol[:k]
    if not np.all(np.isfinite(wS)) or np.any(wS < 0):
        return w
    new = np.zeros_like(w)
    new[S] = wS / wS.sum()
    r_old, r_new = C @ w, C @ new
    return new if r_new @ r_new <= r_old @ r_old else w


def simplex_least_squares_batch(
    A: FloatArray,
    b: FloatArray,
    *,
    ridge: float = 0.0,
    intercept: bool = False,
    row_weights: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Solve K simplex least-squares problems.

    Parameters
    ----------
    A : array (K, T, J) or (T, J)
        One design per problem, or one design shared by all problems.
    b : array (K, T)
        One target per problem (row k is the target of problem k).
    ridge, intercept, row_weights
        As in :func:`simplex_least_squares`; ``row_weights`` may be (T,) shared or (K, T).

    Returns
    -------
    weights : array (K, J)
    intercepts : array (K,)
    objectives : array (K,)
    """
    A_arr = np.asarray(A, dtype=float)
    b_arr = np.asarray(b, dtype=float)
    if b_arr.ndim != 2:
        raise SpecificationError(f"b must be 2-D (problems x rows); got shape {b_arr.shape}.")
    K = b_arr.shape[0]
    if A_arr.ndim == 2:
        designs = [A_arr] * K
    elif A_arr.ndim == 3 and A_arr.shape[0] == K:
        designs = list(A_arr)
    else:
        raise SpecificationError(f"A must be (T, J) or (K, T, J) with K={K}; got shape {A_arr.shape}.")
    V = None if row_weights is None else np.asarray(row_weights, dtype=float)
    J = designs[0].shape[1]
    W = np.empty((K, J))
    c = np.empty(K)
    obj = np.empty(K)
    for k in range(K):
        vk = None if V is None else (V if V.ndim == 1 else V[k])
        sol = simplex_least_squares(designs[k], b_arr[k], ridge=ridge, intercept=intercept, row_weights=vk)
        W[k], c[k], obj[k] = sol.weights, sol.intercept, sol.objective
    return W, c, obj


def frank_wolfe_simplex(
    A: FloatArray,
    b: FloatArray,
    *,
    ridge: float = 0.0,
    intercept: bool = True,
    weights_init: FloatArray | None = None,
    min_decrease: float = 1e-3,
    max_iter: int = 10_000,
) -> SimplexSolution:
    """Frank–Wolfe with exact line search on the simplex, as in ``synthdid``.

    Minimises :math:`\\frac{1}{T}\\|b - c - Aw\\|^2 + \\frac{\\rho}{T}\\|w\\|^2` (the
    same minimiser as :func:`simplex_least_squares` with the same ``ridge``), starting
    from ``weights_init`` (uniform by default) and stopping when the objective (divided
    by the number of rows ``T``, as synthdid's ``vals``) falls by less than
    ``min_decrease**2`` in one step or after ``max_iter`` steps. Use it only where an
    estimator must reproduce synthdid's approximate weights; otherwise use the exact
    solver.

    References
    ----------
    Frank, M. & Wolfe, P. (1956). An algorithm for quadratic programming. *Naval Res.
    Logist. Q.* 3, 95-110. Arkhangelsky et al. (2021), Section 3 and the ``synthdid`` R
    package (``sc.weight.fw``).
    """
    A, b, _ = _as_problem(A, b, None)
    A_orig, b_orig = A, b
    T, J = A.shape
    if intercept:
        A = A - A.mean(axis=0, keepdims=True)
        b = b - b.mean()
    w = np.full(J, 1.0 / J) if weights_init is None else np.asarray(weights_init, dtype=float).copy()
    if w.shape != (J,):
        raise SpecificationError(f"weights_init must have length {J}; got shape {w.shape}.")
    Aw = A @ w
    prev = np.inf
    val = np.inf
    it = 0
    converged = False
    while it < max_iter:
        it += 1
        half_grad = A.T @ (Aw - b) + ridge * w
        i = int(np.argmin(half_grad))
        d = -w.copy()
        d[i] += 1.0
        if np.any(d != 0):
            d_err = A[:, i] - Aw
            denom = float(d_err @ d_err + ridge * (d @ d))
            step = float(-(half_grad @ d) / denom) if denom > 0 else 0.0
            step = min(1.0, max(0.0, step))
            w = w + step * d
            Aw = Aw + step * d_err
        r = Aw - b
        prev, val = val, float((r @ r + ridge * (w @ w)) / T)
        if it >= 2 and not prev - val > min_decrease ** 2:
            converged = True
            break
    obj, c = simplex_objective(A_orig, b_orig, w, ridge=ridge, intercept=intercept)
    return SimplexSolution(weights=w, intercept=c, objective=obj, iterations=it, converged=converged,
                           method="frank-wolfe")


def sparsify_weights(weights: FloatArray) -> FloatArray:
    """Zero weights at or below a quarter of the largest and renormalise (synthdid's
    ``sparsify_function``)."""
    w = np.asarray(weights, dtype=float).copy()
    w[w <= w.max() / 4] = 0.0
    return w / w.sum()
