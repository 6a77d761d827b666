"""Callaway-Sant'Anna like for like: evalint vs diff-diff, end to end from a DataFrame with date strings.

Both sides start from the same long DataFrame (unit id, month as an ISO date string
``'2016-04-01'``, outcome, cohort month as a date string or missing for never treated), as
read from a CSV. Doubly robust, never-treated comparison, varying base period, no
covariates, 999 Rademacher multiplier draws, alpha 0.05. Settings (each row says which):

``cells``
    both bootstrap every ATT(g,t) and form the uniform (sup-t) band over them, plus the
    simple aggregate - diff-diff's and csdid's default. evalint:
    ``CallawaySantAnna(bootstrap_cells=True)``; diff-diff: ``n_bootstrap=999, cband=True``.
``aggregate``
    evalint bootstraps only the reported (simple) aggregate, the ATT(g,t) table carries
    analytic SEs (its default). diff-diff has no aggregate-only bootstrap; it runs with
    ``cband=False`` (cells bootstrapped, no band), its cheapest bootstrap.

evalint's timed work: ``Panel.from_frame`` (validation, date strings to monthly periods,
cohorts) + ``fit`` (every ATT(g,t) with influence functions, the bootstrap, the ATT(g,t)
table, the pre-trend test, provenance incl. the data fingerprint; ``calendar=False``).
diff-diff's timed work: turning the two date-string columns into integer months (each
distinct string parsed once with ``pd.to_datetime``, then taken by code: year * 12 + month,
0 for never treated) + ``fit``.

Every (package, setting, size) runs in a fresh process with BLAS/OpenMP threads pinned to
1: a warm-up fit on a 500-unit panel, one memory run at the size - the peak resident set
size (VmHWM, reset through ``/proc/self/clear_refs`` after the data are built) minus the RSS
at that point, so it counts everything the fit allocates, in Python, NumPy or compiled code -
then the timed fits (``reps``, best reported). Rows are interleaved across packages.

Usage::

    python benchmarks/cs_bench.py                          # 6,500 x 96, both settings
    python benchmarks/cs_bench.py --sizes 6500 26000 65000 130000 260000 --reps 1
    python benchmarks/cs_bench.py --json out.json --markdown out.md

``run(sizes, reps)`` returns the rows as dicts (used by the combined benchmark script).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "POLARS_MAX_THREADS", "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

DRAWS = 999
SEED = 20240915
N_MONTHS = 96
COHORTS = (13, 25, 37, 49, 61, 73)
SETTINGS = {
    "cells": "all ATT(g,t) + uniform band bootstrapped (both)",
    "aggregate": "evalint: simple aggregate bootstrapped, cells analytic; diff-diff: cells bootstrapped, no band "
                 "(it has no aggregate-only bootstrap)",
}
PACKAGES = ("evalint", "diff-diff")


def simulate(n_units: int = 6500, n_months: int = N_MONTHS, seed: int = 0):
    """Staggered monthly panel as read from a CSV: 6 adoption cohorts (months 13, 25, ..., 73) +
    never treated; month and cohort month as ISO date strings (cohort missing if never treated)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    g = rng.choice(np.array((0,) + COHORTS), size=n_units)
    u, t = np.meshgrid(np.arange(1, n_units + 1), np.arange(1, n_months + 1), indexing="ij")
    gg = g[u - 1]
    effect = ((gg > 0) & (t >= gg)) * (0.5 + 0.01 * (t - gg))
    y = rng.normal(size=n_units)[u - 1] + 0.01 * t + 0.2 * np.sin(t / 6) + effect + rng.normal(0, 1, u.shape)
    months = np.asarray(pd.period_range("2016-04", periods=n_months, freq="M").strftime("%Y-%m-01"), dtype=object)
    cohort = np.where(gg > 0, months[np.maximum(gg, 1) - 1], None)
    return pd.DataFrame({"unit": u.ravel(), "month": months[t.ravel() - 1], "y": y.ravel(),
                         "cohort_month": cohort.ravel()})


