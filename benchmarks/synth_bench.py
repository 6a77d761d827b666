"""Synthetic-control benchmark: evalint against peer packages on the same data and settings.

Run ``python benchmarks/synth_bench.py [--quick] [--peer-timeout SECONDS] [--markdown PATH]``.
Prints one table (task, package, seconds, peak MiB, estimate, agreement, note) and, with
``--markdown``, writes it as a Markdown fragment with the machine, date and load averages.

Every timed run (evalint's and the peers') happens in a forked child process, so that each gets
the same warm interpreter (peer packages are imported before forking: import time is not
timed) and its own memory measurement: the child resets its peak resident set size
(``/proc/self/clear_refs``) and reports ``VmHWM`` at the end ("peak MiB", the whole process:
interpreter, numpy, pandas and the package) and the increase over its resident size at the
start ("task MiB"). Short tasks are repeated (best of ``repeats``). A peer still running after
``--peer-timeout`` seconds (default 600) is stopped and reported as such.

"agreement" compares each peer with evalint on the same specification: estimate difference
and, where the peer exposes them, the largest donor/unit weight difference.

Layout: each benchmark is a function returning a list of :class:`Row`; ``SCM_BENCHES`` holds the
synthetic-control (Abadie/outcome-only) rows and ``SDID_BENCHES`` the synthetic-DiD rows (filled
by the SDID module's author). Add a bench by appending a function to one of these lists.

Thread settings: OMP/MKL/OPENBLAS threads are pinned to 1 for every package (set before numpy
is imported) so that timings compare algorithms, not BLAS parallelism.

SDID Frank-Wolfe path: with numba installed the SDID weights run in compiled kernels
(``evalint.estimators.synth.fw_compiled``); the SDID rows are then labelled "evalint (numba)", and an
"evalint (numpy)" row (``EVALINT_NO_NUMBA=1`` in its child) times the numpy path in the same run.
Compilation is excluded from the timings by a warm-up call; the numba import plus kernel load is
measured separately in fresh processes, once with an empty numba cache (compile) and once with the
on-disk cache (``cache=True``), and printed below the table.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys
from pathlib import Path

# benchmarks/ off the import path (running this script puts it first): a sibling script must not shadow a package
# (coverage.py, now default_coverage.py, once shadowed the coverage package numba imports)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import multiprocessing as mp
import platform
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

PEER_TIMEOUT = 600.0
QUICK = False


@dataclass
class Row:
    task: str
    package: str
    seconds: float | None
    estimate: float | None = None
    note: str = ""
    peak_mib: float | None = None
    task_mib: float | None = None
    agreement: str = ""
    weights: Any = None  # pd.Series of donor/unit weights when the package gives them


# --------------------------------------------------------------------------- helpers
def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _mem() -> dict[str, float]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key = line.split(":")[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1]) / 1024.0
    return out


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _child(conn: Any, fn: Callable[[], Any], repeats: int) -> None:
    os.setpgrp()  # own process group: a stopped peer's worker processes are stopped with it
    warnings.simplefilter("ignore")
    try:
        reset = _reset_peak()
        start = _mem().get("VmRSS", float("nan"))
        secs, out = [], None
        for _ in range(repeats):
            s, out = timed(fn)
            secs.append(s)
        peak = _mem().get("VmHWM", float("nan")) if reset else float("nan")
        conn.send(("ok", (secs, out, peak, peak - start)))
    except Exception as exc:  # noqa: BLE001 - report any failure as a row note
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:200]))


def _payload(out: Any) -> dict[str, Any]:
    if isinstance(out, dict):
        return out
    return {"estimate": None if out is None else float(out)}


def run_task(task: str, package: str, fn: Callable[[], Any], *, repeats: int = 1,
             timeout: float | None = None) -> Row:
    """Run ``fn`` in a forked child (``repeats`` times; best time kept), stopped after ``timeout`` s.

    ``fn`` returns an estimate or a dict with ``estimate`` and optionally ``weights``
    (pd.Series) and ``note``.
    """
    timeout = PEER_TIMEOUT if timeout is None else timeout
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, repeats))
    proc.start()
    if parent.poll(timeout):
        status, payload = parent.recv()
        proc.join()
        if status == "ok":
            secs, out, peak, grow = payload
            p = _payload(out)
            note = p.get("note", "")
            if repeats > 1:
                note = (note + "; " if note else "") + f"best of {repeats} ({', '.join(f'{x:.2f}' for x in secs)})"
            est = p.get("estimate")
            return Row(task, package, min(secs), None if est is None else float(est), note, peak, grow,
                       weights=p.get("weights"))
        return Row(task, package, None, None, f"failed: {payload}")
    try:  # the child and any worker processes it started (pysyncon's placebo runs a pool)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.join()
    return Row(task, package, None, None, f"stopped after {timeout:.0f} s (not finished)")


def run_peer(task: str, package: str, fn: Callable[[], Any], timeout: float | None = None,
             repeats: int = 1) -> Row:
    return run_task(task, package, fn, repeats=repeats, timeout=timeout)


def _ours(package: str) -> bool:
    """evalint rows: "evalint", or a labelled path such as "evalint (numba)"."""
    return package == "evalint" or package.startswith("evalint (")


def agree(rows: list[Row]) -> None:
    """Fill each other row's ``agreement`` against the first evalint row of the same task."""
    ours: dict[str, Row] = {}
    for r in rows:
        if _ours(r.package) and r.seconds is not None:
            ours.setdefault(r.task, r)
    for r in rows:
        ref = ours.get(r.task)
        if r is ref or ref is None or r.seconds is None:
            continue
        parts = []
        if r.estimate is not None and ref.estimate is not None:
            parts.append(f"estimate diff {r.estimate - ref.estimate:+.2e}")
        if r.weights is not None and ref.weights is not None:
            a = ref.weights.astype(float)
            b = r.weights.astype(float).reindex(a.index.union(r.weights.index)).fillna(0.0)
            a = a.reindex(b.index).fillna(0.0)
            parts.append(f"max weight diff {float((a - b).abs().max()):.1e}")
        r.agreement = "; ".join(parts)


