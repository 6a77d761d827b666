"""Compiled Frank-Wolfe kernels for the synthetic DiD weights (optional, numba).

Why this module exists
----------------------
The SDID weights are what synthdid's *procedure* returns (see
:mod:`evalint.estimators.synth.frank_wolfe`): on Prop 99 that is ~10,100 sequential Frank-Wolfe
steps for the full-sample unit weights and ~10,000 more for the batched placebo problems. A step
is O(m) arithmetic (m <= 40 there), so in numpy its cost is the per-call overhead (~35 calls,
~27 us per batched step). These kernels run the *same* iterations with the loops over problems and
steps in compiled code (numba ``@njit(cache=True)``): well under 1 us per step.

What "the same iterations" means
--------------------------------
:func:`frank_wolfe_batch` and :func:`simplex_rounds` are drop-in twins of
``frank_wolfe.frank_wolfe_batch`` and of the two-round loop of ``frank_wolfe.simplex_weights_batch``:

* the Gram quantities (``H = A'A + eta I``, ``c = A'b``, the ``-1e100`` entries of ``c`` for padded
  columns, ``M = H - c``, ``D = diag(H) - 2c``) and the thresholds are computed by the numpy code
  of the numpy path, so they are bit-for-bit the same;
* several problems (``B > 1``) follow the batched solver: the half gradient ``hg`` updated in
  place, recomputed as ``H x - c`` every ``refresh`` steps, ``hg'x`` and ``c'x`` recomputed every
  step, the vertex = first arg-min of ``hg``, the exact line search with the same operations in the
  same order (``((D_i + hg'x) + c'x) - 2 hg_i``, floor ``1e-300``, clip to [0, 1]), the stopping rule
  (decrease ``s (2 num - s den) <= min_decrease^2 n_rows`` from the second step on, or
  ``max_iter`` steps) and its iteration count. A stopped problem is frozen where it stopped, as
  in the batch (each problem is simply run to its own stop; problems are independent);
* one problem (``B == 1``) follows the numpy path's one-problem loop (lazy scaling ``x = a xs``,
  the scalar recurrences for ``g'x`` and ``c'x``, rescaling when ``a < 1e-8``) on the real columns;
* the sparsify step between the rounds zeroes weights ``<= max / 4`` and divides by the row sum
  computed with numpy's pairwise summation order (so it is bit-for-bit numpy's ``sparsify``).

The only floating-point differences are reassociations inside dot products: numpy's ``vecdot``
/ ``@`` / ``einsum`` (BLAS ``ddot``/``dgemv`` and SIMD kernels, several partial sums) versus a
sequential sum here. They change ``hg'x``, ``c'x`` and the refreshed ``hg`` by a few ulps, so the
weights agree to ~1e-14 rather than bit-for-bit (tests: 1e-12, same iteration counts).

Use
---
Nothing here is called directly by estimators: ``frank_wolfe.py`` dispatches a weight problem to
it when :func:`use_compiled` says so: by default (``EVALINT_NUMBA`` unset or ``auto``) only a
problem of at least :data:`MIN_COMPILED_SIZE` entries, where the kernels repay numba's import
within one fit; ``EVALINT_NUMBA=1`` every problem; ``EVALINT_NUMBA=0`` or ``EVALINT_NO_NUMBA=1``
none (also without numba). Otherwise the numpy path runs unchanged. numba is imported, and the
kernels compiled (or loaded from numba's on-disk cache), on first use, once per process.
"""

# The kernels clamp with explicit ``if`` statements rather than ``max``/``min`` on purpose: they
# mirror numpy's ``maximum``/``minimum`` (a NaN stays NaN), which Python's ``max`` does not.
# ruff: noqa: PLR1730

from __future__ import annotations

import functools
import math
import os
from typing import Any

import numpy as np

from evalint._typing import FloatArray

__all__ = ["backend", "compiled_available", "frank_wolfe_batch", "simplex_rounds", "unavailable_reason"]

