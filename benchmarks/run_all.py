"""Every speed comparison of benchmarks/RESULTS.md, from one script: fresh processes, interleaved.

Each (task, side) runs in its own fresh Python process with every BLAS/OpenMP/numba/polars/rayon
thread pool pinned to 1; the sides of a task alternate (A, B, A, B, ...) for ``--rounds`` rounds
so that a change of machine load hits both; the 1/5/15-minute load averages are recorded before
and after every task and ``uptime`` before and after the whole run. Inside a process the timed
work is stated per task (``WORK``); imports are timed separately (and included only in the
"fresh process" rows, where they are the point). Estimates are compared between the sides of a
task (the largest absolute difference is reported).

Tasks (``--only`` to choose):

* ``twfe``: TWFE event study at 6,500 x 96 vs pyfixest (``did_twfe_bench.py``'s worker).
* ``scm_adh``: ADH synthetic control with nested V and the full in-space placebo on Prop 99
  (evalint alone: pysyncon's placebo did not finish in 600 s, see the note).
* ``sc_prop99``, ``sc_150``: outcome-only synthetic control + in-space placebo vs mlsynth.
* ``sc_weights``: outcome-only SC weights alone vs pysyncon (custom V).
* ``sdid_warm``: SDID + 200 placebo replicates on Prop 99 after a warm-up fit, vs diff-diff.
* ``sdid_fresh``: the same, as a one-off: import + first fit in a fresh process.
* ``its_fleet``: 240 count ITS fits vs a plain statsmodels loop (``its_fleet_bench.py``).
* ``cs``: Callaway-Sant'Anna vs diff-diff through ``cs_bench.run()`` (when that script exists).
* ``demo``: ``evalint demo`` end to end (wall time of the command).

Usage::

    python benchmarks/run_all.py                    # everything; prints Markdown
    python benchmarks/run_all.py --only sdid_fresh its_fleet --rounds 5
    python benchmarks/run_all.py --write-results    # also rewrites the speed section of RESULTS.md
"""

from __future__ import annotations

import os

_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS", "POLARS_MAX_THREADS", "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS")
for _v in _THREADS:
    os.environ[_v] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
# this folder off the import path (running a script puts it first): a sibling script must not shadow a package
# (coverage.py, now default_coverage.py, shadowed the coverage package numba imports); siblings load by path (_sibling)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def _sibling(name: str) -> Any:
    """The module of benchmarks/<name>.py, loaded by path (once)."""
    import importlib.util

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]
RESULTS = HERE / "RESULTS.md"
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"

