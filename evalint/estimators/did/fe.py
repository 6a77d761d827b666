"""Fixed-effects least squares: exact within transformation for one or more absorbed factors.

This is the one fixed-effects solver of the DiD family (TWFE, event study, dose,
Sun-Abraham, the imputation estimator and the Bacon decomposition reuse it).

API
---
``FixedEffects.from_codes([unit_codes, period_codes], weights=None)``
    The absorbed structure. ``fe.demean(X)`` returns ``M_D X`` (residuals of the weighted
    projection of each column on all fixed-effect dummies), ``fe.rank`` the number of
    parameters the fixed effects absorb (levels minus redundancies, counted exactly, so
    disconnected panels are handled), ``fe.fitted_effects(v)`` the level effects of a
    projection, ``fe.nested_in(clusters)`` how many absorbed parameters belong to factors
    nested in the clusters (for the fixest-style "nested" degrees-of-freedom rule), and
    ``fe.projection_block(rows)`` / ``fe.cross_products(...)`` the pieces of the hat matrix
    CR2 needs (:mod:`evalint.inference.cluster`).

``fe_lstsq(y, X, fe, names=..., weights=None) -> FEFit``
    Coefficients on ``X`` after absorbing ``fe`` (Frisch-Waugh-Lovell), residuals, the
    demeaned design, ``(X~'WX~)^{-1}`` and the degrees-of-freedom bookkeeping
    (``n_obs``, ``n_coef``, ``n_absorbed``, ``df_resid``). A column of ``X`` that the fixed
    effects (or the other columns) explain exactly raises
    :class:`~evalint.errors.SpecificationError` naming the column.

Algorithm
---------
Let ``D = [D_1, D_2, ..., D_K]`` be the dummy matrices of the K factors, ``W`` the weights.
The factor with most levels (``D_1``, usually the unit) is eliminated in closed form
(its Gram matrix ``A = D_1'WD_1`` is diagonal); the remaining factors ``V = [D_2..D_K]``
enter through the Schur complement ``S = V'WV - V'WD_1 A^{-1} D_1'WV`` (a dense matrix the
size of the other factors' levels, e.g. 96 months), whose Moore-Penrose inverse is taken
by a symmetric eigendecomposition. Then, for any vector ``x``,

    z      = V'W (x - xbar_unit)            (within-unit demeaned sums per secondary level)
    gamma  = S^+ z
    M_D x  = x - xbar_unit - V gamma + (V gamma)bar_unit

which is the exact projection residual (no iteration, no convergence tolerance), and
``rank(D) = levels(D_1) + rank(S)``. This is the block (generalised) inverse of the normal
equations of the dummy-variable regression; alternating projections (Guimaraes &
Portugal 2010; Gaure 2013) converge to the same answer.

References
----------
Frisch, R. & Waugh, F. V. (1933). Partial time regressions as compared with individual trends.
    Econometrica 1(4), 387-401.
Guimaraes, P. & Portugal, P. (2010). A simple feasible procedure to fit models with
    high-dimensional fixed effects. Stata Journal 10(4), 628-649.
Gaure, S. (2013). OLS with multiple high dimensional category variables. Computational
    Statistics & Data Analysis 66, 8-18.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from evalint._typing import FloatArray
from evalint.errors import SpecificationError

__all__ = ["FixedEffects", "FEFit", "fe_lstsq", "factorize"]

MAX_DENSE_LEVELS = 6000
DEMEAN_BLOCK = 2  # columns demeaned at a time: temporaries are a few n x 2 arrays (no speed cost measured)
_EIG_TOL = 1e-10


def factorize(values: Sequence | np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes 0..L-1 and the number of levels L of a factor."""
    codes, uniques = pd.factorize(pd.Series(values).to_numpy(), sort=True)
    if (codes < 0).any():
        raise SpecificationError("a fixed-effect factor has missing values; every row needs a level.")
    return codes.astype(np.int64), len(uniques)


