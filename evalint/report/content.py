"""The content of an evaluation report, built once and laid out by each renderer.

The report answers first (issue 18): a one-screen **summary** per outcome (the verdict in one
sentence, a forest plot of every design's estimate and interval on the common scale with the
truth when it is known, the top threats, what can and cannot be concluded), then the details
(issue 6): the question; the data; the design choices and why; the results tables and full
verdicts; the figures; threats and flags; provenance (evalint version, data fingerprint,
seeds, the exact call to re-run it). Details that are long sit in collapsible blocks
(``Block("details", ...)``), so the page a reader opens is short.

Numbers in tables go through one formatter, :func:`fmt` (three significant figures, thousands
grouped); p-values from placebo, permutation or bootstrap draws through :func:`fmt_p`, which
never shows a value below the smallest the draws can give, ``1/(draws + 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalint.data.ordinal import relabel_frame, relabel_text
from evalint.results.numbers import fmt, fmt_ci, fmt_level, fmt_p, p_value_draws

__all__ = ["Block", "Card", "ReportSection", "build_report", "FigureImage", "attach_truth", "post_period",
           "results_table", "threats_table", "conclusions"]

#: at most this many threats in an outcome's summary
TOP_THREATS = 5


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
    """One block of a section.

    ``kind`` is "p", "verdict", "h3", "list", "pairs", "table", "code", "figure", "cards"
    (a list of :class:`Card`) or "details" (``(summary line, [Block, ...])``, collapsed by
    default in HTML).
    """

    kind: str
    value: Any


@dataclass
class Card:
    """One outcome's summary: a heading and its blocks (laid out side by side in HTML)."""

    title: str
    blocks: list[Block] = field(default_factory=list)


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


# ----------------------------------------------------------------------------- truth, periods, words
def attach_truth(ev: Any, values: dict[str, float], label: str = "simulated truth") -> None:
    """Give the report the true effect of each outcome on the common absolute scale.

    For simulated data (``evalint demo``) the forest plot and the summary show it beside the
    estimates. Figures already drawn are redrawn.
    """
    ev._cache["truth"] = ({str(k): float(v) for k, v in values.items()}, label)
    ev._cache.pop("figures", None)


def truth_of(ev: Any) -> tuple[dict[str, float], str]:
    """The attached truth (outcome -> absolute effect) and its label; empty when none."""
    return ev._cache.get("truth", ({}, ""))


def outcome_words(ev: Any, outcome: str) -> str:
    """The outcome's label from the outcome registry ("Emergency admissions")."""
    kind = ev.panel.outcome_kinds.get(outcome)
    return kind.label if kind is not None and kind.label and kind.name != "continuous" else \
        outcome.replace("_", " ").capitalize()


def post_period(ev: Any) -> str:
    """The period the effects average over: first treated period to the end of the window."""
    cohorts = ev.assignment.cohorts
    if not cohorts:
        return f"{ev.window[0]} to {ev.window[1]}"
    first = cohorts[0]
    end = (ev.panel.period(int(ev.window[1])) if getattr(ev.panel, "is_ordinal", False)
           else pd.Period(ev.window[1], freq=first.freq))
    n = end.ordinal - first.ordinal + 1
    unit = {"M": "month", "Q": "quarter", "W": "week", "D": "day", "Y": "year", "A": "year"}.get(
        first.freqstr[:1], "period") if not getattr(ev.panel, "is_ordinal", False) else "period"
    return f"{first} to {end} ({n} {unit}{'s' if n != 1 else ''})"


# ----------------------------------------------------------------------------- tables
def results_table(ev: Any, outcome: str) -> pd.DataFrame:
    """The triangulation rows of one outcome, formatted for display: units in every header."""
    t = ev.table()
    t = t.loc[t["outcome"] == outcome]
    pct = fmt_level(ev.alpha)
    spec = ev.specs[outcome]
    period = post_period(ev)
    eff_h = f"Effect, {spec.absolute_label} ({pct}% CI)"
    pct_h = f"% change vs. no intervention, average over {period} ({pct}% CI)"
    cum_h = (f"Cumulative {spec.cumulative_label.replace(' over the post period', '')}, total over {period} "
             f"({pct}% CI)" if spec.cumulative_label else "Cumulative effect (not defined for this outcome)")
    rows = []
    for _, r in t.iterrows():
        ok = r["status"] == "ok"
        res = ev.results.get((r["design"], outcome))
        row = {"Design": r["label"]}
        if ok:
            row[eff_h] = f"{fmt(r['absolute'])} ({fmt_ci(r['abs_low'], r['abs_high'])})"
            row[pct_h] = (f"{fmt(r['percent'])}% ({fmt_ci(r['pct_low'], r['pct_high'], '%')})"
                          if math.isfinite(r["percent"]) else "")
            row[cum_h] = (f"{fmt(r['cumulative'])} ({fmt_ci(r['cum_low'], r['cum_high'])})"
                          if math.isfinite(r["cumulative"]) else "")
            row["p-value (method's own)"] = fmt_p(getattr(res, "p_value", None), p_value_draws(res))
        else:
            row[eff_h] = "FAILED" if r["status"] == "failed" else "no estimate"
            row[pct_h] = row[cum_h] = row["p-value (method's own)"] = ""
        row["Key diagnostic"] = r["key_diagnostic"]
        row["High-severity flags (count)"] = int(r["high_flags"])
        row["Inference / error"] = r["inference"] if ok else r["error"]
        rows.append(row)
    return pd.DataFrame(rows)