def _month_index(text):
    """Integer month (year * 12 + month - 1) of ISO date strings, 0 where missing.

    Each distinct string is parsed once (``pd.to_datetime`` on all 624,000 rows takes ~10x
    longer); the cheapest conversion we know, so diff-diff's side is not slowed by it.
    """
    import numpy as np
    import pandas as pd

    codes, distinct = pd.factorize(text)
    d = pd.to_datetime(pd.Series(distinct), format="%Y-%m-%d")
    month = (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype=np.int64)
    return np.where(codes >= 0, month[np.maximum(codes, 0)], 0)


def _fitter(pkg: str, setting: str, draws: int):
    """A function df -> result dict doing the package's whole job for the setting."""

    if pkg == "evalint":
        from evalint.data.panel import Panel
        from evalint.estimators.did.cs.estimator import CallawaySantAnna
        from evalint.inference import MultiplierBootstrap

        est = CallawaySantAnna(estimation="dr", control="never_treated", aggregation="simple",
                               bootstrap_cells=setting == "cells")

        def fit(df):
            c0, t0 = time.process_time(), time.perf_counter()
            panel = Panel.from_frame(df, unit="unit", time="month", outcome="y", cohort="cohort_month")
            t1 = time.perf_counter()
            res = est.fit(panel, inference=MultiplierBootstrap(reps=draws, seed=SEED), calendar=False)
            t2, c2 = time.perf_counter(), time.process_time()
            tab = res.tables["att_gt"]
            per = [p.split("-") for p in tab["group"]], [p.split("-") for p in tab["time"]]
            keys = [(int(a[0]) * 12 + int(a[1]) - 1, int(b[0]) * 12 + int(b[1]) - 1) for a, b in zip(*per)]
            return {"panel_s": t1 - t0, "fit_s": t2 - t1, "total_s": t2 - t0, "cpu_s": c2 - c0,
                    "att": tab["estimate"].tolist(),
                    "keys": keys, "simple": float(res.estimate), "simple_se": float(res.se),
                    "band": "band_low" in tab.columns, "n_cells": len(tab)}
        return fit
    if pkg == "diff-diff":
        import diff_diff as dd

        def fit(df):
            c0, t0 = time.process_time(), time.perf_counter()
            work = df[["unit", "y"]].copy()
            work["time"] = _month_index(df["month"])
            work["first_treat"] = _month_index(df["cohort_month"])
            t1 = time.perf_counter()
            r = dd.CallawaySantAnna(control_group="never_treated", estimation_method="dr", n_bootstrap=draws,
                                    seed=SEED, cband=setting == "cells").fit(
                work, outcome="y", unit="unit", time="time", first_treat="first_treat")
            t2, c2 = time.perf_counter(), time.process_time()
            items = sorted(r.group_time_effects.items())
            return {"panel_s": t1 - t0, "fit_s": t2 - t1, "total_s": t2 - t0, "cpu_s": c2 - c0,
                    "att": [float(v["effect"]) for _, v in items], "keys": [(int(a), int(b)) for (a, b), _ in items],
                    "simple": float(r.overall_att), "simple_se": float(r.overall_se),
                    "band": getattr(r, "cband_crit_value", None) is not None, "n_cells": len(items)}
        return fit
    raise SystemExit(f"unknown package {pkg}")


def _mem_status() -> dict[str, float]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, val = line.split(":")
                out[key] = int(val.split()[0]) / 1024
    return out


