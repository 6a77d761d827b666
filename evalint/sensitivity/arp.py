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
closed-form ratios over the vertices of ``P`` when those are few enough to list.

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
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special
from scipy.optimize import linprog

__all__ = ["MomentProblem", "truncated_normal_reject"]

#: Above this many candidate bases the vertices of P are not listed; linear programs are used.
MAX_BASES = 60_000
_TOL = 1e-10
#: Vertices and least-favourable critical values depend on the covariance and the restriction
#: only, not on the estimates: kept for re-use (sensitivity curves, simulations), at most this many.
_CACHE_SIZE = 256
_VERTEX_CACHE: dict[bytes, np.ndarray] = {}
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
        if not self.empty and math.comb(len(self.y0), x.shape[1] + 1) <= MAX_BASES:
            key = _key(x, self.sd)
            if key not in _VERTEX_CACHE:
                _remember(_VERTEX_CACHE, key, self._enumerate())
            self.vertices = _VERTEX_CACHE[key]

    # ------------------------------------------------------------ the polytope P
    def _enumerate(self) -> np.ndarray:
        m, p = self.x.shape
        eq = np.vstack([self.x.T, self.sd[None, :]])  # (p+1) x m; P = {g >= 0, eq g = e_last}
        rhs = np.zeros(p + 1)
        rhs[-1] = 1.0
        bases = np.array(list(itertools.combinations(range(m), p + 1)), dtype=np.intp)
        subs = np.transpose(eq[:, bases], (1, 0, 2))                   # nb x (p+1) x (p+1)
        scale = np.abs(eq).max()
        ok = np.abs(np.linalg.det(subs / scale)) > 1e-12
        bases, subs = bases[ok], subs[ok]
        g = np.linalg.solve(subs, np.broadcast_to(rhs, (len(subs), p + 1))[..., None])[..., 0]
        feasible = np.all(g >= -1e-12, axis=1)
        full = np.zeros((int(feasible.sum()), m))
        np.put_along_axis(full, bases[feasible], np.clip(g[feasible], 0.0, None), axis=1)
        return _unique_rows(np.round(full, 14))

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
        key = _key(self.sigma_y, self.x, kappa, sims, seed)
        if key not in _LF_CACHE:
            rng = np.random.default_rng(seed)
            w, v = np.linalg.eigh(self.sigma_y)
            root = v * np.sqrt(np.clip(w, 0.0, None))
            draws = root @ rng.standard_normal((len(self.y0), sims))
            _remember(_LF_CACHE, key, float(np.quantile(self.eta_only(draws), 1.0 - kappa)))
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
