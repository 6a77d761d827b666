"""Conley-Taber permutation inference for a difference-in-differences with few treated units.

With few treated units (or treated clusters) the estimator's own standard errors are too
small or too noisy: the treated side of the variance is estimated from those few units, and
with one treated unit not at all. Conley and Taber (2011) use the comparison units instead:
give a random set of ``k`` comparison units (or whole comparison clusters, when the panel
declares a ``cluster``) the ``k`` treated units' start dates, drop the real treated units,
re-estimate the same DiD, and use the spread of those placebo estimates as the
distribution of ``estimate - effect``. Valid when the placebo units' estimation errors are
exchangeable with the treated units' (similar size and noise; Ferman & Pinto 2019).

The interval is ``[estimate - P(u), estimate - P(l)]`` with ``P(j)`` the ``j``-th smallest of
``m`` placebo estimates and ``(l, u)`` from :func:`permutation_ranks`; the p-value is the
share of the placebo estimates and the estimate itself at least as large in absolute value
as the estimate; the reported SE is the placebo standard deviation. All distinct placebo
assignments are used when there are at most ``reps`` of them, otherwise ``reps`` random
assignments drawn with ``seed``.

Pass :class:`ConleyTaber` as ``inference=`` to ``callaway_santanna``, ``twfe`` or
``event_study``; ``evaluate()`` uses the same object for DiD with 1-5 treated units.

References
----------
Conley, T. G., & Taber, C. R. (2011). Inference with "difference in differences" with a
    small number of policy changes. Review of Economics and Statistics, 93(1), 113-125.
Ferman, B., & Pinto, C. (2019). Inference in differences-in-differences with few treated
    groups and heteroskedasticity. Review of Economics and Statistics, 101(3), 452-467.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from evalint._typing import check_positive_int
from evalint.errors import InferenceError
from evalint.inference.dispatch import register_inference
from evalint.inference.randomisation import rank_test
from evalint.inference.specs import InferenceSpec

__all__ = [
    "PermutationRefit", "PermutationInference", "conley_taber_inference",
    "ConleyTaber",
    "MAX_FEW_TREATED",
    "conley_taber_interval",
    "n_placebo_assignments",
    "permutation_ranks",
    "placebo_assignments",
]

#: direct DiD calls with at most this many treated units (clusters) and an asymptotic
#: interval warn and name ConleyTaber
MAX_FEW_TREATED = 5


@dataclass(frozen=True)
class ConleyTaber(InferenceSpec):
    """Conley-Taber permutation inference over placebo treated sets (see the module docstring).

    Parameters
    ----------
    reps : int
        At most this many placebo assignments (all of them when there are no more).
    seed : int or None
        Seed of the random assignments (unused when all assignments are enumerated).

    References
    ----------
    Conley & Taber (2011), Review of Economics and Statistics 93(1), 113-125.
    """

    reps: int = 999
    seed: int | None = 0

    def __post_init__(self) -> None:
        check_positive_int("reps", self.reps, minimum=2)
        if self.seed is not None:
            check_positive_int("seed", self.seed, minimum=0)

    @property
    def description(self) -> str:
        return (f"Conley-Taber permutation over up to {self.reps} placebo assignments of comparison units "
                f"(seed {self.seed})")


def permutation_ranks(m: int, alpha: float) -> tuple[int, int]:
    """Order statistics ``(l, u)`` (1-based) of ``m`` placebo estimates bounding the interval.

    Under exchangeability the rank of ``estimate - effect`` among the ``m + 1`` values is
    uniform, so it lies between the ``l``-th and ``u``-th smallest placebo estimates with
    probability ``(u - l) / (m + 1)``. ``l = floor((m + 1) alpha / 2)`` and ``u = m + 1 - l``
    give at least ``1 - alpha``; when ``(m + 1) alpha / 2 < 1`` no finite interval reaches
    ``1 - alpha`` and the placebo range is used (``l = 1, u = m``: coverage ``(m - 1) / (m + 1)``).
    """
    low = max(1, math.floor((m + 1) * alpha / 2 + 1e-9))
    return low, m + 1 - low


def conley_taber_interval(estimate: float, placebo: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Interval and p-value from placebo estimates (Conley-Taber).

    The interval is ``[estimate - P(u), estimate - P(l)]`` with ``P(j)`` the ``j``-th smallest
    placebo estimate and ``(l, u)`` from :func:`permutation_ranks` (a rank rule, not
    interpolated quantiles: those cover ``1 - alpha`` only as the number of placebos grows, e.g.
    90.5% with 41 placebos at ``alpha = 0.05``). The p-value is the share of the placebo
    estimates and the estimate itself at least as large in absolute value as the estimate.

    Returns ``(low, high, p_value)``.
    """
    placebo = np.asarray(placebo, dtype=float)
    if placebo.size < 2:
        raise InferenceError(
            f"permutation inference needs at least 2 placebo estimates; got {placebo.size}. "
            "Add comparison units."
        )
    lo_rank, hi_rank = permutation_ranks(placebo.size, alpha)
    ordered = np.sort(placebo)
    q_low, q_high = ordered[lo_rank - 1], ordered[hi_rank - 1]
    p = rank_test(estimate, placebo, tol=1e-12, drop_nonfinite=False).p_value
    return float(estimate - q_high), float(estimate - q_low), float(min(p, 1.0))