#: task -> (sides, rounds, work done by every side, in words)
TASKS: dict[str, tuple[tuple[str, ...], int, str]] = {
    "twfe": (("evalint", "pyfixest"), 2,
             "6,500 units x 96 months (did_bench.py's simulated panel), unit + month fixed effects, relative-time "
             "dummies -12..+24 (ends binned), reference -1, CR1 SEs by unit. Timed per fit: evalint Panel.from_frame "
             "+ EventStudy.fit; pyfixest building the binned relative time + feols with CRV1. Best of 3 fits after "
             "a warm-up in each process. Compared: the 36 coefficients."),
    "scm_adh": (("evalint",), 2,
                "Prop 99 (ADH 2010 data), synthetic control with the ADH predictors, nested V search and the full "
                "in-space placebo (39 fits). Timed: SyntheticControl.fit after imports and data loading; best of 2. "
                "pysyncon: its placebo test did not finish within 600 s (earlier runs; not rerun here)."),
    "sc_prop99": (("evalint", "mlsynth"), 3,
                  "Prop 99, outcome-only synthetic control (donor weights on the pre-period outcomes) + in-space "
                  "placebo over the 38 donors. Timed: the fit after imports and data loading; best of 3. Compared: "
                  "the post-period average gap."),
    "sc_150": (("evalint", "mlsynth"), 2,
               "simulated 150 units x 120 periods (factor model, unit 0 treated for 20 periods, effect -5), "
               "outcome-only SC + in-space placebo (150 fits). Timed as sc_prop99; best of 2."),
    "sc_weights": (("evalint", "pysyncon"), 3,
                   "Prop 99 outcome-only SC weights alone (no placebo): evalint's exact simplex least squares; "
                   "pysyncon Synth with custom V = sd^2 (undoing its predictor scaling). Best of 3."),
    "sdid_warm": (("evalint", "evalint (numba)", "diff-diff"), 2,
                  "Prop 99 (synthdid's data), synthetic DiD with synthdid's defaults and 200 placebo replicates "
                  "(seed 0). Timed: the fit, best of 3 after a warm-up fit in the same process. evalint takes its "
                  "default path (EVALINT_NUMBA=auto: numpy for a problem of this size, below "
                  "fw_compiled.MIN_COMPILED_SIZE); 'evalint (numba)' sets EVALINT_NUMBA=1 (numba kernels, loaded "
                  "by the warm-up)."),
    "sdid_fresh": (("evalint", "evalint (numba)", "diff-diff"), 3,
                   "the sdid_warm fit as a one-off: import of the package + the first fit, in a fresh process "
                   "(interpreter start-up, the same for both, excluded)."),
    "its_fleet": (("evalint", "statsmodels"), 3,
                  "120 simulated trusts x 108 months (its_bench.py's data), 240 series (admissions, delayed "
                  "discharges): quasi-Poisson GLM, log-population offset, trend + step + slope + 2 Fourier pairs, "
                  "Newey-West SEs (lag 4), from the long DataFrame to 240 rate ratios with 95% CIs. evalint: "
                  "Panel.from_frame + CountITS.fit per series (full EffectResult, calendar off); statsmodels: "
                  "groupby + numpy design + GLM(...).fit(cov_type='HAC'). Timed after imports; the first run in "
                  "the process is reported (no warm-up)."),
    "demo": (("evalint",), 3,
             "`evalint demo --out <new folder>` (simulate 42 ICBs, evaluate 3 outcomes x 4 designs with the fast "
             "settings and the robustness section, HTML + Markdown report with 11 figures drawn once, CSVs): wall "
             "time of the whole command from the parent (interpreter start-up and imports included); CPU s = user + "
             "system time of the command and its children (the forked figure helper); the stages are the demo's "
             "own 'Finished in' line (median over processes), 'start-up + import' = wall - the demo's own total."),
}


# ----------------------------------------------------------------------------- workers
def _now() -> float:
    return time.perf_counter()


