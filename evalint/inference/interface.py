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

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["AbsorbedEffects", "LinearFit"]

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
