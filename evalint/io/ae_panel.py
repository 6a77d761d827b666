"""A&E frames to org x month panels: the NHSRdatasets ``ae_attendances`` extract and
:func:`~evalint.io.read_ae_monthly` output.

- :func:`ae_attendances_panel` sums the per-department-type extract to one row per org and month;
- :func:`panel_coverage` says which months each org is observed in;
- :func:`build_ae_panel` drops (and reports) the orgs a Panel cannot hold and builds the Panel;
- :func:`combine_org_codes` sums merged trusts' predecessor codes into their successor, so a
  merger is not read as a break (or as a gap) in a per-organisation series.

See ``methods/data_sources.md`` (section 3) for the extract and its caveats.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_option
from evalint.errors import (
    _user_stacklevel,
    DroppedRowsWarning,
    DuplicateRowsError,
    EmptyDataError,
    EvalintWarning,
    SpecificationError,
    TimeParseError,
    format_examples,
)
from evalint.io._headers import MissingValuesWarning, to_counts

__all__ = [
    "CombinedCodesWarning",
    "ae_attendances_panel",
    "build_ae_panel",
    "combine_org_codes",
    "panel_coverage",
]

class CombinedCodesWarning(EvalintWarning):
    """Rows of predecessor organisation codes were relabelled and summed into a successor."""


_NHSR_COLUMNS = ("period", "org_code", "type", "attendances", "breaches", "admissions")
_NHSR_TYPES = ("1", "2", "other")


def ae_attendances_panel(df: pd.DataFrame, *, types: Sequence[str] | None = None) -> pd.DataFrame:
    """Sum the NHSRdatasets ``ae_attendances`` frame over department types: org x month.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``period``, ``org_code``, ``type`` (``"1"``, ``"2"``, ``"other"``),
        ``attendances``, ``breaches``, ``admissions``, one row per org, month and type, as
        returned by ``evalint.datasets.load("nhs_ae_attendances")``. Not modified.
    types : sequence of str, optional
        Department types to include (default all). ``["1"]`` gives type 1 (major A&E) only.

    Returns
    -------
    pandas.DataFrame
        ``period`` (datetime64, first of month), ``org_code``, ``attendances``, ``breaches``
        (attendances over 4 hours), ``admissions`` (emergency admissions via A&E),
        ``performance_4hr`` (1 - breaches / attendances; NaN when attendances are 0) and
        ``n_types`` (department types summed), one row per org and month with any of the
        chosen types; sorted by org and month. A type an org does not report is absent, not
        zero; a missing value in a reported type makes the org-month total missing.

    Raises
    ------
    evalint.errors.ColumnNotFoundError, evalint.errors.DuplicateRowsError,
    evalint.errors.SpecificationError
        Missing columns, an org-month-type twice, unknown types.

    References
    ----------
    NHS-R Community, NHSRdatasets ``ae_attendances`` (NHS England A&E Attendances and
    Emergency Admissions, April 2016 - March 2019).
    """
    from evalint.errors import column_not_found

    for c in _NHSR_COLUMNS:
        if c not in df.columns:
            raise column_not_found(c, "ae_attendances", list(df.columns))
    work = df.loc[:, list(_NHSR_COLUMNS)].copy()
    work["type"] = work["type"].astype("string").str.strip().str.casefold()
    chosen = _NHSR_TYPES if types is None else tuple(str(t).strip().casefold() for t in types)
    unknown = sorted(set(chosen) - set(_NHSR_TYPES))
    if unknown or not chosen:
        raise SpecificationError(
            f"types={list(types) if types is not None else None!r}: unknown type(s) "
            f"{format_examples(unknown)}; choose from {', '.join(map(repr, _NHSR_TYPES))}."
        )
    work = work.loc[work["type"].isin(chosen)]
    if work.empty:
        raise EmptyDataError(f"No rows of department type(s) {', '.join(chosen)}.")
    work["period"] = pd.to_datetime(work["period"]).dt.to_period("M").dt.to_timestamp()
    dup = work.duplicated(["org_code", "period", "type"], keep=False)
    if dup.any():
        ex = work.loc[dup].iloc[0]
        raise DuplicateRowsError(
            f"{int(dup.sum())} rows repeat an org-month-type, e.g. {ex['org_code']!r} "
            f"{ex['period']:%Y-%m} type {ex['type']!r}; each may appear once. Remove the repeats."
        )
    keys = work["org_code"].astype(str) + " " + work["period"].dt.strftime("%Y-%m")
    measures = ["attendances", "breaches", "admissions"]
    for c in measures:
        work[c] = to_counts(work[c], c, "ae_attendances", keys)
    g = work.groupby(["org_code", "period"], sort=True)
    out = g[measures].sum(min_count=1)
    nan_any = work[measures].isna().groupby([work["org_code"], work["period"]], sort=True).any()
    out = out.mask(nan_any)
    out["n_types"] = g["type"].nunique()
    out = out.reset_index()
    n_missing = {c: int(out[c].isna().sum()) for c in measures if out[c].isna().any()}
    if n_missing:
        warnings.warn(
            "ae_attendances: org-months with a missing value in a reported type are missing "
            "(not summed as 0): " + ", ".join(f"{c}: {n}" for c, n in n_missing.items()) + ".",
            MissingValuesWarning, stacklevel=_user_stacklevel(),
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        perf = 1.0 - out["breaches"] / out["attendances"]
    out["performance_4hr"] = perf.where(out["attendances"] > 0)
    return out[["period", "org_code", "attendances", "breaches", "admissions",
                "performance_4hr", "n_types"]]


def panel_coverage(frame: pd.DataFrame, *, unit: str = "org_code", time: str = "period",
                   outcome: str | None = None) -> pd.DataFrame:
    """Which months each unit is observed in, over the frame's whole monthly range.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long frame with ``unit`` and ``time`` columns (dates or monthly periods).
    unit, time : str
        Column names.
    outcome : str, optional
        When given, rows whose outcome is missing count as not observed.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit: ``first``, ``last`` (monthly periods), ``n_observed``,
        ``n_interior_gaps`` (months missing between first and last), ``n_missing`` (months
        missing over the whole range) and ``status``: ``"complete"`` (every month),
        ``"contiguous"`` (no interior gap; starts late or stops early) or ``"gaps"``.
    """
    from evalint.errors import column_not_found

    for role, c in (("unit", unit), ("time", time), ("outcome", outcome)):
        if c is not None and c not in frame.columns:
            raise column_not_found(c, role, list(frame.columns))
    work = frame
    if outcome is not None:
        work = frame.loc[frame[outcome].notna()]
    ords = pd.Series(_month_ordinals(work[time]), index=work.index)
    all_ords = _month_ordinals(frame[time])
    span_all = int(all_ords.max() - all_ords.min() + 1)
    g = ords.groupby(work[unit].to_numpy())
    cov = pd.DataFrame({"first_ord": g.min(), "last_ord": g.max(), "n_observed": g.nunique()})
    cov.index.name = unit
    cov["n_interior_gaps"] = (cov["last_ord"] - cov["first_ord"] + 1 - cov["n_observed"]).astype("int64")
    cov["n_missing"] = (span_all - cov["n_observed"]).astype("int64")
    cov["status"] = np.where(cov["n_missing"] == 0, "complete",
                             np.where(cov["n_interior_gaps"] == 0, "contiguous", "gaps"))
    cov["first"] = pd.PeriodIndex.from_ordinals(cov["first_ord"].to_numpy(), freq="M")
    cov["last"] = pd.PeriodIndex.from_ordinals(cov["last_ord"].to_numpy(), freq="M")
    return cov[["first", "last", "n_observed", "n_interior_gaps", "n_missing", "status"]]


def _month_ordinals(values: pd.Series) -> np.ndarray:
    """Monthly period ordinals of dates or periods."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return pd.PeriodIndex(values).asfreq("M").asi8
    try:
        return pd.PeriodIndex(pd.to_datetime(values), freq="M").asi8
    except (ValueError, TypeError) as exc:
        raise TimeParseError(
            f"time values {format_examples(pd.unique(values.astype(str))[:5].tolist())} are not "
            f"dates or monthly periods ({exc})."
        ) from None


