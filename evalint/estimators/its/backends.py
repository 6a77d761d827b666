"""Fitting back-ends of the ITS family: OLS (+ Newey-West), GLS with AR(p) errors, GLMs.

Each takes the outcome ``y``, the design ``X`` (from :mod:`evalint.estimators.its.design`),
the rows to fit and the inference declaration, and returns a :class:`ModelFit` holding
coefficients, their covariance, the linear predictor on every row, residuals for the
diagnostics and a plain-language description of the inference.

GLS with AR(p) errors is fitted by exact maximum likelihood, profiling out the regression
coefficients and the innovation variance (as ``nlme::gls(..., correlation = corARMA(p),
method = "ML")``); the model-based covariance is ``s2 (X' Omega^-1 X)^-1`` with
``s2 = RSS_w / (n - k)``, as ``vcov()`` of an ``nlme::gls`` ML fit.
The AR coefficients are parametrised by partial autocorrelations ``tanh(theta)`` so that
every candidate is stationary (Jones 1980; Pinheiro & Bates 2000, sec. 5.3).

References
----------
Pinheiro JC, Bates DM (2000). Mixed-Effects Models in S and S-PLUS. Springer, ch. 5.
Jones RH (1980). Maximum likelihood fitting of ARMA models to time series with missing
observations. Technometrics 22:389-395.
McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed. Chapman & Hall (quasi-likelihood,
Pearson dispersion).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize

from evalint.errors import InferenceError, SpecificationError
from evalint.inference.dispatch import infer
from evalint.inference.interface import CovarianceEstimate
from evalint.inference.kackar_harville import kackar_harville
from evalint.inference.ar_noise import fit_ar_noise
from evalint.inference.specs import Analytic, ARErrors, ARNoiseErrors, NeweyWest
from evalint.results.effect import InferenceInfo

#: largest AR(1) coefficient a REML fit may take (the restricted likelihood can rise to a unit root)
MAX_PACF = 0.99

__all__ = ["ModelFit", "OLSSeriesFit", "GLMSeriesFit", "fit_ols", "fit_gls_ar", "fit_gls_ar_noise", "fit_glm_ar",
           "fit_glm", "ar_loglik", "check_rank", "irls_poisson"]


@dataclass
class ModelFit:
    """What a back-end returns (internal to the ITS family)."""

    params: pd.Series
    cov: pd.DataFrame
    df: float | None
    link: str                       # "identity" or "log"
    offset: np.ndarray              # on every row (zeros without offset)
    resid: np.ndarray               # residuals for diagnostics, fitted rows in time order
    inference: InferenceInfo
    model: str
    scale: float | None = None
    loglik: float | None = None
    aic: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def linear_predictor(self, X: pd.DataFrame) -> np.ndarray:
        return X[self.params.index].to_numpy(float) @ self.params.to_numpy() + self.offset


def check_rank(X: np.ndarray, columns: list[str]) -> None:
    """Raise SpecificationError naming the columns that make ``X`` rank deficient."""
    k = X.shape[1]
    if X.shape[0] <= k:
        raise SpecificationError(
            f"The model has {k} coefficients ({', '.join(columns)}) but only {X.shape[0]} fitted "
            "periods; use fewer terms (impact='step', fewer harmonics, no month dummies) or more data."
        )
    if np.linalg.matrix_rank(X) == k:
        return
    bad = []
    for j in range(k):
        others = np.delete(X, j, axis=1)
        if np.linalg.matrix_rank(others) == np.linalg.matrix_rank(X):
            bad.append(columns[j])
    raise SpecificationError(
        "The ITS design is rank deficient: the columns "
        f"{', '.join(bad) or ', '.join(columns)} are collinear on the fitted periods (e.g. too few "
        "post-intervention periods for a slope change, a month that never occurs, or two "
        "interventions too close together). Use impact='step', drop seasonal terms or add data."
    )


# ---------------------------------------------------------------------- OLS
def _model_fit(params: np.ndarray, names: tuple[str, ...], cov: CovarianceEstimate, **kw: Any) -> ModelFit:
    cols = list(names)
    info = InferenceInfo(cov.name, cov.description, df=cov.df, note=cov.note)
    return ModelFit(params=pd.Series(params, index=cols), cov=pd.DataFrame(cov.cov, index=cols, columns=cols),
                    df=cov.df, inference=info, **kw)


@dataclass
class OLSSeriesFit:
    """An OLS fit of one (or several stacked) series, as :class:`~evalint.inference.interface.TimeSeriesFit`.

    What the ITS family hands the inference layer: scores and bread (Newey-West, fixed-b), the
    classical covariance (``Analytic``) and the GLS refit with AR(p) errors (``ARErrors``);
    :func:`evalint.inference.dispatch.infer` returns a :class:`ModelFit`.
    """

    y: np.ndarray
    X: pd.DataFrame
    include: np.ndarray
    prewhite: bool = False
    time_index: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.names = tuple(self.X.columns)
        Xf = self.X.to_numpy(float)[self.include]
        yf = self.y[self.include]
        check_rank(Xf, list(self.names))
        self._Xf = Xf
        self.n_obs, self.n_coef = Xf.shape
        k = self.n_coef
        Q, R = np.linalg.qr(Xf)
        self.beta = linalg.solve_triangular(R, Q.T @ yf)
        self.resid = yf - Xf @ self.beta
        Rinv = linalg.solve_triangular(R, np.eye(k))
        self.bread = Rinv @ Rinv.T
        self.n_times = len(self.y) if self.time_index is None else len(np.unique(self.time_index))
        self.fitted_times = np.flatnonzero(self.include)
        self.hac_df = float(self.n_obs - k)

    def scores(self) -> np.ndarray:
        # excluded (transition) rows carry zero scores, so lag distances stay calendar
        # distances; the small-sample factor counts fitted rows only
        out = np.zeros((len(self.y), self.n_coef))
        out[self.include] = self._Xf * self.resid[:, None]
        return out

    def hac_design(self) -> np.ndarray:
        return self._Xf

    def fitted_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The fitted rows' outcome and design (what a resampling spec such as ``SieveBootstrap`` refits)."""
        return np.asarray(self.y, float)[self.include], self._Xf

    def model_covariance(self) -> CovarianceEstimate:
        n, k = self.n_obs, self.n_coef
        sigma2 = float(self.resid @ self.resid) / (n - k)
        return CovarianceEstimate(sigma2 * self.bread, float(n - k), "Analytic",
                                  "classical OLS standard errors (independent errors)")

    def with_covariance(self, cov: CovarianceEstimate) -> ModelFit:
        n, k = self.n_obs, self.n_coef
        rss = float(self.resid @ self.resid)
        ll = -0.5 * n * (np.log(2 * np.pi) + 1 + np.log(rss / n))
        return _model_fit(self.beta, self.names, cov, link="identity", offset=np.zeros(len(self.y)),
                          resid=self.resid, model="ols", scale=rss / (n - k), loglik=ll, aic=-2 * ll + 2 * (k + 1),
                          info=dict(cov.extra))

    def refit_ar_errors(self, spec: ARErrors) -> ModelFit:
        return fit_gls_ar(self.y, self.X, self.include, spec)

    def refit_ar_noise(self, spec: ARNoiseErrors) -> ModelFit:
        """The regression by GLS with AR(1)-plus-noise errors (:mod:`evalint.inference.ar_noise`)."""
        return fit_gls_ar_noise(self.y, self.X, self.include, spec)


