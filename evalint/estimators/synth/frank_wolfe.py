"""Batched Frank-Wolfe solver for synthetic DiD unit and time weights.

Why this module exists beside :mod:`evalint.estimators.synth.simplex`
----------------------------------------------------------------------
The family's shared simplex solver finds the *exact* minimiser of a simplex-constrained
least-squares problem. Synthetic DiD (Arkhangelsky et al. 2021, Section 2 and Algorithm 1)
does not define its weights as that exact minimiser in practice: the published numbers
(Table 1, the weights in the synthdid vignettes) are what a specific procedure returns:

1. Frank-Wolfe with exact line search on the ridge-penalised objective
   ``zeta^2 ||x||^2 + ||A x - b||^2 / n`` over the unit simplex, started from uniform weights
   (or from the previous fit's weights in the variance replications);
2. stopped once an iteration lowers the objective by no more than ``min_decrease^2``
   (``min_decrease = 1e-5 * noise level``), at most 100 iterations in a first round;
3. the *sparsify* step: weights at or below a quarter of the largest weight are set to zero
   and the rest renormalised;
4. a second Frank-Wolfe round from the sparsified weights, same stopping rule, at most
   10,000 iterations.

With ``zeta`` as small as ``1e-6 * noise`` (the time weights, and SC's unit weights), the
problem is nearly unregularised and has many near-optimal solutions; the early stop and the
sparsify step pick one of them. Reproducing the published weights to 2-3 decimals and the
estimates to 5 decimals therefore needs this procedure, not an exact QP solution. The solver
is also *batched*: it solves ``B`` independent problems of the same shape in one set of
array operations, which is how the placebo and bootstrap replications run fast.

References
----------
Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
Synthetic Difference-in-Differences. American Economic Review 111(12), 4088-4118.
Frank, M. & Wolfe, P. (1956). An algorithm for quadratic programming. Naval Research
Logistics Quarterly 3(1-2), 95-110.
"""

from __future__ import annotations

import numpy as np

from evalint._typing import FloatArray

__all__ = ["frank_wolfe_batch", "simplex_weights_batch", "sparsify"]


def _compiled(shape: tuple[int, ...]):
    """:mod:`evalint.estimators.synth.fw_compiled` when its numba kernels run a problem of
    ``shape`` (B, n, m), else None.

    The compiled kernels take the same steps (see that module) and pay for numba's one-off import
    only on large problems (:func:`~evalint.estimators.synth.fw_compiled.use_compiled`); without
    numba, with ``EVALINT_NO_NUMBA=1`` or below that size, the numpy code below runs.
    """
    from evalint.estimators.synth import fw_compiled

    return fw_compiled if fw_compiled.use_compiled(int(np.prod(shape))) else None


