"""Staggered-adoption DiD on simulated ICB panels with a known truth (fast version of
benchmarks/did_coverage.py).

Data: ``simulate_nhs`` with the 42 ICBs and the six ICS designation months (June 2017 to April
2021; every ICB eventually treated), negative-binomial emergency admissions with COVID. Each
replication draws every ICB's wave at random (probability 1/6 each, redrawn until every wave has
at least 2 ICBs): that is the sampling model behind Callaway-Sant'Anna's variance, whose
influence function includes the estimation of the cohort shares. (With the real, fixed
``ics_waves`` assignment the same intervals are conservative for the sample ATT, ~97%: see
benchmarks/did_coverage.py and methods/did.md.)
Outcome: the log admission rate. Expected counts are multiplicative in unit and month, so
parallel trends hold exactly on the log scale and the true effect of a treated cell is
``log(expected_with / expected_without)`` from ``sim.truth`` (= log(1 + tau), tau the relative
effect given to the simulator). Nothing asserted here comes from an evalint estimator.

What theory says and what is asserted:

* Effects that differ by wave and build up over 36 months: TWFE is centred on
  ``sum_{D=1} Dtilde_it theta_it / sum_{D=1} Dtilde_it`` (Dtilde = treatment two-way demeaned;
  de Chaisemartin & D'Haultfoeuille 2020, Goodman-Bacon 2021), computed here in numpy, which
  is far from the true ATT. Callaway-Sant'Anna with not-yet-treated comparisons is unbiased for
  the ATT over the cells it identifies (waves before the last, months before April 2021) and
  its 95% multiplier-bootstrap interval covers the population value of that ATT (a closed form
  of the effect specification, below).
* A constant effect (TWFE correctly specified): TWFE's restricted wild cluster bootstrap
  interval covers log(0.94).

Coverage bands: R replications, binomial SD sqrt(0.95 x 0.05 / R); the acceptance region is
the central 99.8% of Binomial(R, 0.95), so a correct method fails 1 run in 500. Because an upper
coverage bound near 100% has little power at this R, the average interval half-width / 1.96 is
also compared with the Monte Carlo SD of the estimates (ratio SD ~ 1/sqrt(2R)).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evalint

R = 150  # replications
BOOT = 499  # bootstrap draws per interval; alpha (B + 1) is an integer
HETERO = {"emergency_admissions": {"by_cohort": {"2017-06": -0.12, "2018-05": -0.10, "2019-06": -0.08,
                                                 "2020-05": -0.06, "2020-12": -0.04, "2021-04": -0.04},
                                   "ramp": 36}}
CONSTANT = -0.06
WAVES = ("2017-06", "2018-05", "2019-06", "2020-05", "2020-12", "2021-04")
MONTHS = pd.period_range("2016-04", "2025-03", freq="M")


def _population_att() -> float:
    """CS not-yet-treated simple ATT in the population: waves equally likely, so the plain mean of
    log(1 + level_g min(1, (e + 1)/36)) over waves g before the last and months g <= t < last."""
    last = pd.Period(WAVES[-1], "M")
    vals = []
    for w in WAVES[:-1]:
        e = np.array([(m - pd.Period(w, "M")).n for m in MONTHS if pd.Period(w, "M") <= m < last])
        vals.append(np.log1p(HETERO["emergency_admissions"]["by_cohort"][w] * np.minimum(1.0, (e + 1) / 36)))
    return float(np.concatenate(vals).mean())


def _random_waves(seed: int, codes: list[str]) -> dict[str, str]:
    rng = np.random.default_rng([seed, 77])
    while True:
        draw = rng.choice(WAVES, size=len(codes))
        if min(np.sum(draw == w) for w in WAVES) >= 2:
            return dict(zip(codes, draw))


def _data(seed: int, effects: dict, adoption: object = "ics_waves") -> tuple[evalint.SimulatedPanel, pd.DataFrame]:
    sim = evalint.simulate_nhs(seed=seed, adoption=adoption, effects=effects)
    return sim, sim.data.assign(log_rate=np.log(sim.data["emergency_admissions"] / sim.data["population"] * 1000))


def _panel(data: pd.DataFrame, timing: str) -> evalint.Panel:
    cols = ["icb_code", "month", "log_rate", timing]
    kw = {"cohort": "cohort"} if timing == "cohort" else {"treatment": "treated"}
    return evalint.Panel.from_frame(data[cols], unit="icb_code", time="month", outcome="log_rate", **kw)


def _theta(sim: evalint.SimulatedPanel) -> pd.DataFrame:
    t = sim.true_effects("emergency_admissions")
    return t.assign(theta=np.log(t["expected_with"] / t["expected_without"]))


def _cs_truth(sim: evalint.SimulatedPanel) -> float:
    """Simple ATT over the cells a not-yet-treated comparison identifies: cohorts before the
    last wave, months before it starts; every treated unit-month weighs the same."""
    t = _theta(sim)
    last = t["cohort"].max()
    return float(t.loc[(t["cohort"] < last) & (t["month"] < last), "theta"].mean())


def _twfe_truths(sim: evalint.SimulatedPanel, data: pd.DataFrame) -> tuple[float, float]:
    """(true ATT over all treated cells, closed-form TWFE estimand), balanced panel."""
    d = data.pivot(index="icb_code", columns="month", values="treated")
    theta = (_theta(sim).pivot(index="unit", columns="month", values="theta")
             .reindex(index=d.index, columns=d.columns).fillna(0.0).to_numpy())
    d = d.to_numpy(float)
    dt = d - d.mean(1, keepdims=True) - d.mean(0, keepdims=True) + d.mean()
    on = d == 1
    return float(theta[on].mean()), float((dt * theta)[on].sum() / dt[on].sum())


POPULATION_ATT = _population_att()


CODES = sorted(evalint.geography.icbs.load_icbs()["icb_ods_code"])


def _replicate(r: int) -> dict[str, float]:
    seed = 7_000 + r
    sim, data = _data(seed, HETERO, _random_waves(seed, CODES))
    cs = evalint.callaway_santanna(_panel(data, "cohort"), control="not_yet_treated", calendar=False,
                                   inference=evalint.MultiplierBootstrap(reps=BOOT, seed=seed))
    tw = evalint.twfe(_panel(data, "treated"), calendar=False, inference=evalint.Clustered(by="icb_code"))
    att_all, tw_estimand = _twfe_truths(sim, data)
    sim_c, data_c = _data(seed + 100_000, {"emergency_admissions": CONSTANT})
    wild = evalint.twfe(_panel(data_c, "treated"), calendar=False, inference=evalint.WildClusterBootstrap(
        by="icb_code", reps=BOOT, weights="webb", seed=seed))
    return {"cs": cs.estimate, "cs_lo": cs.ci[0], "cs_hi": cs.ci[1], "cs_truth": POPULATION_ATT,
            "cs_sample_truth": _cs_truth(sim), "twfe": tw.estimate, "att_all": att_all,
            "twfe_estimand": tw_estimand, "wild": wild.estimate, "wild_lo": wild.ci[0], "wild_hi": wild.ci[1],
            "wild_truth": float(_theta(sim_c)["theta"].mean())}


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Small dense algebra is much slower multi-threaded on a busy machine; one thread if we can."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn/scipy stacks
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    with warnings.catch_warnings(), _one_blas_thread():
        warnings.simplefilter("ignore")
        return pd.DataFrame([_replicate(r) for r in range(R)])


def _band(n: int, p: float = 0.95, level: float = 0.998) -> tuple[float, float]:
    lo, hi = stats.binom.interval(level, n, p)
    return lo / n, hi / n


def _mean_band(x: pd.Series, z: float = 3.5) -> float:
    return z * float(x.std(ddof=1)) / np.sqrt(len(x))


def test_truths_agree_with_the_effect_specification(runs):
    # the simulator's truth on the log scale is exactly log(1 + tau) in every treated cell
    assert np.allclose(runs["wild_truth"], np.log1p(CONSTANT), atol=1e-12)
    # the realised (sample) ATT scatters around the closed-form population ATT
    dev = runs["cs_sample_truth"] - POPULATION_ATT
    assert abs(dev.mean()) < _mean_band(dev) and dev.std() > 0


def test_twfe_is_biased_as_theory_says_with_heterogeneous_dynamic_effects(runs):
    # TWFE is centred on its closed-form estimand (negative-weight average of the cell effects) ...
    gap = runs["twfe"] - runs["twfe_estimand"]
    assert abs(gap.mean()) < _mean_band(gap)
    # ... which is far from the true ATT: the forbidden comparisons push it towards zero and beyond
    bias = runs["twfe"] - runs["att_all"]
    assert (runs["twfe_estimand"] > runs["att_all"] + 0.01).all()  # less negative than the truth, always
    assert bias.mean() > 0.02 and bias.mean() > 20 * _mean_band(bias)


def test_callaway_santanna_is_unbiased_with_heterogeneous_dynamic_effects(runs):
    err = runs["cs"] - runs["cs_truth"]
    assert abs(err.mean()) < _mean_band(err)
    # and precise enough for the TWFE bias above to be far outside its sampling error
    assert err.std(ddof=1) < 0.25 * (runs["twfe"] - runs["att_all"]).mean()


def test_callaway_santanna_multiplier_bootstrap_interval_covers_the_truth(runs):
    covered = ((runs["cs_lo"] <= runs["cs_truth"]) & (runs["cs_truth"] <= runs["cs_hi"])).mean()
    lo, hi = _band(len(runs))
    assert lo <= covered <= hi, covered
    ratio = ((runs["cs_hi"] - runs["cs_lo"]) / (2 * 1.96)).mean() / (runs["cs"] - runs["cs_truth"]).std(ddof=1)
    assert 0.8 < ratio < 1.2, ratio


def test_twfe_wild_cluster_bootstrap_interval_covers_a_constant_effect(runs):
    covered = ((runs["wild_lo"] <= runs["wild_truth"]) & (runs["wild_truth"] <= runs["wild_hi"])).mean()
    lo, hi = _band(len(runs))
    assert lo <= covered <= hi, covered
    ratio = ((runs["wild_hi"] - runs["wild_lo"]) / (2 * 1.96)).mean() / runs["wild"].std(ddof=1)
    assert 0.8 < ratio < 1.2, ratio