def _date_groups(dates: Sequence[Any]) -> tuple[list[int], list[int]]:
    """Positions ordered so equal dates sit side by side, and the size of each run."""
    order = sorted(range(len(dates)), key=lambda j: (str(dates[j]), j))
    counts = [len(list(grp)) for _, grp in itertools.groupby(str(dates[j]) for j in order)]
    return order, counts


def n_placebo_assignments(n_controls: int, dates: Sequence[Any]) -> int:
    """Number of distinct placebo assignments: ``k`` comparison units sharing the treated units' dates."""
    _, counts = _date_groups(dates)
    total, left = 1, n_controls
    for c in counts:
        total *= math.comb(left, c)
        left -= c
    return total


def placebo_assignments(n_controls: int, dates: Sequence[Any], reps: int, seed: int) -> np.ndarray:
    """Placebo treated sets: rows of comparison-unit indices, column ``j`` given ``dates[j]``.

    When the number of distinct assignments (:func:`n_placebo_assignments`) is at most
    ``reps``, all of them, in a fixed order; otherwise ``reps`` uniformly random ones (each a
    random ordered ``k``-subset of the comparison units) from ``numpy.random.default_rng(seed)``.
    """
    dates = list(dates)
    k = len(dates)
    if k < 1 or n_controls <= k:
        raise InferenceError(
            f"permutation inference needs more comparison units than treated units; got {n_controls} "
            f"comparison and {k} treated unit(s). Add comparison units."
        )
    order, counts = _date_groups(dates)
    if n_placebo_assignments(n_controls, dates) <= reps:
        rows: list[list[int]] = []

        def rec(avail: list[int], i: int, acc: list[int]) -> None:
            if i == len(counts):
                rows.append(acc)
                return
            for pick in itertools.combinations(avail, counts[i]):
                rec([a for a in avail if a not in pick], i + 1, acc + list(pick))

        rec(list(range(n_controls)), 0, [])
        by_sorted = np.asarray(rows, dtype=np.int64).reshape(len(rows), k)
    else:
        rng = np.random.default_rng(seed)
        by_sorted = np.argsort(rng.random((int(reps), n_controls)), axis=1, kind="stable")[:, :k]
    out = np.empty_like(by_sorted)
    out[:, order] = by_sorted
    return out


@runtime_checkable
class PermutationRefit(Protocol):
    """An estimator refitted with treatment reassigned to comparison groups (Conley-Taber).

    Attributes
    ----------
    estimate : float
        The estimate on the real assignment.
    n_control_groups : int
        Comparison groups (units, or whole clusters) that can receive a placebo treatment.
    dates : sequence
        The treated groups' start dates (each placebo assignment gives these to comparison groups).
    """

    @property
    def estimate(self) -> float: ...

    @property
    def n_control_groups(self) -> int: ...

    @property
    def dates(self) -> Sequence[Any]: ...

    def placebo_estimates(self, draws: np.ndarray) -> np.ndarray:
        """The refit callback: the estimate with treatment given to the comparison groups in each
        row of ``draws`` (row ``r``: group indices receiving ``dates`` in order)."""
        ...


@dataclass(frozen=True)
class PermutationInference:
    """A Conley-Taber permutation interval, p-value and SE (SD of the placebo estimates).

    ``every``: whether every placebo assignment was enumerated (then no seed was used);
    ``coverage``: the interval's attainable coverage ``(hi_rank - lo_rank) / (m + 1)``.
    """

    placebo: np.ndarray
    ci: tuple[float, float]
    p_value: float
    se: float
    every: bool
    coverage: float


def conley_taber_inference(spec: ConleyTaber, fit: PermutationRefit, *, alpha: float) -> PermutationInference:
    """Draw the placebo assignments with the spec's one seed, refit through the callback, and
    invert the permutation test (Conley & Taber 2011)."""
    draws = placebo_assignments(fit.n_control_groups, fit.dates, spec.reps, 0 if spec.seed is None else spec.seed)
    placebo = np.asarray(fit.placebo_estimates(draws), dtype=float)
    low, high, p_value = conley_taber_interval(fit.estimate, placebo, alpha)
    m = int(placebo.size)
    every = n_placebo_assignments(fit.n_control_groups, fit.dates) <= spec.reps
    lo_rank, hi_rank = permutation_ranks(m, alpha)
    return PermutationInference(placebo, (low, high), p_value, float(np.std(placebo, ddof=1)), every,
                                (hi_rank - lo_rank) / (m + 1))


register_inference(ConleyTaber, PermutationRefit, conley_taber_inference)
