"""Placebo-in-time: refit the design at fake intervention dates in the pre-period.

If the design reports an effect of the size it found at dates when nothing happened, the
actual estimate is not evidence of an effect. Every fit (the actual one and each placebo) uses a
window of the same shape: ``pre_periods`` periods before the date and ``window`` periods from it,
so the actual estimate is one draw among comparable ones and its standing among them is the test.
Placebo windows end before the actual intervention, so no placebo sees treated periods.
The p-value studentises the actual estimate by the placebos' spread, with degrees of freedom for
their overlap (:func:`studentised_placebo_test`); the plain rank over-rejects and is descriptive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalint._distributions import t_cdf, t_sf
from evalint._parallel import parallel_map
from evalint.data import Panel
from evalint.errors import SpecificationError, TreatmentError, format_examples
from evalint.inference.randomisation import rank_test
from evalint.sensitivity.refit import (
    centred,
    check_count,
    check_level,
    effect_scale,
    resolve_design,
    result_row,
    retime,
    treated_and_start,
    without_other_treated,
)
from evalint.sensitivity.robustness import RobustnessResult

#: Default pre-period length of each fit: two seasonal cycles (8 periods at least).
DEFAULT_PRE = {"M": 24, "Q": 8, "W": 104, "D": 730, "Y": 8}

REFERENCES = (
    ("Abadie A, Diamond A, Hainmueller J (2015). Comparative politics and the synthetic control method. "
    "American Journal of Political Science 59(2):495-510 (placebo in time)."),
    ("Bertrand M, Duflo E, Mullainathan S (2004). How much should we trust differences-in-differences "
    "estimates? Quarterly Journal of Economics 119(1):249-275."),
    ("Lopez Bernal J, Cummins S, Gasparrini A (2018). The use of controls in interrupted time series "
    "studies of public health interventions. International Journal of Epidemiology 47(6):2082-2093."),
)


#: What users see about the size of the checks (numbers from benchmarks/robustness_size.py).
SIZE_NOTE = ("The p-value is the studentised placebo test: the actual estimate divided by the root mean square "
             "of the placebo estimates, against a t distribution with the placebos' effective number "
             "(neighbouring placebo windows overlap, so 19 placebos carry the information of about 3). With the "
             "same windows on AR(1) noise (coefficient 0 to 0.6) it rejected 4.0-4.4% of the time at 5%, and "
             "5.0% of 500 simulated NHS panels for TWFE DiD (methods/sensitivity.md, section 9). "
             "The plain rank of the actual estimate among the placebos "
             "(rank_p in info) over-rejects: 12-18% in that model and 11-15% on simulated NHS panels for "
             "TWFE DiD, synthetic control and count ITS without a seasonal term; it is shown for description only.")


def studentised_placebo_test(actual: float, placebos: np.ndarray,
                             alternative: str = "two-sided") -> tuple[float, float, float]:
    """Studentised placebo test: ``(t, effective_n, p_value)``.

    ``t = actual / sqrt(mean(placebo**2))``: under no effect every window's statistic has mean 0
    and (windows of one shape on a stationary series) the same variance, which the mean square of
    the placebos estimates without bias however they are correlated. Overlapping windows make the
    placebos a correlated sequence, so the variance estimate has fewer degrees of freedom than
    placebos: ``n_eff = n / (1 + 2 sum_k (1 - k/n) max(r_k, 0))``, ``r_k`` the lag-``k``
    autocorrelation (about 0) of the placebo statistics in date order (Bartlett 1946), and ``t``
    is referred to Student's t with ``n_eff`` df (at least 1). NaN placebos are ignored; NaN when
    fewer than 2 remain.

    References
    ----------
    Bartlett, M. S. (1946). On the theoretical specification and sampling properties of
        autocorrelated time-series. Supplement to the JRSS 8(1), 27-41.
    Bertrand, M., Duflo, E. & Mullainathan, S. (2004). How much should we trust
        differences-in-differences estimates? QJE 119(1), 249-275.
    """

    x = np.asarray(placebos, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    ss = float(np.sum(x * x))
    if n < 2 or not np.isfinite(actual) or ss <= 0:
        return float("nan"), float("nan"), float("nan")
    s = 1.0
    for k in range(1, n):
        s += 2.0 * (1.0 - k / n) * max(float(np.sum(x[k:] * x[:-k])) / ss, 0.0)
    n_eff = float(min(max(n / s, 1.0), n))
    t = float(actual) / np.sqrt(ss / n)
    if alternative == "greater":
        p = float(t_sf(t, n_eff))
    elif alternative == "less":
        p = float(t_cdf(t, n_eff))
    else:
        p = float(2.0 * t_sf(abs(t), n_eff))
    return t, n_eff, p


def rank_p_value(actual: float, placebos: np.ndarray, alternative: str = "two-sided") -> float:
    """Rank p-value of ``actual`` among ``placebos``: ``(1 + #{as extreme}) / (1 + n)``.

    Two-sided compares magnitudes; ``"greater"``/``"less"`` compare signed values. Under the null
    and exchangeability of the actual and placebo statistics, ``P(p <= a) <= a``; the smallest
    attainable value is ``1 / (n + 1)``. NaN placebos are ignored.
    """
    tol = 1e-12 * max(1.0, abs(actual)) if np.isfinite(actual) else 0.0
    return rank_test(actual, placebos, alternative=alternative, tol=tol).p_value  # type: ignore[arg-type]


def placebo_in_time(
    panel: Panel,
    estimator: str | Callable[..., Any] = "its",
    *,
    intervention: Any = None,
    treated: Any = None,
    window: int | None = None,
    pre_periods: int | Literal["all"] | None = None,
    dates: Sequence[Any] | None = None,
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
    alpha: float = 0.05,
    n_jobs: int = 1,
    backend: str = "loky",
    **options: Any,
) -> RobustnessResult:
    """Placebo-in-time check of an ITS, synthetic control or DiD estimate.

    Parameters
    ----------
    panel : Panel
        The data. For ITS one series (or pass ``unit=`` in ``options``); for synthetic control
        and DiD the treated units either carry cohorts in the panel or are named by ``treated=``.
    estimator : str or callable
        ``"its"``, ``"count_its"``, ``"segmented_regression"``, ``"synthetic_control"``,
        ``"twfe"``, ``"callaway_santanna"``, ``"sun_abraham"``, ``"imputation_did"``,
        ``"event_study"``; or a function ``fit(panel, intervention) -> EffectResult`` (it gets a
        re-timed panel when the panel has treatment timing or ``treated=`` is given).
    intervention : date-like, optional
        The actual start; default the treated units' common cohort.
    treated : unit id or list, optional
        Treated units (synthetic control, DiD); default the panel's treated units.
    window : int, optional
        Periods from each date that a fit uses (the post-period). Default: every period from
        the actual start to the end of the data.
    pre_periods : int or "all", optional
        Periods before each date that a fit uses. An int (default two seasonal cycles: 24
        months, 8 quarters) gives every fit the same window shape; ``"all"`` uses all data
        from the start of the panel (expanding windows, placebos have fewer pre-periods).
    dates : sequence of date-like, optional
        Placebo dates; default every feasible period (a placebo's window must end before the
        actual start and have ``pre_periods`` periods before it).
    alternative : {"two-sided", "greater", "less"}
        Two-sided compares magnitudes (on the log scale for rate ratios).
    alpha : float
        Level at which the verdict reads the rank p-value.
    n_jobs, backend : int, str
        Workers and joblib backend for the refits (:func:`evalint._parallel.parallel_map`;
        ``"loky"`` processes by default, ``"threading"``, or ``"dask"``/``"ray"`` once registered
        with joblib; n_jobs > 1 needs joblib from the ``records`` extra). Same table for any value.
    **options
        Passed to the estimator (refits skip the policy-calendar check unless ``calendar=``).

    Returns
    -------
    RobustnessResult
        ``to_frame()``: one row for the actual date (``role="actual"``) then one per placebo
        date, with ``intervention``, ``window_start``, ``window_end``, ``estimate``,
        ``std_error``, ``conf_low``, ``conf_high``, ``p_value``, ``significant`` and
        ``statistic`` (the estimate minus its null, in logs for rate ratios). ``p_value`` of
        the result is the rank p-value ``(1 + #{placebos at least as extreme}) / (1 + n)``.

    Notes
    -----
    The rank test would be exact if the actual and placebo statistics were exchangeable under no
    effect. They are not: neighbouring placebo windows share most of their data, so the placebo
    estimates are more alike than the actual one is to any of them; the 5% rank test rejected
    11-15% of the time on NHS-shaped panels with no effect. The reported p-value therefore
    studentises the actual estimate by the placebos' root mean square and refers it to a t
    distribution with the placebos' effective number as df (:func:`studentised_placebo_test`),
    which rejected 4.0-4.4% of the time at 5% with the same windows on AR(1) noise
    (``benchmarks/robustness_size.py``; methods/sensitivity.md section 9). With few effective
    placebos the check has little power: a large p-value is weak evidence of no effect.

    References
    ----------
    Abadie, Diamond & Hainmueller (2015); Bertrand, Duflo & Mullainathan (2004); Lopez Bernal,
    Cummins & Gasparrini (2018).
    """
    alpha = check_level(alpha)
    tr, start = treated_and_start(panel, treated, intervention)
    if start is None:
        raise SpecificationError("placebo_in_time needs the actual start: pass intervention=<date>.")
    timed = panel.timing is not None or treated is not None
    design = resolve_design(estimator, options, uses_timing=timed)
    if design.uses_timing and not tr:
        raise TreatmentError(f"{design.name} needs treated units: pass treated=<unit or list>, or build the "
                             "panel with treatment= or cohort=.")
    panel, others = without_other_treated(panel, tr)
    periods = panel.periods
    if start not in periods:
        raise SpecificationError(f"intervention {start} is outside the panel's periods "
                                 f"({periods[0]} to {periods[-1]}).")
    i0 = int(periods.get_loc(start))
    n_post = len(periods) - i0
    h = n_post if window is None else check_count("window", window)
    if not 1 <= h <= n_post:
        raise SpecificationError(f"window={window!r}: the data have {n_post} period(s) from {start} to "
                                 f"{periods[-1]}; pass 1 <= window <= {n_post}.")
    expanding = pre_periods == "all"
    if isinstance(pre_periods, str) and not expanding and not pre_periods.strip().isdigit():
        raise SpecificationError(f"pre_periods={pre_periods!r}: pass a whole number of periods or 'all'.")
    pre = (DEFAULT_PRE.get(panel.freq, 8) if pre_periods is None or expanding
           else check_count("pre_periods", pre_periods))
    if pre < 2:
        raise SpecificationError(f"pre_periods={pre_periods!r}: each fit needs at least 2 pre-periods.")
    if pre > i0:
        raise SpecificationError(
            f"pre_periods={pre}: only {i0} period(s) precede the intervention {start}. Pass a smaller "
            "pre_periods=."
        )
    feasible = list(range(pre, i0 - h + 1))
    if dates is not None:
        wanted = []
        for d in dates:
            p = panel.period(d, "placebo date")
            j = int(periods.get_loc(p)) if p in periods else -1
            if j not in feasible:
                lo, hi = (periods[feasible[0]], periods[feasible[-1]]) if feasible else ("-", "-")
                raise SpecificationError(
                    f"placebo date {d!r} ({p}) is not feasible: a placebo needs {pre} period(s) before it and "
                    f"its {h}-period window must end before {start}. Feasible dates: {lo} to {hi}."
                )
            wanted.append(j)
        feasible = sorted(set(wanted))
    if not feasible:
        raise SpecificationError(
            f"No placebo date fits: a placebo needs {pre} pre-period(s) and a {h}-period window ending before "
            f"{start}, i.e. {pre + h} periods before it, but there are {i0}. Pass a smaller window= or "
            "pre_periods=."
        )

    def fit_at(j: int) -> Any:
        first = 0 if expanding else j - pre
        sub = panel.subset(start=periods[first], end=periods[j + h - 1])
        if design.uses_timing or (timed and design.name == "custom"):
            sub = retime(sub, tr, periods[j])
        return design.fit(sub, periods[j]), periods[first], periods[j + h - 1]

    rows = []
    log = False
    null = 0.0
    tasks = [("actual", i0), *(("placebo", j) for j in feasible)]
    fits = parallel_map(lambda task, _rng: fit_at(task[1]), tasks, seed=0, n_jobs=n_jobs, backend=backend)
    for (role, j), (res, lo, hi) in zip(tasks, fits):
        if role == "actual":
            null, log = effect_scale(res)
        row = {"role": role, "intervention": str(panel.time_label(periods[j])),
               "window_start": str(panel.time_label(lo)),
               "window_end": str(panel.time_label(hi))}
        row.update(result_row(res, alpha))
        row["statistic"] = centred(row["estimate"], log) - centred(null, log)
        rows.append(row)
    table = pd.DataFrame(rows)
    actual = float(table["statistic"].iloc[0])
    plac = table["statistic"].iloc[1:].to_numpy(dtype=float)
    p_rank = rank_p_value(actual, plac, alternative)
    t_stat, n_eff, p = studentised_placebo_test(actual, plac, alternative)
    n = int(np.isfinite(plac).sum())
    k = round(p_rank * (n + 1)) - 1 if np.isfinite(p_rank) else 0
    notes = []
    if others:
        notes.append(f"Units treated at other dates ({format_examples(others)}) are left out of every refit.")
    if n < plac.size:
        bad = table.loc[1:].loc[~np.isfinite(plac), "intervention"].tolist()
        notes.append(f"{plac.size - n} placebo fit(s) gave no finite estimate and are left out: "
                     f"{format_examples(bad)}.")
    if 1 / (n + 1) > alpha:
        notes.append(f"With {n} placebo date(s) the smallest attainable rank p-value is 1/{n + 1} = "
                     f"{1 / (n + 1):.3g} > alpha = {alpha:g}: the rank cannot reject at that level. A longer "
                     "pre-period, or a shorter window= or pre_periods=, gives more placebos.")
    if np.isfinite(n_eff):
        notes.append(f"The {n} placebo estimates carry about {n_eff:.1f} independent ones (their windows overlap); "
                     f"the studentised test uses t with {n_eff:.1f} df.")
    notes.append("Every fit, the actual one included, uses the same window shape, so the 'actual' row can "
                 "differ from a fit on all the data.")
    notes.append(SIZE_NOTE)
    scale = "log rate ratio" if log else "estimate"
    if p <= alpha:
        verdict = (f"The actual {scale} ({actual:.4g}) is {abs(t_stat):.2f} times the placebos' root mean square "
                   f"(studentised placebo p = {p:.3g} <= {alpha:g}; {k} of {n} placebo dates at least as extreme): "
                   "fake intervention dates in the pre-period do not produce effects this large. This is "
                   "consistent with an effect but is not proof of one.")
    elif np.isfinite(p):
        verdict = (f"{k} of {n} placebo dates give an estimate at least as extreme as the actual {scale} "
                   f"({actual:.4g}; studentised placebo p = {p:.3g} > {alpha:g}): effects of this size also appear "
                   "at dates when nothing happened, so the estimate is not distinguishable from the series' own "
                   "variation.")
    else:
        verdict = (f"Too few placebo estimates ({n}) to compare the actual {scale} ({actual:.4g}) with: no reading.")
    info = {"intervention": str(panel.time_label(start)), "window": h, "pre_periods": "all" if expanding else pre,
            "n_placebos": n, "rank_p": float(p_rank), "t": t_stat, "effective_placebos": n_eff,
            "alternative": alternative, "treated": list(tr), "dropped_treated": others, "null": null,
            "log_scale": log}
    return RobustnessResult(check="placebo_in_time", design=design.name, estimate=float(table["estimate"].iloc[0]),
                            p_value=float(p), alpha=alpha, table=table, verdict=verdict, notes=tuple(notes),
                            info=info, references=REFERENCES)
