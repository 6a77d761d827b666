"""The rules that judge one calendar event against an evaluation window.

One job: the rules of ``methods/policy_churn.md`` for a single event, free of argument
handling and rendering. :func:`_classify` places the event's start/end change points in an
overlap category (:data:`OVERLAPS`) relative to the intervention dates, :func:`_channel`
decides whether it reaches the outcome (listed, or indirectly through
:data:`INDIRECT_CHANNELS`), :func:`_coverage` whether it hits treated and comparison units
differently, and :func:`_severity` combines these into a severity.
:func:`evalint.calendar.confounding.check_confounding` applies them to a whole calendar and
builds the threat table and flags.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
import numpy as np
import pandas as pd

from evalint.calendar.event_records import PolicyEvent
from evalint.calendar.exposure import DIFFERENTIAL_SMD, standardised_difference, unit_exposure
from evalint.data.timeparse import to_period

__all__ = ["GENERAL_KINDS", "INDIRECT_CHANNELS", "MAGNITUDE_SIZE", "MEASUREMENT_KINDS", "OVERLAPS",
           "SIZE_TO_NOISE", "duration_weight", "too_small_for_series"]

#: Outcome checked -> {outcome an event lists: (short channel name, mechanism)}.
#: An event that does not list the checked outcome but lists one of these is treated as
#: moving it indirectly, with severity one step lower than a listed event.
INDIRECT_CHANNELS: dict[str, dict[str, tuple[str, str]]] = {
    "emergency_admissions": {
        "delayed_discharges": ("bed occupancy", "it moves delayed discharges, and beds held by "
                               "patients ready to leave limit how many emergencies can be "
                               "admitted"),
        "elective_admissions": ("shared capacity", "it moves elective activity, and staff and beds "
                                "are shared between elective and emergency care (e.g. strikes)"),
        "length_of_stay": ("bed occupancy", "it moves length of stay, and bed occupancy limits "
                           "how many emergencies can be admitted"),
        "ae_attendances": ("A&E front door", "it moves A&E attendances, the route into most "
                           "emergency admissions"),
    },
    "length_of_stay": {
        "delayed_discharges": ("delayed days", "it moves delayed discharges, whose extra days "
                               "are part of length of stay"),
        "emergency_admissions": ("case mix", "it moves emergency admissions, which changes who is "
                                 "admitted and so mean length of stay"),
        "care_home_admissions": ("discharge destinations", "it moves care home placements, where "
                                 "many delayed patients go on discharge"),
    },
    "delayed_discharges": {
        "length_of_stay": ("discharge flow", "it moves length of stay, which acts through when "
                           "patients are discharged"),
        "care_home_admissions": ("discharge destinations", "it moves care home placements, the "
                                 "capacity delayed patients wait for"),
        "emergency_admissions": ("inflow", "it moves emergency admissions, the inflow of patients "
                                 "who later need discharge support"),
    },
}

#: Event kinds that change how outcomes are recorded, not what happens: they reach only the
#: outcomes they list (no indirect channel).
MEASUREMENT_KINDS = frozenset({"data_definition_change", "data_availability"})
#: Event kinds considered for an outcome the calendar does not know: system-wide shocks
#: and strikes move most hospital outcomes; a policy aimed at named outcomes, or a change to
#: a named data collection, is not assumed to move an unknown one.
GENERAL_KINDS = frozenset({"shock", "workforce"})
_PERIOD_DAYS = {"D": 1.0, "W": 7.0, "M": 30.44, "Q": 91.31, "Y": 365.25}
OVERLAPS = ("co_timed", "anticipation", "straddles", "post_window", "pre_window")
#: Overlaps where the event changes close to the intervention. ``straddles`` is not near:
#: the event runs across the intervention date and changes only elsewhere in the window,
#: so its level is on both sides of the interruption (it is judged like a change in the
#: pre- or post-period).
_NEAR = frozenset({"co_timed", "anticipation"})
_STEP_DOWN = {"high": "medium", "medium": "low", "low": "low"}
_PRECISION_MONTHS = {"day": 0, "month": 1, "quarter": 3, "year": 12}
#: Expected size of an event's effect on a national series (log scale), by magnitude class,
#: read from ../shared/domain/magnitudes.md: "small" ~1% (integration programmes: 0 to -3%,
#: the BCF's first year no measurable change, NAO 2017), "medium" ~3% (the BCF's planned
#: -3.07% of emergency admissions), "large" ~10% (COVID's first wave -39% of emergency
#: admissions; the 2022/23 winter +18% and the post-fund fall -15% of NCtR patients).
MAGNITUDE_SIZE = {"small": 0.01, "medium": 0.03, "large": 0.10}
#: In a single series an event counts at full severity only when its expected size (times its
#: duration weight) is at least this many times the series' own step noise
#: (:mod:`evalint.calendar.series_noise`): smaller changes do not stand out from the level
#: changes the series shows anyway (methods/policy_churn.md section 9).
SIZE_TO_NOISE = 2.0


@dataclass(frozen=True)
class _Change:
    what: str  # "start" or "end"
    lo: pd.Period
    hi: pd.Period


# ---------------------------------------------------------------------------------
# timing
#: (id(event), freq, start_only) -> (event, its change points): the change points depend only on
#: the (frozen) event and the frequency, so each is worked out once per process, not once per check.
#: The event is kept in the value so that its id cannot be reused while the entry lives.
_CHANGE_CACHE: dict[tuple[int, str, bool], tuple[PolicyEvent, tuple[_Change, ...]]] = {}
_CHANGE_CACHE_MAX = 20_000


def _change_points(event: PolicyEvent, freq: str, start_only: bool) -> list[_Change]:
    key = (id(event), freq, start_only)
    hit = _CHANGE_CACHE.get(key)
    if hit is not None and hit[0] is event:
        return list(hit[1])
    out = _compute_change_points(event, freq, start_only)
    if len(_CHANGE_CACHE) >= _CHANGE_CACHE_MAX:
        _CHANGE_CACHE.clear()
    _CHANGE_CACHE[key] = (event, tuple(out))
    return out


def _compute_change_points(event: PolicyEvent, freq: str, start_only: bool) -> list[_Change]:
    months = _PRECISION_MONTHS[event.date_precision]
    lo = to_period(event.start, freq)
    hi = to_period(event.start + pd.DateOffset(months=months) - pd.Timedelta(days=1), freq) \
        if months else lo
    out = [_Change("start", lo, hi)]
    if event.end_is_change and not start_only:
        after = event.end + pd.Timedelta(days=1)
        if months:
            unit = {1: "M", 3: "Q", 12: "Y"}[months]
            first = event.end.to_period(unit).start_time
            out.append(_Change("end", to_period(first, freq), to_period(after, freq)))
        else:
            p = to_period(after, freq)
            out.append(_Change("end", p, p))
    return out


def _gap(a: pd.Period, b: pd.Period) -> int:
    return (a - b).n


def _classify(event: PolicyEvent, changes: list[_Change], cohorts: list[pd.Period],
              w0: pd.Period, w1: pd.Period, k: int, start_only: bool
              ) -> tuple[str, _Change, pd.Period] | None:
    inside = [c for c in changes if c.hi >= w0 and c.lo <= w1]
    if not inside:
        return None
    best: tuple[int, int, int, str, _Change, pd.Period] | None = None
    for t in cohorts:
        for c in inside:
            if c.hi >= t and c.lo <= t + k:
                cand = (0, abs(_gap(max(c.lo, t), t)), t.ordinal, "co_timed", c, t)
            elif c.hi >= t - k and c.lo <= t - 1:
                cand = (1, abs(_gap(min(c.hi, t - 1), t)), t.ordinal, "anticipation", c, t)
            else:
                continue
            if best is None or cand[:3] < best[:3]:
                best = cand
        if best is None and not start_only and event.end_is_change:
            if to_period(event.start, t.freqstr) < t <= to_period(event.end, t.freqstr):
                best = (2, 0, t.ordinal, "straddles", inside[0], t)
    if best is not None:
        return best[3], best[4], best[5]
    first = cohorts[0]
    post = [c for c in inside if c.hi >= first]
    if post:
        return "post_window", post[0], first
    return "pre_window", inside[-1], first


def duration_weight(event: PolicyEvent, freq: str) -> float:
    """Share of one period of ``freq`` the event lasts, capped at 1 (open-ended: 1).

    A two-day strike in a monthly series weighs 2/30.44 = 0.066: a blip in one month, not
    a level shift.
    """
    days = event.duration_days
    if days is None:
        return 1.0
    return min(1.0, days / _PERIOD_DAYS[freq])


def too_small_for_series(magnitude: str, weight: float, noise: float | None) -> tuple[bool, float]:
    """(too small to stand out in a series of step noise ``noise``, expected size).

    Never too small when ``noise`` is ``None`` (no scale known).
    """
    size = MAGNITUDE_SIZE.get(magnitude, MAGNITUDE_SIZE["medium"]) * weight
    return (noise is not None and size < SIZE_TO_NOISE * noise), size


# ---------------------------------------------------------------------------------
# units and severity
def _channel(event: PolicyEvent, outcome: str | None) -> tuple[str, str, str] | None:
    """(channel, direction, mechanism) or None when the event does not reach the outcome."""
    if outcome is None:
        if event.kind not in GENERAL_KINDS or not event.outcomes:
            return None
        return ("unknown outcome", "ambiguous",
                "the outcome is not one the calendar knows; system-wide shocks and strikes move "
                "most hospital outcomes")
    if event.moves(outcome):
        return "listed", event.direction.get(outcome, "ambiguous"), ""
    if event.kind in MEASUREMENT_KINDS:
        return None  # a change in how one outcome is recorded does not move another
    for listed, (short, mechanism) in INDIRECT_CHANNELS.get(outcome, {}).items():
        if event.moves(listed):
            return f"indirect ({short})", "ambiguous", mechanism
    return None


def _coverage(event: PolicyEvent, groups: dict[str, frozenset[str]],
              evaluated: frozenset[str] | None, universe: frozenset[str],
              comparison_design: bool, calendar: object = None,
              units: frozenset[str] | None = None) -> tuple[bool, bool | None, str, float]:
    """(relevant, differential, sentence about units, standardised difference of exposure).

    ``units`` are the event's listed units as the evaluated units spell them (default: as listed).
    """
    nan = float("nan")
    if event.is_national:
        where = f"national ({event.nation})"
        if comparison_design and len(groups) >= 2 and calendar is not None:
            members = sorted(set().union(*groups.values()))
            expo, what = unit_exposure(event, members, calendar)
            if expo is not None and len(expo) >= 2:
                d = _max_smd(groups, expo, standardised_difference)
                if math.isnan(d):
                    return True, False, (f"{where}; its {what} does not cover both groups, so it is "
                                         "treated as hitting them alike"), d
                diff = abs(d) >= DIFFERENTIAL_SMD
                return True, diff, (
                    f"{where}, but its {what} differs between the groups (standardised difference "
                    f"{d:+.2f}; differential at |d| >= {DIFFERENTIAL_SMD})" if diff else
                    f"{where}, and its {what} is similar in the groups (standardised difference "
                    f"{d:+.2f}, below {DIFFERENTIAL_SMD})"), d
        if comparison_design:
            return True, False, f"{where}, so it hits treated and comparison units alike", nan
        return True, None, f"{where}, so it hits every unit", nan
    if event.units is None:
        return True, None, ("it hits only some units, which the calendar does not list, so it "
                            "may hit treated and comparison units differently"), nan
    units = units if units is not None else frozenset(event.units)
    if evaluated is None:
        return True, None, f"it hits {len(units)} listed units (evaluated units not given)", nan
    if not (evaluated & universe):
        return True, None, ("it lists units as ICB ODS codes but the evaluated units use other "
                            "ids, so the overlap is unknown"), nan
    hit = units & evaluated
    if not hit:
        return False, None, "", nan
    parts = [f"{len(members & units)} of {len(members)} {g} units" for g, members in groups.items()]
    text = "it hits " + ", ".join(parts)
    if not comparison_design or len(groups) < 2:
        return True, None, text, nan
    members = sorted(set().union(*groups.values()))
    expo = pd.Series([1.0 if u in units else 0.0 for u in members], index=members)
    d = _max_smd(groups, expo, standardised_difference)
    diff = abs(d) >= DIFFERENTIAL_SMD
    return True, diff, f"{text} (standardised difference {d:+.2f})", d


def _max_smd(groups: dict[str, frozenset[str]], expo: pd.Series, smd: object) -> float:
    """Largest |standardised difference| of exposure between one group and the others."""
    best = float("nan")
    names = list(groups)
    # one pass over the exposure series (unique unit index) instead of a reindex per group pair
    value = dict(zip(expo.index, expo.to_numpy(float)))
    for i, g in enumerate(names):
        for h in names[i + 1:]:
            a = np.array([value[u] for u in sorted(groups[g]) if u in value], dtype=float)
            b = np.array([value[u] for u in sorted(groups[h]) if u in value], dtype=float)
            d = smd(a, b)  # type: ignore[operator]
            if not math.isnan(d) and (math.isnan(best) or abs(d) > abs(best)):
                best = d
    return best


def _severity(overlap: str, comparison_design: bool, differential: bool | None,
              indirect: bool, steps_down: int = 0) -> str:
    near = overlap in _NEAR
    if not comparison_design:
        sev = "high" if near else "medium"
    elif differential is True:
        sev = "high"
    elif differential is None:
        sev = "high" if near else "medium"
    else:
        sev = "medium" if near else "low"
    for _ in range(int(indirect) + steps_down):
        sev = _STEP_DOWN[sev]
    return sev

