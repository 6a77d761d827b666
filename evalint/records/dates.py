"""How evalint.records reads a date column, written once for every engine.

A date role (admission, discharge, discharge-ready date) is read as a calendar date:

* a date or timestamp column: its date (the time of day is dropped);
* a time-zone-aware timestamp: its date on the clock in England (``Europe/London``), so a
  spell admitted at 00:30 BST on 1 July (23:30 UTC on 30 June) is a July admission; the DuckDB
  engine casts in that time zone, the pandas engine converts to it (Spark casts in its
  session's time zone: set ``spark.sql.session.timeZone`` to ``Europe/London``);
* text: ISO 8601, ``YYYY-MM-DD`` with an optional time after it (the date as written);
* anything else (UK ``dd/mm/yyyy`` text, ``20200131`` numbers, empty text) is refused with a
  :class:`~evalint.errors.TimeParseError` naming the column, the role and a value at fault,
  never read as a missing date or as a different day.

References
----------
ISO 8601-1:2019. Date and time - Representations for information interchange.
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import TimeParseError

__all__ = ["DATE_ROLES", "LOCAL_TZ", "not_dates_error", "read_dates"]

#: the roles read as dates
DATE_ROLES = ("admission_date", "discharge_date", "discharge_ready_date")
#: the clock a time-zone-aware timestamp is read on
LOCAL_TZ = "Europe/London"

_ISO = r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?\s*$"


def not_dates_error(column: str, role: str, n_bad: int | None, example: Any,
                    where: str = "") -> TimeParseError:
    """The error for a date column holding values that are not ISO dates."""
    if hasattr(example, "item"):  # a numpy scalar reads as its value
        example = example.item()
    count = f"{n_bad} value(s)" if n_bad is not None else "values"
    return TimeParseError(
        f"column {column!r} ({role}) holds {count} that are not dates, e.g. {example!r}"
        f"{where}. Dates must be a date/timestamp column or ISO 8601 text (YYYY-MM-DD). Convert "
        f"it before passing the episodes (UK dd/mm/yyyy text: pd.to_datetime(df[{column!r}], "
        f"format='%d/%m/%Y'); numbers like 20200131: format='%Y%m%d'; in SQL strptime), or "
        f"map the role to another column with fields={{{role!r}: '<column>'}}.")


def read_dates(s: pd.Series, *, column: str, role: str) -> pd.Series:
    """A date column as ``datetime64[ns]`` at midnight (NaT where missing).

    Raises
    ------
    TimeParseError
        A value is neither a date/timestamp nor ISO 8601 text; the message names the column,
        the role, how many values and the first one with its row label.
    """
    dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).astype("datetime64[ns]").dt.normalize()
    if pd.api.types.is_datetime64_dtype(dtype):
        return s.astype("datetime64[ns]").dt.normalize()
    missing = s.isna()
    if missing.all():
        return pd.Series(np.full(len(s), np.datetime64("NaT", "ns")), index=s.index)
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        first = s[~missing].iloc[0]
        raise not_dates_error(column, role, int((~missing).sum()), first,
                              f" at row {s.index[int(np.argmax(~missing.to_numpy()))]!r}")
    out = _datetime_objects(s, missing)
    if out is None:
        out = _parse_text(s.astype("string"))
    bad = (~missing & out.isna()).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise not_dates_error(column, role, int(bad.sum()), s.iloc[i], f" at row {s.index[i]!r}")
    return pd.Series(out.to_numpy(dtype="datetime64[ns]"), index=s.index)


def _datetime_objects(s: pd.Series, missing: pd.Series) -> pd.Series | None:
    """An object column of naive ``datetime``/``date`` values read in one vectorised pass: the
    date as written is the value's date. ``None`` (read it as text) for anything else: aware or
    mixed values, values out of the ``datetime64[ns]`` range."""
    if s.dtype != object or not isinstance(s[~missing].iloc[0], datetime.date):
        return None  # (a text column costs one look at its first value)
    if pd.api.types.infer_dtype(s, skipna=True) not in ("datetime", "date"):
        return None
    try:
        values = pd.to_datetime(s[~missing])
    except (ValueError, TypeError, OverflowError):
        return None
    if not isinstance(values.dtype, np.dtype) or values.dtype.kind != "M":
        return None  # time-zone-aware values: read as written, through the text path
    if len(values) and (values.min() < _LO or values.max() >= _HI):
        return None
    out = pd.Series(np.full(len(s), np.datetime64("NaT", "ns")), index=s.index)
    out[~missing] = values.astype("datetime64[ns]").dt.normalize().to_numpy()
    return out


def _iso_heads(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of the texts ``u`` start with ASCII ``YYYY-MM-DD`` followed by nothing, or by
    ``T`` or a space and a rest without a line break (the texts :data:`_ISO` reads as the
    date of their first ten characters), and those first ten characters."""
    u11 = u.astype("U11")
    head = u11.view(np.uint32).reshape(len(u), 11)
    digits = (head[:, _DIGITS] >= ord("0")) & (head[:, _DIGITS] <= ord("9"))
    ok = digits.all(axis=1) & (head[:, 4] == ord("-")) & (head[:, 7] == ord("-"))
    ok &= np.fromiter((len(v) == 10 or (len(v) > 10 and v[10] in "T " and "\n" not in v)
                       for v in u),
                      dtype=bool, count=len(u))
    return ok, u11.astype("U10")


_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9]
#: whole days inside the ``datetime64[ns]`` range
_LO, _HI = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")


def _parse_text(text: pd.Series) -> pd.Series:
    """Dates of ISO text (NaT where missing or not ISO), each distinct text parsed once:
    ``YYYY-MM-DD`` heads in one vectorised pass, the rest value by value checks."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    u = np.asarray(uniques, dtype=object)
    parsed = np.full(len(u), np.datetime64("NaT", "ns"))
    if len(u):
        fast, heads = _iso_heads(u)
        got = pd.Series(pd.to_datetime(heads[fast], format="%Y-%m-%d", errors="coerce"))
        parsed[fast] = got.where((got >= _LO) & (got < _HI)).to_numpy(dtype="datetime64[ns]")
        rest = np.isnat(parsed)
        if rest.any():
            parsed[rest] = _parse_text_slow(pd.Series(u[rest], dtype="string")).to_numpy(
                dtype="datetime64[ns]")
    out = parsed[np.where(codes >= 0, codes, 0)] if len(u) else parsed[:0]
    if len(u):
        out[codes < 0] = np.datetime64("NaT", "ns")
    else:
        out = np.full(len(text), np.datetime64("NaT", "ns"))
    return pd.Series(out, index=text.index)


def _parse_text_slow(text: pd.Series) -> pd.Series:
    """The value-by-value reading of ISO text (no missing values): exact ``YYYY-MM-DD``, else
    the date written before a time, with single-digit month or day or spaces."""
    out = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")  # the common case, fast
    rest = out.isna()
    if rest.any():  # ISO with a time after the date, single-digit month or day, spaces
        ymd = text[rest].str.extract(_ISO).apply(pd.to_numeric, errors="coerce")
        out[rest] = pd.to_datetime(
            pd.DataFrame({"year": ymd[0], "month": ymd[1], "day": ymd[2]}), errors="coerce")
    # a date outside the datetime64[ns] range (year 1500, 9999-12-31) is not read, never
    # wrapped round to another day
    return out.where((out >= _LO) & (out < _HI))