def _timed(fn: Any, reps: int) -> tuple[list[float], Any]:
    times, out = [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(reps):
            t = _now()
            out = fn()
            times.append(_now() - t)
    return times, out


def _w_scm_adh(side: str) -> dict:
    t = _now()
    from evalint.estimators.synth.scm.estimator import SyntheticControl
    from evalint.replication.prop99_adh import ADH_PREDICTORS, prop99_adh_panel
    imp = _now() - t
    panel, df = prop99_adh_panel()
    est = SyntheticControl(predictors=ADH_PREDICTORS, leave_one_out=False)
    times, res = _timed(lambda: est.fit(panel, predictor_data=df, calendar=False), 2)
    return {"import_s": imp, "times": times, "estimate": res.estimate,
            "note": f"pre-MSPE {res.info['pre_mspe']['California']:.3f}, p = {res.p_value:.4f}"}


def _w_sc(side: str, which: str) -> dict:
    t = _now()
    if side == "evalint":
        import evalint  # noqa: F401
    elif side == "mlsynth":
        import mlsynth  # noqa: F401
    else:
        import pysyncon  # noqa: F401
    imp = _now() - t
    sb = _sibling("synth_bench")
    _outcome_only, _outcome_only_fit, prop99 = sb._outcome_only, sb._outcome_only_fit, sb.prop99
    _mlsynth_outcome_only = sb._mlsynth_outcome_only
    import pandas as pd

    if which == "sc_150":
        df = sb.simulated_panel()
        if side == "evalint":
            from evalint.data.panel import Panel

            panel = Panel.from_frame(df, unit="unit", time="time", outcome="y", treatment="treated")
            fn = lambda: _outcome_only(panel)  # noqa: E731
        else:
            fn = lambda: _mlsynth_outcome_only(df, "unit", "time", "y", "treated")  # noqa: E731
        reps = 2
    else:
        panel, df = prop99()
        reps = 3
        if which == "sc_weights" and side == "evalint":
            fn = lambda: _outcome_only_fit(panel)  # noqa: E731
        elif which == "sc_weights":
            def fn() -> dict:
                from pysyncon import Synth

                Y = panel.to_matrix("cigsale")
                Y.columns = [str(p.year) for p in Y.columns]
                pre = [c for c in Y.columns if int(c) < 1989]
                X0, X1 = Y.drop(index="California")[pre].T, Y.loc["California", pre]
                sd = pd.concat([X0, X1], axis=1).std(axis=1).to_numpy()
                synth = Synth()
                synth.fit(X0=X0, X1=X1, Z0=X0, Z1=X1, custom_V=sd**2)
                w = pd.Series(synth.W, index=[str(u) for u in X0.columns])
                post = [c for c in Y.columns if int(c) >= 1989]
                gap = (Y.loc["California", post].to_numpy()
                       - Y.drop(index="California")[post].T.to_numpy() @ w.to_numpy())
                return {"estimate": float(gap.mean()), "weights": w}
        elif side == "evalint":
            fn = lambda: _outcome_only(panel)  # noqa: E731
        else:
            d = df[["state", "year", "cigsale", "treated"]].copy()
            fn = lambda: _mlsynth_outcome_only(d, "state", "year", "cigsale", "treated")  # noqa: E731
    times, out = _timed(fn, reps)
    w = out.get("weights")
    return {"import_s": imp, "times": times, "estimate": out["estimate"], "note": out.get("note", ""),
            "weights": None if w is None else {str(k): float(v) for k, v in w.items()}}


def _w_sdid(side: str, fresh: bool) -> dict:
    if side == "evalint (numba)":
        os.environ["EVALINT_NUMBA"] = "1"
    t = _now()
    if side.startswith("evalint"):
        from evalint.estimators.synth.sdid.estimator import synthetic_did
        from evalint.replication.prop99_synthdid import prop99_panel
    else:
        from diff_diff import SyntheticDiD
    imp = _now() - t
    if side.startswith("evalint"):
        panel = prop99_panel()

        def fn() -> dict:
            r = synthetic_did(panel, reps=200, seed=0, calendar=False)
            w = r.tables["unit_weights"]
            return {"estimate": r.estimate, "se": r.se,
                    "weights": {str(u): float(x) for u, x in zip(w["unit"], w["weight"])}}
    else:
        import pandas as pd

        df = pd.read_csv(os.environ["RUN_ALL_PROP99_CSV"])  # the registry's file; evalint not imported here
        data = df.assign(ever=(df["State"] == "California").astype(int))

        def fn() -> dict:
            r = SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=0).fit(
                data, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
                post_periods=list(range(1989, 2001)))
            return {"estimate": float(r.att), "se": float(r.se),
                    "weights": {str(k): float(v) for k, v in dict(r.unit_weights).items()}}
    if fresh:
        times, out = _timed(fn, 1)
        times = [imp + times[0]]
    else:
        _timed(fn, 1)
        times, out = _timed(fn, 3)
    path = ("numba" if "numba" in sys.modules else "numpy") if side.startswith("evalint") else "compiled (Rust)"
    return {"import_s": imp, "times": times, "estimate": out["estimate"], "weights": out["weights"],
            "note": f"se {out['se']:.4f}; Frank-Wolfe: {path}"
            + (f"; numba imported: {'numba' in sys.modules}" if side.startswith("evalint") else "")}


