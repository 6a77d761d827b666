"""Inference for single-series regressions (the ITS family) through :class:`TimeSeriesFit`.

The handlers :func:`evalint.inference.dispatch.infer` runs for a
:class:`~evalint.inference.interface.TimeSeriesFit`:

- ``NeweyWest``: the Bartlett-kernel HAC covariance of the fit's scores and bread
  (:func:`~evalint.inference.hac.hac_covariance`, R ``sandwich::NeweyWest``), the
  small-sample factor T/(T-k), and with ``fixed_b=True`` the t degrees of freedom that
  reproduce the largest simulated fixed-b 95% critical value over the intervention terms
  (:mod:`~evalint.inference.fixed_b`);
- ``Analytic``: the model's own covariance (classical OLS, Poisson/quasi-Poisson/NB2 GLM);
- ``ARErrors``: the model refitted with AR(p) errors through the fit's refit hook (GLS, or
  the count GLM with AR errors: the estimator owns the likelihood).

References
----------
Newey WK, West KD (1987). A simple, positive semi-definite, heteroskedasticity and
    autocorrelation consistent covariance matrix. Econometrica 55:703-708.
Newey WK, West KD (1994). Automatic lag selection in covariance matrix estimation. Rev Econ
    Stud 61:631-653.
Kiefer NM, Vogelsang TJ (2005). A new asymptotic theory for heteroskedasticity-autocorrelation
    robust tests. Econometric Theory 21:1130-1164.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalint.inference.dispatch import register_inference
from evalint.inference.fixed_b import equivalent_t_df, fixed_b_critical_value, fixed_b_lags
from evalint.inference.hac import hac_covariance
from evalint.inference.interface import CovarianceEstimate, TimeSeriesFit
from evalint.inference.specs import Analytic, ARErrors, NeweyWest

__all__ = ["newey_west_covariance", "newey_west_lags", "fixed_b_df", "is_intervention_term"]

_IMPACT_PREFIXES = ("level_", "slope_", "ramp_")


def is_intervention_term(name: str) -> bool:
    """Whether a coefficient is an impact term (level, slope or ramp change) of an ITS design."""
    return name.split(":")[-1].startswith(_IMPACT_PREFIXES)


def newey_west_lags(spec: NeweyWest, n_times: int) -> int | None:
    """The lag to use: the spec's, the fixed-b bandwidth when ``fixed_b``, else None (the NW rule)."""
    if spec.lags is not None:
        return spec.lags
    if spec.fixed_b:
        return fixed_b_lags(n_times)
    return None


def fixed_b_df(X: np.ndarray, names: tuple[str, ...], lags: int, times: np.ndarray) -> tuple[float | None, float]:
    """t df reproducing the largest simulated fixed-b 95% critical value over the intervention terms."""
    idx = [j for j, c in enumerate(names) if is_intervention_term(c)] or list(range(len(names)))
    crit = max(fixed_b_critical_value(X, j, lags, 0.05, times=times) for j in idx)
    return equivalent_t_df(crit, 0.05), crit


def _nw_description(spec: NeweyWest, lags: int, n: int, prewhite: bool) -> str:
    return ("Newey-West HAC standard errors (Bartlett kernel, " + f"{lags} lag(s)"
            + (", rule floor(4(T/100)^(2/9))" if spec.lags is None and not spec.fixed_b else "")
            + (", small-sample factor T/(T-k)" if spec.small_sample else "")
            + (", VAR(1) prewhitening" if prewhite else "")
            + (f"; fixed-b critical values, b = {(lags + 1) / n:.2f} (Kiefer & Vogelsang 2005)"
               if spec.fixed_b else "") + ")")


def newey_west_covariance(spec: NeweyWest, fit: TimeSeriesFit) -> CovarianceEstimate:
    """The Newey-West covariance of ``fit`` under ``spec`` (with fixed-b df when asked)."""
    n, k = fit.n_obs, fit.n_coef
    V, lags = hac_covariance(fit.scores(), fit.bread, lags=newey_west_lags(spec, fit.n_times),
                             prewhite=fit.prewhite, groups=fit.time_index)
    if spec.small_sample:
        V = V * (n / (n - k))
    df = fit.hac_df
    extra: dict[str, Any] = {"hac_lags": lags}
    if spec.fixed_b and fit.time_index is None:
        df, extra["critical_value_95"] = fixed_b_df(fit.hac_design(), fit.names, lags, fit.fitted_times)
    return CovarianceEstimate(V, df, "NeweyWest", _nw_description(spec, lags, n, fit.prewhite),
                              note=f"{n} fitted periods", extra=extra)


@register_inference(NeweyWest, TimeSeriesFit)
def _newey_west(spec: NeweyWest, fit: TimeSeriesFit) -> Any:
    return fit.with_covariance(newey_west_covariance(spec, fit))


@register_inference(Analytic, TimeSeriesFit)
def _analytic(spec: Analytic, fit: TimeSeriesFit) -> Any:
    return fit.with_covariance(fit.model_covariance())


@register_inference(ARErrors, TimeSeriesFit)
def _ar_errors(spec: ARErrors, fit: TimeSeriesFit) -> Any:
    return fit.refit_ar_errors(spec)
