"""The segmented regression's fit under ``inference=SieveBootstrap()``.

OLS coefficients with the AR-sieve bootstrap covariance of :mod:`evalint.inference.sieve`
and a t(n - k) reference; everything downstream (counterfactual, per-period and cumulative
effects) reads the covariance as for any other fit.

References
----------
Bühlmann, P. (1997). Sieve bootstrap for time series. *Bernoulli* 3(2), 123-148.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from evalint.estimators.its.backends import ModelFit, fit_ols
from evalint.inference.sieve import sieve_bootstrap
from evalint.inference.specs import Analytic, SieveBootstrap
from evalint.results.effect import InferenceInfo

__all__ = ["fit_ols_sieve"]


def fit_ols_sieve(y: np.ndarray, X: pd.DataFrame, include: np.ndarray, spec: SieveBootstrap) -> ModelFit:
    """OLS on the fitted rows with the sieve-bootstrap covariance (see the module docstring)."""
    fit = fit_ols(y, X, include, Analytic())
    cols = list(X.columns)
    sv = sieve_bootstrap(np.asarray(y, float)[include], X.to_numpy(float)[include], reps=spec.reps, seed=spec.seed,
                         max_order=spec.max_order)
    n, k = int(include.sum()), len(cols)
    phi = ", ".join(f"{v:.3f}" for v in sv.phi) if sv.order else "none"
    info = InferenceInfo("SieveBootstrap", f"{spec.description}; bootstrap standard errors, t({n - k}) reference",
                         df=float(n - k), note=f"sieve AR({sv.order}), phi = {phi}")
    return dataclasses.replace(fit, cov=pd.DataFrame(sv.cov, index=cols, columns=cols), df=float(n - k),
                               inference=info, info={**fit.info, "sieve_order": sv.order,
                                                     "sieve_phi": sv.phi.tolist()})
