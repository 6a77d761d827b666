"""Dated, sourced policy events and the calendar that holds them.

A :class:`PolicyEvent` is one policy, funding stream, shock, strike or data-definition
change with a start date, an optional end date, the outcomes it is expected to move and
the source that dates it. A :class:`PolicyCalendar` is an immutable, ordered collection
of events: :meth:`PolicyCalendar.default` loads the curated calendar shipped with evalint
(England 2009-2026 plus Scotland, Wales and Northern Ireland context), local events are
added with :meth:`PolicyCalendar.add` or :meth:`PolicyCalendar.from_csv`, and
:meth:`PolicyCalendar.check` lists the events that threaten an evaluation. The event
record and the CSV schema it is read from are in :mod:`evalint.calendar.event_records`.

References
----------
Shadish, W. R., Cook, T. D. and Campbell, D. T. (2002). *Experimental and
Quasi-Experimental Designs for Generalized Causal Inference*, ch. 6 ("history" as a
threat to interrupted time-series designs). Houghton Mifflin.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from evalint.calendar.collection import EventCollection
from evalint.calendar.confounding import check_confounding
from evalint.diagnostics.base import CheckResult

__all__ = ["PolicyCalendar"]


class PolicyCalendar(EventCollection):
    """An immutable, date-ordered collection of
    :class:`~evalint.calendar.event_records.PolicyEvent`.

    Build one with :meth:`default` (the curated calendar), :meth:`from_csv`,
    :meth:`from_frame` or ``PolicyCalendar(events)``; every method that changes the
    collection returns a new calendar. The construction and query methods are those of
    :class:`~evalint.calendar.collection.EventCollection`.

    Examples
    --------
    >>> cal = PolicyCalendar.default()
    >>> res = cal.check("ics_golive_2022", outcome="emergency_admissions", pre=24, post=12)
    >>> res.table[["event_id", "overlap", "severity"]]  # doctest: +SKIP
    """

    __slots__ = ()

    def check(self, intervention: Any, *, outcome: str | None, pre: int = 24, post: int = 12,
              freq: str = "M", treated_units: Iterable[str] | None = None,
              comparison_units: Iterable[str] | None = None, design: str | None = None,
              co_timed: int = 3, nation: str = "England", include_all: bool = False,
              collection: str | None = None, level: str | None = None, top: int = 5,
              noise: float | None = None) -> CheckResult:
        """List the events that threaten an evaluation of ``intervention`` on ``outcome``.

        See :func:`evalint.calendar.confounding.check_confounding` for the parameters,
        the overlap categories and the severity rules (also in ``methods/policy_churn.md``).
        """
        return check_confounding(
            self, intervention, outcome=outcome, pre=pre, post=post, freq=freq,
            treated_units=treated_units, comparison_units=comparison_units, design=design,
            co_timed=co_timed, nation=nation, include_all=include_all, collection=collection,
            level=level, top=top, noise=noise,
        )
