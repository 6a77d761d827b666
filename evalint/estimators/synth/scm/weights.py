"""One treated unit's synthetic control: predictor weights V and donor weights W.

:func:`fit_scm_weights` solves the nested problem of :mod:`evalint.estimators.synth.scm.estimator`
(inner exact simplex least squares for W given V; outer search over V, or V from a
regression or fixed); :class:`SCMProblem` holds everything needed to (re)fit one unit, so
the estimator, the in-space placebos and leave-one-out all fit through
:meth:`SCMProblem.fit_unit`, which returns a :class:`UnitFit`.

References
----------
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
case studies. *JASA* 105(490), 493-505.
Kaul, A., Klößner, S., Pfeifer, G. & Schieler, M. (2015). Synthetic control methods: never
use all pre-intervention outcomes together with covariates. MPRA Paper 83790.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from evalint._typing import FloatArray
from evalint.errors import SpecificationError
from evalint.estimators.synth.matrices import Predictor, predictor_matrix
from evalint.estimators.synth.simplex import simplex_least_squares, simplex_weights_from_differences

__all__ = ["SCMProblem", "UnitFit", "fit_scm_weights", "regression_v"]


# --------------------------------------------------------------------------- numerics
def _standardise(X1: FloatArray, X0: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    allx = np.column_stack([X1, X0])
    sd = allx.std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return X1 / sd, X0 / sd[:, None], sd


def regression_v(X1: FloatArray, X0: FloatArray, Z1: FloatArray, Z0: FloatArray) -> FloatArray:
    """Regression-based predictor weights: :math:`v_k \\propto \\sum_t \\beta_{kt}^2`.

    Each outcome row of ``Z`` (periods of the optimisation window) is regressed across
    units on an intercept and the (already standardised) predictors.
    """
    Xu = np.column_stack([X1, X0]).T  # units x K
    Zu = np.column_stack([Z1, Z0]).T  # units x T
    D = np.column_stack([np.ones(Xu.shape[0]), Xu])
    beta, *_ = np.linalg.lstsq(D, Zu, rcond=None)
    v = np.sum(beta[1:] ** 2, axis=1)
    return v / v.sum() if v.sum() > 0 else np.full(X1.shape[0], 1.0 / X1.shape[0])


def fit_scm_weights(
    X1: FloatArray,
    X0: FloatArray,
    Z1: FloatArray,
    Z0: FloatArray,
    *,
    v_method: str = "nested",
    custom_v: FloatArray | None = None,
    standardize: bool = True,
    max_evaluations: int = 3000,
    report: dict[str, float] | None = None,
) -> tuple[FloatArray, FloatArray, float]:
    """Donor weights W and predictor weights V for one treated unit.

    Parameters
    ----------
    X1 : array (K,)
        Treated unit's predictors.
    X0 : array (K, J)
        Donors' predictors.
    Z1 : array (T,)
        Treated unit's outcomes in the V-optimisation window.
    Z0 : array (T, J)
        Donors' outcomes in that window.
    v_method : {"nested", "regression", "equal", "custom"}
    custom_v : array (K,), optional
        With ``v_method="custom"``.
    standardize : bool
        Divide each predictor by its standard deviation across units.
    max_evaluations : int
        Budget of inner solves per Nelder–Mead start.
    report : dict, optional
        Filled (nested V) with the pre-period loss reached from each start: ``equal`` and
        ``regression`` (the starts themselves), ``powell_equal``, ``powell_regression``,
        ``nelder_mead_equal`` (a single Nelder–Mead from equal V) and ``final`` (the best,
        polished).

    Returns
    -------
    w : array (J,)
    v : array (K,)  (sums to one)
    loss : float
        Pre-period MSPE of the outcome in the window at (W, V).
    """
    K = X1.shape[0]
    if standardize:
        X1s, X0s, _ = _standardise(X1, X0)
    else:
        X1s, X0s = X1, X0

    D = X0s - X1s[:, None]

    def solve(v: FloatArray) -> FloatArray:
        return simplex_weights_from_differences(np.sqrt(v)[:, None] * D)

    def loss_of(w: FloatArray) -> float:
        r = Z1 - Z0 @ w
        return float(r @ r / r.size)

    if v_method == "custom":
        if custom_v is None:
            raise SpecificationError("v_method='custom' needs custom_v (one weight per predictor).")
        v = np.abs(np.asarray(custom_v, dtype=float))
        if v.shape != (K,) or v.sum() <= 0:
            raise SpecificationError(f"custom_v must hold {K} non-negative weights, not all zero.")
        v = v / v.sum()
    elif v_method == "equal":
        v = np.full(K, 1.0 / K)
    elif v_method == "regression":
        v = regression_v(X1s, X0s, Z1, Z0)
    else:
        starts = [np.full(K, 1.0 / K), regression_v(X1s, X0s, Z1, Z0)]

        def outer(x: FloatArray) -> float:
            a = np.abs(x)
            s = a.sum()
            if not s > 0:
                return np.inf
            return loss_of(solve(a / s))

        rep: dict[str, float] = {}
        best_x, best_f = starts[0], np.inf
        for label, x0 in zip(("equal", "regression"), starts):  # the starts themselves ...
            f0 = outer(x0)
            rep[label] = f0
            if f0 < best_f:
                best_x, best_f = x0, f0
        for label, x0 in zip(("equal", "regression"), starts):  # ... Powell from each ...
            res = minimize(outer, x0, method="Powell", options={"maxfev": max_evaluations})
            rep[f"powell_{label}"] = float(res.fun)
            if res.fun < best_f:
                best_x, best_f = res.x, float(res.fun)
        # ... a single Nelder-Mead from equal V (the common default elsewhere) ...
        res = minimize(outer, starts[0], method="Nelder-Mead",
                       options={"maxfev": max_evaluations // 3, "xatol": 1e-5, "fatol": 1e-9, "adaptive": K > 4})
        rep["nelder_mead_equal"] = float(res.fun)
        if res.fun < best_f:
            best_x, best_f = res.x, float(res.fun)
        # ... then a Nelder-Mead polish from the best point; the best of all is kept
        res = minimize(outer, best_x, method="Nelder-Mead",
                       options={"maxfev": max_evaluations // 3, "xatol": 1e-5, "fatol": 1e-9,
                                "adaptive": K > 4})
        if res.fun < best_f:
            best_x, best_f = res.x, float(res.fun)
        v = np.abs(best_x) / np.abs(best_x).sum()
        if report is not None:
            report.update(rep)
    w = simplex_least_squares(X0s, X1s, row_weights=v).weights
    loss = loss_of(w)
    if report is not None and v_method == "nested":
        report["final"] = loss
    return w, v, loss


@dataclass(frozen=True)
class UnitFit:
    """One treated unit's synthetic control (arrays over all periods)."""

    unit: Any
    start: pd.Period
    donors: tuple[Any, ...]
    weights: FloatArray
    v: FloatArray | None
    predictor_names: tuple[str, ...]
    X1: FloatArray | None
    X0: FloatArray | None
    treated: FloatArray
    synthetic: FloatArray
    pre_mask: np.ndarray
    loss: float
    v_search: dict[str, float] | None = None

    @property
    def gaps(self) -> FloatArray:
        return self.treated - self.synthetic

    @property
    def pre_mspe(self) -> float:
        g = self.gaps[self.pre_mask]
        return float(np.mean(g * g))

    @property
    def post_mspe(self) -> float:
        g = self.gaps[~self.pre_mask]
        return float(np.mean(g * g))

    @property
    def att(self) -> float:
        return float(np.mean(self.gaps[~self.pre_mask]))


