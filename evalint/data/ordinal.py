"""Ordinal (integer) time axes: survey waves 0/1, period indices 1..T.

A panel's time axis is of one of two kinds (:attr:`Panel.time_kind
<evalint.data.panel.Panel.time_kind>`):

``"calendar"``
    Dates or periods of one frequency (daily ... annual), integer years 1000-3000 included.
``"ordinal"``
    Consecutive integers that number the periods without saying when they were: survey
    waves (0, 1), period indices (1..T). Nothing on such an axis can be placed on the
    calendar, so dated policy events, seasonality and anything monthly do not apply.

Internally an ordinal period ``k`` is held as the annual :class:`pandas.Period` of year
``k`` (``Period(year=k, freq="Y")``), so that every estimator runs unchanged on a
consecutive axis (it only ever differences periods); everything a user reads (result
tables, summaries, plots, the panel's description) shows ``k`` itself (:func:`label`,
:func:`relabel_frame`). Those periods never stand for calendar years: the Panel carries
the kind, and the policy calendar refuses to place events on them.

Which kind a column is, when ``time_kind=`` is not given (:func:`detect_kind`):

* not integers (dates, strings, Periods, datetimes): calendar (whole numbers held as text or
  Python objects, ``"1"``, ``"2"`` from a CSV read as text, count as integers; a categorical
  column is read through its values, as :meth:`Panel.from_frame` de-categorises it first);
* integers all in 1000..3000: calendar years (annual periods);
* integers all in -999..999: ordinal;
* anything else (integers on both sides of 1000, or above 3000 such as ``201904``): refused
  with a :class:`~evalint.errors.TimeParseError` asking for ``time_kind=`` (or for dates).
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError, TimeParseError, format_examples

__all__ = ["TIME_KINDS", "ORDINAL_RANGE", "ORDINAL_NOTE", "detect_kind", "ordinal_periods",
           "ordinal_period", "label", "relabel_frame", "relabel_value", "relabel_text"]

TIME_KINDS = ("calendar", "ordinal")
#: integers a Period can hold as a year (ordinal periods are held as those years)
ORDINAL_RANGE = (-999, 9999)
#: the plain-words note shown where the policy calendar would have been checked
ORDINAL_NOTE = ("the time axis is ordinal (integer periods, e.g. survey waves), so dated policy "
                "events cannot be placed on it: the policy calendar was not checked. Check "
                "co-occurring policies by hand, or rebuild the panel with the dates the periods stand for.")
_AUTO_ORDINAL = (-999, 999)
_YEARS = (1000, 3000)


def check_time_kind(time_kind: Any) -> str | None:
    """``time_kind`` validated: None (detect), ``"calendar"`` or ``"ordinal"``."""
    if time_kind is None:
        return None
    if isinstance(time_kind, str) and time_kind.strip().lower() in TIME_KINDS:
        return time_kind.strip().lower()
    raise SpecificationError(
        f"time_kind={time_kind!r} is not a time-axis kind; use 'calendar' (dates, periods, integer "
        "years), 'ordinal' (integer period numbers such as survey waves 0/1 or 1..T) or leave it out "
        "to detect it.")


def _integers(values: pd.Series) -> np.ndarray | None:
    """The column as int64 when it holds only whole numbers within int64 (numeric dtype), else None."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return None
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    if not np.all(np.isfinite(arr)) or not np.all(np.mod(arr, 1) == 0):
        return None
    if len(arr) and np.abs(arr).max() >= 2.0**63:  # beyond int64 (object or float columns): no year, no index
        return None
    return arr.astype(np.int64)


#: object columns of one of these kinds hold no value equal to a number of another type
_SAFE_TO_DEDUPLICATE = frozenset({"string", "empty", "period", "datetime", "datetime64", "date"})


