"""Shared helpers for the NHS file readers: header matching, numeric coercion, reporting.

NHS England publishes the same measure under slightly different headers from file to file
(case, stray spaces, ``"4-12 hs"`` for ``"4-12 hrs"``, a ``"Number of "`` prefix, ``"i.e"``
for ``"ie"``). The readers therefore compare *normalised* headers: see
:func:`normalise_header`. Every canonical column has an explicit list of accepted spellings,
so an unknown header is never guessed at.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import (
    ColumnNotFoundError,
    DataError,
    EvalintWarning,
    InvalidValueError,
    NonNumericError,
    format_examples,
)

__all__ = [
    "NA_STRINGS",
    "InconsistentTotalsWarning",
    "MissingValuesWarning",
    "match_columns",
    "normalise_header",
    "report_missing",
    "source_name",
    "to_counts",
]

#: Cell values read as "no value" (NHS files use "-" for not applicable / not submitted).
NA_STRINGS = frozenset({"", "-", "--", "–", "—", "n/a", "na", "nan", "none", "null", "*", ".", ":"})


class MissingValuesWarning(EvalintWarning):
    """Cells read as missing ("-", blank, "N/A"); the message counts them per column.

    The readers keep them as NaN: a missing count is never turned into 0.
    """


class InconsistentTotalsWarning(EvalintWarning):
    """A published total disagrees with the sum of its parts; the message counts the cases."""


_SPACES = re.compile(r"\s+")
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_TOKEN_FIXES = (
    (re.compile(r"\bhs\b"), "hrs"),        # "4-12 hs" (typo in the published CSV header)
    (re.compile(r"\bhours?\b"), "hrs"),
    (re.compile(r"\bhr\b"), "hrs"),
    (re.compile(r"\bi\.?\s?e\.?(?=\s|$)"), "ie"),  # "(i.e not via A&E)" -> "(ie not via A&E)"
    (re.compile(r"\bdepartments?\b"), "dept"),
    (re.compile(r"\ba\s*&\s*e\b"), "a&e"),
    (re.compile(r"\band\b"), "&"),
)


def normalise_header(text: Any) -> str:
    """Return a header in the form used for matching.

    Case-folded; non-breaking spaces, tabs and newlines become single spaces; typographic
    dashes become ``-``; spaces around ``-`` and ``+`` are removed; brackets, commas and
    full stops dropped; ``hs``/``hours`` -> ``hrs``; ``department`` -> ``dept``; ``and`` ->
    ``&``; a leading ``"number of "`` is removed.

    Examples
    --------
    >>> normalise_header("  Patients who have waited 4-12 hs from DTA to admission ")
    'patients who have waited 4-12 hrs from dta to admission'
    >>> normalise_header("Number of A&E attendances Type 2")
    'a&e attendances type 2'
    """
    s = str(text).replace("\u00a0", " ").casefold()
    s = _DASHES.sub("-", s)
    s = _SPACES.sub(" ", s).strip()
    for pattern, repl in _TOKEN_FIXES:
        s = pattern.sub(repl, s)
    s = re.sub(r"[()\[\],;:]", " ", s)
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)  # full stops, not decimal points
    s = re.sub(r"\s*-\s*", "-", s)
    s = re.sub(r"\s*\+\s*", "+ ", s)
    s = _SPACES.sub(" ", s).strip()
    s = re.sub(r"^number of ", "", s)
    return s


def match_columns(
    columns: Sequence[Any],
    spec: Mapping[str, Sequence[str]],
    *,
    required: Iterable[str],
    source: str,
) -> dict[str, Any]:
    """Map canonical names to the file's own headers.

    Parameters
    ----------
    columns : sequence
        Headers as found in the file.
    spec : mapping
        Canonical name -> accepted spellings (the first is the published header, quoted in
        error messages). Spellings are compared after :func:`normalise_header`.
    required : iterable of str
        Canonical names that must be found.
    source : str
        File name for messages.

    Returns
    -------
    dict
        Canonical name -> original header, for every canonical name found.

    Raises
    ------
    evalint.errors.ColumnNotFoundError
        A required column is not found; the message names the expected header, lists the
        headers found and the ones no rule recognised.
    evalint.errors.DataError
        Two headers in one file match the same canonical column.
    """
    lookup: dict[str, str] = {}
    for canon, spellings in spec.items():
        for s in spellings:
            lookup[normalise_header(s)] = canon
    found: dict[str, Any] = {}
    unmatched: list[str] = []
    for col in columns:
        canon = lookup.get(normalise_header(col))
        if canon is None:
            unmatched.append(str(col))
            continue
        if canon in found:
            raise DataError(
                f"{source}: headers {str(found[canon])!r} and {str(col)!r} both mean {canon!r}; "
                "a file must carry each measure once. Remove one of the columns, or pass the "
                "file through pandas and drop the duplicate before reading."
            )
        found[canon] = col
    missing = [c for c in required if c not in found]
    if missing:
        first = missing[0]
        expected = "; ".join(f"{c} (published header {spec[c][0]!r})" for c in missing)
        raise ColumnNotFoundError(
            f"{source}: required column {spec[first][0]!r} (-> {first}) is not in the file. "
            f"Missing: {expected}. Headers found: "
            f"{format_examples([str(c) for c in columns], limit=40)}. "
            f"Headers no rule recognised: {format_examples(unmatched, limit=40) or 'none'}. "
            "Headers are matched case-insensitively, ignoring spacing and known variants; if the "
            "file uses another spelling, rename the column to the published header."
        )
    return found


def to_counts(values: pd.Series, column: str, source: str, keys: pd.Series | None = None) -> pd.Series:
    """Coerce a column of counts to float, reading ``NA_STRINGS`` as NaN.

    Thousands separators (``"1,234"``) and surrounding spaces are removed. Anything else that
    is not a number raises :class:`~evalint.errors.NonNumericError`; negative counts raise
    :class:`~evalint.errors.InvalidValueError`.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        out = values.astype("float64")
    else:
        text = values.astype("string").str.strip()
        is_na = text.isna() | text.str.casefold().isin(NA_STRINGS)
        cleaned = text.str.replace(",", "", regex=False).where(~is_na)
        out = pd.to_numeric(cleaned, errors="coerce").astype("float64")
        bad = out.isna() & ~is_na
        if bad.any():
            where = _where(bad, keys)
            raise NonNumericError(
                f"{source}: column {column!r} holds non-numeric values "
                f"{format_examples(list(pd.unique(values[bad].astype(str))))} ({int(bad.sum())} "
                f"cell(s){where}). Counts must be numbers; '-' and blanks are read as missing. "
                "Correct those cells in the file."
            )
    neg = out < 0
    if neg.any():
        raise InvalidValueError(
            f"{source}: column {column!r} has {int(neg.sum())} negative value(s) "
            f"({format_examples(out[neg].tolist())}{_where(neg, keys)}); counts cannot be negative. "
            "Correct the file."
        )
    return out


