"""Who is treated from when, which designs an evaluation can run, and why the others are skipped.

:func:`resolve_assignment` turns the ``intervention=`` of :func:`evalint.evaluate` (a
calendar preset, a date, or a mapping unit -> date) into one first-treated period per
unit of the panel. :func:`choose_designs` then asks every registered design
(:mod:`evalint.evaluate.registry`; the built-in ones in :mod:`evalint.evaluate.plugins`)
whether the data identify it; the rules are written down in ``methods/evaluate.md``:

* interrupted time series (ITS): always, when treated units have enough pre-periods; on
  the aggregate series of the treated units when they share one date, per unit at each
  unit's own date (random-effects pooled) when adoption is staggered;
* difference-in-differences (Callaway-Sant'Anna): when comparison units exist: never-treated
  units (at least two), else not-yet-treated units when adoption is staggered;
* synthetic control (Abadie SCM) and synthetic DiD: when few units are treated
  (at most 5) and at least 5 never-treated donors exist.

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Abadie, A. (2021). Using synthetic controls: feasibility, data requirements, and
methodological aspects. Journal of Economic Literature 59(2), 391-425.
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression
for the evaluation of public health interventions: a tutorial. IJE 46(1), 348-355.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evalint.errors import EvalintError, SpecificationError, TreatmentError, format_examples, plain
from evalint.evaluate.registry import DesignPlan, VariantView, list_designs

__all__ = [
    "DESIGN_LABELS",
    "FAMILIES",
    "Assignment",
    "DesignPlan",
    "choose_designs",
    "resolve_assignment",
]


class _Families(Mapping[str, tuple[str, ...]]):
    """Design name -> the result keys it may run, read from the registry."""

    def _items(self) -> dict[str, tuple[str, ...]]:
        return {d.name: tuple(v.key for v in d.variants) for d in list_designs()}

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return self._items()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


#: design name -> the design keys it may run (a view of the registry)
FAMILIES: Mapping[str, tuple[str, ...]] = _Families()
#: design key -> report label (a view of the registry)
DESIGN_LABELS: Mapping[str, str] = VariantView("label")


@dataclass(frozen=True)
class Assignment:
    """Who is treated, from when, and where that came from.

    Attributes
    ----------
    name : str
        Preset name, or a short label (``"2022-07"``, ``"custom roll-out"``).
    cohort : pandas.Series
        Panel unit -> first treated period (``NaT``: never treated in the data).
    intervention : Intervention or None
        The calendar preset (its own events are not flagged against it).
    description, source : str
    ignored_units : tuple
        Units named by the intervention that are not in the panel.
    """

    name: str
    cohort: pd.Series
    intervention: Any = None
    description: str = ""
    source: str = ""
    ignored_units: tuple[Any, ...] = ()

    @property
    def treated_units(self) -> list[Any]:
        return list(self.cohort.index[self.cohort.notna()])

    @property
    def never_treated(self) -> list[Any]:
        return list(self.cohort.index[self.cohort.isna()])

    @property
    def cohorts(self) -> list[pd.Period]:
        return sorted(self.cohort.dropna().unique())

    @property
    def is_staggered(self) -> bool:
        return len(self.cohorts) > 1

    @property
    def its_intervention(self) -> Any:
        """What to hand to the ITS estimators: the preset (own events excluded) or the date."""
        if self.intervention is not None:
            return self.intervention
        return self.cohorts[0]

    def describe(self) -> str:
        n_t, n_c = len(self.treated_units), len(self.never_treated)
        if self.is_staggered:
            when = f"{len(self.cohorts)} dates from {self.cohorts[0]} to {self.cohorts[-1]}"
        else:
            when = f"{self.cohorts[0]}"
        return (f"{self.name}: {n_t} treated unit(s) ({when}); {n_c} never-treated unit(s) in the data")


def _period(panel: Any, value: Any, what: str) -> pd.Period:
    if isinstance(value, pd.Period) and not getattr(panel, "is_ordinal", False):
        value = value.start_time
    return panel.period(value, what)


def _as_units(treated: Any) -> list[Any] | None:
    """``treated=`` as a list of units: one string (or number) is one unit, not its characters."""
    if treated is None:
        return None
    if isinstance(treated, (str, bytes)) or not isinstance(treated, Iterable) or isinstance(treated, Mapping):
        if isinstance(treated, Mapping):
            raise SpecificationError(
                "treated= takes a list of units treated at the one intervention date; to give each unit its "
                "own date pass the mapping unit -> date as intervention= instead.")
        return [treated]
    return list(treated)


def _unit_matcher(units: Sequence[Any]) -> Callable[[Any], Any]:
    """Match a unit the user named to the panel's unit: itself, else the unit written the same way.

    A configuration file names units as text (``"004"``, ``"4"``) while a panel built from a frame
    may hold numbers (``4``): a name matches the unit whose text it is. Returns ``None`` when no
    unit matches.
    """
    unit_set = set(units)
    by_text: dict[str, Any] = {}
    for u in units:
        by_text.setdefault(str(plain(u)), u)

    def match(u: Any) -> Any:
        try:
            if u in unit_set:
                return u
        except TypeError:  # unhashable
            return None
        return by_text.get(str(plain(u)))

    return match


def _not_in_panel(what: str, missing: Sequence[Any], units: Sequence[Any]) -> SpecificationError:
    """The error for units named by ``what`` that the panel does not have (with the leading-zeros hint)."""
    hint = ""
    numeric = [u for u in units if not isinstance(u, str)]
    texts = [u for u in missing if isinstance(u, str)]
    if numeric and texts and any(t.strip().isdigit() for t in texts):
        hint = (" The panel's unit codes are numbers, so codes written with leading zeros ('004') were read "
                "as numbers (4) when the data were read: keep the unit column as text (pandas: "
                "read_csv(..., dtype={unit: str})) or name the units as the panel holds them.")
    return SpecificationError(
        f"{what} names unit(s) not in the panel: {format_examples(missing)}. Panel units: "
        f"{format_examples(units, 8)}.{hint}")


def _shown(intervention: Any) -> str:
    """``intervention=`` as a user wrote it, for messages: a preset's name, a date as 2022-07-01."""
    import datetime as _dt

    from evalint.calendar.presets import Intervention

    if isinstance(intervention, Intervention):
        return repr(intervention.name)
    if isinstance(intervention, Mapping):
        return "a mapping unit -> date"
    value = plain(intervention)
    if isinstance(value, _dt.date):
        return value.isoformat() if not isinstance(value, _dt.datetime) else str(plain(pd.Timestamp(value)))
    return repr(value) if isinstance(value, str) else str(value)


