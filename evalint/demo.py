"""``evalint demo``: a full evaluation on the built-in simulated NHS panel (no download).

The question: did a (simulated) integrated discharge and admission-avoidance pilot in four
East of England ICBs, from April 2023, change emergency admissions, length of stay and
delayed discharges? The panel is :func:`evalint.datasets.simulate_nhs` (42 ICBs, monthly,
April 2016 to March 2025, with the COVID-19 path) with known effects in the four pilot ICBs:
admissions -4%, length of stay -0.3 days, delayed discharges -15%. It also has a national
6% fall in delayed discharges in *every* ICB from April 2023, standing in for the national
Adult Social Care Discharge Fund 2023-25: a concurrent policy, not the pilot's effect, which
the policy calendar flags. The analysis window starts in July 2021, after the main COVID-19
waves.

With four treated and 38 comparison ICBs, :func:`evalint.evaluate` runs every design: ITS on
the pilot ICBs' aggregate series, Callaway-Sant'Anna DiD, synthetic control and synthetic
DiD, for all three outcomes, triangulated, with the calendar and diagnostic flags. The demo
writes the self-contained HTML report, the Markdown report (figures beside it) and tidy CSVs,
and prints the triangulation table with the simulated truth beside every estimate. ITS on
delayed discharges cannot tell the pilot from the national fund that started the same
month, and the report shows it: the designs disagree, and the flags name the fund.
"""

from __future__ import annotations

import argparse
import math
import textwrap
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy and pandas are imported where used: ``evalint demo --help`` needs neither
    import pandas as pd

__all__ = [
    "DEMO_EFFECTS",
    "DEMO_START",
    "NATIONAL_FUND_EFFECT",
    "OUTCOMES",
    "PILOT_ICBS",
    "PILOT_START",
    "add_arguments",
    "demo_intervention",
    "demo_truth",
    "run",
    "run_demo",
    "simulate_demo_panel",
]

#: the pilot ICBs (East of England): Bedfordshire, Luton and Milton Keynes; Cambridgeshire and
#: Peterborough; Hertfordshire and West Essex; Mid and South Essex
PILOT_ICBS = ("QHG", "QUE", "QM7", "QH8")
PILOT_START = "2023-04"
#: first month analysed: after the main COVID-19 waves (the pre-period an analyst would choose)
DEMO_START = "2021-07"
OUTCOMES = ("emergency_admissions", "length_of_stay", "delayed_discharges")
#: the simulated (true) pilot effects: relative for counts, days for length of stay
DEMO_EFFECTS = {"emergency_admissions": -0.04, "length_of_stay": -0.3, "delayed_discharges": -0.15}
#: the national discharge fund's effect on delayed discharges in every ICB (a confounder)
NATIONAL_FUND_EFFECT = -0.06
_PER = 100_000.0


def demo_intervention() -> Any:
    """The pilot as an :class:`~evalint.calendar.Intervention` (no calendar event is its own)."""
    import pandas as pd

    from evalint.calendar.presets import Intervention

    return Intervention(
        name="discharge_pilot_2023", event_ids=(), date=pd.Timestamp(PILOT_START + "-01"), units=PILOT_ICBS,
        description=("A simulated integrated discharge and admission-avoidance pilot (joint health and social "
                     "care discharge hubs, rapid community response) in four East of England ICBs from "
                     "1 April 2023; the other 38 ICBs are the comparison."),
        source="simulated by evalint demo (evalint.datasets.simulate_nhs); not a real programme",
    )


def simulate_demo_panel(seed: int = 2022) -> Any:
    """The simulated panel behind the demo: the pilot's effects and the national fund."""
    from evalint.datasets import simulate_nhs

    return simulate_nhs(
        seed=seed, adoption={u: PILOT_START for u in PILOT_ICBS}, effects=dict(DEMO_EFFECTS),
        shocks=[{"start": PILOT_START, "end": "2025-03", "outcome": "delayed_discharges",
                 "effect": NATIONAL_FUND_EFFECT}],
    )


