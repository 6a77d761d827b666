"""Adapter for the NHS England tables re-published by the healthyr R package (humaniverse).

healthyr (British Red Cross) publishes tidy CSV copies of NHS England's A&E provider and ICB
tables, the acute discharge sitrep (criteria to reside, discharges) and the UEC bed sitrep.
They are the only copies in ``shared/realdata`` running to 2025, and they carry known defects
(``healthyr_nhse_uec/SOURCE.md``) which this adapter handles explicitly:

1. months copied from another file (A&E Feb/Mar 2025 = Feb/Mar 2024; beds Aug 2022 = Jul 2022)
   are found by :func:`evalint.io.quality.check_copied_months` and dropped (``copied="drop"``);
2. missing daily submissions written as 0 are found by
   :func:`evalint.io.quality.check_zero_filled` and set to NaN (``zeros="missing"``); the
   "discharged 17:01-23:59" column, no longer published from June 2023, becomes NaN then;
3. a warning names what was changed, and ``attrs["evalint_io"]["checks"]`` keeps the checks'
   results as plain dicts (name, passed, text, flags); rerun the checks of
   :mod:`evalint.io.quality` on the frame for the CheckResult objects.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_option
from evalint.errors import (
    _user_stacklevel,
    ColumnNotFoundError,
    DroppedRowsWarning,
    DuplicateRowsError,
    MissingValuesError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import MissingValuesWarning, to_counts
from evalint.io.quality import check_copied_months, check_zero_filled, summarise
from evalint.io._layout import readable_files

__all__ = ["HEALTHYR_TABLES", "read_healthyr", "read_healthyr_discharge"]

#: table name -> (file name in the healthyr ``.broadcast`` folder, frequency, measure columns)
HEALTHYR_TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "trust_ae": ("england_trust_accidents_emergency.csv", "M",
                 ("total_attendances", "attendances_over_4hours", "total_emergency_admissions",
                  "emergency_admissions_over_4hours")),
    "icb_ae": ("england_icb_accidents_emergency.csv", "M",
               ("total_attendances", "attendances_over_4hours", "total_emergency_admissions",
                "emergency_admissions_over_4hours")),
    "trust_criteria_to_reside": ("england_trust_criteria_to_reside.csv", "D",
                                 ("do_not_meet_criteria_to_reside",)),
    "icb_criteria_to_reside": ("england_icb_criteria_to_reside.csv", "D",
                               ("do_not_meet_criteria_to_reside",)),
    "trust_discharged": ("england_trust_discharged_patients.csv", "D",
                         ("discharged_by_1700", "discharged_between_1701_2359", "discharged_total")),
    "icb_discharged": ("england_icb_discharged_patients.csv", "D",
                       ("discharged_by_1700", "discharged_between_1701_2359", "discharged_total")),
    "trust_beds": ("england_critical_general_acute_beds.csv", "M",
                   ("general_acute_beds_available", "general_acute_beds_occupied",
                    "adult_general_acute_beds_available", "adult_general_acute_beds_occupied",
                    "adult_critical_care_beds_available", "adult_critical_care_beds_occupied")),
}
_ORG_COLUMNS = {"nhs_trust22_code": "trust", "icb22_code": "icb"}
#: From June 2023 the sitrep no longer splits discharges by time of day (healthyr writes 0).
SPLIT_DISCHARGES_END = pd.Timestamp("2023-06-01")


def _table_of(path: Path, frame: pd.DataFrame) -> str:
    for name, (file, _, _) in HEALTHYR_TABLES.items():
        if path.name == file:
            return name
    for name, (_, _, cols) in HEALTHYR_TABLES.items():
        org = "nhs_trust22_code" if name.startswith("trust") else "icb22_code"
        if org in frame.columns and set(cols) <= set(frame.columns):
            return name
    raise ColumnNotFoundError(
        f"{path.name}: not a healthyr NHS England table. Expected one of the files "
        f"{[f for f, _, _ in HEALTHYR_TABLES.values()]} or columns 'nhs_trust22_code'/'icb22_code' "
        f"with the measures of a table; columns found: {list(frame.columns)[:12]}."
    )


@readable_files
def read_healthyr(
    path: str | Path,
    table: str | None = None,
    *,
    copied: Literal["drop", "keep"] = "drop",
    zeros: Literal["missing", "keep"] = "missing",
) -> pd.DataFrame:
    """Read one healthyr NHS England table with its known defects handled.

    Parameters
    ----------
    path : path
        A healthyr ``.broadcast`` CSV (see :data:`HEALTHYR_TABLES`).
    table : str, optional
        Table name (key of :data:`HEALTHYR_TABLES`); inferred from the file name or columns.
    copied : {"drop", "keep"}
        Monthly tables: months that repeat the same month a year earlier or the previous month
        for at least 90% of organisations are dropped (default) or kept (flagged only).
    zeros : {"missing", "keep"}
        Daily tables: zeros where the organisation's median is at least 10 become NaN
        (default), as does ``discharged_between_1701_2359`` from June 2023.

    Returns
    -------
    pandas.DataFrame
        ``org_code``, ``org_level`` ("trust" or "icb"), ``period`` (monthly tables, first of
        month) or ``date`` (daily tables), the measures (float) and, for monthly A&E tables, the
        published percentages are not kept (recompute them from the counts).
        ``attrs["evalint_io"]`` has ``table``, ``checks`` (the checks run, as plain dicts:
        name, passed, text, flags), ``dropped_months`` and ``zeros_set_missing``.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        The file is not one of the tables, or lacks its columns.
    evalint.errors.TimeParseError
        Dates that are neither ``"April 2021"`` nor ISO dates.

    References
    ----------
    humaniverse/healthyr (British Red Cross), ``.broadcast`` exports, commit ed2003e;
    underlying NHS England A&E, acute discharge sitrep and UEC sitrep publications (OGL v3).
    """
    check_option("copied", copied, ("drop", "keep"))
    check_option("zeros", zeros, ("missing", "keep"))
    p = Path(path)
    if not p.is_file():
        raise SpecificationError(f"healthyr table {str(p)!r} does not exist.")
    raw = pd.read_csv(p, dtype={"nhs_trust22_code": str, "icb22_code": str})
    name = table or _table_of(p, raw)
    if name not in HEALTHYR_TABLES:
        raise SpecificationError(f"table={name!r} is not one of {sorted(HEALTHYR_TABLES)}.")
    _, freq, cols = HEALTHYR_TABLES[name]
    org_col = next((c for c in _ORG_COLUMNS if c in raw.columns), None)
    miss = [c for c in (*cols, "date") if c not in raw.columns]
    if org_col is None or miss:
        raise ColumnNotFoundError(
            f"{p.name} (healthyr table {name!r}): missing column(s) "
            f"{miss + ([] if org_col else ['nhs_trust22_code or icb22_code'])}."
        )
    time = "period" if freq == "M" else "date"
    fmt = "%B %Y" if freq == "M" else "%Y-%m-%d"
    t = pd.to_datetime(raw["date"], format=fmt, errors="coerce")
    if t.isna().any():
        bad = raw.loc[t.isna(), "date"].iloc[0]
        raise TimeParseError(f"{p.name}: date {bad!r} is not of the form {fmt!r}.")
    codes = raw[org_col].astype("string").str.strip()
    empty = (codes.isna() & raw[list(cols)].isna().all(axis=1)).to_numpy()
    if empty.any():   # rows with neither a code nor a value (243 in the trust sitrep copies, 2025)
        raw, codes, t = raw.loc[~empty], codes.loc[~empty], t.loc[~empty]
    if codes.isna().any():
        lines = [int(i) + 2 for i in raw.index[codes.isna().to_numpy()]]
        raise MissingValuesError(
            f"{p.name}: column {org_col!r} is empty on line(s) {format_examples(lines)}; every "
            "row needs its organisation code. Delete or fill those rows.")
    out = pd.DataFrame({"org_code": codes.astype(object).to_numpy(),
                        "org_level": _ORG_COLUMNS[org_col], time: t.to_numpy()})
    keys = out["org_code"] + " " + out[time].dt.strftime("%Y-%m" if freq == "M" else "%Y-%m-%d")
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DuplicateRowsError(
            f"{p.name}: {int(dup.sum())} rows share an organisation and {time}, e.g. "
            f"{format_examples(keys[dup].unique())}; keep one row per organisation and {time}.")
    for c in cols:
        out[c] = to_counts(raw[c].reset_index(drop=True), c, p.name, keys).to_numpy()
    info: dict[str, Any] = {"table": name, "file": p.name, "checks": [], "dropped_months": [],
                            "zeros_set_missing": {}, "empty_rows_dropped": int(empty.sum())}
    if freq == "M":
        res = check_copied_months(out, unit="org_code", time="period", measures=list(cols))
        info["checks"].append(res)
        if copied == "drop" and not res.passed:
            months = list(res.table["period"])
            drop = out["period"].isin(months)
            info["dropped_months"] = [f"{m:%Y-%m}" for m in months]
            copies = ", ".join(f"{m:%Y-%m} = {c:%Y-%m}" for m, c in zip(res.table["period"], res.table["copied_from"]))
            warnings.warn(
                f"{p.name}: dropped {len(months)} copied month(s) "
                f"({copies}; "
                f"{int(drop.sum())} rows). Pass copied='keep' to keep them.",
                DroppedRowsWarning, stacklevel=_user_stacklevel())
            out = out.loc[~drop].reset_index(drop=True)
    else:
        if "discharged_between_1701_2359" in out.columns and zeros == "missing":
            late = out["date"] >= SPLIT_DISCHARGES_END
            out.loc[late, ["discharged_by_1700", "discharged_between_1701_2359"]] = np.nan
        for c in cols:
            res = check_zero_filled(out.loc[out[c].notna()], c, unit="org_code", time="date")
            info["checks"].append(res)
            if zeros == "missing" and len(res.table):
                key = pd.MultiIndex.from_frame(res.table[["org_code", "date"]])
                hit = pd.MultiIndex.from_frame(out[["org_code", "date"]]).isin(key)
                out.loc[hit, c] = np.nan
                info["zeros_set_missing"][c] = int(hit.sum())
        if info["zeros_set_missing"]:
            warnings.warn(
                f"{p.name}: zeros standing for missing submissions set to NaN: "
                + ", ".join(f"{c}: {n}" for c, n in info["zeros_set_missing"].items())
                + ". Pass zeros='keep' to keep them.", MissingValuesWarning, stacklevel=_user_stacklevel())
    out = out.sort_values(["org_code", time], kind="stable").reset_index(drop=True)
    info["checks"] = summarise(info["checks"])
    out.attrs["evalint_io"] = info
    return out


def read_healthyr_discharge(criteria_path: str | Path, discharged_path: str | Path,
                            **kwargs: Any) -> pd.DataFrame:
    """Join healthyr's criteria-to-reside and discharged tables into the sitrep layout.

    Returns the columns of :func:`evalint.io.read_discharge_sitrep` (``date``, ``org_code``,
    ``org_name`` (= code), ``level``, ``nctr_patients``, ``discharged_patients``,
    ``discharged_by_1700``, ``discharged_1701_2359``, ``nctr_remaining_patients`` =
    criteria - discharged), so :func:`evalint.io.aggregate_to_month` turns it into monthly
    means with the count of days behind each. ``kwargs`` go to :func:`read_healthyr`.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = read_healthyr(criteria_path, **kwargs)
        b = read_healthyr(discharged_path, **kwargs)
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if a["org_level"].iat[0] != b["org_level"].iat[0]:
        raise SpecificationError("read_healthyr_discharge: one file is trust level, the other ICB level.")
    a_, b_ = a.copy(), b.drop(columns="org_level")
    a_.attrs, b_.attrs = {}, {}
    m = a_.merge(b_, on=["org_code", "date"], how="outer")
    out = pd.DataFrame({
        "date": m["date"], "region": pd.NA, "org_code": m["org_code"], "org_name": m["org_code"],
        "level": a["org_level"].iat[0],
        "nctr_patients": m["do_not_meet_criteria_to_reside"],
        "discharged_patients": m["discharged_total"],
        "discharged_by_1700": m["discharged_by_1700"],
        "discharged_1701_2359": m["discharged_between_1701_2359"],
    })
    out["nctr_remaining_patients"] = out["nctr_patients"] - out["discharged_patients"]
    out["source"] = "healthyr"
    out = out.sort_values(["org_code", "date"], kind="stable").reset_index(drop=True)
    out.attrs["evalint_io"] = {"criteria": a.attrs["evalint_io"], "discharged": b.attrs["evalint_io"]}
    return out
