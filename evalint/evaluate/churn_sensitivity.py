"""Churn sensitivity: how much does each top calendar threat move the estimate?

One job: for each ranked threat of a policy-calendar check, refit the same design on a
changed panel and report the estimate, its interval and the change from the main estimate.
The fit is any function ``fit(panel) -> result`` whose result has ``estimate`` and ``ci``
(an :class:`~evalint.results.EffectResult`), so the engine works for every design. The
re-estimates (``methods/policy_churn.md`` section 8):

``donut``
    Drop the periods the event changes in (its start, its end when that is a change point,
    widened by date precision) from every unit. Assumes the event acts only inside that
    window; not possible when the window would remove every pre- or post-period.
``regressor``
    Add the event as a regressor: ``x_it = exposure_i * 1[t in the event's active
    periods]`` (exposure = the event's per-area intensity, or membership of its unit list).
    Its coefficient is estimated on the untreated cells (comparison units, and treated units
    before treatment) with unit and period fixed effects, then ``beta * x_it`` is removed
    from the outcome before refitting. Assumes the event's effect is linear in exposure and
    the same in treated and comparison units (imputation logic as in Borusyak, Jaravel and
    Spiess 2024). The interval (``regressor_interval="placebo"``, the default) is
    ``estimate +/- t(n_C - 1) * se`` with
    ``se^2 = s2_eta * (1/k + 1/n_C) + (L(x) se_beta)^2``: ``s2_eta``, the variance of one
    unit's contrast of the adjusted outcome, is read from placebo refits that treat each
    comparison unit in turn (treated units left out; for a linear estimator symmetric in units
    theta_j = n_C/(n_C - 1) (Delta_j - mean Delta), so s2_eta = (n_C - 1)/n_C * mean theta_j^2),
    ``k`` treated and ``n_C`` comparison units (at most ``max_placebo`` placebo refits, evenly
    spaced; ``t`` then has refits - 1 degrees of freedom), ``se_beta`` the coefficient's CR1 (by unit)
    standard error and ``L(x)`` the same fit applied to ``x``. Treated units' errors are
    assumed distributed like the comparison units' (Conley and Taber 2011); common timing.
    The refit's own interval is not used because with 1-5 treated units a cluster-robust
    interval is far too narrow (benchmarks/calendar_calibration.py: 70% coverage even with
    the event's true coefficient removed, 94-95% with this interval).
    ``regressor_interval="fit"`` widens the refit's own interval instead,
    ``se^2 = se_fit^2 + (L(x) se_beta)^2`` (for designs whose fit is already a placebo
    inference, such as synthetic control). Comparison designs only; with no exposure that
    varies between units the regressor is collinear with the period effects and the row says so.
``drop_exposed``
    Drop the quarter of comparison units whose exposure is furthest from the treated units'
    mean exposure (for a unit-list event: the comparison units it hits, i.e. the most exposed
    ones). Assumes the remaining comparison units still satisfy parallel trends.
``alternative_date``
    Move the intervention to the alternative date the calendar records (e.g. the discharge
    fund's allocation date, 16 Nov 2022, instead of the December 2022 money). One row, not
    per threat.

References
----------
Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and
efficient estimation. *Review of Economic Studies* 91(6), 3253-3285.
Bernal, J. L., Cummins, S. and Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. *International Journal of
Epidemiology* 46(1), 348-355 (excluding or modelling co-interventions).
Conley, T. G. and Taber, C. R. (2011). Inference with "difference in differences" with a
small number of policy changes. *Review of Economics and Statistics* 93(1), 113-125.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalint._distributions import norm_ppf, t_ppf
from evalint.data.panel import Panel
from evalint.data.timing import TreatmentTiming
from evalint.errors import EvalintError, SpecificationError

__all__ = ["CHURN_COLUMNS", "ChurnSensitivity", "churn_sensitivity", "event_regressor"]

CHURN_COLUMNS = ("event_id", "check", "estimate", "conf_low", "conf_high", "change",
                 "change_pct", "note")
_CHECKS = ("donut", "regressor", "drop_exposed")
_REGRESSOR_INTERVALS = ("placebo", "fit")
#: most placebo refits behind the regressor interval (comparison units evenly spaced beyond it)
MAX_PLACEBO = 40
#: placebo refits in evaluate()'s fast mode
FAST_PLACEBO = 12


@dataclass(frozen=True)
class ChurnSensitivity:
    """The churn-sensitivity table and the main estimate it is compared with.

    Attributes
    ----------
    main : float
        The main estimate.
    main_ci : tuple of float
    table : pandas.DataFrame
        :data:`CHURN_COLUMNS`: one row per threat and re-estimate (``note`` says why a
        re-estimate was not possible; its numbers are then NaN).
    """

    main: float
    main_ci: tuple[float, float]
    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The table with the main estimate as the first row (``check == "main"``)."""
        head = pd.DataFrame([{"event_id": "", "check": "main", "estimate": self.main,
                              "conf_low": self.main_ci[0], "conf_high": self.main_ci[1],
                              "change": 0.0, "change_pct": 0.0, "note": "main estimate"}])
        return pd.concat([head, self.table], ignore_index=True)[list(CHURN_COLUMNS)]

    def summary_lines(self) -> list[str]:
        """Plain-text lines, one per re-estimate."""
        out = [f"Churn sensitivity (main estimate {self.main:.4g}, "
               f"interval {self.main_ci[0]:.4g} to {self.main_ci[1]:.4g}):"]
        for r in self.table.itertuples():
            if math.isnan(r.estimate):
                out.append(f"  {r.event_id} / {r.check}: not run ({r.note})")
            else:
                out.append(f"  {r.event_id} / {r.check}: {r.estimate:.4g} ({r.conf_low:.4g} to "
                           f"{r.conf_high:.4g}); change {r.change:+.4g}")
        return out