def prop99() -> tuple[Any, pd.DataFrame]:
    from evalint.replication.prop99_adh import prop99_adh_panel

    return prop99_adh_panel()


def simulated_panel(n_units: int = 150, n_periods: int = 120, n_post: int = 20, seed: int = 0) -> pd.DataFrame:
    """Factor-model panel: unit 0 treated for the last ``n_post`` periods (effect -5)."""
    rng = np.random.default_rng(seed)
    F = np.cumsum(rng.normal(size=(n_periods, 3)), axis=0)
    L = rng.uniform(0.2, 1.2, size=(n_units, 3))
    Y = 100 + L @ F.T + rng.normal(scale=1.0, size=(n_units, n_periods))
    treated = np.zeros((n_units, n_periods), dtype=int)
    treated[0, n_periods - n_post:] = 1
    Y = Y - 5.0 * treated
    return pd.DataFrame({"unit": np.repeat([f"u{i:03d}" for i in range(n_units)], n_periods),
                         "time": np.tile(np.arange(2000, 2000 + n_periods), n_units),
                         "y": Y.ravel(), "treated": treated.ravel()})


# --------------------------------------------------------------------------- SCM benches
def _weights(res: Any) -> pd.Series:
    w = res.tables["donor_weights"]
    return pd.Series(w["weight"].to_numpy(float), index=[str(u) for u in w["unit"]])


