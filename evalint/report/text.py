"""Plain-text rendering of an evaluation (``Evaluation.summary()``); no figures."""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd

from evalint.report.content import build_report

__all__ = ["render_text"]

WIDTH = 100


def _table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return "  (none)"
    with pd.option_context("display.max_colwidth", 60, "display.width", 250, "display.max_rows", 60):
        return df.to_string(index=False)


def render_text(ev: Any) -> str:
    """The summary text: every section of the report except figures."""
    title, sections = build_report(ev, figures=None)
    lines = ["=" * WIDTH, title, "=" * WIDTH]
    for s in sections:
        if s.title == "Threats and flags":
            # keep the text summary short: counts here, the full tables in flags_frame() / the report
            f = ev.flags_frame()
            counts = f.groupby(["outcome", "severity"]).size().unstack(fill_value=0) if len(f) else None
            lines += ["", s.title, "-" * len(s.title)]
            for k, v in ev.failures.items():
                lines.append(f"  FAILED {k[0]} on {k[1]}: {v}")
            bad = ev.diagnostics_frame()
            bad = bad.loc[bad["passed"] == False]  # noqa: E712
            for _, r in bad.iterrows():
                lines.append(textwrap.shorten(f"  failed diagnostic: {r['design']} / {r['outcome']}: {r['name']}: "
                                              f"{r['text']}", WIDTH + 40))
            lines.append("  flags by outcome and severity (details: Evaluation.flags_frame()):")
            lines.append(_table(counts.reset_index()) if counts is not None else "  (none)")
            continue
        if s.title == "Provenance":
            lines += ["", s.title, "-" * len(s.title)]
            pv = ev.provenance
            for k, v in (("evalint_version", pv.evalint_version), ("data_fingerprint", pv.data_fingerprint),
                         ("seed", pv.seed), ("alpha", pv.alpha), ("fast", pv.fast),
                         ("replications", pv.replications), ("created", pv.created)):
                v = ", ".join(f"{a}: {b}" for a, b in v.items()) if isinstance(v, dict) else v
                lines.append(f"  {k.replace('_', ' ')}: {v}")
            lines.append(f"  re-run: {ev.call}")
            continue
        lines += ["", s.title, "-" * len(s.title)]
        _blocks(s.blocks, lines)
    return "\n".join(lines)


def _blocks(blocks: list, lines: list[str]) -> None:
    for b in blocks:
        if b.kind in ("p", "verdict"):
            lines += textwrap.wrap(b.value, WIDTH)
        elif b.kind in ("h3", "h4"):
            lines += ["", b.value] if b.kind == "h3" else [b.value + ":"]
        elif b.kind in ("list", "olist"):
            for k, item in enumerate(b.value, 1):
                lead = f"  {k}. " if b.kind == "olist" else "  - "
                lines += textwrap.wrap(item, WIDTH, initial_indent=lead, subsequent_indent="    ")
        elif b.kind == "pairs":
            lines += [f"  {k}: {v}" for k, v in b.value]
        elif b.kind == "table":
            t = b.value.drop(columns=[c for c in ("Inference / error",) if c in b.value.columns])
            lines.append(_table(t))
        elif b.kind == "code":
            lines.append("  " + b.value)
        elif b.kind == "cards":
            for c in b.value:
                lines += ["", c.title]
                _blocks(c.blocks, lines)
        elif b.kind == "details":
            _blocks(b.value[1], lines)
