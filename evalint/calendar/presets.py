"""Named interventions: the integration policies evalint knows how to date.

A preset turns a name such as ``"ics_golive_2022"`` into an :class:`Intervention`: its
date (or one date per unit for staggered roll-outs), the units it covers, the calendar
events that *are* the intervention (never flagged as confounders of itself), and the
source of the dates. Dates are read from the packaged calendar and ICB table, so a
preset and the calendar cannot disagree.

References
----------
NHS England (2022). Integrated care boards established 1 July 2022 (Health and Care Act
2022). See the ``source`` of each preset for the addresses read.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import pandas as pd

from evalint.calendar.collection import EventCollection
from evalint.errors import SpecificationError
from evalint.geography.icbs import load_icbs

__all__ = ["Intervention", "resolve_preset", "list_presets", "describe_presets"]


@dataclass(frozen=True, kw_only=True)
class Intervention:
    """An intervention to evaluate, with its own calendar events.

    Parameters
    ----------
    name : str
        Preset name or a label.
    event_ids : tuple of str
        Calendar events that are this intervention (or the same policy: its announcement,
        legislation, continuation). They are never flagged against it.
    date : pandas.Timestamp, optional
        The single intervention date. Exactly one of ``date`` and ``unit_dates`` is set.
    unit_dates : mapping of str to pandas.Timestamp, optional
        One date per unit (staggered roll-out), keyed by ICB ODS code for ICB presets.
    units : tuple of str, optional
        Units covered (``None``: units not listed, e.g. local authority or vanguard sites).
    description : str
    source : str
        Where the dates come from.
    end : pandas.Timestamp, optional
        Last day of a time-limited intervention (informational).
    related_event_ids : tuple of str
        Earlier stages of the same policy whose *end* is the hand-over to this
        intervention: only their start is assessed as a possible confounder.
    phase : str
        The policy phase the date is taken from (the one that reaches patients: money
        paid or spent, a service in effect), e.g. ``"spending"``.
    anticipation_start : pandas.Timestamp, optional
        Start of the anticipation window (e.g. the announcement): periods from here to
        ``date`` are anticipation, not pre-period.
    alternative_dates : tuple of pandas.Timestamp
        Other intervention dates the sources support (used by sensitivity re-estimates).
    """

    name: str
    event_ids: tuple[str, ...]
    date: pd.Timestamp | None = None
    unit_dates: Mapping[str, pd.Timestamp] | None = field(default=None, hash=False)
    units: tuple[str, ...] | None = None
    description: str = ""
    source: str = ""
    end: pd.Timestamp | None = None
    related_event_ids: tuple[str, ...] = ()
    phase: str = ""
    anticipation_start: pd.Timestamp | None = None
    alternative_dates: tuple[pd.Timestamp, ...] = ()

    def __post_init__(self) -> None:
        if (self.date is None) == (self.unit_dates is None):
            raise SpecificationError(
                f"Intervention {self.name!r}: give exactly one of date= (single date) or "
                "unit_dates= (one date per unit)."
            )
        set_ = object.__setattr__
        set_(self, "event_ids", tuple(self.event_ids))
        set_(self, "related_event_ids", tuple(self.related_event_ids))
        if self.date is not None:
            set_(self, "date", pd.Timestamp(self.date))
        if self.unit_dates is not None:
            dates = {str(k): pd.Timestamp(v) for k, v in self.unit_dates.items()}
            if not dates:
                raise SpecificationError(f"Intervention {self.name!r}: unit_dates is empty.")
            set_(self, "unit_dates", MappingProxyType(dates))
            if self.units is None:
                set_(self, "units", tuple(sorted(dates)))
        if self.units is not None:
            set_(self, "units", tuple(self.units))
        if self.end is not None:
            set_(self, "end", pd.Timestamp(self.end))
        if self.anticipation_start is not None:
            set_(self, "anticipation_start", pd.Timestamp(self.anticipation_start))
        set_(self, "alternative_dates", tuple(pd.Timestamp(d) for d in self.alternative_dates))

    def __hash__(self) -> int:
        return hash((self.name, self.event_ids, self.date, self.units))

    @property
    def is_staggered(self) -> bool:
        """True when units start on different dates."""
        return self.unit_dates is not None and len(set(self.unit_dates.values())) > 1


def _calendar() -> EventCollection:
    return EventCollection.default()


def _icbs() -> pd.DataFrame:
    return load_icbs()


def _ics_golive_2022() -> Intervention:
    ev = _calendar().get("icb_statutory_go_live")
    icbs = _icbs()
    return Intervention(
        name="ics_golive_2022", date=ev.start, units=tuple(sorted(icbs["icb_ods_code"])),
        event_ids=("icb_statutory_go_live", "hca_2022_royal_assent",
                   "integration_white_paper_2021"),
        related_event_ids=("ics_wave1_shadow_acs", "ics_wave2", "ics_wave3", "ics_wave4",
                           "ics_wave5", "ics_wave6_full_coverage"),
        description=(
            "The 42 integrated care boards became statutory bodies on 1 July 2022 (Health and "
            "Care Act 2022), taking over from CCGs. Own events: the go-live, the Act's royal "
            "assent and the 2021 integration white paper. The six non-statutory ICS waves "
            "(2017-2021) are earlier stages: their end is the hand-over to statutory ICBs, so "
            "only their start is checked."
        ),
        source=ev.source,
    )


def _ics_waves() -> Intervention:
    icbs = _icbs()
    dates = dict(zip(icbs["icb_ods_code"], icbs["ics_designation_date"]))
    return Intervention(
        name="ics_waves", unit_dates=dates,
        event_ids=("ics_wave1_shadow_acs", "ics_wave2", "ics_wave3", "ics_wave4", "ics_wave5",
                   "ics_wave6_full_coverage"),
        related_event_ids=("stps_formed",),
        description=(
            "Staggered designation of integrated care systems before statutory status: six "
            "waves from June 2017 (shadow accountable care systems) to April 2021 (full "
            "coverage), one designation date per ICB. STPs (2016-2021) are the footprints ICSs "
            "grew from: only their start is checked."
        ),
        source="evalint/geography/icbs.csv (ics_designation_date per ICB; sources per row, from "
               "the project's ics_icb.csv)",
    )


def _asc_discharge_fund_2022() -> Intervention:
    cal = _calendar()
    fund, beds = cal.get("asc_discharge_fund_2022_23"), cal.get("discharge_fund_200m_jan2023")
    ann, alloc = cal.get("asc_discharge_fund_announced"), cal.get("asc_discharge_fund_2022_allocations")
    own = tuple(e.id for e in cal.events if e.policy == fund.policy)
    return Intervention(
        name="asc_discharge_fund_2022", date=fund.start, end=fund.end, phase=fund.phase,
        anticipation_start=ann.start, alternative_dates=(alloc.start,),
        event_ids=own,
        description=(
            "Adult Social Care Discharge Fund 2022-23 (£500m to local authorities and ICBs) and "
            f"the additional £200m fund for ICBs to buy short-term care beds ({beds.start.date()} "
            f"to {beds.end.date()}). The date is the phase that reaches patients: money paid from "
            f"December 2022 (40%; 60% at the end of January 2023), spending period "
            f"{fund.start.date():%B %Y} to {fund.end.date():%B %Y}. The announcement "
            f"({ann.start.date()}) to the allocations ({alloc.start.date()}) is the anticipation "
            f"window; {alloc.start.date()} is the alternative date for sensitivity runs."
        ),
        source=f"{fund.id}: {fund.source} | {beds.id}: {beds.source}",
    )


def _bcf_2015() -> Intervention:
    ev = _calendar().get("bcf_2015_16")
    return Intervention(
        name="bcf_2015", date=ev.start, end=ev.end,
        event_ids=("bcf_2015_16", "bcf_announced", "bcf_annual_cycle"),
        description=(
            "Better Care Fund year 1: pooled health and social care budgets in every Health "
            "and Wellbeing Board area from 1 April 2015 (announced June 2013; continued in "
            "annual cycles from 2016). Units are HWB areas, not ICBs, so none are listed."
        ),
        source=ev.source,
    )


def _vanguards_2015() -> Intervention:
    cal = _calendar()
    ev = cal.get("vanguards_wave1")
    return Intervention(
        name="vanguards_2015", date=ev.start, end=ev.end,
        event_ids=("vanguards_wave1", "vanguards_uec_acc", "five_year_forward_view"),
        description=(
            "New care models vanguards: first 29 sites selected 10 March 2015 (the Five Year "
            "Forward View, October 2014, launched the programme; urgent and emergency care and "
            "acute care collaboration vanguards followed in July 2015). Vanguard sites are not "
            "ICBs, so units are not listed; pass treated_units and comparison_units yourself."
        ),
        source=ev.source,
    )


_PRESETS: dict[str, Callable[[], Intervention]] = {
    "ics_golive_2022": _ics_golive_2022,
    "ics_waves": _ics_waves,
    "asc_discharge_fund_2022": _asc_discharge_fund_2022,
    "bcf_2015": _bcf_2015,
    "vanguards_2015": _vanguards_2015,
}


def list_presets() -> list[str]:
    """Names of the intervention presets, sorted."""
    return sorted(_PRESETS)


@lru_cache(maxsize=None)
def _resolve(name: str) -> Intervention:
    return _PRESETS[name]()


def resolve_preset(name: str) -> Intervention:
    """Return the :class:`Intervention` for preset ``name``.

    Raises
    ------
    SpecificationError
        ``name`` is not a preset; the message lists the presets.
    """
    if not isinstance(name, str) or name not in _PRESETS:
        close = difflib.get_close_matches(str(name), list(_PRESETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpecificationError(
            f"intervention preset {name!r} is not known.{hint} Presets: "
            f"{', '.join(list_presets())}. Or pass a date ('2022-07-01'), a pandas Period, or a "
            "mapping unit -> date for staggered roll-outs."
        )
    return _resolve(name)


def describe_presets() -> pd.DataFrame:
    """One row per preset: name, date(s), number of units, own events, description."""
    rows = []
    for name in list_presets():
        iv = resolve_preset(name)
        if iv.unit_dates is not None:
            ds = sorted(set(iv.unit_dates.values()))
            when = f"{ds[0].date()} .. {ds[-1].date()} ({len(ds)} dates)"
        else:
            when = str(iv.date.date()) if iv.date is not None else ""
        rows.append({
            "preset": name, "date": when,
            "units": len(iv.units) if iv.units is not None else None,
            "own_events": ";".join(iv.event_ids), "description": iv.description,
            "source": iv.source,
        })
    return pd.DataFrame(rows)
