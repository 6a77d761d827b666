"""The one randomisation (rank) p-value: placebo, permutation and in-time rank tests.

``p = (1 + #{placebos at least as extreme as the actual statistic}) / (1 + n)`` with ``n``
placebo statistics. Under the null and exchangeability of the actual and placebo statistics,
``P(p <= a) <= a``; the smallest attainable value is ``1 / (n + 1)``. Ties count against the
actual statistic (conservative).

Used by the synthetic-control in-space placebos (post/pre MSPE ratios, one-sided), the
placebo-in-time robustness check (estimates, two- or one-sided) and Conley-Taber permutation
inference (estimates, two-sided).

References
----------
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
    case studies. Journal of the American Statistical Association 105(490), 493-505.
Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a small
    number of policy changes. Review of Economics and Statistics 93(1), 113-125.
Lehmann, E. L. & Romano, J. P. (2005). Testing Statistical Hypotheses, 3rd ed., section 15.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from evalint.errors import SpecificationError

__all__ = ["RankTest", "rank_test"]

Alternative = Literal["two-sided", "greater", "less"]


@dataclass(frozen=True)
class RankTest:
    """A rank test's outcome.

    Attributes
    ----------
    p_value : float
        ``(1 + count) / (1 + n_placebos)``; NaN when the actual statistic is not finite.
    count : int
        Placebo statistics at least as extreme as the actual one (the actual statistic's rank
        among all ``n_placebos + 1`` is ``count + 1``, 1 = most extreme).
    n_placebos : int
        Placebo statistics used.
    """

    p_value: float
    count: int
    n_placebos: int

    @property
    def rank(self) -> int:
        """The actual statistic's rank, 1 = most extreme."""
        return self.count + 1


def rank_test(actual: float, placebos: npt.ArrayLike, *, alternative: Alternative = "two-sided",
              tol: float = 0.0, drop_nonfinite: bool = True) -> RankTest:
    """Rank p-value of ``actual`` among ``placebos`` (see the module docstring).

    Parameters
    ----------
    actual : float
        The statistic of the real assignment.
    placebos : array-like
        The statistics of the placebo assignments.
    alternative : {"two-sided", "greater", "less"}
        Two-sided compares magnitudes; ``"greater"``/``"less"`` compare signed values.
    tol : float
        Absolute tolerance: a placebo within ``tol`` of the actual statistic counts as a tie
        (against the actual statistic), so rounding cannot make a tie look extreme.
    drop_nonfinite : bool
        Ignore NaN/infinite placebos (True), or keep them in ``n`` where they never count as
        extreme (False).

    Returns
    -------
    RankTest
    """
    s = np.asarray(placebos, dtype=float)
    if drop_nonfinite:
        s = s[np.isfinite(s)]
        if not np.isfinite(actual):
            return RankTest(float("nan"), 0, int(s.size))
    if alternative == "two-sided":
        k = int(np.sum(np.abs(s) >= abs(actual) - tol))
    elif alternative == "greater":
        k = int(np.sum(s >= actual - tol))
    elif alternative == "less":
        k = int(np.sum(s <= actual + tol))
    else:
        raise SpecificationError(f"alternative={alternative!r}; use 'two-sided', 'greater' or 'less'.")
    return RankTest((1 + k) / (1 + s.size), k, int(s.size))
