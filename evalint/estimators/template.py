"""The one fit template every estimator follows.

A fit has four steps, in this order, and only the second differs between estimators:

1. **validate** the user's call: a Panel, a valid ``outcome=``, a non-constant outcome
   (:mod:`evalint.data.guards`, run once per user call by the wrapper
   :func:`~evalint.estimators.base.register_estimator` puts around ``fit``), and resolve
   ``inference=`` to a supported spec (:func:`evalint.inference.dispatch.resolve_inference`);
2. run the estimator's **core** (:meth:`FitTemplate._fit_core`): the estimate, its inference,
   the estimator's own diagnostics; it returns a :class:`FitCore` saying where the policy
   calendar should look (a :class:`CalendarQuery`) and how to finish the result;
3. run the **policy-calendar check** once (:func:`run_calendar_query`: the only caller of
   :func:`~evalint.estimators.base.calendar_check` in the estimators);
4. **build** the :class:`~evalint.results.EffectResult` (:attr:`FitCore.finish`, given the
   check and its flags).

An estimator's public ``fit`` keeps its own signature (its keywords are its documentation)
and hands everything to :meth:`FitTemplate.run_fit`. A core may return a finished result
instead of a :class:`FitCore` when it delegates to other fits that ran the template
themselves (Conley-Taber permutation refits the estimator on placebo panels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evalint.data.ordinal import ORDINAL_NOTE, relabel_text
from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import EvalintError
from evalint.estimators.base import calendar_check
from evalint.inference.dispatch import resolve_inference
from evalint.results.ordinal import relabel_ordinal

if TYPE_CHECKING:  # pragma: no cover
    from evalint.results.effect import EffectResult

__all__ = ["CalendarQuery", "CalendarOutcome", "FitCore", "FitTemplate", "run_calendar_query"]


@dataclass(frozen=True)
class CalendarQuery:
    """Where the policy-calendar check of a fit looks (the arguments of
    :func:`~evalint.estimators.base.calendar_check`).

    ``preset``: an intervention preset (ITS fits of ``ics_golive_2022`` and the like) is checked
    with its own dates, phases and units instead of ``intervention``.
    """

    intervention: Any
    outcome: str | None = None
    pre: int | None = None
    post: int | None = None
    treated_units: Sequence[Any] | None = None
    comparison_units: Sequence[Any] | None = None
    design: str | None = None
    preset: Any = None
    freq: str | None = None


@dataclass(frozen=True)
class CalendarOutcome:
    """The check's result: ``check`` (None when it could not run) and its flags."""

    check: CheckResult | None
    flags: tuple[Flag, ...] = ()

    @property
    def checks(self) -> list[CheckResult]:
        """The check as a list (empty when it could not run), for a result's diagnostics."""
        return [] if self.check is None else [self.check]


@dataclass(frozen=True)
class FitCore:
    """What an estimator's core hands back to the template.

    Attributes
    ----------
    calendar : CalendarQuery or None
        Where the calendar check looks; ``None``: the calendar cannot be placed for this fit
        (the check is then recorded as not run).
    finish : callable
        ``finish(CalendarOutcome) -> EffectResult``: the result with the check in place.
    """

    calendar: CalendarQuery | None
    finish: Callable[[CalendarOutcome], EffectResult] = field(repr=False)


def run_calendar_query(panel: Any, query: CalendarQuery | None, calendar: Any) -> CalendarOutcome:
    """Run the policy-calendar check a :class:`FitCore` asks for (``calendar=False`` skips it).

    On an ordinal time axis (period numbers, no dates) the check cannot place events: it is
    recorded as not run, with a note flag saying so (:data:`evalint.data.ordinal.ORDINAL_NOTE`).
    """
    if getattr(panel, "is_ordinal", False) and calendar is not False:
        note = CheckResult("policy_calendar", None, f"not run: {ORDINAL_NOTE}")
        return CalendarOutcome(note, (Flag("data", "info", f"Policy calendar: {ORDINAL_NOTE}",
                                           source="policy_calendar"),))
    if query is None:
        check, flags = calendar_check(panel, None, calendar=False)
        return CalendarOutcome(check, tuple(flags))
    if query.preset is not None and calendar is not False:
        from evalint.calendar import PolicyCalendar

        cal = PolicyCalendar.default() if calendar is None or calendar is True else calendar
        outcome = query.outcome or panel.outcome
        kind = panel.outcome_kinds[outcome].name if outcome in panel.outcome_kinds else outcome
        check = cal.check(query.preset, outcome=kind, pre=query.pre, post=query.post,  # type: ignore[arg-type]
                          freq=query.freq,  # type: ignore[arg-type]
                          treated_units=query.treated_units, design=query.design)
        return CalendarOutcome(check, tuple(check.flags))
    try:
        check, flags = calendar_check(panel, query.intervention, outcome=query.outcome, pre=query.pre,
                                      post=query.post, treated_units=query.treated_units,
                                      comparison_units=query.comparison_units, calendar=calendar,
                                      design=query.design)
    except ImportError:  # pragma: no cover - the calendar ships with the package
        check, flags = CheckResult("policy_calendar", None, "policy calendar unavailable"), ()
    return CalendarOutcome(check, tuple(flags))


class FitTemplate:
    """Mixin: the fit template (see the module docstring). Subclasses write :meth:`_fit_core`."""

    def _resolve_inference(self, inference: Any) -> Any:
        """Step 1's spec check: :func:`~evalint.inference.dispatch.resolve_inference` (a family may narrow it)."""
        return resolve_inference(self, inference)

    #: The estimator's core, ``(panel, spec, *, alpha, calendar, **its own keywords) -> FitCore``
    #: (or a finished EffectResult). Each estimator defines it with its own keywords, so it is
    #: declared as a callable attribute rather than a method with one signature.
    _fit_core: Callable[..., FitCore | EffectResult]

    def run_fit(self, panel: Any, *, inference: Any = None, calendar: Any = None, alpha: float = 0.05,
                **options: Any) -> EffectResult:
        """Validate (the spec; the data checks ran in the registry's wrapper), run the core, run the
        calendar check once, build the result."""
        spec = self._resolve_inference(inference)
        try:
            core = self._fit_core(panel, spec, alpha=alpha, calendar=calendar, **options)
        except EvalintError as err:
            if getattr(panel, "is_ordinal", False) and err.args and isinstance(err.args[0], str):
                err.args = (relabel_text(err.args[0]), *err.args[1:])  # periods as the user's numbers
            raise
        if not isinstance(core, FitCore):
            return relabel_ordinal(core, panel)
        return relabel_ordinal(core.finish(run_calendar_query(panel, core.calendar, calendar)), panel)
