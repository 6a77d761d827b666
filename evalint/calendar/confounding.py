"""Which calendar events threaten an evaluation: the policy-calendar check.

For an intervention (a date, a preset, or one date per unit) and an outcome, every
event of the relevant nation whose start or end falls inside the estimation window is
placed in one overlap category, judged on whether it moves the outcome (listed, or
indirectly through a documented channel) and whether it hits treated and comparison
units differently, and given a severity. The rules are written out in
``methods/policy_churn.md``; this module and :mod:`evalint.calendar.overlap_rules` (the
per-event overlap, reach, coverage and severity rules) are their only implementation.

References
----------
Shadish, W. R., Cook, T. D. and Campbell, D. T. (2002). *Experimental and
Quasi-Experimental Designs for Generalized Causal Inference*, ch. 5-6 (history and
local history as threats to difference-in-differences and interrupted time series).
Bernal, J. L., Cummins, S. and Gasparrini, A. (2017). Interrupted time series regression
for the evaluation of public health interventions: a tutorial. *International Journal
of Epidemiology* 46(1), 348-355 (co-interventions as the main threat to ITS).
Roth, J., Sant'Anna, P. H. C., Bilinski, A. and Poe, J. (2023). What's trending in
difference-in-differences? *Journal of Econometrics* 235(2), 2218-2244 (shocks that hit
groups differently break parallel trends).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from evalint._typing import check_positive_int
from evalint.calendar.collection import EventCollection, nation_name
from evalint.calendar.event_records import GEO_LEVELS, PolicyEvent, close_match
from evalint.calendar.overlap_rules import (
    GENERAL_KINDS,
    INDIRECT_CHANNELS,
    MEASUREMENT_KINDS,
    _Change,
    _change_points,
    _channel,
    _classify,
    _coverage,
    _gap,
    _severity,
    duration_weight,
    too_small_for_series,
)
from evalint.calendar.series_noise import NATIONAL_STEP_NOISE
from evalint.calendar.presets import Intervention, list_presets, resolve_preset
from evalint.calendar.ranking import rank_threats, threat_score
from evalint.data.timeparse import FREQ_NAMES, normalise_freq, to_period
from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import (
    ConfoundingWarning,
    SpecificationError,
    TimeParseError,
    _user_stacklevel,
    format_examples,
)
from evalint.outcomes import get_outcome

__all__ = [
    "check_confounding", "TABLE_COLUMNS",
    "SINGLE_SERIES_DESIGNS", "COMPARISON_DESIGNS",
]

SINGLE_SERIES_DESIGNS = ("its",)
COMPARISON_DESIGNS = ("cits", "did", "event_study", "staggered_did", "synth", "sdid", "ascm")
TABLE_COLUMNS = (
    "event_id", "name", "start", "end", "overlap", "moves_outcome", "direction",
    "differential", "severity", "reason", "source", "unverified", "channel", "changes_in",
    "kind", "scope", "nation", "phase", "magnitude", "weight", "smd", "score", "design",
)
_SEV_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
_UNIT = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}


@dataclass(frozen=True)
class _Plan:
    """The intervention reduced to what the check needs."""

    label: str
    cohorts: dict[pd.Period, frozenset[str] | None]
    treated: frozenset[str] | None
    own: frozenset[str]
    related: frozenset[str]


# ---------------------------------------------------------------------------------
# argument resolution
def _unit_set(values: Iterable[Any] | None, name: str) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    out = frozenset(str(v) for v in values)
    if not out:
        raise SpecificationError(f"{name} is empty; pass at least one unit id or leave it as None.")
    return out


def _preset_error(value: Any) -> SpecificationError:
    close = difflib.get_close_matches(str(value), list_presets(), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return SpecificationError(
        f"intervention={value!r} is neither a known preset nor a date.{hint} Presets: "
        f"{', '.join(list_presets())}. Dates look like '2022-07-01', '2022-07' or '2022Q3'; "
        "for a staggered roll-out pass a mapping unit -> date."
    )


def _resolve_intervention(value: Any, freq: str, treated: frozenset[str] | None) -> _Plan:
    iv: Intervention | None = None
    if isinstance(value, Intervention):
        iv = value
    elif isinstance(value, str) and value.strip().lower() in list_presets():
        iv = resolve_preset(value.strip().lower())
    if iv is not None:
        own, related = frozenset(iv.event_ids), frozenset(iv.related_event_ids)
        if iv.unit_dates is not None:
            value = dict(iv.unit_dates)
            if treated is not None:  # evaluate the preset on some of its units
                unknown = sorted(treated - set(value))
                if unknown:
                    raise SpecificationError(
                        f"treated_units {format_examples(unknown)} are not units of preset "
                        f"{iv.name!r}, which covers {format_examples(sorted(value))}."
                    )
                value = {u: d for u, d in value.items() if u in treated}
        else:
            label = iv.name
            units = treated if treated is not None else (frozenset(iv.units) if iv.units else None)
            return _Plan(label, {to_period(iv.date, freq, "intervention date"): units}, units,
                         own, related)
    else:
        own = related = frozenset()
    if isinstance(value, Mapping):
        if not value:
            raise SpecificationError("intervention mapping unit -> date is empty.")
        by_period: dict[pd.Period, set[str]] = {}
        for unit, when in value.items():
            try:
                p = to_period(when, freq, what=f"intervention date of unit {unit!r}")
            except TimeParseError as exc:
                raise TimeParseError(str(exc)) from None
            by_period.setdefault(p, set()).add(str(unit))
        keys = frozenset(str(u) for u in value)
        if treated is not None and treated != keys:
            raise SpecificationError(
                "treated_units must match the units of the intervention mapping: "
                f"{len(treated - keys)} listed only in treated_units "
                f"({format_examples(sorted(treated - keys))}), {len(keys - treated)} only in the "
                f"mapping ({format_examples(sorted(keys - treated))}). Leave treated_units=None."
            )
        label = iv.name if iv is not None else f"staggered roll-out ({len(keys)} units)"
        return _Plan(label, {p: frozenset(u) for p, u in sorted(by_period.items())}, keys, own,
                     related)
    if isinstance(value, str):
        try:
            period = to_period(value, freq, what="intervention")
        except TimeParseError:
            if value.strip()[:1].isdigit():  # a date that does not parse: say why (e.g. '01/07/2022')
                raise
            raise _preset_error(value) from None
    elif isinstance(value, (pd.Period, pd.Timestamp, date, datetime)) or hasattr(value, "year"):
        period = to_period(value, freq, what="intervention")
    else:
        raise SpecificationError(
            f"intervention must be a date, a pandas Period, a preset name or a mapping unit -> "
            f"date; got {type(value).__name__}. Presets: {', '.join(list_presets())}."
        )
    return _Plan(f"intervention in {period}", {period: treated}, treated, own, related)


def _resolve_outcome(outcome: Any, calendar: EventCollection) -> str | None:
    if outcome is None:
        return None
    if not isinstance(outcome, str):
        outcome = getattr(outcome, "name", outcome)
    known = set(calendar.outcomes) | set(INDIRECT_CHANNELS)
    for name in dict.fromkeys((outcome, outcome.strip().lower()) if isinstance(outcome, str) else (outcome,)):
        try:
            kind = get_outcome(name).name
        except SpecificationError:
            if name in known:
                return name
        else:
            return None if kind == "continuous" else kind
    close = difflib.get_close_matches(str(outcome).strip().lower(), sorted(known), n=1)
    raise SpecificationError(
        f"outcome={outcome!r} is not an outcome the calendar knows."
        + (f" Did you mean {close[0]!r}?" if close else "") + " Use an evalint outcome kind "
        f"(emergency_admissions, length_of_stay, delayed_discharges; or continuous/None for 'any "
        f"outcome') or one the calendar's events list: {', '.join(sorted(known))}."
    )


def _units_as_evaluated(calendar: EventCollection, evaluated: frozenset[str] | None
                        ) -> dict[str, frozenset[str]]:
    """Each subset event's listed units, spelled as the evaluated units are.

    A listed unit that is not an evaluated unit but equals one when case is ignored (``'qhg'``
    for ``'QHG'``, as a hand-written calendar CSV may have it, or the shipped events' upper-case
    codes against a panel's lower-case ids) is read as that unit, with one ConfoundingWarning
    naming the events and the pairs: matched exactly, such an event would hit no evaluated unit
    and be dropped from the table without a word. Ids whose case-folded form is shared by two
    evaluated units are left as written.
    """
    folded: dict[str, list[str]] = {}
    for u in evaluated or ():
        folded.setdefault(u.casefold(), []).append(u)
    out: dict[str, frozenset[str]] = {}
    events: list[str] = []
    pairs: dict[str, str] = {}
    for event in calendar.events:
        if not event.units:
            continue
        units: list[str] = []
        for u in event.units:
            match = folded.get(u.casefold(), [])
            if u not in (evaluated or ()) and len(match) == 1:
                if event.id not in events:
                    events.append(event.id)
                pairs.setdefault(u, match[0])
                u = match[0]
            units.append(u)
        out[event.id] = frozenset(units)
    if events:
        shown = ", ".join(f"{a!r} as {b!r}" for a, b in list(pairs.items())[:4])
        warnings.warn(
            f"{len(events)} calendar event(s) ({format_examples(events)}) list unit ids that match "
            f"the evaluated units only when case is ignored ({shown}"
            f"{', ...' if len(pairs) > 4 else ''}); they are read as the evaluated units. Write unit "
            "ids the same way in the panel and the calendar (ICB ODS codes are upper case).",
            ConfoundingWarning, stacklevel=_user_stacklevel())
    return out


def _open_choice(value: Any, known: Sequence[str], what: str, unknown: str, note: str) -> str:
    """``value`` in lower case; a value none of ``known`` is (a legitimate name evalint has no
    event for, or a misspelling) gives one ConfoundingWarning with the closest known value."""
    if not isinstance(value, str) or not value.strip():
        raise SpecificationError(f"{what} must be a non-empty name; got {value!r}.")
    text = value.strip().lower()
    if text not in known:
        close = close_match(text, known)
        warnings.warn(
            f"{what}={value!r} is {unknown}"
            + (f" (did you mean {close!r}?)" if close else "") + f". {note} Known: "
            f"{', '.join(known)}.", ConfoundingWarning, stacklevel=_user_stacklevel())
    return text


def _series_choices(calendar: EventCollection, collection: Any,
                    level: Any) -> tuple[str | None, str | None]:
    """``collection=`` and ``level=`` in lower case. Both are an open vocabulary: a value no
    event names is kept, with one ConfoundingWarning each (and the closest known value), since
    a misspelling would skip definition or geography changes that do apply."""
    if collection is not None:
        collection = _open_choice(
            collection, sorted({c for e in calendar.events for c in e.collections}), "collection",
            "a collection no event of the calendar names",
            "Every data-definition change scoped to a collection is skipped as not changing "
            "this series; if the name is misspelt, correct it, or leave collection unset to keep "
            "them one severity step lower.")
    if level is not None:
        levels = list(dict.fromkeys((*GEO_LEVELS, *sorted({g for e in calendar.events for g in e.geo_levels}))))
        level = _open_choice(
            level, levels, "level", "not a level evalint or the calendar knows",
            "Geography changes scoped to other levels are skipped as not changing this series; "
            "if the name is misspelt, correct it, or leave level unset to keep them.")
    return collection, level


def _uncovered(calendar: EventCollection, w0: pd.Period,
               w1: pd.Period) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The spans of the window (first to last day) outside the calendar's coverage."""
    first, last = w0.start_time.normalize(), w1.end_time.normalize()
    cov = calendar.coverage
    if cov is None:
        return [(first, last)]
    day = pd.Timedelta(days=1)
    spans = []
    if first < cov[0]:
        spans.append((first, min(last, cov[0] - day)))
    if last > cov[1]:
        spans.append((max(first, cov[1] + day), last))
    return spans


def _coverage_text(calendar: EventCollection, spans: list[tuple[pd.Timestamp, pd.Timestamp]]) -> str:
    cov = calendar.coverage
    held = ("the calendar holds no event" if cov is None else
            f"the calendar covers {cov[0].date()} to {cov[1].date()}")
    where = " and ".join(f"{a.date()} to {b.date()}" for a, b in spans)
    return (f"Not established for {where}: {held}, so it cannot flag any event there (no flag is "
            "not evidence of no event). Add local events for that span (PolicyCalendar.add or "
            "from_csv; --csv on the command line) or keep the window inside the calendar's dates.")


# ---------------------------------------------------------------------------------
# reasons
def _timing_phrase(overlap: str, change: _Change, t: pd.Period, freq: str, staggered: bool,
                   event: PolicyEvent, pre: int, post: int) -> str:
    unit = _UNIT[freq]
    when = str(change.lo) if change.lo == change.hi else f"{change.lo}..{change.hi}"
    verb = "starts" if change.what == "start" else "ends"
    ref = f"the {t} cohort's start" if staggered else f"the intervention ({t})"
    if overlap == "co_timed":
        d = _gap(max(change.lo, t), t)
        lag = "in the same period as" if d == 0 else f"{d} {unit}(s) after"
        return f"{verb} in {when}, {lag} {ref}"
    if overlap == "anticipation":
        d = -_gap(min(change.hi, t - 1), t)
        return (f"{verb} in {when}, {d} {unit}(s) before {ref}, where it is confounded with "
                "anticipation")
    if overlap == "straddles":
        end = event.end.date() if event.end is not None else "open"
        return f"runs from {event.start.date()} to {end}, across {ref}"
    if overlap == "post_window":
        return f"{verb} in {when}, inside the {post}-{unit} post-period"
    return f"{verb} in {when}, inside the {pre}-{unit} pre-period (the baseline)"


def _design_phrase(severity: str, comparison_design: bool, differential: bool | None) -> str:
    if severity == "info":
        return "not expected to move this outcome"
    if not comparison_design:
        return "a single-series comparison cannot separate it from the intervention"
    if differential is True:
        return "because it hits the groups differently, differencing does not remove it"
    if differential is None:
        return "check whether it hits the groups differently (list its units to decide)"
    return "differencing removes it if its effect is the same in both groups"


# ---------------------------------------------------------------------------------
def check_confounding(calendar: EventCollection, intervention: Any, *, outcome: Any,
                      pre: int = 24, post: int = 12, freq: str = "M",
                      treated_units: Iterable[Any] | None = None,
                      comparison_units: Iterable[Any] | None = None, design: str | None = None,
                      co_timed: int = 3, nation: str = "England",
                      include_all: bool = False, collection: str | None = None,
                      level: str | None = None, top: int = 5,
                      noise: float | None = None) -> CheckResult:
    """Flag calendar events that threaten an evaluation.

    Parameters
    ----------
    calendar : PolicyCalendar (any EventCollection)
    intervention : date, pandas.Period, str, Intervention or mapping
        A date (``'2022-07-01'``), a Period, a preset name (see
        :func:`evalint.calendar.presets.list_presets`), an :class:`Intervention`, or a
        mapping unit -> date for staggered roll-outs (the window then runs from the
        earliest date minus ``pre`` to the latest plus ``post``, and co-timing is checked
        against every cohort date).
    outcome : str or None
        Outcome evaluated: an evalint outcome kind (aliases accepted) or any outcome an
        event lists. ``None`` or ``"continuous"``: any listed outcome counts.
    pre, post : int
        Periods of ``freq`` before and from the intervention that the estimation uses.
    freq : {"D", "W", "M", "Q", "Y"}
    treated_units, comparison_units : iterable of str, optional
        Unit ids (ICB ODS codes to match the default calendar's unit lists). With a
        comparison group, events are judged on whether they hit the groups differently.
    design : str, optional
        ``"its"`` (single series: no comparison), or a comparison design
        (``"cits"``, ``"did"``, ``"event_study"``, ``"staggered_did"``, ``"synth"``,
        ``"sdid"``, ``"ascm"``). By default a comparison design is assumed when
        ``comparison_units`` are given or units start on different dates.
    co_timed : int
        Half-width, in periods, of the window around each intervention date in which an
        event's start or end counts as co-timed (after) or as anticipation (before).
    nation : str
        Events of other nations are ignored (UK-wide events always count). One of
        ``England``, ``Scotland``, ``Wales``, ``NI``, ``UK``, in any case; others are refused.
    include_all : bool
        Also list in-window events that do not reach the outcome (severity ``"info"``).
    collection : str, optional
        The data collection the series comes from (``discharge_sitrep``, ``dtoc``,
        ``hes_apc``, ``sus``, ``ae_monthly``, ``ecds``...). Data-definition changes of other
        collections are then skipped; when not given they are kept one severity step lower.
        Any case; a collection no event of the calendar names (``rtt``, ``mhsds``...) is kept
        with a ConfoundingWarning and a did-you-mean (no collection-scoped change applies to it).
    level : str, optional
        Geographic level of the series (``national``, ``icb``, ``ccg``, ``trust``...).
        Geography changes (ICB boundaries, CCG -> ICB reporting) are skipped for levels they
        do not change. Default: ``national`` for a single-series design of a national
        intervention, else unknown (kept). Any case; a level that is neither in
        :data:`~evalint.calendar.event_records.GEO_LEVELS` nor the calendar's own (``pcn``,
        ``lsoa``...) is kept with a ConfoundingWarning and a did-you-mean.
    top : int
        Length of the ranked short list (``CheckResult.threats``), at most 5 by default.
    noise : float, optional
        Single-series designs: the series' own step noise on the log scale
        (:func:`evalint.calendar.series_noise.step_noise`). An event whose expected size
        (:data:`~evalint.calendar.overlap_rules.MAGNITUDE_SIZE` of its magnitude class times
        its duration weight) is below ``SIZE_TO_NOISE`` (2) times it is lowered one severity
        step: it would not stand out as a break. Default: for a national monthly series, the
        outcome's :data:`~evalint.calendar.series_noise.NATIONAL_STEP_NOISE` when it has one;
        otherwise no size rule.

    Returns
    -------
    CheckResult
        ``name="policy_calendar"``; ``passed`` is False when any threat is high, else None
        when part of the window lies outside the calendar's coverage
        (:attr:`EventCollection.coverage`: the shipped calendar's earliest event to its review
        date, a user calendar's event dates; the text then starts "Not established", or
        ends with it when a high threat failed the check
        and a last medium flag without ``event_id`` names the uncovered span), else True;
        ``table`` has :data:`TABLE_COLUMNS`; ``flags`` holds one confounding
        :class:`~evalint.diagnostics.Flag` per threat, sorted by severity then start;
        ``threats`` (and ``ranked_threats()``) the ranked short list of at most ``top``
        rows (:func:`evalint.calendar.ranking.rank_threats`).

    References
    ----------
    Bernal, Cummins and Gasparrini (2017); Shadish, Cook and Campbell (2002), ch. 6.
    """
    fcode = normalise_freq(freq)
    nation = nation_name(nation)
    if isinstance(design, str):
        design = design.strip().lower()
    collection, level = _series_choices(calendar, collection, level)
    pre = check_positive_int("pre", pre, minimum=0)
    post = check_positive_int("post", post, minimum=1)
    k = check_positive_int("co_timed", co_timed, minimum=0)
    if design is not None and design not in SINGLE_SERIES_DESIGNS + COMPARISON_DESIGNS:
        raise SpecificationError(
            f"design={design!r} is not known. Use None (decide from the units), "
            f"{', '.join(map(repr, SINGLE_SERIES_DESIGNS + COMPARISON_DESIGNS))}."
        )
    treated = _unit_set(treated_units, "treated_units")
    comparison = _unit_set(comparison_units, "comparison_units")
    plan = _resolve_intervention(intervention, fcode, treated)
    target = _resolve_outcome(outcome, calendar)
    treated = plan.treated
    if comparison is not None and treated is not None and comparison & treated:
        both = sorted(comparison & treated)
        raise SpecificationError(
            f"{len(both)} unit(s) are both treated and comparison ({format_examples(both)}); "
            "a unit can be in only one group."
        )
    cohorts = sorted(plan.cohorts)
    staggered = len(cohorts) > 1
    comparison_design = (design in COMPARISON_DESIGNS) if design is not None else (
        comparison is not None or staggered)
    groups: dict[str, frozenset[str]] = {}
    if staggered:
        groups = {f"{p} cohort": u for p, u in plan.cohorts.items() if u}
    elif treated is not None:
        groups = {"treated": treated}
    if comparison is not None:
        groups["comparison"] = comparison
    evaluated = None if treated is None else treated | (comparison or frozenset())
    listed = _units_as_evaluated(calendar, evaluated)
    universe = frozenset(u for units in listed.values() for u in units)
    w0, w1 = cohorts[0] - pre, cohorts[-1] + (post - 1)

    top = check_positive_int("top", top, minimum=1)
    if level is None and not comparison_design and (
            treated is None or (len(treated) >= 42 and universe <= treated)):
        level = "national"
    if noise is not None and not (isinstance(noise, (int, float)) and noise > 0):
        raise SpecificationError(f"noise={noise!r} must be a positive number (the series' step noise on "
                                 "the log scale, e.g. 0.03; see evalint.calendar.series_noise.step_noise).")
    scale: float | None = None
    if not comparison_design:
        scale = float(noise) if noise is not None else (
            NATIONAL_STEP_NOISE.get(target or "") if level == "national" and fcode == "M" else None)
    rows: list[dict[str, Any]] = []
    counts = {"nation": 0, "own": 0, "collection": 0, "level": 0, "not_general": 0}
    for event in calendar.events:
        if event.id in plan.own:
            counts["own"] += 1
            continue
        if event.nation not in (nation, "UK"):
            counts["nation"] += 1
            continue
        start_only = event.id in plan.related
        changes = _change_points(event, fcode, start_only)
        placed = _classify(event, changes, cohorts, w0, w1, k, start_only)
        if placed is None:
            continue
        overlap, change, t = placed
        measurement = event.kind in MEASUREMENT_KINDS
        if measurement and collection is not None and event.collections \
                and collection not in event.collections:
            counts["collection"] += 1
            continue
        if measurement and level is not None and event.geo_levels \
                and level not in event.geo_levels:
            counts["level"] += 1
            continue
        reach = _channel(event, target)
        if reach is None and target is None and event.outcomes:
            counts["not_general"] += 1
        if reach is None and not include_all:
            continue
        relevant, differential, units_text, smd = _coverage(
            event, groups, evaluated, universe, comparison_design, calendar,
            units=listed.get(event.id))
        if not relevant:
            continue
        weight = duration_weight(event, fcode)
        unconfirmed = measurement and collection is None and bool(event.collections)
        diluted = (not comparison_design and level == "national" and not event.is_national
                   and event.nation == nation)
        magnitude = event.magnitude
        if measurement and collection is not None and event.collections:
            magnitude = "large"  # a confirmed break in the series' own collection
        small_vs_noise, size = too_small_for_series(magnitude, weight, scale)
        steps = (int(weight < 0.5) + int(event.magnitude == "small") + int(unconfirmed)
                 + int(diluted) + int(small_vs_noise))
        if reach is None:
            severity, channel, direction, mechanism = "info", "none", "", ""
        else:
            channel, direction, mechanism = reach
            severity = _severity(overlap, comparison_design, differential,
                                 channel.startswith("indirect") or channel == "unknown outcome",
                                 steps_down=steps)
        outcome_text = target.replace("_", " ") if target else "the outcome"
        if reach is None:
            moves_text = f"it is not listed as moving {outcome_text}"
        elif channel == "listed":
            moves_text = f"it is listed as moving {outcome_text} (direction: {direction})"
        else:
            moves_text = (f"it is not listed as moving {outcome_text} but reaches it indirectly: "
                          f"{mechanism} (severity lowered one step)")
        parts = [_timing_phrase(overlap, change, t, fcode, staggered, event, pre, post),
                 moves_text, units_text, _design_phrase(severity, comparison_design, differential)]
        if start_only:
            parts.insert(1, "an earlier stage of the same policy, so only its start is checked")
        if event.kind == "data_definition_change" and reach is not None:
            parts.insert(1, "it changes how the data are collected or defined (a series break)"
                         + (f" in {', '.join(event.collections)} data" if event.collections else ""))
        if unconfirmed and reach is not None:
            parts.append(f"it matters only if the series comes from {'/'.join(event.collections)} "
                         "(pass collection= to confirm; severity lowered one step)")
        if weight < 0.5 and reach is not None:
            parts.append(f"it lasts {event.duration_days} day(s), {weight:.0%} of one "
                         f"{_UNIT[fcode]}: a blip, not a level shift (severity lowered one step)")
        if event.magnitude == "small" and reach is not None:
            parts.append("its expected effect is small (severity lowered one step)")
        if diluted and reach is not None:
            parts.append("it hits only some areas, so its effect on national totals is diluted "
                         "(severity lowered one step)")
        if small_vs_noise and reach is not None and scale is not None:
            parts.append(f"its expected size, about {size:.1%} of the level ({magnitude} event), is below "
                         f"twice the series' own step noise ({scale:.1%}): it would not stand out as a "
                         "break (severity lowered one step)")
        if event.date_precision != "day":
            parts.append(f"its date is known to the {event.date_precision}")
        if event.unverified:
            parts.append("part of its source is marked unverified")
        reason = "; ".join(p for p in parts if p)
        reason = reason[0].upper() + reason[1:] + "."
        rows.append({
            "event_id": event.id, "name": event.name, "start": event.start,
            "end": event.end if event.end is not None else pd.NaT, "overlap": overlap,
            "moves_outcome": reach is not None, "direction": direction,
            "differential": differential, "severity": severity, "reason": reason,
            "source": event.source, "unverified": event.unverified, "channel": channel,
            "changes_in": str(change.lo) if change.lo == change.hi else f"{change.lo}..{change.hi}",
            "kind": event.kind, "scope": event.scope, "nation": event.nation,
            "phase": event.phase, "magnitude": magnitude, "weight": weight, "smd": smd,
            "score": 0.0 if reach is None else threat_score(
                overlap, channel, magnitude, weight, differential, comparison_design,
                unconfirmed) * (0.5 if diluted else 1.0),
            "design": "comparison" if comparison_design else "single",
        })
    rows.sort(key=lambda r: (_SEV_ORDER[r["severity"]], r["start"], r["event_id"]))
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["differential"] = table["differential"].astype(object)
    threats = rank_threats(table, limit=top, unit=_UNIT[fcode])
    threats["outcome"] = target or ""
    flags = tuple(
        Flag(kind="confounding", severity=r["severity"],
             message=f"{r['name']} ({r['event_id']}): {r['reason']}", source=r["source"],
             event_id=r["event_id"], start=r["start"].date().isoformat(),
             end=None if pd.isna(r["end"]) else r["end"].date().isoformat())
        for r in rows if r["severity"] != "info"
    )
    n = {s: sum(1 for f in flags if f.severity == s) for s in ("high", "medium", "low")}
    uncovered = _uncovered(calendar, w0, w1)
    # part of the window outside the calendar's dates: no all-clear (passed None) unless it failed
    passed: bool | None = n["high"] == 0
    coverage_note = ""
    if uncovered:
        coverage_note = _coverage_text(calendar, uncovered)
        flags += (Flag(kind="confounding", severity="medium",
                       message=f"Policy calendar coverage: {coverage_note}",
                       source="policy_calendar coverage"),)
        passed = None if passed else False
    outcome_label = target or "an outcome the calendar does not know"
    design_text = ("comparison design" if comparison_design else "single-series design")
    text = (
        (f"{coverage_note} " if coverage_note and passed is None else "")
        + f"Policy calendar check of {plan.label} on {outcome_label} ({design_text}; "
        f"{FREQ_NAMES[fcode]} window {w0} to {w1}: {pre} pre, {post} post, co-timing within {k}): "
        f"{sum(n.values())} threatening event(s), {n['high']} high, {n['medium']} medium, "
        f"{n['low']} low. "
        + ("No high-severity threat." if n["high"] == 0 else
           "FAILED: at least one event moves this outcome at the same time as the intervention "
           "or hits the groups differently; model it, shorten the window, or choose comparison "
           "units it does not hit.")
        + (f" Events were judged against the series' step noise of {scale:.1%} (an event counts "
           "at full severity when its expected size is at least twice that)." if scale is not None else "")
        + (f" {counts['own']} event(s) that are the intervention itself were skipped."
           if counts["own"] else "")
        + (f" {counts['nation']} event(s) outside {nation} were ignored."
           if counts["nation"] else "")
        + (f" {counts['collection']} data-definition change(s) of other collections than "
           f"{collection} were skipped." if counts["collection"] else "")
        + (f" {counts['level']} geography change(s) that do not alter {level} series were "
           "skipped." if counts["level"] else "")
        + (f" The outcome is not one the calendar knows: only system-wide shocks and strikes "
           f"(kinds {', '.join(sorted(GENERAL_KINDS))}) were considered, one severity step "
           f"lower; {counts['not_general']} policy, funding and data-definition event(s) in the "
           "window that list specific outcomes were not. Name one of the calendar's outcomes "
           "to check them." if target is None else "")
        + (f" Top {len(threats)} threat(s), ranked: "
           + "; ".join(f"{rank}. {eid}" for rank, eid in zip(threats["rank"], threats["event_id"])) + "."
           if len(threats) else " No ranked threat.")
    )
    if coverage_note and passed is False:  # the failure first, then what the check cannot see
        text += f" {coverage_note}"
    return CheckResult(name="policy_calendar", passed=passed, text=text, table=table, flags=flags,
                       threats=threats)