_ENV = "EVALINT_NO_NUMBA"
#: ``auto`` (default): compiled kernels only for problems of at least ``MIN_COMPILED_SIZE`` entries;
#: ``1``/``always``: for every problem; ``0``/``never``: never (as ``EVALINT_NO_NUMBA=1``)
_MODE_ENV = "EVALINT_NUMBA"
#: B x n x m entries (B stacked problems, n rows, m candidate weights) from which the default
#: (``auto``) uses the kernels. Measured by benchmarks/sdid_numba_threshold.py (CPU time of one SDID
#: fit with 200 placebo replicates in a fresh process, numba vs numpy, 9 panel shapes, two runs;
#: table in benchmarks/RESULTS.md, SDID section): importing numba and loading the cached kernels
#: (~0.3-0.5 s CPU within a fit) costs about what the kernels save up to a largest weight problem
#: of ~100,000 entries (numpy / numba CPU 0.26-1.26 below it, 0.70-0.73 on Prop 99's 26,714); the
#: kernels were cheaper in every shape from 230,680 entries (1.02-1.07) and 1.6-1.9x cheaper from
#: 461,360. Prop 99 and each of the demo's fits (<= 27,000) stay on numpy and do not import numba.
MIN_COMPILED_SIZE = 200_000
_ALWAYS = ("1", "always", "on", "yes", "true")
_NEVER = ("0", "never", "off", "no", "false")


# --------------------------------------------------------------------------- kernels
# Plain Python functions, compiled by ``_load`` with ``numba.njit(cache=True)`` (and rebound under
# the same module-level names, so that kernels calling kernels call the compiled versions).

def _argmin(v: Any) -> int:
    """First index of the smallest entry (numpy's ``argmin`` for NaN-free input)."""
    best = 0
    bv = v[0]
    for k in range(1, v.shape[0]):
        if v[k] < bv:
            bv = v[k]
            best = k
    return best


def _block_sum(a: Any, lo: int, n: int) -> float:
    """numpy's pairwise summation of ``a[lo:lo + n]`` for ``n <= 128`` (one block).

    Fewer than 8 terms: sequential. Otherwise 8 strided partial sums combined as
    ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the tail added in order.
    """
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    stop = n - (n % 8)
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


def _pairwise_sum(a: Any, lo: int, n: int) -> float:
    """Sum of ``a[lo:lo + n]`` in numpy's pairwise order (``DOUBLE_pairwise_sum``).

    Ranges longer than 128 are split in two at ``n2 = n // 2 - (n // 2) % 8`` and summed as
    ``sum(left) + sum(right)``; that recursion is evaluated here with explicit stacks: blocks of
    <= 128 are visited left to right and a finished subtree is added to its left sibling (the
    stack entry of equal depth) as soon as it completes.
    """
    if n <= 128:
        return _block_sum(a, lo, n)
    todo_lo = np.empty(128, dtype=np.int64)
    todo_n = np.empty(128, dtype=np.int64)
    todo_d = np.empty(128, dtype=np.int64)
    done = np.empty(128)
    done_d = np.empty(128, dtype=np.int64)
    todo_lo[0] = lo
    todo_n[0] = n
    todo_d[0] = 0
    top = 1
    k = 0
    while top > 0:
        top -= 1
        s_lo = todo_lo[top]
        s_n = todo_n[top]
        d = todo_d[top]
        if s_n <= 128:
            done[k] = _block_sum(a, s_lo, s_n)
            done_d[k] = d
            k += 1
            while k >= 2 and done_d[k - 1] == done_d[k - 2]:
                done[k - 2] = done[k - 2] + done[k - 1]
                done_d[k - 2] -= 1
                k -= 1
        else:
            n2 = s_n // 2
            n2 -= n2 % 8
            todo_lo[top] = s_lo + n2        # right half, processed after the left
            todo_n[top] = s_n - n2
            todo_d[top] = d + 1
            todo_lo[top + 1] = s_lo
            todo_n[top + 1] = n2
            todo_d[top + 1] = d + 1
            top += 2
    return done[0]


def _sparsify_row(w: Any) -> None:
    """numpy's ``sparsify`` for one row, in place: zero entries ``<= max / 4``, renormalise."""
    m = w.shape[0]
    mx = w[0]
    for k in range(1, m):
        if w[k] > mx:
            mx = w[k]
    cut = mx / 4.0
    for k in range(m):
        if w[k] <= cut:
            w[k] = 0.0
    s = _pairwise_sum(w, 0, m)
    for k in range(m):
        w[k] = w[k] / s