@dataclass(frozen=True, eq=False)
class FixedEffects:
    """Absorbed fixed effects (one or more factors), with optional non-negative weights.

    Build with :meth:`from_codes`. All methods work on arrays aligned with the rows the
    codes describe.

    Attributes
    ----------
    codes : tuple of int arrays
        Level codes per factor; the first is the one eliminated in closed form (the factor
        with most levels is moved first automatically).
    n_levels : tuple of int
    weights : float array or None
    rank : int
        Number of parameters absorbed: rank of the dummy matrix ``[D_1 ... D_K]``.
    """

    codes: tuple[np.ndarray, ...]
    n_levels: tuple[int, ...]
    weights: np.ndarray | None
    names: tuple[str, ...]
    _wsum1: np.ndarray = field(repr=False)
    _secondary: np.ndarray | None = field(repr=False)   # obs x (K-1) codes into stacked levels
    _n_secondary: int = field(repr=False)
    _b: sparse.csr_matrix | None = field(repr=False)     # levels1 x L_secondary, weighted counts
    _s_pinv: np.ndarray | None = field(repr=False)
    _s_rank: int = field(repr=False)
    # balanced, unweighted two-factor case: row position of each (level1, level2) cell in the
    # L1 x L2 grid (None otherwise); there M_D x is exact double demeaning on the grid
    _grid: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_codes(cls, codes: Sequence[np.ndarray], weights: np.ndarray | None = None,
                   names: Sequence[str] | None = None) -> FixedEffects:
        """Set up the absorbed factors.

        Parameters
        ----------
        codes : sequence of int arrays (each of length n, values 0..L-1) or raw level arrays
        weights : array of length n, optional
            Non-negative analytic weights (WLS).
        names : sequence of str, optional
            Factor names for messages (``("unit", "period")``).
        """
        if len(codes) == 0:
            raise SpecificationError("FixedEffects needs at least one factor.")
        cl, nl = [], []
        for c in codes:
            c = np.asarray(c)
            if c.dtype.kind not in "iu" or (len(c) and (c.min() < 0)):
                c, n = factorize(c)
            else:
                c = c.astype(np.int64)
                n = int(c.max()) + 1 if len(c) else 0
                used = np.bincount(c, minlength=n) > 0
                if not used.all():
                    c, n = factorize(c)
            cl.append(c)
            nl.append(n)
        n_obs = len(cl[0])
        if any(len(c) != n_obs for c in cl):
            raise SpecificationError("fixed-effect factors must all have one code per row.")
        names = tuple(names) if names is not None else tuple(f"factor{i + 1}" for i in range(len(cl)))
        order = sorted(range(len(cl)), key=lambda i: -nl[i])
        cl = [cl[i] for i in order]
        nl = [nl[i] for i in order]
        names = tuple(names[i] for i in order)
        w = None if weights is None else np.asarray(weights, dtype=float)
        ww = np.ones(n_obs) if w is None else w
        wsum1 = np.bincount(cl[0], weights=ww, minlength=nl[0])
        if (wsum1 <= 0).any():
            raise SpecificationError(f"some {names[0]} levels have zero total weight; drop them first.")
        if len(cl) == 1:
            return cls(tuple(cl), tuple(nl), w, names, wsum1, None, 0, None, None, 0)
        offsets = np.cumsum([0] + nl[1:-1])
        sec = np.column_stack([c + o for c, o in zip(cl[1:], offsets)])
        n_sec = int(sum(nl[1:]))
        if n_sec > MAX_DENSE_LEVELS:
            raise SpecificationError(
                f"fixed effects {names[1:]} have {n_sec} levels in total; the exact solver handles "
                f"up to {MAX_DENSE_LEVELS} levels outside the largest factor ({names[0]}). "
                "Absorb fewer factors or aggregate."
            )
        rows = np.repeat(cl[0], sec.shape[1])
        cols = sec.ravel()
        vals = np.repeat(ww, sec.shape[1])
        b = sparse.csr_matrix((vals, (rows, cols)), shape=(nl[0], n_sec))
        # C = V'WV (secondary x secondary): diagonal blocks plus cross-tabs for K >= 3
        cmat = sparse.csr_matrix(
            (np.repeat(ww, sec.shape[1] ** 2),
             (np.repeat(sec, sec.shape[1], axis=1).ravel(), np.tile(sec, (1, sec.shape[1])).ravel())),
            shape=(n_sec, n_sec)).toarray()
        if b.nnz >= 0.25 * nl[0] * n_sec:  # (nearly) every unit in every period: dense product is faster
            bd = b.toarray()
            s = cmat - bd.T @ (bd / wsum1[:, None])
        else:
            s = cmat - (b.T @ (sparse.diags(1.0 / wsum1) @ b)).toarray()
        s = (s + s.T) / 2
        evals, evecs = np.linalg.eigh(s)
        tol = _EIG_TOL * max(float(evals.max()), 1.0)
        keep = evals > tol
        s_pinv = (evecs[:, keep] / evals[keep]) @ evecs[:, keep].T
        grid = None
        if len(cl) == 2 and w is None and n_obs == nl[0] * nl[1]:
            lin = cl[0] * nl[1] + cl[1]
            if np.all(np.bincount(lin, minlength=n_obs) == 1):  # every cell exactly once
                grid = None if np.array_equal(lin, np.arange(n_obs)) else lin
                grid = np.arange(0) if grid is None else grid  # empty array: rows already in grid order
        return cls(tuple(cl), tuple(nl), w, names, wsum1, sec, n_sec, b, s_pinv, int(keep.sum()), grid)

    # ------------------------------------------------------------------ facts
    @property
    def n_obs(self) -> int:
        return len(self.codes[0])

    @property
    def rank(self) -> int:
        """Parameters absorbed by the fixed effects (exact rank of the dummy matrix)."""
        return self.n_levels[0] + self._s_rank

    def nested_in(self, clusters: np.ndarray) -> int:
        """Absorbed parameters attributable to factors nested in ``clusters``.

        A factor is nested when every level lies in one cluster. The count is
        ``rank(D) - rank(D_non-nested)``, the parameters that disappear from k under the
        fixest/pyfixest ``k_fixef="nonnested"`` small-sample rule (and reghdfe's).
        """
        cc = np.asarray(clusters)
        nested = []
        for c in self.codes:
            frame = pd.DataFrame({"l": c, "g": cc})
            nested.append(bool((frame.groupby("l")["g"].nunique() <= 1).all()))
        if not any(nested):
            return 0
        rest = [c for c, n in zip(self.codes, nested) if not n]
        if not rest:
            return self.rank
        rest_rank = len(np.unique(rest[0])) if len(rest) == 1 else FixedEffects.from_codes(rest).rank
        return self.rank - rest_rank

    # ------------------------------------------------------------ transforms
    def _w(self) -> np.ndarray:
        return np.ones(self.n_obs) if self.weights is None else self.weights

    @cached_property
    def _unit_sum_matrix(self) -> sparse.csc_matrix:
        """``D_1'W`` as a sparse (levels x rows) matrix: one pass for all columns of a block.

        Built directly in CSC form (row i of the data is column i, one entry), so no COO
        triplets or format conversion are allocated."""
        n = self.n_obs
        return sparse.csc_matrix((self._w(), self.codes[0].astype(np.int32), np.arange(n + 1, dtype=np.int32)),
                                 shape=(self.n_levels[0], n))

    @cached_property
    def _secondary_sum_matrix(self) -> sparse.csc_matrix:
        """``V'W`` as a sparse (secondary levels x rows) CSC matrix (K - 1 entries per row)."""
        n, k = self._secondary.shape
        return sparse.csc_matrix((np.repeat(self._w(), k), self._secondary.astype(np.int32).ravel(),
                                  np.arange(0, n * k + 1, k, dtype=np.int32)), shape=(self._n_secondary, n))

    def _unit_mean(self, x: np.ndarray) -> np.ndarray:
        return (self._unit_sum_matrix @ x) / self._wsum1[:, None]

    def _secondary_sums(self, x: np.ndarray) -> np.ndarray:
        return self._secondary_sum_matrix @ x

    def _v_times(self, gamma: np.ndarray) -> np.ndarray:
        out = gamma[self._secondary[:, 0]]
        for k in range(1, self._secondary.shape[1]):
            out += gamma[self._secondary[:, k]]
        return out

    def demean(self, x: np.ndarray, *, block: int | None = None) -> FloatArray:
        """``M_D x``: residuals of the weighted projection of each column on the fixed effects.

        Columns are processed ``block`` at a time (default ``DEMEAN_BLOCK``; any numeric dtype,
        e.g. int8 dummies, is converted per block), so the only full-size array allocated is
        the float result.
        """
        block = max(int(DEMEAN_BLOCK if block is None else block), 1)
        x = np.asarray(x)
        one = x.ndim == 1
        x2 = x.reshape(-1, 1) if one else x
        if self._grid is not None:
            out = self._demean_grid(x2)
            return out[:, 0] if one else out
        out = np.empty(x2.shape, dtype=float)
        c1 = self.codes[0]
        for j0 in range(0, x2.shape[1], block):
            r = np.array(x2[:, j0:j0 + block], dtype=float)  # a float copy of the block
            r -= self._unit_mean(r)[c1]
            if self._secondary is not None:
                vg = self._v_times(self._s_pinv @ self._secondary_sums(r))
                vg -= self._unit_mean(vg)[c1]
                r -= vg
            out[:, j0:j0 + block] = r
        return out[:, 0] if one else out

    def _demean_grid(self, x2: np.ndarray) -> FloatArray:
        """Balanced panel, no weights: M_D x = x - xbar_unit - xbar_period + xbar on the L1 x L2
        grid (the same projection as the general path, without sparse sums), column by column."""
        l1, l2 = self.n_levels
        n = self.n_obs
        lin = self._grid
        out = np.empty(x2.shape, dtype=float)
        cell = np.empty(n)
        for j in range(x2.shape[1]):
            if lin.size:
                cell[lin] = x2[:, j]
            else:
                cell[:] = x2[:, j]
            g = cell.reshape(l1, l2)
            g -= g.mean(axis=1, keepdims=True)
            g -= g.mean(axis=0, keepdims=True)
            out[:, j] = cell[lin] if lin.size else cell
        return out

    def project(self, x: np.ndarray) -> FloatArray:
        """``P_D x = x - M_D x``: fitted values of the fixed effects alone."""
        x = np.asarray(x, dtype=float)
        return x - self.demean(x)

    # ------------------------------------------------------------ hat matrix pieces (CR2)
    def _vtilde_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows of ``W^{1/2} M_{D_1} V`` (n_rows x L_secondary), dense."""
        w = self._w()[rows]
        out = -(self._b[self.codes[0][rows]].toarray() / self._wsum1[self.codes[0][rows]][:, None])
        for k in range(self._secondary.shape[1]):
            out[np.arange(len(rows)), self._secondary[rows, k]] += 1.0
        return out * np.sqrt(w)[:, None]

    def projection_block(self, rows: np.ndarray) -> FloatArray:
        """Block ``(P_{D*})[rows, rows]`` of the hat matrix of the weighted dummies
        ``D* = W^{1/2} D`` (the fixed-effect part of the CR2 adjustment)."""
        rows = np.asarray(rows)
        c1 = self.codes[0][rows]
        sw = np.sqrt(self._w()[rows])
        same = (c1[:, None] == c1[None, :]) / self._wsum1[c1][None, :]
        block = same * np.outer(sw, sw)
        if self._secondary is not None:
            vt = self._vtilde_rows(rows)
            block = block + vt @ self._s_pinv @ vt.T
        return block

    def cross_products(self, g: np.ndarray, groups: np.ndarray, n_groups: int) -> FloatArray:
        """``R'(D*'D*)^- R`` for ``R[:, j] = D*' (g * 1{group j})`` (n_groups x n_groups).

        ``g`` is a vector aligned with the rows; used for Satterthwaite degrees of freedom.
        """
        sw = np.sqrt(self._w())
        gw = g * sw
        n1 = self.n_levels[0]
        ru = sparse.csr_matrix((gw, (self.codes[0], groups)), shape=(n1, n_groups))
        out = (ru.T @ sparse.diags(1.0 / self._wsum1) @ ru).toarray()
        if self._secondary is not None:
            rv = np.zeros((self._n_secondary, n_groups))
            for k in range(self._secondary.shape[1]):
                np.add.at(rv, (self._secondary[:, k], groups), gw)
            z = rv - (self._b.T @ (sparse.diags(1.0 / self._wsum1) @ ru)).toarray()
            out = out + z.T @ self._s_pinv @ z
        return out


@dataclass(frozen=True, eq=False)
class FEFit:
    """Least squares on ``X`` after absorbing fixed effects.

    Attributes
    ----------
    coef : (k,) array
    names : tuple of str
    resid : (n,) array
        ``y - X b - D a`` (unweighted residuals of the full dummy-variable regression).
    x_tilde, y_tilde : arrays
        ``M_D X`` and ``M_D y`` (weighted projection residuals).
    bread : (k, k) array
        ``(X~' W X~)^{-1}``.
    weights : array or None
    fe : FixedEffects or None
    n_obs, n_coef, n_absorbed : int
        Rows, columns of X, parameters absorbed by the fixed effects (rank, plus 1 for the
        intercept when ``fe`` is None and an intercept was added).
    df_resid : int
        ``n_obs - n_coef - n_absorbed``.
    """

    coef: np.ndarray
    names: tuple[str, ...]
    resid: np.ndarray
    x_tilde: np.ndarray
    y_tilde: np.ndarray
    bread: np.ndarray
    weights: np.ndarray | None
    fe: FixedEffects | None
    n_obs: int
    n_coef: int
    n_absorbed: int

    @property
    def df_resid(self) -> int:
        return self.n_obs - self.n_coef - self.n_absorbed

    @property
    def n_params(self) -> int:
        """All parameters including absorbed ones (``p`` of lm/clubSandwich)."""
        return self.n_coef + self.n_absorbed

    def coef_series(self) -> pd.Series:
        return pd.Series(self.coef, index=list(self.names))

    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """``(W^{1/2} X~, W^{1/2} e)``: design and residuals of the equivalent OLS problem."""
        if self.weights is None:
            return self.x_tilde, self.resid
        sw = np.sqrt(self.weights)
        return self.x_tilde * sw[:, None], self.resid * sw


def _first_collinear(g: np.ndarray, tol: float) -> int | None:
    """Index of the first column whose Cholesky pivot of ``g`` (a scaled Gram matrix) is below
    ``tol``: its residual sum of squares after the earlier columns, relative to its own scale."""
    k = g.shape[0]
    lmat = np.zeros((k, k))
    for i in range(k):
        d = g[i, i] - lmat[i, :i] @ lmat[i, :i]
        if d < tol:
            return i
        lmat[i, i] = np.sqrt(d)
        if i + 1 < k:
            lmat[i + 1:, i] = (g[i + 1:, i] - lmat[i + 1:, :i] @ lmat[i, :i]) / lmat[i, i]
    return None


def fe_lstsq(y: np.ndarray, X: np.ndarray, fe: FixedEffects | None, *,
             names: Sequence[str] | None = None, weights: np.ndarray | None = None,
             collinearity_tol: float = 1e-9) -> FEFit:
    """Least squares of ``y`` on ``X`` and the absorbed fixed effects ``fe``.

    Parameters
    ----------
    y : (n,) array
    X : (n, k) array
        Regressors of interest (no intercept needed: the fixed effects absorb it). When
        ``fe`` is None an intercept is absorbed (demeaning by the weighted mean).
    fe : FixedEffects or None
        Its weights, if any, must equal ``weights``.
    names : sequence of str
        Column names, used in collinearity errors.
    weights : (n,) array, optional
    collinearity_tol : float
        A column whose sum of squares after absorbing the fixed effects and the earlier
        columns falls below ``collinearity_tol`` times its centred sum of squares is
        collinear; raises SpecificationError naming it.

    Returns
    -------
    FEFit
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        X = X.astype(float)
    if X.ndim == 1:
        X = X[:, None]
    n, k = X.shape
    names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(k))
    if len(names) != k:
        raise SpecificationError(f"names has {len(names)} entries for {k} columns.")
    w = None if weights is None else np.asarray(weights, dtype=float)
    ww = np.ones(n) if w is None else w
    # centred (weighted) column scales, block by block so X is never copied whole
    scale = np.empty(k)
    for j0 in range(0, k, DEMEAN_BLOCK):
        xb = np.array(X[:, j0:j0 + DEMEAN_BLOCK], dtype=float)
        xb -= (ww @ xb) / ww.sum()
        scale[j0:j0 + DEMEAN_BLOCK] = np.sqrt(np.maximum(ww @ (xb * xb), 1e-300))
    if fe is not None:
        if (fe.weights is None) != (w is None) or (w is not None and not np.array_equal(fe.weights, w)):
            raise SpecificationError("FixedEffects weights differ from the regression weights.")
        xt = fe.demean(X)
        yt = fe.demean(y)
        absorbed = fe.rank
    else:
        xt = X - (ww @ X) / ww.sum()
        yt = y - (ww @ y) / ww.sum()
        absorbed = 1
    xw = xt if w is None else xt * np.sqrt(ww)[:, None]
    gram = xw.T @ xw
    # collinearity: Gram-Schmidt residual norms in the order given, i.e. the squared diagonal of
    # R in X~ = QR (= the pivots of the Cholesky factor of the scaled Gram matrix)
    bad = _first_collinear(gram / np.outer(scale, scale), collinearity_tol) if k else None
    if bad is not None:
        i = bad
        own = float(gram[i, i]) / scale[i] ** 2
        why = ("is explained exactly by the fixed effects" + (f" ({', '.join(fe.names)})" if fe else "")
               if own < collinearity_tol else
               f"is collinear with the fixed effects and the other regressors ({', '.join(names[:i]) or 'none'})")
        raise SpecificationError(
            f"regressor {names[i]!r} {why}; its coefficient is not identified. "
            + ("It is constant within units or moves only with time; " if own < collinearity_tol else "")
            + "drop it, or change the specification (e.g. a comparison group, another reference period)."
        )
    bread = np.linalg.inv(gram) if k else np.zeros((0, 0))
    coef = bread @ (xw.T @ (yt if w is None else yt * np.sqrt(ww))) if k else np.zeros(0)
    resid = yt - xt @ coef
    return FEFit(coef=coef, names=names, resid=resid, x_tilde=xt, y_tilde=yt, bread=bread,
                 weights=w, fe=fe, n_obs=n, n_coef=k, n_absorbed=absorbed)
