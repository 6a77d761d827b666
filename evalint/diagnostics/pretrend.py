"""Pre-trend tests for difference-in-differences: one module for every DiD estimator.

The inputs are the pre-treatment effects aggregated by event time (``e < 0``), and each
cluster's contribution to them: a ``G x E`` matrix ``Z`` with ``V = Z'Z`` the (cluster-robust
or influence-function) covariance of the ``E`` estimates, and which clusters hold treated
units. Callaway-Sant'Anna, Sun-Abraham, the imputation estimator and the TWFE event study
all provide these.

Three tests:

``"trend"`` (default)
    The linear pre-trend: the slope per period of the pre-treatment path, a single linear
    contrast ``c'b`` with ``t = c'b / sqrt(c'Vc)``. ``form="levels"`` (effects relative to a
    reference period ``r``, e.g. event studies and C-S with a universal base period):
    ``c_e = (e - r) / sum (e - r)^2``, the least-squares slope through the reference point.
    ``form="differences"`` (period-on-period changes, C-S's varying base period): the mean of
    the changes. Variance ``S_T + S_U`` with ``S_s = G_s/(G_s - 1) sum_{g in s} (Z_g c)^2``
    over the treated and untreated clusters (each side's variance of a mean from ``G_s``
    clusters; influence functions and CR1 scores divide by ``G_s``, which alone made the test
    over-reject, 6.3% instead of 5% with 4 treated units); reference distribution ``t`` with
    Welch-Satterthwaite degrees of freedom
    ``df = (S_T + S_U)^2 / (S_T^2/(G_T - 1) + S_U^2/(G_U - 1))`` (Welch 1947), so that with
    one side alone it is the two-sample Welch t-test exactly: with a handful of treated units the
    treated share dominates and the
    reference approaches ``t(G_T - 1)``, the exact small-sample reference when the treated
    units' contributions are normal. With one treated cluster the treated share cannot be
    estimated and the test is reported as not available.
``"joint"``
    All ``E`` event-time effects (in at most ``G_T - 2`` consecutive bins, averaged) jointly,
    Hotelling's small-sample form ``F = W (n - k) / (k (n - 1)) ~ F(k, n - k)`` with
    ``W = b'V^-b`` and ``n = min(G_T, G_U)`` (the covariance is estimated from ``n``
    independent clusters on the scarcer side).
``"wald"``
    The joint Wald test on the estimator's own pre-treatment coefficients with a chi-square
    (``df2=None``, R ``did``'s ``att_gt`` pre-test) or ``F(q, df2)`` reference
    (:func:`wald_check`; the TWFE event study's ``F(q, G - 1)`` and C-S's chi-square, R ``did``), or
    BJS (2024) Test 1's ``F(K, G - 1)`` on the lead coefficients of the imputation estimator's
    untreated-cell regression (:func:`lead_wald_check`). With many pre-treatment cells and few units its covariance is
    estimated from fewer units than cells and it rejects exactly parallel trends almost
    always (benchmarks/RESULTS.md); kept for replication.

Every test also reports its power against a linear violation of parallel trends (Roth 2022):
the slope per period it detects with 50% and 80% power, and, for the linear trend test, the
bias of the effect at event time 0 under the 80% slope among studies that pass it
(:func:`linear_violation_power`; ``CheckResult.power``, the check's text and the result's
``diagnostics_frame()``).

Size and power on NHS-shaped panels are in methods/did.md ("Pre-trend tests").

References
----------
Welch, B. L. (1947). The generalization of 'Student's' problem when several different
    population variances are involved. Biometrika 34(1/2), 28-35.
Hotelling, H. (1931). The generalization of Student's ratio. Annals of Mathematical
    Statistics 2(3), 360-378.
Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
    trends. American Economic Review: Insights 4(3), 305-322.
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. Journal of Econometrics 225(2), 200-230.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from evalint._distributions import (chi2_ppf, chi2_sf, f_ppf, f_sf, nct_cdf, nct_sf, norm_cdf, norm_pdf, norm_ppf,
                                    norm_sf, t_ppf, t_sf)
from evalint._typing import check_option
from evalint.diagnostics.base import CheckResult, Flag

__all__ = ["PRETREND_METHODS", "lead_wald_check", "linear_violation_power", "pretrend_check", "trend_contrast",
           "wald_check", "welch_df", "welch_variance"]

PRETREND_METHODS = ("trend", "joint", "wald")
_CAVEAT = ("A pre-test has limited power and passing it does not establish parallel trends "
           "(Roth 2022).")


def _side_shares(z: np.ndarray, treated: np.ndarray) -> list[tuple[float, int]]:
    """``(G_s/(G_s-1) sum_{g in s} z_g^2, G_s)`` for the treated and untreated sides."""
    out = []
    for side in (treated, ~treated):
        g = int(side.sum())
        s = float(np.sum(z[side] ** 2))
        out.append((s * g / (g - 1) if g > 1 else s, g))
    return out


def welch_variance(z: np.ndarray, treated: np.ndarray) -> float:
    """Variance of a contrast from its cluster contributions, each side's sum of squares
    scaled by ``G_s/(G_s-1)`` (the variance of a mean estimated from ``G_s`` clusters)."""
    return sum(s for s, _ in _side_shares(np.asarray(z, float), np.asarray(treated, bool)))


def welch_df(z: np.ndarray, treated: np.ndarray) -> float | None:
    """Welch-Satterthwaite df of :func:`welch_variance` split into treated and untreated clusters.

    None when a side with a non-zero share has a single cluster (its variance is not estimable).
    """
    num, den = 0.0, 0.0
    for s, g in _side_shares(np.asarray(z, float), np.asarray(treated, bool)):
        num += s
        if s <= 0:
            continue
        if g < 2:
            return None
        den += s * s / (g - 1)
    if den <= 0:
        return None
    return num * num / den


def trend_contrast(event_times: np.ndarray, form: Literal["levels", "differences"], reference: float = -1.0
                   ) -> np.ndarray:
    """Weights ``c`` with ``c'b`` the per-period slope of the pre-treatment path (see module docstring)."""
    e = np.asarray(event_times, dtype=float)
    if form == "differences":
        return np.full(len(e), 1.0 / len(e))
    d = e - float(reference)
    return d / float(d @ d)


