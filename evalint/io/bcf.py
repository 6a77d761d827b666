"""Reader for the Better Care Fund 2022-23 intermediate-care spend table (by HWB).

The table (``bcf_2022_23_intermediate_care_la/BCF.csv``) joins NHS England's BCF 2022-23 end
of year collection ("Planned Expenditure 2": bed-based intermediate care, reablement in a
person's own home, GBP) with NHS Digital's ASC-FR 65+ reablement episodes and populations, one
row per Health and Wellbeing Board (upper-tier local authority). It is a cross-section: a
"dose" for the 2022/23 discharge-funding question, not a time series.
"""

from __future__ import annotations

from pathlib import Path

import warnings

import numpy as np
import pandas as pd

from evalint.errors import (
    _user_stacklevel,
    ColumnNotFoundError,
    DuplicateRowsError,
    MissingValuesError,
    SpecificationError,
    format_examples,
)
from evalint.io._headers import InconsistentTotalsWarning, to_counts
from evalint.io._layout import readable_files

__all__ = ["read_bcf_intermediate_care"]

_COLUMNS = {
    "Code": "org_code",
    "LA_name": "org_name",
    "Bed based intermediate Care Services": "bcf_bed_based_ic_gbp",
    "Reablement in a persons own home": "bcf_reablement_gbp",
    "value": "population_18plus",
    "over_65_pop.x": "population_65plus",
    "episodes_over65": "reablement_episodes_65plus",
}


@readable_files
def read_bcf_intermediate_care(path: str | Path) -> pd.DataFrame:
    """Read the BCF 2022-23 intermediate-care spend by Health and Wellbeing Board.

    Returns
    -------
    pandas.DataFrame
        ``org_code`` (ONS LA code), ``org_level`` ("hwb"), ``org_name``,
        ``bcf_bed_based_ic_gbp``, ``bcf_reablement_gbp``, ``bcf_intermediate_care_gbp`` (their
        sum; NaN when either is missing), ``population_18plus``, ``population_65plus``,
        ``reablement_episodes_65plus``, ``year`` ("2022-23"). Missing spend (blank, NA, "-")
        stays NaN; "£995,820" is read as 995820. The table's ``Total`` row is not a board: it
        is removed (kept in ``attrs["evalint_io"]["total_row"]``) and checked against the sum
        over boards.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        A column of the published table is missing (named in the message).
    evalint.errors.MissingValuesError
        A row with no ``Code`` (a totals row must be coded ``Total``; otherwise it would be
        counted as a board).
    evalint.errors.DuplicateRowsError
        A board code appears twice.
    evalint.errors.NonNumericError, evalint.errors.InvalidValueError
        Text or negative numbers in a spend, population or episode column (board named).

    References
    ----------
    NHS England. Better Care Fund end of year data collection 2022 to 2023.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecificationError(f"BCF file {str(p)!r} does not exist.")
    raw = pd.read_csv(p)
    miss = [c for c in _COLUMNS if c not in raw.columns]
    if miss:
        raise ColumnNotFoundError(f"{p.name}: missing column(s) {miss}; expected the BCF 2022-23 "
                                  f"table with {list(_COLUMNS)}; found {list(raw.columns)[:20]}.")
    raw = raw.loc[raw.notna().any(axis=1)]   # rows of empty cells (",,,,") are not boards
    code = raw["Code"].astype("string").str.strip()
    is_total = code.str.casefold() == "total"
    no_code = code.isna() & ~is_total.fillna(False)
    if no_code.any():
        rows = [f"line {i + 2} ({str(n)!r})" for i, n in zip(raw.index[no_code], raw.loc[no_code, "LA_name"])]
        raise MissingValuesError(
            f"{p.name}: column 'Code' is empty in {format_examples(rows)}. Every Health and Wellbeing "
            "Board needs its ONS code; a totals row must carry Code 'Total' (it is then checked "
            "against the sum over boards, not counted as a board). Fill or delete those rows.")
    is_total = is_total.fillna(False).to_numpy(dtype=bool)
    total = raw.loc[is_total]
    raw = raw.loc[~is_total]
    dup = code[~is_total].duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():
        raise DuplicateRowsError(
            f"{p.name}: Health and Wellbeing Board code(s) "
            f"{format_examples(sorted(set(code[~is_total][dup])))} appear more than once; "
            "keep one row per board.")
    out = raw[list(_COLUMNS)].rename(columns=_COLUMNS).reset_index(drop=True)
    out["org_code"] = code[~is_total].to_numpy()
    out.insert(1, "org_level", "hwb")
    keys = out["org_code"]
    for c in ("bcf_bed_based_ic_gbp", "bcf_reablement_gbp", "population_18plus",
              "population_65plus", "reablement_episodes_65plus"):
        text = out[c]
        if not pd.api.types.is_numeric_dtype(text.dtype):   # "£995,820" as published in sheets
            text = text.astype("string").str.strip().str.lstrip("£").str.strip()
        out[c] = to_counts(text, c, p.name, keys=keys)
    out["bcf_intermediate_care_gbp"] = out["bcf_bed_based_ic_gbp"] + out["bcf_reablement_gbp"]
    out["year"] = "2022-23"
    info: dict = {"file": p.name, "total_row": {}}
    for src, col in (("Bed based intermediate Care Services", "bcf_bed_based_ic_gbp"),
                     ("Reablement in a persons own home", "bcf_reablement_gbp")):
        if len(total):
            published = float(pd.to_numeric(total[src], errors="coerce").iloc[0])
            info["total_row"][col] = published
            if not np.isclose(out[col].sum(), published, rtol=1e-9):
                warnings.warn(f"{p.name}: the 'Total' row's {src!r} ({published:,.0f}) differs from "
                              f"the sum over boards ({out[col].sum():,.0f}).",
                              InconsistentTotalsWarning, stacklevel=_user_stacklevel())
    out.attrs["evalint_io"] = info
    return out