# ---------------------------------------------------------------------------------
def _rebuild(panel: Panel, data: pd.DataFrame, timing: TreatmentTiming | None = None) -> Panel:
    units = pd.unique(data[panel.unit])
    tm = timing if timing is not None else panel.timing
    if tm is not None:
        tm = TreatmentTiming(tm.cohort.reindex(units), panel.freq)
    return Panel(data=data.reset_index(drop=True), unit=panel.unit, time=panel.time,
                 outcomes=panel.outcomes, outcome_kinds=panel.outcome_kinds,
                 treatment=panel.treatment, population=panel.population, weights=panel.weights,
                 covariates=panel.covariates, freq=panel.freq, timing=tm,
                 dropped=dict(panel.dropped), time_kind=panel.time_kind)


def _donut(panel: Panel, window: set[pd.Period]) -> Panel:
    """The panel without the ``window`` periods, periods renumbered to stay consecutive.

    Estimators need a contiguous time index; with period effects (DiD, synthetic control)
    renumbering changes nothing else. A unit first treated inside the window is treated
    from the first period after it.
    """
    d = panel.data
    periods = list(panel.periods)
    keep = [p for p in periods if p not in window]
    new = pd.period_range(end=periods[-1], periods=len(keep), freq=periods[-1].freq)
    relabel = dict(zip(keep, new))
    out = d.loc[~d[panel.time].isin(window)].copy()
    out[panel.time] = out[panel.time].map(relabel)
    cohort = panel.timing.cohort.copy() if panel.timing is not None else None
    if cohort is not None:
        def move(c: Any) -> Any:
            if pd.isna(c):
                return c
            later = [p for p in keep if p >= c]
            return relabel[later[0]] if later else pd.NaT
        cohort = cohort.map(move)
        if panel.treatment is not None:
            coh = out[panel.unit].map(cohort)
            out[panel.treatment] = (coh.notna() & (out[panel.time] >= coh)).astype(int)
    tm = TreatmentTiming(cohort, panel.freq) if cohort is not None else None
    return _rebuild(panel, out, tm)


