"""What every design run of :func:`evalint.evaluate` is handed: the :class:`Context`.

The window panel with the assignment's cohorts (original scale), the panels derived from it
for comparison designs (rates per 100,000 or log rates for counts, built once and cached),
alpha, seed, ``fast``, the policy calendar and the user's per-design options. Design
plug-ins (:mod:`evalint.evaluate.registry`) read it; :mod:`evalint.evaluate.core` builds it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.evaluate.designs import Assignment
from evalint.evaluate.registry import replications
from evalint.evaluate.scale import PER

__all__ = ["Context", "derived_panel"]


def derived_panel(panel: Any, cohort: pd.Series, transform: str) -> Any:
    """The panel with the assignment's cohorts and (for counts) rates or log rates.

    ``transform``: ``"none"`` (the outcomes as they are), ``"rate"`` (counts per 100,000
    population when the panel has one) or ``"log_rate"`` (their logarithm). Built with
    :meth:`~evalint.data.panel.Panel.with_timing` and
    :meth:`~evalint.data.panel.Panel.with_values`; the input panel is not changed.
    """
    from evalint.outcomes import OutcomeKind

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timed = panel.with_timing(cohort)
    if transform == "none":
        return timed
    d = timed.data
    values, kinds = {}, {}
    for o in timed.outcomes:
        k = timed.outcome_kinds[o]
        if not k.is_count:
            continue
        v = d[o].astype(float)
        per = ""
        if timed.population:
            v = v / d[timed.population].astype(float) * PER
            per = " per 100,000"
        if transform == "log_rate":
            bad = int((v <= 0).sum())
            if bad:
                raise SpecificationError(
                    f"outcome {o!r} has {bad} zero cell(s); the log-scale comparison (parallel trends in "
                    "log rates) needs positive counts. Aggregate to larger units or periods, or restrict "
                    "the window, so every cell has at least one event."
                )
            v = np.log(v)
            label, unit_label = f"log {k.label.lower()}{per}", f"log {k.unit_label}{per}"
        else:
            label, unit_label = f"{k.label}{per}", f"{k.unit_label}{per}"
        values[o] = v.to_numpy()
        kinds[o] = OutcomeKind(name=k.name, label=label, measure="continuous", unit_label=unit_label,
                               description=f"{k.label} transformed for comparison designs ({transform}).")
    return timed.with_values(values, kinds)


@dataclass
class Context:
    """The evaluation as a design run sees it.

    Attributes
    ----------
    panel : Panel
        The analysis window with the assignment's cohorts, on the original scale.
    assignment : Assignment
    alpha : float
    seed : int
        Every bootstrap / placebo draw's seed.
    fast : bool
        Fewer replications (:meth:`reps`) and cheaper checks.
    calendar : PolicyCalendar, None or False
    options : mapping
        ``evaluate(options={...})``: option key -> the estimator options the user gave.
    """

    panel: Any
    assignment: Assignment
    alpha: float
    seed: int
    fast: bool
    calendar: Any
    options: Mapping[str, Mapping[str, Any]]
    derived: dict[str, Any] = field(default_factory=dict)

    def transformed(self, transform: str) -> Any:
        """The panel on the scale a comparison design compares (cached): see :func:`derived_panel`."""
        if transform == "none":
            return self.panel
        if transform not in self.derived:
            self.derived[transform] = derived_panel(self.panel, self.assignment.cohort, transform)
        return self.derived[transform]

    def reps(self, key: str) -> int:
        """The bootstrap / placebo replications a design declared under ``key``."""
        return replications(self.fast)[key]
