"""python-calamine instead of the deprecated xlrd engine for NHS England's legacy .xls workbooks.

On the real Monthly A&E Time Series workbook (March 2024 edition): every sheet read by calamine
equals xlrd's frame in values and dtypes, the reader's tidy output is the same from either
engine's grid, and reading raises no deprecation warning.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from evalint.io._excel import excel_engine
from evalint.io.ae_timeseries import read_ae_england_timeseries

pytest.importorskip("python_calamine")


def test_engine_choice():
    assert excel_engine("a/Monthly-AE-Time-Series-March-2024.xls") == "calamine"
    assert excel_engine("webfile.xlsx") == "openpyxl"
    assert excel_engine("data.csv") is None


@pytest.mark.realdata
def test_calamine_reads_the_ae_timeseries_workbook_as_xlrd_does(realdata_root):
    pytest.importorskip("xlrd")
    path = realdata_root / "ae_england_monthly_timeseries" / "original" / "Monthly-AE-Time-Series-March-2024.xls"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pd.ExcelFile(path, engine="xlrd") as xl:
            old = {s: pd.read_excel(xl, sheet_name=s, header=None) for s in xl.sheet_names}
    with pd.ExcelFile(path, engine="calamine") as cal:
        assert cal.sheet_names == list(old)
        for s, frame in old.items():
            pd.testing.assert_frame_equal(pd.read_excel(cal, sheet_name=s, header=None), frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no xlrd deprecation warning from the reader
        new = read_ae_england_timeseries(path)
    # the same tidy frame from either engine's grid ("source" names the file or "<DataFrame>")
    pd.testing.assert_frame_equal(new.drop(columns="source"),
                                  read_ae_england_timeseries(old["Activity"]).drop(columns="source"))
    assert len(new) == 164 and str(new["period"].min())[:7] == "2010-08"  # Aug 2010 - Mar 2024
