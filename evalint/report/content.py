"""The content of an evaluation report, built once and laid out by each renderer.

Sections (issue 6): the question; the data (units, periods, missing cells); the design
choices and why (and why others were skipped); the results on the common scale with the
verdict per outcome; the figures; threats and flags; provenance (evalint version, data
fingerprint, seeds, the exact call to re-run it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalint.results.summary import format_number

__all__ = ["Block", "ReportSection", "build_report", "FigureImage"]


@dataclass
class FigureImage:
    """A rendered figure: PNG bytes and its caption (or the error that stopped it)."""

    slug: str
    title: str
    caption: str
    png: bytes | None = None
    error: str | None = None


@dataclass
class Block:
    """One block of a section: ``kind`` is "p", "list", "pairs", "table" or "figure"."""

    kind: str
    value: Any


@dataclass
class ReportSection:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, text: str) -> ReportSection:
        self.blocks.append(Block("p", text))
        return self

    def add(self, kind: str, value: Any) -> ReportSection:
        self.blocks.append(Block(kind, value))
        return self


def _ci(lo: float, hi: float) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f"{format_number(lo)} to {format_number(hi)}"


def results_table(ev: Any, outcome: str) -> pd.DataFrame:
    """The triangulation rows of one outcome, formatted for display."""
    t = ev.table()
    t = t.loc[t["outcome"] == outcome]
    pct = int(round((1 - ev.alpha) * 100))
    rows = []
    for _, r in t.iterrows():
        ok = r["status"] == "ok"
        rows.append({
            "Design": r["label"],
            "Absolute effect": format_number(r["absolute"]) if ok else ("FAILED" if r["status"] == "failed" else ""),
            f"{pct}% CI": _ci(r["abs_low"], r["abs_high"]) if ok else "",
            "% change": f"{r['percent']:+.2f}%" if ok and math.isfinite(r["percent"]) else "",
            f"% {pct}% CI": (f"{r['pct_low']:+.2f}% to {r['pct_high']:+.2f}%"
                             if ok and math.isfinite(r["pct_low"]) else ""),
            "Cumulative": format_number(r["cumulative"]) if ok and math.isfinite(r["cumulative"]) else "",
            f"Cumulative {pct}% CI": _ci(r["cum_low"], r["cum_high"]) if ok else "",
            "Key diagnostic": r["key_diagnostic"],
            "High flags": int(r["high_flags"]),
            "Inference / error": r["inference"] if ok else r["error"],
        })
    return pd.DataFrame(rows)


def threats_table(ev: Any, outcome: str) -> pd.DataFrame:
    """Flags of one outcome: one row per distinct flag, with the designs that carry it."""
    f = ev.flags_frame()
    f = f.loc[f["outcome"] == outcome]
    if f.empty:
        return pd.DataFrame(columns=["Severity", "Kind", "Event / check", "Designs", "Message"])
    labels = {p.key: p.label for p in ev.plans}
    f = f.assign(key=f["event_id"].fillna(f["source"]).astype(str) + "|" + f["kind"] + "|" + f["message"])
    rows = []
    for _, g in f.groupby("key", sort=False):
        r = g.iloc[0]
        rows.append({"Severity": r["severity"], "Kind": r["kind"],
                     "Event / check": r["event_id"] if isinstance(r["event_id"], str) else r["source"],
                     "Designs": ", ".join(dict.fromkeys(labels.get(d, d) for d in g["design"])),
                     "Message": r["message"]})
    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    out = pd.DataFrame(rows)
    return out.sort_values("Severity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def build_report(ev: Any, figures: list[FigureImage] | None = None) -> tuple[str, list[ReportSection]]:
    """Title and sections of the report of evaluation ``ev``."""
    a = ev.assignment
    kinds = ev.panel.outcome_kinds
    labels = [kinds[o].label.lower() for o in ev.outcomes]
    title = f"Evaluation: {a.name}"
    secs: list[ReportSection] = []

    q = ReportSection("Question")
    q.p(f"Did {a.name} change {', '.join(labels[:-1]) + ' and ' + labels[-1] if len(labels) > 1 else labels[0]}?")
    if a.description:
        q.p(a.description)
    q.p(a.describe() + ".")
    if a.source:
        q.p(f"Dates from: {a.source}")
    secs.append(q)

    d = ev.data_summary()
    ds = ReportSection("Data")
    ds.add("pairs", [
        ("Units", f"{d['units']}"), ("Periods", f"{d['periods']} {d['frequency']} ({d['window']})"),
        ("Rows", f"{d['rows']:,}"), ("Balanced", "yes" if d["balanced"] else "no"),
        ("Missing cells", f"{d['missing_cells']}"),
        ("Treated units", f"{d['treated_units']} (adoption dates: {', '.join(d['adoption_dates'][:8])}"
                          f"{' ...' if len(d['adoption_dates']) > 8 else ''})"),
        ("Never-treated units", f"{d['never_treated_units']}"),
        ("Outcomes", ", ".join(f"{o} ({k})" for o, k in d["outcomes"].items())),
        ("Population column", ev.panel.population or "none"), ("Weights column", ev.panel.weights or "none"),
        ("Rows dropped when building the panel", ", ".join(f"{k}: {v}" for k, v in d["dropped"].items()) or "none"),
    ])
    secs.append(ds)

    dc = ReportSection("Design choices")
    dc.add("list", [f"{p.label}: {p.reason}." for p in ev.plans] or ["No design could be run."])
    if ev.skipped:
        dc.p("Skipped:")
        dc.add("list", [f"{fam}: {why}." for fam, why in ev.skipped.items()])
    dc.p("Common scale: " + "; ".join(f"{o}: {ev.specs[o].absolute_label}"
                                      + (f", cumulative = {ev.specs[o].cumulative_label}"
                                         if ev.specs[o].cumulative_label else ", no cumulative quantity")
                                      for o in ev.outcomes)
         + ". Conversions and their assumptions: methods/evaluate.md.")
    secs.append(dc)

    res = ReportSection("Results and verdicts")
    for o in ev.outcomes:
        res.add("h3", f"{kinds[o].label} ({o})")
        res.add("table", results_table(ev, o))
        v = ev.verdicts[o]
        res.p(f"Verdict ({v.status.replace('_', ' ')}): {v.text}")
    secs.append(res)

    if figures is not None:
        fs = ReportSection("Figures")
        for fig in figures:
            fs.add("figure", fig)
        if not figures:
            fs.p("No figures.")
        secs.append(fs)

    th = ReportSection("Threats and flags")
    fails = ev.failures
    if fails:
        th.p("Designs that failed (reported, not hidden):")
        th.add("list", [f"{k[0]} on {k[1]}: {v}" for k, v in fails.items()])
    diag = ev.diagnostics_frame()
    bad = diag.loc[diag["passed"] == False]  # noqa: E712 - passed may be None
    if len(bad):
        th.p("Failed diagnostics:")
        th.add("table", bad.assign(text=bad["text"].str.slice(0, 220))[["design", "outcome", "name", "text"]])
    else:
        th.p("No diagnostic failed.")
    for o in ev.outcomes:
        t = threats_table(ev, o)
        th.add("h3", f"Flags on {o} ({len(t)} distinct)")
        th.add("table", t)
    if len(ev.warnings):
        th.p("Warnings raised while fitting:")
        th.add("table", ev.warnings)
    secs.append(th)

    pv = ReportSection("Provenance")
    pv.add("pairs", [(k.replace("_", " "), str(v)) for k, v in ev.provenance.items()])
    pv.p("Re-run with:")
    pv.add("code", ev.call)
    pv.add("pairs", [(f"{k[0]} / {k[1]}", f"{v:.2f} s") for k, v in ev.runtimes.items()])
    secs.append(pv)
    return title, secs
