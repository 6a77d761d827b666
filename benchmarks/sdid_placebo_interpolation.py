"""Coverage of the synthetic DiD placebo interval with few comparison units, by the time-weight residual.

The default interval of ``synthetic_did`` (placebo SE, Arkhangelsky et al. 2021 Algorithm 4, 200
draws; replicates start from the full-sample weights, as the synthdid package's do) covers at its
nominal rate on 42 ICBs (benchmarks/coverage_its_synth.py). With few comparison units for the
pre-period, the time weights can reproduce every control's post-period mean from its own
pre-period; a placebo replicate started from those weights then fits its placebo-treated units
already, and the placebo SE collapses. :func:`evalint.estimators.synth.sdid.core.time_weight_residual`
measures how closely the weights do that (root mean square residual / noise level); the estimator
flags the placebo SE below ``PLACEBO_INTERPOLATION_RATIO``. This script gives the evidence for that
threshold.

DGP: :func:`evalint.simulate_nhs` (monthly ICB admissions with seasonality and noise) for
``n_units`` ICBs drawn at random from the 42, two of them treated from 2023-01 with a 5% fall in
emergency admissions, ``pre`` months before it and 12 after. Truth: the mean of the simulation's
own effect column over the treated unit-months. Each replication r of a cell uses seed
``1000 * n_units + pre + r`` for the draw of ICBs, the simulation and (r) the placebo draws.

Usage::

    nice -n 10 python benchmarks/sdid_placebo_interpolation.py --reps 500 --units 8 12 --out a.csv
    nice -n 10 python benchmarks/sdid_placebo_interpolation.py --reps 200 --demo --out demo.csv
    nice -n 10 python benchmarks/sdid_placebo_interpolation.py --reps 500 --units 8 --pre 9 21 --jackknife --out jk.csv
    nice -n 10 python benchmarks/sdid_placebo_interpolation.py --reps 500 --units 8 --replicate-start uniform \
        --out u.csv
    python benchmarks/sdid_placebo_interpolation.py --summarise benchmarks/sdid_placebo_interpolation.csv
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import evalint
from evalint.estimators.synth.sdid.core import fit_design, time_weight_residual
from evalint.estimators.synth.sdid.design import panel_design
from evalint.estimators.synth.sdid.estimator import PLACEBO_INTERPOLATION_RATIO, SyntheticDiD

BUCKETS = [0.0, 0.001, 0.01, 0.03, 0.1, np.inf]


def residual_ratio(panel: evalint.Panel) -> float:
    """The time-weight residual of the panel's (one-cohort) SDID fit, relative to its noise level."""
    design = panel_design(panel, None, ())
    fit = fit_design(design.Y, design.start, SyntheticDiD().settings)
    c = fit.cohorts[0]
    return time_weight_residual(design.Y, c.control_rows, c.start, c.lam, c.reg.noise)


def cell(n_units: int, pre: int, reps: int, inference: str = "placebo", replicate_start: str = "full") -> list[dict]:
    names = list(pd.unique(evalint.simulate_nhs(seed=1).data["icb_code"]))
    start, seed0 = str(pd.Period("2023-01", "M") - pre), 1000 * n_units + pre
    rows = []
    for r in range(reps):
        rng = np.random.default_rng(seed0 + r)
        units = list(rng.choice(names, n_units, replace=False))
        sim = evalint.simulate_nhs(start=start, end="2023-12", seed=int(seed0 + r), adoption=(units[:2], "2023-01"),
                                   units=units, effects={"emergency_admissions": -0.05})
        panel = evalint.Panel.from_frame(sim.data, unit="icb_code", time="month", outcome="emergency_admissions",
                                         treatment="treated")
        truth = sim.truth.loc[(sim.truth["outcome"] == "emergency_admissions") & (sim.truth["treated"] == 1),
                              "effect"].mean()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = evalint.Placebo(reps=200, seed=r) if inference == "placebo" else evalint.Jackknife()
            res = evalint.synthetic_did(panel, calendar=False, inference=spec, replicate_start=replicate_start)
        row = res.to_frame().iloc[0]
        rows.append({"n_units": n_units, "pre": pre, "ratio": residual_ratio(panel), "est": row["estimate"],
                     "se": row["std_error"], "lo": row["conf_low"], "hi": row["conf_high"], "truth": float(truth)})
    return rows


