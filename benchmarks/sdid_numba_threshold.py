"""Where the numba Frank-Wolfe kernels pay for their import: one SDID fit in a fresh process.

Run ``nice -n 10 python benchmarks/sdid_numba_threshold.py [--rounds 2] [--out PATH.csv]``.

What it measures
----------------
For each panel shape (``n0`` control units, ``t0`` pre periods, 1 treated unit, 10 post
periods, default placebo inference with 200 replicates, seed 0) a *fresh* Python process builds
the panel, then times one ``synthetic_did`` fit with ``time.process_time`` (CPU time, so the load
of a shared machine matters less than for wall time), once with ``EVALINT_NUMBA=1`` (the compiled
kernels: the fit pays numba's import and the kernel load from numba's on-disk cache) and once with
``EVALINT_NUMBA=0`` (the numpy path). The two modes alternate, round after round. Each child also
records the Frank-Wolfe problems the fit solved: the largest ``B x n x m`` (B stacked problems, n
rows, m candidate weights), the quantity ``fw_compiled.use_compiled`` compares with
``MIN_COMPILED_SIZE``, and the estimate and SE of both modes (equal to ~1e-12).

The panel: ``y_it = a_i + b_t + l_i f_t + e_it`` (two random-walk factors, N(0, 1) noise), unit 0
treated from period ``t0`` with effect -5, integer years as the time axis.

The threshold ``MIN_COMPILED_SIZE`` is the smallest largest-problem size from which the kernels
are cheaper in every measured shape (median CPU over rounds); the table goes to
benchmarks/RESULTS.md (SDID section) and the rule is described in methods/synthetic_control.md.

The kernels must be compiled once before the run (the script does a warm-up fit with
``EVALINT_NUMBA=1``), so that the timed children load them from numba's cache, as users do after
their first fit.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (n0 controls, t0 pre periods) of the grid
SHAPES = [(10, 12), (20, 20), (38, 19), (40, 40), (60, 30), (80, 40), (80, 80), (160, 40), (160, 80)]

CHILD = r"""
import json, os, sys, time
import numpy as np
import pandas as pd
n0, t0, seed = int(sys.argv[1]), int(sys.argv[2]), 0
t1 = 10
rng = np.random.default_rng(seed)
N, T = n0 + 1, t0 + t1
f = np.cumsum(rng.normal(size=(T, 2)), axis=0)
load = rng.uniform(0.5, 1.5, size=(N, 2))
y = rng.normal(size=N)[:, None] * 3 + np.linspace(0, 2, T)[None, :] + load @ f.T + rng.normal(size=(N, T))
y[0, t0:] -= 5.0
units = np.repeat([f"u{i:03d}" for i in range(N)], T)
years = np.tile(np.arange(1901, 1901 + T), N)
treated = ((units == "u000") & (years >= 1901 + t0)).astype(int)
df = pd.DataFrame({"unit": units, "year": years, "y": y.ravel(), "treated": treated})
from evalint.data.panel import Panel
from evalint.estimators.synth import fw_compiled
from evalint.estimators.synth.sdid.estimator import synthetic_did
panel = Panel.from_frame(df, unit="unit", time="year", outcome="y", treatment="treated")
sizes = []
orig = fw_compiled.use_compiled
def recording(size):
    sizes.append(int(size))
    return orig(size)
fw_compiled.use_compiled = recording
t = time.process_time()
w = time.perf_counter()
res = synthetic_did(panel, calendar=False)
cpu = time.process_time() - t
wall = time.perf_counter() - w
print(json.dumps({"cpu": cpu, "wall": wall, "max_size": max(sizes), "sum_size": sum(sizes), "calls": len(sizes),
                  "numba": "numba" in sys.modules, "estimate": res.estimate, "se": float(res.se)}))
"""


def _child(n0: int, t0: int, mode: str) -> dict:
    env = dict(os.environ, EVALINT_NUMBA=mode, PYTHONPATH=str(ROOT))
    env.pop("EVALINT_NO_NUMBA", None)
    out = subprocess.run([sys.executable, "-c", CHILD, str(n0), str(t0)], env=env, capture_output=True,
                         text=True, check=True, cwd=str(ROOT))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "sdid_numba_threshold.csv"))
    args = ap.parse_args()
    _child(10, 12, "1")  # compile / load the kernels into numba's cache once
    load0 = [round(x, 2) for x in os.getloadavg()]
    rows = []
    for n0, t0 in SHAPES:
        runs: dict[str, list[dict]] = {"1": [], "0": []}
        for _ in range(args.rounds):
            for mode in ("1", "0"):
                runs[mode].append(_child(n0, t0, mode))
        nb, npy = runs["1"], runs["0"]
        row = {
            "n0": n0, "t0": t0, "max_size": nb[0]["max_size"], "calls": nb[0]["calls"],
            "cpu_numba": statistics.median(r["cpu"] for r in nb),
            "cpu_numpy": statistics.median(r["cpu"] for r in npy),
            "wall_numba": min(r["wall"] for r in nb), "wall_numpy": min(r["wall"] for r in npy),
            "est_diff": max(abs(a["estimate"] - b["estimate"]) for a in nb for b in npy),
            "se_diff": max(abs(a["se"] - b["se"]) for a in nb for b in npy),
        }
        row["numpy_over_numba"] = row["cpu_numpy"] / row["cpu_numba"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    load1 = [round(x, 2) for x in os.getloadavg()]
    import csv

    with open(args.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    rows.sort(key=lambda r: r["max_size"])
    pays_from = None
    for i, r in enumerate(rows):
        if all(q["numpy_over_numba"] > 1.0 for q in rows[i:]):
            pays_from = r["max_size"]
            break
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {load0} -> {load1}, "
          f"{args.rounds} rounds, python {sys.version.split()[0]}")
    print("| controls n0 | pre periods t0 | largest problem B x n x m | CPU s numba (fresh) | CPU s numpy | "
          "numpy / numba | best wall s numba; numpy | max abs diff estimate; SE |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n0']} | {r['t0']} | {r['max_size']:,} | {r['cpu_numba']:.3f} | {r['cpu_numpy']:.3f} | "
              f"{r['numpy_over_numba']:.2f} | {r['wall_numba']:.2f}; {r['wall_numpy']:.2f} | "
              f"{r['est_diff']:.1e}; {r['se_diff']:.1e} |")
    print(f"\nkernels cheaper in every shape from a largest problem of {pays_from} entries")


if __name__ == "__main__":
    main()
