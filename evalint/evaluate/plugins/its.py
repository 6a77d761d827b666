"""Interrupted time series in :func:`evalint.evaluate` (``designs=["its"]``).

Identified when the treated units have at least :data:`MIN_PRE_PERIODS` periods before the
first intervention date. One date: ITS on the aggregate series of the treated units (of every
unit when none is a comparison), which needs no comparison units. Staggered adoption: an ITS
per treated unit at its own date, pooled by random-effects meta-analysis; its estimand (each
unit's level change at its date) is not the comparison designs', so it is shown apart from
the verdict.

References
----------
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. IJE 46(1), 348-355.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import SpecificationError, plain
from evalint.estimators.its.state import ITSState
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
from evalint.evaluate.scale import from_its_cumulative, from_result

__all__ = ["ITS", "ITS_DEFAULTS", "MIN_PRE_PERIODS", "UNIT_FAIL_SHARE"]

ITS_DEFAULTS: dict[str, Any] = {"impact": "step", "seasonality": "fourier", "harmonics": 2}
#: share of per-unit ITS fits failing a diagnostic above which the pooled design is marked as failing it
UNIT_FAIL_SHARE = 0.10
MIN_PRE_PERIODS = 8


def _summarise_unit_checks(results: Mapping[Any, Any]) -> tuple[CheckResult, ...]:
    by_name: dict[str, list[Any]] = {}
    for r in results.values():
        for d in r.diagnostics:
            by_name.setdefault(d.name, []).append(d)
    out = []
    for name, ds in by_name.items():
        ran = [d for d in ds if d.passed is not None]
        n_fail = sum(1 for d in ran if d.passed is False)
        if not ran:
            out.append(CheckResult(name, None, f"not run in any of {len(ds)} unit fits"))
            continue
        passed = n_fail <= UNIT_FAIL_SHARE * len(ran)
        out.append(CheckResult(name, passed, f"{n_fail} of {len(ran)} unit fits failed {name} (the pooled design "
                               f"is marked failed above {UNIT_FAIL_SHARE:.0%})", statistic=float(n_fail)))
    return tuple(out)


def _its_options(ctx: Context) -> dict[str, Any]:
    """ITS options: the defaults, then the user's; seasonal terms only for sub-annual data.

    Fourier terms need a seasonal cycle: none for annual panels (they made every annual ITS
    fail), at most one pair for quarterly ones (the second pair's sine is zero at P = 4). Options
    the user gives are kept as given.
    """
    from evalint.estimators.its.design import season_period

    user = dict(ctx.options.get("its", {}))
    opts = {**ITS_DEFAULTS, **user}
    P = season_period(ctx.panel.freq)
    if "seasonality" not in user and opts.get("seasonality") == "fourier":
        if P < 3:
            opts["seasonality"] = None
        elif "harmonics" not in user:
            opts["harmonics"] = min(int(opts.get("harmonics", 2)), (P - 1) // 2)
    return opts


#: options set by evaluate() itself -> where the user sets them
_RESERVED = {"outcome": "outcomes= ([evaluation] outcomes)", "calendar": "calendar= ([evaluation] calendar)",
             "alpha": "alpha= ([evaluation] alpha)", "intervention": "intervention= ([evaluation] intervention)",
             "interventions": "intervention= ([evaluation] intervention)",
             "unit": "treated= ([evaluation] treated)", "units": "treated= ([evaluation] treated)",
             "estimator": "the outcome's kind (choose the model with the 'model' option)",
             "on_error": "the design (units whose fit fails are left out of the pooled estimate, and listed)",
             "pool": "the design (a staggered ITS is pooled)"}


def _check_its_options(options: dict[str, Any], panel: Any, outcomes: tuple[str, ...]) -> None:
    """The ITS options: names the estimators take, values they accept (for each outcome's model)."""
    import dataclasses

    from evalint.estimators.its.counts import COUNT_MODELS, CountITS
    from evalint.estimators.its.segmented import SegmentedRegression

    seg = {f.name for f in dataclasses.fields(SegmentedRegression) if f.init}
    cnt = {f.name for f in dataclasses.fields(CountITS) if f.init}
    check_option_names("its", options, (seg | cnt | {"model", "inference"}) - set(_RESERVED), _RESERVED)
    given = {k: v for k, v in options.items() if k != "inference"}
    for outcome in outcomes:
        kind = panel.outcome_kinds[outcome]
        model = given.get("model") or kind.default_its_model
        rest = {k: v for k, v in given.items() if k != "model"}
        if model in COUNT_MODELS:
            build_with_options("its", CountITS, {**rest, "model": model}, ITS_DEFAULTS)
            continue
        if model not in ("gls_ar", "ols"):
            raise SpecificationError(
                f"options['its'] ([evaluation.options.its] in a configuration file): model={plain(model)!r}; "
                f"use one of {', '.join(COUNT_MODELS + ('gls_ar', 'ols'))}.")
        only_counts = sorted(set(rest) - seg)
        if only_counts:
            raise SpecificationError(
                f"options['its'] ([evaluation.options.its] in a configuration file): "
                f"{', '.join(map(repr, only_counts))} applies to count outcomes only; outcome {outcome!r} "
                f"is fitted by segmented regression (model {model!r}). Remove it, or evaluate the count "
                "outcomes on their own.")
        build_with_options("its", SegmentedRegression, rest, ITS_DEFAULTS)


def _run_its(ctx: Context, outcome: str, plan: DesignPlan) -> tuple[Any, dict[str, Any]]:
    from evalint.estimators.its import its

    a = ctx.assignment
    treated = a.treated_units
    series = ctx.panel.aggregate("treated units" if a.never_treated else "all units",
                                 units=treated if a.never_treated else None)
    opts = _its_options(ctx)
    date = a.intervention if a.intervention is not None else (
        a.cohorts[0] if ctx.panel.is_ordinal else a.cohorts[0].start_time)
    res = its(series, date, outcome=outcome, calendar=ctx.calendar, alpha=ctx.alpha, **opts)
    return res, {}


def _unit_estimator(model: Any, options: dict[str, Any]) -> Any:
    """The per-unit estimator for an ITS ``model`` option: as :func:`evalint.estimators.its.its`
    chooses it (a count model: CountITS; ``"gls_ar"`` / ``"ols"``: segmented regression)."""
    from evalint.estimators.its.counts import COUNT_MODELS, CountITS
    from evalint.estimators.its.segmented import SegmentedRegression

    if model in COUNT_MODELS:
        return CountITS(model=model, **options)
    if model in ("gls_ar", "ols"):
        return SegmentedRegression(**options)
    raise SpecificationError(f"model={plain(model)!r}; use one of {', '.join(COUNT_MODELS + ('gls_ar', 'ols'))}.")


def _run_its_units(ctx: Context, outcome: str, plan: DesignPlan) -> tuple[Any, dict[str, Any]]:
    from evalint.estimators.its import its_by_unit

    a = ctx.assignment
    opts = _its_options(ctx)
    if "model" in opts:  # the model chosen as its() chooses it (its_by_unit's default takes no model=)
        opts = {"estimator": _unit_estimator(opts.pop("model"), {k: v for k, v in opts.items() if k != "inference"}),
                **({"inference": opts["inference"]} if "inference" in opts else {})}
    iv = a.intervention if a.intervention is not None and a.intervention.unit_dates is not None else None
    by = its_by_unit(ctx.panel, iv, outcome=outcome, units=a.treated_units, calendar=ctx.calendar,
                     alpha=ctx.alpha, on_error="skip", **opts)
    if by.pooled is None:
        if len(by.results) == 1:
            return next(iter(by.results.values())), {"by_unit": by}
        reasons = "; ".join(f"{u}: {m}" for u, m in list(by.failed.items())[:3])
        raise SpecificationError(f"ITS failed for every treated unit ({reasons}).")
    checks = _summarise_unit_checks(by.results)
    flags = list(by.pooled.flags)
    if by.failed:
        flags.append(Flag("data", "medium", f"ITS failed for {len(by.failed)} unit(s) "
                          f"({', '.join(map(str, list(by.failed)[:5]))}); the pooled estimate omits them.",
                          source="its_by_unit"))
    for c in checks:
        if c.passed is False:
            flags.append(Flag("diagnostic", "medium", c.text, source=c.name))
    pooled = dataclasses.replace(by.pooled, diagnostics=tuple(by.pooled.diagnostics) + checks, flags=tuple(flags))
    return pooled, {"by_unit": by}


def _scale_its(result: Any, ctx: Context, outcome: str, totals: Any, spec: Any) -> Any:
    return from_its_cumulative(result, totals, spec)


def _scale_its_units(result: Any, ctx: Context, outcome: str, totals: Any, spec: Any) -> Any:
    return from_result(result, totals)


def _identify(panel: Any, assignment: Any) -> list[DesignPlan] | str:
    n_t, n_c = len(assignment.treated_units), len(assignment.never_treated)
    n_pre = int(np.sum(panel.periods < assignment.cohorts[0]))
    if n_pre < MIN_PRE_PERIODS:
        return (f"only {n_pre} period(s) before the first intervention date "
                f"({assignment.cohorts[0]}); ITS needs at least {MIN_PRE_PERIODS} to estimate "
                "the pre-existing level and trend")
    if assignment.is_staggered:
        return [ITS.plan("its_units", f"adoption is staggered ({len(assignment.cohorts)} dates): an ITS per treated "
                                      f"unit at its own date ({n_t} units), pooled by random-effects meta-analysis")]
    what = "all units" if n_c == 0 else f"the {n_t} treated unit(s)"
    return [ITS.plan("its", f"one intervention date ({assignment.cohorts[0]}): ITS on the aggregate "
                            f"series of {what}, which needs no comparison units")]


def _figures(ev: Any, o: str, words: str, where: str, span: str, name: str) -> list[FigureSpec]:
    out = []
    its = ev.results.get(("its", o))
    if its is not None and hasattr(its, "plot"):
        out.append(FigureSpec(f"its_{o}", f"ITS counterfactual: {words}",
                              f"{words} in {where} ({span}): observed, the fitted model and the no-intervention "
                              "counterfactual with its pointwise band; the strip below marks the "
                              "high-severity calendar events that overlap the window.",
                              lambda: its.plot(title=f"{words}, {where}, {span}: observed and without {name}")))
    unit_fit = ev.extras.get(("its_units", o), {}).get("by_unit")
    if unit_fit is not None and len(unit_fit.results):
        first = next(iter(unit_fit.results.values()))
        unit = first.state_as(ITSState).unit
        out.append(FigureSpec(f"its_unit_{o}", f"ITS counterfactual, first treated unit: {words}",
                              f"One unit's ITS ({unit}) of the {len(unit_fit.results)} pooled; every unit's "
                              "estimate is in the pooled result's 'units' table.",
                              lambda: first.plot(title=f"{words}, {unit}, {span}: observed and without {name}")))
    return out


ITS = register_design(Design(
    name="its",
    title="ITS",
    variants=(
        Variant("its", "ITS (aggregate treated series)", _run_its, _scale_its,
                assumption="no other change at the intervention date and a correctly extrapolated pre-trend",
                key_diagnostics=("ljung_box", "durbin_watson", "acf_pacf"), short_label="ITS",
                check_options=_check_its_options),
        Variant("its_units", "ITS (per unit, pooled)", _run_its_units, _scale_its_units,
                assumption="no other change at each unit's date and correctly extrapolated unit pre-trends",
                key_diagnostics=("ljung_box", "durbin_watson"), options_key="its", short_label="ITS (per unit)",
                check_options=_check_its_options,
                apart=("the per-unit ITS pools each unit's level change at its own date, not the average "
                       "post-period effect the comparison designs estimate (in simulations with effects that "
                       "build up after adoption its interval covered the comparison designs' estimand in 0% "
                       "of draws), so it is shown apart and not triangulated")),
    ),
    identify=_identify,
    figures=_figures,
))
