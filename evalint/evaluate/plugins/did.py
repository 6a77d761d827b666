"""Difference-in-differences in :func:`evalint.evaluate` (``designs=["did"]``): Callaway-Sant'Anna.

Identified with comparison units: never-treated units (at least two), else not-yet-treated
units when adoption is staggered. Counts are compared on the log rate scale (parallel trends
in log rates); with few treated units the interval is read differently
(:mod:`evalint.evaluate.pilot`).

References
----------
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Conley, T.G. & Taber, C.R. (2011). Inference with "difference in differences" with a small
number of policy changes. Review of Economics and Statistics 93(1), 113-125.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from evalint.errors import EvalintError, SpecificationError
from evalint.evaluate.context import Context
from evalint.evaluate.registry import (
    Design,
    DesignPlan,
    FigureSpec,
    Variant,
    build_with_options,
    check_option_names,
    register_design,
)
from evalint.evaluate.scale import from_result

__all__ = ["DID"]


def _run_did(ctx: Context, outcome: str, plan: DesignPlan) -> tuple[Any, dict[str, Any]]:
    """Callaway-Sant'Anna on log rates; with few treated units the interval is read differently.

    ``options={"did": {"few_treated": ...}}``: ``"permutation"`` (default) - with 1 to
    :data:`~evalint.evaluate.pilot.MAX_PERMUTATION_TREATED` treated units and never-treated
    comparisons, the Conley-Taber permutation interval over up to ``reps("did")`` placebo
    assignments (closed-form placebo estimates when the fit has no covariates or weights and the
    panel is balanced; C-S refits with analytic SEs otherwise); with more treated units (or
    not-yet-treated comparisons) the Welch t interval. ``"welch_t"``: the multiplier-bootstrap SE
    on a t reference with Welch-Satterthwaite df (2 or more treated units). ``"bootstrap"``: the
    multiplier-bootstrap interval as it is.
    """
    from evalint._typing import check_option
    from evalint.errors import FewTreatedWarning
    from evalint.estimators.did.cs.aggregate import aggregate_att
    from evalint.estimators.did.cs.estimator import callaway_santanna
    from evalint.estimators.did.permutation import n_treated_groups
    from evalint.evaluate.pilot import (
        FEW_TREATED_METHODS,
        MAX_PERMUTATION_TREATED,
        welch_t_interval,
    )
    from evalint.inference.permutation import ConleyTaber
    from evalint.inference.specs import MultiplierBootstrap

    kind = ctx.panel.outcome_kinds[outcome]
    panel = ctx.transformed("log_rate" if kind.is_count else "none").with_outcome(outcome)
    did_opts = dict(ctx.options.get("did", {}))
    few = check_option("few_treated", did_opts.pop("few_treated", "permutation"), FEW_TREATED_METHODS)
    opts = {"control": plan.options.get("control", "never_treated"), **did_opts}
    extras: dict[str, Any] = {}
    n_treated = n_treated_groups(panel)
    if few == "permutation" and n_treated <= MAX_PERMUTATION_TREATED and opts["control"] == "never_treated":
        # the same inference object a direct call takes (closed-form placebos when possible)
        res = callaway_santanna(panel, inference=ConleyTaber(reps=ctx.reps("did"), seed=ctx.seed),
                                calendar=ctx.calendar, alpha=ctx.alpha, **opts)
        extras["placebo_estimates"] = np.asarray(res.inference.placebo_estimates)
    else:
        with warnings.catch_warnings():  # the few-treated reading is decided here, below
            warnings.filterwarnings("ignore", category=FewTreatedWarning)
            res = callaway_santanna(panel, inference=MultiplierBootstrap(reps=ctx.reps("did"), seed=ctx.seed),
                                    calendar=ctx.calendar, alpha=ctx.alpha, **opts)
        if few == "welch_t" or (few == "permutation" and n_treated > 1):
            if n_treated < 2:
                raise SpecificationError(
                    "few_treated='welch_t' needs at least 2 treated units (the treated part of the variance is "
                    "estimated from them); with one treated unit use the default 'permutation'.")
            res = welch_t_interval(res, ctx.alpha)
    try:
        extras["event_study"] = aggregate_att(res, "dynamic", min_e=-24, max_e=24)
    except EvalintError as exc:
        extras["event_study_error"] = str(exc)
    return res, extras


_RESERVED = {"outcome": "outcomes= ([evaluation] outcomes)", "calendar": "calendar= ([evaluation] calendar)",
             "alpha": "alpha= ([evaluation] alpha)", "seed": "seed= ([evaluation] seed)",
             "inference": "the design (the few_treated option chooses how the interval is read)"}


def _check_did_options(options: dict[str, Any], panel: Any, outcomes: tuple[str, ...]) -> None:
    """The DiD options: Callaway-Sant'Anna's parameters and ``few_treated``, values it accepts."""
    import dataclasses

    from evalint._typing import check_option
    from evalint.estimators.did.cs.estimator import CallawaySantAnna
    from evalint.evaluate.pilot import FEW_TREATED_METHODS

    names = {f.name for f in dataclasses.fields(CallawaySantAnna) if f.init} - set(_RESERVED)
    check_option_names("did", options, names | {"few_treated"}, _RESERVED)
    rest = dict(options)
    if "few_treated" in rest:
        try:
            check_option("few_treated", rest.pop("few_treated"), FEW_TREATED_METHODS)
        except EvalintError as exc:
            raise SpecificationError(f"options['did'] ([evaluation.options.did] in a configuration file): "
                                     f"{exc}") from None
    build_with_options("did", CallawaySantAnna, rest)


def _scale(result: Any, ctx: Context, outcome: str, totals: Any, spec: Any) -> Any:
    return from_result(result, totals, log_scale=ctx.panel.outcome_kinds[outcome].is_count)


def _identify(panel: Any, assignment: Any) -> list[DesignPlan] | str:
    n_c, n_units = len(assignment.never_treated), len(assignment.cohort)
    staggered = assignment.is_staggered
    if n_c >= 2:
        return [DID.plan("did", f"{n_c} never-treated comparison unit(s): Callaway-Sant'Anna with "
                                "never-treated comparisons"
                                + (f", staggered over {len(assignment.cohorts)} cohorts" if staggered else
                                   " (one cohort: the 2x2 comparison of treated and never-treated units)"),
                         control="never_treated")]
    if staggered:
        return [DID.plan("did", f"{'no' if n_c == 0 else 'only one'} never-treated unit but adoption is "
                                f"staggered ({len(assignment.cohorts)} cohorts): Callaway-Sant'Anna with "
                                "not-yet-treated comparisons (the last cohort has no comparison after its "
                                "date, so it contributes only before)",
                         control="not_yet_treated")]
    if n_c == 0:
        return (f"{assignment.name} treats all {n_units} units on one date "
                f"({assignment.cohorts[0]}): no comparison units, so difference-in-"
                "differences is not identified")
    return (f"only {n_c} never-treated unit and a single adoption date: one "
            "comparison unit cannot support difference-in-differences inference")


def _periods_word(panel: Any) -> str:
    """"months", "quarters", "years"... for the panel's time axis; "periods" for period numbers."""
    if panel.is_ordinal:
        return "periods"
    return {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}.get(panel.freq, "periods")


def _figures(ev: Any, o: str, words: str, where: str, span: str, name: str) -> list[FigureSpec]:
    es = ev.extras.get(("did", o), {}).get("event_study")
    if es is None:
        return []
    scale = ("log rate (x100 ~ % change)" if ev.panel.outcome_kinds[o].is_count else "outcome units")
    return [FigureSpec(f"event_study_{o}", f"Event study (Callaway-Sant'Anna): {words}",
                       f"Effect on {words.lower()} by {_periods_word(ev.panel)} since the "
                       f"start in {where}, on the {scale} "
                       "scale: pointwise intervals (bars) and simultaneous bands (shaded).",
                       lambda: es.plot(title=f"{words}: effect by time since {name} started, {where}"))]


DID = register_design(Design(
    name="did",
    title="difference-in-differences",
    variants=(
        Variant("did", "DiD (Callaway-Sant'Anna)", _run_did, _scale,
                assumption="parallel trends between treated and comparison units (on the log scale for counts)",
                key_diagnostics=("pre_trend",), short_label="DiD (C-S)", check_options=_check_did_options),
    ),
    identify=_identify,
    replications={"did": (999, 199)},
    figures=_figures,
))