def linear_violation_power(kind: str, scale: float, df: float | None, *, k: int = 1, df2: float | None = None,
                           alpha: float = 0.05, bias_per_slope: float = float("nan"), slope_se: float = float("nan"),
                           cov_ratio: float = float("nan"), event_time: float = 0.0) -> dict[str, float]:
    """Power of a pre-trend test against a linear violation with slope ``gamma`` (Roth 2022).

    ``kind="t"``: the linear trend test, ``t = slope / se`` on ``df`` (None: normal) with the
    slope estimate centred at ``gamma`` under the violation: noncentral t with noncentrality
    ``gamma / se`` (``scale = 1 / se``). ``kind="f"``: an ``F(k, df2)`` test whose noncentrality
    is ``scale * gamma^2``; ``kind="chi2"``: chi-square(k), noncentrality ``scale * gamma^2``.
    Returns the slopes detected with 50% and 80% power (closed form in the noncentrality, one
    root search; an empty dict when no slope reaches them) and, for ``kind="t"``, the bias of the
    effect at ``event_time`` under the 80%
    slope: unconditionally ``gamma * bias_per_slope``; among studies that pass,
    ``gamma * bias_per_slope + cov_ratio * (E[slope | pass] - gamma)`` with ``cov_ratio =
    Cov(effect, slope) / Var(slope)`` and the truncated-normal mean
    ``E[slope | |slope| <= c se] - gamma = se (phi(-c - m) - phi(c - m)) / (Phi(c - m) - Phi(-c - m))``,
    ``m = gamma / se``.

    References
    ----------
    Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel
        trends. American Economic Review: Insights 4(3), 305-322.
    """
    from scipy import optimize

    def power_nc(nc: float) -> float:
        if kind == "t":
            if df is None or not np.isfinite(df):
                c = norm_ppf(1 - alpha / 2)
                return float(norm_sf(c - nc) + norm_cdf(-c - nc))
            c = t_ppf(1 - alpha / 2, df)
            pw = float(nct_sf(c, df, nc) + nct_cdf(-c, df, nc))
            if not np.isfinite(pw):  # scipy's noncentral t fails far in the tail: normal approximation
                pw = float(norm_sf(c - nc) + norm_cdf(-c - nc))
            return pw
        from scipy import stats  # noncentral F and chi2 only (scipy.stats costs ~0.4 s to import)

        if kind == "f":
            crit = f_ppf(1 - alpha, k, df2)
            return float(stats.ncf.sf(crit, k, df2, nc)) if nc > 0 else alpha
        crit = chi2_ppf(1 - alpha, k)
        return float(stats.ncx2.sf(crit, k, nc)) if nc > 0 else alpha

    out: dict[str, float] = {"event_time": float(event_time)}
    for target in (0.5, 0.8):
        hi = 1.0
        while power_nc(hi) < target and hi < 1e8:
            hi *= 2
        if not power_nc(hi) >= target:
            return {}
        nc = float(optimize.brentq(lambda x: power_nc(x) - target, 0.0, hi, xtol=1e-10))
        out[f"slope_{round(100 * target)}"] = nc / scale if kind == "t" else float(np.sqrt(nc / scale))
    g = out["slope_80"]
    out["bias"] = g * bias_per_slope
    out["bias_if_passed"] = float("nan")
    if kind == "t" and np.isfinite(cov_ratio) and np.isfinite(slope_se) and slope_se > 0:
        c = t_ppf(1 - alpha / 2, df) if df is not None and np.isfinite(df) else norm_ppf(1 - alpha / 2)
        m = g / slope_se
        mass = norm_cdf(c - m) - norm_cdf(-c - m)
        shift = slope_se * (norm_pdf(-c - m) - norm_pdf(c - m)) / mass if mass > 0 else float("nan")
        out["bias_if_passed"] = float(g * bias_per_slope + cov_ratio * shift)
    return out


