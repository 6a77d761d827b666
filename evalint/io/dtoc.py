"""Reader for the England monthly Delayed Transfers of Care series (Aug 2010 - Feb 2020).

NHS England's DTOC collection counted delayed days per month (acute and non-acute); the
"average delayed patients per day" is delayed days / days in the month. The national series in
``shared/realdata/dtoc_england_monthly`` is the LSHTM teaching copy (``ARIMA-intro.csv``:
``month``, ``year``, ``exp_days_*``, ``exp_patients_*``; its population and deaths columns are
England *and Wales*). Unit-level DTOC (trust x local authority) is not read here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalint.io._excel import excel_engine
from evalint.errors import (
    ColumnNotFoundError,
    DuplicateRowsError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import report_missing, to_counts
from evalint.io._layout import readable_files

__all__ = ["read_dtoc_england"]

_COLUMNS = {
    "exp_days_dtoc": "delayed_days",
    "exp_days_acute": "delayed_days_acute",
    "exp_days_nonacute": "delayed_days_nonacute",
}


@readable_files
def read_dtoc_england(path: str | Path) -> pd.DataFrame:
    """Read the England DTOC monthly series.

    Parameters
    ----------
    path : path
        ``ARIMA-intro.csv`` (UTF-8 with BOM) or its workbook ``ARIMA-intro-meta.xlsx``
        (sheet "ARIMA-intro").

    Returns
    -------
    pandas.DataFrame
        ``period`` (first of month), ``org_code`` ("ENGLAND"), ``org_level``,
        ``delayed_days``, ``delayed_days_acute``, ``delayed_days_nonacute`` and
        ``delayed_patients`` (= delayed days / days in month, recomputed unrounded),
        ``deaths_england_wales`` (registered deaths, England and Wales).

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        Missing ``month``, ``year`` or a delayed-days column.

    References
    ----------
    NHS England. Delayed Transfers of Care statistics (monthly situation reports), England.
    Green, M.A. et al. (2017) J Epidemiol Community Health 71:1068-1071.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecificationError(f"DTOC file {str(p)!r} does not exist.")
    raw = (pd.read_excel(p, sheet_name="ARIMA-intro", engine=excel_engine(p)) if p.suffix.lower() in (".xlsx", ".xls")
           else pd.read_csv(p, encoding="utf-8-sig"))
    raw.columns = [str(c).strip() for c in raw.columns]
    miss = [c for c in ("month", "year", *_COLUMNS) if c not in raw.columns]
    if miss:
        raise ColumnNotFoundError(
            f"{p.name}: missing column(s) {miss}; expected the DTOC national layout with "
            f"month, year, {', '.join(_COLUMNS)}. Columns found: {list(raw.columns)}.")
    period = pd.to_datetime(raw["month"].astype(str).str.strip() + " " + raw["year"].astype(str),
                            format="%B %Y", errors="coerce")
    if period.isna().any():
        bad = raw.loc[period.isna(), ["month", "year"]].iloc[0].tolist()
        raise TimeParseError(f"{p.name}: month/year {bad} is not a month.")
    dup = period.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DuplicateRowsError(
            f"{p.name}: month(s) {format_examples(sorted(period[dup].dt.strftime('%Y-%m').unique()))} "
            "appear more than once; keep one row per month.")
    out = pd.DataFrame({"period": period, "org_code": "ENGLAND", "org_level": "england"})
    keys = period.dt.strftime("%Y-%m")
    for src, dst in _COLUMNS.items():
        out[dst] = to_counts(raw[src], src, p.name, keys).to_numpy()
    report_missing(out, list(_COLUMNS.values()), p.name)
    out["delayed_patients"] = out["delayed_days"] / out["period"].dt.days_in_month
    if "out_deaths_total" in raw.columns:
        out["deaths_england_wales"] = pd.to_numeric(raw["out_deaths_total"], errors="coerce")
    out.attrs["evalint_io"] = {"file": p.name}
    return out