def sparsify(weights: FloatArray) -> FloatArray:
    """Zero weights at or below a quarter of each row's largest weight; renormalise rows.

    Parameters
    ----------
    weights : ndarray, shape (B, m)
        Rows on the unit simplex.

    Returns
    -------
    ndarray, shape (B, m)
    """
    w = np.array(weights, dtype=float, copy=True)
    cut = w.max(axis=1, keepdims=True) / 4.0
    w[w <= cut] = 0.0
    return w / w.sum(axis=1, keepdims=True)


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
    """Minimise ``eta ||x||^2 + ||A x - b||^2`` over the unit simplex for B problems at once.

    Each problem takes exact-line-search Frank-Wolfe steps (toward the vertex with the
    smallest gradient coordinate, the first one on ties) until one step lowers
    ``(eta ||x||^2 + ||A x - b||^2) / n`` (``n`` = rows of ``A``; with ``eta = n zeta^2``
    this is ``zeta^2 ||x||^2 + ||Ax - b||^2 / n``) by no more than ``min_decrease**2``
    (at least two steps are taken), or until ``max_iter`` steps. Problems that have
    stopped are frozen while the others continue.

    The iterations run in Gram form: with ``H = A'A + eta I`` and ``c = A'b`` precomputed,
    the half gradient ``H x - c`` is updated in place (O(m) per step instead of O(nm)) and
    recomputed exactly every ``refresh`` steps. The decrease of a step of length ``s`` along ``d`` is
    computed exactly as ``(2 s num - s^2 den) / n`` (``num = -grad.d / 2``, ``den`` the
    curvature) rather than as a difference of two objective values.

    Parameters
    ----------
    A : ndarray, shape (B, n, m)
    b : ndarray, shape (B, n)
    x0 : ndarray, shape (B, m)
        Starting points on the simplex.
    eta : float or ndarray, shape (B,)
        Ridge penalty ``n * zeta**2``.
    min_decrease : float
        The stopping threshold (its square is compared with the decrease).
    max_iter : int
    refresh : int
        Steps between exact recomputations of the running quantities.
    n_rows : ndarray, shape (B,), optional
        Number of real rows of each problem (for problems padded with zero rows); default ``n``.
    col_mask : ndarray of bool, shape (B, m), optional
        Real columns of each problem; padded columns are never chosen and keep weight 0
        (their starting weight must be 0).

    Returns
    -------
    x : ndarray, shape (B, m)
    iterations : ndarray of int, shape (B,)
    """
    fwc = _compiled(np.shape(A))
    if fwc is not None:
        return fwc.frank_wolfe_batch(A, b, x0, eta, min_decrease=min_decrease, max_iter=max_iter,
                                     refresh=refresh, n_rows=n_rows, col_mask=col_mask)
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    B, n, m = A.shape
    eta = np.broadcast_to(np.asarray(eta, dtype=float), (B,)).copy()
    if B == 1:
        rows = float(n) if n_rows is None else float(np.asarray(n_rows, dtype=float).ravel()[0])
        cols = np.arange(m) if col_mask is None else np.flatnonzero(np.asarray(col_mask)[0])
        x = np.zeros((1, m))
        x[0, cols], it = _frank_wolfe_single(A[0][:, cols], b[0], np.asarray(x0, dtype=float)[0, cols],
                                             float(eta[0]), min_decrease=min_decrease, max_iter=max_iter,
                                             refresh=refresh, n_rows=rows)
        return x, np.array([it], dtype=np.int64)
    # H = A'A + eta I, c = A'b: the half gradient is H x - c
    H = np.einsum("bnm,bnk->bmk", A, A)
    H[:, np.arange(m), np.arange(m)] += eta[:, None]
    c = np.einsum("bnm,bn->bm", A, b)
    if col_mask is not None:
        # a huge A'b entry makes the half gradient of a padded column huge (finite, so that
        # 0 * it stays 0): it is never the arg-min. Steps are convex combinations, so it stays
        # of the same size.
        c = np.where(col_mask, c, -1e100)
    M = H - c[:, None, :]                      # row i: change of the half gradient toward vertex i
    D = np.diagonal(H, axis1=1, axis2=2) - 2.0 * c
    x_out = np.array(x0, dtype=float, copy=True)
    iters = np.zeros(B, dtype=np.int64)
    threshold = float(min_decrease) ** 2 * (np.full(B, float(n)) if n_rows is None
                                            else np.asarray(n_rows, dtype=float))

    live = np.arange(B)
    x = x_out.copy()
    active = np.ones(B, dtype=bool)
    all_active = True
    # Flat views: (row, column) look-ups as one ``take`` on a flat index (cheaper than 2-D fancy
    # indexing at these sizes; same arithmetic, so the iterates are bit-for-bit unchanged).
    D_flat = D.reshape(-1)
    M_rows = M.reshape(-1, m)
    base = np.arange(B) * m
    t = 0
    while t < max_iter and live.size:
        if t % refresh == 0:
            hg = np.einsum("bmk,bk->bm", H, x) - c
        t += 1
        flat = hg.argmin(axis=1)
        flat += base
        hg_i = hg.reshape(-1).take(flat)
        hgx = np.vecdot(hg, x)
        num = hgx - hg_i                       # -(half gradient . direction)
        # direction' H direction, floored so that a zero direction (x already at vertex i,
        # num = 0) gives a zero step
        denom = D_flat.take(flat)
        denom += hgx
        denom += np.vecdot(c, x)
        denom -= 2.0 * hg_i
        np.maximum(denom, 1e-300, out=denom)
        step = num / denom
        np.maximum(step, 0.0, out=step)
        np.minimum(step, 1.0, out=step)
        if not all_active:
            step *= active
        keep = (1.0 - step)[:, None]
        x *= keep
        x_flat = x.reshape(-1)
        x_flat[flat] += step
        hg *= keep
        hg += step[:, None] * M_rows.take(flat, axis=0)
        if t >= 2:  # decrease of eta|x|^2 + |Ax - b|^2 along the step
            active &= step * (2.0 * num - step * denom) > threshold
            all_active = bool(active.all())
        if not all_active:
            done = ~active
            newly = live[done]
            iters[newly[iters[newly] == 0]] = t
            x_out[newly] = x[done]
            if active.sum() * 4 <= live.size * 3:
                live, H, c, M, D, x, hg, threshold = (
                    live[active], H[active], c[active], M[active], D[active], x[active], hg[active],
                    threshold[active])
                active = np.ones(live.size, dtype=bool)
                all_active = True
                D_flat = D.reshape(-1)
                M_rows = M.reshape(-1, m)
                base = np.arange(live.size) * m
    if live.size:
        x_out[live] = x
        # problems that stopped but were not yet compacted out keep their own stopping step
        unset = live[iters[live] == 0]
        iters[unset] = t
    return x_out, iters


