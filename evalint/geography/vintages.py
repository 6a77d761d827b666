"""Putting an ICB 2022 series on a later ICB geography with a lookup the user supplies.

The 42 ICBs of July 2022 became 36 on 1 April 2026 (six new ICBs from twelve abolished ones, one
boundary change, and Frimley ICB split between its neighbours), so a 2026 ICB is not always a
union of whole 2022 ICBs. NHS England's and ONS's mapping is not shipped with evalint: the
primary lookup is ONS's "LSOA (2021) to SICBL to ICB to NHSER to LAD (April 2026) Lookup in
EN" (Open Geography Portal item ``bebf631bb1ac40cf9ec7dc060897ca99``, released 20 April 2026),
which together with the July 2022 LSOA lookup and LSOA populations gives each 2022 ICB's share in
each 2026 ICB. :func:`to_icb_vintage` applies such a table; without one it refuses, saying so
(methods/geography.md records what was searched).

Lookup format (CSV path or DataFrame): ``icb22_code`` (ONS E54... or ODS Q.. code of the 2022
ICB), ``icb26_code`` (the later ICB's code, any coding), optional ``icb26_name``, and ``share``:
the part of the 2022 ICB's quantity allotted to that later ICB (e.g. the 2021 population of the
LSOAs lying in both, over the 2022 ICB's population). Shares sum to 1 for every 2022 ICB; a 2022
ICB that moved whole has one row with share 1.

References
----------
Office for National Statistics (2026). LSOA (2021) to SICBL to ICB to NHSER to LAD (April 2026)
Lookup in EN. NHS England Organisation Data Service, "ICB mergers 2026 change summary".
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from evalint.errors import ColumnNotFoundError, DataError, format_examples
from evalint.geography.areas import keyed_values
from evalint.geography.errors import UnknownCodeError, UnsupportedVintageError
from evalint.geography.icbs import icb_table

__all__ = ["LATER_VINTAGES", "LOOKUP_ENV", "icb_vintage_lookup", "to_icb_vintage"]

#: Later ICB geographies a 2022 series can be put on with a user-supplied lookup.
LATER_VINTAGES = ("2026",)
#: Environment variable naming a lookup file per vintage, e.g. EVALINT_ICB_LOOKUP_2026.
LOOKUP_ENV = "EVALINT_ICB_LOOKUP_{vintage}"

_NOT_SHIPPED = (
    "The 2022 -> April 2026 ICB mapping is not published in evalint (no primary lookup is shipped: the "
    "2026 ICBs are not unions of whole 2022 ICBs, Frimley was split). Supply one: "
    "to_icb_vintage(frame, value, target='2026', lookup='icb22_to_icb26.csv'), or set "
    "$EVALINT_ICB_LOOKUP_2026 to that file; columns icb22_code, icb26_code, share (the part of each 2022 "
    "ICB in each 2026 ICB, summing to 1 per 2022 ICB), built e.g. from ONS 'LSOA (2021) to SICBL to ICB to "
    "NHSER to LAD (April 2026) Lookup in EN' with LSOA populations. See methods/geography.md."
)


def icb_vintage_lookup(target: str = "2026", lookup: str | Path | pd.DataFrame | None = None) -> pd.DataFrame:
    """The checked 2022 -> ``target`` ICB table: ``icb22_code`` (ONS E54...), ``icb_code``,
    ``icb_name`` (when given), ``share``.

    Parameters
    ----------
    target : {"2026"}
        The later geography.
    lookup : path or DataFrame, optional
        The user's lookup (format in the module docstring). Without it the path in
        ``$EVALINT_ICB_LOOKUP_2026`` is used.

    Raises
    ------
    UnsupportedVintageError
        No lookup given or configured (the mapping is not shipped), or a target other than 2026.
    evalint.errors.ColumnNotFoundError
        A required column is missing from the lookup.
    evalint.errors.DataError
        Shares outside [0, 1], not summing to 1 for a 2022 ICB, or a 2022 ICB absent.
    UnknownCodeError
        ``icb22_code`` values that are not ICBs of July 2022.
    """
    key = str(target).strip()
    if key not in LATER_VINTAGES:
        raise UnsupportedVintageError(
            f"target geography {target!r} is not supported; later ICB geographies: {', '.join(LATER_VINTAGES)} "
            "(with a lookup you supply). The package's own geography is the 2022 one.")
    if lookup is None:
        env = os.environ.get(LOOKUP_ENV.format(vintage=key), "").strip()
        if not env:
            raise UnsupportedVintageError(_NOT_SHIPPED)
        lookup = env
    if isinstance(lookup, pd.DataFrame):
        table = lookup.copy()
        label = "the lookup frame"
    else:
        path = Path(lookup).expanduser()
        if not path.is_file():
            raise UnsupportedVintageError(f"ICB lookup file {str(path)!r} does not exist. {_NOT_SHIPPED}")
        table = pd.read_csv(path, dtype={"icb22_code": str, f"icb{key[2:]}_code": str}, encoding="utf-8-sig")
        label = path.name
    new = f"icb{key[2:]}_code"
    missing = [c for c in ("icb22_code", new, "share") if c not in table.columns]
    if missing:
        raise ColumnNotFoundError(
            f"{label}: column(s) {format_examples(missing)} missing; a 2022 -> {key} ICB lookup needs "
            f"icb22_code, {new}, share (columns found: {format_examples(list(table.columns))}).")
    ref = icb_table("2022")
    ods_to_ons = dict(zip(ref["icb22_code_h"], ref["icb22_code"]))
    codes = table["icb22_code"].astype(str).str.strip().str.upper()
    codes = codes.map(lambda c: ods_to_ons.get(c, c))
    unknown = sorted(set(codes) - set(ref["icb22_code"]))
    if unknown:
        raise UnknownCodeError(
            f"{label}: icb22_code value(s) {format_examples(unknown)} are not ICBs of July 2022 (ONS E54... or "
            "ODS Q.. codes of the 42 ICBs).")
    share = pd.to_numeric(table["share"], errors="coerce")
    if share.isna().any() or (share < 0).any() or (share > 1 + 1e-9).any():
        bad = table.loc[share.isna() | (share < 0) | (share > 1 + 1e-9), "icb22_code"].astype(str).tolist()
        raise DataError(f"{label}: share must be a number in [0, 1]; rows of {format_examples(bad)} are not.")
    out = pd.DataFrame({"icb22_code": codes.to_numpy(), "icb_code": table[new].astype(str).str.strip().to_numpy(),
                        "share": share.to_numpy(dtype="float64")})
    if f"icb{key[2:]}_name" in table.columns:
        out["icb_name"] = table[f"icb{key[2:]}_name"].astype(str).to_numpy()
    sums = out.groupby("icb22_code")["share"].sum()
    off = sums[~np.isclose(sums.to_numpy(), 1.0, atol=1e-6)]
    if len(off):
        raise DataError(
            f"{label}: shares do not sum to 1 for {len(off)} 2022 ICB(s): "
            f"{format_examples([f'{c} ({v:.4f})' for c, v in off.items()])}. Each 2022 ICB's quantity must be "
            "allotted in full.")
    absent = sorted(set(ref["icb22_code"]) - set(out["icb22_code"]))
    if absent:
        raise DataError(
            f"{label}: {len(absent)} of the 42 ICBs of 2022 have no row, e.g. {format_examples(absent)}; an ICB "
            "that moved whole needs one row with share 1.")
    return out.groupby(["icb22_code", "icb_code", *(["icb_name"] if "icb_name" in out.columns else [])],
                       as_index=False)["share"].sum()


def to_icb_vintage(
    frame: pd.DataFrame,
    value: str | list[str],
    *,
    target: str = "2026",
    icb: str = "icb22_code",
    time: str | None = None,
    lookup: str | Path | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Put additive ICB 2022 values on a later ICB geography through a lookup.

    Each 2022 ICB's value is split by its shares and summed per later ICB (and period), so
    totals over ICBs are kept. Only additive quantities (counts, populations, spend) may be
    moved this way; rates are recomputed afterwards from moved numerators and denominators.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per 2022 ICB (and period). Never modified.
    value : str or list of str
        Additive column(s).
    target : {"2026"}
        The later geography.
    icb : str
        Column of 2022 ICB codes (ONS E54... or ODS Q..).
    time : str, optional
        Period column, kept as a key.
    lookup : path or DataFrame, optional
        See :func:`icb_vintage_lookup`; required (directly or via ``$EVALINT_ICB_LOOKUP_2026``):
        evalint does not ship the 2026 mapping.

    Returns
    -------
    pandas.DataFrame
        ``icb_code`` (and ``time``) with the moved sums; ``attrs["evalint_geography"]`` names the
        target and the lookup.

    Raises
    ------
    UnsupportedVintageError
        No lookup supplied (the message says how to supply one), or an unsupported target.
    UnknownCodeError
        ICB codes in ``frame`` that are not 2022 ICBs.
    DuplicateRowsError, MissingValuesError, NonNumericError
        Two rows for one ICB (and period), a missing period, text in a value column.

    References
    ----------
    ONS (2026). LSOA (2021) to SICBL to ICB to NHSER to LAD (April 2026) Lookup in EN.
    """
    values = [value] if isinstance(value, str) else list(value)
    for col in [icb, *values, *([time] if time else [])]:
        if col not in frame.columns:
            raise ColumnNotFoundError(f"column {col!r} not in the frame; columns: {format_examples(frame.columns)}")
    table = icb_vintage_lookup(target, lookup)
    ref = icb_table("2022")
    ods_to_ons = dict(zip(ref["icb22_code_h"], ref["icb22_code"]))
    codes = frame[icb].astype(str).str.strip().str.upper().map(lambda c: ods_to_ons.get(c, c))
    unknown = sorted(set(codes) - set(ref["icb22_code"]))
    if unknown:
        raise UnknownCodeError(
            f"{len(unknown)} code(s) in column {icb!r} are not ICBs of July 2022: {format_examples(unknown)}.")
    data = keyed_values(frame, codes, values, time, "ICB").rename(columns={"_code": "_icb22"})
    merged = data.merge(table, left_on="_icb22", right_on="icb22_code", how="inner")
    for col in values:
        merged[col] = merged[col] * merged["share"]
    keys = ["icb_code", *(["icb_name"] if "icb_name" in merged.columns else []), *([time] if time else [])]
    out = merged.groupby(keys, as_index=False)[values].sum(min_count=1)
    out.attrs["evalint_geography"] = {"target": str(target), "lookup": "frame" if isinstance(lookup, pd.DataFrame)
                                      else str(lookup or os.environ.get(LOOKUP_ENV.format(vintage=target), ""))}
    return out
