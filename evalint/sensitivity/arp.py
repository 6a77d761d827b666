"""Conditional and hybrid moment-inequality tests with linear nuisance parameters (ARP).

The test of ``H0: E[Y] - X gamma <= 0 for some gamma`` used by Rambachan & Roth (2023) for
polyhedral restrictions on the violation of parallel trends (Andrews, Roth & Pakes 2023).
With ``sigma_j = sqrt(Sigma_Y[j, j])`` the statistic is the linear program

    eta = min_{eta, gamma} eta   s.t.   Y - X gamma <= eta * sigma,

whose dual is ``eta = max_{g in P} g'Y`` over the polytope
``P = {g >= 0, X'g = 0, sigma'g = 1}``. The conditional test conditions on the maximising
vertex ``g*`` and on ``S = Y - b eta`` (``b = Sigma_Y g* / g*'Sigma_Y g*``, independent of
``g*'Y``): ``eta`` is then a normal variable ``N(g*'mu, g*'Sigma_Y g*)`` truncated to the
interval ``[v_lo, v_up]`` of values for which ``g*`` stays optimal. ``g*'mu <= 0`` under the
null, so the test rejects when ``eta`` exceeds the ``1 - alpha`` quantile of that truncated
normal with mean 0. The interval ``[v_lo, v_up]`` is the set of ``c`` with
``max_{g in P} g'(S + b c) <= c``, i.e. (by duality) the ``c`` for which
``S - X x <= c (sigma - b)`` has a solution ``x``: its end points are two linear programs, or
closed-form ratios over the vertices of ``P`` when those are few enough to list. The vertices
are the extreme rays of the cone ``{g >= 0, X'g = 0}`` scaled to ``sigma'g = 1``; the rays depend
on ``X`` alone and are found once by double description (Fukuda & Prodon 1996), so restriction
sizes and pieces that share ``X`` (every ``Mbar`` and every piece of ``Delta^RM``) share them.

The hybrid test first rejects when ``eta`` exceeds the least-favourable critical value
``c_LF`` (the ``1 - kappa`` quantile of ``eta`` when ``Y ~ N(0, Sigma_Y)``, by simulation),
and otherwise runs the conditional test at level ``(alpha - kappa) / (1 - kappa)`` with
``v_up`` capped at ``c_LF``; ``kappa = alpha / 10`` as in the HonestDiD R package.

References
----------
Andrews, I., Roth, J. & Pakes, A. (2023). Inference for linear conditional moment
    inequalities. Review of Economic Studies 90(6), 2763-2791.
Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. Review of
    Economic Studies 90(5), 2555-2591.
Fukuda, K. & Prodon, A. (1996). Double description method revisited. Combinatorics and
    Computer Science, LNCS 1120, 91-111.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, special
from scipy.optimize import linprog

__all__ = ["MomentProblem", "truncated_normal_reject"]

#: Above this many extreme rays of the cone behind P (double description) its vertices are not
#: listed; linear programs are used.
MAX_RAYS = 20_000
_TOL = 1e-10
#: Extreme rays (on X alone) and least-favourable critical values depend on the covariance and
#: the restriction only, not on the estimates: kept for re-use (sensitivity curves, simulations), at most this many.
_CACHE_SIZE = 256
_RAY_CACHE: dict[bytes, np.ndarray | None] = {}
_LF_CACHE: dict[bytes, float] = {}


def _unique_rows(a: np.ndarray) -> np.ndarray:
    """``np.unique(a, axis=0)`` for a float matrix without NaN: the distinct rows in lexicographic
    order, by a lexsort (``np.unique`` sorts a structured view of the rows, several times slower)."""
    if len(a) < 2:
        return a.copy()
    s = a[np.lexsort(a.T[::-1])]
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.any(s[1:] != s[:-1], axis=1, out=keep[1:])
    return s[keep]


def extreme_rays(x: np.ndarray, max_rays: int = MAX_RAYS) -> np.ndarray | None:
    """Extreme rays of the cone ``{g >= 0 : x'g = 0}`` (one per row, each scaled to max 1), or
    ``None`` when there are more than ``max_rays`` along the way.

    Double description: start from the rays ``e_i`` of the orthant and cut by one hyperplane
    ``x_j'g = 0`` at a time (in a sparse basis of the constraints, sparsest first); a new ray
    joins a ray on each side when the two are adjacent (no other ray's support lies inside the
    union of theirs, the combinatorial test of Fukuda & Prodon 1996). Supports are tracked
    exactly, as sets, not from rounded values.

    References
    ----------
    Fukuda, K. & Prodon, A. (1996). Double description method revisited. Combinatorics and
        Computer Science, LNCS 1120, 91-111.
    """
    m, p = x.shape
    if p:
        # the same cone from a sparse basis of the constraints (identity on p pivot coordinates
        # chosen by pivoted QR), sparsest rows first: far fewer intermediate rays
        piv = linalg.qr(x.T, pivoting=True, mode="r")[1][:p]
        r = np.linalg.solve(x.T[:, piv], x.T)
        r[np.abs(r) <= 1e-12 * np.abs(r).max()] = 0.0
        x = r[np.argsort((r != 0).sum(axis=1), kind="stable")].T
    rays, supp = np.eye(m), np.eye(m, dtype=bool)
    for j in range(p):
        col = x[:, j]
        v = rays @ col
        tol = 1e-12 * np.abs(col).max() * np.abs(rays).sum(axis=1)
        pos, neg = np.flatnonzero(v > tol), np.flatnonzero(v < -tol)
        zero = np.flatnonzero(np.abs(v) <= tol)
        new_rays, new_supp = [rays[zero]], [supp[zero]]
        if len(pos) and len(neg):
            sp, sn = supp[pos].astype(np.int32), supp[neg].astype(np.int32)
            # an extreme ray of a cone cut by j + 1 hyperplanes has at most j + 2 non-zeros
            size = sp.sum(axis=1)[:, None] + sn.sum(axis=1)[None, :] - sp @ sn.T
            ip, ineg = np.nonzero(size <= j + 2)
            union = supp[pos[ip]] | supp[neg[ineg]]                       # candidates x m
            # a third ray whose support lies inside the union spoils the pair (the pair's own two
            # supports lie inside it: a count of 2 means adjacent)
            outside = (~union).astype(np.int32) @ supp.T.astype(np.int32)  # candidates x rays
            keep = (outside == 0).sum(axis=1) == 2
            ip, ineg, union = ip[keep], ineg[keep], union[keep]
            if len(ip) + len(zero) > max_rays:
                return None
            a, b = pos[ip], neg[ineg]
            r = v[a][:, None] * rays[b] - v[b][:, None] * rays[a]
            r /= np.abs(r).max(axis=1, keepdims=True)
            new_rays.append(r)
            new_supp.append(union)
        rays, supp = np.vstack(new_rays), np.vstack(new_supp)
        rays[~supp] = 0.0
        if not len(rays):
            break
    return rays


def _key(*parts: object) -> bytes:
    return b"|".join(np.ascontiguousarray(p, dtype=float).tobytes() if isinstance(p, np.ndarray)
                     else repr(p).encode() for p in parts)


def _remember(cache: dict, key: bytes, value: object) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value


def truncated_normal_reject(eta: np.ndarray, sd: np.ndarray, v_lo: np.ndarray, v_up: np.ndarray,
                            alpha: float) -> np.ndarray:
    """Whether ``eta`` exceeds ``max(0, q)``, ``q`` the ``1 - alpha`` quantile of ``N(0, sd^2)``
    truncated to ``[v_lo, v_up]`` (vectorised; survival functions on the upper side keep tail
    precision). A non-positive statistic is never rejected (as in the HonestDiD R package)."""
    eta, sd, lo, up = (np.asarray(x, dtype=float) for x in (eta, sd, v_lo, v_up))
    z, zl, zu = eta / sd, lo / sd, up / sd
    upper_side = zl > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf, sf = special.ndtr, (lambda x: special.ndtr(-x))
        num = np.where(upper_side, sf(z) - sf(zu), cdf(zu) - cdf(z))
        den = np.where(upper_side, sf(zl) - sf(zu), cdf(zu) - cdf(zl))
        pval = np.where(den > 0, num / den, np.where(z >= zu, 0.0, 1.0))
    return (pval < alpha) & (eta > 0)


@dataclass
class MomentProblem:
    """Moments ``Y(theta) = y0 - a theta`` with covariance ``Sigma_Y`` and nuisance matrix ``X``.

    ``X`` may have zero columns (no nuisance parameter). Build once per restriction set; then
    :meth:`accepts` tests any number of ``theta`` values.
    """

    y0: np.ndarray
    a: np.ndarray
    sigma_y: np.ndarray
    x: np.ndarray
    sd: np.ndarray = field(init=False)
    vertices: np.ndarray | None = field(init=False, default=None)
    empty: bool = field(init=False, default=False)
    _lf: dict[tuple[float, int, int], float] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.sd = np.sqrt(np.clip(np.diag(self.sigma_y), 0.0, None))
        x = np.asarray(self.x, dtype=float).reshape(len(self.y0), -1)
        if x.shape[1]:
            u, s, _ = np.linalg.svd(x, full_matrices=False)
            x = u[:, s > 1e-10 * max(s.max(), 1.0)]  # a basis of the column space: same polytope P
        self.x = x
        # sigma in the column space of X: eta is unbounded below, every theta is accepted
        if x.shape[1]:
            resid = self.sd - x @ (x.T @ self.sd)
            self.empty = bool(np.linalg.norm(resid) <= 1e-10 * np.linalg.norm(self.sd))
        if not self.empty:
            # the vertices of P are the extreme rays of {g >= 0, X'g = 0} scaled to sd'g = 1: the
            # rays depend on X only, shared by every restriction size and piece with the same X
            key = _key(x, x.shape)
            if key not in _RAY_CACHE:
                _remember(_RAY_CACHE, key, extreme_rays(x))
            rays = _RAY_CACHE[key]
            if rays is not None:
                den = rays @ self.sd
                ok = den > 0
                self.vertices = _unique_rows(np.round(rays[ok] / den[ok, None], 14))

    # ------------------------------------------------------------ the polytope P
    def _eta_lp(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        p = self.x.shape[1]
        res = linprog(np.r_[1.0, np.zeros(p)], A_ub=np.column_stack([-self.sd, -self.x]), b_ub=-y,
                      bounds=[(None, None)] * (p + 1), method="highs")
        if res.status != 0:
            raise RuntimeError(f"ARP statistic: linear program failed ({res.message}).")
        return float(res.fun), -np.asarray(res.ineqlin.marginals)

    def _interval_lp(self, s: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        p = self.x.shape[1]
        a_ub = np.column_stack([-(self.sd - b), -self.x])
        out = []
        for sign in (1.0, -1.0):  # min c, then max c
            res = linprog(np.r_[sign, np.zeros(p)], A_ub=a_ub, b_ub=-s, bounds=[(None, None)] * (p + 1),
                          method="highs")
            out.append(-sign * np.inf if res.status == 3 else sign * float(res.fun))
        return out[0], out[1]

    # ------------------------------------------------------------ statistics
    def statistic(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``eta``, its SD ``sqrt(g*'Sigma_Y g*)`` and the truncation ``[v_lo, v_up]`` for each
        column of ``y`` (m x n)."""
        y = np.asarray(y, dtype=float).reshape(len(self.y0), -1)
        n = y.shape[1]
        if self.vertices is not None:
            gv = self.vertices
            vals = gv @ y
            best = np.argmax(vals, axis=0)
            eta = vals[best, np.arange(n)]
            g = gv[best]                                   # n x m
            sg = g @ self.sigma_y                          # n x m  (Sigma_Y g*)'
            var = np.einsum("ij,ij->i", sg, g)
            b = sg / var[:, None]                          # n x m
            s = y.T - b * eta[:, None]                     # n x m
            gb, gs = b @ gv.T, s @ gv.T                    # n x k
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = gs / (1.0 - gb)
            v_lo = np.max(np.where(gb < 1 - _TOL, ratio, -np.inf), axis=1)
            v_up = np.min(np.where(gb > 1 + _TOL, ratio, np.inf), axis=1)
            return eta, np.sqrt(var), v_lo, v_up
        eta, sd, lo, up = (np.empty(n) for _ in range(4))
        for j in range(n):
            e, g = self._eta_lp(y[:, j])
            sg = self.sigma_y @ g
            var = float(g @ sg)
            b = sg / var
            eta[j], sd[j] = e, np.sqrt(var)
            lo[j], up[j] = self._interval_lp(y[:, j] - b * e, b)
        return eta, sd, lo, up

    def eta_only(self, y: np.ndarray) -> np.ndarray:
        """The statistic alone for each column of ``y`` (used for the least-favourable draws)."""
        if self.vertices is not None:
            return np.max(self.vertices @ y, axis=0)
        return np.array([self._eta_lp(y[:, j])[0] for j in range(y.shape[1])])

    def lf_critical(self, kappa: float, sims: int, seed: int) -> float:
        """``1 - kappa`` quantile of ``eta`` under ``Y ~ N(0, Sigma_Y)`` (``sims`` draws)."""
        if (kappa, sims, seed) in self._lf:
            return self._lf[(kappa, sims, seed)]
        key = _key(self.sigma_y, self.x, kappa, sims, seed)
        if key not in _LF_CACHE:
            rng = np.random.default_rng(seed)
            w, v = np.linalg.eigh(self.sigma_y)
            root = v * np.sqrt(np.clip(w, 0.0, None))
            draws = root @ rng.standard_normal((len(self.y0), sims))
            _remember(_LF_CACHE, key, float(np.quantile(self.eta_only(draws), 1.0 - kappa)))
        self._lf[(kappa, sims, seed)] = _LF_CACHE[key]
        return _LF_CACHE[key]

    def accepts(self, theta: np.ndarray, alpha: float, *, hybrid: str = "conditional",
                kappa: float | None = None, sims: int = 1000, seed: int = 0) -> np.ndarray:
        """Whether each ``theta`` is accepted by the conditional (``hybrid="conditional"``) or the
        least-favourable hybrid (``hybrid="lf"``) test at level ``alpha``."""
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        if self.empty:
            return np.ones(len(theta), dtype=bool)
        y = self.y0[:, None] - np.outer(self.a, theta)
        eta, sd, lo, up = self.statistic(y)
        level = alpha
        if hybrid == "lf":
            k = alpha / 10 if kappa is None else kappa
            c_lf = self.lf_critical(k, sims, seed)
            first = eta > c_lf
            up = np.minimum(up, c_lf)
            level = (alpha - k) / (1 - k)
            return ~(first | truncated_normal_reject(eta, sd, lo, up, level))
        return ~truncated_normal_reject(eta, sd, lo, up, level)
