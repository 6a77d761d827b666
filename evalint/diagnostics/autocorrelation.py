"""Residual autocorrelation diagnostics for time-series models: Durbin-Watson, Ljung-Box, ACF/PACF.

Each function returns a :class:`~evalint.diagnostics.CheckResult`; failed checks carry a
:class:`~evalint.diagnostics.Flag` (``kind="diagnostic"``) whose severity depends on whether
the standard errors already allow for autocorrelation (Newey-West, AR errors) or assume it
away (classical OLS, model-based GLM).

References
----------
Durbin J, Watson GS (1950, 1951). Testing for serial correlation in least squares regression
I, II. Biometrika 37:409-428; 38:159-178.
Ljung GM, Box GEP (1978). On a measure of lack of fit in time series models. Biometrika
65:297-303.
Box GEP, Jenkins GM, Reinsel GC (2008). Time Series Analysis, 4th ed. Wiley (ACF/PACF).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalint._distributions import chi2_sf
from evalint.diagnostics.base import CheckResult, Flag

__all__ = ["durbin_watson", "durbin_watson_check", "ljung_box_check", "acf_pacf_check",
           "ljung_box_lags", "residual_autocorrelation"]


def _acf(e: np.ndarray, nlags: int) -> np.ndarray:
    """Sample autocorrelations r_1..r_nlags (demeaned, denominator sum of squares)."""
    d = e - e.mean()
    den = float(d @ d)
    if den == 0:
        return np.zeros(nlags)
    return np.array([float(d[:-k] @ d[k:]) / den for k in range(1, nlags + 1)])


def _pacf_durbin_levinson(r: np.ndarray) -> np.ndarray:
    """Partial autocorrelations from autocorrelations r_1..r_p (Durbin-Levinson; Yule-Walker, MLE)."""
    p = len(r)
    out = np.zeros(p)
    phi = np.zeros(0)
    v = 1.0
    for k in range(p):
        a = (r[k] - (phi @ r[:k][::-1] if k else 0.0)) / v
        phi = np.r_[phi - a * phi[::-1], a]
        v *= 1 - a * a
        out[k] = a
    return out


def durbin_watson(resid: Sequence[float]) -> float:
    """Durbin-Watson statistic sum (e_t - e_{t-1})^2 / sum e_t^2 (about 2 (1 - rho_1))."""
    e = np.asarray(resid, dtype=float)
    den = float(e @ e)
    return float(np.sum(np.diff(e) ** 2) / den) if den > 0 else float("nan")


def durbin_watson_check(resid: Sequence[float], *, what: str = "residuals") -> CheckResult:
    """Durbin-Watson statistic as a check: passed when it lies in [1.5, 2.5] (|rho_1| < ~0.25).

    No flag is raised here (the Ljung-Box check flags autocorrelation); the statistic is
    reported for comparison with published ITS analyses, which often quote it.
    """
    dw = durbin_watson(resid)
    ok = bool(1.5 <= dw <= 2.5) if np.isfinite(dw) else None
    return CheckResult(
        name="durbin_watson", passed=ok, statistic=dw,
        text=f"Durbin-Watson statistic of the {what} = {dw:.3f} (2 = no lag-1 autocorrelation; "
        f"implied lag-1 autocorrelation about {1 - dw / 2:.2f})",
    )


def ljung_box_lags(n: int, period: int | None = None) -> int:
    """Lags for the Ljung-Box test: the seasonal period (12 for monthly data), at most n/5, at least 1."""
    base = period if period and period > 1 else 10
    return int(max(1, min(base, n // 5)))


def ljung_box_check(resid: Sequence[float], *, lags: int, model_df: int = 0, what: str = "residuals",
                    severity: str = "high", advice: str = "", alpha: float = 0.05) -> CheckResult:
    """Ljung-Box portmanteau test of no autocorrelation up to ``lags``.

    Parameters
    ----------
    resid : sequence of float
        Residuals in time order.
    lags : int
        Number of autocorrelations tested.
    model_df : int
        Degrees of freedom used by fitted ARMA terms (subtracted from the chi-square df).
    what : str
        Which residuals (for the message).
    severity : str
        Severity of the flag raised when the test rejects.
    advice : str
        What to do, appended to the flag message.
    alpha : float
        Test level.
    """

    e = np.asarray(resid, dtype=float)
    n = len(e)
    if n < 6 or lags < 1 or lags <= model_df or lags >= n:
        return CheckResult("ljung_box", None, f"Ljung-Box test not run: too few {what} ({n}).")
    r = _acf(e, lags)
    stat = float(n * (n + 2) * np.sum(r ** 2 / (n - np.arange(1, lags + 1))))
    p = float(chi2_sf(stat, lags - model_df))
    passed = bool(p >= alpha)
    text = (f"Ljung-Box Q({lags}) = {stat:.2f} on the {what}, p = {p:.3g}: "
            + ("no evidence of remaining autocorrelation" if passed else "autocorrelation remains after fitting"))
    flags: tuple[Flag, ...] = ()
    if not passed:
        flags = (Flag(kind="diagnostic", severity=severity,  # type: ignore[arg-type]
                      message=f"Strong residual autocorrelation left after fitting (Ljung-Box Q({lags}) "
                      f"= {stat:.1f}, p = {p:.2g})." + (f" {advice}" if advice else ""),
                      source="ljung_box"),)
    return CheckResult("ljung_box", passed, text, statistic=stat, p_value=p, flags=flags)


def acf_pacf_check(resid: Sequence[float], *, nlags: int, what: str = "residuals") -> CheckResult:
    """ACF and PACF of the residuals with +/- 1.96/sqrt(n) bounds (table); passed when no
    autocorrelation at lags 1-3 lies outside the bounds."""
    e = np.asarray(resid, dtype=float)
    n = len(e)
    nlags = int(max(1, min(nlags, n // 2 - 1)))
    if n < 8:
        return CheckResult("acf_pacf", None, f"ACF/PACF not computed: too few {what} ({n}).")
    a = _acf(e, nlags)
    p = _pacf_durbin_levinson(a)
    bound = 1.96 / np.sqrt(n)
    table = pd.DataFrame({"lag": np.arange(1, nlags + 1), "acf": a, "pacf": p, "bound": bound})
    outside = [int(k) for k in table["lag"][np.abs(table["acf"]) > bound]]
    passed = not any(k <= 3 for k in outside)
    text = (f"ACF/PACF of the {what} to lag {nlags} (bound +/-{bound:.3f}); lag-1 ACF {a[0]:.3f}; "
            + (f"ACF outside the bound at lag(s) {outside}" if outside else "no ACF outside the bound"))
    return CheckResult("acf_pacf", passed, text, table=table, statistic=float(a[0]))


def residual_autocorrelation(resid: Sequence[float], *, period: int | None, robust: str,
                             model_df: int = 0, what: str = "residuals") -> tuple[CheckResult, ...]:
    """Durbin-Watson, Ljung-Box and ACF/PACF checks for one fitted series.

    ``robust`` says how the standard errors treat autocorrelation: ``"none"`` (classical
    OLS or model-based GLM: remaining autocorrelation makes them too small, high severity),
    ``"hac"`` (Newey-West: medium) or ``"ar"`` (AR errors: the AR order is too low, high).
    """
    e = np.asarray(resid, dtype=float)
    lags = ljung_box_lags(len(e), period)
    advice, sev = {
        "none": ("Standard errors that assume independent errors are too small; use Newey-West "
                 "(inference=NeweyWest()) or AR errors (errors='ar').", "high"),
        "hac": ("Newey-West standard errors allow for it, but strong autocorrelation makes them "
                "unreliable in short series; compare with AR errors (errors='ar').", "medium"),
        "ar": ("The AR error order is too low; raise it or let AIC choose (ar_order=None).", "high"),
    }.get(robust, ("", "medium"))
    return (
        durbin_watson_check(e, what=what),
        ljung_box_check(e, lags=lags, model_df=model_df, what=what, severity=sev, advice=advice),
        acf_pacf_check(e, nlags=max(lags, 12 if period == 12 else lags), what=what),
    )
