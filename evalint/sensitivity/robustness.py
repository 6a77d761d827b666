"""The result of a robustness check: a tidy table of refits and a plain-words account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class RobustnessResult:
    """Refits of one design under a robustness check.

    Attributes
    ----------
    check : str
        ``"placebo_in_time"``, ``"negative_control"`` or ``"leave_one_out"``.
    design : str
        The estimator refitted (``"custom"`` for a user's function).
    estimate : float
        The actual estimate the check is about (on the estimator's scale).
    p_value : float
        The check's p-value (rank p-value for placebo-in-time; the smallest Bonferroni-adjusted
        p-value over the negative controls; ``nan`` for leave-one-out, which is descriptive).
    alpha : float
    table : pandas.DataFrame
        One row per refit (see each check's documentation for the columns).
    verdict : str
        One sentence in plain words.
    notes : tuple of str
        Caveats (e.g. too few placebos to reject at ``alpha``).
    info : mapping
        Settings used (window lengths, units, dates).
    references : tuple of str
    """

    check: str
    design: str
    estimate: float
    p_value: float
    alpha: float
    table: pd.DataFrame
    verdict: str
    notes: tuple[str, ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The refits as a tidy table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        """A plain-text account: what was refitted, the key numbers, the verdict and caveats."""
        title = {"placebo_in_time": "Placebo-in-time check", "negative_control": "Negative-control outcome check",
                 "leave_one_out": "Leave-one-out check"}.get(self.check, self.check)
        lines = [f"{title} ({self.design}).", self.verdict]
        lines += [f"Note: {n}" for n in self.notes]
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            lines.append(self.table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
