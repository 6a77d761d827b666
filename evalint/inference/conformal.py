"""Conformal and jackknife+ intervals for a refitted counterfactual (the ridge augmented synthetic control).

The default, ``inference=Conformal()``, is the conformal test of Chernozhukov, Wüthrich &
Zhu (2021) as used by BFR: under :math:`H_0:` the effect is :math:`\\tau_0` in every post
period, subtract :math:`\\tau_0` from the treated post outcomes, refit on all periods, and
compare the mean absolute post-period residual with its values under the T cyclic shifts
(moving-block permutations) of the residual series; the p-value is the share of shifts at
least as large. The (1 - alpha) interval collects the :math:`\\tau_0` not rejected (grid
search plus bisection at the ends). With T periods the smallest attainable p-value is 1/T:
when that exceeds alpha the interval is unbounded, which is flagged, never returned as NaN.

The alternative, ``inference=JackknifePlus()``, is the jackknife+ over pre-treatment periods
(Barber, Candès, Ramdas & Tibshirani 2021, as ``augsynth``'s ``inf_type = "jackknife+"``
uses it): each pre-period in turn is held out, the ASCM refitted (same lambda) on the others,
its error at the held-out period ``R_s`` and its post-period predictions ``P_s(t)`` kept; the
counterfactual interval at post period t runs from the ``floor((alpha/2)(n+1))``-th smallest
``P_s(t) - |R_s|`` to the ``ceil((1 - alpha/2)(n+1))``-th smallest ``P_s(t) + |R_s|``
(n = pre-periods), so that the guarantee of Barber et al. (coverage >= 1 - 2 x the level per
side) is >= 1 - alpha when periods are exchangeable. With fewer than ``2/alpha - 1``
pre-periods the interval is unbounded (flagged, never NaN).

Both run through :func:`evalint.inference.dispatch.infer` on a :class:`CounterfactualRefit`:
the treated units' series, their donors, the penalties and a refit callback (the weights of
the counterfactual fitted on given periods), which is all the estimator hands over; the
ridge augmented synthetic control
(:class:`~evalint.estimators.synth.augmented.estimator.AugmentedSyntheticControl`) is one.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from evalint._distributions import norm_ppf
from evalint._typing import FloatArray, check_positive_int
from evalint.diagnostics.base import Flag
from evalint.inference.dispatch import register_inference
from evalint.inference.specs import InferenceSpec

__all__ = ["Conformal", "JackknifePlus", "CounterfactualRefit", "CounterfactualInference", "conformal_interval",
           "conformal_p_value", "jackknife_plus"]

#: ``weights(Y0 donors x periods, y1 periods, penalty) -> donor weights`` fitted on the given periods
WeightsFn = Callable[[FloatArray, FloatArray, float], FloatArray]


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


def jackknife_plus(y1: FloatArray, Y0: FloatArray, pre: np.ndarray, lam: float,
                   weights: WeightsFn) -> tuple[FloatArray, FloatArray]:
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
    weights : callable
        ``weights(Y0, y1, lam)``: the counterfactual's donor weights fitted on the given periods.

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
        gamma = weights(Y0[:, keep], y1[keep], lam)
        resid[k] = y1[s] - Y0[:, s] @ gamma
        pred[k] = Y0[:, post].T @ gamma
    return resid, pred


def _residuals(Y1: FloatArray, Y0: FloatArray, lam: float, weights: WeightsFn) -> FloatArray:
    """Residuals over all T periods of the counterfactual fitted on all of them."""
    g = weights(Y0, Y1, lam)
    out: FloatArray = Y1 - Y0.T @ g
    return out


def conformal_p_value(tau0: float, units: list[tuple[FloatArray, FloatArray, np.ndarray]], lam: Sequence[float],
                      weights: WeightsFn) -> float:
    """p-value of H0: effect = tau0 in every post period of every treated unit.

    ``units``: (Y1 over T, Y0 donors x T, post mask). Residuals of several units (same
    post mask) are averaged before the permutation test.
    """
    res = []
    post = units[0][2]
    for (y1, Y0, mask), lm in zip(units, lam):
        res.append(_residuals(y1 - tau0 * mask, Y0, lm, weights))
    u = np.mean(res, axis=0)
    T = u.size
    idx = np.flatnonzero(post)
    a = np.abs(u)
    stats = a[(idx[None, :] + np.arange(T)[:, None]) % T].mean(axis=1)
    return float(np.mean(stats >= stats[0] - 1e-12 * max(1.0, abs(stats[0]))))


def conformal_interval(estimate: float, units: list[tuple[FloatArray, FloatArray, np.ndarray]],
                       lam: Sequence[float], alpha: float, grid_size: int, scale: float,
                       weights: WeightsFn, bisect_steps: int = 30) -> tuple[float, float, float, str]:
    """(low, high, p-value at 0, note). Unbounded ends are +/- inf with a note saying why.

    The interval is the convex hull of the accepted nulls (the acceptance set need not be
    an interval): each side is probed on a fine grid near the estimate, on steps growing by
    3x out to ``1e4 * scale`` and at 0; the outermost accepted probe is refined by bisection
    against the next (rejected) probe. If the farthest probe is still accepted that side is
    unbounded (+/- inf, with a note).
    """
    T = units[0][0].size
    p0 = conformal_p_value(0.0, units, lam, weights)
    if 1.0 / T > alpha:
        return -np.inf, np.inf, p0, (f"with {T} periods the smallest attainable conformal p-value is 1/{T} "
                                     f"> alpha = {alpha}: every effect is accepted, the interval is unbounded.")
    base = max(scale, 1e-8)
    far = 1e4 * max(base, abs(estimate))

    def accepted(t: float) -> bool:
        return conformal_p_value(t, units, lam, weights) > alpha

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


def _per_period_intervals(effects: pd.DataFrame, units_data: list[tuple[FloatArray, FloatArray, np.ndarray]],
                          lams: list[float], alpha: float, weights: WeightsFn) -> tuple[pd.DataFrame, Flag | None]:
    """Conformal interval and p-value for each treated unit's gap in each post period."""
    out = effects.copy()
    lows, highs, ps = [], [], []
    unbounded = 0
    for (y1, Y0, post), lam in zip(units_data, lams):
        pre_idx = np.flatnonzero(~post)
        T0 = pre_idx.size
        if 1.0 / (T0 + 1) > alpha:
            n = int(post.sum())
            lows += [-np.inf] * n
            highs += [np.inf] * n
            ps += [1.0] * n
            unbounded += n
            continue
        scale = float(np.std(y1[~post] - Y0[:, ~post].T @ weights(Y0[:, ~post], y1[~post], lam))) or 1.0
        for t in np.flatnonzero(post):
            cols = np.r_[pre_idx, t]
            mask = np.zeros(cols.size, dtype=bool)
            mask[-1] = True
            unit = [(y1[cols], Y0[:, cols], mask)]
            gap = float(y1[t] - Y0[:, t] @ weights(Y0[:, pre_idx], y1[pre_idx], lam))
            lo, hi, p0, why = conformal_interval(gap, unit, [lam], alpha, 16, scale, weights, bisect_steps=16)
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


