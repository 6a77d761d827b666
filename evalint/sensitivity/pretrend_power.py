"""Power of the pre-trend test against linear violations, and the bias after passing it (Roth 2022).

A linear violation of parallel trends with slope ``gamma`` (outcome units per event time),
zero at the reference period ``e = -1``, shifts every event-time coefficient by
``delta_e = gamma (e + 1)``. The pre-period estimates are ``N(delta_pre, Sigma_pre)``, so:

* the power of the pre-test is ``P(beta_pre rejected)``:
  - ``test="wald"`` (the joint Wald test evalint reports beside C-S results):
    ``1 - F_{chi2_k(lambda)}(chi2_{k,1-alpha})`` with ``lambda = delta_pre' Sigma_pre^{-1} delta_pre``;
  - ``test="nis"`` (no individual pre-period coefficient significant, Roth's default):
    ``1 - P(|beta_pre,j| <= z_{1-alpha/2} se_j for all j)``, a rectangle probability of the
    multivariate normal;
* the slope with 50% (80%) power solves power = 0.5 (0.8): closed form in ``lambda`` for the
  Wald test, a root search for NIS;
* the bias of the effect at ``event_time`` among studies that pass is
  ``delta_e + Sigma_{e,pre} Sigma_pre^{-1} (E[beta_pre | pass] - delta_pre)``; the truncated
  mean ``E[beta_pre | pass]`` is estimated from ``draws`` normal draws (``seed``), with its
  Monte Carlo standard error. Unconditionally the bias is ``delta_e``.

References
----------
Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
    trends. American Economic Review: Insights 4(3), 305-322.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from evalint._distributions import chi2_ppf, ncx2_sf, norm_cdf, norm_ppf
from evalint._typing import check_alpha, check_option
from evalint.errors import SpecificationError
from evalint.sensitivity.event_time import EventTimeEstimates, event_time_estimates

__all__ = ["pretrend_power", "pretest_power"]

TESTS = ("wald", "nis")


def _linear(times: np.ndarray) -> np.ndarray:
    return times + 1.0


def pretest_power(delta_pre: np.ndarray, sigma_pre: np.ndarray, alpha: float = 0.05, test: str = "wald") -> float:
    """Probability that the pre-test rejects when the pre-period estimates are ``N(delta_pre, sigma_pre)``."""
    d = np.asarray(delta_pre, dtype=float)
    k = len(d)
    if test == "wald":
        lam = float(d @ np.linalg.solve(sigma_pre, d))
        crit = chi2_ppf(1 - alpha, k)
        return float(ncx2_sf(crit, k, lam)) if lam > 0 else float(alpha)
    z = norm_ppf(1 - alpha / 2)
    se = np.sqrt(np.diag(sigma_pre))
    if k == 1:
        return float(1 - (norm_cdf(z - d[0] / se[0]) - norm_cdf(-z - d[0] / se[0])))
    corr = sigma_pre / np.outer(se, se)
    from scipy import stats  # the multivariate normal cdf (scipy.stats costs ~0.4 s to import)

    mvn = stats.multivariate_normal(mean=d / se, cov=corr, allow_singular=False, seed=0, maxpts=25_000 * k,
                                    abseps=1e-6, releps=1e-6)
    inside = mvn.cdf(np.full(k, z), lower_limit=np.full(k, -z))
    return float(1 - inside)


def _check_invertible(sigma_pre: np.ndarray, pre_times: np.ndarray) -> None:
    """Refuse a singular covariance of the pre-period estimates (the Wald statistic and the
    normal draws need its inverse; a near-singular one gives a power of about 1 whatever the slope)."""
    eig = np.linalg.eigvalsh(sigma_pre)
    if eig[-1] <= 0 or eig[0] <= 1e-10 * eig[-1]:
        rank = int(np.sum(eig > 1e-10 * max(eig[-1], 0.0))) if eig[-1] > 0 else 0
        raise SpecificationError(
            f"the covariance of the {len(pre_times)} pre-period estimates (event times "
            f"{pre_times[0]:g} to {pre_times[-1]:g}) is singular (rank {rank}): some pre-period event times are "
            "estimated from too few units or cohorts for a joint test. Use fewer pre-periods, e.g. "
            "aggregate_att(fit, 'dynamic', min_e=-6) or event_study(panel, leads=6).")


def _passes(draws: np.ndarray, sigma_pre: np.ndarray, alpha: float, test: str) -> np.ndarray:
    k = draws.shape[1]
    if test == "wald":
        w = np.einsum("ij,ij->i", draws, np.linalg.solve(sigma_pre, draws.T).T)
        return w <= chi2_ppf(1 - alpha, k)
    z = norm_ppf(1 - alpha / 2)
    return np.all(np.abs(draws) <= z * np.sqrt(np.diag(sigma_pre)), axis=1)


def _slope_for_power(target: float, est: EventTimeEstimates, alpha: float, test: str) -> float:
    t_pre = _linear(est.pre_times)
    s_pp = est.sigma[: est.n_pre, : est.n_pre]
    if test == "wald":
        k = est.n_pre
        crit = chi2_ppf(1 - alpha, k)
        if target <= alpha:
            return 0.0
        hi = 1.0
        while ncx2_sf(crit, k, hi) < target:
            hi *= 2
        lam = optimize.brentq(lambda x: ncx2_sf(crit, k, x) - target, 0.0, hi, xtol=1e-12)
        return float(np.sqrt(lam / float(t_pre @ np.linalg.solve(s_pp, t_pre))))
    scale = float(np.sqrt(np.min(np.diag(s_pp))))
    hi = scale
    while pretest_power(hi * t_pre, s_pp, alpha, test) < target:
        hi *= 2
    return float(optimize.brentq(lambda g: pretest_power(g * t_pre, s_pp, alpha, test) - target, 0.0, hi,
                                 xtol=1e-6 * scale))


def pretrend_power(result: Any, slope: float | Sequence[float] | None = None, alpha: float = 0.05, *,
                   test: str = "wald", event_time: Any = 0, power: Sequence[float] = (0.5, 0.8),
                   draws: int = 200_000, seed: int = 0) -> pd.DataFrame:
    """Power of the pre-trend test against linear violations and the bias after passing it.

    Parameters
    ----------
    result : EffectResult or EventTimeEstimates
        An event study (see :func:`evalint.honest_did` for which results carry the covariance).
    slope : float or sequence of float, optional
        Slopes of the hypothesised linear violation (outcome units per event time, 0 at
        ``e = -1``). Default: the slopes with the ``power`` levels only.
    alpha : float
        Level of the pre-test.
    test : {"wald", "nis"}
        Joint Wald test, or "no individual pre-period coefficient significant" (Roth 2022).
    event_time : int
        Post-period event time whose bias is reported.
    power : sequence of float
        Power levels whose slopes are reported (default 50% and 80%).
    draws, seed : int
        Normal draws for the bias conditional on passing.

    Returns
    -------
    pandas.DataFrame
        One row per slope: ``row`` ("slope" or "<p>% power"), ``slope``, ``power``,
        ``pass_probability``, ``bias`` (= ``slope (event_time + 1)``, unconditional),
        ``bias_if_passed`` and its Monte Carlo SE ``bias_if_passed_mc_se``, ``estimate`` and
        ``se`` of the effect. ``attrs`` hold ``test``, ``alpha``, ``event_time``.

    References
    ----------
    Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
        trends. American Economic Review: Insights 4(3), 305-322.
    """
    a = check_alpha(alpha)
    check_option("test", test, TESTS)
    est = result if isinstance(result, EventTimeEstimates) else event_time_estimates(result)
    _check_invertible(est.sigma[: est.n_pre, : est.n_pre], est.pre_times)
    if event_time not in list(est.post_times):
        raise SpecificationError(f"event_time={event_time!r} is not a post-period event time; available: "
                                 f"{', '.join(f'{e:g}' for e in est.post_times)}.")
    for p in power:
        if not a < float(p) < 1:
            raise SpecificationError(f"power levels must lie between alpha={a:g} and 1; got {p!r}.")
    if int(draws) < 1000:
        raise SpecificationError(f"draws={draws!r}: use at least 1000 normal draws.")
    try:
        slopes = [] if slope is None else list(np.atleast_1d(np.asarray(slope, dtype=float)).ravel())
    except (TypeError, ValueError):
        raise SpecificationError(f"slope={slope!r}: give numbers (outcome units per event time).") from None
    if not all(np.isfinite(slopes)):
        raise SpecificationError("slope values must be finite.")
    rows = [("slope", s) for s in slopes]
    rows += [(f"{100 * float(p):g}% power", _slope_for_power(float(p), est, a, test)) for p in power]
    n_pre = est.n_pre
    s_pp = est.sigma[:n_pre, :n_pre]
    j = n_pre + int(np.flatnonzero(est.post_times == float(event_time))[0])
    coef = np.linalg.solve(s_pp, est.sigma[:n_pre, j])        # Sigma_pre^{-1} Sigma_{pre,e}
    t_pre = _linear(est.pre_times)
    e_lin = float(event_time) + 1.0
    rng = np.random.default_rng(seed)
    noise = rng.multivariate_normal(np.zeros(n_pre), s_pp, size=int(draws), method="cholesky")
    out = []
    for label, g in rows:
        d_pre = g * t_pre
        x = noise + d_pre
        ok = _passes(x, s_pp, a, test)
        proj = (x[ok] - d_pre) @ coef
        n_ok = int(ok.sum())
        cond = g * e_lin + (float(proj.mean()) if n_ok else np.nan)
        mc = float(proj.std(ddof=1) / np.sqrt(n_ok)) if n_ok > 1 else np.nan
        pw = pretest_power(d_pre, s_pp, a, test)
        out.append({"row": label, "slope": g, "power": pw, "pass_probability": 1 - pw, "bias": g * e_lin,
                    "bias_if_passed": cond, "bias_if_passed_mc_se": mc})
    frame = pd.DataFrame(out)
    frame["estimate"] = float(est.betahat[j])
    frame["se"] = float(np.sqrt(est.sigma[j, j]))
    frame.attrs.update({"test": test, "alpha": a, "event_time": event_time, "n_pre": n_pre, "draws": int(draws)})
    return frame
