"""Reader for NHS England's "Monthly A&E Time Series" workbook (England level, Aug 2010 on).

The workbook (``Monthly-AE-Time-Series-<Month>-<YYYY>.xls``) has a cover block, then on sheet
"Activity" a group row ("A&E attendances", "Emergency Admissions"), a header row starting
``Period`` and one row per month. Values for Nov 2010 - May 2015 are estimates apportioned
from weekly data (fractional); the reader marks them (``estimated``). See
``methods/data_sources.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalint.io._excel import excel_engine
from evalint.errors import (
    ColumnNotFoundError,
    DuplicateRowsError,
    EmptyDataError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import normalise_header, report_missing, to_counts
from evalint.io.ae_monthly import AE_COLUMNS
from evalint.io._layout import readable_files

__all__ = ["AE_TIMESERIES_MEASURES", "read_ae_england_timeseries"]

#: Canonical name -> headers of sheet "Activity" (first = the published header).
AE_TIMESERIES_MEASURES: dict[str, tuple[str, ...]] = {
    "attendances_type1": AE_COLUMNS["attendances_type1"],
    "attendances_type2": AE_COLUMNS["attendances_type2"],
    "attendances_other": AE_COLUMNS["attendances_other"],
    "attendances_total": ("Total Attendances", "Total A&E attendances"),
    "emergency_admissions_via_ae_type1": AE_COLUMNS["emergency_admissions_via_ae_type1"],
    "emergency_admissions_via_ae_type2": AE_COLUMNS["emergency_admissions_via_ae_type2"],
    "emergency_admissions_via_ae_other": AE_COLUMNS["emergency_admissions_via_ae_other"],
    "emergency_admissions_via_ae_total": ("Total Emergency Admissions via A&E",),
    "other_emergency_admissions": AE_COLUMNS["other_emergency_admissions"],
    "emergency_admissions_total": ("Total Emergency Admissions",),
    "dta_over_4hrs": ("Number of patients spending >4 hours from decision to admit to admission",),
    "dta_over_12hrs": ("Number of patients spending >12 hours from decision to admit to admission",),
}
_REQUIRED = ("attendances_type1", "attendances_total", "emergency_admissions_total")
_LOOKUP = {normalise_header(s): k for k, spell in AE_TIMESERIES_MEASURES.items() for s in spell}
#: First and last month NHS England estimated from weekly data (workbook note 1).
ESTIMATED_SPAN = (pd.Timestamp("2010-11-01"), pd.Timestamp("2015-05-01"))


def _grid(src: Any, sheet: str) -> tuple[pd.DataFrame, str]:
    if isinstance(src, pd.DataFrame):
        g = src.copy()
        g.columns = range(g.shape[1])
        return g, "<DataFrame>"
    p = Path(src)
    if not p.is_file():
        raise SpecificationError(f"A&E time-series workbook {str(p)!r} does not exist.")
    try:
        if p.suffix.lower() == ".csv":
            return pd.read_csv(p, header=None, dtype=object), p.name
        book = pd.ExcelFile(p, engine=excel_engine(p))
    except ImportError as exc:
        raise SpecificationError(
            f"Reading {p.name} needs an Excel engine ({exc}): python-calamine (or xlrd) for .xls, openpyxl for .xlsx."
        ) from None
    with book:
        if sheet not in book.sheet_names:
            raise ColumnNotFoundError(
                f"{p.name}: no sheet {sheet!r}; sheets found: {book.sheet_names}. Expected the "
                "NHS England 'Monthly A&E Time Series' workbook (sheets Activity, Performance, ...)."
            )
        return pd.read_excel(book, sheet_name=sheet, header=None), p.name


@readable_files
def read_ae_england_timeseries(path: str | Path | pd.DataFrame, *,
                               sheet: str = "Activity") -> pd.DataFrame:
    """Read the England monthly A&E activity series from the published time-series workbook.

    Parameters
    ----------
    path : path or DataFrame
        ``Monthly-AE-Time-Series-<Month>-<YYYY>.xls`` (or ``.xlsx``, or the sheet saved as
        CSV, or a frame read with ``header=None``).
    sheet : str
        Sheet holding the activity table.

    Returns
    -------
    pandas.DataFrame
        One row per month: ``period`` (datetime64, first of month), ``org_code``
        (``"ENGLAND"``), ``org_level`` (``"england"``), the measures of
        :data:`AE_TIMESERIES_MEASURES` found (float), ``estimated`` (True for Nov 2010 - May
        2015, apportioned from weekly returns) and ``source``. ``attrs["evalint_io"]`` holds
        the file, the header row and the columns not recognised.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        No row starting ``Period`` with the required measures (``Type 1 Departments - Major
        A&E``, ``Total Attendances``, ``Total Emergency Admissions``) in the first 40 rows.
    evalint.errors.TimeParseError
        A data row whose period is not a month.

    References
    ----------
    NHS England. A&E Attendances and Emergency Admissions, "Monthly A&E Time Series"
    (Unify2/SDCS collections WSitAE and MSitAE), england.nhs.uk/statistics.
    """
    grid, name = _grid(path, sheet)
    header_row = None
    for r in range(min(40, len(grid))):
        cells = [normalise_header(v) for v in grid.iloc[r] if isinstance(v, str)]
        if "period" in cells and sum(c in _LOOKUP for c in cells) >= len(_REQUIRED):
            header_row = r
            break
    if header_row is None:
        raise ColumnNotFoundError(
            f"{name}, sheet {sheet!r}: no header row starting 'Period' with the columns "
            f"{[AE_TIMESERIES_MEASURES[k][0] for k in _REQUIRED]} in the first 40 rows."
        )
    header = grid.iloc[header_row]
    cols: dict[str, int] = {}
    unknown: list[str] = []
    period_col = None
    for c, h in header.items():
        if not isinstance(h, str):
            continue
        key = normalise_header(h)
        if key == "period":
            period_col = int(c)
        elif key in _LOOKUP:
            cols.setdefault(_LOOKUP[key], int(c))
        else:
            unknown.append(h.strip())
    missing = [AE_TIMESERIES_MEASURES[k][0] for k in _REQUIRED if k not in cols]
    if missing:
        raise ColumnNotFoundError(f"{name}, header row {header_row + 1}: missing {missing}.")
    body = grid.iloc[header_row + 1:]
    body = body.loc[body.iloc[:, period_col].notna()]
    if body.empty:
        raise EmptyDataError(f"{name}: no data rows below header row {header_row + 1}.")
    periods = pd.to_datetime(body.iloc[:, period_col], errors="coerce")
    bad = periods.isna()
    if bad.any():
        r = int(body.index[bad.to_numpy()][0])
        raise TimeParseError(
            f"{name}, sheet {sheet!r}, row {r + 1}: period {body.iat[int(np.argmax(bad)), period_col]!r} "
            "is not a month."
        )
    months = periods.dt.to_period("M")
    dup = months.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = [int(i) + 1 for i in body.index[dup]]
        raise DuplicateRowsError(
            f"{name}, sheet {sheet!r}: month(s) {format_examples(sorted(months[dup].astype(str).unique()))} "
            f"appear more than once (rows {format_examples(rows)}); keep one row per month.")
    out = pd.DataFrame({"period": months.dt.to_timestamp().to_numpy()})
    out["org_code"] = "ENGLAND"
    out["org_level"] = "england"
    keys = pd.Series(months.astype(str).to_numpy())
    for k in AE_TIMESERIES_MEASURES:
        if k in cols:
            values = pd.Series(body.iloc[:, cols[k]].to_numpy(), dtype=object)
            if values.map(lambda v: isinstance(v, (int, float, np.number))).all():
                values = values.astype(float)
            out[k] = to_counts(values, AE_TIMESERIES_MEASURES[k][0], name, keys).to_numpy()
    report_missing(out, [k for k in AE_TIMESERIES_MEASURES if k in cols], name)
    out["estimated"] = out["period"].between(*ESTIMATED_SPAN)
    out["source"] = name
    out.attrs["evalint_io"] = {"file": name, "sheet": sheet, "header_row": header_row + 1,
                               "ignored_columns": unknown}
    return out
