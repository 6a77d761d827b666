"""Validate a long DataFrame into the parts of a :class:`~evalint.data.panel.Panel`.

The work behind :meth:`Panel.from_frame <evalint.data.panel.Panel.from_frame>`: column
roles, periods, sort, duplicates and gaps, numeric and finite values, missing values
(raise, or drop with a count), value ranges, treatment timing and units treated in their
first period. :func:`frame_parts` returns the validated frame and its metadata as the
Panel constructor's keyword arguments.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalint.data import checks
from evalint.data.ordinal import check_time_kind, detect_kind, ordinal_periods
from evalint.data.timeparse import FREQ_NAMES, to_periods
from evalint.data.timing import TreatmentTiming
from evalint.data.timing_build import _timing_from_cohort, _timing_from_treatment
from evalint.errors import (
    DataError,
    DroppedRowsWarning,
    EmptyDataError,
    MissingValuesError,
    SpecificationError,
    TreatmentError,
    format_examples,
)
from evalint.outcomes import OutcomeKind, get_outcome

__all__ = ["frame_parts"]


def frame_parts(
    df: pd.DataFrame,
    *,
    unit: str | None,
    time: str,
    outcome: str | Sequence[str],
    treatment: str | None,
    cohort: str | None,
    population: str | None,
    weights: str | None,
    covariates: Sequence[str] | str,
    freq: str | None,
    outcome_kind: str | OutcomeKind | Mapping[str, str | OutcomeKind] | None,
    missing: Literal["error", "drop"],
    time_kind: str | None = None,
) -> dict[str, Any]:
    """Validate ``df``; the Panel's keyword arguments (``data``, ``unit``, ..., ``dropped``).

    Parameters and errors are those of :meth:`evalint.data.panel.Panel.from_frame`, which
    calls this directly: the warnings use ``stacklevel=3`` so that they point at the caller
    of ``Panel.from_frame``.
    """
    if not isinstance(df, pd.DataFrame):
        raise SpecificationError(f"Panel.from_frame expects a pandas DataFrame; got {type(df).__name__}.")
    if missing not in ("error", "drop"):
        raise SpecificationError(f"missing={missing!r}; use 'error' or 'drop'.")
    if treatment is not None and cohort is not None:
        raise SpecificationError("Give either treatment= (a 0/1 column) or cohort= (first treated period), not both.")
    if time is None:
        raise SpecificationError("time= is required: the column holding each row's period (dates, '2022-07', "
                                 "'2022Q3' or integer years).")
    for role, col in (("unit", unit), ("time", time), ("treatment", treatment), ("cohort", cohort),
                      ("population", population), ("weights", weights)):
        if col is not None and not isinstance(col, Hashable):
            one = f" Pass {role}={list(col)[0]!r}." if isinstance(col, (list, tuple)) and len(col) == 1 else ""
            raise SpecificationError(
                f"{role}= takes one column name; got {type(col).__name__} {col!r}.{one}")
    outcomes = checks.columns_list(outcome)
    if not outcomes:
        raise SpecificationError("outcome= must name at least one column.")
    covs = checks.columns_list(covariates)
    _require_distinct_roles(unit, time, outcomes, treatment, cohort, population, weights, covs)
    roles: dict[str, str | None] = {"unit": unit, "time": time, "treatment": treatment,
                                    "cohort": cohort, "population": population, "weights": weights}
    _require_unique_columns(df, [unit, time, *outcomes, treatment, cohort, population, weights, *covs])
    checks.require_columns(df, {"unit": unit, "time": time})
    for o in outcomes:
        checks.require_columns(df, {"outcome": o})
    checks.require_columns(df, {k: v for k, v in roles.items() if k not in ("unit", "time")})
    for c in covs:
        checks.require_columns(df, {"covariate": c})
    if df.shape[0] == 0:
        raise EmptyDataError("The data frame has no rows; a panel needs at least one unit-period row.")

    single = unit is None
    unit_col = unit if unit is not None else "unit"
    used = [c for c in dict.fromkeys([unit, time, *outcomes, treatment, cohort, population, weights, *covs])
            if c is not None]
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
    _require_plain_units(work[unit_col], unit_col)
    if isinstance(work[unit_col].dtype, pd.CategoricalDtype):
        # plain values: units sort by value, carry no unused categories, and hash the
        # same (fingerprint) as the equivalent non-categorical column
        work[unit_col] = work[unit_col].astype(work[unit_col].cat.categories.dtype)
    if isinstance(work[time].dtype, pd.CategoricalDtype):
        # the categories' values, as for the unit column: a categorical of integers or integer
        # strings is then read as the plain column would be (ordinal), not parsed as dates
        cats = work[time].cat.categories
        work[time] = work[time].astype(object if work[time].isna().any() else cats.dtype)
    kind = detect_kind(work[time], check_time_kind(time_kind), time)
    if kind == "ordinal":
        if freq is not None:
            raise SpecificationError(
                f"freq={freq!r} does not apply to an ordinal time axis (time column {time!r} numbers the "
                "periods); leave freq= out, or give dates with time_kind='calendar'.")
        periods, fcode = ordinal_periods(work[time], time), "Y"
    else:
        periods, fcode = to_periods(work[time], freq, time)
    work[time] = periods
    keys = work[[unit_col, time]]
    ordinals = pd.PeriodIndex(periods).asi8
    work["_ord"] = ordinals
    # numeric units order as their factorize(sort=True) codes would: compare the values
    by_value = isinstance(work[unit_col].dtype, np.dtype) and work[unit_col].dtype.kind in "iufmM"
    if by_value:
        unit_codes = work[unit_col].to_numpy()
    else:
        unit_codes, unit_ids = pd.factorize(work[unit_col], sort=True)
        _require_distinct_unit_texts(pd.Index(unit_ids), unit_col)
    # long frames usually arrive sorted by unit then period: skip the sort when they do
    in_order = len(work) < 2 or bool(np.all((unit_codes[1:] > unit_codes[:-1])
                                            | ((unit_codes[1:] == unit_codes[:-1]) & (ordinals[1:] >= ordinals[:-1]))))
    if in_order:
        work = work.reset_index(drop=True)
        sorted_codes = unit_codes
    else:
        work = work.sort_values([unit_col, "_ord"], kind="stable")
        sorted_codes = unit_codes[work.index.to_numpy()]
        work = work.reset_index(drop=True)
    # first row of each unit's run; None when a unit's rows are not one run (then the
    # per-unit steps below group by value instead). Sorted values always form runs.
    run_starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    unit_starts: np.ndarray | None = run_starts
    if not by_value and len(run_starts) != int(sorted_codes.max()) + 1:
        unit_starts = None
    # sorted, a repeated (unit, period) pair sits next to its twin: one pass over two arrays;
    # the message is built from the frame in its original row order
    sorted_units, sorted_ords = work[unit_col].to_numpy(), work["_ord"].to_numpy()
    if len(work) > 1 and ((sorted_ords[1:] == sorted_ords[:-1]) & (sorted_units[1:] == sorted_units[:-1])).any():
        checks.require_no_duplicates(keys, unit_col, time)
    checks.require_no_gaps(work[unit_col].to_numpy(), work["_ord"].to_numpy(), unit_col,
                           "ordinal" if kind == "ordinal" else FREQ_NAMES[fcode])

    kinds = _resolve_kinds(outcomes, outcome_kind)
    period = "period" if kind == "ordinal" else _PERIOD_WORDS[fcode]
    kinds = {o: k.per_period(period) for o, k in kinds.items()}
    keys = work[[unit_col, time]]
    for o in outcomes:
        work[o] = checks.require_numeric(work, o, "outcome")
        checks.require_finite(work[o], keys, o, "outcome")
        checks.require_magnitude(work[o], keys, o, "outcome")
    for c in covs:
        work[c] = checks.require_numeric(work, c, "covariate")
        checks.require_finite(work[c], keys, c, "covariate")
        checks.require_magnitude(work[c], keys, c, "covariate")
    # Treatment timing comes from every row, before rows with missing outcomes are
    # dropped: a missing outcome in the first treated period must not move the cohort.
    timing = None
    if treatment is not None:
        timing = _timing_from_treatment(work, unit_col, time, treatment, fcode)
    elif cohort is not None:
        timing = _timing_from_cohort(work, unit_col, time, cohort, fcode, unit_starts, ordinal=kind == "ordinal")
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
            DroppedRowsWarning, stacklevel=3,
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
        checks.require_magnitude(work[population], keys, population, "population", exposure=True)
        checks.require_range(work[population], keys, population, "population", minimum=0,
                             strict=True, why="it is an exposure and enters as log(population)")
    if weights is not None:
        work[weights] = checks.require_numeric(work, weights, "weights")
        checks.require_not_missing(work[weights], keys, weights, "weights")
        checks.require_finite(work[weights], keys, weights, "weights")
        checks.require_magnitude(work[weights], keys, weights, "weights", exposure=True)
        checks.require_range(work[weights], keys, weights, "weights", minimum=0, strict=False,
                             why="weights cannot be negative")

    if timing is not None:
        if unit_starts is not None and "missing_values" not in dropped:
            # rows unchanged since the sort: the units are the timing's, in the same order,
            # and each unit's first period is its first row
            remaining = timing.cohort.index
            timing = TreatmentTiming(timing.cohort.reindex(remaining), fcode)
            first = pd.Series(work["_ord"].to_numpy()[unit_starts], index=remaining)
        else:
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
                DroppedRowsWarning, stacklevel=3,
            )
            dropped["treated_in_first_period"] = len(early)
            work = work.loc[~work[unit_col].isin(early)].reset_index(drop=True)
            timing = TreatmentTiming(timing.cohort.drop(early), fcode)
    work = work.drop(columns=["_ord"])
    return {"data": work, "unit": unit_col, "time": time, "outcomes": outcomes, "outcome_kinds": kinds,
            "treatment": treatment, "population": population, "weights": weights, "covariates": covs,
            "freq": fcode, "timing": timing, "dropped": dropped, "time_kind": kind}


def _require_plain_units(ids: pd.Series, column: str) -> None:
    """Raise DataError for unit ids that are unhashable (lists) or mix types (1 and '1')."""
    if ids.dtype != object:
        return
    inferred = pd.api.types.infer_dtype(ids, skipna=True)
    if inferred in ("string", "integer", "floating", "mixed-integer-float", "decimal", "bytes", "empty",
                    "date", "datetime", "period"):
        return
    kinds: dict[str, Any] = {}
    for v in ids.to_numpy():
        kinds.setdefault(type(v).__name__, v)
        if len(kinds) > 1:
            break
    bad = next((v for v in kinds.values() if not getattr(type(v), "__hash__", None)), None)
    if bad is not None:
        raise DataError(
            f"unit column {column!r} holds {type(bad).__name__} values such as {bad!r}; unit ids must be "
            "strings or numbers."
        )
    if len(kinds) > 1 and not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                  for v in kinds.values()):
        shown = ", ".join(f"{v!r} ({t})" for t, v in kinds.items())
        raise DataError(
            f"unit column {column!r} mixes types: {shown}. 1 and '1' would be different units; convert the "
            f"column to one type first, e.g. df[{column!r}] = df[{column!r}].astype(str)."
        )


#: a space (any Unicode white space, the non-breaking space of spreadsheets included) at the start
#: of an id in the NUL-joined ids (the NUL first: the scan jumps from NUL to NUL)
_EDGE_SPACE = re.compile(r"\x00\s")


def _require_distinct_unit_texts(ids: pd.Index, column: str) -> None:
    """Raise DataError when two unit ids differ only by surrounding spaces ('QHG' and 'QHG '):
    a spreadsheet's stray space would split one area into two units, each with half its months."""
    text = ids if ids.inferred_type == "string" else ids[[isinstance(v, str) for v in ids]]
    joined = "\x00" + "\x00".join(text.to_numpy().tolist()) + "\x00"
    if not (_EDGE_SPACE.search(joined) or _EDGE_SPACE.search(joined[::-1])):
        return  # no id starts or ends with a space (two scans of the joined ids, reversed for the ends)
    stripped = pd.Series(text.str.strip(), index=text)
    twins = stripped[stripped.duplicated(keep=False)]
    if len(twins):
        first = twins.iloc[0]
        shown = format_examples(twins.index[twins == first].tolist())
        raise DataError(
            f"unit column {column!r} holds ids that differ only by spaces ({shown}), which would be "
            f"different units; strip them first: df[{column!r}] = df[{column!r}].str.strip().")


def _require_unique_columns(df: pd.DataFrame, used: Sequence[Any]) -> None:
    """Raise DataError when a column the panel uses appears more than once in ``df``."""
    dup = df.columns[df.columns.duplicated()]
    clash = [c for c in dict.fromkeys(dup) if c in set(u for u in used if u is not None)]
    if clash:
        where = [i for i, c in enumerate(df.columns) if c == clash[0]]
        raise DataError(
            f"column name {clash[0]!r} appears {len(where)} times in the data (positions "
            f"{format_examples(where)}), so evalint cannot tell which one to use. Rename or drop the "
            "duplicates first, e.g. df = df.loc[:, ~df.columns.duplicated()] if they are copies."
        )


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


#: Canonical frequency code -> the word for one period (outcome labels: "admissions per quarter").
_PERIOD_WORDS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}


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
