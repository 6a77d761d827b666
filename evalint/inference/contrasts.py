"""Tests of a clustered regression's contrasts: the interface the regression DiD hands over.

The fixed-effects regression estimators (TWFE, the TWFE event study, the dose-response
model) need more than a covariance: their headline is a contrast ``c'b`` of the coefficients
(one coefficient, or the average of the post-period event-time coefficients) with a p-value
and an interval, and the restricted wild cluster bootstrap is a *test* of that contrast, not a
covariance. So they hand over a :class:`ClusteredLinearFit` (a
:class:`~evalint.inference.interface.LinearFit` with one cluster label per row and the CR1
small-sample rule to use when the spec does not choose one), and every handler registered for
it returns a :class:`LinearInference`: the cluster-robust covariance (per-coefficient SEs and
degrees of freedom, each cluster's contribution for the pre-trend checks) and the test of any
contrast.

Handlers registered here (:func:`evalint.inference.dispatch.infer`):

- ``Clustered``: CR1 (the spec's small-sample rule) or CR2 with Bell-McCaffrey Satterthwaite
  degrees of freedom (:mod:`~evalint.inference.cluster`); contrasts by a Wald t-test;
- ``WildClusterBootstrap``: the CR1 covariance with the fit's small-sample rule for the
  standard errors; contrasts by the restricted wild cluster bootstrap p-value and its
  test-inversion interval (:mod:`~evalint.inference.wild`).

:class:`ClusteredLinearFit` is not a sub-Protocol of ``LinearFit``: the specs registered for a
bare ``LinearFit`` (a covariance, for Sun-Abraham and the Bacon decomposition) are not offered
to the regression DiD, and the wild bootstrap registered here is not offered to them. A new
spec for the regression DiD is one ``register_inference(MySpec, ClusteredLinearFit, handler)``
returning a ``LinearInference`` (``LinearInference(vcov, fit)`` tests contrasts by Wald with
the covariance's degrees of freedom; a ``test=`` callback replaces the p-value and interval).

References
----------
Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
    inference with clustered errors. Review of Economics and Statistics 90(3), 414-427.
Pustejovsky, J. E. & Tipton, E. (2018). Small-sample methods for cluster-robust variance
    estimation and hypothesis testing in fixed effects models. Journal of Business &
    Economic Statistics 36(4), 672-683.
Sheppard, K. et al. linearmodels (covariance estimators as classes applied to a fit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from evalint.inference.cluster import ClusterVcov
from evalint.inference.dispatch import ContrastInference, linear_covariance, register_inference
from evalint.inference.interface import LinearFit
from evalint.inference.normal import wald
from evalint.inference.specs import Clustered, WildClusterBootstrap
from evalint.inference.wild import wild_cluster_bootstrap

__all__ = ["ClusteredLinearFit", "ClusteredRegression", "LinearInference", "ContrastTest"]

#: ``test(c, alpha, wald_inference) -> ContrastInference``: a spec's own test of ``c'b``, given the
#: Wald inference of the same contrast (estimate, covariance SE and df already worked out)
ContrastTest = Callable[[np.ndarray, float, ContrastInference], ContrastInference]


@runtime_checkable
class ClusteredLinearFit(Protocol):
    """A least-squares fit with one cluster label per row, as the regression DiD hands it over.

    Attributes
    ----------
    fit : LinearFit
        The fit (coefficients, bread, weighted design and residuals, absorbed effects).
    clusters : (n_obs,) array
        One cluster label per row of the fit.
    small_sample : str
        The CR1 small-sample rule (:func:`~evalint.inference.cluster.small_sample_factor`) the
        estimator uses when the spec does not choose one (the wild bootstrap's CR1 SE).
    """

    @property
    def fit(self) -> LinearFit: ...

    @property
    def clusters(self) -> np.ndarray: ...

    @property
    def small_sample(self) -> str: ...


@dataclass(frozen=True, eq=False)
class ClusteredRegression:
    """A :class:`ClusteredLinearFit` made of its three parts (what an estimator passes to ``infer``)."""

    fit: LinearFit
    clusters: np.ndarray
    small_sample: str = "CR1S"


@dataclass(frozen=True, eq=False)
class LinearInference:
    """What every handler for :class:`ClusteredLinearFit` returns.

    Attributes
    ----------
    vcov : ClusterVcov
        The coefficients' cluster-robust covariance: SEs and df per coefficient, each cluster's
        contribution (:meth:`~evalint.inference.cluster.ClusterVcov.contributions`).
    fit : LinearFit
    test : callable or None
        The spec's test of a contrast (:data:`ContrastTest`); ``None``: the Wald t-test with the
        covariance's degrees of freedom (``G - 1`` for CR1, Satterthwaite for CR2).
    note : str
        The inference in words, for the result's notes (empty: nothing to add to the description).
    """

    vcov: ClusterVcov
    fit: LinearFit
    test: ContrastTest | None = None
    note: str = ""

    def contrast(self, c: np.ndarray, alpha: float) -> ContrastInference:
        """Estimate, SE (from :attr:`vcov`), df, p-value and interval of ``c'b``."""
        est = float(c @ self.fit.coef)
        var, df = self.vcov.contrast(c)
        se = float(np.sqrt(var))
        _, p, lo, hi = wald(est, se, alpha, df)
        out = ContrastInference(est, se, df, float(p), (float(lo), float(hi)))
        return out if self.test is None else self.test(c, alpha, out)


def _clustered(spec: Clustered, fit: ClusteredLinearFit, **_: Any) -> LinearInference:
    """``infer(Clustered, ClusteredLinearFit)``: CR1 or CR2, contrasts by Wald."""
    return LinearInference(linear_covariance(fit.fit, fit.clusters, spec, fit.small_sample), fit.fit)


def _wild(spec: WildClusterBootstrap, fit: ClusteredLinearFit, **_: Any) -> LinearInference:
    """``infer(WildClusterBootstrap, ClusteredLinearFit)``: CR1 SEs, contrasts by the restricted
    wild cluster bootstrap (p-value and test-inversion interval, drawn with the spec's seed)."""
    def test(c: np.ndarray, alpha: float, base: ContrastInference) -> ContrastInference:
        wb = wild_cluster_bootstrap(fit.fit, fit.clusters, c, reps=spec.reps, weights=spec.weights,
                                    seed=spec.seed, alpha=alpha)
        return dataclasses.replace(base, p_value=wb.p_value, ci=wb.ci, reps=wb.reps, enumerated=wb.enumerated)

    return LinearInference(linear_covariance(fit.fit, fit.clusters, spec, fit.small_sample), fit.fit, test,
                           note="p-value and CI from the restricted wild cluster bootstrap; the standard error "
                                "shown is CR1.")


register_inference(Clustered, ClusteredLinearFit, _clustered)
register_inference(WildClusterBootstrap, ClusteredLinearFit, _wild)