def _worker(pkg: str, setting: str, n_units: int, reps: int, draws: int, memory: bool) -> dict:
    import gc

    warnings.simplefilter("ignore")
    fit = _fitter(pkg, setting, draws)
    fit(simulate(500, seed=1))          # warm-up: lazy imports, JIT, caches
    df = simulate(n_units)
    peak, first = None, None
    if memory:   # first, so memory freed by earlier fits at this size cannot hide the peak
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")           # reset the peak RSS to the current RSS
            base = _mem_status()["VmRSS"]
            first = fit(df)
            peak = _mem_status()["VmHWM"] - base
        except OSError:
            peak = float("nan")
    times, panel, fits, cpus, out = [], [], [], [], None
    if reps == 0 and memory:   # big sizes: the memory run is also the (one, cold) timed run
        out = first
        cpus.append(out["cpu_s"])
        times.append(out["total_s"])
        panel.append(out["panel_s"])
        fits.append(out["fit_s"])
    for _ in range(reps):
        gc.collect()
        out = fit(df)
        cpus.append(out["cpu_s"])
        times.append(out["total_s"])
        panel.append(out["panel_s"])
        fits.append(out["fit_s"])
    out.update({"times": times, "cpu_times": cpus, "panel_times": panel, "fit_times": fits, "peak_mb": peak})
    return out


def _spawn(pkg: str, setting: str, n_units: int, reps: int, draws: int, memory: bool, timeout: float,
           nice: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", pkg, setting, str(n_units),
           "--reps", str(reps), "--draws", str(draws)] + ([] if memory else ["--no-memory"])
    if nice:
        cmd = ["nice", "-n", str(nice)] + cmd
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"skipped": f"stopped after {timeout:.0f} s"}
    if p.returncode != 0:
        err = p.stderr.strip().splitlines()
        return {"skipped": f"failed: {err[-1] if err else p.returncode}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def run(sizes=(6500,), reps: int = 3, *, settings=tuple(SETTINGS), packages=PACKAGES, draws: int = DRAWS,
        memory: bool = True, timeout: float = 1800.0, nice: int = 0, verbose: bool = False) -> list[dict]:
    """Run the comparison; one dict per (size, setting, package).

    Parameters
    ----------
    sizes : sequence of int
        Numbers of units (each x 96 months).
    reps : int
        Timed fits per process (after a warm-up on a small panel); the best is reported. 0: the
        memory run is also the one timed run (for the big sizes).
    settings : subset of {"cells", "aggregate"}
    packages : subset of {"evalint", "diff-diff"}
    draws : int
        Multiplier-bootstrap replications.
    memory : bool
        Also measure the peak RSS increase of one more fit.
    timeout, nice : float, int
        Per-process limit in seconds; ``nice`` level of the worker processes.
    verbose : bool
        Print each process's summary to stderr as it finishes.

    Returns
    -------
    list of dict
        ``package, setting, work, n_units, n_months, best_s, median_s, panel_s, fit_s,
        per_1000_units_s, peak_mb, peak_mb_per_1000_units, simple, simple_se, n_cells, band,
        max_abs_att_diff`` (ATT(g,t) vs evalint's, same setting), ``simple_diff``, ``ratio``
        (diff-diff's best time / this package's, same setting and size), load averages.
    """
    import numpy as np

    rows: list[dict] = []
    for n in sizes:
        for setting in settings:
            got = {}
            for pkg in packages:   # interleaved: the packages alternate within each size and setting
                load = os.getloadavg()
                r = _spawn(pkg, setting, n, reps, draws, memory, timeout, nice)
                r["load_before"] = [round(x, 2) for x in load]
                got[pkg] = r
                if verbose:
                    brief = {k: r.get(k) for k in ("times", "cpu_times", "panel_times", "peak_mb", "simple", "skipped")}
                    print(f"# {n} {setting} {pkg}: {json.dumps(brief, default=float)}", file=sys.stderr, flush=True)
            ref = got.get("evalint", {})
            for pkg, r in got.items():
                row = {"package": pkg, "setting": setting, "work": SETTINGS[setting], "n_units": n,
                       "n_months": N_MONTHS, "draws": draws, "load_before": r["load_before"]}
                if "skipped" in r:
                    row["skipped"] = r["skipped"]
                    rows.append(row)
                    continue
                best = int(np.argmin(r["times"]))
                row.update({"best_s": r["times"][best], "median_s": float(np.median(r["times"])),
                            "best_cpu_s": min(r["cpu_times"]),
                            "panel_s": r["panel_times"][best], "fit_s": r["fit_times"][best],
                            "per_1000_units_s": r["times"][best] / n * 1000, "peak_mb": r["peak_mb"],
                            "peak_mb_per_1000_units": (None if r["peak_mb"] is None else r["peak_mb"] / n * 1000),
                            "simple": r["simple"], "simple_se": r["simple_se"], "n_cells": r["n_cells"],
                            "band": r["band"]})
                if "keys" in ref:
                    mine = dict(zip(map(tuple, r["keys"]), r["att"]))
                    theirs = dict(zip(map(tuple, ref["keys"]), ref["att"]))
                    common = set(mine) & set(theirs)
                    row["cells_compared"] = len(common)
                    row["max_abs_att_diff"] = max((abs(mine[k] - theirs[k]) for k in common), default=float("nan"))
                    row["simple_diff"] = abs(r["simple"] - ref["simple"])
                rows.append(row)
            dd_best = next((x["best_s"] for x in rows[-len(got):]
                            if x["package"] == "diff-diff" and "best_s" in x), None)
            dd_cpu = next((x["best_cpu_s"] for x in rows[-len(got):]
                           if x["package"] == "diff-diff" and "best_s" in x), None)
            for x in rows[-len(got):]:
                x["ratio"] = dd_best / x["best_s"] if dd_best and "best_s" in x else None
                x["ratio_cpu"] = dd_cpu / x["best_cpu_s"] if dd_cpu and "best_s" in x else None
    return rows


