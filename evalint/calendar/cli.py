"""``evalint calendar``: list the policy calendar and check an intervention against it.

Examples::

    evalint calendar list --outcome delayed_discharges --from 2020-01-01 --to 2023-12-31
    evalint calendar check --intervention ics_golive_2022 --outcome emergency_admissions
    evalint calendar check --intervention 2019-04-01 --outcome length_of_stay --csv local.csv
    evalint calendar presets
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from typing import Any

import pandas as pd

from evalint.calendar.event_records import PHASES, _date_span, choose, outcome_name
from evalint.calendar.events import PolicyCalendar
from evalint.calendar.presets import describe_presets
from evalint.errors import SpecificationError

__all__ = ["add_arguments", "run", "render_table"]

_WIDTH = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``list``, ``check`` and ``presets`` actions on ``parser``."""
    sub = parser.add_subparsers(dest="calendar_command", metavar="ACTION")
    parser.set_defaults(_calendar_parser=parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--csv", action="append", default=[], metavar="PATH",
                       help="extra events CSV to add to the default calendar (repeatable)")
        p.add_argument("--full", action="store_true",
                       help="print names and sources in full, with each event's reasoning")

    p = sub.add_parser("list", help="print the calendar's events",
                       description="Print the calendar's events, oldest first.")
    p.add_argument("--outcome", help="only events listed as moving this outcome")
    p.add_argument("--from", dest="date_from", metavar="DATE",
                   help="events active on or after DATE (a year, quarter or month: its first day)")
    p.add_argument("--to", dest="date_to", metavar="DATE",
                   help="events active on or before DATE (a year, quarter or month such as 2022, "
                        "2022Q3, 2022-07 or Jul-22: its last day)")
    p.add_argument("--nation", help="only events of this nation (England, Scotland, Wales, NI)")
    p.add_argument("--phase", nargs="?", const="", default=None, metavar="PHASE",
                   help="show each event's policy, phase and end type; with PHASE (announced, "
                        "allocated, paid, spending, in_effect, ended, superseded) only that phase")
    p.add_argument("--intensity", action="store_true",
                   help="only events with a per-area intensity table: its name, unit, areas and "
                        "range (shipped tables are read from the real-data folder)")
    common(p)

    p = sub.add_parser("check", help="list the events that threaten an evaluation",
                       description="List the calendar events that threaten an evaluation of an "
                                   "intervention on an outcome (rules: methods/policy_churn.md).")
    p.add_argument("--intervention", required=True,
                   help="preset name (see 'evalint calendar presets'), a date such as 2022-07-01, "
                        "or unit=date pairs separated by commas for a staggered roll-out")
    p.add_argument("--outcome", required=True, help="e.g. emergency_admissions, length_of_stay, "
                                                    "delayed_discharges")
    p.add_argument("--pre", type=int, default=24, help="periods before the intervention (24)")
    p.add_argument("--post", type=int, default=12, help="periods from the intervention (12)")
    p.add_argument("--freq", default="M", help="D, W, M, Q or Y (M)")
    p.add_argument("--co-timed", dest="co_timed", type=int, default=3,
                   help="periods either side of the intervention counted as co-timed (3)")
    p.add_argument("--design", help="its, cits, did, event_study, staggered_did, synth, sdid, ascm")
    p.add_argument("--collection", help="data collection of the series (discharge_sitrep, dtoc, "
                                        "hes_apc, sus, ae_monthly, ecds): other collections' "
                                        "definition changes are skipped")
    p.add_argument("--level", help="geographic level of the series (national, icb, ccg, trust)")
    p.add_argument("--top", type=int, default=5, help="length of the ranked list (5)")
    p.add_argument("--noise", type=float, default=None,
                   help="single series: its own step noise on the log scale (e.g. 0.03; "
                        "evalint.calendar.series_noise.step_noise); events smaller than twice it are "
                        "lowered one step (default: the national value for national series)")
    p.add_argument("--treated", help="comma-separated treated unit ids (ICB ODS codes)")
    p.add_argument("--comparison", help="comma-separated comparison unit ids")
    p.add_argument("--nation", default="England", help="nation evaluated (England)")
    p.add_argument("--all", dest="include_all", action="store_true",
                   help="also list in-window events that do not reach the outcome")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 1 when a high-severity threat is found or the window "
                        "runs outside the calendar's coverage (the shipped calendar: its earliest "
                        "event to its review date, 2026-12-01)")
    common(p)

    sub.add_parser("presets", help="list the intervention presets",
                   description="List the named interventions and the events that are their own.")