def _jackknife_plus_inference(units_data: list[tuple[FloatArray, FloatArray, np.ndarray]], lams: list[float],
                              effects: pd.DataFrame, alpha: float, flags: list[Flag],
                              weights: WeightsFn) -> tuple[float, float, float, str, pd.DataFrame]:
    """Headline and per-period jackknife+ intervals (treated units share one start).

    Several treated units are averaged before the interval is formed (their held-out errors
    and predictions, as ``augsynth`` averages the treated units); each unit's per-period
    intervals use its own refits.
    """
    fits = [jackknife_plus(y1, Y0, ~post, lm, weights) for (y1, Y0, post), lm in zip(units_data, lams)]
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


@runtime_checkable
class CounterfactualRefit(Protocol):
    """A counterfactual of each treated unit built from donors, refitted on chosen periods.

    Attributes
    ----------
    units : list of (y1 (T,), Y0 (donors x T), post mask (T,))
        Each treated unit's outcomes, its donors' outcomes and its post-treatment periods.
    penalties : list of float
        Each unit's penalty (kept fixed across refits).
    estimate : float
        The average effect (the headline).
    """

    @property
    def units(self) -> list[tuple[FloatArray, FloatArray, np.ndarray]]: ...

    @property
    def penalties(self) -> list[float]: ...

    @property
    def estimate(self) -> float: ...

    def weights(self, Y0: FloatArray, y1: FloatArray, penalty: float) -> FloatArray:
        """The refit callback: donor weights of the counterfactual fitted on the given periods."""
        ...