def _short_name(name: str, limit: int = 70) -> str:
    name = " ".join(name.split())
    return name if len(name) <= limit else name[: limit - 1].rstrip(" ,;:(") + "…"


def _brief_reason(reason: str) -> str:
    """The first two clauses of a ranked threat's reason (when it changes; its channel to the outcome).

    The whole reason stays in the flags table of the details."""
    return "; ".join(part.strip() for part in reason.rstrip(".").split(";")[:2])


def _flags(ev: Any) -> pd.DataFrame:
    """``ev.flags_frame()``, built once per evaluation (an Evaluation does not change)."""
    if "flags_frame" not in ev._cache:
        ev._cache["flags_frame"] = ev.flags_frame()
    return ev._cache["flags_frame"]


def _top_threats(ev: Any, outcome: str, n: int = TOP_THREATS) -> pd.DataFrame:
    """The ranked policy-calendar threats of one outcome (at most ``n``).

    The calendar's own ranking (``Evaluation.ranked_threats``: co-timing, channel to the
    outcome, size and differential exposure; rules in methods/policy_churn.md), built once per
    evaluation and outcome. Columns include rank, event_id, name, score, reason, source.
    """
    key = ("top_threats", outcome)
    if key not in ev._cache:
        ev._cache[key] = ev.ranked_threats(outcome=outcome, limit=n)
    return ev._cache[key].head(n).reset_index(drop=True)


