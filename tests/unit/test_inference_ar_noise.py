"""GLS with AR(1)-plus-noise errors (evalint/inference/ar_noise.py), the controlled ITS default.

Outside numbers: statsmodels' UnobservedComponents (irregular + AR(1) component with regressors,
exact Kalman-filter maximum likelihood) for the ML fit; the closed-form AR(1) correlation
matrix for lam = 1 (nlme-style AR(1) GLS written out by hand).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import linalg

from evalint.errors import InferenceError
from evalint.inference.ar_noise import ar_noise_loglik, fit_ar_noise


def _series(seed=7, T=96):
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    a = np.zeros(T)
    for i in range(1, T):
        a[i] = 0.7 * a[i - 1] + rng.normal(0, 0.1)
    y = 1 + 0.01 * t - 0.2 * (t >= 60) + a + rng.normal(0, 0.15, T)
    X = np.column_stack([np.ones(T), t, (t >= 60) * 1.0])
    return y, X, t


def test_ml_fit_equals_statsmodels_unobserved_components():
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    y, X, t = _series()
    f = fit_ar_noise(y, X, t, reml=False, adjust=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = UnobservedComponents(y, exog=X, irregular=True, autoregressive=1).fit(disp=False, method="lbfgs",
                                                                                maxiter=2000)
    s2_irr, s2_eta, phi = r.params[:3]
    var_ar = s2_eta / (1 - phi ** 2)
    lam = var_ar / (var_ar + s2_irr)
    # the profile likelihood at statsmodels' (phi, lam) is its maximised likelihood (profiling beta and
    # sigma^2 can only add the last bits statsmodels' joint optimiser left)
    prof = ar_noise_loglik(phi, lam, y, X, t, reml=False)
    assert r.llf - 1e-8 <= prof and prof == pytest.approx(r.llf, abs=5e-4)
    # and evalint's optimum is at least as high and at the same place
    assert f.loglik >= r.llf - 1e-6 and f.loglik == pytest.approx(r.llf, abs=1e-3)
    assert f.phi == pytest.approx(phi, abs=5e-3) and f.lam == pytest.approx(lam, abs=1e-2)
    np.testing.assert_allclose(f.beta, r.params[3:], atol=5e-3)


def test_pure_ar1_is_gls_with_the_ar1_correlation():
    # at lam = 1 the profile likelihood is that of GLS with R_ij = phi^|i - j| (written out here)
    y, X, t = _series(3)
    phi = 0.6
    R = phi ** np.abs(t[:, None] - t[None, :])
    Ri = np.linalg.inv(R)
    b = np.linalg.solve(X.T @ Ri @ X, X.T @ Ri @ y)
    e = y - X @ b
    n = len(y)
    s2 = float(e @ Ri @ e) / n
    ll = -0.5 * (n * np.log(2 * np.pi * s2) + n + np.linalg.slogdet(R)[1])
    assert ar_noise_loglik(phi, 1.0, y, X, t, reml=False) == pytest.approx(ll, rel=1e-10)
    # REML adds -(1/2) log|X' R^-1 X / s2_reml| terms: compare with the textbook restricted likelihood
    k = X.shape[1]
    s2r = float(e @ Ri @ e) / (n - k)
    llr = -0.5 * ((n - k) * np.log(2 * np.pi * s2r) + (n - k) + np.linalg.slogdet(R)[1]
                  + np.linalg.slogdet(X.T @ Ri @ X)[1])
    assert ar_noise_loglik(phi, 1.0, y, X, t, reml=True) == pytest.approx(llr, rel=1e-10)
    assert linalg.norm(R) > 0


def test_adjusted_fit_is_wider_with_satterthwaite_df_and_refuses_tiny_series():
    y, X, t = _series(5)
    plain = fit_ar_noise(y, X, t, adjust=False)
    adj = fit_ar_noise(y, X, t, focus=[2])
    np.testing.assert_allclose(adj.beta, plain.beta)
    assert adj.cov[2, 2] >= plain.cov[2, 2]
    assert plain.df == len(y) - 3 and 1 < adj.df <= len(y) - 3
    with pytest.raises(InferenceError, match="more fitted periods"):
        fit_ar_noise(y[:7], X[:7], t[:7])
