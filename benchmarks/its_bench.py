"""Speed benchmark: count ITS with seasonality and HAC / AR errors for 120 trusts x 3 outcomes x 108 months.

Data: a documented generator (numpy, seed 0), not a real extract. For each of 120 trusts,
monthly April 2016 - March 2025 (108 months), catchment population P_i ~ U(150k, 900k) growing
0.5%/year:
* emergency admissions ~ NB2(mu, alpha = 0.002), log mu = log P + log(8e-3) + u_i + 0.015 s_t
  + 0.05 cos(2 pi (m - 1)/12) + log(0.95) 1{t >= 2022-07};
* delayed discharges ~ NB2(mu, alpha = 0.01), log mu = log P + log(9e-5) + v_i + 0.03 s_t
  + 0.08 cos(...) + log(0.9) 1{t >= 2022-07};
* length of stay = 7.9 + w_i + 0.1 s_t + 0.15 cos(...) - 0.2 1{t >= 2022-07} + AR(1) errors (rho 0.3, sd 0.15).

Fits (one per trust and outcome, 360 in all), each with the ICS go-live (July 2022) as the
interruption, step + slope change and two Fourier pairs:
* admissions and delayed discharges: quasi-Poisson GLM with log(population) offset and Newey-West
  HAC standard errors (CountITS, inference=NeweyWest());
* length of stay: GLS with AR(1) errors by maximum likelihood (SegmentedRegression, inference=ARErrors()).
Every fit builds the full EffectResult (counterfactual, per-period and cumulative effects, residual
diagnostics). The policy-calendar check is off by default (``--calendar`` switches it on).

Usage: ``python benchmarks/its_bench.py [--workers 2] [--calendar] [--tracemalloc]``. Prints wall time,
fits per second and peak memory (max RSS of this process and its workers; tracemalloc peak of the
Python heap with ``--tracemalloc``).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

N_TRUSTS, START, N_MONTHS, GO_LIVE = 120, "2016-04", 108, "2022-07"
CPU_FIT = 0.0


def make_frame(seed: int = 0) -> pd.DataFrame:
    """The simulated long frame (one row per trust and month)."""
    rng = np.random.default_rng(seed)
    months = pd.period_range(START, periods=N_MONTHS, freq="M")
    s = (np.arange(N_MONTHS) - 36) / 12.0
    season = np.cos(2 * np.pi * (np.asarray(months.month) - 1) / 12)
    post = (months >= pd.Period(GO_LIVE, "M")).astype(float)
    frames = []
    for i in range(N_TRUSTS):
        pop = rng.uniform(150e3, 900e3) * np.exp(0.005 * s)
        mu_a = pop * 8e-3 * np.exp(rng.normal(0, 0.1) + 0.015 * s + 0.05 * season + np.log(0.95) * post)
        mu_d = pop * 9e-5 * np.exp(rng.normal(0, 0.3) + 0.03 * s + 0.08 * season + np.log(0.9) * post)
        adm = rng.poisson(mu_a * rng.gamma(1 / 0.002, 0.002, N_MONTHS))
        dd = rng.poisson(mu_d * rng.gamma(1 / 0.01, 0.01, N_MONTHS))
        e = np.zeros(N_MONTHS)
        for t in range(N_MONTHS):
            e[t] = (0.3 * e[t - 1] if t else 0) + rng.normal(0, 0.15 * np.sqrt(1 - 0.09))
        los = 7.9 + rng.normal(0, 0.5) + 0.1 * s + 0.15 * season - 0.2 * post + e
        frames.append(pd.DataFrame({"trust": f"T{i:03d}", "month": months, "emergency_admissions": adm,
                                    "delayed_discharges": dd, "length_of_stay": los, "population": pop}))
    return pd.concat(frames, ignore_index=True)


def make_panel(seed: int = 0):
    from evalint.data.panel import Panel

    return Panel.from_frame(make_frame(seed), unit="trust", time="month",
                            outcome=["emergency_admissions", "delayed_discharges", "length_of_stay"],
                            population="population")


def fit_units(args):
    panel, units, calendar = args
    from evalint.estimators.its import CountITS, SegmentedRegression
    from evalint.inference import ARErrors, NeweyWest

    design = {"interventions": GO_LIVE, "impact": "step_slope", "seasonality": "fourier", "harmonics": 2}
    count = (CountITS(model="quasi_poisson", **design), NeweyWest())
    gls = (SegmentedRegression(**design), ARErrors(order=1))
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for u in units:
            for outcome, est in (("emergency_admissions", count), ("delayed_discharges", count),
                                 ("length_of_stay", gls)):
                r = est[0].fit(panel, unit=u, outcome=outcome, calendar=None if calendar else False, inference=est[1])
                out.append((u, outcome, r.estimate, r.ci[0], r.ci[1]))
    use = resource.getrusage(resource.RUSAGE_SELF)
    return out, use.ru_maxrss


def run(workers: int, calendar: bool) -> tuple[pd.DataFrame, float, float, int]:
    t0 = time.perf_counter()
    panel = make_panel()
    t_build = time.perf_counter() - t0
    units = list(panel.units)
    t1 = time.perf_counter()
    cpu0 = time.process_time()
    if workers <= 1:
        rows, rss = fit_units((panel, units, calendar))
        rss_workers = [rss]
    else:
        chunks = [units[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(max_workers=workers) as ex:
            parts = list(ex.map(fit_units, [(panel, c, calendar) for c in chunks]))
        rows = [r for p, _ in parts for r in p]
        rss_workers = [rss for _, rss in parts]
    t_fit = time.perf_counter() - t1
    global CPU_FIT
    CPU_FIT = time.process_time() - cpu0 + (resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime if workers > 1 else 0)
    frame = pd.DataFrame(rows, columns=["trust", "outcome", "estimate", "conf_low", "conf_high"])
    peak_kb = max(rss_workers + [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss])
    return frame, t_build, t_fit, peak_kb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--calendar", action="store_true", help="run the policy-calendar check in every fit")
    ap.add_argument("--tracemalloc", action="store_true", help="also report the tracemalloc peak (serial, slower)")
    args = ap.parse_args()
    frame, t_build, t_fit, peak_kb = run(args.workers, args.calendar)
    n = len(frame)
    print(f"ITS benchmark: {N_TRUSTS} trusts x 3 outcomes x {N_MONTHS} months = {n} fits "
          f"({args.workers} worker(s), calendar {'on' if args.calendar else 'off'})")
    print(f"  panel build {t_build:.2f} s; fitting {t_fit:.2f} s ({n / t_fit:.0f} fits/s); "
          f"total {t_build + t_fit:.2f} s; CPU time of the fits {CPU_FIT:.2f} s "
          f"(wall time depends on machine load: {os.getloadavg()[0]:.1f} 1-min load average at the end)")
    print(f"  peak RSS (largest process) {peak_kb / 1024:.0f} MiB")
    med = frame.groupby("outcome")["estimate"].median()
    print("  median estimates: " + ", ".join(f"{k} {v:.3f}" for k, v in med.items())
          + " (truth: admissions RR 0.95, delayed discharges RR 0.90, LOS -0.2 days)")
    if args.tracemalloc:
        tracemalloc.start()
        run(1, args.calendar)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  tracemalloc peak (Python heap, serial run) {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
