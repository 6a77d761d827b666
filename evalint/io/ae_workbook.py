"""Reader for NHS England's monthly A&E workbook (``.xls``/``.xlsx``) as published: the
"Provider Level Data" and "System Level Data" (ICB) sheets.

Layout (checked on the April 2024 - January 2025 workbooks, e.g. ``January-2025-AE-by-provider-HyTsU.xls``
and ``Monthly-AE-November-2024-XLS-424KB.xls``; copies in data-sloth/nhs-dashboard): column A
empty; a title block in columns B:C (``Title:``, ``Summary:``, ``Period:`` e.g. "January 2025",
``Source:`` "SDCS data collection - MSitAE", ``Basis:``, ``Published:``, ``Revised:``,
``Status:``, ``Contact:``) on rows 2-12; the sheet name on row 14; **group headers on row 15**
("A&E attendances", "A&E attendances less than 4 hours from arrival to admission, transfer or
discharge", "A&E attendances greater than 4 hours ...", "Percentage of attendances within 4
hours", "Emergency Admissions"); **column headers on row 16** (``Code``, ``Region`` (provider
sheet) or ``System`` (ICB name), ``Name``; under each attendance group "Type 1 Departments - Major
A&E", "Type 2 Departments - Single Specialty", "Type 3 Departments - Other A&E/Minor Injury Unit"
and a total; "Emergency Admissions via Type 1 A&E", ..., "Other Emergency admissions (i.e not via
A&E)", "Total Emergency Admissions", "Number of patients spending >4 hours / >12 hours from
decision to admit to admission"); the England row on row 17 (``Code`` "-"), a blank row 18, one
row per organisation from row 19.

Layout versions (the reader locates the header row and reads columns by group and header, so
positions may move): to July 2020, attendances and "> 4 hours" groups only, two percentage
columns (nhsAEscraper's check of 2015-2020 files: "A&E attendances" over column 4, "A&E
attendances > 4 hours from arrival to admission" over column 8, "Emergency Admissions" over
column 14); 2021 - March 2024 files as read by healthyr (provider range B16:AB223, ICB
B16:AB63; total attendances column 7, total > 4 hours column 15, emergency admissions 25);
"> 4 hours" spelled with the symbol or "greater than". The booked-appointment split of the CSV
is not in these sheets (the workbook has separate "Booked Appointments Data" and "Non-Booked
Data" sheets; the provider sheet holds their sum).

The sheet is turned into the provider CSV's columns and read by
:func:`evalint.io.ae_monthly.read_ae_monthly`, so missing cells, the England row, duplicates and
totals follow the same rules.

References
----------
NHS England. A&E Attendances and Emergency Admissions, monthly provider workbook
("<Month>-<Year>-AE-by-provider-<id>.xls", from November 2024 "Monthly-AE-<Month>-<Year>.xls").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from evalint._typing import check_option
from evalint.errors import DroppedRowsWarning, SpecificationError, TimeParseError, format_examples, _user_stacklevel
from evalint.io._excel import excel_engine
from evalint.io._headers import normalise_header
from evalint.io._layout import LayoutNotRecognisedError, readable_files
from evalint.io.ae_monthly import parse_msitae_period, read_ae_monthly

__all__ = ["AE_WORKBOOK_SHEETS", "read_ae_workbook"]

#: level -> the published sheet name.
AE_WORKBOOK_SHEETS = {"provider": "Provider Level Data", "icb": "System Level Data"}

_TYPES = {normalise_header("Type 1 Departments - Major A&E"): "Type 1",
          normalise_header("Type 2 Departments - Single Specialty"): "Type 2",
          normalise_header("Type 3 Departments - Other A&E/Minor Injury Unit"): "Other"}
# single headers (normalised) -> the provider CSV header they carry
_SINGLE = {
    normalise_header("Emergency Admissions via Type 1 A&E"): "Emergency admissions via A&E - Type 1",
    normalise_header("Emergency Admissions via Type 2 A&E"): "Emergency admissions via A&E - Type 2",
    normalise_header("Emergency Admissions via Type 3 and 4 A&E"):
        "Emergency admissions via A&E - Other A&E department",
    normalise_header("Other Emergency admissions (i.e not via A&E)"): "Other emergency admissions",
    normalise_header("Total Emergency Admissions"): "Total emergency admissions",
    normalise_header("Number of patients spending >4 hours from decision to admit to admission"): "dta_over_4hrs",
    normalise_header("Number of patients spending >12 hours from decision to admit to admission"):
        "Patients who have waited 12+ hrs from DTA to admission",
}
_PUBLISHED_TOTALS = {normalise_header("Total attendances"): "published_attendances_total",
                     normalise_header("Total Attendances > 4 hours"): "published_over_4hrs_total"}
_DTA_OVER_4 = "dta_over_4hrs"
_CODE_RE = re.compile(r"^[A-Z0-9]{3,6}$")
_MONTH_IN_NAME = re.compile(
    r"(january|february|march|april|may|june|july|august|september|october|november|december)[-_ ]+(\d{4})", re.I)
_EXPECTED = ("a header row with 'Code' and 'Name' (provider sheet: 'Code', 'Region', 'Name'; ICB sheet: "
             "'Code', 'System'), near row 16, under a group-header row ('A&E attendances', 'A&E attendances "
             "> 4 hours from arrival to admission, transfer or discharge', 'Emergency Admissions') and with the "
             "columns 'Type 1 Departments - Major A&E', 'Type 2 Departments - Single Specialty', 'Type 3 "
             "Departments - Other A&E/Minor Injury Unit', 'Emergency Admissions via Type 1 A&E', ..., 'Other "
             "Emergency admissions (i.e not via A&E)'")


def _group_kind(group: str) -> str | None:
    g = normalise_header(group)
    if not g:
        return None
    if "booked" in g:
        return "booked"
    if "percentage" in g or "performance" in g:
        return "percentage"
    if re.search(r"(>|greater than|over)\s*4 hrs", g):
        return "over4"
    if re.search(r"(<|less than|within)\s*4 hrs", g):
        return "within4"
    if g.startswith("a&e attendances"):
        return "attendances"
    if "emergency admissions" in g:
        return "admissions"
    return "other"


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return re.sub(r"\s+", " ", str(v).replace("\u00a0", " ")).strip()


def _as_text(v: Any) -> str:
    """A cell as the text the CSV would hold: whole numbers without '.0', blanks as ''."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _header_row(grid: pd.DataFrame, sheet: str, name: str) -> tuple[int, int, int]:
    """Row index of the column headers and the columns of 'Code' and of the name."""
    for r in range(min(len(grid), 60)):
        cells = [normalise_header(_cell(v)) for v in grid.iloc[r].tolist()]
        if "code" in cells and ("name" in cells or "system" in cells):
            code_col = cells.index("code")
            name_col = cells.index("name") if "name" in cells else cells.index("system")
            return r, code_col, name_col
    raise LayoutNotRecognisedError(
        f"{name}, sheet {sheet!r}: no header row found in the first 60 rows. Expected {_EXPECTED}. "
        "Is this the monthly A&E workbook (not the time series or the CSV)?")


