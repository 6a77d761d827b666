"""Restrictions on the violation of parallel trends ``delta`` as polyhedra ``A delta <= d``.

``delta`` stacks the pre-period violations (event times before the reference period, oldest
first) and the post-period ones (event time 0 onwards); the reference period's violation is
0 by normalisation and is not in the vector. Periods are indexed ``t = -T_pre..-1, 1..T_post``
around the reference ``t = 0``.

* Relative magnitudes, ``Delta^RM(Mbar)``: every post-period first difference is at most
  ``Mbar`` times the largest pre-period first difference,
  ``|delta_{t+1} - delta_t| <= Mbar max_{s<0} |delta_{s+1} - delta_s|`` for ``t >= 0``. It is
  the union over the pre-period difference ``s`` achieving the maximum and its sign of the
  polyhedra built by :func:`relative_magnitude_polyhedron`.
* Smoothness, ``Delta^SD(M)``: every second difference is at most ``M`` in absolute value,
  ``|(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M`` (linear trends are free).

References
----------
Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. Review of
    Economic Studies 90(5), 2555-2591, Sections 2.3-2.4.
"""

from __future__ import annotations

import numpy as np

from evalint.sensitivity.arp import MomentProblem

__all__ = ["first_differences", "relative_magnitude_polyhedron", "second_differences",
           "smoothness_polyhedron", "moment_problem"]


def first_differences(n_pre: int, n_post: int) -> np.ndarray:
    """``(n_pre + n_post) x (n_pre + n_post + 1)`` matrix of first differences of the vector
    with the reference period's 0 inserted at position ``n_pre``."""
    k = n_pre + n_post
    d = np.zeros((k, k + 1))
    for r in range(k):
        d[r, r], d[r, r + 1] = -1.0, 1.0
    return d


def _drop_reference(a: np.ndarray, n_pre: int) -> np.ndarray:
    return np.delete(a, n_pre, axis=1)


def relative_magnitude_polyhedron(n_pre: int, n_post: int, mbar: float, s: int,
                                  positive: bool) -> np.ndarray:
    """Rows ``A`` (with ``d = 0``) of the piece of ``Delta^RM(Mbar)`` where the pre-period first
    difference number ``s`` (0 = oldest, ``n_pre - 1`` = the one ending at the reference period)
    is the largest in absolute value and has the given sign.

    Pre-period differences are bounded by ``1 x`` that difference, post-period ones by
    ``Mbar x`` it; all-zero rows are dropped.
    """
    diff = first_differences(n_pre, n_post)
    vmax = diff[s] if positive else -diff[s]
    bound = np.vstack([np.tile(vmax, (n_pre, 1)), np.tile(mbar * vmax, (n_post, 1))])
    a = np.vstack([diff - bound, -diff - bound])
    a = a[np.einsum("ij,ij->i", a, a) > 1e-10]
    return _drop_reference(a, n_pre)


def second_differences(n_pre: int, n_post: int) -> np.ndarray:
    """Second differences of the vector with the reference 0 inserted, reference column dropped:
    ``(n_pre + n_post - 1) x (n_pre + n_post)``."""
    k = n_pre + n_post
    d = np.zeros((k - 1, k + 1))
    for r in range(k - 1):
        d[r, r:r + 3] = [1.0, -2.0, 1.0]
    return _drop_reference(d, n_pre)


def smoothness_polyhedron(n_pre: int, n_post: int, m: float) -> tuple[np.ndarray, np.ndarray]:
    """``(A, d)`` of ``Delta^SD(M)``: ``|second differences| <= M``."""
    d2 = second_differences(n_pre, n_post)
    return np.vstack([d2, -d2]), np.full(2 * len(d2), float(m))


def moment_problem(betahat: np.ndarray, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray,
                   a: np.ndarray, d: np.ndarray, post_moments_only: bool = True) -> MomentProblem:
    """The moment inequalities of ``H0: l'tau = theta, delta in {A delta <= d}``.

    With ``beta = delta + (0, tau)``: ``A beta_hat - d - A_post tau <= 0``. ``tau`` is written
    ``l theta / l'l + B gamma`` with ``B`` a basis of the complement of ``l``, so the moments are
    ``Y(theta) = A beta_hat - d - (A_post l / l'l) theta`` with nuisance matrix ``A_post B``.
    ``post_moments_only`` keeps the rows that involve a post-period (as the HonestDiD R package
    does by default, when there is more than one post-period); rows on pre-periods alone do not
    depend on ``theta``.
    """
    n_post = len(l_vec)
    if post_moments_only and n_post > 1:
        rows = np.flatnonzero(np.any(np.abs(a[:, n_pre:]) > 0, axis=1))
        a, d = a[rows], d[rows]
    a_post = a[:, n_pre:]
    l = np.asarray(l_vec, dtype=float)
    u, _, _ = np.linalg.svd(l[:, None], full_matrices=True)
    complement = u[:, 1:]
    return MomentProblem(y0=a @ betahat - d, a=a_post @ l / (l @ l), sigma_y=a @ sigma @ a.T,
                         x=a_post @ complement)
