"""Count ITS (Poisson / quasi-Poisson / NB2 with log(population) offset) against statsmodels and closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evalint.data.panel import Panel
from evalint.errors import InvalidValueError, SpecificationError
from evalint.estimators.its import CountITS, count_its
from evalint.inference import ARErrors, NeweyWest


def _counts(seed=0, n=84, rr=0.9, alpha=0.0, start=48, zeros=0, scale=2e-3):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    pop = 300_000 * np.exp(0.004 * t)
    m = pd.period_range("2017-01", periods=n, freq="M")
    mu = pop * scale * np.exp(0.003 * t + 0.08 * np.cos(2 * np.pi * (m.month - 1) / 12) + np.log(rr) * (t >= start))
    lam = mu * rng.gamma(1 / alpha, alpha, n) if alpha > 0 else mu
    y = rng.poisson(lam).astype(float)
    y[:zeros] = 0
    df = pd.DataFrame({"month": m, "emergency_admissions": y, "population": pop})
    return Panel.from_frame(df, time="month", outcome="emergency_admissions", population="population"), y, pop


def _X(n=84, start=48, harmonic=True):
    t = np.arange(1, n + 1)
    m = np.asarray(pd.period_range("2017-01", periods=n, freq="M").month, float)
    cols = [np.ones(n), t, (t >= start + 1).astype(float)]
    if harmonic:
        cols += [np.sin(2 * np.pi * m / 12), np.cos(2 * np.pi * m / 12)]
    return np.column_stack(cols)


def test_poisson_matches_statsmodels_glm():
    panel, y, pop = _counts(1)
    r = CountITS(interventions="2021-01", impact="step", model="poisson", seasonality="fourier",
                 harmonics=1).fit(panel, calendar=False)
    ref = sm.GLM(y, _X(), family=sm.families.Poisson(), offset=np.log(pop)).fit(tol=1e-12)
    np.testing.assert_allclose(r.coefficients["estimate"], ref.params, rtol=1e-7)
    np.testing.assert_allclose(r.coefficients["std_error"], ref.bse, rtol=1e-5)
    assert r.estimate == pytest.approx(np.exp(ref.params[2]), rel=1e-7)
    lo, hi = np.exp(ref.conf_int()[2])
    assert r.ci == pytest.approx((lo, hi), rel=1e-5)
    assert r.scale == "rate_ratio" and r.inference.df is None


def test_quasi_poisson_scales_by_pearson_dispersion_with_t_reference():
    panel, y, pop = _counts(2, alpha=0.01)
    r = count_its(panel, "2021-01", impact="step", seasonality="fourier", harmonics=1, calendar=False,
                  errors="model")
    ref = sm.GLM(y, _X(), family=sm.families.Poisson(), offset=np.log(pop)).fit(scale="X2", tol=1e-12)
    np.testing.assert_allclose(r.coefficients["std_error"], ref.bse, rtol=1e-5)
    assert r.info["Pearson dispersion"] == pytest.approx(ref.scale, rel=1e-5)
    assert r.inference.df == 84 - 5
    assert r.method.startswith("Count ITS (quasi-Poisson")   # outcome kind default


def test_negative_binomial_matches_statsmodels_nb2():
    from statsmodels.discrete.discrete_model import NegativeBinomial

    panel, y, pop = _counts(3, alpha=0.02)
    r = CountITS(interventions="2021-01", impact="step", model="negative_binomial", seasonality="fourier",
                 harmonics=1).fit(panel, calendar=False)
    start = np.r_[sm.GLM(y, _X(), family=sm.families.Poisson(), offset=np.log(pop)).fit().params, 0.01]
    # Nelder-Mead: a derivative-free path to the same maximum (evalint uses Newton)
    ref = NegativeBinomial(y, _X(), offset=np.log(pop), loglike_method="nb2").fit(
        start_params=start, disp=0, maxiter=20000, method="nm")
    assert ref.mle_retvals["converged"]
    np.testing.assert_allclose(r.coefficients["estimate"], ref.params[:5], rtol=5e-4, atol=1e-6)
    np.testing.assert_allclose(r.coefficients["std_error"], ref.bse[:5], rtol=1e-3)
    assert r.diagnostics_frame().set_index("name").loc["overdispersion", "statistic"] == pytest.approx(
        ref.params[5], rel=1e-3)


def test_newey_west_for_counts_matches_statsmodels_glm_hac():
    panel, y, pop = _counts(4, alpha=0.01)
    r = CountITS(interventions="2021-01", impact="step", seasonality="fourier", harmonics=1).fit(
        panel, inference=NeweyWest(lags=3), calendar=False)
    ref = sm.GLM(y, _X(), family=sm.families.Poisson(), offset=np.log(pop)).fit(
        tol=1e-12, cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": False})
    np.testing.assert_allclose(r.coefficients["std_error"], ref.bse, rtol=1e-5)


def test_percent_and_cumulative_effects_closed_form():
    """Step model: percent effect = 100 (RR - 1) each period with CI 100 (exp(CI) - 1); the cumulative effect is
    sum(mu_t - mu0_t) = sum(mu_t) (1 - 1/RR)."""
    panel, _, _ = _counts(5)
    r = count_its(panel, "2021-01", impact="step", model="poisson", calendar=False)
    e = r.effects
    np.testing.assert_allclose(e["percent"], 100 * (r.estimate - 1), rtol=1e-10)
    np.testing.assert_allclose(e["percent_low"], 100 * (r.ci[0] - 1), rtol=1e-8)
    cum = r.tables["cumulative"].iloc[0]
    assert cum["estimate"] == pytest.approx(cum["fitted_total"] * (1 - 1 / r.estimate), rel=1e-10)
    assert cum["conf_low"] < cum["estimate"] < cum["conf_high"]
    rr = r.tables["rate_ratios"].set_index("term")
    assert rr.loc["level_intervention", "rate_ratio"] == pytest.approx(r.estimate, rel=1e-12)


def test_overdispersion_flagged_under_plain_poisson_only():
    over, _, _ = _counts(6, alpha=0.05)
    r = count_its(over, "2021-01", model="poisson", calendar=False)
    assert any(f.source == "pearson_dispersion" and f.severity == "high" for f in r.flags)
    assert "Overdispersion" in str(r.summary())
    assert not any(f.source == "pearson_dispersion" for f in count_its(over, "2021-01", calendar=False).flags)
    clean, _, _ = _counts(7, alpha=0.0)
    rc = count_its(clean, "2021-01", model="poisson", seasonality="fourier", harmonics=1, calendar=False)
    assert not any(f.source == "pearson_dispersion" for f in rc.flags)


def test_zeros_are_handled_by_the_likelihood_and_counted():
    panel, y, _ = _counts(8, scale=2e-5, zeros=3)
    assert (y == 0).sum() >= 3
    r = count_its(panel, "2021-01", model="poisson", calendar=False)
    flag = next(f for f in r.flags if f.source == "count_zeros")
    assert f"{int((y == 0).sum())} fitted period(s) have a count of zero" in flag.message


def test_all_zero_pre_period_is_an_error():
    panel, _, _ = _counts(9, zeros=48)
    with pytest.raises(InvalidValueError, match="Every pre-intervention value"):
        count_its(panel, "2021-01", calendar=False)


def test_no_population_offset_is_flagged():
    panel, y, _ = _counts(10)
    df = panel.data.drop(columns=["population"])
    p2 = Panel.from_frame(df, time="month", outcome="emergency_admissions", unit="unit")
    r = count_its(p2, "2021-01", calendar=False)
    assert any(f.source == "count_offset" for f in r.flags)
    r2 = count_its(panel, "2021-01", offset=False, calendar=False)
    assert any("offset=False" in f.message for f in r2.flags)


def test_ar_errors_only_with_quasi_poisson():
    panel, _, _ = _counts(11)
    with pytest.raises(SpecificationError, match="quasi-Poisson GLM with AR errors"):
        count_its(panel, "2021-01", model="negative_binomial", inference=ARErrors(), calendar=False)
    with pytest.raises(SpecificationError, match="quasi-Poisson GLM with AR errors"):
        count_its(panel, "2021-01", model="poisson", errors="ar", calendar=False)
    r = count_its(panel, "2021-01", inference=ARErrors(), calendar=False)
    assert r.inference.name == "ARErrors" and r.method.endswith("AR(1) errors)")


def test_negative_values_rejected():
    df = pd.DataFrame({"month": pd.period_range("2017-01", periods=30, freq="M"), "y": np.r_[np.ones(29), -1.0]})
    p = Panel.from_frame(df, time="month", outcome="y")
    with pytest.raises(SpecificationError, match="negative"):
        count_its(p, "2018-06", calendar=False)
