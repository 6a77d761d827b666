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
    text = s.astype("string")
    out = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")  # the common case, fast
    rest = ~missing & out.isna()
    if rest.any():  # ISO with a time after the date, single-digit month or day, spaces
        ymd = text[rest].str.extract(_ISO).apply(pd.to_numeric, errors="coerce")
        out[rest] = pd.to_datetime(
            pd.DataFrame({"year": ymd[0], "month": ymd[1], "day": ymd[2]}), errors="coerce")
    bad = (~missing & out.isna()).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise not_dates_error(column, role, int(bad.sum()), s.iloc[i], f" at row {s.index[i]!r}")
    return pd.Series(out.to_numpy(dtype="datetime64[ns]"), index=s.index)
