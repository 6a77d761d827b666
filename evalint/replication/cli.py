"""``evalint replicate [ID ...|--all] [--json]``: published vs reproduced, exit 1 on any failure."""

from __future__ import annotations

import argparse
import json
import math

from evalint.replication.targets import list_targets, run_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="target ids (see --list)")
    parser.add_argument("--all", action="store_true", help="run every target")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per quantity")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.8g}"


def run(args: argparse.Namespace) -> int:
    if args.list:
        for t in list_targets():
            print(t)
        return 0
    ids = list_targets() if args.all or not args.ids else args.ids
    frames = [run_target(i) for i in ids]
    ok = all(bool(f["pass"].all()) for f in frames)
    if args.json:
        out = []
        for f in frames:
            for r in f.itertuples(index=False):
                out.append({"target": r.target, "quantity": r.quantity, "reference": r.reference,
                            "reproduced": r.reproduced, "tolerance": r.tolerance,
                            "relative": bool(r.relative), "pass": bool(r[6])})
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
    print("all quantities reproduced" if ok else "SOME QUANTITIES OUTSIDE TOLERANCE")
    return 0 if ok else 1