def _w_its_fleet(side: str) -> dict:
    t = _now()
    fb = _sibling("its_fleet_bench")
    if side == "evalint":
        import evalint.estimators.its  # noqa: F401
    else:
        import statsmodels.api  # noqa: F401
    imp = _now() - t
    frame = fb.make_frame()
    seconds, rows = (fb.run_evalint if side == "evalint" else fb.run_statsmodels)(frame)
    return {"import_s": imp, "times": [seconds], "estimate": [r[2:] for r in rows],
            "keys": [r[:2] for r in rows]}


def worker(task: str, side: str) -> dict:
    cpu = time.process_time()
    if task == "scm_adh":
        out = _w_scm_adh(side)
    elif task in ("sc_prop99", "sc_150", "sc_weights"):
        out = _w_sc(side, task)
    elif task in ("sdid_warm", "sdid_fresh"):
        out = _w_sdid(side, task == "sdid_fresh")
    elif task == "its_fleet":
        out = _w_its_fleet(side)
    else:
        raise SystemExit(f"no worker for {task}")
    out["cpu_s"] = time.process_time() - cpu
    return out


# ----------------------------------------------------------------------------- parent
def _spawn(task: str, side: str, timeout: float) -> dict:
    t = _now()
    if task == "twfe":
        r = _sibling("did_twfe_bench")._spawn(side, 3, timeout)
        if "skipped" in r:
            return r
        return {"times": r["times"], "estimate": r["coef"], "note": f"peak RSS {r['peak_rss_mb']:.0f} MB",
                "wall_s": _now() - t}
    if task == "demo":
        import re
        import resource

        out = Path(tempfile.mkdtemp(prefix="evalint_demo_bench_")) / "out"
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = _now()
        p = subprocess.run([sys.executable, "-m", "evalint.cli", "demo", "--out", str(out)],
                           capture_output=True, text=True, timeout=timeout, check=False)
        wall = _now() - t
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode:
            return {"skipped": f"failed: {p.stderr.strip()[-200:]}"}
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        m = re.search(r"Finished in ([\d.]+) s \((.*)\)\.", p.stdout.replace("\n", " "))
        stages = {"start-up + import": wall - float(m.group(1))} if m else {}
        if m:
            stages.update({k.strip(): float(v) for k, v in re.findall(r"([a-zA-Z ]+?) ([\d.]+) s", m.group(2))})
        return {"times": [wall], "estimate": None, "wall_s": wall, "cpu_s": cpu, "stages": stages}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", task, side]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"skipped": f"stopped after {timeout:.0f} s"}
    if p.returncode:
        tail = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else str(p.returncode)
        return {"skipped": f"failed: {tail}"}
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["wall_s"] = _now() - t
    return r


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _diff(a: Any, b: Any) -> float | None:
    import numpy as np

    if a is None or b is None:
        return None
    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))


def run_task(task: str, rounds: int | None, timeout: float) -> dict:
    sides, default_rounds, work = TASKS[task]
    rounds = rounds or default_rounds
    runs: dict[str, list[dict]] = {s: [] for s in sides}
    load0 = _load()
    for _ in range(rounds):
        for s in sides:  # interleaved: A, B, A, B, ...
            runs[s].append(_spawn(task, s, timeout))
    load1 = _load()
    out: dict[str, Any] = {"task": task, "work": work, "rounds": rounds, "load_before": load0, "load_after": load1,
                           "sides": {}}
    ref = None
    for s in sides:
        ok = [r for r in runs[s] if "skipped" not in r]
        if not ok:
            out["sides"][s] = {"skipped": runs[s][0]["skipped"]}
            continue
        best_each = [min(r["times"]) for r in ok]
        last = ok[-1]
        note = last.get("note", "")
        if ok[0].get("cpu_s") is not None:
            note = f"CPU {statistics.median([r['cpu_s'] for r in ok]):.2f} s (median)" + (f"; {note}" if note else "")
        if ok[0].get("stages"):
            keys = list(ok[0]["stages"])
            note += "; stages (median s): " + ", ".join(
                f"{k} {statistics.median([r['stages'].get(k, float('nan')) for r in ok]):.2f}" for k in keys)
        row = {"best_s": min(best_each), "median_s": statistics.median(best_each), "per_process_best": best_each,
               "estimate": last.get("estimate"), "note": note,
               "import_s": statistics.median([r["import_s"] for r in ok]) if "import_s" in last else None,
               "cpu_s": statistics.median([r["cpu_s"] for r in ok]) if "cpu_s" in last else None}
        if ref is None:
            ref = row
        elif ref.get("estimate") is not None:
            row["max_abs_diff"] = _diff(row["estimate"], ref["estimate"])
        out["sides"][s] = row
    return out


