"""The event-time result state of the regression DiD estimators (:class:`EventTimeState`).

The TWFE event study, the dose event study, Sun-Abraham and the imputation estimator carry
an :class:`EventTimeState`; Callaway-Sant'Anna carries its own
:class:`~evalint.estimators.did.cs.aggregate.CSState` (cells and influence functions). See
:mod:`evalint.results.state` for what is state and what is display.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalint.results.state import FamilyState

__all__ = ["EventTimeState"]


@dataclass(frozen=True, eq=False)
class EventTimeState(FamilyState):
    """What an event-time DiD fit leaves for downstream code.

    Attributes
    ----------
    reference_period : int, tuple of int or str
        The omitted event time(s) the coefficients are relative to (TWFE event study), or a
        sentence saying what the estimates are relative to (Sun-Abraham, imputation).
    window : (int, int) or None
        Event-time window ``(-leads, lags)`` of a TWFE event study.
    bin_endpoints : bool
        Whether the window's end points pool the event times beyond them.
    """

    reference_period: object
    window: tuple[int, int] | None = None
    bin_endpoints: bool = False

    def reference_label(self) -> object:
        """:attr:`reference_period` (the event-study figure's axis label shows it)."""
        return self.reference_period
