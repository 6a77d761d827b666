"""Reader for ONS mid-year population estimates summed to ICB or local authority.

ONS publishes mid-year estimates (MYE) by area and single year of age; the tables in
``shared/realdata/population_icb_ltla`` are LSOA estimates summed to ICB 2022 and LTLA 2022
with the bands total, 18+, 65+ and 75+. Interpolating them to months is
:mod:`evalint.geography`'s job; this reader only returns them tidy.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalint.errors import (
    ColumnNotFoundError,
    DuplicateRowsError,
    MissingValuesError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import report_missing, to_counts
from evalint.io._layout import readable_files

__all__ = ["read_ons_mye"]

_BANDS = {"total_population": "population", "pop_18plus": "population_18plus",
          "pop_65plus": "population_65plus", "pop_75plus": "population_75plus"}


@readable_files
def read_ons_mye(path: str | Path) -> pd.DataFrame:
    """Read ONS mid-year estimates by ICB (``icb22_code``) or LTLA (``ltla22_code``).

    Returns
    -------
    pandas.DataFrame
        ``org_code`` (ONS code), ``org_level`` ("icb" or "ltla"), ``org_name``, ``year``
        (mid-year, 30 June), ``population``, ``population_18plus``, ``population_65plus``,
        ``population_75plus``; for ICBs also ``icb22_code_h`` (ODS code, Q..).

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        No ``mid_year``, area code or ``total_population`` column.
    evalint.errors.NonNumericError, evalint.errors.TimeParseError
        Text in a population column (blank and "-" are read as NaN) or a missing mid-year.
    evalint.errors.MissingValuesError
        A row with no area code (a truncated or footer line).
    evalint.errors.DuplicateRowsError
        Two rows for one area and mid-year.

    References
    ----------
    Office for National Statistics. Lower layer Super Output Area population estimates
    (mid-2017, mid-2019, mid-2020), OGL v3.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecificationError(f"population file {str(p)!r} does not exist.")
    raw = pd.read_csv(p)
    code = next((c for c in ("icb22_code", "ltla22_code") if c in raw.columns), None)
    if code is None or "mid_year" not in raw.columns or "total_population" not in raw.columns:
        raise ColumnNotFoundError(
            f"{p.name}: expected columns mid_year, icb22_code or ltla22_code, total_population "
            f"(and pop_18plus, pop_65plus, pop_75plus); found {list(raw.columns)}.")
    level = code.split("22")[0]
    no_code = raw[code].isna()
    if no_code.any():
        raise MissingValuesError(
            f"{p.name}: column {code!r} is empty on line(s) "
            f"{format_examples([i + 2 for i in raw.index[no_code]])} (a truncated or footer row?); "
            "every row needs its area code. Delete or fill those rows.")
    years = pd.to_numeric(raw["mid_year"], errors="coerce")
    bad = years.isna() | (years % 1 != 0)
    if bad.any():
        raise TimeParseError(
            f"{p.name}: column 'mid_year' holds {format_examples(raw.loc[bad, 'mid_year'].astype(str).unique())} "
            f"(line(s) {format_examples([i + 2 for i in raw.index[bad]])}); every row needs its "
            "mid-year as a whole year (e.g. 2019).")
    keys = raw[code].astype(str) + " " + years.astype(int).astype(str)
    dup = keys.duplicated(keep=False)
    if dup.any():
        raise DuplicateRowsError(
            f"{p.name}: {int(dup.sum())} rows share an area and mid-year, e.g. "
            f"{format_examples(keys[dup].unique())}; keep one row per area and year.")
    out = pd.DataFrame({"org_code": raw[code].astype(str), "org_level": level,
                        "org_name": raw.get(f"{level}22_name"), "year": years.astype(int)})
    for src, dst in _BANDS.items():
        if src in raw.columns:
            out[dst] = to_counts(raw[src], src, p.name, keys)
    report_missing(out, list(_BANDS.values()), p.name)
    if "icb22_code_h" in raw.columns:
        out["icb22_code_h"] = raw["icb22_code_h"]
    out.attrs["evalint_io"] = {"file": p.name}
    return out
