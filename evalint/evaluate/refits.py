"""One design of an :class:`~evalint.evaluate.core.Evaluation`, refitted on a changed input.

The robustness section of ``evaluate()`` (churn re-estimates, placebo dates, leave-one-out,
negative controls, HonestDiD) refits the designs ``evaluate()`` ran, on the scale each design
compares, with cheap inference. This module builds each design's analysis data and its
``fit(panel) -> EffectResult`` once, from the evaluation alone:

``did``
    Callaway-Sant'Anna on log rates (counts) or levels, never-treated comparisons, analytic
    influence-function inference: the same point estimate as the main fit (whose interval may
    come from permutations or a Welch t reading instead).
``its``
    The treated units' aggregate series with the main fit's ITS options; the date is passed
    explicitly (``fit_at(panel, date)``).
``scm``
    Synthetic control on rates with its placebo inference, without the leave-one-out table.

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. JASA 105(490), 493-505.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evalint.errors import SpecificationError

__all__ = ["REFIT_DESIGNS", "DesignRefit", "design_refit", "null_of", "result_check"]

#: designs the robustness section can refit
REFIT_DESIGNS = ("its", "did", "scm")


@dataclass(frozen=True)
class DesignRefit:
    """A design ready to refit.

    Attributes
    ----------
    design : str
        ``"its"``, ``"did"`` or ``"scm"``.
    outcome : str
    panel : Panel
        The analysis data: the treated units' series (ITS) or the panel with the evaluation's
        cohorts on the design's scale (DiD, synthetic control).
    start : pandas.Period
        The first treated period (the earliest cohort).
    fit_at : callable
        ``fit_at(panel, date) -> EffectResult``; ``date`` (and extra ITS options such as
        ``transition=``) is used by ITS only (the comparison designs read the panel's cohorts).
    null : float
        The value of "no effect" on the result's scale (1 for rate ratios, else 0).
    """

    design: str
    outcome: str
    panel: Any
    start: pd.Period
    fit_at: Callable[[Any, Any], Any]
    null: float

    def fit(self, panel: Any) -> Any:
        """Refit at the first treated period (or the panel's own cohorts)."""
        return self.fit_at(panel, self.start)


def null_of(result: Any) -> float:
    """1 for results on a ratio scale (rate ratios), else 0."""
    return 1.0 if "ratio" in str(getattr(result, "scale", "")).lower() else 0.0


def result_check(result: Any, name: str = "policy_calendar") -> Any:
    """The named diagnostic of a result (``None`` when it has none)."""
    return next((d for d in getattr(result, "diagnostics", ()) if getattr(d, "name", "") == name), None)


def _context(ev: Any) -> Any:
    """The evaluate() run context the refits need (options, calendar, the transformed panels)."""
    if "context" not in ev._cache and hasattr(ev, "_refit_context"):
        ev._refit_context()  # an evaluation run with robustness=False: the default settings
    ctx = ev._cache.get("context")
    if ctx is None:
        raise SpecificationError("robustness refits need the evaluation's run context; call "
                                 "Evaluation.robustness() or Evaluation.churn_sensitivity().")
    return ctx


def design_refit(ev: Any, design: str, outcome: str, *, require_result: bool = True) -> DesignRefit:
    """The refit of ``design`` on ``outcome`` of evaluation ``ev`` (cached on the evaluation).

    ``require_result=False`` builds it for an outcome of the panel that ``evaluate()`` did not
    fit (a negative control); its ``null`` is then NaN (read it from the refit's result).

    Raises
    ------
    SpecificationError
        The design is not one of :data:`REFIT_DESIGNS`, was not run, or failed.
    """
    key = ("refit", design, outcome)
    if key in ev._cache:
        return ev._cache[key]
    if design not in REFIT_DESIGNS:
        raise SpecificationError(f"robustness refits support designs {', '.join(REFIT_DESIGNS)}; got {design!r}.")
    res = ev.result(design, outcome) if require_result else None
    if require_result and not hasattr(res, "estimate"):
        raise SpecificationError(f"design {design!r} failed on {outcome!r}: {res}")
    ctx = _context(ev)
    a = ev.assignment
    start = a.cohort.dropna().min()
    kind = ev.panel.outcome_kinds[outcome]
    alpha = ev.alpha
    if design == "did":
        from evalint.estimators.did.cs.estimator import callaway_santanna
        from evalint.inference.specs import Analytic

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = ctx.transformed("log_rate" if kind.is_count else "none").with_outcome(outcome)

        def fit_at(p: Any, date: Any, **extra: Any) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return callaway_santanna(p, outcome=outcome, inference=Analytic(), calendar=False, alpha=alpha,
                                         control="never_treated")
    elif design == "its":
        from evalint.estimators.its import its

        treated = a.treated_units
        panel = ev.panel.aggregate("treated units" if a.never_treated else "all units",
                                   units=treated if a.never_treated else None)
        opts = dict(ev._cache.get("its_options", {}))

        def fit_at(p: Any, date: Any, **extra: Any) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if isinstance(date, dict):
                    return its(p, None, interventions=date, focus="intervention", outcome=outcome,
                               calendar=False, alpha=alpha, **{**opts, **extra})
                return its(p, date, outcome=outcome, calendar=False, alpha=alpha, **{**opts, **extra})
    else:
        from evalint.estimators.synth.scm.estimator import synthetic_control
        from evalint.inference.specs import Placebo

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = ctx.transformed("rate").with_outcome(outcome)
        opts = {**dict((getattr(ctx, "options", {}) or {}).get("scm", {})), "leave_one_out": False}

        # with fast settings evaluate() fitted the same synthetic control (no leave-one-out table):
        # its result is the refit of the unchanged panel
        same = res if (res is not None and getattr(ctx, "fast", False)) else None

        def fit_at(p: Any, date: Any, **extra: Any) -> Any:
            if same is not None and p is panel:
                return same
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return synthetic_control(p, outcome=outcome, calendar=False, alpha=alpha,
                                         inference=Placebo(seed=ev.seed), **opts)
    out = DesignRefit(design=design, outcome=outcome, panel=panel, start=start, fit_at=fit_at,
                      null=null_of(res) if res is not None else float("nan"))
    ev._cache[key] = out
    return out
