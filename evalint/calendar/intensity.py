"""Per-area intensity of calendar events: how hard an event hits each area.

A national event does not hit every area alike when its money or its cause is unevenly
spread (the 2022-23 discharge fund gave ICBs 75% of their share by a discharge-delay
metric; COVID waves peaked region by region). An :class:`IntensityTable` gives one number
per area for one event: ``area_code, intensity, unit, source`` (plus ``area_type``). The
policy-calendar check compares the intensity of treated and comparison units (a
standardised difference, :mod:`evalint.calendar.exposure`), and the churn sensitivity
re-estimates use it as a regressor.

Format of a user table (CSV, one row per area; read with :func:`read_intensity_csv`)::

    area_code,intensity,unit,source
    QHG,41.2,GBP per head (18+),my allocation spreadsheet (ICB Annex D, 16 Nov 2022)
    QUE,35.0,GBP per head (18+),my allocation spreadsheet (ICB Annex D, 16 Nov 2022)

``area_code`` must use the same ids as the panel's units (ICB ODS codes for the default
calendar); ``intensity`` is a number (a site list is 1 for sites, 0 otherwise); ``unit``
and ``source`` are free text and must be the same on every row. Attach a table with
:meth:`evalint.calendar.PolicyCalendar.with_intensity`.

Shipped table (read at run time from the real-data folder, never copied into evalint):
``bcf_intermediate_care_2022_23``: Better Care Fund 2022-23 planned spend on bed-based
intermediate care and reablement at home, GBP per resident aged 18+, by Health and
Wellbeing Board, mapped to the 42 ICBs (population-weighted over LTLA pieces). The folder is
``$EVALINT_REALDATA_DIR`` or ``shared/realdata`` beside the source checkout.

References
----------
NHS England (2023). Better Care Fund end of year data collection 2022 to 2023 (planned
expenditure). Via HFAnalyticsLab/Intermediate-care-open-data-clean, ``Outputs/BCF.csv``.
ONS (2022). Lower tier local authority to ICB lookup (July 2022), via humaniverse/geographr.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from evalint.errors import (
    ColumnNotFoundError,
    DuplicateRowsError,
    EmptyDataError,
    MissingValuesError,
    NonNumericError,
    SpecificationError,
    format_examples,
)

__all__ = [
    "INTENSITY_COLUMNS",
    "REALDATA_ENV",
    "IntensityTable",
    "builtin_intensity",
    "hwb_to_icb",
    "list_builtin_intensity",
    "read_intensity_csv",
    "realdata_dir",
]

INTENSITY_COLUMNS = ("area_code", "intensity", "unit", "source")
REALDATA_ENV = "EVALINT_REALDATA_DIR"


@dataclass(frozen=True)
class IntensityTable:
    """One number per area for one event.

    Parameters
    ----------
    name : str
        Table name (events refer to it in their ``intensity`` field).
    values : pandas.Series
        Intensity indexed by area code (float; no missing values).
    unit : str
        What the number measures (e.g. ``"GBP per head (18+)"``).
    source : str
        Where the numbers come from.
    area_type : str
        ``"icb"`` (ICB ODS codes, as the default calendar), ``"hwb"``, ``"trust"``...
    note : str
        Coverage or derivation notes.
    """

    name: str
    values: pd.Series
    unit: str
    source: str
    area_type: str = "icb"
    note: str = ""

    def __post_init__(self) -> None:
        v = pd.Series(self.values, dtype=float).copy()
        v.index = v.index.astype(str)
        if v.index.has_duplicates:
            dup = sorted(set(v.index[v.index.duplicated()]))
            raise DuplicateRowsError(
                f"intensity table {self.name!r}: area codes {format_examples(dup)} appear more than "
                "once; give one row per area.")
        if v.isna().any():
            bad = list(v.index[v.isna()])
            raise MissingValuesError(
                f"intensity table {self.name!r}: intensity is missing for {format_examples(bad)}; "
                "drop those areas or fill them in.")
        if v.empty:
            raise EmptyDataError(f"intensity table {self.name!r} has no areas.")
        if not self.source.strip():
            raise MissingValuesError(f"intensity table {self.name!r} has no source; say where the "
                                     "numbers come from.")
        object.__setattr__(self, "values", v)

    def for_units(self, units: list[str] | tuple[str, ...] | frozenset[str]) -> pd.Series:
        """Intensity of ``units`` (areas the table lacks are left out)."""
        return self.values.reindex([u for u in units if u in self.values.index])

    def to_frame(self) -> pd.DataFrame:
        """The table in the documented CSV format (``area_code, intensity, unit, source``)."""
        return pd.DataFrame({"area_code": self.values.index, "intensity": self.values.to_numpy(),
                             "unit": self.unit, "source": self.source})


def read_intensity_csv(path: str | os.PathLike[str], name: str | None = None,
                       area_type: str = "icb") -> IntensityTable:
    """Read a user intensity table in the documented CSV format.

    Raises
    ------
    ColumnNotFoundError
        One of ``area_code, intensity, unit, source`` is missing.
    NonNumericError
        ``intensity`` has a non-numeric value (the row is named).
    MissingValuesError, DuplicateRowsError, SpecificationError
        Empty values, repeated areas, or more than one unit/source.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SpecificationError(f"intensity CSV {path!r} does not exist.")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.columns = [str(c).strip() for c in df.columns]
    for col in INTENSITY_COLUMNS:
        if col not in df.columns:
            raise ColumnNotFoundError(
                f"{path}: column {col!r} is missing; an intensity table needs "
                f"{', '.join(INTENSITY_COLUMNS)}. Columns found: {format_examples(list(df.columns))}.")
    num = pd.to_numeric(df["intensity"].str.strip(), errors="coerce")
    bad = df.index[num.isna()]
    if len(bad):
        rows = [f"{int(i) + 2} ({df.at[i, 'area_code']!r}: {df.at[i, 'intensity']!r})" for i in bad]
        raise NonNumericError(
            f"{path}: intensity is not a number in row(s) {format_examples(rows)}.")
    for col in ("unit", "source"):
        vals = sorted(set(df[col].str.strip()))
        if len(vals) != 1 or not vals[0]:
            raise SpecificationError(
                f"{path}: column {col!r} must hold one non-empty value on every row; found "
                f"{format_examples(vals)}.")
    values = pd.Series(num.to_numpy(float), index=df["area_code"].str.strip())
    return IntensityTable(name=name or Path(path).stem, values=values, unit=df["unit"].iat[0].strip(),
                          source=df["source"].iat[0].strip(), area_type=area_type)