def _fw_gram(H: Any, c: Any, M: Any, D: Any, x: Any, hg: Any, threshold: float, max_iter: int,
             refresh: int) -> int:
    """One problem of the batched (Gram-form) iteration; ``x`` updated in place; returns the steps.

    Per step, one pass over the coordinates updates ``x`` and ``hg`` and accumulates, for the next
    step, the arg-min of ``hg`` and the sums ``hg'x`` and ``c'x`` (each in index order, so the
    same numbers as separate passes would give).
    """
    m = x.shape[0]
    t = 0
    i = 0
    hgx = 0.0
    cx = 0.0
    while t < max_iter:
        if t % refresh == 0:
            for j in range(m):
                s = 0.0
                for k in range(m):
                    s += H[j, k] * x[k]
                hg[j] = s - c[j]
            i = 0
            best = hg[0]
            hgx = 0.0
            cx = 0.0
            for k in range(m):
                hk = hg[k]
                if hk < best:
                    best = hk
                    i = k
                hgx += hk * x[k]
                cx += c[k] * x[k]
        t += 1
        hg_i = hg[i]
        num = hgx - hg_i
        denom = D[i] + hgx
        denom = denom + cx
        denom = denom - 2.0 * hg_i
        if denom < 1e-300:
            denom = 1e-300
        step = num / denom
        if step < 0.0:
            step = 0.0
        if step > 1.0:
            step = 1.0
        keep = 1.0 - step
        stop = t >= 2 and not (step * (2.0 * num - step * denom) > threshold)
        vi = i
        i = 0
        hgx = 0.0
        cx = 0.0
        best = 0.0
        for k in range(m):
            xk = x[k] * keep
            if k == vi:
                xk = xk + step
            x[k] = xk
            hk = hg[k] * keep + step * M[vi, k]
            hg[k] = hk
            if k == 0 or hk < best:
                best = hk
                i = k
            hgx += hk * xk
            cx += c[k] * xk
        if stop:
            break
    return t


def _fw_lazy(H: Any, c: Any, M: Any, D: Any, Mii: Any, xs: Any, gs: Any, threshold: float, max_iter: int,
             refresh: int) -> int:
    """The numpy path's one-problem loop (lazy scaling, scalar recurrences); ``xs`` in place."""
    m = xs.shape[0]
    a = 1.0
    gx = 0.0
    cx = 0.0
    t = 0
    since = refresh
    while t < max_iter:
        if since >= refresh or a < 1e-8:
            if a < 1e-8:
                for k in range(m):
                    xs[k] = a * xs[k]
                tot = _pairwise_sum(xs, 0, m)
                for k in range(m):
                    xs[k] = xs[k] / tot
            else:
                for k in range(m):
                    xs[k] = a * xs[k]
            a = 1.0
            for j in range(m):
                s = 0.0
                for k in range(m):
                    s += H[j, k] * xs[k]
                gs[j] = s - c[j]
            gx = 0.0
            for k in range(m):
                gx += gs[k] * xs[k]
            cx = 0.0
            for k in range(m):
                cx += c[k] * xs[k]
            since = 0
        t += 1
        since += 1
        i = _argmin(gs)
        g_i = a * gs[i]
        num = gx - g_i
        denom = ((D[i] + gx) + cx) - 2.0 * g_i
        if denom < 1e-300:
            denom = 1e-300
        step = num / denom
        if step < 0.0:
            step = 0.0
        elif step > 1.0:
            step = 1.0
        one = 1.0 - step
        gx = ((one * one) * gx + (step * one) * ((2.0 * g_i + c[i]) - cx)) + (step * step) * Mii[i]
        cx = one * cx + step * c[i]
        if one == 0.0:
            for k in range(m):
                xs[k] = 0.0
                gs[k] = M[i, k]
            xs[i] = 1.0
            a = 1.0
        elif step > 0.0:
            a *= one
            coef = step / a
            xs[i] = xs[i] + coef
            for k in range(m):
                gs[k] = gs[k] + M[i, k] * coef
        if t >= 2 and step * (2.0 * num - step * denom) <= threshold:
            break
    for k in range(m):
        xs[k] = a * xs[k]
    return t


def _rounds_gram(H: Any, c: Any, M: Any, D: Any, x: Any, threshold: Any, first: int, second: int,
                 use_sparsify: bool, refresh: int, iters: Any) -> None:
    """Every problem: a round of at most ``first`` steps, then (with ``use_sparsify``) sparsify
    and a round of at most ``second`` steps. ``x`` (B, m) in place; steps in ``iters`` (B, 2)."""
    B = x.shape[0]
    m = x.shape[1]
    hg = np.empty(m)
    for p in range(B):
        xp = x[p]
        iters[p, 0] = _fw_gram(H[p], c[p], M[p], D[p], xp, hg, threshold[p], first, refresh)
        if use_sparsify:
            _sparsify_row(xp)
            iters[p, 1] = _fw_gram(H[p], c[p], M[p], D[p], xp, hg, threshold[p], second, refresh)


