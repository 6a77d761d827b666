"""Synthetic-control benchmark: evalint against peer packages on the same data and settings.

Run ``python benchmarks/synth_bench.py [--quick] [--peer-timeout SECONDS]``. Prints one table
(task, package, seconds, estimate, note). Every peer runs in a child process that is stopped
after ``--peer-timeout`` seconds (default 180); a stopped peer is reported as such.

Layout: each benchmark is a function returning a list of :class:`Row`; ``SCM_BENCHES`` holds the
synthetic-control (Abadie/outcome-only) rows and ``SDID_BENCHES`` the synthetic-DiD rows (filled
by the SDID module's author). Add a bench by appending a function to one of these lists.

Thread settings: OMP/MKL/OPENBLAS threads are pinned to 1 for every package (set before numpy
is imported) so that timings compare algorithms, not BLAS parallelism.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import multiprocessing as mp
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

PEER_TIMEOUT = 180.0
QUICK = False


@dataclass
class Row:
    task: str
    package: str
    seconds: float | None
    estimate: float | None = None
    note: str = ""


# --------------------------------------------------------------------------- helpers
def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _child(conn: Any, fn: Callable[[], Any]) -> None:
    warnings.simplefilter("ignore")
    try:
        conn.send(("ok", timed(fn)))
    except Exception as exc:  # noqa: BLE001 - report any peer failure as a row note
        conn.send(("error", f"{type(exc).__name__}: {exc}"[:200]))


def run_peer(task: str, package: str, fn: Callable[[], float], timeout: float | None = None) -> Row:
    """Run ``fn`` (returning an estimate) in a forked child, stopped after ``timeout`` seconds."""
    timeout = PEER_TIMEOUT if timeout is None else timeout
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn))
    proc.start()
    if parent.poll(timeout):
        status, payload = parent.recv()
        proc.join()
        if status == "ok":
            secs, est = payload
            return Row(task, package, secs, None if est is None else float(est))
        return Row(task, package, None, None, f"failed: {payload}")
    proc.kill()
    proc.join()
    return Row(task, package, None, None, f"stopped after {timeout:.0f} s (not finished)")


def prop99() -> tuple[Any, pd.DataFrame]:
    from evalint.estimators.synth.scm import prop99_adh_panel

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
def bench_adh_nested_placebo() -> list[Row]:
    """ADH SCM with predictors, nested V and full in-space placebo (39 fits) on Prop 99."""
    task = "Prop 99: ADH SCM, nested V + in-space placebo (39 fits)"
    from evalint.estimators.synth.scm import ADH_PREDICTORS, SyntheticControl

    panel, df = prop99()
    est = SyntheticControl(predictors=ADH_PREDICTORS, leave_one_out=False)
    secs, res = timed(lambda: est.fit(panel, predictor_data=df, calendar=False))
    rows = [Row(task, "evalint", secs, res.estimate,
                f"pre-MSPE {res.info['pre_mspe']['California']:.3f}, p = {res.p_value:.4f}")]

    def pysyncon_fit(placebo: bool) -> float:
        from pysyncon import Dataprep, Synth
        from pysyncon.utils import PlaceboTest

        controls = sorted(set(df["state"]) - {"California"})
        dp = Dataprep(
            foo=df, predictors=["lnincome", "retprice", "age15to24"], predictors_op="mean",
            time_predictors_prior=range(1980, 1989),
            special_predictors=[("beer", range(1984, 1989), "mean"), ("cigsale", [1975], "mean"),
                                ("cigsale", [1980], "mean"), ("cigsale", [1988], "mean")],
            dependent="cigsale", unit_variable="state", time_variable="year",
            treatment_identifier="California", controls_identifier=controls,
            time_optimize_ssr=range(1970, 1989))
        if placebo:
            PlaceboTest().fit(dataprep=dp, scm=Synth(), scm_options={"optim_method": "Nelder-Mead",
                                                                      "optim_initial": "equal"})
            return float("nan")
        s = Synth()
        s.fit(dataprep=dp, optim_method="Nelder-Mead", optim_initial="equal")
        return float(s.loss_V)

    one = run_peer("Prop 99: ADH SCM, nested V, California fit only", "pysyncon", lambda: pysyncon_fit(False))
    one.note = one.note or f"loss_V (pre-MSPE) {one.estimate:.3f}"
    one.estimate = None
    rows.append(one)
    if QUICK:
        rows.append(Row(task, "pysyncon", None, None, "skipped (--quick)"))
    else:
        rows.append(run_peer(task, "pysyncon", lambda: pysyncon_fit(True)))
    return rows


def _outcome_only(panel: Any) -> Any:
    from evalint.estimators.synth.scm import SyntheticControl

    return SyntheticControl(leave_one_out=False).fit(panel, calendar=False)


def _mlsynth_outcome_only(df: pd.DataFrame, unit: str, time_: str, y: str, treat: str) -> float:
    from mlsynth.estimators.vanillasc import VanillaSC

    out = VanillaSC({"df": df, "outcome": y, "treat": treat, "unitid": unit, "time": time_,
                     "backend": "outcome-only", "inference": "placebo"}).fit()
    return float(out.effects.att)


def bench_outcome_only_prop99() -> list[Row]:
    task = "Prop 99: outcome-only SC + in-space placebo"
    panel, df = prop99()
    secs, res = timed(lambda: _outcome_only(panel))
    d = df[["state", "year", "cigsale", "treated"]].copy()
    return [Row(task, "evalint", secs, res.estimate, f"p = {res.p_value:.4f}"),
            run_peer(task, "mlsynth", lambda: _mlsynth_outcome_only(d, "state", "year", "cigsale", "treated"))]


def bench_outcome_only_150() -> list[Row]:
    task = "simulated 150 units x 120 periods: outcome-only SC + in-space placebo"
    from evalint.data.panel import Panel

    df = simulated_panel()
    panel = Panel.from_frame(df, unit="unit", time="time", outcome="y", treatment="treated")
    secs, res = timed(lambda: _outcome_only(panel))
    return [Row(task, "evalint", secs, res.estimate, f"truth -5; p = {res.p_value:.4f}"),
            run_peer(task, "mlsynth", lambda: _mlsynth_outcome_only(df, "unit", "time", "y", "treated"))]


SCM_BENCHES: list[Callable[[], list[Row]]] = [
    bench_adh_nested_placebo,
    bench_outcome_only_prop99,
    bench_outcome_only_150,
]

# --------------------------------------------------------------------------- SDID benches
# Synthetic DiD rows (evalint.estimators.synth.sdid vs diff-diff, mlsynth, synthdid) go here:
# append functions returning list[Row] to SDID_BENCHES.
SDID_BENCHES: list[Callable[[], list[Row]]] = []


# ----- SDID rows (author: SDID module; evalint.estimators.synth.sdid) ---------------------------
def _sdid_prop99_frame() -> pd.DataFrame:
    from evalint.datasets import load

    return load("prop99_synthdid")


def _diff_diff_sdid(df: pd.DataFrame, reps: int) -> float:
    from diff_diff import SyntheticDiD

    data = df.assign(ever=(df["State"] == "California").astype(int))
    res = SyntheticDiD(variance_method="placebo", n_bootstrap=reps, seed=0).fit(
        data, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
        post_periods=list(range(1989, 2001)))
    return float(res.att)


def _mlsynth_sdid(df: pd.DataFrame, reps: int) -> float:
    from mlsynth import SDID

    res = SDID({"df": df.copy(), "outcome": "PacksPerCapita", "treat": "treated", "unitid": "State",
                "time": "Year", "B": reps, "display_graphs": False}).fit()
    return float(res.att)


def bench_sdid_placebo_prop99(reps: int = 200) -> list[Row]:
    """SDID with ``reps`` placebo replications on Prop 99 (synthdid defaults), every package."""
    from evalint.estimators.synth.sdid import synthetic_did
    from evalint.estimators.synth.sdid_replication import prop99_panel

    task = f"SDID + {reps} placebo reps, Prop 99"
    df = _sdid_prop99_frame()
    panel = prop99_panel()
    for mod in ("diff_diff", "mlsynth"):  # import before forking so import time is not timed
        try:
            __import__(mod)
        except ImportError:
            pass
    synthetic_did(panel, reps=2, calendar=False)  # warm-up (imports, caches)
    secs = []
    for _ in range(3):
        s, res = timed(lambda: synthetic_did(panel, reps=reps, seed=0, calendar=False))
        secs.append(s)
    rows = [Row(task, "evalint", min(secs), res.estimate,
                f"se {res.se:.4f}; best of 3 (all: {', '.join(f'{x:.2f}' for x in secs)})")]
    rows.append(run_peer(task, "diff-diff", lambda: _diff_diff_sdid(df, reps)))
    rows.append(run_peer(task, "mlsynth", lambda: _mlsynth_sdid(df, reps)))
    return rows


def bench_sdid_point_prop99() -> list[Row]:
    """SDID point estimate and weights only (no variance) on Prop 99."""
    from evalint.estimators.synth.sdid import SdidSettings, fit_design, panel_design
    from evalint.estimators.synth.sdid_replication import prop99_panel

    design = panel_design(prop99_panel())
    secs = [timed(lambda: fit_design(design.Y, design.start, SdidSettings()))[0] for _ in range(3)]
    tau = fit_design(design.Y, design.start, SdidSettings()).tau
    return [Row("SDID point estimate + weights, Prop 99", "evalint", min(secs), tau,
                "about 10,200 sequential Frank-Wolfe steps (synthdid procedure); best of 3")]


SDID_BENCHES.extend([bench_sdid_point_prop99, bench_sdid_placebo_prop99])


# --------------------------------------------------------------------------- main
def print_table(rows: list[Row]) -> None:
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpu(s); python {platform.python_version()}; "
          f"BLAS threads pinned to {os.environ['OMP_NUM_THREADS']}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    frame = pd.DataFrame([r.__dict__ for r in rows])
    frame["seconds"] = frame["seconds"].map(lambda s: "-" if s is None or pd.isna(s) else f"{s:.3f}")
    frame["estimate"] = frame["estimate"].map(lambda s: "-" if s is None or pd.isna(s) else f"{s:.4f}")
    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        print(frame.to_string(index=False))
    by = {}
    for r in rows:
        if r.seconds is not None:
            by.setdefault(r.task, {})[r.package] = r.seconds
    for task, t in by.items():
        if "evalint" in t:
            for pkg, s in t.items():
                if pkg != "evalint":
                    print(f"  {task}: evalint {t['evalint']:.3f} s vs {pkg} {s:.3f} s -> {s / t['evalint']:.1f}x")


def main(argv: list[str] | None = None) -> list[Row]:
    global PEER_TIMEOUT, QUICK
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the slowest peer runs")
    ap.add_argument("--peer-timeout", type=float, default=PEER_TIMEOUT)
    ap.add_argument("--only", choices=["scm", "sdid"], default=None)
    args = ap.parse_args(argv)
    PEER_TIMEOUT, QUICK = args.peer_timeout, args.quick
    warnings.simplefilter("ignore")
    benches = ([] if args.only == "sdid" else SCM_BENCHES) + ([] if args.only == "scm" else SDID_BENCHES)
    rows: list[Row] = []
    for bench in benches:
        rows.extend(bench())
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
