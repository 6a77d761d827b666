"""The panel data model: validation, time parsing and treatment timing."""

from evalint.data.panel import Panel
from evalint.data.timeparse import to_period, to_periods
from evalint.data.timing import TreatmentTiming

__all__ = ["Panel", "TreatmentTiming", "to_period", "to_periods"]
