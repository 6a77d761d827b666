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

from evalint.errors import ColumnNotFoundError, SpecificationError, TimeParseError

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
        date), ``fiscal_label``, ``beds_available``, ``beds_occupied``, ``occupancy``.

    Raises
    ------
    evalint.errors.ColumnNotFoundError, evalint.errors.TimeParseError

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
    out = pd.DataFrame({"org_code": raw["trust_code"].astype(str), "org_level": "trust",
                        "period": labels.map(starts), "fiscal_label": labels,
                        "beds_available": raw["bed_capacity"].astype(float),
                        "beds_occupied": raw["occupied_beds"].astype(float)})
    out["occupancy"] = out["beds_occupied"] / out["beds_available"]
    out = out.sort_values(["org_code", "period"], kind="stable").reset_index(drop=True)
    out.attrs["evalint_io"] = {"file": p.name}
    return out
