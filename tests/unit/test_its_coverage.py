"""Fast Monte Carlo coverage of the ITS 95% confidence intervals (the 500-replication run is
benchmarks/its_coverage.py).

Generative model (evalint.datasets.simulate_series; see its docstring): one national monthly series
April 2016 - March 2025 (108 months), covid=False, no shocks, days_in_month=False, immediate
intervention in April 2021 (60 pre / 48 post months).
* Emergency admissions: NB2 counts (alpha 0.0009) with log mean = log population + linear trend +
  one annual harmonic + log(0.95) after the intervention. The quasi-Poisson GLM with trend, one
  Fourier pair, a step and a log(population) offset is correctly specified; true rate ratio 0.95;
  the true cumulative effect is sum(expected_with - expected_without) over the post months.
* Length of stay: linear trend + one harmonic - 0.3 days after the intervention + stationary
  Gaussian AR(1) errors (rho 0.3). GLS with AR(1) errors and the same design is correctly
  specified; true level change -0.3.

With R replications and true coverage 0.95 the observed coverage is Binomial(R, 0.95)/R; the test
accepts the central 99% range of that distribution ([0.905, 0.985] for R = 200), so a correct
interval fails it with probability about 0.01 (and the seed is fixed), while an interval with
coverage 0.88 or 0.995 is rejected with high probability.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from evalint.datasets import simulate_series
from evalint.estimators.its import CountITS, SegmentedRegression

REPS = 200
TRUE_RR, TRUE_LOS = 0.95, -0.3


def _band(reps: int, level: float = 0.99) -> tuple[float, float]:
    a = (1 - level) / 2
    return stats.binom.ppf(a, reps, 0.95) / reps, stats.binom.isf(a, reps, 0.95) / reps


@pytest.fixture(scope="module")
def hits() -> dict[str, np.ndarray]:
    design = dict(interventions="2021-04", impact="step", seasonality="fourier", harmonics=1)
    qp, qp_cum, gls = [], [], []
    seeds = np.random.SeedSequence(4242).generate_state(REPS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in seeds:
            sim = simulate_series(seed=int(s), intervention="2021-04", covid=False, days_in_month=False,
                                  effects={"emergency_admissions": TRUE_RR - 1, "length_of_stay": TRUE_LOS,
                                           "delayed_discharges": 0.0})
            r = CountITS(model="quasi_poisson", errors="model", **design).fit(sim.panel, outcome="emergency_admissions",
                                                              calendar=False)
            qp.append(r.ci[0] <= TRUE_RR <= r.ci[1])
            tr = sim.truth
            true_cum = float(tr.loc[tr["outcome"] == "emergency_admissions", "effect"].sum())
            c = r.tables["cumulative"].iloc[0]
            qp_cum.append(c["conf_low"] <= true_cum <= c["conf_high"])
            g = SegmentedRegression(errors="ar", ar_order=1, **design).fit(sim.panel, outcome="length_of_stay",
                                                                          calendar=False)
            gls.append(g.ci[0] <= TRUE_LOS <= g.ci[1])
    return {"quasi_poisson": np.array(qp), "cumulative": np.array(qp_cum), "gls_ar1": np.array(gls)}


@pytest.mark.parametrize("model", ["quasi_poisson", "cumulative", "gls_ar1"])
def test_coverage_within_binomial_band(hits, model):
    lo, hi = _band(REPS)
    cov = hits[model].mean()
    assert lo <= cov <= hi, f"{model}: coverage {cov:.3f} outside [{lo:.3f}, {hi:.3f}] ({REPS} reps)"


def test_band_rejects_clearly_wrong_coverage():
    lo, hi = _band(REPS)
    assert 0.90 <= lo and hi <= 0.99
