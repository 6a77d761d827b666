"""Population denominators: ONS mid-year estimates by ICB (2022 boundaries) and OHID trust
catchment populations, carried to months.

The monthly rule (one rule for every denominator here)
------------------------------------------------------
A mid-year estimate refers to 30 June of its year (00:00). A month is placed at its midpoint
(16 June 00:00; 16 January 12:00). Between two available mid-years the population is **linear in time** between
them (a missing year, such as 2018 in the ICB file, is bridged by the same line). Before the
first or after the last available mid-year it is **carried flat** from the nearest estimate and
the row is flagged ``population_extrapolated = True``. With the ICB estimates of 2017, 2019 and
2020, every month after June 2020 is flagged: the denominators of 2021-2025 panels are the
mid-2020 populations (England grew about 0.5% a year in 2017-2020, so rates per 100,000 late in a
2021-2025 panel are biased upwards by roughly that much a year; a level, not a trend, in a
comparison across ICBs).

References
----------
Office for National Statistics. Lower layer Super Output Area population estimates (mid-2017,
mid-2019, mid-2020), summed to ICB (July 2022). Office for Health Improvement and Disparities.
NHS Acute (Hospital) Trust Catchment Populations.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalint._typing import check_option
from evalint.data.timeparse import FREQ_NAMES, local_dates, normalise_freq, to_periods
from evalint.errors import (
    ColumnNotFoundError,
    MissingValuesError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.geography._source import CATCHMENT, POPULATION, check_vintage, read_lookup
from evalint.geography.errors import UnknownCodeError
from evalint.geography.icbs import to_icb_code

__all__ = [
    "AGE_BANDS",
    "icb_population_years",
    "icb_population",
    "add_population",
    "trust_catchment_population",
    "add_catchment_population",
    "rate_per_100k",
]

#: Age bands available by ICB, and their column in the ONS-derived file.
AGE_BANDS = {"all": "total_population", "18+": "pop_18plus", "65+": "pop_65plus", "75+": "pop_75plus"}


def _months(months: Any, column: str = "month") -> pd.PeriodIndex:
    """Months of ``months`` (Periods, datetimes or date strings) as a monthly PeriodIndex.

    Strings go through :func:`evalint.data.timeparse.to_periods`, the parser ``Panel.from_frame``
    uses: NHS month labels (``"Jun-19"``, ``"June 2019"``) and day-first UK dates
    (``"01/06/2019"`` = 1 June) are read as such, daily dates are put in their month. Quarters,
    years, bare integers and missing values are refused (a population of one month cannot be
    chosen for them without a silent convention).
    """
    if isinstance(months, pd.PeriodIndex):
        values = pd.Series(months)
    elif isinstance(months, pd.Series):
        values = months
    else:
        values = pd.Series(list(months), dtype=object)
    if len(values) == 0:
        return pd.PeriodIndex([], freq="M")
    if values.isna().any():
        rows = values.index[values.isna().to_numpy()].tolist()
        raise TimeParseError(
            f"column {column!r} has {len(rows)} missing month(s) (rows {format_examples(rows)}); "
            "every row needs a month: drop or fill these rows first.")
    if isinstance(values.dtype, pd.PeriodDtype) or isinstance(values.iloc[0], pd.Period):
        idx = pd.PeriodIndex(values)
        base = normalise_freq(idx.freq)
        if base not in ("M", "D", "W"):
            raise TimeParseError(
                f"column {column!r} holds {FREQ_NAMES[base]} periods (e.g. {str(idx[0])!r}); a "
                "population is looked up by month: give monthly periods or dates.")
        return idx.asfreq("M")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        # aware dates as their own zone's dates; London midnights stored in UTC are refused
        return pd.PeriodIndex(local_dates(pd.DatetimeIndex(values), column), freq="M")
    try:
        periods, freq = to_periods(values, None, column)
    except TimeParseError:   # e.g. one date, whose frequency cannot be inferred
        try:
            periods, freq = to_periods(values, "M", column)
        except TimeParseError as monthly_error:
            try:   # daily dates (e.g. a sitrep's days): each put in its month
                periods, freq = to_periods(values, "D", column)
            except TimeParseError:
                raise monthly_error from None
    if freq not in ("M", "D", "W"):
        raise TimeParseError(
            f"column {column!r} holds {FREQ_NAMES[freq]} values (e.g. {str(values.iloc[0])!r}); a "
            "population is looked up by month: give months ('2021-04', 'Apr-21') or dates.")
    return pd.PeriodIndex(periods).asfreq("M")


def _new_columns(frame: pd.DataFrame, column: str) -> None:
    """Refuse to overwrite a column of the user's frame with the denominator."""
    clash = [c for c in (column, f"{column}_extrapolated") if c in frame.columns]
    if clash:
        raise SpecificationError(
            f"the frame already has column(s) {format_examples(clash)}; the population would "
            "replace them. Pass column='<another name>' (e.g. column='ons_population'), or drop "
            "them first.")


