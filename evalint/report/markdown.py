"""Markdown report; figures are written as PNG files in ``<stem>_figures/`` beside it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from evalint.report.content import Block, build_report

__all__ = ["render_markdown", "write_markdown"]


#: "<" that would open an HTML tag, comment or declaration in Markdown (CommonMark raw HTML)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _text(v: Any) -> str:
    """Text from the data (unit, outcome and event names, messages) as Markdown shows it: a "<"
    that would open an HTML tag is escaped, so a name such as "Trust <North>" or "<script>" is
    shown as written rather than dropped or run by a Markdown viewer ("<5 beds" is left as is)."""
    return _TAG_START.sub("&lt;", "" if v is None else str(v))


def _cell(v: Any) -> str:
    return _text(v).replace("|", "\\|").replace("\n", " ")


def figure_files(figures: list[Any]) -> dict[str, str]:
    """Each figure's PNG file name (without ``.png``) in the figures folder: its slug with every
    character other than letters, digits, "_", "-" and "." replaced by "_", cut to 80 characters,
    made unique (ignoring case). A slug carries the outcome's name, which may hold "/", spaces,
    "?" or be very long: as a file name it was written into a missing sub-folder or refused by
    the file system, and a Markdown link with spaces does not show the image."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for f in figures:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(f.slug)).strip("._")[:80] or "figure"
        name, k = base, 2
        while name.lower() in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name.lower())
        names[f.slug] = name
    return names


def _destination(path: str) -> str:
    """A link destination Markdown reads whole: in angle brackets when it holds a space or a
    parenthesis (a report named "my report.md" has its figures in "my report_figures/"; a bare
    destination ends at the space and the image is not shown; CommonMark 0.31, section 6.3)."""
    if not re.search(r"[\s()<>]", path):
        return path
    return "<" + path.replace("<", "%3C").replace(">", "%3E") + ">"


def _table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return "(none)"
    head = "| " + " | ".join(_cell(c) for c in df.columns) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    rows = ["| " + " | ".join(_cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, sep, *rows])


def _block(b: Block, fig_dir: str, files: dict[str, str] | None = None) -> str:
    if b.kind == "p":
        return _text(b.value)
    if b.kind == "verdict":
        return f"**{_text(b.value)}**"
    if b.kind == "h3":
        return f"### {_text(b.value)}"
    if b.kind == "h4":
        return f"#### {_text(b.value)}"
    if b.kind == "list":
        return "\n".join(f"- {_text(i)}" for i in b.value)
    if b.kind == "olist":
        return "\n".join(f"{k}. {_text(i)}" for k, i in enumerate(b.value, 1))
    if b.kind == "pairs":
        return "\n".join(f"- **{_text(k)}**: {_text(v)}" for k, v in b.value)
    if b.kind == "table":
        return _table(b.value)
    if b.kind == "code":
        return f"```python\n{b.value}\n```"
    if b.kind == "figure":
        f = b.value
        if f.png is None:
            return f"*{_text(f.title)}: could not be drawn ({_text(f.error)}).*"
        name = (files or {}).get(f.slug, f.slug)
        return f"![{_text(f.title)}]({_destination(f'{fig_dir}/{name}.png')})\n\n*{_text(f.title)}.* {_text(f.caption)}"
    if b.kind == "cards":
        return "\n\n".join(f"### {_text(c.title)}\n\n" + "\n\n".join(_block(x, fig_dir, files) for x in c.blocks)
                           for c in b.value)
    if b.kind == "details":
        head, blocks = b.value
        inner = "\n\n".join(_block(x, fig_dir, files) for x in blocks)
        return f"<details><summary>{_text(head)}</summary>\n\n{inner}\n\n</details>"
    return ""


def render_markdown(ev: Any, fig_dir: str = "figures", figures: list | None = None) -> str:
    """The report as Markdown referring to figures in ``fig_dir`` (relative)."""
    figs = ev.figures() if figures is None else figures
    title, sections = build_report(ev, figs)
    files = figure_files(figs)
    parts = [f"# {_text(title)}"]
    for s in sections:
        parts.append(f"## {_text(s.title)}")
        parts.extend(_block(b, fig_dir, files) for b in s.blocks)
    return "\n\n".join(parts) + "\n"


def write_markdown(ev: Any, path: str | Path) -> Path:
    """Write ``path`` (Markdown) and its figures to ``<stem>_figures/``; return the path.

    The figures are the evaluation's cached ones (drawn once, shared with the HTML report).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig_dir = p.parent / f"{p.stem}_figures"
    figs = ev.figures()
    fig_dir.mkdir(exist_ok=True)
    files = figure_files(figs)
    for f in figs:
        if f.png is not None:
            (fig_dir / f"{files[f.slug]}.png").write_bytes(f.png)
    p.write_text(render_markdown(ev, fig_dir.name, figs), encoding="utf-8")
    return p