@dataclass(frozen=True)
class CounterfactualInference:
    """Interval, p-value, display SE, per-period effects and flags of a conformal or jackknife+ run."""

    name: str
    ci: tuple[float, float]
    p_value: float
    se: float
    note: str
    effects: pd.DataFrame
    flags: tuple[Flag, ...]
    reference: str


_CONFORMAL_REF = ("Chernozhukov, V., Wuthrich, K. & Zhu, Y. (2021). An exact and robust conformal inference "
                  "method for counterfactual and synthetic controls. JASA 116(536), 1849-1864.")
_JK_REF = ("Barber, R. F., Candes, E. J., Ramdas, A. & Tibshirani, R. J. (2021). Predictive inference "
           "with the jackknife+. Annals of Statistics 49(1), 486-507.")


def _display_se(lo: float, hi: float, alpha: float) -> float:
    """The interval's half-width over z (display only): inf when unbounded, NaN when empty."""

    z = float(norm_ppf(1 - alpha / 2))
    return (hi - lo) / (2 * z) if np.isfinite(lo) and np.isfinite(hi) else (np.nan if np.isnan(lo) else np.inf)


@register_inference(Conformal, CounterfactualRefit)
def _conformal(spec: Conformal, fit: CounterfactualRefit, *, alpha: float, effects: pd.DataFrame,
               headline: bool = True) -> CounterfactualInference:
    """Conformal interval of the average effect (``headline``) and, with ``per_period``, of each gap."""
    units, lams, weights = fit.units, fit.penalties, fit.weights
    flags: list[Flag] = []
    note = ""
    lo, hi, p0 = -np.inf, np.inf, np.nan
    if headline:
        pre0 = ~units[0][2]
        resid_sd = float(np.std(np.concatenate([d[0][pre0] - d[1][:, pre0].T @ weights(d[1][:, pre0], d[0][pre0], lm)
                                                for d, lm in zip(units, lams)]))) if pre0.sum() > 1 else 1.0
        lo, hi, p0, why = conformal_interval(fit.estimate, units, lams, alpha, spec.grid_size,
                                             max(resid_sd, 1e-8), weights)
        if why:
            note = why
            flags.append(Flag("inference", "high", f"conformal interval: {why}", source="ascm_conformal"))
    if spec.per_period:
        effects, pp_flag = _per_period_intervals(effects, units, lams, alpha, weights)
        if pp_flag is not None:
            flags.append(pp_flag)
    return CounterfactualInference("conformal", (float(lo), float(hi)), p0, _display_se(lo, hi, alpha), note,
                                   effects, tuple(flags), _CONFORMAL_REF)


@register_inference(JackknifePlus, CounterfactualRefit)
def _jackknife_plus(spec: JackknifePlus, fit: CounterfactualRefit, *, alpha: float, effects: pd.DataFrame,
                    headline: bool = True) -> CounterfactualInference:
    """Jackknife+ intervals of the average effect and of each post-period gap (one common start)."""
    flags: list[Flag] = []
    note = ""
    lo, hi, p0 = -np.inf, np.inf, np.nan
    if headline:
        lo, hi, p0, note, effects = _jackknife_plus_inference(fit.units, fit.penalties, effects, alpha, flags,
                                                              fit.weights)
    return CounterfactualInference("jackknife+", (float(lo), float(hi)), p0, _display_se(lo, hi, alpha), note,
                                   effects, tuple(flags), _JK_REF)