def _where(mask: pd.Series, keys: pd.Series | None) -> str:
    if keys is None:
        return ""
    return f", rows {format_examples([str(k) for k in keys[mask].tolist()])}"


def report_missing(frame: pd.DataFrame, columns: Sequence[str], what: str,
                   stacklevel: int = 3) -> dict[str, int]:
    """Warn with the count of missing cells per column; return the counts (non-zero only)."""
    counts = {c: int(frame[c].isna().sum()) for c in columns if c in frame.columns}
    counts = {c: n for c, n in counts.items() if n}
    if counts:
        total = sum(counts.values())
        warnings.warn(
            f"{what}: {total} missing cell(s) kept as NaN (never filled with 0): "
            + ", ".join(f"{c}: {n}" for c, n in counts.items())
            + ". Totals built from a missing part are NaN too.",
            MissingValuesWarning, stacklevel=stacklevel,
        )
    return counts


def source_name(src: Any, index: int) -> str:
    """A short label for a file path (its name) or an in-memory frame (``<frame i>``)."""
    if isinstance(src, (str, Path)):
        return Path(src).name
    return f"<frame {index}>"


def strip_text(values: pd.Series) -> pd.Series:
    """Strip surrounding whitespace (including non-breaking spaces) from a text column."""
    text = values.astype("string").str.replace("\u00a0", " ", regex=False).str.strip()
    return text.mask(text == "", pd.NA)


def sum_parts(frame: pd.DataFrame, parts: Sequence[str], skipna: bool) -> pd.Series:
    """Row sum of ``parts``: NaN when any part is NaN (``skipna=False``) or all are NaN."""
    block = frame[list(parts)].to_numpy(dtype="float64")
    if skipna:
        total = np.nansum(block, axis=1)
        total[np.isnan(block).all(axis=1)] = np.nan
    else:
        total = block.sum(axis=1)
    return pd.Series(total, index=frame.index)
