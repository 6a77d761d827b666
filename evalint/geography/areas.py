"""Areas onto ICBs (2022): CCG 2021 / sub-ICB locations and lower-tier local authorities.

Each lookup is a table ``<area code>, icb22_code, share`` where ``share`` is the part of the area
in that ICB (sums to 1 per area). Three CCGs (April 2021) and twelve LTLAs (2022) are split
across two ICBs; their shares are LSOA counts (CCGs) or 2020 mid-year population (LTLAs), so a
count for a split area can be apportioned (an approximation: it assumes the count is spread like
the LSOAs / the population).

References
----------
Office for National Statistics (2022). LSOA (2011) to Sub ICB Locations to Integrated Care Boards
(July 2022) lookup; LSOA mid-year population estimates (mid-2020).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalint.geography._source import LOOKUPS, check_vintage, read_lookup

__all__ = ["AREA_LEVELS", "ccg_to_icb", "subicb_to_icb", "stp_to_icb", "ltla_to_icb", "utla_to_icb",
           "areas_to_icb"]


def ccg_to_icb(*, vintage: str = "2022", source_dir: str | Path | None = None) -> pd.DataFrame:
    """CCG (April 2021) -> ICB 2022 with the LSOA share of the CCG in each ICB.

    Returns
    -------
    pandas.DataFrame
        ``ccg21_code`` (E38...), ``ccg21_name``, ``icb22_code``, ``icb22_code_h``, ``n_lsoa11``,
        ``share`` (sums to 1 per CCG), ``split`` (True for the 3 CCGs split across ICBs).
    """
    check_vintage(vintage)
    df = read_lookup(LOOKUPS, "ccg21_to_icb22.csv", source_dir=source_dir)
    df["share"] = df["n_lsoa11"] / df.groupby("ccg21_code")["n_lsoa11"].transform("sum")
    df["split"] = df.groupby("ccg21_code")["icb22_code"].transform("size") > 1
    return df.reset_index(drop=True)


def subicb_to_icb(*, vintage: str = "2022", source_dir: str | Path | None = None) -> pd.DataFrame:
    """Sub-ICB location (July 2022; the former CCGs, ONS E38... and ODS codes) -> ICB 2022.
    Each sub-ICB location lies in one ICB (``share`` = 1)."""
    check_vintage(vintage)
    df = read_lookup(LOOKUPS, "subicb22_ccg_to_icb22.csv", source_dir=source_dir)
    df["share"] = 1.0
    return df.reset_index(drop=True)


def ltla_to_icb(*, vintage: str = "2022", source_dir: str | Path | None = None) -> pd.DataFrame:
    """Lower-tier local authority (2022) -> ICB 2022 with the population share of the LTLA in
    each ICB (mid-2020 LSOA estimates).

    Returns
    -------
    pandas.DataFrame
        ``ltla22_code``, ``ltla22_name``, ``icb22_code``, ``icb22_code_h``, ``pop2020``,
        ``share`` (sums to 1 per LTLA), ``split`` (True for the 12 LTLAs split across ICBs).
    """
    check_vintage(vintage)
    df = read_lookup(LOOKUPS, "ltla22_to_icb22.csv", source_dir=source_dir)
    df["share"] = df["pop2020"] / df.groupby("ltla22_code")["pop2020"].transform("sum")
    df["split"] = df.groupby("ltla22_code")["icb22_code"].transform("size") > 1
    return df.drop(columns=["share_of_ltla_pop"]).reset_index(drop=True)


def utla_to_icb(*, vintage: str = "2022", source_dir: str | Path | None = None) -> pd.DataFrame:
    """Upper-tier local authority (2021; the Health and Wellbeing Board areas of the Better Care
    Fund) -> ICB 2022 with the population share of the authority in each ICB.

    Built from the LTLA pieces (:func:`ltla_to_icb`) and the ONS LTLA -> upper-tier lookup
    (``lookup_ltla21_utla21.csv``; LTLA codes are the same in 2021 and 2022). A unitary authority
    missing from that lookup is its own upper tier.

    Returns
    -------
    pandas.DataFrame
        ``utla21_code``, ``utla21_name``, ``icb22_code``, ``icb22_code_h``, ``pop2020``, ``share``
        (sums to 1 per authority), ``split`` (True for authorities split across ICBs).

    References
    ----------
    Office for National Statistics (2021). Local Authority District to County and Unitary
    Authority (April 2021) lookup in England and Wales.
    """
    ltla = ltla_to_icb(vintage=vintage, source_dir=source_dir)
    upper = read_lookup(LOOKUPS, "lookup_ltla21_utla21.csv", str_columns=("ltla21_code", "utla21_code"),
                        source_dir=source_dir)[["ltla21_code", "utla21_code", "utla21_name"]]
    m = ltla.merge(upper, left_on="ltla22_code", right_on="ltla21_code", how="left")
    own = m["utla21_code"].isna()
    m.loc[own, "utla21_code"] = m.loc[own, "ltla22_code"]
    m.loc[own, "utla21_name"] = m.loc[own, "ltla22_name"]
    out = (m.groupby(["utla21_code", "utla21_name", "icb22_code", "icb22_code_h"], as_index=False)["pop2020"]
           .sum())
    out["share"] = out["pop2020"] / out.groupby("utla21_code")["pop2020"].transform("sum")
    out["split"] = out.groupby("utla21_code")["icb22_code"].transform("size") > 1
    return out.reset_index(drop=True)


#: Earlier / other boundary sets that can be put on the 2022 ICBs, and their area code column.
AREA_LEVELS = ("ccg21", "subicb22", "stp21", "ltla22", "utla21")


def stp_to_icb(*, vintage: str = "2022", source_dir: str | Path | None = None) -> pd.DataFrame:
    """STP 2021 -> ICB 2022 with the LSOA share of the STP in each ICB (``stp21_code``,
    ``icb22_code``, ``n_lsoa11``, ``share``, ``split``). Four STPs are split: Greater Manchester
    (Glossop), South Yorkshire and Bassetlaw, Black Country and West Birmingham, and
    Cambridgeshire and Peterborough; several STP codes were renumbered for their ICB."""
    check_vintage(vintage)
    c2s = read_lookup(LOOKUPS, "ccg21_to_stp21.csv", source_dir=source_dir)
    c2i = read_lookup(LOOKUPS, "ccg21_to_icb22.csv", source_dir=source_dir)
    both = c2s[["ccg21_code", "stp21_code"]].merge(
        c2i[["ccg21_code", "icb22_code", "n_lsoa11"]], on="ccg21_code")
    out = both.groupby(["stp21_code", "icb22_code"], as_index=False)["n_lsoa11"].sum()
    out["share"] = out["n_lsoa11"] / out.groupby("stp21_code")["n_lsoa11"].transform("sum")
    out["split"] = out.groupby("stp21_code")["icb22_code"].transform("size") > 1
    return out


def areas_to_icb(
    frame: pd.DataFrame,
    value: str | list[str],
    *,
    area: str,
    level: str,
    time: str | None = None,
    vintage: str = "2022",
    source_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Put an area series on the 2022 ICBs: each area's values are apportioned to ICBs by its
    share (LSOA counts for CCGs and STPs, 2020 population for LTLAs) and summed per ICB (and
    period). Only additive quantities (counts, populations, spend) may be apportioned.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per area (and period). Never modified.
    value : str or list of str
        Additive column(s) to apportion.
    area : str
        Area code column (ONS codes: E38... for CCGs/sub-ICBs, E54... for STPs, E06-E09 for
        LTLAs).
    level : {"ccg21", "subicb22", "stp21", "ltla22", "utla21"}
        Which boundary set the codes are on (``"utla21"``: upper-tier authorities, i.e. the
        Health and Wellbeing Boards of the Better Care Fund).
    time : str, optional
        Period column, kept as a key.

    Returns
    -------
    pandas.DataFrame
        ``icb22_code`` (and ``time``) with the apportioned sums.

    Raises
    ------
    UnknownCodeError
        Naming area codes that are not in the lookup of ``level``.
    DuplicateRowsError
        Two rows for one area (and period): they would be counted twice.
    MissingValuesError, NonNumericError
        A missing period, or text in a value column (NaN values stay NaN).

    References
    ----------
    ONS (2022). LSOA (2011) to Sub ICB Locations to Integrated Care Boards (July 2022).
    """
    from evalint._typing import check_option
    from evalint.errors import ColumnNotFoundError, format_examples
    from evalint.geography.errors import UnknownCodeError

    check_option("level", level, AREA_LEVELS)
    values = [value] if isinstance(value, str) else list(value)
    for col in [area, *values, *([time] if time else [])]:
        if col not in frame.columns:
            raise ColumnNotFoundError(
                f"column {col!r} not in the frame; columns: {format_examples(frame.columns)}")
    lookups = {
        "ccg21": (ccg_to_icb, "ccg21_code"), "subicb22": (subicb_to_icb, "sicbl22_code"),
        "stp21": (stp_to_icb, "stp21_code"), "ltla22": (ltla_to_icb, "ltla22_code"),
        "utla21": (utla_to_icb, "utla21_code"),
    }
    func, code_col = lookups[level]
    table = func(vintage=vintage, source_dir=source_dir)[[code_col, "icb22_code", "share"]]
    codes = frame[area].astype(str).str.strip().str.upper()
    unknown = sorted(set(codes) - set(table[code_col]))
    if unknown:
        raise UnknownCodeError(
            f"{len(unknown)} {level} code(s) in column {area!r} are not in the {level} -> ICB "
            f"{vintage} lookup: {format_examples(unknown)}. Check the boundary set (level=) - "
            f"codes of other years need their own lookup first.")
    data = keyed_values(frame, codes, values, time, "area")
    data = data.rename(columns={"_code": "_area"})
    merged = data.merge(table, left_on="_area", right_on=code_col, how="inner")
    for col in values:
        merged[col] = merged[col] * merged["share"]
    keys = ["icb22_code", *([time] if time else [])]
    return merged.groupby(keys, as_index=False)[values].sum(min_count=1)