def _title_period(grid: pd.DataFrame, header: int) -> pd.Timestamp | None:
    """The month in the title block's 'Period:' cell, or None (none, or not a month)."""
    for r in range(header):
        row = [_cell(v) for v in grid.iloc[r].tolist()]
        for c, v in enumerate(row):
            if v.casefold() == "period:":
                return parse_msitae_period(next((x for x in row[c + 1:] if x), ""))
    return None


def _period(grid: pd.DataFrame, header: int, name: str, period: Any) -> pd.Timestamp:
    if period is not None:
        got = (parse_msitae_period(period) if not isinstance(period, pd.Timestamp)
               else period.to_period("M").to_timestamp())
        if got is None:
            raise TimeParseError(f"period={period!r} is not a month ('January 2025' or '2025-01').")
        own = _title_period(grid, header)
        if own is not None and own != got:
            raise SpecificationError(
                f"{name}: period={period!r} ({got:%B %Y}) contradicts the month in the workbook's "
                f"'Period:' cell ({own:%B %Y}). Leave period= out, or read the right file.")
        return got
    for r in range(header):
        row = [_cell(v) for v in grid.iloc[r].tolist()]
        for c, v in enumerate(row):
            if v.casefold() == "period:":
                text = next((x for x in row[c + 1:] if x), "")
                got = parse_msitae_period(text)
                if got is None:
                    raise TimeParseError(f"{name}: the title block's 'Period:' cell reads {text!r}, not a month.")
                return got
    m = _MONTH_IN_NAME.search(name)
    if m:
        got = parse_msitae_period(f"{m.group(1)} {m.group(2)}")
        if got is not None:
            return got
    raise TimeParseError(
        f"{name}: no 'Period:' cell above the header row and no month in the file name; pass period='January 2025'.")


