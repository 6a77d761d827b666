"""evalint.diagnostics.pretrend: closed forms and size with few treated units.

Closed forms: with contributions in influence-function form ((x_i - mean)/n per sample) the
test of a difference in means is scipy's Welch t-test (statistic, df, p); the trend contrast
is the least-squares slope through the reference point; the Wald check is chi-square / F.
Size: pre-treatment paths simulated with exactly parallel trends, 4 treated units, 30 event
times, AR(1) noise: the default trend test rejects at about 5%, the chi-square Wald far more.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from evalint.diagnostics.pretrend import pretrend_check, trend_contrast, wald_check, welch_df


def test_welch_df_equals_scipy_welch():
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 2, 5), rng.normal(0, 1, 30)
    zx = (x - x.mean()) / x.size
    zy = (y - y.mean()) / y.size
    z = np.concatenate([zx, zy])
    treated = np.r_[np.ones(5, bool), np.zeros(30, bool)]
    vx, vy = x.var(ddof=1) / 5, y.var(ddof=1) / 30
    want = (vx + vy) ** 2 / (vx ** 2 / 4 + vy ** 2 / 29)
    assert welch_df(z, treated) == pytest.approx(want, rel=1e-12)
    # the t statistic of the difference in means, tested as a 1-column "pre-trend"
    chk = pretrend_check([-2.0], [x.mean() - y.mean()], np.c_[np.r_[zx, -zy]], treated, form="differences")
    ref = stats.ttest_ind(x, y, equal_var=False)
    assert chk.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert chk.p_value == pytest.approx(ref.pvalue, rel=1e-8)


def test_trend_contrast_is_the_slope_through_the_reference():
    e = np.arange(-8, -1, dtype=float)   # -8..-2, reference -1
    c = trend_contrast(e, "levels", -1.0)
    assert c @ (0.3 * (e + 1)) == pytest.approx(0.3)
    assert trend_contrast(e, "differences") @ np.full(7, 0.3) == pytest.approx(0.3)


def test_wald_check_closed_form():
    b, v = np.array([1.0, -0.5]), np.array([[0.5, 0.1], [0.1, 0.4]])
    w = b @ np.linalg.solve(v, b)
    assert wald_check(b, v).p_value == pytest.approx(stats.chi2.sf(w, 2), rel=1e-10)
    assert wald_check(b, v, df2=9).p_value == pytest.approx(stats.f.sf(w / 2, 2, 9), rel=1e-10)


def test_one_treated_cluster_is_not_available():
    z = np.ones((5, 3))
    chk = pretrend_check([-4, -3, -2], [0.1, 0.2, 0.3], z, np.r_[True, False, False, False, False])
    assert chk.passed is None and "1 treated cluster" in chk.text


def _paths(rng, n_t, n_c, n_e, slope=0.0, rho=0.5):
    """Levels relative to e = -1 for treated and control units (AR(1) noise), and their
    C-S-style contributions: treated (x_i - mean_T)/n_T, controls -(x_i - mean_C)/n_C."""
    n = n_t + n_c
    eps = np.zeros((n, n_e + 1))
    eps[:, 0] = rng.normal(0, 1, n) / np.sqrt(1 - rho ** 2)
    for j in range(1, n_e + 1):
        eps[:, j] = rho * eps[:, j - 1] + rng.normal(0, 1, n)
    lev = eps[:, :-1] - eps[:, -1:]            # e = -n_e-1 .. -2 minus e = -1
    e = np.arange(-n_e - 1, -1, dtype=float)
    lev[:n_t] += slope * (e + 1)
    xt, xc = lev[:n_t], lev[n_t:]
    b = xt.mean(0) - xc.mean(0)
    z = np.vstack([(xt - xt.mean(0)) / n_t, -(xc - xc.mean(0)) / n_c])
    return e, b, z, np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]


def test_size_with_four_treated_and_thirty_event_times_and_power():
    rng = np.random.default_rng(7)
    reps = 400
    rej_trend, rej_wald, rej_power = 0, 0, 0
    for _ in range(reps):
        e, b, z, tr = _paths(rng, 4, 38, 30)
        rej_trend += pretrend_check(e, b, z, tr).passed is False
        rej_wald += wald_check(b, z.T @ z).passed is False
        e, b, z, tr = _paths(rng, 4, 38, 30, slope=0.1)
        rej_power += pretrend_check(e, b, z, tr).passed is False
    # binomial band for 400 draws at 5%: 5% + 2.6 SE = 7.8%
    assert rej_trend / reps <= 0.078
    assert rej_wald / reps >= 0.5
    assert rej_power / reps >= 0.5
