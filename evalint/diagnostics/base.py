"""Checks and flags: the common currency of diagnostics and the policy calendar.

A :class:`CheckResult` is what any check returns (a pre-trend test, a pre-fit RMSPE
rule, residual autocorrelation, the policy-calendar check). A :class:`Flag` is one
line a result carries into its summary, tidy tables, plots and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

__all__ = ["CheckResult", "Flag", "Severity"]

Severity = Literal["high", "medium", "low", "info"]
_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


@dataclass(frozen=True)
class Flag:
    """One concern attached to a result.

    Parameters
    ----------
    kind : str
        ``"confounding"`` (policy calendar), ``"diagnostic"``, ``"data"`` or ``"inference"``.
    severity : {"high", "medium", "low", "info"}
    message : str
        One plain-language sentence.
    source : str
        Where the underlying fact comes from (citation for calendar events, the test name
        for diagnostics).
    event_id : str, optional
        Policy-calendar event id, for confounding flags.
    start, end : pandas.Period or str, optional
        Span of the concern (shaded on plots).
    """

    kind: str
    severity: Severity
    message: str
    source: str = ""
    event_id: str | None = None
    start: Any = None
    end: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "severity": self.severity, "message": self.message,
            "source": self.source, "event_id": self.event_id,
            "start": None if self.start is None else str(self.start),
            "end": None if self.end is None else str(self.end),
        }


def flags_frame(flags: tuple[Flag, ...] | list[Flag]) -> pd.DataFrame:
    """Flags as a tidy frame, most severe first."""
    cols = ["kind", "severity", "message", "source", "event_id", "start", "end"]
    rows = sorted((f.as_dict() for f in flags), key=lambda r: _ORDER.get(r["severity"], 9))
    return pd.DataFrame(rows, columns=cols)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Parameters
    ----------
    name : str
        Short name, e.g. ``"policy_calendar"`` or ``"pre_trend_wald"``.
    passed : bool or None
        True (no problem found), False (problem found), None (could not be run).
    text : str
        Plain-language statement of what was checked and found.
    table : pandas.DataFrame, optional
        Details (e.g. the threatening events).
    statistic, p_value : float, optional
    df : int, optional
        Degrees of freedom of ``statistic`` (e.g. the number of restrictions of a Wald test).
    flags : tuple of Flag
        Flags the check raises for the result it belongs to.
    threats : pandas.DataFrame, optional
        The policy-calendar check's short ranked list (at most five rows: ``rank,
        event_id, name, score, reason, source`` and more); see :meth:`ranked_threats`.
    power : dict, optional
        Pre-trend tests: the test's power against linear violations of parallel trends
        (:func:`evalint.diagnostics.pretrend.linear_violation_power`): ``slope_50``,
        ``slope_80`` (slopes per period detected with 50% / 80% power), ``bias`` and
        ``bias_if_passed`` (bias of the effect at ``event_time`` under the 80% slope,
        unconditionally and among studies that pass the test), ``event_time``.
    """

    name: str
    passed: bool | None
    text: str
    table: pd.DataFrame | None = None
    statistic: float | None = None
    p_value: float | None = None
    flags: tuple[Flag, ...] = field(default=())
    df: int | None = None
    threats: pd.DataFrame | None = None
    power: dict[str, float] | None = None

    def ranked_threats(self) -> pd.DataFrame:
        """The ranked top threats (``rank, event_id, name, score, reason, source``...).

        Empty (same columns) for checks that rank nothing.
        """
        if self.threats is not None:
            return self.threats.copy()
        return pd.DataFrame(columns=["rank", "event_id", "name", "score", "reason", "source"])

    def __str__(self) -> str:
        status = {True: "passed", False: "FAILED", None: "not run"}[self.passed]
        return f"[{status}] {self.name}: {self.text}"