def _interpolate(years: np.ndarray, values: np.ndarray, months: pd.PeriodIndex):
    """Linear interpolation in time between mid-years (30 June), flat beyond; returns the values
    and the extrapolation flag for each month."""
    order = np.argsort(years)
    years, values = years[order], values[order]
    anchors = pd.to_datetime([f"{int(y)}-06-30" for y in years]).to_numpy("datetime64[D]").astype(float)
    starts = months.to_timestamp(how="start").to_numpy("datetime64[D]").astype(float)
    ends = months.to_timestamp(how="end").normalize().to_numpy("datetime64[D]").astype(float)
    mids = (starts + ends + 1.0) / 2.0
    out = np.interp(mids, anchors, values)
    flagged = (mids < anchors[0]) | (mids > anchors[-1])
    return out, flagged


def icb_population_years(
    age: str = "all", *, vintage: str = "2022", source_dir: str | Path | None = None
) -> pd.DataFrame:
    """ONS mid-year populations by ICB as published (mid-2017, 2019, 2020): ``mid_year``,
    ``icb22_code``, ``icb22_name``, ``population`` for the age band (``"all"``, ``"18+"``,
    ``"65+"``, ``"75+"``)."""
    check_option("age", age, tuple(AGE_BANDS))
    check_vintage(vintage)
    df = read_lookup(POPULATION, "icb22_population_mye_2017_2019_2020.csv", source_dir=source_dir)
    out = df[["mid_year", "icb22_code", "icb22_name"]].copy()
    out["population"] = df[AGE_BANDS[age]].astype(float)
    return out


