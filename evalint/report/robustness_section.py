"""The report's "How robust is this?" section and the one-line robustness statement of the summary.

Built from :meth:`evalint.evaluate.core.Evaluation.robustness` (the table of
:mod:`evalint.evaluate.robustness`); nothing is refitted here. The section is one collapsed
details block per outcome, after the summary; the summary card of each outcome carries the
one-sentence statement. An evaluation run with ``robustness=False`` has neither.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from evalint.results.numbers import fmt, fmt_ci

__all__ = ["SECTION_TITLE", "robustness_line", "robustness_parts", "robustness_rows"]

SECTION_TITLE = "How robust is this?"
_CHECK_NAMES = {
    "churn_donut": "Calendar threat: window left out", "churn_regressor": "Calendar threat: controlled for",
    "churn_drop_exposed": "Calendar threat: most exposed comparisons dropped",
    "churn_alternative_date": "Alternative intervention date", "placebo_in_time": "Placebo-in-time",
    "leave_one_out": "Leave-one-out", "negative_control": "Negative-control outcome",
    "honest_did": "HonestDiD breakdown", "pretrend_power": "Pre-trend test power",
}


def _table(ev: Any) -> pd.DataFrame | None:
    return ev._cache.get("robustness") if hasattr(ev, "_cache") else None


def robustness_line(ev: Any, outcome: str) -> str | None:
    """The one-sentence robustness statement of ``outcome`` (None when the section is off)."""
    statements = ev._cache.get("robustness_statements") if hasattr(ev, "_cache") else None
    return None if statements is None else statements.get(outcome)


def robustness_rows(ev: Any, outcome: str) -> pd.DataFrame:
    """The robustness table of one outcome, formatted for reading."""
    t = _table(ev)
    cols = ["Design", "Check", "Event / unit", "Estimate (interval)", "Main", "Reading", "Fragile?"]
    if t is None:
        return pd.DataFrame(columns=cols)
    labels = {p.key: p.label for p in ev.plans}
    rows = []
    for r in t.loc[t["outcome"] == outcome].itertuples():
        est = ""
        if math.isfinite(r.estimate):
            est = fmt(r.estimate)
            if math.isfinite(r.conf_low) and math.isfinite(r.conf_high):
                est += f" ({fmt_ci(r.conf_low, r.conf_high)})"
        rows.append({"Design": labels.get(r.design, r.design), "Check": _CHECK_NAMES.get(r.check, r.check),
                     "Event / unit": str(r.variant), "Estimate (interval)": est,
                     "Main": fmt(r.main) if math.isfinite(r.main) else "", "Reading": str(r.reading)[:160],
                     "Fragile?": "yes" if r.against else ""})
    return pd.DataFrame(rows, columns=cols)


def robustness_parts(
        ev: Any, words: Callable[[Any, str], str],
) -> tuple[list[str], list[tuple[str, str, pd.DataFrame]]] | None:
    """The section's paragraphs and, per outcome, (collapsed summary line, statement, table).

    ``words(ev, outcome)`` names an outcome; None when the evaluation has no robustness table.
    """
    t = _table(ev)
    if t is None:
        return None
    intro = ("Each design re-estimated under the top calendar threats (window left out, threat controlled for, most "
             "exposed comparison units dropped), at the alternative intervention date, at placebo dates in the "
             "pre-period, without its most influential comparison unit or donor, on negative-control outcomes, "
             "and, for DiD, the HonestDiD breakdown value and the power of the pre-trend test. Estimates are on "
             "each design's own scale (log rates for DiD on counts, rate ratios for count ITS).")
    blocks = []
    for o in ev.outcomes:
        rows = robustness_rows(ev, o)
        n_bad = int((rows["Fragile?"] == "yes").sum()) if len(rows) else 0
        blocks.append((f"{words(ev, o)}: {len(rows)} check(s), {n_bad} against the conclusion",
                       robustness_line(ev, o) or "", rows))
    return [intro, ev._cache.get("robustness_rule", "")], blocks
