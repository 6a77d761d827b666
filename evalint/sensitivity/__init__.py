"""Sensitivity of event-study results: Rambachan-Roth (HonestDiD) intervals and pre-trend power.

Reads event-study results only through their public tables (``effects`` and
``tables["event_time_vcov"]``); see methods/sensitivity.md.
"""

from evalint.sensitivity.event_time import EventTimeEstimates, event_time_estimates
from evalint.sensitivity.honest_did import HonestDiDResult, honest_did, honest_did_estimates
from evalint.sensitivity.pretrend_power import pretest_power, pretrend_power

__all__ = ["EventTimeEstimates", "event_time_estimates", "HonestDiDResult", "honest_did",
           "honest_did_estimates", "pretrend_power", "pretest_power"]