def _describe_cohort(panel: Any, value: Any) -> str:
    return "never treated" if pd.isna(value) else f"treated from {panel.time_label(value)}"


def _check_panel_timing(panel: Any, cohort: pd.Series, intervention: Any, treated: Sequence[Any] | None) -> None:
    """Refuse an intervention that contradicts the panel's own treatment timing (its treatment or
    cohort column): the timing would otherwise be replaced silently."""
    if panel.timing is None:
        return
    given = panel.timing.cohort.reindex(cohort.index).astype(cohort.dtype)
    # read as the intervention is: a first treated period after the (windowed) data is never treated
    last = panel.periods[-1]
    given = given.where(given.isna() | (given <= last))
    differ = [u for u in cohort.index
              if not ((pd.isna(cohort[u]) and pd.isna(given[u])) or
                      (not pd.isna(cohort[u]) and not pd.isna(given[u]) and cohort[u] == given[u]))]
    if not differ:
        return
    column = (f"its treatment column {panel.treatment!r}" if panel.treatment else "its cohort column")
    setting = f"intervention={_shown(intervention)}"
    if treated is not None:
        setting += f" with treated={format_examples(treated)}"
    examples = "; ".join(f"unit {plain(u)!r}: {_describe_cohort(panel, given[u])} by the panel, "
                         f"{_describe_cohort(panel, cohort[u])} by the intervention" for u in differ[:3])
    raise SpecificationError(
        f"{setting} contradicts the panel's own treatment timing ({column}; [data] treatment or cohort in "
        f"a configuration file) for {len(differ)} unit(s): {examples}"
        f"{' (and more)' if len(differ) > 3 else ''}. Give the timing once: leave out intervention= and "
        "treated= ([evaluation] intervention and treated) to evaluate the column's timing, or build the panel "
        "without treatment= / cohort= (remove [data] treatment / cohort) to evaluate the intervention.")