# ---------------------------------------------------------------------------------
# real data folder and the shipped table
def realdata_dir() -> Path | None:
    """``$EVALINT_REALDATA_DIR`` if set, else ``shared/realdata`` beside the source checkout."""
    env = os.environ.get(REALDATA_ENV, "").strip()
    if env:
        p = Path(env).expanduser()
        return p if p.is_dir() else None
    found = _FOUND_REALDATA[0]
    if found is not None and found.is_dir():  # the checkout's folder, searched for once per process
        return found
    found = _search_realdata()
    _FOUND_REALDATA[0] = found
    return found


#: The real-data folder found beside the checkout by :func:`_search_realdata` (``None``: not yet found).
_FOUND_REALDATA: list[Path | None] = [None]


def _search_realdata() -> Path | None:
    here = Path(__file__).resolve()
    for root in here.parents:
        if (root / "pyproject.toml").is_file():
            cand = root.parent / "shared" / "realdata"
            if cand.is_dir():
                return cand
    return None


def hwb_to_icb(folder: Path) -> pd.DataFrame:
    """Population weights mapping upper-tier local authorities (HWBs) to ICBs.

    The geography's upper-tier lookup (:func:`evalint.geography.areas.utla_to_icb`) read from
    the real-data folder ``folder``. Returns ``hwb_code, icb, pop`` (one row per HWB x ICB piece,
    ``pop`` the piece's 2020 population).
    """
    from evalint.geography.areas import utla_to_icb

    return (utla_to_icb(source_dir=folder)[["utla21_code", "icb22_code_h", "pop2020"]]
            .rename(columns={"utla21_code": "hwb_code", "icb22_code_h": "icb", "pop2020": "pop"}))


def _bcf_intermediate_care_2022_23(folder: Path) -> IntensityTable:
    raw = pd.read_csv(folder / "bcf_2022_23_intermediate_care_la" / "BCF.csv", dtype={"Code": str})
    raw = raw.loc[raw["Code"].str.startswith("E", na=False)]
    spend = raw[["Bed based intermediate Care Services", "Reablement in a persons own home"]]
    ok = spend.notna().all(axis=1) & raw["value"].notna()
    per_head = pd.Series((spend.loc[ok].sum(axis=1) / raw.loc[ok, "value"]).to_numpy(float),
                         index=raw.loc[ok, "Code"].to_numpy())
    w = hwb_to_icb(folder)
    w = w.loc[w["hwb_code"].isin(per_head.index)].copy()
    w["x"] = per_head.reindex(w["hwb_code"]).to_numpy()
    g = w.groupby("icb")
    icb = (g.apply(lambda d: float(np.sum(d["x"] * d["pop"]) / np.sum(d["pop"])),
                   include_groups=False))
    n_hwb = int(ok.sum())
    return IntensityTable(
        name="bcf_intermediate_care_2022_23", values=icb.astype(float), area_type="icb",
        unit="GBP per resident aged 18+ (BCF 2022-23 planned spend: bed-based intermediate care + "
             "reablement at home)",
        source="NHS England 'Better Care Fund end of year data collection 2022 to 2023' (planned "
               "expenditure), via HFAnalyticsLab/Intermediate-care-open-data-clean Outputs/BCF.csv "
               "(shared/realdata/bcf_2022_23_intermediate_care_la); HWB -> ICB by 2020 population "
               "over LTLA pieces (shared/realdata/lookups_trust_icb_la)",
        note=(f"{n_hwb} of {len(raw)} HWBs have both spend lines and a population; ICBs average the "
              "HWBs they overlap, weighted by population. A proxy for the discharge funds' intensity "
              "(the funds were pooled into the BCF); the fund allocations themselves (Annex C/D) are "
              "not in the real-data folder."),
    )


_BUILTIN: dict[str, Callable[[Path], IntensityTable]] = {
    "bcf_intermediate_care_2022_23": _bcf_intermediate_care_2022_23,
}


def list_builtin_intensity() -> list[str]:
    """Names of the intensity tables evalint can build from the real-data folder."""
    return sorted(_BUILTIN)


@cache
def _builtin(name: str, folder: str) -> IntensityTable:
    return _BUILTIN[name](Path(folder))


def builtin_intensity(name: str) -> IntensityTable | None:
    """The shipped intensity table ``name``, or ``None`` when the real-data folder is absent.

    Raises
    ------
    SpecificationError
        ``name`` is not a shipped table.
    """
    if name not in _BUILTIN:
        raise SpecificationError(
            f"intensity table {name!r} is not shipped; shipped tables: "
            f"{', '.join(list_builtin_intensity())}. Attach your own with "
            "PolicyCalendar.with_intensity(event_id, read_intensity_csv(path)).")
    folder = realdata_dir()
    if folder is None:
        return None
    try:
        return _builtin(name, str(folder))
    except FileNotFoundError:
        return None