def bench_adh_nested_placebo() -> list[Row]:
    """ADH SCM with predictors, nested V and full in-space placebo (39 fits) on Prop 99."""
    task = "Prop 99: ADH SCM, nested V + in-space placebo (39 fits)"
    from evalint.estimators.synth.scm.estimator import SyntheticControl
    from evalint.replication.prop99_adh import ADH_PREDICTORS

    panel, df = prop99()
    est = SyntheticControl(predictors=ADH_PREDICTORS, leave_one_out=False)

    def ours() -> dict[str, Any]:
        res = est.fit(panel, predictor_data=df, calendar=False)
        return {"estimate": res.estimate, "weights": _weights(res),
                "note": f"pre-MSPE {res.state.pre_mspe['California']:.3f}, p = {res.p_value:.4f}"}

    rows = [run_task(task, "evalint", ours, repeats=2)]

    def pysyncon_dataprep() -> Any:
        from pysyncon import Dataprep

        controls = sorted(set(df["state"]) - {"California"})
        return Dataprep(
            foo=df, predictors=["lnincome", "retprice", "age15to24"], predictors_op="mean",
            time_predictors_prior=range(1980, 1989),
            special_predictors=[("beer", range(1984, 1989), "mean"), ("cigsale", [1975], "mean"),
                                ("cigsale", [1980], "mean"), ("cigsale", [1988], "mean")],
            dependent="cigsale", unit_variable="state", time_variable="year",
            treatment_identifier="California", controls_identifier=controls,
            time_optimize_ssr=range(1970, 1989))

    def pysyncon_fit() -> dict[str, Any]:
        from pysyncon import Synth

        s = Synth()
        s.fit(dataprep=pysyncon_dataprep(), optim_method="Nelder-Mead", optim_initial="equal")
        return {"estimate": None, "weights": pd.Series(s.W, index=[str(u) for u in s.W_names]) if hasattr(s, "W_names")
                else None, "note": f"loss_V (pre-MSPE) {float(s.loss_V):.3f}; its own V optimum"}

    def pysyncon_placebo() -> dict[str, Any]:
        from pysyncon import Synth
        from pysyncon.utils import PlaceboTest

        PlaceboTest().fit(dataprep=pysyncon_dataprep(), scm=Synth(),
                          scm_options={"optim_method": "Nelder-Mead", "optim_initial": "equal"})
        return {"estimate": None}

    one = run_peer("Prop 99: ADH SCM, nested V, California fit only", "pysyncon", pysyncon_fit)
    rows.append(one)
    if QUICK:
        rows.append(Row(task, "pysyncon", None, None, "skipped (--quick)"))
    else:
        rows.append(run_peer(task, "pysyncon", pysyncon_placebo))
    return rows


def _outcome_only(panel: Any) -> dict[str, Any]:
    from evalint.estimators.synth.scm.estimator import SyntheticControl

    res = SyntheticControl(leave_one_out=False).fit(panel, calendar=False)
    return {"estimate": res.estimate, "weights": _weights(res), "note": f"p = {res.p_value:.4f}"}


def _mlsynth_outcome_only(df: pd.DataFrame, unit: str, time_: str, y: str, treat: str) -> dict[str, Any]:
    from mlsynth.estimators.vanillasc import VanillaSC

    out = VanillaSC({"df": df, "outcome": y, "treat": treat, "unitid": unit, "time": time_,
                     "backend": "outcome-only", "inference": "placebo"}).fit()
    w = pd.Series({str(k): float(v) for k, v in out.weights.donor_weights.items()})
    p = getattr(out.inference, "p_value", None)
    return {"estimate": float(out.effects.att), "weights": w,
            "note": "" if p is None else f"p = {float(p):.4f}"}


def bench_outcome_only_prop99() -> list[Row]:
    task = "Prop 99: outcome-only SC + in-space placebo"
    panel, df = prop99()
    d = df[["state", "year", "cigsale", "treated"]].copy()
    rows = [run_task(task, "evalint", lambda: _outcome_only(panel), repeats=3),
            run_peer(task, "mlsynth", lambda: _mlsynth_outcome_only(d, "state", "year", "cigsale", "treated"),
                     repeats=3)]

    def pysyncon_custom_v() -> dict[str, Any]:
        # pysyncon on the same outcome-only problem: V = sd^2 undoes its predictor scaling
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
        gap = Y.loc["California", post].to_numpy() - Y.drop(index="California")[post].T.to_numpy() @ w.to_numpy()
        return {"estimate": float(gap.mean()), "weights": w, "note": "weights only (no placebo), custom V"}

    rows.append(run_peer("Prop 99: outcome-only SC weights (fit only)", "pysyncon", pysyncon_custom_v, repeats=3))
    rows.append(run_task("Prop 99: outcome-only SC weights (fit only)", "evalint", lambda: _outcome_only_fit(panel),
                         repeats=3))
    return rows


