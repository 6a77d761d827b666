"""Validators used when building a :class:`~evalint.data.panel.Panel`.

Each function checks one rule and raises a typed :mod:`evalint.errors` error naming the
column, units or rows at fault, what was seen, and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import pandas as pd

from evalint.errors import (
    plain,
    DuplicateRowsError,
    GapError,
    InvalidValueError,
    MissingValuesError,
    NonNumericError,
    TimeParseError,
    column_not_found,
    format_examples,
)

__all__ = [
    "require_columns",
    "require_numeric",
    "require_no_duplicates",
    "require_no_gaps",
    "require_range",
    "require_finite",
    "require_not_missing",
    "missing_rows",
]


def require_columns(df: pd.DataFrame, roles: dict[str, str | None]) -> None:
    """Raise ColumnNotFoundError for the first role whose column is absent."""
    for role, col in roles.items():
        if col is not None and col not in df.columns:
            raise column_not_found(col, role, list(df.columns))


def require_numeric(df: pd.DataFrame, column: str, role: str) -> pd.Series:
    """Return ``df[column]`` as float; raise NonNumericError listing bad values."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s.dtype) and role != "treatment":
        return s.astype(float)
    if pd.api.types.is_complex_dtype(s.dtype):
        raise NonNumericError(
            f"{role} column {column!r} holds complex numbers; it must be real-valued. Take the real part "
            "deliberately (np.real) if that is what it means."
        )
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(float)
    kind = ("timedelta" if pd.api.types.is_timedelta64_dtype(s.dtype) else
            "datetime" if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype) else
            pd.api.types.infer_dtype(s, skipna=True) if s.dtype == object else "")
    if kind in ("timedelta", "datetime", "datetime64", "date", "period"):
        # pd.to_numeric would turn them into nanoseconds (a length of stay of 7 days: 6.0e14)
        what, fix = (("durations", "Convert them to the unit meant first, e.g. days with "
                      f"df[{column!r}].dt.total_seconds() / 86400") if kind == "timedelta" else
                     ("dates, not quantities", "Give the number meant first (a count, or a length of stay in days)"))
        raise NonNumericError(
            f"{role} column {column!r} holds {what} (e.g. "
            f"{format_examples(s.dropna().astype(str).unique()[:2].tolist())}). {fix}.")
    conv = pd.to_numeric(s, errors="coerce")
    bad = s[conv.isna() & s.notna()]
    if len(bad):
        raise NonNumericError(
            f"{role} column {column!r} must be numeric; {len(bad)} value(s) are not, e.g. "
            f"{format_examples(bad.astype(str).unique().tolist())} (rows "
            f"{format_examples(bad.index.tolist())}). Clean or convert the column "
            "(pd.to_numeric) before building the panel."
        )
    return conv.astype(float)


def missing_rows(values: pd.Series, keys: pd.DataFrame) -> pd.DataFrame:
    """The unit/time keys of rows where ``values`` is missing."""
    return cast(pd.DataFrame, keys.loc[values.isna()])


def require_no_duplicates(keys: pd.DataFrame, unit: str, time: str) -> None:
    """Raise DuplicateRowsError if a (unit, time) pair appears more than once."""
    dup = keys.duplicated([unit, time], keep=False)
    if dup.any():
        first = keys.loc[dup].drop_duplicates([unit, time]).head(5)
        shown = "; ".join(f"{unit}={plain(u)!r}, {time}={t}" for u, t in zip(first[unit], first[time]))
        n_pairs = int(keys.loc[dup].drop_duplicates([unit, time]).shape[0])
        raise DuplicateRowsError(
            f"{int(dup.sum())} rows share a ({unit}, {time}) pair with another row "
            f"({n_pairs} duplicated pairs), e.g. {shown}. A panel needs one row per unit and "
            "period: aggregate them (e.g. df.groupby([unit, time]).sum()) or drop the repeats."
        )


