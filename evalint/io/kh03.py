"""Reader for KH03 overnight beds by trust and quarter (bed availability and occupancy).

NHS England's KH03 return gives, per trust and quarter, the mean number of overnight beds
available and occupied (all sectors: general & acute, maternity, mental illness, learning
disability). Quarters are labelled by *financial* year: "2019 Q3" is Oct-Dec 2019 and "2019 Q4"
Jan-Mar 2020. The copy in ``shared/realdata/hf_trust_quarterly_beds_los`` is a tidy table
(``date``, ``trust_code``, ``occupied_beds``, ``bed_capacity``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from evalint.errors import (
    ColumnNotFoundError,
    DuplicateRowsError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import report_missing, to_counts
from evalint.io._layout import readable_files

__all__ = ["fiscal_quarter_start", "read_kh03_beds"]

_LABEL = re.compile(r"^\s*(\d{4})\s*Q([1-4])\s*$")


def fiscal_quarter_start(label: str) -> pd.Timestamp:
    """First day of a financial-year quarter label: "2019 Q1" -> 2019-04-01, "2019 Q4" -> 2020-01-01."""
    m = _LABEL.match(str(label))
    if not m:
        raise TimeParseError(f"KH03 quarter {label!r} is not of the form 'YYYY Qn'.")
    year, q = int(m.group(1)), int(m.group(2))
    month = 3 * q + 1
    return pd.Timestamp(year + (month > 12), (month - 1) % 12 + 1, 1)


@readable_files
def read_kh03_beds(path: str | Path) -> pd.DataFrame:
    """Read KH03 overnight beds (trust x quarter).

    Parameters
    ----------
    path : path
        CSV with ``date`` (financial quarter label "YYYY Qn"), ``trust_code``,
        ``occupied_beds``, ``bed_capacity`` (``FINAL_overnight_beds.csv``).

    Returns
    -------
    pandas.DataFrame
        ``org_code``, ``org_level`` ("trust"), ``period`` (first day of the quarter, calendar
        date), ``fiscal_label``, ``beds_available``, ``beds_occupied``, ``occupancy``. Blank,
        "-" and "*" bed cells are NaN (never 0).

    Raises
    ------
    evalint.errors.ColumnNotFoundError, evalint.errors.TimeParseError
    evalint.errors.NonNumericError
        Other text in a bed column (trust and quarter named).
    evalint.errors.DuplicateRowsError
        Two rows for one trust and quarter.

    References
    ----------
    NHS England. Bed availability and occupancy data - overnight (KH03).
    """
    p = Path(path)
    if not p.is_file():
        raise SpecificationError(f"KH03 file {str(p)!r} does not exist.")
    raw = pd.read_csv(p)
    need = ["date", "trust_code", "occupied_beds", "bed_capacity"]
    miss = [c for c in need if c not in raw.columns]
    if miss:
        raise ColumnNotFoundError(f"{p.name}: missing column(s) {miss}; expected {need}; found "
                                  f"{list(raw.columns)}.")
    labels = raw["date"].astype(str)
    starts = {lab: fiscal_quarter_start(lab) for lab in labels.unique()}
    keys = raw["trust_code"].astype(str) + " " + labels
    dup = keys.duplicated(keep=False)
    if dup.any():
        raise DuplicateRowsError(
            f"{p.name}: {int(dup.sum())} rows share a trust and quarter, e.g. "
            f"{format_examples(keys[dup].unique())}; keep one row per trust and quarter.")
    out = pd.DataFrame({"org_code": raw["trust_code"].astype(str), "org_level": "trust",
                        "period": labels.map(starts), "fiscal_label": labels,
                        "beds_available": to_counts(raw["bed_capacity"], "bed_capacity", p.name, keys),
                        "beds_occupied": to_counts(raw["occupied_beds"], "occupied_beds", p.name, keys)})
    out["occupancy"] = out["beds_occupied"] / out["beds_available"]
    report_missing(out, ["beds_available", "beds_occupied"], p.name)
    out = out.sort_values(["org_code", "period"], kind="stable").reset_index(drop=True)
    out.attrs["evalint_io"] = {"file": p.name}
    return out