def _outcome_only_fit(panel: Any) -> dict[str, Any]:
    """The outcome-only weights alone (no placebos), for the fit-only comparison."""
    from evalint.estimators.synth.matrices import synth_design
    from evalint.estimators.synth.simplex import simplex_least_squares

    design = synth_design(panel)
    u = design.treated[0]
    pre = design.pre_mask(u)
    Y0 = design.donor_matrix()
    w = simplex_least_squares(Y0[pre], design.treated_vector(u)[pre]).weights
    gap = design.treated_vector(u)[~pre] - Y0[~pre] @ w
    return {"estimate": float(gap.mean()), "weights": pd.Series(w, index=[str(d) for d in design.donors])}


def bench_outcome_only_150() -> list[Row]:
    task = "simulated 150 units x 120 periods: outcome-only SC + in-space placebo"
    from evalint.data.panel import Panel

    df = simulated_panel()
    panel = Panel.from_frame(df, unit="unit", time="time", outcome="y", treatment="treated")

    def ours() -> dict[str, Any]:
        out = _outcome_only(panel)
        out["note"] = "truth -5; " + out["note"]
        return out

    return [run_task(task, "evalint", ours, repeats=3),
            run_peer(task, "mlsynth", lambda: _mlsynth_outcome_only(df, "unit", "time", "y", "treated"))]


SCM_BENCHES: list[Callable[[], list[Row]]] = [
    bench_adh_nested_placebo,
    bench_outcome_only_prop99,
    bench_outcome_only_150,
]

# --------------------------------------------------------------------------- SDID benches
SDID_BENCHES: list[Callable[[], list[Row]]] = []


def _sdid_prop99_frame() -> pd.DataFrame:
    from evalint.datasets import load

    return load("prop99_synthdid")


def _diff_diff_sdid(df: pd.DataFrame, reps: int) -> dict[str, Any]:
    from diff_diff import SyntheticDiD

    data = df.assign(ever=(df["State"] == "California").astype(int))
    res = SyntheticDiD(variance_method="placebo", n_bootstrap=reps, seed=0).fit(
        data, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
        post_periods=list(range(1989, 2001)))
    w = pd.Series({str(k): float(v) for k, v in dict(res.unit_weights).items()})
    return {"estimate": float(res.att), "weights": w, "note": f"se {float(res.se):.4f}"}


def _mlsynth_sdid(df: pd.DataFrame, reps: int) -> dict[str, Any]:
    from mlsynth import SDID

    res = SDID({"df": df.copy(), "outcome": "PacksPerCapita", "treat": "treated", "unitid": "State",
                "time": "Year", "B": reps, "display_graphs": False}).fit()
    return {"estimate": float(res.att), "note": "exact-optimum weights (convex solver)"}


def _fw_backend() -> str:
    from evalint.estimators.synth.fw_compiled import backend

    return backend()


def _sdid_paths(fn: Callable[[], Any]) -> list[tuple[str, Callable[[], Any]]]:
    """(package label, task function) for each Frank-Wolfe path: the numpy path (``EVALINT_NUMBA=0``,
    what a Prop 99-sized problem takes by default) and, when numba is importable, the compiled
    kernels forced (``EVALINT_NUMBA=1``); each set inside the forked child, so the parent keeps
    its setting."""

    def path(mode: str) -> Callable[[], Any]:
        def run() -> Any:
            os.environ["EVALINT_NUMBA"] = mode
            return fn()

        return run

    out = [("evalint (numpy)", path("0"))]
    if _fw_backend() == "numba":
        out.append(("evalint (numba)", path("1")))
    return out


