"""Ridge augmented synthetic control (Ben-Michael, Feller & Rothstein 2021) with conformal inference.

For one treated unit with pre-period outcomes :math:`X_1` (T0) and donors' :math:`X_0`
(N0 x T0), the augmented weights are (BFR 2021, eq. 12 with a ridge outcome model)

.. math:: \\gamma = w^{scm} + \\check X_0 (\\check X_0'\\check X_0 + \\lambda I)^{-1}(X_1 - X_0' w^{scm}),

where :math:`w^{scm}` are the simplex SC weights and :math:`\\check X_0` the donors'
pre-period outcomes centred by their donor mean. :math:`\\gamma` sums to one but may be
negative: the ridge step extrapolates outside the convex hull to remove the pre-period
imbalance SC leaves. The counterfactual is :math:`\\gamma' Y_{0t}` and the effect the
average post-period gap.

:math:`\\lambda` is chosen as in the ``augsynth`` package: a grid
:math:`\\lambda_{max} 10^{-8 \\dots 0}` (:math:`\\lambda_{max}` the largest squared singular
value of :math:`\\check X_0`), each scored by rolling-origin cross-validation over the
pre-period (fit on periods 1..i, predict period i+1), keeping the largest :math:`\\lambda`
within one standard error of the minimum.

Inference is the conformal test of Chernozhukov, Wüthrich & Zhu (2021) as used by BFR:
under :math:`H_0:` the effect is :math:`\\tau_0` in every post period, subtract
:math:`\\tau_0` from the treated post outcomes, refit on all periods, and compare the mean
absolute post-period residual with its values under the T cyclic shifts (moving-block
permutations) of the residual series; the p-value is the share of shifts at least as
large. The (1 - alpha) interval collects the :math:`\\tau_0` not rejected (grid search
plus bisection at the ends). With T periods the smallest attainable p-value is 1/T: when
that exceeds alpha the interval is unbounded, which is flagged, never returned as NaN.

The alternative, ``inference=JackknifePlus()``, is the jackknife+ over pre-treatment periods
(Barber, Candès, Ramdas & Tibshirani 2021, as ``augsynth``'s ``inf_type = "jackknife+"``
uses it): each pre-period in turn is held out, the ASCM refitted (same lambda) on the others,
its error at the held-out period ``R_s`` and its post-period predictions ``P_s(t)`` kept; the
counterfactual interval at post period t runs from the ``floor((alpha/2)(n+1))``-th smallest
``P_s(t) - |R_s|`` to the ``ceil((1 - alpha/2)(n+1))``-th smallest ``P_s(t) + |R_s|``
(n = pre-periods), so that the guarantee of Barber et al. (coverage >= 1 - 2 x the level per
side) is >= 1 - alpha when periods are exchangeable. With fewer than ``2/alpha - 1``
pre-periods the interval is unbounded (flagged, never NaN).

References
----------
Barber, R. F., Candès, E. J., Ramdas, A. & Tibshirani, R. J. (2021). Predictive inference with
the jackknife+. *Annals of Statistics* 49(1), 486-507.
Ben-Michael, E., Feller, A. & Rothstein, J. (2021). The augmented synthetic control method.
*JASA* 116(536), 1789-1803.
Chernozhukov, V., Wüthrich, K. & Zhu, Y. (2021). An exact and robust conformal inference
method for counterfactual and synthetic controls. *JASA* 116(536), 1849-1864.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from evalint._typing import FloatArray, check_positive_int
from evalint.diagnostics.base import Flag
from evalint.errors import SpecificationError
from evalint.estimators.base import calendar_check, register_estimator
from evalint.estimators.synth.matrices import synth_design
from evalint.estimators.synth.placebo import prefit_diagnostics
from evalint.estimators.synth.scm import UnitFit
from evalint.estimators.synth.simplex import simplex_least_squares
from evalint.inference.specs import InferenceSpec, require_supported
from evalint.results.effect import InferenceInfo, make_result, tidy

if TYPE_CHECKING:  # pragma: no cover
    from evalint.data.panel import Panel
    from evalint.results.effect import EffectResult

__all__ = ["AugmentedSyntheticControl", "Conformal", "JackknifePlus", "augmented_synthetic_control",
           "jackknife_plus", "ridge_ascm_weights"]


@dataclass(frozen=True)
class Conformal(InferenceSpec):
    """Conformal inference by moving-block permutations (Chernozhukov, Wüthrich & Zhu 2021).

    ``grid_size`` null values are scanned around the estimate before the interval ends
    are refined by bisection. ``per_period=True`` also gives each post period its own
    interval (pre-periods plus that one period; smallest p-value 1/(T0 + 1)), which keeps
    power when the post-period is long relative to the pre-period, where the joint test
    of the average effect has little.
    """

    grid_size: int = 60
    per_period: bool = True

    def __post_init__(self) -> None:
        check_positive_int("grid_size", self.grid_size, minimum=10)

    @property
    def description(self) -> str:
        return ("conformal inference (Chernozhukov, Wuthrich & Zhu 2021): constant-effect null, "
                "moving-block permutations of the residuals, interval by test inversion")


@dataclass(frozen=True)
class JackknifePlus(InferenceSpec):
    """Jackknife+ over pre-treatment periods (Barber et al. 2021; Ben-Michael et al.'s ``augsynth``).

    Each pre-period is held out in turn and the ridge ASCM refitted (same lambda) on the
    rest; the held-out errors and the refits' post-period predictions give an interval
    for every post-period gap and for the average effect. Valid when the pre- and
    post-period errors are exchangeable over time (no trend in the fit errors); no p-value
    beyond the one read off the intervals (the smallest alpha at which they exclude 0).
    """

    @property
    def description(self) -> str:
        return ("jackknife+ over pre-treatment periods (Barber et al. 2021): leave-one-period-out "
                "refits, held-out errors added to the refits' predictions")


def _jk_bounds(pred: FloatArray, resid: FloatArray, alpha: float) -> tuple[float, float]:
    """Jackknife+ counterfactual interval: order statistics of ``pred -/+ |resid|`` at level alpha/2."""
    n = pred.size
    k_hi = int(np.ceil((1.0 - alpha / 2.0) * (n + 1) - 1e-9))
    k_lo = n + 1 - k_hi
    r = np.abs(resid)
    hi = float(np.sort(pred + r)[k_hi - 1]) if k_hi <= n else np.inf
    lo = float(np.sort(pred - r)[k_lo - 1]) if k_lo >= 1 else -np.inf
    return lo, hi


def _jk_p_value(pred: FloatArray, resid: FloatArray, y: float) -> float:
    """Smallest alpha at which the jackknife+ effect interval for ``y - Y(0)`` excludes 0."""
    n = pred.size
    r = np.abs(resid)
    m = max(int(np.sum(pred + r < y)), int(np.sum(pred - r > y)))
    return float(min(1.0, 2.0 * (n + 1 - m) / (n + 1)))


def jackknife_plus(y1: FloatArray, Y0: FloatArray, pre: np.ndarray, lam: float) -> tuple[FloatArray, FloatArray]:
    """Leave-one-pre-period-out refits of the ridge ASCM.

    Parameters
    ----------
    y1 : array (T,)
        Treated unit's outcomes.
    Y0 : array (N0, T)
        Donors' outcomes.
    pre : bool array (T,)
        Pre-treatment periods.
    lam : float
        Ridge penalty (kept fixed across the refits).

    Returns
    -------
    resid : array (n,)
        Held-out error ``y1[s] - Y0[:, s]' gamma_(-s)`` for each pre-period s.
    pred : array (n, T1)
        The refits' counterfactual predictions for the post-periods.
    """
    pre_idx = np.flatnonzero(pre)
    post = ~pre
    resid = np.empty(pre_idx.size)
    pred = np.empty((pre_idx.size, int(post.sum())))
    for k, s in enumerate(pre_idx):
        keep = np.delete(pre_idx, k)
        gamma, _ = ridge_ascm_weights(Y0[:, keep], y1[keep], lam)
        resid[k] = y1[s] - Y0[:, s] @ gamma
        pred[k] = Y0[:, post].T @ gamma
    return resid, pred


def ridge_ascm_weights(X0: FloatArray, X1: FloatArray, lam: float) -> tuple[FloatArray, FloatArray]:
    """Augmented weights gamma and the SC weights for donors ``X0`` (N0 x T0) and target ``X1``.

    Returns
    -------
    gamma : array (N0,)  (sums to one, may be negative)
    w_scm : array (N0,)
    """
    w = simplex_least_squares(X0.T, X1).weights
    Xc = X0 - X0.mean(axis=0, keepdims=True)
    imbalance = X1 - X0.T @ w
    T0 = X0.shape[1]
    coef = np.linalg.solve(Xc.T @ Xc + lam * np.eye(T0), imbalance)
    return w + Xc @ coef, w


def _lambda_grid(X0: FloatArray, n: int = 20, min_ratio: float = 1e-8) -> FloatArray:
    Xc = X0 - X0.mean(axis=0, keepdims=True)
    lam_max = float(np.linalg.svd(Xc, compute_uv=False)[0] ** 2) or 1.0
    return lam_max * 10.0 ** np.linspace(np.log10(min_ratio), 0.0, n)


def choose_lambda(X0: FloatArray, X1: FloatArray, grid: FloatArray | None = None) -> tuple[float, pd.DataFrame]:
    """Rolling-origin CV over the pre-period with the one-standard-error rule (as augsynth)."""
    grid = _lambda_grid(X0) if grid is None else np.asarray(grid, dtype=float)
    T0 = X0.shape[1]
    if T0 < 3:
        return float(grid[-1]), pd.DataFrame({"lambda": grid, "cv_error": np.nan, "cv_se": np.nan})
    errs = np.empty((grid.size, T0 - 1))
    for i in range(1, T0):
        # SC weights do not depend on lambda; the ridge step for every lambda at once via the SVD
        X0i, X1i = X0[:, :i], X1[:i]
        w = simplex_least_squares(X0i.T, X1i).weights
        Xc = X0i - X0i.mean(axis=0, keepdims=True)
        U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
        proj = Vt @ (X1i - X0i.T @ w)  # (r,)
        shrink = S[None, :] / (S[None, :] ** 2 + grid[:, None])  # (n_lambda, r)
        gammas = w[None, :] + (shrink * proj[None, :]) @ U.T  # (n_lambda, N0)
        errs[:, i - 1] = (X1[i] - gammas @ X0[:, i]) ** 2
    mean, se = errs.mean(axis=1), errs.std(axis=1, ddof=1) / np.sqrt(errs.shape[1])
    kmin = int(np.argmin(mean))
    ok = np.flatnonzero(mean <= mean[kmin] + se[kmin])
    lam = float(grid[ok.max()])
    return lam, pd.DataFrame({"lambda": grid, "cv_error": mean, "cv_se": se})


def _residuals(Y1: FloatArray, Y0: FloatArray, lam: float) -> FloatArray:
    """Residuals over all T periods of the ridge ASCM fitted on all of them."""
    g, _ = ridge_ascm_weights(Y0, Y1, lam)
    return Y1 - Y0.T @ g


def conformal_p_value(tau0: float, units: list[tuple[FloatArray, FloatArray, np.ndarray]], lam: Sequence[float]) -> float:
    """p-value of H0: effect = tau0 in every post period of every treated unit.

    ``units``: (Y1 over T, Y0 donors x T, post mask). Residuals of several units (same
    post mask) are averaged before the permutation test.
    """
    res = []
    post = units[0][2]
    for (y1, Y0, mask), lm in zip(units, lam):
        res.append(_residuals(y1 - tau0 * mask, Y0, lm))
    u = np.mean(res, axis=0)
    T = u.size
    idx = np.flatnonzero(post)
    a = np.abs(u)
    stats = a[(idx[None, :] + np.arange(T)[:, None]) % T].mean(axis=1)
    return float(np.mean(stats >= stats[0] - 1e-12 * max(1.0, abs(stats[0]))))


def conformal_interval(estimate: float, units: list[tuple[FloatArray, FloatArray, np.ndarray]],
                       lam: Sequence[float], alpha: float, grid_size: int, scale: float,
                       bisect_steps: int = 30) -> tuple[float, float, float, str]:
    """(low, high, p-value at 0, note). Unbounded ends are +/- inf with a note saying why.

    The interval is the convex hull of the accepted nulls (the acceptance set need not be
    an interval): each side is probed on a fine grid near the estimate, on steps growing by
    3x out to ``1e4 * scale`` and at 0; the outermost accepted probe is refined by bisection
    against the next (rejected) probe. If the farthest probe is still accepted that side is
    unbounded (+/- inf, with a note).
    """
    T = units[0][0].size
    p0 = conformal_p_value(0.0, units, lam)
    if 1.0 / T > alpha:
        return -np.inf, np.inf, p0, (f"with {T} periods the smallest attainable conformal p-value is 1/{T} "
                                     f"> alpha = {alpha}: every effect is accepted, the interval is unbounded.")
    base = max(scale, 1e-8)
    far = 1e4 * max(base, abs(estimate))

    def accepted(t: float) -> bool:
        return conformal_p_value(t, units, lam) > alpha

    def edge(inside: float, outside: float) -> float:
        for _ in range(bisect_steps):
            mid = 0.5 * (inside + outside)
            if accepted(mid):
                inside = mid
            else:
                outside = mid
        return inside

    steps = 2.0 * base * 3.0 ** np.arange(int(np.ceil(np.log(far / (2.0 * base)) / np.log(3.0))) + 1)
    inner = np.linspace(-steps[min(3, steps.size - 1)], steps[min(3, steps.size - 1)], grid_size)
    ends, notes = {}, []
    for sign in (-1.0, 1.0):
        offsets = np.unique(np.concatenate([[0.0], np.abs(inner[inner * sign >= 0]), steps]))
        probes = estimate + sign * offsets
        if sign * (0.0 - estimate) > 0:  # the null of no effect is always probed
            probes = np.unique(np.concatenate([probes, [0.0]]))
            probes = probes[np.argsort(sign * (probes - estimate))]
        acc = np.array([accepted(t) for t in probes])
        if not acc.any():
            ends[sign] = np.nan
            continue
        k = int(np.flatnonzero(acc).max())
        if k == probes.size - 1:
            ends[sign] = sign * np.inf
            notes.append(f"effects {'below' if sign < 0 else 'above'} the estimate by more than {far:.3g} "
                         "are still not rejected")
        else:
            ends[sign] = edge(probes[k], probes[k + 1])
    if np.isnan(ends[-1.0]) and np.isnan(ends[1.0]):
        return np.nan, np.nan, p0, ("no effect value was accepted by the conformal test around the "
                                    "estimate (the acceptance set is empty or narrower than the grid).")
    low = ends[-1.0] if not np.isnan(ends[-1.0]) else estimate
    high = ends[1.0] if not np.isnan(ends[1.0]) else estimate
    note = ("the conformal acceptance region is unbounded: " + "; ".join(notes) + ".") if notes else ""
    return float(low), float(high), p0, note


def _per_period_intervals(effects: pd.DataFrame, design: Any, units_data: list[tuple[FloatArray, FloatArray, np.ndarray]],
                          lams: list[float], alpha: float) -> tuple[pd.DataFrame, Flag | None]:
    """Conformal interval and p-value for each treated unit's gap in each post period."""
    out = effects.copy()
    lows, highs, ps = [], [], []
    unbounded = 0
    for (y1, Y0, post), lam, u in zip(units_data, lams, design.treated):
        pre_idx = np.flatnonzero(~post)
        T0 = pre_idx.size
        if 1.0 / (T0 + 1) > alpha:
            n = int(post.sum())
            lows += [-np.inf] * n
            highs += [np.inf] * n
            ps += [1.0] * n
            unbounded += n
            continue
        scale = float(np.std(y1[~post] - Y0[:, ~post].T @ ridge_ascm_weights(Y0[:, ~post], y1[~post], lam)[0])) or 1.0
        for t in np.flatnonzero(post):
            cols = np.r_[pre_idx, t]
            mask = np.zeros(cols.size, dtype=bool)
            mask[-1] = True
            unit = [(y1[cols], Y0[:, cols], mask)]
            gap = float(y1[t] - Y0[:, t] @ ridge_ascm_weights(Y0[:, pre_idx], y1[pre_idx], lam)[0])
            lo, hi, p0, why = conformal_interval(gap, unit, [lam], alpha, 16, scale, bisect_steps=16)
            unbounded += bool(why) or not (np.isfinite(lo) and np.isfinite(hi))
            lows.append(lo)
            highs.append(hi)
            ps.append(p0)
    out["conf_low"], out["conf_high"], out["p_value"] = lows, highs, ps
    flag = None
    if unbounded:
        flag = Flag("inference", "medium", f"{unbounded} of {len(out)} per-period conformal intervals are "
                    "unbounded (too few pre-periods for the level, or the test does not reject far-away "
                    "effects); see conf_low/conf_high in effects.", source="ascm_conformal")
    return out, flag


def _spec_source(spec: Any) -> str:
    return "jackknife_plus" if isinstance(spec, JackknifePlus) else "conformal"


def _jackknife_plus_inference(units_data: list[tuple[FloatArray, FloatArray, np.ndarray]], lams: list[float],
                              effects: pd.DataFrame, alpha: float,
                              flags: list[Flag]) -> tuple[float, float, float, str, pd.DataFrame]:
    """Headline and per-period jackknife+ intervals (treated units share one start).

    Several treated units are averaged before the interval is formed (their held-out errors
    and predictions, as ``augsynth`` averages the treated units); each unit's per-period
    intervals use its own refits.
    """
    fits = [jackknife_plus(y1, Y0, ~post, lm) for (y1, Y0, post), lm in zip(units_data, lams)]
    n = fits[0][0].size
    out = effects.copy()
    lows, highs, ps = [], [], []
    for (y1, _Y0, post), (resid, pred) in zip(units_data, fits):
        for j, yt in enumerate(y1[post]):
            c_lo, c_hi = _jk_bounds(pred[:, j], resid, alpha)
            lows.append(yt - c_hi)
            highs.append(yt - c_lo)
            ps.append(_jk_p_value(pred[:, j], resid, yt))
    out["conf_low"], out["conf_high"], out["p_value"] = lows, highs, ps
    resid_bar = np.mean([r for r, _ in fits], axis=0)
    pred_bar = np.mean([p.mean(axis=1) for _, p in fits], axis=0)
    y_bar = float(np.mean([y1[post].mean() for y1, _Y0, post in units_data]))
    c_lo, c_hi = _jk_bounds(pred_bar, resid_bar, alpha)
    lo, hi = y_bar - c_hi, y_bar - c_lo
    p0 = _jk_p_value(pred_bar, resid_bar, y_bar)
    note = (f"jackknife+ over {n} pre-periods (Barber et al. 2021), per-side level alpha/2; the "
            "average effect's interval adds per-period held-out errors to the average prediction "
            "(conservative, as augsynth).")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        need = int(np.ceil(2.0 / alpha - 1.0))
        why = (f"with {n} pre-periods the jackknife+ interval at alpha = {alpha} is unbounded (it needs at "
               f"least {need}); use more pre-periods, a larger alpha, or inference=Conformal().")
        note = why
        flags.append(Flag("inference", "high", f"jackknife+ interval: {why}", source="ascm_jackknife_plus"))
    return lo, hi, p0, note, out


@register_estimator
@dataclass(frozen=True)
class AugmentedSyntheticControl:
    """Ridge augmented synthetic control (outcome-only, lagged outcomes as predictors).

    Parameters
    ----------
    lambda_ : float or "cv"
        Ridge penalty; ``"cv"`` picks it by rolling-origin cross-validation (1-SE rule).
    prefit_tolerance : float
        As in :class:`~evalint.estimators.synth.scm.SyntheticControl` (applied to the
        SC pre-fit, before augmentation).

    References
    ----------
    Ben-Michael, Feller & Rothstein (2021); Chernozhukov, Wüthrich & Zhu (2021).
    """

    name: ClassVar[str] = "augmented_synthetic_control"

    lambda_: float | str = "cv"
    prefit_tolerance: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.lambda_, str):
            if self.lambda_ != "cv":
                raise SpecificationError(f"lambda_={self.lambda_!r}: give a number >= 0 or 'cv'.")
        elif not (isinstance(self.lambda_, (int, float)) and self.lambda_ >= 0 and np.isfinite(self.lambda_)):
            raise SpecificationError(f"lambda_ must be a finite number >= 0 or 'cv'; got {self.lambda_!r}.")

    def fit(self, panel: Panel, *, treated: Any = None, intervention: Any = None,
            donors: Sequence[Any] | None = None, outcome: str | None = None, inference: Any = None,
            calendar: Any = None, alpha: float = 0.05, seed: int | None = 0) -> EffectResult:
        """Fit the ridge ASCM of each treated unit; conformal interval for the average effect."""
        spec = inference if inference is not None else Conformal()
        require_supported("AugmentedSyntheticControl", spec, (Conformal, JackknifePlus))
        design = synth_design(panel, treated=treated, intervention=intervention, donors=donors, outcome=outcome)
        times = [str(p) for p in design.periods]
        Y0_all = design.Y.loc[list(design.donors)].to_numpy(dtype=float)  # donors x T
        flags: list[Flag] = []
        diagnostics = []
        series, weight_rows, effects, units_data, lams, atts, cv_tables = [], [], [], [], [], [], []
        for u in design.treated:
            pre = design.pre_mask(u)
            y1 = design.treated_vector(u)
            if isinstance(self.lambda_, str):
                lam, cv = choose_lambda(Y0_all[:, pre], y1[pre])
                cv_tables.append(cv.assign(treated_unit=u))
            else:
                lam = float(self.lambda_)
            gamma, w_scm = ridge_ascm_weights(Y0_all[:, pre], y1[pre], lam)
            synth = Y0_all.T @ gamma
            gaps = y1 - synth
            atts.append(float(gaps[~pre].mean()))
            lams.append(lam)
            units_data.append((y1, Y0_all, ~pre))
            sc_fit = UnitFit(u, design.start[u], design.donors, w_scm, None, (), None, None, y1, Y0_all.T @ w_scm,
                             pre, float(np.mean((y1[pre] - Y0_all[:, pre].T @ w_scm) ** 2)))
            check, fl = prefit_diagnostics(sc_fit, design, self.prefit_tolerance)
            diagnostics.append(check)
            flags.extend(fl)
            series.append(pd.DataFrame({"unit": u, "time": times, "treated": y1, "synthetic": synth,
                                        "gap": gaps, "synthetic_scm": Y0_all.T @ w_scm, "post": ~pre}))
            for d, g, w in zip(design.donors, gamma, w_scm):
                weight_rows.append({"treated_unit": u, "unit": d, "weight": float(g), "scm_weight": float(w)})
            rel = np.arange(len(times)) - int(pre.sum())
            for t, g, r, post in zip(times, gaps, rel, ~pre):
                if post:
                    effects.append({"term": "gap", "estimate": g, "group": str(u), "time": t, "rel_time": r})
        estimate = float(np.mean(atts))

        note = ""
        lo, hi, p0 = -np.inf, np.inf, np.nan
        effects_frame = tidy(pd.DataFrame(effects))
        if len({design.start[u] for u in design.treated}) > 1:
            note = (f"{'conformal' if isinstance(spec, Conformal) else 'jackknife+'} inference needs one "
                    "common treatment start; these units start at different dates: no interval "
                    "(per-unit estimates in effects).")
            flags.append(Flag("inference", "high", note, source=f"ascm_{_spec_source(spec)}"))
        elif isinstance(spec, JackknifePlus):
            lo, hi, p0, note, effects_frame = _jackknife_plus_inference(units_data, lams, effects_frame,
                                                                        alpha, flags)
        else:
            pre0 = design.pre_mask(design.treated[0])
            resid_sd = float(np.std(np.concatenate([d[0][pre0] - d[1][:, pre0].T @ ridge_ascm_weights(
                d[1][:, pre0], d[0][pre0], lm)[0] for d, lm in zip(units_data, lams)]))) if pre0.sum() > 1 else 1.0
            lo, hi, p0, why = conformal_interval(estimate, units_data, lams, alpha, spec.grid_size,
                                                 scale=max(resid_sd, 1e-8))
            if why:
                note = why
                flags.append(Flag("inference", "high", f"conformal interval: {why}", source="ascm_conformal"))
        if isinstance(spec, Conformal) and spec.per_period:
            effects_frame, pp_flag = _per_period_intervals(effects_frame, design, units_data, lams, alpha)
            if pp_flag is not None:
                flags.append(pp_flag)
        from scipy.stats import norm

        z = float(norm.ppf(1 - alpha / 2))
        se = (hi - lo) / (2 * z) if np.isfinite(lo) and np.isfinite(hi) else (np.nan if np.isnan(lo) else np.inf)
        if not note:
            note = "SE shown is the conformal interval's half-width divided by z (for display only)."
        start_map = {u: str(p) for u, p in design.start.items()}
        inter = next(iter(start_map.values())) if len(set(start_map.values())) == 1 else start_map
        cal_check, cal_flags = calendar_check(panel, inter, outcome=design.outcome,
                                              treated_units=list(design.treated),
                                              comparison_units=list(design.donors), calendar=calendar,
                                              design="synth")
        if cal_check is not None:
            diagnostics.append(cal_check)
        flags.extend(cal_flags)
        tables = {"donor_weights": pd.DataFrame(weight_rows)}
        if cv_tables:
            tables["lambda_cv"] = pd.concat(cv_tables, ignore_index=True)
        return make_result(
            method="Augmented synthetic control (ridge)",
            estimand="ATT: average post-treatment gap, treated minus ridge-augmented synthetic control",
            term="att", outcome=design.outcome, estimate=estimate, se=se, alpha=alpha,
            inference=InferenceInfo(name="jackknife+" if isinstance(spec, JackknifePlus) else "conformal",
                                    description=spec.description,
                                    seed=seed, note=note),
            panel=panel, seed=seed, spec={"estimator": repr(self), "lambda": lams,
                                          "treated": list(map(str, design.treated)), "start": start_map},
            ci=(float(lo), float(hi)), p_value=p0, effects=effects_frame,
            series=pd.concat(series, ignore_index=True), tables=tables, diagnostics=tuple(diagnostics),
            flags=tuple(flags), plot_kind="synth", intervention=inter, n_obs=int(design.Y.size),
            info={"lambda": {str(u): lm for u, lm in zip(design.treated, lams)},
                  "att_by_unit": {str(u): a for u, a in zip(design.treated, atts)}},
            references=(
                ("Ben-Michael, E., Feller, A. & Rothstein, J. (2021). The augmented synthetic control method. "
                "JASA 116(536), 1789-1803."),
                ("Barber, R. F., Candes, E. J., Ramdas, A. & Tibshirani, R. J. (2021). Predictive inference "
                 "with the jackknife+. Annals of Statistics 49(1), 486-507.") if isinstance(spec, JackknifePlus) else
                ("Chernozhukov, V., Wuthrich, K. & Zhu, Y. (2021). An exact and robust conformal inference "
                "method for counterfactual and synthetic controls. JASA 116(536), 1849-1864."),
            ),
        )

    @classmethod
    def contract_example(cls) -> tuple[AugmentedSyntheticControl, Panel, dict[str, Any]]:
        """The SyntheticControl example panel (1 treated unit, 8 donors, 24 quarters)."""
        from evalint.estimators.synth.scm import SyntheticControl

        _, panel, kw = SyntheticControl.contract_example()
        return cls(), panel, kw


def augmented_synthetic_control(panel: Panel, *, treated: Any = None, intervention: Any = None,
                                donors: Sequence[Any] | None = None, outcome: str | None = None,
                                lambda_: float | str = "cv", inference: Any = None, calendar: Any = None,
                                alpha: float = 0.05, seed: int | None = 0) -> EffectResult:
    """Convenience wrapper: ``AugmentedSyntheticControl(lambda_=...).fit(panel, ...)``.

    References
    ----------
    Ben-Michael, Feller & Rothstein (2021).
    """
    return AugmentedSyntheticControl(lambda_=lambda_).fit(
        panel, treated=treated, intervention=intervention, donors=donors, outcome=outcome,
        inference=inference, calendar=calendar, alpha=alpha, seed=seed)