def _distinct(values: pd.Series) -> pd.Series:
    """The distinct values of a text or object time column, in the column's own dtype, when
    keeping one of each cannot change what ``pd.to_numeric`` makes of the column: text, or
    objects all of one date-like kind (a long panel repeats each of a few dozen dates for every
    unit, and parsing every row cost 0.43 s per 624,000). Any other object column is returned
    whole: ``True == 1`` and ``Fraction(1) == 1.0``, so de-duplicating a mix of types would keep
    whichever came first and could change the dtype ``pd.to_numeric`` infers."""
    kind = "string" if isinstance(values.dtype, pd.StringDtype) else pd.api.types.infer_dtype(values, skipna=True)
    if kind in _SAFE_TO_DEDUPLICATE:
        return values.drop_duplicates()
    return values


def detect_kind(values: pd.Series, time_kind: str | None, column: str) -> str:
    """The time-axis kind of a time column (rules in the module docstring).

    Raises
    ------
    TimeParseError
        Integers that are neither plausible years nor a small index (ask for ``time_kind=``),
        or ``time_kind="ordinal"`` for a column that does not hold integers.
    """
    if time_kind == "calendar":
        return "calendar"
    ints = _integers(values)
    if ints is None and (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
        # whole numbers as text or Python objects ("1", "2" from a CSV read as text)
        num = pd.to_numeric(_distinct(values), errors="coerce")
        ints = _integers(num) if not num.isna().any() else None
    if time_kind == "ordinal":
        if ints is None:
            shown = format_examples(pd.unique(values.astype(str))[:3].tolist())
            raise TimeParseError(
                f"time_kind='ordinal' needs whole numbers in time column {column!r} (period numbers such "
                f"as survey waves 0, 1 or 1..T); it holds {shown}. Leave time_kind= out for dates or "
                "periods, or number the periods first.")
        return "ordinal"
    if ints is None or not len(ints):
        return "calendar"
    lo, hi = int(ints.min()), int(ints.max())
    if _YEARS[0] <= lo and hi <= _YEARS[1]:
        return "calendar"
    if _AUTO_ORDINAL[0] <= lo and hi <= _AUTO_ORDINAL[1]:
        return "ordinal"
    shown = format_examples(sorted(pd.unique(ints).tolist())[:2] + sorted(pd.unique(ints).tolist())[-1:])
    looks = (" Values such as 201904 look like YYYYMM: convert them to dates first, e.g. "
             f"pd.to_datetime(df[{column!r}].astype(str), format='%Y%m')." if hi > 100000 else "")
    raise TimeParseError(
        f"time column {column!r} holds integers ({shown}) that are neither all calendar years "
        f"(1000-3000) nor all a small period index (-999..999), so evalint cannot tell which they are."
        f"{looks} Pass time_kind='ordinal' if they number periods (survey waves, 1..T), or "
        "time_kind='calendar' with dates.")


def _require_range(ints: np.ndarray, column: str) -> None:
    lo, hi = ORDINAL_RANGE
    out = ints[(ints < lo) | (ints > hi)]
    if len(out):
        raise TimeParseError(
            f"time column {column!r}: ordinal periods must lie in {lo}..{hi}; it holds "
            f"{format_examples(pd.unique(out)[:3].tolist())}. Renumber the periods (e.g. 1..T).")


def ordinal_periods(values: pd.Series, column: str) -> pd.Series:
    """An integer time column as the Periods that hold it (year ``k`` for period ``k``)."""
    ints = _integers(values)
    if ints is None:
        ints = _integers(pd.to_numeric(values, errors="coerce"))
    if ints is None:  # (detect_kind has refused these already)
        raise TimeParseError(f"time column {column!r} does not hold whole numbers.")
    _require_range(ints, column)
    uniq, inv = np.unique(ints, return_inverse=True)
    per = pd.PeriodIndex([pd.Period(year=int(v), freq="Y") for v in uniq], freq="Y")
    out: pd.Series = pd.Series(per.take(inv.ravel()), index=values.index)
    return out


def ordinal_period(value: Any, what: str = "period") -> pd.Period:
    """One period number (``3``, ``3.0``, ``"3"``) as the Period that holds it on an ordinal axis."""
    if isinstance(value, pd.Period) and value.freqstr.upper().startswith("Y"):
        return value
    v: Any = value
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        v = int(v.strip())
    if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
        v = int(v)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        # a date as written (2022-07-01), not as Python shows it (datetime.date(2022, 7, 1))
        shown = repr(value)
        if isinstance(value, _dt.date):  # date, datetime and Timestamp
            midnight = not isinstance(value, _dt.datetime) or value == _dt.datetime.combine(value.date(), _dt.time())
            shown = (value if not isinstance(value, _dt.datetime) else value.date()).isoformat() if midnight \
                else value.isoformat()
        raise TimeParseError(
            f"{what}={shown}: this panel's time axis is ordinal (integer period numbers), so a "
            "date cannot be placed on it. Give the period number, e.g. 3 (the first period in "
            "which the unit is treated).")
    lo, hi = ORDINAL_RANGE
    if not lo <= int(v) <= hi:
        raise TimeParseError(f"{what}={value!r}: ordinal periods lie in {lo}..{hi}.")
    return pd.Period(year=int(v), freq="Y")


def label(period: Any) -> Any:
    """The user's integer for a Period of an ordinal axis; anything else unchanged."""
    if isinstance(period, pd.Period):
        return int(period.year)
    return period


def relabel_value(value: Any) -> Any:
    """A Period, or a mapping / tuple / list of them, with every Period as its integer."""
    if isinstance(value, (pd.Period, pd.Timestamp)):  # (a start_time of the periods that hold the axis)
        return int(value.year)
    if isinstance(value, str):
        return relabel_text(value)
    if isinstance(value, dict):
        return {k: relabel_value(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(relabel_value(v) for v in value)
    return value


#: a period of an ordinal axis as str(Period) prints it: the year zero-padded to four digits
_PADDED = re.compile(r"(?<!\d\.)(?<!\w)0\d{3}(?!\w|\.\d)")


def relabel_text(text: str) -> str:
    """Text with the zero-padded periods of an ordinal axis (``"0011"``) as their numbers (``"11"``)."""
    return _PADDED.sub(lambda m: str(int(m.group(0))), text)


def _relabel_column(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.PeriodDtype):
        years = pd.PeriodIndex(col).year
        out = pd.Series(np.asarray(years, dtype=np.int64), index=col.index, name=col.name)
        return out.where(col.notna()).astype("Int64") if col.isna().any() else out
    if col.dtype == object and col.map(lambda v: isinstance(v, (pd.Period, str))).any():
        return col.map(relabel_value)
    if isinstance(col.dtype, pd.StringDtype):
        return col.map(relabel_value, na_action="ignore").astype(col.dtype)
    return col


def relabel_frame(frame: Any) -> Any:
    """A copy of ``frame`` with Period columns, index levels and column labels as integers.

    Anything that is not a DataFrame or Series is returned as it is.
    """
    if isinstance(frame, pd.Series):
        out_s = _relabel_column(frame)
        return out_s.set_axis(_relabel_index(out_s.index))
    if not isinstance(frame, pd.DataFrame):
        return frame
    out = frame.copy()
    for i, name in enumerate(list(out.columns)):
        out.isetitem(i, _relabel_column(out.iloc[:, i]))
    out.columns = _relabel_index(out.columns)
    out.index = _relabel_index(out.index)
    return out


def _relabel_index(idx: pd.Index) -> pd.Index:
    if isinstance(idx, pd.MultiIndex):
        levels: list[Any] = [_relabel_index(lv) for lv in idx.levels]
        multi: pd.Index = idx.set_levels(levels)
        return multi
    if isinstance(idx, pd.PeriodIndex):
        return pd.Index(np.asarray(idx.year, dtype=np.int64), name=idx.name)
    if idx.dtype == object and len(idx) and any(isinstance(v, pd.Period) for v in idx):
        relabelled: pd.Index = pd.Index([relabel_value(v) for v in idx], name=idx.name)
        return relabelled
    return idx
