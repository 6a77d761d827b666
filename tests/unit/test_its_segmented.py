"""Segmented regression: OLS / Newey-West / GLS-AR(p) against closed forms and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evalint.data.panel import Panel
from evalint.estimators.its import SegmentedRegression, its, segmented_regression
from evalint.inference import Analytic, ARErrors, NeweyWest
from evalint.results import TIDY_COLUMNS


def _series(seed=0, n=96, phi=0.0, level=-3.0, slope=0.0, start=60):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    e = np.zeros(n)
    for i in range(n):
        e[i] = (phi * e[i - 1] if i else 0) + rng.normal()
    y = 20 + 0.05 * t + level * (t >= start) + slope * np.maximum(0, t - start + 1) + e
    df = pd.DataFrame({"month": pd.period_range("2016-04", periods=n, freq="M"), "y": y})
    return Panel.from_frame(df, time="month", outcome="y"), y


def _X(n=96, start=60):
    t = np.arange(1, n + 1)
    return np.column_stack([np.ones(n), t, t >= start + 1, np.maximum(0, t - start)]).astype(float)


def test_ols_matches_statsmodels():
    panel, y = _series()
    r = segmented_regression(panel, "2021-04", errors="ols", calendar=False)
    ref = sm.OLS(y, _X()).fit()
    coef = r.coefficients.set_index("term")
    np.testing.assert_allclose(coef["estimate"], ref.params, rtol=1e-10)
    np.testing.assert_allclose(coef["std_error"], ref.bse, rtol=1e-10)
    np.testing.assert_allclose(coef["p_value"], ref.pvalues, rtol=1e-8)  # t(n - k) reference
    assert r.term == "level_intervention" and r.estimate == pytest.approx(ref.params[2], rel=1e-10)
    assert list(r.to_frame().columns[: len(TIDY_COLUMNS)]) == TIDY_COLUMNS


def test_newey_west_matches_statsmodels_hac():
    panel, y = _series(1, phi=0.5)
    r = SegmentedRegression(interventions="2021-04", errors="newey_west", hac_lags=5).fit(panel, calendar=False)
    ref = sm.OLS(y, _X()).fit(cov_type="HAC", cov_kwds={"maxlags": 5, "use_correction": False})
    np.testing.assert_allclose(r.coefficients["std_error"], ref.bse, rtol=1e-10)
    assert "5 lag(s)" in r.inference.description


def test_default_nw_lag_follows_rule():
    panel, _ = _series(2)
    r = SegmentedRegression(interventions="2021-04", errors="newey_west").fit(panel, calendar=False)
    assert r.inference.name == "NeweyWest" and "3 lag(s)" in r.inference.description  # floor(4 (96/100)^(2/9)) = 3


@pytest.mark.parametrize("order", [1, 2])
def test_gls_ar_matches_exact_ml_of_statsmodels_arima(order):
    """Regression with AR(p) errors by exact ML: same optimum as statsmodels' state-space ARIMA."""
    from statsmodels.tsa.arima.model import ARIMA

    panel, y = _series(3, phi=0.5)
    r = SegmentedRegression(interventions="2021-04", errors="ar", ar_order=order, ar_method="ml",
                            ar_adjust=False).fit(panel, calendar=False)
    ref = ARIMA(y, exog=_X()[:, 1:], order=(order, 0, 0), trend="c").fit(method="innovations_mle")
    ours = r.coefficients["estimate"].to_numpy()
    np.testing.assert_allclose(ours, ref.params[:4], rtol=2e-4, atol=2e-4)
    np.testing.assert_allclose(r.tables["ar_errors"]["phi"], ref.params[4:4 + order], atol=2e-4)


def test_ar_order_by_aic_picks_the_simulated_order():
    panel, _ = _series(4, n=108, phi=0.7)
    r = SegmentedRegression(interventions="2021-04", errors="ar", ar_order=None).fit(panel, calendar=False)
    table = r.tables["ar_order_selection"]
    assert list(table["order"]) == [0, 1, 2, 3, 4]
    chosen = int(table.loc[table["aic"].idxmin(), "order"])
    assert len(r.tables["ar_errors"]) == chosen and chosen >= 1


