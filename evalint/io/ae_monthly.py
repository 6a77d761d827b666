"""Reader for NHS England's monthly "A&E Attendances and Emergency Admissions" provider CSV.

The layout (one file per month, one row per provider, plus an England ``TOTAL`` row) is
described in ``methods/data_sources.md`` (section 1). Turning the result (or the NHSRdatasets
``ae_attendances`` extract) into a Panel is :mod:`evalint.io.ae_panel`'s job.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_option
from evalint.errors import (
    _user_stacklevel,
    DroppedRowsWarning,
    DuplicateRowsError,
    EmptyDataError,
    MissingValuesError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import (
    InconsistentTotalsWarning,
    MissingValuesWarning,
    match_columns,
    source_name,
    strip_text,
    sum_parts,
    to_counts,
)
from evalint.io._layout import readable_files

__all__ = [
    "AE_COLUMNS",
    "AE_MEASURES",
    "parse_msitae_period",
    "read_ae_monthly",
]

#: Canonical column -> accepted headers (first = the header in the published provider CSV).
AE_COLUMNS: dict[str, tuple[str, ...]] = {
    "period": ("Period",),
    "org_code": ("Org Code", "Organisation Code", "Provider Code", "Code"),
    "parent_org": ("Parent Org", "Parent Organisation", "Region"),
    "org_name": ("Org name", "Organisation Name", "Provider Name", "Name"),
    "attendances_type1": ("A&E attendances Type 1", "Type 1 Departments - Major A&E",
                          "Attendances of Type 1 Departments - Major A&E"),
    "attendances_type2": ("A&E attendances Type 2", "Type 2 Departments - Single Specialty",
                          "Attendances of Type 2 Departments - Single Specialty"),
    "attendances_other": ("A&E attendances Other A&E Department",
                          "A&E attendances Other Department",
                          "Type 3 Departments - Other A&E/Minor Injury Unit",
                          "Attendances of Type 3 Departments - Other A&E/Minor Injury Unit"),
    "attendances_booked_type1": ("A&E attendances Booked Appointments Type 1",),
    "attendances_booked_type2": ("A&E attendances Booked Appointments Type 2",),
    "attendances_booked_other": ("A&E attendances Booked Appointments Other Department",
                                 "A&E attendances Booked Appointments Other A&E Department"),
    "over_4hrs_type1": ("Attendances over 4hrs Type 1",),
    "over_4hrs_type2": ("Attendances over 4hrs Type 2",),
    "over_4hrs_other": ("Attendances over 4hrs Other Department",
                        "Attendances over 4hrs Other A&E Department"),
    "over_4hrs_booked_type1": ("Attendances over 4hrs Booked Appointments Type 1",),
    "over_4hrs_booked_type2": ("Attendances over 4hrs Booked Appointments Type 2",),
    "over_4hrs_booked_other": ("Attendances over 4hrs Booked Appointments Other Department",
                               "Attendances over 4hrs Booked Appointments Other A&E Department"),
    "dta_4_12hrs": ("Patients who have waited 4-12 hs from DTA to admission",
                    "Patients who have waited 4-12 hrs from DTA to admission",
                    "Number of patients spending >4 hours from decision to admit to admission"),
    "dta_12plus_hrs": ("Patients who have waited 12+ hrs from DTA to admission",
                       "Number of patients spending >12 hours from decision to admit to admission"),
    "emergency_admissions_via_ae_type1": ("Emergency admissions via A&E - Type 1",
                                          "Emergency Admissions via Type 1 A&E"),
    "emergency_admissions_via_ae_type2": ("Emergency admissions via A&E - Type 2",
                                          "Emergency Admissions via Type 2 A&E"),
    "emergency_admissions_via_ae_other": ("Emergency admissions via A&E - Other A&E department",
                                          "Emergency Admissions via Type 3 and 4 A&E"),
    "other_emergency_admissions": ("Other emergency admissions",
                                   "Other Emergency Admissions (i.e not via A&E)",
                                   "Other Emergency Admissions (ie not via A&E)"),
    "emergency_admissions_total_published": ("Total emergency admissions",),
}

_ID_COLUMNS = ("period", "org_code", "parent_org", "org_name")
_REQUIRED = (
    "period", "org_code", "org_name",
    "attendances_type1", "attendances_type2", "attendances_other",
    "over_4hrs_type1", "over_4hrs_type2", "over_4hrs_other",
    "dta_4_12hrs", "dta_12plus_hrs",
    "emergency_admissions_via_ae_type1", "emergency_admissions_via_ae_type2",
    "emergency_admissions_via_ae_other", "other_emergency_admissions",
)
_ATTENDANCE_PARTS = ("attendances_type1", "attendances_type2", "attendances_other",
                     "attendances_booked_type1", "attendances_booked_type2",
                     "attendances_booked_other")
_OVER4_PARTS = ("over_4hrs_type1", "over_4hrs_type2", "over_4hrs_other",
                "over_4hrs_booked_type1", "over_4hrs_booked_type2", "over_4hrs_booked_other")
_VIA_AE = ("emergency_admissions_via_ae_type1", "emergency_admissions_via_ae_type2",
           "emergency_admissions_via_ae_other")

#: Numeric output columns in order (optional booked-appointment columns included).
AE_MEASURES: tuple[str, ...] = (
    *_ATTENDANCE_PARTS, "attendances_total",
    *_OVER4_PARTS, "over_4hrs_total",
    "dta_4_12hrs", "dta_12plus_hrs",
    *_VIA_AE, "emergency_admissions_via_ae_total", "other_emergency_admissions",
    "emergency_admissions_total",
)

_MEASURE_SET = frozenset(
    [c for c in AE_COLUMNS if c not in _ID_COLUMNS] + ["attendances_total", "over_4hrs_total",
     "emergency_admissions_via_ae_total", "emergency_admissions_total"])

_RAW_SET = frozenset(c for c in AE_COLUMNS if c not in _ID_COLUMNS)

_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"), start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_PERIOD_RE = re.compile(r"^(?:msitae\s*-\s*)?([a-z]+)[\s\-_]+(\d{4})$")
_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


def parse_msitae_period(value: Any) -> pd.Timestamp | None:
    """Parse one ``Period`` cell to the first day of its month.

    Accepts ``"MSitAE-MARCH-2026"`` (any case, short or long month names, spaces around the
    dashes), ``"March 2026"`` and ISO ``"2026-03"`` / ``"2026-03-01"``. Returns ``None``
    for text that is none of these (the caller reports it).
    """
    s = re.sub(r"\s+", " ", str(value).replace("\u00a0", " ")).strip().casefold()
    m = _PERIOD_RE.match(s)
    if m and m.group(1) in _MONTHS:
        return pd.Timestamp(int(m.group(2)), _MONTHS[m.group(1)], 1)
    m = _ISO_RE.match(s)
    if m and 1 <= int(m.group(2)) <= 12:
        return pd.Timestamp(int(m.group(1)), int(m.group(2)), 1)
    return None


def _is_total(frame: pd.DataFrame) -> pd.Series:
    """Aggregate (England) rows: any identifier equal to TOTAL, or an ENGLAND total name."""
    flag = pd.Series(False, index=frame.index)
    for c in _ID_COLUMNS:
        if c in frame.columns:
            v = frame[c].astype("string").str.strip().str.upper()
            flag |= v.isin(["TOTAL", "TOTALS", "ENGLAND TOTAL", "TOTAL ENGLAND"]).fillna(False)
    return flag


def _read_one(src: Any, index: int) -> tuple[pd.DataFrame, str]:
    name = source_name(src, index)
    if isinstance(src, pd.DataFrame):
        raw = src.copy()
    elif isinstance(src, (str, Path)):
        p = Path(src)
        if not p.is_file():
            raise SpecificationError(f"A&E file {str(p)!r} does not exist (or is not a file).")
        try:
            raw = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True,
                              encoding="utf-8-sig")
        except UnicodeDecodeError:
            raw = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True,
                              encoding="latin-1")
    else:
        raise SpecificationError(
            f"read_ae_monthly expects CSV paths or DataFrames; item {index} is {type(src).__name__}."
        )
    # stray empty columns ("Unnamed: 22", trailing commas) carry nothing
    empty = [c for c in raw.columns if str(c).startswith("Unnamed")
             and raw[c].astype("string").str.strip().fillna("").eq("").all()]
    raw = raw.drop(columns=empty)
    # fully blank lines (trailing commas at the end of a file)
    blank = raw.astype("string").apply(lambda s: s.str.strip().fillna("").eq("")).all(axis=1)
    raw = raw.loc[~blank].reset_index(drop=True)
    return raw, name


def _tidy_one(raw: pd.DataFrame, name: str, skipna: bool) -> pd.DataFrame:
    cols = match_columns(list(raw.columns), AE_COLUMNS, required=_REQUIRED, source=name)
    out = pd.DataFrame(index=raw.index)
    for c in _ID_COLUMNS:
        out[c] = strip_text(raw[cols[c]]) if c in cols else pd.Series(pd.NA, index=raw.index, dtype="string")
    total = _is_total(out)
    periods = out["period"].map(lambda v: parse_msitae_period(v) if pd.notna(v) else None)
    bad = periods.isna() & ~total
    if bad.any():
        raise TimeParseError(
            f"{name}: column 'Period' has {int(bad.sum())} value(s) that are not months, e.g. "
            f"{format_examples(list(pd.unique(out.loc[bad, 'period'].astype(str))))} "
            f"(rows {format_examples((out.index[bad] + 2).tolist())} of the file). Expected "
            "'MSitAE-MARCH-2026', 'March 2026' or '2026-03'. Correct those cells."
        )
    # a TOTAL row whose Period says TOTAL takes the file's month, if the file has exactly one
    need = periods.isna() & total
    if need.any():
        months = pd.unique(periods[~periods.isna()])
        if len(months) != 1:
            raise TimeParseError(
                f"{name}: {int(need.sum())} TOTAL row(s) carry no month and the file has "
                f"{len(months)} distinct months among its other rows, so their month is unknown. "
                "Split the file by month or give the TOTAL rows a Period."
            )
        periods = periods.where(~need, months[0])
    out["period"] = pd.to_datetime(pd.Series(list(periods), index=out.index))
    keys = out["org_code"].astype(str) + " " + out["period"].dt.strftime("%Y-%m")
    for canon, header in cols.items():
        if canon in _ID_COLUMNS:
            continue
        out[canon] = to_counts(raw[header], header, name, keys)
    out = _add_totals(out, skipna)
    out["is_total"] = total.to_numpy()
    out["source"] = name
    return out


def _add_totals(frame: pd.DataFrame, skipna: bool) -> pd.DataFrame:
    att = [c for c in _ATTENDANCE_PARTS if c in frame.columns]
    o4 = [c for c in _OVER4_PARTS if c in frame.columns]
    frame["attendances_total"] = sum_parts(frame, att, skipna)
    frame["over_4hrs_total"] = sum_parts(frame, o4, skipna)
    frame["emergency_admissions_via_ae_total"] = sum_parts(frame, list(_VIA_AE), skipna)
    computed = sum_parts(frame, [*_VIA_AE, "other_emergency_admissions"], skipna)
    if "emergency_admissions_total_published" in frame.columns:
        pub = frame["emergency_admissions_total_published"]
        differ = pub.notna() & computed.notna() & ~np.isclose(pub, computed)
        if differ.any():
            warnings.warn(
                f"'Total emergency admissions' differs from via-A&E + other emergency admissions in "
                f"{int(differ.sum())} row(s) (e.g. {format_examples(frame.loc[differ, 'org_code'].tolist())}); "
                "emergency_admissions_total keeps the published total where given.",
                InconsistentTotalsWarning, stacklevel=_user_stacklevel(),
            )
        frame["emergency_admissions_total"] = pub.where(pub.notna(), computed)
        frame = frame.drop(columns=["emergency_admissions_total_published"])
    else:
        frame["emergency_admissions_total"] = computed
    return frame


@readable_files
def read_ae_monthly(
    path_or_paths: str | Path | pd.DataFrame | Sequence[str | Path | pd.DataFrame],
    *,
    level: Literal["provider", "england"] = "provider",
    keep_totals: bool = False,
    missing: Literal["keep", "skip"] = "keep",
) -> pd.DataFrame:
    """Read NHS England monthly A&E attendances and emergency admissions provider CSVs.

    Parameters
    ----------
    path_or_paths : path, DataFrame or sequence of them
        One or more monthly provider CSV files (or frames already read with ``dtype=str``).
        Several files are stacked; each provider may appear once per month.
    level : {"provider", "england"}
        ``"provider"``: one row per provider and month. ``"england"``: one row per month, the
        file's published ``TOTAL`` row where the file has one (``england_source =
        "published_total"``), else the sum of the provider rows (``"sum_of_providers"``).
    keep_totals : bool
        With ``level="provider"``, keep the ``TOTAL`` rows (``is_total`` True, ``org_code``
        ``"TOTAL"``) instead of dropping them with a :class:`~evalint.errors.DroppedRowsWarning`.
    missing : {"keep", "skip"}
        ``"keep"`` (default): a total built from a missing part is missing. ``"skip"``: totals
        and England sums add the parts that are present (NaN only when all are missing) and a
        warning counts the rows concerned. Missing cells themselves always stay NaN.

    Returns
    -------
    pandas.DataFrame
        Columns ``period`` (datetime64, first day of the month), ``org_code``, ``org_name``,
        ``parent_org`` (whitespace stripped), the counts ``attendances_type1``,
        ``attendances_type2``, ``attendances_other``, ``attendances_booked_*`` (only when some
        file has them), ``attendances_total`` (sum of all attendance columns present, booked
        included, the NHSE 4-hour denominator), ``over_4hrs_*`` and ``over_4hrs_total``,
        ``dta_4_12hrs``, ``dta_12plus_hrs``, ``emergency_admissions_via_ae_type1/type2/other``,
        ``emergency_admissions_via_ae_total``, ``other_emergency_admissions``,
        ``emergency_admissions_total`` (= via A&E + other, or the published "Total emergency
        admissions" where a file has it), ``performance_4hr`` (1 - over_4hrs_total /
        attendances_total), plus ``is_total`` and ``source`` (file name). Counts are float
        (missing = NaN). ``frame.attrs["evalint_io"]`` records files, dropped TOTAL rows and
        missing cells per column.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        A required header is missing (the message names it and lists the headers found).
    evalint.errors.TimeParseError
        A ``Period`` that is not a month.
    evalint.errors.DuplicateRowsError
        The same provider and month appear twice (within or across files).
    evalint.errors.NonNumericError, evalint.errors.InvalidValueError
        Text or negative numbers in a count column.

    Warns
    -----
    DroppedRowsWarning
        TOTAL rows dropped (count given).
    MissingValuesWarning
        Cells read as missing ("-", blank), counted per column.

    Notes
    -----
    Headers are matched case-insensitively after normalising spacing and known variants
    (``"4-12 hs"``, ``"Number of ..."`` prefix, ``"i.e"``): see
    :func:`evalint.io._headers.normalise_header`. Aggregate rows are recognised by
    ``Period``, ``Org Code``, ``Parent Org`` or ``Org name`` equal to ``TOTAL``.

    References
    ----------
    NHS England. A&E Attendances and Emergency Admissions, monthly provider CSV (Statistical
    Work Areas), sitrep MSitAE. Layout as summarised in ``shared/domain/data_sources.md`` s.1.
    """
    check_option("level", level, ("provider", "england"))
    check_option("missing", missing, ("keep", "skip"))
    sources = (list(path_or_paths) if isinstance(path_or_paths, (list, tuple))
               else [path_or_paths])
    if not sources:
        raise SpecificationError("read_ae_monthly needs at least one file.")
    skipna = missing == "skip"
    frames = []
    present: dict[str, list[str]] = {}
    for i, src in enumerate(sources):
        raw, name = _read_one(src, i)
        if raw.empty:
            raise EmptyDataError(f"{name}: the file has a header but no data rows.")
        tidy = _tidy_one(raw, name, skipna)
        if name in present:
            name = f"{name} (item {i})"
            tidy["source"] = name
        present[name] = [c for c in tidy.columns if c in _MEASURE_SET]
        frames.append(tidy)
    frame = pd.concat(frames, ignore_index=True)
    frame["org_code"] = frame["org_code"].where(~frame["is_total"], "TOTAL")

    prov = ~frame["is_total"]
    no_code = prov & frame["org_code"].isna()
    if no_code.any():
        raise MissingValuesError(
            f"{int(no_code.sum())} provider row(s) have no 'Org Code' (files "
            f"{format_examples(pd.unique(frame.loc[no_code, 'source']).tolist())}, orgs "
            f"{format_examples(frame.loc[no_code, 'org_name'].astype(str).tolist())}). Every "
            "provider row needs its ODS code; fill it in the file."
        )
    _check_duplicates(frame)

    info: dict[str, Any] = {"files": list(present)}
    n_totals = int(frame["is_total"].sum())
    if level == "provider" and not keep_totals:
        if n_totals:
            warnings.warn(
                f"Dropped {n_totals} TOTAL (England aggregate) row(s) from "
                f"{len(pd.unique(frame.loc[frame['is_total'], 'source']))} file(s); they would "
                "double-count providers. Pass keep_totals=True to keep them (flagged is_total), "
                "or level='england' for the England series.",
                DroppedRowsWarning, stacklevel=_user_stacklevel(),
            )
        frame = frame.loc[~frame["is_total"]].reset_index(drop=True)
    info["dropped_total_rows"] = n_totals if (level == "provider" and not keep_totals) else 0
    info["missing"] = _missing_report(frame, present)
    if level == "england":
        frame = _england(frame, [c for c in AE_MEASURES if c in frame.columns], skipna,
                         raw=[c for c in AE_MEASURES if c in frame.columns and c in _RAW_SET])
    with np.errstate(divide="ignore", invalid="ignore"):
        perf = 1.0 - frame["over_4hrs_total"] / frame["attendances_total"]
    frame["performance_4hr"] = perf.where(frame["attendances_total"] > 0)
    order = ["period", "org_code", "org_name", "parent_org",
             *[c for c in AE_MEASURES if c in frame.columns], "performance_4hr",
             *[c for c in ("england_source", "is_total", "source") if c in frame.columns]]
    frame = frame[order].sort_values(["period", "org_code"], kind="stable").reset_index(drop=True)
    frame.attrs["evalint_io"] = info
    return frame


def _missing_report(frame: pd.DataFrame, present: dict[str, list[str]]) -> dict[str, int]:
    """Warn with missing cells per column, counting only files that carry the column."""
    parts = [c for c in AE_COLUMNS if c not in _ID_COLUMNS and c in frame.columns]
    counts: dict[str, int] = {}
    for c in parts:
        has = frame["source"].map(lambda s, c=c: c in present.get(s, ()))
        n = int((frame[c].isna() & has).sum())
        if n:
            counts[c] = n
    if counts:
        warnings.warn(
            f"A&E monthly files: {sum(counts.values())} missing cell(s) ('-' or blank) kept as "
            "NaN, never filled with 0: " + ", ".join(f"{c}: {n}" for c, n in counts.items())
            + ". Totals built from a missing part are NaN unless missing='skip'.",
            MissingValuesWarning, stacklevel=_user_stacklevel(),
        )
    return counts


def _check_duplicates(frame: pd.DataFrame) -> None:
    dup = frame.duplicated(["org_code", "period"], keep=False)
    if not dup.any():
        return
    rows = frame.loc[dup, ["org_code", "period", "source"]]
    groups = rows.groupby(["org_code", "period"], sort=True)["source"].agg(list)
    shown = "; ".join(f"{org} {per:%Y-%m} in {', '.join(srcs)}" for (org, per), srcs in groups.head(5).items())
    raise DuplicateRowsError(
        f"{len(groups)} organisation-month(s) appear more than once: {shown}"
        f"{' (and more)' if len(groups) > 5 else ''}. Each provider may appear once per month: "
        "check for the same month read twice (e.g. an original and a revised file) and pass "
        "only one version."
    )


def _england(frame: pd.DataFrame, measures: list[str], skipna: bool,
             raw: list[str]) -> pd.DataFrame:
    """One row per month: the published TOTAL row, else the sum of providers."""
    rows = []
    for per, grp in frame.groupby("period", sort=True):
        tot = grp.loc[grp["is_total"]]
        prov = grp.loc[~grp["is_total"]]
        if len(tot):
            row = tot.iloc[0].copy()
            row["england_source"] = "published_total"
            if len(prov):
                # published totals count '-' as 0, so compare with the NaN-skipping sum
                summed = prov[raw].sum(min_count=1)
                pub = row[raw].astype("float64")
                both = summed.notna() & pub.notna()
                differ = [c for c in raw if both[c] and not np.isclose(summed[c], pub[c])]
                if differ:
                    warnings.warn(
                        f"{per:%Y-%m}: the published TOTAL row differs from the sum of provider "
                        f"rows in {len(differ)} column(s) ({format_examples(differ)}); the "
                        "published total is used.", InconsistentTotalsWarning, stacklevel=_user_stacklevel(),
                    )
        else:
            block = prov[measures]
            if skipna:
                summed = block.sum(min_count=1)
            else:
                summed = block.sum(min_count=1).where(~block.isna().any())
            row = pd.Series({**summed.to_dict(), "period": per, "england_source": "sum_of_providers",
                             "is_total": False,
                             "source": ", ".join(pd.unique(prov["source"]))})
        row["org_code"] = "ENGLAND"
        row["org_name"] = "ENGLAND"
        row["parent_org"] = pd.NA
        rows.append(row)
    out = pd.DataFrame(rows).reset_index(drop=True)
    for c in measures:
        out[c] = out[c].astype("float64")
    out["period"] = pd.to_datetime(out["period"])
    return out