def _rounds_lazy(H: Any, c: Any, M: Any, D: Any, Mii: Any, x: Any, cols: Any, threshold: float, first: int,
                 second: int, use_sparsify: bool, refresh: int, iters: Any) -> None:
    """:func:`_rounds_gram` for one problem on its real columns ``cols``; ``x`` (m,) in place
    (zero outside ``cols`` on return, as in the numpy path)."""
    mc = cols.shape[0]
    xs = np.empty(mc)
    gs = np.empty(mc)
    for j in range(mc):
        xs[j] = x[cols[j]]
    iters[0] = _fw_lazy(H, c, M, D, Mii, xs, gs, threshold, first, refresh)
    x[:] = 0.0
    for j in range(mc):
        x[cols[j]] = xs[j]
    if use_sparsify:
        _sparsify_row(x)
        for j in range(mc):
            xs[j] = x[cols[j]]
        iters[1] = _fw_lazy(H, c, M, D, Mii, xs, gs, threshold, second, refresh)
        x[:] = 0.0
        for j in range(mc):
            x[cols[j]] = xs[j]


_KERNELS = ("_argmin", "_block_sum", "_pairwise_sum", "_sparsify_row", "_fw_gram", "_fw_lazy", "_rounds_gram",
            "_rounds_lazy")
_STATE: dict[str, Any] = {"tried": False, "ok": False, "reason": ""}


def _load() -> bool:
    """Import numba and compile (or load from cache) the kernels, once per process."""
    if not _STATE["tried"]:
        _STATE["tried"] = True
        try:
            import numba
        except Exception as exc:  # noqa: BLE001 - missing, or incompatible with this numpy
            _STATE["reason"] = f"numba not importable ({type(exc).__name__}: {exc})"
            return False
        g = globals()
        plain = {name: g[name] for name in _KERNELS}
        try:
            for name in _KERNELS:  # helpers first: later kernels resolve them as compiled functions
                g[name] = numba.njit(cache=True, nogil=True)(g[name])
        except Exception as exc:  # noqa: BLE001 - e.g. no writable cache directory for cache=True
            g.update(plain)
            _STATE["reason"] = f"numba kernels could not be set up ({type(exc).__name__}: {exc})"
            return False
        _STATE["ok"] = True
    return bool(_STATE["ok"])


# --------------------------------------------------------------------------- public
@functools.lru_cache(maxsize=8)
def _min_size(no_numba: str, mode: str) -> float:
    """The smallest problem the kernels take under these environment values (``inf``: none).

    Cached per pair of values: the environment is parsed once per process (a test or session that
    changes the variables gets the new rule, parsed once too).
    """
    if no_numba.strip() not in ("", "0"):
        return math.inf
    mode = mode.strip().lower()
    if mode in _NEVER:
        return math.inf
    if mode in _ALWAYS:
        return 0.0
    return float(MIN_COMPILED_SIZE)


def use_compiled(size: int) -> bool:
    """Whether a weight problem of ``size`` = B x n x m entries runs in the compiled kernels.

    ``EVALINT_NUMBA=auto`` or unset (default): only from :data:`MIN_COMPILED_SIZE` entries, where
    the kernels repay numba's one-off import within a single fit (measured,
    benchmarks/sdid_numba_threshold.py); ``EVALINT_NUMBA=1``: whenever numba is importable;
    ``EVALINT_NO_NUMBA=1`` or ``EVALINT_NUMBA=0``: never. The rule depends on the problem alone
    (not on whether numba happens to be loaded), so a given fit always takes the same path; numba
    is imported only when a problem takes it, once per process (:func:`_load`).
    """
    if size < _min_size(os.environ.get(_ENV, ""), os.environ.get(_MODE_ENV, "auto")):
        return False
    return _load()


def compiled_available() -> bool:
    """True when the compiled kernels will run: numba importable and ``EVALINT_NO_NUMBA`` not set.

    The environment variable is read on every call (``EVALINT_NO_NUMBA=1`` forces the numpy path,
    also within a running process); numba is imported on the first call that needs it.
    """
    if os.environ.get(_ENV, "").strip() not in ("", "0"):
        return False
    return _load()


def backend() -> str:
    """``"numba"`` or ``"numpy"``: which Frank-Wolfe path the SDID solvers take now."""
    return "numba" if compiled_available() else "numpy"


def unavailable_reason() -> str:
    """Why the numpy path runs (empty when the compiled path is used)."""
    if os.environ.get(_ENV, "").strip() not in ("", "0"):
        return f"{_ENV} is set"
    return "" if _load() else str(_STATE["reason"])


def _require() -> None:
    if not _load():
        raise RuntimeError(f"compiled Frank-Wolfe kernels unavailable: {_STATE['reason']}")


