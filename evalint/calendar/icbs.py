"""The 42 Integrated Care Boards (statutory from 1 July 2022) and their ICS waves.

Package data compiled from the project's curated ``ics_icb.csv`` (sources kept per row).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import pandas as pd

__all__ = ["load_icbs"]


@lru_cache(maxsize=1)
def _load() -> pd.DataFrame:
    path = files("evalint.calendar").joinpath("icbs.csv")
    with path.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    for col in ("statutory_go_live", "ics_designation_date"):
        df[col] = pd.to_datetime(df[col])
    df["population_approx"] = pd.to_numeric(df["population_approx"].replace("", None), errors="coerce")
    return df


def load_icbs() -> pd.DataFrame:
    """The 42 ICBs: name, ODS and ONS codes, NHS region, statutory go-live (2022-07-01),
    ICS wave and designation date (2017-2021), approximate population where known, the
    April 2026 successor ICB, and the sources for each row.

    Returns a fresh copy each call.
    """
    return _load().copy()
