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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evalint.errors import EvalintError, SpecificationError, TreatmentError, format_examples
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


def resolve_assignment(panel: Any, intervention: Any, treated: Sequence[Any] | None = None) -> Assignment:
    """First-treated period of every panel unit from ``intervention``.

    Parameters
    ----------
    panel : Panel
    intervention : str, date-like, mapping unit -> date, Intervention or None
        A calendar preset name (``"ics_golive_2022"``...), one date (every unit, or the
        units in ``treated``), a mapping unit -> date (others never treated), an
        :class:`~evalint.calendar.Intervention`, or ``None`` to use the panel's own
        treatment timing.
    treated : sequence, optional
        Units treated at a single date (for a date, or a preset that lists no units).

    Raises
    ------
    SpecificationError
        Unknown preset, treated units not in the panel, nothing treated.
    """
    from evalint.calendar.presets import Intervention, list_presets, resolve_preset

    units = list(panel.units)
    unit_set = set(units)
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
                resolve_preset(intervention)  # not a date either: the "unknown preset" error, with a hint
        if iv is not None and getattr(panel, "is_ordinal", False):
            raise SpecificationError(
                f"intervention={iv.name!r} is a dated calendar preset, but this panel's time axis is ordinal "
                "(integer period numbers), so its dates cannot be placed on it. Give the first treated period "
                "number (intervention=3 with treated=[...], or a mapping unit -> period number).")
        if iv is not None:
            name, description, source = iv.name, iv.description, iv.source
            if iv.unit_dates is not None:
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
        for u, d in mapping.items():
            key = u if u in unit_set else (str(u) if str(u) in unit_set else None)
            if key is None:
                ignored.append(u)
                continue
            cohort.loc[key] = _period(panel, d, f"intervention date of unit {u!r}")
        if treated is not None:
            missing = [u for u in treated if u not in unit_set]
            if missing:
                raise SpecificationError(
                    f"treated= names unit(s) not in the panel: {format_examples(missing)}. Panel units: "
                    f"{format_examples(units, 8)}."
                )
        if iv is None and ignored:
            raise SpecificationError(
                f"intervention names unit(s) not in the panel: {format_examples(ignored)}. Panel units: "
                f"{format_examples(units, 8)}."
            )
    if cohort.notna().sum() == 0:
        extra = (f" The preset {name!r} covers {format_examples(ignored)}, none of which is a unit of this "
                 "panel (are the units ICB ODS codes?). Pass treated=[...] to say which units it covers."
                 if ignored else "")
        raise SpecificationError(f"No unit of the panel is treated by intervention={intervention!r}.{extra}")
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
    return Assignment(name=name, cohort=cohort.rename("cohort"), intervention=iv, description=description,
                      source=source, ignored_units=tuple(ignored))


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
