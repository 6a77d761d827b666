"""Data-quality checks that published NHS series need, reported as flags.

Each check takes a tidy frame (organisation x period rows, as the :mod:`evalint.io` readers
return) and returns a :class:`~evalint.diagnostics.base.CheckResult` whose ``flags`` carry one
:class:`~evalint.diagnostics.base.Flag` (kind ``"data"``) per problem found, and whose
``table`` lists the cases. Nothing is changed in the data: the caller decides to drop, replace
or keep, and the flags travel with the evaluation.

- :func:`check_copied_months`: a month whose values equal the same month a year earlier (or
  the previous month) for (nearly) every organisation: a file re-used under the wrong date.
- :func:`check_zero_filled`: zeros where an organisation normally reports hundreds (missing
  submissions written as 0), and days on which every organisation is missing or zero.
- :func:`check_org_changes`: organisations that appear or vanish inside the span, with the
  successor when a succession table (ODS ``old_code -> new_code``) explains it.
- :func:`check_vintages`: two publications (vintages) of the same cells that disagree.
- :func:`quality_checks`: the first three together.

References
----------
NHS England. Statistical notes of the A&E attendances, acute discharge sitrep and UEC sitrep
collections (revisions policy; "unvalidated management information").
humaniverse/healthyr issue notes on duplicated months, as documented in
``shared/realdata/healthyr_nhse_uec/SOURCE.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import ColumnNotFoundError, EmptyDataError, SpecificationError, format_examples

__all__ = [
    "check_copied_months",
    "check_org_changes",
    "check_vintages",
    "check_zero_filled",
    "quality_checks",
    "summarise",
]


def _need(frame: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    miss = [c for c in cols if c not in frame.columns]
    if miss:
        raise ColumnNotFoundError(
            f"{what}: column(s) {format_examples(miss)} not in the frame; columns found: "
            f"{format_examples(list(frame.columns), 20)}. Pass unit=/time=/measures= naming them."
        )


def _measures(frame: pd.DataFrame, measures: Sequence[str] | str | None,
              exclude: Sequence[str]) -> list[str]:
    if isinstance(measures, str):
        return [measures]
    if measures is None:
        return [c for c in frame.columns if c not in exclude
                and pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    return list(measures)


def check_copied_months(
    frame: pd.DataFrame,
    *,
    unit: str = "org_code",
    time: str = "period",
    measures: Sequence[str] | str | None = None,
    lags: Sequence[int] = (12, 1),
    min_share: float = 0.9,
    min_units: int = 1,
) -> CheckResult:
    """Flag months whose values repeat an earlier month for (nearly) every organisation.

    Parameters
    ----------
    frame : pandas.DataFrame
        Organisation x month rows.
    unit, time : str
        Organisation and month columns (``time`` dates or periods; compared as months).
    measures : str or sequence of str, optional
        Columns compared (all must be equal for a row to count as a copy). Default: every
        numeric column other than ``unit`` and ``time``.
    lags : sequence of int
        Months back to compare with: 12 (same month a year earlier) and 1 (previous month).
    min_share : float
        Share of the organisations present in both months whose values all match for the
        month to be flagged. For one series (England) every compared value must match.
    min_units : int
        Organisations that must be present in both months.

    Returns
    -------
    CheckResult
        ``passed`` False when some month is flagged; ``table`` with ``period``, ``lag``,
        ``copied_from``, ``n_units``, ``n_identical``, ``share``; one high-severity flag per
        flagged month.
    """
    _need(frame, [unit, time], "check_copied_months")
    cols = _measures(frame, measures, (unit, time))
    _need(frame, cols, "check_copied_months")
    if not cols:
        raise SpecificationError("check_copied_months: no numeric measure column to compare.")
    work = frame[[unit, time, *cols]].copy()
    work.attrs = {}
    work["_m"] = pd.to_datetime(work[time]).dt.to_period("M")
    work = work.drop_duplicates([unit, "_m"])
    # only rows with at least one non-zero, non-missing value can show a copy
    informative = work[cols].fillna(0).ne(0).any(axis=1)
    rows = []
    for lag in lags:
        prev = work.assign(_m=work["_m"] + lag)
        both = work.loc[informative].merge(prev, on=[unit, "_m"], suffixes=("", "_prev"))
        if both.empty:
            continue
        same = np.ones(len(both), dtype=bool)
        for c in cols:
            a, b = both[c].to_numpy(dtype=float), both[f"{c}_prev"].to_numpy(dtype=float)
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
        both["_same"] = same
        g = both.groupby("_m")["_same"].agg(["size", "sum"])
        for m, r in g.iterrows():
            n, k = int(r["size"]), int(r["sum"])
            if n >= min_units and k / n >= min_share and k > 0:
                rows.append({"period": m.to_timestamp(), "lag": lag,
                             "copied_from": (m - lag).to_timestamp(), "n_units": n,
                             "n_identical": k, "share": k / n})
    table = pd.DataFrame(rows, columns=["period", "lag", "copied_from", "n_units",
                                        "n_identical", "share"])
    table = table.sort_values(["period", "lag"]).drop_duplicates("period").reset_index(drop=True)
    flags = tuple(
        Flag(kind="data", severity="high",
             message=(f"{r.period:%b %Y} repeats {r.copied_from:%b %Y} exactly for "
                      f"{r.n_identical} of {r.n_units} organisations ({', '.join(cols[:3])}"
                      f"{', ...' if len(cols) > 3 else ''}): a copied month; drop or replace it."),
             source="check_copied_months", start=pd.Period(r.period, "M"), end=pd.Period(r.period, "M"))
        for r in table.itertuples())
    text = ("No month repeats the same month a year earlier or the previous month."
            if table.empty else
            f"{len(table)} month(s) repeat an earlier month for at least {min_share:.0%} of "
            f"organisations: {', '.join(f'{p:%Y-%m}' for p in table['period'])}.")
    return CheckResult(name="copied_months", passed=table.empty, text=text, table=table,
                       flags=flags)


def check_zero_filled(
    frame: pd.DataFrame,
    measure: str,
    *,
    unit: str = "org_code",
    time: str = "date",
    min_typical: float = 10.0,
) -> CheckResult:
    """Flag zeros that stand for missing submissions.

    A value of exactly 0 is flagged when the organisation's median over its non-missing
    values is at least ``min_typical`` (a trust that normally has hundreds of delayed
    patients does not have none on one day). Days (or months) on which every organisation
    is missing or zero are reported as lost periods.

    Parameters
    ----------
    frame : pandas.DataFrame
        Organisation x day (or month) rows.
    measure : str
        Count column to examine.
    unit, time : str
        Organisation and date columns.
    min_typical : float
        Median level from which a 0 is implausible.

    Returns
    -------
    CheckResult
        ``table`` has one row per suspect cell (``unit``, ``time``, ``typical``); ``passed``
        False when any is found; a flag per organisation with suspect zeros (medium) and one
        per lost period (high). ``statistic`` is the number of suspect cells.
    """
    _need(frame, [unit, time, measure], "check_zero_filled")
    work = frame[[unit, time, measure]].copy()
    work.attrs = {}
    vals = pd.to_numeric(work[measure], errors="coerce")
    typical = vals.groupby(work[unit]).transform("median")
    suspect = (vals == 0) & (typical >= min_typical)
    table = work.loc[suspect, [unit, time]].assign(typical=typical[suspect]).reset_index(drop=True)
    per_day = (vals.fillna(0) == 0).groupby(work[time]).all()
    lost = per_day.index[per_day.to_numpy()]
    flags: list[Flag] = []
    for org, n in table.groupby(unit).size().sort_values(ascending=False).items():
        first, last = table.loc[table[unit] == org, time].agg(["min", "max"])
        flags.append(Flag(kind="data", severity="medium",
                          message=(f"{org}: {n} zero value(s) of {measure} although its median is "
                                   f"{float(typical[work[unit] == org].iloc[0]):.0f}: missing "
                                   "submissions written as 0; treat as missing."),
                          source="check_zero_filled", start=first, end=last))
    for d in lost:
        flags.append(Flag(kind="data", severity="high",
                          message=f"{pd.Timestamp(d):%Y-%m-%d}: every organisation missing or 0 for {measure} "
                                  "(a lost day).",
                          source="check_zero_filled", start=d, end=d))
    text = (f"{int(suspect.sum())} zero value(s) of {measure} in {table[unit].nunique()} "
            f"organisation(s) whose median is at least {min_typical:g}; "
            f"{len(lost)} period(s) with every organisation missing or zero"
            + (f" ({format_examples([f'{pd.Timestamp(d):%Y-%m-%d}' for d in lost])})" if len(lost) else "")
            + ".")
    res = CheckResult(name="zero_filled", passed=not (suspect.any() or len(lost)), text=text,
                      table=table, statistic=float(suspect.sum()), flags=tuple(flags))
    return res


def _successor(code: str, succ: dict[str, str], limit: int = 20) -> str | None:
    seen, cur = {code}, code
    for _ in range(limit):
        nxt = succ.get(cur)
        if nxt is None or nxt in seen:
            break
        seen.add(nxt)
        cur = nxt
    return cur if cur != code else None


def check_org_changes(
    frame: pd.DataFrame,
    *,
    unit: str = "org_code",
    time: str = "period",
    successions: pd.DataFrame | None = None,
    old: str = "old_code",
    new: str = "new_code",
) -> CheckResult:
    """Report organisations that appear after the first or vanish before the last period.

    Parameters
    ----------
    frame : pandas.DataFrame
        Organisation x period rows (missing values count as present rows).
    unit, time : str
        Organisation and period columns.
    successions : pandas.DataFrame, optional
        ODS successor records (e.g. ``lookups_trust_icb_la/lookup_trust_trust.csv``), columns
        ``old`` and ``new``; chains are followed to the last successor.

    Returns
    -------
    CheckResult
        ``table``: ``org``, ``first``, ``last``, ``change`` ("appears" / "vanishes"),
        ``successor`` (for vanishing codes, when the succession table has one) and
        ``successor_in_data``. Medium flag per change; a vanishing code whose successor is in
        the data is a merger to map (``combine_org_codes``), low severity.
    """
    _need(frame, [unit, time], "check_org_changes")
    if frame.empty:
        raise EmptyDataError("check_org_changes: the frame has no rows; there is nothing to check.")
    succ: dict[str, str] = {}
    if successions is not None:
        _need(successions, [old, new], "check_org_changes successions")
        s = successions.dropna(subset=[old, new])
        s = s.loc[s[old] != s[new]]
        succ = dict(zip(s[old].astype(str), s[new].astype(str)))
    t = pd.to_datetime(frame[time])
    bare = frame[[unit]].copy()
    bare.attrs = {}
    span = bare.assign(_t=t.to_numpy()).groupby(unit)["_t"].agg(["min", "max"])
    lo, hi = t.min(), t.max()
    present = set(span.index.astype(str))
    rows = []
    for org, r in span.iterrows():
        if r["min"] > lo:
            rows.append({"org": org, "first": r["min"], "last": r["max"], "change": "appears",
                         "successor": None, "successor_in_data": False})
        if r["max"] < hi:
            nxt = _successor(str(org), succ)
            rows.append({"org": org, "first": r["min"], "last": r["max"], "change": "vanishes",
                         "successor": nxt, "successor_in_data": nxt in present})
    table = pd.DataFrame(rows, columns=["org", "first", "last", "change", "successor",
                                        "successor_in_data"])
    flags = []
    for r in table.itertuples():
        if r.change == "appears":
            msg = f"{r.org} first appears in {pd.Timestamp(r.first):%Y-%m}: a new or renamed organisation."
            sev = "medium"
        elif r.successor_in_data:
            msg = (f"{r.org} vanishes after {pd.Timestamp(r.last):%Y-%m}; succeeded by {r.successor}"
                   " (in the data): map it to the successor before comparing periods.")
            sev = "low"
        else:
            msg = (f"{r.org} vanishes after {pd.Timestamp(r.last):%Y-%m}"
                   + (f"; succeeded by {r.successor} (not in the data)" if r.successor else
                      "; no successor recorded") + ".")
            sev = "medium"
        flags.append(Flag(kind="data", severity=sev, message=msg, source="check_org_changes",
                          start=r.first, end=r.last))
    text = (f"{int((table['change'] == 'appears').sum())} organisation(s) appear and "
            f"{int((table['change'] == 'vanishes').sum())} vanish inside "
            f"{lo:%Y-%m} - {hi:%Y-%m}"
            + (f"; {int(table['successor_in_data'].sum())} vanishing code(s) have a successor in the data."
               if successions is not None else "."))
    return CheckResult(name="org_changes", passed=table.empty, text=text, table=table,
                       flags=tuple(flags))


def check_vintages(
    first: pd.DataFrame,
    second: pd.DataFrame,
    *,
    keys: Sequence[str] = ("org_code", "date"),
    measures: Sequence[str] | str,
    rtol: float = 0.0,
    atol: float = 0.0,
    labels: tuple[str, str] = ("first", "second"),
) -> CheckResult:
    """Compare two publications (vintages) of the same cells.

    Parameters
    ----------
    first, second : pandas.DataFrame
        Two versions with the same ``keys`` and ``measures`` columns.
    keys : sequence of str
        Columns identifying a cell's row (organisation, period).
    measures : str or sequence of str
        Columns compared where both vintages have a value.
    rtol, atol : float
        Tolerance: values differ when ``|a - b| > atol + rtol * |b|``.
    labels : tuple of str
        Names of the two vintages in messages and in the table.

    Returns
    -------
    CheckResult
        ``table``: the differing cells (keys, ``measure``, the two values, ``difference``);
        ``statistic`` the number of differing cells; a medium flag per measure with
        differences, naming the count and the largest difference.
    """
    cols = [measures] if isinstance(measures, str) else list(measures)
    keys = list(keys)
    _need(first, [*keys, *cols], f"check_vintages ({labels[0]})")
    _need(second, [*keys, *cols], f"check_vintages ({labels[1]})")
    a_, b_ = first[[*keys, *cols]].copy(), second[[*keys, *cols]].copy()
    a_.attrs, b_.attrs = {}, {}
    both = a_.merge(b_, on=keys, suffixes=("_a", "_b"))
    parts = []
    counts = {}
    for c in cols:
        a, b = both[f"{c}_a"].astype(float), both[f"{c}_b"].astype(float)
        ok = a.notna() & b.notna()
        diff = ok & ((a - b).abs() > atol + rtol * b.abs())
        counts[c] = (int(ok.sum()), int(diff.sum()))
        if diff.any():
            parts.append(both.loc[diff, keys].assign(measure=c, **{labels[0]: a[diff], labels[1]: b[diff]},
                                                     difference=(a - b)[diff]))
    table = (pd.concat(parts, ignore_index=True) if parts else
             pd.DataFrame(columns=[*keys, "measure", *labels, "difference"]))
    flags = []
    for c, (n, k) in counts.items():
        if k:
            big = table.loc[table["measure"] == c].iloc[
                int(np.argmax(table.loc[table["measure"] == c, "difference"].abs().to_numpy()))]
            flags.append(Flag(kind="data", severity="medium", source="check_vintages",
                              message=(f"{c}: {k} of {n} cells present in both vintages differ "
                                       f"({labels[0]} vs {labels[1]}); largest at "
                                       f"{', '.join(str(big[k_]) for k_ in keys)}: "
                                       f"{big[labels[0]]:g} vs {big[labels[1]]:g}.")))
    n_diff = sum(k for _, k in counts.values())
    text = "; ".join(f"{c}: {k} of {n} common cells differ" for c, (n, k) in counts.items())
    return CheckResult(name="vintages", passed=n_diff == 0, text=f"{labels[0]} vs {labels[1]}: {text}.",
                       table=table, statistic=float(n_diff), flags=tuple(flags))


def summarise(results: Sequence[CheckResult]) -> list[dict]:
    """Plain-data form of check results (name, passed, text, flags as dicts) for ``attrs``."""
    return [{"name": r.name, "passed": r.passed, "text": r.text,
             "flags": [f.as_dict() for f in r.flags]} for r in results]


def quality_checks(
    frame: pd.DataFrame,
    *,
    unit: str = "org_code",
    time: str = "period",
    measures: Sequence[str] | str | None = None,
    successions: pd.DataFrame | None = None,
) -> list[CheckResult]:
    """Run :func:`check_copied_months` (monthly data), :func:`check_zero_filled` on each
    measure, and :func:`check_org_changes`; return their results in that order."""
    cols = _measures(frame, measures, (unit, time))
    t = pd.to_datetime(frame[time])
    monthly = bool((t.dt.day == 1).all())
    out = []
    if monthly:
        out.append(check_copied_months(frame, unit=unit, time=time, measures=cols))
    for c in cols:
        out.append(check_zero_filled(frame, c, unit=unit, time=time))
    out.append(check_org_changes(frame, unit=unit, time=time, successions=successions))
    return out
