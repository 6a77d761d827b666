"""Acceptance checks of the published-layout readers on altered copies of the real files
(written to a temporary folder; shared/realdata is never changed).

Expected numbers come from the file itself read with pandas/openpyxl, or from the published
totals in the folder's SOURCE.md.
"""

from __future__ import annotations

import warnings

import openpyxl
import pandas as pd
import pytest

from evalint.errors import ColumnNotFoundError
from evalint.io import read_discharge_sitrep

pytestmark = pytest.mark.realdata


def test_sitrep_with_its_daily_sheet_renamed_names_the_sheets_and_the_fix(real_source, tmp_path):
    src = next(p for p in real_source("discharge_sitrep_webfiles") if p.name == "january2023.xlsx")
    book = openpyxl.load_workbook(src)
    book["Table 2"].title = "Table 2 (revised)"
    copy = tmp_path / "january2023_revised.xlsx"
    book.save(copy)
    # before: a raw ValueError from openpyxl ("Worksheet named 'Table 2' not found")
    with pytest.raises(ColumnNotFoundError, match=r"no sheet 'Table 2'.*'Table 2 \(revised\)'.*sheet="):
        read_discharge_sitrep(copy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = read_discharge_sitrep(copy, sheet="Table 2 (revised)", level="england")
    # SOURCE.md: England remaining NCtR, January 2023 mean of daily values 13,965
    assert out["nctr_remaining_patients"].mean() == pytest.approx(13_965, abs=0.5)
    grid = pd.read_excel(src, sheet_name="Table 2", header=None, engine="openpyxl")
    assert out["nctr_remaining_patients"].iloc[0] == grid.iloc[5, 6]   # ENGLAND, 1 Jan 2023


def _ae_timeseries_grid(real_source):
    path = real_source("ae_england_timeseries")[0]
    from evalint.io._excel import excel_engine

    grid = pd.read_excel(path, sheet_name="Activity", header=None, engine=excel_engine(path))
    header = next(r for r in range(40) if "Period" in [str(v).strip() for v in grid.iloc[r]])
    return grid, header


def test_ae_timeseries_text_in_a_count_is_refused_and_dashes_are_counted(real_source):
    from evalint.errors import DuplicateRowsError, NonNumericError
    from evalint.io import MissingValuesWarning, read_ae_england_timeseries

    grid, header = _ae_timeseries_grid(real_source)
    type1 = next(c for c in grid.columns if str(grid.iat[header, c]).startswith("Type 1"))
    row = header + 5                                    # December 2010
    text = grid.astype(object)
    text.iat[row, type1] = "x"
    # before: read as NaN without a word
    with pytest.raises(NonNumericError, match=r"Type 1.*'x'.*2010-12"):
        read_ae_england_timeseries(text)
    text.iat[row, type1] = "-"
    # before: NaN, but no MissingValuesWarning (the package docstring promises one)
    with pytest.warns(MissingValuesWarning, match="attendances_type1: 1"):
        out = read_ae_england_timeseries(text)
    assert out["attendances_type1"].isna().sum() == 1
    # SOURCE.md: January 2019 type 1 attendances 1,344,354 are untouched
    jan19 = out.set_index("period").loc[pd.Timestamp("2019-01-01"), "attendances_type1"]
    assert jan19 == 1_344_354
    repeated = pd.concat([grid.iloc[:row + 1], grid.iloc[[row]], grid.iloc[row + 1:]], ignore_index=True)
    # before: 165 rows, December 2010 twice
    with pytest.raises(DuplicateRowsError, match="2010-12"):
        read_ae_england_timeseries(repeated)


def test_ae_workbook_period_that_contradicts_its_title_block_is_refused(real_source):
    from evalint.errors import SpecificationError
    from evalint.io import read_ae_workbook

    april = next(p for p in real_source("ae_provider_workbooks") if p.name.startswith("April-2024"))
    # before: every row silently relabelled January 2020
    with pytest.raises(SpecificationError, match="January 2020.*April 2024"):
        read_ae_workbook(april, period="2020-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = read_ae_workbook(april, period="April 2024")
    assert set(same["period"]) == {pd.Timestamp("2024-04-01")}


def test_reader_warnings_point_at_the_callers_line(realdata_root):
    # a reader's warning names the user's line, not evalint's own files (the file-error wrapper
    # added a frame under fixed stacklevels, so they pointed at evalint/io/_layout.py)
    from evalint.io import read_healthyr

    path = realdata_root / "healthyr_nhse_uec" / "england_icb_accidents_emergency.csv"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_healthyr(path)
    assert caught and {w.filename for w in caught} == {__file__}
