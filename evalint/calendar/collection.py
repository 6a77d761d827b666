"""The collection of dated policy events: construction, queries, attached intensity tables.

:class:`EventCollection` is an immutable, ordered collection of
:class:`~evalint.calendar.event_records.PolicyEvent` with everything a calendar does except the
check; :class:`evalint.calendar.events.PolicyCalendar` is the collection with
:meth:`~evalint.calendar.events.PolicyCalendar.check`. The split keeps the calendar package free
of import cycles: the check's rules (:mod:`~evalint.calendar.overlap_rules`,
:mod:`~evalint.calendar.exposure`, :mod:`~evalint.calendar.confounding`) and the presets read a
collection from here, and ``events.py`` sits above them.

References
----------
Shadish, W. R., Cook, T. D. and Campbell, D. T. (2002). *Experimental and
Quasi-Experimental Designs for Generalized Causal Inference*, ch. 6 ("history" as a
threat to interrupted time-series designs). Houghton Mifflin.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, replace
from typing import Any, TypeVar

import pandas as pd

from evalint.calendar.event_records import (
    DEFAULT_REVIEWED,
    EVENT_COLUMNS,
    _NATION_ALIASES,
    NATIONS,
    PHASES,
    PolicyEvent,
    _date_span,
    _default_events,
    choose,
    close_match,
    events_from_frame,
    known_outcomes,
    outcome_key,
    warn_unknown_outcomes,
)
from evalint.calendar.intensity import IntensityTable, builtin_intensity, list_builtin_intensity
from evalint.errors import (
    ConfoundingWarning,
    DataError,
    DuplicateRowsError,
    SpecificationError,
    _user_stacklevel,
    format_examples,
)

__all__ = ["EventCollection", "nation_name"]

_C = TypeVar("_C", bound="EventCollection")


def nation_name(nation: Any) -> str:
    """``nation`` as the calendar writes it (``'england'`` -> ``'England'``, ``'Northern Ireland'``
    -> ``'NI'``); an unknown nation is a SpecificationError listing the known ones."""
    return choose(nation, NATIONS, "nation", aliases=_NATION_ALIASES)


def _sort_key(e: PolicyEvent) -> tuple[pd.Timestamp, str]:
    return (e.start, e.id)


_Span = tuple[pd.Timestamp, pd.Timestamp]


def _event_span(events: Iterable[PolicyEvent]) -> _Span | None:
    """Earliest start and latest start or end of ``events``; ``None`` when there are none."""
    evs = tuple(events)
    if not evs:
        return None
    return (min(e.start for e in evs),
            max(e.end if e.end is not None and e.end > e.start else e.start for e in evs))


def _hull(*spans: _Span | None) -> _Span | None:
    held = [s for s in spans if s is not None]
    if not held:
        return None
    return (min(s[0] for s in held), max(s[1] for s in held))


#: (absolute path, path as given, mtime in ns, size) -> the events :meth:`EventCollection.from_csv` built
#: from that file.
_CSV_EVENTS: dict[tuple[str, str, int, int], tuple[PolicyEvent, ...]] = {}


def _coverage_span(value: tuple[Any, Any]) -> _Span:
    try:
        start, end = value
    except (TypeError, ValueError):
        raise SpecificationError(f"coverage must be a (start, end) pair; got {value!r}.") from None
    lo, hi = _date_span(start, "coverage start")[0], _date_span(end, "coverage end")[1]
    if hi < lo:
        raise SpecificationError(f"coverage: end {hi.date()} is before start {lo.date()}.")
    return (lo, hi)


class EventCollection:
    """An immutable, date-ordered collection of :class:`PolicyEvent` and its queries.

    The base of :class:`~evalint.calendar.events.PolicyCalendar` (which adds
    :meth:`~evalint.calendar.events.PolicyCalendar.check`); the rules of the check and the
    presets read a calendar through this type. Every method that changes the collection
    returns a new collection of the same class.
    """

    __slots__ = ("_events", "_by_id", "_tables", "_span", "_policies")

    def __init__(self, events: Iterable[PolicyEvent] = (),
                 tables: Mapping[str, IntensityTable] | None = None, *,
                 coverage: tuple[Any, Any] | None = None) -> None:
        evs = list(events)
        by_id: dict[str, PolicyEvent] = {}
        for e in evs:
            if not isinstance(e, PolicyEvent):
                raise SpecificationError(
                    f"PolicyCalendar holds PolicyEvent objects; got {type(e).__name__}."
                )
            if e.id in by_id:
                raise DuplicateRowsError(
                    f"event id {e.id!r} appears twice; ids must be unique. Rename the local event "
                    "or drop the duplicate."
                )
            by_id[e.id] = e
        self._events = tuple(sorted(evs, key=_sort_key))
        self._by_id = by_id
        self._tables: dict[str, IntensityTable] = dict(tables or {})
        # a declared coverage (None: the events' own dates) and the policies of the calendar
        # this one was cut from (a filter keeps both; see _subset)
        self._span: _Span | None = None if coverage is None else _coverage_span(coverage)
        self._policies: frozenset[str] = frozenset(e.policy for e in self._events)

    def _subset(self: _C, events: Iterable[PolicyEvent], *, span: _Span | None | bool = True,
                tables: Mapping[str, IntensityTable] | None = None) -> _C:
        """A collection of ``events`` cut from this one: it keeps this one's intensity tables
        (or ``tables``), known policies and declared coverage (``span=True``; else ``span``)."""
        new = type(self)(events, self._tables if tables is None else tables)
        new._span = self._span if span is True else (None if span is False else span)
        new._policies = self._policies | new._policies
        return new

    # construction -----------------------------------------------------------------
    @classmethod
    def default(cls: type[_C]) -> _C:
        """The curated calendar shipped with evalint (England plus other nations; revised
        against the December 2026 calendar review, see ``event_revisions.csv``).

        Its :attr:`coverage` runs from its earliest event to the day it was reviewed,
        :data:`~evalint.calendar.event_records.DEFAULT_REVIEWED`.
        """
        events = _default_events()
        first = _event_span(events)
        return cls(events, coverage=(first[0] if first else DEFAULT_REVIEWED, DEFAULT_REVIEWED))

    def with_coverage(self: _C, start: Any, end: Any) -> _C:
        """Return this calendar declaring that it covers ``start`` to ``end`` (inclusive): the
        span over which its events were looked for (a local calendar reviewed to a date with no
        event in its last months). A period (``'2026'``, ``'2026-09'``) as ``end`` is its last
        day. Windows outside it are not a pass (see :meth:`coverage`)."""
        return self._subset(self._events, span=_coverage_span((start, end)))

    @classmethod
    def from_frame(cls: type[_C], df: pd.DataFrame, *, origin: str = "frame") -> _C:
        """Build a calendar from a frame in the CSV schema (see :meth:`from_csv`)."""
        return cls(events_from_frame(df, origin=origin))

    @classmethod
    def from_csv(cls: type[_C], path: str | os.PathLike[str]) -> _C:
        """Read events from a CSV file.

        Required columns: ``event_id, name, start_date, source``. Optional: ``end_date``,
        ``date_precision`` (day/month/quarter/year), ``nation`` (default England),
        ``scope`` (text starting ``national`` or ``subset``), ``units`` (``;``-separated
        unit ids hit by a subset event), ``kind``, ``outcomes_affected`` (``;``-separated),
        ``expected_direction`` (``outcome:up;outcome:down`` or ``ambiguous``),
        ``unverified``.

        Raises
        ------
        ColumnNotFoundError
            A required column (e.g. ``source``) is missing.
        TimeParseError, MissingValuesError, InvalidValueError, DuplicateRowsError
            A row breaks a rule; the message names the row and event id.
        """
        path = os.fspath(path)
        if not os.path.exists(path):
            raise SpecificationError(f"events CSV {path!r} does not exist.")
        # read, parse and validate a file once per process while it is unchanged (events are frozen)
        st = os.stat(path)
        key = (os.path.abspath(path), path, st.st_mtime_ns, st.st_size)
        events = _CSV_EVENTS.get(key)
        if events is None:
            try:
                df = pd.read_csv(path, dtype=str, keep_default_na=False)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                raise DataError(f"events CSV {path!r} cannot be read as CSV: {exc}") from None
            events = tuple(events_from_frame(df, origin=path))
            if len(_CSV_EVENTS) >= 64:
                _CSV_EVENTS.clear()
            _CSV_EVENTS[key] = events
        return cls(events)

    def add(self: _C, event: PolicyEvent | None = None, /, **fields_: Any) -> _C:
        """Return a new calendar with one more event.

        Pass a :class:`PolicyEvent`, or its fields as keywords (``id``, ``name``,
        ``start``, ``source`` required; ``outcomes`` may be ``"a;b"`` or a tuple; CSV
        names ``event_id``, ``start_date``, ``end_date``, ``outcomes_affected`` and
        ``expected_direction`` are accepted too).
        """
        if event is not None and fields_:
            raise SpecificationError("add() takes a PolicyEvent or keyword fields, not both.")
        if event is None:
            aliases = {"event_id": "id", "start_date": "start", "end_date": "end",
                       "outcomes_affected": "outcomes", "expected_direction": "direction"}
            kw = {aliases.get(k, k): v for k, v in fields_.items()}
            known = {f.name for f in fields(PolicyEvent)}
            unknown = sorted(set(kw) - known)
            if unknown:
                raise SpecificationError(
                    f"add(): unknown field(s) {format_examples(unknown)}; PolicyEvent fields are "
                    f"{', '.join(sorted(known))}."
                )
            missing = [k for k in ("id", "name", "start", "source") if k not in kw]
            if missing:
                raise SpecificationError(
                    f"add(): field(s) {', '.join(missing)} are required (source says where the "
                    "dates come from)."
                )
            event = PolicyEvent(**kw)
            warn_unknown_outcomes(event.outcomes, f"add(): event {event.id!r}")
        elif not isinstance(event, PolicyEvent):
            raise SpecificationError(f"add() expects a PolicyEvent; got {type(event).__name__}.")
        return self._subset((*self._events, event), span=self._span and _hull(self._span, _event_span([event])))

    def combine(self: _C, other: EventCollection | Iterable[PolicyEvent]) -> _C:
        """Return a calendar holding the events of both (ids must not clash)."""
        others = other.events if isinstance(other, EventCollection) else tuple(other)
        tables = {**self._tables, **(other._tables if isinstance(other, EventCollection) else {})}
        theirs = other if isinstance(other, EventCollection) else None
        # a declared coverage (the default calendar's review date) reaches over the other's dates
        span = (_hull(self.coverage, theirs.coverage if theirs is not None else _event_span(others))
                if self._span is not None or (theirs is not None and theirs._span is not None) else None)
        new = self._subset((*self._events, *others), span=span, tables=tables)
        if theirs is not None:
            new._policies |= theirs._policies
        return new

    def replace_event(self: _C, event_id: str, **changes: Any) -> _C:
        """Return a calendar where event ``event_id`` has ``changes`` applied."""
        old = self.get(event_id)
        new = replace(old, **changes)
        return self._subset((new if e.id == event_id else e for e in self._events),
                            span=self._span and _hull(self._span, _event_span([new])))

    # queries ----------------------------------------------------------------------
    @property
    def events(self) -> tuple[PolicyEvent, ...]:
        """The events, ordered by start date then id."""
        return self._events

    def get(self, event_id: str) -> PolicyEvent:
        """The event with id ``event_id``."""
        try:
            return self._by_id[event_id]
        except KeyError:
            close = difflib.get_close_matches(str(event_id), list(self._by_id), n=3)
            hint = f" Did you mean {format_examples(close)}?" if close else ""
            raise SpecificationError(
                f"no event with id {event_id!r} in this calendar ({len(self)} events).{hint}"
            ) from None

    def between(self: _C, start: Any, end: Any) -> _C:
        """Events active at any time from ``start`` to ``end`` (inclusive).

        A date is that day; a year, quarter or month (``'2022'``, ``'2022Q3'``, ``'2022-07'``,
        ``'Jul-22'``, a :class:`pandas.Period`) is the whole period: as ``start`` its first day,
        as ``end`` its last (``between('2022', '2022')`` is the whole of 2022).
        """
        lo, hi = _date_span(start, "start")[0], _date_span(end, "end")[1]
        if hi < lo:
            raise SpecificationError(f"between(): end {hi.date()} is before start {lo.date()}.")
        # a declared coverage is cut to the interval too: outside it the result holds no event
        span: _Span | None = None
        if self._span is not None and max(lo, self._span[0]) <= min(hi, self._span[1]):
            span = (max(lo, self._span[0]), min(hi, self._span[1]))
        return self._subset(
            (e for e in self._events
             if e.start <= hi and (e.end if e.end is not None else e.start) >= lo), span=span)

    def for_outcome(self: _C, outcome: str) -> _C:
        """Events listed as moving ``outcome`` (case-insensitive; aliases such as ``los``
        resolved). An outcome neither evalint nor the calendar knows gives an empty calendar
        and a :class:`~evalint.errors.ConfoundingWarning` with the closest known outcome."""
        name = outcome_key(outcome)
        known = {**known_outcomes(), **{o: o for o in self.outcomes}}
        if name not in known:
            close = close_match(name, known)
            warnings.warn(
                f"outcome={outcome!r} is not an outcome evalint or this calendar knows, so no "
                "event is listed as moving it." + (f" Did you mean {known[close]!r}?" if close else ""),
                ConfoundingWarning, stacklevel=_user_stacklevel())
        return self._subset(e for e in self._events if e.moves(name))

    def for_nation(self: _C, nation: str) -> _C:
        """Events of ``nation`` (and UK-wide events); ``nation`` is one of
        :data:`~evalint.calendar.event_records.NATIONS`, in any case."""
        nation = nation_name(nation)
        return self._subset(e for e in self._events if e.nation in (nation, "UK"))

    def for_phase(self: _C, phase: str) -> _C:
        """Events dating phase ``phase`` of their policy (``announced``, ``paid``...; any case)."""
        phase = choose(phase, PHASES, "phase")
        return self._subset(e for e in self._events if e.phase == phase)

    def policy_events(self: _C, policy: str) -> _C:
        """The rows (phases) of one policy, by the ``policy`` field (any case).

        A policy of the calendar this one was cut from (before ``for_nation``, ``between``...)
        that none of these events has gives an empty calendar; a policy no event of that
        calendar names is refused with a did-you-mean.
        """
        policy = choose(policy, sorted(self._policies), "policy")
        return self._subset(e for e in self._events if e.policy == policy)

    # intensity ----------------------------------------------------------------------
    def with_intensity(self: _C, event_id: str, table: IntensityTable) -> _C:
        """Return a calendar where event ``event_id`` has the per-area intensity ``table``.

        ``table`` is an :class:`~evalint.calendar.intensity.IntensityTable` (read one with
        :func:`~evalint.calendar.intensity.read_intensity_csv`); its area codes must be the
        unit ids of the panels you check (ICB ODS codes for the default calendar).
        """
        if not isinstance(table, IntensityTable):
            raise SpecificationError(
                f"with_intensity() expects an IntensityTable; got {type(table).__name__}. Read a "
                "CSV with evalint.calendar.intensity.read_intensity_csv(path).")
        old = self.get(event_id)
        new = replace(old, intensity=table.name)
        tables = {**self._tables, table.name: table}
        return self._subset((new if e.id == event_id else e for e in self._events), tables=tables)

    def intensity_table(self, event: PolicyEvent | str) -> IntensityTable | None:
        """The intensity table of ``event`` (attached, else shipped), or ``None``."""
        ev = self.get(event) if isinstance(event, str) else event
        if not ev.intensity:
            return None
        if ev.intensity in self._tables:
            return self._tables[ev.intensity]
        if ev.intensity in list_builtin_intensity():
            return builtin_intensity(ev.intensity)
        return None

    @property
    def coverage(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The span over which the calendar's events were looked for; ``None`` when empty.

        The default calendar: its earliest event to the day it was reviewed
        (:data:`~evalint.calendar.event_records.DEFAULT_REVIEWED`); a calendar combined with it
        reaches over both. Any other calendar: its earliest and latest event dates (starts and
        ends), or what :meth:`with_coverage` declares. Outside this span the check cannot flag
        any event, so it is not a pass there.
        """
        if self._span is not None:
            return self._span
        return _event_span(self._events)

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Every outcome name some event lists, sorted."""
        return tuple(sorted({o for e in self._events for o in e.outcomes}))

    def to_frame(self) -> pd.DataFrame:
        """The events as a frame with :data:`EVENT_COLUMNS` (dates as Timestamps)."""
        df = pd.DataFrame([e.as_record() for e in self._events], columns=list(EVENT_COLUMNS))
        for col in ("start_date", "end_date"):
            df[col] = pd.to_datetime(df[col])
        df["unverified"] = df["unverified"].astype(bool)
        return df

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the calendar in the CSV schema :meth:`from_csv` reads."""
        df = self.to_frame()
        for col in ("start_date", "end_date"):
            df[col] = df[col].dt.strftime("%Y-%m-%d").fillna("")
        df.to_csv(path, index=False)

    # dunder -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[PolicyEvent]:
        return iter(self._events)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._by_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EventCollection) and self._events == other._events

    def __hash__(self) -> int:
        return hash(self._events)

    def __repr__(self) -> str:
        if not self._events:
            return f"{type(self).__name__}(0 events)"
        first, last = self._events[0].start.date(), max(
            (e.end or e.start) for e in self._events).date()
        return f"{type(self).__name__}({len(self)} events, {first} to {last})"