@dataclass(frozen=True)
class SCMProblem:
    """Everything needed to (re)fit one unit: used by the estimator and by placebos."""

    predictors: tuple[Predictor, ...] | None
    v_method: str
    custom_v: tuple[float, ...] | None
    opt_window: tuple[Any, Any] | None
    standardize: bool
    max_evaluations: int
    panel: Any = field(repr=False)
    predictor_data: pd.DataFrame | None = field(default=None, repr=False)
    # predictor window means of every unit of a fit, by last pre-period: placebo and
    # leave-one-out refits share the treated fit's date, so the means are computed once
    _predictor_cache: dict[Any, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)
    # the outcome matrix of the last fit as an array with each unit's row, so the placebo and
    # leave-one-out refits (one per donor) index it without a pandas lookup each
    _rows_cache: list[Any] = field(default_factory=list, repr=False, compare=False)

    def _rows(self, Y: pd.DataFrame) -> tuple[FloatArray, dict[Any, int]]:
        """``Y``'s values (units x periods) and the row of each unit (cached for the same ``Y``)."""
        if not self._rows_cache or self._rows_cache[0] is not Y:
            self._rows_cache[:] = [Y, Y.to_numpy(dtype=float), {u: i for i, u in enumerate(Y.index)}]
        return self._rows_cache[1], self._rows_cache[2]

    def _predictors_of(self, units: Sequence[Any], all_units: Sequence[Any], pre_end: pd.Period) -> pd.DataFrame:
        if pre_end not in self._predictor_cache:
            self._predictor_cache[pre_end] = predictor_matrix(self.panel, self.predictors, list(all_units),
                                                              pre_end, self.predictor_data)
        return self._predictor_cache[pre_end][list(units)]

    def fit_unit(self, unit: Any, donors: Sequence[Any], Y: pd.DataFrame, periods: pd.PeriodIndex,
                 start: pd.Period) -> UnitFit:
        """Fit ``unit`` against ``donors`` with treatment starting at ``start``."""
        pre = np.asarray(periods < start)
        values, row = self._rows(Y)
        if Y.index.is_unique:
            y1 = values[row[unit]].copy()
            Y0 = values[[row[d] for d in donors]].T
        else:  # pragma: no cover - the design's units are unique
            y1 = Y.loc[unit].to_numpy(dtype=float)
            Y0 = Y.loc[list(donors)].to_numpy(dtype=float).T
        if self.opt_window is None:
            opt = pre
        else:
            lo = self.panel.period(self.opt_window[0], "optimization_window start")
            hi = self.panel.period(self.opt_window[1], "optimization_window end")
            opt = pre & np.asarray((periods >= lo) & (periods <= hi))
            if not opt.any():
                raise SpecificationError(
                    f"optimization_window {self.opt_window} has no pre-treatment period before {start}."
                )
        if self.predictors is None:
            w = simplex_least_squares(Y0[pre], y1[pre]).weights
            synth = Y0 @ w
            r = y1[opt] - synth[opt]
            return UnitFit(unit, start, tuple(donors), w, None, (), None, None, y1, synth, pre,
                           float(r @ r / r.size))
        X = self._predictors_of([unit, *donors], Y.index, periods[pre][-1])
        Xa = X.to_numpy(dtype=float)
        X1, X0 = Xa[:, 0], Xa[:, 1:]
        rep: dict[str, float] = {}
        w, v, loss = fit_scm_weights(
            X1, X0, y1[opt], Y0[opt], v_method=self.v_method,
            custom_v=None if self.custom_v is None else np.asarray(self.custom_v),
            standardize=self.standardize, max_evaluations=self.max_evaluations, report=rep,
        )
        return UnitFit(unit, start, tuple(donors), w, v, tuple(X.index), X1, X0, y1, Y0 @ w, pre, loss,
                       v_search=rep or None)
