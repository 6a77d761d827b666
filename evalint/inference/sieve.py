"""AR-sieve bootstrap of a regression on one time series.

The regression ``y = X b + u`` is fitted by least squares; the residuals are approximated by an
autoregression AR(p) (the "sieve"; p chosen by AIC over ``0..max_order``, Yule-Walker
coefficients, so the fitted process is stationary); the centred innovations are resampled with
replacement and passed through the AR recursion (with a burn-in) to build new error series
``u*``; ``y* = X b + u*`` is refitted each time. The innovations are rescaled by
``sqrt(m / (m - k - p))`` (``m`` innovations, ``k`` coefficients), so that their variance is
not biased down by the fit. The spread of ``b*`` estimates the sampling
covariance of ``b`` under serial dependence of unknown form (Kreiss 1992; Bühlmann 1997).

The arithmetic lives here and nowhere else: :func:`sieve_bootstrap` takes the fitted rows'
outcome and design and returns the bootstrap covariance of the coefficients with the chosen
order and AR coefficients. Randomness comes from one ``seed`` (``numpy.random.default_rng``),
so a fit is reproducible bit for bit.

References
----------
Kreiss, J.-P. (1992). Bootstrap procedures for AR(infinity) processes. In *Bootstrapping and
    Related Techniques*, Lecture Notes in Economics and Mathematical Systems 376, 107-113.
Bühlmann, P. (1997). Sieve bootstrap for time series. *Bernoulli* 3(2), 123-148.
Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge
    University Press (section 6.2.3, modified residuals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from typing import Any

from evalint.errors import InferenceError, SpecificationError
from evalint.inference.dispatch import register_inference
from evalint.inference.interface import CovarianceEstimate, TimeSeriesFit
from evalint.inference.specs import SieveBootstrap

__all__ = ["SieveFit", "default_max_order", "sieve_bootstrap", "yule_walker"]

BURN_IN = 100


@dataclass(frozen=True)
class SieveFit:
    """Result of :func:`sieve_bootstrap`.

    Attributes
    ----------
    beta : ndarray
        Least-squares coefficients on the data.
    cov : ndarray
        Covariance of the bootstrap coefficients (``reps`` draws, ``ddof=1``).
    draws : ndarray
        The bootstrap coefficients, ``reps x k``.
    order : int
        AR order of the sieve (AIC).
    phi : ndarray
        Its Yule-Walker coefficients.
    """

    beta: np.ndarray
    cov: np.ndarray
    draws: np.ndarray
    order: int
    phi: np.ndarray


def default_max_order(n: int) -> int:
    """Largest AR order tried: ``floor(n^(1/3))`` (3 at 48 months, 4 at 72 and 120), at least 1."""
    return max(1, int(np.floor(n ** (1 / 3) + 1e-9)))


def yule_walker(e: np.ndarray, p: int) -> tuple[np.ndarray, float]:
    """Yule-Walker AR(p) coefficients and innovation variance of a (mean-zero) series ``e``."""
    n = len(e)
    acov = np.array([float(e[: n - h] @ e[h:]) / n for h in range(p + 1)])
    if p == 0:
        return np.zeros(0), acov[0]
    phi = linalg.solve_toeplitz(acov[:p], acov[1: p + 1])
    return phi, float(acov[0] - phi @ acov[1: p + 1])


def _choose_order(e: np.ndarray, max_order: int) -> tuple[int, np.ndarray]:
    n = len(e)
    best: tuple[float, int, np.ndarray] | None = None
    for p in range(0, max_order + 1):
        phi, s2 = yule_walker(e, p)
        if s2 <= 0:
            break
        aic = n * np.log(s2) + 2 * p
        if best is None or aic < best[0]:
            best = (aic, p, phi)
    assert best is not None
    return best[1], best[2]


def sieve_bootstrap(y: np.ndarray, X: np.ndarray, *, reps: int, seed: int | None,
                    max_order: int | None = None) -> SieveFit:
    """AR-sieve bootstrap covariance of least-squares coefficients (see the module docstring).

    Parameters
    ----------
    y : ndarray (n,)
        Outcome of the fitted rows, in time order.
    X : ndarray (n, k)
        Design of the fitted rows (full column rank).
    reps : int
        Bootstrap replications.
    seed : int or None
        Seed of ``numpy.random.default_rng``.
    max_order : int, optional
        Largest AR order tried by AIC (default :func:`default_max_order`).

    Returns
    -------
    SieveFit

    Raises
    ------
    InferenceError
        Too few rows for the design and the sieve.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    n, k = X.shape
    pmax = default_max_order(n) if max_order is None else int(max_order)
    if n - k < pmax + 3:
        raise InferenceError(f"The sieve bootstrap needs more fitted periods than {n} for {k} coefficients and "
                             f"AR orders up to {pmax}: use ARErrors() or a shorter design.")
    Q, R = np.linalg.qr(X)
    beta = linalg.solve_triangular(R, Q.T @ y)
    fitted = X @ beta
    e = y - fitted
    order, phi = _choose_order(e - e.mean(), pmax)
    if order:
        innov = e[order:] - np.column_stack([e[order - j: n - j] for j in range(1, order + 1)]) @ phi
    else:
        innov = e.copy()
    innov = innov - innov.mean()
    # least-squares residuals are too small by (n - k) / n in variance, and the AR fit removes p
    # more degrees of freedom: the innovations are rescaled so that their variance is unbiased
    # (the modified residuals of Davison & Hinkley 1997, section 6.2.3)
    m = len(innov)
    innov = innov * np.sqrt(m / max(m - k - order, 1))
    rng = np.random.default_rng(seed)
    draws = rng.choice(innov, size=(reps, n + BURN_IN), replace=True)
    u = np.zeros((reps, n + BURN_IN))
    for t in range(n + BURN_IN):
        acc = draws[:, t].copy()
        for j in range(1, min(order, t) + 1):
            acc += phi[j - 1] * u[:, t - j]
        u[:, t] = acc
    ystar = fitted[None, :] + u[:, BURN_IN:]
    bstar = linalg.solve_triangular(R, Q.T @ ystar.T).T
    cov = np.cov(bstar, rowvar=False, ddof=1).reshape(k, k)
    return SieveFit(beta=beta, cov=cov, draws=bstar, order=order, phi=phi)


@register_inference(SieveBootstrap, TimeSeriesFit)
def _sieve_handler(spec: SieveBootstrap, fit: TimeSeriesFit) -> Any:
    """``SieveBootstrap`` on a least-squares series fit: bootstrap covariance, t(n - k) reference.

    The fit must offer ``fitted_data()`` (the fitted rows' outcome and design); log-link GLM
    fits do not, and are refused.
    """
    fitted_data = getattr(fit, "fitted_data", None)
    if not callable(fitted_data):
        raise SpecificationError("SieveBootstrap applies to least-squares series fits (the segmented regression); "
                                 "use ARErrors() or NeweyWest() for this model.")
    y, X = fitted_data()
    sv = sieve_bootstrap(y, X, reps=spec.reps, seed=spec.seed, max_order=spec.max_order)
    n, k = fit.n_obs, fit.n_coef
    phi = ", ".join(f"{v:.3f}" for v in sv.phi) if sv.order else "none"
    return fit.with_covariance(CovarianceEstimate(
        sv.cov, float(n - k), "SieveBootstrap", f"{spec.description}; bootstrap standard errors, t({n - k}) reference",
        note=f"sieve AR({sv.order}), phi = {phi}", extra={"sieve_order": sv.order, "sieve_phi": sv.phi.tolist()}))
