"""Speed and memory benchmark: the TWFE event study in evalint vs pyfixest.

Configuration (issue 4, "Speed"): the simulated GP-practice-scale panel of did_bench.py
(6,500 units x 96 months, 6 adoption cohorts plus never-treated units, same seed), unit and
period fixed effects, relative-time dummies -12..+24 with the end points binned (-12 = "<= -12",
24 = ">= 24"), reference period -1, never-treated units with all dummies 0, CR1
cluster-robust SEs by unit.

* evalint: ``EventStudy(leads=12, lags=24, reference=-1, bin_endpoints=True)`` with
  ``Clustered(by=unit)`` (CR1S: G/(G-1)(N-1)/(N-p), p counting every fixed effect), timed as
  "panel" (``Panel.from_frame`` of the long frame) plus "fit" (relative-time design, exact
  within transformation, coefficients, CR1 covariance, averaged post effect, pre-trend Wald).
* pyfixest: ``feols("y ~ i(rel, ref=-1) | unit + time", vcov={"CRV1": unit},
  ssc=ssc(k_fixef="full"))`` (the same small-sample factor) with ``rel`` the binned relative
  time (never-treated units coded -1, i.e. all dummies 0); building ``rel`` is in the timing.

Each package runs in a fresh subprocess with OMP/OPENBLAS/MKL/NUMBA/POLARS threads = 1 set
before numpy is imported, a warm-up fit (numba compilation for pyfixest), then ``--repeats``
timed fits (best and median reported). Peak memory is the subprocess's peak resident set
size (``ru_maxrss``: imports, data and the fit) of a separate process that makes one fit
("peak1"), and its increase over the RSS just before that fit ("+MB": imports and data
excluded); "peakN" is the peak of the timing process over all its fits (pyfixest's grows with
repeated fits). The 36 coefficients and SEs are compared between the packages.

Usage::

    python benchmarks/did_twfe_bench.py
    python benchmarks/did_twfe_bench.py --repeats 5 --only evalint
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "POLARS_MAX_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse
import importlib.util
import json
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

# benchmarks/ off the import path (running this script puts it first): a sibling script must not shadow a package
# (coverage.py, now default_coverage.py, shadowed the coverage package numba imports); did_bench.py is loaded by path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

LEADS, LAGS, REF = 12, 24, -1
PACKAGES = ("evalint", "pyfixest")
TERMS = [e for e in range(-LEADS, LAGS + 1) if e != REF]


def _simulate():
    """The 6,500 x 96 panel of did_bench.py (same function, same seed)."""
    spec = importlib.util.spec_from_file_location("did_bench", Path(__file__).with_name("did_bench.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.simulate()


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _worker(pkg: str, repeats: int) -> dict:
    import numpy as np
    import pandas as pd

    df = _simulate()  # unit, time (1..96), y, g (0 = never treated)
    if pkg == "evalint":
        import evalint
        from evalint.estimators.did.event_study import EventStudy

        months = pd.period_range("2016-04", periods=int(df["time"].max()), freq="M")
        gi = df["g"].to_numpy()
        work = pd.DataFrame({"unit": df["unit"].to_numpy(), "month": months[df["time"].to_numpy() - 1],
                             "y": df["y"].to_numpy(),
                             "cohort": pd.PeriodIndex(months[np.maximum(gi, 1) - 1]).where(gi > 0)})
        del df
        est = EventStudy(leads=LEADS, lags=LAGS, reference=REF, bin_endpoints=True)

        def run():
            t0 = time.perf_counter()
            panel = evalint.Panel.from_frame(work, unit="unit", time="month", outcome="y", cohort="cohort")
            t1 = time.perf_counter()
            res = est.fit(panel, inference=evalint.Clustered(by="unit"), calendar=False)
            t2 = time.perf_counter()
            eff = res.effects.set_index("rel_time")
            return {"panel_s": t1 - t0, "fit_s": t2 - t1,
                    "coef": [float(eff.loc[float(e), "estimate"]) for e in TERMS],
                    "se": [float(eff.loc[float(e), "std_error"]) for e in TERMS],
                    "avg_post": res.estimate, "avg_post_se": res.se}
    elif pkg == "pyfixest":
        import pyfixest as pf

        def run():
            t0 = time.perf_counter()
            g = df["g"].to_numpy()
            rel = np.where(g > 0, np.clip(df["time"].to_numpy() - g, -LEADS, LAGS), REF)
            data = df.assign(rel=rel)
            fit = pf.feols(f"y ~ i(rel, ref={REF}) | unit + time", data=data, vcov={"CRV1": "unit"},
                           ssc=pf.ssc(k_fixef="full"))
            coef, se = fit.coef(), fit.se()
            t1 = time.perf_counter()
            by_e = {}
            for name in coef.index:  # e.g. "C(rel, contr.treatment(base=-1))[T.-12]" or "rel::-12"
                tail = name.split("T.")[-1] if "T." in name else name.split("::")[-1]
                by_e[int(float(tail.rstrip("]")))] = name
            return {"fit_s": t1 - t0, "coef": [float(coef[by_e[e]]) for e in TERMS],
                    "se": [float(se[by_e[e]]) for e in TERMS]}
    else:
        raise SystemExit(f"unknown package {pkg}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base_rss = _rss_mb()
        out = run()  # warm-up (with --repeats 0 the only fit: the one-fit memory pass)
        times, panel_times = [out["fit_s"] + out.get("panel_s", 0.0)], [out.get("panel_s", float("nan"))]
        if repeats:
            times, panel_times = [], []
        for _ in range(repeats):
            out = run()
            times.append(out["fit_s"] + out.get("panel_s", 0.0))
            panel_times.append(out.get("panel_s", float("nan")))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update({"times": times, "panel_times": panel_times, "peak_rss_mb": peak,
                "peak_increase_mb": peak - base_rss, "base_rss_mb": base_rss})
    return out


def _spawn(pkg: str, repeats: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", pkg, "--repeats", str(repeats)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * (repeats + 1) + 60, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": f"stopped: over {timeout:.0f} s per fit"}
    if p.returncode != 0:
        return {"skipped": f"failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", metavar="PACKAGE")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per fit before a package is skipped")
    ap.add_argument("--only", nargs="*", default=list(PACKAGES))
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.repeats), default=float))
        return 0
    import numpy as np

    print(f"# TWFE event study benchmark  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, "
          f"BLAS threads 1, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"# 6,500 units x 96 months, unit + period FE, rel. time {-LEADS}..{LAGS} binned, ref {REF}, CR1 by unit")
    results = {pkg: _spawn(pkg, args.repeats, args.timeout) for pkg in args.only}
    for pkg, r in results.items():  # peak memory of one fit in a fresh process (pyfixest's grows with repeats)
        one = _spawn(pkg, 0, args.timeout) if "skipped" not in r else {}
        r["peak_one_fit_mb"], r["increase_one_fit_mb"] = (one.get("peak_rss_mb", np.nan),
                                                          one.get("peak_increase_mb", np.nan))
    ref = results.get("evalint", {})
    peer = results.get("pyfixest", {})
    print(f"\n{'package':<10}{'total s':>9}{'median':>8}{'panel':>8}{'fit':>8}{'peak1 MB':>9}{'+MB':>6}"
          f"{'peakN MB':>9}{'max|dcoef|':>12}{'max|dSE|/SE':>13}{'pf/total':>9}{'peak1/pf':>9}{'+MB/pf':>7}")
    for pkg, r in results.items():
        if "skipped" in r:
            print(f"{pkg:<10}  skipped ({r['skipped']})")
            continue
        dc = ds = float("nan")
        if "coef" in ref and pkg != "evalint":
            dc = float(np.max(np.abs(np.subtract(r["coef"], ref["coef"]))))
            ds = float(np.max(np.abs(np.subtract(r["se"], ref["se"])) / np.asarray(ref["se"])))
        tmin, tmed = min(r["times"]), float(np.median(r["times"]))
        pts = [x for x in r["panel_times"] if np.isfinite(x)]
        fit = min(t - p for t, p in zip(r["times"], r["panel_times"])) if pts else tmin
        ratio = min(peer["times"]) / tmin if "times" in peer else float("nan")
        mem = r["peak_one_fit_mb"] / peer["peak_one_fit_mb"] if "peak_one_fit_mb" in peer else float("nan")
        inc = r["increase_one_fit_mb"] / peer["increase_one_fit_mb"] if "increase_one_fit_mb" in peer else float("nan")
        print(f"{pkg:<10}{tmin:>9.3f}{tmed:>8.3f}{(min(pts) if pts else float('nan')):>8.3f}{fit:>8.3f}"
              f"{r['peak_one_fit_mb']:>9.0f}{r['increase_one_fit_mb']:>6.0f}{r['peak_rss_mb']:>9.0f}{dc:>12.2e}"
              f"{ds:>13.2e}{ratio:>9.2f}{mem:>9.2f}{inc:>7.2f}")
    if "avg_post" in ref:
        print(f"\nevalint averaged post effect (e = 0..{LAGS - 1}): {ref['avg_post']:.6f} "
              f"(SE {ref['avg_post_se']:.6f})")
    print(f"# load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(results, default=float, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
