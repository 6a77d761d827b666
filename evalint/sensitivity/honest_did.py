"""Rambachan-Roth (HonestDiD) sensitivity of an event-study effect to violations of parallel trends.

``honest_did(result, event_time=0, method="relative_magnitude", Mbar=[...])`` gives, for each
restriction size, a confidence interval for the effect at ``event_time`` that stays valid when
the post-treatment violation of parallel trends ``delta_post`` is only restricted:

* ``method="relative_magnitude"``: ``Delta^RM(Mbar)`` - each post-period change in the
  violation is at most ``Mbar`` times the largest pre-period change. Intervals by the
  conditional (``ci="conditional"``) or hybrid conditional/least-favourable (``ci="hybrid"``,
  default, as the R package) moment-inequality tests of Andrews, Roth & Pakes, inverted on a
  grid and refined by bisection; the union over which pre-period change is the largest.
* ``method="smoothness"``: ``Delta^SD(M)`` - the slope of the violation changes by at most
  ``M`` per period (``M = 0``: linear trends extrapolated). Optimal fixed-length intervals (FLCI).

The breakdown value is the smallest ``Mbar`` (or ``M``) at which the interval includes 0, found
by bisection to ``1e-4`` relative precision. The first ``to_frame()`` row is the original
(non-robust) interval ``estimate +/- z se`` at ``Mbar = 0`` with ``method = "original"``.

References
----------
Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. Review of
    Economic Studies 90(5), 2555-2591.
Andrews, I., Roth, J. & Pakes, A. (2023). Inference for linear conditional moment
    inequalities. Review of Economic Studies 90(6), 2763-2791.
Armstrong, T. B. & Kolesar, M. (2018). Optimal inference in a class of regression models.
    Econometrica 86(2), 655-683.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint._distributions import norm_ppf
from evalint._typing import check_alpha, check_option, check_positive_int
from evalint.errors import SpecificationError
from evalint.sensitivity.event_time import EventTimeEstimates, event_time_estimates
from evalint.sensitivity.flci import flci_smoothness
from evalint.sensitivity.arp import MomentProblem
from evalint.sensitivity.restrictions import moment_problem, relative_magnitude_polyhedron

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["HonestDiDResult", "honest_did", "honest_did_estimates"]

METHODS = ("relative_magnitude", "smoothness")
#: Fewest grid points for inverting the tests: the grid spans the estimate +/- (the restriction's
#: reach + 20 SE), and an accepted set about 4 SE wide must contain a grid point; with fewer
#: points the interval could be reported empty when it is not.
MIN_GRID_POINTS = 20
REFERENCES = (
    "Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. Review of Economic "
    "Studies 90(5), 2555-2591.",
    "Andrews, I., Roth, J. & Pakes, A. (2023). Inference for linear conditional moment inequalities. "
    "Review of Economic Studies 90(6), 2763-2791.",
)


@dataclass(frozen=True)
class HonestDiDResult:
    """Robust intervals against the restriction size, the original interval and the breakdown value.

    Attributes
    ----------
    method : {"relative_magnitude", "smoothness"}
    ci_method : str
        ``"hybrid"``/``"conditional"`` (relative magnitudes) or ``"flci"`` (smoothness).
    intervals : DataFrame
        One row per restriction size: ``Mbar`` or ``M``, ``lower``, ``upper``, ``method``.
    original : (float, float)
        ``estimate +/- z_(1-alpha/2) se`` (no violation allowed).
    breakdown : float
        Smallest restriction size at which the interval includes 0 (0 when the original one
        already does; ``inf`` when none up to ``breakdown_max`` does).
    estimate, se : float
        The effect ``l'beta_post`` and its SE.
    """

    method: str
    ci_method: str
    event_time: Any
    estimate: float
    se: float
    alpha: float
    intervals: pd.DataFrame
    original: tuple[float, float]
    breakdown: float
    estimates: EventTimeEstimates
    l_vec: np.ndarray
    notes: tuple[str, ...] = ()
    references: tuple[str, ...] = field(default=REFERENCES)

    @property
    def parameter(self) -> str:
        """Name of the restriction-size column: ``"Mbar"`` or ``"M"``."""
        return "Mbar" if self.method == "relative_magnitude" else "M"

    def to_frame(self) -> pd.DataFrame:
        """The original interval (``method="original"``, restriction size 0) then one row per size."""
        p = self.parameter
        head = pd.DataFrame([{p: 0.0, "lower": self.original[0], "upper": self.original[1],
                              "method": "original"}])
        return pd.concat([head, self.intervals[[p, "lower", "upper", "method"]]], ignore_index=True)

    def summary(self) -> str:
        """A plain-text account: what was restricted, the intervals, the breakdown value."""
        p = self.parameter
        what = ("post-treatment changes in the violation of parallel trends are at most Mbar times the "
                "largest pre-treatment change" if p == "Mbar" else
                "the slope of the violation of parallel trends changes by at most M per period")
        lines = [f"HonestDiD sensitivity ({self.method.replace('_', ' ')}, {self.ci_method} intervals) for "
                 f"the effect at event time {self.event_time}: {self.estimate:.4g} (se {self.se:.4g}).",
                 f"Restriction: {what}.",
                 f"Original {100 * (1 - self.alpha):g}% CI: [{self.original[0]:.4g}, {self.original[1]:.4g}]."]
        for _, r in self.intervals.iterrows():
            lines.append(f"  {p} = {r[p]:<8.4g} [{r['lower']:.4g}, {r['upper']:.4g}]")
        bd = self.breakdown
        if np.isnan(bd):
            lines.append("Breakdown value: not computed.")
        else:
            lines.append(f"Breakdown value: {p} = {bd:.4g} (smallest {p} whose interval includes 0)"
                         if np.isfinite(bd) else f"Breakdown value: none up to the largest {p} searched.")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Any = None, **kwargs: Any) -> Figure:
        """Intervals against the restriction size (see :func:`evalint.plotting.sensitivity.plot_honest_did`)."""
        from evalint.plotting.sensitivity import plot_honest_did

        return plot_honest_did(self, ax=ax, **kwargs)


# ------------------------------------------------------------------ relative magnitudes
class _Pieces:
    """The moment problems of the pieces of ``Delta^RM(Mbar)``, built when first iterated to.

    The union over pieces accepts ``theta`` when any piece does, and the pieces where the
    estimated pre-period difference is largest (with its sign) accept most often, so they come
    first; pieces after the first accepting one are often never built.
    """

    def __init__(self, est: EventTimeEstimates, l_vec: np.ndarray, mbar: float, pre_differences: Sequence[int]):
        pre_diff = np.diff(np.r_[est.betahat[: est.n_pre], 0.0])
        self.order = sorted(((s, pos) for s in pre_differences for pos in (True, False)),
                            key=lambda sp: -(pre_diff[sp[0]] if sp[1] else -pre_diff[sp[0]]))
        self.est, self.l_vec, self.mbar = est, l_vec, mbar
        self.built: list[MomentProblem] = []

    def __iter__(self) -> Iterator[MomentProblem]:
        for i, (s, positive) in enumerate(self.order):
            if i == len(self.built):
                est = self.est
                a = relative_magnitude_polyhedron(est.n_pre, est.n_post, self.mbar, s, positive)
                self.built.append(moment_problem(est.betahat, est.sigma, est.n_pre, self.l_vec, a, np.zeros(len(a))))
            yield self.built[i]


def _rm_problems(est: EventTimeEstimates, l_vec: np.ndarray, mbar: float, pre_differences: Sequence[int]) -> _Pieces:
    return _Pieces(est, l_vec, mbar, pre_differences)


def _accepts(problems: Iterable[MomentProblem], theta: np.ndarray, alpha: float, ci: str, seed: int) -> np.ndarray:
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    acc = np.zeros(len(theta), dtype=bool)
    for p in problems:  # each piece tests only the values no earlier piece accepted
        todo = np.flatnonzero(~acc)
        if not len(todo):
            break
        acc[todo] = p.accepts(theta[todo], alpha, hybrid="lf" if ci == "hybrid" else "conditional", seed=seed)
    return acc


def _rm_interval(est: EventTimeEstimates, l_vec: np.ndarray, mbar: float, alpha: float, ci: str, seed: int,
                 pre_differences: Sequence[int], grid_points: int,
                 problems: _Pieces | None = None) -> tuple[float, float]:
    if problems is None:
        problems = _rm_problems(est, l_vec, mbar, pre_differences)
    post = est.betahat[est.n_pre:]
    theta_hat = float(l_vec @ post)
    sd = float(np.sqrt(l_vec @ est.sigma[est.n_pre:, est.n_pre:] @ l_vec))
    pre = np.r_[est.betahat[: est.n_pre], 0.0]
    maxpre = float(np.max(np.abs(np.diff(pre))))
    half = mbar * float(np.arange(1, est.n_post + 1) @ np.abs(l_vec)) * maxpre + 20 * sd
    lo, hi = theta_hat - half, theta_hat + half
    for _ in range(12):
        grid = np.linspace(lo, hi, grid_points)
        acc = _accepts(problems, grid, alpha, ci, seed)
        if not acc.any():
            return np.nan, np.nan
        if acc[0] or acc[-1]:
            lo, hi = (lo - (hi - lo), hi) if acc[0] else (lo, hi)
            lo, hi = (lo, hi + (hi - lo)) if acc[-1] else (lo, hi)
            continue
        break
    else:
        return (-np.inf if acc[0] else float(grid[np.argmax(acc)]),
                np.inf if acc[-1] else float(grid[len(acc) - 1 - np.argmax(acc[::-1])]))
    i, j = int(np.argmax(acc)), len(acc) - 1 - int(np.argmax(acc[::-1]))
    tol = 1e-10 * max(sd, 1e-300)

    def refine(inside: float, outside: float, depth: int = 4) -> float:
        # bisection; the midpoints of the next `depth` steps (2^depth - 1 candidates, whichever
        # way each step goes) are tested in one call, then the steps are replayed: the same
        # points and decisions as one test per step
        # stop also when the two ends are adjacent floats (far from 0, e.g. at a huge Mbar, a
        # tolerance of 1e-10 SE is below the spacing of floats and the midpoint is an end)
        while abs(inside - outside) > tol and 0.5 * (inside + outside) not in (inside, outside):
            states, mids = [(inside, outside)], []
            for _ in range(depth):
                nxt = []
                for i_, o_ in states:
                    m_ = 0.5 * (i_ + o_)
                    mids.append(m_)
                    nxt += [(m_, o_), (i_, m_)]
                states = nxt
            verdict = dict(zip(mids, _accepts(problems, np.array(mids), alpha, ci, seed).tolist()))
            for _ in range(depth):
                if abs(inside - outside) <= tol or 0.5 * (inside + outside) in (inside, outside):
                    break
                mid = 0.5 * (inside + outside)
                if verdict[mid]:
                    inside = mid
                else:
                    outside = mid
        return inside

    return refine(float(grid[i]), float(grid[i - 1])), refine(float(grid[j]), float(grid[j + 1]))


def _breakdown(covers_zero: Any, start: float, top: float, rel_tol: float = 1e-4) -> float:
    """Smallest restriction size whose interval covers 0 (bisection; assumes nested intervals)."""
    if covers_zero(0.0):
        return 0.0
    hi = max(start, 1e-12)
    while not covers_zero(hi):
        hi *= 2
        if hi > top:
            return np.inf
    lo = hi / 2 if hi > start else 0.0
    while hi - lo > rel_tol * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if covers_zero(mid) else (mid, hi)
    return hi


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _numbers(name: str, values: Any) -> np.ndarray:
    """``values`` as a flat float array, or a SpecificationError naming ``name``."""
    try:
        return np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise SpecificationError(f"{name}={values!r}: give numbers (a number or a list of numbers).") from None


def _sizes(name: str, values: Any) -> np.ndarray:
    """Restriction sizes, checked before any interval or breakdown value is computed."""
    sizes = _numbers(name, values)
    if np.any(sizes < 0) or not np.all(np.isfinite(sizes)):
        raise SpecificationError(f"restriction sizes must be finite and >= 0; got {name}={sizes.tolist()}.")
    return sizes


# ------------------------------------------------------------------ public
def honest_did_estimates(estimates: EventTimeEstimates, *, event_time: Any = 0,
                         method: str = "relative_magnitude", Mbar: Sequence[float] | None = None,
                         M: Sequence[float] | None = None, alpha: float = 0.05, ci: str | None = None,
                         l_vec: Sequence[float] | None = None, seed: int = 0, grid_points: int = 1000,
                         breakdown_max: float | None = None, breakdown: bool = True,
                         _pre_differences: Sequence[int] | None = None) -> HonestDiDResult:
    """:func:`honest_did` on event-time estimates already extracted (or given as arrays via
    :meth:`EventTimeEstimates.from_arrays`)."""
    a = check_alpha(alpha)
    check_option("method", method, METHODS)
    est = estimates
    check_positive_int("grid_points", grid_points, MIN_GRID_POINTS)
    if breakdown_max is not None and not (_is_number(breakdown_max) and 0 < float(breakdown_max) < np.inf):
        raise SpecificationError(f"breakdown_max={breakdown_max!r}: the largest restriction size searched for the "
                                 "breakdown value must be a finite number > 0 (or None for the default).")
    if l_vec is not None:
        lv = _numbers("l_vec", l_vec)
        if not np.all(np.isfinite(lv)):
            raise SpecificationError(f"l_vec={lv.tolist()}: the weights on the post-period effects must be finite.")
        if len(lv) != est.n_post or not np.any(lv != 0):
            raise SpecificationError(f"l_vec needs {est.n_post} weights (post-period event times "
                                     f"{', '.join(f'{e:g}' for e in est.post_times)}), not all zero.")
        label: Any = "weighted"
    else:
        if event_time not in list(est.post_times):
            raise SpecificationError(f"event_time={event_time!r} is not a post-period event time; available: "
                                     f"{', '.join(f'{e:g}' for e in est.post_times)}.")
        lv = (est.post_times == float(event_time)).astype(float)
        label = event_time
    post = est.betahat[est.n_pre:]
    sig_post = est.sigma[est.n_pre:, est.n_pre:]
    theta, sd = float(lv @ post), float(np.sqrt(lv @ sig_post @ lv))
    z = norm_ppf(1 - a / 2)
    original = (theta - z * sd, theta + z * sd)
    notes = list(est.notes)
    if method == "relative_magnitude":
        if M is not None:
            raise SpecificationError("method='relative_magnitude' takes Mbar=[...]; M=[...] is for 'smoothness'.")
        ci = ci or "hybrid"
        check_option("ci", ci, ("hybrid", "conditional"))
        sizes = _sizes("Mbar", [0.0, 0.5, 1.0, 1.5, 2.0] if Mbar is None else Mbar)
        pre_diffs = list(range(est.n_pre)) if _pre_differences is None else list(_pre_differences)

        built: dict[float, _Pieces] = {}  # the moment problems of each restriction size, built once

        def problems(m: float) -> _Pieces:
            if m not in built:
                built[m] = _rm_problems(est, lv, m, pre_diffs)
            return built[m]

        def interval(m: float) -> tuple[float, float]:
            return _rm_interval(est, lv, m, a, ci, seed, pre_diffs, grid_points, problems(m))

        def covers_zero(m: float) -> bool:
            return bool(_accepts(problems(m), np.array([0.0]), a, ci, seed)[0])

        top = 100.0 if breakdown_max is None else breakdown_max
        bd = _breakdown(covers_zero, 0.5, top) if breakdown else np.nan
        label_ci = ci
    else:
        if Mbar is not None:
            raise SpecificationError("method='smoothness' takes M=[...]; Mbar=[...] is for 'relative_magnitude'.")
        ci = ci or "flci"
        check_option("ci", ci, ("flci",))
        sizes = _sizes("M", np.array([0.0, 0.25, 0.5, 1.0]) * sd if M is None else M)

        def interval(m: float) -> tuple[float, float]:
            f = flci_smoothness(est.betahat, est.sigma, est.n_pre, lv, m, a)
            return f.lower, f.upper

        def covers_zero(m: float) -> bool:
            lo_, hi_ = interval(m)
            return lo_ <= 0 <= hi_

        top = 1e4 * sd if breakdown_max is None else breakdown_max
        bd = _breakdown(covers_zero, max(sd / 4, 1e-12), top) if breakdown else np.nan
        label_ci = "flci"
    rows = []
    for m in sizes:
        lo, hi = interval(float(m))
        if np.isnan(lo):
            notes.append(f"{'Mbar' if method == 'relative_magnitude' else 'M'} = {m:g}: the confidence set is "
                         "empty (the pre-period estimates reject this restriction).")
        rows.append({"Mbar" if method == "relative_magnitude" else "M": float(m), "lower": lo, "upper": hi,
                     "method": label_ci})
    return HonestDiDResult(method=method, ci_method=label_ci, event_time=label, estimate=theta, se=sd, alpha=a,
                           intervals=pd.DataFrame(rows), original=original, breakdown=float(bd), estimates=est,
                           l_vec=lv, notes=tuple(notes))


def honest_did(result: Any, event_time: Any = 0, method: str = "relative_magnitude", *,
               Mbar: Sequence[float] | None = None, M: Sequence[float] | None = None, alpha: float = 0.05,
               ci: str | None = None, l_vec: Sequence[float] | None = None, seed: int = 0,
               grid_points: int = 1000, breakdown_max: float | None = None,
               breakdown: bool = True) -> HonestDiDResult:
    """Rambachan-Roth sensitivity of an event-study effect to violations of parallel trends.

    Parameters
    ----------
    result : EffectResult
        An event study with ``tables["event_time_vcov"]``: Callaway-Sant'Anna dynamic
        aggregation with ``base_period="universal"``, Sun-Abraham, or the TWFE event study
        (reference period ``-1``).
    event_time : int
        The post-period event time whose effect is examined (0 = first treated period).
    method : {"relative_magnitude", "smoothness"}
    Mbar : sequence of float, optional
        Relative-magnitude bounds (default 0, 0.5, 1, 1.5, 2).
    M : sequence of float, optional
        Smoothness bounds in outcome units per period squared (default 0, 0.25, 0.5, 1 times the SE
        of the effect).
    alpha : float
    ci : {"hybrid", "conditional"} or "flci", optional
        Interval construction: relative magnitudes default ``"hybrid"`` (conditional /
        least-favourable, kappa = alpha/10, 1000 least-favourable draws from ``seed``);
        smoothness uses ``"flci"``.
    l_vec : sequence of float, optional
        Weights on the post-period effects instead of ``event_time`` (e.g. their average).
    seed : int
        Seed of the least-favourable draws of the hybrid test.
    grid_points : int
        Grid for inverting the tests before each end point is refined by bisection (at least
        20: a coarser grid could step over the accepted set and report it empty).
    breakdown_max : float, optional
        Largest restriction size searched for the breakdown value (a finite number > 0).
    breakdown : bool
        Compute the breakdown value (``False``: NaN, faster).

    Returns
    -------
    HonestDiDResult
        ``to_frame()``: columns ``Mbar`` (or ``M``), ``lower``, ``upper``, ``method``; the first
        row is the original interval. ``breakdown``; ``plot()``.

    References
    ----------
    Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. Review of
        Economic Studies 90(5), 2555-2591.
    Andrews, I., Roth, J. & Pakes, A. (2023). Inference for linear conditional moment
        inequalities. Review of Economic Studies 90(6), 2763-2791.

    Examples
    --------
    >>> es = evalint.aggregate_att(evalint.callaway_santanna(panel, base_period="universal"),
    ...                            "dynamic")  # doctest: +SKIP
    >>> evalint.honest_did(es, event_time=0, Mbar=[0, 0.5, 1]).to_frame()  # doctest: +SKIP
    """
    est = result if isinstance(result, EventTimeEstimates) else event_time_estimates(result)
    return honest_did_estimates(est, event_time=event_time, method=method, Mbar=Mbar, M=M, alpha=alpha, ci=ci,
                                l_vec=l_vec, seed=seed, grid_points=grid_points, breakdown_max=breakdown_max,
                                breakdown=breakdown)