def resolve_assignment(panel: Any, intervention: Any, treated: Sequence[Any] | str | None = None) -> Assignment:
    """First-treated period of every panel unit from ``intervention``.

    Parameters
    ----------
    panel : Panel
    intervention : str, date-like, mapping unit -> date, Intervention or None
        A calendar preset name (``"ics_golive_2022"``...), one date (every unit, or the
        units in ``treated``), a mapping unit -> date (others never treated), an
        :class:`~evalint.calendar.Intervention`, or ``None`` to use the panel's own
        treatment timing.
    treated : sequence or str, optional
        Units treated at a single date (for a date, or a preset with one date); a string is one
        unit. A unit is matched as it is or by its text (``"004"`` names the unit ``"004"``,
        ``"4"`` a numeric unit ``4``). Refused with a staggered preset (one date per unit).

    Raises
    ------
    SpecificationError
        Unknown preset, treated units not in the panel, ``treated`` with a staggered preset or a
        mapping, an intervention that contradicts the panel's own treatment timing (its treatment
        or cohort column), nothing treated.
    """
    from evalint.calendar.presets import Intervention, list_presets, resolve_preset

    treated = _as_units(treated)
    units = list(panel.units)
    match = _unit_matcher(units)
    cohort = pd.Series(pd.NaT, index=pd.Index(units, name=panel.unit), dtype=f"period[{panel.freq}]")
    iv = None
    name = ""
    description = source = ""
    ignored: list[Any] = []
    if intervention is None:
        if panel.timing is None:
            raise SpecificationError(
                "intervention= is missing and the panel has no treatment timing. Give a calendar preset "
                f"({', '.join(list_presets())}), a date ('2022-07-01'), or a mapping unit -> date; or "
                "build the panel with cohort= / treatment=."
            )
        cohort = panel.timing.cohort.reindex(units).astype(f"period[{panel.freq}]")
        name = "panel treatment timing"
        source = f"the panel's {'treatment' if panel.treatment else 'cohort'} column"
    else:
        if isinstance(intervention, str) and intervention in list_presets():
            iv = resolve_preset(intervention)
        elif isinstance(intervention, Intervention):
            iv = intervention
        elif isinstance(intervention, str):
            try:
                panel.period(intervention, "intervention")
            except EvalintError:
                if getattr(panel, "is_ordinal", False):
                    raise  # the axis holds period numbers: that error says so, not "unknown preset"
                resolve_preset(intervention)  # not a date either: the "unknown preset" error, with a hint
        if iv is not None and getattr(panel, "is_ordinal", False):
            raise SpecificationError(
                f"intervention={iv.name!r} is a dated calendar preset, but this panel's time axis is ordinal "
                "(integer period numbers), so its dates cannot be placed on it. Give the first treated period "
                "number (intervention=3 with treated=[...], or a mapping unit -> period number).")
        if iv is not None:
            name, description, source = iv.name, iv.description, iv.source
            if iv.unit_dates is not None:
                if treated is not None:
                    raise _staggered_with_treated(iv, treated, match)
                mapping: Mapping[Any, Any] = dict(iv.unit_dates)
            else:
                chosen = treated if treated is not None else (iv.units if iv.units is not None else units)
                mapping = {u: iv.date for u in chosen}
        elif isinstance(intervention, Mapping):
            if treated is not None:
                raise SpecificationError("Give treated= only with a single date; a mapping unit -> date "
                                         "already says which units are treated.")
            mapping = dict(intervention)
            name = "custom roll-out"
            source = "user-supplied mapping unit -> date"
        else:
            chosen = treated if treated is not None else units
            mapping = {u: intervention for u in chosen}
            name = str(panel.time_label(_period(panel, intervention, "intervention")))
            source = "user-supplied date"
        if treated is not None:
            missing = [u for u in treated if match(u) is None]
            if missing:
                raise _not_in_panel("treated=", missing, units)
        for u, d in mapping.items():
            key = match(u)
            if key is None:
                ignored.append(u)
                continue
            cohort.loc[key] = _period(panel, d, f"intervention date of unit {plain(u)!r}")
        if iv is None and ignored:
            raise _not_in_panel("intervention", ignored, units)
    if cohort.notna().sum() == 0:
        extra = (f" The preset {name!r} covers {format_examples(ignored)}, none of which is a unit of this "
                 "panel (are the units ICB ODS codes?). Pass treated=[...] to say which units it covers."
                 if ignored else "")
        raise SpecificationError(f"No unit of the panel is treated by intervention={_shown(intervention)}.{extra}")
    first, last = panel.periods[0], panel.periods[-1]
    late = [u for u, c in cohort.items() if not pd.isna(c) and c > last]
    early = [u for u, c in cohort.items() if not pd.isna(c) and c <= first]
    if late:
        cohort.loc[late] = pd.NaT
    if early:
        raise TreatmentError(
            f"{len(early)} unit(s) are treated at or before the first period of the data ({first}), e.g. "
            f"{format_examples(early)}: there is no pre-intervention period to learn from. Use data that "
            "starts before the intervention, or drop those units."
        )
    if cohort.notna().sum() == 0:
        raise TreatmentError(
            f"Every intervention date is after the data ends ({last}); nothing can be evaluated yet."
        )
    if intervention is not None:
        _check_panel_timing(panel, cohort, intervention, treated)
    return Assignment(name=name, cohort=cohort.rename("cohort"), intervention=iv, description=description,
                      source=source, ignored_units=tuple(ignored))