def keyed_values(frame: pd.DataFrame, codes: pd.Series, values: list[str], time: str | None,
                 what: str) -> pd.DataFrame:
    """The value columns of ``frame`` as floats with ``_code`` (and ``time``), checked before they
    are apportioned: a missing period, two rows for one code (and period), text in a value
    column are refused (they would be dropped, counted twice or fail unnamed)."""
    from evalint.errors import DuplicateRowsError, MissingValuesError, NonNumericError, format_examples

    if time and frame[time].isna().any():
        rows = frame.index[frame[time].isna().to_numpy()].tolist()
        raise MissingValuesError(
            f"column {time!r} is missing in {len(rows)} row(s) (rows {format_examples(rows)}); "
            "their values would be left out of every ICB. Drop or fill them first.")
    keyed = pd.DataFrame({"_code": codes.to_numpy()})
    if time:
        keyed[time] = frame[time].to_numpy()
    dup = keyed.duplicated(keep=False).to_numpy()
    if dup.any():
        ex = keyed.loc[dup].astype(str).agg(" ".join, axis=1).unique()
        raise DuplicateRowsError(
            f"{int(dup.sum())} rows share an {what}{' and ' + repr(time) if time else ''} (e.g. "
            f"{format_examples(ex)}); they would be counted twice. Sum or de-duplicate them first.")
    data = frame[[*values, *([time] if time else [])]].copy()
    data["_code"] = codes.to_numpy()
    for col in values:
        numeric = pd.to_numeric(data[col], errors="coerce")
        bad = (numeric.isna() & data[col].notna()).to_numpy()
        if bad.any():
            raise NonNumericError(
                f"column {col!r} has {int(bad.sum())} non-numeric value(s), e.g. "
                f"{format_examples(data.loc[bad, col].astype(str).unique())} (rows "
                f"{format_examples(frame.index[bad].tolist())}); convert them to numbers or NaN first.")
        data[col] = numeric.astype(float)
    return data
