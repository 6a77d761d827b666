"""Event-time estimates and their covariance, read from an event-study :class:`EffectResult`.

Event-study results carry ``tables["event_time_vcov"]`` (covariance of the estimated event-time
coefficients, indexed by event time): Callaway-Sant'Anna dynamic aggregation (from the
influence functions), Sun-Abraham (``W V W'``) and the TWFE event study (cluster-robust).
The sensitivity tools need the estimates normalised to a reference period ``e = -1`` that is
not estimated, consecutive pre-period event times before it and consecutive post-period event
times from ``e = 0``.

References
----------
Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. Review of
    Economic Studies 90(5), 2555-2591.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalint.errors import SpecificationError
from evalint.estimators.did.state import EventTimeState

__all__ = ["EventTimeEstimates", "event_time_estimates"]


@dataclass(frozen=True)
class EventTimeEstimates:
    """Pre- then post-period event-time estimates ``betahat`` with covariance ``sigma``."""

    rel_time: np.ndarray
    betahat: np.ndarray
    sigma: np.ndarray
    n_pre: int
    n_post: int
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def pre_times(self) -> np.ndarray:
        return self.rel_time[: self.n_pre]

    @property
    def post_times(self) -> np.ndarray:
        return self.rel_time[self.n_pre:]

    @classmethod
    def from_arrays(cls, betahat: np.ndarray, sigma: np.ndarray, n_pre: int,
                    rel_time: np.ndarray | None = None, source: str = "arrays") -> EventTimeEstimates:
        """Check and wrap arrays (pre-periods ``-n_pre-1..-2`` then post ``0..``, reference -1 left out)."""
        b = np.asarray(betahat, dtype=float).ravel()
        s = np.asarray(sigma, dtype=float)
        if s.shape != (len(b), len(b)):
            raise SpecificationError(f"sigma has shape {s.shape}; it must be {len(b)} x {len(b)} like betahat.")
        if not np.all(np.isfinite(b)) or not np.all(np.isfinite(s)):
            raise SpecificationError("betahat and sigma must be finite; remove event times without a variance.")
        if not np.allclose(s, s.T, rtol=1e-8, atol=1e-14 * max(np.abs(s).max(), 1e-300)):
            raise SpecificationError("sigma must be symmetric.")
        if not 1 <= int(n_pre) < len(b):
            raise SpecificationError(f"n_pre={n_pre}: need at least one pre-period and one post-period "
                                     f"estimate among the {len(b)}.")
        n_pre = int(n_pre)
        want = np.r_[np.arange(-n_pre - 1, -1), np.arange(0, len(b) - n_pre)].astype(float)
        if rel_time is not None:
            try:
                given = np.asarray(rel_time, dtype=float).ravel()
            except (TypeError, ValueError):
                raise SpecificationError(f"rel_time={rel_time!r} must be event times (numbers).") from None
            if given.shape != want.shape or not np.array_equal(given, want):
                # the restrictions are built on positions: consecutive pre-periods ending at -2, the
                # reference -1 left out, consecutive post-periods from 0
                raise SpecificationError(
                    f"rel_time={given.tolist()} does not match betahat: with n_pre={n_pre} and {len(b)} estimates "
                    f"the event times must be {want.tolist()} (consecutive pre-periods ending at -2, the reference "
                    "period -1 left out, consecutive post-periods from 0). Re-normalise to e = -1 and drop event "
                    "times outside a consecutive window.")
        return cls(want, b, (s + s.T) / 2, n_pre, len(b) - n_pre, source)


def event_time_estimates(result: object) -> EventTimeEstimates:
    """The event-time estimates and covariance of an event-study result.

    Raises
    ------
    SpecificationError
        When the result has no event-time covariance (not an event study, or an estimator
        that does not expose one), when the reference period is not ``e = -1``, or when event
        times are missing inside the window (the name of the missing event time is given).
    """
    tables = getattr(result, "tables", None)
    method = getattr(result, "method", type(result).__name__)
    if not isinstance(tables, dict) and not hasattr(tables, "get"):
        raise SpecificationError(f"honest_did/pretrend_power need an event-study EffectResult; got {method!r}.")
    vc = tables.get("event_time_vcov")
    if vc is None:
        hint = ("re-aggregate it with evalint.aggregate_att(result, 'dynamic')" if "Callaway" in str(method)
                else "the imputation estimator's pre-trend coefficients (BJS Test 1) come from a separate "
                     "regression with no joint covariance with its effects; use Callaway-Sant'Anna "
                     "(base_period='universal'), Sun-Abraham or the TWFE event study"
                if "Imputation" in str(method)
                else "use a Callaway-Sant'Anna dynamic aggregation, Sun-Abraham or the TWFE event study")
        raise SpecificationError(f"result of method {method!r} has no covariance of event-time estimates "
                                 f"(tables['event_time_vcov']): {hint}.")
    eff = result.effects  # type: ignore[attr-defined]
    eff = eff[eff["rel_time"].notna() & eff["std_error"].notna()]
    est = eff.drop_duplicates("rel_time").set_index("rel_time")["estimate"]
    times = [float(e) for e in vc.index]
    var = np.diag(vc.to_numpy(float))
    # a reference period has a structurally zero variance (numerically about 1e-16 of the largest);
    # relative, so that an outcome on a small scale (1e-12) keeps its event times
    tiny = 1e-14 * float(np.nanmax(var)) if len(var) and np.nanmax(var) > 0 else 0.0
    keep = [e for e, v in zip(times, var) if v > tiny and e in est.index]
    dropped = sorted(set(times) - set(keep))
    notes = []
    if dropped:
        notes.append("event time(s) without a variance left out (reference periods): "
                     + ", ".join(f"{e:g}" for e in dropped))
    pre = sorted(e for e in keep if e < 0)
    post = sorted(e for e in keep if e >= 0)
    # the reference period: a zero-variance event time, or one left out of the window
    refs = sorted({e for e in dropped if e < 0}
                  | ({float(e) for e in range(int(pre[0]), -1)} - set(pre) if pre else set()))
    if -1.0 in pre and refs:
        raise SpecificationError(
            f"the event-study coefficients are normalised to event time {', '.join(f'{e:g}' for e in refs)} (not "
            "estimated), not to e = -1, which is estimated: with anticipation=k the reference period is "
            "-1-k. honest_did and pretrend_power need the reference e = -1: refit with anticipation=0, or "
            "event_study(..., reference=-1).")
    if -1.0 in pre:
        raise SpecificationError(
            "event time -1 is estimated, so the event-study coefficients are not normalised to e = -1 "
            "(C-S with base_period='varying' estimates short differences before treatment). Refit with "
            "callaway_santanna(..., base_period='universal'), or event_study(..., reference=-1).")
    if not pre or not post:
        raise SpecificationError(f"need pre-period (e <= -2) and post-period (e >= 0) estimates; got "
                                 f"event times {', '.join(f'{e:g}' for e in keep)}.")
    want_pre = [float(e) for e in range(int(pre[0]), -1)]
    want_post = [float(e) for e in range(int(post[-1]) + 1)]
    missing = sorted(set(want_pre + want_post) - set(pre + post))
    if missing:
        raise SpecificationError(f"event time(s) {', '.join(f'{e:g}' for e in missing)} missing inside the "
                                 "window: the restrictions need consecutive event times; narrow the window "
                                 "(min_e/max_e, leads/lags).")
    order = pre + post
    state = getattr(result, "state", None)
    if isinstance(state, EventTimeState) and state.bin_endpoints:
        notes.append("end points are binned (the first and last coefficients pool several event times); "
                     "the restrictions treat each as one period")
    sigma = vc.loc[order, order].to_numpy(float)
    return EventTimeEstimates(np.array(order), est.loc[order].to_numpy(float), (sigma + sigma.T) / 2,
                              len(pre), len(post), str(method), tuple(notes))
