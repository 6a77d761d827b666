"""Inference from influence functions: analytic (clustered) SEs and the multiplier bootstrap.

An asymptotically linear estimator :math:`\\hat\\theta` with influence function
:math:`\\psi_i` satisfies :math:`\\sqrt n(\\hat\\theta-\\theta) = n^{-1/2}\\sum_i\\psi_i + o_p(1)`.
Everything here works on the ``n x k`` matrix of influence-function values (one row per
unit, one column per parameter), as R ``did`` does (``mboot.R``):

* analytic SE: :math:`\\sqrt{\\sum_i \\psi_{ij}^2}/n`; clustered:
  :math:`\\sqrt{\\sum_c (\\sum_{i\\in c}\\psi_{ij})^2}/n`;
* multiplier bootstrap: draw :math:`U_{bi}` (Rademacher by default, as BMisc's
  ``multiplier_bootstrap``; Mammen on request) per unit, or per cluster applied to the
  cluster *sums* of :math:`\\psi` (Callaway & Sant'Anna 2021, Remark 10), and form
  :math:`\\hat\\theta^*_b-\\hat\\theta = n^{-1}\\sum_i U_{bi}\\psi_i`;
* bootstrap SE: the interquartile range of the draws divided by
  :math:`z_{0.75}-z_{0.25}` (robust to heavy tails, R ``did``'s choice);
* simultaneous (sup-t) critical value: the (1 - alpha) quantile of
  :math:`\\max_j |\\hat\\theta^*_{bj}-\\hat\\theta_j|/\\hat\\sigma_j`.

The draws are a ``(reps x n) @ (n x k)`` product computed in blocks of replications, so
memory stays bounded whatever ``n`` is. ``psi`` may also be a structured influence operator
(an object with ``shape``, ``left_multiply(U)`` = ``U @ psi``, ``column_sums()``,
``column_sq_sums()``, ``by_cluster(codes, G)`` and ``dense()``, such as the cohort form of the
Callaway-Sant'Anna cells): the same multipliers are drawn and applied through
``left_multiply``, so the ``n x k`` matrix is never formed. Quantiles use R's type 1 (inverse
empirical CDF).

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230 (Section 4.1, Remark 10).
Mammen, E. (1993). Bootstrap and wild bootstrap for high dimensional linear models.
Annals of Statistics 21(1), 255-285.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np

from evalint._distributions import norm_ppf
from evalint._typing import check_alpha, check_option, check_positive_int
from evalint.errors import InferenceError
from evalint.inference.cluster import cluster_codes as _codes

__all__ = ["BootstrapDraws", "multiplier_bootstrap", "influence_se", "cluster_codes", "sup_t_critical"]

_DEGENERATE = np.sqrt(np.finfo(float).eps) * 10
_IQR_NORMAL = float(norm_ppf(0.75) - norm_ppf(0.25))
_BLOCK_BYTES = 32 * 2**20
_MIN_PRODUCT_ROWS = 128


@dataclass(frozen=True)
class BootstrapDraws:
    """Multiplier-bootstrap output for ``k`` parameters.

    Attributes
    ----------
    se : ndarray (k,)
        Bootstrap standard errors (NaN for degenerate parameters, e.g. a normalised
        reference cell whose influence function is identically zero).
    crit_value : float
        Sup-t critical value for simultaneous (1 - alpha) bands over the non-degenerate
        parameters.
    draws : ndarray (reps, k)
        :math:`\\hat\\theta^*_b - \\hat\\theta` for each replication.
    reps, seed, clusters, weights
        What was run.
    """

    se: np.ndarray
    crit_value: float
    draws: np.ndarray
    reps: int
    seed: int | None
    clusters: int
    weights: str


def cluster_codes(labels: Any, n: int) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 for one cluster label per unit of an influence function (length ``n``):
    :func:`evalint.inference.cluster.cluster_codes` with the influence-function wording."""
    return _codes(labels, n, per="unit")


def _cluster_sums(psi: np.ndarray, codes: np.ndarray | None, g: int) -> np.ndarray:
    if codes is None:
        return psi
    out = np.zeros((g, psi.shape[1]))
    np.add.at(out, codes, psi)
    return out


def influence_se(psi: Any, cluster: np.ndarray | None = None) -> np.ndarray:
    """Analytic standard errors from an ``n x k`` (or length-``n``) influence function.

    ``sqrt(sum_i psi_i^2) / n``, or with ``cluster`` (integer codes from
    :func:`cluster_codes`) the cluster-robust ``sqrt(sum_c S_c^2) / n`` with ``S_c`` the
    within-cluster sum. Values below ``10 sqrt(eps)`` (degenerate) are NaN, as in R ``did``.
    """
    if _is_operator(psi):
        op = psi if cluster is None else psi.by_cluster(np.asarray(cluster), int(np.max(cluster)) + 1)
        se = np.sqrt(op.column_sq_sums()) / psi.shape[0]
        return np.where(se <= _DEGENERATE, np.nan, se)
    m = np.asarray(psi, dtype=float)
    vec = m.ndim == 1
    m = m.reshape(len(m), -1)
    n = m.shape[0]
    if cluster is not None:
        m = _cluster_sums(m, np.asarray(cluster), int(np.max(cluster)) + 1)
    se = np.sqrt(np.einsum("ij,ij->j", m, m)) / n
    se = np.where(se <= _DEGENERATE, np.nan, se)
    return se[0] if vec else se


