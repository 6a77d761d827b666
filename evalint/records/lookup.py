"""The one place evalint.records reads the ICB lookup.

ICB of residence is matched on the ICB's ODS code (``QHG``) or its ONS code (``E54000024``);
the panel's unit label is the ODS code. Repoint :func:`icb_lookup` at a fuller geography
lookup (LSOA -> sub-ICB -> ICB) without touching the engines.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["icb_lookup", "icb_table"]


def icb_table() -> pd.DataFrame:
    """The 42 ICBs: ``icb`` (ODS code), ``icb_name``, ``icb_ons_code``, ``population_approx``."""
    from evalint.geography import load_icbs

    t = load_icbs()
    return pd.DataFrame({
        "icb": t["icb_ods_code"].astype(str),
        "icb_name": t["icb_name"].astype(str),
        "icb_ons_code": t["icb_ons_code"].astype(str),
        "population_approx": t["population_approx"].astype(float),
    }).sort_values("icb", kind="mergesort").reset_index(drop=True)


def icb_lookup() -> pd.DataFrame:
    """Area code -> ICB: two columns ``area_code`` and ``unit``; each ICB appears under its
    ODS and its ONS code."""
    t = icb_table()
    ods = pd.DataFrame({"area_code": t["icb"], "unit": t["icb"]})
    ons = pd.DataFrame({"area_code": t["icb_ons_code"], "unit": t["icb"]})
    out = pd.concat([ods, ons], ignore_index=True)
    return out.drop_duplicates("area_code").reset_index(drop=True)
