"""Policy event records and reading them from the calendar CSV schema.

One job: the :class:`PolicyEvent` record (its validation and CSV row form), the CSV
schema (:data:`EVENT_COLUMNS`, :data:`REQUIRED_COLUMNS`), building events from a frame in
that schema (:func:`events_from_frame`), compiling the packaged ``events.csv`` from the
curated source (:func:`compile_events`) and loading it (``_default_events``). The
collection and its queries are :class:`evalint.calendar.events.PolicyCalendar`.
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

import pandas as pd

from evalint.errors import (
    ColumnNotFoundError,
    DataError,
    ConfoundingWarning,
    DuplicateRowsError,
    EmptyDataError,
    InvalidValueError,
    MissingValuesError,
    SpecificationError,
    TimeParseError,
    _user_stacklevel,
    format_examples,
)
from evalint.data.timeparse import parse_date, period_named
from evalint.geography.icbs import load_icbs
from evalint.outcomes import list_outcomes

__all__ = [
    "CALENDAR_OUTCOMES",
    "DEFAULT_REVIEWED",
    "DIRECTIONS",
    "END_TYPES",
    "GEO_LEVELS",
    "MAGNITUDES",
    "NATIONS",
    "PHASES",
    "EVENT_COLUMNS",
    "ICS_WAVE_EVENTS",
    "PRECISIONS",
    "REQUIRED_COLUMNS",
    "SCOPES",
    "PolicyEvent",
    "choose",
    "close_match",
    "compile_events",
    "events_from_frame",
    "known_outcomes",
    "outcome_key",
    "outcome_name",
    "parse_direction",
    "warn_unknown_outcomes",
]

#: Columns of the packaged ``events.csv`` (and of :meth:`PolicyCalendar.to_frame`).
EVENT_COLUMNS = (
    "event_id", "name", "start_date", "end_date", "date_precision", "nation", "scope",
    "scope_type", "units", "units_rule", "kind", "outcomes_affected", "expected_direction",
    "source", "unverified", "policy", "phase", "end_type", "magnitude", "collections",
    "geo_levels", "intensity", "alt_start", "revision",
)
#: Columns a local events CSV must have; the rest have defaults.
REQUIRED_COLUMNS = ("event_id", "name", "start_date", "source")
_DEFAULTS = {
    "end_date": "", "date_precision": "day", "nation": "England", "scope": "national",
    "kind": "other", "outcomes_affected": "", "expected_direction": "ambiguous", "units": "",
    "units_rule": "", "policy": "", "phase": "in_effect", "end_type": "", "magnitude": "medium",
    "collections": "", "geo_levels": "", "intensity": "", "alt_start": "", "revision": "",
}
PRECISIONS = ("day", "month", "quarter", "year")
#: Phases of a policy; each calendar row is one phase (``policy`` groups the rows).
PHASES = ("announced", "allocated", "paid", "spending", "in_effect", "ended", "superseded")
#: What an event's ``end`` means. Only ``ended`` is a change point: ``superseded`` (a
#: successor took over), ``target`` (a target date, not an end), ``continues`` (funding
#: ended but the service continued) and ``end_event`` (the end is its own calendar row).
END_TYPES = ("ended", "superseded", "target", "continues", "end_event")
#: Rough expected size of an event's effect on the outcomes it lists.
MAGNITUDES = ("small", "medium", "large")
DIRECTIONS = ("up", "down", "ambiguous")
SCOPES = ("national", "subset")
#: Nations an event belongs to (``UK``: every nation). Read case-insensitively; ``Northern
#: Ireland`` is ``NI``.
NATIONS = ("England", "Scotland", "Wales", "NI", "UK")
_NATION_ALIASES = {"northern ireland": "NI", "northern_ireland": "NI", "united kingdom": "UK"}
#: Outcomes the shipped calendar's events list; with the registered outcome kinds
#: (:func:`evalint.outcomes.list_outcomes`, aliases included) the outcome names an event may list.
CALENDAR_OUTCOMES = (
    "ae_4hr_performance", "ae_attendances", "care_home_admissions", "delayed_discharges",
    "elective_admissions", "emergency_admissions", "length_of_stay", "mortality", "readmissions",
)
#: Geographic levels a series can be at (``level=`` of the check); a calendar's own
#: ``geo_levels`` are accepted too.
GEO_LEVELS = ("national", "region", "icb", "sub_icb", "ccg", "trust", "local_authority")
#: The day the shipped calendar (``events.csv``) was last reviewed for events: the December 2026
#: review (``shared/domain/calendar_review.md``, applied through ``event_revisions.csv``), dated
#: to the month, so its first day (no later day is claimed). :meth:`PolicyCalendar.default`
#: covers from its earliest event to this day: a window up to it is checked against a calendar
#: that was looked over to then, even where no event falls in its last months.
DEFAULT_REVIEWED = pd.Timestamp("2026-12-01")


def choose(value: Any, known: Iterable[str], what: str, *, error: type[Exception] = SpecificationError,
           aliases: Mapping[str, str] | None = None, hint: str = "") -> str:
    """``value`` as the one of ``known`` it names, compared without case or surrounding blanks.

    Raises ``error`` naming ``what``, the known values and the closest one (did you mean) when
    ``value`` names none of them; ``hint`` is added to the message.
    """
    options = tuple(dict.fromkeys(known))
    text = value.strip() if isinstance(value, str) else None
    if text is not None:
        folded = " ".join(text.lower().replace("-", " ").split())
        for k in options:
            if k.lower() == text.lower():
                return k
        if aliases and (folded in aliases or text.lower() in aliases):
            return aliases.get(folded) or aliases[text.lower()]
    lower = {k.lower(): k for k in options}
    close = difflib.get_close_matches(str(value).strip().lower(), list(lower), n=1, cutoff=0.6)
    mean = f" Did you mean {lower[close[0]]!r}?" if close else ""
    listed = ", ".join(options) if len(options) <= 20 else f"{', '.join(options[:20])} ... ({len(options)} in all)"
    raise error(f"{what}={value!r} is not known.{mean} Known values: {listed}.{hint}")


def close_match(value: Any, known: Iterable[str]) -> str | None:
    """The known value closest to ``value`` (without case), or ``None`` when none is close.

    A value is also compared with the ``_``-separated parts of each known name, so ``'sitrp'``
    finds ``'discharge_sitrep'``.
    """
    text = str(value).strip().lower()
    whole = {k.lower(): k for k in reversed(tuple(dict.fromkeys(known)))}
    close = difflib.get_close_matches(text, list(whole), n=1, cutoff=0.6)
    if close:
        return whole[close[0]]
    parts: dict[str, str] = {}
    for k, v in whole.items():
        for part in k.split("_"):
            parts.setdefault(part, v)
    close = difflib.get_close_matches(text, list(parts), n=1, cutoff=0.8)  # a part: closer
    return parts[close[0]] if close else None


def outcome_key(value: Any) -> str:
    """The outcome name ``value`` gives, as the check matches on it: a known outcome or alias
    in any case is resolved (``'LOS'`` -> ``'length_of_stay'``); any other name is kept in
    lower case (a user's own outcome)."""
    text = str(value).strip()
    names = known_outcomes()
    if text in names:
        return names[text]
    low = {k.lower(): v for k, v in names.items()}
    return low.get(text.lower(), text.lower())


def warn_unknown_outcomes(outcomes: Iterable[str], where: str) -> None:
    """One :class:`~evalint.errors.ConfoundingWarning` naming the outcomes of ``outcomes`` that
    evalint does not know (neither a registered outcome kind nor one the shipped calendar
    lists), with the closest known one of each; nothing when all are known."""
    names = known_outcomes()
    unknown = sorted({o for o in outcomes if o not in names})
    if not unknown:
        return
    parts = []
    for o in unknown:
        close = close_match(o, names)
        parts.append(f"{o!r}" + (f" (did you mean {names[close]!r}?)" if close else ""))
    warnings.warn(
        f"{where}: outcome(s) {', '.join(parts)} are not outcomes evalint knows; they are kept as "
        "your own outcomes (an event listing one is flagged only for a check of that outcome). "
        "Correct a misspelling, or register the outcome with evalint.register_outcome to "
        "silence this.", ConfoundingWarning, stacklevel=_user_stacklevel())


def known_outcomes() -> dict[str, str]:
    """Outcome names an event may list -> the name the check matches on (aliases resolved).

    :data:`CALENDAR_OUTCOMES` and every registered outcome kind with its aliases, except
    ``continuous`` (no outcome in particular).
    """
    out = {o: o for o in CALENDAR_OUTCOMES}
    for kind in list_outcomes():
        if kind.name == "continuous":
            continue
        for key in (kind.name, *kind.aliases):
            out.setdefault(key, kind.name)
    return out


def outcome_name(value: Any, what: str, *, error: type[Exception] = SpecificationError,
                 extra: Iterable[str] = ()) -> str:
    """The outcome ``value`` names (case-insensitive; aliases such as ``los`` resolved).

    ``extra``: further names accepted as they are (a calendar's own outcomes). Unknown
    names raise ``error`` listing the known ones.
    """
    names = known_outcomes()
    for o in extra:
        names.setdefault(o, o)
    key = choose(value, names, what, error=error,
                 hint=" Register a new outcome with evalint.register_outcome(OutcomeKind(...)) first.")
    return names[key]

#: Calendar event id -> ``ics_wave`` value in ``icbs.csv``: the ICBs each ICS wave covers.
ICS_WAVE_EVENTS = {
    "ics_wave1_shadow_acs": "wave1_shadow_acs_2017",
    "ics_wave2": "wave2_2018",
    "ics_wave3": "wave3_2019",
    "ics_wave4": "wave4_2020",
    "ics_wave5": "wave5_2020_12",
    "ics_wave6_full_coverage": "wave6_2021_04",
}


def _as_date(value: Any, what: str) -> pd.Timestamp:
    """A date as the data layer reads one (:func:`evalint.data.timeparse.parse_date`), at midnight."""
    return parse_date(value, what).normalize()


def _date_span(value: Any, what: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of what ``value`` names: a year, quarter or month (``'2022'``,
    ``'2022Q3'``, ``'2022-07'``, ``'Jul-22'``, a Period) is the whole period, a date one day."""
    period = period_named(value, what)
    if period is None:
        day = _as_date(value, what)
        return day, day
    return period.start_time.normalize(), period.end_time.normalize()


def _is_missing(value: Any) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return not isinstance(value, (pd.Timestamp, pd.Period, str)) and bool(pd.isna(value))


def _split(text: Any) -> tuple[str, ...]:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ()
    if isinstance(text, str):
        return tuple(p.strip() for p in text.split(";") if p.strip())
    return tuple(str(p).strip() for p in text if str(p).strip())


def parse_direction(text: Any, outcomes: Iterable[str]) -> dict[str, str]:
    """Parse ``"outcome:up;outcome:down"`` (or ``"ambiguous"``) into outcome -> direction.

    Every outcome in ``outcomes`` gets an entry; outcomes without a stated direction are
    ``"ambiguous"``. Parenthetical notes such as ``"down (planned)"`` are dropped.
    """
    outcomes = tuple(outcomes)
    out = dict.fromkeys(outcomes, "ambiguous")
    if isinstance(text, Mapping):
        pairs = [(str(k), str(v)) for k, v in text.items()]
    else:
        raw = "" if _is_missing(text) else str(text).strip()
        if raw in ("", "ambiguous"):
            return out
        pairs = []
        for part in _split(raw):
            if ":" not in part:
                raise InvalidValueError(
                    f"expected_direction part {part!r} is not 'outcome:up|down|ambiguous'. "
                    "Write pairs such as 'emergency_admissions:down;delayed_discharges:up', "
                    "or just 'ambiguous'."
                )
            key, val = part.split(":", 1)
            pairs.append((key.strip(), re.sub(r"\(.*?\)", "", val).strip().lower()))
    for key, val in pairs:
        if outcomes and key not in out:
            key = outcome_key(key)
            if key not in out:
                close = close_match(key, outcomes)
                raise InvalidValueError(
                    f"expected_direction={key!r} is not among the event's outcomes "
                    f"({', '.join(outcomes)})." + (f" Did you mean {close!r}?" if close else "")
                    + " List it in outcomes_affected or correct the name."
                )
        val = val.strip().lower()
        if val not in DIRECTIONS:
            raise InvalidValueError(
                f"expected_direction for {key!r} is {val!r}; use one of {', '.join(DIRECTIONS)}."
            )
        out[key] = val
    return out


@dataclass(frozen=True, kw_only=True)
class PolicyEvent:
    """One dated, sourced event that can move health and care outcomes.

    Parameters
    ----------
    id : str
        Unique identifier (``event_id`` in CSV files).
    name : str
        Plain description.
    start : date-like
        First day of the event (for month/quarter precision: first day of that period).
    end : date-like, optional
        Last day; ``None`` for one-off or open-ended events.
    source : str
        Where the dates come from (title and address). Required.
    date_precision : {"day", "month", "quarter", "year"}
    nation : str
        ``"England"``, ``"Scotland"``, ``"Wales"``, ``"NI"`` or ``"UK"``.
    scope : {"national", "subset"}
        Whether the event hits every unit of the nation or only some.
    units : tuple of str, optional
        Units hit by a subset event (ICB ODS codes in the default calendar); ``None``
        means every unit (national events) or, for subset events, units not listed.
    kind : str
        ``structural_reform``, ``funding``, ``discharge_policy``, ``shock``,
        ``workforce``, ``data_definition_change``, ``payment_system`` or your own.
    outcomes : tuple of str
        Outcomes the event is expected to move (``emergency_admissions``...).
    direction : mapping
        Outcome -> ``"up"``, ``"down"`` or ``"ambiguous"``. May also be given as the CSV
        text ``"outcome:up;outcome:down"``.
    unverified : bool
        True when part of the dating or detail is marked unverified in the source text.
    scope_note : str
        The free-text scope description.
    units_rule : str
        How ``units`` were derived (empty when given directly).
    policy : str
        The policy this row is one phase of (default: the event id). Rows of one policy
        (announcement, allocation, tranches, spending period, end) share it.
    phase : {"announced", "allocated", "paid", "spending", "in_effect", "ended", "superseded"}
        Which phase of the policy this row dates.
    end_type : {"ended", "superseded", "target", "continues", "end_event"}
        What ``end`` means (default ``"ended"`` when there is an end). Only ``"ended"`` is a
        change point; a superseded policy, a target date or a service that continued after
        its funding stopped has no change point at its end.
    magnitude : {"small", "medium", "large"}
        Rough expected size of its effect on the outcomes it lists (curator's judgement;
        announcements and strikes are small).
    collections : tuple of str
        For data-definition changes: the data collections whose definition changes
        (``dtoc``, ``discharge_sitrep``, ``hes_apc``, ``ecds``...); empty = any.
    geo_levels : tuple of str
        Geographic levels a geography change affects (``icb``, ``ccg``, ``sub_icb``);
        empty = every level including national totals.
    intensity : str
        Name of the per-area intensity table of this event (see
        :mod:`evalint.calendar.intensity`), or empty.
    alt_start : date-like, optional
        An alternative start date the sources support (used by sensitivity runs).
    revision : str
        Where the row was revised (a section/row of the calendar review), or empty.
    """

    id: str
    name: str
    start: pd.Timestamp
    end: pd.Timestamp | None = None
    date_precision: str = "day"
    nation: str = "England"
    scope: str = "national"
    units: tuple[str, ...] | None = None
    kind: str = "other"
    outcomes: tuple[str, ...] = ()
    direction: Mapping[str, str] = field(default_factory=dict, hash=False)
    source: str
    unverified: bool = False
    scope_note: str = ""
    units_rule: str = ""
    policy: str = ""
    phase: str = "in_effect"
    end_type: str = ""
    magnitude: str = "medium"
    collections: tuple[str, ...] = ()
    geo_levels: tuple[str, ...] = ()
    intensity: str = ""
    alt_start: pd.Timestamp | None = None
    revision: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvalidValueError(f"event id must be a non-empty string; got {self.id!r}.")
        set_(self, "id", self.id.strip())
        who = f"event {self.id!r}"
        if not isinstance(self.source, str) or not self.source.strip():
            raise MissingValuesError(
                f"{who} has no source. Every calendar event must say where its dates come "
                "from (title and address); write 'source: unverified' for parts you could "
                "not check."
            )
        set_(self, "start", _as_date(self.start, f"{who} start"))
        end = None if _is_missing(self.end) else _as_date(self.end, f"{who} end")
        if end is not None and end < self.start:
            raise InvalidValueError(
                f"{who} ends ({end.date()}) before it starts ({self.start.date()}); swap the dates "
                "or leave end empty for one-off events."
            )
        set_(self, "end", end)
        for name in ("date_precision", "scope", "phase", "magnitude", "end_type", "kind"):
            value = getattr(self, name)
            if isinstance(value, str):  # identifiers: read without case or surrounding blanks
                set_(self, name, value.strip().lower())
        set_(self, "nation", choose(self.nation, NATIONS, f"{who}: nation", error=InvalidValueError,
                                    aliases=_NATION_ALIASES))
        for name, allowed in (("date_precision", PRECISIONS), ("scope", SCOPES)):
            if getattr(self, name) not in allowed:
                raise InvalidValueError(
                    f"{who}: {name}={getattr(self, name)!r} is not one of {', '.join(allowed)}."
                )
        # an outcome evalint does not know is kept (a user's own outcome, in lower case); the
        # readers (events_from_frame, add) warn about it with a did-you-mean
        set_(self, "outcomes", tuple(dict.fromkeys(outcome_key(o) for o in _split(self.outcomes))))
        if self.units is not None:
            units = _split(self.units)
            if self.scope == "national":
                raise InvalidValueError(
                    f"{who} is national but lists units {format_examples(units)}; use "
                    "scope='subset' for events that hit only some units."
                )
            set_(self, "units", units or None)
        set_(self, "direction", MappingProxyType(parse_direction(self.direction, self.outcomes)))
        set_(self, "unverified", bool(self.unverified))
        set_(self, "policy", (self.policy or "").strip() or self.id)
        set_(self, "end_type", (self.end_type or "").strip() or ("ended" if end is not None else ""))
        set_(self, "phase", (self.phase or "").strip() or "in_effect")
        set_(self, "magnitude", (self.magnitude or "").strip() or "medium")
        for name, allowed in (("phase", PHASES), ("magnitude", MAGNITUDES)):
            if getattr(self, name) not in allowed:
                raise InvalidValueError(
                    f"{who}: {name}={getattr(self, name)!r} is not one of {', '.join(allowed)}."
                )
        if self.end_type and self.end_type not in END_TYPES:
            raise InvalidValueError(
                f"{who}: end_type={self.end_type!r} is not one of {', '.join(END_TYPES)} (only "
                "'ended' makes the end a change point)."
            )
        set_(self, "collections", tuple(c.lower() for c in _split(self.collections)))
        set_(self, "geo_levels", tuple(g.lower() for g in _split(self.geo_levels)))
        set_(self, "intensity", (self.intensity or "").strip())
        alt = None if _is_missing(self.alt_start) else _as_date(self.alt_start, f"{who} alt_start")
        set_(self, "alt_start", alt)

    def __hash__(self) -> int:
        return hash((self.id, self.start, self.end, self.source))

    @property
    def is_national(self) -> bool:
        """True when the event hits every unit of its nation."""
        return self.scope == "national"

    @property
    def end_is_change(self) -> bool:
        """True when the event's end is a change point (``end_type == "ended"``)."""
        return self.end is not None and self.end_type == "ended"

    @property
    def duration_days(self) -> int | None:
        """Days from start to end inclusive; ``None`` for one-off or open-ended events."""
        if self.end is None:
            return None
        return int((self.end - self.start).days) + 1

    def moves(self, outcome: str) -> bool:
        """True when ``outcome`` is among the outcomes the event is listed as moving."""
        return outcome in self.outcomes

    def as_record(self) -> dict[str, Any]:
        """The event as one row of the calendar CSV schema (:data:`EVENT_COLUMNS`)."""
        return {
            "event_id": self.id, "name": self.name, "start_date": self.start,
            "end_date": self.end if self.end is not None else pd.NaT,
            "date_precision": self.date_precision, "nation": self.nation,
            "scope": self.scope_note or self.scope, "scope_type": self.scope,
            "units": ";".join(self.units) if self.units else "", "units_rule": self.units_rule,
            "kind": self.kind, "outcomes_affected": ";".join(self.outcomes),
            "expected_direction": _direction_text(self.direction), "source": self.source,
            "unverified": self.unverified, "policy": self.policy, "phase": self.phase,
            "end_type": self.end_type, "magnitude": self.magnitude,
            "collections": ";".join(self.collections), "geo_levels": ";".join(self.geo_levels),
            "intensity": self.intensity,
            "alt_start": self.alt_start if self.alt_start is not None else pd.NaT,
            "revision": self.revision,
        }


def _direction_text(direction: Mapping[str, str]) -> str:
    stated = [f"{k}:{v}" for k, v in direction.items() if v != "ambiguous"]
    return ";".join(stated) if stated else "ambiguous"


def _scope_type(text: str, row: str) -> str:
    low = text.strip().lower()
    for kind in SCOPES:
        if low.startswith(kind):
            return kind
    raise InvalidValueError(
        f"{row}: scope {text!r} must start with 'national' or 'subset' (e.g. 'subset: 14 pilot "
        "areas'); evalint reads that word to decide whether the event hits every unit."
    )


def _row_label(df: pd.DataFrame, i: Any) -> str:
    eid = df.at[i, "event_id"] if "event_id" in df.columns else None
    return f"row {i + 2 if isinstance(i, int) else i} (event_id {eid!r})"


def events_from_frame(df: pd.DataFrame, origin: str = "frame") -> list[PolicyEvent]:
    """Validate a frame in the calendar CSV schema and build its events.

    Required columns: :data:`REQUIRED_COLUMNS`; others get defaults. Row numbers in
    errors count the CSV header as line 1. Outcomes evalint does not know are kept (in lower
    case) with one :class:`~evalint.errors.ConfoundingWarning` for the frame naming them.
    """
    if not isinstance(df, pd.DataFrame):
        raise SpecificationError(f"expected a pandas DataFrame of events; got {type(df).__name__}.")
    df = df.reset_index(drop=True).copy()
    df.columns = [str(c).strip() for c in df.columns]
    for col in REQUIRED_COLUMNS:
        if col not in df.columns:
            raise ColumnNotFoundError(
                f"{origin}: required column {col!r} is missing. A calendar CSV needs "
                f"{', '.join(REQUIRED_COLUMNS)} (and may have {', '.join(_DEFAULTS)}, unverified). "
                f"Columns found: {format_examples(list(df.columns), limit=20)}."
                + (" Every event must cite where its dates come from." if col == "source" else "")
            )
    if df.empty:
        raise EmptyDataError(f"{origin}: no events (the file has a header but no rows).")
    for col, default in _DEFAULTS.items():
        if col not in df.columns:
            df[col] = default
    text = df.astype(object).where(df.notna(), "")
    text = text.map(lambda v: str(v).strip())
    dup = text["event_id"][text["event_id"].duplicated(keep=False)]
    if len(dup):
        raise DuplicateRowsError(
            f"{origin}: event_id must be unique; {format_examples(sorted(set(dup)))} appear more "
            f"than once (rows {format_examples([int(i) + 2 for i in dup.index])}). "
            "Rename or merge them."
        )
    for col in ("event_id", "name", "start_date", "source"):
        bad = text.index[text[col] == ""]
        if len(bad):
            raise MissingValuesError(
                f"{origin}: column {col!r} is empty in {len(bad)} row(s): "
                f"{format_examples([_row_label(df, int(i)) for i in bad])}. "
                + ("Every event needs a source (write 'source: unverified' where you "
                   "could not check)." if col == "source" else "Fill it in.")
            )
    if "unverified" in df.columns:
        flag = text["unverified"].str.lower()
        okay = flag.isin(["true", "false", "1", "0", "yes", "no", ""])
        if not okay.all():
            i = int(text.index[~okay][0])
            raise InvalidValueError(
                f"{origin}: {_row_label(df, i)}: unverified={text.at[i, 'unverified']!r}; "
                "use true or false."
            )
        unverified = flag.isin(["true", "1", "yes"]) | text["source"].str.contains(
            "unverified", case=False)
    else:
        unverified = text["source"].str.contains("unverified", case=False)
    events = []
    flags = unverified.tolist()
    has_scope_type = "scope_type" in text.columns
    iso_ok: dict[str, bool] = {}  # each distinct date text is parsed once
    for i, r in enumerate(text.to_dict("records")):
        for col in ("start_date", "end_date", "alt_start"):
            value = r[col]
            if not value:
                continue
            ok = iso_ok.get(value)
            if ok is None:
                ok = iso_ok[value] = not pd.isna(pd.to_datetime(value, errors="coerce", format="ISO8601"))
            if not ok:
                raise TimeParseError(
                    f"{origin}: {_row_label(df, i)}: {col}={value!r} is not an ISO date (YYYY-MM-DD)."
                )
        scope_type = r["scope_type"] if has_scope_type and r["scope_type"] else \
            _scope_type(r["scope"] or "national", f"{origin}: {_row_label(df, i)}")
        try:
            events.append(PolicyEvent(
                id=r["event_id"], name=r["name"], start=r["start_date"], end=r["end_date"] or None,
                date_precision=r["date_precision"] or "day", nation=r["nation"] or "England",
                scope=scope_type, units=(r["units"] or None) if scope_type == "subset" else None,
                kind=r["kind"] or "other", outcomes=r["outcomes_affected"],
                direction=r["expected_direction"] or "ambiguous", source=r["source"],
                unverified=bool(flags[i]), scope_note=r["scope"],
                units_rule=r["units_rule"], policy=r["policy"], phase=r["phase"],
                end_type=r["end_type"], magnitude=r["magnitude"], collections=r["collections"],
                geo_levels=r["geo_levels"], intensity=r["intensity"],
                alt_start=r["alt_start"] or None, revision=r["revision"],
            ))
        except DataError as exc:
            raise type(exc)(f"{origin}: {_row_label(df, i)}: {exc}") from None
    warn_unknown_outcomes((o for e in events for o in e.outcomes), f"{origin}: outcomes_affected")
    return events


#: Columns of ``event_revisions.csv`` besides the event columns it may set.
REVISION_COLUMNS = ("action", "event_id", "review_ref")
_SOURCE_COLUMNS = ("event_id", "name", "start_date", "end_date", "date_precision", "nation",
                   "scope", "kind", "outcomes_affected", "expected_direction", "source")


def _read_revisions(path: str | os.PathLike[str] | None) -> pd.DataFrame:
    if path is None:
        res = files("evalint.calendar").joinpath("event_revisions.csv")
        with res.open("r", encoding="utf-8") as fh:
            return pd.read_csv(fh, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def apply_revisions(raw: pd.DataFrame, revisions: pd.DataFrame) -> pd.DataFrame:
    """Apply a revision table to a calendar in the curated CSV schema.

    Each revision row has ``action`` (``update``, ``add`` or ``remove``), ``event_id``,
    ``review_ref`` (the section/row of the calendar review it implements) and any event
    columns. ``update`` sets the non-empty cells it gives; ``add`` appends a new event (its
    id must be new); ``remove`` drops a row that is not an event. The result has a
    ``revision`` column naming the review references applied to each row.
    """
    out = raw.copy()
    extra = [c for c in revisions.columns if c not in REVISION_COLUMNS]
    for col in extra + ["revision"]:
        if col not in out.columns:
            out[col] = ""
    out = out.set_index("event_id", drop=False)
    for i, r in revisions.iterrows():
        action, eid, ref = r["action"].strip(), r["event_id"].strip(), r["review_ref"].strip()
        where = f"revision row {int(i) + 2} ({action} {eid!r})"
        if action == "remove":
            if eid not in out.index:
                raise InvalidValueError(f"{where}: no such event to remove.")
            out = out.drop(index=eid)
            continue
        values = {c: r[c] for c in extra if r[c] != ""}
        if action == "update":
            if eid not in out.index:
                raise InvalidValueError(f"{where}: no such event to update.")
            for c, v in values.items():
                out.at[eid, c] = v
            prev = out.at[eid, "revision"]
            out.at[eid, "revision"] = f"{prev} | {ref}" if prev else ref
        elif action == "add":
            if eid in out.index:
                raise DuplicateRowsError(f"{where}: event {eid!r} already exists; use update.")
            row = dict.fromkeys(out.columns, "")
            row.update(values)
            row["event_id"], row["revision"] = eid, ref
            row.setdefault("nation", "England")
            if not row.get("nation"):
                row["nation"] = "England"
            out.loc[eid] = pd.Series(row)
        else:
            raise InvalidValueError(f"{where}: action must be update, add or remove.")
    return out.reset_index(drop=True)


def compile_events(source_csv: str | os.PathLike[str],
                   revisions: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Build the packaged calendar table from the curated ``policy_events.csv``.

    Applies the revisions of ``revisions`` (default: the packaged ``event_revisions.csv``,
    which implements the corrections, additions and removals of the December 2026 calendar
    review with their primary sources; see :func:`apply_revisions`), then adds
    ``unverified`` (True where the source text says "unverified"), ``scope_type``
    (``national``/``subset``, read from the first word of ``scope``), and
    ``units``/``units_rule`` for subset events whose units can be derived: the ICS waves
    map to ICB ODS codes through :func:`evalint.geography.icbs.load_icbs`.
    """
    raw = pd.read_csv(source_csv, dtype=str, keep_default_na=False)
    missing = [c for c in _SOURCE_COLUMNS if c not in raw.columns]
    if missing:
        raise ColumnNotFoundError(f"{source_csv}: columns {missing} are missing.")
    out = apply_revisions(raw, _read_revisions(revisions))
    for col, default in _DEFAULTS.items():
        if col not in out.columns:
            out[col] = default
    out["unverified"] = out["source"].str.contains("unverified", case=False)
    out["scope_type"] = [_scope_type(s, f"event {e!r}")
                         for s, e in zip(out["scope"], out["event_id"])]
    icbs = load_icbs()
    units, rules = [], []
    for eid in out["event_id"]:
        wave = ICS_WAVE_EVENTS.get(eid)
        if wave is None:
            units.append("")
            rules.append("")
            continue
        codes = sorted(icbs.loc[icbs["ics_wave"] == wave, "icb_ods_code"])
        units.append(";".join(codes))
        rules.append(f"ICBs with ics_wave == {wave} in evalint/geography/icbs.csv")
    out["units"] = units
    out["units_rule"] = rules
    out = out.sort_values(["start_date", "event_id"], kind="stable")
    return out[list(EVENT_COLUMNS)].reset_index(drop=True)


@lru_cache(maxsize=1)
def _default_events() -> tuple[PolicyEvent, ...]:
    path = files("evalint.calendar").joinpath("events.csv")
    with path.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return tuple(events_from_frame(df, origin="evalint/calendar/events.csv"))
