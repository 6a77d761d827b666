"""Where `evalint demo`'s CPU time goes, and the wall-time floor it sets on a number of cores.

Runs the demo in one fresh process with every part in this process (``jobs=1``, one figure
process, BLAS pinned to 1 thread) and reports the CPU time of each part: the imports done
before the demo starts its own clock, each design x outcome fit, each robustness check by
design, each figure, and the rest (simulation, set-up, triangulation, reports, CSVs). The
floor on ``--cores`` cores is the imports (they come before any work can be shared) plus the
rest of the CPU time divided by the cores: no scheduling of the same work can beat it.

The parts are timed by wrapping evalint's own (private) functions from the outside; nothing in
evalint is changed. Outputs are those of ``evalint demo``; the CPU times are ``time.process_time``.

Usage::

    python benchmarks/demo_cpu.py               # the table, on 2 cores
    python benchmarks/demo_cpu.py --cores 4 --json /tmp/demo_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_CHILD = r'''
import json, os, sys, time, collections, importlib
t_imp = time.process_time()
import numpy, pandas, matplotlib
matplotlib.use("Agg")
import evalint.cli, evalint.demo
from evalint.evaluate import evaluate  # what the demo imports before its own clock starts
imports = time.process_time() - t_imp
core = importlib.import_module("evalint.evaluate.core")
rob = importlib.import_module("evalint.evaluate.robustness")
fig = importlib.import_module("evalint.report.figures")
parts = collections.defaultdict(float)

def timed(key_of, fn):
    def wrapper(*args, **kw):
        t = time.process_time()
        try:
            return fn(*args, **kw)
        finally:
            parts[key_of(*args)] += time.process_time() - t
    return wrapper

core._fit_one = timed(lambda plan, ctx, o, *a: f"fit: {plan.key}", core._fit_one)
checks = {}
def unit(ev, design, outcome, settings):
    providers = {"churn": rob._churn_rows, **rob._PROVIDERS}
    before = set(ev._cache)
    rows = []
    for name in rob.CHECKS:
        if name in settings.checks and name in providers:
            t = time.process_time()
            try:
                rows += providers[name](ev, design, outcome, settings)
            except Exception:
                pass
            parts[f"robustness: {name}"] += time.process_time() - t
    return rows, []
rob._unit_checks = unit
def figure_kind(slug, *a):
    for o in evalint.demo.OUTCOMES:
        slug = slug.removesuffix("_" + o)
    return "figure: " + slug.replace("_", " ")
fig._figure = timed(figure_kind, fig._figure)
evalint.demo.simulate_demo_panel = timed(lambda *a: "rest: simulation", evalint.demo.simulate_demo_panel)
core.Evaluation.report = timed(lambda self, path, *a: "rest: " + os.path.splitext(str(path))[1][1:] + " report",
                               core.Evaluation.report)
fig._warm_up = timed(lambda: "figure: warm-up (fonts, modules)", fig._warm_up)
t0 = time.process_time()
fig._warm_up()
evalint.demo.run_demo(sys.argv[1], quiet=True, jobs=1)
total = time.process_time() - t0
print(json.dumps({"imports": imports, "parts": dict(parts), "total": total}))
'''


def measure() -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="evalint_demo_cpu_")) / "out"
    env = {**os.environ, "EVALINT_FIGURE_JOBS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-c", _CHILD, str(out)], capture_output=True, text=True, env=env,
                       check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def table(m: dict[str, Any], cores: int) -> str:
    parts = dict(m["parts"])
    groups: dict[str, float] = {}
    for k, v in parts.items():
        groups[k.split(":")[0]] = groups.get(k.split(":")[0], 0.0) + v
    other = m["total"] - sum(parts.values())
    parts["rest: set-up, triangulation, CSVs, console"] = other
    groups["rest"] = groups.get("rest", 0.0) + other
    lines = ["| part | CPU s |", "|---|---|", f"| imports before the demo's clock | {m['imports']:.2f} |"]
    for g, title in (("fit", "fits (12)"), ("robustness", "robustness checks"), ("figure", "figures (11)"),
                     ("rest", "the rest")):
        lines.append(f"| **{title}** | **{groups.get(g, 0.0):.2f}** |")
        for k, v in sorted(parts.items(), key=lambda kv: -kv[1]):
            if k.startswith(g + ":"):
                lines.append(f"| &nbsp;&nbsp;{k.split(': ', 1)[1]} | {v:.2f} |")
    cpu = m["imports"] + m["total"]
    floor = m["imports"] + m["total"] / cores
    lines.append(f"| **total** | **{cpu:.2f}** |")
    lines.append("")
    lines.append(f"Floor on {cores} cores: imports {m['imports']:.2f} s + {m['total']:.2f} s / {cores} = "
                 f"**{floor:.2f} s** of wall time (Python's own start-up not included).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--json", default=None, help="also write the measured parts here")
    a = ap.parse_args(argv)
    m = measure()
    print(table(m, a.cores))
    if a.json:
        Path(a.json).write_text(json.dumps(m, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
