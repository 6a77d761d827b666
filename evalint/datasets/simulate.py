"""Simulated NHS-like panels with a known truth: 42 ICBs x months, or one national series.

The generative model
--------------------
Units ``i`` (ICBs), months ``t``; ``s_t`` = years since April 2019; ``m_t`` = calendar month;
``P_it`` = population (mid-2019 value grown at 0.55% a year, rounded to people); ``D_t`` = days
in the month (or 30.4375 with ``days_in_month=False``). Unit effects ``a_i, b_i, d_i`` are
normal draws (SD 0.12, 0.6 days, 0.30), centred so the population-weighted national level is
the calibrated one. ``S_o(m) = A_o cos(2 pi (m - 1) / 12)`` is a first-harmonic seasonality
peaking in January (amplitudes 0.05, 0.15 days, 0.085). ``C_o(t)`` is the COVID-19 path (zero
before March 2020; see :mod:`evalint.datasets._calibration`), ``Z_o(i, t)`` the concurrent
shocks and ``tau_o(i, t)`` the intervention effect you set (zero in untreated cells).

Emergency admissions (count per month)::

    mu0_it = P_it * r * D_t * exp(a_i + beta_A s_t + S_A(m_t) + C_A(t) + Z_A(i, t))
    mu1_it = mu0_it * (1 + tau_A(i, t))

Delayed discharges (patients delayed on a snapshot day of the month, a count)::

    mu0_it = P_it * q * exp(d_i + beta_D s_t + S_D(m_t) + C_D(t) + Z_D(i, t))
    mu1_it = mu0_it * (1 + tau_D(i, t))

Counts are drawn as ``Poisson(mu1)`` (``noise="poisson"``) or negative binomial NB2 with
``Var = mu + alpha mu^2`` (``noise="negative_binomial"``, drawn as a gamma-Poisson mixture with
gamma mean 1 and variance ``alpha``), independently across cells; ``noise="none"`` returns
``mu1`` itself.

Length of stay (mean days per emergency spell)::

    m0_it = L + b_i + beta_L s_t + S_L(m_t) + C_L(t) + Z_L(i, t)
    m1_it = m0_it + tau_L(i, t)
    LOS_it = m1_it + e_it,  e_it = rho e_i,t-1 + sqrt(1 - rho^2) sigma u_it,  u ~ N(0, 1)

a stationary Gaussian AR(1) with marginal SD ``sigma = los_sd`` and coefficient ``rho = ar``,
independent across units (``noise="none"`` returns ``m1``). ``spells`` = the simulated
emergency admissions (the natural weight of a mean LOS).

Calibration (defaults, :mod:`evalint.datasets._calibration`): England 56.6m people mid-2019
split over the 42 ICBs (0.52m-3.1m); 535,000 emergency admissions nationally in April 2019
(9.4 per 1,000 per month), +1.5% a year per capita; April 2020 39% below April 2019 and 2022
9% below 2019; LOS 7.9 days in 2019 rising to 9.1 in 2022; about 5,000 delayed patients a day
before COVID (DTOC) and about 13,500 in winter 2022/23 (NCtR).

The truth
---------
``truth`` has one row per unit, month and outcome with ``expected_without`` (``mu0`` / ``m0``:
the expected outcome without the intervention, including COVID and shocks, which are
confounders and never part of the effect), ``expected_with`` (``mu1`` / ``m1``) and
``effect = expected_with - expected_without`` on the outcome's natural scale (admissions per
month, days, delayed patients). For counts ``expected_with / expected_without - 1`` equals the
relative effect you set, exactly.

Which estimators are correctly specified
----------------------------------------
- Unit x time (DiD, event study): the expected counts are multiplicative in unit and month,
  so parallel trends hold on the log scale of the expected count (log rate), not in levels.
  LOS is additive, so parallel trends hold in levels. Concurrent shocks restricted to some
  units break parallel trends on purpose.
- Single-series ITS (:func:`simulate_series`): with ``covid=False`` and no shocks, the
  log mean of the counts is linear in time plus a first-harmonic Fourier term plus
  ``log(population)`` (itself linear in time) plus ``log(D_t)``: a Poisson GLM with a trend,
  one sine/cosine pair, a step at the intervention and an offset ``log(population * days)``
  (or ``days_in_month=False``) is correctly specified under ``noise="poisson"`` and, with
  quasi-Poisson or NB2 variance, under ``noise="negative_binomial"``. The level change is
  ``log(1 + level)`` (use ``ramp=0``). LOS with ``covid=False``: linear trend + one harmonic
  + step + AR(1) Gaussian errors, so OLS with HAC errors or GLS-AR(1) is correctly specified.

References
----------
Lopez Bernal, J., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. IJE 46(1):348-355.
Callaway, B. & Sant'Anna, P.H.C. (2021). Difference-in-differences with multiple time periods.
Journal of Econometrics 225(2):200-230 (the aggregations used by :meth:`SimulatedPanel.att`).
Calibration sources are listed in ``shared/domain/magnitudes.md`` and
:mod:`evalint.datasets._calibration`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalint._typing import check_option
from evalint.data.panel import Panel
from evalint.data.timeparse import to_period
from evalint.datasets import _calibration as cal
from evalint.datasets._scenario import effect_array, resolve_adoption, resolve_outcome, shock_arrays
from evalint.datasets._simulated import SimulatedPanel
from evalint.errors import EvalintError, SpecificationError, format_examples


def _ar1_filter(innov: np.ndarray, ar: float) -> np.ndarray:
    """AR(1) recursion along the rows: ``e[:, t] = innov[:, t] + ar * e[:, t - 1]``.

    The same arithmetic, bit for bit, as ``scipy.signal.lfilter([1], [1, -ar], innov, axis=1)``
    (checked in tests/unit/test_simulate_ar_filter.py) without importing ``scipy.signal``, which
    took about half of ``import evalint``.
    """
    out = np.empty_like(innov)
    if innov.shape[1]:
        out[:, 0] = innov[:, 0]
    for t in range(1, innov.shape[1]):
        out[:, t] = innov[:, t] + ar * out[:, t - 1]
    return out

__all__ = ["simulate_nhs", "simulate_series", "OUTCOMES"]

OUTCOMES = cal.OUTCOMES
_COUNTS = ("emergency_admissions", "delayed_discharges")
_MEAN_DAYS = 365.25 / 12
Noise = Literal["negative_binomial", "poisson", "none"]


# ------------------------------------------------------------------ argument helpers
def _per_outcome(value: Any, default: Mapping[str, float], what: str,
                 keys: Sequence[str] = OUTCOMES) -> dict[str, float]:
    """True -> defaults, False -> zeros, number -> that for all, mapping -> overrides."""
    if value is True:
        return {k: float(default[k]) for k in keys}
    if value is False or value is None:
        return {k: 0.0 for k in keys}
    if isinstance(value, Mapping):
        out = {k: float(default[k]) for k in keys}
        for k, v in value.items():
            name = resolve_outcome(k, keys, what)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
                raise SpecificationError(f"{what}[{k!r}] must be a finite number; got {v!r}.")
            out[name] = float(v)
        return out
    if isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value):
        return {k: float(value) for k in keys}
    raise SpecificationError(f"{what} must be True, False, a number or a mapping outcome -> number; got {value!r}.")


def _month(value: Any, what: str) -> pd.Period:
    try:
        return to_period(value, "M", what=what)
    except EvalintError as exc:
        raise SpecificationError(str(exc)) from None


def _seed_sequence(seed: Any) -> np.random.SeedSequence:
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecificationError(f"seed must be a non-negative integer (or None for fresh randomness); got {seed!r}.")
    return np.random.SeedSequence(int(seed))


def _covid_path(outcome: str, ords: np.ndarray) -> np.ndarray:
    knots = cal.COVID_KNOTS[outcome]
    k_ord = np.array([pd.Period(k, "M").ordinal for k in knots], dtype=float)
    vals = np.array(list(knots.values()), dtype=float)
    if cal.COVID_SCALE[outcome] == "log":
        vals = np.log(vals)
    return np.interp(ords.astype(float), k_ord, vals, left=0.0, right=vals[-1])


# ------------------------------------------------------------------ engine
def _generate(units: pd.DataFrame, months: pd.PeriodIndex, *, unit_col: str, name_col: str,
              adoption: Any, effects: Mapping[str, Any] | None, covid: bool,
              shocks: Sequence[Mapping[str, Any]], trend: Any, seasonality: Any, noise: str,
              dispersion: Any, ar: float, los_sd: float, days_in_month: bool,
              unit_effects: bool, seed: Any, settings: dict[str, Any]) -> SimulatedPanel:
    check_option("noise", noise, ("negative_binomial", "poisson", "none"))
    if not isinstance(ar, (int, float, np.integer, np.floating)) or not -1 < ar < 1:
        raise SpecificationError(f"ar must be in (-1, 1) for a stationary AR(1); got {ar!r}.")
    if not isinstance(los_sd, (int, float, np.integer, np.floating)) or los_sd < 0:
        raise SpecificationError(f"los_sd must be a number >= 0 (days); got {los_sd!r}.")
    slopes = _per_outcome(trend, cal.TREND, "trend")
    amps = _per_outcome(seasonality, cal.SEASONAL_AMPLITUDE, "seasonality")
    alpha = _per_outcome(dispersion, cal.DISPERSION, "dispersion", keys=_COUNTS)
    if any(a <= 0 for a in alpha.values()) and noise == "negative_binomial":
        raise SpecificationError(f"dispersion must be > 0 for noise='negative_binomial' (got {alpha}); "
                                 "use noise='poisson' for no overdispersion.")
    codes = units[unit_col].to_numpy(dtype=object)
    regions = units["region"].to_numpy(dtype=object)
    n, n_t = len(codes), len(months)
    ords = months.asi8.astype(np.int64)
    moy = months.month.to_numpy()
    s_years = (ords - pd.Period(cal.REFERENCE_MONTH, "M").ordinal) / 12.0
    days = months.days_in_month.to_numpy().astype(float)
    growth = np.log1p(cal.POPULATION_GROWTH)
    pop_years = (ords - pd.Period(cal.POPULATION_MONTH, "M").ordinal) / 12.0
    pop2019 = units["population_2019"].to_numpy(dtype=float)
    population = np.round(pop2019[:, None] * np.exp(growth * pop_years)[None, :])
    ref_years = (pd.Period(cal.REFERENCE_MONTH, "M").ordinal - pd.Period(cal.POPULATION_MONTH, "M").ordinal) / 12.0
    national_ref = cal.ENGLAND_POPULATION_2019 * np.exp(growth * ref_years)

    cohorts = resolve_adoption(adoption, units, months, unit_col)
    if effects and cohorts is None:
        raise SpecificationError("effects= needs adoption= (which units are treated, and when); "
                                 "e.g. adoption='ics_waves' or adoption={'QHG': '2019-04'}.")
    cohort_ord = np.array([np.nan if c is None else float(c.ordinal) for c in (cohorts or [None] * n)])
    rel = ords[None, :] - cohort_ord[:, None]  # NaN for never treated
    treated = np.isfinite(rel) & (rel >= 0)

    ss = _seed_sequence(seed)
    rng_units, rng_adm, rng_los, rng_del = (np.random.default_rng(c) for c in ss.spawn(4))
    z = rng_units.standard_normal((3, n)) if unit_effects else np.zeros((3, n))
    w = pop2019 / pop2019.sum()
    a = cal.UNIT_SD["emergency_admissions"] * z[0]
    a -= np.log(np.sum(w * np.exp(a)))
    b = cal.UNIT_SD["length_of_stay"] * z[1]
    b -= np.sum(w * b)
    d = cal.UNIT_SD["delayed_discharges"] * z[2]
    d -= np.log(np.sum(w * np.exp(d)))

    shock = shock_arrays(shocks or (), OUTCOMES, codes, regions, months)
    season = {o: amps[o] * np.cos(2 * np.pi * (moy - cal.SEASONAL_PEAK_MONTH[o]) / 12.0) for o in OUTCOMES}
    cov = {o: (_covid_path(o, ords) if covid else np.zeros(n_t)) for o in OUTCOMES}

    def time_part(o: str) -> np.ndarray:
        return (slopes[o] * s_years + season[o] + cov[o])[None, :] + shock[o]

    ref_days = pd.Period(cal.REFERENCE_MONTH, "M").days_in_month
    exposure_days = days if days_in_month else np.full(n_t, _MEAN_DAYS)
    rate_adm = cal.BASELINE["emergency_admissions"] / ref_days / national_ref
    rate_del = cal.BASELINE["delayed_discharges"] / national_ref
    expected0 = {
        "emergency_admissions": population * rate_adm * exposure_days[None, :]
        * np.exp(a[:, None] + time_part("emergency_admissions")),
        "length_of_stay": cal.BASELINE["length_of_stay"] + b[:, None] + time_part("length_of_stay"),
        "delayed_discharges": population * rate_del * np.exp(d[:, None] + time_part("delayed_discharges")),
    }
    if np.any(expected0["length_of_stay"] <= 0):
        raise SpecificationError("The expected length of stay without the intervention is <= 0 in some cells; "
                                 "reduce the negative trend or the negative shocks on length_of_stay.")

    tau = {o: np.zeros((n, n_t)) for o in OUTCOMES}
    for key, spec in (effects or {}).items():
        o = resolve_outcome(key, OUTCOMES, "effects key")
        tau[o] = effect_array(o, spec, codes, cohorts or [None] * n, rel)
    expected1 = {}
    for o in OUTCOMES:
        if o == "length_of_stay":
            expected1[o] = expected0[o] + tau[o]
            if np.any(expected1[o] <= 0):
                raise SpecificationError("effects['length_of_stay'] makes the expected length of stay <= 0 "
                                         "in some treated cells; an effect is in days (e.g. -0.3).")
        else:
            if np.any(tau[o] <= -1):
                bad = float(tau[o].min())
                raise SpecificationError(f"effects[{o!r}] is a relative change and must be > -1 (-100%); "
                                         f"got {bad}. Use e.g. -0.05 for a 5% reduction.")
            expected1[o] = expected0[o] * (1.0 + tau[o])

    observed: dict[str, np.ndarray] = {}
    for o, rng in (("emergency_admissions", rng_adm), ("delayed_discharges", rng_del)):
        mu = expected1[o]
        if noise == "none":
            observed[o] = mu.copy()
        elif noise == "poisson":
            observed[o] = rng.poisson(mu).astype(np.int64)
        else:
            shape = 1.0 / alpha[o]
            observed[o] = rng.poisson(mu * rng.gamma(shape, 1.0 / shape, size=mu.shape)).astype(np.int64)
    if noise == "none" or los_sd == 0:
        observed["length_of_stay"] = expected1["length_of_stay"].copy()
    else:
        innov = rng_los.standard_normal((n, n_t)) * los_sd
        innov[:, 1:] *= np.sqrt(1.0 - ar**2)
        errors = _ar1_filter(innov, ar)
        observed["length_of_stay"] = expected1["length_of_stay"] + errors
        if np.any(observed["length_of_stay"] <= 0):
            raise SpecificationError(f"los_sd={los_sd} gives non-positive lengths of stay; use a smaller los_sd.")

    # ---- frames
    ui = np.repeat(np.arange(n), n_t)
    ti = np.tile(np.arange(n_t), n)
    month_col = months[ti]
    data = pd.DataFrame({
        unit_col: codes[ui],
        name_col: units[name_col].to_numpy(dtype=object)[ui],
        "region": regions[ui],
        "month": month_col,
        "days_in_month": days[ti].astype(np.int64),
        "population": population.ravel().astype(np.int64),
        "emergency_admissions": observed["emergency_admissions"].ravel(),
        "spells": observed["emergency_admissions"].ravel(),
        "length_of_stay": observed["length_of_stay"].ravel(),
        "delayed_discharges": observed["delayed_discharges"].ravel(),
    })
    for col in (unit_col, name_col, "region"):
        data[col] = data[col].astype(str)
    cohort_idx = pd.PeriodIndex([pd.NaT if c is None else c for c in (cohorts or [None] * n)], freq="M")
    if cohorts is not None:
        data["cohort"] = cohort_idx[ui]
        data["treated"] = treated.ravel().astype(np.int64)
    panel = Panel.from_frame(
        data, unit=unit_col, time="month", outcome=list(OUTCOMES),
        cohort="cohort" if cohorts is not None else None,
        population="population", weights="spells",
    )
    k = len(OUTCOMES)
    rel_flat = np.where(np.isfinite(rel), rel, np.nan).ravel()
    truth = pd.DataFrame({
        "unit": np.tile(codes[ui], k).astype(str),
        "month": months[np.tile(ti, k)],
        "outcome": np.repeat(np.array(OUTCOMES, dtype=object), n * n_t).astype(str),
        "cohort": cohort_idx[np.tile(ui, k)],
        "rel_time": np.tile(rel_flat, k),
        "treated": np.tile(treated.ravel().astype(np.int64), k),
        "expected_without": np.concatenate([expected0[o].ravel() for o in OUTCOMES]),
        "expected_with": np.concatenate([expected1[o].ravel() for o in OUTCOMES]),
    })
    truth["effect"] = truth["expected_with"] - truth["expected_without"]
    truth["effect_relative"] = truth["effect"] / truth["expected_without"]
    return SimulatedPanel(panel=panel, data=data, truth=truth, settings=settings)


def _months(start: Any, end: Any) -> pd.PeriodIndex:
    first, last = _month(start, "start"), _month(end, "end")
    if last <= first:
        raise SpecificationError(f"end ({last}) must be after start ({first}).")
    return pd.period_range(first, last, freq="M", name="month")


# ------------------------------------------------------------------ public API
def simulate_nhs(
    *,
    start: Any = "2016-04",
    end: Any = "2025-03",
    seed: int | None = 0,
    adoption: str | Mapping[str, Any] | tuple[Any, Any] | None = None,
    effects: Mapping[str, Any] | None = None,
    covid: bool = True,
    shocks: Sequence[Mapping[str, Any]] = (),
    trend: bool | float | Mapping[str, float] = True,
    seasonality: bool | float | Mapping[str, float] = True,
    noise: Noise = "negative_binomial",
    dispersion: bool | float | Mapping[str, float] = True,
    ar: float = 0.3,
    los_sd: float = 0.15,
    days_in_month: bool = True,
    units: Sequence[str] | None = None,
) -> SimulatedPanel:
    """Simulate a monthly panel of the 42 ICBs with known intervention effects.

    Parameters
    ----------
    start, end : date-like
        First and last month (default April 2016 to March 2025).
    seed : int or None
        Seed of every random draw (unit effects and noise); same seed, same panel, bit for bit.
    adoption : None, str, mapping or tuple
        ``None`` (no treatment); ``"ics_golive_2022"`` (all 42 ICBs at July 2022);
        ``"ics_waves"`` (each ICB at the month of its ICS designation, 2017-2021, from
        :func:`evalint.geography.icbs.load_icbs`); ``{icb_code: month}``; or ``(codes, month)``.
        Units not named are never treated; a month after ``end`` means never treated within
        the panel (with a warning).
    effects : mapping, optional
        Outcome -> effect. A number is an immediate, constant effect: relative for counts
        (``-0.05`` = -5%), days for ``length_of_stay``. A mapping may give ``level``, ``ramp``
        (periods to reach the full effect: ``level * min(1, (e + 1) / ramp)`` at event time
        ``e``), ``by_cohort`` (``{month: level}`` or ``f(cohort Period) -> level``),
        ``by_unit`` (``{icb_code: level}``), or instead ``path`` (effect at event time 0, 1,
        ...; the last value persists). A callable ``f(rel_time, cohort, unit)`` gets arrays
        over the treated cells and returns their effects.
    covid : bool
        Add the COVID-19 drop and aftermath (admissions -39% in April 2020 and -9% in 2022 vs
        2019; LOS +1.3 days by 2022; delayed discharges up to ~2.5x as the measure changed to NCtR).
    shocks : sequence of mappings
        Concurrent events applied to the counterfactual (confounders, not part of
        ``effect``): ``{"start": "2022-11", "end": "2023-03", "outcome": "delayed_discharges",
        "effect": -0.08, "units": None, "regions": None}``.
    trend, seasonality : bool, number or mapping
        ``True`` = calibrated defaults, ``False`` = none, or per-outcome values (trend: log
        rate per year for counts, days per year for LOS; seasonality: amplitude).
    noise : {"negative_binomial", "poisson", "none"}
        Count noise; ``"none"`` also switches off the LOS noise (returns expected values).
    dispersion : True, number or mapping
        NB2 alpha per count outcome (``True`` = 0.0009 admissions, 0.004 delays).
    ar, los_sd : float
        AR(1) coefficient and marginal SD (days) of the LOS noise.
    days_in_month : bool
        Admissions scale with the days in the month (``False``: every month has 30.44 days).
    units : sequence of str, optional
        Simulate only these ICB codes.

    Returns
    -------
    SimulatedPanel
        ``.panel`` (unit ``icb_code``, time ``month``), ``.data``, ``.truth``, ``.att()``.

    Raises
    ------
    evalint.errors.SpecificationError
        Invalid arguments (unknown units or outcomes, effects without adoption, adoption at or
        before ``start``, relative effects <= -100%, ...).
    """
    settings = dict(start=start, end=end, seed=seed, adoption=adoption, effects=effects, covid=covid,
                    shocks=shocks, trend=trend, seasonality=seasonality, noise=noise,
                    dispersion=dispersion, ar=ar, los_sd=los_sd, days_in_month=days_in_month,
                    units=units, kind="simulate_nhs")
    table = cal.icb_units()
    if units is not None:
        wanted = [units] if isinstance(units, str) else list(units)
        unknown = [u for u in wanted if u not in set(table["icb_code"])]
        if unknown or not wanted:
            raise SpecificationError(
                f"units: {format_examples(unknown) if unknown else 'none given'}; use ICB ODS codes "
                f"from evalint.geography.icbs.load_icbs(): {format_examples(list(table['icb_code']), limit=42)}."
            )
        table = table.loc[table["icb_code"].isin(wanted)].reset_index(drop=True)
    return _generate(table, _months(start, end), unit_col="icb_code", name_col="icb_name",
                     adoption=adoption, effects=effects, covid=covid, shocks=shocks, trend=trend,
                     seasonality=seasonality, noise=noise, dispersion=dispersion, ar=ar,
                     los_sd=los_sd, days_in_month=days_in_month, unit_effects=True, seed=seed,
                     settings=settings)


def simulate_series(
    *,
    start: Any = "2016-04",
    end: Any = "2025-03",
    seed: int | None = 0,
    intervention: Any = None,
    effects: Mapping[str, Any] | None = None,
    covid: bool = True,
    shocks: Sequence[Mapping[str, Any]] = (),
    trend: bool | float | Mapping[str, float] = True,
    seasonality: bool | float | Mapping[str, float] = True,
    noise: Noise = "negative_binomial",
    dispersion: bool | float | Mapping[str, float] = True,
    ar: float = 0.3,
    los_sd: float = 0.05,
    days_in_month: bool = True,
    population: float | None = None,
    name: str = "England",
) -> SimulatedPanel:
    """Simulate one national monthly series (a one-unit panel) with known effects.

    The same generative model as :func:`simulate_nhs` applied directly to one unit (not a sum
    of the 42 ICBs), so the counts are exactly Poisson / NB2 around a log-linear mean: with
    ``covid=False``, no shocks and an immediate effect, a Poisson (or quasi-Poisson / NB)
    segmented regression with a linear trend, one annual sine/cosine pair and offset
    ``log(population * days_in_month)`` is correctly specified; for ``length_of_stay``, a
    linear trend, one harmonic, a step and AR(1) Gaussian errors.

    Parameters
    ----------
    intervention : date-like, optional
        First month of the intervention (the unit's cohort). Needed for ``effects``.
    population : float, optional
        Mid-2019 population (default England, 56.6m).
    name : str
        Area name; the unit code is ``"ENG"``.
    start, end, seed, effects, covid, shocks, trend, seasonality, noise, dispersion, ar, los_sd, days_in_month
        As in :func:`simulate_nhs` (``los_sd`` default 0.05 days: a national mean over many
        more spells).

    Returns
    -------
    SimulatedPanel
        ``.panel`` has unit column ``area`` (one unit, ``"ENG"``) and time ``month``.
    """
    settings = dict(start=start, end=end, seed=seed, intervention=intervention, effects=effects,
                    covid=covid, shocks=shocks, trend=trend, seasonality=seasonality, noise=noise,
                    dispersion=dispersion, ar=ar, los_sd=los_sd, days_in_month=days_in_month,
                    population=population, name=name, kind="simulate_series")
    pop = cal.ENGLAND_POPULATION_2019 if population is None else population
    if isinstance(pop, bool) or not isinstance(pop, (int, float, np.integer, np.floating)) or not pop > 0:
        raise SpecificationError(f"population must be a positive number of people; got {population!r}.")
    table = pd.DataFrame({"area": ["ENG"], "area_name": [str(name)], "region": ["England"],
                          "population_2019": [float(pop)]})
    adoption = None if intervention is None else {"ENG": intervention}
    return _generate(table, _months(start, end), unit_col="area", name_col="area_name",
                     adoption=adoption, effects=effects, covid=covid, shocks=shocks, trend=trend,
                     seasonality=seasonality, noise=noise, dispersion=dispersion, ar=ar,
                     los_sd=los_sd, days_in_month=days_in_month, unit_effects=False, seed=seed,
                     settings=settings)
