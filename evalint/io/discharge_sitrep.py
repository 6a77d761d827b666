"""Reader for NHS England's acute discharge situation report ("criteria to reside", Table 2).

The published sheet is wide: identifier columns (Region, Org Code, Org Name), then one block
of columns per day, with the day's date in a cell above the first column of its block and
the measure names in the header row. 2022 publications have four columns per day (patients
not meeting the criteria to reside, discharged by 17:00, discharged 17:01-23:59, remaining);
2023 re-issues onward three (not meeting the criteria, discharged, remaining). See
``shared/domain/data_sources.md`` section 4 and ``methods/data_sources.md``.
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
from evalint.io._excel import excel_engine
from evalint.errors import (
    _user_stacklevel,
    ColumnNotFoundError,
    DroppedRowsWarning,
    DuplicateRowsError,
    EmptyDataError,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import (
    MissingValuesWarning,
    match_columns,
    normalise_header,
    source_name,
    sum_parts,
    to_counts,
)
from evalint.io._layout import readable_files

__all__ = ["FLOWS", "SITREP_MEASURES", "STOCKS", "aggregate_to_month", "read_discharge_sitrep"]

_ID_SPEC: dict[str, tuple[str, ...]] = {
    "region": ("Region", "NHS England Region", "Region Name"),
    "org_code": ("Org Code", "Organisation Code", "Code", "Provider Code", "ICB Code"),
    "org_name": ("Org Name", "Organisation Name", "Name", "Provider Name", "ICB Name"),
}

#: Canonical measure -> accepted headers (first = the published header).
SITREP_MEASURES: dict[str, tuple[str, ...]] = {
    "nctr_patients": ("Number of patients who no longer meet the criteria to reside",),
    "discharged_patients": ("Number of patients discharged",),
    "discharged_by_1700": ("Number of patients discharged by 17:00",),
    "discharged_1701_2359": ("Number of patients discharged between 17:01 and 23:59",),
    "nctr_remaining_patients": (
        "Number of patients remaining in hospital who no longer meet the criteria to reside",),
}

#: Daily snapshots (patients in hospital on the day): averaged per day by aggregate_to_month.
STOCKS: tuple[str, ...] = ("nctr_patients", "nctr_remaining_patients")
#: Daily counts of events (discharges on the day): summed over the month.
FLOWS: tuple[str, ...] = ("discharged_patients", "discharged_by_1700", "discharged_1701_2359")

_LEVELS = ("trust", "icb", "region", "england", "all")
_ICB_CODE = re.compile(r"^Q[A-Z0-9]{2}$")


def _lookup(spec: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalise_header(s): canon for canon, spell in spec.items() for s in spell}


_MEASURE_LOOKUP = _lookup(SITREP_MEASURES)
_ID_LOOKUP = _lookup(_ID_SPEC)


def _read_grid(src: Any, index: int, sheet: str | int) -> tuple[pd.DataFrame, str]:
    name = source_name(src, index)
    if isinstance(src, pd.DataFrame):
        grid = src.copy()
        grid.columns = range(grid.shape[1])
    elif isinstance(src, (str, Path)):
        p = Path(src)
        if not p.is_file():
            raise SpecificationError(f"discharge sitrep file {str(p)!r} does not exist.")
        if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            try:
                with pd.ExcelFile(p, engine=excel_engine(p)) as book:
                    names = [str(n) for n in book.sheet_names]
                    known = sheet in names if isinstance(sheet, str) else -len(names) <= sheet < len(names)
                    if not known:
                        raise ColumnNotFoundError(
                            f"{p.name}: no sheet {sheet!r}; sheets found: {format_examples(names, 20)}. "
                            "The daily data are on sheet 'Table 2' of the published webfile; if it "
                            "was renamed, pass sheet=<its name>.")
                    grid = pd.read_excel(book, sheet_name=sheet, header=None, dtype=object)
            except ImportError as exc:
                raise SpecificationError(
                    f"Reading {p.name} needs an Excel engine ({exc}). Install openpyxl, or save "
                    f"sheet {sheet!r} as CSV and pass the CSV."
                ) from None
        else:
            try:
                grid = pd.read_csv(p, header=None, dtype=str, keep_default_na=False,
                                   encoding="utf-8-sig", skip_blank_lines=False)
            except UnicodeDecodeError:
                grid = pd.read_csv(p, header=None, dtype=str, keep_default_na=False,
                                   encoding="latin-1", skip_blank_lines=False)
    else:
        raise SpecificationError(
            f"read_discharge_sitrep expects file paths or DataFrames; item {index} is "
            f"{type(src).__name__}."
        )
    return grid, name


def _cell_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v).replace("\u00a0", " ").strip()


def _parse_date(v: Any) -> pd.Timestamp | None:
    if isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year") and hasattr(v, "month"):
        return pd.Timestamp(v).normalize()
    s = _cell_text(v)
    if not s:
        return None
    if re.fullmatch(r"\d{5}(\.0+)?", s):  # Excel serial day number
        n = float(s)
        if 30000 <= n <= 80000:
            return pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(n))
        return None
    if not re.search(r"\d", s) or not re.search(r"\d{2}", s):
        return None
    try:
        if re.match(r"^\d{4}-\d{1,2}-\d{1,2}", s):
            ts = pd.to_datetime(s[:10], format="%Y-%m-%d")
        else:
            ts = pd.to_datetime(s, dayfirst=True)
    except (ValueError, TypeError, OverflowError):
        return None
    return pd.Timestamp(ts).normalize()


def _locate(grid: pd.DataFrame,
            name: str) -> tuple[int, dict[str, int], list[tuple[int, str, pd.Timestamp]], list[str]]:
    """Find the header row, the identifier columns and the (column, measure, date) blocks."""
    text = grid.map(_cell_text)
    header_row = None
    for r in range(min(len(text), 60)):
        norms = {normalise_header(c) for c in text.iloc[r] if c}
        if "org code" in norms and norms & set(_MEASURE_LOOKUP):
            header_row = r
            break
    if header_row is None:
        published = _locate_published(text, grid, name)
        if published is not None:
            return published
        raise ColumnNotFoundError(
            f"{name}: no header row with 'Org Code' and a measure such as "
            f"{SITREP_MEASURES['nctr_patients'][0]!r} in the first 60 rows. Is this the "
            "'Table 2' (daily data) sheet of the acute discharge sitrep?"
        )
    header = text.iloc[header_row]
    ids: dict[str, int] = {}
    measures: list[tuple[int, str]] = []
    ignored: list[str] = []
    for c, h in header.items():
        if not h:
            continue
        key = normalise_header(h)
        if key in _MEASURE_LOOKUP:
            measures.append((int(c), _MEASURE_LOOKUP[key]))
        elif key in _ID_LOOKUP and not measures:
            ids.setdefault(_ID_LOOKUP[key], int(c))
        else:
            ignored.append(h)
    match_columns([header[c] for c in ids.values()], _ID_SPEC,
                  required=("org_code", "org_name"), source=name)
    # dates: the nearest row above the header with dates over the measure columns,
    # each date applying to its own column and those to its right ("up-left")
    if not measures:
        raise ColumnNotFoundError(f"{name}: no known measure in the header row {header_row + 1}.")
    first = max(ids.values()) + 1
    dated: list[tuple[int, str, pd.Timestamp]] = []
    for r in range(header_row - 1, -1, -1):
        row = grid.iloc[r]
        found = {c: _parse_date(row.iloc[c]) for c in range(first, grid.shape[1])}
        found = {c: d for c, d in found.items() if d is not None}
        if found:
            current = None
            for c, measure in measures:
                for cc in sorted(found):
                    if cc <= c:
                        current = found[cc]
                if current is None:
                    raise TimeParseError(
                        f"{name}: measure column {c + 1} ({measure}) has no date cell above it or "
                        f"to its left in row {r + 1}; each day's block needs its date."
                    )
                dated.append((c, measure, current))
            break
    if not dated:
        raise TimeParseError(
            f"{name}: no row above the header row (row {header_row + 1}) holds dates over the "
            "measure columns, so the days are unknown. Expected dates such as '01/06/2022' "
            "above the first column of each day's block."
        )
    return header_row, ids, dated, ignored


def _locate_published(
        text: pd.DataFrame, grid: pd.DataFrame, name: str,
) -> tuple[int, dict[str, int], list[tuple[int, str, pd.Timestamp]], list[str]] | None:
    """The monthly webfile layout: a measure row on its own, dates above it, section heads below.

    NHS England's ``Daily-discharge-sitrep-monthly-data-webfile`` "Table 2" puts the measure
    names in one row (one block per day, the date above the block's first column); below it
    come the England and regional rows (name only, in the column left of the first measure),
    then a section headed ``Region | ICB Code | ICB Name`` and one headed ``Region | Org Code |
    Org Name``. Returns the same tuple as :func:`_locate` with ``header_row`` the measure row
    and id columns (region, org_code, org_name) taken from the first section heading, or None
    when the grid is not of this layout.
    """
    measure_row = None
    for r in range(min(len(text), 60)):
        norms = [normalise_header(c) for c in text.iloc[r] if c]
        if sum(n in _MEASURE_LOOKUP for n in norms) >= 2:
            measure_row = r
            break
    if measure_row is None:
        return None
    section_row = None
    for r in range(measure_row + 1, len(text)):
        norms = {normalise_header(c) for c in text.iloc[r] if c}
        if "region" in norms and norms & {"org code", "icb code"}:
            section_row = r
            break
    if section_row is None:
        return None
    ids: dict[str, int] = {}
    for c, h in text.iloc[section_row].items():
        key = normalise_header(h) if h else ""
        if key in _ID_LOOKUP:
            ids.setdefault(_ID_LOOKUP[key], int(c))
    if "org_code" not in ids or "org_name" not in ids:
        return None
    measures = [(int(c), _MEASURE_LOOKUP[normalise_header(h)])
                for c, h in text.iloc[measure_row].items()
                if h and normalise_header(h) in _MEASURE_LOOKUP]
    date_row = measure_row - 1
    if date_row < 0:
        raise TimeParseError(f"{name}: no row above the measure row {measure_row + 1} for the dates.")
    found = {c: _parse_date(grid.iat[date_row, c]) for c in range(grid.shape[1])}
    found = {c: d for c, d in found.items() if d is not None}
    dated: list[tuple[int, str, pd.Timestamp]] = []
    for c, measure in measures:
        left = [cc for cc in found if cc <= c]
        if not left:
            raise TimeParseError(
                f"{name}: measure column {c + 1} ({measure}) has no date in row {date_row + 1} "
                "above it or to its left; each day's block needs its date (Table 2 layout: "
                "dates in the row above the measure names)."
            )
        dated.append((c, measure, found[max(left)]))
    return measure_row, ids, dated, []


def _classify(org_code: str, org_name: str, section: str) -> str:
    code, nm, sec = org_code.upper(), org_name.upper(), section.upper()
    if nm.startswith("ENGLAND") or code == "ENGLAND":
        return "england"
    if "ICB" in sec or "INTEGRATED CARE" in sec or "SYSTEM" in sec:
        return "icb"
    if "TRUST" in sec or "PROVIDER" in sec:
        return "trust"
    if _ICB_CODE.match(code) or "INTEGRATED CARE BOARD" in nm or nm.endswith(" ICB"):
        return "icb"
    return "trust"


def _tidy_one(grid: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    header_row, ids, dated, ignored = _locate(grid, name)
    body = grid.iloc[header_row + 1:]
    records = []
    section = ""
    data_cols = [c for c, _, _ in dated]
    for r, row in body.iterrows():
        code = _cell_text(row.iloc[ids["org_code"]])
        org = _cell_text(row.iloc[ids["org_name"]])
        region = _cell_text(row.iloc[ids["region"]]) if "region" in ids else ""
        values = [_cell_text(row.iloc[c]) for c in data_cols]
        if not any(values):
            labels = [_cell_text(v) for v in row.iloc[: min(data_cols)] if _cell_text(v)]
            if labels:  # a section heading such as "ICB" or "Trust"
                section = " ".join(labels)
            continue
        if not code and not org:
            raise ColumnNotFoundError(
                f"{name}: row {int(r) + 1} has values but no Org Code or Org Name; every data row "
                "needs an organisation."
            )
        level = _classify(code, org, section)
        if level == "england" and code in ("", "-"):
            code = "ENGLAND"
        elif not code and not section:  # published layout: regions above the ICB section
            level, code, region = "region", org, org
        records.append((int(r) + 1, region or pd.NA, code, org, level, values))
    if not records:
        raise EmptyDataError(f"{name}: no data rows below the header row {header_row + 1}.")
    wide_rows = []
    for line, region, code, org, level, values in records:
        for (c, measure, day), v in zip(dated, values):
            wide_rows.append((day, region, code, org, level, measure, v, line))
    long = pd.DataFrame(wide_rows, columns=["date", "region", "org_code", "org_name", "level",
                                            "measure", "value", "line"])
    dup = long.duplicated(["org_code", "date", "measure"], keep=False)
    if dup.any():
        d = long.loc[dup].iloc[0]
        raise DuplicateRowsError(
            f"{name}: organisation {d['org_code']!r} has two values of {d['measure']} on "
            f"{d['date']:%Y-%m-%d} (lines {format_examples(long.loc[dup, 'line'].unique().tolist())}). "
            "An organisation may appear once per day; remove the repeated row or date block."
        )
    keys = long["org_code"] + " " + long["date"].dt.strftime("%Y-%m-%d")
    long["value"] = to_counts(long["value"], "value", name, keys)
    tidy = long.pivot(index=["date", "org_code", "org_name", "level"], columns="measure",
                      values="value").reset_index()
    tidy.columns.name = None
    regions = long.drop_duplicates(["org_code"]).set_index("org_code")["region"]
    tidy.insert(1, "region", tidy["org_code"].map(regions))
    have = set(long["measure"])
    for m in SITREP_MEASURES:
        if m not in tidy.columns:
            tidy[m] = np.nan
    if "nctr_patients" not in have:
        raise ColumnNotFoundError(
            f"{name}: the measure {SITREP_MEASURES['nctr_patients'][0]!r} (-> nctr_patients) is "
            f"not in the header row. Measures found: {format_examples(sorted(have)) or 'none'}; "
            f"other headers: {format_examples(ignored) or 'none'}."
        )
    if "discharged_patients" not in have:
        if {"discharged_by_1700", "discharged_1701_2359"} <= have:
            tidy["discharged_patients"] = sum_parts(tidy, FLOWS[1:], skipna=False)
        else:
            raise ColumnNotFoundError(
                f"{name}: neither {SITREP_MEASURES['discharged_patients'][0]!r} nor both of "
                f"{SITREP_MEASURES['discharged_by_1700'][0]!r} and "
                f"{SITREP_MEASURES['discharged_1701_2359'][0]!r} are in the header row. Measures "
                f"found: {format_examples(sorted(have))}."
            )
    tidy["source"] = name
    return tidy, sorted(have)


@readable_files
def read_discharge_sitrep(
    path_or_paths: str | Path | pd.DataFrame | Sequence[str | Path | pd.DataFrame],
    *,
    level: Literal["trust", "icb", "region", "england", "all"] = "trust",
    sheet: str | int = "Table 2",
) -> pd.DataFrame:
    """Read the acute discharge sitrep (criteria to reside) daily sheet into a tidy frame.

    Parameters
    ----------
    path_or_paths : path, DataFrame or sequence of them
        Monthly files: the published ``.xlsx`` webfiles as downloaded (sheet "Table 2":
        measure names in one row, dates above, England/region rows, then ``Region | ICB Code
        | ICB Name`` and ``Region | Org Code | Org Name`` sections; both the 2022 four-column
        and the 2023+ three-column day blocks), CSV exports of that sheet, or frames read
        with ``header=None``. Several files
        (months) are stacked; an organisation may appear once per day.
    level : {"trust", "icb", "england", "all"}
        Rows to return. England rows are those whose name starts with ``ENGLAND``; ICB rows
        those under a section heading mentioning ICB, or with an ODS ICB code (``Q`` + 2
        characters) or "Integrated Care Board" in the name; region rows (published webfile
        layout) those above the first section heading without a code (``org_code`` is the
        region name); the rest are trusts. Rows of other
        levels are dropped with a :class:`~evalint.errors.DroppedRowsWarning`.
    sheet : str or int
        Sheet to read from a workbook.

    Returns
    -------
    pandas.DataFrame
        One row per organisation and day: ``date`` (datetime64), ``region``, ``org_code``
        (``"ENGLAND"`` for the England row), ``org_name``, ``level``, then
        ``nctr_patients`` (patients who no longer meet the criteria to reside; a stock),
        ``discharged_patients`` (a flow; the sum of the two time bands in four-column
        layouts), ``discharged_by_1700`` and ``discharged_1701_2359`` (NaN in three-column
        layouts), ``nctr_remaining_patients`` (patients not meeting the criteria who remain
        in hospital; a stock), ``source``. Counts are float; "-" and blanks are NaN, counted
        in a :class:`~evalint.io.MissingValuesWarning` and in ``attrs["evalint_io"]``.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        No header row with Org Code and a known measure, or required measures missing.
    evalint.errors.TimeParseError
        No dates above the day blocks.
    evalint.errors.DuplicateRowsError
        An organisation twice on the same day (within or across files).

    References
    ----------
    NHS England. Discharge delays (acute) / acute discharge situation report, monthly
    webfiles ``Daily-discharge-sitrep-monthly-data-webfile-<Month><YYYY>``, sheet "Table 2".
    Layout as summarised in ``shared/domain/data_sources.md`` s.4.
    """
    check_option("level", level, _LEVELS)
    sources = (list(path_or_paths) if isinstance(path_or_paths, (list, tuple))
               else [path_or_paths])
    if not sources:
        raise SpecificationError("read_discharge_sitrep needs at least one file.")
    frames, layouts = [], {}
    for i, src in enumerate(sources):
        grid, name = _read_grid(src, i, sheet)
        tidy, have = _tidy_one(grid, name)
        frames.append(tidy)
        layouts[name] = have
    frame = pd.concat(frames, ignore_index=True)
    dup = frame.duplicated(["org_code", "date"], keep=False)
    if dup.any():
        d = frame.loc[dup, ["org_code", "date", "source"]]
        first = d.iloc[0]
        raise DuplicateRowsError(
            f"{int(dup.sum())} rows repeat an organisation-day across files, e.g. "
            f"{first['org_code']!r} on {first['date']:%Y-%m-%d} in "
            f"{', '.join(d.loc[(d['org_code'] == first['org_code']) & (d['date'] == first['date']), 'source'])}. "
            "Pass one version of each month (e.g. the revised file only)."
        )
    info: dict[str, Any] = {"files": layouts}
    # days on which no trust/ICB reported (e.g. 19 June 2022: England 0, trusts '-')
    base = "trust" if (frame["level"] == "trust").any() else None
    below = frame.loc[frame["level"] == base] if base else frame.loc[frame["level"] != "england"]
    by_date = below.groupby("date")["nctr_patients"].apply(lambda s: bool(s.isna().all()))
    lost_days = by_date.index[by_date.to_numpy()]
    lost = [f"{d:%Y-%m-%d}" for d in lost_days]
    info["days_without_data"] = lost
    # on such a day the aggregate rows (England, regions, ICBs) are printed as 0: not a count
    zero_filled = frame["date"].isin(lost_days) & (frame["level"] != "trust")
    measures = [m for m in SITREP_MEASURES if m in frame.columns]
    zero_filled &= frame[measures].fillna(0).eq(0).all(axis=1)
    if zero_filled.any():
        frame = frame.copy()
        frame.loc[zero_filled, measures] = np.nan
    info["zero_filled_rows_set_missing"] = int(zero_filled.sum())
    frame = frame.assign(_zero_filled=zero_filled.to_numpy())
    if level != "all":
        other = frame["level"] != level
        if other.any():
            counts = frame.loc[other, "level"].value_counts().to_dict()
            warnings.warn(
                f"level={level!r}: dropped {int(other.sum())} organisation-day row(s) of other "
                f"levels ({', '.join(f'{k}: {v}' for k, v in counts.items())}). Pass level='all' "
                "to keep every row (the 'level' column tells them apart).",
                DroppedRowsWarning, stacklevel=_user_stacklevel(),
            )
        frame = frame.loc[~other].reset_index(drop=True)
        info["dropped_other_levels"] = int(other.sum())
    if frame.empty:
        raise EmptyDataError(f"No rows of level {level!r} in the file(s).")
    counts = {}
    for m in SITREP_MEASURES:
        carried = {name for name, have in layouts.items()
                   if m in have or (m == "discharged_patients"
                                    and {"discharged_by_1700", "discharged_1701_2359"} <= set(have))}
        n = int((frame[m].isna() & frame["source"].isin(carried) & ~frame["_zero_filled"]).sum())
        if n:
            counts[m] = n
    info["missing"] = counts
    if counts:
        warnings.warn(
            f"discharge sitrep: {sum(counts.values())} missing cell(s) ('-' or blank) kept as NaN, "
            "never filled with 0: " + ", ".join(f"{m}: {n}" for m, n in counts.items())
            + (f". Days on which no trust has an nctr_patients value (a lost day; the "
               f"England/region/ICB rows printed 0 on it, {int(zero_filled.sum())} row(s), are set "
               f"to NaN): {format_examples(lost)}" if lost else "")
            + ". Measures a file's layout does not carry are NaN and not counted here.",
            MissingValuesWarning, stacklevel=_user_stacklevel(),
        )
    order = ["date", "region", "org_code", "org_name", "level", *SITREP_MEASURES, "source"]
    frame = frame[order].sort_values(["org_code", "date"], kind="stable").reset_index(drop=True)
    frame.attrs["evalint_io"] = info
    return frame


def aggregate_to_month(
    daily: pd.DataFrame,
    *,
    incomplete: Literal["nan", "sum", "scale"] = "nan",
) -> pd.DataFrame:
    """Aggregate the daily sitrep frame to organisation x month.

    Stocks (:data:`STOCKS`: ``nctr_patients``, ``nctr_remaining_patients``, patients in
    hospital on the day) become the mean per reported day. Flows (:data:`FLOWS`: the
    discharge counts, events on the day) become monthly sums.

    Parameters
    ----------
    daily : pandas.DataFrame
        Output of :func:`read_discharge_sitrep`.
    incomplete : {"nan", "sum", "scale"}
        What a flow is when some days of the month have no value: ``"nan"`` (default; a
        monthly total cannot be known), ``"sum"`` (the sum of the reported days, an
        undercount) or ``"scale"`` (that sum times days in month / days reported). A
        :class:`~evalint.io.MissingValuesWarning` counts the organisation-months concerned.

    Returns
    -------
    pandas.DataFrame
        ``period`` (datetime64, first day of the month), ``org_code``, ``org_name`` (latest
        in the month), ``region``, ``level``, ``days_in_month``, ``days_reported`` (days with
        an ``nctr_patients`` value), the stocks (mean per day, NaN if no day reported) and the
        flows.
    """
    check_option("incomplete", incomplete, ("nan", "sum", "scale"))
    need = ["date", "org_code", *STOCKS, *FLOWS]
    miss = [c for c in need if c not in daily.columns]
    if miss:
        raise ColumnNotFoundError(
            f"aggregate_to_month needs the columns of read_discharge_sitrep; missing "
            f"{format_examples(miss)}. Columns found: {format_examples(list(daily.columns), 30)}."
        )
    work = daily.copy()
    work["period"] = work["date"].dt.to_period("M").dt.to_timestamp()
    dup = work.duplicated(["org_code", "date"])
    if dup.any():
        raise DuplicateRowsError(
            f"{int(dup.sum())} repeated organisation-day row(s) (e.g. "
            f"{work.loc[dup, 'org_code'].iat[0]!r}); aggregate one row per organisation and day."
        )
    keys = ["org_code", "period"]
    g = work.sort_values("date").groupby(keys, sort=True)
    out = g.agg(org_name=("org_name", "last"),
                **({"region": ("region", "last")} if "region" in work.columns else {}),
                **({"level": ("level", "last")} if "level" in work.columns else {}),
                days_reported=("nctr_patients", "count")).reset_index()
    out["days_in_month"] = out["period"].dt.days_in_month.astype("int64")
    for s in STOCKS:
        out[s] = g[s].mean().to_numpy()
    partial = 0
    for f in FLOWS:
        total = g[f].sum(min_count=1).to_numpy()
        n = g[f].count().to_numpy()
        full = n == out["days_in_month"].to_numpy()
        if incomplete == "nan":
            total = np.where(full, total, np.nan)
        elif incomplete == "scale":
            with np.errstate(divide="ignore", invalid="ignore"):
                total = np.where(full, total, total * out["days_in_month"].to_numpy() / n)
        has_any = g[f].count().to_numpy() > 0
        partial = max(partial, int((~full & has_any).sum()))
        out[f] = total
    if partial:
        what = {"nan": "set to NaN", "sum": "summed over reported days only (undercount)",
                "scale": "scaled up from the reported days"}[incomplete]
        warnings.warn(
            f"aggregate_to_month: {partial} organisation-month(s) miss daily discharge values on "
            f"some days; their monthly flows are {what}. Stocks are means over reported days.",
            MissingValuesWarning, stacklevel=_user_stacklevel(),
        )
    order = ["period", "org_code", "org_name", *[c for c in ("region", "level") if c in out.columns],
             "days_in_month", "days_reported", *STOCKS, *FLOWS]
    return out[order]