def _frank_wolfe_single(
    A: FloatArray,
    b: FloatArray,
    x0: FloatArray,
    eta: float,
    *,
    min_decrease: float,
    max_iter: int,
    refresh: int,
    n_rows: float,
) -> tuple[FloatArray, int]:
    """:func:`frank_wolfe_batch` for one problem, with O(1) Python work per step.

    The same steps (vertex = first arg-min of the half gradient, exact line search, the same
    stopping rule) but the per-step vector work is one arg-min and one ``axpy``:

    * *lazy scaling*: ``x = a * xs`` and ``g = a * gs`` (``g = H x - c``, the half gradient),
      so the step ``x <- (1 - s) x + s e_i``, ``g <- (1 - s) g + s (H e_i - c)`` becomes
      ``a <- (1 - s) a``, ``xs[i] += s / a``, ``gs += (s / a) (H e_i - c)``;
    * the scalars of the line search, ``g'x`` and ``c'x``, follow exact recurrences
      (``c'x <- (1 - s) c'x + s c_i``; ``g'x <- (1 - s)^2 g'x + s (1 - s)(2 g_i + c_i - c'x)
      + s^2 (H_ii - c_i)``).

    Every ``refresh`` steps (and whenever ``a`` gets small) ``x``, ``g``, ``g'x`` and ``c'x``
    are recomputed exactly from ``x``, as the batched solver recomputes ``g``.
    """
    H = A.T @ A
    H[np.diag_indices_from(H)] += eta
    c = A.T @ b
    M = H - c[None, :]                          # row i: H e_i - c
    c_l = c.tolist()
    D_l = (np.diagonal(H) - 2.0 * c).tolist()   # H_ii - 2 c_i
    Mii_l = (np.diagonal(H) - c).tolist()       # H_ii - c_i
    threshold = float(min_decrease) ** 2 * n_rows
    xs = np.array(x0, dtype=float, copy=True)
    gs = np.empty_like(xs)
    buf = np.empty_like(xs)
    a = 1.0
    gx = cx = 0.0
    t = 0
    since = refresh  # force an exact start
    while t < max_iter:
        if since >= refresh or a < 1e-8:
            x = a * xs
            xs = x / x.sum() if a < 1e-8 else x
            a = 1.0
            np.subtract(H @ xs, c, out=gs)
            gx = float(gs @ xs)
            cx = float(c @ xs)
            since = 0
        t += 1
        since += 1
        i = int(gs.argmin())
        g_i = a * gs.item(i)
        num = gx - g_i                          # -(half gradient . direction)
        denom = D_l[i] + gx + cx - 2.0 * g_i    # direction' H direction
        denom = max(denom, 1e-300)
        step = num / denom
        if step < 0.0:
            step = 0.0
        elif step > 1.0:
            step = 1.0
        one = 1.0 - step
        gx = one * one * gx + step * one * (2.0 * g_i + c_l[i] - cx) + step * step * Mii_l[i]
        cx = one * cx + step * c_l[i]
        if one == 0.0:                          # a full step: x jumps to the vertex
            xs[:] = 0.0
            xs[i] = 1.0
            gs[:] = M[i]
            a = 1.0
        elif step > 0.0:
            a *= one
            coef = step / a
            xs[i] += coef
            np.multiply(M[i], coef, out=buf)
            gs += buf
        if t >= 2 and step * (2.0 * num - step * denom) <= threshold:
            break
    return a * xs, t