def bench_sdid_placebo_prop99(reps: int = 200) -> list[Row]:
    """SDID with ``reps`` placebo replications on Prop 99 (synthdid defaults), every package."""
    from evalint.estimators.synth.sdid.estimator import synthetic_did
    from evalint.replication.prop99_synthdid import prop99_panel
    from evalint.inference import Placebo

    task = f"SDID + {reps} placebo reps, Prop 99"
    df = _sdid_prop99_frame()
    panel = prop99_panel()
    synthetic_did(panel, inference=Placebo(reps=2), calendar=False)  # warm-up (imports, caches, numba compile/load)

    def ours() -> dict[str, Any]:
        res = synthetic_did(panel, inference=Placebo(reps=reps, seed=0), calendar=False)
        w = res.tables["unit_weights"]
        return {"estimate": res.estimate,
                "note": f"se {res.se:.4f}; Frank-Wolfe: "
                        f"{'numba' if os.environ.get('EVALINT_NUMBA') == '1' else 'numpy'}",
                "weights": pd.Series(w["weight"].to_numpy(float), index=[str(u) for u in w["unit"]])}

    rows = [run_task(task, label, fn, repeats=3) for label, fn in _sdid_paths(ours)]
    return rows + [run_peer(task, "diff-diff", lambda: _diff_diff_sdid(df, reps), repeats=3),
                   run_peer(task, "mlsynth", lambda: _mlsynth_sdid(df, reps), repeats=3)]


def bench_sdid_point_prop99() -> list[Row]:
    """SDID point estimate and weights only (no variance) on Prop 99."""
    from evalint.estimators.synth.sdid.core import SdidSettings, fit_design
    from evalint.estimators.synth.sdid.design import panel_design
    from evalint.replication.prop99_synthdid import prop99_panel

    design = panel_design(prop99_panel())
    fit_design(design.Y, design.start, SdidSettings())  # warm-up (numba compile/load)
    rows = [run_task("SDID point estimate + weights, Prop 99", label, fn, repeats=3)
            for label, fn in _sdid_paths(lambda: fit_design(design.Y, design.start, SdidSettings()).tau)]
    for row in rows:
        row.note = "about 10,200 sequential Frank-Wolfe steps (synthdid procedure); " + row.note
    return rows


_JIT_PROBE = """
import time
t0 = time.perf_counter()
from evalint.estimators.synth import fw_compiled
assert fw_compiled.compiled_available()
t1 = time.perf_counter()
import numpy as np
from evalint.estimators.synth.frank_wolfe import simplex_weights_batch
Y = np.random.default_rng(0).normal(size=(2, 6, 5))
simplex_weights_batch(Y, None, 0.1, intercept=True, min_decrease=1e-6)
simplex_weights_batch(Y[:1], None, 0.1, intercept=True, min_decrease=1e-6)
print(t1 - t0, time.perf_counter() - t1)
"""


def jit_times() -> str:
    """numba import and kernel compile/load, each in a fresh process (not part of any timing)."""
    import subprocess
    import sys
    import tempfile

    if _fw_backend() != "numba":
        from evalint.estimators.synth.fw_compiled import unavailable_reason

        return f"SDID Frank-Wolfe path: numpy ({unavailable_reason()})"
    out = []
    with tempfile.TemporaryDirectory() as cold:
        for label, extra in (("empty cache (compile)", {"NUMBA_CACHE_DIR": cold}),
                             ("numba's on-disk cache", {})):
            proc = subprocess.run([sys.executable, "-c", _JIT_PROBE], capture_output=True, text=True, check=False,
                                  env={**os.environ, **extra}, timeout=600)
            if proc.returncode:
                out.append(f"{label}: failed ({proc.stderr.strip().splitlines()[-1:]})")
                continue
            imp, load = (float(v) for v in proc.stdout.split())
            out.append(f"{label}: import numba {imp:.2f} s + kernels {load:.2f} s")
    return "SDID Frank-Wolfe path: numba; one-time cost per process (excluded by warm-up calls): " + "; ".join(out)