def demo_truth(sim: Any) -> pd.DataFrame:
    """The true pilot effect of each outcome on evaluate()'s common scale.

    Computed from the simulation's truth table over the treated cells (pilot ICBs from April
    2023): ``absolute`` per 100,000 population per month for counts, days for length of stay;
    ``percent`` relative to the expected outcome without the pilot (spells-weighted for length
    of stay); ``cumulative`` admissions, patient-days of delay (monthly snapshot x days in the
    month), bed-days (days x spells).
    """
    import numpy as np
    import pandas as pd

    t = sim.truth.loc[sim.truth["treated"] == 1]
    cells = sim.data.set_index(["icb_code", "month"])
    rows = []
    for o in OUTCOMES:
        to = t.loc[t["outcome"] == o]
        idx = pd.MultiIndex.from_arrays([to["unit"], to["month"]])
        eff = to["effect"].to_numpy(float)
        without = to["expected_without"].to_numpy(float)
        pop = cells["population"].reindex(idx).to_numpy(float)
        if o == "length_of_stay":
            spells = cells["spells"].reindex(idx).to_numpy(float)
            absolute = float(np.sum(eff * spells) / spells.sum())
            percent = float(100 * np.sum(eff * spells) / np.sum(without * spells))
            cumulative = float(np.sum(eff * spells))
        else:
            absolute = float(eff.sum() / pop.sum() * _PER)
            percent = float(100 * eff.sum() / without.sum())
            days = cells["days_in_month"].reindex(idx).to_numpy(float) if o == "delayed_discharges" else 1.0
            cumulative = float(np.sum(eff * days))
        rows.append({"outcome": o, "true_absolute": absolute, "true_percent": percent,
                     "true_cumulative": cumulative})
    return pd.DataFrame(rows)


def _fmt(x: float, digits: int = 3) -> str:
    from evalint.results.numbers import fmt

    return "n/a" if not math.isfinite(x) else fmt(x, digits)  # the report's one formatter


def _console_table(ev: Any, truth: pd.DataFrame) -> str:
    t = ev.table()
    tr = truth.set_index("outcome")
    from evalint.evaluate.registry import variants

    short = {v.key: v.short_label or v.label for v in variants()}
    lines = [f"{'outcome':<21}{'design':<15}{'effect (95% CI)':>31}{'% change (95% CI)':>27}"]
    for o in ev.outcomes:
        unit = "days" if o == "length_of_stay" else "per 100k"
        for i, r in enumerate(t.loc[t["outcome"] == o].itertuples(index=False)):
            name = o if i == 0 else ""
            if r.status != "ok":
                lines.append(f"{name:<21}{short.get(r.design, r.design):<15}{'failed: ' + str(r.error)[:50]:>58}")
                continue
            eff = f"{_fmt(r.absolute)} ({_fmt(r.abs_low)}, {_fmt(r.abs_high)}) {unit}"
            pct = f"{r.percent:+.1f}% ({r.pct_low:+.1f}, {r.pct_high:+.1f})"
            lines.append(f"{name:<21}{short.get(r.design, r.design):<15}{eff:>31}{pct:>27}")
        true_pct = f"{tr.loc[o, 'true_percent']:+.1f}%"
        lines.append(f"{'':<21}{'TRUTH':<15}{_fmt(tr.loc[o, 'true_absolute']) + ' ' + unit:>31}{true_pct:>27}")
    return "\n".join(lines)