def _estimate(fit: Callable[[Panel], Any], panel: Panel) -> tuple[float, float, float]:
    res = fit(panel)
    ci = getattr(res, "ci", None)
    if ci is None and hasattr(res, "conf_int"):
        ci = res.conf_int()
    lo, hi = (math.nan, math.nan) if ci is None else (float(ci[0]), float(ci[1]))
    return float(res.estimate), lo, hi


def _event_periods(event: Any, panel: Panel, active: bool) -> pd.PeriodIndex:
    """Periods of the panel the event is active in (``active``) or changes in."""
    from evalint.calendar.overlap_rules import _change_points

    periods = panel.periods
    if active:
        end = event.end if event.end is not None else periods[-1].end_time
        lo, hi = pd.Period(event.start, panel.freq), pd.Period(end, panel.freq)
        return periods[(periods >= lo) & (periods <= hi)]
    keep = []
    for c in _change_points(event, panel.freq, False):
        keep += [p for p in periods if c.lo <= p <= c.hi]
    return pd.PeriodIndex(sorted(set(keep)), freq=periods.freq)


def _exposure(event: Any, calendar: Any, units: Sequence[str]) -> pd.Series | None:
    from evalint.calendar.exposure import unit_exposure

    expo, _ = unit_exposure(event, [str(u) for u in units], calendar)
    return expo


def event_regressor(event: Any, panel: Panel, calendar: Any = None) -> pd.Series | None:
    """``exposure_i * 1[t active]`` for every cell of ``panel`` (aligned with ``panel.data``).

    ``None`` when the event has no exposure that varies between the panel's units.
    """
    expo = _exposure(event, calendar, [str(u) for u in panel.units])
    if expo is None or len(expo) < 2 or float(expo.std(ddof=0)) == 0.0:
        return None
    d = panel.data
    active = set(_event_periods(event, panel, active=True))
    x = d[panel.unit].astype(str).map(expo).astype(float)
    on = d[panel.time].isin(active).to_numpy()
    return pd.Series(np.where(on, x.to_numpy(), 0.0), index=d.index).fillna(0.0)


def _within(v: np.ndarray, u_idx: np.ndarray, t_idx: np.ndarray, n_u: int, n_t: int,
            tol: float = 1e-13, max_iter: int = 10_000) -> np.ndarray:
    """``v`` with unit and period effects partialled out (alternating projections; exact at
    convergence for unbalanced panels too)."""
    out = v.astype(float).copy()
    cu = np.bincount(u_idx, minlength=n_u).astype(float)
    ct = np.bincount(t_idx, minlength=n_t).astype(float)
    scale = max(float(np.abs(out).max()), 1e-300)
    for _ in range(max_iter):
        out -= (np.bincount(u_idx, out, minlength=n_u) / cu)[u_idx]
        step = (np.bincount(t_idx, out, minlength=n_t) / ct)[t_idx]
        out -= step
        if float(np.abs(step).max()) <= tol * scale:
            break
    return out


def _twfe_beta(y: np.ndarray, x: np.ndarray, unit: np.ndarray, time: np.ndarray
               ) -> tuple[float, float]:
    """OLS slope of y on x with unit and period dummies, and its CR1 standard error by unit.

    By Frisch-Waugh-Lovell: both sides with the two-way effects partialled out; the CR1
    sandwich of the slope is ``sum_g (x~_g' u_g)^2 / (x~'x~)^2`` times the small-sample factor
    ``G/(G-1) (n-1)/(n-k)`` with ``k`` = 1 + units + periods - 1 (the dummies' rank).
    """
    u_codes, u_idx = np.unique(unit, return_inverse=True)
    t_codes, t_idx = np.unique(time, return_inverse=True)
    n_u, n_t = len(u_codes), len(t_codes)
    xt = _within(x, u_idx, t_idx, n_u, n_t)
    yt = _within(y, u_idx, t_idx, n_u, n_t)
    sxx = float(xt @ xt)
    if sxx <= 1e-12 * max(float(x @ x), 1e-300):
        raise np.linalg.LinAlgError("the event regressor is collinear with the unit and period effects")
    beta = float(xt @ yt) / sxx
    resid = yt - beta * xt
    scores = np.bincount(u_idx, xt * resid, minlength=n_u)
    n = len(y)
    k = 1 + n_u + n_t - 1
    factor = n_u / max(n_u - 1, 1) * (n - 1) / max(n - k, 1)
    var = factor * float(scores @ scores) / sxx ** 2
    return beta, float(np.sqrt(max(var, 0.0)))

