"""Callaway-Sant'Anna cost per 1,000 units from 6,500 to 260,000 units x 96 months, by stage.

The data and the timed work are those of ``benchmarks/cs_bench.py`` (a long DataFrame with
ISO date strings, ``Panel.from_frame`` + ``CallawaySantAnna(...).fit(..., calendar=False)``,
999 Rademacher draws). Each size runs in a fresh process (threads pinned to 1): a warm-up fit
on 500 units, one memory run (peak RSS increase, as cs_bench), then ``reps`` timed fits (CPU =
user + sys of the process, and wall), then one fit under a CPU-time profiler whose cumulative
times give the stages:

``panel``       ``Panel.from_frame`` (validation, date strings, cohorts)
``cells``       every ATT(g,t) and its influence function in cohort form (``estimate_group_time``)
``bootstrap``   the multiplier bootstrap(s) (``multiplier_bootstrap``)
``analytic``    analytic ATT(g,t) SEs from the cohort form (``column_sq_sums``)
``aggregation`` aggregations incl. the pre-trend's event-time one (``aggregate_cells``)
``pretrend``    the pre-trend test (``cs_pretrend``, incl. its aggregation)
``result``      result building (``make_result``, incl. the data fingerprint)

Usage::

    python benchmarks/cs_scaling.py --sizes 6500 26000 65000 130000 260000 --setting aggregate
    python benchmarks/cs_scaling.py --json out.json --markdown out.md
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

STAGES = {
    "panel": "from_frame", "cells": "estimate_group_time", "bootstrap": "multiplier_bootstrap",
    "analytic": "column_sq_sums", "aggregation": "aggregate_cells", "pretrend": "cs_pretrend",
    "result": "make_result",
}


def _worker(n: int, setting: str, reps: int) -> dict:
    import cProfile
    import gc
    import pstats
    import warnings

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cs_bench

    warnings.simplefilter("ignore")
    fit = cs_bench._fitter("evalint", setting, cs_bench.DRAWS)
    fit(cs_bench.simulate(500, seed=1))
    df = cs_bench.simulate(n)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base = cs_bench._mem_status()["VmRSS"]
    first = fit(df)
    peak = cs_bench._mem_status()["VmHWM"] - base
    cpu, wall = [first["cpu_s"]], [first["total_s"]]
    for _ in range(reps):
        gc.collect()
        out = fit(df)
        cpu.append(out["cpu_s"])
        wall.append(out["total_s"])
    gc.collect()
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    fit(df)
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    stage = {k: 0.0 for k in STAGES}
    for (_, _, name), (_, _, _, cum, _) in stats.items():
        for k, fn in STAGES.items():
            if name == fn:
                stage[k] += cum
    return {"n_units": n, "setting": setting, "cpu_s": min(cpu), "wall_s": min(wall), "cpu_all": cpu,
            "wall_all": wall, "peak_mb": peak, "stages_cpu_s": stage, "simple": first["simple"],
            "load": list(os.getloadavg())}


def run(sizes, setting: str = "aggregate", reps: int = 2, timeout: float = 3600) -> list[dict]:
    rows = []
    for n in sizes:
        load = os.getloadavg()
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(n), "--setting", setting,
               "--reps", str(reps if n <= 65000 else min(reps, 1))]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            rows.append({"n_units": n, "setting": setting, "skipped": p.stderr.strip().splitlines()[-1:]})
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r["load_before"] = [round(x, 2) for x in load]
        rows.append(r)
        print(f"# {n} {setting}: cpu {r['cpu_s']:.3f} s wall {r['wall_s']:.3f} s peak {r['peak_mb']:.0f} MB "
              f"load {r['load_before']}", file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    ref = next((r for r in rows if "cpu_s" in r), None)
    head = ("| units x 96 | setting | CPU s (best) | wall s (best) | CPU s per 1,000 units | vs smallest | "
            "wall s per 1,000 | peak +MB | MB per 1,000 | " + " | ".join(f"{k} CPU s" for k in STAGES)
            + " | load before |\n|" + "---|" * (10 + len(STAGES)))
    out = [head]
    for r in rows:
        if "cpu_s" not in r:
            out.append(f"| {r['n_units']:,} | {r['setting']} | skipped: {r.get('skipped')} |")
            continue
        per = r["cpu_s"] / r["n_units"] * 1000
        base = ref["cpu_s"] / ref["n_units"] * 1000 if ref else per
        out.append(f"| {r['n_units']:,} | {r['setting']} | {r['cpu_s']:.3f} | {r['wall_s']:.3f} | {per:.4f} | "
                   f"{per / base:.2f}x | {r['wall_s'] / r['n_units'] * 1000:.4f} | {r['peak_mb']:.0f} | "
                   f"{r['peak_mb'] / r['n_units'] * 1000:.2f} | "
                   + " | ".join(f"{r['stages_cpu_s'][k]:.3f}" for k in STAGES)
                   + f" | {r['load_before']} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", type=int)
    ap.add_argument("--sizes", nargs="*", type=int, default=[6500, 26000, 65000, 130000, 260000])
    ap.add_argument("--setting", default="aggregate", choices=("aggregate", "cells"))
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.setting, args.reps)))
        return 0
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    up0 = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    rows = run(args.sizes, args.setting, args.reps)
    up1 = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    text = (f"C-S scaling ({args.setting}), {start}; uptime at start: {up0}; at end: {up1}\n\n" + table(rows))
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=1))
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