def build_ae_panel(
    frame: pd.DataFrame,
    *,
    outcome: str | Sequence[str] = "attendances",
    keep: Literal["all", "contiguous", "complete"] = "contiguous",
    types: Sequence[str] | None = None,
    **panel_kwargs: Any,
) -> Any:
    """Build a :class:`~evalint.data.panel.Panel` (unit ``org_code``, time ``period``) from A&E data.

    Parameters
    ----------
    frame : pandas.DataFrame
        The NHSRdatasets ``ae_attendances`` frame (with a ``type`` column; summed over types
        by :func:`ae_attendances_panel`), its output, or :func:`read_ae_monthly` output.
    outcome : str or sequence of str
        Outcome column(s), e.g. ``"attendances"``, ``"admissions"`` (registered as the
        ``emergency_admissions`` kind), ``"performance_4hr"`` or, for ``read_ae_monthly``
        output, ``"emergency_admissions_total"``.
    keep : {"all", "contiguous", "complete"}
        How to treat orgs not observed in every month (see :func:`panel_coverage`; months
        with a missing outcome count as unobserved and those rows are dropped).
        ``"contiguous"`` (default): keep orgs that start late or stop early, drop orgs with
        interior gaps (a Panel cannot hold them). ``"complete"``: keep only orgs observed in
        every month (a balanced panel). ``"all"``: keep everything; interior gaps raise
        :class:`~evalint.errors.GapError` naming the orgs. Dropped orgs and rows are counted
        in a :class:`~evalint.errors.DroppedRowsWarning`.
    types : sequence of str, optional
        Department types, when ``frame`` has a ``type`` column.
    **panel_kwargs
        Passed to :meth:`Panel.from_frame` (``treatment``, ``cohort``, ``population``,
        ``covariates``, ``outcome_kind``...).

    Returns
    -------
    evalint.data.panel.Panel
    """
    from evalint.data.panel import Panel
    from evalint.errors import GapError, column_not_found

    check_option("keep", keep, ("all", "contiguous", "complete"))
    if "type" in frame.columns:
        frame = ae_attendances_panel(frame, types=types)
    elif types is not None:
        raise SpecificationError("types= needs the per-type ae_attendances frame (a 'type' column).")
    outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    for c in ("org_code", "period", *outcomes):
        if c not in frame.columns:
            raise column_not_found(c, "outcome" if c in outcomes else "id", list(frame.columns))
    work = frame
    miss = work[outcomes].isna().any(axis=1)
    if miss.any():
        warnings.warn(
            f"Dropped {int(miss.sum())} org-month row(s) whose outcome ({', '.join(outcomes)}) is "
            "missing; those months count as unobserved for coverage.",
            DroppedRowsWarning, stacklevel=_user_stacklevel(),
        )
        work = work.loc[~miss]
    cov = panel_coverage(work, unit="org_code", time="period")
    if keep == "all":
        gappy = cov.index[cov["status"] == "gaps"]
        if len(gappy):
            raise GapError(
                f"{len(gappy)} org(s) have months missing inside their span: "
                f"{format_examples(list(gappy))}. A Panel cannot hold interior gaps. Pass "
                "keep='contiguous' (drop those orgs) or keep='complete' (orgs seen every month)."
            )
        drop = pd.Index([])
    elif keep == "contiguous":
        drop = cov.index[cov["status"] == "gaps"]
    else:
        drop = cov.index[cov["status"] != "complete"]
    if len(drop):
        rows = int(work["org_code"].isin(drop).sum())
        why = "interior gaps" if keep == "contiguous" else "not observed in every month"
        warnings.warn(
            f"keep={keep!r}: dropped {len(drop)} of {len(cov)} org(s) ({rows} org-month rows), "
            f"{why}: {format_examples(list(drop))}. See evalint.io.panel_coverage for the table.",
            DroppedRowsWarning, stacklevel=_user_stacklevel(),
        )
        work = work.loc[~work["org_code"].isin(drop)]
    if work.empty:
        raise EmptyDataError(f"No orgs are left with keep={keep!r}.")
    return Panel.from_frame(work, unit="org_code", time="period", outcome=outcomes, **panel_kwargs)


