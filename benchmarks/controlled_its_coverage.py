"""Monte Carlo coverage of the controlled ITS intervals (500 replications by default).

Data-generating process (NHS-shaped; one treated ICB against one comparison ICB, 72 months
April 2017 - March 2023, intervention April 2021: 48 pre, 24 post months):

Two variants (``--dgp``): ``shared`` as below, and ``area_ar`` with no shared shock and area
shocks AR(1) rho 0.6 (SD 0.03 on the log rate, 0.15 days).

* emergency admissions ``Y_zt ~ Poisson(mu_zt)`` with
  ``log mu_zt = log P_z + a_z + b t + A cos(2 pi (m_t - 1)/12) + u_t + e_zt + log(0.95) Z 1{t >= T0}``,
  ``P_z`` about one million residents (about 600 admissions a month), a shared shock ``u_t``
  (AR(1), rho 0.5, SD 0.03: winters, strikes, COVID-like waves that hit both areas) and an area
  shock ``e_zt`` (AR(1), rho 0.3, SD 0.02). The truth is a ratio of rate ratios of 0.95.
* length of stay ``L_zt = 5 + a_z - 0.005 t + 0.3 cos(.) + v_t + w_zt - 0.3 Z 1{t >= T0}`` with
  ``v_t`` AR(1) (rho 0.5, SD 0.15) shared and ``w_zt`` AR(1) (rho 0.3, SD 0.1); the truth is a
  differential level change of -0.3 days.

The controlled ITS (trend, one Fourier pair, a step) is fitted with its default (the contrast
series: log rate ratio per resident for admissions, difference for length of stay, by GLS with
AR(1)-plus-noise errors, REML adjusted; the admissions headline is the ratio of rate ratios) and,
with ``--settings all``, with ``ARErrors()`` on the contrast and the stacked model (quasi-Poisson /
OLS, every term interacted with the treated indicator) with Newey-West or model-based standard
errors; the 95% CI of the differential level change is checked against the truth.

Usage::

    python benchmarks/controlled_its_coverage.py [--reps 500] [--seed 20261205] [--dgp shared|area_ar]
        [--settings default|all] [--out FILE]
    # split a run over processes, then summarise:
    python benchmarks/controlled_its_coverage.py --reps 250 --start 250 --dgp area_ar --draws b.csv
    python benchmarks/controlled_its_coverage.py --dgp area_ar --combine a.csv b.csv --out table.csv
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

T_MONTHS = 72
T0 = 48
TRUE_RATIO = 0.95
TRUE_LOS = -0.3


def _ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    e = rng.normal(0.0, sd * np.sqrt(1 - rho ** 2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        out[i] = rho * out[i - 1] + e[i]
    return out


#: (shared shock rho, SD; area shock rho, SD) on the log rate; length of stay uses 5x the SDs.
DGPS = {"shared": (0.5, 0.03, 0.3, 0.02), "area_ar": (0.0, 0.0, 0.6, 0.03)}


def simulate(seed: int, dgp: str = "shared"):
    from evalint.data.panel import Panel

    s_rho, s_sd, a_rho, a_sd = DGPS[dgp]
    rng = np.random.default_rng(seed)
    t = np.arange(T_MONTHS)
    months = pd.period_range("2017-04", periods=T_MONTHS, freq="M")
    season = np.cos(2 * np.pi * (months.month.to_numpy() - 1) / 12)
    shared = _ar1(rng, T_MONTHS, s_rho, s_sd)
    shared_los = _ar1(rng, T_MONTHS, s_rho, 5 * s_sd)
    post = (t >= T0).astype(float)
    rows = []
    for z, (unit, pop, level) in enumerate((("treated", 1_050_000, 0.0), ("comparison", 980_000, 0.05))):
        treated = 1.0 if z == 0 else 0.0
        log_mu = (np.log(pop) + np.log(600 / 1e6) + level + 0.002 * t + 0.08 * season + shared
                  + _ar1(rng, T_MONTHS, a_rho, a_sd) + np.log(TRUE_RATIO) * treated * post)
        y = rng.poisson(np.exp(log_mu))
        los = (5 + 0.2 * z - 0.005 * t + 0.3 * season + shared_los + _ar1(rng, T_MONTHS, a_rho, 5 * a_sd)
               + TRUE_LOS * treated * post)
        rows.append(pd.DataFrame({"area": unit, "month": months, "emergency_admissions": y,
                                  "length_of_stay": los, "population": pop}))
    return Panel.from_frame(pd.concat(rows, ignore_index=True), unit="area", time="month",
                            outcome=["emergency_admissions", "length_of_stay"], population="population")


def settings(which: str = "default") -> dict[str, object]:
    """Inference settings to compare: ``default`` (the shipped default only) or ``all``."""
    from evalint.inference.specs import Analytic, ARErrors, NeweyWest

    out: dict[str, object] = {"contrast series, AR(1) plus noise, REML adjusted (the default)": None}
    if which == "all":
        out.update({
            "contrast series, GLS AR(1) REML adjusted (ARErrors())": ARErrors(),
            "Newey-West (stacked; option, flagged)": NeweyWest(),
            "Newey-West, small-sample factor": NeweyWest(small_sample=True),
            "model-based (no autocorrelation)": Analytic(),
        })
    return out


def one_replication(seed: int, dgp: str = "shared", which: str = "default") -> dict[str, float]:
    from evalint.estimators.its import ControlledITS

    panel = simulate(seed, dgp)
    est = ControlledITS(interventions="2021-04", impact="step", seasonality="fourier", harmonics=1)
    out: dict[str, float] = {"seed": float(seed)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, spec in settings(which).items():
            for outcome, truth in (("emergency_admissions", TRUE_RATIO), ("length_of_stay", TRUE_LOS)):
                # counts: every setting reports the ratio of rate ratios (the stacked GLM's exp(coef), the
                # contrast's exp(level change)); length of stay: the differential level change in days
                r = est.fit(panel, outcome=outcome, unit="treated", comparison="comparison",
                            inference=spec, calendar=False)
                out[f"{outcome}|{label}|cover"] = float(r.ci[0] <= truth <= r.ci[1])
                out[f"{outcome}|{label}|est"] = float(r.estimate)
                out[f"{outcome}|{label}|se"] = float(r.se)
                out[f"{outcome}|{label}|width"] = float(r.ci[1] - r.ci[0])
    return out


def summarise(draws: pd.DataFrame, dgp: str) -> pd.DataFrame:
    """One row per outcome x setting: coverage, its Monte Carlo SE, mean estimate, SE/SD, width."""
    rows = []
    reps = len(draws)
    for key in [c[: -len("|cover")] for c in draws.columns if c.endswith("|cover")]:
        outcome, label = key.split("|")
        cover = draws[f"{key}|cover"]
        est = draws[f"{key}|est"]
        rows.append({"dgp": dgp, "outcome": outcome, "inference": label, "reps": reps,
                     "coverage": cover.mean(), "mc_se": np.sqrt(cover.mean() * (1 - cover.mean()) / reps),
                     "mean_estimate": est.mean(),
                     "se_over_sd": draws[f"{key}|se"].median() / est.std(ddof=1),
                     "mean_width": draws[f"{key}|width"].mean() if f"{key}|width" in draws else np.nan})
    return pd.DataFrame(rows)


def run(reps: int, seed: int, dgp: str = "shared", which: str = "default", start: int = 0,
        draws_file: str | None = None) -> pd.DataFrame:
    draws = pd.DataFrame([one_replication(seed + start + i, dgp, which) for i in range(reps)])
    if draws_file:
        draws.to_csv(draws_file, index=False)
    return summarise(draws, dgp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--dgp", choices=sorted(DGPS), default="shared",
                    help="shared: shocks common to both areas plus area AR(1) rho 0.3; area_ar: area AR(1) "
                         "rho 0.6 only")
    ap.add_argument("--settings", choices=["default", "all"], default="default",
                    help="default: the shipped default only; all: with ARErrors(), Newey-West and model-based")
    ap.add_argument("--start", type=int, default=0, help="first replication (seed + start); to split a run")
    ap.add_argument("--draws", default=None, help="CSV of every replication's rows")
    ap.add_argument("--combine", nargs="*", default=None, help="summarise these --draws CSVs instead of running")
    ap.add_argument("--out", default=None, help="CSV for the table")
    args = ap.parse_args()
    started = time.perf_counter()
    if args.combine:
        draws = pd.concat([pd.read_csv(f) for f in args.combine], ignore_index=True).drop_duplicates("seed")
        table = summarise(draws.sort_values("seed"), args.dgp)
    else:
        table = run(args.reps, args.seed, args.dgp, args.settings, args.start, args.draws)
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"{args.reps} replications, seed {args.seed}, {time.perf_counter() - started:.0f} s")
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
