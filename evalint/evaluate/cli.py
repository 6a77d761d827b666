"""``evalint evaluate CONFIG.toml``: run :func:`evalint.evaluate` from a configuration file.

Writes ``<dir>/<name>.html`` (self-contained) and/or ``<name>.md`` (figures beside it), plus
``triangulation.csv``, ``flags.csv`` and ``diagnostics.csv``, and prints the summary. A text
progress bar on stderr shows each design fit (bootstrap and placebo work included).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from evalint.errors import SpecificationError
from evalint.evaluate.config import build_panel, evaluate_kwargs, load_config

__all__ = ["EXAMPLE", "TextProgress", "add_arguments", "run"]


class TextProgress:
    """A one-line-per-step text progress bar: ``[#####.....] 5/12 12.3s Synthetic DiD on los``."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int, label: str) -> None:
        filled = round(self.width * done / total) if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        what = "finished" if done >= total else f"fitting {label}"
        # one write of the whole line: with jobs > 1 the forked helpers print their fits' lines to the
        # same stream, and print() writes the text and the newline separately, which an unbuffered
        # stream (PYTHONUNBUFFERED) passes on as two writes that another process's line can split
        self.stream.write(f"[{bar}] {done}/{total} {elapsed:6.1f}s {what}\n")
        self.stream.flush()


EXAMPLE = """example CONFIG.toml (paths relative to the file):

  [data]
  path = "icb_monthly.csv"          # CSV or Parquet
  unit = "icb_code"
  time = "month"
  outcomes = ["emergency_admissions", "length_of_stay", "delayed_discharges"]
  population = "population"         # optional: rates per 100,000
  weights = "spells"                # optional: bed-days for length of stay
  # or instead of path: [data.simulate] with simulate_nhs() arguments

  [evaluation]
  intervention = "ics_golive_2022"  # a preset, a date, or a table [evaluation.intervention] unit = date
  # treated = [...], outcomes = [...], designs = "auto" | {designs}, alpha = 0.05,
  # seed = 0, fast = false, calendar = true, start = "2021-04", end = "2025-03"

  [output]
  dir = "evalint-report"
  formats = ["html", "md"]
  name = "report"

Writes <dir>/<name>.html (self-contained), <name>.md (+ <name>_figures/), triangulation.csv,
flags.csv and diagnostics.csv, into a new or empty folder (--overwrite replaces an earlier run's
folder as a whole; a failed run leaves the old one untouched). Exit 0 when at least one design
gave an estimate (failed designs are reported); exit 1 when none did (each failed or was
skipped, listed with the reasons); exit 2 with one line "evalint: error: ..." when the
configuration or the data are invalid.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``evalint evaluate``."""
    from evalint.evaluate.registry import design_names

    parser.epilog = EXAMPLE.replace("{designs}", "[" + ", ".join(f'"{n}"' for n in design_names()) + "]")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("config", help="TOML file: [data], [evaluation], [output] (see evalint.evaluate.config)")
    parser.add_argument("--out", default=None, help="output folder (overrides [output] dir)")
    parser.add_argument("--fast", action="store_true", help="fewer bootstrap/placebo replications")
    parser.add_argument("--seed", type=int, default=None, help="override [evaluation] seed")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary; files only")
    parser.add_argument("--jobs", type=int, default=None,
                        help="processes sharing the fits, robustness checks and figures (default: EVALINT_JOBS, "
                             "else the CPUs, at most 2); the outputs are the same whatever the number")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a non-empty output folder holding an earlier evalint run")


def run(args: argparse.Namespace) -> int:
    """Run the evaluation the configuration describes; 0 on success (failed designs are reported)."""
    from pathlib import Path

    from evalint._output import check_output_folder, output_folder
    from evalint.evaluate.core import evaluate

    cfg = load_config(args.config)
    out = Path(args.out).expanduser().resolve() if args.out else cfg.out_dir
    overwrite = args.overwrite or cfg.overwrite
    option = "--overwrite (or overwrite = true in [output])"
    protect = (cfg.source, *([Path(cfg.data["path"])] if "path" in cfg.data else []))
    panel = build_panel(cfg)
    kw = evaluate_kwargs(cfg)
    # a file, read-only or input-holding output folder is refused now; a non-empty one once the
    # evaluation's arguments are known to be valid, before the first fit
    check_output_folder(out, overwrite=True, option=option, protect=protect)
    if args.fast:
        kw["fast"] = True
    if args.seed is not None:
        kw["seed"] = args.seed
    if args.jobs is not None and args.jobs < 1:
        raise SpecificationError(f"--jobs must be a positive integer (processes); got {args.jobs}.")
    from evalint._forked import default_jobs

    jobs = default_jobs(fallback=2) if args.jobs is None else args.jobs
    call = "evalint evaluate " + str(args.config) + (" --fast" if args.fast else "") + \
        (f" --seed {args.seed}" if args.seed is not None else "")
    bar = None if args.quiet else TextProgress()
    checked: list[bool] = []

    def progress(done: int, total: int, label: str) -> None:
        # the output folder is checked once evaluate() has validated its arguments and
        # before the first (possibly long) fit
        if not checked:
            check_output_folder(out, overwrite=overwrite, option=option, protect=protect)
            checked.append(True)
        if bar is not None:
            bar(done, total, label)

    ev = evaluate(panel, progress=progress, call=call, jobs=jobs, **kw)
    ev.figures(jobs=jobs)  # drawn once, by the same processes; every report format embeds or links them
    with output_folder(out, overwrite=overwrite, option=option, protect=protect) as tmp:
        written = []
        for fmt in cfg.formats:
            written.append(ev.report(tmp / f"{cfg.name}.{fmt}"))
        ev.table().to_csv(tmp / "triangulation.csv", index=False)
        ev.flags_frame().to_csv(tmp / "flags.csv", index=False)
        ev.diagnostics_frame().to_csv(tmp / "diagnostics.csv", index=False)
    n_ok = sum(1 for e in ev.entries.values() if e.ok)
    if not args.quiet:
        print(ev.summary())
        print(f"\nWrote {', '.join(p.name for p in written)}, triangulation.csv, flags.csv, diagnostics.csv to {out}/")
    if ev.failures and not args.quiet and n_ok:
        print(f"{len(ev.failures)} design fit(s) failed; the reasons are in the report.", file=sys.stderr)
    if n_ok == 0:
        # designs that failed, then designs skipped before any fit (e.g. DiD without comparison units)
        reasons = [f"{d} on {o}: {' '.join(str(f).split())[:200]}" for (d, o), f in list(ev.failures.items())[:3]]
        asked = kw.get("designs", "auto")
        asked = None if asked == "auto" else [asked] if isinstance(asked, str) else list(asked)
        skips = [(d, why) for d, why in ev.skipped.items() if asked is None or d in asked]
        reasons += [f"{d} skipped: {' '.join(str(why).split())[:200]}" for d, why in skips[:3]]
        what = "every design failed" if ev.failures else "no design could run"
        print(f"evalint: {what}, no estimate ({'; '.join(reasons) or 'no design chosen'}).", file=sys.stderr)
        return 1
    return 0