def _power_text(pw: dict[str, float], unit: str = "per period") -> str:
    txt = (f" Power against a linear violation of parallel trends (Roth 2022): a slope of {pw['slope_80']:.3g} "
           f"{unit} is detected with 80% power ({pw['slope_50']:.3g} with 50%)")
    if np.isfinite(pw.get("bias_if_passed", np.nan)):
        txt += (f"; at that slope the effect at event time {pw['event_time']:g} is biased by {pw['bias']:.3g}, "
                f"and by {pw['bias_if_passed']:.3g} among studies that pass this test")
    return txt + "."


def _bins(n_cols: int, k: int) -> np.ndarray:
    """``k x n_cols`` averaging matrix over consecutive event times."""
    edges = np.linspace(0, n_cols, k + 1).round().astype(int)
    out = np.zeros((k, n_cols))
    for j in range(k):
        out[j, edges[j]:edges[j + 1]] = 1.0 / (edges[j + 1] - edges[j])
    return out


def pretrend_check(event_times: Sequence[float], estimates: Sequence[float], contributions: np.ndarray,
                   treated: np.ndarray, *, method: str = "trend",
                   form: Literal["levels", "differences"] = "levels", reference: float = -1.0,
                   alpha: float = 0.05, name: str = "pre_trend", severity: str = "medium",
                   post_contributions: np.ndarray | None = None, post_event_time: float = 0.0) -> CheckResult:
    """Pre-trend test on event-time aggregated pre-treatment effects (``"trend"`` or ``"joint"``).

    Parameters
    ----------
    event_times, estimates : (E,) arrays
        Pre-treatment event times (< 0) and the effects at them.
    contributions : (G, E) array
        Each cluster's contribution: the covariance of ``estimates`` is ``Z'Z``.
    treated : (G,) bool array
        Clusters holding treated units.
    method : {"trend", "joint"}
    form : {"levels", "differences"}
        Effects relative to ``reference`` (levels) or period-on-period changes.
    alpha : float
    name : str
        Name of the returned check.
    post_contributions : (G,) array, optional
        Each cluster's contribution to the effect at ``post_event_time`` (same clusters): with
        it the trend test also reports the bias of that effect among studies that pass, under
        the linear violation it detects with 80% power.

    Returns
    -------
    CheckResult
        ``passed`` None when the test cannot be computed (no pre-period effects, one treated
        cluster), with the reason in ``text``; ``table`` holds the effects tested; ``power``
        the test's power against linear violations (:func:`linear_violation_power`).
    """
    check_option("method", method, ("trend", "joint"))
    check_option("form", form, ("levels", "differences"))
    e = np.asarray(event_times, dtype=float)
    b = np.asarray(estimates, dtype=float)
    z = np.asarray(contributions, dtype=float).reshape(-1, len(b)) if len(b) else np.zeros((0, 0))
    treated = np.asarray(treated, dtype=bool)
    ok = np.isfinite(b) & np.all(np.isfinite(z), axis=0) if len(b) else np.zeros(0, bool)
    e, b, z = e[ok], b[ok], z[:, ok]
    g_t, g_u = int(treated.sum()), int((~treated).sum())
    table = pd.DataFrame({"rel_time": e, "estimate": b, "std_error": np.sqrt(np.einsum("ge,ge->e", z, z))})
    if len(b) == 0:
        return CheckResult(name, None, "Pre-trend test not run: no pre-treatment event-time effects.")
    if g_t < 2:
        return CheckResult(name, None, f"Pre-trend test not available: {g_t} treated cluster(s), so the treated "
                           "side of its variance cannot be estimated. Judge the pre-period from the event-study "
                           "figure, or use a placebo (permutation) comparison.", table=table)
    if method == "trend":
        c = trend_contrast(e, form, reference)
        est = float(c @ b)
        zc = z @ c
        se = float(np.sqrt(welch_variance(zc, treated)))
        df = welch_df(zc, treated)
        if df is None or se <= 0:
            return CheckResult(name, None, "Pre-trend test not available: the variance of the pre-treatment slope "
                               "is not estimable from these clusters.", table=table)
        t = est / se
        p = float(2 * t_sf(abs(t), df))
        what = (f"Linear pre-trend test over {len(b)} pre-treatment event time(s): slope {est:.4g} per period "
                f"(SE {se:.3g}), t = {t:.3f} on {df:.1f} Welch df (treated/untreated clusters {g_t}/{g_u}), "
                f"p = {p:.3g}")
        stat, dfv = t, df
        cov_ratio = float("nan")
        if post_contributions is not None:
            z0 = np.asarray(post_contributions, dtype=float).reshape(-1)
            if z0.shape[0] == zc.shape[0] and np.all(np.isfinite(z0)):
                cov = 0.0
                for side in (treated, ~treated):
                    gs = int(side.sum())
                    cov += float(np.sum(z0[side] * zc[side])) * (gs / (gs - 1) if gs > 1 else 1.0)
                cov_ratio = cov / se ** 2
        power = linear_violation_power("t", 1.0 / se, df, alpha=alpha, bias_per_slope=post_event_time - reference,
                                       slope_se=se, cov_ratio=cov_ratio, event_time=post_event_time) or None
    else:
        n = min(g_t, g_u)
        k = min(len(b), n - 2)
        if k < 1:
            return CheckResult(name, None, f"Joint pre-trend test not available: {n} clusters on the scarcer side "
                               "leave no degrees of freedom; use the linear trend test.", table=table)
        a = _bins(len(b), k)
        bb, zz = a @ b, z @ a.T
        v = zz.T @ zz
        w = float(bb @ np.linalg.pinv(v) @ bb)
        stat = w * (n - k) / (k * (n - 1))
        p = float(f_sf(stat, k, n - k))
        dfv = float(k)
        what = (f"Joint pre-trend test over {len(b)} pre-treatment event time(s) in {k} bin(s): Hotelling "
                f"F({k}, {n - k}) = {stat:.3f} with the covariance from {n} clusters, p = {p:.3g}")
        path = a @ (np.ones(len(b)) if form == "differences" else e - reference)
        lam1 = float(path @ np.linalg.pinv(v) @ path)  # noncentrality of Hotelling's T^2 = W
        power = (linear_violation_power("f", lam1, None, k=k, df2=n - k, alpha=alpha,
                                        bias_per_slope=post_event_time - reference, event_time=post_event_time)
                 if lam1 > 0 else None) or None
    passed = p >= alpha
    text = what + (f". No evidence of a pre-trend at the {alpha:g} level. {_CAVEAT}" if passed else
                   f" - the pre-treatment path differs from parallel trends at the {alpha:g} level.")
    if power is not None:
        text += _power_text(power)
    flags = () if passed else (Flag("diagnostic", severity, text, source=name),)
    return CheckResult(name, passed, text, table=table, statistic=float(stat), p_value=p, flags=flags, df=dfv,
                       power=power)