def _sheet_frame(path: Path, sheet: str, name: str, period: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    engine = excel_engine(path)
    try:
        with pd.ExcelFile(path, engine=engine) as xl:
            if sheet not in xl.sheet_names:
                raise LayoutNotRecognisedError(
                    f"{name}: no sheet {sheet!r}; sheets: {format_examples(xl.sheet_names, 20)}. The published "
                    f"workbook has 'Provider Level Data' (providers) and 'System Level Data' (ICBs); pass sheet= "
                    "to read another sheet of the same layout.")
            grid = pd.read_excel(xl, sheet_name=sheet, header=None, dtype=object)
    except (ValueError, OSError) as exc:
        if isinstance(exc, LayoutNotRecognisedError):
            raise
        raise LayoutNotRecognisedError(f"{name}: not readable as an Excel workbook ({exc}).") from None
    header, code_col, name_col = _header_row(grid, sheet, name)
    groups = [_cell(v) for v in grid.iloc[header - 1].tolist()] if header > 0 else [""] * grid.shape[1]
    current = ""
    kinds: list[str | None] = []
    for g in groups:  # merged group headers: carry the last one rightwards
        current = g or current
        kinds.append(_group_kind(current))
    heads = [_cell(v) for v in grid.iloc[header].tolist()]
    cells = [normalise_header(h) for h in heads]
    region_col = cells.index("region") if "region" in cells else None
    mapping: dict[int, str] = {}
    for c, h in enumerate(cells):
        kind = kinds[c]
        if h in _TYPES and kind in ("attendances", "over4", "booked"):
            label = _TYPES[h]
            dept = "Other A&E Department" if label == "Other" else label
            mapping[c] = {"attendances": f"A&E attendances {dept}", "over4": f"Attendances over 4hrs {dept}",
                          "booked": f"A&E attendances Booked Appointments {dept}"}[kind]
        elif h in _SINGLE:
            mapping[c] = _SINGLE[h]
        elif h in _PUBLISHED_TOTALS:
            mapping[c] = _PUBLISHED_TOTALS[h]
    needed = ["A&E attendances Type 1", "Attendances over 4hrs Type 1", "Emergency admissions via A&E - Type 1",
              "Other emergency admissions"]
    missing = [n for n in needed if n not in mapping.values()]
    if missing:
        raise LayoutNotRecognisedError(
            f"{name}, sheet {sheet!r}, header row {header + 1}: columns for {format_examples(missing)} not found "
            f"(group header row {header}: {format_examples([g for g in groups if g])}; headers: "
            f"{format_examples([h for h in heads if h], 40)}). Expected {_EXPECTED}.")
    body = grid.iloc[header + 1:]
    codes = body.iloc[:, code_col].map(_cell)
    names = body.iloc[:, name_col].map(_cell)
    values = body[list(mapping)]
    empty = values.map(_cell).eq("").all(axis=1)
    total = codes.isin(["-", ""]) & ~empty & (names.str.casefold().isin(["england", "-", "total", "england total"]))
    org = codes.str.upper().str.match(_CODE_RE) & ~total
    notes = ~(org | total) & ~(codes.eq("") & names.eq("") & empty)
    keep = org | total
    period_ts = _period(grid, header, name, period)
    out = pd.DataFrame({
        "Period": f"{period_ts:%B %Y}",
        "Org Code": codes[keep].where(~total[keep], "TOTAL"),
        "Parent Org": (body.iloc[:, region_col].map(_cell)[keep] if region_col is not None else pd.NA),
        "Org name": names[keep],
    })
    for c, label in mapping.items():
        out[label] = body.loc[keep, c].map(_as_text)
    over4, over12 = _DTA_OVER_4, "Patients who have waited 12+ hrs from DTA to admission"
    if over4 in out.columns and over12 in out.columns:
        a = pd.to_numeric(out[over4], errors="coerce")
        b = pd.to_numeric(out[over12], errors="coerce")
        out["Patients who have waited 4-12 hs from DTA to admission"] = (a - b).map(_as_text)
    info = {"sheet": sheet, "header_row": header + 1, "period": f"{period_ts:%Y-%m}",
            "notes_dropped": int(notes.sum()), "layout": "within-4-hours group" if "within4" in kinds
            else "attendances and > 4 hours groups"}
    return out.reset_index(drop=True).astype("string"), info


@readable_files
def read_ae_workbook(
    path_or_paths: str | Path | Sequence[str | Path],
    *,
    level: Literal["provider", "icb"] = "provider",
    sheet: str | None = None,
    period: Any = None,
    keep_totals: bool = False,
    missing: Literal["keep", "skip"] = "keep",
) -> pd.DataFrame:
    """Read NHS England's monthly A&E workbooks (``.xls`` or ``.xlsx``), one sheet of each.

    Parameters
    ----------
    path_or_paths : path or sequence of paths
        Monthly workbooks as downloaded (``.xls`` read with python-calamine, ``.xlsx`` with
        openpyxl); several are stacked.
    level : {"provider", "icb"}
        ``"provider"`` reads the "Provider Level Data" sheet (trusts, independent and other
        providers), ``"icb"`` the "System Level Data" sheet (one row per ICB, ODS ``Q..`` codes in
        ``org_code``, ICB name in ``org_name``).
    sheet : str, optional
        Another sheet of the same layout (e.g. "Non-Booked Data").
    period : str, optional
        The month, when the sheet has no title block and the file name holds no month.
    keep_totals, missing
        As in :func:`~evalint.io.read_ae_monthly` (the England row is its ``TOTAL`` row).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~evalint.io.read_ae_monthly`; ``source`` is the workbook's file
        name. ``dta_over_4hrs`` is the published "Number of patients spending >4 hours from
        decision to admit to admission", which counts the ">12 hours" patients too, so
        ``dta_4_12hrs`` = ``dta_over_4hrs`` - ``dta_12plus_hrs`` here. The published "Total attendances"
        and "Total Attendances > 4 hours" are compared
        with the sum of their type columns (an :class:`~evalint.io.InconsistentTotalsWarning`
        when they differ). ``attrs["evalint_io"]`` adds ``workbooks`` (sheet, header row,
        period, layout, footnote rows dropped per file).

    Raises
    ------
    LayoutNotRecognisedError
        No such sheet, no header row with 'Code' and 'Name' in the first 60 rows, or the
        attendance / emergency-admission columns not found under their group headers; the
        message names the sheet, the header row and the columns expected.
    evalint.errors.TimeParseError
        No month in the title block, the file name or ``period=``.

    References
    ----------
    NHS England. A&E Attendances and Emergency Admissions, monthly provider workbook (sheets
    "Provider Level Data", "System Level Data").
    """
    check_option("level", level, ("provider", "icb"))
    paths = list(path_or_paths) if isinstance(path_or_paths, (list, tuple)) else [path_or_paths]
    if not paths:
        raise SpecificationError("read_ae_workbook needs at least one workbook.")
    sheet_name = sheet or AE_WORKBOOK_SHEETS[level]
    frames, infos, names = [], {}, []
    for p in paths:
        if not isinstance(p, (str, Path)) or not Path(p).is_file():
            raise SpecificationError(f"A&E workbook {str(p)!r} does not exist (or is not a file).")
        path = Path(p)
        if path.suffix.lower() == ".csv":
            raise LayoutNotRecognisedError(
                f"{path.name}: a CSV; read the monthly provider CSV with evalint.io.read_ae_monthly.")
        frame, info = _sheet_frame(path, sheet_name, path.name, period)
        frames.append(frame)
        infos[path.name] = info
        names.append(path.name)
    published = {}
    for i, f in enumerate(frames):
        extra = [c for c in (*_PUBLISHED_TOTALS.values(), _DTA_OVER_4) if c in f.columns]
        published[i] = f[["Org Code", *extra]]
        frames[i] = f.drop(columns=extra)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DroppedRowsWarning)
        out = read_ae_monthly(frames, level="provider", keep_totals=True, missing=missing)
    labels = {f"<frame {i}>": n for i, n in enumerate(names)}
    out["source"] = out["source"].map(lambda s: labels.get(s, s))
    _check_published_totals(out, published, names)
    parts = [pd.DataFrame({"source": names[i], "org_code": pub["Org Code"].astype(str).to_numpy(),
                           "dta_over_4hrs": pd.to_numeric(pub[_DTA_OVER_4], errors="coerce").to_numpy("float64")})
             for i, pub in published.items() if _DTA_OVER_4 in pub.columns]
    if parts:  # the published '>4 hours from decision to admit' (includes the '>12 hours' ones)
        merged = out[["source", "org_code"]].merge(pd.concat(parts, ignore_index=True),
                                                    on=["source", "org_code"], how="left")
        out.insert(list(out.columns).index("dta_4_12hrs"), "dta_over_4hrs", merged["dta_over_4hrs"].to_numpy())
    info = dict(out.attrs.get("evalint_io", {}))
    info["files"] = names
    info["workbooks"] = infos
    n_totals = int(out["is_total"].sum())
    if not keep_totals:
        if n_totals:
            warnings.warn(
                f"Dropped {n_totals} England row(s) ('-' code) from {len(names)} workbook(s); pass keep_totals=True "
                "to keep them (org_code 'TOTAL', is_total True).", DroppedRowsWarning, stacklevel=_user_stacklevel())
        out = out.loc[~out["is_total"]].reset_index(drop=True)
    info["dropped_total_rows"] = 0 if keep_totals else n_totals
    out.attrs["evalint_io"] = info
    return out


def _check_published_totals(out: pd.DataFrame, published: dict[int, pd.DataFrame], names: list[str]) -> None:
    from evalint.io._headers import InconsistentTotalsWarning

    differ = []
    for i, pub in published.items():
        rows = out.loc[out["source"] == names[i]].set_index("org_code")
        pub = pub.set_index("Org Code")
        for col, mine in (("published_attendances_total", "attendances_total"),
                          ("published_over_4hrs_total", "over_4hrs_total")):
            if col not in pub.columns:
                continue
            theirs = pd.to_numeric(pub[col], errors="coerce")
            ours = rows[mine].reindex(theirs.index)
            bad = theirs.notna() & ours.notna() & ((theirs - ours).abs() > 0.5)
            differ += [f"{names[i]} {code} {mine}" for code in theirs.index[bad]]
    if differ:
        warnings.warn(
            f"{len(differ)} published total(s) differ from the sum of their type columns, e.g. "
            f"{format_examples(differ)}; the sums are returned.", InconsistentTotalsWarning,
            stacklevel=_user_stacklevel())
