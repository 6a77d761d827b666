"""The 42 Integrated Care Boards of 1 July 2022 (the ``"2022"`` geography vintage).

Package data (``icbs.csv``) compiled from the project's curated ``ics_icb.csv`` (sources kept per
row): name, ODS code (``Q..``), ONS code (``E54...``, ICB July 2022), NHS region, statutory
go-live, ICS wave and designation date. ``evalint.calendar`` re-exports :func:`load_icbs` as part of
its public API.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib.resources import files

import pandas as pd

from evalint.errors import format_examples
from evalint.geography._source import check_vintage
from evalint.geography.errors import UnknownCodeError

__all__ = ["load_icbs", "icb_table", "icb_codes", "icb_name", "to_icb_code"]


@lru_cache(maxsize=1)
def _load() -> pd.DataFrame:
    path = files("evalint.geography").joinpath("icbs.csv")
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


def icb_table(vintage: str = "2022") -> pd.DataFrame:
    """The ICBs of a geography vintage: ``icb22_code`` (ONS E54...), ``icb22_code_h`` (ODS
    Q..), ``icb22_name``, ``nhs_region``, sorted by ONS code.

    Raises
    ------
    UnsupportedVintageError
        For a vintage other than ``"2022"``.
    """
    check_vintage(vintage)
    df = _load()
    out = pd.DataFrame({
        "icb22_code": df["icb_ons_code"],
        "icb22_code_h": df["icb_ods_code"],
        "icb22_name": df["icb_name"],
        "nhs_region": df["nhs_region"],
    })
    return out.sort_values("icb22_code").reset_index(drop=True)


def icb_codes(vintage: str = "2022", kind: str = "ons") -> list[str]:
    """The 42 ICB codes, ONS (``kind="ons"``, E54...) or ODS (``kind="ods"``, Q..)."""
    table = icb_table(vintage)
    if kind not in ("ons", "ods"):
        from evalint.errors import SpecificationError

        raise SpecificationError(f"kind must be 'ons' or 'ods', got {kind!r}")
    return table["icb22_code" if kind == "ons" else "icb22_code_h"].tolist()


def _code_map() -> dict[str, str]:
    table = icb_table("2022")
    mapping = dict(zip(table["icb22_code"], table["icb22_code"]))
    mapping.update(zip(table["icb22_code_h"], table["icb22_code"]))
    return mapping


def to_icb_code(codes: str | Iterable[str], vintage: str = "2022") -> str | list[str]:
    """ONS ICB codes (E54...) for ICB codes given as ONS or ODS (``Q..``) codes.

    Raises
    ------
    UnknownCodeError
        Naming the codes that are not ICBs of the vintage.
    """
    check_vintage(vintage)
    mapping = _code_map()
    single = isinstance(codes, str)
    if not single and (codes is None or not hasattr(codes, "__iter__")):
        raise UnknownCodeError(
            f"{codes!r} is not an ICB code: give an ONS (E54...) or ODS (Q..) code as text, or a "
            "list of them.")
    items = [codes] if single else list(codes)  # type: ignore[arg-type]
    cleaned = [str(c).strip().upper() for c in items]
    unknown = sorted({c for c in cleaned if c not in mapping})
    if unknown:
        raise UnknownCodeError(
            f"{len(unknown)} code(s) are not ICBs of the {vintage} geography: "
            f"{format_examples(unknown)}. Expected ONS ICB July 2022 codes (E54000008 ...) or "
            "ODS codes (QYG ...); see evalint.geography.icb_table(). A CCG or sub-ICB code maps "
            "through ccg_to_icb(); an STP 2021 code through its LSOAs, not one to one."
        )
    out = [mapping[c] for c in cleaned]
    return out[0] if single else out


def icb_name(code: str, vintage: str = "2022") -> str:
    """The name of the ICB with ONS or ODS ``code``."""
    ons = to_icb_code(code, vintage)
    table = icb_table(vintage).set_index("icb22_code")
    return str(table.at[ons, "icb22_name"])