def demo_design(reps: int) -> list[dict]:
    """The demo's design (:func:`evalint.demo.simulate_demo_panel`: 42 ICBs, 4 treated from April
    2023, 21 months before and 24 after; admissions per 100,000), seeds 5000 + r; the truth is
    the demo's own (:func:`evalint.demo.demo_truth`, per 100,000 a month)."""
    from evalint.demo import demo_truth, simulate_demo_panel

    rows = []
    for r in range(reps):
        sim = simulate_demo_panel(seed=5000 + r)
        frame = sim.data.assign(rate=sim.data["emergency_admissions"] / sim.data["population"] * 1e5)
        panel = evalint.Panel.from_frame(frame, unit="icb_code", time="month", outcome="rate", treatment="treated")
        truth = demo_truth(sim)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = evalint.synthetic_did(panel, calendar=False, inference=evalint.Placebo(reps=200, seed=r))
        row = res.to_frame().iloc[0]
        rows.append({"n_units": "42 (demo)", "pre": 21, "ratio": residual_ratio(panel), "est": row["estimate"],
                     "se": row["std_error"], "lo": row["conf_low"], "hi": row["conf_high"],
                     "truth": float(truth.loc[truth["outcome"] == "emergency_admissions", "true_absolute"].iloc[0])})
    return rows


def summarise(frame: pd.DataFrame) -> str:
    """Markdown tables: coverage by design, and by residual bucket over all designs."""
    frame = frame.assign(n_units=frame["n_units"].astype(str))
    d = frame.assign(cover=(frame["lo"] <= frame["truth"]) & (frame["truth"] <= frame["hi"]),
                     err=frame["est"] - frame["truth"],
                     flagged=frame["ratio"] < PLACEBO_INTERPOLATION_RATIO)

    def table(g: pd.core.groupby.DataFrameGroupBy, keys: list[str]) -> str:
        out = g.agg(reps=("cover", "size"), coverage=("cover", "mean"), median_se=("se", "median"),
                    sd_error=("err", "std"), flagged=("flagged", "mean")).reset_index()
        half = 2.576 * np.sqrt(0.95 * 0.05 / out["reps"])
        out["band_99"] = [f"{max(0.0, 0.95 - h):.3f}-{min(1.0, 0.95 + h):.3f}" for h in half]
        head = ("| " + " | ".join(keys)
                + " | reps | coverage | 99% band of 0.95 | median SE | SD of error | SE/SD | flagged |")
        lines = [head, "|" + "---|" * (len(keys) + 7)]
        for _, r in out.iterrows():
            lines.append("| " + " | ".join(str(r[k]) for k in keys) + f" | {r.reps} | {r.coverage:.3f} | {r.band_99} | "
                         f"{r.median_se:.1f} | {r.sd_error:.1f} | {r.median_se / r.sd_error:.2f} | {r.flagged:.2f} |")
        return "\n".join(lines)

    d["order"] = d["n_units"].str.extract(r"^(\d+)", expand=False).astype(int)
    d = d.sort_values(["order", "n_units", "pre"], kind="stable")
    by_design = table(d.groupby(["n_units", "pre"], sort=False), ["n_units", "pre"])
    grid = d.loc[~d["n_units"].str.contains("demo")].copy()  # one outcome scale (admissions a month)
    grid["residual"] = pd.cut(grid["ratio"], BUCKETS)
    by_ratio = table(grid.groupby("residual", observed=True), ["residual"])
    return by_design + "\n\n" + by_ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--units", type=int, nargs="+", default=[8, 12, 20, 42])
    ap.add_argument("--pre", type=int, nargs="+", default=[9, 21, 45])
    ap.add_argument("--demo", action="store_true", help="the demo's design instead of the grid")
    ap.add_argument("--jackknife", action="store_true", help="Jackknife() instead of the default placebo")
    ap.add_argument("--replicate-start", default="full", choices=("full", "uniform"),
                    help="where the replicates' weights start (synthetic_did's replicate_start)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--summarise", nargs="+", default=None)
    args = ap.parse_args()
    if args.summarise:
        print(summarise(pd.concat([pd.read_csv(f) for f in args.summarise], ignore_index=True)))
        return
    rows: list[dict] = demo_design(args.reps) if args.demo else []
    t0 = time.time()
    for n_units in ([] if args.demo else args.units):
        for pre in args.pre:
            rows += cell(n_units, pre, args.reps, "jackknife" if args.jackknife else "placebo", args.replicate_start)
            if args.out:
                pd.DataFrame(rows).to_csv(args.out, index=False)
            print(n_units, pre, f"{time.time() - t0:.0f}s", flush=True)
    if args.out:
        pd.DataFrame(rows).to_csv(args.out, index=False)
    else:
        print(summarise(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