def threats_table(ev: Any, outcome: str) -> pd.DataFrame:
    """Flags of one outcome: one row per distinct flag (event or check, kind and message), in the
    order first flagged, with the designs that carry it; sorted by severity (stable)."""
    f = _flags(ev)
    f = f.loc[f["outcome"] == outcome]
    if f.empty:
        return pd.DataFrame(columns=["Severity", "Kind", "Event / check", "Designs", "Message"])
    labels = {p.key: p.label for p in ev.plans}
    key = f["event_id"].fillna(f["source"]).astype(str) + "|" + f["kind"] + "|" + f["message"]
    f, keys = f.loc[key.notna()], key.dropna().tolist()  # a flag without kind or message has no row
    designs: dict[str, dict[str, None]] = {}  # key -> the designs carrying it, in order, once each
    for k, design in zip(keys, f["design"].tolist()):
        designs.setdefault(k, {})[labels.get(design, design)] = None
    first = f.loc[~pd.Series(keys, index=f.index).duplicated().to_numpy()]
    if first.empty:
        return pd.DataFrame(columns=["Severity", "Kind", "Event / check", "Designs", "Message"])
    event = first["event_id"].tolist()
    out = pd.DataFrame({
        "Severity": first["severity"].tolist(), "Kind": first["kind"].tolist(),
        "Event / check": [e if isinstance(e, str) else s for e, s in zip(event, first["source"].tolist())],
        "Designs": [", ".join(designs[k]) for k in dict.fromkeys(keys)],
        "Message": first["message"].tolist()})
    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    return out.sort_values("Severity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- the summary
def _ok_entries(ev: Any, outcome: str) -> list[Any]:
    return [ev.entries[(p.key, outcome)] for p in ev.plans
            if (p.key, outcome) in ev.entries and ev.entries[(p.key, outcome)].ok]


def _apart(entries: list[Any]) -> list[Any]:
    """Designs whose interval misses the intervals of most of the others."""
    out = []
    for e in entries:
        lo, hi = e.scaled.abs_low, e.scaled.abs_high
        misses = sum(1 for o in entries if o is not e and (max(lo, o.scaled.abs_low) > min(hi, o.scaled.abs_high)))
        if misses and misses * 2 >= len(entries) - 1:
            out.append(e)
    return out


def conclusions(ev: Any, outcome: str) -> tuple[list[str], list[str]]:
    """What can and what cannot be concluded about one outcome, in plain words."""
    from evalint.evaluate.triangulate import ASSUMPTIONS

    v = ev.verdicts[outcome]
    fragile = v.status == "fragile"
    if fragile:  # what could be concluded before the robustness checks, then why it is fragile
        import dataclasses

        v = dataclasses.replace(v, status=v.status_before_robustness or "agree")
    ok = _ok_entries(ev, outcome)
    what = outcome_words(ev, outcome).lower()
    name = ev.assignment.name
    can: list[str] = []
    cannot: list[str] = []
    f = _flags(ev)
    n_high_events = f.loc[(f["outcome"] == outcome) & (f["kind"] == "confounding") & (f["severity"] == "high"),
                          "event_id"].dropna().nunique()
    pct = fmt_level(ev.alpha)
    if v.status in ("no_design",) or (v.status == "single_design" and ok and ok[0].failed_diagnostics):
        can.append(f"Nothing about the effect of {name} on {what} from these data.")
        cannot.append("Any size or direction of effect: see the design's diagnostics below for what failed.")
        return can, cannot
    direction = "fall" if ok[0].scaled.absolute < 0 else "rise"
    excl = [e for e in ok if e.scaled.abs_low > 0 or e.scaled.abs_high < 0]
    if v.status == "single_design":
        can.append(f"Under {ok[0].label}'s assumption alone ({ASSUMPTIONS.get(ok[0].design, 'see methods')}), "
                   f"a {direction} in {what}.")
        cannot.append("Whether a design resting on other assumptions would agree: there is none to compare.")
    elif v.status == "disagree_sign":
        can.append("Little: designs resting on different assumptions point in opposite directions.")
        cannot.append(f"The direction of any change in {what}.")
    elif not excl:
        lo = min(e.scaled.abs_low for e in ok)
        hi = max(e.scaled.abs_high for e in ok)
        can.append(f"No design detects a change; changes outside {fmt(lo)} to {fmt(hi)} "
                   f"{ev.specs[outcome].absolute_label} are unlikely under every design.")
        cannot.append(f"That {name} had no effect: the intervals include changes of that size.")
    elif v.status == "disagree_magnitude":
        can.append(f"The direction: every design finds a {direction} in {what}.")
        apart = _apart(ok)
        others = [e for e in ok if e not in apart]
        if apart and others:
            lo = min(abs(e.scaled.percent) for e in others)
            hi = max(abs(e.scaled.percent) for e in others)
            if math.isfinite(lo) and math.isfinite(hi):
                can.append(f"The {len(others)} designs whose intervals overlap put the {direction} at "
                           f"{fmt(lo)}% to {fmt(hi)}%.")
            cannot.append("Its size from " + ", ".join(e.label for e in apart) + ": it assumes "
                          + "; ".join(ASSUMPTIONS.get(e.design, "its own assumption") for e in apart) + ".")
        else:
            cannot.append("Its size: the designs' intervals do not all overlap.")
    else:
        can.append(f"A {direction} in {what} after the start: {len(ok)} designs resting on different "
                   "assumptions agree.")
        if len(excl) < len(ok):
            cannot.append(f"A precise size: {len(ok) - len(excl)} of {len(ok)} {pct}% intervals include zero.")
    if n_high_events:
        cannot.append(f"That the change is due to {name} alone: {n_high_events} high-severity concurrent "
                      "event(s) overlap the windows.")
    if fragile:
        cannot.append("That the conclusion is robust: it does not survive the robustness checks (see 'How robust "
                      "is this?').")
    fails = [f"{e.label}: {len(e.failed_diagnostics)}" for e in ok if e.failed_diagnostics]
    if fails:
        cannot.append("That every design passes its checks: failed checks by design: " + ", ".join(fails)
                      + " (details below).")
    return can, cannot


def _summary_card(ev: Any, outcome: str) -> Card:
    v = ev.verdicts[outcome]
    card = Card(outcome_words(ev, outcome))
    card.blocks.append(Block("verdict", v.headline or v.text))
    from evalint.report.robustness_section import robustness_line

    if (line := robustness_line(ev, outcome)) is not None:
        card.blocks.append(Block("p", line))
    truth, label = truth_of(ev)
    if outcome in truth:
        card.blocks.append(Block("p", f"{label.capitalize()}: {fmt(truth[outcome])} "
                                      f"{ev.specs[outcome].absolute_label}."))
    can, cannot = conclusions(ev, outcome)
    card.blocks.append(Block("h4", "Can be concluded"))
    card.blocks.append(Block("list", can))
    card.blocks.append(Block("h4", "Cannot be concluded"))
    card.blocks.append(Block("list", cannot))
    threats = _top_threats(ev, outcome)
    card.blocks.append(Block("h4", f"Top threats ({len(threats)})"))
    card.blocks.append(Block("olist", [f"{_short_name(str(r['name']), 60)} ({_brief_reason(str(r['reason']))})"
                              for _, r in threats.iterrows()]
                             or [_no_threats_line(ev)]))
    return card


def _no_threats_line(ev: Any) -> str:
    """What an empty threat list means: none flagged, or (ordinal time axis) none could be placed."""
    if getattr(ev.panel, "is_ordinal", False):
        return ("Not checked: the time axis is ordinal (period numbers), so dated policy events cannot be "
                "placed on it. Check co-occurring policies by hand.")
    return "No concurrent policy event flagged."


# ----------------------------------------------------------------------------- the report
def build_report(ev: Any, figures: list[FigureImage] | None = None) -> tuple[str, list[ReportSection]]:
    """Title and sections of the report of evaluation ``ev``: the summary first, then details.

    On an ordinal time axis every period in the text is shown as the user's period number.
    """
    title, secs = _build_report(ev, figures)
    if getattr(ev.panel, "is_ordinal", False):
        title = relabel_text(title)
        for sec in secs:
            sec.title = relabel_text(sec.title)
            sec.blocks = [_ordinal_block(b) for b in sec.blocks]
    return title, secs


def _ordinal_block(b: Block) -> Block:
    return Block(b.kind, _ordinal_value(b.value))


def _ordinal_value(v: Any) -> Any:
    """A block's value with ordinal periods as numbers (text, tables, cards, figure captions)."""
    if isinstance(v, str):
        return relabel_text(v)
    if isinstance(v, Block):
        return _ordinal_block(v)
    if isinstance(v, Card):
        return Card(relabel_text(v.title), [_ordinal_block(b) for b in v.blocks])
    if isinstance(v, FigureImage):
        return FigureImage(v.slug, relabel_text(v.title), relabel_text(v.caption), v.png, v.error)
    if isinstance(v, pd.DataFrame):
        out = relabel_frame(v)
        return out.rename(columns=lambda c: relabel_text(c) if isinstance(c, str) else c)
    if isinstance(v, (list, tuple)):
        return type(v)(_ordinal_value(x) for x in v)
    if isinstance(v, dict):
        return {k: _ordinal_value(x) for k, x in v.items()}
    return v


def _build_report(ev: Any, figures: list[FigureImage] | None = None) -> tuple[str, list[ReportSection]]:
    a = ev.assignment
    labels = [outcome_words(ev, o).lower() for o in ev.outcomes]
    title = f"Evaluation: {a.name}"
    secs: list[ReportSection] = []
    question = (f"Did {a.name} change "
                f"{', '.join(labels[:-1]) + ' and ' + labels[-1] if len(labels) > 1 else labels[0]}?")
    forest = next((f for f in (figures or []) if f.slug == "forest"), None)

    sm = ReportSection("Summary")
    sm.p(f"{question} {a.describe()}; effects averaged over {post_period(ev)}.")
    if forest is not None:
        sm.add("figure", forest)
    sm.add("cards", [_summary_card(ev, o) for o in ev.outcomes])
    secs.append(sm)
    from evalint.report.robustness_section import SECTION_TITLE, robustness_parts

    if (parts := robustness_parts(ev, outcome_words)) is not None:
        rb = ReportSection(SECTION_TITLE)
        for text in parts[0]:
            rb.p(text)
        for summary, line, table in parts[1]:
            rb.add("details", (summary, [Block("p", line), Block("table", table)]))
        secs.append(rb)

    q = ReportSection("Question")
    q.p(question)
    if a.description:
        q.p(a.description)
    q.p(a.describe() + ".")
    if a.source:
        q.p(f"Dates from: {a.source}")
    secs.append(q)

    d = ev.data_summary()
    kinds = ev.panel.outcome_kinds
    ds = ReportSection("Data")
    ds.add("pairs", [
        ("Units", f"{d['units']}"), ("Periods", f"{d['periods']} {d['frequency']} ({d['window']})"),
        ("Rows", f"{d['rows']:,}"), ("Balanced", "yes" if d["balanced"] else "no"),
        ("Missing cells", f"{d['missing_cells']}"),
        ("Treated units", f"{d['treated_units']} (adoption dates: {', '.join(d['adoption_dates'][:8])}"
                          f"{' ...' if len(d['adoption_dates']) > 8 else ''})"),
        ("Never-treated units", f"{d['never_treated_units']}"),
        ("Outcomes", "; ".join(f"{outcome_words(ev, o)} ({kinds[o].unit_label}; column {o})"
                               if o in kinds else f"{o} ({k})" for o, k in d["outcomes"].items())),
        ("Population column", ev.panel.population or "none"), ("Weights column", ev.panel.weights or "none"),
        ("Rows dropped when building the panel", ", ".join(f"{k}: {v}" for k, v in d["dropped"].items()) or "none"),
    ] + ([("Data-quality flags (from the reader's checks)",
           " ".join(f"[{f['severity']}] {f['message']}" for f in ev.source_panel.quality))]
         if getattr(ev.source_panel, "quality", ()) else []))
    secs.append(ds)

    dc = ReportSection("Design choices")
    dc.add("list", [f"{p.label}: {p.reason}." for p in ev.plans] or ["No design could be run."])
    if ev.skipped:
        dc.p("Skipped:")
        dc.add("list", [f"{fam}: {why}." for fam, why in ev.skipped.items()])
    dc.p("Common scale: " + "; ".join(f"{outcome_words(ev, o)}: {ev.specs[o].absolute_label}"
                                      + (f", cumulative = {ev.specs[o].cumulative_label}"
                                         if ev.specs[o].cumulative_label else ", no cumulative quantity")
                                      for o in ev.outcomes)
         + ". Conversions and their assumptions: methods/evaluate.md.")
    secs.append(dc)

    res = ReportSection("Results and verdicts")
    res.p(f"Effects per period in the treated units, averaged over {post_period(ev)}; p-values from placebo, "
          "permutation or bootstrap draws are shown no smaller than 1/(draws + 1).")
    for o in ev.outcomes:
        v = ev.verdicts[o]
        res.add("h3", outcome_words(ev, o))
        res.add("table", results_table(ev, o))
        res.add("details", (f"Verdict ({v.status.replace('_', ' ')}): the full reasoning",
                            [Block("verdict", f"Verdict ({v.status.replace('_', ' ')}): {v.text}")]))
    secs.append(res)

    if figures is not None:
        fs = ReportSection("Figures")
        rest = [f for f in figures if f.slug != "forest"]
        for o in ev.outcomes:
            mine = [f for f in rest if f.slug.endswith("_" + o)]
            if mine:
                fs.add("details", (f"{outcome_words(ev, o)}: {len(mine)} figure(s) "
                                   f"({', '.join(f.title.split(':')[0] for f in mine)})",
                                   [Block("figure", f) for f in mine]))
        other = [f for f in rest if not any(f.slug.endswith("_" + o) for o in ev.outcomes)]
        for f in other:
            fs.add("details", (f.title, [Block("figure", f)]))
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
        plan_labels = {p.key: p.label for p in ev.plans}
        shown = bad.assign(design=bad["design"].map(lambda k: plan_labels.get(k, k)),
                           outcome=bad["outcome"].map(lambda o: outcome_words(ev, o)),
                           text=bad["text"].str.slice(0, 220))
        th.add("details", (f"Failed diagnostics ({len(bad)})",
                           [Block("table",
                                  shown[["design", "outcome", "name", "text"]].rename(columns=str.capitalize))]))
    else:
        th.p("No diagnostic failed.")
    for o in ev.outcomes:
        t = threats_table(ev, o)
        n_high = int((t["Severity"] == "high").sum()) if len(t) else 0
        th.add("details", (f"Flags on {outcome_words(ev, o).lower()}: {len(t)} distinct, {n_high} high severity",
                           [Block("table", t)]))
    if len(ev.warnings):
        th.add("details", (f"Warnings raised while fitting ({len(ev.warnings)})", [Block("table", ev.warnings)]))
    secs.append(th)

    pv = ReportSection("Provenance")
    pv.p("Re-run with:")
    pv.add("code", ev.call)
    pv.add("details", ("Versions, data fingerprint, seeds and run times",
                       [Block("pairs", [(k.replace("_", " ").capitalize(), str(v)) for k, v in ev.provenance.facts()]),
                        Block("pairs", [(f"Run time: {k[0]} / {k[1]}", f"{v:.2f} s")
                                        for k, v in ev.runtimes.items()])]))
    secs.append(pv)
    return title, secs
