"""Restricted wild cluster bootstrap (WCR) for one linear contrast of a fixed-effects fit.

API
---
``wild_cluster_bootstrap(fit, clusters, contrast, null=0.0, reps=9999, weights="webb",
seed=0, alpha=0.05) -> WildBootstrapResult``
    ``fit`` is any :class:`~evalint.inference.interface.LinearFit`; ``contrast`` a coefficient
    name, index or a length-k vector ``c`` (testing ``c'b = null``). Returns the CR1
    t-statistic, the bootstrap p-value (symmetric: share of ``|t*| >= |t|``) and the
    (1 - alpha) confidence interval by test inversion.

Algorithm (WCR, Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017; the closed forms of
Roodman, MacKinnon, Nielsen & Webb 2019)
------------------------------------------------------------------------------
1. Fit the model with the null imposed: ``b_r = b - M c (c'M c)^{-1} (c'b - null)``,
   restricted residuals ``e_r = y~ - X~ b_r`` (fixed effects absorbed; ``M = (X~'WX~)^{-1}``).
2. For draws ``v_b`` (one weight per cluster: Rademacher +-1, or Webb's six-point
   +-sqrt(3/2), +-1, +-sqrt(1/2)), the bootstrap sample is
   ``y*_b = X b_r + D a_r + e_r * v_b[cluster]``; refitting it with the fixed effects gives
   ``c'b*_b - null = sum_h v_bh a_h`` with ``a_h = c'M X~_h'e_r,h``, and residual cluster
   scores ``s_bg = sum_h K_gh v_bh`` where
   ``K_gh = m'X~_g'[M_D(e_r 1_h)]_g - (X~_g'X~_g m)' M (X~_h'e_r,h)`` and ``m = M c``.
   The FE-projection term is exact (one within transformation per cluster), so fixed
   effects that are not nested in the clusters (period effects) are handled exactly.
3. ``t*_b = (c'b*_b - null) / sqrt(c_ss sum_g s_bg^2)`` with the same CR1 factor ``c_ss``
   as the observed ``t``. p-value = share of ``|t*_b| >= |t|``.
4. Everything is linear in ``null`` (``e_r = e + lambda X~m``), so ``t*_b(null)`` is a
   closed form in ``lambda`` evaluated in O(reps); the CI is the set of nulls not rejected
   at ``alpha``, its ends found by bracketing and bisection with the same draws.

With Rademacher weights and ``2^G <= reps`` all ``2^G`` sign vectors are enumerated
(the exact bootstrap distribution; ``reps`` then reports ``2^G``). A draw that gives every
cluster the same weight reproduces the observed t (up to sign) at every null, so the p-value is
never below the share of such draws: ``2 / 2^G`` when enumerated, so with ``G <= 5`` clusters no
null is rejected at 5% and the interval is unbounded on both sides (MacKinnon & Webb 2017 on the
few-cluster limits). A side not rejected within ``2^20`` standard errors is reported unbounded too.

References
----------
Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
    inference with clustered errors. Review of Economics and Statistics 90(3), 414-427.
MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly different cluster
    sizes. Journal of Applied Econometrics 32(2), 233-254.
Webb, M. D. (2023). Reworking wild bootstrap-based inference for clustered errors. Canadian
    Journal of Economics 56(3), 839-858.
Roodman, D., MacKinnon, J. G., Nielsen, M. O. & Webb, M. D. (2019). Fast and wild: bootstrap
    inference in Stata using boottest. Stata Journal 19(1), 4-60.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from evalint._typing import check_alpha, check_option, check_positive_int
from evalint.errors import InferenceError, SpecificationError
from evalint.inference.cluster import cluster_codes, small_sample_factor

if TYPE_CHECKING:  # pragma: no cover
    from evalint.inference.interface import LinearFit

__all__ = ["WildBootstrapResult", "wild_cluster_bootstrap", "draw_weights"]

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class WildBootstrapResult:
    """Outcome of a restricted wild cluster bootstrap test of ``c'b = null``.

    Attributes
    ----------
    estimate : float
        ``c'b``.
    se : float
        CR1 standard error of ``c'b`` (the studentising SE).
    statistic : float
        Observed CR1 t-statistic for ``null``.
    p_value : float
        Bootstrap p-value (symmetric).
    ci : (float, float)
        (1 - alpha) interval by test inversion.
    reps, n_clusters : int
    weights : str
    seed : int or None
    enumerated : bool
        True when all 2^G Rademacher sign vectors were used.
    """

    estimate: float
    se: float
    statistic: float
    p_value: float
    ci: tuple[float, float]
    null: float
    alpha: float
    reps: int
    n_clusters: int
    weights: str
    seed: int | None
    enumerated: bool


def draw_weights(n_clusters: int, reps: int, kind: str, seed: int | None) -> tuple[np.ndarray, bool]:
    """(G x B) bootstrap weights and whether they enumerate all Rademacher sign vectors."""
    check_option("weights", kind, ("rademacher", "webb"))
    if kind == "rademacher" and n_clusters <= 20 and 2 ** n_clusters <= reps:
        v = np.array(list(itertools.product([-1.0, 1.0], repeat=n_clusters))).T
        return v, True
    rng = np.random.default_rng(seed)
    if kind == "rademacher":
        return rng.integers(0, 2, size=(n_clusters, reps)).astype(float) * 2 - 1, False
    return _WEBB[rng.integers(0, 6, size=(n_clusters, reps))], False


def _contrast_vector(fit: LinearFit, contrast: int | str | np.ndarray) -> np.ndarray:
    k = fit.n_coef
    if isinstance(contrast, str):
        if contrast not in fit.names:
            raise SpecificationError(f"contrast {contrast!r} is not a coefficient; have {list(fit.names)}.")
        return cast(np.ndarray, np.eye(k)[fit.names.index(contrast)])
    if isinstance(contrast, (int, np.integer)):
        return cast(np.ndarray, np.eye(k)[int(contrast)])
    c = np.asarray(contrast, dtype=float).ravel()
    if c.shape != (k,):
        raise SpecificationError(f"contrast vector has length {c.size}; the fit has {k} coefficients.")
    return c


def wild_cluster_bootstrap(
    fit: LinearFit,
    clusters: np.ndarray | pd.Series,
    contrast: int | str | np.ndarray = 0,
    *,
    null: float = 0.0,
    reps: int = 9999,
    weights: str = "webb",
    seed: int | None = 0,
    alpha: float = 0.05,
    small_sample: str = "CR1S",
    chunk: int = 16,
) -> WildBootstrapResult:
    """Restricted wild cluster bootstrap p-value and test-inversion CI for ``c'b``.

    Parameters
    ----------
    fit : LinearFit
    clusters : array-like
        One cluster label per row.
    contrast : str, int or array
        Coefficient name/index, or a contrast vector ``c``.
    null : float
        Hypothesised value of ``c'b`` for the p-value.
    reps : int
        Bootstrap replications (>= 99).
    weights : {"webb", "rademacher"}
    seed : int or None
        Seed of ``numpy.random.default_rng``; the same seed gives bit-identical results.
    alpha : float
    small_sample : str
        CR1 small-sample rule of the studentising SE (it cancels in the p-value but sets
        the reported ``se``).
    chunk : int
        Clusters per within-transformation batch (memory: n x chunk doubles).

    Returns
    -------
    WildBootstrapResult
    """
    a_ = check_alpha(alpha)
    check_positive_int("reps", reps, minimum=99)
    codes, ng = cluster_codes(clusters, fit.n_obs)
    c = _contrast_vector(fit, contrast)
    xs, es = fit.weighted()
    sw = None if fit.weights is None else np.sqrt(fit.weights)
    bread = fit.bread
    m = bread @ c
    cm = float(c @ m)
    if cm <= 0:
        raise InferenceError("the contrast has zero variance under the design (c'Mc = 0).")
    est = float(c @ fit.coef)
    xm = xs @ m
    factor = small_sample_factor(small_sample, fit.n_obs, fit.n_params, ng)

    def scores(vec: np.ndarray) -> np.ndarray:  # (G, k): X~_h' vec_h
        out = np.zeros((ng, xs.shape[1]))
        np.add.at(out, codes, xs * vec[:, None])
        return out

    def demean_t(z: np.ndarray) -> np.ndarray:  # M_{D*} in the sqrt-weight space
        if fit.fe is None:
            s = np.ones(len(z)) if sw is None else sw
            return z - np.outer(s, (s @ z) / float(s @ s))
        if sw is None:
            return fit.fe.demean(z)
        return cast(np.ndarray, fit.fe.demean(z / sw[:, None]) * sw[:, None])

    def k1(vec: np.ndarray) -> np.ndarray:  # K1[g, h] = sum_{o in g} xm_o [M_D(vec 1_h)]_o
        out = np.zeros((ng, ng))
        for start in range(0, ng, chunk):
            hs = np.arange(start, min(start + chunk, ng))
            z = np.zeros((len(vec), len(hs)))
            for j, h in enumerate(hs):
                sel = codes == h
                z[sel, j] = vec[sel]
            q = demean_t(z) * xm[:, None]
            blk = np.zeros((ng, len(hs)))
            np.add.at(blk, codes, q)
            out[:, hs] = blk
        return out

    pg = scores(xm)                     # rows: X~_g'X~_g m
    se_ = scores(es)
    sx = scores(xm)
    ke = k1(es) - pg @ bread @ se_.T
    kx = k1(xm) - pg @ bread @ sx.T
    ae, ax = se_ @ m, sx @ m
    v, enumerated = draw_weights(ng, reps, weights, seed)
    a0, a1 = ke @ v, kx @ v
    c0, c01, c1 = (a0 * a0).sum(0), (a0 * a1).sum(0), (a1 * a1).sum(0)
    n0, n1 = ae @ v, ax @ v
    var_obs = factor * float(((se_ @ m) ** 2).sum())
    se_obs = float(np.sqrt(var_obs))
    if not se_obs > 0:
        raise InferenceError("the CR1 standard error of the contrast is zero; nothing to bootstrap.")

    # a draw giving every cluster the same weight c rebuilds c times the restricted residuals, so
    # its t equals +-t_obs at every null, exactly: counted as such (in floating point its t drifts
    # from t_obs far from the estimate, and those drifts "rejected" there)
    same = np.all(v == v[:1], axis=0)
    floor = float(np.mean(same))

    def pval(r: float) -> tuple[float, float]:
        lam = (est - r) / cm
        t_obs = (est - r) / se_obs
        num = n0 + lam * n1
        den = np.sqrt(np.maximum(factor * (c0 + 2 * lam * c01 + lam * lam * c1), 1e-300))
        tstar = num / den
        return float(np.mean((np.abs(tstar) >= np.abs(t_obs) * (1 - 1e-12)) | same)), t_obs

    p, t = pval(null)

    def bound(direction: float) -> float:
        # the p-value is at least the share of equal-weight draws (2 / 2**G when the signs are
        # enumerated): when that share is alpha or more no null is rejected, and the side is
        # unbounded (with 2 clusters a side was reported at 1e9-1e15, where rounding "rejected").
        # Otherwise bracket by doubling steps up to 2**20 (~1e6) standard errors; no rejection by
        # then is an unbounded side too.
        if floor >= a_:
            return float(direction * np.inf)
        lo, step = est, se_obs
        hi = est + direction * step
        for _ in range(21):
            if pval(hi)[0] < a_:
                break
            lo, step = hi, step * 2
            hi = est + direction * step
        else:
            return float(direction * np.inf)
        for _ in range(60):
            mid = (lo + hi) / 2
            if pval(mid)[0] < a_:
                hi = mid
            else:
                lo = mid
            if abs(hi - lo) < 1e-7 * se_obs:
                break
        return float((lo + hi) / 2)

    ci = (bound(-1.0), bound(1.0))
    return WildBootstrapResult(estimate=est, se=se_obs, statistic=t, p_value=p, ci=ci, null=float(null),
                               alpha=a_, reps=int(v.shape[1]), n_clusters=ng, weights=weights,
                               seed=None if enumerated else seed, enumerated=enumerated)
