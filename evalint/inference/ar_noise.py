"""GLS with AR(1) errors plus independent noise, by (restricted) maximum likelihood.

The error of a regression on one monthly series is modelled as an AR(1) process plus white
noise: ``u_t = a_t + w_t``, ``a_t = phi a_{t-1} + eta_t``, so

    Cov(u) = sigma^2 [lam R(phi) + (1 - lam) I],   R(phi)_ij = phi^|t_i - t_j|,

with ``lam`` in [0, 1] the share of the variance that is autocorrelated. This is the ARMA(1,1)
process of a persistent signal observed with sampling error, the shape of a log rate ratio of
two areas' counts: the areas' persistent shocks are the AR(1) part, the Poisson sampling error
of each month's counts the noise. An AR(1) model fitted to such a series finds a small lag-one
autocorrelation and misses the persistence; its intervals are too short (methods/its.md
section 5). ``lam = 1`` is the AR(1) model, ``lam = 0`` independent errors.

``phi`` and ``lam`` are estimated by maximising the restricted (REML, default) or profile
likelihood (sigma^2 profiled out) over a box; the coefficients are GLS at the estimate. With
``adjust=True`` the covariance of the coefficients is widened for the estimated ``(phi, lam)``
(Kackar & Harville 1984: ``J S J'`` with ``J = db/dtheta`` and ``S`` the inverse of the
observed information of the interior parameters), and the reference distribution is a t with
Satterthwaite degrees of freedom for the named terms, as for the AR(p) fit of the ITS backends.

References
----------
Harvey, A. C. (1989). *Forecasting, Structural Time Series Models and the Kalman Filter*.
    Cambridge University Press (AR(1) plus noise as an ARMA(1,1) process).
Kackar, R. N. & Harville, D. A. (1984). Approximations for standard errors of estimators of
    fixed and random effects in mixed linear models. *JASA* 79(388), 853-862.
Kenward, M. G. & Roger, J. H. (1997). Small sample inference for fixed effects from restricted
    maximum likelihood. *Biometrics* 53(3), 983-997.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

from typing import Any

from evalint.errors import InferenceError, SpecificationError
from evalint.inference.dispatch import register_inference
from evalint.inference.interface import TimeSeriesFit
from evalint.inference.kackar_harville import kackar_harville
from evalint.inference.specs import ARNoiseErrors

__all__ = ["ARNoiseFit", "fit_ar_noise", "ar_noise_loglik"]

PHI_MAX = 0.99
_EDGE = 1e-3  # a parameter this close to its bound is held there (not adjusted for)


@dataclass(frozen=True)
class ARNoiseFit:
    """Result of :func:`fit_ar_noise`.

    Attributes
    ----------
    beta, cov : ndarray
        GLS coefficients and their covariance (widened when ``adjust``).
    df : float
        Degrees of freedom of the t reference (Satterthwaite when adjusted, else n - k).
    phi, lam : float
        AR(1) coefficient of the persistent part; its share of the error variance.
    sigma2 : float
        Total error variance (REML scale, ``rss / (n - k)``).
    loglik : float
        Maximised (restricted) log-likelihood.
    resid : ndarray
        Whitened (standardised) residuals.
    adjusted : bool
        Whether the Kackar-Harville widening was applied.
    """

    beta: np.ndarray
    cov: np.ndarray
    df: float
    phi: float
    lam: float
    sigma2: float
    loglik: float
    resid: np.ndarray
    adjusted: bool


def _corr(phi: float, lam: float, times: np.ndarray) -> np.ndarray:
    lag = np.abs(times[:, None] - times[None, :]).astype(float)
    out: np.ndarray = lam * np.power(phi, lag) + (1 - lam) * np.eye(len(times))
    return out


def _profile(phi: float, lam: float, y: np.ndarray, X: np.ndarray, times: np.ndarray, reml: bool
             ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    n, k = X.shape
    L = linalg.cholesky(_corr(phi, lam, times), lower=True)
    Xw = linalg.solve_triangular(L, X, lower=True)
    yw = linalg.solve_triangular(L, y, lower=True)
    Q, R = np.linalg.qr(Xw)
    beta = linalg.solve_triangular(R, Q.T @ yw)
    rw = yw - Xw @ beta
    rss = float(rw @ rw)
    logdet = 2 * float(np.sum(np.log(np.diag(L))))
    if reml:
        m = n - k
        ll = -0.5 * (m * np.log(2 * np.pi * rss / m) + m + logdet + 2 * float(np.sum(np.log(np.abs(np.diag(R))))))
    else:
        ll = -0.5 * (n * np.log(2 * np.pi * rss / n) + n + logdet)
    return ll, beta, Xw, rw, rss


def ar_noise_loglik(phi: float, lam: float, y: np.ndarray, X: np.ndarray, times: np.ndarray,
                    reml: bool = True) -> float:
    """(Restricted) profile log-likelihood at ``(phi, lam)``."""
    return _profile(phi, lam, np.asarray(y, float), np.asarray(X, float), np.asarray(times), reml)[0]


def _optimise(y: np.ndarray, X: np.ndarray, times: np.ndarray, reml: bool) -> tuple[float, float]:
    def nll(v: np.ndarray) -> float:
        try:
            out = -_profile(float(v[0]), float(v[1]), y, X, times, reml)[0]
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return np.inf
        return out if np.isfinite(out) else np.inf

    best: tuple[float, np.ndarray] | None = None
    for start in ((0.5, 0.5), (0.8, 0.3), (0.2, 0.9)):
        res = optimize.minimize(nll, np.array(start), method="L-BFGS-B",
                                bounds=[(-PHI_MAX, PHI_MAX), (0.0, 1.0)], options={"ftol": 1e-12, "gtol": 1e-8})
        if np.isfinite(res.fun) and (best is None or res.fun < best[0]):
            best = (float(res.fun), res.x)
    if best is None:
        raise InferenceError("The AR(1)-plus-noise error model did not converge; use ARErrors() or NeweyWest().")
    return float(best[1][0]), float(best[1][1])


def fit_ar_noise(y: np.ndarray, X: np.ndarray, times: np.ndarray, *, reml: bool = True, adjust: bool = True,
                 focus: list[int] | None = None) -> ARNoiseFit:
    """GLS with AR(1)-plus-noise errors (see the module docstring).

    Parameters
    ----------
    y : ndarray (n,)
    X : ndarray (n, k)
    times : ndarray of int (n,)
        Time index of each row (gaps allowed: correlations follow calendar distance).
    reml : bool
        Restricted (default) or profile maximum likelihood.
    adjust : bool
        Kackar-Harville widening and Satterthwaite df (default).
    focus : list of int, optional
        Columns whose df is computed (the smallest is reported); default every column.

    Returns
    -------
    ARNoiseFit
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    times = np.asarray(times)
    n, k = X.shape
    if n - k < 5:
        raise InferenceError(f"AR(1)-plus-noise errors need more fitted periods than {n} for {k} coefficients.")
    phi, lam = _optimise(y, X, times, reml)
    ll, beta, Xw, rw, rss = _profile(phi, lam, y, X, times, reml)
    V0 = rss / (n - k) * np.linalg.inv(Xw.T @ Xw)
    df = float(n - k)
    cov = V0
    adjusted = False
    if adjust:
        out = _adjustment(phi, lam, y, X, times, reml, focus if focus is not None else list(range(k)))
        if out is not None:
            cov, df, adjusted = V0 + out[0], out[1], True
    sigma2 = rss / (n - k)
    return ARNoiseFit(beta=beta, cov=cov, df=df, phi=phi, lam=lam, sigma2=sigma2, loglik=ll,
                      resid=rw / np.sqrt(rss / n), adjusted=adjusted)


