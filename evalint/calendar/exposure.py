"""Differential exposure: does a calendar event hit treated and comparison units differently?

One job: each unit's exposure to an event, and the standardised difference of exposure
between two groups of units. Exposure is the event's per-area intensity
(:mod:`evalint.calendar.intensity`) when it has one, 1/0 membership of its unit list for
subset events that list units, and unknown otherwise (national events without an intensity
table hit every unit alike; subset events without a list may not).

The rule (``methods/policy_churn.md`` section 5): an event is *differential* between two
groups when the absolute standardised difference of exposure

    d = (mean_treated - mean_comparison) / sqrt((s2_treated + s2_comparison) / 2)

is at least :data:`DIFFERENTIAL_SMD` = 0.25 (sample variances; a group of one unit has
variance 0; when both variances are 0, d is 0 for equal means and infinite otherwise).

References
----------
Stuart, E. A. (2010). Matching methods for causal inference: a review and a look forward.
*Statistical Science* 25(1), 1-21 (standardised mean differences; 0.25 as the balance
threshold, after Rubin 2001).
Rubin, D. B. (2001). Using propensity scores to help design observational studies.
*Health Services and Outcomes Research Methodology* 2, 169-188.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
import numpy as np
import pandas as pd

from evalint.calendar.collection import EventCollection
from evalint.calendar.event_records import PolicyEvent

__all__ = ["DIFFERENTIAL_SMD", "standardised_difference", "unit_exposure"]

#: |standardised difference| at or above which exposure counts as differential.
DIFFERENTIAL_SMD = 0.25


def standardised_difference(treated: Iterable[float], comparison: Iterable[float]) -> float:
    """Standardised difference of means (treated minus comparison), pooled-SD scale.

    Returns ``nan`` when a group is empty.
    """
    t = np.asarray(list(treated), dtype=float)
    c = np.asarray(list(comparison), dtype=float)
    if t.size == 0 or c.size == 0:
        return math.nan
    diff = float(t.mean() - c.mean())
    vt = float(t.var(ddof=1)) if t.size > 1 else 0.0
    vc = float(c.var(ddof=1)) if c.size > 1 else 0.0
    s = math.sqrt((vt + vc) / 2.0)
    if s == 0.0:
        return 0.0 if abs(diff) < 1e-12 else math.copysign(math.inf, diff)
    return diff / s


def unit_exposure(event: PolicyEvent, units: Iterable[str],
                  calendar: EventCollection | None = None) -> tuple[pd.Series | None, str]:
    """Exposure of ``units`` to ``event`` and what it measures.

    Returns ``(series indexed by unit, description)``; the series is ``None`` when exposure
    is unknown or uniform (a national event without an intensity table), and it leaves out
    units an intensity table does not cover.
    """
    units = list(units)
    table = calendar.intensity_table(event) if calendar is not None else None
    if table is not None:
        vals = table.for_units(units)
        if len(vals):
            return vals, f"intensity {table.unit} ({table.name})"
    if not event.is_national and event.units is not None:
        listed = set(event.units)
        return (pd.Series([1.0 if u in listed else 0.0 for u in units], index=units),
                "membership of the event's unit list")
    return None, ""
