"""Cluster-robust covariance: CR1 (with a choice of small-sample factor) and CR2
(Bell-McCaffrey) with Satterthwaite degrees of freedom per contrast.

API
---
``cluster_vcov(fit, clusters, kind="CR1"|"CR2", small_sample="CR1S") -> ClusterVcov``
    ``fit`` is any :class:`~evalint.inference.interface.LinearFit` (least squares with absorbed
    fixed effects; with ``fe=None`` an ordinary regression with an intercept; the DiD solver's
    ``FEFit`` is one).
    ``clusters`` is one label per row. The result holds the covariance of the non-absorbed
    coefficients, ``se``, ``df`` (per coefficient) and :meth:`ClusterVcov.contrast` for any
    linear combination ``c'b`` (variance and degrees of freedom: ``G - 1`` for CR1,
    Satterthwaite for CR2).

Formulas
--------
With ``X~ = M_D X`` (fixed effects absorbed), bread ``M = (X~'WX~)^{-1}``, residuals ``e`` and
clusters ``g = 1..G``::

    CR1:  V = c_ss * M [sum_g X~_g' W_g e_g e_g' W_g X~_g] M
    CR2:  V = M [sum_g X*_g' A_g e*_g e*_g' A_g X*_g] M,   A_g = (I - H_gg)^{-1/2}

where ``X* = W^{1/2} X~``, ``e* = W^{1/2} e``, ``H`` is the hat matrix of the *full* model
(fixed-effect dummies and regressors: ``H = P_{D*} + X* M X*'``, Pustejovsky & Tipton 2018,
Theorem 2) and the inverse square root is the symmetric one with eigenvalues below 1e-12
set to zero (as clubSandwich does: ``I - H_gg`` is singular when a unit's fixed effect lies
inside the cluster). The CR1 small-sample factor ``c_ss`` is one of

- ``"CR1S"`` (default): ``G/(G-1) * (N-1)/(N-p)``, ``p`` = every parameter of the
  dummy-variable regression (regressors + absorbed fixed effects, the rank of ``D``).
  This is clubSandwich ``type="CR1S"`` on ``lm(y ~ x + factor(unit) + factor(period))``
  and Stata ``regress ..., vce(cluster)`` with explicit dummies; it is also what linearmodels
  ``PanelOLS(entity_effects=True, time_effects=True).fit(cov_type="clustered",
  debiased=True, group_debias=True)`` and pyfixest ``ssc(k_fixef="full")`` compute.
- ``"nested"``: ``G/(G-1) * (N-1)/(N-p_nn)``, with fixed effects nested in the clusters
  not counted in ``p_nn``: fixest/pyfixest default ``ssc(k_fixef="nonnested")``, reghdfe.
- ``"CR1"``: ``G/(G-1)`` only (clubSandwich ``type="CR1"``).

Degrees of freedom. CR1 uses ``t(G-1)``. For CR2 and a contrast ``c``, with
``g_j = A_j X*_j M c`` and the working model ``Var(e) = sigma^2 (I - H)`` (OLS with
independent homoskedastic errors), ``c'Vc = e' Omega e`` with ``Omega = sum_j q_j q_j'``,
``q_j = (I - H)_{.j} g_j``; matching the first two moments to a scaled chi-square gives

    df = (tr Omega)^2 / tr(Omega^2) = (sum_j G_jj)^2 / sum_jk G_jk^2,
    G_jk = g_j' (I - H)_jk g_k = 1{j=k} g_j'g_j - (D*_j'g_j)'(D*'D*)^-(D*_k'g_k) - u_j' M u_k

with ``u_j = X*_j' g_j`` (Bell & McCaffrey 2002, section 3; clubSandwich ``coef_test(...,
test="Satterthwaite")``). Everything is a G x G computation, so the df is cheap even for
many observations; the adjustment matrices need one eigendecomposition per cluster of
size ``n_g``, so CR2 is refused for clusters larger than ``MAX_CR2_CLUSTER_SIZE`` rows.

References
----------
Liang, K.-Y. & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear
    models. Biometrika 73(1), 13-22.
Bell, R. M. & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
    regression with multi-stage samples. Survey Methodology 28(2), 169-181.
Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
    inference with clustered errors. Review of Economics and Statistics 90(3), 414-427.
Pustejovsky, J. E. & Tipton, E. (2018). Small-sample methods for cluster-robust variance
    estimation and hypothesis testing in fixed effects models. Journal of Business &
    Economic Statistics 36(4), 672-683.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import sparse

from evalint._distributions import t_sf
from evalint._typing import check_option
from evalint.errors import InferenceError

if TYPE_CHECKING:  # pragma: no cover
    from evalint.inference.interface import LinearFit

__all__ = ["ClusterVcov", "cluster_vcov", "cluster_codes", "small_sample_factor", "MAX_CR2_CLUSTER_SIZE",
           "SMALL_SAMPLE_RULES"]

MAX_CR2_CLUSTER_SIZE = 4000
SMALL_SAMPLE_RULES = ("CR1S", "nested", "CR1")
_PINV_TOL = 1e-12


def cluster_codes(clusters: np.ndarray | pd.Series, n_obs: int | None = None, *,
                  per: Literal["row", "unit"] = "row") -> tuple[np.ndarray, int]:
    """Integer cluster codes 0..G-1 (in sorted-label order) and the number of clusters G.

    The one cluster coder of the package: regression rows (``per="row"``: cluster-robust and
    wild-bootstrap variances) and influence-function units (``per="unit"``: the multiplier
    bootstrap and analytic influence-function SEs) differ only in the wording of the errors.

    Raises
    ------
    InferenceError
        ``n_obs`` labels expected and a different number given, a missing label, or fewer
        than 2 clusters.
    """
    raw = np.asarray(clusters)
    # integer/bool labels are factorized as they are (an object copy of 10^6 labels costs ~50 MB)
    arr = pd.Series(raw if raw.dtype.kind in "iub" else np.asarray(clusters, dtype=object))
    if n_obs is not None and len(arr) != n_obs:
        raise InferenceError(
            f"clusters has {len(arr)} labels for {n_obs} rows; give one label per row." if per == "row" else
            f"cluster labels have length {len(arr)} but the influence function has {n_obs} rows.")
    if arr.isna().any():
        raise InferenceError(
            f"clusters has {int(arr.isna().sum())} missing label(s); every row needs a cluster." if per == "row" else
            f"{int(arr.isna().sum())} unit(s) have a missing cluster label; every unit needs one.")
    codes, uniq = pd.factorize(arr, sort=True)
    g = len(uniq)
    if g < 2:
        raise InferenceError(
            f"cluster-robust inference needs at least 2 clusters; the data have {g} "
            f"({', '.join(map(str, uniq[:3]))}). Cluster at a level with more groups, or use "
            "inference that does not cluster." if per == "row" else
            f"cluster-robust inference needs at least 2 clusters; the cluster variable has {g} "
            f"({list(uniq)[:3]}). Cluster by a coarser-than-unit variable that varies, or "
            "drop clustering (inference=MultiplierBootstrap() clusters by unit)."
        )
    return codes.astype(np.int64), g


def small_sample_factor(rule: str, n_obs: int, n_params: int, n_clusters: int,
                        n_params_nonnested: int | None = None) -> float:
    """The CR1 small-sample factor for ``rule`` (see the module docstring)."""
    check_option("small_sample", rule, SMALL_SAMPLE_RULES)
    g = n_clusters
    if rule == "CR1":
        return g / (g - 1)
    if rule == "CR1S":
        denom = n_obs - n_params
        base = n_obs - 1
    else:
        p = n_params if n_params_nonnested is None else n_params_nonnested
        denom = n_obs - p
        base = n_obs - 1
    if denom <= 0:
        raise InferenceError(
            f"no residual degrees of freedom: {n_obs} observations and {n_params} parameters "
            "(regressors plus fixed effects). Use fewer regressors or more data."
        )
    return g / (g - 1) * base / denom


def _blas_single_thread() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread while doing many small eigendecompositions (threading
    overhead dominates at these sizes); a no-op when threadpoolctl is not installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return cast(contextlib.AbstractContextManager[Any], threadpool_limits(limits=1, user_api="blas"))


def _inv_sqrt_psd(m: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((m + m.T) / 2)
    keep = vals > _PINV_TOL
    return cast(np.ndarray, (vecs[:, keep] / np.sqrt(vals[keep])) @ vecs[:, keep].T)


@dataclass(frozen=True, eq=False)
class ClusterVcov:
    """A cluster-robust covariance of the non-absorbed coefficients.

    Attributes
    ----------
    vcov : (k, k) array
    names : tuple of str
    kind : {"CR1", "CR2"}
    n_clusters : int
    small_sample : str
        CR1 rule used (``"none"`` for CR2).
    factor : float
        CR1 small-sample factor (1.0 for CR2).
    df : (k,) array
        Degrees of freedom per coefficient (G - 1 for CR1; Satterthwaite for CR2).
    """

    vcov: np.ndarray
    names: tuple[str, ...]
    kind: str
    n_clusters: int
    small_sample: str
    factor: float
    df: np.ndarray
    _fit: LinearFit = field(repr=False)
    _codes: np.ndarray = field(repr=False)
    _ax: np.ndarray | None = field(repr=False, default=None)   # rows: A_g X*_g stacked in row order
    _scores: np.ndarray | None = field(repr=False, default=None)  # G x k cluster scores (CR2: adjusted)

    def contributions(self, columns: np.ndarray | list[int] | None = None) -> np.ndarray:
        """Each cluster's contribution ``Z`` (G x k) to the coefficients: ``Z'Z`` is :attr:`vcov`.

        ``Z_g = sqrt(c_ss) (sum_{i in g} x~_i w_i e_i)' M`` for CR1 (``A_g``-adjusted for CR2);
        clusters in the order of the sorted labels. ``columns`` selects coefficients.
        """
        if self._scores is None:  # pragma: no cover - always set by cluster_vcov
            raise InferenceError("cluster contributions are not available for this covariance.")
        z = np.sqrt(self.factor) * (self._scores @ self._fit.bread)
        return cast(np.ndarray, z if columns is None else z[:, np.asarray(columns)])

    def cluster_any(self, rows: np.ndarray) -> np.ndarray:
        """Per cluster (sorted-label order): does it hold any row where ``rows`` is True?"""
        return np.bincount(self._codes, weights=np.asarray(rows, dtype=float), minlength=self.n_clusters) > 0

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def frame(self) -> pd.DataFrame:
        """Coefficients, SEs, df, t and p-values as a table."""
        b = self._fit.coef
        t = b / self.se
        out: pd.DataFrame = pd.DataFrame({"estimate": b, "std_error": self.se, "df": self.df, "statistic": t,
                                          "p_value": 2 * t_sf(np.abs(t), self.df)}, index=list(self.names))
        return out

    def contrast(self, c: np.ndarray) -> tuple[float, float]:
        """Variance and degrees of freedom of ``c'b`` (``c`` a length-k vector)."""
        c = np.asarray(c, dtype=float).ravel()
        var = float(c @ self.vcov @ c)
        if self.kind == "CR1":
            return var, float(self.n_clusters - 1)
        return var, self._satterthwaite(c)

    def _satterthwaite(self, c: np.ndarray) -> float:
        fit = self._fit
        xs, _ = fit.weighted()
        m = fit.bread @ c
        g = self._ax @ m                                   # g_j stacked, length n
        codes, ng = self._codes, self.n_clusters
        own = np.bincount(codes, weights=g * g, minlength=ng)
        u = np.zeros((ng, xs.shape[1]))
        np.add.at(u, codes, xs * g[:, None])
        gmat = np.diag(own) - u @ fit.bread @ u.T
        if fit.fe is not None:
            gmat -= fit.fe.cross_products(g, codes, ng)
        else:  # the intercept
            sw = np.ones(fit.n_obs) if fit.weights is None else np.sqrt(fit.weights)
            r = np.bincount(codes, weights=g * sw, minlength=ng)
            gmat -= np.outer(r, r) / float((sw ** 2).sum())
        return float(np.trace(gmat) ** 2 / np.sum(gmat * gmat))