def run_demo(out: str | Path = "evalint-demo", *, seed: int = 2022, fast: bool = True,
             quiet: bool = False, overwrite: bool = False, jobs: int | None = None) -> Any:
    """Run the demo evaluation; write the reports and CSVs to ``out``; return the Evaluation.

    Writes ``report.html`` (self-contained: open it in any browser), ``report.md`` with
    ``report_figures/``, ``triangulation.csv`` (designs x outcomes on the common scale, with
    the simulated truth), ``effects.csv`` (every design's tidy result rows), ``flags.csv``,
    ``diagnostics.csv`` and ``truth.csv``.

    Parameters
    ----------
    out : path
        Output folder (created).
    seed : int
        Seed of the simulation and of every bootstrap / placebo draw.
    fast : bool
        Fewer bootstrap / placebo replications and no SCM leave-one-out (seconds, not minutes).
    quiet : bool
        Print nothing.
    overwrite : bool
        Replace ``out`` when it holds an earlier run (a non-empty folder is refused otherwise).
        Files are written to a temporary folder moved into place at the end, so a failed run
        leaves the earlier output whole.
    jobs : int, optional
        Processes sharing the fits, the robustness checks and the figures (this one and forked
        helpers; :func:`evalint.evaluate`). Default: ``EVALINT_JOBS``, else the number of CPUs,
        at most 2. Every output is the same whatever ``jobs``.
    """
    from evalint._forked import default_jobs

    n_jobs = default_jobs(fallback=2) if jobs is None else jobs
    with _one_blas_thread():
        return _run_demo(out, seed=seed, fast=fast, quiet=quiet, overwrite=overwrite, jobs=n_jobs)


