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
