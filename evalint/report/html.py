"""Self-contained HTML report: inline CSS, figures embedded as base64 PNG, no scripts, no
external resources (it opens offline, e.g. attached to an e-mail)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.report.content import Block, FigureImage, build_report

__all__ = ["render_html", "write_html"]

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #005eb8;padding-bottom:.2em}h2{color:#005eb8;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f4f5}td.num{text-align:right}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.85em;color:#555}.verdict{background:#f7f7f0;border-left:4px solid #ffb81c;padding:.4em .8em}
code{background:#f3f3f3;padding:.2em .4em;display:block;white-space:pre-wrap;word-break:break-all}
.error{color:#b00}
"""


def _table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(f: FigureImage) -> str:
    if f.png is None:
        return (f"<figure><figcaption><b>{html.escape(f.title)}</b>: <span class='error'>could not be drawn "
                f"({html.escape(f.error or '')})</span></figcaption></figure>")
    data = base64.b64encode(f.png).decode("ascii")
    return (f"<figure id='{html.escape(f.slug)}'><img src='data:image/png;base64,{data}' "
            f"alt='{html.escape(f.title)}'><figcaption><b>{html.escape(f.title)}</b>. "
            f"{html.escape(f.caption)}</figcaption></figure>")


def _block(b: Block) -> str:
    if b.kind == "p":
        cls = " class='verdict'" if b.value.startswith("Verdict") else ""
        return f"<p{cls}>{html.escape(b.value)}</p>"
    if b.kind == "h3":
        return f"<h3>{html.escape(b.value)}</h3>"
    if b.kind == "list":
        return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in b.value) + "</ul>"
    if b.kind == "pairs":
        return _table(pd.DataFrame(b.value, columns=["", " "]))
    if b.kind == "table":
        return _table(b.value)
    if b.kind == "code":
        return f"<code>{html.escape(b.value)}</code>"
    if b.kind == "figure":
        return _figure(b.value)
    return ""


def render_html(ev: Any, figures: list[FigureImage] | None = None) -> str:
    """The report as one HTML string (figures drawn unless given)."""
    figs = ev.figures() if figures is None else figures
    title, sections = build_report(ev, figs)
    parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for s in sections:
        parts.append(f"<section><h2>{html.escape(s.title)}</h2>")
        parts.extend(_block(b) for b in s.blocks)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(ev: Any, path: str | Path) -> Path:
    """Write the self-contained HTML report to ``path``; return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(ev), encoding="utf-8")
    return p
