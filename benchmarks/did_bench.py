"""Speed and memory benchmark: Callaway-Sant'Anna in evalint vs diff-diff, csdid and moderndid.

Configuration (the issue's): no covariates, never-treated comparison, doubly robust, 999
multiplier-bootstrap draws, simple aggregation, on (a) mpdta (500 x 5) and (b) a simulated
6,500-unit x 96-month panel with 6 adoption cohorts plus never-treated units.

Every (package, dataset) run happens in a fresh subprocess with OMP/OPENBLAS/MKL_NUM_THREADS=1
set before numpy is imported, the same data (mpdta file; simulation from a fixed seed), a
warm-up fit, then ``--repeats`` timed fits (the minimum and median are reported). Peak memory
is the subprocess's peak resident set size (``ru_maxrss``) and its increase over the RSS
just before the first fit (imports and data excluded). A peer whose fit exceeds
``--timeout`` seconds is stopped and reported as skipped.

evalint is timed as "panel" (``Panel.from_frame`` validation of the long frame, monthly
periods) and "fit" (all ATT(g,t) with influence functions, the simple aggregation, its
multiplier bootstrap, the ATT(g,t) table with analytic SEs, the pre-trend Wald test). The
variant ``evalint+cells`` also bootstraps every ATT(g,t) (SEs and a simultaneous band),
which is what the peers do. ATT(g,t) of every package are compared with evalint's.

Usage::

    python benchmarks/did_bench.py                 # all packages, both datasets
    python benchmarks/did_bench.py --repeats 5 --only evalint diff-diff
    python benchmarks/did_bench.py --skip moderndid     # moderndid takes ~1 min per fit at (b)
    python benchmarks/did_bench.py --timeout 120        # stop any fit over 2 minutes

The slow peers (moderndid) get ``--slow-repeats`` timed fits (default 1) after the warm-up.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "POLARS_MAX_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

REPS = 999
SEED = 20240915
PACKAGES = ("evalint", "evalint+cells", "diff-diff", "csdid", "moderndid")
SLOW = ("moderndid",)  # ~1 min per fit at the 6,500-unit panel
COHORTS = (13, 25, 37, 49, 61, 73)


def simulate(n_units: int = 6500, n_months: int = 96, seed: int = 0):
    """GP-practice-scale staggered panel: 6 adoption cohorts (months 13, 25, ..., 73) + never treated."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    g = rng.choice(np.array((0,) + COHORTS), size=n_units)
    u, t = np.meshgrid(np.arange(1, n_units + 1), np.arange(1, n_months + 1), indexing="ij")
    gg = g[u - 1]
    effect = ((gg > 0) & (t >= gg)) * (0.5 + 0.01 * (t - gg))
    y = rng.normal(size=n_units)[u - 1] + 0.01 * t + 0.2 * np.sin(t / 6) + effect + rng.normal(0, 1, u.shape)
    return pd.DataFrame({"unit": u.ravel(), "time": t.ravel(), "y": y.ravel(), "g": gg.ravel()})


