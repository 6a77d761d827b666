"""Coverage and size of the ITS and synthetic-control default intervals on NHS-shaped series.

Data-generating processes (documented in methods/its.md section 10 and
methods/synthetic_control.md):

* ``its_count``: monthly admissions of one area, population 1,000,000, about 8,000 a month;
  ``y_t ~ Poisson(mu_t exp(u_t))`` with ``log mu_t = log N + a + 0.002 t + s_t + d_L 1{t >= T0}
  + d_S (t - T0 + 1)_+`` and a latent log-scale AR(1) ``u_t`` (rho in {0, 0.3, 0.6}, marginal SD
  0.04). ``s_t`` = 0.08 cos(2 pi m/12) + 0.03 sin(4 pi m/12) (seasonal) or 0. Truth: level change
  ``d_L = log 0.95`` and slope change ``d_S = -0.002`` on the log-rate scale.
* ``its_continuous``: a length-of-stay-like series ``y_t = 6 + 0.01 t + 0.3 s_t - 0.3 1{t >= T0}
  - 0.01 (t - T0 + 1)_+ + e_t`` with Gaussian AR(1) ``e_t`` (marginal SD 0.3).

Series of T in {48, 72, 120} months, the last T/3 after the interruption. Each fit is the segmented
regression with a level and a slope change (and two Fourier pairs when the series is seasonal), as
evalint builds it; coverage is reported for both the level and the slope change. ``step_only``
rows fit the level change alone (the design ``evaluate()`` uses) to a series with a level change only.

Usage::

    nice -n 10 python benchmarks/coverage_its_synth.py --reps 500 --out /tmp/its.csv [--methods ...]
    nice -n 10 python benchmarks/coverage_its_synth.py --families sdid --synth-dgps nhs --reps 500 \
        --progress benchmarks/coverage_sdid.csv [--start 250] [--until 05:30]
    python benchmarks/coverage_its_synth.py --summarise benchmarks/coverage_sdid.csv benchmarks/coverage_ascm.csv

``run_sdid`` / ``run_ascm``: the default intervals of ``synthetic_did`` (placebo SE, Arkhangelsky et
al. 2021 Algorithm 4, 200 draws) and ``augmented_synthetic_control`` (``Conformal()``) on the
one-treated factor model of ``run_scm`` (``factor``) and, for SDID, on 42 ICBs with 3-5 treated,
ICB seasonality and AR(1) noise (``nhs``, :func:`sdid_frame`). numba (the ``speed`` extra) runs
the SDID Frank-Wolfe weights about 6x faster with the same iterations (agrees to ~1e-13).

``run(reps, seed)`` returns the default intervals' rows (one per DGP cell) as a DataFrame with
columns family, default, dgp, reps, coverage, bias, width, se_sd, band_lo, band_hi (size rows:
``size``, with coverage = 1 - size), for benchmarks/default_coverage.py.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

TRUE_LEVEL_LOG = float(np.log(0.95))
TRUE_SLOPE_LOG = -0.002
TRUE_LEVEL = -0.3
TRUE_SLOPE = -0.01
LENGTHS = (48, 72, 120)
RHOS = (0.0, 0.3, 0.6)


def binomial_band(reps: int, level: float = 0.95, conf: float = 0.99) -> tuple[float, float]:
    """Central ``conf`` range of Binomial(reps, level)/reps: where a correct interval's coverage falls."""
    a = (1 - conf) / 2
    return float(stats.binom.ppf(a, reps, level) / reps), float(stats.binom.isf(a, reps, level) / reps)


# ------------------------------------------------------------------ DGPs
def ar1(rng: np.random.Generator, reps: int, T: int, rho: float, sd: float) -> np.ndarray:
    """``reps`` stationary Gaussian AR(1) series of length T with marginal SD ``sd`` (vectorised)."""
    e = rng.standard_normal((reps, T)) * sd * np.sqrt(1 - rho ** 2)
    u = np.empty((reps, T))
    u[:, 0] = rng.standard_normal(reps) * sd
    for t in range(1, T):
        u[:, t] = rho * u[:, t - 1] + e[:, t]
    return u


