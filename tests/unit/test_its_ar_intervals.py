"""The ITS default intervals under autocorrelation: REML GLS-AR, the count GLM with AR errors,
fixed-b critical values, and a fast coverage check of the defaults (the 500-replication table is
benchmarks/coverage_its_synth.py, reported in methods/its.md section 10 and benchmarks/RESULTS.md).

Outside numbers: the REML optimum is checked against a brute-force restricted likelihood
(dense covariance matrix, scipy); the simulated fixed-b critical values against Kiefer &
Vogelsang's (2005) polynomial for the Bartlett kernel, 97.5% quantile,
1.96 + 2.9694 b + 0.4160 b^2 - 0.5324 b^3; coverage against the binomial band of a simulation
with known truth.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from evalint import Panel
from evalint.errors import ShortSeriesWarning
from evalint.estimators.its import count_its, segmented_regression
from evalint.estimators.its.backends import fit_glm, fit_glm_ar, fit_gls_ar
from evalint.inference.fixed_b import fixed_b_critical_value
from evalint.inference.specs import Analytic, ARErrors

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "coverage_its_synth.py"
_spec = importlib.util.spec_from_file_location("evalint_bench_coverage_its_synth", _BENCH)
cov = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cov  # dataclasses look their module up by name
_spec.loader.exec_module(cov)


def _kv(b: float) -> float:
    return 1.96 + 2.9694 * b + 0.4160 * b ** 2 - 0.5324 * b ** 3


def test_fixed_b_critical_value_matches_kiefer_vogelsang():
    T, b = 300, 0.3
    cv = fixed_b_critical_value(np.ones((T, 1)), 0, int(round(b * T)) - 1, 0.05, reps=6000)
    assert cv == pytest.approx(_kv(b), rel=0.03)
    assert cv > 2.6   # far from the normal 1.96 the Newey-West default uses


@pytest.mark.slow
@pytest.mark.parametrize("b", [0.3, 1.0])
def test_fixed_b_critical_value_matches_kiefer_vogelsang_large_t(b):
    T = 800
    cv = fixed_b_critical_value(np.ones((T, 1)), 0, int(round(b * T)) - 1, 0.05, reps=20000)
    assert cv == pytest.approx(_kv(b), rel=0.01)


def test_reml_ar1_maximises_brute_force_restricted_likelihood():
    rng = np.random.default_rng(5)
    T = 60
    u = cov.ar1(rng, 1, T, 0.5, 1.0)[0]
    d = cov.design(T, False)
    X = d.X.to_numpy(float)
    y = X @ np.array([5, 0.02, -1, 0.01]) + u
    fit = fit_gls_ar(y, d.X, d.include, ARErrors(order=1, adjust=False))
    phi = fit.info["ar_coefficients"][0]
    lags = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))

    def neg_restricted(r: float) -> float:
        O = r ** lags / (1 - r * r)
        Oi = np.linalg.inv(O)
        A = X.T @ Oi @ X
        b = np.linalg.solve(A, X.T @ Oi @ y)
        e = y - X @ b
        m = T - X.shape[1]
        s2 = e @ Oi @ e / m
        return 0.5 * (m * np.log(s2) + np.linalg.slogdet(O)[1] + np.linalg.slogdet(A)[1])

    ref = optimize.minimize_scalar(neg_restricted, bounds=(-0.95, 0.95), method="bounded",
                                   options={"xatol": 1e-9}).x
    assert phi == pytest.approx(ref, abs=1e-5)
    # REML is larger than ML here (ML is biased towards zero after the trend and step are fitted)
    ml = fit_gls_ar(y, d.X, d.include, ARErrors(order=1, method="ml", adjust=False)).info["ar_coefficients"][0]
    assert phi > ml


def test_glm_ar_solves_its_estimating_equations():
    rng = np.random.default_rng(3)
    Y, pop = cov.count_series(rng, 1, 72, 0.5, True)
    d = cov.design(72, True)
    fit = fit_glm_ar(Y[0], d.X, d.include, np.log(pop), ARErrors(order=1))
    b = fit.params.to_numpy()
    phi = fit.info["ar_coefficients"][0]
    X = d.X.to_numpy(float)
    mu = np.exp(X @ b + np.log(pop))
    # GLS estimating equations with AR(1) correlation of the standardised residuals:
    # X' W^1/2 R^-1 W^-1/2 (y - mu) = 0 with W = diag(mu)
    lags = np.abs(np.subtract.outer(np.arange(72), np.arange(72)))
    Ri = np.linalg.inv(phi ** lags)
    sw = np.sqrt(mu)
    score = (X * sw[:, None]).T @ Ri @ ((Y[0] - mu) / sw)
    assert np.max(np.abs(score)) < 1e-6 * np.max(np.abs((X * sw[:, None]).T @ ((Y[0] - mu) / sw))) + 1e-6
    # with no autocorrelation left the point estimate is close to the quasi-Poisson one
    qp = fit_glm(Y[0], d.X, d.include, np.log(pop), "quasi_poisson", Analytic())
    assert np.allclose(fit.params, qp.params, atol=0.05)


def _coverage(family: str, method: str, T: int, rho: float, reps: int, seed: int) -> float:
    out = cov.run_its(reps, seed, families=(family,), methods=(method,), lengths=(T,), rhos=(rho,),
                      seasonal=(True,), step_only=False)
    return float(out.loc[out["term"] == "level", "coverage"].iloc[0])


REPS = 100


@pytest.mark.parametrize("family,method", [("its_count", "qp_ar1_reml"), ("its_continuous", "gls_ar1_reml")])
def test_default_interval_covers_within_binomial_band(family, method):
    lo, hi = cov.binomial_band(REPS)
    c = _coverage(family, method, 60, 0.6, REPS, 11)
    assert lo <= c <= hi, f"{method}: coverage {c:.3f} outside [{lo:.3f}, {hi:.3f}]"


def test_old_default_fails_the_same_band():
    """The check can fail: quasi-Poisson with independent-errors SEs under-covers at rho = 0.6."""
    lo, _ = cov.binomial_band(REPS)
    assert _coverage("its_count", "quasi_poisson", 60, 0.6, REPS, 11) < lo


def _panel(T: int, seed: int = 0) -> Panel:
    rng = np.random.default_rng(seed)
    Y, pop = cov.count_series(rng, 1, T, 0.3, True)
    df = pd.DataFrame({"month": pd.period_range("2016-01", periods=T, freq="M"),
                       "emergency_admissions": Y[0], "population": pop})
    return Panel.from_frame(df, time="month", outcome="emergency_admissions", population="population")


def test_defaults_are_ar_errors_through_the_public_api():
    p = _panel(72)
    r = count_its(p, str(pd.Period("2016-01", "M") + 48), seasonality="fourier", calendar=False)
    assert r.inference.name == "ARErrors" and "Kackar-Harville" in r.inference.description
    assert "AR error coefficients" in r.info
    r2 = segmented_regression(p, str(pd.Period("2016-01", "M") + 48), calendar=False)
    assert r2.inference.name == "ARErrors"


def test_short_pre_period_warns():
    p = _panel(40)
    with pytest.warns(ShortSeriesWarning, match="pre-period"):
        count_its(p, "2017-07", seasonality="fourier", calendar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortSeriesWarning)
        count_its(_panel(72), "2019-07", seasonality="fourier", calendar=False)


def test_short_pre_period_is_also_a_flag_on_the_result():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = count_its(_panel(40), "2017-07", seasonality="fourier", calendar=False)
    assert any(f.source == "short_pre_period" for f in r.flags)


def test_reml_at_a_unit_root_is_held_at_the_bound_and_flagged():
    """A random-walk error makes the restricted likelihood rise to rho = 1: the fit holds 0.99 and says so."""
    rng = np.random.default_rng(8)
    T = 45
    y = 6 + np.cumsum(rng.normal(scale=0.05, size=T)) - 0.3 * (np.arange(T) >= 21)
    df = pd.DataFrame({"month": pd.period_range("2021-07", periods=T, freq="M"), "y": y})
    p = Panel.from_frame(df, time="month", outcome="y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = segmented_regression(p, "2023-04", impact="step", calendar=False)
    if r.info["AR error coefficients"] == "0.9900":
        assert any(f.source == "ar_at_bound" for f in r.flags)
    assert np.isfinite(r.ci[0]) and np.isfinite(r.ci[1])