def table(rows: list[dict]) -> str:
    """A Markdown table of :func:`run`'s rows."""
    head = ("| units x months | setting | package | total s (best) | median s | panel/convert s | fit s "
            "| CPU s | s per 1,000 units | peak +MB | MB per 1,000 units | simple ATT (SE) | max abs ATT(g,t) diff | "
            "diff-diff time / this (wall; CPU) |\n|" + "---|" * 14)
    out = [head]
    for r in rows:
        if "skipped" in r:
            out.append(f"| {r['n_units']:,} x {r['n_months']} | {r['setting']} | {r['package']} | {r['skipped']} |"
                       + " |" * 10)
            continue
        pk = "" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
        pk1 = "" if r["peak_mb"] is None else f"{r['peak_mb_per_1000_units']:.1f}"
        out.append(
            f"| {r['n_units']:,} x {r['n_months']} | {r['setting']} | {r['package']} | {r['best_s']:.3f} | "
            f"{r['median_s']:.3f} | {r['panel_s']:.3f} | {r['fit_s']:.3f} | {r['best_cpu_s']:.3f} | "
            f"{r['per_1000_units_s']:.4f} | {pk} | "
            f"{pk1} | {r['simple']:.6f} ({r['simple_se']:.5f}) | {r.get('max_abs_att_diff', float('nan')):.1e} | "
            f"{'' if r.get('ratio') is None else format(r['ratio'], '.2f') + '; ' + format(r['ratio_cpu'], '.2f')} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=3, metavar=("PACKAGE", "SETTING", "UNITS"))
    ap.add_argument("--sizes", nargs="*", type=int, default=[6500])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--draws", type=int, default=DRAWS)
    ap.add_argument("--settings", nargs="*", default=list(SETTINGS))
    ap.add_argument("--packages", nargs="*", default=list(PACKAGES))
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--nice", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    if args.worker:
        pkg, setting, n = args.worker
        print(json.dumps(_worker(pkg, setting, int(n), args.reps, args.draws, not args.no_memory), default=float))
        return 0
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    rows = run(args.sizes, args.reps, settings=args.settings, packages=args.packages, draws=args.draws,
               memory=not args.no_memory, timeout=args.timeout, nice=args.nice, verbose=True)
    end_uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    import diff_diff
    import numpy
    import pandas

    header = (f"Callaway-Sant'Anna like for like, {start}; {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {numpy.__version__}, "
              f"pandas {pandas.__version__}, diff-diff {diff_diff.__version__}; threads 1; {args.draws} draws; "
              f"uptime at start: {uptime}; at end: {end_uptime}")
    text = header + "\n\n" + table(rows)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"header": header, "rows": rows}, default=float, indent=1))
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