def test_counterfactual_closed_form_for_a_step():
    """Step-only model: every post-period effect equals the level coefficient with its SE; the cumulative
    effect is n_post times it; the counterfactual is the pre-trend line."""
    panel, _ = _series(5)
    r = segmented_regression(panel, "2021-04", impact="step", errors="ols", calendar=False)
    e = r.effects
    assert len(e) == 36
    np.testing.assert_allclose(e["estimate"], r.estimate, rtol=1e-12)
    np.testing.assert_allclose(e["std_error"], r.se, rtol=1e-10)
    cum = r.tables["cumulative"].iloc[0]
    assert cum["estimate"] == pytest.approx(36 * r.estimate, rel=1e-12)
    assert cum["std_error"] == pytest.approx(36 * r.se, rel=1e-10)
    b = r.coefficients.set_index("term")["estimate"]
    s = r.series
    np.testing.assert_allclose(s["counterfactual"], b["intercept"] + b["time"] * np.arange(1, 97), rtol=1e-12)
    assert set(s.columns) >= {"time", "observed", "fitted", "counterfactual", "cf_low", "cf_high", "phase"}
    assert (s["cf_low"] < s["counterfactual"]).all() and (s["cf_high"] > s["counterfactual"]).all()


def test_percent_effect_delta_method_against_numeric_gradient():
    panel, _ = _series(6, level=-2, slope=-0.05)
    r = segmented_regression(panel, "2021-04", errors="ols", calendar=False)
    b = r.coefficients.set_index("term")["estimate"].to_numpy()
    row = r.effects.iloc[10]
    t = 60 + 10 + 1
    x0 = np.array([1, t, 0, 0.0])
    x1 = np.array([1, t, 1, 11.0])
    assert row["percent"] == pytest.approx(100 * (x1 @ b - x0 @ b) / (x0 @ b), rel=1e-10)
    assert row["percent_low"] < row["percent"] < row["percent_high"]


def test_inference_override_and_rejection():
    panel, _ = _series(7)
    est = SegmentedRegression(interventions="2021-04")
    assert est.fit(panel, inference=Analytic(), calendar=False).inference.name == "Analytic"
    assert est.fit(panel, inference=ARErrors(order=1), calendar=False).method.startswith("Segmented regression (GLS")
    assert est.fit(panel, inference=NeweyWest(lags=2), calendar=False).inference.name == "NeweyWest"
    from evalint.errors import SpecificationError
    from evalint.inference import Clustered

    with pytest.raises(SpecificationError, match="supported: NeweyWest, ARErrors, Analytic"):
        est.fit(panel, inference=Clustered(), calendar=False)


def test_estimator_is_frozen_and_data_untouched():
    panel, _ = _series(8)
    before = panel.data.copy()
    est = SegmentedRegression(interventions="2021-04")
    est.fit(panel, calendar=False)
    pd.testing.assert_frame_equal(panel.data, before)
    with pytest.raises(AttributeError):
        est.impact = "step"  # type: ignore[misc]


def test_its_dispatch_follows_outcome_kind():
    from evalint.datasets import simulate_series

    sim = simulate_series(seed=1, intervention="2021-04", covid=False,
                          effects={"emergency_admissions": -0.05, "length_of_stay": -0.2, "delayed_discharges": 0.0})
    a = its(sim.panel, "2021-04", outcome="emergency_admissions", calendar=False)
    assert a.method.startswith("Count ITS (quasi-Poisson") and a.scale == "rate_ratio"
    los = its(sim.panel, "2021-04", outcome="length_of_stay", calendar=False)
    assert "GLS" in los.method


def test_gls_with_excluded_transition_rows_is_exact_ml_over_the_gaps():
    """Excluded transition rows leave gaps: the AR(1) covariance is then built at the calendar lags.
    Check against statsmodels GLS at the estimated phi and against a dense Gaussian log-likelihood."""
    from scipy import stats as st

    panel, y = _series(11, phi=0.5)
    r = SegmentedRegression(interventions="2021-04", errors="ar", transition=3, ar_method="ml",
                            ar_adjust=False).fit(panel, calendar=False)
    keep = np.r_[np.arange(60), np.arange(63, 96)]
    phi = float(r.tables["ar_errors"]["phi"].iloc[0])
    t = np.arange(1, 97)
    X = np.column_stack([np.ones(96), t, t >= 64, np.maximum(0, t - 63)]).astype(float)[keep]
    R = phi ** np.abs(keep[:, None] - keep[None, :])
    ref = sm.GLS(y[keep], X, sigma=R).fit()
    np.testing.assert_allclose(r.coefficients["estimate"], ref.params, rtol=1e-8)

    def loglik(p):
        Rp = p ** np.abs(keep[:, None] - keep[None, :])
        b = sm.GLS(y[keep], X, sigma=Rp).fit()
        resid = y[keep] - X @ b.params
        s2 = resid @ np.linalg.solve(Rp, resid) / len(keep)
        return st.multivariate_normal(np.zeros(len(keep)), s2 * Rp).logpdf(resid)

    assert loglik(phi) >= max(loglik(phi - 0.01), loglik(phi + 0.01))
