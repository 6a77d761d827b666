"""Reader for NHS England's "Critical care and General & Acute Beds - Urgent and Emergency Care
Daily Situation Reports" monthly file, in its published long CSV layout.

Layout (one file per month; checked on the January 2025 revised and July 2025 files, copies in
emvolz/NBPMscape@c7a1613): a header row ``Period, Level, Region, ICB, Org Code, Org Name,
Metric, Type, Value`` and one row per organisation x metric x type. ``Period`` is the first day
of the month (``01/01/2025``): the values are monthly means of the daily sitrep. ``Level`` is
``National`` (``ENG``), ``Region`` (Y..), ``ICB`` (Q..) or ``Provider`` (trust codes).
Aggregate rows come twice, ``Type`` = ``Type 1`` (type 1 acute trusts only) and ``All Type``;
a provider row carries its trust type (``Type 1`` or ``Other``: specialist trusts). ``[z]``
marks "not applicable" (e.g. the ICB column of a region row). The file ends with blank rows
(``,,,,,,,,``). 36 metrics: G&A (all, adult, paediatric) beds available / core / escalation /
covid void / occupied / occupancy rate, adult critical care, paediatric and neonatal intensive
care beds available / occupied / occupancy rate, and G&A beds occupied by patients with a
length of stay of 7, 14 and 21 or more days (counts and shares).

References
----------
NHS England. Critical care and General & Acute Beds - Urgent and Emergency Care Daily Situation
Reports (statistical work area "Bed availability and occupancy"), monthly CSV files.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from evalint._typing import check_option
from evalint.errors import (
    _user_stacklevel,
    DuplicateRowsError,
    EmptyDataError,
    InvalidValueError,
    NonNumericError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import MissingValuesWarning, match_columns, source_name, strip_text
from evalint.io._layout import LayoutNotRecognisedError, readable_files

__all__ = ["BED_METRICS", "read_uec_beds_sitrep"]

#: Published metric name -> output column (metrics not listed keep a lower-case slug of their name).
BED_METRICS: dict[str, str] = {
    "G&A beds available": "ga_beds_available",
    "G&A core beds available": "ga_core_beds_available",
    "G&A escalation beds available": "ga_escalation_beds_available",
    "G&A covid void beds": "ga_covid_void_beds",
    "G&A beds occupied": "ga_beds_occupied",
    "G&A occupancy rate": "ga_occupancy_rate",
    "G&A occupancy rate adjusted for covid void beds": "ga_occupancy_rate_adjusted",
    "Adult G&A beds available": "adult_ga_beds_available",
    "Adult core beds available": "adult_ga_core_beds_available",
    "Adult escalation beds available": "adult_ga_escalation_beds_available",
    "Adult G&A covid void beds": "adult_ga_covid_void_beds",
    "Adult G&A beds occupied": "adult_ga_beds_occupied",
    "Adult G&A occupancy rate": "adult_ga_occupancy_rate",
    "Adult G&A occupancy rate adjusted for covid void beds": "adult_ga_occupancy_rate_adjusted",
    "Paediatric G&A beds available": "paed_ga_beds_available",
    "Paediatric core beds available": "paed_ga_core_beds_available",
    "Paediatric escalation beds available": "paed_ga_escalation_beds_available",
    "Paediatric G&A covid void beds": "paed_ga_covid_void_beds",
    "Paediatric G&A beds occupied": "paed_ga_beds_occupied",
    "Paediatric G&A occupancy rate": "paed_ga_occupancy_rate",
    "Paediatric G&A occupancy rate adjusted for covid void beds": "paed_ga_occupancy_rate_adjusted",
    "Adult critical care beds available": "adult_cc_beds_available",
    "Adult critical care beds occupied": "adult_cc_beds_occupied",
    "Adult critical care occupancy rate": "adult_cc_occupancy_rate",
    "Paediatric intensive care beds available": "picu_beds_available",
    "Paediatric intensive care beds occupied": "picu_beds_occupied",
    "Paediatric intensive care occupancy rate": "picu_occupancy_rate",
    "Neonatal intensive care beds available": "nicu_beds_available",
    "Neonatal intensive care beds occupied": "nicu_beds_occupied",
    "Neonatal intensive care occupancy rate": "nicu_occupancy_rate",
    "Number of G&A beds occupied by patients with a length of stay of - 7 or more days": "ga_beds_los_7plus",
    "Number of G&A beds occupied by patients with a length of stay of - 14 or more days": "ga_beds_los_14plus",
    "Number of G&A beds occupied by patients with a length of stay of - 21 or more days": "ga_beds_los_21plus",
    "% occupied G&A beds occupied by patients with a length of stay of - 7 or more days": "ga_share_los_7plus",
    "% occupied G&A beds occupied by patients with a length of stay of - 14 or more days": "ga_share_los_14plus",
    "% occupied G&A beds occupied by patients with a length of stay of - 21 or more days": "ga_share_los_21plus",
}

_COLUMNS: dict[str, tuple[str, ...]] = {
    "period": ("Period",), "level": ("Level",), "region": ("Region",), "icb": ("ICB",),
    "org_code": ("Org Code", "Code"), "org_name": ("Org Name", "Name"), "metric": ("Metric",),
    "type": ("Type",), "value": ("Value",),
}
_REQUIRED = ("period", "level", "org_code", "metric", "type", "value")
_LEVELS = {"national": "england", "england": "england", "region": "region", "icb": "icb",
           "provider": "provider", "trust": "provider"}
_NOT_APPLICABLE = {"[z]", "[x]", "[c]"}


def _slug(metric: str) -> str:
    key = {m.casefold(): c for m, c in BED_METRICS.items()}.get(re.sub(r"\s+", " ", metric).strip().casefold())
    if key is not None:
        return key
    return re.sub(r"[^a-z0-9]+", "_", metric.casefold().replace("&", " and ").replace("%", "pct")).strip("_")


def _read_csv(src: Any, index: int) -> tuple[pd.DataFrame, str]:
    name = source_name(src, index)
    if isinstance(src, pd.DataFrame):
        return src.copy(), name
    if not isinstance(src, (str, Path)):
        raise SpecificationError(
            f"read_uec_beds_sitrep expects CSV paths or DataFrames; item {index} is {type(src).__name__}.")
    p = Path(src)
    if not p.is_file():
        raise SpecificationError(f"bed sitrep file {str(p)!r} does not exist (or is not a file).")
    if p.suffix.lower() in (".xls", ".xlsx", ".xlsm"):
        raise LayoutNotRecognisedError(
            f"{p.name}: read_uec_beds_sitrep reads the published CSV layout (header row 'Period, Level, "
            "Region, ICB, Org Code, Org Name, Metric, Type, Value'); the monthly .xlsx workbook's trust "
            "table is not read by this version. Download the month's CSV file from the same NHS England page.")
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="latin-1")
    return raw, name


def _tidy(raw: pd.DataFrame, name: str) -> pd.DataFrame:
    try:
        cols = match_columns(list(raw.columns), _COLUMNS, required=_REQUIRED, source=name)
    except KeyError as exc:
        raise LayoutNotRecognisedError(
            f"{name}: not the UEC bed sitrep CSV layout. Expected one header row with the columns "
            "'Period', 'Level', 'Region', 'ICB', 'Org Code', 'Org Name', 'Metric', 'Type', 'Value' "
            f"(long format, one row per organisation x metric x type). {exc}") from None
    text = pd.DataFrame({c: strip_text(raw[h]) for c, h in cols.items() if c != "value"}, index=raw.index)
    blank = text.isna().all(axis=1) & strip_text(raw[cols["value"]]).isna()
    raw, text = raw.loc[~blank], text.loc[~blank]
    if text.empty:
        raise EmptyDataError(f"{name}: the file has a header but no data rows.")
    for c in ("region", "icb"):
        if c in text.columns:
            text[c] = text[c].where(~text[c].isin(_NOT_APPLICABLE))
    lev = text["level"].str.casefold().map(_LEVELS)
    if lev.isna().any():
        bad = pd.unique(text.loc[lev.isna(), "level"].astype(str)).tolist()
        raise LayoutNotRecognisedError(
            f"{name}: column 'Level' holds {format_examples(bad)}; the published levels are 'National', "
            "'Region', 'ICB' and 'Provider'.")
    period = pd.to_datetime(text["period"], format="%d/%m/%Y", errors="coerce")
    iso = pd.to_datetime(text["period"], format="%Y-%m-%d", errors="coerce")
    period = period.fillna(iso)
    if period.isna().any():
        bad = pd.unique(text.loc[period.isna(), "period"].astype(str)).tolist()
        raise TimeParseError(
            f"{name}: column 'Period' has values that are not dates, e.g. {format_examples(bad)}; the "
            "published form is the first day of the month, '01/01/2025' (day first).")
    keys = text["org_code"].astype(str) + " " + text["metric"].astype(str)
    value = _values(raw[cols["value"]], name, keys)
    out = pd.DataFrame({
        "period": period.dt.to_period("M").dt.to_timestamp(), "level": lev,
        "region": text.get("region"), "icb_name": text.get("icb"), "org_code": text["org_code"],
        "org_name": text.get("org_name"), "type": text["type"], "metric": text["metric"].map(_slug),
        "value": value,
    })
    out["source"] = name
    return out


def _values(values: pd.Series, name: str, keys: pd.Series) -> pd.Series:
    """Numbers; blanks, '-' and '[z]'-style markers -> NaN (counted by the caller). Rates can be
    fractions, so values are not checked as counts; negatives are refused."""
    s = strip_text(values)
    s = s.where(~s.isin(_NOT_APPLICABLE))
    num = pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce")
    text = num.isna() & s.notna() & ~s.isin(["-", "--", "*", "."])
    if text.any():
        raise NonNumericError(
            f"{name}: column 'Value' has text that is not a number, e.g. "
            f"{format_examples(pd.unique(s[text]).tolist())} (rows {format_examples(keys[text].tolist())}). "
            "Correct those cells.")
    if (num < 0).any():
        raise InvalidValueError(
            f"{name}: negative bed counts or rates in 'Value' ({format_examples(keys[num < 0].tolist())}).")
    return num.astype("float64")


@readable_files
def read_uec_beds_sitrep(
    path_or_paths: str | Path | pd.DataFrame | Sequence[str | Path | pd.DataFrame],
    *,
    level: Literal["provider", "icb", "region", "england", "all"] = "provider",
    aggregate_type: Literal["all", "type1"] = "all",
) -> pd.DataFrame:
    """Read NHS England's monthly UEC bed sitrep CSVs (G&A and critical-care beds).

    Parameters
    ----------
    path_or_paths : path, DataFrame or sequence of them
        Monthly CSV files as published (or frames read with ``dtype=str``); several are stacked.
    level : {"provider", "icb", "region", "england", "all"}
        Which rows to return (``"all"``: every level, column ``level`` tells them apart).
    aggregate_type : {"all", "type1"}
        ICB, region and England rows are published twice: over all trusts (``"All Type"``, the
        default) and over type 1 acute trusts only (``"Type 1"``). Provider rows are returned
        whatever their trust type (``trust_type`` column: ``"Type 1"`` or ``"Other"``).

    Returns
    -------
    pandas.DataFrame
        One row per month x organisation: ``period`` (first day of the month), ``level``,
        ``org_code``, ``org_name``, ``region``, ``icb_name``, ``trust_type``, one column per metric
        (:data:`BED_METRICS` names, e.g. ``ga_beds_available``, ``ga_beds_occupied``,
        ``adult_cc_beds_occupied``; means over the month's days, so not whole numbers in
        general; rates as fractions) and ``source``. ``attrs["evalint_io"]`` records files,
        rows per level and missing cells per metric.

    Raises
    ------
    LayoutNotRecognisedError
        The header row is not the published one (the message lists the columns expected), or
        ``Level`` holds an unknown level, or an Excel file is passed.
    evalint.errors.TimeParseError
        A ``Period`` that is not a day-first date.
    evalint.errors.DuplicateRowsError
        The same organisation, metric and type twice in one month (e.g. two vintages of a month).

    References
    ----------
    NHS England. Critical care and General & Acute Beds - Urgent and Emergency Care Daily
    Situation Reports, monthly CSV (e.g. 202501-January-2025-beds-sitrep-data-FINAL-revised.csv).
    """
    check_option("level", level, ("provider", "icb", "region", "england", "all"))
    check_option("aggregate_type", aggregate_type, ("all", "type1"))
    sources = list(path_or_paths) if isinstance(path_or_paths, (list, tuple)) else [path_or_paths]
    if not sources:
        raise SpecificationError("read_uec_beds_sitrep needs at least one file.")
    long = pd.concat([_tidy(*_read_csv(s, i)) for i, s in enumerate(sources)], ignore_index=True)
    agg = long["level"] != "provider"
    keep_type = "All Type" if aggregate_type == "all" else "Type 1"
    long = long.loc[~agg | long["type"].str.casefold().eq(keep_type.casefold())]
    if level != "all":
        long = long.loc[long["level"] == level]
    if long.empty:
        raise EmptyDataError(f"no {level} rows with type {keep_type!r} in the file(s).")
    keys = ["period", "level", "org_code", "metric"]
    dup = long.duplicated(keys, keep=False)
    if dup.any():
        ex = long.loc[dup, ["org_code", "metric", "period", "source"]].astype(str).agg(" ".join, axis=1)
        raise DuplicateRowsError(
            f"{int(dup.sum())} rows repeat an organisation, metric and month, e.g. "
            f"{format_examples(ex.tolist())}. Pass one vintage of each month.")
    ids = ["period", "level", "org_code"]
    labels = (long.groupby(ids, sort=False)[["org_name", "region", "icb_name", "type", "source"]]
              .first().rename(columns={"type": "trust_type"}))
    wide = long.pivot(index=ids, columns="metric", values="value")
    order = [c for c in BED_METRICS.values() if c in wide.columns]
    order += sorted(c for c in wide.columns if c not in order)
    frame = labels.join(wide[order]).reset_index()
    frame.loc[frame["level"] != "provider", "trust_type"] = keep_type
    frame.columns.name = None
    frame = frame[["period", "level", "org_code", "org_name", "region", "icb_name", "trust_type",
                   *order, "source"]].sort_values(["period", "level", "org_code"]).reset_index(drop=True)
    missing = {c: int(n) for c, n in frame[order].isna().sum().items() if n}
    if missing:
        warnings.warn(
            f"UEC bed sitrep: {sum(missing.values())} metric cell(s) missing (not published, '-' or "
            f"'[z]') kept as NaN: {format_examples([f'{c}: {n}' for c, n in missing.items()], 8)}.",
            MissingValuesWarning, stacklevel=_user_stacklevel())
    frame.attrs["evalint_io"] = {
        "files": pd.unique(frame["source"]).tolist(),
        "rows_per_level": frame["level"].value_counts().to_dict(),
        "missing": missing,
        "aggregate_type": keep_type,
    }
    return frame