def _gram_batch(A: FloatArray, b: FloatArray, eta: FloatArray, col_mask: np.ndarray | None
                ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """H, c, M, D exactly as the numpy batched solver computes them."""
    m = A.shape[2]
    H = np.einsum("bnm,bnk->bmk", A, A)
    H[:, np.arange(m), np.arange(m)] += eta[:, None]
    c = np.einsum("bnm,bn->bm", A, b)
    if col_mask is not None:
        c = np.where(col_mask, c, -1e100)
    M = H - c[:, None, :]
    D = np.diagonal(H, axis1=1, axis2=2) - 2.0 * c
    return (np.ascontiguousarray(H), np.ascontiguousarray(c), np.ascontiguousarray(M),
            np.ascontiguousarray(D))


def _solve(A: FloatArray, b: FloatArray, x0: FloatArray, eta: float | FloatArray, min_decrease: float,
           first: int, second: int, use_sparsify: bool, refresh: int, n_rows: FloatArray | None,
           col_mask: np.ndarray | None) -> tuple[FloatArray, np.ndarray]:
    _require()
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    B, n, m = A.shape
    eta = np.broadcast_to(np.asarray(eta, dtype=float), (B,)).copy()
    iters = np.zeros((B, 2), dtype=np.int64)
    refresh = int(refresh)
    if refresh < 1:
        raise ValueError("refresh must be a positive integer")
    if B == 1:
        rows = float(n) if n_rows is None else float(np.asarray(n_rows, dtype=float).ravel()[0])
        cols = np.arange(m) if col_mask is None else np.flatnonzero(np.asarray(col_mask)[0])
        A1 = A[0][:, cols]
        H = A1.T @ A1
        H[np.diag_indices_from(H)] += float(eta[0])
        c = A1.T @ b[0]
        M = H - c[None, :]
        D = np.diagonal(H) - 2.0 * c
        Mii = np.diagonal(H) - c
        x = np.array(x0, dtype=float, copy=True).reshape(1, m)
        _rounds_lazy(np.ascontiguousarray(H), np.ascontiguousarray(c), np.ascontiguousarray(M), D, Mii,
                     x[0], cols.astype(np.int64), float(min_decrease) ** 2 * rows, int(first), int(second),
                     bool(use_sparsify), refresh, iters[0])
        return x, iters
    H, c, M, D = _gram_batch(A, b, eta, col_mask)
    threshold = float(min_decrease) ** 2 * (np.full(B, float(n)) if n_rows is None
                                            else np.asarray(n_rows, dtype=float))
    x = np.array(x0, dtype=float, copy=True, order="C")
    _rounds_gram(H, c, M, D, x, np.ascontiguousarray(threshold, dtype=float), int(first), int(second),
                 bool(use_sparsify), refresh, iters)
    return x, iters


def frank_wolfe_batch(
    A: FloatArray,
    b: FloatArray,
    x0: FloatArray,
    eta: float | FloatArray,
    *,
    min_decrease: float,
    max_iter: int,
    refresh: int = 200,
    n_rows: FloatArray | None = None,
    col_mask: np.ndarray | None = None,
) -> tuple[FloatArray, np.ndarray]:
    """Compiled twin of :func:`evalint.estimators.synth.frank_wolfe.frank_wolfe_batch` (one round).

    Same arguments and returns: weights (B, m) and the steps taken by each problem (B,).
    """
    x, iters = _solve(A, b, x0, eta, min_decrease, max_iter, 0, False, refresh, n_rows, col_mask)
    return x, iters[:, 0].copy()


def simplex_rounds(
    A: FloatArray,
    b: FloatArray,
    x0: FloatArray,
    eta: float | FloatArray,
    *,
    min_decrease: float,
    first: int,
    max_iter: int,
    use_sparsify: bool,
    refresh: int = 200,
    n_rows: FloatArray | None = None,
    col_mask: np.ndarray | None = None,
) -> tuple[FloatArray, np.ndarray]:
    """The two rounds of ``simplex_weights_batch`` in one compiled call.

    A round of at most ``first`` steps; with ``use_sparsify``, the sparsify step and a second
    round of at most ``max_iter`` steps (the Gram quantities are computed once for both).

    Returns
    -------
    x : ndarray, shape (B, m)
    iterations : ndarray of int, shape (B, 2)
        Steps of the first and second round (0 for the second when ``use_sparsify`` is false).
    """
    return _solve(A, b, x0, eta, min_decrease, first, max_iter, use_sparsify, refresh, n_rows, col_mask)