def simplex_weights_batch(
    Y: FloatArray,
    x0: FloatArray | None,
    zeta: float,
    *,
    intercept: bool,
    min_decrease: float,
    max_iter: int = 10_000,
    use_sparsify: bool = True,
    max_iter_pre_sparsify: int = 100,
    row_mask: np.ndarray | None = None,
    col_mask: np.ndarray | None = None,
) -> FloatArray:
    """SDID weights for B stacked problems ``Y`` of shape (B, n, m + 1).

    The last column of each ``Y[k]`` is the target ``b``; the first ``m`` columns are the
    candidates ``A`` whose simplex-weighted combination should track it. With
    ``intercept=True`` every column is centred over the ``n`` rows first, so a constant
    offset between target and combination costs nothing (the SDID unit and time weights).
    Solves ``min zeta^2 ||x||^2 + ||A x - b||^2 / n`` by :func:`frank_wolfe_batch`; with
    ``use_sparsify`` a first round of at most ``max_iter_pre_sparsify`` steps is followed
    by :func:`sparsify` and a second round of at most ``max_iter`` steps.

    Parameters
    ----------
    Y : ndarray, shape (B, n, m + 1)
    x0 : ndarray, shape (B, m), optional
        Starting weights; uniform ``1/m`` when omitted.
    zeta : float
        Regularisation (the paper's zeta_omega or zeta_lambda).
    intercept : bool
    min_decrease : float
    max_iter, max_iter_pre_sparsify : int
    use_sparsify : bool
    row_mask : ndarray of bool, shape (B, n), optional
        Real rows (the rest is padding, ignored in the centring and the objective).
    col_mask : ndarray of bool, shape (B, m), optional
        Real candidate columns (padding keeps weight 0).

    Returns
    -------
    ndarray, shape (B, m)
    """
    Y = np.asarray(Y, dtype=float)
    B, n, m1 = Y.shape
    m = m1 - 1
    rows = np.full(B, float(n)) if row_mask is None else row_mask.sum(axis=1).astype(float)
    if intercept:
        if row_mask is None:
            Y = Y - Y.mean(axis=1, keepdims=True)
        else:
            w = row_mask[:, :, None]
            Y = (Y - (Y * w).sum(axis=1, keepdims=True) / rows[:, None, None]) * w
    if col_mask is not None:
        Y = Y * np.concatenate([col_mask, np.ones((B, 1), dtype=bool)], axis=1)[:, None, :]
    A = Y[:, :, :m]
    b = Y[:, :, m]
    if x0 is None:
        x = (np.full((B, m), 1.0 / m) if col_mask is None
             else col_mask / col_mask.sum(axis=1, keepdims=True))
    else:
        x = np.array(x0, dtype=float, copy=True)
    eta = rows * float(zeta) ** 2
    first = max_iter_pre_sparsify if use_sparsify else max_iter
    kw = {"min_decrease": min_decrease, "n_rows": rows, "col_mask": col_mask}
    fwc = _compiled(A.shape)
    if fwc is not None:  # both rounds and the sparsify step in one compiled call
        return fwc.simplex_rounds(A, b, x, eta, first=first, max_iter=max_iter, use_sparsify=use_sparsify,
                                  **kw)[0]
    x, _ = frank_wolfe_batch(A, b, x, eta, max_iter=first, **kw)
    if use_sparsify:
        x, _ = frank_wolfe_batch(A, b, sparsify(x), eta, max_iter=max_iter, **kw)
    return x