def _placebo_contrast_variance(fit: Callable[[Panel], Any], panel: Panel, data: pd.DataFrame,
                               comparison: Sequence[str], first: Any,
                               max_placebo: int = MAX_PLACEBO) -> tuple[float, int]:
    """Variance of one unit's contrast, from placebo refits among the comparison units.

    ``data`` (rows of ``panel``'s frame, outcome already adjusted) keeps the comparison units
    only; each placebo treats one of them from ``first``. For a linear DiD estimator symmetric
    in units, ``theta_j = n/(n-1) (Delta_j - mean Delta)``, hence
    ``var(Delta) = (n-1)/n * mean(theta_j^2)``. Returns ``(variance, placebos used)``.
    """
    comp = [str(u) for u in comparison]
    n = len(comp)
    pick = comp if n <= max_placebo else [comp[i] for i in
                                          np.unique(np.linspace(0, n - 1, max_placebo).round().astype(int))]
    base = data.loc[data[panel.unit].astype(str).isin(comp)]
    units = pd.unique(base[panel.unit])
    thetas = []
    for j in pick:
        cohort = pd.Series(pd.PeriodIndex([first if str(u) == j else pd.NaT for u in units], freq=panel.freq),
                           index=units, name=panel.timing.cohort.name if panel.timing is not None else None)
        dj = base.copy()
        if panel.treatment is not None:
            dj[panel.treatment] = ((dj[panel.unit].astype(str) == j) & (dj[panel.time] >= first)).astype(int)
        thetas.append(_estimate(fit, _rebuild(panel, dj, TreatmentTiming(cohort, panel.freq)))[0])
    th = np.asarray(thetas, dtype=float)
    th = th[np.isfinite(th)]
    if th.size < 2:
        raise SpecificationError("fewer than 2 placebo refits succeeded for the regressor interval")
    return float((n - 1) / n * np.mean(th ** 2)), int(th.size)


def _threat_ids(threats: Any) -> list[str]:
    if threats is None:
        return []
    if hasattr(threats, "ranked_threats"):
        threats = threats.ranked_threats()
    if isinstance(threats, pd.DataFrame):
        return [str(e) for e in threats["event_id"]]
    return [str(t) for t in threats]