def require_no_gaps(units: np.ndarray, ordinals: np.ndarray, unit: str, freq_name: str) -> None:
    """Raise GapError (or TimeParseError for mixed frequencies) if a unit skips periods.

    ``units`` and ``ordinals`` must be sorted by unit then time.
    """
    if len(units) < 2:
        return
    if not _any_step_gap(units, ordinals):
        return
    same = units[1:] == units[:-1]
    step = np.diff(ordinals)
    bad = same & (step != 1)
    bad_units = pd.unique(units[1:][bad])
    # A unit whose steps are all equal to k > 1 looks like a coarser frequency.
    details = []
    mixed = []
    for u in bad_units[:5]:
        mask = units == u
        st = np.diff(ordinals[mask])
        if len(st) and np.all(st == st[0]) and st[0] > 1:
            mixed.append(u)
        ords = ordinals[mask]
        full = np.arange(ords.min(), ords.max() + 1)
        details.append(f"{unit}={plain(u)!r} misses {len(np.setdiff1d(full, ords))} period(s)")
    if mixed and len(mixed) == min(len(bad_units), 5) and freq_name == "ordinal":
        step_by = int(np.diff(ordinals[units == mixed[0]])[0])
        raise TimeParseError(
            f"units {format_examples(mixed)}: the period numbers step by {step_by} every time, but an ordinal "
            "time axis counts periods one by one (a skipped number is a missing period). If the waves are "
            f"equally spaced, renumber them consecutively (e.g. (df[time] - first) // {step_by}).")
    if mixed and len(mixed) == min(len(bad_units), 5):
        raise TimeParseError(
            f"units {format_examples(mixed)} step by more than one {freq_name} period every time: "
            f"the panel mixes frequencies. Put every unit on the same frequency (freq=)."
        )
    raise GapError(
        f"{len(bad_units)} unit(s) have gaps inside their series: {'; '.join(details)}. "
        "Add the missing periods (with the outcome, or NaN and missing='drop' to report them as "
        "missing cells), or restrict the data to the unit's unbroken span."
    )


def _any_step_gap(units: np.ndarray, ordinals: np.ndarray) -> bool:
    """Whether a unit's next row is not the next period, in cache-sized slices of rows."""
    for lo in range(0, len(units) - 1, _GAP_SLICE):
        hi = min(lo + _GAP_SLICE, len(units) - 1)
        u, o = units[lo:hi + 1], ordinals[lo:hi + 1]
        if np.any((u[1:] == u[:-1]) & (o[1:] - o[:-1] != 1)):
            return True
    return False


_GAP_SLICE = 1 << 16


def require_range(
    values: pd.Series,
    keys: pd.DataFrame,
    column: str,
    role: str,
    *,
    minimum: float,
    strict: bool,
    why: str,
) -> None:
    """Raise InvalidValueError when values fall below ``minimum`` (or equal it if strict)."""
    bad = values < minimum if not strict else values <= minimum
    bad = bad & values.notna()
    if bad.any():
        rows = keys.loc[bad].head(5)
        shown = "; ".join(
            f"{r[0]!r} at {r[1]} = {v:g}" for r, v in zip(rows.itertuples(index=False), values[bad].head(5))
        )
        rule = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise InvalidValueError(
            f"{role} column {column!r} must be {rule} ({why}); {int(bad.sum())} row(s) are not: "
            f"{shown}. Correct or remove these rows."
        )


def require_finite(values: pd.Series, keys: pd.DataFrame, column: str, role: str) -> None:
    """Raise InvalidValueError listing rows where a numeric value is +/-inf."""
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isinf(arr)
    if bad.any():
        rows = keys.loc[bad].head(5)
        shown = "; ".join(f"{a!r} at {b} = {v:g}" for (a, b), v in zip(rows.itertuples(index=False), arr[bad][:5]))
        raise InvalidValueError(
            f"{role} column {column!r} must be finite; {int(bad.sum())} row(s) hold +/-inf: {shown}. "
            "Infinite values usually come from dividing by zero upstream; correct them, or set them "
            "to NaN and pass missing='drop' to report them as missing cells."
        )


