"""The sensitivity checks of ``evaluate()``'s "How robust is this?" section, one function per check.

Each function takes an :class:`~evalint.evaluate.core.Evaluation`, a design key and an
outcome, refits the design as :mod:`evalint.evaluate.refits` builds it, and returns rows of
:data:`evalint.evaluate.robustness.ROBUSTNESS_COLUMNS`. They are registered with
:func:`evalint.evaluate.robustness.register_check` when this module is imported (by
``evalint.sensitivity``): the evaluate layer runs them without importing this layer.

``placebo_in_time`` (ITS, DiD, synthetic control)
    Fake dates in the pre-period with windows of one shape (:func:`placebo_in_time`); one row
    with the actual estimate and the rank p-value.
``leave_one_out`` (DiD, synthetic control)
    DiD: the comparison units whose pre-to-post change is furthest from the comparison mean
    (in a two-group DiD the estimate moves by ``(change_j - mean change) / (n - 1)`` when unit
    ``j`` is left out, so these are the most influential); synthetic control: the donors with the
    largest weights. One row: the refit that moves the estimate most.
``negative_control`` (ITS, DiD, synthetic control)
    The same design on each negative-control outcome; Bonferroni over the controls. For DiD the
    p-value comes from placebo refits among the comparison units (the analytic one over-rejects
    with few treated units).
``honest_did`` (DiD)
    Callaway-Sant'Anna with a universal base period, dynamic aggregation, relative-magnitude
    restrictions on the average post-period effect; the breakdown value.
``pretrend_power`` (DiD)
    The slope of a linear violation the pre-trend (Wald) test detects with 80% power and the bias
    of the first-period effect conditional on passing it (Roth 2022).

References
----------
Rambachan, A. & Roth, J. (2023). A more credible approach to parallel trends. RES 90(5), 2555-2591.
Roth, J. (2022). Pretest with caution. AER: Insights 4(3), 305-322.
Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic control
method. AJPS 59(2), 495-510.
Lipsitch, M., Tchetgen Tchetgen, E. & Cohen, T. (2010). Negative controls. Epidemiology 21(3), 383-388.
Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a small number of
policy changes. REStat 93(1), 113-125.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from evalint._distributions import t_ppf, t_sf
from evalint.evaluate.refits import design_refit, null_of
from evalint.evaluate.robustness import (
    RobustnessSettings,
    _entry_significant,
    _row,
    reading,
    register_check,
)
from evalint.sensitivity.honest_did import honest_did
from evalint.sensitivity.leave_one_out import leave_one_out
from evalint.sensitivity.placebo_in_time import placebo_in_time
from evalint.sensitivity.pretrend_power import pretrend_power

__all__ = ["honest_did_rows", "leave_one_out_rows", "negative_control_rows", "placebo_rows", "pretrend_power_rows"]

#: fewest pre-periods of each placebo fit: ITS models trend and seasonal terms, the others need less
MIN_PLACEBO_PRE = {"its": 12, "did": 6, "scm": 6}


def _ci(res: Any) -> tuple[float, float]:
    lo, hi = res.ci
    return float(lo), float(hi)


def _fit_fn(refit: Any) -> Any:
    return lambda p, d: refit.fit_at(p, d) if refit.design == "its" else refit.fit(p)


def _scm_point(ev: Any, outcome: str) -> Any:
    """``fit(panel) -> result`` with the synthetic control's point estimate only (no in-space
    placebos: those are 38 more weight fits per refit), or None when the run's options need the
    full refit (:attr:`evalint.evaluate.refits.DesignRefit.point`)."""
    if ev._cache.get("context") is None:
        return None
    return design_refit(ev, "scm", outcome).point


def _same_panel(a: Any, b: Any) -> bool:
    """Whether two panels hold the same data and treatment timing (a refit of one is the other's)."""
    if a is b:
        return True
    ta, tb = a.timing, b.timing
    if (ta is None) != (tb is None) or list(a.units) != list(b.units) or not a.periods.equals(b.periods):
        return False
    if ta is not None and not ta.cohort.equals(tb.cohort):
        return False
    return bool(a.data.equals(b.data))


def placebo_rows(ev: Any, design: str, outcome: str, st: RobustnessSettings) -> list[dict[str, Any]]:
    """Placebo-in-time: the actual estimate among fake pre-period dates (one row)."""
    if design not in MIN_PLACEBO_PRE:
        return []
    refit = design_refit(ev, design, outcome)
    periods = refit.panel.periods
    i0 = int((periods < refit.start).sum())
    n_post = len(periods) - i0
    h = min(n_post, max(3, i0 // 4))
    pre = min(24, i0 - h - 2)
    if pre < MIN_PLACEBO_PRE[design]:
        return [_row(outcome=outcome, design=design, check="placebo_in_time",
                     reading=f"not possible: {i0} pre-periods leave no placebo date with {MIN_PLACEBO_PRE[design]} "
                             f"pre-periods and a {h}-period window")]
    feasible = list(range(pre, i0 - h + 1))
    n = st.scm_placebo_dates if design == "scm" else st.placebo_dates
    pick = sorted({feasible[round(k)] for k in np.linspace(0, len(feasible) - 1, min(n, len(feasible)))})
    tr = [u for u in ev.assignment.treated_units] if design != "its" else None
    fit = _fit_fn(refit)
    # the rank test reads only the placebo dates' estimates, so they are fitted for the estimate
    # only (the same estimates): DiD always, synthetic control with fast settings (without its
    # in-space placebo inference); the actual date in full
    point = _scm_point(ev, outcome) if (st.fast and design == "scm") else refit.point if design == "did" else None
    if point is not None:
        full = fit
        fit = lambda p, d: full(p, d) if d == refit.start else point(p)  # noqa: E731
    r = placebo_in_time(refit.panel, fit, intervention=refit.start, treated=tr, window=h,
                        pre_periods=pre, dates=[periods[j] for j in pick], alpha=st.alpha)
    t = r.table
    n_pl = len(t) - 1
    rank_p = float(r.info.get("rank_p", float("nan")))
    k = round(rank_p * (n_pl + 1)) - 1 if math.isfinite(rank_p) else 0
    words = (f"{k} of {n_pl} placebo dates give an estimate at least as extreme as the actual one "
             + (f"(studentised placebo p = {r.p_value:.2g})" if math.isfinite(r.p_value)
                else "(too few placebos for the studentised test)"))
    return [_row(outcome=outcome, design=design, check="placebo_in_time", variant=f"{n_pl} dates",
                 estimate=float(t["estimate"].iloc[0]), conf_low=float(t["conf_low"].iloc[0]),
                 conf_high=float(t["conf_high"].iloc[0]), main=float(t["estimate"].iloc[0]), change=0.0,
                 null=refit.null, p_value=float(r.p_value), reading=words,
                 note=f"windows of {pre} pre- and {h} post-periods; p studentised by the placebos' spread with "
                      f"{r.info.get('effective_placebos', float('nan')):.1f} effective placebos (the plain rank "
                      "over-rejects); reported, not part of the fragility rule")]


def _did_influence_order(refit: Any, treated: list[Any]) -> list[Any]:
    d = refit.panel.data
    y = refit.panel.outcome
    post = d[refit.panel.time] >= refit.start
    change = d.loc[post].groupby(refit.panel.unit)[y].mean() - d.loc[~post].groupby(refit.panel.unit)[y].mean()
    comp = change.drop(index=[u for u in treated if u in change.index])
    return list((comp - comp.mean()).abs().sort_values(ascending=False, kind="stable").index)


def leave_one_out_rows(ev: Any, design: str, outcome: str, st: RobustnessSettings) -> list[dict[str, Any]]:
    """Leave-one-out comparison units (DiD) or donors (synthetic control): the largest move (one row)."""
    if design not in ("did", "scm"):
        return []
    refit = design_refit(ev, design, outcome)
    treated = ev.assignment.treated_units
    if design == "did":
        units = _did_influence_order(refit, treated)[: st.loo_units]
        what = "comparison units with the largest leave-one-out influence"
    else:
        w = ev.result(design, outcome).tables["donor_weights"]
        w = w.loc[w["weight"] > 1e-6].groupby("unit")["weight"].max().sort_values(ascending=False, kind="stable")
        units = list(w.index[: st.scm_loo_donors])
        what = "donors with the largest weights"
    if not units:
        return [_row(outcome=outcome, design=design, check="leave_one_out",
                     reading="not possible: no unit to leave out")]
    fit = _fit_fn(refit)

    def fit_or_reuse(p: Any, d: Any) -> Any:
        # the fit on all units (leave_one_out's first row, on a re-timed copy of the panel) is the
        # refit of the design's own panel: with fast settings the synthetic control's is the
        # evaluation's result itself, not a second fit with its placebos
        return fit(refit.panel, d) if _same_panel(p, refit.panel) else fit(p, d)

    r = leave_one_out(refit.panel, fit_or_reuse, units=units, intervention=refit.start, treated=treated,
                      alpha=st.alpha)
    t = r.table
    main_lo, main_hi = float(t["conf_low"].iloc[0]), float(t["conf_high"].iloc[0])
    main = float(t["estimate"].iloc[0])
    loo = t.iloc[1:]
    worst = loo.loc[loo["change"].abs().idxmax()]
    words, _, _ = reading(float(worst["estimate"]), float(worst["conf_low"]), float(worst["conf_high"]), main,
                          main_lo, main_hi, null=refit.null)
    flips = [u for u, e in zip(loo["dropped"], loo["estimate"])
             if np.sign(e - refit.null) != np.sign(main - refit.null)]
    against = bool(_entry_significant(ev, design, outcome) and flips)
    lo, hi = r.info["range"]
    note = (f"{len(units)} {what} left out one at a time; estimates range {lo:.4g} to {hi:.4g}"
            + (f"; the sign flips without {', '.join(map(str, flips[:5]))}" if flips else ""))
    return [_row(outcome=outcome, design=design, check="leave_one_out", variant=str(worst["dropped"]),
                 estimate=float(worst["estimate"]), conf_low=float(worst["conf_low"]),
                 conf_high=float(worst["conf_high"]), main=main, change=float(worst["change"]), null=refit.null,
                 reading=words, against=against, note=note)]


def negative_control_rows(ev: Any, design: str, outcome: str, st: RobustnessSettings) -> list[dict[str, Any]]:
    """The design on each negative-control outcome (Bonferroni over the controls)."""
    if design not in ("its", "did", "scm"):
        return []
    kind = ev.panel.outcome_kinds.get(outcome)
    controls = st.controls_for(outcome, kind, list(ev.panel.outcomes))
    if not controls:
        return []
    sig = _entry_significant(ev, design, outcome)
    rows = []
    for c in controls:
        refit = design_refit(ev, design, c, require_result=False)
        res = refit.fit(refit.panel)
        lo, hi = _ci(res)
        p = float(res.p_value)
        how = ""
        if design == "did":
            p, lo, hi, how = _did_placebo_test(ev, refit, float(res.estimate), st)
        p_adj = min(1.0, p * len(controls)) if math.isfinite(p) else math.nan
        hit = math.isfinite(p_adj) and p_adj < st.alpha
        words = (f"an 'effect' on the negative control (adjusted p = {p_adj:.2g}): bias likely" if hit else
                 f"no effect on the negative control (adjusted p = {p_adj:.2g})")
        rows.append(_row(outcome=outcome, design=design, check="negative_control", variant=c,
                         estimate=float(res.estimate), conf_low=lo, conf_high=hi, null=null_of(res), p_value=p_adj,
                         reading=words, against=bool(sig and hit),
                         note=f"{len(controls)} control(s); Bonferroni-adjusted p{how}"))
    return rows


def _did_placebo_test(ev: Any, refit: Any, estimate: float, st: RobustnessSettings
                      ) -> tuple[float, float, float, str]:
    """p-value and interval of a DiD estimate from placebo refits among the comparison units.

    The refit's analytic interval rests on the few treated units' own variance and rejected a
    true null on a negative-control outcome in 19% of NHS-shaped panels with 4 treated units
    (benchmarks/robustness_rule_full.py); the variance of one unit's contrast is read from
    placebo refits that treat each comparison unit in turn instead (as the churn regressor
    interval, :func:`evalint.evaluate.churn_sensitivity._placebo_contrast_variance`; Conley and
    Taber 2011): ``se^2 = s2 (1/k + 1/n_C)``, t with (refits - 1) degrees of freedom.
    """

    from evalint.evaluate.churn_sensitivity import FAST_PLACEBO, MAX_PLACEBO, _placebo_contrast_variance

    cohort = refit.panel.timing.cohort
    comparison = [str(u) for u in cohort.index[cohort.isna()]]
    k = int(cohort.notna().sum())
    if len(comparison) < 3 or k == 0:
        return math.nan, math.nan, math.nan, "; not possible: fewer than 3 comparison units"
    s2, n_pl = _placebo_contrast_variance(refit.estimate, refit.panel, refit.panel.data, comparison, refit.start,
                                          max_placebo=FAST_PLACEBO if st.fast else MAX_PLACEBO)
    se = math.sqrt(s2 * (1 / k + 1 / len(comparison)))
    if se == 0.0:
        return math.nan, math.nan, math.nan, "; not possible: the placebo refits do not vary"
    q = float(t_ppf(1 - st.alpha / 2, n_pl - 1))
    p = float(2 * t_sf(abs(estimate) / se, n_pl - 1))
    return p, estimate - q * se, estimate + q * se, f"; DiD p-value and interval from {n_pl} placebo refits"



def _event_study(ev: Any, outcome: str, st: RobustnessSettings) -> Any:
    key = ("robustness_event_study", outcome)
    if key in ev._cache:
        return ev._cache[key]
    import warnings

    from evalint.estimators.did.cs.aggregate import aggregate_att
    from evalint.estimators.did.cs.estimator import callaway_santanna
    from evalint.inference.specs import Analytic

    refit = design_refit(ev, "did", outcome)
    periods = refit.panel.periods
    n_pre = int((periods < refit.start).sum())
    n_post = len(periods) - n_pre
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = callaway_santanna(refit.panel, outcome=outcome, inference=Analytic(), calendar=False, alpha=ev.alpha,
                                control="never_treated", base_period="universal")
        es = aggregate_att(res, "dynamic", min_e=-min(st.event_pre + 1, n_pre), max_e=min(st.event_post, n_post) - 1)
    ev._cache[key] = es
    return es


def honest_did_rows(ev: Any, design: str, outcome: str, st: RobustnessSettings) -> list[dict[str, Any]]:
    """HonestDiD (relative magnitudes) on the average post-period effect: the breakdown value (one row)."""
    if design != "did":
        return []
    es = _event_study(ev, outcome, st)
    post = sorted(e for e in es.effects["rel_time"].dropna().unique() if e >= 0)
    l_vec = np.full(len(post), 1.0 / len(post))
    h = honest_did(es, method="relative_magnitude", Mbar=[0.5, 1.0], alpha=st.alpha, l_vec=l_vec.tolist(), seed=st.seed,
                   grid_points=st.honest_grid, breakdown_max=4.0)
    at1 = h.intervals.set_index("Mbar").loc[1.0]
    bd = float(h.breakdown)
    bd_txt = "none up to Mbar = 4" if not math.isfinite(bd) else f"Mbar = {bd:.2g}"
    sig = _entry_significant(ev, design, outcome)
    zero_in = h.original[0] <= 0 <= h.original[1]
    if zero_in:
        words = "the event-study average already includes no effect without any violation (breakdown 0)"
    else:
        words = (f"the conclusion survives post-period violations of parallel trends up to {bd:.2g} times the "
                 "largest pre-period one" if math.isfinite(bd) else
                 "the conclusion survives post-period violations up to 4 times the largest pre-period one")
    return [_row(outcome=outcome, design=design, check="honest_did", variant="breakdown Mbar", estimate=bd,
                 conf_low=float(at1["lower"]), conf_high=float(at1["upper"]), main=float(h.estimate), null=0.0,
                 reading=words, against=bool(sig and st.breakdown_mbar is not None and math.isfinite(bd)
                                             and bd < st.breakdown_mbar),
                 note=(f"relative magnitudes, average of event times 0 to {int(post[-1])}, {h.ci_method} interval; "
                       f"conf_low/conf_high: the interval at Mbar = 1; breakdown {bd_txt}; "
                       + ("not in the fragility rule" if st.breakdown_mbar is None
                          else f"fragile below Mbar = {st.breakdown_mbar:g}")))]


def pretrend_power_rows(ev: Any, design: str, outcome: str, st: RobustnessSettings) -> list[dict[str, Any]]:
    """Roth (2022): the linear violation the pre-trend test detects with 80% power (one row)."""
    if design != "did":
        return []
    es = _event_study(ev, outcome, st)
    pp = pretrend_power(es, alpha=st.alpha, power=(0.8,), draws=st.power_draws, seed=st.seed, event_time=0)
    r = pp.iloc[0]
    words = (f"the pre-trend test detects a linear violation of {r['slope']:.3g} per period with 80% power; "
             f"a violation that size, if the test passed, would bias the first-period effect by "
             f"{r['bias_if_passed']:.3g} (estimate {r['estimate']:.3g})")
    return [_row(outcome=outcome, design=design, check="pretrend_power", variant="80% power slope",
                 estimate=float(r["slope"]), main=float(r["estimate"]), change=float(r["bias_if_passed"]), null=0.0,
                 p_value=math.nan, reading=words,
                 note=f"joint Wald pre-test over {int(pp.attrs['n_pre'])} pre-period event times; change = bias "
                      "of the first-period effect conditional on passing; reported beside the pre-trend test")]


for _name, _fn in (("placebo_in_time", placebo_rows), ("leave_one_out", leave_one_out_rows),
                   ("negative_control", negative_control_rows), ("honest_did", honest_did_rows),
                   ("pretrend_power", pretrend_power_rows)):
    register_check(_name, _fn)

