"""Churn-sensitivity re-estimates for each design ``evaluate()`` ran: DiD, ITS and synthetic control.

The comparison designs (DiD, synthetic control) go through the design-free engine of
:mod:`evalint.evaluate.churn_sensitivity` (donut, event regressor, drop the most differently
exposed comparison units, alternative date). A single series has no comparison units, so ITS
gets its own re-estimates (methods/policy_churn.md section 8, methods/evaluate.md):

``donut``
    The periods the event changes in are left out of the fit. A time-series model needs
    every period, so: a window starting at the intervention becomes an excluded transition
    window (the level change starts after it); a window before the intervention starts the
    series after it; one after the intervention ends the series before it. Assumes the event
    acts only inside that window.
``regressor``
    The event enters the segmented regression as a second interruption: a level change at the
    event's start, estimated beside the intervention's (Lopez Bernal et al. 2017, "controlling
    for co-interventions"). Not possible when the event starts in the intervention's own period:
    one series cannot tell two changes in the same month apart, and the row says so.
``alternative_date``
    The intervention moved to the date the calendar records as its alternative.

References
----------
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. IJE 46(1), 348-355.
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2018). The use of controls in interrupted time
series studies of public health interventions. IJE 47(6), 2082-2093.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import EvalintError, SpecificationError
from evalint.evaluate.churn_sensitivity import (
    CHURN_COLUMNS,
    FAST_PLACEBO,
    MAX_PLACEBO,
    ChurnSensitivity,
    _estimate,
    _event_periods,
    _threat_ids,
    churn_sensitivity,
)
from evalint.evaluate.refits import DesignRefit, design_refit, result_check

__all__ = ["CHURN_DESIGNS", "design_churn", "its_churn"]

#: designs with churn re-estimates
CHURN_DESIGNS = ("did", "its", "scm")
#: ITS re-estimates
ITS_CHECKS = ("donut", "regressor")
#: fewest pre-period rows an ITS re-estimate keeps (two seasonal Fourier pairs plus trend need them)
MIN_ITS_PRE = 12


def _its_donut(refit: DesignRefit, window: set[pd.Period]) -> tuple[Any, dict[str, Any], str] | str:
    """How a single series leaves out ``window``: (series, ITS options, note), or why it cannot.

    An ITS model needs every period, so the window is left out where the model allows it: a
    window starting at the intervention becomes an excluded transition (the level change
    starts after it); a window wholly before it starts the series after the window; a window
    wholly after it ends the series before the window.
    """
    series, start = refit.panel, refit.start
    periods = series.periods
    lo, hi = min(window), max(window)
    n_pre = int((periods < start).sum())
    if lo == start and all(p >= start for p in window):
        k = (hi - start).n + 1
        if int((periods >= start).sum()) - k < 2:
            return "the window would leave fewer than 2 post-periods"
        return series, {"transition": k, "transition_mode": "exclude"}, (
            f"{k} period(s) from {start} to {hi} excluded as a transition window (the level change starts after it)")
    if hi < start:
        kept = int(((periods > hi) & (periods < start)).sum())
        if kept < MIN_ITS_PRE:
            return f"starting the series after {hi} would leave {kept} pre-period(s) (fewer than {MIN_ITS_PRE})"
        return series.subset(start=hi + 1), {}, (f"series starts after the event's window ({hi}); "
                                                  f"{n_pre - kept} earlier period(s) left out")
    if lo > start:
        if int(((periods >= start) & (periods < lo)).sum()) < 2:
            return "ending the series before the window would leave fewer than 2 post-periods"
        return series.subset(end=lo - 1), {}, f"series ends before the event's window ({lo} onwards left out)"
    return "the window straddles the intervention date"


def its_churn(refit: DesignRefit, threats: Any, *, calendar: Any = None, alternative_dates: Iterable[Any] = (),
              max_threats: int = 5) -> ChurnSensitivity:
    """ITS re-estimates per top threat (donut, event as a second interruption) and alternative date.

    Parameters
    ----------
    refit : DesignRefit
        The ITS design of an evaluation (:func:`evalint.evaluate.refits.design_refit`).
    threats : CheckResult, DataFrame or list of event ids
        Ranked threats; at most ``max_threats`` used.
    calendar : PolicyCalendar, optional
        Where the events come from (default: the packaged calendar).
    alternative_dates : iterable of date-like

    Returns
    -------
    ChurnSensitivity
    """
    from evalint.calendar import PolicyCalendar

    cal = calendar if calendar is not None else PolicyCalendar.default()
    series = refit.panel
    start = refit.start
    main, lo, hi = _estimate(refit.fit, series)
    periods = series.periods
    rows: list[dict[str, Any]] = []

    def add(eid: str, check: str, est: tuple[float, float, float] | None, note: str) -> None:
        e, cl, ch = est if est is not None else (math.nan, math.nan, math.nan)
        base = main - refit.null
        rows.append({"event_id": eid, "check": check, "estimate": e, "conf_low": cl, "conf_high": ch,
                     "change": e - main, "change_pct": (100 * (e - main) / abs(base)) if base else math.nan,
                     "note": note})

    def attempt(eid: str, check: str, fn: Any, note: str) -> None:
        try:
            est = fn()
        except (EvalintError, ValueError, np.linalg.LinAlgError) as exc:
            add(eid, check, None, f"not possible: {exc}")
            return
        add(eid, check, est, note)

    for eid in _threat_ids(threats)[:max_threats]:
        if eid not in cal:
            add(eid, "donut", None, "not possible: event not in the calendar")
            continue
        event = cal.get(eid)
        window = set(_event_periods(event, series, active=False))
        if not window:
            add(eid, "donut", None, "not possible: the event changes outside the series' periods")
        else:
            how = _its_donut(refit, window)
            if isinstance(how, str):
                add(eid, "donut", None, f"not possible: {how}")
            else:
                s_, extra, note = how
                attempt(eid, "donut", lambda s_=s_, x=extra: _estimate(lambda p: refit.fit_at(p, start.start_time, **x),
                                                                       s_), note)
        ev_start = pd.Period(pd.Timestamp(event.start), series.freq)
        if ev_start == start:
            add(eid, "regressor", None, "not possible: the event starts in the intervention's own period; one "
                                        "series cannot separate two changes in the same period")
        elif ev_start <= periods[1] or ev_start > periods[-1]:
            add(eid, "regressor", None, "not possible: the event does not start inside the series")
        else:
            dates = {"event": ev_start.start_time, "intervention": start.start_time}
            ordered = dict(sorted(dates.items(), key=lambda kv: kv[1]))
            attempt(eid, "regressor", lambda o=ordered: _estimate(lambda p: refit.fit_at(p, o), series),
                    f"the event as a second interruption (level change from {ev_start}) beside the "
                    "intervention's")
    for alt in alternative_dates:
        p = pd.Period(pd.Timestamp(alt), series.freq)
        attempt("", "alternative_date", lambda d=p: _estimate(lambda s: refit.fit_at(s, d.start_time), series),
                f"intervention moved from {start} to {p}")
    return ChurnSensitivity(main=main, main_ci=(lo, hi), table=pd.DataFrame(rows, columns=list(CHURN_COLUMNS)))


def design_churn(ev: Any, design: str, outcome: str, *, calendar: Any = None, max_threats: int = 5) -> ChurnSensitivity:
    """Churn-sensitivity re-estimates of one design of evaluation ``ev`` on one outcome.

    The threats are the ranked calendar threats of that design's own result; the calendar is
    the one ``evaluate()`` used unless ``calendar`` is given.

    Raises
    ------
    SpecificationError
        The design is not in :data:`CHURN_DESIGNS`, was not run or failed, or has no calendar check.
    """
    if design not in CHURN_DESIGNS:
        raise SpecificationError(f"churn sensitivity supports designs {', '.join(CHURN_DESIGNS)}; got {design!r}.")
    refit = design_refit(ev, design, outcome)
    check = result_check(ev.result(design, outcome))
    if calendar is None:
        ctx = ev._cache.get("context")
        used = getattr(ctx, "calendar", None)
        calendar = used if used is not None and used is not False else None
    iv = ev.assignment.intervention
    alts = getattr(iv, "alternative_dates", ()) or ()
    if design == "its":
        return its_churn(refit, check, calendar=calendar, alternative_dates=alts, max_threats=max_threats)
    # the regressor interval: placebo refits for DiD (FAST_PLACEBO of them with fast settings); a
    # synthetic control's own interval is already a placebo inference, so it is widened instead
    fast = bool(getattr(ev._cache.get("context"), "fast", False))
    return churn_sensitivity(refit.fit, refit.panel, check, calendar=calendar, alpha=ev.alpha,
                             alternative_dates=alts, max_threats=max_threats,
                             regressor_interval="fit" if design == "scm" else "placebo",
                             max_placebo=FAST_PLACEBO if fast else MAX_PLACEBO, estimate_fit=refit.estimate)