def _one_blas_thread() -> Any:
    """BLAS limited to one thread during the demo: its matrices are small (42 units), where
    threads only add overhead; on a busy machine multi-threaded BLAS made the robustness refits
    several times slower (CPU 8 s instead of 1.5 s for the churn re-estimates). A no-op without
    threadpoolctl."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _run_demo(out: str | Path, *, seed: int, fast: bool, quiet: bool, overwrite: bool, jobs: int) -> Any:
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    from evalint.evaluate import evaluate

    started = time.perf_counter()
    from evalint._output import check_output_folder, output_folder

    out = check_output_folder(out, overwrite=overwrite)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    sim = simulate_demo_panel(seed)
    truth = demo_truth(sim)
    n_months = len(pd.period_range(DEMO_START, sim.panel.periods[-1], freq="M"))
    say(f"evalint demo: simulated 42 ICBs x {n_months} months ({DEMO_START}..{sim.panel.periods[-1]}), "
        f"seed {seed}, {'fast' if fast else 'full'} settings.")
    say(textwrap.fill(
        f"Question: did a discharge and admission-avoidance pilot in {len(PILOT_ICBS)} East of England ICBs "
        f"({', '.join(PILOT_ICBS)}), from April 2023, change emergency admissions, length of stay and "
        "delayed discharges?", 100))
    say(textwrap.fill(
        f"Simulated truth in the pilot ICBs: admissions {DEMO_EFFECTS['emergency_admissions']:+.0%}, length of "
        f"stay {DEMO_EFFECTS['length_of_stay']:+.1f} days, delayed discharges "
        f"{DEMO_EFFECTS['delayed_discharges']:+.0%}; plus a national {NATIONAL_FUND_EFFECT:+.0%} in delayed "
        "discharges in every ICB from April 2023 (the national discharge fund: a confounder).", 100) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # every warning is recorded in the Evaluation and its report
        ev = evaluate(sim.panel, demo_intervention(), outcomes=list(OUTCOMES), start=DEMO_START, seed=seed,
                      fast=fast, call=f"evalint demo --seed {seed} {'--fast' if fast else '--full'}", jobs=jobs)
        from evalint.report.content import attach_truth

        attach_truth(ev, dict(zip(truth["outcome"], truth["true_absolute"])), "simulated truth")
    fitted = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev.figures(jobs=jobs)  # drawn once, here: both reports embed or link these
    drawn = time.perf_counter()
    with output_folder(out, overwrite=overwrite) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ev.report(tmp / "report.html")
            ev.report(tmp / "report.md")
        table = ev.table().merge(truth, on="outcome", how="left")
        table.to_csv(tmp / "triangulation.csv", index=False)
        truth.to_csv(tmp / "truth.csv", index=False)
        effects = [r.to_frame().assign(design=d, outcome_evaluated=o)
                   for (d, o), r in ev.results.items() if hasattr(r, "to_frame")]
        pd.concat(effects, ignore_index=True).to_csv(tmp / "effects.csv", index=False)
        flags = ev.flags_frame()
        flags.to_csv(tmp / "flags.csv", index=False)
        ev.diagnostics_frame().to_csv(tmp / "diagnostics.csv", index=False)
    html = out / "report.html"
    done = time.perf_counter()
    robust = float(ev._cache.get("robustness_seconds", 0.0))
    stages = {"simulate and evaluate": fitted - started - robust, "robustness": robust, "figures": drawn - fitted,
              "reports and CSVs": done - drawn}
    ev._cache["demo_seconds"] = {k: round(v, 2) for k, v in stages.items()}

    pct = round((1 - ev.alpha) * 100)
    say(f"Triangulation: effect per month in the pilot ICBs after April 2023 ({pct}% CI); absolute\n"
        "effect per 100,000 population (length of stay: days per spell); TRUTH = the simulated effect.")
    say(_console_table(ev, truth))
    say("\nVerdicts (the full text names every failed diagnostic; see the report):")
    for o in ev.outcomes:
        v = ev.verdicts[o]
        say(textwrap.fill(f"{o}: {v.status.replace('_', ' ').upper()}. {v.headline or v.text}", 100,
                          initial_indent="  ", subsequent_indent="    "))
    calendar = flags.loc[flags["event_id"].notna()]
    events = sorted(set(calendar.loc[calendar["severity"] == "high", "event_id"]))
    n_diag = int((flags["kind"] == "diagnostic").sum())
    say(textwrap.fill(
        f"Flags: {calendar['event_id'].nunique()} calendar events flagged across designs and outcomes, "
        f"{len(events)} of them high severity ({', '.join(events)}); {n_diag} diagnostic flag(s).", 100,
        initial_indent="\n", subsequent_indent="  "))
    top = ev.ranked_threats()
    if len(top):
        say("  Top calendar threats (ranked by co-timing, channel, size and differential exposure):")
        for r in top.itertuples():
            where = f" [{r.outcome}]" if getattr(r, "outcome", "") else ""
            say(textwrap.fill(f"{r.rank}. {r.event_id}{where}: {r.reason}", 100, initial_indent="    ",
                              subsequent_indent="       "))
    its_dd = flags.loc[(flags["design"] == "its") & (flags["outcome"] == "delayed_discharges")]
    if "asc_discharge_fund_2023_25" in set(its_dd["event_id"].dropna()):
        say("  Delayed discharges: ITS on the pilot ICBs alone also measures the national discharge fund that\n"
            "  started the same month (asc_discharge_fund_2023_25, flagged); the comparison designs\n"
            "  difference it out.")
    say(f"\nReport: {html.resolve()} (open it in a browser)")
    say(f"Also in {out}/: report.md (+ report_figures/), triangulation.csv, effects.csv, flags.csv,\n"
        f"diagnostics.csv, truth.csv. Finished in {done - started:.1f} s ("
        + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()) + ").")
    return ev


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="evalint-demo", help="output folder (default ./evalint-demo)")
    parser.add_argument("--seed", type=int, default=2022, help="simulation and bootstrap seed (default 2022)")
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--fast", dest="fast", action="store_true", default=True,
                       help="fewer bootstrap/placebo replications, no SCM leave-one-out (default; about 4.5 s)")
    speed.add_argument("--full", dest="fast", action="store_false",
                       help="full replications (999 multiplier bootstrap, 200 SDID placebos, "
                            "SCM leave-one-out; about 7.5 s)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="processes sharing the work (default: EVALINT_JOBS, else the CPUs, at most 2); "
                             "the outputs are the same whatever the number")
    parser.add_argument("--quiet", action="store_true", help="write files only")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the output folder when it holds an earlier run")


def run(args: argparse.Namespace) -> int:
    from evalint.errors import SpecificationError

    if args.seed < 0:
        raise SpecificationError(f"--seed must be a non-negative integer; got {args.seed}.")
    if args.jobs is not None and args.jobs < 1:
        raise SpecificationError(f"--jobs must be a positive integer (processes); got {args.jobs}.")
    run_demo(args.out, seed=args.seed, fast=args.fast, quiet=args.quiet, overwrite=args.overwrite, jobs=args.jobs)
    return 0