def _adjustment(phi: float, lam: float, y: np.ndarray, X: np.ndarray, times: np.ndarray, reml: bool,
                focus: list[int]) -> tuple[np.ndarray, float] | None:
    """``(J S J', Satterthwaite df)`` over the interior parameters; ``None`` if none is interior.

    :func:`evalint.inference.kackar_harville.kackar_harville` in ``(phi, lam)``, over the
    parameters not held at a bound (``phi`` only while ``lam`` is interior: without an
    autocorrelated part ``phi`` is not identified).
    """
    n, k = X.shape
    theta = np.array([phi, lam])
    free = [i for i, (v, lo, hi) in enumerate(((phi, -PHI_MAX, PHI_MAX), (lam, 0.0, 1.0)))
            if lo + _EDGE < v < hi - _EDGE]
    if lam < _EDGE:  # no autocorrelated part: phi is not identified
        free = [i for i in free if i != 0]
    if not free:
        return None

    def at(sub: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        th = theta.copy()
        th[free] = sub
        ll, beta, Xw, _, rss = _profile(float(th[0]), float(th[1]), y, X, times, reml)
        return ll, beta, rss / (n - k) * np.linalg.inv(Xw.T @ Xw)

    return kackar_harville(at, theta[free], focus, n - k)


@register_inference(ARNoiseErrors, TimeSeriesFit)
def _ar_noise_handler(spec: ARNoiseErrors, fit: TimeSeriesFit) -> Any:
    """``ARNoiseErrors`` on a least-squares series fit: its GLS refit with AR(1)-plus-noise errors.

    The fit must offer ``refit_ar_noise(spec)`` (the ITS least-squares fit does); others are refused.
    """
    refit = getattr(fit, "refit_ar_noise", None)
    if not callable(refit):
        raise SpecificationError("ARNoiseErrors applies to least-squares series fits (the controlled ITS's contrast "
                                 "series, the segmented regression); use ARErrors() for this model.")
    return refit(spec)
