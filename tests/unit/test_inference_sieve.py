"""AR-sieve bootstrap (evalint/inference/sieve.py) and the ITS option SieveBootstrap().

Outside numbers: statsmodels' Yule-Walker estimator; the closed form of the residual (order 0)
bootstrap covariance with modified residuals, e'e / (n - k) (X'X)^-1; the AR(1) recursion written out by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalint
from evalint.errors import InferenceError, SpecificationError
from evalint.inference.sieve import default_max_order, sieve_bootstrap, yule_walker
from evalint.inference.specs import SieveBootstrap


def _ar1(rng, n, rho, sd=1.0):
    u = np.zeros(n)
    u[0] = rng.normal(0, sd)
    for t in range(1, n):
        u[t] = rho * u[t - 1] + rng.normal(0, sd * np.sqrt(1 - rho ** 2))
    return u


def test_yule_walker_equals_statsmodels():
    from statsmodels.regression.linear_model import yule_walker as sm_yw

    rng = np.random.default_rng(0)
    e = _ar1(rng, 200, 0.5)
    e = e - e.mean()
    for p in (1, 2, 3):
        phi, s2 = yule_walker(e, p)
        rho_sm, sigma_sm = sm_yw(e, order=p, method="mle", demean=False, result_object=False)
        np.testing.assert_allclose(phi, rho_sm, rtol=1e-10)
        assert s2 == pytest.approx(sigma_sm ** 2, rel=1e-10)


def test_order_zero_is_the_residual_bootstrap_closed_form():
    # with p = 0 the draws are i.i.d. resamples of the residuals: E cov = e'e / (n - k) (X'X)^-1 (modified residuals)
    rng = np.random.default_rng(1)
    n = 60
    X = np.column_stack([np.ones(n), np.arange(n), (np.arange(n) >= 40).astype(float)])
    y = X @ [1.0, 0.1, -0.5] + rng.normal(0, 1, n)
    sv = sieve_bootstrap(y, X, reps=40_000, seed=3, max_order=0)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ b
    closed = float(e @ e) / (n - 3) * np.linalg.inv(X.T @ X)  # modified residuals: n - k
    assert sv.order == 0
    np.testing.assert_allclose(sv.beta, b, rtol=1e-10)
    # Monte Carlo error of a variance from 40,000 draws: about 0.7%
    np.testing.assert_allclose(np.diag(sv.cov), np.diag(closed), rtol=0.03)


def test_ar1_sieve_draws_follow_the_recursion_and_seed_reproduces():
    rng = np.random.default_rng(2)
    n = 120
    X = np.column_stack([np.ones(n), np.arange(n) / n])
    y = X @ [0.0, 1.0] + _ar1(rng, n, 0.6)
    a = sieve_bootstrap(y, X, reps=200, seed=5, max_order=1)
    b = sieve_bootstrap(y, X, reps=200, seed=5, max_order=1)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.order == 1 and 0.3 < a.phi[0] < 0.85
    # the AR(1) long-run variance inflates the intercept's variance well above the i.i.d. one
    e = y - X @ a.beta
    iid = float(e @ e) / n * np.linalg.inv(X.T @ X)
    assert a.cov[0, 0] > 1.8 * iid[0, 0]
    assert default_max_order(48) == 3 and default_max_order(72) == 4 and default_max_order(120) == 4
    with pytest.raises(InferenceError, match="sieve bootstrap needs more"):
        sieve_bootstrap(y[:8], X[:8], reps=99, seed=0, max_order=6)


def test_segmented_regression_accepts_sieve_bootstrap():
    rng = np.random.default_rng(4)
    T = 72
    t = np.arange(T)
    df = pd.DataFrame({"a": "x", "m": pd.period_range("2017-01", periods=T, freq="M"),
                       "y": 6 + 0.01 * t - 0.3 * (t >= 48) + _ar1(rng, T, 0.5, 0.3)})
    p = evalint.Panel.from_frame(df, unit="a", time="m", outcome="y")
    r = evalint.segmented_regression(p, "2021-01", inference=SieveBootstrap(reps=199, seed=1), calendar=False)
    ols = evalint.segmented_regression(p, "2021-01", inference=evalint.Analytic(), calendar=False)
    assert r.estimate == pytest.approx(ols.estimate, abs=1e-12)
    assert "AR-sieve bootstrap (199 reps, seed 1" in r.inference.description
    assert r.method == "Segmented regression (OLS, AR-sieve bootstrap)"
    again = evalint.segmented_regression(p, "2021-01", inference=SieveBootstrap(reps=199, seed=1), calendar=False)
    assert again.se == r.se
    with pytest.raises(SpecificationError):
        SieveBootstrap(reps=10)
