"""Treatment timing built from a panel's treatment or cohort column.

:func:`_timing_from_treatment` reads an absorbing 0/1 treatment indicator and
:func:`_timing_from_cohort` a first-treated-period column (missing, 0, ``inf`` or
``"never"`` for never treated). Each validates its column and returns the
:class:`~evalint.data.timing.TreatmentTiming` of every unit, or raises
:class:`~evalint.errors.TreatmentError` naming the units at fault.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalint.data import checks
from evalint.data.ordinal import label as ordinal_label
from evalint.data.ordinal import ordinal_period
from evalint.data.timeparse import to_period
from evalint.data.timing import TreatmentTiming
from evalint.errors import TreatmentError, format_examples, plain

_NEVER_STRINGS = {"", "never", "none", "nan", "nat", "inf", "0"}


def _timing_from_treatment(work: pd.DataFrame, unit: str, time: str, col: str, freq: str) -> TreatmentTiming:
    raw = work[col]
    keys = work[[unit, time]]
    checks.require_not_missing(raw, keys, col, "treatment")
    if pd.api.types.is_bool_dtype(raw.dtype):
        vals = raw.astype(int)
    else:
        vals = pd.to_numeric(raw, errors="coerce")
        bad = vals.isna() | ~vals.isin([0, 1])
        if bad.any():
            shown = format_examples(raw[bad].astype(str).unique().tolist())
            raise TreatmentError(
                f"treatment column {col!r} must hold only 0 and 1; {int(bad.sum())} row(s) hold "
                f"{shown}. For a continuous intensity (dose), keep it as a covariate/dose column and "
                "code treatment as 0/1; for a first-treatment date use cohort=."
            )
    vals = vals.astype(int)
    # non-absorbing: a 1 followed by a 0 within a unit
    prev_max = vals.groupby(work[unit], sort=False).cummax()
    off = (prev_max == 1) & (vals == 0)
    if off.any():
        rows = keys.loc[off]
        units_off = pd.unique(rows[unit])
        first = rows.drop_duplicates(unit).head(5)
        shown = "; ".join(f"{plain(u)!r} switches off at {t}" for u, t in first.itertuples(index=False))
        raise TreatmentError(
            f"treatment column {col!r} is not absorbing: {len(units_off)} unit(s) go from 1 back to 0 "
            f"({shown}). evalint's designs assume that once treated, a unit stays treated. If "
            "treatment really ends, analyse the switch-off separately, or recode treatment as "
            "'ever treated from the first treated period' if that is the estimand."
        )
    treated = work.loc[vals == 1]
    first = treated.groupby(unit, sort=False)[time].min()
    cohort = pd.Series(pd.NaT, index=pd.Index(pd.unique(work[unit]), name=unit), dtype=f"period[{freq}]")
    cohort.loc[first.index] = first.to_numpy()
    return TreatmentTiming(cohort.rename("cohort"), freq)


def _is_never(v: Any) -> bool:
    """True for the cohort codes that mean never treated: missing, 0, inf, "never"..."""
    if v is None or pd.isna(v):
        return True
    if isinstance(v, (int, float, np.integer, np.floating)) and (v == 0 or np.isinf(v)):
        return True
    return isinstance(v, str) and v.strip().lower() in _NEVER_STRINGS


def _cohort_by_run(raw: pd.Series | tuple[np.ndarray, np.ndarray], starts: np.ndarray
                   ) -> tuple[bool, np.ndarray, np.ndarray]:
    """Per-unit cohort steps when each unit's rows form one run starting at ``starts``.

    For plain numeric or datetime64 columns (where ``!=`` is the equality ``factorize``
    uses): whether the non-missing values vary within some unit, each unit's first
    non-missing value (its first row's missing value if it has none, as ``groupby.first``)
    and whether the unit has a missing value. ``raw`` may also be ``(values, present)`` arrays.
    """
    vals, present = raw if isinstance(raw, tuple) else (raw.to_numpy(), raw.notna().to_numpy())
    run = np.zeros(len(vals), dtype=np.intp)
    run[starts[1:]] = 1
    run = np.cumsum(run)
    pidx = np.flatnonzero(present)
    pu, pv = run[pidx], vals[pidx]
    same = pu[1:] == pu[:-1]
    varies = bool(np.any(same & (pv[1:] != pv[:-1])))
    first_row = starts.copy()
    firsts = np.flatnonzero(np.r_[True, ~same]) if len(pidx) else pidx
    first_row[pu[firsts]] = pidx[firsts]
    some_missing = np.logical_or.reduceat(~present, starts)
    return varies, vals[first_row], some_missing


def _timing_from_cohort(work: pd.DataFrame, unit: str, time: str, col: str, freq: str,
                        unit_starts: np.ndarray | None = None, *, ordinal: bool = False) -> TreatmentTiming:
    """``unit_starts``: first row of each unit when every unit's rows form one run (optional);
    ``ordinal``: the time axis is ordinal (cohorts are period numbers)."""
    raw = work[col]
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise TreatmentError(
            f"cohort column {col!r} holds True/False, but cohort= takes each unit's first treated "
            "period (a date, period or year; missing/0/'never' for never treated). For a 0/1 "
            "treated-now indicator use treatment= instead."
        )
    if unit_starts is not None and isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iufM":
        varies_any, first_vals, some_missing = _cohort_by_run(raw, unit_starts)
        if not varies_any:   # (if they vary, the general steps below name the units)
            per_unit = pd.Series(first_vals, index=pd.unique(work[unit].iloc[unit_starts]), name=col)
            return _timing_from_per_unit(work, unit, time, col, freq, per_unit, some_missing, ordinal=ordinal)
    if unit_starts is not None and isinstance(raw.dtype, pd.StringDtype):
        # text (e.g. date strings as read from a CSV): the same run steps on the codes of the
        # distinct strings, each string kept once
        if getattr(raw.dtype, "storage", None) == "pyarrow" and len(raw) > 1:
            # pyarrow strings: compare each row with the next (no hashing of every row) and keep
            # the run starts' strings when every unit's run holds one value (missing included)
            import pyarrow as pa
            import pyarrow.compute as pc

            arr = pa.array(raw.array)
            valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
            same = pc.equal(arr[1:], arr[:-1]).fill_null(False).to_numpy(zero_copy_only=False)
            same |= ~valid[1:] & ~valid[:-1]
            same[unit_starts[1:] - 1] = True
            if same.all():
                first_vals = np.asarray(arr.take(pa.array(unit_starts)).to_pylist(), dtype=object)
                per_unit = pd.Series(first_vals, index=pd.unique(work[unit].iloc[unit_starts]), name=col)
                return _timing_from_per_unit(work, unit, time, col, freq, per_unit, ~valid[unit_starts])
        codes, distinct = pd.factorize(raw, use_na_sentinel=True)
        change = codes[1:] != codes[:-1]
        change[unit_starts[1:] - 1] = False
        if not change.any():   # one code (missing included) per unit run: its first row's code
            first_codes = codes[unit_starts]
            varies_any, some_missing = False, first_codes < 0
        else:                  # (missing in some rows only, or varying: the general steps)
            varies_any, first_codes, some_missing = _cohort_by_run((codes, codes >= 0), unit_starts)
        if not varies_any:
            ok = first_codes >= 0
            first_vals = np.full(len(first_codes), None, dtype=object)
            first_vals[ok] = np.asarray(distinct, dtype=object)[first_codes[ok]]
            per_unit = pd.Series(first_vals, index=pd.unique(work[unit].iloc[unit_starts]), name=col)
            return _timing_from_per_unit(work, unit, time, col, freq, per_unit, some_missing, ordinal=ordinal)
    # object columns may mix 2021 and "2021": compare their text; typed columns compare as they are
    keys = raw.astype(str).where(raw.notna()) if raw.dtype == object else raw
    # non-missing values must all equal the unit's first non-missing one (missing ones are checked below)
    unit_codes, unit_values = pd.factorize(work[unit])
    key_codes, _ = pd.factorize(keys, use_na_sentinel=True)
    present = key_codes >= 0
    first_code = np.full(len(unit_values), -1, dtype=np.int64)
    first_code[unit_codes[present][::-1]] = key_codes[present][::-1]
    varies = pd.unique(unit_values[unit_codes[present & (key_codes != first_code[unit_codes])]])
    if len(varies):
        raise TreatmentError(
            f"cohort column {col!r} must be constant within each unit (the unit's first treated "
            f"period); it varies for {len(varies)} unit(s), e.g. {format_examples(list(varies))}. "
            "If the column switches on over time it is a 0/1 indicator: pass it as treatment=; "
            "otherwise give every row of a unit its first treated period."
        )
    per_unit = raw.groupby(work[unit], sort=False).first()
    per_unit = per_unit.reindex(pd.unique(work[unit]))
    some_missing = raw.isna().groupby(work[unit], sort=False).any().reindex(per_unit.index).to_numpy()
    return _timing_from_per_unit(work, unit, time, col, freq, per_unit, some_missing, ordinal=ordinal)


def _timing_from_per_unit(work: pd.DataFrame, unit: str, time: str, col: str, freq: str,
                          per_unit: pd.Series, some_missing: np.ndarray, *,
                          ordinal: bool = False) -> TreatmentTiming:
    """Classify and parse each unit's cohort value (``per_unit``, in order of first appearance).

    On an ordinal axis (``ordinal=True``) cohorts are period numbers; 0 means never treated
    only when period 0 is not inside the data after its first period (a cohort 0 there is
    refused as ambiguous).
    """
    # each distinct cohort value is classified and parsed once, then mapped back to the units
    uniques: list[Any]
    try:
        codes, distinct = pd.factorize(per_unit, use_na_sentinel=True)
        uniques = list(distinct)
    except TypeError:  # unhashable values: one "distinct value" per unit
        codes, uniques = np.arange(len(per_unit)), list(per_unit.to_numpy())
    first_unit = np.full(len(uniques), -1, dtype=np.int64)
    valid = codes >= 0
    first_unit[codes[valid][::-1]] = np.flatnonzero(valid)[::-1]   # first unit holding each value
    never_value = np.array([_is_never(v) for v in uniques], dtype=bool)
    never = np.ones(len(per_unit), dtype=bool)
    never[valid] = never_value[codes[valid]]
    partial_pos = np.flatnonzero(some_missing & ~never)
    if partial_pos.size:
        partial = list(per_unit.index[partial_pos])
        raise TreatmentError(
            f"cohort column {col!r} is missing in some rows but not others of {len(partial)} unit(s), "
            f"e.g. {format_examples(partial)} ({str(per_unit.iloc[partial_pos[0]])!r} elsewhere). A missing "
            "cohort means never treated, so the unit's rows disagree. Give every row of a unit the same "
            "first treated period (e.g. df[cohort] = df.groupby(unit)[cohort].transform('first'))."
        )
    first_p, last_p = work[time].min(), work[time].max()
    if ordinal:
        _require_unambiguous_zero(uniques, never_value, first_p, last_p, col)
    value_periods: list[Any] = []
    for j, v in enumerate(uniques):
        if never_value[j]:
            value_periods.append(pd.NaT)
            continue
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        what = f"cohort of unit {plain(per_unit.index[int(first_unit[j])])!r}"
        value_periods.append(ordinal_period(v, what) if ordinal else to_period(v, freq, what=what))
    by_value = pd.array(value_periods, dtype=pd.PeriodDtype(freq))
    mapped = by_value.take(np.where(never, -1, codes), allow_fill=True)
    cohort = pd.Series(mapped, index=pd.Index(per_unit.index, name=unit))
    bad = [j for j, p in enumerate(value_periods) if p is not pd.NaT and (p < first_p or p > last_p)]
    outside = ([(per_unit.index[int(i)], value_periods[codes[i]]) for i in np.flatnonzero(np.isin(codes, bad))]
               if bad else [])
    if outside:
        show = ordinal_label if ordinal else str
        shown = "; ".join(f"{plain(u)!r}: {show(p)}" for u, p in outside[:5])
        raise TreatmentError(
            f"cohort column {col!r}: {len(outside)} unit(s) have a first treated period outside the "
            f"data ({show(first_p)}..{show(last_p)}): {shown}. A unit treated after the data ends is never treated "
            "within it: code its cohort as missing/0; a unit treated before the data starts has no "
            "pre-period: drop it or add earlier data."
        )
    return TreatmentTiming(cohort.rename("cohort"), freq)


def _require_unambiguous_zero(uniques: list[Any], never_value: np.ndarray, first_p: Any, last_p: Any,
                              col: str) -> None:
    """On an ordinal axis, refuse cohort 0 when period 0 lies inside the data after its first period.

    There a 0 could be "never treated" (the usual coding) or "first treated in period 0".
    """
    zero = pd.Period(year=0, freq="Y")
    if not first_p < zero <= last_p:
        return
    coded_zero = [v for v, nv in zip(uniques, never_value) if nv and str(v).strip() in ("0", "0.0")]
    if coded_zero:
        raise TreatmentError(
            f"cohort column {col!r} holds 0, but this ordinal time axis runs {ordinal_label(first_p)}.."
            f"{ordinal_label(last_p)}, so 0 could mean never treated or first treated in period 0. "
            "Code never-treated units as missing (NaN) or 'never'.")
