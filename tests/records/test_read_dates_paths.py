"""read_dates: the vectorised ISO and datetime-object paths give the date as written."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evalint.errors import TimeParseError
from evalint.records.dates import read_dates


def _read(values: list, dtype: str = "object") -> list:
    s = pd.Series(values, dtype=dtype)
    return read_dates(s, column="a", role="admission_date").tolist()


@pytest.mark.parametrize("dtype", ["object", "string"])
def test_iso_text_with_and_without_time(dtype: str) -> None:
    got = _read(["2019-10-28 23:59:59", "2019-10-28T00:30:00+01:00", "2019-1-5", None,
                 "2020-02-29", " 2019-03-01 "], dtype)
    want = [pd.Timestamp(x) if x else pd.NaT for x in
            ["2019-10-28", "2019-10-28", "2019-01-05", None, "2020-02-29", "2019-03-01"]]
    assert got == want


def test_datetime_objects_read_as_their_date() -> None:
    got = _read([dt.datetime(2019, 6, 30, 23, 30), dt.date(2019, 7, 1), np.nan])
    assert got == [pd.Timestamp("2019-06-30"), pd.Timestamp("2019-07-01"), pd.NaT]


@pytest.mark.parametrize("value", ["1500-01-01 00:00", "9999-12-31", "2019-02-30 10:00",
                                   dt.datetime(1500, 1, 5)])
def test_dates_outside_the_calendar_range_are_refused(value: object) -> None:
    # 1500-01-01 was read as 2084-07-20 (a wrapped nanosecond count) before
    with pytest.raises(TimeParseError, match="'a'"):
        _read([value, "2019-01-01"])
