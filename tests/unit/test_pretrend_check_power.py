"""Power of every pre-trend test against a linear violation of parallel trends (Roth 2022).

Known truths:
* the joint Wald test with a known covariance: against a linear trend ``gamma (e - r)`` its
  statistic is noncentral chi-square; the slope reported with 80% power is checked by Monte
  Carlo draws of the estimates (and, with one coefficient, by the two-sided normal closed form);
* the linear trend test: with many clusters the slope with 80% power is
  ``(z_0.975 + z_0.8) se`` (closed form), and the bias of the effect at e = 0 among studies that
  pass equals the Monte Carlo mean of a bivariate normal (slope, effect) truncated to the
  acceptance region;
* every event-study estimator (C-S, Sun-Abraham, imputation, TWFE event study) reports the
  power beside its pre-trend test: in the check, its text and ``diagnostics_frame()``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize, stats

import evalint
from evalint.diagnostics.pretrend import pretrend_check, wald_check
from evalint.estimators.did.staggered import example_staggered_panel


def test_wald_power_one_coefficient_equals_normal_closed_form():
    se = 0.3
    chk = wald_check(np.array([0.1]), np.array([[se ** 2]]), linear=[-1.0], reference=-1.0)  # e = -2, r = -1
    z = stats.norm.ppf(0.975)

    def power(g):
        m = g / se
        return stats.norm.sf(z - m) + stats.norm.cdf(-z - m)

    g80 = optimize.brentq(lambda g: power(g) - 0.8, 0, 10 * se)
    g50 = optimize.brentq(lambda g: power(g) - 0.5, 0, 10 * se)
    assert chk.power["slope_80"] == pytest.approx(g80, rel=1e-6)
    assert chk.power["slope_50"] == pytest.approx(g50, rel=1e-6)
    assert chk.power["bias"] == pytest.approx(g80 * 1.0, rel=1e-9)  # e = 0 is one period after r = -1
    assert "80% power" in chk.text


def test_wald_power_three_coefficients_by_monte_carlo():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 3))
    v = a @ a.T / 10 + 0.02 * np.eye(3)
    e = np.array([-4.0, -3.0, -2.0])
    lin = e + 1.0
    chk = wald_check(np.zeros(3), v, linear=lin, reference=-1.0)
    g = chk.power["slope_80"]
    draws = rng.multivariate_normal(g * lin, v, size=200_000)
    w = np.einsum("ij,ij->i", draws, np.linalg.solve(v, draws.T).T)
    rate = np.mean(w > stats.chi2.ppf(0.95, 3))
    assert rate == pytest.approx(0.8, abs=4 * np.sqrt(0.16 / 200_000))


def _contributions(rng, g_t=300, g_u=300, n_e=4):
    """Cluster contributions of (pre estimates, effect at e=0): rows are clusters."""
    z = rng.normal(size=(g_t + g_u, n_e + 1)) / np.sqrt(g_t + g_u)
    z[:, -1] += 0.8 * z[:, 0]  # the effect at e = 0 shares the reference-period noise with the leads
    treated = np.arange(g_t + g_u) < g_t
    return z, treated


def test_trend_test_power_and_bias_if_passed_against_closed_form_and_simulation():
    rng = np.random.default_rng(5)
    z, treated = _contributions(rng)
    e = np.array([-5.0, -4.0, -3.0, -2.0])
    chk = pretrend_check(e, np.zeros(4), z[:, :4], treated, post_contributions=z[:, 4], reference=-1.0)
    c = (e + 1) / np.sum((e + 1) ** 2)
    g_t, g_u = treated.sum(), (~treated).sum()

    def wcov(x, y):
        return sum(np.sum(x[s] * y[s]) * n / (n - 1) for s, n in ((treated, g_t), (~treated, g_u)))

    zc = z[:, :4] @ c
    se = np.sqrt(wcov(zc, zc))
    # many clusters: the Welch t is nearly normal
    assert chk.power["slope_80"] == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se, rel=5e-3)
    # bias of the e=0 effect among studies that pass, at the 80% slope: simulate (slope, effect)
    g = chk.power["slope_80"]
    cov = np.array([[se ** 2, wcov(zc, z[:, 4])], [wcov(zc, z[:, 4]), wcov(z[:, 4], z[:, 4])]])
    draws = rng.multivariate_normal([g, g * 1.0], cov, size=400_000)
    crit = stats.t.ppf(0.975, chk.df)
    ok = np.abs(draws[:, 0]) <= crit * se
    mc = draws[ok, 1].mean()
    mc_se = draws[ok, 1].std() / np.sqrt(ok.sum())
    assert chk.power["bias"] == pytest.approx(g, rel=1e-9)
    assert chk.power["bias_if_passed"] == pytest.approx(mc, abs=4 * mc_se)
    assert chk.power["bias_if_passed"] != pytest.approx(g, rel=0.05)  # passing changes the bias here


@pytest.mark.parametrize("name", ["callaway_santanna", "sun_abraham", "event_study", "imputation_did"])
def test_every_event_study_reports_pretrend_power(name):
    panel = example_staggered_panel(seed=1)
    opts = {"pretrends": 2} if name == "imputation_did" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = getattr(evalint, name)(panel, calendar=False, **opts)
    checks = [d for d in res.diagnostics if d.name == "pre_trend"]
    assert checks and checks[0].power is not None
    assert checks[0].power["slope_80"] > checks[0].power["slope_50"] > 0
    assert "80% power" in checks[0].text
    frame = res.diagnostics_frame()
    row = frame.loc[frame["name"] == "pre_trend"].iloc[0]
    assert row["slope_80"] == pytest.approx(checks[0].power["slope_80"])
    if name != "imputation_did":  # the leads come from a separate regression there
        assert np.isfinite(row["bias_if_passed"])


def test_key_diagnostic_in_evaluate_table_shows_power():
    from evalint.diagnostics.base import CheckResult
    from evalint.evaluate.triangulate import key_diagnostic

    d = CheckResult("pre_trend", True, "x", p_value=0.4, power={"slope_80": 0.012, "slope_50": 0.008,
                                                                  "bias": 0.012, "bias_if_passed": 0.02,
                                                                  "event_time": 0.0})
    text = key_diagnostic("did", [d])
    assert "80% power against a linear trend of 0.012 per period" in text and "bias if passed 0.02" in text