def fit_ols(y: np.ndarray, X: pd.DataFrame, include: np.ndarray, inference: Any,
            prewhite: bool = False, time_index: np.ndarray | None = None) -> ModelFit:
    """OLS with classical or Newey-West standard errors (t reference with n - k df).

    ``time_index`` (one integer per row) sums Newey-West scores within time points, for
    several series stacked (controlled ITS). Any spec but ``NeweyWest`` gives the classical
    covariance; :func:`evalint.inference.dispatch.infer` on an :class:`OLSSeriesFit` runs
    every spec registered for the time-series interface.
    """
    spec = inference if isinstance(inference, NeweyWest) else Analytic()
    out: ModelFit = infer(spec, OLSSeriesFit(y, X, include, prewhite=prewhite, time_index=time_index))
    return out


# ------------------------------------------------------------- GLS AR(p)
def _pacf_to_ar(pacf: np.ndarray) -> np.ndarray:
    """Durbin-Levinson: partial autocorrelations -> AR coefficients (stationary)."""
    phi = np.zeros(0)
    for r in pacf:
        phi = np.concatenate([phi - r * phi[::-1], [r]])
    return phi


def _ar_to_pacf(phi: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_pacf_to_ar` (for stationary phi)."""
    phi = np.asarray(phi, dtype=float).copy()
    p = len(phi)
    out = np.zeros(p)
    for m in range(p, 0, -1):
        r = phi[m - 1]
        out[m - 1] = r
        if m > 1:
            phi = (phi[: m - 1] + r * phi[: m - 1][::-1]) / (1 - r * r)
    return out


def _ar_acov(phi: np.ndarray, nlags: int) -> np.ndarray:
    """Autocovariances gamma_0..gamma_{nlags} of an AR(p) with unit innovation variance.

    Solves the Yule-Walker equations gamma_k - sum_j phi_j gamma_|k-j| = 1{k=0}, k = 0..p,
    then extends by the AR recursion.
    """
    p = len(phi)
    M = np.eye(p + 1)
    for k in range(p + 1):
        for j in range(1, p + 1):
            M[k, abs(k - j)] -= phi[j - 1]
    rhs = np.zeros(p + 1)
    rhs[0] = 1.0
    g = list(np.linalg.solve(M, rhs))
    for k in range(p + 1, nlags + 1):
        g.append(float(sum(phi[j - 1] * g[k - j] for j in range(1, p + 1))))
    return np.asarray(g[: nlags + 1])


def _whiten(phi: np.ndarray, A: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, float]:
    """Apply Omega^{-1/2} to the rows of A; return (whitened A, log|Omega|).

    ``times`` are integer positions of the rows; consecutive positions allow the exact
    AR(p) filter, gaps fall back to the Cholesky factor of the full covariance.
    """
    p = len(phi)
    n = A.shape[0]
    if p == 0:
        return A, 0.0
    contiguous = bool(times[-1] - times[0] == n - 1)   # increasing positions: no gaps
    if contiguous and p == 1:
        f = float(phi[0])
        out = np.empty_like(A)
        out[0] = A[0] * np.sqrt(1.0 - f * f)
        out[1:] = A[1:] - f * A[:-1]
        return out, -float(np.log(1.0 - f * f))
    if contiguous:
        g = _ar_acov(phi, p - 1)
        Gp = linalg.toeplitz(g[:p])
        L = np.linalg.cholesky(Gp)
        out = np.empty_like(A)
        out[:p] = np.linalg.solve(L, A[:p])
        rest = A[p:].copy()
        for j in range(1, p + 1):
            rest -= phi[j - 1] * A[p - j:n - j]
        out[p:] = rest
        return out, 2.0 * float(np.sum(np.log(np.diag(L))))
    lags = np.abs(times[:, None] - times[None, :])
    g = _ar_acov(phi, int(lags.max()))
    L = np.linalg.cholesky(g[lags])
    return linalg.solve_triangular(L, A, lower=True), 2.0 * float(np.sum(np.log(np.diag(L))))


def _profile(phi: np.ndarray, y: np.ndarray, X: np.ndarray, times: np.ndarray, reml: bool = False):
    A = np.column_stack([y, X])
    W, logdet = _whiten(phi, A, times)
    yw, Xw = W[:, 0], W[:, 1:]
    Q, R = np.linalg.qr(Xw)
    beta = linalg.solve_triangular(R, Q.T @ yw)
    r = yw - Xw @ beta
    n = len(y)
    rss = float(r @ r)
    if reml:
        # restricted likelihood (Harville 1974; as nlme::gls method = "REML"): the residual
        # variance on n - k df and the penalty -1/2 log|X' Omega^-1 X|
        m = n - X.shape[1]
        ll = (-0.5 * m * (np.log(2 * np.pi) + 1.0 + np.log(rss / m)) - 0.5 * logdet
              - float(np.sum(np.log(np.abs(np.diag(R))))))
    else:
        ll = -0.5 * n * (np.log(2 * np.pi) + 1.0 + np.log(rss / n)) - 0.5 * logdet
    return ll, beta, Xw, r, rss


def ar_loglik(phi: np.ndarray, y: np.ndarray, X: np.ndarray, times: np.ndarray, reml: bool = False) -> float:
    """Profile (``reml=False``) or restricted log-likelihood of a regression with AR(p) errors at ``phi``."""
    return _profile(np.asarray(phi, dtype=float), y, X, times, reml)[0]


def pacf_ols(x: np.ndarray, nlags: int) -> np.ndarray:
    """Partial autocorrelations at lags 0..``nlags`` by successive OLS regressions.

    The lag-``k`` value is the last coefficient of the regression of ``x[t]`` on a constant and
    ``x[t-1], ..., x[t-k]`` over ``t = k, ..., n-1``: the same computation (and the same
    floating-point operations) as statsmodels' ``pacf(x, nlags, method="ols")``, which the tests
    check bit for bit, without importing statsmodels' time-series module (~1 s) for the
    starting values of the AR(p) fits.

    Raises
    ------
    ValueError
        ``nlags`` is more than half the series length.

    References
    ----------
    Box, G. E. P., Jenkins, G. M., Reinsel, G. C. and Ljung, G. M. (2015). *Time Series Analysis:
    Forecasting and Control*, 5th ed. Wiley, p. 66.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    if nlags > n // 2:
        raise ValueError(f"nlags must be smaller than nobs // 2 ({n // 2})")
    out = np.empty(nlags + 1)
    out[0] = 1.0
    for k in range(1, nlags + 1):
        design = np.column_stack([np.ones(n - k)] + [x[k - j:n - j] for j in range(1, k + 1)])
        out[k] = np.linalg.lstsq(design, x[k:], rcond=None)[0][-1]
    return out


def _fit_ar_order(y: np.ndarray, X: np.ndarray, times: np.ndarray, p: int, reml: bool = False):
    if p == 0:
        return np.zeros(0), _profile(np.zeros(0), y, X, times, reml)
    beta0, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ beta0
    try:
        start = np.clip(pacf_ols(e, p)[1:], -0.9, 0.9)
    except (ValueError, np.linalg.LinAlgError):
        start = np.zeros(p)
    theta0 = np.arctanh(start)

    def nll(theta: np.ndarray) -> float:
        # at |pacf| = 1 (theta beyond ~19 in floating point) the whitened design is singular
        try:
            v = -_profile(_pacf_to_ar(np.tanh(theta)), y, X, times, reml)[0]
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return np.inf
        return v if np.isfinite(v) else np.inf

    if p == 1:
        res = optimize.minimize_scalar(lambda t: nll(np.array([t])), bracket=(theta0[0] - 0.5, theta0[0] + 0.5),
                                       method="brent", options={"xtol": 1e-12})
        theta = np.array([res.x])
    else:
        res = optimize.minimize(nll, theta0, method="BFGS", options={"gtol": 1e-9})
        theta = res.x
    if reml and p == 1 and (not np.all(np.isfinite(theta)) or np.any(np.abs(np.tanh(theta)) > MAX_PACF)):
        # the restricted likelihood of a short trending series can rise towards a unit root;
        # the AR(1) coefficient is then held at the bound MAX_PACF (a near-random-walk error,
        # whose wide interval is the honest reading) and the fit says so (info["ar_at_bound"])
        lim = float(np.arctanh(MAX_PACF))
        res = optimize.minimize_scalar(lambda t: nll(np.array([t])), bounds=(-lim, lim), method="bounded",
                                       options={"xatol": 1e-10})
        theta = np.array([res.x])
    if not np.all(np.isfinite(theta)) or np.any(np.abs(np.tanh(theta)) > 1 - 1e-10):
        raise InferenceError(
            f"The AR({p}) error model did not converge to a stationary solution (partial "
            "autocorrelation at +/-1): the series looks non-stationary around the trend. Use "
            "errors='newey_west', add seasonality, or difference the series."
        )
    phi = _pacf_to_ar(np.tanh(theta))
    return phi, _profile(phi, y, X, times, reml)


def _gls_ar_core(yf: np.ndarray, Xf: np.ndarray, times: np.ndarray, spec: ARErrors):
    """AR order (fixed or by AIC) and the fit at it: (phi, profile, aic, p, table)."""
    n, k = Xf.shape
    reml = getattr(spec, "method", "ml") == "reml"
    orders = [spec.order] if spec.order is not None else list(range(0, spec.max_order + 1))
    table = []
    best = None
    for p in orders:
        if n - k - p < 3:
            if spec.order is not None:
                raise InferenceError(f"AR({p}) errors need more fitted periods than {n} for {k} coefficients.")
            continue
        phi, prof = _fit_ar_order(yf, Xf, times, p, reml)
        ll = prof[0]
        aic = -2 * ll + 2 * (k + p + 1)
        table.append({"order": p, "loglik": ll, "aic": aic, "phi": ", ".join(f"{v:.4f}" for v in phi)})
        if best is None or aic < best[2]:
            best = (phi, prof, aic, p)
    if best is None:
        raise InferenceError(f"Too few fitted periods ({n}) for AR error models with {k} coefficients.")
    return best[0], best[1], best[2], best[3], table


def _estimated_ar_adjustment(phi: np.ndarray, y: np.ndarray, X: np.ndarray, times: np.ndarray, reml: bool,
                             cols: list[str]) -> tuple[np.ndarray, float] | None:
    """Allowance for estimating the AR coefficients (Kackar & Harville 1984; Satterthwaite df).

    :func:`evalint.inference.kackar_harville.kackar_harville` with ``theta = atanh(pacf)`` and the
    (restricted) profile likelihood of the AR(p) GLS fit: returns ``(J S J', df)``, the extra
    covariance of ``b`` because it is computed at an estimated ``theta`` and the smallest
    Satterthwaite df over the intervention terms (every term when there is none). ``None`` for
    independent errors or when the curvature is not negative definite.
    """
    if len(phi) == 0:
        return None
    n, k = X.shape

    def at(th: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        ll, beta, Xw, _, rss = _profile(_pacf_to_ar(np.tanh(th)), y, X, times, reml)
        return ll, beta, rss / (n - k) * np.linalg.inv(Xw.T @ Xw)

    idx = ([j for j, c in enumerate(cols) if c.split(":")[-1].startswith(("level_", "slope_", "ramp_"))]
           or list(range(k)))
    return kackar_harville(at, np.arctanh(_ar_to_pacf(phi)), idx, n - k)


def fit_gls_ar(y: np.ndarray, X: pd.DataFrame, include: np.ndarray, spec: ARErrors) -> ModelFit:
    """GLS with AR(p) errors by exact ML or REML; p fixed or chosen by AIC over 0..max_order."""
    cols = list(X.columns)
    Xf = X.to_numpy(float)[include]
    yf = y[include]
    check_rank(Xf, cols)
    n, k = Xf.shape
    times = np.flatnonzero(include)
    phi, (ll, beta, Xw, rw, rss), aic, p, table = _gls_ar_core(yf, Xf, times, spec)
    reml = getattr(spec, "method", "ml") == "reml"
    sigma2 = rss / n
    XtX_inv = np.linalg.inv(Xw.T @ Xw)
    # nlme::gls reports vcov with the residual variance on n - k degrees of freedom even
    # for method = "ML" (the ML estimates of beta and phi are unchanged)
    V = rss / (n - k) * XtX_inv
    df = float(n - k)
    adj = _estimated_ar_adjustment(phi, yf, Xf, times, reml, cols) if getattr(spec, "adjust", False) else None
    if adj is not None:
        V, df = V + adj[0], adj[1]
    how = f"AR({p}) errors" + (f" (order chosen by AIC over 0..{spec.max_order})" if spec.order is None else "")
    info = InferenceInfo(
        "ARErrors", f"GLS with {how} by {'restricted maximum likelihood (REML)' if reml else 'maximum likelihood'}; "
        + ("model-based standard errors" if adj is None else
           "model-based standard errors widened for the estimated AR coefficients (Kackar-Harville)")
        + f", t({df:.1f}) reference",
        df=df, note="phi = " + (", ".join(f"{v:.3f}" for v in phi) if p else "none (independent errors)"),
    )
    extra: dict[str, Any] = {"ar_order": p, "ar_coefficients": phi.tolist(), "sigma_ml": float(np.sqrt(sigma2)),
                             "ar_method": "reml" if reml else "ml",
                             "ar_at_bound": bool(p and np.max(np.abs(_ar_to_pacf(phi))) >= MAX_PACF - 1e-6)}
    if spec.order is None:
        extra["ar_order_table"] = pd.DataFrame(table)
    return ModelFit(params=pd.Series(beta, index=cols), cov=pd.DataFrame(V, index=cols, columns=cols),
                    df=df, link="identity", offset=np.zeros(len(y)), resid=rw / np.sqrt(sigma2),
                    inference=info, model="gls_ar", scale=sigma2, loglik=ll, aic=aic, info=extra)


def _poisson_start(y: np.ndarray, X: pd.DataFrame, include: np.ndarray, offset: np.ndarray | None
                   ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                              np.ndarray, np.ndarray]:
    """The Poisson log-link IRLS fit every count back-end starts from, on the included rows.

    Returns the column names, the included design and outcome, the offset (all rows and included
    rows), and the Poisson coefficients, means and working weights. Raises InferenceError when
    the fit diverges (McCullagh & Nelder 1989, section 2.5).
    """
    cols = list(X.columns)
    Xf = X.to_numpy(float)[include]
    yf = y[include]
    check_rank(Xf, cols)
    off_all = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    off = off_all[include]
    beta, mu, w2, conv = irls_poisson(yf, Xf, off)
    if not conv or not np.all(np.isfinite(beta)):
        raise InferenceError(
            "The Poisson log-link fit did not converge (coefficients diverge). This happens when a "
            "whole segment of the series is zero or the counts are separated by a term; check the "
            "series, or use a shorter window."
        )
    return cols, Xf, yf, off_all, off, beta, mu, w2


def fit_glm_ar(y: np.ndarray, X: pd.DataFrame, include: np.ndarray, offset: np.ndarray | None,
               spec: ARErrors, *, maxit: int = 50, tol: float = 1e-8) -> ModelFit:
    """Log-link count regression with quasi-Poisson variance and AR(p) errors, estimated jointly.

    The marginal model ``log E[y_t] = o_t + x_t'b``, ``Var(y_t) = s2 mu_t`` with the
    standardised errors following an AR(p) process (the parameter-driven count model of
    Zeger 1988, in its working-variate form). Iteratively reweighted GLS: at each step the
    Poisson working variate ``z = eta - o + (y - mu)/mu`` with weights ``mu`` is regressed on
    ``X`` by GLS with AR(p) errors, the AR coefficients (re)estimated by REML (or ML) on the
    weighted working residuals; iterate to convergence of ``b``. Covariance
    ``s2 (X~' Omega^-1 X~)^-1`` (``X~ = W^1/2 X``, ``s2`` the whitened residual variance on
    n - k df, which plays the quasi-Poisson dispersion's role); t(n - k) reference.

    References
    ----------
    Zeger SL (1988). A regression model for time series of counts. Biometrika 75:621-629.
    McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.
    """
    cols, Xf, yf, off_all, off, beta, mu, w2 = _poisson_start(y, X, include, offset)
    n, k = Xf.shape
    times = np.flatnonzero(include)
    pearson = float(np.sum(w2 * ((yf - mu) / mu) ** 2))
    res = None
    converged = False
    phi_old: np.ndarray | None = None

    def working(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e = Xf @ b + off
        m = np.exp(e)
        sw = np.sqrt(m)
        return ((e - off) + (yf - m) / m) * sw, Xf * sw[:, None]

    for _ in range(maxit):
        # AR coefficients (and order) on the working variate at the current b ...
        res = _gls_ar_core(*working(beta), times, spec)
        phi = res[0]
        beta = res[1][1]
        # ... then reweighted GLS for b with those AR coefficients held fixed
        for _inner in range(maxit):
            new = _profile(phi, *working(beta), times)[1]
            if not np.all(np.isfinite(new)):
                break
            step = float(np.max(np.abs(new - beta) / (np.abs(beta) + 1e-3)))
            beta = new
            if step < tol:
                break
        if not np.all(np.isfinite(beta)):
            break
        if phi_old is not None and len(phi_old) == len(phi) and (len(phi) == 0 or np.max(np.abs(phi - phi_old)) < 1e-6):
            converged = True
            break
        phi_old = phi
    if converged:
        zt, Xt = working(beta)
        prof = _profile(phi, zt, Xt, times, getattr(spec, "method", "ml") == "reml")
        res = (phi, prof, res[2], res[3], res[4])
    if res is None or not converged:
        raise InferenceError(
            "The count model with AR errors did not converge. Use errors='model' (quasi-Poisson "
            "without AR errors; its intervals are too narrow when the series is autocorrelated) or "
            "errors='newey_west', or check the series for outliers or all-zero segments."
        )
    phi, (_, _, Xw, rw, rss), aic, p, table = res
    reml = getattr(spec, "method", "ml") == "reml"
    eta = Xf @ beta + off
    mu = np.exp(eta)
    s2 = rss / (n - k)
    V = s2 * np.linalg.inv(Xw.T @ Xw)
    df = float(n - k)
    adj = None
    if getattr(spec, "adjust", False):
        zt, Xt = working(beta)
        adj = _estimated_ar_adjustment(phi, zt, Xt, times, reml, cols)
    if adj is not None:
        V, df = V + adj[0], adj[1]
    how = f"AR({p}) errors" + (f" (order chosen by AIC over 0..{spec.max_order})" if spec.order is None else "")
    info = InferenceInfo(
        "ARErrors", f"quasi-Poisson GLM with {how} estimated jointly (iteratively reweighted GLS, AR by "
        f"{'REML' if reml else 'ML'}); dispersion {s2:.3g}"
        + ("" if adj is None else "; standard errors widened for the estimated AR coefficients (Kackar-Harville)")
        + f"; t({df:.1f}) reference",
        df=df, note="phi = " + (", ".join(f"{v:.3f}" for v in phi) if p else "none (independent errors)"),
    )
    from scipy.special import gammaln

    ll = float(np.sum(yf * np.log(mu) - mu - gammaln(yf + 1)))
    extra: dict[str, Any] = {"ar_order": p, "ar_coefficients": phi.tolist(), "ar_method": "reml" if reml else "ml",
                             "ar_at_bound": bool(p and np.max(np.abs(_ar_to_pacf(phi))) >= MAX_PACF - 1e-6),
                             "pearson_dispersion": pearson / (n - k), "pearson_chi2": pearson, "df_resid": n - k,
                             "ar_dispersion": s2}
    if spec.order is None:
        extra["ar_order_table"] = pd.DataFrame(table)
    return ModelFit(params=pd.Series(beta, index=cols), cov=pd.DataFrame(V, index=cols, columns=cols),
                    df=df, link="log", offset=off_all, resid=rw / np.sqrt(s2), inference=info,
                    model="quasi_poisson_ar", scale=s2, loglik=ll, aic=-2 * ll + 2 * k, info=extra)


# ------------------------------------------------------------------- GLMs
def _poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(2.0 * np.sum(ylogy - (y - mu)))


def irls_poisson(y: np.ndarray, X: np.ndarray, offset: np.ndarray, *, epsilon: float = 1e-8,
                 maxit: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Poisson log-link IRLS exactly as R's ``glm.fit`` runs it.

    Starts from ``mu = y + 0.1``, stops when the relative deviance change is below
    ``epsilon`` and returns ``(beta, mu, w2, converged)`` where ``w2`` are the working
    weights of the last iteration (evaluated at the previous ``mu``): R's covariance
    ``(X' W X)^-1`` and its Pearson dispersion ``sum(w2 ((y - mu)/mu)^2) / df`` use them, so
    using them too reproduces ``vcov()`` and ``summary()$dispersion`` to machine precision.
    """
    eta = np.log(y + 0.1)
    mu = np.exp(eta)
    devold = _poisson_deviance(y, mu)
    beta = np.zeros(X.shape[1])
    w2 = mu
    conv = False
    for _ in range(maxit):
        z = (eta - offset) + (y - mu) / mu
        w2 = mu.copy()
        w = np.sqrt(w2)
        beta, *_ = np.linalg.lstsq(X * w[:, None], z * w, rcond=None)
        eta = X @ beta + offset
        mu = np.exp(eta)
        dev = _poisson_deviance(y, mu)
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            conv = True
            break
        devold = dev
    return beta, mu, w2, conv


@dataclass
class GLMSeriesFit:
    """A Poisson, quasi-Poisson (Pearson dispersion) or negative binomial (NB2) log-link GLM of
    one (or several stacked) series, as :class:`~evalint.inference.interface.TimeSeriesFit`.

    Scores ``x_t w_t (y_t - mu_t) / mu_t`` and bread ``(X'WX)^{-1}`` for Newey-West; the
    model-based covariance for ``Analytic``; the quasi-Poisson GLM with AR(p) errors for
    ``ARErrors``.
    """

    y: np.ndarray
    X: pd.DataFrame
    include: np.ndarray
    offset: np.ndarray | None
    model: str
    prewhite: bool = False
    time_index: np.ndarray | None = None

    def __post_init__(self) -> None:
        cols, Xf, yf, off_all, off, beta, mu, w2 = _poisson_start(self.y, self.X, self.include, self.offset)
        self.names = tuple(cols)
        n, k = Xf.shape
        self.n_obs, self.n_coef = n, k
        self._Xf, self._off_all = Xf, off_all
        bread_model = np.linalg.inv((Xf * w2[:, None]).T @ Xf)
        pearson = float(np.sum(w2 * ((yf - mu) / mu) ** 2))
        dispersion = pearson / (n - k)
        alpha = None
        extra: dict[str, Any] = {"pearson_dispersion": dispersion, "pearson_chi2": pearson, "df_resid": n - k}
        model = self.model
        if model == "negative_binomial":
            from statsmodels.discrete.discrete_model import NegativeBinomial

            start = np.r_[beta, max(dispersion - 1, 0.01) / max(float(np.mean(mu)), 1e-8)]
            nbm = NegativeBinomial(yf, Xf, offset=off, loglike_method="nb2")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nb = nbm.fit(start_params=start, method="newton", maxiter=200, disp=0)
                if not nb.mle_retvals.get("converged", False):  # derivative-free search, then polish
                    nb = nbm.fit(start_params=start, method="nm", maxiter=20000, disp=0)
                    nb = nbm.fit(start_params=np.asarray(nb.params), method="newton", maxiter=200, disp=0)
            if not nb.mle_retvals.get("converged", False) or not np.all(np.isfinite(nb.params)):
                raise InferenceError(
                    "The negative binomial fit did not converge. Use model='quasi_poisson' (robust to the "
                    "form of overdispersion) or check the series for outliers."
                )
            beta = np.asarray(nb.params[:k])
            alpha = float(nb.params[k])
            mu = np.exp(Xf @ beta + off)
            model_cov = np.asarray(nb.cov_params())[:k, :k]
            ll = float(nb.llf)
            extra["nb_alpha"] = alpha
            w = mu / (1 + alpha * mu)
            score_w = (yf - mu) / (1 + alpha * mu)
            desc = "negative binomial (NB2) maximum-likelihood standard errors"
        else:
            from scipy.special import gammaln

            ll = float(np.sum(yf * np.log(mu) - mu - gammaln(yf + 1)))
            model_cov = bread_model * (dispersion if model == "quasi_poisson" else 1.0)
            w = mu
            score_w = yf - mu
            desc = ("Poisson model-based standard errors (variance = mean)" if model == "poisson" else
                    f"quasi-Poisson standard errors (Pearson dispersion {dispersion:.3g} x Poisson variance)")
        self.beta, self._w, self._score_w, self._extra = beta, w, score_w, extra
        self._model_cov, self._desc, self._ll, self._alpha = model_cov, desc, ll, alpha
        self._dispersion = dispersion
        self._pearson_resid = (yf - mu) / np.sqrt(mu if alpha is None else mu + alpha * mu ** 2)
        self.n_times = len(self.y) if self.time_index is None else len(np.unique(self.time_index))
        self.fitted_times = np.flatnonzero(self.include)
        self.hac_df = None

    @property
    def bread(self) -> np.ndarray:
        return np.linalg.inv((self._Xf * self._w[:, None]).T @ self._Xf)

    def scores(self) -> np.ndarray:
        out = np.zeros((len(self.y), self.n_coef))
        out[self.include] = self._Xf * self._score_w[:, None]
        return out

    def hac_design(self) -> np.ndarray:
        return self._Xf * np.sqrt(self._w)[:, None]

    def model_covariance(self) -> CovarianceEstimate:
        df = float(self.n_obs - self.n_coef) if self.model == "quasi_poisson" else None
        return CovarianceEstimate(self._model_cov, df, "Analytic", self._desc)

    def with_covariance(self, cov: CovarianceEstimate) -> ModelFit:
        k = self.n_coef
        scale = (self._dispersion if self.model == "quasi_poisson" else
                 (1.0 if self.model == "poisson" else self._alpha))
        return _model_fit(self.beta, self.names, cov, link="log", offset=self._off_all,
                          resid=self._pearson_resid, model=self.model, scale=scale, loglik=self._ll,
                          aic=-2 * self._ll + 2 * (k + (self._alpha is not None)),
                          info={**self._extra, **cov.extra})

    def refit_ar_errors(self, spec: ARErrors) -> ModelFit:
        return fit_glm_ar(self.y, self.X, self.include, self.offset, spec)


def fit_glm(y: np.ndarray, X: pd.DataFrame, include: np.ndarray, offset: np.ndarray | None,
            model: str, inference: Any, prewhite: bool = False, time_index: np.ndarray | None = None) -> ModelFit:
    """Poisson, quasi-Poisson (Pearson dispersion) or negative binomial (NB2) log-link GLM.

    Newey-West standard errors for ``inference=NeweyWest(...)``, model-based otherwise
    (:class:`GLMSeriesFit` runs every spec registered for the time-series interface).
    """
    spec = inference if isinstance(inference, NeweyWest) else Analytic()
    out: ModelFit = infer(spec, GLMSeriesFit(y, X, include, offset, model, prewhite=prewhite,
                                             time_index=time_index))
    return out


def fit_gls_ar_noise(y: np.ndarray, X: pd.DataFrame, include: np.ndarray, spec: ARNoiseErrors) -> ModelFit:
    """A segmented regression by GLS with AR(1)-plus-noise errors (:mod:`evalint.inference.ar_noise`):
    the controlled ITS's contrast-series default."""
    cols = list(X.columns)
    Xf = X.to_numpy(float)[include]
    check_rank(Xf, cols)
    n, k = Xf.shape
    focus = [j for j, c in enumerate(cols) if c.startswith(("level_", "slope_", "ramp_"))] or None
    f = fit_ar_noise(np.asarray(y, float)[include], Xf, np.flatnonzero(include), reml=spec.method == "reml",
                     adjust=spec.adjust, focus=focus)
    info = InferenceInfo("ARNoiseErrors", f"{spec.description}; t({f.df:.1f}) reference", df=f.df,
                         note=f"phi = {f.phi:.3f}, AR share of the error variance = {f.lam:.2f}")
    return ModelFit(params=pd.Series(f.beta, index=cols), cov=pd.DataFrame(f.cov, index=cols, columns=cols), df=f.df,
                    link="identity", offset=np.zeros(len(y)), resid=f.resid, inference=info, model="gls_ar_noise",
                    scale=f.sigma2, loglik=f.loglik, aic=-2 * f.loglik + 2 * (k + 3),
                    info={"phi": f.phi, "ar_share": f.lam, "adjusted": f.adjusted})