def wald_check(estimates: np.ndarray, vcov: np.ndarray, *, df2: float | None = None, alpha: float = 0.05,
               what: str = "pre-treatment effect(s)", name: str = "pre_trend_wald",
               severity: str = "medium", terms: Sequence[str] | None = None,
               linear: Sequence[float] | None = None, reference: float = -1.0) -> CheckResult:
    """Joint Wald test that ``estimates`` are zero: chi-square(q) (``df2=None``) or ``F(q, df2)``.

    ``W = b'V^+b`` with the Moore-Penrose inverse and ``q`` the rank of ``V`` (R ``did``'s
    pre-test uses the chi-square form on every pre-treatment ATT(g,t)). ``linear``: the shift of
    each estimate per unit slope of a linear violation of parallel trends (e.g. ``e - reference``
    for event-time coefficients); with it the check reports the test's power against such
    violations (noncentral chi-square or F, noncentrality ``gamma^2 l'V^+l``; :func:`linear_violation_power`).
    """
    b = np.asarray(estimates, dtype=float)
    v = np.asarray(vcov, dtype=float)
    if b.size == 0:
        return CheckResult(name, None, f"No {what} to test.")
    q = int(np.linalg.matrix_rank(v))
    if q == 0:
        return CheckResult(name, None, f"The covariance of the {what} is zero; the Wald test is not defined.")
    w = float(b @ np.linalg.pinv(v) @ b)
    if df2 is None:
        stat, p = w, float(chi2_sf(w, q))
        ref = f"W = {w:.3f}, chi-square({q})"
    else:
        stat = w / q
        p = float(f_sf(stat, q, df2))
        ref = f"F({q}, {df2:g}) = {stat:.3f}"
    passed = p >= alpha
    text = (f"Joint Wald test that {len(b)} {what} are zero: {ref}, p = {p:.4g}"
            + (f". {_CAVEAT}" if passed else f" - pre-treatment effects differ from zero at the {alpha:g} level."))
    power = None
    if linear is not None:
        lvec = np.asarray(linear, dtype=float)
        lam1 = float(lvec @ np.linalg.pinv(v) @ lvec)
        if lam1 > 0:
            power = (linear_violation_power("chi2", lam1, None, k=q, alpha=alpha, bias_per_slope=-reference)
                     if df2 is None else
                     linear_violation_power("f", lam1, None, k=q, df2=df2, alpha=alpha,
                                            bias_per_slope=-reference)) or None
            if power is not None:
                text += _power_text(power)
    flags = () if passed else (Flag("diagnostic", severity, text, source=name),)
    table = None
    if terms is not None:
        table = pd.DataFrame({"term": list(terms), "estimate": b, "std_error": np.sqrt(np.diag(v))})
    return CheckResult(name, passed, text, table=table, statistic=stat, p_value=p, flags=flags, df=q, power=power)