def _calendar(paths: Sequence[str]) -> PolicyCalendar:
    cal = PolicyCalendar.default()
    for path in paths:
        cal = cal.combine(PolicyCalendar.from_csv(path))
    return cal


def _units(text: str | None) -> list[str] | None:
    if text is None:
        return None
    units = [u.strip() for u in text.split(",") if u.strip()]
    return units or None


def _intervention(text: str) -> Any:
    if "=" not in text:
        return text.strip()
    pairs = {}
    for part in text.split(","):
        if "=" not in part:
            raise SpecificationError(
                f"--intervention {text!r}: write staggered dates as unit=date pairs separated by "
                f"commas (e.g. QHG=2017-06-15,QUE=2021-04-01); {part!r} has no '='."
            )
        unit, when = part.split("=", 1)
        pairs[unit.strip()] = when.strip()
    return pairs


def _cut(value: Any, width: int | None) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        text = ""
    elif isinstance(value, pd.Timestamp):
        text = value.date().isoformat()
    else:
        text = str(value)
    text = " ".join(text.split())
    if width is not None and len(text) > width:
        return text[: max(width - 3, 1)] + "..."
    return text


def render_table(df: pd.DataFrame, columns: Sequence[tuple[str, str, int]], full: bool) -> str:
    """Render ``df`` as a fixed-width text table.

    ``columns`` holds (column, header, width); widths apply unless ``full``.
    """
    cells = [[_cut(v, None if full else w) for v in df[col]] for col, _, w in columns]
    widths = [max([len(h)] + [len(c) for c in col_cells])
              for (_, h, _), col_cells in zip(columns, cells)]
    lines = ["  ".join(h.ljust(w) for (_, h, _), w in zip(columns, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for i in range(len(df)):
        lines.append("  ".join(cells[j][i].ljust(widths[j]) for j in range(len(columns))).rstrip())
    return "\n".join(lines)


def _run_list(args: argparse.Namespace) -> int:
    full = cal = _calendar(args.csv)
    span = ""
    if args.date_from or args.date_to:
        # a year, quarter or month given as --to is its last day, as --from its first
        lo = _date_span(args.date_from, "--from")[0] if args.date_from else pd.Timestamp("1900-01-01")
        hi = _date_span(args.date_to, "--to")[1] if args.date_to else pd.Timestamp("2100-12-31")
        cal = cal.between(lo, hi)
        span = (f" active between {lo.date() if args.date_from else '...'} and "
                f"{hi.date() if args.date_to else '...'}")
    if args.outcome:
        outcome = args.outcome
        if outcome not in full.outcomes:
            try:
                outcome = outcome_name(outcome, "--outcome", extra=full.outcomes)
            except SpecificationError:
                pass
        if outcome not in full.outcomes:
            raise SpecificationError(
                f"--outcome {args.outcome!r}: no event lists this outcome. Outcomes in the "
                f"calendar: {', '.join(full.outcomes)}."
            )
        args.outcome = outcome
        cal = cal.for_outcome(outcome)
    if args.nation:
        cal = cal.for_nation(args.nation)
    if args.phase:
        cal = cal.for_phase(choose(args.phase, PHASES, "--phase"))
    if args.intensity:
        cal = cal._subset(e for e in cal if e.intensity)
    df = cal.to_frame()
    df["name"] = df["unverified"].map({True: "* ", False: ""}) + df["name"]
    cols = [("event_id", "event_id", 37), ("start_date", "start", 10), ("end_date", "end", 10),
            ("nation", "nation", 8), ("name", "name", 30), ("source", "source", 28)]
    if args.full:
        cols.insert(5, ("outcomes_affected", "outcomes", 40))
    if args.phase is not None:
        cols[3:3] = [("policy", "policy", 26), ("phase", "phase", 9), ("end_type", "end_type", 10)]
    if args.intensity:
        info = []
        for e in cal:
            table = cal.intensity_table(e)
            if table is None:
                info.append(f"{e.intensity}: not available (set EVALINT_REALDATA_DIR or place "
                            "shared/realdata beside the checkout)")
            else:
                v = table.values
                info.append(f"{table.name}: {len(v)} {table.area_type} areas, {v.min():.3g} to "
                            f"{v.max():.3g} {table.unit}")
        df["intensity_info"] = info
        cols.insert(3, ("intensity_info", "intensity", 60))
    print(f"{len(df)} event(s)" + (f" moving {args.outcome}" if args.outcome else "")
          + span + ".")
    if len(df):
        print(render_table(df, cols, args.full))
    print("* before a name: part of the source is marked unverified." + ("" if args.full else
          " Use --full for complete names and sources."))
    return 0


def _run_check(args: argparse.Namespace) -> int:
    cal = _calendar(args.csv)
    res = cal.check(
        _intervention(args.intervention), outcome=args.outcome, pre=args.pre, post=args.post,
        freq=args.freq, treated_units=_units(args.treated),
        comparison_units=_units(args.comparison), design=args.design, co_timed=args.co_timed,
        nation=args.nation, include_all=args.include_all, collection=args.collection,
        level=args.level, top=args.top, noise=args.noise,
    )
    threats = res.ranked_threats()
    for flag in res.flags:
        if flag.event_id is None and flag.source == "policy_calendar coverage":
            print(textwrap.fill(f"NOTICE: {flag.message}" + (" With --strict this is not a pass."
                                if args.strict else ""), width=_WIDTH, break_on_hyphens=False))
            print()
    print(f"Top threats (ranked by co-timing, channel to the outcome, size and differential "
          f"exposure; {len(threats)} of {int((res.table['severity'] != 'info').sum())} flagged "
          "event(s)):")
    if len(threats) == 0:
        print("  none")
    for r in threats.itertuples():
        print(f"{r.rank}. {r.event_id}  {_cut(r.name, None if args.full else 70)}  "
              f"[score {r.score:.2f}, {r.severity}]")
        print(textwrap.fill(r.reason, width=_WIDTH, initial_indent="     why: ",
                            subsequent_indent="          "))
        print(textwrap.fill(r.source, width=_WIDTH, initial_indent="  source: ",
                            subsequent_indent="          ", max_lines=None if args.full else 2,
                            placeholder=" ..."))
    print()
    print(textwrap.fill(str(res), width=_WIDTH, break_on_hyphens=False))
    print()
    print("All flagged events (the flags table):")
    table = res.table.copy()
    if len(table):
        table["name"] = table["unverified"].map({True: "* ", False: ""}) + table["name"]
        table["differential"] = table["differential"].map(
            lambda v: "-" if v is None else ("yes" if v else "no"))
        cols = [("severity", "severity", 8), ("overlap", "overlap", 12),
                ("event_id", "event_id", 37), ("start", "start", 10), ("end", "end", 10),
                ("name", "name", 22), ("source", "source", 22)]
        if args.full or args.comparison or args.design not in (None, "its"):
            cols.insert(2, ("differential", "diff", 4))
        if args.full:
            cols.insert(3, ("channel", "channel", 26))
        print()
        print(render_table(table, cols, args.full))
        print()
        print("* before a name: part of the source is marked unverified. "
              + ("" if args.full else
                 "Use --full for complete sources and the reason for each event."))
        if args.full:
            print()
            for _, r in table.iterrows():
                print(f"{r['event_id']} [{r['severity']}, {r['overlap']}]")
                print(textwrap.fill(r["reason"], width=_WIDTH, initial_indent="  reason: ",
                                    subsequent_indent="    "))
                print(textwrap.fill(r["source"], width=_WIDTH, initial_indent="  source: ",
                                    subsequent_indent="    "))
    # --strict: a pass only when the check ran over the whole window and found no high threat
    return 1 if (args.strict and res.passed is not True) else 0


def _run_presets(args: argparse.Namespace) -> int:
    df = describe_presets()
    df["units"] = df["units"].map(lambda n: "-" if n is None or pd.isna(n) else str(int(n)))
    print(render_table(df, [("preset", "preset", 24), ("date", "date(s)", 36),
                            ("units", "units", 5), ("own_events", "own events", 60)], True))
    print()
    for _, r in df.iterrows():
        print(textwrap.fill(f"{r['preset']}: {r['description']}", width=_WIDTH,
                            subsequent_indent="    "))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``evalint calendar <action>``; returns the exit status."""
    action = getattr(args, "calendar_command", None)
    if action == "list":
        return _run_list(args)
    if action == "check":
        return _run_check(args)
    if action == "presets":
        return _run_presets(args)
    args._calendar_parser.print_help()
    return 0