_TEXT_COLUMNS = ("org_name", "parent_org", "source")  # not summed
_NOT_ADDITIVE = ("performance_4hr", "n_types", "is_total", "england_source")


def combine_org_codes(
    frame: pd.DataFrame,
    successors: Mapping[str, str],
    *,
    unit: str = "org_code",
    time: str = "period",
) -> pd.DataFrame:
    """Sum the rows of organisations that merged into their successor's code, in every month.

    NHS trusts merge: a predecessor's code stops and the successor's activity jumps the next
    month (e.g. ``RM2`` and ``RW3`` -> ``R0A`` in October 2017 in the A&E data). A per-trust
    series then shows a spurious break, and :func:`build_ae_panel` drops the stopped codes.
    Relabelling every predecessor row with its successor's code and summing gives one series
    for the merged footprint over the whole window (a national total is unaffected).

    Parameters
    ----------
    frame : pandas.DataFrame
        The NHSRdatasets ``ae_attendances`` frame (per department ``type``), the output of
        :func:`ae_attendances_panel` or of :func:`~evalint.io.read_ae_monthly`
        (``level="provider"``). Not modified.
    successors : mapping of str to str
        Predecessor code -> successor code. Chains (``A -> B``, ``B -> C``) are followed.
        Which codes merged is not in the A&E files: take it from the ODS successor records
        and check it in the data (the successor's level should rise by about the
        predecessor's when the predecessor stops).
    unit, time : str
        Organisation and month columns.

    Returns
    -------
    pandas.DataFrame
        The same columns, one row per successor and month (and ``type``, when present).
        Numeric columns are summed; a missing value in any combined row makes the sum
        missing (never read as 0). ``performance_4hr`` is recomputed from the summed counts;
        ``n_types`` (if present) is the largest among the combined codes (a lower bound,
        as their department types may overlap); ``is_total`` stays False; text columns
        (``org_name``, ``parent_org``) take the successor's latest value. The combination
        is recorded in ``attrs["evalint_io"]["combined_codes"]``.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        ``unit`` or ``time`` missing.
    evalint.errors.SpecificationError
        A predecessor code not in the frame, a code mapped to itself, or a cycle.

    Warns
    -----
    CombinedCodesWarning
        Says how many rows were combined into how many successors (no data are lost).
    """
    from evalint.errors import column_not_found

    for role, c in (("unit", unit), ("time", time)):
        if c not in frame.columns:
            raise column_not_found(c, role, list(frame.columns))
    mapping = {str(k): str(v) for k, v in dict(successors).items()}
    if not mapping:
        return frame.copy()
    self_mapped = sorted(k for k, v in mapping.items() if k == v)
    if self_mapped:
        raise SpecificationError(
            f"successors maps {format_examples(self_mapped)} to itself; remove those entries."
        )
    resolved: dict[str, str] = {}
    for start, first in mapping.items():
        seen, code = [start], first
        while code in mapping:
            if code in seen:
                raise SpecificationError(
                    f"successors has a cycle: {' -> '.join([*seen, code])}. Each code may have "
                    "one successor and the chain must end."
                )
            seen.append(code)
            code = mapping[code]
        resolved[start] = code
    codes = frame[unit].astype(str)
    absent = sorted(set(resolved) - set(codes))
    if absent:
        raise SpecificationError(
            f"successors names predecessor code(s) {format_examples(absent)} that are not in "
            f"column {unit!r}; check the codes or remove them from the mapping."
        )
    if "is_total" in frame.columns and frame["is_total"].astype(bool).any():
        raise SpecificationError(
            "combine_org_codes needs provider rows only; this frame has TOTAL rows "
            "(read_ae_monthly(keep_totals=True)). Read it without keep_totals."
        )
    work = frame.copy()
    moved = codes.isin(list(resolved))
    work[unit] = codes.map(lambda c: resolved.get(c, c))
    keys = [time, unit] + (["type"] if "type" in work.columns else [])
    numeric = [c for c in work.columns
               if c not in keys and c not in _TEXT_COLUMNS and c not in _NOT_ADDITIVE
               and pd.api.types.is_numeric_dtype(work[c].dtype)
               and not pd.api.types.is_bool_dtype(work[c].dtype)]
    g = work.groupby(keys, sort=True)
    out = g[numeric].sum(min_count=1)
    out = out.mask(work[numeric].isna().groupby([work[k] for k in keys], sort=True).any())
    # names: the successor's own latest value (else the combined rows' latest), in every month;
    # source: the files each combined row came from
    order = work.assign(_own=~moved.to_numpy()).sort_values(["_own", time], kind="stable")
    for c in ("org_name", "parent_org"):
        if c in work.columns:
            latest = order.dropna(subset=[c]).groupby(unit)[c].last()
            out[c] = out.index.get_level_values(unit).map(latest)
    if "source" in work.columns:
        out["source"] = g["source"].agg(lambda v: ", ".join(pd.unique(v.dropna().astype(str))))
    out = out.reset_index()
    if "performance_4hr" in frame.columns:
        num, den = (("over_4hrs_total", "attendances_total") if "attendances_total" in out.columns
                    else ("breaches", "attendances"))
        with np.errstate(divide="ignore", invalid="ignore"):
            perf = 1.0 - out[num] / out[den]
        out["performance_4hr"] = perf.where(out[den] > 0)
    if "n_types" in frame.columns:
        # department types of the combined codes may overlap: the largest count is a lower bound
        types_seen = work.groupby([time, unit], sort=True)["n_types"].max().rename("n_types")
        out = out.merge(types_seen.reset_index(), on=[time, unit], how="left")
    if "is_total" in frame.columns:
        out["is_total"] = False
    out = out[[c for c in frame.columns if c in out.columns]]
    n_rows, n_succ = int(moved.sum()), len(set(resolved.values()))
    warnings.warn(
        f"combine_org_codes: {n_rows} row(s) of {len(resolved)} predecessor code(s) "
        f"({format_examples(sorted(resolved))}) combined into {n_succ} successor(s) "
        f"({format_examples(sorted(set(resolved.values())))}); counts summed, nothing dropped.",
        CombinedCodesWarning, stacklevel=_user_stacklevel(),
    )
    out.attrs["evalint_io"] = {**frame.attrs.get("evalint_io", {}), "combined_codes": dict(resolved)}
    return out