SDID_BENCHES.extend([bench_sdid_point_prop99, bench_sdid_placebo_prop99])


# --------------------------------------------------------------------------- main
PREIMPORT_ERRORS: dict[str, str] = {}


def _preimport() -> None:
    for mod in ("pysyncon", "pysyncon.utils", "mlsynth", "mlsynth.estimators.vanillasc", "diff_diff"):
        try:
            __import__(mod)
        except Exception as exc:  # noqa: BLE001 - a missing peer also shows up as a failed row
            PREIMPORT_ERRORS[mod] = f"{type(exc).__name__}: {exc}"


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None or pd.isna(x) else format(x, spec)


def table(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame({
        "task": [r.task for r in rows], "package": [r.package for r in rows],
        "seconds": [_fmt(r.seconds, ".3f") for r in rows], "peak MiB": [_fmt(r.peak_mib, ".0f") for r in rows],
        "task MiB": [_fmt(r.task_mib, ".0f") for r in rows], "estimate": [_fmt(r.estimate, ".4f") for r in rows],
        "agreement": [r.agreement for r in rows], "note": [r.note for r in rows]})


def speedups(rows: list[Row]) -> list[str]:
    by: dict[str, dict[str, float]] = {}
    for r in rows:
        if r.seconds is not None:
            by.setdefault(r.task, {})[r.package] = r.seconds
    out = []
    for task, t in by.items():
        for ours in [p for p in t if _ours(p)]:
            for pkg, sec in t.items():
                if not _ours(pkg):
                    out.append(f"{task}: {ours} {t[ours]:.3f} s vs {pkg} {sec:.3f} s -> {sec / t[ours]:.1f}x")
    return out


def machine() -> str:
    return (f"{platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cpu(s); "
            f"python {platform.python_version()}; BLAS threads pinned to {os.environ['OMP_NUM_THREADS']}")


def print_table(rows: list[Row], load: tuple[Any, Any], extra: tuple[str, ...] = ()) -> None:
    print(f"machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"load average (1, 5, 15 min): start {load[0]}, end {load[1]}")
    with pd.option_context("display.max_colwidth", 90, "display.width", 250):
        print(table(rows).to_string(index=False))
    for line in speedups(rows):
        print("  " + line)
    for line in extra:
        print(line)


def write_markdown(path: str, rows: list[Row], load: tuple[Any, Any], started: str,
                   extra: tuple[str, ...] = ()) -> None:
    frame = table(rows)
    lines = [(f"machine: {machine()}; run started {started}; load average (1, 5, 15 min) at start "
              f"{load[0]}, at end {load[1]}"), "",
             "| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for rec in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "/") for v in rec) + " |")
    lines += ["", *[f"- {x}" for x in speedups(rows)], *[f"- {x}" for x in extra], ""]
    with open(path, "w") as fh:
        fh.write("\n".join(lines))


def main(argv: list[str] | None = None) -> list[Row]:
    global PEER_TIMEOUT, QUICK
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the slowest peer runs")
    ap.add_argument("--peer-timeout", type=float, default=PEER_TIMEOUT)
    ap.add_argument("--only", choices=["scm", "sdid"], default=None)
    ap.add_argument("--markdown", default=None, help="also write the table as Markdown to this path")
    args = ap.parse_args(argv)
    PEER_TIMEOUT, QUICK = args.peer_timeout, args.quick
    warnings.simplefilter("ignore")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = tuple(round(x, 2) for x in os.getloadavg())
    _preimport()
    benches = ([] if args.only == "sdid" else SCM_BENCHES) + ([] if args.only == "scm" else SDID_BENCHES)
    rows: list[Row] = []
    for bench in benches:
        rows.extend(bench())
    agree(rows)
    load = (load0, tuple(round(x, 2) for x in os.getloadavg()))
    extra = () if args.only == "scm" else (jit_times(),)
    print_table(rows, load, extra)
    if args.markdown:
        write_markdown(args.markdown, rows, load, started, extra)
    return rows


if __name__ == "__main__":
    main()
