"""CPU time of HonestDiD sensitivity against the number of pre-periods (and post-periods).

Each case runs in a fresh subprocess (threads pinned to 1, so CPU time is the work done):
``honest_did_estimates`` with its defaults - relative magnitudes (``Mbar`` 0, 0.5, ..., 2,
hybrid ARP intervals, 1000-point grid) or smoothness (``M`` 0, 0.25, 0.5, 1 x SE, FLCI) - and
the breakdown value, on simulated event-study estimates: ``n_pre`` pre-periods and ``n_post``
post-periods, AR(1)-correlated errors (rho 0.5, SE 0.02) plus a common component, a small
linear pre-trend and an effect of -0.10 (about 5 SE, so the breakdown search runs). The CPU
time of the call (imports excluded) is reported; a case over ``--timeout`` seconds of wall time
is stopped and reported with the CPU time it had used (a lower bound).
``--json`` also writes the intervals and breakdown values, so two checkouts can be compared
(run the script under each with ``PYTHONPATH`` pointing at it, then ``--compare A B``).

Usage::

    python benchmarks/honest_did_bench.py --out /tmp/after.json
    PYTHONPATH=/path/to/old/checkout python benchmarks/honest_did_bench.py --out /tmp/before.json
    python benchmarks/honest_did_bench.py --compare /tmp/before.json /tmp/after.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

PRE = (4, 8, 16, 28)
POST = (4, 12)
METHODS = ("relative_magnitude", "smoothness")


def _case(n_pre: int, n_post: int, method: str) -> dict[str, Any]:
    import numpy as np

    from evalint.sensitivity import EventTimeEstimates, honest_did_estimates

    k = n_pre + n_post
    idx = np.arange(k)
    sig = 0.02 ** 2 * 0.5 ** np.abs(idx[:, None] - idx[None, :]) + 0.01 ** 2 * 0.3
    t = np.r_[np.arange(-n_pre, 0), np.arange(1, n_post + 1)]
    rng = np.random.default_rng(n_pre * 100 + n_post)
    beta = (0.002 * t + np.r_[np.zeros(n_pre), -0.10 * np.ones(n_post)]
            + np.linalg.cholesky(sig) @ rng.standard_normal(k))
    est = EventTimeEstimates.from_arrays(beta, sig, n_pre)
    t0 = time.process_time()
    res = honest_did_estimates(est, event_time=0, method=method)
    cpu = time.process_time() - t0
    frame = res.to_frame()
    import evalint

    return {"n_pre": n_pre, "n_post": n_post, "method": method, "cpu": cpu, "package": evalint.__file__,
            "lower": frame["lower"].tolist(), "upper": frame["upper"].tolist(), "breakdown": res.breakdown}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="write the cases (times, intervals, breakdown values) as JSON")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--pre", type=int, nargs="*", default=list(PRE))
    ap.add_argument("--post", type=int, nargs="*", default=list(POST))
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    ap.add_argument("--case", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args()
    if args.case:
        print(json.dumps(_case(int(args.case[0]), int(args.case[1]), args.case[2])))
        return
    if args.compare:
        before, after = (json.load(open(p)) for p in args.compare)
        key = {(r["n_pre"], r["n_post"], r["method"]): r for r in before}
        print("| method | n_pre | n_post | CPU before (s) | CPU after (s) | max abs diff of CI ends "
              "| breakdown before / after |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for r in after:
            b = key.get((r["n_pre"], r["n_post"], r["method"]), {})
            if b.get("cpu") is None or r.get("cpu") is None:
                diff, bd = "-", "-"
                cb = f"> {b['cpu_at_stop']:.0f} (stopped)" if b.get("cpu_at_stop") else "-"
            else:
                diff = f"{max(abs(x - y) for x, y in zip(b['lower'] + b['upper'], r['lower'] + r['upper'])):.1e}"
                bd, cb = f"{b['breakdown']:.6g} / {r['breakdown']:.6g}", f"{b['cpu']:.2f}"
            ca = "-" if r.get("cpu") is None else f"{r['cpu']:.2f}"
            print(f"| {r['method']} | {r['n_pre']} | {r['n_post']} | {cb} | {ca} | {diff} | {bd} |")
        return
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    rows = []
    for method in args.methods:
        for n_post in args.post:
            for n_pre in args.pre:
                used = resource.getrusage(resource.RUSAGE_CHILDREN)
                try:
                    out = subprocess.run([sys.executable, __file__, "--case", str(n_pre), str(n_post), method],
                                         env=env, capture_output=True, text=True, timeout=args.timeout, check=True)
                    row = json.loads(out.stdout.strip().splitlines()[-1])
                except subprocess.TimeoutExpired:
                    now = resource.getrusage(resource.RUSAGE_CHILDREN)   # the stopped child's CPU so far
                    row = {"n_pre": n_pre, "n_post": n_post, "method": method, "cpu": None,
                           "timeout": args.timeout, "cpu_at_stop": (now.ru_utime + now.ru_stime)
                           - (used.ru_utime + used.ru_stime)}
                row["load"] = os.getloadavg()[0]
                rows.append(row)
                print(f"{method:20s} n_pre={n_pre:3d} n_post={n_post:3d} cpu="
                      f"{'stopped' if row['cpu'] is None else format(row['cpu'], '.2f')} load={row['load']:.1f}",
                      flush=True)
                if args.out:
                    with open(args.out, "w") as fh:
                        json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
