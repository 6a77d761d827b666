"""Synthetic control and synthetic DiD in :func:`evalint.evaluate` (``designs=["synth"]``).

Identified when few units are treated (at most :data:`MAX_SYNTH_TREATED`) and at least
:data:`MIN_SYNTH_DONORS` never-treated donors exist: Abadie's synthetic control per treated
unit on rates per 100,000 (placebo inference over the donors), and synthetic DiD (unit and
time weights, placebo variance) on log rates for counts.

References
----------
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. JASA 105(490), 493-505.
Abadie, A. (2021). Using synthetic controls: feasibility, data requirements, and
methodological aspects. Journal of Economic Literature 59(2), 391-425.
Arkhangelsky, D., Athey, S., Hirshberg, D.A., Imbens, G.W. & Wager, S. (2021). Synthetic
difference-in-differences. American Economic Review 111(12), 4088-4118.
"""

from __future__ import annotations

from typing import Any

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
from evalint.inference.specs import Placebo

__all__ = ["MAX_SYNTH_TREATED", "MIN_SYNTH_DONORS", "SYNTH"]

MAX_SYNTH_TREATED = 5
MIN_SYNTH_DONORS = 5


def _run_scm(ctx: Context, outcome: str, plan: DesignPlan) -> tuple[Any, dict[str, Any]]:
    from evalint.estimators.synth.scm.estimator import synthetic_control

    panel = ctx.transformed("rate")
    opts = {"leave_one_out": not ctx.fast, **dict(ctx.options.get("scm", {}))}
    res = synthetic_control(panel, outcome=outcome, calendar=ctx.calendar, alpha=ctx.alpha,
                            inference=Placebo(seed=ctx.seed), **opts)
    return res, {}


def _run_sdid(ctx: Context, outcome: str, plan: DesignPlan) -> tuple[Any, dict[str, Any]]:
    from evalint.estimators.synth.sdid.estimator import synthetic_did

    kind = ctx.panel.outcome_kinds[outcome]
    panel = ctx.transformed("log_rate" if kind.is_count else "none").with_outcome(outcome)
    opts = dict(ctx.options.get("sdid", {}))
    res = synthetic_did(panel, method="sdid", inference=Placebo(reps=ctx.reps("sdid"), seed=ctx.seed),
                        calendar=ctx.calendar, alpha=ctx.alpha, **opts)
    return res, {}


_SET = {"outcome": "outcomes= ([evaluation] outcomes)", "calendar": "calendar= ([evaluation] calendar)",
        "alpha": "alpha= ([evaluation] alpha)", "seed": "seed= ([evaluation] seed)",
        "inference": "the design (placebo inference)", "treated": "intervention= and treated= ([evaluation])",
        "intervention": "intervention= ([evaluation] intervention)"}
_SDID_SET = {**_SET, "method": "the design (synthetic DiD)",
             "variance": "the design (placebo variance)", "reps": "fast= ([evaluation] fast)"}
#: synthetic_did()'s estimator options evaluate() passes on
SDID_OPTIONS = ("covariates", "eta_omega", "eta_lambda", "sparsify", "max_iter")


def _check_scm_options(options: dict[str, Any], panel: Any, outcomes: tuple[str, ...]) -> None:
    """The synthetic control options: SyntheticControl's parameters, donors and predictor data."""
    import dataclasses

    from evalint.estimators.synth.scm.estimator import SyntheticControl

    names = {f.name for f in dataclasses.fields(SyntheticControl) if f.init}
    check_option_names("scm", options, (names | {"donors", "predictor_data"}) - set(_SET), _SET)
    est = {k: v for k, v in options.items() if k in names}
    if isinstance(est.get("predictors"), list):
        est["predictors"] = tuple(est["predictors"])
    build_with_options("scm", SyntheticControl, est)


def _check_sdid_options(options: dict[str, Any], panel: Any, outcomes: tuple[str, ...]) -> None:
    """The synthetic DiD options: SDID_OPTIONS, values SyntheticDiD accepts."""
    from evalint.estimators.synth.sdid.estimator import SyntheticDiD

    check_option_names("sdid", options, SDID_OPTIONS, _SDID_SET)
    est = dict(options)
    if isinstance(est.get("covariates"), list):
        est["covariates"] = tuple(est["covariates"])
    build_with_options("sdid", SyntheticDiD, est)


def _scale_scm(result: Any, ctx: Context, outcome: str, totals: Any, spec: Any) -> Any:
    return from_result(result, totals, unit="per 100,000" if spec.per_population else "")


def _scale_sdid(result: Any, ctx: Context, outcome: str, totals: Any, spec: Any) -> Any:
    return from_result(result, totals, log_scale=ctx.panel.outcome_kinds[outcome].is_count)


def _identify(panel: Any, assignment: Any) -> list[DesignPlan] | str:
    n_t, n_c, n_units = len(assignment.treated_units), len(assignment.never_treated), len(assignment.cohort)
    if n_c == 0:
        return (f"no never-treated units ({assignment.name} treats all {n_units} units"
                f"{' on one date' if not assignment.is_staggered else ''}): no donor pool, so synthetic "
                "control is not identified")
    if n_t > MAX_SYNTH_TREATED:
        return (f"{n_t} units are treated (more than {MAX_SYNTH_TREATED}): synthetic control "
                "is a design for a few treated units; difference-in-differences uses the "
                "comparison units instead")
    if n_c < MIN_SYNTH_DONORS:
        return (f"only {n_c} never-treated donor(s) (fewer than {MIN_SYNTH_DONORS}): too few "
                "to build a synthetic comparison or to run placebo inference")
    return [SYNTH.plan("scm", f"{n_t} treated unit(s) and {n_c} never-treated donors: a synthetic "
                              "control per treated unit, placebo inference over the donors"),
            SYNTH.plan("sdid", f"{n_t} treated unit(s) and {n_c} never-treated donors: synthetic DiD "
                               "(unit and time weights), placebo variance")]


def _figures(ev: Any, o: str, words: str, where: str, span: str, name: str) -> list[FigureSpec]:
    """One figure: synthetic DiD's when it has one, else synthetic control's."""
    for key, label in (("sdid", "Synthetic DiD"), ("scm", "Synthetic control")):
        r = ev.results.get((key, o))
        if r is not None and hasattr(r, "plot"):
            return [FigureSpec(f"{key}_{o}", f"{label}: {words}, treated vs synthetic",
                               f"{words} in a treated unit against its synthetic comparison (rates per 100,000, "
                               "log rates for counts), the gap with placebo gaps where available, and the "
                               "donor weights.", r.plot)]
    return []


SYNTH = register_design(Design(
    name="synth",
    title="synthetic control",
    variants=(
        Variant("scm", "Synthetic control (Abadie)", _run_scm, _scale_scm,
                assumption="a synthetic comparison that tracks the treated units before and would have after",
                key_diagnostics=("scm_prefit",), short_label="Synth. control", check_options=_check_scm_options),
        Variant("sdid", "Synthetic DiD", _run_sdid, _scale_sdid,
                assumption="parallel trends after unit and time weighting",
                key_diagnostics=("pre_fit_rmspe",), short_label="Synth. DiD", check_options=_check_sdid_options,
                cost=5.0),  # placebo refits: ~5x a C-S or SCM fit of the same panel
    ),
    identify=_identify,
    # (SDID placebo draws; SCM p-value draws)
    replications={"sdid": (200, 30), "scm": (1000, 200)},
    figures=_figures,
))