_LUT_MAX_COLS = 8
_LUT_BYTES = 128
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float64)  # 256 x 8


def _byte_table_product(raw: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``B @ m`` where B are the bits of ``raw`` (rows x bytes, big-endian as numpy.unpackbits).

    For few columns, a table of the 256 partial sums of each group of 8 units turns the
    product into one gather and a sum per byte (8x fewer operations than unpacking). The
    table is built and used in slices of ``_LUT_BYTES`` byte positions (about 256 KB), so
    each slice is gathered from cache by every row of ``raw``: the whole table (bytes x 256 x
    k) would not fit and its gathers would miss cache on national-scale panels.
    """
    rows, nb = raw.shape
    k = m.shape[1]
    out = np.zeros((rows, 1, k))
    step = max(16, _LUT_BYTES // k)
    for c0 in range(0, nb, step):
        c1 = min(nb, c0 + step)
        pad = np.zeros(((c1 - c0) * 8, k))
        src = m[c0 * 8: c1 * 8]
        pad[: len(src)] = src
        table = np.einsum("bi,jik->jbk", _BYTE_BITS, pad.reshape(c1 - c0, 8, k))  # bytes x 256 x k
        idx = raw[:, c0:c1] + np.arange(0, (c1 - c0) * 256, 256, dtype=np.intp)
        part = np.take(table.reshape(-1, k), idx, axis=0)        # rows x bytes x k
        if k == 1:      # (a pairwise sum over the bytes: slices change its rounding by ~1e-16)
            out[:, 0] += part.sum(axis=1)
        else:           # the running total first: the same sequential sum as one pass over all bytes
            out[:, 0] = np.concatenate([out, part], axis=1).sum(axis=1) if c0 else part.sum(axis=1)
    return cast(np.ndarray, out[:, 0])


def _is_operator(psi: Any) -> bool:
    """A structured influence operator (see the module docstring) rather than an array."""
    return hasattr(psi, "left_multiply") and hasattr(psi, "by_cluster")


def _draw_block(rng: np.random.Generator, rows: int, m: np.ndarray, kind: str,
                colsum: np.ndarray | None = None) -> np.ndarray:
    """``U @ m`` for a ``rows x len(m)`` block of multipliers U."""
    n = m.shape[0]
    if kind == "rademacher":
        # U = 2B - 1 with B fair bits taken from random bytes: U @ m = 2 (B @ m) - colsum(m)
        raw = rng.integers(0, 256, size=(rows, (n + 7) // 8), dtype=np.uint8)
        colsum = m.sum(axis=0) if colsum is None else colsum
        if m.shape[1] <= _LUT_MAX_COLS:
            return cast(np.ndarray, 2.0 * _byte_table_product(raw, m) - colsum)
        bits = np.unpackbits(raw, axis=1, count=n).astype(np.float64)
        return cast(np.ndarray, 2.0 * (bits @ m) - colsum)
    return cast(np.ndarray, _mammen(rng, rows, n) @ m)


def _mammen(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    """Mammen's two-point multipliers: mean 0, variance 1, third moment 1."""
    s5 = np.sqrt(5.0)
    p = (s5 + 1) / (2 * s5)
    lo, hi = -(s5 - 1) / 2, (s5 + 1) / 2
    return cast(np.ndarray, np.where(rng.random((rows, n)) < p, lo, hi))


def _operator_draws(rng: np.random.Generator, reps: int, block: int, op: Any, kind: str,
                    colsum: np.ndarray | None) -> np.ndarray:
    """``U @ psi`` through the operator, with the dense path's multipliers.

    The random numbers are drawn by the same calls in the same order as :func:`_draw_block`
    (blocks of ``block`` rows), so a seed gives the same draws either way; consecutive blocks
    are stacked so that each product has at least ``_MIN_PRODUCT_ROWS`` rows (large panels
    have small blocks). Rademacher multipliers reach the operator as 0/1 bytes.
    """
    n = op.shape[0]
    out = np.empty((reps, op.shape[1]))
    per = max(1, -(-_MIN_PRODUCT_ROWS // block))
    start = 0
    while start < reps:
        parts: list[np.ndarray] = []
        stop = start
        while len(parts) < per and stop < reps:
            rows = min(block, reps - stop)
            if kind == "rademacher":
                raw = rng.integers(0, 256, size=(rows, (n + 7) // 8), dtype=np.uint8)
                parts.append(np.unpackbits(raw, axis=1, count=n))
            else:
                parts.append(_mammen(rng, rows, n))
            stop += rows
        u = parts[0] if len(parts) == 1 else np.concatenate(parts)
        prod = op.left_multiply(u)
        out[start:stop] = 2.0 * prod - colsum if kind == "rademacher" else prod
        start = stop
    return out


def _type1_quantile(sorted_cols: np.ndarray, p: float) -> np.ndarray:
    """R quantile type 1 on already-sorted columns: x_(ceil(B p))."""
    b = sorted_cols.shape[0]
    return cast(np.ndarray, sorted_cols[max(int(np.ceil(b * p)) - 1, 0)])


def sup_t_critical(draws: np.ndarray, se: np.ndarray, alpha: float = 0.05) -> float:
    """Sup-t critical value: the (1 - alpha) type-1 quantile over draws of max_j |draw_j / se_j|.

    Columns with NaN ``se`` (degenerate) are ignored; NaN if none is left.
    """
    se = np.asarray(se, dtype=float).reshape(-1)
    ok = np.isfinite(se) & (se > 0)
    if not ok.any():
        return float("nan")
    tmax = np.max(np.abs(draws.reshape(len(draws), -1)[:, ok] / se[ok]), axis=1)
    tmax = np.sort(tmax[np.isfinite(tmax)])
    if not len(tmax):
        return float("nan")
    return float(_type1_quantile(tmax[:, None], 1 - check_alpha(alpha))[0])


def multiplier_bootstrap(
    psi: Any,
    *,
    reps: int = 999,
    seed: int | None = 0,
    alpha: float = 0.05,
    cluster: np.ndarray | None = None,
    weights: Literal["rademacher", "mammen"] = "rademacher",
) -> BootstrapDraws:
    """Multiplier bootstrap of the influence function ``psi`` (``n x k`` or length ``n``).

    Parameters
    ----------
    psi : ndarray or influence operator
        Influence-function values, one row per unit (or an operator, see the module docstring).
    reps : int
        Bootstrap replications.
    seed : int or None
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same draws.
    alpha : float
        Level of the simultaneous band (critical value).
    cluster : ndarray of int, optional
        Cluster codes (from :func:`cluster_codes`); multipliers are drawn per cluster and
        applied to cluster sums of ``psi``.
    weights : {"rademacher", "mammen"}
        Multiplier distribution. R ``did`` (via BMisc) uses Rademacher.

    Returns
    -------
    BootstrapDraws
    """
    reps = check_positive_int("reps", reps, minimum=2)
    a = check_alpha(alpha)
    check_option("weights", weights, ("rademacher", "mammen"))
    op = _is_operator(psi)
    m: Any = psi if op else np.asarray(psi, dtype=float)
    m = m if op else m.reshape(len(m), -1)
    n, k = m.shape
    if cluster is not None:
        codes = np.asarray(cluster, dtype=np.int64)
        g = int(codes.max()) + 1
        if g < 2:
            raise InferenceError("cluster-robust inference needs at least 2 clusters; got 1.")
        m = m.by_cluster(codes, g) if op else _cluster_sums(m, codes, g)
    else:
        g = n
    if op and k <= _LUT_MAX_COLS:   # few columns: the byte-table product on the (small) matrix
        m, op = m.dense(), False
    colsum = (m.column_sums() if op else m.sum(axis=0)) if weights == "rademacher" else None
    rng = np.random.default_rng(seed)
    n_rows = m.shape[0]
    block = max(1, min(reps, _BLOCK_BYTES // (8 * n_rows)))
    if op:
        draws = _operator_draws(rng, reps, block, m, weights, colsum)
    else:
        draws = np.empty((reps, k))
        if weights == "rademacher" and k <= _LUT_MAX_COLS:
            # the bytes of every block (drawn by the same calls, in the same order), then one
            # table product: the table is built once, not once per block
            raw = np.empty((reps, (n_rows + 7) // 8), dtype=np.uint8)
            for start in range(0, reps, block):
                stop = min(start + block, reps)
                raw[start:stop] = rng.integers(0, 256, size=(stop - start, raw.shape[1]), dtype=np.uint8)
            draws[:] = 2.0 * _byte_table_product(raw, m) - cast(np.ndarray, colsum)
        else:
            for start in range(0, reps, block):
                stop = min(start + block, reps)
                draws[start:stop] = _draw_block(rng, stop - start, m, weights, colsum)
    draws /= n
    srt = np.sort(draws, axis=0)
    sigma = (_type1_quantile(srt, 0.75) - _type1_quantile(srt, 0.25)) / _IQR_NORMAL
    # R's scale: bres = sqrt(G) * (draws * n / G); degenerate columns are dropped
    scale = n / np.sqrt(g)
    ok = np.isfinite(sigma) & (np.einsum("ij,ij->j", draws, draws) * scale**2 > _DEGENERATE)
    ok &= sigma * scale > _DEGENERATE
    se = np.where(ok, sigma, np.nan)
    crit = sup_t_critical(draws, se, a)
    return BootstrapDraws(se=se, crit_value=crit, draws=draws, reps=reps, seed=seed, clusters=g,
                          weights=weights)