def churn_sensitivity(fit: Callable[[Panel], Any], panel: Panel, threats: Any, *,
                      calendar: Any = None, alternative_dates: Iterable[Any] = (),
                      checks: Sequence[str] = _CHECKS, drop_share: float = 0.25,
                      max_threats: int = 5, alpha: float = 0.05,
                      regressor_interval: str = "placebo", max_placebo: int = MAX_PLACEBO,
                      estimate_fit: Callable[[Panel], Any] | None = None) -> ChurnSensitivity:
    """Re-estimate under each top threat and tabulate the change from the main estimate.

    Parameters
    ----------
    fit : callable
        ``fit(panel) -> result`` with ``result.estimate`` and ``result.ci``; the same design
        and options as the main estimate.
    panel : Panel
        The panel of the main estimate, with treatment timing.
    threats : CheckResult, DataFrame or list of event ids
        The ranked threats (``CheckResult.ranked_threats()``); at most ``max_threats`` used.
    calendar : PolicyCalendar, optional
        Where the events and their intensity tables come from (default: the packaged one).
    alternative_dates : iterable of date-like
        Alternative intervention dates (e.g. ``Intervention.alternative_dates``).
    checks : sequence of {"donut", "regressor", "drop_exposed"}
    drop_share : float
        Share of comparison units dropped by ``drop_exposed`` (default a quarter).
    alpha : float
        Level of the fit's intervals (used to widen the regressor interval).
    regressor_interval : {"placebo", "fit"}
        How the regressor re-estimate's interval is built (module docstring): from placebo
        refits among the comparison units (default) or by widening the refit's own interval.
    max_placebo : int
        Most placebo refits (comparison units evenly spaced when there are more); the
        interval's t quantile has (refits - 1) degrees of freedom.
    estimate_fit : callable, optional
        ``estimate_fit(panel)``: the same estimate as ``fit(panel)`` without its interval, for
        the refits whose estimate alone is read (the placebo refits and ``L(x)`` of the
        regressor interval); default ``fit``.

    Returns
    -------
    ChurnSensitivity
    """
    from evalint.calendar import PolicyCalendar

    bad = [c for c in checks if c not in _CHECKS]
    if bad:
        raise SpecificationError(f"checks {bad} are not known; use {', '.join(_CHECKS)}.")
    if panel.timing is None:
        raise SpecificationError("churn_sensitivity needs a panel with treatment timing (treatment= "
                                 "or cohort= in Panel.from_frame).")
    if not 0 < drop_share < 1:
        raise SpecificationError(f"drop_share={drop_share!r} must be between 0 and 1.")
    if regressor_interval not in _REGRESSOR_INTERVALS:
        raise SpecificationError(f"regressor_interval={regressor_interval!r} is not known; use "
                                 f"{' or '.join(_REGRESSOR_INTERVALS)}.")
    cal = calendar if calendar is not None else PolicyCalendar.default()
    main, lo, hi = _estimate(fit, panel)
    cohort = panel.timing.cohort
    treated = [str(u) for u in cohort.index[cohort.notna()]]
    comparison = [str(u) for u in cohort.index[cohort.isna()]]
    first = cohort.dropna().min() if cohort.notna().any() else None
    rows: list[dict[str, Any]] = []

    def add(eid: str, check: str, est: tuple[float, float, float] | None, note: str) -> None:
        e, cl, ch = est if est is not None else (math.nan, math.nan, math.nan)
        rows.append({"event_id": eid, "check": check, "estimate": e, "conf_low": cl,
                     "conf_high": ch, "change": e - main,
                     "change_pct": (100 * (e - main) / abs(main)) if main else math.nan,
                     "note": note})

    def attempt(eid: str, check: str, make: Callable[[], Panel], note: str) -> None:
        try:
            est = _estimate(fit, make())
        except (EvalintError, ValueError, np.linalg.LinAlgError) as exc:
            add(eid, check, None, f"not possible: {exc}")
            return
        add(eid, check, est, note)

    d = panel.data
    for eid in _threat_ids(threats)[:max_threats]:
        if eid not in cal:
            add(eid, "donut", None, "not possible: event not in the calendar")
            continue
        event = cal.get(eid)
        if "donut" in checks:
            window = set(_event_periods(event, panel, active=False))
            pre_left = [p for p in panel.periods if first is not None and p < first and p not in window]
            post_left = [p for p in panel.periods if first is not None and p >= first and p not in window]
            if not window:
                add(eid, "donut", None, "not possible: the event changes outside the panel's periods")
            elif len(pre_left) < 2 or not post_left:
                add(eid, "donut", None, "not possible: the window would remove the pre- or post-period")
            else:
                attempt(eid, "donut", lambda w=window: _donut(panel, w),
                        f"{len(window)} period(s) excluded: "
                        f"{', '.join(str(p) for p in sorted(window))} (earlier periods renumbered to "
                        "stay consecutive; treatment starts at the first period after the window)")
        if "regressor" in checks:
            x = event_regressor(event, panel, cal)
            if not comparison:
                add(eid, "regressor", None, "not possible: single-series design (no comparison units)")
            elif x is None:
                add(eid, "regressor", None, "not possible: no exposure that varies between units "
                                            "(collinear with the period effects)")
            else:
                untreated = d[panel.unit].astype(str).isin(comparison).to_numpy()
                if first is not None:
                    untreated = untreated | (d[panel.time] < first).to_numpy()
                y = d[panel.outcome].to_numpy(float)
                xs = x.to_numpy(float)
                if float(np.std(xs[untreated])) == 0.0:
                    add(eid, "regressor", None, "not possible: the regressor does not vary in the "
                                                "untreated cells")
                else:
                    beta, se_beta = _twfe_beta(
                        y[untreated], xs[untreated], d[panel.unit].to_numpy()[untreated],
                        d[panel.time].astype(str).to_numpy()[untreated])
                    adj = d.copy()
                    adj[panel.outcome] = y - beta * xs
                    xpan = d.copy()
                    xpan[panel.outcome] = xs
                    placebo = regressor_interval == "placebo" and len(comparison) >= 3 and first is not None
                    try:
                        est = _estimate(fit, _rebuild(panel, adj))
                        point = estimate_fit if estimate_fit is not None else fit
                        lx = _estimate(point, _rebuild(panel, xpan))[0]  # the fit applied to x
                        if placebo:
                            s2_eta, n_pl = _placebo_contrast_variance(point, panel, adj, comparison, first,
                                                                      max_placebo=max_placebo)
                    except (EvalintError, ValueError, np.linalg.LinAlgError) as exc:
                        add(eid, "regressor", None, f"not possible: {exc}")
                    else:
                        e, cl, ch = est
                        what = (f"event coefficient {beta:.4g} (SE {se_beta:.3g}) per unit of exposure, "
                                "estimated on untreated cells with unit and period effects; ")
                        if placebo:
                            n_c = len(comparison)
                            se = math.sqrt(s2_eta * (1 / len(treated) + 1 / n_c) + (lx * se_beta) ** 2)
                            q = float(t_ppf(1 - alpha / 2, n_pl - 1))
                            what += (f"interval from {n_pl} placebo refits among the comparison units "
                                     "plus the coefficient's uncertainty")
                        else:
                            q = float(norm_ppf(1 - alpha / 2))
                            se = math.sqrt(((ch - cl) / (2 * q)) ** 2 + (lx * se_beta) ** 2)
                            what += "the refit's interval widened for the coefficient's uncertainty"
                        add(eid, "regressor", (e, e - q * se, e + q * se), what)
        if "drop_exposed" in checks:
            expo = _exposure(event, cal, treated + comparison)
            if not comparison:
                add(eid, "drop_exposed", None, "not possible: no comparison units")
            elif expo is None:
                add(eid, "drop_exposed", None, "not possible: exposure unknown or the same everywhere")
            else:
                ct = expo.reindex([u for u in treated if u in expo.index])
                cc = expo.reindex([u for u in comparison if u in expo.index])
                if ct.empty or cc.empty:
                    add(eid, "drop_exposed", None, "not possible: exposure missing for a group")
                else:
                    dist = (cc - float(ct.mean())).abs().sort_values(ascending=False, kind="stable")
                    k = max(1, round(drop_share * len(comparison)))
                    drop = set(dist.index[:k])
                    if len(comparison) - len(drop) < 2:
                        add(eid, "drop_exposed", None, "not possible: too few comparison units left")
                    else:
                        attempt(eid, "drop_exposed",
                                lambda dr=drop: _rebuild(panel, d.loc[~d[panel.unit].astype(str).isin(dr)]),
                                f"{len(drop)} comparison unit(s) dropped (exposure furthest from the "
                                f"treated mean): {', '.join(sorted(drop)[:6])}"
                                + (" ..." if len(drop) > 6 else ""))
    for alt in alternative_dates:
        p = pd.Period(pd.Timestamp(alt), panel.freq)
        if first is None:
            break
        new = cohort.copy()
        new[new == first] = p
        tm = TreatmentTiming(new, panel.freq)
        data = d.copy()
        if panel.treatment is not None:
            coh = data[panel.unit].map(new)
            data[panel.treatment] = (coh.notna() & (data[panel.time] >= coh)).astype(int)
        attempt("", "alternative_date", lambda dt=data, t=tm: _rebuild(panel, dt, t),
                f"intervention moved from {first} to {p}")
    table = pd.DataFrame(rows, columns=list(CHURN_COLUMNS))
    return ChurnSensitivity(main=main, main_ci=(lo, hi), table=table)
