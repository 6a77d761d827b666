"""The validated unit x period panel every estimator consumes.

Build one with :meth:`Panel.from_frame`. Validation happens once, there: a Panel that
exists is a valid panel. The input frame is never mutated.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalint.data import checks
from evalint.data.timeparse import FREQ_NAMES, to_period, to_periods
from evalint.data.timing import TreatmentTiming
from evalint.errors import (
    DroppedRowsWarning,
    EmptyDataError,
    InvalidValueError,
    MissingValuesError,
    SpecificationError,
    TreatmentError,
    UnbalancedPanelError,
    column_not_found,
    format_examples,
)
from evalint.outcomes import OutcomeKind, get_outcome

__all__ = ["Panel"]

_NEVER_STRINGS = {"", "never", "none", "nan", "nat", "inf", "0"}


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
    """

    __slots__ = (
        "_data", "unit", "time", "outcomes", "outcome_kinds", "treatment", "population",
        "weights", "covariates", "freq", "timing", "_fingerprint", "dropped",
    )

    def __init__(self, *, data: pd.DataFrame, unit: str, time: str, outcomes: tuple[str, ...],
                 outcome_kinds: dict[str, OutcomeKind], treatment: str | None,
                 population: str | None, weights: str | None, covariates: tuple[str, ...],
                 freq: str, timing: TreatmentTiming | None, dropped: dict[str, int]) -> None:
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
    ) -> Panel:
        """Validate a long DataFrame of unit x period rows and build a Panel.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per unit and period. Never modified.
        unit : str, optional
            Unit id column. Omit for a single time series (one unit named ``"series"``).
        time : str
            Period column: dates, date strings, ``pd.Period`` or integer years.
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

        Returns
        -------
        Panel

        Raises
        ------
        evalint.errors.DataError
            Missing columns, empty data, duplicates, gaps, bad time values, missing or
            non-numeric outcomes, invalid counts/durations/population, non-absorbing or
            non-binary treatment, cohorts outside the data.
        """
        if not isinstance(df, pd.DataFrame):
            raise SpecificationError(f"Panel.from_frame expects a pandas DataFrame; got {type(df).__name__}.")
        if missing not in ("error", "drop"):
            raise SpecificationError(f"missing={missing!r}; use 'error' or 'drop'.")
        if treatment is not None and cohort is not None:
            raise SpecificationError("Give either treatment= (a 0/1 column) or cohort= (first treated period), not both.")
        outcomes = checks.columns_list(outcome)
        if not outcomes:
            raise SpecificationError("outcome= must name at least one column.")
        covs = checks.columns_list(covariates)
        _require_distinct_roles(unit, time, outcomes, treatment, cohort, population, weights, covs)
        roles: dict[str, str | None] = {"unit": unit, "time": time, "treatment": treatment,
                                        "cohort": cohort, "population": population, "weights": weights}
        roles.update({"outcome": o for o in outcomes})
        checks.require_columns(df, {"unit": unit, "time": time})
        for o in outcomes:
            checks.require_columns(df, {"outcome": o})
        checks.require_columns(df, {k: v for k, v in roles.items() if k not in ("unit", "time", "outcome")})
        for c in covs:
            checks.require_columns(df, {"covariate": c})
        if df.shape[0] == 0:
            raise EmptyDataError("The data frame has no rows; a panel needs at least one unit-period row.")

        single = unit is None
        unit_col = unit if unit is not None else "unit"
        used = [c for c in dict.fromkeys([unit, time, *outcomes, treatment, cohort, population, weights, *covs]) if c]
        work = df.loc[:, used].copy()
        work.index = pd.RangeIndex(len(work))
        if single:
            if unit_col in work.columns:
                raise SpecificationError("A single series cannot have a column named 'unit'; pass unit='unit'.")
            work.insert(0, unit_col, "series")
        if work[unit_col].isna().any():
            rows = work.index[work[unit_col].isna()].tolist()
            raise MissingValuesError(
                f"unit column {unit_col!r} is missing in {len(rows)} row(s) (rows {format_examples(rows)}); "
                "every row needs a unit id."
            )
        if isinstance(work[unit_col].dtype, pd.CategoricalDtype):
            # plain values: units sort by value, carry no unused categories, and hash the
            # same (fingerprint) as the equivalent non-categorical column
            work[unit_col] = work[unit_col].astype(work[unit_col].cat.categories.dtype)
        periods, fcode = to_periods(work[time], freq, time)
        work[time] = periods
        keys = work[[unit_col, time]]
        ordinals = pd.PeriodIndex(periods).asi8
        work["_ord"] = ordinals
        unit_codes, _ = pd.factorize(work[unit_col], sort=True)
        # long frames usually arrive sorted by unit then period: skip the sort when they do
        in_order = len(work) < 2 or bool(np.all((unit_codes[1:] > unit_codes[:-1])
                                                | ((unit_codes[1:] == unit_codes[:-1]) & (ordinals[1:] >= ordinals[:-1]))))
        if in_order:
            work = work.reset_index(drop=True)
        else:
            work = work.sort_values([unit_col, "_ord"], kind="stable").reset_index(drop=True)
        # sorted, a repeated (unit, period) pair sits next to its twin: one pass over two arrays;
        # the message is built from the frame in its original row order
        sorted_units, sorted_ords = work[unit_col].to_numpy(), work["_ord"].to_numpy()
        if len(work) > 1 and ((sorted_ords[1:] == sorted_ords[:-1]) & (sorted_units[1:] == sorted_units[:-1])).any():
            checks.require_no_duplicates(keys, unit_col, time)
        checks.require_no_gaps(work[unit_col].to_numpy(), work["_ord"].to_numpy(), unit_col, FREQ_NAMES[fcode])

        kinds = _resolve_kinds(outcomes, outcome_kind)
        keys = work[[unit_col, time]]
        for o in outcomes:
            work[o] = checks.require_numeric(work, o, "outcome")
            checks.require_finite(work[o], keys, o, "outcome")
        for c in covs:
            work[c] = checks.require_numeric(work, c, "covariate")
            checks.require_finite(work[c], keys, c, "covariate")
        # Treatment timing comes from every row, before rows with missing outcomes are
        # dropped: a missing outcome in the first treated period must not move the cohort.
        timing = None
        if treatment is not None:
            timing = _timing_from_treatment(work, unit_col, time, treatment, fcode)
        elif cohort is not None:
            timing = _timing_from_cohort(work, unit_col, time, cohort, fcode)
            work = work.drop(columns=[cohort])
        dropped: dict[str, int] = {}
        need = list(outcomes) + list(covs)
        miss = work[need].isna()
        if miss.to_numpy().any():
            if missing == "error":
                col = next(c for c in need if miss[c].any())
                rows = keys.loc[miss[col]].head(5)
                shown = "; ".join(f"{a!r} at {b}" for a, b in rows.itertuples(index=False))
                role = "outcome" if col in outcomes else "covariate"
                raise MissingValuesError(
                    f"{role} column {col!r} has {int(miss[col].sum())} missing value(s), e.g. {shown}. "
                    "evalint never fills them silently. Fill them from the source, or pass "
                    "missing='drop' to drop those rows (reported as missing cells)."
                )
            any_miss = miss.any(axis=1)
            per_col = {c: int(miss[c].sum()) for c in need if miss[c].any()}
            kept_units = set(pd.unique(work.loc[~any_miss, unit_col]))
            gone = [u for u in pd.unique(work[unit_col]) if u not in kept_units]
            lost = (f" {len(gone)} unit(s) have no rows left and leave the panel: "
                    f"{format_examples(gone)}." if gone else "")
            warnings.warn(
                f"Dropped {int(any_miss.sum())} row(s) with missing values "
                f"({', '.join(f'{c}: {n}' for c, n in per_col.items())}); those unit-periods are "
                f"now missing cells of an unbalanced panel.{lost}",
                DroppedRowsWarning, stacklevel=2,
            )
            dropped["missing_values"] = int(any_miss.sum())
            if gone:
                dropped["units_without_data"] = len(gone)
            work = work.loc[~any_miss].reset_index(drop=True)
            if work.empty:
                raise EmptyDataError("No rows are left after dropping rows with missing values.")
            keys = work[[unit_col, time]]

        for o in outcomes:
            k = kinds[o]
            if k.is_count:
                checks.require_range(work[o], keys, o, "outcome", minimum=0, strict=False,
                                     why=f"{k.label} is a count")
            elif k.must_be_positive:
                checks.require_range(work[o], keys, o, "outcome", minimum=0, strict=True,
                                     why=f"{k.label} is a duration in days")
        if population is not None:
            work[population] = checks.require_numeric(work, population, "population")
            checks.require_not_missing(work[population], keys, population, "population")
            checks.require_finite(work[population], keys, population, "population")
            checks.require_range(work[population], keys, population, "population", minimum=0,
                                 strict=True, why="it is an exposure and enters as log(population)")
        if weights is not None:
            work[weights] = checks.require_numeric(work, weights, "weights")
            checks.require_not_missing(work[weights], keys, weights, "weights")
            checks.require_finite(work[weights], keys, weights, "weights")
            checks.require_range(work[weights], keys, weights, "weights", minimum=0, strict=False,
                                 why="weights cannot be negative")

        if timing is not None:
            remaining = pd.Index(pd.unique(work[unit_col]), name=unit_col)
            timing = TreatmentTiming(timing.cohort.reindex(remaining), fcode)
            first = work.groupby(unit_col, sort=False)["_ord"].min()
            c_ord = timing.cohort_ordinal()
            early = c_ord.index[(c_ord <= first.reindex(c_ord.index)).to_numpy()]
            if len(early):
                if len(early) == len(c_ord):
                    raise TreatmentError(
                        f"Every unit is already treated in its first period (e.g. {format_examples(list(early))}); "
                        "there are no pre-treatment observations to learn from. Add earlier periods."
                    )
                warnings.warn(
                    f"Dropped {len(early)} unit(s) already treated in their first observed period "
                    f"({format_examples(list(early))}): they have no pre-treatment data. "
                    "Add earlier periods to keep them.",
                    DroppedRowsWarning, stacklevel=2,
                )
                dropped["treated_in_first_period"] = len(early)
                work = work.loc[~work[unit_col].isin(early)].reset_index(drop=True)
                timing = TreatmentTiming(timing.cohort.drop(early), fcode)
        work = work.drop(columns=["_ord"])
        return cls(data=work, unit=unit_col, time=time, outcomes=outcomes, outcome_kinds=kinds,
                   treatment=treatment, population=population, weights=weights, covariates=covs,
                   freq=fcode, timing=timing, dropped=dropped)

    # ------------------------------------------------------------------ views
    @property
    def data(self) -> pd.DataFrame:
        """The long frame, sorted by unit then time; time holds ``pd.Period`` values.

        A (copy-on-write) copy: changing it does not change the panel.
        """
        return self._data.copy(deep=False)

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
        return pd.Index(pd.unique(self._data[self.unit]), name=self.unit)

    @property
    def periods(self) -> pd.PeriodIndex:
        """Every period from the first to the last in the data (no gaps)."""
        per = self._data[self.time]
        return pd.period_range(per.min(), per.max(), freq=self.freq, name=self.time)

    @property
    def n_units(self) -> int:
        return int(self._data[self.unit].nunique())

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def is_single_series(self) -> bool:
        """True when the panel holds one unit (a single time series)."""
        return self.n_units == 1

    def missing_cells(self) -> pd.DataFrame:
        """Unit-period cells of the full grid that have no row (empty if balanced)."""
        grid = pd.MultiIndex.from_product([self.units, self.periods], names=[self.unit, self.time])
        have = pd.MultiIndex.from_frame(self._data[[self.unit, self.time]])
        return grid.difference(have).to_frame(index=False)

    @property
    def is_balanced(self) -> bool:
        """True when every unit has a row in every period."""
        return len(self._data) == self.n_units * self.n_periods

    def require_balanced(self, purpose: str) -> None:
        """Raise UnbalancedPanelError listing missing cells when the panel is unbalanced."""
        if self.is_balanced:
            return
        cells = self.missing_cells()
        shown = "; ".join(f"{u!r} at {t}" for u, t in cells.head(6).itertuples(index=False))
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
        return mat.reindex(index=self.units, columns=self.periods)

    def period(self, value: Any, what: str = "date") -> pd.Period:
        """Map a date-like value to this panel's period containing it."""
        return to_period(value, self.freq, what)

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
        """A short sha256 of the validated data, for provenance."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            h.update("|".join(map(str, self._data.columns)).encode())
            h.update(f"|freq={self.freq}".encode())
            frame = self._data.copy()
            frame[self.time] = pd.PeriodIndex(frame[self.time]).asi8
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
            if self.timing is not None:  # cohorts are data too (cohort= drops its column)
                coh = self.timing.cohort.reindex(self.units)
                h.update(b"|cohort")
                h.update(np.where(coh.isna(), np.iinfo(np.int64).min,
                                  pd.PeriodIndex(coh).asi8).astype(np.int64).tobytes())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    # ------------------------------------------------------------ transforms
    def subset(self, units: Sequence[Any] | None = None, start: Any = None, end: Any = None) -> Panel:
        """A new Panel restricted to ``units`` and the periods from ``start`` to ``end``."""
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
        if start is not None:
            d = d.loc[d[self.time] >= self.period(start, "start")]
        if end is not None:
            d = d.loc[d[self.time] <= self.period(end, "end")]
        if d.empty:
            raise EmptyDataError("The subset has no rows.")
        timing = self.timing
        if timing is not None:
            timing = TreatmentTiming(timing.cohort.reindex(pd.unique(d[self.unit])), self.freq)
        return Panel(data=d.reset_index(drop=True), unit=self.unit, time=self.time,
                     outcomes=self.outcomes, outcome_kinds=self.outcome_kinds,
                     treatment=self.treatment, population=self.population, weights=self.weights,
                     covariates=self.covariates, freq=self.freq, timing=timing, dropped=dict(self.dropped))

    def with_outcome(self, outcome: str) -> Panel:
        """The same panel with ``outcome`` as the primary outcome."""
        if outcome not in self.outcomes:
            raise SpecificationError(f"outcome {outcome!r} is not one of this panel's outcomes {self.outcomes}.")
        order = (outcome, *[o for o in self.outcomes if o != outcome])
        return Panel(data=self._data, unit=self.unit, time=self.time, outcomes=order,
                     outcome_kinds=self.outcome_kinds, treatment=self.treatment,
                     population=self.population, weights=self.weights, covariates=self.covariates,
                     freq=self.freq, timing=self.timing, dropped=dict(self.dropped))

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
        return Panel(data=out, unit=src.unit, time=src.time, outcomes=src.outcomes,
                     outcome_kinds=src.outcome_kinds, treatment=None, population=src.population,
                     weights=src.weights, covariates=src.covariates, freq=src.freq, timing=None,
                     dropped=dict(src.dropped))

    # ---------------------------------------------------------------- report
    def describe(self) -> dict[str, Any]:
        """Key facts: units, periods, frequency, balance, missing cells, cohorts."""
        info: dict[str, Any] = {
            "units": self.n_units,
            "periods": self.n_periods,
            "first_period": str(self.periods[0]),
            "last_period": str(self.periods[-1]),
            "frequency": FREQ_NAMES[self.freq],
            "rows": len(self._data),
            "balanced": self.is_balanced,
            "missing_cells": len(self.missing_cells()),
            "outcomes": {o: self.outcome_kinds[o].name for o in self.outcomes},
            "dropped": dict(self.dropped),
        }
        if self.timing is not None:
            info["never_treated_units"] = len(self.timing.never_treated)
            info["cohorts"] = {str(k): int(v) for k, v in self.timing.cohort_sizes.items()}
        return info

    def __repr__(self) -> str:
        d = self.describe()
        bal = "balanced" if d["balanced"] else f"unbalanced: {d['missing_cells']} missing cells"
        s = (f"Panel({d['units']} units x {d['periods']} {d['frequency']} periods "
             f"{d['first_period']}..{d['last_period']}, {bal}; outcomes={list(self.outcomes)}")
        if self.timing is not None:
            s += f"; {len(self.timing.treated_units)} treated in {len(self.timing.cohorts)} cohort(s), {d['never_treated_units']} never treated"
        return s + ")"


def _require_distinct_roles(unit: Any, time: Any, outcomes: tuple[str, ...], treatment: Any,
                            cohort: Any, population: Any, weights: Any,
                            covariates: tuple[str, ...]) -> None:
    """Raise SpecificationError when one column is given two roles that exclude each other.

    ``population`` and ``weights`` may name the same column (population weights), and a
    covariate may be the population or weights column; every other pair must differ.
    """
    seen: dict[Any, str] = {}
    exclusive = [("unit", unit), ("time", time), *[("outcome", o) for o in outcomes],
                 ("treatment", treatment), ("cohort", cohort)]
    for role, col in [*exclusive, ("population", population), ("weights", weights),
                      *[("covariate", c) for c in covariates]]:
        if col is None:
            continue
        prior = seen.get(col)
        shared_ok = prior is not None and {prior, role} <= {"population", "weights", "covariate"}
        if prior is not None and not shared_ok:
            again = "twice" if prior == role else f"as {prior} and as {role}"
            raise SpecificationError(
                f"column {col!r} is given {again}; each of unit, time, outcome(s), treatment and "
                "cohort must name its own column (population/weights/covariates may share one). "
                f"Pass a different column for {role}=, or copy the column under a new name."
            )
        seen.setdefault(col, role)


def _resolve_kinds(outcomes: tuple[str, ...], outcome_kind: Any) -> dict[str, OutcomeKind]:
    kinds: dict[str, OutcomeKind] = {}
    for o in outcomes:
        if isinstance(outcome_kind, Mapping):
            spec = outcome_kind.get(o)
        elif outcome_kind is not None:
            spec = outcome_kind if len(outcomes) == 1 or o == outcomes[0] else None
        else:
            spec = None
        if spec is None:
            try:
                spec = get_outcome(o)
            except SpecificationError:
                spec = "continuous"
        kinds[o] = get_outcome(spec)
    return kinds


def _timing_from_treatment(work: pd.DataFrame, unit: str, time: str, col: str, freq: str) -> TreatmentTiming:
    raw = work[col]
    keys = work[[unit, time]]
    checks.require_not_missing(raw, keys, col, "treatment")
    if pd.api.types.is_bool_dtype(raw.dtype):
        vals = raw.astype(int)
    else:
        vals = pd.to_numeric(raw, errors="coerce")
        bad = vals.isna() | ~vals.isin([0, 1])
        if bad.any():
            shown = format_examples(raw[bad].astype(str).unique().tolist())
            raise TreatmentError(
                f"treatment column {col!r} must hold only 0 and 1; {int(bad.sum())} row(s) hold "
                f"{shown}. For a continuous intensity (dose), keep it as a covariate/dose column and "
                "code treatment as 0/1; for a first-treatment date use cohort=."
            )
    vals = vals.astype(int)
    # non-absorbing: a 1 followed by a 0 within a unit
    prev_max = vals.groupby(work[unit], sort=False).cummax()
    off = (prev_max == 1) & (vals == 0)
    if off.any():
        rows = keys.loc[off]
        units_off = pd.unique(rows[unit])
        first = rows.drop_duplicates(unit).head(5)
        shown = "; ".join(f"{u!r} switches off at {t}" for u, t in first.itertuples(index=False))
        raise TreatmentError(
            f"treatment column {col!r} is not absorbing: {len(units_off)} unit(s) go from 1 back to 0 "
            f"({shown}). evalint's designs assume that once treated, a unit stays treated. If "
            "treatment really ends, analyse the switch-off separately, or recode treatment as "
            "'ever treated from the first treated period' if that is the estimand."
        )
    treated = work.loc[vals == 1]
    first = treated.groupby(unit, sort=False)[time].min()
    cohort = pd.Series(pd.NaT, index=pd.Index(pd.unique(work[unit]), name=unit), dtype=f"period[{freq}]")
    cohort.loc[first.index] = first.to_numpy()
    return TreatmentTiming(cohort.rename("cohort"), freq)


def _is_never(v: Any) -> bool:
    """True for the cohort codes that mean never treated: missing, 0, inf, "never"..."""
    if v is None or pd.isna(v):
        return True
    if isinstance(v, (int, float, np.integer, np.floating)) and (v == 0 or np.isinf(v)):
        return True
    return isinstance(v, str) and v.strip().lower() in _NEVER_STRINGS


def _timing_from_cohort(work: pd.DataFrame, unit: str, time: str, col: str, freq: str) -> TreatmentTiming:
    raw = work[col]
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise TreatmentError(
            f"cohort column {col!r} holds True/False, but cohort= takes each unit's first treated "
            "period (a date, period or year; missing/0/'never' for never treated). For a 0/1 "
            "treated-now indicator use treatment= instead."
        )
    # object columns may mix 2021 and "2021": compare their text; typed columns compare as they are
    keys = raw.astype(str).where(raw.notna()) if raw.dtype == object else raw
    # non-missing values must all equal the unit's first non-missing one (missing ones are checked below)
    unit_codes, unit_values = pd.factorize(work[unit])
    key_codes, _ = pd.factorize(keys, use_na_sentinel=True)
    present = key_codes >= 0
    first_code = np.full(len(unit_values), -1, dtype=np.int64)
    first_code[unit_codes[present][::-1]] = key_codes[present][::-1]
    varies = pd.unique(unit_values[unit_codes[present & (key_codes != first_code[unit_codes])]])
    if len(varies):
        raise TreatmentError(
            f"cohort column {col!r} must be constant within each unit (the unit's first treated "
            f"period); it varies for {len(varies)} unit(s), e.g. {format_examples(list(varies))}. "
            "If the column switches on over time it is a 0/1 indicator: pass it as treatment=; "
            "otherwise give every row of a unit its first treated period."
        )
    per_unit = raw.groupby(work[unit], sort=False).first()
    per_unit = per_unit.reindex(pd.unique(work[unit]))
    some_missing = raw.isna().groupby(work[unit], sort=False).any().reindex(per_unit.index).to_numpy()
    # each distinct cohort value is classified and parsed once, then mapped back to the units
    try:
        codes, uniques = pd.factorize(per_unit, use_na_sentinel=True)
        uniques = list(uniques)
    except TypeError:  # unhashable values: one "distinct value" per unit
        codes, uniques = np.arange(len(per_unit)), list(per_unit.to_numpy())
    first_unit = np.full(len(uniques), -1, dtype=np.int64)
    valid = codes >= 0
    first_unit[codes[valid][::-1]] = np.flatnonzero(valid)[::-1]   # first unit holding each value
    never_value = np.array([_is_never(v) for v in uniques], dtype=bool)
    never = np.ones(len(per_unit), dtype=bool)
    never[valid] = never_value[codes[valid]]
    partial_pos = np.flatnonzero(some_missing & ~never)
    if partial_pos.size:
        partial = list(per_unit.index[partial_pos])
        raise TreatmentError(
            f"cohort column {col!r} is missing in some rows but not others of {len(partial)} unit(s), "
            f"e.g. {format_examples(partial)} ({str(per_unit.iloc[partial_pos[0]])!r} elsewhere). A missing "
            "cohort means never treated, so the unit's rows disagree. Give every row of a unit the same "
            "first treated period (e.g. df[cohort] = df.groupby(unit)[cohort].transform('first'))."
        )
    first_p, last_p = work[time].min(), work[time].max()
    value_periods: list[Any] = []
    for j, v in enumerate(uniques):
        if never_value[j]:
            value_periods.append(pd.NaT)
            continue
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        value_periods.append(to_period(v, freq, what=f"cohort of unit {per_unit.index[first_unit[j]]!r}"))
    by_value = pd.array(value_periods, dtype=f"period[{freq}]")
    mapped = by_value.take(np.where(never, -1, codes), allow_fill=True)
    cohort = pd.Series(mapped, index=pd.Index(per_unit.index, name=unit))
    bad = [j for j, p in enumerate(value_periods) if p is not pd.NaT and (p < first_p or p > last_p)]
    outside = [(per_unit.index[i], value_periods[codes[i]]) for i in np.flatnonzero(np.isin(codes, bad))] if bad else []
    if outside:
        shown = "; ".join(f"{u!r}: {p}" for u, p in outside[:5])
        raise TreatmentError(
            f"cohort column {col!r}: {len(outside)} unit(s) have a first treated period outside the "
            f"data ({first_p}..{last_p}): {shown}. A unit treated after the data ends is never treated "
            "within it: code its cohort as missing/0; a unit treated before the data starts has no "
            "pre-period: drop it or add earlier data."
        )
    return TreatmentTiming(cohort.rename("cohort"), freq)