def _cluster_sum(codes: np.ndarray, ng: int, xs: np.ndarray, es: np.ndarray) -> np.ndarray:
    """Scores ``sum_{i in g} x_i e_i`` per cluster (ng x k) as one sparse product."""
    n = len(codes)  # CSC built directly: column i holds e_i in row codes[i] (no COO triplets)
    agg = sparse.csc_matrix((es, np.asarray(codes, dtype=np.int32), np.arange(n + 1, dtype=np.int32)),
                            shape=(ng, n))
    return np.asarray(agg @ xs)


def cluster_vcov(fit: LinearFit, clusters: np.ndarray | pd.Series, *, kind: Literal["CR1", "CR2"] = "CR1",
                 small_sample: str = "CR1S") -> ClusterVcov:
    """Cluster-robust covariance of a fixed-effects least-squares fit.

    Parameters
    ----------
    fit : LinearFit
        Any least-squares fit with the :class:`~evalint.inference.interface.LinearFit` interface
        (:func:`evalint.estimators.did.fe.fe_lstsq` returns one).
    clusters : array-like
        One cluster label per row of the fit.
    kind : {"CR1", "CR2"}
    small_sample : {"CR1S", "nested", "CR1"}
        CR1 small-sample factor (ignored for CR2). See the module docstring.

    Returns
    -------
    ClusterVcov

    Raises
    ------
    InferenceError
        Fewer than 2 clusters, missing labels, no residual degrees of freedom, or CR2 with
        a cluster larger than ``MAX_CR2_CLUSTER_SIZE`` rows.
    """
    check_option("kind", kind, ("CR1", "CR2"))
    codes, ng = cluster_codes(clusters, fit.n_obs)
    xs, es = fit.weighted()
    k = xs.shape[1]
    if kind == "CR1":
        nn = None
        if small_sample == "nested" and fit.fe is not None:
            nn = fit.n_params - fit.fe.nested_in(codes)
        factor = small_sample_factor(small_sample, fit.n_obs, fit.n_params, ng, nn)
        scores = _cluster_sum(codes, ng, xs, es)
        meat = scores.T @ scores
        vc = factor * fit.bread @ meat @ fit.bread
        return ClusterVcov(vcov=vc, names=fit.names, kind="CR1", n_clusters=ng, small_sample=small_sample,
                           factor=factor, df=np.full(k, float(ng - 1)), _fit=fit, _codes=codes, _scores=scores)
    sizes = np.bincount(codes, minlength=ng)
    if sizes.max() > MAX_CR2_CLUSTER_SIZE:
        raise InferenceError(
            f"CR2 needs an eigendecomposition per cluster; the largest cluster has {int(sizes.max())} rows "
            f"(limit {MAX_CR2_CLUSTER_SIZE}). Use CR1 with the wild cluster bootstrap "
            "(WildClusterBootstrap), which is the recommended few-cluster inference at this size."
        )
    if fit.n_obs - fit.n_params <= 0:
        raise InferenceError("no residual degrees of freedom for CR2.")
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    ax = np.empty_like(xs)
    scores = np.zeros((ng, k))
    sw = None if fit.weights is None else np.sqrt(fit.weights)
    with _blas_single_thread():
        _cr2_blocks(fit, xs, es, codes, ng, order, starts, sw, ax, scores)
    vc = fit.bread @ (scores.T @ scores) @ fit.bread
    out = ClusterVcov(vcov=vc, names=fit.names, kind="CR2", n_clusters=ng, small_sample="none", factor=1.0,
                      df=np.zeros(k), _fit=fit, _codes=codes, _ax=ax, _scores=scores)
    df = np.array([out._satterthwaite(np.eye(k)[i]) for i in range(k)])
    object.__setattr__(out, "df", df)
    return out


def _cr2_blocks(fit: LinearFit, xs: np.ndarray, es: np.ndarray, codes: np.ndarray, ng: int, order: np.ndarray,
                starts: np.ndarray, sw: np.ndarray | None, ax: np.ndarray, scores: np.ndarray) -> None:
    """Fill ``ax`` (rows A_g X*_g) and ``scores`` (X*_g' A_g e*_g) cluster by cluster."""
    for j in range(ng):
        rows = order[starts[j]:starts[j + 1]]
        xj = xs[rows]
        if fit.fe is not None:
            hfe = fit.fe.projection_block(rows)
        else:
            s = np.ones(len(rows)) if sw is None else sw[rows]
            tot = float(fit.n_obs if sw is None else (sw ** 2).sum())
            hfe = np.outer(s, s) / tot
        h = hfe + xj @ fit.bread @ xj.T
        a = _inv_sqrt_psd(np.eye(len(rows)) - h)
        axj = a @ xj
        ax[rows] = axj
        scores[j] = axj.T @ es[rows]