#: no count, rate, duration, population or cost in health and care data comes near this
MAX_ABS_VALUE = 1e15
#: a value this many times the column's typical (median non-zero) size is a data-entry error
MAX_RATIO = 1e9


def require_magnitude(values: pd.Series, keys: pd.DataFrame, column: str, role: str,
                      exposure: bool = False) -> None:
    """Raise InvalidValueError for absurd magnitudes (e.g. 1e308) that would overflow later.

    A finite value can still break the arithmetic after it: squares, rates per 100,000 and
    least squares overflow or lose every digit (LAPACK fails, or a synthetic control reports a
    finite effect of 1e16 %). Values beyond :data:`MAX_ABS_VALUE` are refused with their rows;
    for an ``exposure`` (population, weights) also values more than :data:`MAX_RATIO` times, or
    less than 1/MAX_RATIO of, the column's median non-zero size (a rate per 100,000 divides by it).
    """
    plain_floats = isinstance(values.dtype, np.dtype) and values.dtype == np.float64   # (no copy then)
    raw = values.to_numpy() if plain_floats else values.to_numpy(dtype=float, na_value=np.nan)
    if not exposure and not _any_beyond(raw, MAX_ABS_VALUE):
        return   # (the common case, checked in cache-sized slices without full-length temporaries)
    arr = np.abs(values.to_numpy(dtype=float, na_value=np.nan))
    ok = np.isfinite(arr)
    nonzero = arr[ok & (arr > 0)]
    if nonzero.size == 0:
        return
    typical = float(np.median(nonzero)) if exposure else None   # (a median is a partial sort: only when used)
    with np.errstate(invalid="ignore"):
        bad = ok & (arr > MAX_ABS_VALUE)
        if exposure and typical is not None:
            bad |= ok & ((arr > typical * MAX_RATIO) | ((arr > 0) & (arr < typical / MAX_RATIO)))
    if bad.any():
        typical = float(np.median(nonzero)) if typical is None else typical
        raw = values.to_numpy(dtype=float, na_value=np.nan)
        rows = keys.loc[bad].head(5)
        shown = "; ".join(f"{a!r} at {b} = {v:g}" for (a, b), v in zip(rows.itertuples(index=False), raw[bad][:5]))
        raise InvalidValueError(
            f"{role} column {column!r} has {int(bad.sum())} value(s) of an impossible magnitude: {shown} "
            f"(the column's typical size is {typical:g}; evalint refuses values beyond {MAX_ABS_VALUE:g}"
            + (f", or {MAX_RATIO:g} times (or below 1/{MAX_RATIO:g} of) the typical size for an exposure"
               if exposure else "")
            + ", which overflow or swamp every estimate). Correct them at the source, or set them to NaN and "
            "pass missing='drop'."
        )


_SLICE = 1 << 16


def _any_beyond(values: np.ndarray, limit: float) -> bool:
    """Whether any finite value exceeds ``limit`` in absolute value (slice by slice)."""
    for lo in range(0, len(values), _SLICE):
        a = np.abs(values[lo:lo + _SLICE])
        if np.any(a > limit) and np.any(np.isfinite(a) & (a > limit)):
            return True
    return False


def require_not_missing(values: pd.Series, keys: pd.DataFrame, column: str, role: str) -> None:
    """Raise MissingValuesError listing rows where a required value is missing."""
    if values.isna().any():
        rows = keys.loc[values.isna()].head(5)
        shown = "; ".join(f"{a!r} at {b}" for a, b in rows.itertuples(index=False))
        raise MissingValuesError(
            f"{role} column {column!r} has {int(values.isna().sum())} missing value(s), e.g. {shown}. "
            "Fill them from the source data or drop those rows."
        )


def columns_list(cols: Sequence[str] | str | None) -> tuple[str, ...]:
    """Normalise a column-or-columns argument to a tuple."""
    if cols is None:
        return ()
    if isinstance(cols, str) or not np.iterable(cols):  # one label (a name, or an integer column label)
        return (cols,)
    return tuple(cols)
