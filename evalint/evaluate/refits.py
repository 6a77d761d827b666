"""One design of an :class:`~evalint.evaluate.core.Evaluation`, refitted on a changed input.

The robustness section of ``evaluate()`` (churn re-estimates, placebo dates, leave-one-out,
negative controls, HonestDiD) refits the designs ``evaluate()`` ran, on the scale each design
compares, with cheap inference. This module builds each design's analysis data and its
``fit(panel) -> EffectResult`` once, from the evaluation alone:

``did``
    Callaway-Sant'Anna on log rates (counts) or levels, never-treated comparisons, analytic
    influence-function inference: the same point estimate as the main fit (whose interval may
    come from permutations or a Welch t reading instead). A refit returns the fit's headline
    numbers only (``CallawaySantAnna.headline``: estimate, SE, interval, p-value; no tables,
    pre-trend check or provenance), which is all the checks read.
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

import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError

__all__ = ["REFIT_DESIGNS", "SCM_POINT_OPTIONS", "DesignRefit", "design_refit", "null_of", "point_result",
           "result_check"]

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
        ``fit_at(panel, date) -> result`` (an EffectResult, or for DiD an object with its
        headline ``estimate``, ``se``, ``ci``, ``p_value`` and ``scale``); ``date`` (and extra ITS options such as
        ``transition=``) is used by ITS only (the comparison designs read the panel's cohorts).
    null : float
        The value of "no effect" on the result's scale (1 for rate ratios, else 0).
    point : callable, optional
        ``point(panel)``: the estimate of ``fit(panel)`` without its inference, tables or
        diagnostics (a result-like object whose ``se``, ``ci`` and ``p_value`` are NaN); None
        when the design has no such path.
    """

    design: str
    outcome: str
    panel: Any
    start: pd.Period
    fit_at: Callable[[Any, Any], Any]
    null: float
    point: Callable[[Any], Any] | None = None

    def fit(self, panel: Any) -> Any:
        """Refit at the first treated period (or the panel's own cohorts)."""
        return self.fit_at(panel, self.start)

    def estimate(self, panel: Any) -> Any:
        """The refit's estimate only, for checks that read nothing else (placebo refits): the
        design's estimate-only path when it has one (``point``: the same estimate, with NaN
        standard error, interval and p-value), else the full refit."""
        return self.point(panel) if self.point is not None else self.fit(panel)


def point_result(estimate: float, outcome: str) -> Any:
    """A result-like object holding only an estimate (``se``, ``ci``, ``p_value`` NaN)."""
    nan = float("nan")
    return types.SimpleNamespace(estimate=float(estimate), se=nan, ci=(nan, nan), p_value=nan, scale="",
                                 outcome=outcome)


#: synthetic-control options the estimate-only refit understands (others: the full refit)
SCM_POINT_OPTIONS = frozenset({"predictors", "v_method", "custom_v", "optimization_window", "standardize",
                               "prefit_tolerance", "leave_one_out", "max_evaluations"})


