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

__all__ = ["ccg_to_icb", "subicb_to_icb", "ltla_to_icb"]


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
