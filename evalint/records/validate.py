"""Bad-input counting for record-level data: every rule counted and reported, none silent.

Each spell is checked against :data:`~evalint.records.outcomes.QUALITY_TERMS` in the same
query that builds the panel; the counts come back as a data-quality table and, when any is
non-zero, as a :class:`RecordsQualityWarning` (or a :class:`RecordsDataError` with
``on_bad="error"``).
"""

from __future__ import annotations

import warnings

import pandas as pd

from evalint.errors import DataError, DroppedRowsWarning, MissingValuesError
from evalint.records.outcomes import QUALITY_TERMS

__all__ = ["RecordsDataError", "RecordsQualityWarning", "check_spell_ids", "quality_table",
           "report_quality"]


class RecordsDataError(DataError):
    """Record-level data broke a quality rule and ``on_bad="error"`` was asked for.

    ``table`` holds the data-quality table.
    """

    def __init__(self, message: str, table: pd.DataFrame) -> None:
        super().__init__(message)
        self.table = table


class RecordsQualityWarning(DroppedRowsWarning):
    """Some spells broke a quality rule; ``table`` says how many and what was done."""

    def __init__(self, message: str, table: pd.DataFrame) -> None:
        super().__init__(message)
        self.table = table


def quality_table(sums: pd.DataFrame) -> pd.DataFrame:
    """Rule, spells breaking it, share of all spells and the action taken."""
    total = int(sums["all_spells"].sum())
    rows = [{"rule": "episodes read", "spells": int(sums["all_episodes"].sum()),
             "share": float("nan"), "action": "-"},
            {"rule": "spells built", "spells": total, "share": 1.0, "action": "-"}]
    for name, (_, action) in QUALITY_TERMS.items():
        n = int(sums[name].sum())
        rows.append({"rule": name, "spells": n, "share": n / total if total else float("nan"),
                     "action": action})
    return pd.DataFrame(rows)


def report_quality(table: pd.DataFrame, *, on_bad: str) -> None:
    """Warn (``on_bad="warn"``) or raise (``"error"``) when a rule was broken."""
    bad = table[table["rule"].isin(list(QUALITY_TERMS)) & (table["spells"] > 0)]
    if bad.empty or on_bad == "ignore":
        return
    lines = "; ".join(f"{r.rule}: {r.spells} ({r.share:.2%}) -> {r.action}"
                      for r in bad.itertuples())
    msg = (f"record-level data quality: {lines}. Fix the extract or the field mapping, or pass "
           f"on_bad='ignore' after reading the table (episodes_to_frame(...).quality).")
    if on_bad == "error":
        raise RecordsDataError(msg, table)
    warnings.warn(RecordsQualityWarning(msg, table), stacklevel=3)


def check_spell_ids(n_missing: int, column: str) -> None:
    """Refuse episodes without a spell id: they cannot be put together into spells.

    Raises
    ------
    MissingValuesError
        ``n_missing > 0``; the message names the column and the fix.
    """
    if n_missing > 0:
        raise MissingValuesError(
            f"{n_missing} episode(s) have no spell id in column {column!r} (spell_id): episodes "
            f"are put together into spells by it, so these cannot be counted. Drop them, or give "
            f"each its own key (e.g. fill from another id column), or map spell_id to another "
            f"column with fields={{'spell_id': '<column>'}}.")