def _scm_point(opts: dict[str, Any], outcome: str) -> Callable[[Any], Any] | None:
    """``point(panel)``: the synthetic control's estimate without its in-space placebos (38 more
    weight fits per refit) or tables: the same weights and the treated units' mean gap. None
    when the run's options need the full refit."""
    if set(opts) - SCM_POINT_OPTIONS:
        return None
    from evalint.data.guards import require_varying
    from evalint.estimators.synth.matrices import synth_design
    from evalint.estimators.synth.scm.estimator import SyntheticControl

    est = SyntheticControl(**{**opts, "leave_one_out": False})

    def point(p: Any) -> Any:
        require_varying(p, outcome, "synthetic_control")
        design = synth_design(p, outcome=outcome)
        prob = est.problem(p)
        fits = [prob.fit_unit(u, design.donors, design.Y, design.periods, design.start[u]) for u in design.treated]
        return point_result(float(np.array([f.att for f in fits]).mean()), outcome)
    return point


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
    point: Callable[[Any], Any] | None = None
    if design == "did":
        from evalint.estimators.did.cs.estimator import callaway_santanna
        from evalint.inference.specs import Analytic

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = ctx.transformed("log_rate" if kind.is_count else "none").with_outcome(outcome)

        from evalint.data.guards import require_varying
        from evalint.estimators.did.cs.estimator import CallawaySantAnna

        cs = CallawaySantAnna(outcome=outcome, control="never_treated")
        main: list[Any] = []  # the refit of the design's own panel, fitted once (churn and leave-one-out)

        def fit_at(p: Any, date: Any, **extra: Any) -> Any:
            # the checks read only the headline numbers: the fit's own, without its tables, pre-trend
            # check and provenance (CallawaySantAnna.headline); any failure goes through the full fit,
            # which raises the error a user's call would
            if p is panel and main:
                return main[0]
            try:
                require_varying(p, outcome, "callaway_santanna")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est, se, ci, pv = cs.headline(p, inference=Analytic(), alpha=alpha)
                res_p = point_result(est, outcome)
                res_p.se, res_p.ci, res_p.p_value, res_p.scale = se, ci, pv, "absolute"
            except Exception:  # noqa: BLE001 - the full fit raises the user-facing error
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res_p = callaway_santanna(p, outcome=outcome, inference=Analytic(), calendar=False,
                                              alpha=alpha, control="never_treated")
            if p is panel:
                main.append(res_p)
            return res_p

        def cs_point(p: Any) -> Any:
            require_varying(p, outcome, "callaway_santanna")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return point_result(cs.point_estimate(p, inference=Analytic()), outcome)

        point = cs_point
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
        from evalint.data.guards import require_varying
        from evalint.estimators.synth.scm.estimator import SyntheticControl, synthetic_control
        from evalint.inference.specs import Placebo

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = ctx.transformed("rate").with_outcome(outcome)
        opts = {**dict((getattr(ctx, "options", {}) or {}).get("scm", {})), "leave_one_out": False}
        point = _scm_point(opts, outcome)

        # with fast settings evaluate() fitted the same synthetic control (no leave-one-out table):
        # its result is the refit of the unchanged panel
        same = res if (res is not None and getattr(ctx, "fast", False)) else None

        sc_opts = {k: v for k, v in opts.items() if k not in ("predictors", "v_method")}
        try:  # as synthetic_control() builds it; options it refuses leave the full refit (and its error)
            sc: Any = SyntheticControl(predictors=None if opts.get("predictors") is None else tuple(opts["predictors"]),
                                       v_method=opts.get("v_method", "nested"), **sc_opts)
        except Exception:  # noqa: BLE001
            sc = None

        def fit_at(p: Any, date: Any, **extra: Any) -> Any:
            if same is not None and p is panel:
                return same
            # the checks read only the headline numbers: the fit's own (SyntheticControl.headline: the
            # same weights, placebos and inference, no tables or provenance); any failure goes
            # through the full fit, which raises the error a user's call would
            try:
                if sc is None:
                    raise SpecificationError("no headline path")
                require_varying(p, outcome, "synthetic_control")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est, se, ci, pv = sc.headline(p, outcome=outcome, inference=Placebo(seed=ev.seed), alpha=alpha)
                out = point_result(est, outcome)
                out.se, out.ci, out.p_value, out.scale = se, ci, pv, "absolute"
                return out
            except Exception:  # noqa: BLE001 - the full fit raises the user-facing error
                pass
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return synthetic_control(p, outcome=outcome, calendar=False, alpha=alpha,
                                         inference=Placebo(seed=ev.seed), **opts)
    out = DesignRefit(design=design, outcome=outcome, panel=panel, start=start, fit_at=fit_at,
                      null=null_of(res) if res is not None else float("nan"), point=point)
    ev._cache[key] = out
    return out
