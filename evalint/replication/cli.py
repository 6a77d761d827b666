"""``evalint replicate [ID ...|--all] [--json]``: published vs reproduced.

Every target asked for is run; one whose dataset is not available (no ``EVALINT_DATA_DIR``,
no checkout, no download) is reported as skipped with the reason, one whose runner raises
as failed with the error, and the rest are compared with their references. Exit 0 when every
quantity is reproduced; 1 when any quantity is outside tolerance, or any target failed or was
skipped; 2 for an id that is not an installed target.
"""

from __future__ import annotations

import argparse
import json
import math

import pandas as pd

from evalint.replication.targets import list_targets, load_target, run_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="target ids (see --list)")
    parser.add_argument("--all", action="store_true", help="run every target")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per quantity")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.8g}"


def _attempt(tid: str) -> tuple[pd.DataFrame | None, str, str]:
    """(frame, status, reason): status 'ran', 'skipped' (dataset unavailable) or 'failed'."""
    from evalint.datasets.registry import ChecksumError, DatasetNotFoundError

    try:
        return run_target(tid), "ran", ""
    except (DatasetNotFoundError, ChecksumError) as exc:
        return None, "skipped", " ".join(str(exc).split())
    except Exception as exc:  # noqa: BLE001 - one target's failure must not hide the others
        return None, "failed", f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def run(args: argparse.Namespace) -> int:
    if args.list:
        for t in list_targets():
            print(t)
        return 0
    ids = list_targets() if args.all or not args.ids else args.ids
    from evalint.replication.runners import resolve_runner

    for i in ids:  # every id and runner checked before any target runs
        resolve_runner(load_target(i).runner, i)
    frames: list[pd.DataFrame] = []
    problems: list[tuple[str, str, str]] = []
    for i in ids:
        frame, status, reason = _attempt(i)
        if frame is not None:
            frames.append(frame)
        else:
            problems.append((i, status, reason))
    ok = all(bool(f["pass"].all()) for f in frames) and not problems
    if args.json:
        out = []
        for f in frames:
            for r in f.itertuples(index=False):
                out.append({"target": r.target, "quantity": r.quantity, "reference": r.reference,
                            "reproduced": r.reproduced, "tolerance": r.tolerance,
                            "relative": bool(r.relative), "pass": bool(r[6])})
        for tid, status, reason in problems:
            out.append({"target": tid, "status": status, "reason": reason})
        print(json.dumps(out, indent=1))
        return 0 if ok else 1
    for f in frames:
        if f.empty:
            continue
        tid = f["target"].iloc[0]
        n_pass = int(f["pass"].sum())
        print(f"{tid}: {n_pass}/{len(f)} quantities within tolerance")
        w = max(len(q) for q in f["quantity"])
        print(f"  {'quantity':<{w}}  {'reference':>14}  {'reproduced':>14}  {'tolerance':>10}  result")
        for r in f.itertuples(index=False):
            tol = f"{r.tolerance:.0e}" + (" rel" if r.relative else "")
            print(f"  {r.quantity:<{w}}  {_fmt(r.reference):>14}  {_fmt(r.reproduced):>14}  {tol:>10}  "
                  f"{'pass' if r[6] else 'FAIL'}")
        print()
    for tid, status, reason in problems:
        print(f"{tid}: {status.upper()} - {reason}")
    if problems:
        print()
    n_skip = sum(1 for p in problems if p[1] == "skipped")
    n_fail = sum(1 for p in problems if p[1] == "failed")
    if ok:
        print("all quantities reproduced")
    else:
        parts = []
        if any(not bool(f["pass"].all()) for f in frames):
            parts.append("SOME QUANTITIES OUTSIDE TOLERANCE")
        if n_fail:
            parts.append(f"{n_fail} target(s) failed")
        if n_skip:
            parts.append(f"{n_skip} target(s) skipped (dataset not available)")
        print("; ".join(parts))
    return 0 if ok else 1