def load(dataset: str):
    """(frame, unit, time, outcome, cohort) with integer time, as the peers need."""
    import pandas as pd

    if dataset == "mpdta":
        here = Path(__file__).resolve().parents[1]
        path = Path(os.environ.get("EVALINT_DATA_DIR", here.parent / "shared" / "reference")) / "mpdta" / "data.csv"
        return pd.read_csv(path), "countyreal", "year", "lemp", "first.treat"
    return simulate(), "unit", "time", "y", "g"


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _worker(pkg: str, dataset: str, repeats: int) -> dict:
    import numpy as np
    import pandas as pd

    df, unit, time_col, y, g = load(dataset)
    run = None
    if pkg.startswith("evalint"):
        from evalint.data.panel import Panel
        from evalint.estimators.did.cs.estimator import CallawaySantAnna
        from evalint.inference import MultiplierBootstrap

        work = df.copy()
        if dataset != "mpdta":  # evalint needs calendar time: months from 2016-04
            months = pd.period_range("2016-04", periods=int(work[time_col].max()), freq="M").to_timestamp()
            gi = work[g].to_numpy()
            work["month"] = months[work[time_col].to_numpy() - 1]
            work["cohort_month"] = pd.Series(np.where(gi > 0, months[np.maximum(gi, 1) - 1], pd.NaT),
                                             index=work.index)
            tcol, gcol = "month", "cohort_month"
        else:
            tcol, gcol = time_col, g
        est = CallawaySantAnna(estimation="dr", control="never_treated", aggregation="simple",
                               bootstrap_cells=pkg == "evalint+cells")

        def run():
            t0 = time.perf_counter()
            panel = Panel.from_frame(work, unit=unit, time=tcol, outcome=y, cohort=gcol)
            t1 = time.perf_counter()
            res = est.fit(panel, inference=MultiplierBootstrap(reps=REPS, seed=SEED), calendar=False)
            t2 = time.perf_counter()
            tab = res.tables["att_gt"]
            key = [(str(a)[:4] if dataset == "mpdta" else a, b) for a, b in zip(tab["group"], tab["time"])]
            return {"panel_s": t1 - t0, "fit_s": t2 - t1, "att": tab["estimate"].tolist(), "keys": key,
                    "simple": res.estimate, "simple_se": res.se}
    elif pkg == "diff-diff":
        import diff_diff as dd

        def run():
            t0 = time.perf_counter()
            r = dd.CallawaySantAnna(control_group="never_treated", estimation_method="dr", n_bootstrap=REPS,
                                    seed=SEED).fit(df, outcome=y, unit=unit, time=time_col, first_treat=g)
            t1 = time.perf_counter()
            items = sorted(r.group_time_effects.items())
            return {"fit_s": t1 - t0, "att": [v["effect"] for _, v in items], "simple": r.overall_att,
                    "simple_se": r.overall_se, "gt": [(int(a), int(b)) for (a, b), _ in items]}
    elif pkg == "csdid":
        from csdid.att_gt import ATTgt

        def run():
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                c = ATTgt(yname=y, tname=time_col, idname=unit, gname=g, data=df.copy(),
                          control_group=["nevertreated"], biters=REPS).fit(est_method="dr", bstrap=True)
                c.aggte(typec="simple", bstrap=True, biters=REPS)
            t1 = time.perf_counter()
            res = c.results
            order = np.lexsort((np.asarray(res["year"]), np.asarray(res["group"])))
            return {"fit_s": t1 - t0, "att": list(np.asarray(res["att"], float)[order]),
                    "simple": float(np.ravel(c.atte["overall_att"])[0]),
                    "simple_se": float(np.ravel(c.atte["overall_se"])[0]),
                    "gt": [(int(res["group"][i]), int(res["year"][i])) for i in order]}
    elif pkg == "moderndid":
        import moderndid as md

        def run():
            t0 = time.perf_counter()
            m = md.att_gt(df, yname=y, tname=time_col, idname=unit, gname=g, boot=True, biters=REPS,
                          est_method="dr", control_group="nevertreated", random_state=SEED)
            a = md.aggte(m, type="simple", boot=True, biters=REPS, random_state=SEED)
            t1 = time.perf_counter()
            order = np.lexsort((np.asarray(m.times), np.asarray(m.groups)))
            return {"fit_s": t1 - t0, "att": list(np.asarray(m.att_gt, float)[order]), "simple": float(a.overall_att),
                    "simple_se": float(a.overall_se),
                    "gt": [(int(m.groups[i]), int(m.times[i])) for i in order]}
    else:
        raise SystemExit(f"unknown package {pkg}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base_rss = _rss_mb()
        first = run()  # warm-up (imports of lazily loaded modules, JIT)
        times, panel_times = [], []
        out = first
        for _ in range(repeats):
            out = run()
            times.append(out["fit_s"] + out.get("panel_s", 0.0))
            panel_times.append(out.get("panel_s", float("nan")))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update({"times": times, "panel_times": panel_times, "peak_rss_mb": peak,
                "peak_increase_mb": peak - base_rss, "base_rss_mb": base_rss})
    return out


def _spawn(pkg: str, dataset: str, repeats: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", pkg, dataset, "--repeats", str(repeats)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * (repeats + 1) + 30)
    except subprocess.TimeoutExpired:
        return {"skipped": f"stopped: over {timeout:.0f} s per fit"}
    if p.returncode != 0:
        return {"skipped": f"failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=2, metavar=("PACKAGE", "DATASET"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per fit before a peer is skipped")
    ap.add_argument("--only", nargs="*", default=list(PACKAGES))
    ap.add_argument("--skip", nargs="*", default=[], help="packages to leave out (e.g. --skip moderndid)")
    ap.add_argument("--slow-repeats", type=int, default=1,
                    help=f"timed repeats for the slow peers ({', '.join(SLOW)}), after their warm-up")
    ap.add_argument("--datasets", nargs="*", default=["mpdta", "sim6500x96"])
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker[0], args.worker[1], args.repeats), default=float))
        return 0
    import numpy as np

    results: dict = {}
    print(f"# Callaway-Sant'Anna benchmark  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, "
          f"BLAS threads 1, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; dr, never-treated, "
          f"{REPS} draws, simple")
    for ds in args.datasets:
        results[ds] = {}
        for pkg in [p for p in args.only if p not in args.skip]:
            reps = min(args.repeats, args.slow_repeats) if pkg in SLOW else args.repeats
            results[ds][pkg] = _spawn(pkg, ds, reps, args.timeout)
        ref = results[ds].get("evalint", {})
        dd = results[ds].get("diff-diff", {})
        print(f"\n## {ds}  (seconds: best of {args.repeats} after a warm-up; 'fit' excludes evalint's Panel build)")
        print(f"{'package':<15}{'total':>8}{'median':>8}{'panel':>8}{'fit':>8}{'peak MB':>9}{'+MB':>6}"
              f"{'simple ATT':>12}{'SE':>9}{'max|dATT(g,t)|':>16}{'dd/total':>9}{'dd/fit':>8}")
        for pkg, r in results[ds].items():
            if "skipped" in r:
                print(f"{pkg:<15}  skipped ({r['skipped']})")
                continue
            diff = float("nan")
            if "att" in ref and len(ref["att"]) == len(r["att"]):
                diff = float(np.max(np.abs(np.asarray(ref["att"]) - np.asarray(r["att"]))))
            tmin, tmed = min(r["times"]), float(np.median(r["times"]))
            pts = [x for x in r.get("panel_times", []) if np.isfinite(x)]
            fit = min(t - p for t, p in zip(r["times"], r["panel_times"])) if pts else tmin
            pt = min(pts) if pts else float("nan")
            d_tot = min(dd["times"]) / tmin if "times" in dd else float("nan")
            d_fit = min(dd["times"]) / fit if "times" in dd else float("nan")
            print(f"{pkg:<15}{tmin:>8.3f}{tmed:>8.3f}{pt:>8.3f}{fit:>8.3f}{r['peak_rss_mb']:>9.0f}"
                  f"{r['peak_increase_mb']:>6.0f}{r['simple']:>12.6f}{r['simple_se']:>9.5f}{diff:>16.2e}"
                  f"{d_tot:>9.1f}{d_fit:>8.1f}")
    print(f"\n# load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, default=float, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
