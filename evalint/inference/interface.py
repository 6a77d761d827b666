"""What an estimator hands the inference layer: the interface, not the estimator's own types.

The variance estimators of :mod:`evalint.inference` (cluster-robust CR1/CR2, the restricted
wild cluster bootstrap) need a least-squares fit seen from outside: its coefficients and
their names, the bread ``(X~'WX~)^{-1}``, the weighted design and residuals (the scores come
from these and a cluster label per row), and, when fixed effects were absorbed, the few
projections of the absorbed effects that the small-sample corrections use. Any solver that
provides these can use every linear inference spec; the DiD solver's ``FEFit`` is one (it
satisfies :class:`LinearFit` structurally and is never imported here).

References
----------
Sheppard, K. et al. linearmodels: the covariance estimators are classes that take a fitted
    model's scores and bread, the design followed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["AbsorbedEffects", "LinearFit", "CovarianceEstimate", "TimeSeriesFit", "ReplicateRefit",
           "ReplicateEstimate"]

FloatArray = npt.NDArray[np.float64]


@runtime_checkable
class AbsorbedEffects(Protocol):
    """Fixed effects absorbed by a least-squares fit, seen by the cluster-robust variances."""

    def nested_in(self, clusters: np.ndarray) -> int:
        """How many of the absorbed parameters are nested in the clusters (coded 0..G-1)."""
        ...

    def demean(self, x: np.ndarray, *, block: int | None = None) -> FloatArray:
        """``M_D x``: residuals of ``x`` (n x m) on the absorbed effects (weighted if the fit is)."""
        ...

    def projection_block(self, rows: np.ndarray) -> FloatArray:
        """The block ``P_D[rows, rows]`` of the (sqrt-weighted) projection on the absorbed effects."""
        ...

    def cross_products(self, g: np.ndarray, groups: np.ndarray, n_groups: int) -> FloatArray:
        """``(D*_j'g_j)'(D*'D*)^-(D*_k'g_k)`` for every pair of groups ``j, k`` (n_groups x n_groups)."""
        ...


@runtime_checkable
class LinearFit(Protocol):
    """A (weighted) least-squares fit as the linear inference specs need it.

    Attributes
    ----------
    coef : (k,) array
        Coefficients of the non-absorbed regressors.
    names : tuple of str
        Their names.
    bread : (k, k) array
        ``(X~'WX~)^{-1}``.
    weights : (n,) array or None
        Regression weights.
    fe : AbsorbedEffects or None
        The absorbed fixed effects; ``None``: an ordinary regression with an intercept.
    n_obs, n_coef : int
        Rows and non-absorbed coefficients.
    n_params : int
        Every parameter, absorbed ones included (the small-sample factor's K).
    """

    @property
    def coef(self) -> np.ndarray: ...

    @property
    def names(self) -> tuple[str, ...]: ...

    @property
    def bread(self) -> np.ndarray: ...

    @property
    def weights(self) -> np.ndarray | None: ...

    @property
    def fe(self) -> AbsorbedEffects | None: ...

    @property
    def n_obs(self) -> int: ...

    @property
    def n_coef(self) -> int: ...

    @property
    def n_params(self) -> int: ...

    def weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """``(W^{1/2} X~, W^{1/2} e)``: the weighted demeaned design and residuals."""
        ...


@dataclass(frozen=True)
class CovarianceEstimate:
    """A coefficient covariance worked out by the inference layer, handed back to the fit.

    Attributes
    ----------
    cov : (k, k) array
    df : float or None
        Degrees of freedom of the t reference (``None``: normal).
    name, description, note : str
        The spec's name and the inference in words (the result's ``inference``).
    extra : dict
        Numbers the fit records (e.g. ``hac_lags``, ``critical_value_95``).
    """

    cov: FloatArray
    df: float | None
    name: str
    description: str
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class TimeSeriesFit(Protocol):
    """A single-series regression (OLS or a log-link GLM) as the time-series specs need it.

    What the ITS back-ends hand over: the scores and bread for heteroskedasticity and
    autocorrelation consistent (Newey-West, fixed-b) covariances, the model's own covariance
    for ``Analytic``, and a refit hook for specs that change the model itself (GLS with AR(p)
    errors). Every handler registered for this interface returns ``with_covariance(...)`` or
    ``refit_ar_errors(...)``: the estimator's own fitted-model type.

    Attributes
    ----------
    names : tuple of str
        Coefficient names.
    n_obs, n_coef : int
        Fitted rows and coefficients.
    n_times : int
        Time points the scores span (the Newey-West lag rule's T).
    bread : (k, k) array
        The inverse Hessian (``(X'WX)^{-1}``).
    time_index : (n_rows,) int array or None
        Time point of each row when several series are stacked (scores summed within time).
    fitted_times : (n_obs,) int array
        Positions of the fitted rows (fixed-b critical values are simulated on them).
    prewhite : bool
        VAR(1) prewhitening of the HAC scores.
    hac_df : float or None
        t degrees of freedom of the HAC reference (``n - k`` for OLS, ``None``: normal, for GLMs).
    """

    @property
    def names(self) -> tuple[str, ...]: ...

    @property
    def n_obs(self) -> int: ...

    @property
    def n_coef(self) -> int: ...

    @property
    def n_times(self) -> int: ...

    @property
    def bread(self) -> np.ndarray: ...

    @property
    def time_index(self) -> np.ndarray | None: ...

    @property
    def fitted_times(self) -> np.ndarray: ...

    @property
    def prewhite(self) -> bool: ...

    @property
    def hac_df(self) -> float | None: ...

    def scores(self) -> np.ndarray:
        """(n_rows, k) score contributions, zero on rows not fitted (so lags stay calendar distances)."""
        ...

    def hac_design(self) -> np.ndarray:
        """(n_obs, k) design (weighted for a GLM) on which fixed-b critical values are simulated."""
        ...

    def model_covariance(self) -> CovarianceEstimate:
        """The model-based covariance (classical OLS; Poisson, quasi-Poisson or NB2 GLM)."""
        ...

    def with_covariance(self, cov: CovarianceEstimate) -> Any:
        """The estimator's fitted model with ``cov`` as its inference."""
        ...

    def refit_ar_errors(self, spec: Any) -> Any:
        """The model refitted with AR(p) errors (GLS, or the count GLM with AR errors) under ``spec``."""
        ...


@dataclass(frozen=True)
class ReplicateEstimate:
    """A standard error from replicate estimates (placebo, bootstrap, jackknife).

    Attributes
    ----------
    method : str
        ``"placebo"``, ``"bootstrap"``, ``"jackknife"`` or a registered spec's own name; the
        result's table of replicates is ``tables[f"{method}_estimates"]``.
    se : float
    replicates : (B,) array
    reps, seed : int or None
    note : str
        The variance in words.
    """

    method: str
    se: float
    replicates: FloatArray
    reps: int | None
    seed: int | None
    note: str = ""


@runtime_checkable
class ReplicateRefit(Protocol):
    """An estimator that can re-estimate its effect on reassigned, resampled or left-out units.

    What the synthetic DiD family hands over: one callback per replication scheme, each
    returning the replicate estimates (the inference layer draws nothing itself but passes the
    spec's one random generator, and turns the replicates into a standard error).
    """

    def placebo_replicates(self, reps: int, rng: np.random.Generator) -> np.ndarray:
        """Estimates with treatment reassigned at random to control units (raises when undefined)."""
        ...

    def bootstrap_replicates(self, reps: int, rng: np.random.Generator) -> np.ndarray:
        """Estimates on units resampled with replacement (raises when undefined)."""
        ...

    def jackknife_replicates(self) -> np.ndarray:
        """Estimates leaving each unit out in turn (raises when undefined)."""
        ...

    def replicate_note(self, method: str, reps: int | None) -> str:
        """The variance in words for the result (e.g. a caution for the design)."""
        ...