def icb_population(
    months: Any,
    age: str = "all",
    *,
    icbs: Iterable[str] | None = None,
    vintage: str = "2022",
    source_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Monthly ICB populations by the rule in the module docstring.

    Parameters
    ----------
    months : iterable of dates, date strings or monthly Periods
        The months wanted (duplicates are kept once).
    age : {"all", "18+", "65+", "75+"}
        Age band.
    icbs : iterable of str, optional
        ICB codes (ONS or ODS); default all 42.

    Returns
    -------
    pandas.DataFrame
        ``icb22_code``, ``month`` (Period[M]), ``population``, ``population_extrapolated``.

    References
    ----------
    ONS mid-year population estimates (LSOA, mid-2017/2019/2020) summed to ICB July 2022.
    """
    idx = _months(months, "months").unique().sort_values()
    years = icb_population_years(age, vintage=vintage, source_dir=source_dir)
    codes = sorted(years["icb22_code"].unique()) if icbs is None else to_icb_code(list(icbs), vintage)
    parts = []
    for code in dict.fromkeys(codes):
        rows = years[years["icb22_code"] == code]
        pop, flag = _interpolate(rows["mid_year"].to_numpy(), rows["population"].to_numpy(), idx)
        parts.append(pd.DataFrame({"icb22_code": code, "month": idx, "population": pop,
                                   "population_extrapolated": flag}))
    return pd.concat(parts, ignore_index=True)


def add_population(
    frame: pd.DataFrame,
    *,
    unit: str = "icb22_code",
    time: str = "month",
    age: str = "all",
    column: str = "population",
    vintage: str = "2022",
    source_dir: str | Path | None = None,
) -> pd.DataFrame:
    """A copy of an ICB x month frame with a population column (and
    ``<column>_extrapolated``) added, ready for ``Panel.from_frame(..., population=column)``.

    ``unit`` holds ICB codes (ONS E54... or ODS Q..); ``time`` anything read as months. The input
    frame is not modified.

    Raises
    ------
    ColumnNotFoundError
        When ``unit`` or ``time`` is not a column.
    UnknownCodeError
        Naming unit codes that are not 2022 ICBs.
    SpecificationError
        When the frame already has ``column`` (or ``<column>_extrapolated``): it is not replaced.
    """
    for col in (unit, time):
        if col not in frame.columns:
            raise ColumnNotFoundError(
                f"column {col!r} not in the frame; columns: {format_examples(frame.columns)}")
    if frame[unit].isna().any():
        raise MissingValuesError(f"column {unit!r} has {int(frame[unit].isna().sum())} missing ICB codes")
    _new_columns(frame, column)
    codes = to_icb_code(frame[unit].astype(str).tolist(), vintage)
    months = _months(frame[time], time)
    table = icb_population(months, age, icbs=sorted(set(codes)), vintage=vintage, source_dir=source_dir)
    keyed = table.set_index(["icb22_code", "month"])
    key = pd.MultiIndex.from_arrays([codes, months])
    out = frame.copy()
    out[column] = keyed["population"].reindex(key).to_numpy()
    out[f"{column}_extrapolated"] = keyed["population_extrapolated"].reindex(key).to_numpy()
    return out


def trust_catchment_population(
    months: Any,
    trusts: Iterable[str] | None = None,
    *,
    source_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Monthly OHID catchment populations of acute trusts (catchment years 2011-2020, each taken
    as a mid-year), by the rule in the module docstring: ``trust``, ``month``, ``population``,
    ``population_extrapolated``.

    Raises
    ------
    UnknownCodeError
        Naming trusts with no catchment population (map predecessor codes first with
        :func:`~evalint.geography.harmonise_trust_codes`).

    References
    ----------
    OHID. NHS Acute (Hospital) Trust Catchment Populations (2011-2020).
    """
    idx = _months(months, "months").unique().sort_values()
    df = read_lookup(CATCHMENT, "trust_pop.csv", source_dir=source_dir)
    df["TrustCode"] = df["TrustCode"].astype(str).str.strip().str.upper()
    known = sorted(df["TrustCode"].unique())
    wanted = known if trusts is None else [str(t).strip().upper() for t in trusts]
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise UnknownCodeError(
            f"{len(unknown)} trust(s) have no OHID catchment population: {format_examples(unknown)}. "
            "The file covers 138 acute trusts (2020 codes); specialist and non-acute trusts have "
            "no catchment; predecessor codes map with harmonise_trust_codes()."
        )
    parts = []
    for code in dict.fromkeys(wanted):
        rows = df[df["TrustCode"] == code]
        pop, flag = _interpolate(rows["CatchmentYear"].to_numpy(), rows["trust_total_catchment"]
                                 .to_numpy(dtype=float), idx)
        parts.append(pd.DataFrame({"trust": code, "month": idx, "population": pop,
                                   "population_extrapolated": flag}))
    return pd.concat(parts, ignore_index=True)


def add_catchment_population(
    frame: pd.DataFrame,
    *,
    trust: str = "trust",
    time: str = "month",
    column: str = "population",
    source_dir: str | Path | None = None,
) -> pd.DataFrame:
    """A copy of a trust x month frame with the OHID catchment population of each trust (and
    ``<column>_extrapolated``), for trust-level rates (``Panel.from_frame(..., population=column)``).
    The input frame is not modified.

    Raises
    ------
    ColumnNotFoundError
        When ``trust`` or ``time`` is not a column.
    UnknownCodeError
        Naming trusts with no catchment population.
    MissingValuesError
        A row with no trust code.
    SpecificationError
        When the frame already has ``column`` (or ``<column>_extrapolated``): it is not replaced.
    """
    for col in (trust, time):
        if col not in frame.columns:
            raise ColumnNotFoundError(
                f"column {col!r} not in the frame; columns: {format_examples(frame.columns)}")
    if frame[trust].isna().any():
        rows = frame.index[frame[trust].isna().to_numpy()].tolist()
        raise MissingValuesError(
            f"column {trust!r} has {len(rows)} missing trust code(s) (rows {format_examples(rows)}).")
    _new_columns(frame, column)
    codes = frame[trust].astype(str).str.strip().str.upper().tolist()
    months = _months(frame[time], time)
    table = trust_catchment_population(months, sorted(set(codes)), source_dir=source_dir)
    keyed = table.set_index(["trust", "month"])
    key = pd.MultiIndex.from_arrays([codes, months])
    out = frame.copy()
    out[column] = keyed["population"].reindex(key).to_numpy()
    out[f"{column}_extrapolated"] = keyed["population_extrapolated"].reindex(key).to_numpy()
    return out


def rate_per_100k(count: Any, population: Any) -> Any:
    """``100000 * count / population`` (arrays, lists or Series), refusing non-positive populations.

    Two Series must share their index (pandas would otherwise align them and give NaN where the
    labels differ); a Series and an array, or two arrays, must have the same length (or one
    population for all counts). A DataFrame in gives a DataFrame out, a Series a Series (the
    count's index), otherwise an array.

    Raises
    ------
    InvalidValueError
        A population that is not finite and > 0, lengths that differ, or two Series with
        different indexes.
    NonNumericError
        Text that is not a number.
    """
    from evalint.errors import InvalidValueError, NonNumericError

    both_series = isinstance(count, pd.Series) and isinstance(population, pd.Series)
    if both_series and not count.index.equals(population.index):
        raise InvalidValueError(
            "count and population are Series with different indexes, so their rows would be "
            "matched by label and unmatched ones become NaN. Take both from one frame, or pass "
            "arrays (.to_numpy()) in matching order.")
    try:
        pop = np.asarray(population, dtype=float)
        cnt = np.asarray(count, dtype=float)
    except (TypeError, ValueError) as exc:
        raise NonNumericError(f"count and population must be numbers: {exc}") from None
    try:
        np.broadcast_shapes(pop.shape, cnt.shape)  # one population per count, or one for all
    except ValueError:
        raise InvalidValueError(
            f"count (shape {cnt.shape}) and population (shape {pop.shape}) do not match; give one "
            "population per count (or one for all).") from None
    if np.any(~np.isfinite(pop)) or np.any(pop <= 0):
        raise InvalidValueError("population must be finite and > 0 to form a rate per 100,000")
    rate = 100000.0 * cnt / pop
    for like in (count, population):
        if isinstance(like, pd.DataFrame) and rate.shape == like.shape:
            return pd.DataFrame(rate, index=like.index, columns=like.columns)
    for like in (count, population):
        if isinstance(like, pd.Series):
            return pd.Series(rate, index=like.index, name=count.name if isinstance(count, pd.Series) else None)
    return rate
