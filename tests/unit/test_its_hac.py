"""Newey-West HAC (evalint.inference.hac) against statsmodels and the R reference on the Sicily data."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from evalint.errors import InferenceError
from evalint.inference.hac import bw_newey_west, hac_covariance, hac_meat, newey_west_lag


def _ols_data(seed=0, n=80):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), np.arange(n), rng.normal(size=n)])
    e = np.zeros(n)
    for t in range(1, n):
        e[t] = 0.6 * e[t - 1] + rng.normal()
    y = X @ np.array([1.0, 0.1, 0.5]) + e
    return X, y


@pytest.mark.parametrize("lags", [0, 1, 3, 7])
def test_matches_statsmodels_hac_without_correction(lags):
    X, y = _ols_data()
    res = sm.OLS(y, X).fit()
    ref = res.get_robustcov_results(cov_type="HAC", maxlags=lags, use_correction=False).cov_params()
    V, used = hac_covariance(X * res.resid[:, None], np.linalg.inv(X.T @ X), lags=lags)
    assert used == lags
    np.testing.assert_allclose(V, ref, rtol=1e-10)


def test_small_sample_factor_matches_statsmodels_correction():
    X, y = _ols_data(1)
    res = sm.OLS(y, X).fit()
    ref = res.get_robustcov_results(cov_type="HAC", maxlags=4, use_correction=True).cov_params()
    V, _ = hac_covariance(X * res.resid[:, None], np.linalg.inv(X.T @ X), lags=4, adjust=True)
    np.testing.assert_allclose(V, ref, rtol=1e-10)


def test_sicily_newey_west_matches_r_sandwich(shared_reference):
    """sandwich::NeweyWest(lm(rate ~ time + smokban + post_time), lag, prewhite=FALSE, adjust) in r_reference.csv."""
    import pandas as pd

    d = pd.read_csv(shared_reference / "sicily_its" / "data.csv")
    ref = pd.read_csv(shared_reference / "sicily_its" / "r_reference.csv")
    rate = (d["aces"] / d["stdpop"] * 1e5).to_numpy()
    X = np.column_stack([np.ones(59), d["time"], d["smokban"], np.maximum(0, d["time"] - 36)])
    b = np.linalg.lstsq(X, rate, rcond=None)[0]
    e = rate - X @ b
    for model_id, lag, adjust in (("ols_hac_lag3", 3, False), ("ols_hac_lag3_adjusted", 3, True),
                                  ("ols_hac_lag6", 6, False)):
        V, _ = hac_covariance(X * e[:, None], np.linalg.inv(X.T @ X), lags=lag, adjust=adjust)
        want = ref.loc[ref["model_id"] == model_id, "std_error"].to_numpy()
        np.testing.assert_allclose(np.sqrt(np.diag(V)), want, rtol=1e-9)


def test_lag_rule():
    # floor(4 (T/100)^(2/9)): T = 59 -> 3, 108 -> 4, 100 -> 4, 500 -> 5
    assert [newey_west_lag(n) for n in (59, 100, 108, 500)] == [3, 4, 4, 5]


def test_prewhitening_recolours_with_var1():
    """With prewhitening, the meat is D M* D' where M* is built from the VAR(1) residuals (closed form
    for a scalar score: D = 1/(1 - a), a the lag-1 OLS coefficient without intercept)."""
    rng = np.random.default_rng(3)
    u = np.zeros(200)
    for t in range(1, 200):
        u[t] = 0.5 * u[t - 1] + rng.normal()
    a = (u[:-1] @ u[1:]) / (u[:-1] @ u[:-1])
    r = u[1:] - a * u[:-1]
    m_star = r @ r + 2 * (1 - 1 / 3) * (r[:-1] @ r[1:]) + 2 * (1 - 2 / 3) * (r[:-2] @ r[2:])
    got = hac_meat(u[:, None], 2, prewhite=True)
    np.testing.assert_allclose(got[0, 0], m_star / (1 - a) ** 2, rtol=1e-12)


def test_groups_sum_scores_within_time():
    X, y = _ols_data(2, 50)
    s = X * (y - X @ np.linalg.lstsq(X, y, rcond=None)[0])[:, None]
    stacked = np.vstack([s / 2, s / 2])
    groups = np.r_[np.arange(50), np.arange(50)]
    B = np.eye(3)
    V1, _ = hac_covariance(stacked, B, lags=2, groups=groups)
    V2, _ = hac_covariance(s, B, lags=2)
    np.testing.assert_allclose(V1, V2, rtol=1e-12)


def test_bandwidth_is_positive_and_errors():
    X, y = _ols_data(4, 120)
    res = sm.OLS(y, X).fit()
    assert bw_newey_west(X * res.resid[:, None]) > 0
    with pytest.raises(InferenceError):
        newey_west_lag(1)
