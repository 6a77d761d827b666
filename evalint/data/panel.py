"""The validated unit x period panel every estimator consumes.

Build one with :meth:`Panel.from_frame`. Validation happens once, there (the checks are in
:mod:`evalint.data.build`): a Panel that exists is a valid panel. The input frame is never
mutated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from evalint.data.build import frame_parts
from evalint.data.ordinal import label as ordinal_label
from evalint.data.ordinal import ordinal_period
from evalint.data.timeparse import FREQ_NAMES, period_named, to_period
from evalint.data.timing import TreatmentTiming
from evalint.errors import (
    plain,
    EmptyDataError,
    InvalidValueError,
    MissingValuesError,
    SpecificationError,
    UnbalancedPanelError,
    column_not_found,
    format_examples,
)
from evalint.outcomes import OutcomeKind

__all__ = ["Panel"]


class Panel:
    """A validated long panel of units x periods.

    Do not call the constructor directly; use :meth:`Panel.from_frame`.

    Attributes
    ----------
    unit, time : str
        Column names of the unit id and the period.
    outcomes : tuple of str
        Outcome columns; ``outcome`` is the first (primary) one.
    outcome_kinds : dict
        Outcome column -> :class:`~evalint.outcomes.OutcomeKind`.
    treatment, population, weights : str or None
        Column names for those roles, if given.
    covariates : tuple of str
    freq : str
        ``'D'``, ``'W'``, ``'M'``, ``'Q'`` or ``'Y'``.
    timing : TreatmentTiming or None
        Cohorts and never-treated units, when treatment or cohort was given.
    quality : tuple of dict
        Data-quality flags carried from the reader (:mod:`evalint.data.quality_flags`).
    time_kind : {"calendar", "ordinal"}
        ``"ordinal"`` when the periods are integer period numbers (survey waves, 1..T) rather
        than dates (:mod:`evalint.data.ordinal`): they are held as annual Periods internally,
        shown as the integers, and never placed on the policy calendar.
    """

    __slots__ = (  # noqa: RUF023 - order kept as it was
        "_data", "unit", "time", "outcomes", "outcome_kinds", "treatment", "population",
        "weights", "covariates", "freq", "timing", "_fingerprint", "dropped", "_primary_chosen", "cluster",
        "quality", "time_kind",
    )
    #: set by ``with_outcome`` (True: an outcome was chosen, estimators may use it without outcome=)
    _primary_chosen: bool

    def __init__(self, *, data: pd.DataFrame, unit: str, time: str, outcomes: tuple[str, ...],
                 outcome_kinds: dict[str, OutcomeKind], treatment: str | None,
                 population: str | None, weights: str | None, covariates: tuple[str, ...],
                 freq: str, timing: TreatmentTiming | None, dropped: dict[str, int],
                 cluster: str | None = None, quality: tuple[dict[str, Any], ...] = (),
                 time_kind: str = "calendar") -> None:
        self._data = data
        self.unit = unit
        self.time = time
        self.outcomes = outcomes
        self.outcome_kinds = outcome_kinds
        self.treatment = treatment
        self.population = population
        self.weights = weights
        self.covariates = covariates
        self.freq = freq
        self.timing = timing
        self.dropped = dropped
        self.cluster = cluster
        self.quality = tuple(quality)
        self.time_kind = time_kind
        self._fingerprint: str | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        unit: str | None = None,
        time: str,
        outcome: str | Sequence[str],
        treatment: str | None = None,
        cohort: str | None = None,
        population: str | None = None,
        weights: str | None = None,
        covariates: Sequence[str] | str = (),
        freq: str | None = None,
        outcome_kind: str | OutcomeKind | Mapping[str, str | OutcomeKind] | None = None,
        missing: Literal["error", "drop"] = "error",
        cluster: str | None = None,
        quality: Sequence[Any] | None = None,
        time_kind: str | None = None,
    ) -> Panel:
        """Validate a long DataFrame of unit x period rows and build a Panel.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per unit and period. Never modified.
        unit : str, optional
            Unit id column. Omit for a single time series (one unit named ``"series"``).
        time : str
            Period column: dates, date strings, ``pd.Period``, integer years (1000-3000) or
            integer period numbers (an ordinal axis: survey waves 0/1, 1..T; see ``time_kind``).
        outcome : str or sequence of str
            Outcome column(s); the first is the primary outcome.
        treatment : str, optional
            Absorbing 0/1 treatment indicator. Mutually exclusive with ``cohort``.
        cohort : str, optional
            First treated period of each unit (constant within unit); missing, 0, ``inf``
            or ``"never"`` mean never treated.
        population : str, optional
            Population (exposure) column; must be > 0.
        weights : str, optional
            Non-negative analytic weights (e.g. spells for length of stay).
        covariates : sequence of str
            Numeric covariate columns.
        freq : str, optional
            ``'D'``, ``'W'``, ``'M'``, ``'Q'`` or ``'Y'``; inferred when omitted.
        outcome_kind : str, OutcomeKind or mapping, optional
            Outcome kind(s) from :mod:`evalint.outcomes`. When omitted, an outcome column
            whose name is a registered kind (``emergency_admissions``...) gets that kind;
            others are ``continuous``.
        missing : {"error", "drop"}
            Missing outcome or covariate values raise (default) or are dropped with a
            :class:`~evalint.errors.DroppedRowsWarning` giving the count.
        cluster : str, optional
            The level at which treatment is assigned and shocks are shared, e.g. the ICB of a
            practice or trust: a column constant within each unit. Kept on the panel
            (:attr:`cluster`) and used by default by every DiD estimator and by
            :func:`~evalint.evaluate` for cluster-robust inference (Abadie, Athey, Imbens &
            Wooldridge 2023). Omitted: units are the clusters.
        quality : sequence of CheckResult, Flag or dict, optional
            Data-quality flags to carry (:attr:`quality`; listed by :func:`~evalint.evaluate`
            and in the report's Data section). Default: the flags of the checks an
            :mod:`evalint.io` reader recorded in ``df.attrs["evalint_io"]`` (copied months,
            zero-filled days, organisations appearing/vanishing, vintages); ``()`` for none.
        time_kind : {"calendar", "ordinal"}, optional
            What the time column is. Omitted: detected (:func:`evalint.data.ordinal.detect_kind`):
            integers all in 1000-3000 are calendar years, integers all in -999..999 are an
            ordinal axis (period numbers), other integers are refused as ambiguous. On an
            ordinal axis interventions and cohorts are period numbers (``intervention=3``),
            results show the integers, the policy calendar is not checked (a note says so),
            and seasonality is refused. The numbers must be consecutive (a skipped number is a
            missing period).

        Returns
        -------
        Panel

        Raises
        ------
        evalint.errors.DataError
            Missing columns, empty data, duplicates, gaps, bad time values, missing or
            non-numeric outcomes, invalid counts/durations/population, non-absorbing or
            non-binary treatment, cohorts outside the data, a cluster column that is missing
            or changes within a unit.
        """
        parts = frame_parts(df, unit=unit, time=time, outcome=outcome, treatment=treatment,
                            cohort=cohort, population=population, weights=weights,
                            covariates=covariates, freq=freq, outcome_kind=outcome_kind,
                            missing=missing, time_kind=time_kind)
        if cluster is not None:
            parts["data"] = _attach_cluster(df, parts, cluster, cohort=cohort, treatment=treatment)
        from evalint.data.quality_flags import quality_flags

        return cls(**parts, cluster=cluster, quality=quality_flags(df, quality))

    # ------------------------------------------------------------------ views
    @property
    def data(self) -> pd.DataFrame:
        """The long frame, sorted by unit then time; time holds ``pd.Period`` values.

        A (copy-on-write) copy: changing it does not change the panel.
        """
        return cast(pd.DataFrame, self._data.copy(deep=False))

    @property
    def outcome(self) -> str:
        """The primary outcome column."""
        return self.outcomes[0]

    @property
    def outcome_kind(self) -> OutcomeKind:
        """Kind of the primary outcome."""
        return self.outcome_kinds[self.outcome]

    @property
    def units(self) -> pd.Index:
        """Unit ids in panel order."""
        # each unit first occurs at the start of one of its runs of rows (one run per unit when
        # the data are sorted by unit, as from_frame stores them): hash the run starts only
        uid = self._data[self.unit].to_numpy()
        runs = np.flatnonzero(np.r_[True, uid[1:] != uid[:-1]]) if len(uid) else np.zeros(0, np.intp)
        return pd.Index(pd.unique(self._data[self.unit].iloc[runs]), name=self.unit)

    @property
    def periods(self) -> pd.PeriodIndex:
        """Every period from the first to the last in the data (no gaps)."""
        per = self._data[self.time]
        if isinstance(per.dtype, pd.PeriodDtype) and len(per) and not per.isna().any():
            # = per.min(), per.max(), from the integer ordinals (faster on long columns)
            o = per.array.asi8
            offset: Any = per.dtype.freq   # a BaseOffset (the stubs type freq= as a string or Tick)
            lo, hi = (pd.Period(ordinal=int(v), freq=offset) for v in (o.min(), o.max()))
            return pd.period_range(lo, hi, freq=self.freq, name=self.time)
        return pd.period_range(per.min(), per.max(), freq=self.freq, name=self.time)

    @property
    def n_units(self) -> int:
        return int(self._data[self.unit].nunique())

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def n_clusters(self) -> int:
        """Number of clusters (:attr:`cluster` levels; the number of units when no cluster is declared)."""
        return int(self._data[self.cluster].nunique()) if self.cluster else self.n_units

    def unit_clusters(self) -> pd.Series:
        """Each unit's cluster label (index: units in panel order); the unit itself when undeclared."""
        if self.cluster is None:
            return cast(pd.Series, pd.Series(self.units, index=self.units, name=self.unit))
        first = self._data.groupby(self.unit, sort=False)[self.cluster].first()
        return first.reindex(self.units)

    @property
    def is_single_series(self) -> bool:
        """True when the panel holds one unit (a single time series)."""
        return self.n_units == 1

    def missing_cells(self) -> pd.DataFrame:
        """Unit-period cells of the full grid that have no row (empty if balanced)."""
        grid = pd.MultiIndex.from_product([self.units, self.periods], names=[self.unit, self.time])
        have = pd.MultiIndex.from_frame(self._data[[self.unit, self.time]])
        return cast(pd.DataFrame, grid.difference(have).to_frame(index=False))

    @property
    def is_balanced(self) -> bool:
        """True when every unit has a row in every period."""
        return len(self._data) == self.n_units * self.n_periods

    def require_balanced(self, purpose: str) -> None:
        """Raise UnbalancedPanelError listing missing cells when the panel is unbalanced."""
        if self.is_balanced:
            return
        cells = self.missing_cells()
        shown = "; ".join(f"{plain(u)!r} at {self.time_label(t)}" for u, t in cells.head(6).itertuples(index=False))
        raise UnbalancedPanelError(
            f"{purpose} needs a balanced panel, but {len(cells)} unit-period cell(s) are missing, "
            f"e.g. {shown}. Fill them from the source, or restrict to units/periods observed "
            "throughout (Panel.subset)."
        )

    def to_matrix(self, outcome: str | None = None) -> pd.DataFrame:
        """Units x periods matrix of an outcome (or any numeric column); NaN for missing cells."""
        col = outcome or self.outcome
        if col not in self._data.columns:
            raise column_not_found(col, "outcome", list(self._data.columns))
        numeric = [*self.outcomes, *self.covariates, self.population, self.weights, self.treatment]
        if col not in numeric:
            raise SpecificationError(
                f"to_matrix({col!r}): {col!r} is the {'unit' if col == self.unit else 'time'} column, "
                "not a value. Pass an outcome, covariate, population or weights column: "
                f"{format_examples([c for c in numeric if c])}."
            )
        mat = self._data.pivot(index=self.unit, columns=self.time, values=col)
        return cast(pd.DataFrame, mat.reindex(index=self.units, columns=self.periods))

    def period(self, value: Any, what: str = "date") -> pd.Period:
        """Map a date-like value (a period number on an ordinal axis) to this panel's period."""
        if self.time_kind == "ordinal":
            return ordinal_period(value, what)
        return to_period(value, self.freq, what)

    @property
    def is_ordinal(self) -> bool:
        """True when the time axis is ordinal (integer period numbers, no calendar dates)."""
        return self.time_kind == "ordinal"

    def time_label(self, period: Any) -> Any:
        """How a period is shown to a user: the integer on an ordinal axis, else its text."""
        return ordinal_label(period) if self.time_kind == "ordinal" else str(period)

    def treated_indicator(self) -> pd.Series:
        """0/1 treatment indicator aligned with :attr:`data` rows (absorbing)."""
        if self.timing is None:
            raise SpecificationError("This panel has no treatment; build it with treatment= or cohort=.")
        return self.timing.treated_indicator(self._data[self.unit], self._data[self.time])

    def relative_time(self) -> pd.Series:
        """Periods since first treatment, aligned with :attr:`data` rows (NaN if never treated)."""
        if self.timing is None:
            raise SpecificationError("This panel has no treatment; build it with treatment= or cohort=.")
        return self.timing.relative_time(self._data[self.unit], self._data[self.time])

    @property
    def fingerprint(self) -> str:
        """A short sha256 of the validated data, for provenance.

        Computed once per Panel from the columns' buffers (not row by row): each column's
        values as one contiguous array - numbers as float64, periods as ordinals, other
        values as codes plus their distinct values, the unit column as runs (the data are
        sorted by unit) - and each unit's cohort. Equal data give equal fingerprints
        whatever the input's row order, index or dtypes (int vs float, categorical vs plain).
        """
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update("|".join(map(str, self._data.columns)).encode())
            h.update(f"|freq={self.freq}".encode())
            if self.time_kind != "calendar":
                h.update(f"|time_kind={self.time_kind}".encode())
            for name in self._data.columns:
                h.update(f"|{name}".encode())
                for part in _column_parts(self._data[name], runs=name == self.unit):
                    h.update(part)
            if self.timing is not None:  # cohorts are data too (cohort= drops its column)
                # = self.units: each unit first occurs at the start of one of its runs of rows
                uid = self._data[self.unit]
                runs = np.flatnonzero(np.r_[True, uid.to_numpy()[1:] != uid.to_numpy()[:-1]])
                coh = self.timing.cohort.reindex(pd.Index(pd.unique(uid.iloc[runs]), name=self.unit))
                h.update(b"|cohort")
                h.update(np.where(coh.isna(), np.iinfo(np.int64).min,
                                  pd.PeriodIndex(coh).asi8).astype(np.int64).tobytes())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    # ------------------------------------------------------------ transforms
    def _end_period(self, end: Any) -> pd.Period:
        """The last period of a window ending at ``end``: a year, quarter or month named whole
        (``'2020'``, ``'2020Q3'``, ``'Jul-20'``) means its last period of this panel's frequency, as
        the policy calendar reads an end; a date, the period containing it."""
        period = self.period(end, "end")
        if self.is_ordinal:
            return period
        named = period_named(end, "end")
        if named is None:
            return period
        return max(period, named.end_time.to_period(self.freq))

    def subset(self, units: Sequence[Any] | None = None, start: Any = None, end: Any = None) -> Panel:
        """A new Panel restricted to ``units`` and the periods from ``start`` to ``end``.

        ``end`` is included; a year, quarter or month given whole (``end="2020"``) includes its
        last period (December 2020 on monthly data), a date the period containing it.
        """
        d = self._data
        if units is not None:
            units = [units] if isinstance(units, str) else list(units)
            have = set(self.units)
            unknown = [u for u in units if u not in have]
            if unknown:
                raise SpecificationError(
                    f"units= lists {len(unknown)} unit(s) not in the panel: {format_examples(unknown)}. "
                    f"Units in the panel: {format_examples(list(self.units), limit=10)}. "
                    "Check the spelling and the type (1 and '1' are different ids)."
                )
            d = d.loc[d[self.unit].isin(units)]
        if start is not None and end is not None and self.period(start, "start") > self._end_period(end):
            raise SpecificationError(
                f"start={_plain(start)!r} is after end={_plain(end)!r} "
                f"({self.time_label(self.period(start, 'start'))} > "
                f"{self.time_label(self._end_period(end))}); swap them, or drop one to keep the rest of the panel."
            )
        if start is not None and self.period(start, "start") > self.periods[-1]:
            raise SpecificationError(
                f"start={_plain(start)!r} is after the panel's last period {self.time_label(self.periods[-1])}; "
                f"the panel runs {self.time_label(self.periods[0])} to {self.time_label(self.periods[-1])}."
            )
        if end is not None and self._end_period(end) < self.periods[0]:
            raise SpecificationError(
                f"end={_plain(end)!r} is before the panel's first period {self.time_label(self.periods[0])}; "
                f"the panel runs {self.time_label(self.periods[0])} to {self.time_label(self.periods[-1])}."
            )
        if start is not None:
            d = d.loc[d[self.time] >= self.period(start, "start")]
        if end is not None:
            d = d.loc[d[self.time] <= self._end_period(end)]
        if d.empty:
            raise EmptyDataError("The subset has no rows.")
        timing = self.timing
        if timing is not None:
            timing = TreatmentTiming(timing.cohort.reindex(pd.unique(d[self.unit])), self.freq)
        sub = Panel(data=d.reset_index(drop=True), unit=self.unit, time=self.time,
                    outcomes=self.outcomes, outcome_kinds=self.outcome_kinds,
                    treatment=self.treatment, population=self.population, weights=self.weights,
                    covariates=self.covariates, freq=self.freq, timing=timing, dropped=dict(self.dropped),
                    cluster=self.cluster, quality=self.quality, time_kind=self.time_kind)
        sub._primary_chosen = getattr(self, "_primary_chosen", False)
        return sub

    def with_outcome(self, outcome: str) -> Panel:
        """The same panel with ``outcome`` as the primary outcome."""
        if outcome not in self.outcomes:
            raise SpecificationError(f"outcome {outcome!r} is not one of this panel's outcomes {self.outcomes}.")
        order = (outcome, *[o for o in self.outcomes if o != outcome])
        chosen = Panel(data=self._data, unit=self.unit, time=self.time, outcomes=order,
                     outcome_kinds=self.outcome_kinds, treatment=self.treatment,
                     population=self.population, weights=self.weights, covariates=self.covariates,
                     freq=self.freq, timing=self.timing, dropped=dict(self.dropped), cluster=self.cluster,
                     quality=self.quality, time_kind=self.time_kind)
        chosen._primary_chosen = True  # estimators may use it without outcome=
        return chosen

    def with_timing(self, cohort: Mapping[Any, Any] | pd.Series) -> Panel:
        """The same panel with new treatment timing: ``cohort`` maps unit -> first treated period.

        The panel :meth:`from_frame` would build from :attr:`data` with ``cohort`` as a cohort
        column, without the round trip through a DataFrame (the data were validated once).
        Units missing from ``cohort``, and missing / ``NaT`` / 0 / ``"never"`` values, are
        never treated; periods are read as in :meth:`from_frame` (dates, ``"2022-07"``,
        ``pd.Period``). The treatment column, if any, is dropped (the new timing replaces it);
        everything else (outcomes, roles, cluster, rows dropped so far) is kept. As in
        :meth:`from_frame`, a unit treated in its first observed period has no pre-period and
        is dropped with a :class:`~evalint.errors.DroppedRowsWarning`. Neither the panel nor
        ``cohort`` is changed.

        Raises
        ------
        SpecificationError
            ``cohort`` names units not in the panel.
        TreatmentError
            A period outside the data; every unit treated in its first period.
        """
        import warnings

        from evalint.data.timing_build import _timing_from_per_unit
        from evalint.errors import DroppedRowsWarning, TreatmentError

        src = cohort if isinstance(cohort, pd.Series) else pd.Series(dict(cohort), dtype=object)
        units = self.units
        unknown = [u for u in src.index if u not in set(units)]
        if unknown:
            raise SpecificationError(
                f"with_timing: cohort names {len(unknown)} unit(s) not in the panel: {format_examples(unknown)}. "
                f"Units in the panel: {format_examples(list(units), limit=10)}.")
        d = self._data
        per_unit = src.reindex(units)
        timing = _timing_from_per_unit(d, self.unit, self.time, "cohort", self.freq, per_unit,
                                       np.zeros(len(per_unit), dtype=bool), ordinal=self.is_ordinal)
        if self.treatment is not None and self.treatment in d.columns:
            d = d.drop(columns=[self.treatment])
        dropped = dict(self.dropped)
        first = pd.Series(pd.PeriodIndex(d.groupby(self.unit, sort=False)[self.time].min()).asi8,
                          index=pd.unique(d[self.unit]))
        c_ord = timing.cohort_ordinal()
        early = c_ord.index[(c_ord <= first.reindex(c_ord.index)).to_numpy()]
        if len(early):
            if len(early) == len(c_ord):
                raise TreatmentError(
                    f"Every unit is already treated in its first period (e.g. {format_examples(list(early))}); "
                    "there are no pre-treatment observations to learn from. Add earlier periods.")
            warnings.warn(
                f"Dropped {len(early)} unit(s) already treated in their first observed period "
                f"({format_examples(list(early))}): they have no pre-treatment data. "
                "Add earlier periods to keep them.", DroppedRowsWarning, stacklevel=2)
            dropped["treated_in_first_period"] = dropped.get("treated_in_first_period", 0) + len(early)
            d = d.loc[~d[self.unit].isin(early)].reset_index(drop=True)
            timing = TreatmentTiming(timing.cohort.drop(early), self.freq)
        timed = Panel(data=d, unit=self.unit, time=self.time, outcomes=self.outcomes,
                      outcome_kinds=self.outcome_kinds, treatment=None, population=self.population,
                      weights=self.weights, covariates=self.covariates, freq=self.freq, timing=timing,
                      dropped=dropped, cluster=self.cluster, time_kind=self.time_kind)
        timed._primary_chosen = getattr(self, "_primary_chosen", False)
        return timed

    def with_values(self, values: Mapping[str, Any], kinds: Mapping[str, OutcomeKind] | None = None) -> Panel:
        """The same panel with outcome columns replaced (e.g. rates or log rates) and, optionally, their kinds.

        ``values``: outcome -> one value per row of :attr:`data` (in its order). The new values
        are checked as :meth:`from_frame` checks outcomes (numeric, finite, of sane magnitude,
        within the kind's range). Neither the panel nor ``values`` is changed.

        Raises
        ------
        SpecificationError
            A name that is not an outcome of the panel, or values of the wrong length.
        evalint.errors.DataError
            Non-numeric, infinite or out-of-range values.
        """
        from evalint.data import checks

        d = self._data.copy(deep=False)
        new_kinds = dict(self.outcome_kinds)
        keys = d[[self.unit, self.time]]
        for o, v in values.items():
            if o not in self.outcomes:
                raise SpecificationError(f"with_values: {o!r} is not one of this panel's outcomes {self.outcomes}.")
            arr = np.asarray(v)
            if arr.shape != (len(d),):
                raise SpecificationError(f"with_values: {o!r} has {arr.shape} values; the panel has {len(d)} rows.")
            d[o] = arr
            d[o] = checks.require_numeric(d, o, "outcome")
            checks.require_finite(d[o], keys, o, "outcome")
            checks.require_magnitude(d[o], keys, o, "outcome")
            if kinds is not None and o in kinds:
                new_kinds[o] = kinds[o]
            k = new_kinds[o]
            if k.is_count:
                checks.require_range(d[o], keys, o, "outcome", minimum=0, strict=False, why=f"{k.label} is a count")
            elif k.must_be_positive:
                checks.require_range(d[o], keys, o, "outcome", minimum=0, strict=True,
                                     why=f"{k.label} is a duration in days")
        out = Panel(data=d, unit=self.unit, time=self.time, outcomes=self.outcomes, outcome_kinds=new_kinds,
                    treatment=self.treatment, population=self.population, weights=self.weights,
                    covariates=self.covariates, freq=self.freq, timing=self.timing, dropped=dict(self.dropped),
                    cluster=self.cluster, time_kind=self.time_kind)
        out._primary_chosen = getattr(self, "_primary_chosen", False)
        return out

    def aggregate(self, name: str = "total", units: Sequence[Any] | None = None) -> Panel:
        """Collapse units into one series (e.g. the national series from 42 ICBs).

        Counts and population are summed; durations and continuous outcomes are averaged,
        weighted by ``weights`` if set, else by population if set, else equally. Needs a
        balanced panel over the units used, so that each period sums the same units.
        """
        src = self.subset(units) if units is not None else self
        src.require_balanced("Panel.aggregate")
        d = src._data
        g = d.groupby(src.time, sort=True)
        out = pd.DataFrame({src.time: list(g.groups.keys())})
        wcol = src.weights or src.population
        for o in src.outcomes:
            if src.outcome_kinds[o].is_count:
                out[o] = g[o].sum().to_numpy()
            elif wcol is not None:
                wsum = g[wcol].sum()
                if (wsum <= 0).any():
                    raise InvalidValueError(
                        f"Panel.aggregate: {wcol!r} sums to 0 in {int((wsum <= 0).sum())} period(s) "
                        f"(e.g. {format_examples(list(wsum.index[wsum <= 0].astype(str)))}), so the "
                        f"{wcol}-weighted mean of {o!r} is undefined there. Correct the weights or "
                        "aggregate a subset of periods."
                    )
                out[o] = (d[o] * d[wcol]).groupby(d[src.time]).sum().to_numpy() / wsum.to_numpy()
            else:
                out[o] = g[o].mean().to_numpy()
        for c in src.covariates:
            out[c] = g[c].mean().to_numpy()
        if src.population:
            out[src.population] = g[src.population].sum().to_numpy()
        if src.weights:
            out[src.weights] = g[src.weights].sum().to_numpy()
        out.insert(0, src.unit, name)
        agg = Panel(data=out, unit=src.unit, time=src.time, outcomes=src.outcomes,
                    outcome_kinds=src.outcome_kinds, treatment=None, population=src.population,
                    weights=src.weights, covariates=src.covariates, freq=src.freq, timing=None,
                    dropped=dict(src.dropped), quality=src.quality, time_kind=src.time_kind)
        agg._primary_chosen = getattr(src, "_primary_chosen", False)
        return agg

    # ---------------------------------------------------------------- report
    def describe(self) -> dict[str, Any]:
        """Key facts: units, periods, frequency, balance, missing cells, cohorts."""
        info: dict[str, Any] = {
            "units": self.n_units,
            "periods": self.n_periods,
            "first_period": self.time_label(self.periods[0]),
            "last_period": self.time_label(self.periods[-1]),
            "frequency": "ordinal" if self.is_ordinal else FREQ_NAMES[self.freq],
            "rows": len(self._data),
            "balanced": self.is_balanced,
            "missing_cells": len(self.missing_cells()),
            "outcomes": {o: self.outcome_kinds[o].name for o in self.outcomes},
            "dropped": dict(self.dropped),
        }
        if self.cluster is not None:
            info["cluster"] = self.cluster
            info["clusters"] = self.n_clusters
        if self.timing is not None:
            info["never_treated_units"] = len(self.timing.never_treated)
            info["cohorts"] = {str(self.time_label(k)): int(v) for k, v in self.timing.cohort_sizes.items()}
        return info

    def __repr__(self) -> str:
        d = self.describe()
        bal = "balanced" if d["balanced"] else f"unbalanced: {d['missing_cells']} missing cells"
        s = (f"Panel({d['units']} units x {d['periods']} {d['frequency']} periods "
             f"{d['first_period']}..{d['last_period']}, {bal}; outcomes={list(self.outcomes)}")
        if self.timing is not None:
            s += (f"; {len(self.timing.treated_units)} treated in {len(self.timing.cohorts)} cohort(s), "
                  f"{d['never_treated_units']} never treated")
        return s + ")"


def _plain(value: Any) -> Any:
    """A value as a user wrote it: numpy scalars as Python, timestamps at midnight as dates."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return value


def _attach_cluster(df: pd.DataFrame, parts: dict[str, Any], cluster: str, *, cohort: str | None,
                    treatment: str | None) -> pd.DataFrame:
    """The validated frame with the ``cluster`` column (one label per unit) added.

    Raises a typed error when the column is absent, has missing labels, changes within a
    unit (naming the units), or is the time/outcome/treatment/cohort column.
    """
    unit = parts["unit"]
    if cluster not in df.columns:
        raise column_not_found(cluster, "cluster", list(df.columns))
    clash = {parts["time"]: "time", cohort: "cohort", treatment: "treatment",
             **{o: "outcome" for o in parts["outcomes"]}}
    if cluster in clash and cluster is not None:
        raise SpecificationError(
            f"cluster={cluster!r} is also the {clash[cluster]} column; the cluster must be a grouping "
            "of units (e.g. the ICB of a practice). Pass the column that holds each unit's group.")
    data: pd.DataFrame = parts["data"]
    if cluster == unit:
        return data
    if unit not in df.columns:  # single series: one unit, one cluster
        raise SpecificationError("cluster= needs a panel of several units (unit=); a single series has one.")
    labels = df[cluster]
    if labels.isna().any():
        bad = pd.unique(df.loc[labels.isna(), unit])
        raise MissingValuesError(
            f"cluster column {cluster!r} is missing for {len(bad)} unit(s) ({format_examples(list(bad))}); "
            "every unit needs a cluster label.")
    per_unit = labels.groupby(df[unit], sort=False).nunique()
    varying = per_unit.index[per_unit.to_numpy() > 1]
    if len(varying):
        first = varying[0]
        seen = format_examples(list(pd.unique(labels[df[unit] == first])))
        raise InvalidValueError(
            f"cluster column {cluster!r} changes within {len(varying)} unit(s) ({format_examples(list(varying))}; "
            f"e.g. {first!r} has {seen}); a cluster must contain whole units. Give each unit one label "
            "(e.g. its ICB at the start of the period), or cluster at a coarser level.")
    mapping = labels.groupby(df[unit], sort=False).first()
    out: pd.DataFrame = data.copy(deep=False)
    out[cluster] = data[unit].map(mapping).to_numpy()
    return out


def _column_parts(col: pd.Series, runs: bool = False) -> list[Any]:
    """One column as a few contiguous byte strings for :attr:`Panel.fingerprint`.

    Numbers (and booleans) as float64, periods as ordinals (int32 when they fit), anything
    else as factorised codes plus the text of the distinct values. ``runs``: the values as
    runs (value, length), for the unit column of a unit-sorted panel.
    """
    dtype = col.dtype
    labels = b""
    if isinstance(dtype, pd.PeriodDtype):
        arr = col.array.asi8
        if len(arr) and -(2**31) < arr.min() and arr.max() < 2**31:
            arr = arr.astype(np.int32)
    elif dtype == np.float64:
        arr = col.to_numpy()
    elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        arr = col.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        codes, distinct = pd.factorize(col, use_na_sentinel=True)
        arr = codes.astype(np.int32 if len(distinct) < 2**31 else np.int64)
        labels = "\x1f".join(map(str, distinct)).encode()
    arr = np.ascontiguousarray(arr)
    if runs and len(arr):
        starts = np.flatnonzero(np.r_[True, arr[1:] != arr[:-1]])
        lengths = np.diff(np.r_[starts, len(arr)]).astype(np.int64)
        return [arr[starts].tobytes(), lengths.tobytes(), labels]
    return [arr.data.cast("B"), labels]
