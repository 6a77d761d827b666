"""ITS fleet, like for like: evalint against a plain statsmodels loop giving the same rate ratios.

Data: ``its_bench.make_frame()`` (120 simulated trusts x 108 months, seed 0; documented there).
Work timed on both sides, from the long DataFrame to a table of 240 rate ratios with their 95%
intervals: for each trust and each count outcome (emergency admissions, delayed discharges), a
quasi-Poisson GLM with a log(population) offset, linear trend, step and slope change at July 2022
and two Fourier pairs, with Newey-West HAC standard errors (Bartlett kernel, lag
floor(4 (n/100)^(2/9)) = 4, no small-sample factor, no prewhitening); the headline is the rate
ratio of the level change and its Wald interval.

* evalint: ``Panel.from_frame`` once, then ``CountITS(...).fit(panel, unit=..., outcome=...)``
  per series (each fit returns the full EffectResult: coefficients, effects, counterfactual,
  diagnostics; calendar check off).
* statsmodels: ``groupby`` once, the design built with numpy per series, ``sm.GLM(...,
  family=Poisson(), offset=...).fit(cov_type="HAC", cov_kwds={"maxlags": 4, "use_correction":
  False}, tol=1e-13)`` per series; rate ratio ``exp(b)``, interval ``exp(b -/+ z se)``.

The quasi-Poisson dispersion does not enter the HAC sandwich, so the Poisson fit with the HAC
covariance is the same model. The length-of-stay fits of ``its_bench.py`` (GLS with AR(1) errors,
REML with the Kackar-Harville adjustment) have no statsmodels twin and are not part of this row.

Usage: ``python benchmarks/its_fleet_bench.py {evalint,statsmodels}``: prints one JSON line with
the wall time of the work above and the estimates (run by ``benchmarks/run_all.py`` in fresh
processes).
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


OUTCOMES = ("emergency_admissions", "delayed_discharges")
GO_LIVE = "2022-07"
Z = 1.959963984540054


def make_frame() -> pd.DataFrame:
    """its_bench.py's simulated frame (loaded by file path: this folder stays off the import path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("its_bench", Path(__file__).resolve().with_name("its_bench.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_frame()


def run_evalint(frame: pd.DataFrame) -> tuple[float, list[tuple]]:
    from evalint.data.panel import Panel
    from evalint.estimators.its import CountITS

    t0 = time.perf_counter()
    panel = Panel.from_frame(frame, unit="trust", time="month", outcome=list(OUTCOMES) + ["length_of_stay"],
                             population="population")
    est = CountITS(model="quasi_poisson", errors="newey_west", interventions=GO_LIVE, impact="step_slope",
                   seasonality="fourier", harmonics=2)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for u in panel.units:
            for o in OUTCOMES:
                r = est.fit(panel, unit=u, outcome=o, calendar=False)
                out.append((str(u), o, r.estimate, r.ci[0], r.ci[1]))
    return time.perf_counter() - t0, out


def run_statsmodels(frame: pd.DataFrame) -> tuple[float, list[tuple]]:
    import statsmodels.api as sm

    t0 = time.perf_counter()
    go = pd.Period(GO_LIVE, "M")
    out = []
    for u, d in frame.groupby("trust", sort=True):
        d = d.sort_values("month")
        months = pd.PeriodIndex(d["month"])
        n = len(d)
        t = np.arange(1, n + 1.0)
        pos = t - int(np.searchsorted(months.asi8, go.ordinal))
        m = np.asarray(months.month, dtype=float)
        X = np.column_stack([np.ones(n), t, (pos >= 1).astype(float), np.maximum(pos, 0.0)]
                            + [f(2 * np.pi * h * m / 12) for h in (1, 2) for f in (np.sin, np.cos)])
        off = np.log(d["population"].to_numpy(dtype=float))
        lags = int(math.floor(4 * (n / 100) ** (2 / 9)))
        for o in OUTCOMES:
            res = sm.GLM(d[o].to_numpy(dtype=float), X, family=sm.families.Poisson(), offset=off).fit(
                cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}, tol=1e-13)
            b, se = float(res.params[2]), float(res.bse[2])
            out.append((str(u), o, math.exp(b), math.exp(b - Z * se), math.exp(b + Z * se)))
    return time.perf_counter() - t0, out


def main() -> None:
    side = sys.argv[1]
    frame = make_frame()
    seconds, rows = (run_evalint if side == "evalint" else run_statsmodels)(frame)
    print(json.dumps({"side": side, "seconds": seconds, "rows": rows}))


if __name__ == "__main__":
    main()
