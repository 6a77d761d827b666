"""Reader for the acute discharge sitrep national time series ("Daily Series" sheet).

NHS England's ``Daily-discharge-sitrep-timeseries`` workbook holds England daily figures from
1 April 2021: patients no longer meeting the criteria to reside, discharged, remaining, and
discharges by destination (pathways P0-P3; zero before 12 May 2021, when destinations were not
collected). This is the only source for the pre-ICB months (Apr 2021 - Mar 2022).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evalint.errors import ColumnNotFoundError, SpecificationError
from evalint.io._headers import normalise_header
from evalint.io.discharge_sitrep import SITREP_MEASURES
from evalint.io._excel import excel_engine
from evalint.io._layout import readable_files

__all__ = ["DESTINATIONS_START", "read_discharge_timeseries"]

#: "Discharge location data was not collected prior to 12/05/2021" (workbook note 1).
DESTINATIONS_START = pd.Timestamp("2021-05-12")
_LOOKUP = {normalise_header(s): k for k, spell in SITREP_MEASURES.items() for s in spell}


@readable_files
def read_discharge_timeseries(path: str | Path, *, sheet: str = "Daily Series") -> pd.DataFrame:
    """Read the England daily discharge sitrep time series.

    Parameters
    ----------
    path : path
        ``latest_time_series.xlsx`` / ``Daily-discharge-sitrep-timeseries-<...>.xlsx`` as
        published (or the sheet saved as CSV).
    sheet : str
        The daily sheet.

    Returns
    -------
    pandas.DataFrame
        ``date``, ``org_code`` and ``org_name`` ("ENGLAND"), ``level``, ``nctr_patients``,
        ``discharged_patients``, ``nctr_remaining_patients`` and one column per destination
        (``dest_`` + the published label, normalised); destination values before
        :data:`DESTINATIONS_START` are NaN (published as 0, not collected). Pass it to
        :func:`evalint.io.aggregate_to_month` for monthly means with day counts.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        No header row with ``Date`` and the criteria-to-reside measure in the first 30 rows.

    References
    ----------
    NHS England. Discharge delays (acute): acute daily discharge situation report, time series.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecificationError(f"discharge time series {str(p)!r} does not exist.")
    if p.suffix.lower() == ".csv":
        grid = pd.read_csv(p, header=None, dtype=object)
    else:
        with pd.ExcelFile(p, engine=excel_engine(p)) as book:
            if sheet not in book.sheet_names:
                raise ColumnNotFoundError(f"{p.name}: no sheet {sheet!r}; sheets: {book.sheet_names}. "
                                          "If the daily sheet was renamed, pass sheet=<its name>.")
            grid = pd.read_excel(book, sheet_name=sheet, header=None)
    hdr = None
    for r in range(min(30, len(grid))):
        cells = [normalise_header(v) for v in grid.iloc[r] if isinstance(v, str)]
        if "date" in cells and "patients who no longer meet the criteria to reside" in cells:
            hdr = r
            break
    if hdr is None:
        raise ColumnNotFoundError(
            f"{p.name}, sheet {sheet!r}: no header row with 'Date' and "
            f"{SITREP_MEASURES['nctr_patients'][0]!r} in the first 30 rows.")
    header = grid.iloc[hdr]
    body = grid.iloc[hdr + 1:]
    date_col = next(c for c, h in header.items() if isinstance(h, str) and normalise_header(h) == "date")
    dates = pd.to_datetime(body[date_col], errors="coerce")
    body = body.loc[dates.notna()]
    out = pd.DataFrame({"date": dates[dates.notna()].dt.normalize().to_numpy(),
                        "org_code": "ENGLAND", "org_name": "ENGLAND", "level": "england"})
    for c, h in header.items():
        if not isinstance(h, str) or c == date_col:
            continue
        key = normalise_header(h)
        name = _LOOKUP.get(key, "dest_" + "_".join(key.replace("\n", " ").split()))
        out[name] = pd.to_numeric(body[c], errors="coerce").to_numpy(dtype=float)
    dest = [c for c in out.columns if c.startswith("dest_")]
    out.loc[out["date"] < DESTINATIONS_START, dest] = np.nan
    for m in SITREP_MEASURES:
        if m not in out.columns:
            out[m] = np.nan
    out["source"] = p.name
    out.attrs["evalint_io"] = {"file": p.name, "sheet": sheet, "header_row": hdr + 1}
    return out