def run_cs(reps: int) -> dict:
    try:
        cs_bench = _sibling("cs_bench")
    except FileNotFoundError:
        return {"task": "cs", "skipped": "benchmarks/cs_bench.py is not on this branch (it comes with the C-S work)"}
    load0 = _load()
    rows = cs_bench.run(sizes=(6500,), reps=reps)
    return {"task": "cs", "rows": rows, "table": cs_bench.table(rows), "load_before": load0, "load_after": _load()}


# ----------------------------------------------------------------------------- report
def _f(x: Any, spec: str = ".3f") -> str:
    return "–" if x is None else format(x, spec)


def markdown(results: list[dict], meta: dict) -> str:
    runs = meta.get("combined", [meta])
    when = "; ".join(f"run {m['start']} – {m['end']} UTC, `uptime` before: `{m['uptime_before']}`, after: "
                     f"`{m['uptime_after']}`" for m in runs)
    lines = [BEGIN, "## Speed against peer packages (`python benchmarks/run_all.py`)", "",
             f"On {meta['machine']}; {when}"
             + (" (tasks from the later run replace the earlier run's; each task gives its own load)"
                if len(runs) > 1 else "") + ". The machine (2 cores) is shared with other work: the load averages "
             "per task are given, and the sides of each task were run alternately in fresh processes (A, B, A, B) "
             "so that load changes hit both. Threads of every BLAS/OpenMP/numba/polars/rayon pool pinned to 1. "
             "Times are wall-clock seconds of the work stated; 'best' is the best over the processes (each "
             "process's own best of its repeats), 'median' the median over processes; 'import s' is the "
             "package import inside the process (median). 'peer best / this best' > 1 means that evalint row "
             "is faster than the peer. Nothing in the test suite asserts a time.", ""]
    for r in results:
        if r["task"] == "cs":
            lines += ["### Callaway–Sant'Anna vs diff-diff (`benchmarks/cs_bench.py`, called by run_all.py)", ""]
            if "skipped" in r:
                lines += [f"Not run: {r['skipped']}.", ""]
            else:
                lines += [f"Load {r['load_before']} → {r['load_after']}.", "", r["table"], ""]
            continue
        started = f", run of {r['run']['start']} UTC" if "run" in r and len(runs) > 1 else ""
        if meta.get("partial"):  # a partial run replaces these subsections only: say when it ran
            started = f", run of {meta['start']} UTC (`uptime` before the run: `{meta['uptime_before']}`)"
        lines += [f"### {r['task']}: load {r['load_before']} → {r['load_after']}, {r['rounds']} interleaved rounds"
                  f"{started}", "",
                  f"Work (both sides): {r['work']}", "",
                  "| package | best s | median s | per-process best s | import s | max abs diff vs evalint | "
                  "peer best / this best | note |", "|---|---|---|---|---|---|---|---|"]
        peer = next((row for s, row in r["sides"].items() if not s.startswith("evalint") and "best_s" in row), None)
        for s, row in r["sides"].items():
            if "skipped" in row:
                lines.append(f"| {s} | {row['skipped']} | | | | | | |")
                continue
            ratio = peer["best_s"] / row["best_s"] if peer and s.startswith("evalint") else None
            lines.append(f"| {s} | {_f(row['best_s'])} | {_f(row['median_s'])} | "
                         f"{', '.join(_f(x) for x in row['per_process_best'])} | {_f(row['import_s'], '.2f')} | "
                         f"{_f(row.get('max_abs_diff'), '.1e')} | {_f(ratio, '.2f')} | {row['note']} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_results(md: str, *, only: list[str] | None = None) -> None:
    """Rewrite the section between the markers; with ``only``, replace just those tasks'
    subsections ("### <task>: ...") and keep the others (a partial run)."""
    text = RESULTS.read_text()
    if only and BEGIN in text and END in text:
        for task in only:
            new = _subsection(md, task)
            old = _subsection(text, task)
            if new and old:
                text = text.replace(old, new)
            elif new:
                text = text.replace(END, new + END)
        RESULTS.write_text(text)
        return
    if BEGIN in text and END in text:
        a, b = text.index(BEGIN), text.index(END) + len(END)
        text = text[:a] + md + text[b:]
    else:
        marker = "\n## Interrupted time series"
        i = text.index(marker) if marker in text else len(text)
        text = text[:i] + "\n" + md + "\n" + text[i:]
    RESULTS.write_text(text)


def _subsection(text: str, task: str) -> str:
    """The "### <task>: ..." subsection of the run_all section (up to the next heading or the end marker)."""
    head = f"### {task}: "
    if head not in text:
        return ""
    a = text.index(head)
    ends = [i for i in (text.find("\n### ", a + 1), text.find("\n## ", a + 1), text.find(END, a)) if i >= 0]
    b = min(ends)
    return text[a:b + 1] if text[b] == "\n" else text[a:b]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=2, metavar=("TASK", "SIDE"))
    ap.add_argument("--only", nargs="*", default=None, help=f"tasks: {', '.join([*TASKS, 'cs'])}")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds per task (default per task)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per process")
    ap.add_argument("--json", default=None, help="also write the raw results here")
    ap.add_argument("--write-results", action="store_true", help="rewrite the run_all section of RESULTS.md")
    ap.add_argument("--combine", nargs="+", metavar="JSON",
                    help="no runs: rebuild the section from --json files of earlier runs (a task in a later file "
                         "replaces the same task of an earlier one; each run's times and uptime are kept)")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    if args.combine:
        runs = [json.loads(Path(f).read_text()) for f in args.combine]
        by_task: dict[str, dict] = {}
        for run in runs:
            for r in run["results"]:
                by_task[r["task"]] = dict(r, run=run["meta"])
        order = [t for t in [*TASKS, "cs"] if t in by_task]
        meta = dict(runs[0]["meta"], combined=[r["meta"] for r in runs])
        md = markdown([by_task[t] for t in order], meta)
        print(md)
        if args.write_results:
            write_results(md)
        return 0
    tasks = args.only or [*TASKS, "cs"]
    if any(t.startswith("sdid") for t in tasks):
        from evalint.datasets import registry

        os.environ["RUN_ALL_PROP99_CSV"] = str(registry.path("prop99_synthdid"))
    up = lambda: subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()  # noqa: E731
    meta = {"start": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"), "uptime_before": up(),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
                       f"{platform.python_version()}", "partial": bool(args.only and args.write_results)}
    results = []
    for t in tasks:
        print(f"[{dt.datetime.now(dt.timezone.utc):%H:%M:%S}] {t} (load {_load()})", file=sys.stderr, flush=True)
        results.append(run_cs(3) if t == "cs" else run_task(t, args.rounds, args.timeout))
    meta.update({"end": dt.datetime.now(dt.timezone.utc).strftime("%H:%M"), "uptime_after": up()})
    md = markdown(results, meta)
    print(md)
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    if args.write_results:
        write_results(md, only=args.only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