def _season(T: int, seasonal: bool) -> np.ndarray:
    m = (np.arange(T) % 12) + 1
    return (0.08 * np.cos(2 * np.pi * m / 12) + 0.03 * np.sin(4 * np.pi * m / 12)) if seasonal else np.zeros(T)


def _post(T: int) -> int:
    return T - T // 3


def count_series(rng: np.random.Generator, reps: int, T: int, rho: float, seasonal: bool,
                 slope: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(counts reps x T, population T) of the its_count DGP."""
    t = np.arange(1, T + 1)
    t0 = _post(T)
    pop = np.full(T, 1_000_000.0)
    lin = np.log(8e-3) + 0.002 * t + _season(T, seasonal) + TRUE_LEVEL_LOG * (t > t0)
    if slope:
        lin = lin + TRUE_SLOPE_LOG * np.maximum(0, t - t0)
    u = ar1(rng, reps, T, rho, 0.04)
    return rng.poisson(pop * np.exp(lin + u)).astype(float), pop


def continuous_series(rng: np.random.Generator, reps: int, T: int, rho: float, seasonal: bool) -> np.ndarray:
    t = np.arange(1, T + 1)
    t0 = _post(T)
    mean = 6 + 0.01 * t + 0.3 * _season(T, seasonal) + TRUE_LEVEL * (t > t0) \
        + TRUE_SLOPE * np.maximum(0, t - t0)
    return mean + ar1(rng, reps, T, rho, 0.3)


def design(T: int, seasonal: bool, impact: str = "step_slope"):
    """The evalint design (intercept, time, level, slope[, 2 Fourier pairs]) for a T-month series."""
    from evalint.estimators.its.design import DesignSpec, build_design

    periods = pd.period_range("2015-01", periods=T, freq="M")
    spec = DesignSpec(impact=impact, seasonality="fourier" if seasonal else None, harmonics=2)
    return build_design(periods, [("x", periods[_post(T)])], spec, "M")


# ------------------------------------------------------------- methods
def _count_methods() -> dict[str, Callable[..., Any]]:
    from evalint.estimators.its.backends import fit_glm, fit_glm_ar
    from evalint.inference.specs import Analytic, ARErrors, NeweyWest

    return {
        "quasi_poisson": lambda y, X, inc, off: fit_glm(y, X, inc, off, "quasi_poisson", Analytic()),
        "negative_binomial": lambda y, X, inc, off: fit_glm(y, X, inc, off, "negative_binomial", Analytic()),
        "quasi_poisson_nw": lambda y, X, inc, off: fit_glm(y, X, inc, off, "quasi_poisson", NeweyWest()),
        "qp_ar1_ml": lambda y, X, inc, off: fit_glm_ar(y, X, inc, off, ARErrors(order=1, method="ml", adjust=False)),
        "qp_ar1_reml_plain": lambda y, X, inc, off: fit_glm_ar(y, X, inc, off, ARErrors(order=1, adjust=False)),
        "qp_ar1_reml": lambda y, X, inc, off: fit_glm_ar(y, X, inc, off, ARErrors(order=1, method="reml")),
        "qp_ar2_reml": lambda y, X, inc, off: fit_glm_ar(y, X, inc, off, ARErrors(order=2, method="reml")),
        "qp_araic_reml": lambda y, X, inc, off: fit_glm_ar(y, X, inc, off, ARErrors(order=None, max_order=3)),
        "qp_nw_fixedb": lambda y, X, inc, off: fit_glm(y, X, inc, off, "quasi_poisson", NeweyWest(fixed_b=True)),
    }


def _continuous_methods() -> dict[str, Callable[..., Any]]:
    from evalint.estimators.its.backends import OLSSeriesFit, fit_gls_ar, fit_ols
    from evalint.inference.dispatch import infer

    def fit_ols_sieve(y: Any, X: Any, inc: Any, spec: Any) -> Any:
        return infer(spec, OLSSeriesFit(y, X, inc))
    from evalint.inference.specs import ARErrors, NeweyWest, SieveBootstrap

    return {
        "ols_nw": lambda y, X, inc: fit_ols(y, X, inc, NeweyWest()),
        "gls_ar1_ml": lambda y, X, inc: fit_gls_ar(y, X, inc, ARErrors(order=1, method="ml", adjust=False)),
        "gls_ar1_reml_plain": lambda y, X, inc: fit_gls_ar(y, X, inc, ARErrors(order=1, adjust=False)),
        "gls_ar1_reml": lambda y, X, inc: fit_gls_ar(y, X, inc, ARErrors(order=1, method="reml")),
        "gls_ar2_reml": lambda y, X, inc: fit_gls_ar(y, X, inc, ARErrors(order=2, method="reml")),
        "gls_araic_reml": lambda y, X, inc: fit_gls_ar(y, X, inc, ARErrors(order=None, max_order=3)),
        "ols_nw_fixedb": lambda y, X, inc: fit_ols(y, X, inc, NeweyWest(fixed_b=True)),
        "ols_sieve": lambda y, X, inc: fit_ols_sieve(y, X, inc, SieveBootstrap()),
    }


def _summ(est: np.ndarray, se: np.ndarray, lo: np.ndarray, hi: np.ndarray, truth: float) -> dict[str, float]:
    ok = np.isfinite(est) & np.isfinite(lo)
    e, s = est[ok], se[ok]
    cover = (lo[ok] <= truth) & (truth <= hi[ok])
    return {"reps": int(ok.sum()), "failed": int((~ok).sum()), "coverage": float(cover.mean()),
            "bias": float(e.mean() - truth), "width": float(np.mean(hi[ok] - lo[ok])),
            "se_sd": float(np.mean(s) / np.std(e, ddof=1))}


def _ci(fit: Any, term: str, alpha: float = 0.05) -> tuple[float, float, float, float]:
    from evalint.inference.normal import critical_value

    b = float(fit.params[term])
    se = float(np.sqrt(fit.cov.loc[term, term]))
    c = fit.info.get("critical_value") or critical_value(alpha, fit.df)
    return b, se, b - c * se, b + c * se


def run_its(reps: int, seed: int, *, families: Sequence[str] = ("its_count", "its_continuous"),
            methods: Sequence[str] | None = None, lengths: Sequence[int] = LENGTHS,
            rhos: Sequence[float] = RHOS, seasonal: Sequence[bool] = (True, False),
            step_only: bool = True, progress: str | None = None) -> pd.DataFrame:
    """Coverage of every requested ITS method over the DGP grid (one row per method x cell x term)."""
    rows: list[dict[str, Any]] = []
    ss = np.random.SeedSequence(seed)
    cm, km = _count_methods(), _continuous_methods()
    for T in lengths:
        for rho in rhos:
            for seas in seasonal:
                cell_rng = np.random.default_rng(ss.spawn(1)[0])
                dgp = f"T={T} rho={rho:g} {'seasonal' if seas else 'no season'}"
                jobs = []
                if "its_count" in families:
                    Y, pop = count_series(cell_rng, reps, T, rho, seas)
                    d = design(T, seas)
                    jobs.append(("its_count", dgp, Y, d, np.log(pop), cm, {"level_x": TRUE_LEVEL_LOG,
                                                                              "slope_x": TRUE_SLOPE_LOG}))
                    if step_only:
                        Y2, _ = count_series(cell_rng, reps, T, rho, seas, slope=False)
                        jobs.append(("its_count", dgp + " step-only", Y2, design(T, seas, "step"), np.log(pop), cm,
                                     {"level_x": TRUE_LEVEL_LOG}))
                if "its_continuous" in families:
                    Y = continuous_series(cell_rng, reps, T, rho, seas)
                    jobs.append(("its_continuous", dgp, Y, design(T, seas), None, km,
                                 {"level_x": TRUE_LEVEL, "slope_x": TRUE_SLOPE}))
                for fam, label, Y, d, off, meths, truths in jobs:
                    for name, f in meths.items():
                        if methods is not None and name not in methods:
                            continue
                        res = {term: np.full((reps, 4), np.nan) for term in truths}
                        t_start = time.perf_counter()
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            for r in range(reps):
                                try:
                                    fit = f(Y[r], d.X, d.include, off) if off is not None else f(Y[r], d.X, d.include)
                                except Exception:  # noqa: BLE001 - a failed fit is counted, not hidden
                                    continue
                                for term in truths:
                                    res[term][r] = _ci(fit, term)
                        secs = time.perf_counter() - t_start
                        for term, truth in truths.items():
                            a = res[term]
                            rows.append({"family": fam, "method": name, "dgp": label, "term": term.split("_")[0],
                                         **_summ(a[:, 0], a[:, 1], a[:, 2], a[:, 3], truth), "seconds": secs})
                        if progress:   # one line per finished cell, so partial runs are usable
                            pd.DataFrame(rows[-len(truths):]).to_csv(progress, mode="a", index=False,
                                                                     header=not Path(progress).exists())
    out = pd.DataFrame(rows)
    band = binomial_band(reps)
    out["band_lo"], out["band_hi"] = band
    return out


# ------------------------------------------------------------ synthetic control
SCM_UNITS, SCM_PRE, SCM_POST, SCM_EFFECT = 42, 48, 12, -5.0


def scm_frame(rng: np.random.Generator, effect: float, *, n_units: int = SCM_UNITS, pre: int = SCM_PRE,
              post: int = SCM_POST) -> pd.DataFrame:
    """One-treated-unit factor model: 42 ICB-like units, monthly, unit 0 treated for the last ``post`` months.

    ``y_it = 100 + 5 a_i + lam_i1 f_1t + lam_i2 f_2t + 3 cos(2 pi m_t / 12) + e_it`` with random-walk
    factors ``f`` (SD 1 per month), loadings U(0.5, 1.5), level shifts ``a_i ~ N(0, 1)`` and AR(1)
    noise (rho 0.5, marginal SD 1); the treated unit is drawn like every other unit (exchangeable),
    and its post-period outcome is shifted by ``effect``.
    """
    T = pre + post
    f = np.cumsum(rng.standard_normal((2, T)), axis=1)
    lam = rng.uniform(0.5, 1.5, (n_units, 2))
    a = rng.standard_normal(n_units)
    m = np.arange(T) % 12 + 1
    e = ar1(rng, n_units, T, 0.5, 1.0)
    Y = 100 + 5 * a[:, None] + lam @ f + 3 * np.cos(2 * np.pi * m / 12)[None, :] + e
    Y[0, pre:] += effect
    periods = pd.period_range("2018-01", periods=T, freq="M")
    return pd.DataFrame({"unit": np.repeat([f"icb{i:02d}" for i in range(n_units)], T),
                         "month": np.tile(periods, n_units), "y": Y.ravel(),
                         "treated": np.r_[np.r_[np.zeros(pre), np.ones(post)],
                                          np.zeros((n_units - 1) * T)].astype(int)})


def run_scm(reps: int, seed: int, *, n_units: int = SCM_UNITS, alpha: float = 0.05, pre: int = SCM_PRE,
            post: int = SCM_POST, effects: Sequence[float] = (SCM_EFFECT, 0.0),
            progress: str | None = None) -> pd.DataFrame:
    """Coverage of the SCM interval (effect -5) and size of its placebo test (no effect), outcome-only SC.

    With a constant effect the test of the true effect sees exactly the no-effect data (the effect
    is subtracted from the treated unit's post period before ranking), so with the same draws
    coverage = 1 - size; both are run as a check unless ``effects`` says otherwise. ``progress``:
    a CSV to which every replication's estimate, interval and p-value is appended.
    """
    from evalint import Panel
    from evalint.estimators.synth.scm.estimator import synthetic_control

    rows = []
    for label, effect in ((f"effect {e:g}" if e else "no effect (size)", e) for e in effects):
        rng = np.random.default_rng(np.random.SeedSequence([seed, int(effect != 0)]))
        est, lo, hi, se, p = (np.full(reps, np.nan) for _ in range(5))
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for r in range(reps):
                df = scm_frame(rng, effect, n_units=n_units, pre=pre, post=post)
                panel = Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treated")
                res = synthetic_control(panel, calendar=False, leave_one_out=False, alpha=alpha)
                est[r], se[r], p[r] = res.estimate, res.se, res.p_value
                lo[r], hi[r] = res.ci
                if progress:
                    pd.DataFrame([{"effect": effect, "rep": r, "estimate": est[r], "se": se[r], "p": p[r],
                                   "lo": lo[r], "hi": hi[r]}]).to_csv(progress, mode="a", index=False,
                                                                     header=not Path(progress).exists())
        secs = time.perf_counter() - t0
        fin = np.isfinite(lo) & np.isfinite(hi)
        cover = (lo <= effect) & (effect <= hi)
        cover = np.where(np.isnan(lo) & np.isnan(hi), False, cover) | (np.isinf(lo) & np.isinf(hi))
        rows.append({"family": "scm", "method": "placebo rank-test inversion", "dgp":
                     f"{n_units} units, 1 treated, {pre}+{post} months, {label}", "term": "att",
                     "reps": reps, "failed": 0, "coverage": float(cover.mean()), "bias": float(np.mean(est) - effect),
                     "width": float(np.mean((hi - lo)[fin])) if fin.any() else float("inf"),
                     "se_sd": float(np.nanmean(se) / np.std(est, ddof=1)),
                     "size": float(np.mean(p <= alpha)), "consistent": float(np.mean((p <= alpha) == ~(
                         (lo <= 0) & (0 <= hi)))), "seconds": secs})
    out = pd.DataFrame(rows)
    out["band_lo"], out["band_hi"] = binomial_band(reps)
    return out


# ------------------------------------------------ synthetic DiD and augmented SC
def sdid_frame(rng: np.random.Generator, effect: float, n_treated: int, *, n_units: int = SCM_UNITS,
               pre: int = SCM_PRE, post: int = SCM_POST, rho: float = 0.6) -> pd.DataFrame:
    """NHS-shaped panel for SDID: 42 ICBs, ``n_treated`` of them (drawn at random) treated for the last ``post`` months.

    ``y_it = 100 + 5 a_i + lam_i1 f_1t + lam_i2 f_2t + 3 (1 + 0.2 b_i) cos(2 pi m_t / 12) + e_it``:
    random-walk factors ``f`` (SD 1 per month), loadings U(0.5, 1.5), levels ``a_i ~ N(0, 1)``,
    ICB-specific seasonal amplitude (``b_i ~ N(0, 1)``) and ICB AR(1) noise (``rho``, marginal SD 1).
    Treated ICBs are drawn like the others (exchangeable); their post-period outcome is shifted by ``effect``.
    """
    T = pre + post
    f = np.cumsum(rng.standard_normal((2, T)), axis=1)
    lam = rng.uniform(0.5, 1.5, (n_units, 2))
    a = rng.standard_normal(n_units)
    amp = 3 * (1 + 0.2 * rng.standard_normal(n_units))
    m = np.arange(T) % 12 + 1
    e = ar1(rng, n_units, T, rho, 1.0)
    Y = 100 + 5 * a[:, None] + lam @ f + amp[:, None] * np.cos(2 * np.pi * m / 12)[None, :] + e
    treated = np.zeros(n_units, dtype=bool)
    treated[rng.choice(n_units, n_treated, replace=False)] = True
    D = np.zeros((n_units, T), dtype=int)
    D[treated, pre:] = 1
    Y = Y + effect * D
    periods = pd.period_range("2018-01", periods=T, freq="M")
    return pd.DataFrame({"unit": np.repeat([f"icb{i:02d}" for i in range(n_units)], T),
                         "month": np.tile(periods, n_units), "y": Y.ravel(), "treated": D.ravel()})


#: the DGPs of run_sdid / run_ascm: name -> (label, number of treated ICBs per replication or None)
SYNTH_DGPS = {"factor": ("42 units, 1 treated, factor model (as SCM), 48+12 months", None),
              "nhs": ("42 ICBs, 3-5 treated, factor model + ICB seasonality + AR(1) rho 0.6, 48+12 months", (3, 4, 5))}


def _synth_reps(kind: str, reps: int, seed: int, dgp: str, effect: float, progress: str | None,
                until: float | None, start: int = 0) -> pd.DataFrame:
    """Per-replication estimate, SE, interval and p-value of the default SDID / ASCM interval.

    Replication ``r`` (``start <= r < reps``) draws from ``SeedSequence([seed, effect != 0, r])``, so
    ranges run in separate processes and concatenated give the same rows as one run.
    """
    from evalint import Panel
    from evalint.estimators.synth.augmented.estimator import augmented_synthetic_control
    from evalint.estimators.synth.sdid.estimator import synthetic_did

    n_tr = SYNTH_DGPS[dgp][1]
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(start, reps):
            if until is not None and time.time() > until:
                break
            rng = np.random.default_rng(np.random.SeedSequence([seed, int(effect != 0), r]))
            k = 1 if n_tr is None else n_tr[r % len(n_tr)]
            df = scm_frame(rng, effect) if n_tr is None else sdid_frame(rng, effect, k)
            panel = Panel.from_frame(df, unit="unit", time="month", outcome="y", treatment="treated")
            t0 = time.perf_counter()
            res = (synthetic_did(panel, calendar=False) if kind == "sdid"
                   else augmented_synthetic_control(panel, calendar=False))
            row = {"estimator": kind, "dgp": dgp, "n_treated": k, "effect": effect, "rep": r,
                   "estimate": res.estimate, "se": res.se, "lo": res.ci[0], "hi": res.ci[1],
                   "p": res.p_value, "seconds": time.perf_counter() - t0}
            rows.append(row)
            if progress:
                pd.DataFrame([row]).to_csv(progress, mode="a", index=False, header=not Path(progress).exists())
    return pd.DataFrame(rows)


def summarise_synth(per_rep: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Coverage, bias, SE/SD, width and size per (estimator, dgp, effect) of per-replication rows.

    Both intervals are equivariant in a constant effect (the weights never see the treated unit's
    post period; the conformal test shifts the null by the same constant), so on the same draws
    coverage of the true effect equals 1 - the rejection rate of a test of 0 when the effect is 0
    on the same draws; ``size`` is the rejection rate on (independent) no-effect rows, ``power_vs_0``
    the rejection of 0 on rows with an effect. ASCM's ``se`` is display-only (half-width / z, inf
    for unbounded intervals): read ``sd``, ``width`` (bounded intervals) and ``median_width``.
    """
    out = []
    per_rep = per_rep.drop_duplicates(["estimator", "dgp", "effect", "rep"])
    for (kind, dgp, effect), g in per_rep.groupby(["estimator", "dgp", "effect"], sort=False):
        cover = (g["lo"] <= effect) & (effect <= g["hi"])
        fin = np.isfinite(g["lo"]) & np.isfinite(g["hi"])
        sd = float(np.std(g["estimate"], ddof=1))
        n = len(g)
        lo_b, hi_b = binomial_band(n)
        out.append({"estimator": kind, "dgp": SYNTH_DGPS[dgp][0], "effect": effect, "reps": n,
                    "coverage": float(cover.mean()), "bias": float(g["estimate"].mean() - effect),
                    "sd": sd, "mean_se": float(g["se"].mean()), "se_sd": float(g["se"].mean() / sd),
                    "covered_if_bounded": float(cover[fin].mean()) if fin.any() else np.nan,
                    "width": float((g["hi"] - g["lo"])[fin].mean()),
                    "median_width": float((g["hi"] - g["lo"]).median()), "unbounded": int((~fin).sum()),
                    "power_vs_0": float(np.mean(g["p"] <= alpha)) if effect != 0 else np.nan,
                    "size": float(np.mean(g["p"] <= alpha)) if effect == 0 else np.nan,
                    "band_lo": lo_b, "band_hi": hi_b, "seconds_per_fit": float(g["seconds"].mean())})
    return pd.DataFrame(out)


def run_sdid(reps: int, seed: int, *, dgps: Sequence[str] = ("factor", "nhs"),
             effects: Sequence[float] = (SCM_EFFECT,), progress: str | None = None,
             until: float | None = None) -> pd.DataFrame:
    """Coverage of ``synthetic_did``'s default interval (placebo SE, Algorithm 4, 200 draws, seed 0;
    ``tau +/- z se``) of the true effect, per DGP in :data:`SYNTH_DGPS`; ``until``: a ``time.time()``
    after which no replication starts (partial results are summarised with their count)."""
    per = pd.concat([_synth_reps("sdid", reps, seed, d, e, progress, until) for d in dgps for e in effects])
    return summarise_synth(per)


def run_ascm(reps: int, seed: int, *, dgps: Sequence[str] = ("factor",),
             effects: Sequence[float] = (SCM_EFFECT,), progress: str | None = None,
             until: float | None = None) -> pd.DataFrame:
    """Coverage of ``augmented_synthetic_control``'s default interval (``Conformal()``: moving-block
    permutation test inverted, ridge lambda by CV) of the true effect; as :func:`run_sdid`."""
    per = pd.concat([_synth_reps("ascm", reps, seed, d, e, progress, until) for d in dgps for e in effects])
    return summarise_synth(per)


#: the defaults whose coverage run() reports (name in run_its -> label)
DEFAULTS = {"its_count": ("qp_ar1_reml", "count ITS: quasi-Poisson + AR(1) errors (REML, adjusted)"),
            "its_continuous": ("gls_ar1_reml", "continuous ITS: GLS AR(1) errors (REML, adjusted)")}


def run(reps: int, seed: int) -> pd.DataFrame:
    """The default intervals' coverage, for benchmarks/default_coverage.py.

    Columns: family, default, dgp, reps, coverage, bias, width, se_sd, band_lo, band_hi, size
    (size only for the SCM placebo test under no effect, where coverage = 1 - size). ITS rows:
    the level-change term on the seasonal series (T in {48, 72, 120}, rho in {0, 0.3, 0.6});
    SCM rows: the one-treated-unit factor model.
    """
    rows = []
    for fam, (method, label) in DEFAULTS.items():
        df = run_its(reps, seed, families=(fam,), methods=(method,), seasonal=(True,), step_only=False)
        df = df.loc[df["term"] == "level"]
        for _, r in df.iterrows():
            rows.append({"family": fam, "default": label, "dgp": r["dgp"] + ", level change", "reps": r["reps"],
                         "coverage": r["coverage"], "bias": r["bias"], "width": r["width"], "se_sd": r["se_sd"],
                         "size": np.nan})
    sc = run_scm(reps, seed)
    for _, r in sc.iterrows():
        size_row = "size" in r["dgp"]
        rows.append({"family": "scm", "default": "synthetic control: placebo rank-test inversion",
                     "dgp": r["dgp"], "reps": r["reps"], "coverage": 1 - r["size"] if size_row else r["coverage"],
                     "bias": r["bias"], "width": r["width"], "se_sd": r["se_sd"],
                     "size": r["size"] if size_row else np.nan})
    out = pd.DataFrame(rows)
    out["band_lo"], out["band_hi"] = binomial_band(reps)
    return out[["family", "default", "dgp", "reps", "coverage", "bias", "width", "se_sd", "band_lo", "band_hi",
                "size"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--families", nargs="*", default=["its_count", "its_continuous"],
                    help="its_count, its_continuous, scm, sdid and/or ascm")
    ap.add_argument("--synth-dgps", nargs="*", default=None, help="sdid/ascm DGPs: factor and/or nhs")
    ap.add_argument("--effects", nargs="*", type=float, default=[SCM_EFFECT], help="sdid/ascm true effects")
    ap.add_argument("--start", type=int, default=0, help="sdid/ascm: first replication index (ranges "
                    "can run in parallel processes into the same --progress file)")
    ap.add_argument("--until", default=None, help="sdid/ascm: UTC time HH:MM after which no replication starts")
    ap.add_argument("--summarise", nargs="*", default=None,
                    help="per-replication sdid/ascm CSVs to summarise (no new runs)")
    ap.add_argument("--methods", nargs="*", default=None)
    ap.add_argument("--lengths", nargs="*", type=int, default=list(LENGTHS))
    ap.add_argument("--rhos", nargs="*", type=float, default=list(RHOS))
    ap.add_argument("--seasonal-only", action="store_true")
    ap.add_argument("--no-season-only", action="store_true", help="only the series without seasonality")
    ap.add_argument("--no-step-only", action="store_true")
    ap.add_argument("--scm-effect-only", action="store_true")
    ap.add_argument("--progress", default=None, help="CSV appended as cells/replications finish")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    pd.set_option("display.width", 200)
    if args.summarise:
        summ = summarise_synth(pd.concat([pd.read_csv(f) for f in args.summarise]))
        print(summ.round(4).to_string(index=False))
        if args.out:
            summ.to_csv(args.out, index=False)
        return
    synth = [f for f in args.families if f in ("sdid", "ascm")]
    if synth:
        until = None
        if args.until:
            now = pd.Timestamp.now(tz="UTC")
            until = pd.Timestamp(f"{now.date()} {args.until}", tz="UTC").timestamp()
        per = pd.concat([_synth_reps(k, args.reps, args.seed, d, e, args.progress, until, args.start)
                         for k in synth for d in (args.synth_dgps or (["factor", "nhs"] if k == "sdid" else ["factor"]))
                         for e in args.effects])
        summ = summarise_synth(per)
        print(summ.round(4).to_string(index=False))
        if args.out:
            summ.to_csv(args.out, index=False)
        args.families = [f for f in args.families if f not in synth]
        if not args.families:
            return
    if "scm" in args.families:
        sc = run_scm(args.reps, args.seed, effects=(SCM_EFFECT,) if args.scm_effect_only else (SCM_EFFECT, 0.0),
                     progress=args.progress)
        print(sc.drop(columns=["band_lo", "band_hi"]).round(4).to_string(index=False))
        if args.out:
            sc.to_csv(args.out.replace(".csv", "_scm.csv"), index=False)
        args.families = [f for f in args.families if f != "scm"]
        if not args.families:
            return
    df = run_its(args.reps, args.seed, families=args.families, methods=args.methods, lengths=args.lengths,
                 rhos=args.rhos,
                 seasonal=(True,) if args.seasonal_only else (False,) if args.no_season_only else (True, False),
                 step_only=not args.no_step_only, progress=args.progress)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    print(df.drop(columns=["band_lo", "band_hi"]).round(4).to_string(index=False))
    print(f"binomial 99% band for {args.reps} reps at 95%: {binomial_band(args.reps)}; "
          f"{time.perf_counter() - t0:.0f} s")
    if args.out:
        df.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
