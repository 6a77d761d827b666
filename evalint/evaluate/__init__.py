"""One evaluation question answered by every design the data support.

:func:`evaluate` runs interrupted time series, difference-in-differences and synthetic
control where each is identified, puts their effects on a common scale (per 100,000
population per month, % change, cumulative admissions averted / bed-days saved),
triangulates them with a plain-language verdict per outcome and writes a report. The
designs are plug-ins (:mod:`evalint.evaluate.registry`); the built-in ones register
themselves from :mod:`evalint.evaluate.plugins` here.
"""

from evalint.evaluate.core import FAST_REPS, FULL_REPS, DesignFailure, Evaluation, evaluate
from evalint.evaluate.designs import Assignment, DesignPlan, choose_designs, resolve_assignment
from evalint.evaluate.registry import Design, Variant, list_designs, register_design, unregister_design
from evalint.evaluate.scale import ScaledEffect
from evalint.evaluate.triangulate import Verdict
from evalint.evaluate import plugins  # noqa: F401 - registers the built-in designs (its, did, synth)

__all__ = ["evaluate", "Evaluation", "DesignFailure", "Verdict", "ScaledEffect", "Assignment", "DesignPlan",
           "choose_designs", "resolve_assignment", "FAST_REPS", "FULL_REPS", "Design", "Variant",
           "register_design", "unregister_design", "list_designs"]
