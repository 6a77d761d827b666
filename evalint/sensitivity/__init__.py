"""Sensitivity of event-study results: Rambachan-Roth (HonestDiD) intervals and pre-trend power.

Reads event-study results only through their public tables (``effects`` and
``tables["event_time_vcov"]``); see methods/sensitivity.md.
"""

from evalint.sensitivity.event_time import EventTimeEstimates, event_time_estimates
from evalint.sensitivity.honest_did import HonestDiDResult, honest_did, honest_did_estimates
from evalint.sensitivity.pretrend_power import pretest_power, pretrend_power
from evalint.sensitivity.leave_one_out import leave_one_out
from evalint.sensitivity.negative_control import negative_control
from evalint.sensitivity.placebo_in_time import placebo_in_time, rank_p_value, studentised_placebo_test
from evalint.sensitivity.robustness import RobustnessResult
from evalint.sensitivity import evaluation_checks as _evaluation_checks  # noqa: F401 - registers evaluate()'s robustness checks

__all__ = ["EventTimeEstimates", "event_time_estimates", "HonestDiDResult", "honest_did",
           "honest_did_estimates", "pretrend_power", "pretest_power"]
__all__ += ["placebo_in_time", "rank_p_value", "studentised_placebo_test", "negative_control", "leave_one_out",
            "RobustnessResult"]