def _staggered_with_treated(iv: Any, treated: Sequence[Any], match: Callable[[Any], Any]) -> SpecificationError:
    """The refusal of ``treated=`` with a preset that gives each unit its own date."""
    dates = {str(k): v for k, v in iv.unit_dates.items()}
    named = [u for u in treated if str(u) in dates]
    example = ", ".join(f"{u} = \"{dates[str(u)]:%Y-%m}\"" for u in named[:3]) or "QHG = \"2021-04\""
    n_dates = len(set(dates.values()))
    return SpecificationError(
        f"treated={format_examples(treated)} cannot be used with intervention={iv.name!r}: that preset gives "
        f"each of its {len(dates)} units its own date ({n_dates} date(s)), so it already says which units are "
        "treated and when (treated= names the units of a single date, and would be ignored). To evaluate the "
        "preset, leave out treated=. To evaluate some units only, give their dates as a mapping unit -> date "
        f"(in a configuration file: [evaluation.intervention] {example}); every other unit is then a "
        "never-treated comparison, so leave out of the data the units the preset treats that are not named.")


def choose_designs(panel: Any, assignment: Assignment, designs: str | Sequence[str] = "auto"
                   ) -> tuple[list[DesignPlan], dict[str, str]]:
    """The designs to run and, for each design not run, the reason.

    Parameters
    ----------
    panel : Panel
    assignment : Assignment
    designs : "auto" or sequence of registered design names (``"its"``, ``"did"``, ``"synth"``)
        ``"auto"`` tries every design; a list restricts to those (a requested design that
        is not identified is still skipped, with the reason).

    Returns
    -------
    plans : list of DesignPlan
        In registration order.
    skipped : dict
        Design name -> plain-language reason.
    """
    registered = list_designs()
    names = [d.name for d in registered]
    if isinstance(designs, str) and designs != "auto":
        designs = [designs]
    if designs == "auto":
        wanted = list(names)
    else:
        wanted = []
        for d in designs:
            if d not in names:
                raise SpecificationError(
                    f"designs contains {d!r}; use 'auto' or a list of {', '.join(names)} "
                    f"({', '.join(x.title for x in registered)})."
                )
            wanted.append(d)
        if not wanted:
            raise SpecificationError(f"designs is empty; use 'auto' or a list of {', '.join(map(repr, names))}.")
    plans: list[DesignPlan] = []
    skipped: dict[str, str] = {}
    for f in names:
        if f not in wanted:
            skipped[f] = "not requested (designs=" + repr(list(wanted)) + ")"
    for design in registered:
        if design.name not in wanted:
            continue
        chosen = design.identify(panel, assignment)
        if isinstance(chosen, str):
            skipped[design.name] = chosen
        else:
            plans.extend(chosen)
    return plans, skipped
