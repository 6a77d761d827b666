"""Self-contained HTML report: inline CSS, figures embedded as base64 PNG, no scripts, no
external resources (it opens offline, e.g. attached to an e-mail).

The summary comes first (one card per outcome, laid out side by side); long details sit in
``<details>`` elements, collapsed until the reader opens them.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.report.content import Block, Card, FigureImage, build_report

__all__ = ["render_html", "write_html"]

CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,"DejaVu Sans",sans-serif;max-width:1150px;margin:1.2em auto;
padding:0 1em;color:#222;line-height:1.4}
h1{border-bottom:2px solid #005eb8;padding-bottom:.2em;margin:.2em 0 .4em;font-size:1.6em}
h2{color:#005eb8;margin-top:1.4em}h3{margin:1em 0 .3em}h4{margin:.6em 0 .1em;font-size:.95em;color:#333}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
thead th{background:#f0f4f5}tbody th{background:#f7f9fa;font-weight:600;white-space:nowrap}
figure{margin:.6em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.85em;color:#555}
.verdict{background:#f7f7f0;border-left:4px solid #E69F00;padding:.4em .8em;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:.8em}
.card{border:1px solid #d0d7de;border-radius:4px;padding:.2em .8em .5em;font-size:.88em}
.card h3{margin:.4em 0 .3em;color:#005eb8}.card ul,.card ol{margin:.1em 0 .2em;padding-left:1.3em}
.card p{margin:.3em 0}
#summary{border-bottom:1px solid #ccc;padding-bottom:.6em}#summary h2{margin-top:.4em}
details{margin:.5em 0;border:1px solid #e3e3e3;border-radius:4px;padding:.2em .6em}
details>summary{cursor:pointer;font-weight:600;color:#005eb8}
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


def _pairs(pairs: list[tuple[str, str]]) -> str:
    """Name/value rows: the names are row headers, so the table has no (empty) header row."""
    if not pairs:
        return "<p>(none)</p>"
    rows = "".join(f"<tr><th scope='row'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in pairs)
    return f"<table><tbody>{rows}</tbody></table>"


def _figure(f: FigureImage) -> str:
    if f.png is None:
        return (f"<figure><figcaption><b>{html.escape(f.title)}</b>: <span class='error'>could not be drawn "
                f"({html.escape(f.error or '')})</span></figcaption></figure>")
    data = base64.b64encode(f.png).decode("ascii")
    return (f"<figure id='{html.escape(f.slug)}'><img src='data:image/png;base64,{data}' "
            f"alt='{html.escape(f.title)}'><figcaption><b>{html.escape(f.title)}</b>. "
            f"{html.escape(f.caption)}</figcaption></figure>")


def _card(c: Card) -> str:
    return f"<div class='card'><h3>{html.escape(c.title)}</h3>{''.join(_block(b) for b in c.blocks)}</div>"


def _block(b: Block) -> str:
    if b.kind == "p":
        return f"<p>{html.escape(b.value)}</p>"
    if b.kind == "verdict":
        return f"<p class='verdict'>{html.escape(b.value)}</p>"
    if b.kind in ("h3", "h4"):
        return f"<{b.kind}>{html.escape(b.value)}</{b.kind}>"
    if b.kind in ("list", "olist"):
        tag = "ol" if b.kind == "olist" else "ul"
        return f"<{tag}>" + "".join(f"<li>{html.escape(i)}</li>" for i in b.value) + f"</{tag}>"
    if b.kind == "pairs":
        return _pairs(b.value)
    if b.kind == "table":
        return _table(b.value)
    if b.kind == "code":
        return f"<code>{html.escape(b.value)}</code>"
    if b.kind == "figure":
        return _figure(b.value)
    if b.kind == "cards":
        return "<div class='cards'>" + "".join(_card(c) for c in b.value) + "</div>"
    if b.kind == "details":
        head, blocks = b.value
        return (f"<details><summary>{html.escape(head)}</summary>" + "".join(_block(x) for x in blocks)
                + "</details>")
    return ""


def render_html(ev: Any, figures: list[FigureImage] | None = None) -> str:
    """The report as one HTML string (figures drawn unless given)."""
    figs = ev.figures() if figures is None else figures
    title, sections = build_report(ev, figs)
    parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for s in sections:
        sid = s.title.lower().replace(" ", "-")
        parts.append(f"<section id='{html.escape(sid)}'><h2>{html.escape(s.title)}</h2>")
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
