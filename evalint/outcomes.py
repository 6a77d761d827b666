"""Outcome kinds with NHS meaning.

An :class:`OutcomeKind` says what a number *is* (a count with a population exposure, a
positive duration, a continuous measure), which values are valid, which interrupted
time series model suits it by default, and how effects are reported (rate per 100,000
and % change for admissions; days for length of stay; patients per day or bed-days
for delayed discharges).

Built-in kinds: ``emergency_admissions``, ``length_of_stay``, ``delayed_discharges``,
``continuous``. Register your own with :func:`register_outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from evalint._typing import check_option
from evalint.errors import SpecificationError

__all__ = ["OutcomeKind", "register_outcome", "get_outcome", "list_outcomes"]

Measure = Literal["count", "duration", "continuous"]
ITSModel = Literal["poisson", "quasi_poisson", "negative_binomial", "ols", "gls_ar"]


@dataclass(frozen=True)
class OutcomeKind:
    """What an outcome measures and how evalint treats it.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"emergency_admissions"``.
    label : str
        Human label for tables and axes.
    measure : {"count", "duration", "continuous"}
        Counts must be >= 0; durations > 0; continuous values are unrestricted.
    unit_label : str
        Unit of one observation, e.g. ``"admissions per month"``.
    exposure : {"population", None}
        Counts with ``"population"`` exposure get a log(population) offset in count
        models and are reported per 100,000 population.
    default_its_model : str
        The interrupted-time-series model used unless the user picks one.
    reporting_scale : str
        ``"rate_per_100k"``, ``"absolute"`` or ``"days"``.
    cumulative_label : str
        What a cumulative effect is called (``"admissions averted"``...).
    weight : str or None
        Natural weight for averaging (``"spells"`` for length of stay).
    description : str
        One line on the measure and where it comes from.
    negative_controls : tuple of str
        Outcomes an intervention on this one cannot plausibly move (negative-control outcomes),
        used by ``evaluate()``'s robustness section when they are columns of the panel.
    """

    name: str
    label: str
    measure: Measure
    unit_label: str
    exposure: Literal["population"] | None = None
    default_its_model: ITSModel = "ols"
    reporting_scale: str = "absolute"
    cumulative_label: str = "cumulative effect"
    weight: str | None = None
    description: str = ""
    aliases: tuple[str, ...] = field(default=())
    negative_controls: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_option("measure", self.measure, ("count", "duration", "continuous"))
        check_option(
            "default_its_model",
            self.default_its_model,
            ("poisson", "quasi_poisson", "negative_binomial", "ols", "gls_ar"),
        )
        if self.measure != "count" and self.default_its_model in ("poisson", "quasi_poisson", "negative_binomial"):
            raise SpecificationError(
                f"outcome {self.name!r}: count models need measure='count'; got {self.measure!r}."
            )

    def per_period(self, period: str) -> OutcomeKind:
        """This kind with "per month" in :attr:`unit_label` read as "per ``period``".

        The shipped counts are labelled for monthly data ("admissions per month"); on a
        quarterly, annual, weekly or daily panel (or period numbers, ``"period"``) one value
        counts a quarter's, a year's... admissions, and a label saying "per month" would misstate
        every number reported on it. Labels without "per month" are returned unchanged.
        """
        if period == "month" or "per month" not in self.unit_label:
            return self
        import dataclasses

        return dataclasses.replace(self, unit_label=self.unit_label.replace("per month", f"per {period}"))

    @property
    def is_count(self) -> bool:
        """True for counts (non-negative integers in principle)."""
        return self.measure == "count"

    @property
    def must_be_positive(self) -> bool:
        """True for durations, which must be strictly positive."""
        return self.measure == "duration"


_REGISTRY: dict[str, OutcomeKind] = {}


def register_outcome(kind: OutcomeKind, *, replace: bool = False) -> OutcomeKind:
    """Add an outcome kind to the registry (``replace=True`` to overwrite)."""
    if not isinstance(kind, OutcomeKind):
        raise SpecificationError("register_outcome expects an OutcomeKind.")
    for key in (kind.name, *kind.aliases):
        if key in _REGISTRY and not replace and _REGISTRY[key] is not kind:
            raise SpecificationError(
                f"outcome kind {key!r} is already registered; pass replace=True to overwrite it."
            )
        _REGISTRY[key] = kind
    return kind


def get_outcome(name: str | OutcomeKind | None) -> OutcomeKind:
    """Return the registered :class:`OutcomeKind` for ``name`` (``None`` -> continuous)."""
    if isinstance(name, OutcomeKind):
        return name
    if name is None:
        return _REGISTRY["continuous"]
    if name not in _REGISTRY:
        raise SpecificationError(
            f"outcome kind {name!r} is not registered. Known kinds: "
            f"{', '.join(sorted({k.name for k in _REGISTRY.values()}))}. "
            "Register new ones with evalint.register_outcome(OutcomeKind(...))."
        )
    return _REGISTRY[name]


def list_outcomes() -> list[OutcomeKind]:
    """All registered outcome kinds (each once)."""
    seen: dict[str, OutcomeKind] = {}
    for k in _REGISTRY.values():
        seen.setdefault(k.name, k)
    return list(seen.values())


register_outcome(OutcomeKind(
    name="emergency_admissions",
    label="Emergency admissions",
    measure="count",
    unit_label="admissions per month",
    exposure="population",
    default_its_model="quasi_poisson",
    reporting_scale="rate_per_100k",
    cumulative_label="admissions averted",
    description="Emergency (non-elective) admissions, e.g. NHS England monthly A&E statistics.",
    aliases=("admissions",),
))
register_outcome(OutcomeKind(
    name="length_of_stay",
    label="Length of stay",
    measure="duration",
    unit_label="days (mean per spell)",
    default_its_model="gls_ar",
    reporting_scale="days",
    cumulative_label="bed-days saved",
    weight="spells",
    description="Mean length of stay in days of emergency spells; weight by spells when averaging.",
    aliases=("los",),
))
register_outcome(OutcomeKind(
    name="delayed_discharges",
    label="Delayed discharges",
    measure="count",
    unit_label="patients delayed per day",
    default_its_model="quasi_poisson",
    reporting_scale="absolute",
    cumulative_label="patient-days of delay avoided",
    description=(
        "Patients who no longer meet the criteria to reside but remain in hospital "
        "(acute discharge sitrep), or delayed-transfer bed-days."
    ),
    aliases=("delayed_transfers",),
))
register_outcome(OutcomeKind(
    name="continuous",
    label="Outcome",
    measure="continuous",
    unit_label="outcome units",
    default_its_model="ols",
    reporting_scale="absolute",
    description="A generic continuous outcome.",
))
