"""Per-design runners for :func:`evalint.evaluate.evaluate`: fit one design to one outcome.

Each runner (aggregate or per-unit ITS, Callaway-Sant'Anna DiD, synthetic control,
synthetic DiD) fits its design on the scale it compares (counts, rates or log rates) and
returns the result with extras for the report; :func:`_scaled` puts a result on the common
scale of :mod:`evalint.evaluate.scale`. The orchestration is in :mod:`evalint.evaluate.core`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from evalint.diagnostics.base import CheckResult, Flag
from evalint.errors import EvalintError, SpecificationError
from evalint.evaluate.designs import DesignPlan
from evalint.evaluate.scale import (
    CellTotals,
    ScaledEffect,
    ScaleSpec,
    from_absolute,
    from_its_cumulative,
    from_relative,
)

if TYPE_CHECKING:
    from evalint.evaluate.core import _Context

ITS_DEFAULTS: dict[str, Any] = {"impact": "step", "seasonality": "fourier", "harmonics": 2}
#: share of per-unit ITS fits failing a diagnostic above which the pooled design is marked as failing it
UNIT_FAIL_SHARE = 0.10


def _its_options(ctx: _Context) -> dict[str, Any]:
    """ITS defaults and the user's options; annual data have no within-year season to model."""
    defaults = dict(ITS_DEFAULTS)
    if ctx.panel.freq == "Y":
        defaults.pop("seasonality")
        defaults.pop("harmonics")
    return {**defaults, **dict(ctx.options.get("its", {}))}


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


def _its_options(ctx: _Context) -> dict[str, Any]:
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


def _run_its(ctx: _Context, outcome: str) -> tuple[Any, dict[str, Any]]:
    from evalint.estimators.its import its

    a = ctx.assignment
    treated = a.treated_units
    series = ctx.panel.aggregate("treated units" if a.never_treated else "all units",
                                 units=treated if a.never_treated else None)
    opts = _its_options(ctx)
    date = a.intervention if a.intervention is not None else a.cohorts[0].start_time
    res = its(series, date, outcome=outcome, calendar=ctx.calendar, alpha=ctx.alpha, **opts)
    return res, {}


def _run_its_units(ctx: _Context, outcome: str) -> tuple[Any, dict[str, Any]]:
    from evalint.estimators.its import its_by_unit

    a = ctx.assignment
    opts = _its_options(ctx)
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


def _run_did(ctx: _Context, outcome: str, plan: DesignPlan) -> tuple[Any, dict[str, Any]]:
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
    from evalint.estimators.did.cs.aggregate import aggregate_att
    from evalint.errors import FewTreatedWarning
    from evalint.estimators.did.cs.estimator import callaway_santanna
    from evalint.estimators.did.permutation import n_treated_groups
    from evalint.evaluate.pilot import FEW_TREATED_METHODS, MAX_PERMUTATION_TREATED, welch_t_interval
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
        extras["placebo_estimates"] = np.asarray(res.info["placebo_estimates"])
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


def _run_scm(ctx: _Context, outcome: str) -> tuple[Any, dict[str, Any]]:
    from evalint.estimators.synth.scm.estimator import synthetic_control

    panel = ctx.transformed("rate")
    opts = {"leave_one_out": not ctx.fast, **dict(ctx.options.get("scm", {}))}
    res = synthetic_control(panel, outcome=outcome, calendar=ctx.calendar, alpha=ctx.alpha, seed=ctx.seed,
                            **opts)
    return res, {}


def _run_sdid(ctx: _Context, outcome: str) -> tuple[Any, dict[str, Any]]:
    from evalint.estimators.synth.sdid.estimator import synthetic_did

    kind = ctx.panel.outcome_kinds[outcome]
    panel = ctx.transformed("log_rate" if kind.is_count else "none").with_outcome(outcome)
    opts = dict(ctx.options.get("sdid", {}))
    res = synthetic_did(panel, method="sdid", variance="placebo", reps=ctx.reps("sdid"), seed=ctx.seed,
                        calendar=ctx.calendar, alpha=ctx.alpha, **opts)
    return res, {}


def _scaled(design: str, result: Any, ctx: _Context, outcome: str, totals: CellTotals, spec: ScaleSpec
            ) -> ScaledEffect:
    kind = ctx.panel.outcome_kinds[outcome]
    lo, hi = result.ci
    if design == "its":
        return from_its_cumulative(result, totals, spec)
    if result.scale == "rate_ratio":  # pooled per-unit count ITS
        return from_relative(result.estimate - 1, lo - 1, hi - 1, totals,
                             native=f"rate ratio {result.estimate:.4g} ({lo:.4g} to {hi:.4g})")
    if design in ("did", "sdid") and kind.is_count:
        return from_relative(math.expm1(result.estimate), math.expm1(lo), math.expm1(hi), totals,
                             native=f"ATT on log rate {result.estimate:.4g} ({lo:.4g} to {hi:.4g})")
    unit = "per 100,000" if design == "scm" and spec.per_population else ""
    return from_absolute(result.estimate, lo, hi, totals,
                         native=f"{result.term} {result.estimate:.4g} ({lo:.4g} to {hi:.4g}) {unit}".strip())


_RUNNERS = {"its": _run_its, "its_units": _run_its_units, "scm": _run_scm, "sdid": _run_sdid}


def _fit(plan: DesignPlan, ctx: _Context, outcome: str) -> tuple[Any, dict[str, Any]]:
    from evalint.data.guards import require_varying
    from evalint.estimators.base import trusted_fits

    require_varying(ctx.panel, outcome, plan.label)
    with trusted_fits():  # evaluate() names each outcome itself; the user-input checks ran once
        if plan.key == "did":
            return _run_did(ctx, outcome, plan)
        return _RUNNERS[plan.key](ctx, outcome)