def lead_wald_check(leads: Sequence[int], estimates: np.ndarray, vcov: np.ndarray, n_clusters: int, *,
                    alpha: float = 0.05) -> CheckResult:
    """BJS (2024) Test 1: joint ``F(K, G - 1)`` that the ``K`` lead coefficients are zero.

    ``F = b'V^{-1}b / K`` with the cluster-robust covariance of the leads added to the
    untreated-cell regression (``V`` invertible: ``K`` leads with a variance each) and ``G``
    clusters, as BJS and pyfixest; check ``bjs_pretrend_test``.

    References
    ----------
    Borusyak, K., Jaravel, X. & Spiess, J. (2024). Revisiting event-study designs: robust and
    efficient estimation. Review of Economic Studies 91(6), 3253-3285, Section 4.4.
    """
    b = np.asarray(estimates, dtype=float)
    v = np.asarray(vcov, dtype=float)
    n_lead = len(leads)
    g = n_clusters
    fstat = float(b @ np.linalg.solve(v, b) / n_lead)
    pval = float(f_sf(fstat, n_lead, g - 1))
    passed = pval >= alpha
    text = (f"BJS (2024) Test 1: {n_lead} lead(s) ({', '.join(map(str, leads))}) added to the untreated-cell "
            f"regression, joint F({n_lead}, {g - 1}) = {fstat:.3f}, p = {pval:.3g}; "
            + ("no evidence against parallel trends." if passed else
               "pre-treatment differences are significant: parallel trends are in doubt."))
    # linear violation: lead h is shifted by gamma (h - r), r the period before the earliest lead
    ref = float(min(leads)) - 1.0
    lvec = np.asarray(leads, dtype=float) - ref
    lam1 = float(lvec @ np.linalg.solve(v, lvec))  # noncentrality of W, hence of F = W / K
    power = (linear_violation_power("f", lam1, None, k=n_lead, df2=g - 1, alpha=alpha, bias_per_slope=-ref)
             if lam1 > 0 and g > 1 else None) or None
    if power is not None:
        text += _power_text(power)
    return CheckResult("bjs_pretrend_test", passed, text, statistic=fstat, p_value=pval, power=power)
